/* SPDX-License-Identifier: Apache-2.0 */
/* Schema migrations: embedded SQL, applied as the owner in one transaction
 * under an advisory lock, checked at every start. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_internal.h"

/* pg_advisory_xact_lock key of schema migrations ("EACDB" in ASCII) */
#define MIGRATION_LOCK "297950102594"

int db_schema_version(void)
{
	int v = 0;
	for (size_t i = 0; i < dbi_migrations_count; i++)
		if (dbi_migrations[i].version > v)
			v = dbi_migrations[i].version;
	return v;
}

/* ---------------------------------------------------------------------------
 * splitting a script into statements (PQexecParams takes one at a time) */

static int skip_block_comment(const char *s, size_t len, size_t *i)
{
	int depth = 0;
	while (*i + 1 < len) {
		if (s[*i] == '/' && s[*i + 1] == '*') {
			depth++;
			*i += 2;
		} else if (s[*i] == '*' && s[*i + 1] == '/') {
			*i += 2;
			if (--depth == 0)
				return 0;
		} else {
			(*i)++;
		}
	}
	return -1;
}

static int ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* A dollar-quote tag at s[i] ("$$", "$body$"): its length, or 0. */
static size_t dollar_tag(const char *s, size_t len, size_t i)
{
	size_t j = i + 1;
	if (j < len && s[j] >= '0' && s[j] <= '9')
		return 0; /* $1: a parameter */
	while (j < len && ident_char(s[j]))
		j++;
	if (j < len && s[j] == '$')
		return j - i + 1;
	return 0;
}

static int count_lines(const char *s, size_t upto)
{
	int line = 1;
	for (size_t i = 0; i < upto; i++)
		if (s[i] == '\n')
			line++;
	return line;
}

int dbi_sql_next(const char *sql, size_t len, size_t *pos, size_t *start, size_t *end, int *line)
{
	size_t i = *pos;

	for (;;) {
		while (i < len && (sql[i] == ' ' || sql[i] == '\t' || sql[i] == '\n' || sql[i] == '\r'))
			i++;
		if (i + 1 < len && sql[i] == '-' && sql[i + 1] == '-') {
			while (i < len && sql[i] != '\n')
				i++;
		} else if (i + 1 < len && sql[i] == '/' && sql[i + 1] == '*') {
			size_t b = i;
			if (skip_block_comment(sql, len, &i) != 0) {
				*line = count_lines(sql, b);
				return -1;
			}
		} else {
			break;
		}
	}
	if (i >= len) {
		*pos = len;
		return 0;
	}
	*start = i;
	while (i < len) {
		char c = sql[i];
		if (c == '\'' || c == '"') {
			/* E'..' strings take backslash escapes */
			int esc = c == '\'' && i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
				  (i < 2 || !ident_char(sql[i - 2]));
			size_t b = i++;
			while (i < len && sql[i] != c) {
				if (esc && sql[i] == '\\')
					i++;
				i++;
			}
			if (i >= len) {
				*line = count_lines(sql, b);
				return -1;
			}
			i++;
		} else if (c == '-' && i + 1 < len && sql[i + 1] == '-') {
			while (i < len && sql[i] != '\n')
				i++;
		} else if (c == '/' && i + 1 < len && sql[i + 1] == '*') {
			size_t b = i;
			if (skip_block_comment(sql, len, &i) != 0) {
				*line = count_lines(sql, b);
				return -1;
			}
		} else if (c == '$' && (i == 0 || !ident_char(sql[i - 1])) && dollar_tag(sql, len, i)) {
			size_t t = dollar_tag(sql, len, i), b = i;
			i += t;
			while (i + t <= len && memcmp(sql + i, sql + b, t) != 0)
				i++;
			if (i + t > len) {
				*line = count_lines(sql, b);
				return -1;
			}
			i += t;
		} else if (c == ';') {
			break;
		} else {
			i++;
		}
	}
	*end = i;
	while (*end > *start && (sql[*end - 1] == ' ' || sql[*end - 1] == '\n' ||
				 sql[*end - 1] == '\t' || sql[*end - 1] == '\r'))
		(*end)--;
	*pos = i < len ? i + 1 : len;
	*line = count_lines(sql, *start);
	return 1;
}

/* ---------------------------------------------------------------------------
 * applying */

typedef struct migrate_ctx {
	const char *flavour;
	int from, to;
} migrate_ctx;

static int part_applies(const dbi_migration *m, const char *flavour)
{
	return strcmp(m->part, "common") == 0 || strcmp(m->part, flavour) == 0;
}

