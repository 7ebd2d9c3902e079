/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The strict parser of certificates (TR-03110-3 C.1), requests (C.2) and
 * authenticated requests (C.2.6), and the accessors of a parsed object.
 * Every byte is read through the bounded reader of tlv.c; every field is
 * checked where it is read, and the error names its offset.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvc/internal.h"

/* ---- fields ---- */

static eac_err parse_ref(const cvc_tlv *t, const char *what, cvc_ref *out)
{
	if (cvc_ref_set(out, (const char *)t->value, t->vlen) != EAC_OK)
		return eac_fail_prefix(EAC_ERR_MALFORMED, "offset %zu: %s: ", t->voff, what);
	return EAC_OK;
}

/* D.2.1.3: six octets of unpacked BCD YYMMDD, year 20YY */
static eac_err parse_date(const cvc_tlv *t, const char *what, cvc_date *out)
{
	if (t->vlen != 6)
		return cvc_bad(t->voff, "%s has %zu octets; a date has 6 (YYMMDD, TR-03110-3 D.2.1.3)",
			       what, t->vlen);
	for (size_t i = 0; i < 6; i++)
		if (t->value[i] > 9)
			return cvc_bad(t->voff + i,
				       "%s digit 0x%02x is not unpacked BCD (00..09, TR-03110-3 D.2.1.3)",
				       what, t->value[i]);
	const uint8_t *v = t->value;
	cvc_date d = { (uint16_t)(2000 + v[0] * 10 + v[1]), (uint8_t)(v[2] * 10 + v[3]),
		       (uint8_t)(v[4] * 10 + v[5]) };
	if (!cvc_date_valid(&d))
		return cvc_bad(t->voff, "%s %04u-%02u-%02u is not a calendar date", what,
			       (unsigned)d.year, (unsigned)d.month, (unsigned)d.day);
	*out = d;
	return EAC_OK;
}

/* D.2.1.1: unsigned integers use the minimum number of octets */
static eac_err check_uint(const cvc_tlv *t, const char *what)
{
	if (t->vlen == 0)
		return cvc_bad(t->off, "%s is empty", what);
	if (t->vlen > 1 && t->value[0] == 0x00)
		return cvc_bad(t->voff,
			       "%s has a leading zero octet; unsigned integers are minimal (TR-03110-3 D.2.1.1)",
			       what);
	return EAC_OK;
}

static eac_err parse_oid(cvc_rd *r, const char *what, cvc_tlv *t)
{
	eac_err e = cvc_rd_expect(r, T_OID, what, t);
	if (e != EAC_OK)
		return e;
	if (!cvc_oid_valid(t->value, t->vlen))
		return cvc_bad(t->voff, "%s is not a valid object identifier encoding", what);
	return EAC_OK;
}

/* An EC point: uncompressed 04 || X || Y (D.2.1.2), each coordinate of the
 * field length. Without a known curve the length must fit one. */
static eac_err check_point(const cvc_tlv *t, const char *what, cvc_curve curve)
{
	if (t->vlen == 0)
		return cvc_bad(t->off, "%s is empty", what);
	if (t->value[0] != 0x04)
		return cvc_bad(t->voff,
			       "%s is not an uncompressed point (first octet %02x, not 04; TR-03110-3 D.2.1.2)",
			       what, t->value[0]);
	const cvc_curve_params *cp = cvc_curve_get(curve);
	if (cp) {
		if (t->vlen != 2 * cp->field_len + 1)
			return cvc_bad(t->off, "%s of %zu octets; %s points have %zu", what, t->vlen,
				       cvc_curve_name(curve), 2 * cp->field_len + 1);
		return EAC_OK;
	}
	size_t k = (t->vlen - 1) / 2;
	if (t->vlen % 2 == 0 || (k != 32 && k != 48 && k != 64))
		return cvc_unsupported(t->off, "%s of %zu octets fits no supported curve", what,
				       t->vlen);
	return EAC_OK;
}

/* Domain parameter `t` must be the curve's own value. */
static eac_err check_param(const cvc_tlv *t, const char *what, cvc_bytes want, cvc_curve c)
{
	cvc_bytes got = { t->value, t->vlen };
	if (!cvc_bytes_eq(got, want))
		return cvc_unsupported(t->voff, "%s does not match %s: unknown domain parameters",
				       what, cvc_curve_name(c));
	return EAC_OK;
}

