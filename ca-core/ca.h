/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ca-core/ — the CVCA engine behind eac-cvca: key ceremonies (initial and
 * link rollover), distribution records and export, the DV request queue
 * (receive, approve, reject), countersigning domestic DVs' first requests to
 * foreign CVCAs, the DV and foreign-CVCA registries, status and audit.
 *
 * Each command takes the opened engine and its own arguments (argv[0] is
 * the command word) and returns an eac_err; the one-line detail is what
 * eac-cvca prints. Results go to stdout as text or, with --json, as one
 * JSON document. docs/CLI.md documents every command.
 */
#ifndef EAC_CA_H
#define EAC_CA_H

#include "engine/engine.h"

/* The command table, terminated by a NULL name. */
extern const eng_command ca_commands[];

/* Ceremonies and distribution (ca-core/ceremony.c). */
eac_err ca_cmd_init(eng *e, int argc, char **argv) EAC_MUST_CHECK;
eac_err ca_cmd_rollover(eng *e, int argc, char **argv) EAC_MUST_CHECK;
eac_err ca_cmd_publish(eng *e, int argc, char **argv) EAC_MUST_CHECK;
eac_err ca_cmd_export(eng *e, int argc, char **argv) EAC_MUST_CHECK;

/* DV requests (ca-core/requests.c). */
eac_err ca_cmd_receive(eng *e, int argc, char **argv) EAC_MUST_CHECK;
eac_err ca_cmd_requests(eng *e, int argc, char **argv) EAC_MUST_CHECK;
eac_err ca_cmd_approve(eng *e, int argc, char **argv) EAC_MUST_CHECK;
eac_err ca_cmd_reject(eng *e, int argc, char **argv) EAC_MUST_CHECK;
eac_err ca_cmd_countersign(eng *e, int argc, char **argv) EAC_MUST_CHECK;

/* Registries (ca-core/registry.c). */
eac_err ca_cmd_dv_register(eng *e, int argc, char **argv) EAC_MUST_CHECK;
eac_err ca_cmd_dv_list(eng *e, int argc, char **argv) EAC_MUST_CHECK;
eac_err ca_cmd_dv_suspend(eng *e, int argc, char **argv) EAC_MUST_CHECK;
eac_err ca_cmd_dv_reactivate(eng *e, int argc, char **argv) EAC_MUST_CHECK;
eac_err ca_cmd_foreign_import(eng *e, int argc, char **argv) EAC_MUST_CHECK;
eac_err ca_cmd_foreign_list(eng *e, int argc, char **argv) EAC_MUST_CHECK;

/* Status (ca-core/status.c); audit verify and recover are engine/'s. */
eac_err ca_cmd_status(eng *e, int argc, char **argv) EAC_MUST_CHECK;

/* ---- shared inside ca-core ---- */

/* The CVCA's active state: own authority, active key, the self-signed
 * certificate of that key (issuer of DV certificates; its body carries
 * the domain parameters). */
typedef struct ca_active {
	db_authority own;
	db_key key;
	db_cert cert;   /* der owned: ca_active_free */
	cvc_obj *obj;   /* parsed cert */
} ca_active;
eac_err ca_active_load(eng *e, ca_active *a) EAC_MUST_CHECK;
void ca_active_free(ca_active *a);

#endif /* EAC_CA_H */
