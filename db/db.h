/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db/ — the PostgreSQL record of one engine (CVCA or DV): schema and
 * migrations, the issuance protocol (intent -> sign -> result -> release),
 * the request queue with deadlines, the hash-chained audit log and the
 * registries (authorities, keys, inspection systems, ceremonies).
 *
 * db/ stores the bytes, strings, dates and hashes the engines give it; it
 * does not parse requests or verify signatures (cvc/ does). It checks what a
 * database can: uniqueness, state transitions, that a certificate's body is
 * exactly its intent's, that nothing recorded changes. Those checks live in
 * the schema (constraints and triggers, db/migrations/), so they hold for any
 * client, not only for this C code. docs/DATABASE.md explains the design.
 *
 * Connections: one db_conn per thread (a db_conn is not thread-safe). The
 * engine connects as the service role, which may INSERT and SELECT but never
 * UPDATE (except guarded state columns), DELETE or TRUNCATE; migrations run
 * as the owner role; auditors read with db_open_auditor().
 *
 * Strings: CHR, CAR and mnemonics are ISO 8859-1 octets exactly as in the
 * certificate (cvc_ref.s); other text (names, reasons, JSON) is UTF-8.
 * Dates of certificates are "YYYY-MM-DD"; times are seconds since the epoch
 * (UTC), taken from eac_now() when db/ records "now". Hashes are SHA-256.
 *
 * Errors: every function returns an eac_err and records one line naming the
 * database, the operation and the cause:
 *   EAC_ERR_DB_UNAVAILABLE  cannot connect, connection lost
 *   EAC_ERR_DB_CONFLICT     a constraint refused the change (db_last_conflict()
 *                           says which; e.g. DB_CONFLICT_HOLDER_KEY is CP-4.6)
 *   EAC_ERR_DB_SCHEMA       schema missing, of the other engine, or too new
 *   EAC_ERR_STATE           the object is in the wrong state (a transition the
 *                           schema forbids, an abandoned intent, a retired key)
 *   EAC_ERR_POLICY          a policy rule the schema enforces (CP-1.3a, CP-3.3.1,
 *                           CP-3.3.2)
 *   EAC_ERR_NOT_FOUND       no such row
 *   EAC_ERR_MALFORMED       certificate bytes the schema cannot read
 *   EAC_ERR_AUDIT           the audit log is broken (db_audit_verify)
 *   EAC_ERR_DB              anything else (permission denied, timeout, ...)
 * Serialization failures and deadlocks are retried DB_TX_RETRIES times.
 */
#ifndef EAC_DB_H
#define EAC_DB_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

#define DB_HASH_LEN EAC_SHA256_LEN
#define DB_REF_MAX 16           /* CHR / CAR: 7..16 ISO 8859-1 octets */
#define DB_TBS_MAX 8192         /* a certificate body 7F4E, and a certificate */
#define DB_CERT_MAX 8192
#define DB_REQUEST_MAX 16384    /* a certificate request as received */
#define DB_DETAILS_MAX 65536    /* audit details (JSON text) */
#define DB_TEXT_MAX 1000        /* reasons, rejection messages */
#define DB_TX_RETRIES 5         /* attempts of a transaction on 40001 / 40P01 */

typedef struct db_conn db_conn;

/* ======================================================================
 * Opening
 * ====================================================================== */

/*
 * The schema version this program knows (the highest embedded migration).
 */
int db_schema_version(void);

/*
 * Connect the engine `flavour` ("cvca" or "dv") to its database.
 *
 * `conninfo` is a libpq connection string for the service role (a member of
 * eac_service; never the schema owner or a superuser: refused with
 * EAC_ERR_CONFIG). With `owner_conninfo` (the owner role) pending migrations
 * are applied first, as the owner, in one transaction under an advisory lock
 * (concurrent starts wait, then find nothing to do); with NULL the schema is
 * only checked. Refused with EAC_ERR_DB_SCHEMA: no schema (and no owner to
 * create it), a schema of the other engine, a schema older than this
 * program without `owner_conninfo`, a schema newer than this program, an
 * applied migration whose text differs from the embedded one.
 *
 * The session gets application_name eac-FLAVOUR (unless the conninfo sets
 * one), a statement timeout, a lock timeout, TimeZone UTC, and READ
 * COMMITTED transactions: uniqueness is decided by constraints, and the
 * rows that must serialise (the audit chain head, a sequence counter, a key,
 * a request) are locked explicitly.
 *
 * Unreachable database: EAC_ERR_DB_UNAVAILABLE with libpq's reason. The
 * conninfo itself (which may hold a password) is never printed.
 */
eac_err db_open(const char *conninfo, const char *owner_conninfo, const char *flavour,
		db_conn **out) EAC_MUST_CHECK;

/*
 * Connect read-only (e.g. as eac_auditor) to check the schema and read or
 * verify the record. Every write through this connection fails.
 */
eac_err db_open_auditor(const char *conninfo, const char *flavour, db_conn **out) EAC_MUST_CHECK;

