/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DER encoder: bodies (the to-be-signed 7F4E), certificates and
 * requests (7F21), authenticated requests (67). Every field is checked
 * before it is written, and every assembled object is parsed again before
 * it is handed out, so the appliance never emits what it would refuse.
 * OpenPACE and Bouncy Castle hash the *re-encoded* body ([CVF §1]), so
 * the bytes must be strict DER: minimal lengths, fixed order.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvc/internal.h"

/* ---- checking a body ---- */

static eac_err check_ref(const cvc_ref *ref, const char *what)
{
	cvc_ref tmp;
	char detail[256];
	if (ref->len > CVC_REF_MAX || strnlen(ref->s, sizeof(ref->s)) != ref->len)
		return eac_fail(EAC_ERR_USAGE, "%s: length %u does not match its text", what,
				(unsigned)ref->len);
	if (cvc_ref_set(&tmp, ref->s, ref->len) != EAC_OK) {
		snprintf(detail, sizeof(detail), "%s", eac_err_detail(EAC_ERR_MALFORMED));
		return eac_fail(EAC_ERR_USAGE, "%s '%s': %s", what, ref->s, detail);
	}
	return EAC_OK;
}

static int uint_minimal(cvc_bytes v)
{
	return v.ptr && v.len > 0 && (v.len == 1 || v.ptr[0] != 0);
}

static eac_err check_key(const cvc_pubkey *k, cvc_kind kind, cvc_role role, int issuing)
{
	if (k->alg <= CVC_ALG_NONE || k->alg >= CVC_ALG__COUNT)
		return eac_fail(EAC_ERR_USAGE, "public key: no signature scheme");
	if (cvc_alg_is_rsa(k->alg)) {
		if (!uint_minimal(k->n) || !uint_minimal(k->e))
			return eac_fail(EAC_ERR_USAGE,
					"RSA public key: n and e must be minimal unsigned integers");
		size_t bits = (k->n.len - 1) * 8;
		for (unsigned top = k->n.ptr[0]; top; top >>= 1)
			bits++;
		if (bits < CVC_RSA_MIN_BITS || bits > CVC_RSA_MAX_BITS)
			return eac_fail(EAC_ERR_USAGE, "RSA modulus of %zu bits; %d to %d are supported",
					bits, CVC_RSA_MIN_BITS, CVC_RSA_MAX_BITS);
		if (k->e.len > 4 || !(k->e.ptr[k->e.len - 1] & 1) ||
		    (k->e.len == 1 && k->e.ptr[0] < 3))
			return eac_fail(EAC_ERR_USAGE,
					"RSA public exponent must be odd, at least 3 and at most 32 bits");
		return EAC_OK;
	}
	const cvc_curve_params *cp = cvc_curve_get(k->curve);
	if (k->has_params && !cp)
		return eac_fail(EAC_ERR_USAGE, "EC public key with domain parameters but no curve");
	if (!k->point.ptr || k->point.len < 1 || k->point.ptr[0] != 0x04)
		return eac_fail(EAC_ERR_USAGE, "EC public point must be uncompressed (04 || X || Y)");
	size_t flen = (k->point.len - 1) / 2;
	if (cp ? k->point.len != 2 * cp->field_len + 1
	       : (k->point.len % 2 == 0 || (flen != 32 && flen != 48 && flen != 64)))
		return eac_fail(EAC_ERR_USAGE, "EC public point of %zu octets fits %s", k->point.len,
				cp ? "not its curve" : "no supported curve");
	/* TR-03110-3 D.3.3 and [CVF §2.2, P5] */
	if (kind == CVC_KIND_REQUEST && !k->has_params)
		return eac_fail(EAC_ERR_USAGE,
				"a request must carry the domain parameters of its key (TR-03110-3 D.3.3)");
	if (kind == CVC_KIND_CERT && role != CVC_ROLE_CVCA && k->has_params)
		return eac_fail(EAC_ERR_USAGE,
				"a %s certificate must not carry domain parameters; they are inherited from the CVCA (TR-03110-3 D.3.3)",
				cvc_role_name(role));
	if (issuing && kind == CVC_KIND_CERT && role == CVC_ROLE_CVCA &&
	    (!k->has_params || k->no_cofactor))
		return eac_fail(EAC_ERR_USAGE,
				"a CVCA certificate must carry all domain parameters 81..87 including the cofactor (OpenPACE interoperability, cv-format P5)");
	if (issuing && kind == CVC_KIND_REQUEST && k->no_cofactor)
		return eac_fail(EAC_ERR_USAGE,
				"a request must carry all domain parameters 81..87 including the cofactor");
	return EAC_OK;
}