static eac_err parse_ec_key(cvc_rd *r, cvc_pubkey *k)
{
	static const struct {
		uint32_t tag;
		const char *what;
	} params[5] = {
		{ 0x81, "prime modulus p (81)" },  { 0x82, "coefficient a (82)" },
		{ 0x83, "coefficient b (83)" },	   { 0x84, "base point G (84)" },
		{ 0x85, "order r (85)" },
	};
	eac_err e;
	cvc_tlv t;

	/* D.3.3: 81..85 all present or all absent; 87 only with them */
	if (cvc_rd_peek(r) == 0x81) {
		cvc_tlv pt[5];
		for (int i = 0; i < 5; i++) {
			if ((e = cvc_rd_expect(r, params[i].tag, params[i].what, &pt[i])) != EAC_OK)
				return e;
			if (i != 3 && (e = check_uint(&pt[i], params[i].what)) != EAC_OK)
				return e;
		}
		cvc_curve c = cvc_curve_by_prime(pt[0].value, pt[0].vlen);
		if (c == CVC_CURVE_NONE)
			return cvc_unsupported(pt[0].voff,
					       "prime modulus p matches no supported curve (brainpoolP256r1/P384r1/P512r1, P-256, P-384)");
		const cvc_curve_params *cp = cvc_curve_get(c);
		if ((e = check_param(&pt[1], params[1].what, cp->a, c)) != EAC_OK ||
		    (e = check_param(&pt[2], params[2].what, cp->b, c)) != EAC_OK ||
		    (e = check_point(&pt[3], params[3].what, c)) != EAC_OK ||
		    (e = check_param(&pt[3], params[3].what, cp->g, c)) != EAC_OK ||
		    (e = check_param(&pt[4], params[4].what, cp->n, c)) != EAC_OK)
			return e;
		k->has_params = 1;
		k->curve = c;
	}
	if ((e = cvc_rd_expect(r, 0x86, "public point Y (86)", &t)) != EAC_OK)
		return e;
	if ((e = check_point(&t, "public point Y (86)", k->curve)) != EAC_OK)
		return e;
	k->point.ptr = t.value;
	k->point.len = t.vlen;
	k->no_cofactor = k->has_params;
	if (cvc_rd_peek(r) == 0x87) {
		if ((e = cvc_rd_next(r, &t)) != EAC_OK)
			return e;
		if (!k->has_params)
			return cvc_bad(t.off,
				       "cofactor (87) without the other domain parameters (TR-03110-3 D.3.3)");
		if ((e = check_uint(&t, "cofactor f (87)")) != EAC_OK ||
		    (e = check_param(&t, "cofactor f (87)", cvc_curve_get(k->curve)->f, k->curve)) !=
			    EAC_OK)
			return e;
		k->no_cofactor = 0;
	}
	return cvc_rd_done(r, "the EC public key");
}

static eac_err parse_rsa_key(cvc_rd *r, cvc_pubkey *k)
{
	eac_err e;
	cvc_tlv n, x;

	if ((e = cvc_rd_expect(r, 0x81, "modulus n (81)", &n)) != EAC_OK ||
	    (e = check_uint(&n, "RSA modulus n (81)")) != EAC_OK)
		return e;
	unsigned top = n.value[0], bits = 0;
	while (top) {
		bits++;
		top >>= 1;
	}
	size_t nbits = (n.vlen - 1) * 8 + bits;
	if (nbits < CVC_RSA_MIN_BITS || nbits > CVC_RSA_MAX_BITS)
		return cvc_unsupported(n.voff, "RSA modulus of %zu bits; %d to %d are supported",
				       nbits, CVC_RSA_MIN_BITS, CVC_RSA_MAX_BITS);
	if ((e = cvc_rd_expect(r, 0x82, "public exponent e (82)", &x)) != EAC_OK ||
	    (e = check_uint(&x, "RSA public exponent e (82)")) != EAC_OK)
		return e;
	/* A.6.3.2: the exponent fits 32 bits; it must be odd and > 1 to be RSA */
	if (x.vlen > 4 || !(x.value[x.vlen - 1] & 1) || (x.vlen == 1 && x.value[0] < 3))
		return cvc_unsupported(x.voff,
				       "RSA public exponent must be odd, at least 3 and at most 32 bits (TR-03110-3 A.6.3.2)");
	k->n.ptr = n.value;
	k->n.len = n.vlen;
	k->e.ptr = x.value;
	k->e.len = x.vlen;
	return cvc_rd_done(r, "the RSA public key");
}