void db_close(db_conn *db);

/* "database cvca (eac_service@/path/run:5432)", for messages. */
const char *db_name(const db_conn *db);

/*
 * Who acts on this connection from now on (an officer, "engine:cvca",
 * "batch-worker-3"): recorded in every audit event the connection causes.
 * 1..200 octets of UTF-8. Default: "engine:FLAVOUR".
 */
eac_err db_set_actor(db_conn *db, const char *actor) EAC_MUST_CHECK;

/* ======================================================================
 * Transactions
 * ====================================================================== */

/*
 * Run `fn` inside BEGIN .. COMMIT. On a serialization failure or a deadlock
 * (SQLSTATE 40001, 40P01) the transaction is rolled back and `fn` runs again,
 * at most DB_TX_RETRIES times in all, so `fn` must not act outside the
 * database (no signing, no files). Any other failure rolls back and is
 * returned. Calls of this API inside `fn` join the transaction, except those
 * documented as committing on their own (db_intent_record, db_result_record,
 * their batch forms, db_abandon, db_seq_next, db_issue), which refuse with
 * EAC_ERR_USAGE. A lost connection during COMMIT is EAC_ERR_DB_UNAVAILABLE
 * and the outcome is unknown: the caller must treat it as not committed and
 * look again after reconnecting (recovery does this for issuance).
 */
typedef eac_err (*db_tx_fn)(db_conn *db, void *arg);
eac_err db_tx(db_conn *db, db_tx_fn fn, void *arg) EAC_MUST_CHECK;

/* Which constraint refused the last change on this connection (after
 * EAC_ERR_DB_CONFLICT); DB_CONFLICT_NONE otherwise. */
typedef enum db_conflict {
	DB_CONFLICT_NONE = 0,
	DB_CONFLICT_CHR,          /* CHR already used by this issuer (CP-3.1b) */
	DB_CONFLICT_HOLDER_KEY,   /* public key already certified by this issuer (CP-4.6) */
	DB_CONFLICT_REQUEST,      /* this request already has an intent or certificate */
	DB_CONFLICT_INTENT,       /* this intent already has its certificate */
	DB_CONFLICT_BODY,         /* certificate body differs from the intent */
	DB_CONFLICT_DUPLICATE,    /* the same bytes (certificate, DV request) exist */
	DB_CONFLICT_KEY,          /* key already registered, or a second active key */
	DB_CONFLICT_NAME,         /* authority / inspection system name or mnemonic taken */
	DB_CONFLICT_REFERENCE,    /* refers to a row that does not exist or does not fit */
	DB_CONFLICT_CHECK,        /* a value outside what the schema allows */
	DB_CONFLICT_OTHER
} db_conflict;
db_conflict db_last_conflict(const db_conn *db);

/* ======================================================================
 * Audit log
 * ====================================================================== */

/*
 * A point of the chain: the sequence number of an event and the hash
 * the chain has after it. Engines write the head into every ceremony
 * transcript; every certificate has the head right after its own event
 * (eac.certificate_anchors, written with that event at commit).
 */
typedef struct db_anchor {
	int64_t seq;
	uint8_t hash[DB_HASH_LEN];
} db_anchor;

/*
 * Append an event: `actor` (NULL: the connection's actor), `action`
 * ([a-z][a-z0-9_.-]*, e.g. "login.fail", "config.change"), `object`
 * (what it concerns, e.g. "authority:3"; may be ""), `details_json` (a JSON
 * object, stored as the exact text given; NULL: "{}"). Inside db_tx it is
 * part of that transaction — if it cannot be written, nothing of the
 * transaction happens; outside it commits on its own. The database numbers,
 * times and chains the event; `out` (may be NULL) gets its anchor.
 *
 * Changes made through this API (requests, decisions, intents,
 * certificates, abandonments, distributions, keys, authorities, inspection
 * systems, sequences, ceremonies, migrations) are audited by the schema's
 * triggers in the same transaction — the hot ones (requests, intents,
 * certificates, distributions, sequences) at COMMIT, so that the chain
 * head is locked only while the events are appended; the actor recorded
 * is the one in effect then. This call is for the rest: login failures,
 * configuration changes, ceremony steps, refusals of malformed input.
 */
eac_err db_audit(db_conn *db, const char *actor, const char *action, const char *object,
		 const char *details_json, db_anchor *out) EAC_MUST_CHECK;

/* The head of the chain now (seq 0 and 32 zero octets when empty). */
eac_err db_audit_head(db_conn *db, db_anchor *out) EAC_MUST_CHECK;

typedef struct db_audit_report {
	int64_t rows;           /* events read */
	db_anchor last;         /* the last event read (seq 0: empty log) */
	int64_t first_bad;      /* 0: intact; else the first sequence number that fails */
	char why[512];          /* one line when first_bad != 0 */
	int anchors;            /* anchors checked: chain head row, newest certificate,
				   newest ceremony, `expected_tail` */
} db_audit_report;