eac_err cvc_body_check(const cvc_body *b, int issuing)
{
	eac_err e;
	cvc_kind kind;

	if (b->has_chat && b->has_dates)
		kind = CVC_KIND_CERT;
	else if (!b->has_chat && !b->has_dates)
		kind = CVC_KIND_REQUEST;
	else
		return eac_fail(EAC_ERR_USAGE,
				"a certificate body has a CHAT and dates, a request body neither");
	if (kind == CVC_KIND_CERT && !b->has_car)
		return eac_fail(EAC_ERR_USAGE, "a certificate needs a CAR (TR-03110-3 C.1.2)");
	if (b->has_car && (e = check_ref(&b->car, "CAR")) != EAC_OK)
		return e;
	if ((e = check_ref(&b->chr, "CHR")) != EAC_OK)
		return e;
	cvc_role role = kind == CVC_KIND_CERT ? cvc_chat_role(&b->chat) : CVC_ROLE_TERMINAL;
	if (kind == CVC_KIND_CERT) {
		size_t want = b->chat.type == CVC_CHAT_AT ? 5 : 1;
		if (!cvc_chat_type_name(b->chat.type))
			return eac_fail(EAC_ERR_USAGE, "CHAT without a terminal type");
		if (b->chat.len != want)
			return eac_fail(EAC_ERR_USAGE,
					"CHAT of id-%s has %zu octets, not %u (TR-03110-3 C.4)",
					cvc_chat_type_name(b->chat.type), want, (unsigned)b->chat.len);
		if (!cvc_date_valid(&b->effective) || !cvc_date_valid(&b->expiry))
			return eac_fail(EAC_ERR_USAGE, "certificate dates must be calendar dates in 2000..2099");
		if (cvc_date_cmp(&b->expiry, &b->effective) < 0)
			return eac_fail(EAC_ERR_USAGE, "expiration date precedes the effective date");
	}
	if ((e = check_key(&b->key, kind, role, issuing)) != EAC_OK)
		return e;
	if (b->ext.len > 0) {
		if (!b->ext.ptr)
			return eac_fail(EAC_ERR_USAGE, "extensions: no bytes");
		size_t pos = 0;
		cvc_ext x;
		while ((e = cvc_ext_next(b->ext, &pos, &x)) == EAC_OK)
			;
		if (e != EAC_ERR_NOT_FOUND) {
			char detail[256];
			snprintf(detail, sizeof(detail), "%s", eac_err_detail(e));
			return eac_fail(EAC_ERR_USAGE, "extensions (65) are not a sequence of 73 templates: %s",
					detail);
		}
	}
	return EAC_OK;
}

/* ---- writing ---- */

