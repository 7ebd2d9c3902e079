/* SPDX-License-Identifier: Apache-2.0 */
/*
 * engine/ — what the CVCA and the DV engine share: the command-line
 * conventions (-c CONFIG, --json, --pin-fd, --operator, one-line refusals,
 * exit statuses), opening configuration, national policy, database and
 * token in the right order, and the issuance driver that every certificate
 * either engine signs goes through:
 *
 *   policy (no token, no write) → intent recorded and committed →
 *   signed in the token → certificate checked against the issuer key →
 *   result recorded and committed → only then written out (released).
 *
 * The token is opened only when something is about to be signed, so a
 * refusal never touches it and an unreachable database fails before any
 * login. Depends on policy, db, hsm, cvc and common.
 */
#ifndef EAC_ENGINE_H
#define EAC_ENGINE_H

#include <stdio.h>

#include <jansson.h>

#include "common/common.h"
#include "cvc/cvc.h"
#include "db/db.h"
#include "hsm/hsm.h"
#include "policy/policy.h"

/* ---- the command line ---- */

typedef struct eng_opts {
	const char *prog;        /* "eac-cvca" */
	const char *flavour;     /* "cvca" | "dv" */
	const char *config_path; /* -c; NULL: $EAC_CVCA_CONFIG / $EAC_DV_CONFIG, else /etc/eac/FLAVOUR.json */
	const char *pin_fd;      /* --pin-fd N; NULL: config pin_file, else prompt */
	const char *operator_;   /* --operator NAME; NULL: the login name */
	int json;                /* --json */
} eng_opts;

/*
 * Parse the global options in front of the command (getopt with "+": stops
 * at the first non-option). Returns the index of the command word in argv,
 * or -1 after printing the usage (help: exit 0 wanted, *help set) or an
 * error line.
 */
int eng_parse_global(int argc, char **argv, eng_opts *o, int *help);

/* A command of an engine's command line: "init", "dv register", ... */
typedef struct eng eng;
typedef eac_err (*eng_cmd_fn)(eng *e, int argc, char **argv);
typedef struct eng_command {
	const char *name;  /* one or two words */
	eng_cmd_fn fn;     /* argv[0] is the (last) command word */
	const char *usage; /* its arguments, one line */
	const char *help;  /* one sentence */
} eng_command;

/*
 * The whole program: harden the process (no core dumps, not dumpable —
 * PINs pass through it), parse the global options, find the command in
 * `cmds` (NULL-terminated), print --help (global or per command), open the
 * engine, run the command, print its one-line error. Returns the exit
 * status: 0, or what the command set with eng_set_exit(), or
 * eac_exit_code() of its error.
 */
int eng_main(int argc, char **argv, const char *prog, const char *flavour,
	     const char *description, const eng_command *cmds);

/* The exit status of a command that succeeded (status: 0/1/2). */
void eng_set_exit(eng *e, int status);

/* ---- the opened engine ---- */

/*
 * Load the configuration (strict), the national policy (strict, validated
 * against the common policy), and connect to the database as the service
 * role (migrations applied as owner when the configuration names the owner
 * connection). The token is not opened here. The operator becomes the
 * audit actor of the connection.
 */
eac_err eng_open(const eng_opts *o, eng **out) EAC_MUST_CHECK;
void eng_close(eng *e);

const eng_opts *eng_options(const eng *e);
const eac_config *eng_config(const eng *e);
const pol_national *eng_policy(const eng *e);
db_conn *eng_db(eng *e);
/* SHA-256 of the configuration file's bytes (for transcripts). */
const uint8_t *eng_config_hash(const eng *e);
/* The name recorded as actor: --operator or the login name. */
const char *eng_actor(const eng *e);

/*
 * The token, opened and logged in on first use (one login per process).
 * A wrong PIN or a locked token is recorded in the audit log
 * ("login.fail") before the error is returned.
 */
eac_err eng_token(eng *e, hsm_ctx **out) EAC_MUST_CHECK;

/*
 * The active signing key of this engine's own authority, found in the
 * token by the URI the database recorded, with its public key checked
 * against the database's key hash (a token key swapped behind our back is
 * refused). `*key` owned by the caller (hsm_key_free).
 */
eac_err eng_signing_key(eng *e, const db_key *rec, hsm_key **key) EAC_MUST_CHECK;

/* ---- output ---- */

/*
 * Print a command's result: with --json the object as one JSON document on
 * stdout; otherwise `text` (may be NULL: nothing). Takes ownership of obj.
 */
void eng_emit(const eng *e, json_t *obj, const char *text);
/* Same without an engine (before eng_open succeeded). */
void eng_emit_json(int json, json_t *obj, const char *text);