/*
 * Recompute the whole chain in C, independently of the database's trigger
 * (canonical form in docs/DATABASE.md), in one consistent snapshot, and
 * check it against the anchors: the chain head row, the newest
 * certificate's and the newest ceremony's recorded anchors, and
 * `expected_tail` (e.g. from a ceremony transcript kept off the database;
 * may be NULL). Detects a changed byte, a deleted, inserted or reordered
 * row, and a cut tail (as far back as the newest anchor).
 *
 * Returns EAC_OK with report->first_bad 0 when intact; EAC_ERR_AUDIT with
 * the report filled (first_bad, why) and the detail "audit log broken at
 * seq N: ..." when not — the report is written in both cases. Other errors
 * (database) leave it untouched. Works for the service and auditor roles.
 */
eac_err db_audit_verify(db_conn *db, const db_anchor *expected_tail,
			db_audit_report *report) EAC_MUST_CHECK;

/* ======================================================================
 * Registries: authorities, keys, inspection systems, ceremonies
 * ====================================================================== */

typedef enum db_auth_kind {
	DB_AUTH_OWN_CVCA = 1,  /* CVCA database: this CVCA */
	DB_AUTH_FOREIGN_CVCA,  /* CVCA database: another state's CVCA */
	DB_AUTH_DV,            /* CVCA database: a domestic or foreign DV */
	DB_AUTH_OWN_DV,        /* DV database: this DV */
	DB_AUTH_CVCA,          /* DV database: a CVCA it trusts (national or foreign) */
} db_auth_kind;

typedef enum db_auth_status { DB_AUTH_ACTIVE = 1, DB_AUTH_SUSPENDED, DB_AUTH_RETIRED } db_auth_status;

typedef struct db_authority_in {
	db_auth_kind kind;
	const char *country;            /* ISO 3166-1 alpha-2 */
	const char *mnemonic;           /* 0..9 octets, ISO 8859-1 */
	const char *name;               /* UTF-8, 1..200 */
	const char *organisations_json; /* JSON array (CP-3.2.3(c)); NULL: [] */
	int domestic;
	const char *conformity_expiry;  /* YYYY-MM-DD (DVs, CP-3.2.3(b)); NULL: none */
} db_authority_in;

typedef struct db_authority {
	int64_t id;
	db_auth_kind kind;
	char country[3];
	char mnemonic[10];
	char name[801];
	char organisations[4097];
	int domestic;
	char conformity_expiry[11]; /* "" when none */
	db_auth_status status;
	int64_t created_at;
} db_authority;

/* Register; refuses a second own authority, a taken (country, mnemonic)
 * (DB_CONFLICT_NAME) and a fourth DV of one country (EAC_ERR_POLICY,
 * CP-1.3a). Audited. */
eac_err db_authority_add(db_conn *db, const db_authority_in *in, int64_t *id) EAC_MUST_CHECK;
eac_err db_authority_get(db_conn *db, int64_t id, db_authority *out) EAC_MUST_CHECK;
eac_err db_authority_find(db_conn *db, const char *country, const char *mnemonic,
			  db_authority *out) EAC_MUST_CHECK;
/* This database's own CVCA or DV. */
eac_err db_authority_own(db_conn *db, db_authority *out) EAC_MUST_CHECK;
/* active <-> suspended, either -> retired (final). Audited with `reason`. */
eac_err db_authority_set_status(db_conn *db, int64_t id, db_auth_status status,
				const char *reason) EAC_MUST_CHECK;
/* A new conformity certificate expiry (YYYY-MM-DD) or organisation list
 * (NULL: unchanged). Audited with `reason`. */
eac_err db_authority_update(db_conn *db, int64_t id, const char *conformity_expiry,
			    const char *organisations_json, const char *reason) EAC_MUST_CHECK;
/* Every authority of `kind` (0: all), oldest first; malloc'ed (free()). */
eac_err db_authorities_list(db_conn *db, db_auth_kind kind, db_authority **list,
			    size_t *n) EAC_MUST_CHECK;
/* DVs of `country` that are not retired (CP-1.3a: at most 3). */
eac_err db_authority_count_dvs(db_conn *db, const char *country, int *n) EAC_MUST_CHECK;

typedef enum db_key_state {
	DB_KEY_PENDING = 1, /* generated, not yet in use: signs only its own self-signed CVCA certificate */
	DB_KEY_ACTIVE,      /* the authority's signing key (at most one) */
	DB_KEY_RETIRED,
	DB_KEY_COMPROMISED, /* final; signs nothing, its results are refused (CP-4.5b) */
} db_key_state;

typedef struct db_key_in {
	int64_t authority;         /* authorities.id, or 0 */
	int64_t inspection_system; /* DV database: an IS key; 0 otherwise */
	const char *pkcs11_uri;    /* our own signing keys only (never with pin-value); else NULL */
	const char *label;         /* e.g. the CHR; NULL: set later, once */
	const uint8_t *pubkey_hash; /* DB_HASH_LEN, as the engine defines it for the key */
	const char *algorithm;     /* "ECDSA-SHA-256", ... */
	const char *curve;         /* "brainpoolP256r1", ...; NULL for RSA */
	db_key_state state;        /* PENDING or ACTIVE */
} db_key_in;