static eac_err run_script(db_conn *db, const dbi_migration *m)
{
	const char *sql = (const char *)m->sql;
	size_t pos = 0, start = 0, end = 0;
	int line = 0, k;
	char what[96];

	while ((k = dbi_sql_next(sql, m->len, &pos, &start, &end, &line)) == 1) {
		eac_err r;
		char *stmt = malloc(end - start + 1);
		if (stmt == NULL)
			return eac_fail(EAC_ERR_NOMEM, "%s: migration %s: out of memory", db->name, m->name);
		memcpy(stmt, sql + start, end - start);
		stmt[end - start] = '\0';
		snprintf(what, sizeof(what), "migration %s line %d", m->name, line);
		r = dbi_exec(db, what, stmt, NULL, NULL);
		free(stmt);
		if (r != EAC_OK)
			return r;
	}
	if (k < 0)
		return eac_fail(EAC_ERR_INTERNAL, "migration %s: unterminated quote or comment at line %d",
				m->name, line);
	return EAC_OK;
}

static eac_err record_part(db_conn *db, const dbi_migration *m)
{
	uint8_t h[DB_HASH_LEN];
	dbi_params p = { 0 };
	eac_err r;

	if ((r = eac_sha256(m->sql, m->len, h)) != EAC_OK)
		return r;
	dbi_p_int(&p, m->version);
	dbi_p_text(&p, m->part);
	dbi_p_text(&p, m->name);
	dbi_p_bytes(&p, h, sizeof(h));
	return dbi_exec(db, "record migration",
			"INSERT INTO eac.schema_migrations (version, part, name, sha256) VALUES ($1, $2, $3, $4)",
			&p, NULL);
}

/* Flavour and version of an existing schema; *version 0 when there is none. */
static eac_err read_meta(db_conn *db, char *flavour, size_t flen, int *version)
{
	PGresult *res = NULL;
	eac_err r;

	*version = 0;
	flavour[0] = '\0';
	if ((r = dbi_exec(db, "read the schema version", "SELECT to_regclass('eac.meta') IS NOT NULL", NULL,
			  &res)) != EAC_OK)
		return r;
	int exists = dbi_bool(res, 0, 0);
	PQclear(res);
	if (!exists)
		return EAC_OK;
	if ((r = dbi_exec(db, "read the schema version", "SELECT flavour, version FROM eac.meta", NULL,
			  &res)) != EAC_OK)
		return r;
	if (PQntuples(res) == 1) {
		dbi_text(res, 0, 0, flavour, flen);
		*version = (int)dbi_int(res, 0, 1);
	}
	PQclear(res);
	if (*version == 0)
		return eac_fail(EAC_ERR_DB_SCHEMA, "%s: schema eac exists but records no version", db->name);
	return EAC_OK;
}

/* The texts of the applied migrations are the ones this program carries. */
static eac_err check_texts(db_conn *db, const char *flavour, int version)
{
	PGresult *res = NULL;
	eac_err r;
	size_t found = 0, want = 0;

	if ((r = dbi_exec(db, "check the applied migrations",
			  "SELECT version, part, name, sha256 FROM eac.schema_migrations ORDER BY version, part",
			  NULL, &res)) != EAC_OK)
		return r;
	for (size_t i = 0; i < dbi_migrations_count; i++)
		if (dbi_migrations[i].version <= version && part_applies(&dbi_migrations[i], flavour))
			want++;
	for (int row = 0; row < PQntuples(res); row++) {
		uint8_t stored[DB_HASH_LEN], mine[DB_HASH_LEN];
		char part[16], name[128], hs[2 * DB_HASH_LEN + 1], hm[2 * DB_HASH_LEN + 1];
		int v = (int)dbi_int(res, row, 0);
		const dbi_migration *m = NULL;

		dbi_text(res, row, 1, part, sizeof(part));
		dbi_text(res, row, 2, name, sizeof(name));
		if ((r = dbi_hash(res, row, 3, stored, sizeof(stored), "migration hash")) != EAC_OK)
			goto out;
		for (size_t i = 0; i < dbi_migrations_count; i++)
			if (dbi_migrations[i].version == v && strcmp(dbi_migrations[i].part, part) == 0)
				m = &dbi_migrations[i];
		if (m == NULL || !part_applies(m, flavour)) {
			r = eac_fail(EAC_ERR_DB_SCHEMA, "%s: applied migration %s is unknown to this program",
				     db->name, name);
			goto out;
		}
		if ((r = eac_sha256(m->sql, m->len, mine)) != EAC_OK)
			goto out;
		if (memcmp(stored, mine, sizeof(mine)) != 0) {
			eac_hex(stored, sizeof(stored), hs);
			eac_hex(mine, sizeof(mine), hm);
			r = eac_fail(EAC_ERR_DB_SCHEMA,
				     "%s: migration %s was applied with another text (sha256 %.16s..., this program has %.16s...)",
				     db->name, name, hs, hm);
			goto out;
		}
		found++;
	}
	if (found != want) {
		r = eac_fail(EAC_ERR_DB_SCHEMA, "%s: %zu of the %zu migrations up to version %d are recorded",
			     db->name, found, want, version);
		goto out;
	}
	r = EAC_OK;
out:
	PQclear(res);
	return r;
}

