/* SPDX-License-Identifier: Apache-2.0 */
/* Registries: authorities, keys, inspection systems, ceremonies, and the
 * sequence numbers of our own CHRs. Every change is audited by the schema. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_internal.h"

static const char *const auth_kinds[] = { NULL, "own_cvca", "foreign_cvca", "dv", "own_dv", "cvca" };
static const char *const auth_status[] = { NULL, "active", "suspended", "retired" };
static const char *const key_states[] = { NULL, "pending", "active", "retired", "compromised" };
static const char *const is_status[] = { NULL, "operational", "stolen", "lost", "retired" };

#define NAME_OF(table, v) ((unsigned)(v) < sizeof(table) / sizeof((table)[0]) ? (table)[v] : NULL)

static int index_of(const char *const *table, size_t n, const char *s)
{
	for (size_t i = 1; i < n; i++)
		if (strcmp(table[i], s) == 0)
			return (int)i;
	return 0;
}
#define INDEX_OF(table, s) index_of(table, sizeof(table) / sizeof((table)[0]), s)

/* An UPDATE that must touch exactly one row. */
static eac_err update_one(db_conn *db, const char *what, const char *noun, int64_t id, const char *sql,
			  const dbi_params *p)
{
	PGresult *res = NULL;
	eac_err r = dbi_exec(db, what, sql, p, &res);
	if (r != EAC_OK)
		return r;
	int n = atoi(PQcmdTuples(res));
	PQclear(res);
	if (n != 1)
		return eac_fail(EAC_ERR_NOT_FOUND, "%s: %s: %s %" PRId64 " not found", db->name, what, noun, id);
	return EAC_OK;
}

/* An INSERT .. RETURNING id in a transaction of its own (or the caller's). */
typedef struct insert_ctx {
	const char *what, *sql;
	const dbi_params *p;
	int64_t id;
} insert_ctx;

static eac_err insert_fn(db_conn *db, void *arg)
{
	insert_ctx *c = arg;
	PGresult *res = NULL;
	eac_err r = dbi_exec(db, c->what, c->sql, c->p, &res);
	if (r != EAC_OK)
		return r;
	c->id = dbi_int(res, 0, 0);
	PQclear(res);
	return EAC_OK;
}

static eac_err insert_id(db_conn *db, const char *what, const char *sql, const dbi_params *p, int64_t *id)
{
	insert_ctx c = { what, sql, p, 0 };
	eac_err r = dbi_tx(db, what, 0, insert_fn, &c);
	if (r == EAC_OK)
		*id = c.id;
	return r;
}

/* A guarded change with its reason for the audit trigger. */
typedef struct change_ctx {
	const char *what, *noun, *sql, *reason;
	int64_t id;
	const dbi_params *p;
} change_ctx;

static eac_err change_fn(db_conn *db, void *arg)
{
	change_ctx *c = arg;
	eac_err r;
	if ((r = dbi_set_reason(db, c->what, c->reason)) != EAC_OK)
		return r;
	return update_one(db, c->what, c->noun, c->id, c->sql, c->p);
}

static eac_err change(db_conn *db, const char *what, const char *noun, int64_t id, const char *sql,
		      const dbi_params *p, const char *reason)
{
	change_ctx c = { what, noun, sql, reason, id, p };
	if (reason && strlen(reason) > DB_TEXT_MAX)
		return eac_fail(EAC_ERR_USAGE, "%s: %s: reason over %d octets", db->name, what, DB_TEXT_MAX);
	return dbi_tx(db, what, 0, change_fn, &c);
}

static eac_err read_ready(db_conn *db)
{
	return db->in_tx ? EAC_OK : dbi_ready(db);
}

/* ---------------------------------------------------------------------------
 * authorities */