typedef struct db_key {
	int64_t id, authority, inspection_system;
	char pkcs11_uri[1001];
	char label[257];
	uint8_t pubkey_hash[DB_HASH_LEN];
	char algorithm[161], curve[161];
	db_key_state state;
	int64_t created_at;
} db_key;

/* Register; a public key is registered once (DB_CONFLICT_KEY). Audited. */
eac_err db_key_add(db_conn *db, const db_key_in *in, int64_t *id) EAC_MUST_CHECK;
eac_err db_key_get(db_conn *db, int64_t id, db_key *out) EAC_MUST_CHECK;
eac_err db_key_find(db_conn *db, const uint8_t pubkey_hash[DB_HASH_LEN], db_key *out) EAC_MUST_CHECK;
/* Keys of an authority (0: all), oldest first; malloc'ed (free()). */
eac_err db_keys_list(db_conn *db, int64_t authority, db_key **list, size_t *n) EAC_MUST_CHECK;
/* The active signing key of an own authority (EAC_ERR_NOT_FOUND if none). */
eac_err db_key_active(db_conn *db, int64_t authority, db_key *out) EAC_MUST_CHECK;
/* Make a pending key the active one, retiring the previous active key of
 * its authority in the same transaction (rollover, re-key). Audited. */
eac_err db_key_activate(db_conn *db, int64_t id, const char *reason) EAC_MUST_CHECK;
/* pending -> retired | compromised, active -> retired | compromised,
 * retired -> compromised. Audited with `reason`. */
eac_err db_key_set_state(db_conn *db, int64_t id, db_key_state state, const char *reason) EAC_MUST_CHECK;
/* Set the label of a key registered without one (once). */
eac_err db_key_set_label(db_conn *db, int64_t id, const char *label) EAC_MUST_CHECK;
/* Has `issuer` ever certified this public key as a DV or IS key, or is an
 * intent for it under way? (CP-4.6) */
eac_err db_key_certified(db_conn *db, int64_t issuer, const uint8_t pubkey_hash[DB_HASH_LEN],
			 int *yes) EAC_MUST_CHECK;
/* Is this public key registered as compromised? (CP-4.5b, CP-4.7b) */
eac_err db_key_compromised(db_conn *db, const uint8_t pubkey_hash[DB_HASH_LEN], int *yes) EAC_MUST_CHECK;

/* DV database: inspection systems (CP-3.2.4, CP-3.3.2). */
typedef enum db_is_status { DB_IS_OPERATIONAL = 1, DB_IS_STOLEN, DB_IS_LOST, DB_IS_RETIRED } db_is_status;
typedef struct db_inspection_system {
	int64_t id;
	char name[801];
	char mnemonic[10];
	char organisation[801];
	db_is_status status;
	int64_t created_at;
} db_inspection_system;
/* Register (operational); name and mnemonic are unique (DB_CONFLICT_NAME). */
eac_err db_is_add(db_conn *db, const char *name, const char *mnemonic, const char *organisation,
		  int64_t *id) EAC_MUST_CHECK;
eac_err db_is_get(db_conn *db, int64_t id, db_inspection_system *out) EAC_MUST_CHECK;
/* Every inspection system by name; malloc'ed (free()). */
eac_err db_is_list(db_conn *db, db_inspection_system **list, size_t *n) EAC_MUST_CHECK;
eac_err db_is_find(db_conn *db, const char *mnemonic, db_inspection_system *out) EAC_MUST_CHECK;
/* The inspection systems of n mnemonics in one statement (a batch chunk):
 * out[i] and found[i] = 1 for each registered one, found[i] = 0 otherwise. */
eac_err db_is_find_many(db_conn *db, const char *const *mnemonics, size_t n, db_inspection_system *out,
			int *found) EAC_MUST_CHECK;
/* operational -> stolen | lost | retired; lost -> operational | stolen |
 * retired; stolen -> retired. Audited with `reason`. Waits for intents
 * under way; afterwards no IS certificate is issued to it (CP-3.3.2). */
eac_err db_is_set_status(db_conn *db, int64_t id, db_is_status status, const char *reason) EAC_MUST_CHECK;

/* Key ceremonies (CP-4.2.1): `kind` ([a-z][a-z0-9_-]*), officers (JSON
 * array), SHA-256 of the configuration used, the transcript (JSON object),
 * the seq of the ceremony's first event (from db_audit_head() at its
 * start, + 1). The row is anchored in the chain; `anchor` (may be NULL)
 * receives the anchor to print into the transcript kept off the database. */
typedef struct db_ceremony_in {
	const char *kind;
	const char *officers_json;
	const uint8_t *config_hash;
	const char *transcript_json;
	int64_t audit_first;
} db_ceremony_in;
eac_err db_ceremony_record(db_conn *db, const db_ceremony_in *in, int64_t *id,
			   db_anchor *anchor) EAC_MUST_CHECK;