static eac_err parse_pubkey(const cvc_rd *parent, const cvc_tlv *kt, cvc_pubkey *k)
{
	char txt[80];
	cvc_rd r;
	cvc_tlv t;
	eac_err e;

	memset(k, 0, sizeof(*k));
	if ((e = cvc_rd_enter(parent, kt, &r)) != EAC_OK ||
	    (e = parse_oid(&r, "public key algorithm", &t)) != EAC_OK)
		return e;
	k->alg = cvc_alg_by_oid(t.value, t.vlen);
	if (k->alg == CVC_ALG_NONE) {
		cvc_bytes oid = { t.value, t.vlen };
		cvc_oid_text(oid, txt, sizeof(txt));
		return cvc_unsupported(t.voff,
				       "unknown public key algorithm OID %s (not one of the id-TA schemes)",
				       txt);
	}
	return cvc_alg_is_ec(k->alg) ? parse_ec_key(&r, k) : parse_rsa_key(&r, k);
}

static eac_err parse_chat(const cvc_rd *parent, const cvc_tlv *ct, cvc_chat *c)
{
	char txt[80];
	cvc_rd r;
	cvc_tlv oid, a;
	eac_err e;

	if ((e = cvc_rd_enter(parent, ct, &r)) != EAC_OK ||
	    (e = parse_oid(&r, "terminal type", &oid)) != EAC_OK)
		return e;
	cvc_chat_type type = cvc_chat_type_by_oid(oid.value, oid.vlen);
	if (type == CVC_CHAT_NONE) {
		cvc_bytes o = { oid.value, oid.vlen };
		cvc_oid_text(o, txt, sizeof(txt));
		return cvc_unsupported(oid.voff,
				       "unknown terminal type OID %s in the CHAT (id-IS, id-AT or id-ST)",
				       txt);
	}
	if ((e = cvc_rd_expect(&r, T_CHAT_AUTH, "", &a)) != EAC_OK)
		return e;
	/* TR-03110-3 C.4: id-AT has 5 octets, id-IS and id-ST 1 ([CVF P9]) */
	size_t want = type == CVC_CHAT_AT ? 5 : 1;
	if (a.vlen != want)
		return cvc_bad(a.off, "relative authorization of %zu octets; id-%s has %zu", a.vlen,
			       cvc_chat_type_name(type), want);
	if ((e = cvc_rd_done(&r, "the CHAT")) != EAC_OK)
		return e;
	memset(c, 0, sizeof(*c));
	c->type = type;
	memcpy(c->auth, a.value, a.vlen);
	c->len = (uint8_t)a.vlen;
	return EAC_OK;
}

/* C.3: a sequence of 73 templates, each an OID and data objects. The
 * extensions are not critical, so any well-formed OID is kept. */
static eac_err parse_exts(const cvc_rd *parent, const cvc_tlv *xt)
{
	cvc_rd r;
	eac_err e;

	if (xt->vlen == 0)
		return cvc_bad(xt->off, "empty certificate extensions object (65)");
	if ((e = cvc_rd_enter(parent, xt, &r)) != EAC_OK)
		return e;
	while (cvc_rd_more(&r)) {
		cvc_rd tr;
		cvc_tlv t, oid;
		if ((e = cvc_rd_expect(&r, T_DDT, "in the extensions", &t)) != EAC_OK ||
		    (e = cvc_rd_enter(&r, &t, &tr)) != EAC_OK ||
		    (e = parse_oid(&tr, "extension", &oid)) != EAC_OK || (e = cvc_rd_walk(&tr)) != EAC_OK)
			return e;
	}
	return EAC_OK;
}

