/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: certificate parsing. Whatever the parser accepts must
 * re-encode to the same bytes from its decoded fields, and the body and
 * signature must reassemble to it; rendering and (for self-signed
 * certificates) signature verification must not crash.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cvc/cvc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cvc_obj *o = NULL;
	uint8_t *re = NULL, *as = NULL;
	size_t relen = 0, aslen = 0;
	json_t *j = NULL;
	char *text = NULL;

	if (cvc_parse_cert(data, size, &o) != EAC_OK)
		return 0;
	/* parse -> encode is the identity */
	if (cvc_obj_reencode(o, &re, &relen) != EAC_OK || relen != size || memcmp(re, data, size) != 0)
		abort();
	cvc_bytes tbs = cvc_obj_tbs(o), sig = cvc_obj_signature(o);
	if (cvc_assemble(tbs.ptr, tbs.len, sig.ptr, sig.len, &as, &aslen) != EAC_OK || aslen != size ||
	    memcmp(as, data, size) != 0)
		abort();
	if (cvc_obj_to_json(o, &j) != EAC_OK || cvc_obj_to_text(o, &text) != EAC_OK)
		abort();
	if (cvc_obj_self_signed(o))
		(void)!cvc_verify_cert(o, &cvc_obj_body(o)->key, NULL);
	json_decref(j);
	free(text);
	free(re);
	free(as);
	cvc_obj_free(o);
	return 0;
}
