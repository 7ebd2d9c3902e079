/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CVCA's registries: the DVs it serves, domestic and foreign (CP-1.3a,
 * CP-3.2.3, CP-3.3.1), and the foreign CVCAs whose certificates let it
 * verify countersigned first requests (CP-3.2.2, CP-3.2.3).
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca-core/ca.h"

#define MAX_ORGS 32

static json_t *authority_json(const db_authority *a)
{
	static const char *const status[] = { "?", "active", "suspended", "retired" };
	json_t *orgs = json_loads(a->organisations, 0, NULL);
	json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:b, s:s, s:o}", "id", (json_int_t)a->id,
			      "country", a->country, "mnemonic", a->mnemonic, "name", a->name,
			      "domestic", a->domestic, "status",
			      status[a->status <= DB_AUTH_RETIRED ? a->status : 0], "organisations",
			      orgs ? orgs : json_array());
	if (o && a->conformity_expiry[0])
		json_object_set_new(o, "conformity_expiry", json_string(a->conformity_expiry));
	return o;
}

/* "12" (an id) or "FIDV" (country + mnemonic) → the registered DV. */
static eac_err find_dv_arg(eng *e, const char *arg, db_authority *out)
{
	eac_err r;
	int64_t id;
	if (arg[0] >= '0' && arg[0] <= '9') {
		if ((r = eng_parse_id(arg, &id)) != EAC_OK ||
		    (r = db_authority_get(eng_db(e), id, out)) != EAC_OK)
			return r;
	} else {
		char cc[3] = { 0 };
		if (strlen(arg) < 2 || strlen(arg) > 11)
			return eac_fail(EAC_ERR_USAGE, "'%s' names no DV: give its id or COUNTRY+MNEMONIC",
					arg);
		memcpy(cc, arg, 2);
		if ((r = db_authority_find(eng_db(e), cc, arg + 2, out)) != EAC_OK)
			return r;
	}
	if (out->kind != DB_AUTH_DV)
		return eac_fail(EAC_ERR_NOT_FOUND, "'%s' is not a registered DV", arg);
	return EAC_OK;
}

eac_err ca_cmd_dv_register(eng *e, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "country", required_argument, NULL, 'c' },
		{ "mnemonic", required_argument, NULL, 'm' },
		{ "name", required_argument, NULL, 'n' },
		{ "org", required_argument, NULL, 'o' },
		{ "conformity-expires", required_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};
	const char *country = NULL, *mnemonic = NULL, *name = NULL, *conformity = NULL;
	const pol_national *nat = eng_policy(e);
	json_t *orgs = json_array();
	char *orgs_txt = NULL;
	int64_t id = 0;
	int count = 0;
	eac_err r;

	optind = 0; /* 0: glibc re-initialises getopt (argument order, + mode) */
	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		switch (c) {
		case 'c': country = optarg; break;
		case 'm': mnemonic = optarg; break;
		case 'n': name = optarg; break;
		case 'x': conformity = optarg; break;
		case 'o':
			if (json_array_size(orgs) == MAX_ORGS) {
				r = eac_fail(EAC_ERR_USAGE, "--org: at most %d organisations", MAX_ORGS);
				goto out;
			}
			if ((r = eng_text_ok("--org", optarg, 200)) != EAC_OK)
				goto out;
			json_array_append_new(orgs, json_string(optarg));
			break;
		default:
			r = eac_fail(EAC_ERR_USAGE, "dv register: unknown or incomplete option '%s'",
				     argv[optind - 1]);
			goto out;
		}
	}
	if (optind != argc || !country || !mnemonic || !name) {
		r = eac_fail(EAC_ERR_USAGE, "usage: dv register --country CC --mnemonic M --name NAME "
					    "[--org ORG]... [--conformity-expires YYYY-MM-DD]");
		goto out;
	}
	if ((r = eng_text_ok("--name", name, 200)) != EAC_OK)
		goto out;
	if (!pol_country_valid(country)) {
		r = eac_fail(EAC_ERR_POLICY,
			     "refused: '%s' is not an ISO 3166-1 alpha-2 country code (CP-3.1b)",
			     country);
		goto out;
	}
	cvc_ref probe;
	if (*mnemonic == '\0' || (r = eng_make_chr(country, mnemonic, 0, &probe)) != EAC_OK) {
		r = eac_fail(EAC_ERR_USAGE,
			     "--mnemonic must be 1..9 printable ISO 8859-1 characters (CP-3.1b)");
		goto out;
	}
	cvc_date cd;
	if (conformity != NULL && (r = cvc_date_parse(conformity, &cd)) != EAC_OK)
		goto out;
	int domestic = strcmp(country, nat->country) == 0;
	/* CP-1.3a: at most 3 DVs per state; the national policy may lower it
	 * for domestic DVs (CP-1: never for foreign ones). The database
	 * enforces the common limit for everyone (and decides a race); this
	 * check gives the officer the same one-line refusal for both. */
	if ((r = db_authority_count_dvs(eng_db(e), country, &count)) != EAC_OK)
		goto out;
	if (domestic && (unsigned)count >= nat->max_dvs_per_country) {
		r = eac_fail(EAC_ERR_POLICY,
			     "refused: %s already has %d registered DVs, the national limit is %u "
			     "(CP-1.3a)",
			     country, count, nat->max_dvs_per_country);
		goto out;
	}
	if (!domestic && count >= 3) {
		r = eac_fail(EAC_ERR_POLICY,
			     "refused: %s already has %d registered DVs, at most 3 per country "
			     "(CP-1.3a)",
			     country, count);
		goto out;
	}
	if ((orgs_txt = json_dumps(orgs, JSON_COMPACT)) == NULL) {
		r = eac_fail(EAC_ERR_NOMEM, "out of memory");
		goto out;
	}
	db_authority_in in = { .kind = DB_AUTH_DV, .country = country, .mnemonic = mnemonic,
			       .name = name, .organisations_json = orgs_txt, .domestic = domestic,
			       .conformity_expiry = conformity };
	if ((r = db_authority_add(eng_db(e), &in, &id)) != EAC_OK) {
		if (r == EAC_ERR_DB_CONFLICT && db_last_conflict(eng_db(e)) == DB_CONFLICT_NAME)
			r = eac_fail(EAC_ERR_EXISTS, "a DV %s%s is already registered", country,
				     mnemonic);
		goto out;
	}
	db_authority a;
	if ((r = db_authority_get(eng_db(e), id, &a)) != EAC_OK)
		goto out;
	if (!eng_options(e)->json)
		printf("registered %s DV %s%s (%s), id %lld\n", domestic ? "domestic" : "foreign",
		       country, mnemonic, name, (long long)id);
	eng_emit(e, authority_json(&a), NULL);
	r = EAC_OK;
