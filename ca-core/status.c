/* SPDX-License-Identifier: Apache-2.0 */
/* status (deadlines, distribution, rollover), audit verify, recover. */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca-core/ca.h"

/*
 * CP-5.4b after a rollover. The link ceremony makes the new key the active
 * one at once, so the active certificate never has a successor of its own;
 * what is still owed is the distribution of each link certificate by the
 * last day of the certificate it replaces (its CAR): expiry - 14 days.
 * Until then chips that know only the old root cannot verify anything
 * issued under the new key. An undistributed link is a warning; past that
 * last day it is a missed deadline. Links of a ceremony that did not finish
 * (holder key still pending) are not for distribution and not reported.
 */
static eac_err links_awaiting_distribution(eng *e, eng_status *s, const ca_active *a)
{
	db_cert *links = NULL, *prev = NULL;
	size_t nl = 0, np = 0;
	eac_err r;
	char msg[512], last[11];

	db_cert_filter lf = { .kind = DB_KIND_LINK, .issuer = a->own.id, .imported = 0 };
	if ((r = db_certs_find(eng_db(e), &lf, &links, &nl)) != EAC_OK)
		return r;
	for (size_t i = 0; i < nl; i++) {
		const db_cert *l = &links[i];
		db_key hk;
		pol_rollover ro;
		cvc_date exp;

		if (l->distributed_at != 0)
			continue;
		r = db_key_find(eng_db(e), l->holder_key_hash, &hk);
		if (r == EAC_OK && hk.state == DB_KEY_PENDING)
			continue;
		if (r != EAC_OK && r != EAC_ERR_NOT_FOUND)
			goto out;
		eac_err_clear();
		db_cert_filter pf = { .kind = DB_KIND_CVCA, .issuer = a->own.id, .chr = l->car,
				      .imported = 0, .limit = 1 };
		if ((r = db_certs_find(eng_db(e), &pf, &prev, &np)) != EAC_OK)
			goto out;
		if (np == 0) {
			db_certs_free(prev, np);
			prev = NULL;
			continue;
		}
		if ((r = cvc_date_parse(prev[0].expiry, &exp)) != EAC_OK ||
		    (r = pol_rollover_status(&exp, 0, eac_now(), eng_policy(e)->rollover_lead_days,
					     &ro)) != EAC_OK)
			goto out;
		cvc_date_format(&ro.last_day, last);
		int missed = ro.state == POL_ROLLOVER_LATE;
		if (missed)
			snprintf(msg, sizeof(msg),
				 "link certificate %s (CAR %s, which expires %s) was not distributed by "
				 "%s: chips that know only %s cannot verify certificates under %s",
				 l->chr, l->car, prev[0].expiry, last, l->car, l->chr);
		else
			snprintf(msg, sizeof(msg),
				 "link certificate %s (CAR %s, which expires %s) awaits distribution: "
				 "distribute it and record it with 'publish %s' by %s",
				 l->chr, l->car, prev[0].expiry, l->chr, last);
		eng_status_note(s, missed ? 2 : 1, "CP-5.4b", msg,
				json_pack("{s:s, s:s, s:s, s:s}", "link", l->chr, "replaces", l->car,
					  "replaced_expiry", prev[0].expiry, "last_day", last));
		db_certs_free(prev, np);
		prev = NULL;
		np = 0;
	}
	r = EAC_OK;
out:
	db_certs_free(prev, np);
	db_certs_free(links, nl);
	return r;
}

eac_err ca_cmd_status(eng *e, int argc, char **argv)
{
	eng_status s;
	ca_active a;
	eac_err r;

	if (argc != 1)
		return eac_fail(EAC_ERR_USAGE, "usage: status");
	(void)argv;
	if ((r = eng_status_begin(e, POL_AUTHORITY_CVCA, &s)) != EAC_OK)
		return r;
	r = ca_active_load(e, &a);
	if (r == EAC_ERR_STATE) {
		eng_status_note(&s, 1, "CP-4.2.1", "no active CVCA key: the initial key ceremony is due",
				NULL);
		eac_err_clear();
	} else if (r != EAC_OK) {
		eng_status_free(&s);
		return r;
	} else {
		/* CP-5.4b: the active certificate's rollover */
		db_cert *links = NULL;
		size_t nl = 0;
		int successor = 0;
		db_cert_filter lf = { .kind = DB_KIND_LINK, .issuer = a.own.id, .car = a.key.label,
				      .imported = 0, .limit = 4 };
		if ((r = db_certs_find(eng_db(e), &lf, &links, &nl)) == EAC_OK) {
			for (size_t i = 0; i < nl; i++)
				successor |= links[i].distributed_at != 0;
			db_certs_free(links, nl);
			r = eng_status_rollover(e, &s, "CVCA", cvc_obj_body(a.obj), successor);
		}
		if (r == EAC_OK)
			r = links_awaiting_distribution(e, &s, &a);
		ca_active_free(&a);
		if (r != EAC_OK) {
			eng_status_free(&s);
			return r;
		}
	}
	/* the exit status: 0 all well, 1 warnings, 2 a deadline missed */
	eng_set_exit(e, eng_status_finish(e, &s));
	return EAC_OK;
}