/* The body 7F4E: C.1 (certificate) or C.2 (request), fixed order. */
static eac_err parse_body(const cvc_rd *parent, const cvc_tlv *bt, cvc_body *b, size_t *key_off)
{
	cvc_rd r;
	cvc_tlv t;
	eac_err e;

	memset(b, 0, sizeof(*b));
	if ((e = cvc_rd_enter(parent, bt, &r)) != EAC_OK ||
	    (e = cvc_rd_expect(&r, T_CPI, "", &t)) != EAC_OK)
		return e;
	if (t.vlen != 1)
		return cvc_bad(t.off, "certificate profile identifier of %zu octets; it has 1",
			       t.vlen);
	if (t.value[0] != 0)
		return cvc_unsupported(t.voff,
				       "certificate profile identifier %u; only 0 (version 1) is known (TR-03110-3 C.1.1)",
				       t.value[0]);
	if (cvc_rd_peek(&r) == T_CAR) {
		if ((e = cvc_rd_next(&r, &t)) != EAC_OK ||
		    (e = parse_ref(&t, "certification authority reference", &b->car)) != EAC_OK)
			return e;
		b->has_car = 1;
	}
	*key_off = r.pos;
	if ((e = cvc_rd_expect(&r, T_PUBKEY, "", &t)) != EAC_OK ||
	    (e = parse_pubkey(&r, &t, &b->key)) != EAC_OK ||
	    (e = cvc_rd_expect(&r, T_CHR, "", &t)) != EAC_OK ||
	    (e = parse_ref(&t, "certificate holder reference", &b->chr)) != EAC_OK)
		return e;
	if (cvc_rd_peek(&r) == T_CHAT) {
		if ((e = cvc_rd_next(&r, &t)) != EAC_OK || (e = parse_chat(&r, &t, &b->chat)) != EAC_OK)
			return e;
		b->has_chat = 1;
		cvc_tlv ef, ex;
		if ((e = cvc_rd_expect(&r, T_EFFECTIVE, "", &ef)) != EAC_OK ||
		    (e = parse_date(&ef, "effective date", &b->effective)) != EAC_OK ||
		    (e = cvc_rd_expect(&r, T_EXPIRY, "", &ex)) != EAC_OK ||
		    (e = parse_date(&ex, "expiration date", &b->expiry)) != EAC_OK)
			return e;
		if (cvc_date_cmp(&b->expiry, &b->effective) < 0)
			return cvc_bad(ex.voff, "expiration date precedes the effective date");
		b->has_dates = 1;
	}
	if (cvc_rd_peek(&r) == T_EXTS) {
		if ((e = cvc_rd_next(&r, &t)) != EAC_OK || (e = parse_exts(&r, &t)) != EAC_OK)
			return e;
		b->ext.ptr = t.value;
		b->ext.len = t.vlen;
	}
	if (cvc_rd_more(&r)) {
		/* name what came instead of what was possible */
		char buf[16];
		uint32_t tag = cvc_rd_peek(&r);
		if (tag == 0) /* unreadable: let the reader say why */
			return cvc_rd_next(&r, &t);
		const char *n = cvc_tag_name(tag);
		if (!n) {
			snprintf(buf, sizeof(buf), tag > 0xff ? "tag %04X" : "tag %02X", (unsigned)tag);
			n = buf;
		}
		return cvc_bad(r.pos, "unexpected %s in the certificate body (fixed order: TR-03110-3 C.1/C.2)",
			       n);
	}
	return EAC_OK;
}

/* A 7F21 TLV: body and signature. */
static eac_err parse_cvc(const cvc_rd *parent, const cvc_tlv *ct, cvc_obj *o)
{
	cvc_rd r;
	cvc_tlv bt, st;
	size_t key_off = 0;
	eac_err e;

	if ((e = cvc_rd_enter(parent, ct, &r)) != EAC_OK ||
	    (e = cvc_rd_expect(&r, T_BODY, "", &bt)) != EAC_OK ||
	    (e = parse_body(&r, &bt, &o->body, &key_off)) != EAC_OK ||
	    (e = cvc_rd_expect(&r, T_SIG, "", &st)) != EAC_OK)
		return e;
	if (st.vlen == 0)
		return cvc_bad(st.off, "empty signature");
	if (st.vlen > CVC_SIG_MAX)
		return cvc_bad(st.off, "signature of %zu octets; at most %d are possible", st.vlen,
			       CVC_SIG_MAX);
	if ((e = cvc_rd_done(&r, "the signature")) != EAC_OK)
		return e;
	o->tbs.ptr = r.base + bt.off;
	o->tbs.len = bt.voff + bt.vlen - bt.off;
	o->sig.ptr = st.value;
	o->sig.len = st.vlen;
	o->inner.ptr = r.base + ct->off;
	o->inner.len = ct->voff + ct->vlen - ct->off;

	const cvc_body *b = &o->body;
	o->kind = b->has_chat ? CVC_KIND_CERT : CVC_KIND_REQUEST;
	if (o->kind == CVC_KIND_CERT && !b->has_car)
		return cvc_bad(key_off, "certificate without a certification authority reference (42)");
	/* D.3.3: requests MUST carry domain parameters; DV and terminal
	 * certificates MUST NOT (they inherit the CVCA's) */
	if (cvc_alg_is_ec(b->key.alg)) {
		if (o->kind == CVC_KIND_REQUEST && !b->key.has_params)
			return cvc_bad(key_off,
				       "request public key without domain parameters (TR-03110-3 D.3.3)");
		if (o->kind == CVC_KIND_CERT && b->key.has_params &&
		    cvc_chat_role(&b->chat) != CVC_ROLE_CVCA)
			return cvc_bad(key_off,
				       "%s certificate with domain parameters; only CVCA certificates carry them (TR-03110-3 D.3.3)",
				       cvc_role_name(cvc_chat_role(&b->chat)));
	}
	return EAC_OK;
}