/* "2026-11-23T10:00:00Z" as a JSON string. */
json_t *eng_json_time(int64_t t);
/* Lower-case hex of bytes as a JSON string. */
json_t *eng_json_hex(const uint8_t *b, size_t n);

/* ---- the issuance driver ---- */

/* What the driver needs besides the body. */
typedef struct eng_issue_in {
	int64_t issuer;                /* authorities.id of our own CVCA / DV */
	const db_key *signing_key;     /* its record (id, URI, key hash) */
	hsm_key *key;                  /* the token key for it */
	cvc_alg alg;                   /* the issuer's scheme (OID of the issuer key) */
	const cvc_pubkey *issuer_pub;  /* to verify the result before it is recorded */
	const cvc_pubkey *domain;      /* domain parameter source for issuer_pub, or NULL */
	db_kind kind;
	int64_t request;               /* requests.id, 0 for ceremony certificates */
	int64_t distribute_within;     /* seconds (CP-5.4.2), 0: not tracked */
	int file_is_distribution;      /* writing out_path delivers it to its holder (DV and
					  IS certificates); CVCA and link certificates are
					  distributed by `publish` instead */
} eng_issue_in;

/*
 * Issue one certificate for `body` through the protocol (db_issue): the
 * body is encoded, its intent committed, signed in the token, the assembled
 * certificate parsed and verified with the issuer key, and the result
 * committed. Only then, and only with `out_path`, is it written out
 * (atomically; never overwriting a different file) and, with
 * file_is_distribution, its distribution recorded ("file", the path).
 * On success *der (malloc'ed) and *cert_id.
 */
eac_err eng_issue(eng *e, const eng_issue_in *in, const cvc_body *body, const char *out_path,
		  uint8_t **der, size_t *der_len, int64_t *cert_id) EAC_MUST_CHECK;

/*
 * Write a committed certificate out (release) and, with `distribution`,
 * record its distribution to the file. An existing file with the same
 * bytes is accepted (a resubmitted request); different bytes are refused
 * (EAC_ERR_EXISTS).
 */
eac_err eng_release(eng *e, int64_t cert_id, const uint8_t *der, size_t len, const char *path,
		    int distribution) EAC_MUST_CHECK;

/*
 * Recovery after a crash: every intent without result is signed again with
 * exactly its recorded body by the key it names and recorded — unless that
 * key is no longer usable (retired, compromised, missing from the token),
 * then it is abandoned with the reason. Both are audited. Certificates
 * recovered are written to DATA_DIR/recovered/CHR-ID.cvcert. `report`
 * receives one entry per intent.
 */
eac_err eng_recover(eng *e, json_t **report) EAC_MUST_CHECK;

/* Read a whole input file (certificate or request) with the codec's size
 * limit; errors name the file. */
eac_err eng_read_input(const char *path, uint8_t **buf, size_t *len) EAC_MUST_CHECK;

/* Parse with the codec; a malformed file's error names the file. */
eac_err eng_parse_file(const char *path, cvc_obj **out) EAC_MUST_CHECK;

/*
 * Parallel approvals of one request all pass the checks; the database lets
 * one intent per request through. The others call this with the request
 * after their own refusal or conflict: when the request was taken — an
 * intent for it under way, or its certificate issued — it waits (at most
 * 30 s) until it is decided, updates *q and returns EAC_OK: the caller
 * answers as for a resubmission, with the same certificate. Otherwise it
 * returns `why` with its detail unchanged: the caller's refusal stands.
 */
eac_err eng_await_taken(eng *e, db_request *q, eac_err why) EAC_MUST_CHECK;

/* ---- status, audit, recovery (both engines) ---- */

/*
 * `status`: gathered notes, each with a severity (0 info, 1 warning,
 * 2 a policy deadline missed), printed as text or JSON by
 * eng_status_finish(), which returns the verdict (the highest severity):
 * the command's exit status, usable from cron or a monitor.
 */
typedef struct eng_status {
	json_t *obj;   /* the JSON document */
	json_t *notes; /* borrowed: obj.notes */
	int verdict;
	pol_authority auth;
} eng_status;

/* Start: database counters, pending requests against their processing
 * deadline, certificates against their distribution deadline, open
 * intents (CP-4.2.2, CP-5.4.2). */
eac_err eng_status_begin(eng *e, pol_authority auth, eng_status *s) EAC_MUST_CHECK;
/* Add a note; `extra` (may be NULL) is merged into it (ownership taken). */
void eng_status_note(eng_status *s, int severity, const char *rule, const char *message,
		     json_t *extra);
/* CP-5.4b for a CVCA certificate: rollover due date, late. */
eac_err eng_status_rollover(eng *e, eng_status *s, const char *what, const cvc_body *cert,
			    int successor_distributed) EAC_MUST_CHECK;