eac_err db_authority_add(db_conn *db, const db_authority_in *in, int64_t *id)
{
	dbi_params p = { 0 };
	const char *kind = in ? NAME_OF(auth_kinds, in->kind) : NULL;

	if (kind == NULL || in->country == NULL || in->mnemonic == NULL || in->name == NULL || id == NULL)
		return eac_fail(EAC_ERR_USAGE, "%s: register authority: kind, country, mnemonic and name are required",
				db->name);
	dbi_p_text(&p, kind);
	dbi_p_text(&p, in->country);
	dbi_p_latin1(&p, in->mnemonic);
	dbi_p_text(&p, in->name);
	dbi_p_text(&p, in->organisations_json ? in->organisations_json : "[]");
	dbi_p_bool(&p, in->domestic);
	dbi_p_text(&p, in->conformity_expiry);
	dbi_p_int(&p, eac_now());
	return insert_id(db, "register authority",
			 "INSERT INTO eac.authorities (kind, country, mnemonic, name, organisations, domestic,"
			 " conformity_expiry, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7::date, to_timestamp($8))"
			 " RETURNING id",
			 &p, id);
}

#define AUTH_COLUMNS                                                                                   \
	"SELECT id, kind, country, mnemonic, name, organisations, domestic, conformity_expiry, status," \
	" floor(extract(epoch FROM created_at))::bigint FROM eac.authorities "

static void auth_row(const PGresult *res, int row, db_authority *out)
{
	db_authority a = { 0 };
	char s[16];
	a.id = dbi_int(res, row, 0);
	dbi_text(res, row, 1, s, sizeof(s));
	a.kind = (db_auth_kind)INDEX_OF(auth_kinds, s);
	dbi_text(res, row, 2, a.country, sizeof(a.country));
	dbi_latin1(res, row, 3, a.mnemonic, sizeof(a.mnemonic));
	dbi_text(res, row, 4, a.name, sizeof(a.name));
	dbi_text(res, row, 5, a.organisations, sizeof(a.organisations));
	a.domestic = dbi_bool(res, row, 6);
	dbi_text(res, row, 7, a.conformity_expiry, sizeof(a.conformity_expiry));
	dbi_text(res, row, 8, s, sizeof(s));
	a.status = (db_auth_status)INDEX_OF(auth_status, s);
	a.created_at = dbi_int(res, row, 9);
	*out = a;
}

static eac_err auth_read(db_conn *db, const char *what, int64_t id, const char *sql, const dbi_params *p,
			 db_authority *out)
{
	PGresult *res = NULL;
	eac_err r;

	if ((r = read_ready(db)) != EAC_OK)
		return r;
	if ((r = dbi_exec_row(db, what, "authority", id, sql, p, &res)) != EAC_OK)
		return r;
	auth_row(res, 0, out);
	PQclear(res);
	return EAC_OK;
}

eac_err db_authorities_list(db_conn *db, db_auth_kind kind, db_authority **list, size_t *n)
{
	PGresult *res = NULL;
	dbi_params p = { 0 };
	db_authority *l = NULL;
	size_t rows;
	eac_err r;

	if ((r = read_ready(db)) != EAC_OK)
		return r;
	if (kind != 0)
		dbi_p_text(&p, auth_kinds[kind]);
	else
		dbi_p_null(&p);
	if ((r = dbi_exec(db, "list authorities",
			  AUTH_COLUMNS "WHERE ($1::text IS NULL OR kind = $1::text) ORDER BY id", &p,
			  &res)) != EAC_OK)
		return r;
	rows = (size_t)PQntuples(res);
	if ((l = calloc(rows ? rows : 1, sizeof(*l))) == NULL) {
		PQclear(res);
		return eac_fail(EAC_ERR_NOMEM, "%s: list authorities: out of memory", db->name);
	}
	for (size_t i = 0; i < rows; i++)
		auth_row(res, (int)i, &l[i]);
	PQclear(res);
	*list = l;
	*n = rows;
	return EAC_OK;
}

eac_err db_authority_get(db_conn *db, int64_t id, db_authority *out)
{
	dbi_params p = { 0 };
	dbi_p_int(&p, id);
	return auth_read(db, "read authority", id, AUTH_COLUMNS "WHERE id = $1", &p, out);
}

