/* SPDX-License-Identifier: Apache-2.0 */
/* status (deadlines, distribution, rollover), audit verify, recover. */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca-core/ca.h"

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
		ca_active_free(&a);
		if (r != EAC_OK) {
			eng_status_free(&s);
			return r;
		}
	}
	ca_status_verdict = eng_status_finish(e, &s);
	return EAC_OK;
}

eac_err ca_cmd_audit_verify(eng *e, int argc, char **argv)
{
	return eng_cmd_audit_verify(e, argc, argv);
}

eac_err ca_cmd_recover(eng *e, int argc, char **argv)
{
	return eng_cmd_recover(e, argc, argv);
}
