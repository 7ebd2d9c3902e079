/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db-cli COMMAND ENGINE CONFIG [ARGS]: the db/ API from the shell, for the
 * integration tests (tests/integration/db-*.sh). ENGINE is cvca or dv,
 * CONFIG its configuration file (eac_config_load).
 *   open                        migrate as the owner (if configured), check; "schema N"
 *   check                       check only, as the service role
 *   status                      db_status_get
 *   head                        the audit chain head: "SEQ:HEX"
 *   audit ACTION OBJECT JSON    append an event
 *   verify [SEQ:HEX]            db_audit_verify, optionally against an expected tail
 * Errors: one line "db-cli: detail" and the exit status of eac_exit_code().
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "db/db.h"

#define PROG "db-cli"

static int usage(void)
{
	fprintf(stderr, "usage: " PROG " open|check|status|head|audit|verify cvca|dv CONFIG [ARGS]\n");
	return EAC_EXIT_INPUT;
}

static eac_err parse_anchor(const char *s, db_anchor *a)
{
	const char *colon = strchr(s, ':');
	if (colon == NULL)
		return eac_fail(EAC_ERR_USAGE, "expected tail: SEQ:HEX");
	a->seq = strtoll(s, NULL, 10);
	return eac_unhex(colon + 1, a->hash, DB_HASH_LEN);
}

int main(int argc, char **argv)
{
	eac_config cfg = { 0 };
	db_conn *db = NULL;
	eac_err r;
	char hex[2 * DB_HASH_LEN + 1];

	if (argc < 4)
		return usage();
	const char *cmd = argv[1], *engine = argv[2];
	if ((r = eac_config_load(argv[3], engine, &cfg)) != EAC_OK)
		return eac_report(PROG, r);
	if (strcmp(cmd, "open") == 0)
		r = db_open(cfg.db_conninfo, cfg.db_owner_conninfo, engine, &db);
	else
		r = db_open(cfg.db_conninfo, NULL, engine, &db);
	if (r != EAC_OK)
		goto out;

	if (strcmp(cmd, "open") == 0 || strcmp(cmd, "check") == 0) {
		printf("schema %d\n", db_schema_version());
	} else if (strcmp(cmd, "status") == 0) {
		db_status st;
		if ((r = db_status_get(db, &st)) != EAC_OK)
			goto out;
		printf("pending %" PRId64 " overdue %" PRId64 " awaiting %" PRId64 " late %" PRId64 " open %" PRId64
		       " own %s\n", st.requests_pending, st.requests_overdue, st.awaiting_distribution,
		       st.distribution_overdue, st.open_intents, st.has_own_cert ? st.own_chr : "-");
	} else if (strcmp(cmd, "head") == 0) {
		db_anchor a;
		if ((r = db_audit_head(db, &a)) != EAC_OK)
			goto out;
		eac_hex(a.hash, DB_HASH_LEN, hex);
		printf("%" PRId64 ":%s\n", a.seq, hex);
	} else if (strcmp(cmd, "audit") == 0 && argc == 7) {
		db_anchor a;
		if ((r = db_audit(db, NULL, argv[4], argv[5], argv[6], &a)) != EAC_OK)
			goto out;
		printf("%" PRId64 "\n", a.seq);
	} else if (strcmp(cmd, "verify") == 0 && argc <= 5) {
		db_anchor expected;
		db_audit_report rep;
		if (argc == 5 && (r = parse_anchor(argv[4], &expected)) != EAC_OK)
			goto out;
		r = db_audit_verify(db, argc == 5 ? &expected : NULL, &rep);
		if (r == EAC_OK)
			printf("intact: %" PRId64 " events, %d anchors\n", rep.rows, rep.anchors);
	} else {
		db_close(db);
		eac_config_free(&cfg);
		return usage();
	}
out:
	db_close(db);
	eac_config_free(&cfg);
	return r == EAC_OK ? 0 : eac_report(PROG, r);
}