eac_err db_authority_find(db_conn *db, const char *country, const char *mnemonic, db_authority *out)
{
	dbi_params p = { 0 };
	eac_err r;
	dbi_p_text(&p, country);
	dbi_p_latin1(&p, mnemonic);
	r = auth_read(db, "find authority", 0, AUTH_COLUMNS "WHERE country = $1 AND mnemonic = $2", &p, out);
	if (r == EAC_ERR_NOT_FOUND)
		return eac_fail(r, "%s: no authority %s%s is registered", db->name, country ? country : "",
				mnemonic ? mnemonic : "");
	return r;
}

eac_err db_authority_own(db_conn *db, db_authority *out)
{
	eac_err r = auth_read(db, "read our own authority", 0,
			      AUTH_COLUMNS "WHERE kind IN ('own_cvca', 'own_dv')", NULL, out);
	if (r == EAC_ERR_NOT_FOUND)
		return eac_fail(r, "%s: our own %s is not registered yet", db->name,
				strcmp(db->flavour, "cvca") == 0 ? "CVCA" : "DV");
	return r;
}

eac_err db_authority_set_status(db_conn *db, int64_t id, db_auth_status status, const char *reason)
{
	dbi_params p = { 0 };
	const char *s = NAME_OF(auth_status, status);
	if (s == NULL)
		return eac_fail(EAC_ERR_USAGE, "%s: authority %" PRId64 ": no such status", db->name, id);
	dbi_p_int(&p, id);
	dbi_p_text(&p, s);
	dbi_p_int(&p, eac_now());
	return change(db, "change authority status", "authority", id,
		      "UPDATE eac.authorities SET status = $2, status_changed_at = to_timestamp($3) WHERE id = $1",
		      &p, reason);
}

eac_err db_authority_update(db_conn *db, int64_t id, const char *conformity_expiry,
			    const char *organisations_json, const char *reason)
{
	dbi_params p = { 0 };
	dbi_p_int(&p, id);
	dbi_p_text(&p, conformity_expiry);
	dbi_p_text(&p, organisations_json);
	return change(db, "update authority", "authority", id,
		      "UPDATE eac.authorities SET conformity_expiry = coalesce($2::date, conformity_expiry),"
		      " organisations = coalesce($3, organisations) WHERE id = $1",
		      &p, reason);
}

eac_err db_authority_count_dvs(db_conn *db, const char *country, int *n)
{
	PGresult *res = NULL;
	dbi_params p = { 0 };
	eac_err r;

	if ((r = read_ready(db)) != EAC_OK)
		return r;
	dbi_p_text(&p, country);
	if ((r = dbi_exec(db, "count DVs",
			  "SELECT count(*) FROM eac.authorities WHERE kind = 'dv' AND country = $1 AND status <> 'retired'",
			  &p, &res)) != EAC_OK)
		return r;
	*n = (int)dbi_int(res, 0, 0);
	PQclear(res);
	return EAC_OK;
}

/* ---------------------------------------------------------------------------
 * keys */

eac_err db_key_add(db_conn *db, const db_key_in *in, int64_t *id)
{
	dbi_params p = { 0 };
	const char *state = in ? NAME_OF(key_states, in->state) : NULL;
	int dv = strcmp(db->flavour, "dv") == 0;

	if (state == NULL || in->pubkey_hash == NULL || in->algorithm == NULL || id == NULL)
		return eac_fail(EAC_ERR_USAGE, "%s: register key: state, public-key hash and algorithm are required",
				db->name);
	if (in->inspection_system && !dv)
		return eac_fail(EAC_ERR_USAGE, "%s: register key: inspection systems exist only on the DV", db->name);
	dbi_p_id(&p, in->authority);
	dbi_p_text(&p, in->pkcs11_uri);
	dbi_p_text(&p, in->label);
	dbi_p_bytes(&p, in->pubkey_hash, DB_HASH_LEN);
	dbi_p_text(&p, in->algorithm);
	dbi_p_text(&p, in->curve);
	dbi_p_text(&p, state);
	dbi_p_int(&p, eac_now());
	if (dv) {
		dbi_p_id(&p, in->inspection_system);
		return insert_id(db, "register key",
				 "INSERT INTO eac.keys (authority_id, pkcs11_uri, label, pubkey_hash, algorithm, curve,"
				 " state, created_at, inspection_system_id)"
				 " VALUES ($1, $2, $3, $4, $5, $6, $7, to_timestamp($8), $9) RETURNING id",
				 &p, id);
	}
	return insert_id(db, "register key",
			 "INSERT INTO eac.keys (authority_id, pkcs11_uri, label, pubkey_hash, algorithm, curve,"
			 " state, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, to_timestamp($8)) RETURNING id",
			 &p, id);
}

