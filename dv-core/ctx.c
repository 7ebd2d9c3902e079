/* SPDX-License-Identifier: Apache-2.0 */
/* The DV context of IS issuance. */

#include <string.h>

#include "dv-core/internal.h"

eac_err dv_ctx_open(eng *e, dv_ctx *x)
{
	db_cert *list = NULL;
	size_t n = 0;
	eac_err r;

	memset(x, 0, sizeof(*x));
	if ((r = dv_own(e, &x->own, &x->key)) != EAC_OK)
		return r;
	db_cert_filter f = { .kind = DB_KIND_DV, .holder_key_hash = x->key.pubkey_hash,
			     .imported = 1 };
	if ((r = db_certs_find(eng_db(e), &f, &list, &n)) != EAC_OK)
		return r;
	for (size_t i = 0; i < n && x->nchains < DV_CHAINS_MAX; i++) {
		if (dv_ctx_chain(x, list[i].chr) != NULL)
			continue; /* newest first: an older copy adds nothing */
		if ((r = dv_chain_load(e, list[i].chr, &x->chains[x->nchains])) != EAC_OK)
			goto out;
		x->nchains++;
	}
	r = EAC_OK;
out:
	db_certs_free(list, n);
	if (r != EAC_OK)
		dv_ctx_close(x);
	return r;
}

const dv_chain *dv_ctx_chain(const dv_ctx *x, const char *chr)
{
	for (size_t i = 0; i < x->nchains; i++)
		if (strcmp(x->chains[i].dv.chr, chr) == 0)
			return &x->chains[i];
	return NULL;
}

eac_err dv_ctx_token(eng *e, dv_ctx *x)
{
	if (x->hk != NULL)
		return EAC_OK;
	return eng_signing_key(e, &x->key, &x->hk);
}

void dv_ctx_close(dv_ctx *x)
{
	for (size_t i = 0; i < x->nchains; i++)
		dv_chain_free(&x->chains[i]);
	hsm_key_free(x->hk);
	memset(x, 0, sizeof(*x));
}