out:
	free(orgs_txt);
	json_decref(orgs);
	return r;
}

static eac_err list_kind(eng *e, db_auth_kind kind, const char *key)
{
	db_authority *list = NULL;
	size_t n = 0;
	eac_err r = db_authorities_list(eng_db(e), kind, &list, &n);
	if (r != EAC_OK)
		return r;
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(arr, authority_json(&list[i]));
		if (!eng_options(e)->json)
			printf("%-4lld %s%-9s %-9s %-10s %s%s%s\n", (long long)list[i].id,
			       list[i].country, list[i].mnemonic,
			       list[i].domestic ? "domestic" : "foreign",
			       list[i].status == DB_AUTH_ACTIVE ? "active"
			       : list[i].status == DB_AUTH_SUSPENDED ? "suspended"
								     : "retired",
			       list[i].name, list[i].conformity_expiry[0] ? ", conformity until " : "",
			       list[i].conformity_expiry);
	}
	free(list);
	eng_emit(e, json_pack("{s:o}", key, arr), NULL);
	return EAC_OK;
}

eac_err ca_cmd_dv_list(eng *e, int argc, char **argv)
{
	if (argc != 1)
		return eac_fail(EAC_ERR_USAGE, "usage: dv list");
	(void)argv;
	return list_kind(e, DB_AUTH_DV, "dvs");
}

static eac_err set_status(eng *e, int argc, char **argv, db_auth_status st)
{
	static const struct option opts[] = { { "reason", required_argument, NULL, 'r' },
					      { NULL, 0, NULL, 0 } };
	const char *reason = NULL;
	db_authority a;
	eac_err r;

	optind = 0; /* 0: glibc re-initialises getopt (argument order, + mode) */
	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		if (c != 'r')
			return eac_fail(EAC_ERR_USAGE, "usage: %s DV --reason TEXT", argv[0]);
		reason = optarg;
	}
	if (optind != argc - 1 || reason == NULL || *reason == '\0')
		return eac_fail(EAC_ERR_USAGE, "usage: %s DV --reason TEXT", argv[0]);
	if ((r = eng_text_ok("--reason", reason, 1000)) != EAC_OK)
		return r;
	if ((r = find_dv_arg(e, argv[optind], &a)) != EAC_OK ||
	    (r = db_authority_set_status(eng_db(e), a.id, st, reason)) != EAC_OK ||
	    (r = db_authority_get(eng_db(e), a.id, &a)) != EAC_OK)
		return r;
	if (!eng_options(e)->json)
		printf("DV %s%s is now %s\n", a.country, a.mnemonic,
		       st == DB_AUTH_SUSPENDED ? "suspended: its requests are refused (CP-3.3.1)"
					       : "active");
	eng_emit(e, authority_json(&a), NULL);
	return EAC_OK;
}

eac_err ca_cmd_dv_suspend(eng *e, int argc, char **argv)
{
	return set_status(e, argc, argv, DB_AUTH_SUSPENDED);
}

eac_err ca_cmd_dv_reactivate(eng *e, int argc, char **argv)
{
	return set_status(e, argc, argv, DB_AUTH_ACTIVE);
}

eac_err ca_cmd_foreign_import(eng *e, int argc, char **argv)
{
	if (argc < 2)
		return eac_fail(EAC_ERR_USAGE, "usage: foreign import FILE...");
	json_t *arr = json_array();
	for (int i = 1; i < argc; i++) {
		eac_err r = eng_import_cvca(e, argv[i], DB_AUTH_FOREIGN_CVCA, arr);
		if (r != EAC_OK) {
			json_decref(arr);
			return r;
		}
	}
	eng_emit(e, json_pack("{s:o}", "imported", arr), NULL);
	return EAC_OK;
}

eac_err ca_cmd_foreign_list(eng *e, int argc, char **argv)
{
	if (argc != 1)
		return eac_fail(EAC_ERR_USAGE, "usage: foreign list");
	(void)argv;
	return list_kind(e, DB_AUTH_FOREIGN_CVCA, "foreign_cvcas");
}