#define KEY_COLUMNS                                                                                  \
	"SELECT id, authority_id, (to_jsonb(k) ->> 'inspection_system_id')::bigint, pkcs11_uri, label," \
	" pubkey_hash, algorithm, curve, state, floor(extract(epoch FROM created_at))::bigint FROM eac.keys k "

static eac_err key_row(const PGresult *res, int row, db_key *out)
{
	db_key k = { 0 };
	char s[16];
	eac_err r;
	k.id = dbi_int(res, row, 0);
	k.authority = dbi_int(res, row, 1);
	k.inspection_system = dbi_int(res, row, 2);
	dbi_text(res, row, 3, k.pkcs11_uri, sizeof(k.pkcs11_uri));
	dbi_text(res, row, 4, k.label, sizeof(k.label));
	r = dbi_hash(res, row, 5, k.pubkey_hash, DB_HASH_LEN, "public-key hash");
	dbi_text(res, row, 6, k.algorithm, sizeof(k.algorithm));
	dbi_text(res, row, 7, k.curve, sizeof(k.curve));
	dbi_text(res, row, 8, s, sizeof(s));
	k.state = (db_key_state)INDEX_OF(key_states, s);
	k.created_at = dbi_int(res, row, 9);
	if (r == EAC_OK)
		*out = k;
	return r;
}

static eac_err key_read(db_conn *db, const char *what, int64_t id, const char *sql, const dbi_params *p,
			db_key *out)
{
	PGresult *res = NULL;
	eac_err r;

	if ((r = read_ready(db)) != EAC_OK)
		return r;
	if ((r = dbi_exec_row(db, what, "key", id, sql, p, &res)) != EAC_OK)
		return r;
	r = key_row(res, 0, out);
	PQclear(res);
	return r;
}

eac_err db_keys_list(db_conn *db, int64_t authority, db_key **list, size_t *n)
{
	PGresult *res = NULL;
	dbi_params p = { 0 };
	db_key *l = NULL;
	size_t rows;
	eac_err r;

	if ((r = read_ready(db)) != EAC_OK)
		return r;
	dbi_p_id(&p, authority);
	if ((r = dbi_exec(db, "list keys",
			  KEY_COLUMNS "WHERE $1::bigint IS NULL OR authority_id = $1::bigint ORDER BY id",
			  &p, &res)) != EAC_OK)
		return r;
	rows = (size_t)PQntuples(res);
	if ((l = calloc(rows ? rows : 1, sizeof(*l))) == NULL) {
		PQclear(res);
		return eac_fail(EAC_ERR_NOMEM, "%s: list keys: out of memory", db->name);
	}
	for (size_t i = 0; i < rows; i++)
		if ((r = key_row(res, (int)i, &l[i])) != EAC_OK) {
			free(l);
			PQclear(res);
			return r;
		}
	PQclear(res);
	*list = l;
	*n = rows;
	return EAC_OK;
}

eac_err db_key_get(db_conn *db, int64_t id, db_key *out)
{
	dbi_params p = { 0 };
	dbi_p_int(&p, id);
	return key_read(db, "read key", id, KEY_COLUMNS "WHERE id = $1", &p, out);
}