/* ---- the object ---- */

eac_err cvc_parse_kind(const uint8_t *buf, size_t len, cvc_kind want, cvc_obj **out)
{
	eac_err e = EAC_ERR_INTERNAL;
	cvc_obj *o = NULL;
	cvc_rd r;
	cvc_tlv top;

	if (len == 0) {
		e = cvc_bad(0, "empty input");
		goto out;
	}
	if (len > CVC_MAX_SIZE) {
		e = cvc_bad(0, "input of %zu bytes exceeds the limit of %d bytes", len, CVC_MAX_SIZE);
		goto out;
	}
	if ((o = calloc(1, sizeof(*o))) == NULL || (o->buf = malloc(len)) == NULL) {
		e = eac_fail(EAC_ERR_NOMEM, "out of memory parsing a CV object");
		goto out;
	}
	memcpy(o->buf, buf, len);
	o->len = len;
	cvc_rd_init(&r, o->buf, len);
	if ((e = cvc_rd_next(&r, &top)) != EAC_OK)
		goto out;
	if (top.tag == T_CVC) {
		if ((e = cvc_rd_done(&r, "the certificate")) != EAC_OK ||
		    (e = parse_cvc(&r, &top, o)) != EAC_OK)
			goto out;
	} else if (top.tag == T_AUTH) {
		cvc_rd ar;
		cvc_tlv ct, car, sig;
		if ((e = cvc_rd_done(&r, "the authenticated request")) != EAC_OK ||
		    (e = cvc_rd_enter(&r, &top, &ar)) != EAC_OK ||
		    (e = cvc_rd_expect(&ar, T_CVC, "(the request)", &ct)) != EAC_OK ||
		    (e = parse_cvc(&ar, &ct, o)) != EAC_OK)
			goto out;
		if (o->kind != CVC_KIND_REQUEST) {
			e = cvc_bad(ct.off, "the authentication object (67) holds a certificate, not a request");
			goto out;
		}
		if ((e = cvc_rd_expect(&ar, T_CAR, "(outer)", &car)) != EAC_OK ||
		    (e = parse_ref(&car, "outer certification authority reference", &o->outer_car)) !=
			    EAC_OK ||
		    (e = cvc_rd_expect(&ar, T_SIG, "(outer)", &sig)) != EAC_OK)
			goto out;
		if (sig.vlen == 0) {
			e = cvc_bad(sig.off, "empty outer signature");
			goto out;
		}
		if (sig.vlen > CVC_SIG_MAX) {
			e = cvc_bad(sig.off, "outer signature of %zu octets; at most %d are possible",
				    sig.vlen, CVC_SIG_MAX);
			goto out;
		}
		if ((e = cvc_rd_done(&ar, "the outer signature")) != EAC_OK)
			goto out;
		o->kind = CVC_KIND_AUTH_REQUEST;
		o->has_outer = 1;
		o->outer_sig.ptr = sig.value;
		o->outer_sig.len = sig.vlen;
		/* C.2.6: the 7F21 TLV and the 42 TLV, adjacent in the encoding */
		o->outer_tbs.ptr = o->buf + ct.off;
		o->outer_tbs.len = car.voff + car.vlen - ct.off;
	} else {
		char buf2[16];
		const char *n = cvc_tag_name(top.tag);
		if (!n) {
			snprintf(buf2, sizeof(buf2), top.tag > 0xff ? "tag %04X" : "tag %02X",
				 (unsigned)top.tag);
			n = buf2;
		}
		e = cvc_bad(0, "expected 7F21 (CV certificate) or 67 (authentication), found %s", n);
		goto out;
	}
	if (want == CVC_KIND_CERT && o->kind != CVC_KIND_CERT) {
		e = cvc_bad(0, "not a certificate (found %s)", cvc_kind_name(o->kind));
		goto out;
	}
	if (want == CVC_KIND_REQUEST && o->kind == CVC_KIND_CERT) {
		e = cvc_bad(0, "not a request (found certificate)");
		goto out;
	}
	*out = o;
	o = NULL;
	e = EAC_OK;
out:
	cvc_obj_free(o);
	return e;
}