/* ======================================================================
 * Sequence numbers of our own CHRs (CP-3.1b)
 * ====================================================================== */

/*
 * The next sequence number (1..99999) of `scope` (country + mnemonic, e.g.
 * "FICVCA"), in its own committed, audited transaction under a row lock:
 * concurrent callers get distinct numbers and a number is never handed out
 * twice, even if the certificate it was meant for is abandoned.
 * EAC_ERR_STATE when the scope's 99999 numbers are spent.
 */
eac_err db_seq_next(db_conn *db, const char *scope, int *seq) EAC_MUST_CHECK;

/* ======================================================================
 * Requests (CP-4.2.2, CP-5.4.2)
 * ====================================================================== */

typedef enum db_kind { DB_KIND_CVCA = 1, DB_KIND_LINK, DB_KIND_DV, DB_KIND_IS } db_kind;
const char *db_kind_name(db_kind kind); /* "cvca", "link", "dv", "is"; NULL if none */

typedef enum db_req_state { DB_REQ_RECEIVED = 1, DB_REQ_VALIDATED, DB_REQ_ISSUED, DB_REQ_REJECTED } db_req_state;
const char *db_req_state_name(db_req_state s);

typedef struct db_request_in {
	db_kind kind;              /* DB_KIND_DV on the CVCA, DB_KIND_IS on the DV */
	const char *channel;       /* CVCA: "domestic" | "foreign"; DV: "is" */
	int64_t authority;         /* CVCA: the requesting DV's authorities.id, or 0 */
	int64_t inspection_system; /* DV: the requesting IS (required); 0 on the CVCA */
	const uint8_t *raw;        /* the request exactly as received */
	size_t raw_len;            /* 1..DB_REQUEST_MAX */
	const char *holder_chr;    /* the CHR it asks for */
	const char *outer_car;     /* authenticated request: the outer CAR; else NULL */
	int64_t process_within;    /* seconds: 72 h on the CVCA, 24 h on the DV (CP-5.4.2) */
	int acknowledge;           /* record the acknowledgement of receipt now (CP-4.2.2) */
} db_request_in;

typedef struct db_request {
	int64_t id;
	db_kind kind;
	char channel[16];
	int64_t authority, inspection_system;
	uint8_t raw_hash[DB_HASH_LEN];
	char holder_chr[DB_REF_MAX + 1];
	char outer_car[DB_REF_MAX + 1]; /* "" when none */
	int64_t received_at, acknowledged_at, deadline, decided_at; /* 0 when not yet */
	db_req_state state;
	char rule_id[257];     /* rejected: the rule (e.g. "CP-3.3.1") */
	char message[4001];    /* rejected: the sentence */
	char decided_by[801];
	int64_t certificate;   /* issued: certificates.id */
} db_request;

/*
 * Queue a request as received, deadline = now + process_within. The same
 * bytes again (by SHA-256) are the same request: `out` then describes the
 * existing row — its state, rejection or certificate — and *existing is 1;
 * the resubmission is audited. The raw bytes are not returned in `out`.
 */
eac_err db_request_submit(db_conn *db, const db_request_in *in, db_request *out,
			  int *existing) EAC_MUST_CHECK;
eac_err db_request_get(db_conn *db, int64_t id, db_request *out) EAC_MUST_CHECK;
/* The raw bytes of a request (malloc'ed; free()). */
eac_err db_request_raw(db_conn *db, int64_t id, uint8_t **raw, size_t *len) EAC_MUST_CHECK;
/* Record the acknowledgement of receipt (once; CP-4.2.2). */
eac_err db_request_acknowledge(db_conn *db, int64_t id) EAC_MUST_CHECK;
/* received -> validated: the checks passed; `officer` decided. */
eac_err db_request_validate(db_conn *db, int64_t id, const char *officer) EAC_MUST_CHECK;
/* received | validated -> rejected with the rule and the sentence. Refused
 * while an intent for it is under way. */
eac_err db_request_reject(db_conn *db, int64_t id, const char *rule_id, const char *message,
			  const char *officer) EAC_MUST_CHECK;
/* Pending requests (received or validated), earliest deadline first, at most
 * `limit`; malloc'ed array (free()), *n may be 0. */
eac_err db_requests_pending(db_conn *db, size_t limit, db_request **list, size_t *n) EAC_MUST_CHECK;
/* All requests, newest first, at most `limit` (0: 100000). */
eac_err db_requests_list(db_conn *db, size_t limit, db_request **list, size_t *n) EAC_MUST_CHECK;