eac_err db_key_find(db_conn *db, const uint8_t pubkey_hash[DB_HASH_LEN], db_key *out)
{
	dbi_params p = { 0 };
	eac_err r;
	dbi_p_bytes(&p, pubkey_hash, DB_HASH_LEN);
	r = key_read(db, "find key", 0, KEY_COLUMNS "WHERE pubkey_hash = $1", &p, out);
	if (r == EAC_ERR_NOT_FOUND)
		return eac_fail(r, "%s: no key with that public-key hash is registered", db->name);
	return r;
}

eac_err db_key_active(db_conn *db, int64_t authority, db_key *out)
{
	dbi_params p = { 0 };
	eac_err r;
	dbi_p_int(&p, authority);
	r = key_read(db, "read the active key", authority,
		     KEY_COLUMNS "WHERE authority_id = $1 AND state = 'active' AND pkcs11_uri IS NOT NULL", &p, out);
	if (r == EAC_ERR_NOT_FOUND)
		return eac_fail(r, "%s: authority %" PRId64 " has no active signing key", db->name, authority);
	return r;
}

typedef struct activate_ctx {
	int64_t id;
	const char *reason;
} activate_ctx;

static eac_err activate_fn(db_conn *db, void *arg)
{
	activate_ctx *c = arg;
	dbi_params p = { 0 };
	eac_err r;

	if ((r = dbi_set_reason(db, "activate key", c->reason)) != EAC_OK)
		return r;
	dbi_p_int(&p, c->id);
	dbi_p_int(&p, eac_now());
	/* the previous active key of the authority retires first: the unique
	 * index keys_one_active_uq holds after every statement */
	if ((r = dbi_exec(db, "activate key",
			  "UPDATE eac.keys SET state = 'retired', state_changed_at = to_timestamp($2)"
			  " WHERE state = 'active' AND pkcs11_uri IS NOT NULL AND id <> $1"
			  " AND authority_id = (SELECT authority_id FROM eac.keys WHERE id = $1)",
			  &p, NULL)) != EAC_OK)
		return r;
	return update_one(db, "activate key", "key", c->id,
			  "UPDATE eac.keys SET state = 'active', state_changed_at = to_timestamp($2) WHERE id = $1",
			  &p);
}

eac_err db_key_activate(db_conn *db, int64_t id, const char *reason)
{
	activate_ctx c = { id, reason };
	return dbi_tx(db, "activate key", 0, activate_fn, &c);
}

eac_err db_key_set_state(db_conn *db, int64_t id, db_key_state state, const char *reason)
{
	dbi_params p = { 0 };
	const char *s = NAME_OF(key_states, state);
	if (s == NULL)
		return eac_fail(EAC_ERR_USAGE, "%s: key %" PRId64 ": no such state", db->name, id);
	dbi_p_int(&p, id);
	dbi_p_text(&p, s);
	dbi_p_int(&p, eac_now());
	return change(db, "change key state", "key", id,
		      "UPDATE eac.keys SET state = $2, state_changed_at = to_timestamp($3) WHERE id = $1", &p,
		      reason);
}

eac_err db_key_set_label(db_conn *db, int64_t id, const char *label)
{
	dbi_params p = { 0 };
	dbi_p_int(&p, id);
	dbi_p_text(&p, label);
	return change(db, "label key", "key", id, "UPDATE eac.keys SET label = $2 WHERE id = $1", &p, NULL);
}

static eac_err exists(db_conn *db, const char *what, const char *sql, const dbi_params *p, int *yes)
{
	PGresult *res = NULL;
	eac_err r;
	if ((r = read_ready(db)) != EAC_OK)
		return r;
	if ((r = dbi_exec(db, what, sql, p, &res)) != EAC_OK)
		return r;
	*yes = dbi_bool(res, 0, 0);
	PQclear(res);
	return EAC_OK;
}