static void write_key(cvc_wr *w, const cvc_pubkey *k)
{
	size_t m = cvc_wr_begin(w);
	cvc_bytes oid = cvc_alg_oid(k->alg);
	cvc_wr_tlv(w, T_OID, oid.ptr, oid.len);
	if (cvc_alg_is_rsa(k->alg)) {
		cvc_wr_tlv(w, 0x81, k->n.ptr, k->n.len);
		cvc_wr_tlv(w, 0x82, k->e.ptr, k->e.len);
	} else {
		const cvc_curve_params *cp = cvc_curve_get(k->curve);
		if (k->has_params && cp) {
			cvc_wr_tlv(w, 0x81, cp->p.ptr, cp->p.len);
			cvc_wr_tlv(w, 0x82, cp->a.ptr, cp->a.len);
			cvc_wr_tlv(w, 0x83, cp->b.ptr, cp->b.len);
			cvc_wr_tlv(w, 0x84, cp->g.ptr, cp->g.len);
			cvc_wr_tlv(w, 0x85, cp->n.ptr, cp->n.len);
		}
		cvc_wr_tlv(w, 0x86, k->point.ptr, k->point.len);
		if (k->has_params && cp && !k->no_cofactor)
			cvc_wr_tlv(w, 0x87, cp->f.ptr, cp->f.len);
	}
	cvc_wr_end(w, m, T_PUBKEY);
}

static void write_date(cvc_wr *w, uint32_t tag, const cvc_date *d)
{
	unsigned y = d->year % 100u;
	uint8_t v[6] = { (uint8_t)(y / 10), (uint8_t)(y % 10), (uint8_t)(d->month / 10),
			 (uint8_t)(d->month % 10), (uint8_t)(d->day / 10), (uint8_t)(d->day % 10) };
	cvc_wr_tlv(w, tag, v, sizeof(v));
}

void cvc_body_write(cvc_wr *w, const cvc_body *b)
{
	static const uint8_t cpi = 0x00; /* version 1, TR-03110-3 C.1.1 */
	size_t m = cvc_wr_begin(w);
	cvc_wr_tlv(w, T_CPI, &cpi, 1);
	if (b->has_car)
		cvc_wr_tlv(w, T_CAR, (const uint8_t *)b->car.s, b->car.len);
	write_key(w, &b->key);
	cvc_wr_tlv(w, T_CHR, (const uint8_t *)b->chr.s, b->chr.len);
	if (b->has_chat) {
		size_t c = cvc_wr_begin(w);
		cvc_bytes oid = cvc_chat_oid(b->chat.type);
		cvc_wr_tlv(w, T_OID, oid.ptr, oid.len);
		cvc_wr_tlv(w, T_CHAT_AUTH, b->chat.auth, b->chat.len);
		cvc_wr_end(w, c, T_CHAT);
		write_date(w, T_EFFECTIVE, &b->effective);
		write_date(w, T_EXPIRY, &b->expiry);
	}
	if (b->ext.len)
		cvc_wr_tlv(w, T_EXTS, b->ext.ptr, b->ext.len);
	cvc_wr_end(w, m, T_BODY);
}

eac_err cvc_chat_encode(const cvc_chat *c, uint8_t out[static CVC_CHAT_TLV_MAX], size_t *outlen)
{
	cvc_wr w = { 0 };
	uint8_t *buf = NULL;
	size_t len = 0;
	if (!cvc_chat_type_name(c->type) || c->len != (c->type == CVC_CHAT_AT ? 5 : 1))
		return eac_fail(EAC_ERR_USAGE, "CHAT: relative authorization of %u octets for id-%s",
				(unsigned)c->len, cvc_chat_type_name(c->type) ? cvc_chat_type_name(c->type) : "?");
	size_t m = cvc_wr_begin(&w);
	cvc_bytes oid = cvc_chat_oid(c->type);
	cvc_wr_tlv(&w, T_OID, oid.ptr, oid.len);
	cvc_wr_tlv(&w, T_CHAT_AUTH, c->auth, c->len);
	cvc_wr_end(&w, m, T_CHAT);
	eac_err e = cvc_wr_finish(&w, &buf, &len);
	if (e != EAC_OK)
		return e;
	if (len > CVC_CHAT_TLV_MAX) {
		free(buf);
		return eac_fail(EAC_ERR_INTERNAL, "CHAT encoding of %zu octets", len);
	}
	memcpy(out, buf, len);
	*outlen = len;
	free(buf);
	return EAC_OK;
}

