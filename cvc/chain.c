/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Chain verification (TR-03110-3 2.5, C.4) and the trust store.
 *
 * OpenPACE checks only CAR/CHR linkage, signatures and validity
 * ([CVF P12]); a chip also checks the role hierarchy, that the terminal
 * type is the same along the chain, and computes the effective rights as
 * the AND of the chain's CHATs. So do we.
 */

#include <stdlib.h>
#include <string.h>

#include "cvc/internal.h"

static int ref_eq(const cvc_ref *a, const cvc_ref *b)
{
	return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
}

static int role_may_follow(cvc_role prev, cvc_role next)
{
	switch (prev) {
	case CVC_ROLE_CVCA:
		return 1; /* link, DV domestic, DV foreign; and terminal is refused below */
	case CVC_ROLE_DV_DOMESTIC:
	case CVC_ROLE_DV_FOREIGN:
		return next == CVC_ROLE_TERMINAL;
	default:
		return 0;
	}
}

static eac_err check_dates(const cvc_body *b, const cvc_date *at)
{
	char d1[11], d2[11];
	cvc_date_format(at, d2);
	if (cvc_date_cmp(at, &b->effective) < 0) {
		cvc_date_format(&b->effective, d1);
		return eac_fail(EAC_ERR_DATE, "certificate %s is not valid before %s (checked at %s)",
				b->chr.s, d1, d2);
	}
	if (cvc_date_cmp(at, &b->expiry) > 0) {
		cvc_date_format(&b->expiry, d1);
		return eac_fail(EAC_ERR_DATE, "certificate %s expired after %s (checked at %s)",
				b->chr.s, d1, d2);
	}
	return EAC_OK;
}

eac_err cvc_chain_verify(const cvc_obj *const *chain, size_t n, const cvc_date *at,
			 cvc_chain_result *out)
{
	cvc_chain_result res;
	const cvc_pubkey *dom = NULL; /* the last CVCA key with domain parameters */
	eac_err e;

	memset(&res, 0, sizeof(res));
	if (n == 0 || n > CVC_CHAIN_MAX)
		return eac_fail(EAC_ERR_USAGE, "a chain of %zu certificates (1 to %d)", n, CVC_CHAIN_MAX);
	for (size_t i = 0; i < n; i++) {
		const cvc_obj *c = chain[i];
		const cvc_body *b = &c->body;
		if (c->kind != CVC_KIND_CERT)
			return eac_fail(EAC_ERR_CHAIN, "%s is not a certificate (found %s)", b->chr.s,
					cvc_kind_name(c->kind));
		cvc_role role = cvc_chat_role(&b->chat);
		for (size_t j = 0; j < i; j++)
			if (ref_eq(&chain[j]->body.chr, &b->chr))
				return eac_fail(EAC_ERR_CHAIN, "CHR %s appears twice in the chain",
						b->chr.s);
		if (i == 0) {
			if (role != CVC_ROLE_CVCA)
				return eac_fail(EAC_ERR_CHAIN,
						"trust anchor %s is a %s certificate, not a CVCA certificate",
						b->chr.s, cvc_role_name(role));
			if (!cvc_obj_self_signed(c))
				return eac_fail(EAC_ERR_CHAIN,
						"trust anchor %s is not self-signed (its CAR is %s)",
						b->chr.s, b->car.s);
			if (cvc_alg_is_ec(b->key.alg) && !b->key.has_params)
				return eac_fail(EAC_ERR_CHAIN,
						"trust anchor %s carries no domain parameters",
						b->chr.s);
			if ((e = cvc_verify_cert(c, &b->key, NULL)) != EAC_OK)
				return e;
			res.type = b->chat.type;
			res.chat = b->chat;
		} else {
			const cvc_body *pb = &chain[i - 1]->body;
			cvc_role prole = cvc_chat_role(&pb->chat);
			/* CP-3.1a: the CAR names the issuer's key */
			if (!ref_eq(&b->car, &pb->chr))
				return eac_fail(EAC_ERR_CHAIN,
						"certificate %s names CAR %s, but the certificate before it is %s (CP-3.1a)",
						b->chr.s, b->car.s, pb->chr.s);
			if (b->chat.type != res.type)
				return eac_fail(EAC_ERR_CHAIN,
						"certificate %s is for id-%s terminals, its chain for id-%s (TR-03110-3 C.4)",
						b->chr.s, cvc_chat_type_name(b->chat.type),
						cvc_chat_type_name(res.type));
			if (!role_may_follow(prole, role) ||
			    (prole == CVC_ROLE_CVCA && role == CVC_ROLE_TERMINAL))
				return eac_fail(EAC_ERR_CHAIN,
						"a %s certificate (%s) cannot be issued by a %s (%s): CVCA -> DV -> terminal (TR-03110-3 C.4)",
						cvc_role_name(role), b->chr.s, cvc_role_name(prole),
						pb->chr.s);
			/* only link certificates may change the algorithm (TR-03110-3 2.3) */
			if (role != CVC_ROLE_CVCA &&
			    cvc_alg_is_ec(b->key.alg) != cvc_alg_is_ec(pb->key.alg))
				return eac_fail(EAC_ERR_CHAIN,
						"certificate %s has an %s key under an %s key; only link certificates change the algorithm",
						b->chr.s, cvc_alg_is_ec(b->key.alg) ? "EC" : "RSA",
						cvc_alg_is_ec(pb->key.alg) ? "EC" : "RSA");
			if ((e = cvc_verify_cert(c, &pb->key, dom)) != EAC_OK)
				return e;
			for (unsigned k = 0; k < res.chat.len; k++)
				res.chat.auth[k] &= b->chat.auth[k];
		}
		/* D.3.3: DV and terminal keys inherit the CVCA's parameters; a
		 * link certificate with parameters brings new ones */
		if (cvc_alg_is_ec(b->key.alg)) {
			if (b->key.has_params) {
				dom = &b->key;
			} else if (!dom) {
				return eac_fail(EAC_ERR_CHAIN,
						"certificate %s has an EC key but no CVCA key to inherit domain parameters from",
						b->chr.s);
			} else {
				const cvc_curve_params *cp = cvc_curve_get(dom->curve);
				if (!cp || b->key.point.len != 2 * cp->field_len + 1)
					return eac_fail(EAC_ERR_CHAIN,
							"certificate %s: its public point does not fit the inherited curve %s",
							b->chr.s, cvc_curve_name(dom->curve));
			}
		}
		if (at && role != CVC_ROLE_CVCA && (e = check_dates(b, at)) != EAC_OK)
			return e;
		res.path[i] = b->chr;
	}
	const cvc_body *last = &chain[n - 1]->body;
	res.len = n;
	res.role = cvc_chat_role(&last->chat);
	/* effective authorization: the AND of the rights, the role of the last */
	res.chat.auth[0] = (uint8_t)((res.chat.auth[0] & 0x3f) | (last->chat.auth[0] & 0xc0));
	res.curve = cvc_alg_is_ec(last->key.alg) ? cvc_pubkey_curve(&last->key, dom) : CVC_CURVE_NONE;
	if (out)
		*out = res;
	return EAC_OK;
}