eac_err db_key_certified(db_conn *db, int64_t issuer, const uint8_t pubkey_hash[DB_HASH_LEN], int *yes)
{
	dbi_params p = { 0 };
	dbi_p_int(&p, issuer);
	dbi_p_bytes(&p, pubkey_hash, DB_HASH_LEN);
	return exists(db, "look up the key's certificates",
		      /* the predicates of the partial unique indexes, so that the
		       * lookup is one index probe whatever the statistics say */
		      "SELECT EXISTS (SELECT 1 FROM eac.certificates WHERE issuer_id = $1 AND holder_key_hash = $2"
		      " AND kind IN ('dv', 'is'))"
		      " OR EXISTS (SELECT 1 FROM eac.issuances WHERE issuer_id = $1 AND holder_key_hash = $2"
		      " AND abandoned_at IS NULL AND kind IN ('dv', 'is'))",
		      &p, yes);
}

eac_err db_key_compromised(db_conn *db, const uint8_t pubkey_hash[DB_HASH_LEN], int *yes)
{
	dbi_params p = { 0 };
	dbi_p_bytes(&p, pubkey_hash, DB_HASH_LEN);
	return exists(db, "look up the key's state",
		      "SELECT EXISTS (SELECT 1 FROM eac.keys WHERE pubkey_hash = $1 AND state = 'compromised')", &p,
		      yes);
}

/* ---------------------------------------------------------------------------
 * inspection systems (DV) */

static eac_err dv_only(db_conn *db, const char *what)
{
	if (strcmp(db->flavour, "dv") != 0)
		return eac_fail(EAC_ERR_USAGE, "%s: %s: only a DV database has inspection systems", db->name, what);
	return EAC_OK;
}

eac_err db_is_add(db_conn *db, const char *name, const char *mnemonic, const char *organisation, int64_t *id)
{
	dbi_params p = { 0 };
	eac_err r;
	if ((r = dv_only(db, "register inspection system")) != EAC_OK)
		return r;
	if (name == NULL || mnemonic == NULL || organisation == NULL || id == NULL)
		return eac_fail(EAC_ERR_USAGE, "%s: register inspection system: name, mnemonic and organisation are required",
				db->name);
	dbi_p_text(&p, name);
	dbi_p_latin1(&p, mnemonic);
	dbi_p_text(&p, organisation);
	dbi_p_int(&p, eac_now());
	return insert_id(db, "register inspection system",
			 "INSERT INTO eac.inspection_systems (name, mnemonic, organisation, created_at)"
			 " VALUES ($1, $2, $3, to_timestamp($4)) RETURNING id",
			 &p, id);
}

static void is_row(const PGresult *res, int row, db_inspection_system *out)
{
	db_inspection_system s = { 0 };
	char st[16];
	s.id = dbi_int(res, row, 0);
	dbi_text(res, row, 1, s.name, sizeof(s.name));
	dbi_latin1(res, row, 2, s.mnemonic, sizeof(s.mnemonic));
	dbi_text(res, row, 3, s.organisation, sizeof(s.organisation));
	dbi_text(res, row, 4, st, sizeof(st));
	s.status = (db_is_status)INDEX_OF(is_status, st);
	s.created_at = dbi_int(res, row, 5);
	*out = s;
}

static eac_err is_read(db_conn *db, const char *what, int64_t id, const char *sql, const dbi_params *p,
		       db_inspection_system *out)
{
	PGresult *res = NULL;
	eac_err r;

	if ((r = dv_only(db, what)) != EAC_OK || (r = read_ready(db)) != EAC_OK)
		return r;
	if ((r = dbi_exec_row(db, what, "inspection system", id, sql, p, &res)) != EAC_OK)
		return r;
	is_row(res, 0, out);
	PQclear(res);
	return EAC_OK;
}

#define IS_COLUMNS                                                                   \
	"SELECT id, name, mnemonic, organisation, status, floor(extract(epoch FROM created_at))::bigint" \
	" FROM eac.inspection_systems "