static eac_err migrate_fn(db_conn *db, void *arg)
{
	migrate_ctx *c = arg;
	char have[16];
	int version = 0, latest = db_schema_version();
	eac_err r;
	dbi_params p = { 0 };

	if ((r = dbi_exec(db, "take the migration lock", "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ")",
			  NULL, NULL)) != EAC_OK)
		return r;
	if ((r = read_meta(db, have, sizeof(have), &version)) != EAC_OK)
		return r;
	c->from = c->to = version;
	if (version > 0 && strcmp(have, c->flavour) != 0)
		return eac_fail(EAC_ERR_DB_SCHEMA, "%s: holds the %s engine's schema, not the %s's; refusing",
				db->name, have, c->flavour);
	if (version > latest)
		return eac_fail(EAC_ERR_DB_SCHEMA,
				"%s: schema version %d is newer than this program knows (%d); refusing to run on it",
				db->name, version, latest);
	if (version > 0 && (r = check_texts(db, c->flavour, version)) != EAC_OK)
		return r;
	for (int v = version + 1; v <= latest; v++) {
		/* the common part first, then the engine's own */
		for (int pass = 0; pass < 2; pass++)
			for (size_t i = 0; i < dbi_migrations_count; i++) {
				const dbi_migration *m = &dbi_migrations[i];
				int common = strcmp(m->part, "common") == 0;
				if (m->version != v || !part_applies(m, c->flavour) || common != (pass == 0))
					continue;
				if ((r = run_script(db, m)) != EAC_OK || (r = record_part(db, m)) != EAC_OK)
					return r;
			}
		p.n = 0;
		dbi_p_text(&p, c->flavour);
		dbi_p_int(&p, v);
		r = dbi_exec(db, "record the schema version",
			     v == 1 ? "INSERT INTO eac.meta (flavour, version) VALUES ($1, $2)"
				    : "UPDATE eac.meta SET version = $2 WHERE flavour = $1",
			     &p, NULL);
		if (r != EAC_OK)
			return r;
		c->to = v;
	}
	if (c->to != c->from) {
		char details[128];
		snprintf(details, sizeof(details), "{\"flavour\": \"%s\", \"from\": %d, \"to\": %d}", c->flavour,
			 c->from, c->to);
		p.n = 0;
		dbi_p_text(&p, db->actor);
		dbi_p_text(&p, details);
		r = dbi_exec(db, "audit the migration",
			     "INSERT INTO eac.audit_events (actor, action, object, details)"
			     " VALUES ($1, 'schema.migrate', 'schema:eac', $2)",
			     &p, NULL);
		if (r != EAC_OK)
			return r;
	}
	return EAC_OK;
}

eac_err dbi_migrate(db_conn *db, const char *flavour)
{
	migrate_ctx c = { .flavour = flavour };
	return dbi_tx(db, "migrate the schema", 1, migrate_fn, &c);
}

eac_err dbi_schema_check(db_conn *db, const char *flavour)
{
	char have[16];
	int version = 0, latest = db_schema_version();
	eac_err r;

	if ((r = read_meta(db, have, sizeof(have), &version)) != EAC_OK)
		return r;
	if (version == 0)
		return eac_fail(EAC_ERR_DB_SCHEMA,
				"%s: no schema; start the engine once with the owner connection (owner_conninfo) to create it",
				db->name);
	if (strcmp(have, flavour) != 0)
		return eac_fail(EAC_ERR_DB_SCHEMA, "%s: holds the %s engine's schema, not the %s's; refusing",
				db->name, have, flavour);
	if (version > latest)
		return eac_fail(EAC_ERR_DB_SCHEMA,
				"%s: schema version %d is newer than this program knows (%d); refusing to run on it",
				db->name, version, latest);
	if (version < latest)
		return eac_fail(EAC_ERR_DB_SCHEMA,
				"%s: schema version %d is older than this program's (%d); migrate with the owner connection (owner_conninfo)",
				db->name, version, latest);
	return check_texts(db, flavour, version);
}