eac_err cvc_body_encode(const cvc_body *b, uint8_t **out, size_t *outlen)
{
	cvc_wr w = { 0 };
	eac_err e = cvc_body_check(b, 1);
	if (e != EAC_OK)
		return e;
	cvc_body_write(&w, b);
	if (w.err == EAC_OK && w.len > CVC_MAX_SIZE)
		w.err = eac_fail(EAC_ERR_USAGE, "certificate body of %zu bytes exceeds %d", w.len,
				 CVC_MAX_SIZE);
	return cvc_wr_finish(&w, out, outlen);
}

/* Parse what we are about to hand out; on failure it is a bug or a bad
 * caller argument, never something to emit. */
static eac_err recheck(cvc_wr *w, cvc_kind want, const char *what)
{
	cvc_obj *o = NULL;
	if (w->err != EAC_OK)
		return w->err;
	eac_err e = cvc_parse_kind(w->p, w->len, CVC_KIND_NONE, &o);
	if (e != EAC_OK)
		return eac_fail_prefix(e, "%s: ", what);
	cvc_kind k = o->kind;
	cvc_obj_free(o);
	if (want != CVC_KIND_NONE && k != want)
		return eac_fail(EAC_ERR_USAGE, "%s: came out as a %s", what, cvc_kind_name(k));
	return EAC_OK;
}

eac_err cvc_assemble(const uint8_t *tbs, size_t tbslen, const uint8_t *sig, size_t siglen,
		     uint8_t **out, size_t *outlen)
{
	cvc_wr w = { 0 };
	if (siglen == 0 || siglen > CVC_SIG_MAX)
		return eac_fail(EAC_ERR_USAGE, "signature of %zu octets", siglen);
	size_t m = cvc_wr_begin(&w);
	cvc_wr_raw(&w, tbs, tbslen);
	cvc_wr_tlv(&w, T_SIG, sig, siglen);
	cvc_wr_end(&w, m, T_CVC);
	eac_err e = recheck(&w, CVC_KIND_NONE, "assembled certificate");
	if (e != EAC_OK) {
		free(w.p);
		return e;
	}
	return cvc_wr_finish(&w, out, outlen);
}

/* A plain request (7F21 TLV, not wrapped) to put into 67. */
static eac_err check_request(const uint8_t *req, size_t reqlen, const cvc_ref *car)
{
	cvc_obj *o = NULL;
	eac_err e = cvc_parse_kind(req, reqlen, CVC_KIND_REQUEST, &o);
	if (e != EAC_OK)
		return eac_fail_prefix(e, "request: ");
	int plain = o->kind == CVC_KIND_REQUEST;
	cvc_obj_free(o);
	if (!plain)
		return eac_fail(EAC_ERR_USAGE, "request is already an authenticated request");
	return check_ref(car, "outer CAR");
}

eac_err cvc_auth_request_tbs(const uint8_t *req, size_t reqlen, const cvc_ref *outer_car,
			     uint8_t **out, size_t *outlen)
{
	cvc_wr w = { 0 };
	eac_err e = check_request(req, reqlen, outer_car);
	if (e != EAC_OK)
		return e;
	/* TR-03110-3 C.2.6: the encoded request and the encoded CAR, both
	 * with tag and length */
	cvc_wr_raw(&w, req, reqlen);
	cvc_wr_tlv(&w, T_CAR, (const uint8_t *)outer_car->s, outer_car->len);
	return cvc_wr_finish(&w, out, outlen);
}