/* Print and return the verdict (0, 1, 2). */
int eng_status_finish(eng *e, eng_status *s);
void eng_status_free(eng_status *s);

/* `audit verify [--expect-seq N --expect-hash HEX | --transcript FILE]`:
 * the hash chain, and its tail against an anchor kept off the database. */
eac_err eng_cmd_audit_verify(eng *e, int argc, char **argv) EAC_MUST_CHECK;
/* `recover`: eng_recover() with a report. */
eac_err eng_cmd_recover(eng *e, int argc, char **argv) EAC_MUST_CHECK;

/*
 * Import one CVCA certificate (self-signed: its signature checked) or link
 * certificate (verified against a certificate of that CVCA already held)
 * from `path`, registering its authority as `kind` (DB_AUTH_FOREIGN_CVCA
 * on the CVCA — refusing this country's own — or DB_AUTH_CVCA on the DV).
 * A certificate already held is accepted again. Appends a summary to arr.
 */
eac_err eng_import_cvca(eng *e, const char *path, db_auth_kind kind, json_t *arr) EAC_MUST_CHECK;

/*
 * Generate a key pair in the token for `chr` (label and id), read its
 * public half as a cvc_pubkey for `alg` with domain parameters (bytes in
 * `kb`), and register it in the database in `state` (PENDING until its
 * ceremony ends, or ACTIVE). *hk owned by the caller.
 */
eac_err eng_new_key(eng *e, int64_t authority, const hsm_keyspec *spec, cvc_alg alg,
		    const cvc_ref *chr, db_key_state state, hsm_key **hk, cvc_keybuf *kb,
		    cvc_pubkey *pub, db_key *rec) EAC_MUST_CHECK;
/* The key as a transcript records it: label, URI, type, curve, bits,
 * scheme, the protection attributes read back now, SHA-256 of the key. */
json_t *eng_key_json(hsm_key *k, const cvc_pubkey *pub);
/* The token: label, manufacturer, model, serial. */
json_t *eng_token_json(eng *e);

/* ---- small shared helpers ---- */

/* CHR = country + mnemonic + 5-digit sequence (CP-3.1b). */
eac_err eng_make_chr(const char *country, const char *mnemonic, int seq,
		     cvc_ref *out) EAC_MUST_CHECK;

/* The default TA scheme for a new key: ECDSA with the hash as long as the
 * curve (SHA-256/384/512), RSA-v1.5-SHA-256 for RSA; `alg_name` (may be
 * NULL) overrides it, refused when it does not fit the key type. */
eac_err eng_pick_alg(const hsm_keyspec *spec, const char *alg_name, cvc_alg *out) EAC_MUST_CHECK;

/* --rights LIST for the national terminal type, role bits zero. */
eac_err eng_parse_rights(const pol_national *nat, const char *list, cvc_chat *out) EAC_MUST_CHECK;

/* --validity DAYS: 1..36600; NULL gives 0 (the national default). */
eac_err eng_parse_days(const char *s, unsigned *out) EAC_MUST_CHECK;

/* Text a person gave (a name, an organisation, a reason, an operator):
 * 1..max bytes of UTF-8 without control characters (C0, DEL, C1), so that
 * every record and listing stays one line per item. EAC_ERR_USAGE naming
 * `what` and the position otherwise. */
eac_err eng_text_ok(const char *what, const char *s, size_t max) EAC_MUST_CHECK;

/* A numeric database id. */
eac_err eng_parse_id(const char *s, int64_t *out) EAC_MUST_CHECK;

/* mkdir -p with mode 0755 for new levels; eng_mkdirs_for: of a file's
 * directory. */
eac_err eng_mkdirs(const char *path) EAC_MUST_CHECK;
eac_err eng_mkdirs_for(const char *file) EAC_MUST_CHECK;

/* JSON summary of a certificate row (id, kind, CHR, CAR, dates, issued,
 * distributed, SHA-256 of the encoding). */
json_t *eng_cert_json(const db_cert *c);

/* Policy warnings as a JSON array, and printed as "warning: … (rule)" on
 * stderr when not --json; each is also appended to the audit log. */
json_t *eng_warnings(eng *e, const pol_decision *d, const char *object);

/* The decision's refusal as eac_fail(EAC_ERR_POLICY, ...). */
eac_err eng_refusal(const pol_decision *d) EAC_MUST_CHECK;

/* Load a public key of a certificate found in the database: parse the DER
 * (owned by *obj afterwards). */
eac_err eng_cert_obj(const db_cert *c, cvc_obj **obj) EAC_MUST_CHECK;

#endif /* EAC_ENGINE_H */