/* ---- trust store ---- */

struct cvc_store {
	cvc_obj **certs;
	size_t n;
	size_t cap;
};

eac_err cvc_store_new(cvc_store **out)
{
	cvc_store *s = calloc(1, sizeof(*s));
	if (!s)
		return eac_fail(EAC_ERR_NOMEM, "out of memory for a trust store");
	*out = s;
	return EAC_OK;
}

void cvc_store_free(cvc_store *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		cvc_obj_free(s->certs[i]);
	free(s->certs);
	free(s);
}

size_t cvc_store_count(const cvc_store *s)
{
	return s->n;
}

static int same_key(const cvc_pubkey *a, const cvc_pubkey *b)
{
	uint8_t ha[EAC_SHA256_LEN], hb[EAC_SHA256_LEN];
	if (cvc_pubkey_hash(a, ha) != EAC_OK || cvc_pubkey_hash(b, hb) != EAC_OK) {
		eac_err_clear();
		return 0;
	}
	return memcmp(ha, hb, sizeof(ha)) == 0;
}

eac_err cvc_store_add(cvc_store *s, const uint8_t *buf, size_t len)
{
	cvc_obj *o = NULL;
	eac_err e = cvc_parse_cert(buf, len, &o);
	if (e != EAC_OK)
		return e;
	for (size_t i = 0; i < s->n; i++) {
		const cvc_obj *h = s->certs[i];
		if (!ref_eq(&h->body.chr, &o->body.chr))
			continue;
		if (h->len == o->len && memcmp(h->buf, o->buf, o->len) == 0) {
			cvc_obj_free(o);
			return EAC_OK;
		}
		/* TR-03110-3 A.6.2: a CHR names one key */
		if (!same_key(&h->body.key, &o->body.key)) {
			e = eac_fail(EAC_ERR_EXISTS,
				     "CHR %s is already in the trust store with a different key",
				     o->body.chr.s);
			cvc_obj_free(o);
			return e;
		}
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		cvc_obj **p = realloc(s->certs, cap * sizeof(*p));
		if (!p) {
			cvc_obj_free(o);
			return eac_fail(EAC_ERR_NOMEM, "out of memory for the trust store");
		}
		s->certs = p;
		s->cap = cap;
	}
	s->certs[s->n++] = o;
	return EAC_OK;
}