/* ======================================================================
 * The issuance protocol
 *
 *   1. db_intent_record   the exact to-be-signed body, committed
 *   2. the engine signs the body in the token
 *   3. db_result_record   the certificate, refused unless its body is the
 *                         intent's, committed
 *   4. only now may the certificate leave the appliance (file, network)
 *
 * A certificate MUST NOT be written out or sent before db_result_record()
 * (or db_issue()) returned EAC_OK for it. After a crash between 1 and 3,
 * db_recover_list() names the open intents; the engine signs the same body
 * again and records it, or abandons the intent.
 *
 * Claims: the connection that records an intent holds it (a session-level
 * advisory lock taken in the recording transaction, so nobody ever sees the
 * intent unclaimed while its recorder lives) until its result or
 * abandonment is recorded, or the connection ends (a crash, a lost server).
 * Recovery claims an intent before it works on it and leaves claimed ones
 * alone: an issuance under way is never signed twice nor abandoned under
 * its feet.
 *
 * Test builds stop the process at the failpoints "before_intent_commit",
 * "after_intent_commit", "after_sign" (db_issue), "before_result_commit"
 * and "after_result_commit" (EAC_FAILPOINT, common.h).
 * ====================================================================== */

typedef struct db_intent {
	int64_t issuer;           /* authorities.id of our own CVCA / DV (active) */
	int64_t signing_key;      /* keys.id: its active key; a pending key only for its
				     own self-signed CVCA certificate (CP-4.5b) */
	db_kind kind;
	const char *chr;          /* for our own CHRs: from db_seq_next() */
	const char *car;          /* = chr for a self-signed CVCA certificate */
	const uint8_t *holder_key_hash; /* DB_HASH_LEN */
	int64_t request;          /* requests.id (validated) for DV / IS certificates;
				     0 for CVCA and link certificates (ceremony) */
	const uint8_t *chat;      /* the CHAT data object 7F4C as in the body */
	size_t chat_len;
	const char *effective;    /* YYYY-MM-DD, as in the body */
	const char *expiry;
	const uint8_t *tbs;       /* the exact certificate body TLV 7F4E to be signed */
	size_t tbs_len;           /* <= DB_TBS_MAX */
	int64_t distribute_within; /* seconds after issuance by which it must be
				      distributed (CP-5.4.2); 0: not tracked */
} db_intent;

/*
 * Step 1: record the intent and commit (audited). The schema checks that
 * the fields repeat the body, the issuer is active, the key may sign, the
 * request is validated and asks for this CHR, and refuses — among intents
 * not abandoned — a second intent for the same CHR of the issuer
 * (DB_CONFLICT_CHR), for the same holder key of a DV or IS certificate
 * (DB_CONFLICT_HOLDER_KEY, CP-4.6: no renewal), or for the same request
 * (DB_CONFLICT_REQUEST: of many parallel approvals, one wins). Must not be
 * called inside db_tx.
 */
eac_err db_intent_record(db_conn *db, const db_intent *in, int64_t *intent_id) EAC_MUST_CHECK;

/*
 * Step 3: record the certificate `der` (7F21 { 7F4E body, 5F37 signature },
 * nothing else) for an open intent and commit (audited). Refused when the
 * body is not byte for byte the intent's (DB_CONFLICT_BODY; checked here
 * and again by the schema), when the intent was abandoned (EAC_ERR_STATE)
 * or has its certificate (DB_CONFLICT_INTENT), when the signing key has
 * been marked compromised since (EAC_ERR_STATE, CP-4.5b). The request, if
 * any, becomes issued; the certificate awaits distribution if the intent
 * said so. Must not be called inside db_tx. Only after EAC_OK may the
 * certificate be released.
 */
eac_err db_result_record(db_conn *db, int64_t intent_id, const uint8_t *der, size_t der_len,
			 int64_t *cert_id) EAC_MUST_CHECK;

/* Close an open intent without a certificate, with a reason (audited); its
 * CHR, key and request may then be used by a new intent. Refused for an
 * intent with a certificate or already abandoned (EAC_ERR_STATE). */
eac_err db_abandon(db_conn *db, int64_t intent_id, const char *reason) EAC_MUST_CHECK;

/*
 * Batches, for speed (one transaction, one commit, one audit event per
 * certificate). Item i's outcome is in out[i]: status EAC_OK and the new id,
 * or the refusal (status, conflict, detail) of that item alone — the other
 * items are still recorded. The call returns EAC_OK when the batch
 * committed; another code (database unavailable, ...) when nothing was
 * recorded. n <= DB_BATCH_MAX. Must not be called inside db_tx.
 */
#define DB_BATCH_MAX 1000
typedef struct db_batch_item {
	eac_err status;
	db_conflict conflict;
	int64_t id;
	char detail[256];
} db_batch_item;
eac_err db_intent_record_batch(db_conn *db, const db_intent *in, size_t n,
			       db_batch_item *out) EAC_MUST_CHECK;
typedef struct db_result {
	int64_t intent_id;
	const uint8_t *der;
	size_t der_len;
} db_result;
eac_err db_result_record_batch(db_conn *db, const db_result *in, size_t n,
			       db_batch_item *out) EAC_MUST_CHECK;

/* An intent without certificate or abandonment. */
typedef struct db_open_intent {
	int64_t id, issuer, signing_key, request;
	db_kind kind;
	char chr[DB_REF_MAX + 1], car[DB_REF_MAX + 1];
	uint8_t holder_key_hash[DB_HASH_LEN];
	uint8_t tbs_hash[DB_HASH_LEN];
	uint8_t *tbs; /* owned by the list */
	size_t tbs_len;
	int64_t created_at;
} db_open_intent;