eac_err cvc_auth_request_assemble(const uint8_t *req, size_t reqlen, const cvc_ref *outer_car,
				  const uint8_t *sig, size_t siglen, uint8_t **out, size_t *outlen)
{
	cvc_wr w = { 0 };
	eac_err e = check_request(req, reqlen, outer_car);
	if (e != EAC_OK)
		return e;
	if (siglen == 0 || siglen > CVC_SIG_MAX)
		return eac_fail(EAC_ERR_USAGE, "outer signature of %zu octets", siglen);
	size_t m = cvc_wr_begin(&w);
	cvc_wr_raw(&w, req, reqlen);
	cvc_wr_tlv(&w, T_CAR, (const uint8_t *)outer_car->s, outer_car->len);
	cvc_wr_tlv(&w, T_SIG, sig, siglen);
	cvc_wr_end(&w, m, T_AUTH);
	if ((e = recheck(&w, CVC_KIND_AUTH_REQUEST, "assembled authenticated request")) != EAC_OK) {
		free(w.p);
		return e;
	}
	return cvc_wr_finish(&w, out, outlen);
}

eac_err cvc_obj_reencode(const cvc_obj *o, uint8_t **out, size_t *outlen)
{
	cvc_wr w = { 0 };
	eac_err e = cvc_body_check(&o->body, 0);
	if (e != EAC_OK)
		return e;
	size_t outer = cvc_wr_begin(&w);
	size_t m = cvc_wr_begin(&w);
	cvc_body_write(&w, &o->body);
	cvc_wr_tlv(&w, T_SIG, o->sig.ptr, o->sig.len);
	cvc_wr_end(&w, m, T_CVC);
	if (o->has_outer) {
		cvc_wr_tlv(&w, T_CAR, (const uint8_t *)o->outer_car.s, o->outer_car.len);
		cvc_wr_tlv(&w, T_SIG, o->outer_sig.ptr, o->outer_sig.len);
		cvc_wr_end(&w, outer, T_AUTH);
	}
	return cvc_wr_finish(&w, out, outlen);
}

/* ---- encode and sign in one go ---- */

static eac_err call_signer(cvc_sign_fn sign, void *ctx, cvc_alg alg, const uint8_t *tbs,
			   size_t tbslen, uint8_t sig[CVC_SIG_MAX], size_t *siglen)
{
	size_t n = CVC_SIG_MAX;
	if (!sign)
		return eac_fail(EAC_ERR_USAGE, "no signer");
	eac_err e = sign(ctx, alg, tbs, tbslen, sig, &n);
	if (e != EAC_OK)
		return e;
	if (n == 0 || n > CVC_SIG_MAX)
		return eac_fail(EAC_ERR_INTERNAL, "the signer returned %zu octets", n);
	*siglen = n;
	return EAC_OK;
}

eac_err cvc_encode_signed(const cvc_body *b, cvc_alg alg, cvc_sign_fn sign, void *ctx,
			  uint8_t **out, size_t *outlen)
{
	uint8_t *tbs = NULL, sig[CVC_SIG_MAX];
	size_t tbslen = 0, siglen = 0;
	eac_err e;

	if ((e = cvc_body_encode(b, &tbs, &tbslen)) != EAC_OK ||
	    (e = call_signer(sign, ctx, alg, tbs, tbslen, sig, &siglen)) != EAC_OK ||
	    (e = cvc_assemble(tbs, tbslen, sig, siglen, out, outlen)) != EAC_OK)
		goto out;
	e = EAC_OK;
out:
	free(tbs);
	return e;
}

eac_err cvc_auth_request_sign(const uint8_t *req, size_t reqlen, const cvc_ref *outer_car,
			      cvc_alg alg, cvc_sign_fn sign, void *ctx, uint8_t **out,
			      size_t *outlen)
{
	uint8_t *tbs = NULL, sig[CVC_SIG_MAX];
	size_t tbslen = 0, siglen = 0;
	eac_err e;

	if ((e = cvc_auth_request_tbs(req, reqlen, outer_car, &tbs, &tbslen)) != EAC_OK ||
	    (e = call_signer(sign, ctx, alg, tbs, tbslen, sig, &siglen)) != EAC_OK ||
	    (e = cvc_auth_request_assemble(req, reqlen, outer_car, sig, siglen, out, outlen)) !=
		    EAC_OK)
		goto out;
	e = EAC_OK;
out:
	free(tbs);
	return e;
}