eac_err cvc_parse(const uint8_t *buf, size_t len, cvc_obj **out)
{
	return cvc_parse_kind(buf, len, CVC_KIND_NONE, out);
}

eac_err cvc_parse_cert(const uint8_t *buf, size_t len, cvc_obj **out)
{
	return cvc_parse_kind(buf, len, CVC_KIND_CERT, out);
}

eac_err cvc_parse_request(const uint8_t *buf, size_t len, cvc_obj **out)
{
	return cvc_parse_kind(buf, len, CVC_KIND_REQUEST, out);
}

void cvc_obj_free(cvc_obj *o)
{
	if (!o)
		return;
	free(o->buf);
	free(o);
}

const char *cvc_kind_name(cvc_kind k)
{
	switch (k) {
	case CVC_KIND_CERT: return "certificate";
	case CVC_KIND_REQUEST: return "request";
	case CVC_KIND_AUTH_REQUEST: return "authenticated request";
	default: return "?";
	}
}

cvc_kind cvc_obj_kind(const cvc_obj *o)
{
	return o->kind;
}

const cvc_body *cvc_obj_body(const cvc_obj *o)
{
	return &o->body;
}

cvc_role cvc_obj_role(const cvc_obj *o)
{
	return o->body.has_chat ? cvc_chat_role(&o->body.chat) : CVC_ROLE_TERMINAL;
}

cvc_bytes cvc_obj_encoding(const cvc_obj *o)
{
	cvc_bytes b = { o->buf, o->len };
	return b;
}

cvc_bytes cvc_obj_tbs(const cvc_obj *o)
{
	return o->tbs;
}

cvc_bytes cvc_obj_signature(const cvc_obj *o)
{
	return o->sig;
}

cvc_bytes cvc_obj_inner(const cvc_obj *o)
{
	return o->inner;
}

const cvc_ref *cvc_obj_outer_car(const cvc_obj *o)
{
	return o->has_outer ? &o->outer_car : NULL;
}

cvc_bytes cvc_obj_outer_signature(const cvc_obj *o)
{
	return o->outer_sig;
}

cvc_bytes cvc_obj_outer_tbs(const cvc_obj *o)
{
	return o->outer_tbs;
}

int cvc_obj_self_signed(const cvc_obj *o)
{
	return o->kind == CVC_KIND_CERT && o->body.has_car && o->body.car.len == o->body.chr.len &&
	       memcmp(o->body.car.s, o->body.chr.s, o->body.chr.len) == 0;
}

eac_err cvc_obj_fingerprint(const cvc_obj *o, uint8_t out[static EAC_SHA256_LEN])
{
	return eac_sha256(o->buf, o->len, out);
}

eac_err cvc_ext_next(cvc_bytes ext, size_t *pos, cvc_ext *out)
{
	cvc_rd r;
	cvc_rd tr;
	cvc_tlv t, oid;
	eac_err e;

	if (*pos >= ext.len)
		return EAC_ERR_NOT_FOUND;
	cvc_rd_init(&r, ext.ptr, ext.len);
	r.pos = *pos;
	if ((e = cvc_rd_expect(&r, T_DDT, "in the extensions", &t)) != EAC_OK ||
	    (e = cvc_rd_enter(&r, &t, &tr)) != EAC_OK ||
	    (e = cvc_rd_expect(&tr, T_OID, "(extension)", &oid)) != EAC_OK)
		return e;
	if (!cvc_oid_valid(oid.value, oid.vlen))
		return cvc_bad(oid.voff, "extension OID is not a valid encoding");
	cvc_rd data = tr;
	if ((e = cvc_rd_walk(&data)) != EAC_OK)
		return e;
	out->oid.ptr = oid.value;
	out->oid.len = oid.vlen;
	out->data.ptr = ext.ptr + tr.pos;
	out->data.len = tr.end - tr.pos;
	*pos = r.pos;
	return EAC_OK;
}
