/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dv-core/ — the Document Verifier engine behind eac-dv: its identity and
 * key (CP-3.2.4), the CVCAs it trusts, its certificate requests to them and
 * the DV certificates they return, and the inspection systems it enrols and
 * certifies (CP-3.3.2), one at a time or in batches (fleet renewal).
 *
 * DV certificate references follow TR-03110-3 A.6.1: one CHR per CVCA,
 * country + mnemonic + a sequence whose first two characters are the
 * certifying CVCA's country (FIDV + DE001 for the German CVCA), so each IS
 * certificate names, by its CAR, the chain it belongs to.
 */
#ifndef EAC_DV_H
#define EAC_DV_H

#include "engine/engine.h"

extern const eng_command dv_commands[];

/* Identity, trust, requests to CVCAs (dv-core/setup.c). */
eac_err dv_cmd_init(eng *e, int argc, char **argv) EAC_MUST_CHECK;
eac_err dv_cmd_trust(eng *e, int argc, char **argv) EAC_MUST_CHECK;
eac_err dv_cmd_request(eng *e, int argc, char **argv) EAC_MUST_CHECK;
eac_err dv_cmd_import(eng *e, int argc, char **argv) EAC_MUST_CHECK;
eac_err dv_cmd_certs(eng *e, int argc, char **argv) EAC_MUST_CHECK;

/* Inspection systems (dv-core/is.c). */
eac_err dv_cmd_is_add(eng *e, int argc, char **argv) EAC_MUST_CHECK;
eac_err dv_cmd_is_mark(eng *e, int argc, char **argv) EAC_MUST_CHECK;
eac_err dv_cmd_is_list(eng *e, int argc, char **argv) EAC_MUST_CHECK;
eac_err dv_cmd_is_receive(eng *e, int argc, char **argv) EAC_MUST_CHECK;
eac_err dv_cmd_is_approve(eng *e, int argc, char **argv) EAC_MUST_CHECK;
eac_err dv_cmd_is_issue_batch(eng *e, int argc, char **argv) EAC_MUST_CHECK;

/* Status (dv-core/status.c); audit verify and recover are engine/'s. */
eac_err dv_cmd_status(eng *e, int argc, char **argv) EAC_MUST_CHECK;

/* ---- shared inside dv-core ---- */

#define DV_PROCESS_WITHIN (24 * 3600)    /* CP-5.4.2: DV processing of IS requests */
#define DV_DISTRIBUTE_WITHIN (48 * 3600) /* CP-5.4.2: DV distribution */
#define DV_REKEY_LEAD_DAYS 21            /* re-key due this long before a DV certificate expires */

/* This DV: its authority row and active key (EAC_ERR_STATE before init). */
eac_err dv_own(eng *e, db_authority *own, db_key *key) EAC_MUST_CHECK;

/*
 * The chain of a DV certificate we hold: the trusted CVCA certificate its
 * CAR names (self-signed or link, whose key gives the domain parameters)
 * and the DV certificate itself, parsed. `dv_chr` names the DV
 * certificate. Both owned by the caller (cvc_obj_free).
 */
typedef struct dv_chain {
	db_cert dv;       /* der owned */
	cvc_obj *dv_obj;
	cvc_obj *cvca_obj; /* the CVCA certificate that issued it */
	int64_t cvca_authority;
} dv_chain;
eac_err dv_chain_load(eng *e, const char *dv_chr, dv_chain *c) EAC_MUST_CHECK;
void dv_chain_free(dv_chain *c);

/* A trust store of every CVCA and link certificate imported (for path
 * building and verification). */
eac_err dv_trust_store(eng *e, cvc_store **out) EAC_MUST_CHECK;

#endif /* EAC_DV_H */
