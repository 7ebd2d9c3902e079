/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers of the db/ unit tests (tests/unit/db/dbtest.c, linked into each):
 * a private sandbox (packaging/sandbox in a mkdtemp directory) with its
 * PostgreSQL cluster, connections in every role, raw SQL as any role, CV
 * certificate bodies and certificates built byte by byte, and the fixture
 * of an engine's registries.
 */
#ifndef EAC_TESTS_DBTEST_H
#define EAC_TESTS_DBTEST_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "common/common.h"
#include "db/db.h"

/* Create and start the sandbox (once per test program); 0 on success. */
int dbt_start(void);
/* Stop the cluster and remove the directory. */
void dbt_finish(void);
/* packaging/sandbox DIR stop | start (the database only keeps its data). */
int dbt_stop_server(void);
int dbt_start_server(void);
const char *dbt_dir(void);

/* libpq connection string of `role` (service, owner, auditor, admin) to
 * database `dbname` ("cvca", "dv", or one made by dbt_createdb). */
const char *dbt_conninfo(const char *dbname, const char *role);

/* A new empty database owned by eac_owner, CONNECT for service/auditor. */
int dbt_createdb(const char *dbname);

/* db_open as service with the owner migrating. */
eac_err dbt_open(const char *dbname, const char *flavour, db_conn **db);

/* A raw libpq connection as `role`; NULL on failure (message on stderr). */
PGconn *dbt_pg(const char *dbname, const char *role);
/* Run one statement; returns the SQLSTATE ("" on success, "?" without
 * one) in a static buffer, and the message in *msg (static) if not NULL. */
const char *dbt_sql(PGconn *c, const char *sql, const char **msg);
/* One value of a one-row query (static buffer), or NULL. */
const char *dbt_value(PGconn *c, const char *sql);
/* Run as superuser with the triggers off (session_replication_role replica). */
const char *dbt_tamper(const char *dbname, const char *sql);
/* The error message of the last dbt_tamper ("" on success). */
const char *dbt_tamper_msg(void);

/* ---- CV bytes ---- */

/* A certificate body 7F4E with the given CAR, CHR, CHAT role byte and
 * dates (YYMMDD digits), a public key whose point starts with `keybyte`. */
size_t dbt_body(uint8_t *out, const char *car, const char *chr, uint8_t role, const char *eff6,
		const char *exp6, uint8_t keybyte);
/* 7F21 { body, 5F37 signature of 64 bytes derived from `sigbyte` } */
size_t dbt_cert(uint8_t *out, const uint8_t *body, size_t len, uint8_t sigbyte);
/* The 7F4C CHAT of dbt_body for `role`. */
size_t dbt_chat(uint8_t *out, uint8_t role);
/* SHA-256 of a label, as a key hash. */
void dbt_hash(const char *label, uint8_t out[DB_HASH_LEN]);

/* ---- fixtures ---- */

typedef struct dbt_cvca {
	int64_t own, key, dv; /* own CVCA FICVCA, its active key, a domestic DV FIDV */
} dbt_cvca;
/* Register the CVCA's own authority, its active key and one DV (mnemonic
 * `dvmn`, may be NULL for none). */
eac_err dbt_cvca_setup(db_conn *db, const char *dvmn, dbt_cvca *out);

/* A validated DV request for `chr` from authority `dv`; returns its id. */
eac_err dbt_dv_request(db_conn *db, int64_t dv, const char *chr, const char *salt, int64_t *id);

/* A DV intent for request `req` (CHR chr, holder key from `keylabel`),
 * signed by the fixture's key; body bytes in `body` (>= 512 octets). */
void dbt_dv_intent(const dbt_cvca *f, int64_t req, const char *chr, const char *keylabel, uint8_t *body,
		   uint8_t *chat, uint8_t *keyhash, db_intent *in);

#endif
