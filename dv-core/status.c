/* SPDX-License-Identifier: Apache-2.0 */
/* status (per CVCA: DV certificate expiry and re-key; IS request and
 * distribution deadlines), audit verify, recover. */

#include <stdio.h>
#include <string.h>

#include "dv-core/internal.h"

eac_err dv_cmd_status(eng *e, int argc, char **argv)
{
	eng_status s;
	dv_ctx x;
	eac_err r;
	char msg[512];
	(void)argv;

	if (argc != 1)
		return eac_fail(EAC_ERR_USAGE, "usage: status");
	if ((r = eng_status_begin(e, POL_AUTHORITY_DV, &s)) != EAC_OK)
		return r;
	r = dv_ctx_open(e, &x);
	if (r == EAC_ERR_STATE) {
		eng_status_note(&s, 1, "CP-3.2.4", "this DV has no key yet: eac-dv init", NULL);
		eac_err_clear();
		eng_set_exit(e, eng_status_finish(e, &s));
		return EAC_OK;
	}
	if (r != EAC_OK) {
		eng_status_free(&s);
		return r;
	}
	if (x.nchains == 0)
		eng_status_note(&s, 1, "CP-4.1",
				"this DV holds no DV certificate for its key: request one from the "
				"national CVCA",
				NULL);
	json_t *per = json_array();
	cvc_date today;
	cvc_date_from_time(eac_now(), &today);
	for (size_t i = 0; i < x.nchains; i++) {
		const cvc_body *b = cvc_obj_body(x.chains[i].dv_obj);
		cvc_date due;
		char exp[11], dues[11];
		cvc_date_from_days(cvc_date_to_days(&b->expiry) - DV_REKEY_LEAD_DAYS, &due);
		cvc_date_format(&b->expiry, exp);
		cvc_date_format(&due, dues);
		json_array_append_new(per, json_pack("{s:s, s:s, s:s, s:s}", "cvca", b->car.s,
						     "certificate", b->chr.s, "expiry", exp,
						     "rekey_due", dues));
		int sev = 0;
		if (cvc_date_cmp(&today, &b->expiry) > 0) {
			snprintf(msg, sizeof(msg),
				 "DV certificate %s from %s expired on %s: a new initial request is "
				 "needed (CP-4.7c)",
				 b->chr.s, b->car.s, exp);
			sev = 2;
		} else if (cvc_date_cmp(&today, &due) >= 0) {
			snprintf(msg, sizeof(msg),
				 "DV certificate %s from %s expires %s: re-key now (due %s; "
				 "eac-dv request --to %s --rekey)",
				 b->chr.s, b->car.s, exp, dues, b->car.s);
			sev = 1;
		} else {
			snprintf(msg, sizeof(msg), "DV certificate %s from %s expires %s; re-key due %s",
				 b->chr.s, b->car.s, exp, dues);
		}
		eng_status_note(&s, sev, "CP-4.7a", msg, NULL);
	}
	json_object_set_new(s.obj, "dv_certificates", per);
	dv_ctx_close(&x);
	eng_set_exit(e, eng_status_finish(e, &s));
	return EAC_OK;
}