/* The open intents, oldest first (after a crash: sign the same tbs again
 * and db_result_record(), or db_abandon()). Free with db_open_intents_free. */
eac_err db_recover_list(db_conn *db, db_open_intent **list, size_t *n) EAC_MUST_CHECK;
void db_open_intents_free(db_open_intent *list, size_t n);
/* Claim an intent for recovery, waiting up to `wait_ms` for its holder:
 * *claimed = 1 when this connection holds it and it is still open (then
 * db_result_record/db_abandon give the claim up; db_intent_unclaim too);
 * *claimed = 0 and *open = 0 when it was closed meanwhile; *claimed = 0 and
 * *open = 1 when another connection still works on it. */
eac_err db_intent_claim(db_conn *db, int64_t intent_id, int wait_ms, int *claimed,
			int *open) EAC_MUST_CHECK;
/* Give up this connection's claim (best effort; nothing when not held). */
void db_intent_unclaim(db_conn *db, int64_t intent_id);
/* The open intent of a request, if any (*intent = 0 when none), and
 * whether a live connection works on it (*busy; 0: interrupted, recovery
 * completes it). */
eac_err db_request_intent_busy(db_conn *db, int64_t request, int64_t *intent, int *busy) EAC_MUST_CHECK;

/*
 * The whole protocol for one certificate: record the intent (commit), call
 * `sign` with the exact body to get the certificate, record the result
 * (commit), and only then hand the certificate to the caller (*der,
 * malloc'ed, free()). `sign` is never called unless the intent is committed
 * — with the database down, this fails before signing. When `sign` fails,
 * the intent is abandoned with its error as the reason; when recording the
 * result fails, the certificate is discarded and the intent stays open for
 * recovery.
 */
typedef eac_err (*db_sign_fn)(void *arg, const uint8_t *tbs, size_t tbs_len, uint8_t **der,
			      size_t *der_len);
eac_err db_issue(db_conn *db, const db_intent *in, db_sign_fn sign, void *arg, int64_t *cert_id,
		 uint8_t **der, size_t *der_len) EAC_MUST_CHECK;

/* ======================================================================
 * Certificates
 * ====================================================================== */

typedef struct db_cert {
	int64_t id;
	int imported;
	int64_t issuance, issuer, request;
	db_kind kind;
	char chr[DB_REF_MAX + 1], car[DB_REF_MAX + 1];
	char effective[11], expiry[11];
	uint8_t holder_key_hash[DB_HASH_LEN];
	uint8_t der_hash[DB_HASH_LEN];
	int64_t issued_at, distribute_by, distributed_at; /* 0 when none / not yet */
	db_anchor audit;  /* the chain right after its own event */
	uint8_t *der; /* malloc'ed; db_cert_free() */
	size_t der_len;
} db_cert;
eac_err db_cert_get(db_conn *db, int64_t id, db_cert *out) EAC_MUST_CHECK;
/* The certificate issued on a request (EAC_ERR_NOT_FOUND if none): a
 * resubmitted request gets the same certificate. */
eac_err db_cert_by_request(db_conn *db, int64_t request, db_cert *out) EAC_MUST_CHECK;
void db_cert_free(db_cert *c);

/* Does `issuer` hold a certificate of `kind` for holder reference `chr`?
 * *found, and its holder key hash in `key_hash` (CP-3.1b: one CHR, one
 * key). One probe of the unique index (issuer, kind, CHR). */
eac_err db_cert_chr_key(db_conn *db, int64_t issuer, db_kind kind, const char *chr,
			uint8_t key_hash[DB_HASH_LEN], int *found) EAC_MUST_CHECK;

/* Certificates matching every field set in the filter (0 / NULL / -1: any),
 * newest first, at most `limit` (0: 100000). Free with db_certs_free. */
typedef struct db_cert_filter {
	db_kind kind;                   /* 0: any */
	int64_t issuer;                 /* authorities.id; 0: any */
	const char *chr;                /* NULL: any */
	const char *car;                /* NULL: any */
	const uint8_t *holder_key_hash; /* DB_HASH_LEN; NULL: any */
	int imported;                   /* 1 imported, 0 issued by us, -1 any */
	int ca_only;                    /* 1: CVCA and link certificates only (kind ignored) */
	size_t limit;
} db_cert_filter;
eac_err db_certs_find(db_conn *db, const db_cert_filter *f, db_cert **list, size_t *n) EAC_MUST_CHECK;
void db_certs_free(db_cert *list, size_t n);

/* A certificate we did not issue (a foreign CVCA's; on the DV, our DV
 * certificates and the CVCA and link certificates): the fields must repeat
 * its body; the same bytes twice are DB_CONFLICT_DUPLICATE. Audited. */