eac_err db_is_list(db_conn *db, db_inspection_system **list, size_t *n)
{
	PGresult *res = NULL;
	db_inspection_system *l = NULL;
	size_t rows;
	eac_err r;

	if ((r = dv_only(db, "list inspection systems")) != EAC_OK || (r = read_ready(db)) != EAC_OK)
		return r;
	if ((r = dbi_exec(db, "list inspection systems", IS_COLUMNS "ORDER BY name", NULL, &res)) !=
	    EAC_OK)
		return r;
	rows = (size_t)PQntuples(res);
	if ((l = calloc(rows ? rows : 1, sizeof(*l))) == NULL) {
		PQclear(res);
		return eac_fail(EAC_ERR_NOMEM, "%s: list inspection systems: out of memory", db->name);
	}
	for (size_t i = 0; i < rows; i++)
		is_row(res, (int)i, &l[i]);
	PQclear(res);
	*list = l;
	*n = rows;
	return EAC_OK;
}

eac_err db_is_get(db_conn *db, int64_t id, db_inspection_system *out)
{
	dbi_params p = { 0 };
	dbi_p_int(&p, id);
	return is_read(db, "read inspection system", id, IS_COLUMNS "WHERE id = $1", &p, out);
}

eac_err db_is_find(db_conn *db, const char *mnemonic, db_inspection_system *out)
{
	dbi_params p = { 0 };
	eac_err r;
	dbi_p_latin1(&p, mnemonic);
	r = is_read(db, "find inspection system", 0, IS_COLUMNS "WHERE mnemonic = $1", &p, out);
	if (r == EAC_ERR_NOT_FOUND)
		return eac_fail(r, "%s: no inspection system '%s' is registered", db->name,
				mnemonic ? mnemonic : "");
	return r;
}

eac_err db_is_find_many(db_conn *db, const char *const *mnemonics, size_t n, db_inspection_system *out,
			int *found)
{
	PGresult *res = NULL;
	dbi_params p = { 0 };
	dbi_arr a = { 0 };
	eac_err r;

	for (size_t i = 0; i < n; i++)
		found[i] = 0;
	if (n == 0)
		return EAC_OK;
	if ((r = dv_only(db, "find inspection systems")) != EAC_OK || (r = read_ready(db)) != EAC_OK)
		return r;
	for (size_t i = 0; i < n; i++)
		dbi_arr_latin1(&a, mnemonics[i]);
	const char *v = dbi_arr_done(&a);
	if (v == NULL) {
		dbi_arr_free(&a);
		return eac_fail(EAC_ERR_NOMEM, "%s: find inspection systems: out of memory", db->name);
	}
	dbi_p_text(&p, v);
	r = dbi_exec(db, "find inspection systems", IS_COLUMNS "WHERE mnemonic = ANY($1::text[])", &p,
		     &res);
	dbi_arr_free(&a);
	if (r != EAC_OK)
		return r;
	/* at most one row per mnemonic (unique), n is a chunk: a scan is fine */
	for (int row = 0; row < PQntuples(res); row++) {
		db_inspection_system s;
		is_row(res, row, &s);
		for (size_t i = 0; i < n; i++)
			if (mnemonics[i] != NULL && strcmp(mnemonics[i], s.mnemonic) == 0) {
				out[i] = s;
				found[i] = 1;
			}
	}
	PQclear(res);
	return EAC_OK;
}

eac_err db_is_set_status(db_conn *db, int64_t id, db_is_status status, const char *reason)
{
	dbi_params p = { 0 };
	const char *s = NAME_OF(is_status, status);
	eac_err r;
	if ((r = dv_only(db, "change inspection system status")) != EAC_OK)
		return r;
	if (s == NULL)
		return eac_fail(EAC_ERR_USAGE, "%s: inspection system %" PRId64 ": no such status", db->name, id);
	dbi_p_int(&p, id);
	dbi_p_text(&p, s);
	dbi_p_int(&p, eac_now());
	return change(db, "change inspection system status", "inspection system", id,
		      "UPDATE eac.inspection_systems SET status = $2, status_changed_at = to_timestamp($3) WHERE id = $1",
		      &p, reason);
}