const cvc_obj *cvc_store_find(const cvc_store *s, const cvc_ref *chr)
{
	const cvc_obj *any = NULL;
	for (size_t i = 0; i < s->n; i++) {
		const cvc_obj *c = s->certs[i];
		if (!ref_eq(&c->body.chr, chr))
			continue;
		if (cvc_obj_self_signed(c))
			return c;
		if (!any)
			any = c;
	}
	return any;
}

eac_err cvc_store_path(const cvc_store *s, const cvc_obj *leaf, const cvc_obj **path, size_t max,
		       size_t *n)
{
	const cvc_obj *rev[CVC_CHAIN_MAX];
	size_t k = 0;

	if (leaf->kind != CVC_KIND_CERT)
		return eac_fail(EAC_ERR_USAGE, "%s is not a certificate (found %s)", leaf->body.chr.s,
				cvc_kind_name(leaf->kind));
	rev[k++] = leaf;
	for (const cvc_obj *cur = leaf; !cvc_obj_self_signed(cur);) {
		const cvc_obj *iss = cvc_store_find(s, &cur->body.car);
		if (!iss)
			return eac_fail(EAC_ERR_CHAIN,
					"no certificate with CHR %s (the CAR of %s) in the trust store",
					cur->body.car.s, cur->body.chr.s);
		for (size_t j = 0; j < k; j++)
			if (ref_eq(&rev[j]->body.chr, &iss->body.chr))
				return eac_fail(EAC_ERR_CHAIN, "certificate loop at %s",
						iss->body.chr.s);
		if (k == CVC_CHAIN_MAX)
			return eac_fail(EAC_ERR_CHAIN, "no self-signed CVCA within %d certificates of %s",
					CVC_CHAIN_MAX, leaf->body.chr.s);
		rev[k++] = iss;
		cur = iss;
	}
	if (k > max)
		return eac_fail(EAC_ERR_USAGE, "path of %zu certificates; room for %zu", k, max);
	for (size_t j = 0; j < k; j++)
		path[j] = rev[k - 1 - j];
	*n = k;
	return EAC_OK;
}

/* A self-signed certificate is trusted only when the store holds it, or a
 * certificate for the same CHR and key. */
static eac_err anchor_known(const cvc_store *s, const cvc_obj *c)
{
	for (size_t i = 0; i < s->n; i++) {
		const cvc_obj *h = s->certs[i];
		if (ref_eq(&h->body.chr, &c->body.chr) && same_key(&h->body.key, &c->body.key))
			return EAC_OK;
	}
	return eac_fail(EAC_ERR_CHAIN, "self-signed certificate %s is not in the trust store",
			c->body.chr.s);
}

static eac_err verify_cert_in(const cvc_store *s, const cvc_obj *c, const cvc_date *at,
			      cvc_chain_result *out)
{
	const cvc_obj *path[CVC_CHAIN_MAX];
	size_t n = 0;
	eac_err e;
	if ((e = cvc_store_path(s, c, path, CVC_CHAIN_MAX, &n)) != EAC_OK ||
	    (e = anchor_known(s, path[0])) != EAC_OK)
		return e;
	return cvc_chain_verify(path, n, at, out);
}

eac_err cvc_store_verify(const cvc_store *s, const cvc_obj *o, const cvc_date *at,
			 cvc_chain_result *out)
{
	cvc_chain_result res;
	eac_err e;

	memset(&res, 0, sizeof(res));
	if (o->kind == CVC_KIND_CERT) {
		if ((e = verify_cert_in(s, o, at, &res)) != EAC_OK)
			return e;
	} else {
		if ((e = cvc_verify_request_inner(o)) != EAC_OK)
			return e;
		if (o->kind == CVC_KIND_AUTH_REQUEST) {
			const cvc_obj *signer = cvc_store_find(s, &o->outer_car);
			if (!signer)
				return eac_fail(EAC_ERR_CHAIN,
						"request %s: no certificate with CHR %s (the outer CAR) in the trust store",
						o->body.chr.s, o->outer_car.s);
			if ((e = verify_cert_in(s, signer, at, &res)) != EAC_OK)
				return eac_fail_prefix(e, "request %s: outer signer: ", o->body.chr.s);
			cvc_pubkey key = signer->body.key;
			key.curve = res.curve;
			if ((e = cvc_verify_request_outer(o, &key, NULL)) != EAC_OK)
				return e;
		}
	}
	if (out)
		*out = res;
	return EAC_OK;
}