typedef struct db_import {
	int64_t issuer; /* authorities.id of the CVCA that signed it */
	db_kind kind;
	const char *chr, *car;
	const uint8_t *holder_key_hash;
	const uint8_t *chat;
	size_t chat_len;
	const char *effective, *expiry;
	const uint8_t *der;
	size_t der_len;
} db_import;
eac_err db_cert_import(db_conn *db, const db_import *in, int64_t *cert_id) EAC_MUST_CHECK;

/* Record that a certificate was distributed (how, to whom); the first one
 * ends its wait (insert-only; distributed_at is derived). Audited. */
eac_err db_distribution_record(db_conn *db, int64_t cert_id, const char *channel,
			       const char *recipient) EAC_MUST_CHECK;

/* DV database: a request this DV sent to a CVCA, and its answer (the
 * imported DV certificate for that key from that CVCA), recorded once. */
typedef struct db_dv_request_in {
	int64_t cvca;       /* authorities.id of the CVCA addressed */
	const char *car;    /* the CAR asked for, or NULL */
	const char *chr;
	int64_t key;        /* keys.id of the key certified */
	const uint8_t *raw;
	size_t raw_len;
} db_dv_request_in;
eac_err db_dv_request_record(db_conn *db, const db_dv_request_in *in, int64_t *id) EAC_MUST_CHECK;
eac_err db_dv_request_answer(db_conn *db, int64_t id, int64_t cert_id) EAC_MUST_CHECK;
typedef struct db_dv_request {
	int64_t id, cvca, key;
	char car[DB_REF_MAX + 1], chr[DB_REF_MAX + 1];
	uint8_t raw_hash[DB_HASH_LEN];
	int64_t created_at, answered_by, answered_at; /* 0 while open */
} db_dv_request;
/* The DV's requests to CVCAs (open ones only, or all), oldest first;
 * malloc'ed (free()). */
eac_err db_dv_requests_list(db_conn *db, int open_only, db_dv_request **list,
			    size_t *n) EAC_MUST_CHECK;

/* ======================================================================
 * Batch forms: one statement for a chunk of a batch (docs/PERFORMANCE.md).
 * Each joins the caller's db_tx transaction (or runs in its own); the
 * schema checks every row exactly as for the single forms, and a refused
 * row refuses the statement — the caller then falls back to the single
 * forms to find it.
 * ====================================================================== */

/* db_request_submit for n requests (<= DB_BATCH_MAX): out[i], existing[i]. */
eac_err db_request_submit_many(db_conn *db, const db_request_in *in, size_t n, db_request *out,
			       int *existing) EAC_MUST_CHECK;
/* received -> validated for every id (those no longer received are left). */
eac_err db_request_validate_many(db_conn *db, const int64_t *ids, size_t n,
				 const char *officer) EAC_MUST_CHECK;
/* db_distribution_record for n certificates, one channel, a recipient each. */
eac_err db_distribution_record_many(db_conn *db, const int64_t *cert_ids, size_t n,
				    const char *channel, const char *const *recipients) EAC_MUST_CHECK;

/* What an approval reads about each request of a chunk, in one statement:
 * is its key certified by `issuer` (CP-4.6) or compromised (CP-4.5b), does
 * its CHR already name a certificate of `kind` (and with which key,
 * CP-3.1b), and the certificate of `kind` named by its outer CAR (a
 * re-key's signer) with that key's compromised flag. */
typedef struct db_fact_query {
	const uint8_t *key_hash; /* DB_HASH_LEN */
	const char *chr;
	const char *outer_car;   /* NULL: none */
} db_fact_query;
typedef struct db_issue_fact {
	int certified, compromised;
	int chr_found;
	uint8_t chr_key[DB_HASH_LEN];
	uint8_t *outer_der; /* malloc'ed, NULL when none: db_issue_facts_free */
	size_t outer_len;
	int outer_compromised;
} db_issue_fact;
eac_err db_issue_facts(db_conn *db, int64_t issuer, db_kind kind, size_t n, const db_fact_query *q,
		       db_issue_fact *out) EAC_MUST_CHECK;
void db_issue_facts_free(db_issue_fact *f, size_t n);

/* ======================================================================
 * Status (the engines' `status` command); indexed, no full scans
 * ====================================================================== */

typedef struct db_status {
	int64_t requests_pending;       /* received or validated */
	int64_t requests_overdue;       /* pending past their deadline */
	int64_t next_deadline;          /* earliest pending deadline; 0: none */
	int64_t awaiting_distribution;
	int64_t distribution_overdue;   /* past their distribution deadline */
	int64_t next_distribution_deadline;
	int64_t open_intents;           /* intents needing recovery or under way */
	int has_own_cert;               /* a certificate for our active key exists */
	char own_chr[DB_REF_MAX + 1], own_car[DB_REF_MAX + 1];
	char own_expiry[11];            /* the soonest expiry among them */
	int64_t own_key;                /* the active key, 0 if none */
} db_status;
/* "Now" is eac_now(). */
eac_err db_status_get(db_conn *db, db_status *out) EAC_MUST_CHECK;

#endif /* EAC_DB_H */
