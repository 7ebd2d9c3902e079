/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: request and authenticated-request parsing. Accepted
 * input must re-encode to the same bytes; an authenticated request must
 * reassemble from its inner request, outer CAR and outer signature, with
 * the outer to-be-signed bytes equal to what cvc_auth_request_tbs makes.
 * The proof-of-possession check runs on the fuzzed key.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cvc/cvc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cvc_obj *o = NULL;
	uint8_t *re = NULL, *as = NULL, *tbs = NULL;
	size_t relen = 0, aslen = 0, tbslen = 0;
	json_t *j = NULL;

	if (cvc_parse_request(data, size, &o) != EAC_OK)
		return 0;
	if (cvc_obj_reencode(o, &re, &relen) != EAC_OK || relen != size || memcmp(re, data, size) != 0)
		abort();
	if (cvc_obj_kind(o) == CVC_KIND_AUTH_REQUEST) {
		cvc_bytes in = cvc_obj_inner(o), sig = cvc_obj_outer_signature(o), ot = cvc_obj_outer_tbs(o);
		const cvc_ref *car = cvc_obj_outer_car(o);
		if (cvc_auth_request_assemble(in.ptr, in.len, car, sig.ptr, sig.len, &as, &aslen) != EAC_OK ||
		    aslen != size || memcmp(as, data, size) != 0)
			abort();
		if (cvc_auth_request_tbs(in.ptr, in.len, car, &tbs, &tbslen) != EAC_OK || tbslen != ot.len ||
		    memcmp(tbs, ot.ptr, tbslen) != 0)
			abort();
	} else {
		cvc_bytes b = cvc_obj_tbs(o), sig = cvc_obj_signature(o);
		if (cvc_assemble(b.ptr, b.len, sig.ptr, sig.len, &as, &aslen) != EAC_OK || aslen != size ||
		    memcmp(as, data, size) != 0)
			abort();
	}
	if (cvc_obj_to_json(o, &j) != EAC_OK)
		abort();
	(void)!cvc_verify_request_inner(o);
	json_decref(j);
	free(re);
	free(as);
	free(tbs);
	cvc_obj_free(o);
	return 0;
}