/* ---------------------------------------------------------------------------
 * ceremonies */

typedef struct ceremony_ctx {
	const db_ceremony_in *in;
	int64_t id;
	db_anchor anchor;
} ceremony_ctx;

static eac_err ceremony_fn(db_conn *db, void *arg)
{
	ceremony_ctx *c = arg;
	PGresult *res = NULL;
	dbi_params p = { 0 };
	eac_err r;

	dbi_p_text(&p, c->in->kind);
	dbi_p_text(&p, c->in->officers_json);
	dbi_p_bytes(&p, c->in->config_hash, DB_HASH_LEN);
	dbi_p_text(&p, c->in->transcript_json);
	dbi_p_int(&p, eac_now());
	dbi_p_int(&p, c->in->audit_first);
	r = dbi_exec(db, "record ceremony",
		     "INSERT INTO eac.ceremonies (kind, officers, config_hash, transcript, created_at, audit_first)"
		     " VALUES ($1, $2, $3, $4, to_timestamp($5), $6) RETURNING id, audit_seq, audit_hash",
		     &p, &res);
	if (r != EAC_OK)
		return r;
	c->id = dbi_int(res, 0, 0);
	c->anchor.seq = dbi_int(res, 0, 1);
	r = dbi_hash(res, 0, 2, c->anchor.hash, DB_HASH_LEN, "ceremony anchor");
	PQclear(res);
	return r;
}

eac_err db_ceremony_record(db_conn *db, const db_ceremony_in *in, int64_t *id, db_anchor *anchor)
{
	ceremony_ctx c = { .in = in };
	eac_err r;
	if (in == NULL || id == NULL || in->kind == NULL || in->officers_json == NULL ||
	    in->config_hash == NULL || in->transcript_json == NULL)
		return eac_fail(EAC_ERR_USAGE, "%s: record ceremony: kind, officers, configuration hash and transcript are required",
				db->name);
	if ((r = dbi_tx(db, "record ceremony", 0, ceremony_fn, &c)) != EAC_OK)
		return r;
	*id = c.id;
	if (anchor)
		*anchor = c.anchor;
	return EAC_OK;
}

/* ---------------------------------------------------------------------------
 * sequence numbers */

typedef struct seq_ctx {
	const char *scope;
	int value;
} seq_ctx;

static eac_err seq_fn(db_conn *db, void *arg)
{
	seq_ctx *c = arg;
	PGresult *res = NULL;
	dbi_params p = { 0 };
	eac_err r;

	dbi_p_latin1(&p, c->scope);
	/* the conflicting row is locked until commit: concurrent allocations
	 * of one scope queue up and each sees the committed value */
	r = dbi_exec(db, "allocate a sequence number",
		     "INSERT INTO eac.seq_counters AS s (scope, last_value) VALUES ($1, 1)"
		     " ON CONFLICT (scope) DO UPDATE SET last_value = s.last_value + 1 RETURNING last_value",
		     &p, &res);
	if (r != EAC_OK)
		return r;
	c->value = (int)dbi_int(res, 0, 0);
	PQclear(res);
	return EAC_OK;
}

eac_err db_seq_next(db_conn *db, const char *scope, int *seq)
{
	seq_ctx c = { scope, 0 };
	eac_err r;
	size_t n = scope ? strlen(scope) : 0;
	if (n < 2 || n > 11 || seq == NULL)
		return eac_fail(EAC_ERR_USAGE, "%s: allocate a sequence number: scope is country + mnemonic (2..11 octets)",
				db->name);
	if ((r = dbi_tx(db, "allocate a sequence number", 1, seq_fn, &c)) != EAC_OK)
		return eac_fail_prefix(r, "sequence %s: ", scope);
	*seq = c.value;
	return EAC_OK;
}
