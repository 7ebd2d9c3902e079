/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Keys: generation in the token, lookup, the protection check and the
 * public half. A CA private key is generated in the token and never leaves
 * it (CP-4.5a, CP-4.12); the only evidence a PKCS#11 token gives of that is
 * CKA_LOCAL (generated on the token), CKA_ALWAYS_SENSITIVE and
 * CKA_NEVER_EXTRACTABLE (never readable or wrappable in its life), so every
 * key is checked for them before it may sign.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>

#include "hsm/internal.h"

/* ---- curves ---- */

static const struct {
	uint8_t oid[12]; /* DER of the namedCurve OID: CKA_EC_PARAMS */
	size_t oid_len;
	size_t order_len; /* bytes of the group order = of the field, for these curves */
} curves[CVC_CURVE__COUNT] = {
	/* 1.3.36.3.3.2.8.1.1.7, .11, .13 (RFC 5639) */
	[CVC_CURVE_BP256R1] = { { 0x06, 0x09, 0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x07 },
				11, 32 },
	[CVC_CURVE_BP384R1] = { { 0x06, 0x09, 0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0b },
				11, 48 },
	[CVC_CURVE_BP512R1] = { { 0x06, 0x09, 0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0d },
				11, 64 },
	/* 1.2.840.10045.3.1.7 */
	[CVC_CURVE_P256] = { { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 }, 10, 32 },
	/* 1.3.132.0.34 */
	[CVC_CURVE_P384] = { { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 }, 7, 48 },
};

const uint8_t *hsm_curve_oid(cvc_curve c, size_t *len)
{
	if (c <= CVC_CURVE_NONE || c >= CVC_CURVE__COUNT)
		return NULL;
	*len = curves[c].oid_len;
	return curves[c].oid;
}

cvc_curve hsm_curve_from_params(const uint8_t *der, size_t len)
{
	for (int c = CVC_CURVE_NONE + 1; c < CVC_CURVE__COUNT; c++)
		if (len == curves[c].oid_len && memcmp(der, curves[c].oid, len) == 0)
			return (cvc_curve)c;
	return CVC_CURVE_NONE;
}

size_t hsm_curve_order_len(cvc_curve c)
{
	return c > CVC_CURVE_NONE && c < CVC_CURVE__COUNT ? curves[c].order_len : 0;
}

eac_err hsm_keyspec_parse(const char *s, hsm_keyspec *out)
{
	hsm_keyspec k = { 0 };

	if (s == NULL)
		return eac_fail(EAC_ERR_USAGE, "no key specification");
	if (strncasecmp(s, "rsa", 3) == 0) {
		char *end;
		unsigned long bits = strtoul(s + 3, &end, 10);
		if (s[3] < '0' || s[3] > '9' || *end != '\0' || bits < HSM_RSA_MIN_BITS ||
		    bits > HSM_RSA_MAX_BITS || bits % 8 != 0)
			return eac_fail(EAC_ERR_UNSUPPORTED,
					"key '%s' refused: RSA keys are rsa%d to rsa%d (a multiple of 8 bits)",
					s, HSM_RSA_MIN_BITS, HSM_RSA_MAX_BITS);
		k.type = HSM_KEY_RSA;
		k.rsa_bits = (unsigned)bits;
	} else {
		k.type = HSM_KEY_EC;
		k.curve = cvc_curve_from_name(s);
		if (k.curve == CVC_CURVE_NONE)
			return eac_fail(EAC_ERR_UNSUPPORTED,
					"curve '%s' refused: keys are brainpoolP256r1, brainpoolP384r1, brainpoolP512r1, P-256, P-384 or rsa2048..rsa4096",
					s);
	}
	*out = k;
	return EAC_OK;
}

/* ---- attributes ---- */

static const char *key_name(const hsm_key_info *i)
{
	return i->label[0] ? i->label : "(no label)";
}

/* C_GetAttributeValue, tolerating attributes the object does not have
 * (their ulValueLen comes back as CK_UNAVAILABLE_INFORMATION). */
static eac_err get_attrs(hsm_ctx *ctx, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE *t,
			 CK_ULONG n, const char *what)
{
	CK_RV rv = ctx->f->C_GetAttributeValue(s, o, t, n);
	if (rv != CKR_OK && rv != CKR_ATTRIBUTE_TYPE_INVALID && rv != CKR_ATTRIBUTE_SENSITIVE)
		return hsm_ckr_fail(rv, ctx->info.label, "reading the attributes of %s", what);
	return EAC_OK;
}

static int attr_bool(const CK_ATTRIBUTE *a)
{
	return a->ulValueLen == sizeof(CK_BBOOL) && *(const CK_BBOOL *)a->pValue == CK_TRUE;
}

static int attr_have(const CK_ATTRIBUTE *a)
{
	return a->ulValueLen != CK_UNAVAILABLE_INFORMATION;
}

/* Bits of an unsigned big-endian number. */
static unsigned be_bits(const uint8_t *b, size_t len)
{
	while (len > 0 && b[0] == 0) {
		b++;
		len--;
	}
	if (len == 0)
		return 0;
	unsigned bits = (unsigned)(len - 1) * 8;
	for (uint8_t v = b[0]; v; v >>= 1)
		bits++;
	return bits;
}

/* Everything read from a private key object. */
typedef struct priv_attrs {
	hsm_key_info info;
	CK_KEY_TYPE kt;
	uint8_t params[64];
	size_t params_len;
	uint8_t modulus[HSM_RSA_MAX_BITS / 8 + 1];
	size_t modulus_len;
	uint8_t exponent[16];
	size_t exponent_len;
} priv_attrs;

static eac_err read_private(hsm_ctx *ctx, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, priv_attrs *pa)
{
	CK_BBOOL b[10] = { 0 };
	eac_err r;

	memset(pa, 0, sizeof(*pa));
	pa->kt = CKK_VENDOR_DEFINED;
	CK_ATTRIBUTE t[] = {
		{ CKA_KEY_TYPE, &pa->kt, sizeof(pa->kt) },
		{ CKA_TOKEN, &b[0], 1 },
		{ CKA_PRIVATE, &b[1], 1 },
		{ CKA_SENSITIVE, &b[2], 1 },
		{ CKA_EXTRACTABLE, &b[3], 1 },
		{ CKA_ALWAYS_SENSITIVE, &b[4], 1 },
		{ CKA_NEVER_EXTRACTABLE, &b[5], 1 },
		{ CKA_LOCAL, &b[6], 1 },
		{ CKA_SIGN, &b[7], 1 },
		{ CKA_ALWAYS_AUTHENTICATE, &b[8], 1 },
		{ CKA_LABEL, pa->info.label, sizeof(pa->info.label) - 1 },
		{ CKA_ID, pa->info.id, sizeof(pa->info.id) },
		{ CKA_EC_PARAMS, pa->params, sizeof(pa->params) },
		{ CKA_MODULUS, pa->modulus, sizeof(pa->modulus) },
		{ CKA_PUBLIC_EXPONENT, pa->exponent, sizeof(pa->exponent) },
	};
	if ((r = get_attrs(ctx, s, o, t, sizeof(t) / sizeof(t[0]), "a private key")) != EAC_OK)
		return r;
	hsm_key_info *i = &pa->info;
	i->label[attr_have(&t[10]) ? t[10].ulValueLen : 0] = '\0';
	if (memchr(i->label, '\0', attr_have(&t[10]) ? t[10].ulValueLen : 0) != NULL)
		i->label[0] = '\0'; /* a label with NUL bytes names nothing we can print */
	i->id_len = attr_have(&t[11]) ? t[11].ulValueLen : 0;
	pa->params_len = attr_have(&t[12]) ? t[12].ulValueLen : 0;
	pa->modulus_len = attr_have(&t[13]) ? t[13].ulValueLen : 0;
	pa->exponent_len = attr_have(&t[14]) ? t[14].ulValueLen : 0;
	i->token = attr_bool(&t[1]);
	i->private_ = attr_bool(&t[2]);
	i->sensitive = attr_bool(&t[3]);
	/* a missing CKA_EXTRACTABLE is not "false": only an explicit false counts */
	i->extractable = !(attr_have(&t[4]) && t[4].ulValueLen == 1 && b[3] == CK_FALSE);
	i->always_sensitive = attr_bool(&t[5]);
	i->never_extractable = attr_bool(&t[6]);
	i->local = attr_bool(&t[7]);
	i->sign = attr_bool(&t[8]);
	i->always_authenticate = attr_bool(&t[9]);
	if (!attr_have(&t[0]))
		pa->kt = CKK_VENDOR_DEFINED;
	if (pa->kt == CKK_EC) {
		i->type = HSM_KEY_EC;
		i->curve = hsm_curve_from_params(pa->params, pa->params_len);
		i->bits = cvc_curve_bits(i->curve);
	} else if (pa->kt == CKK_RSA) {
		i->type = HSM_KEY_RSA;
		i->bits = be_bits(pa->modulus, pa->modulus_len);
	}
	return EAC_OK;
}

/* CP-4.5a / CP-4.12: the attributes that show the key was made in the
 * token and could never be read or wrapped out of it. */
static eac_err check_protected(const hsm_ctx *ctx, const hsm_key_info *i)
{
	char missing[256] = "";
	static const char sep[] = ", ";
#define NEED(cond, name)                                           \
	do {                                                           \
		if (!(cond)) {                                             \
			if (missing[0] != '\0')                                \
				strcat(missing, sep);                              \
			strcat(missing, name);                                 \
		}                                                          \
	} while (0)
	NEED(i->token, "CKA_TOKEN false");
	NEED(i->private_, "CKA_PRIVATE false");
	NEED(i->sensitive, "CKA_SENSITIVE false");
	NEED(!i->extractable, "CKA_EXTRACTABLE true");
	NEED(i->always_sensitive, "CKA_ALWAYS_SENSITIVE false");
	NEED(i->never_extractable, "CKA_NEVER_EXTRACTABLE false");
	NEED(i->local, "CKA_LOCAL false");
#undef NEED
	if (missing[0] != '\0')
		return eac_fail(EAC_ERR_KEY_UNPROTECTED,
				"token %s: key %s is not token-protected (%s): only a key generated in the token and never extractable may sign (CP-4.5a, CP-4.12)",
				ctx->info.label, key_name(i), missing);
	return EAC_OK;
}

static eac_err check_usable(const hsm_ctx *ctx, const priv_attrs *pa)
{
	const hsm_key_info *i = &pa->info;
	const char *l = ctx->info.label;

	if (i->type == HSM_KEY_NONE)
		return eac_fail(EAC_ERR_UNSUPPORTED, "token %s: key %s has type 0x%lx; only EC and RSA keys sign",
				l, key_name(i), (unsigned long)pa->kt);
	if (i->type == HSM_KEY_EC && i->curve == CVC_CURVE_NONE)
		return eac_fail(EAC_ERR_UNSUPPORTED,
				"token %s: key %s is on a curve this appliance does not use (brainpoolP256r1/384r1/512r1, P-256, P-384)",
				l, key_name(i));
	if (i->type == HSM_KEY_RSA && (i->bits < HSM_RSA_MIN_BITS || i->bits > HSM_RSA_MAX_BITS))
		return eac_fail(EAC_ERR_UNSUPPORTED,
				"token %s: key %s is RSA-%u; RSA keys are %d to %d bits", l, key_name(i),
				i->bits, HSM_RSA_MIN_BITS, HSM_RSA_MAX_BITS);
	if (!i->sign)
		return eac_fail(EAC_ERR_MECHANISM, "token %s: key %s may not sign (CKA_SIGN false)", l,
				key_name(i));
	if (i->always_authenticate)
		return eac_fail(EAC_ERR_UNSUPPORTED,
				"token %s: key %s needs the PIN for every signature (CKA_ALWAYS_AUTHENTICATE); batch issuance cannot use it",
				l, key_name(i));
	return EAC_OK;
}

/* ---- the public half ---- */

/* CKA_EC_POINT: DER OCTET STRING around 04||X||Y as PKCS#11 says, or the
 * bare point as some modules return it. */
static eac_err ec_point(const uint8_t *v, size_t len, size_t field, const uint8_t **pt)
{
	size_t want = 1 + 2 * field;
	if (len >= 2 && v[0] == 0x04) {
		size_t hl = 0, l = 0;
		if (v[1] < 0x80) {
			hl = 2;
			l = v[1];
		} else if (v[1] == 0x81 && len >= 3) {
			hl = 3;
			l = v[2];
		}
		if (hl != 0 && hl + l == len && l == want && v[hl] == 0x04) {
			*pt = v + hl;
			return EAC_OK;
		}
	}
	if (len == want && v[0] == 0x04) {
		*pt = v;
		return EAC_OK;
	}
	return eac_fail(EAC_ERR_TOKEN, "the token's CKA_EC_POINT is not an uncompressed point");
}

static eac_err make_ec_pkey(cvc_curve c, const uint8_t *pt, size_t ptlen, EVP_PKEY **out)
{
	eac_err r = EAC_ERR_INTERNAL;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pc = NULL;
	EVP_PKEY *pk = NULL;
	const char *group = OBJ_nid2sn(cvc_curve_nid(c));

	if (bld == NULL || group == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, ptlen) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(pc) != 1) {
		r = eac_fail(EAC_ERR_INTERNAL, "OpenSSL cannot make an EC public key");
		goto out;
	}
	/* fromdata decodes the point, which refuses one not on the curve */
	if (EVP_PKEY_fromdata(pc, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		r = eac_fail(EAC_ERR_TOKEN, "the token's public point is not on %s", cvc_curve_name(c));
		goto out;
	}
	*out = pk;
	pk = NULL;
	r = EAC_OK;
out:
	EVP_PKEY_free(pk);
	EVP_PKEY_CTX_free(pc);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return r;
}

static eac_err make_rsa_pkey(const uint8_t *n, size_t nlen, const uint8_t *e, size_t elen,
			     EVP_PKEY **out)
{
	eac_err r = EAC_ERR_INTERNAL;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pc = NULL;
	EVP_PKEY *pk = NULL;
	BIGNUM *bn = BN_bin2bn(n, (int)nlen, NULL), *be = BN_bin2bn(e, (int)elen, NULL);

	if (bld == NULL || bn == NULL || be == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (pc = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(pc) != 1 ||
	    EVP_PKEY_fromdata(pc, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		r = eac_fail(EAC_ERR_INTERNAL, "OpenSSL cannot make an RSA public key");
		goto out;
	}
	*out = pk;
	pk = NULL;
	r = EAC_OK;
out:
	EVP_PKEY_free(pk);
	EVP_PKEY_CTX_free(pc);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return r;
}

/* Find objects matching a template; up to `max` handles, *n how many (a
 * count of max means "max or more"). */
static eac_err find_objects(hsm_ctx *ctx, CK_SESSION_HANDLE s, CK_ATTRIBUTE *t, CK_ULONG nt,
			    CK_OBJECT_HANDLE *h, CK_ULONG max, CK_ULONG *n)
{
	CK_RV rv = ctx->f->C_FindObjectsInit(s, t, nt);
	if (rv != CKR_OK)
		return hsm_ckr_fail(rv, ctx->info.label, "searching the token");
	rv = ctx->f->C_FindObjects(s, h, max, n);
	CK_RV rv2 = ctx->f->C_FindObjectsFinal(s);
	if (rv == CKR_OK)
		rv = rv2;
	if (rv != CKR_OK)
		return hsm_ckr_fail(rv, ctx->info.label, "searching the token");
	return EAC_OK;
}

/* The public key object with the private key's id (or, without an id, its
 * label), checked to be the same key pair. */
static eac_err load_public(hsm_ctx *ctx, CK_SESSION_HANDLE s, const priv_attrs *pa,
			   EVP_PKEY **out)
{
	const hsm_key_info *i = &pa->info;
	const char *l = ctx->info.label;
	CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
	CK_OBJECT_HANDLE h[2];
	CK_ULONG n = 0;
	eac_err r;
	CK_ATTRIBUTE t[2] = { { CKA_CLASS, &cls, sizeof(cls) } };

	if (i->id_len > 0)
		t[1] = (CK_ATTRIBUTE){ CKA_ID, (void *)i->id, i->id_len };
	else
		t[1] = (CK_ATTRIBUTE){ CKA_LABEL, (void *)i->label, strlen(i->label) };
	if ((r = find_objects(ctx, s, t, 2, h, 2, &n)) != EAC_OK)
		return r;
	if (n == 0 && i->type == HSM_KEY_RSA && pa->modulus_len > 0 && pa->exponent_len > 0)
		return make_rsa_pkey(pa->modulus, pa->modulus_len, pa->exponent, pa->exponent_len, out);
	if (n == 0)
		return eac_fail(EAC_ERR_KEY_NOT_FOUND, "token %s: key %s has no public key object", l,
				key_name(i));
	if (n > 1)
		return eac_fail(EAC_ERR_STATE,
				"token %s: key %s: several public key objects carry its id; refusing to guess",
				l, key_name(i));

	CK_KEY_TYPE kt = CKK_VENDOR_DEFINED;
	uint8_t params[64], point[160], modulus[HSM_RSA_MAX_BITS / 8 + 1], exponent[16];
	CK_ATTRIBUTE p[] = {
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_EC_PARAMS, params, sizeof(params) },
		{ CKA_EC_POINT, point, sizeof(point) },
		{ CKA_MODULUS, modulus, sizeof(modulus) },
		{ CKA_PUBLIC_EXPONENT, exponent, sizeof(exponent) },
	};
	if ((r = get_attrs(ctx, s, h[0], p, 5, "a public key")) != EAC_OK)
		return r;
	if (!attr_have(&p[0]) || kt != pa->kt)
		return eac_fail(EAC_ERR_STATE, "token %s: key %s: the public key object is of another type",
				l, key_name(i));
	if (i->type == HSM_KEY_EC) {
		const uint8_t *pt = NULL;
		size_t field = hsm_curve_order_len(i->curve);
		if (!attr_have(&p[1]) || p[1].ulValueLen != pa->params_len ||
		    memcmp(params, pa->params, pa->params_len) != 0)
			return eac_fail(EAC_ERR_STATE,
					"token %s: key %s: the public key object is on another curve", l,
					key_name(i));
		if (!attr_have(&p[2]))
			return eac_fail(EAC_ERR_TOKEN, "token %s: key %s: public key without CKA_EC_POINT",
					l, key_name(i));
		if ((r = ec_point(point, p[2].ulValueLen, field, &pt)) != EAC_OK)
			return eac_fail_prefix(r, "token %s: key %s: ", l, key_name(i));
		return make_ec_pkey(i->curve, pt, 1 + 2 * field, out);
	}
	if (!attr_have(&p[3]) || !attr_have(&p[4]) || p[3].ulValueLen == 0 || p[4].ulValueLen == 0)
		return eac_fail(EAC_ERR_TOKEN, "token %s: key %s: public key without modulus or exponent",
				l, key_name(i));
	if (pa->modulus_len > 0 &&
	    (p[3].ulValueLen != pa->modulus_len || memcmp(modulus, pa->modulus, pa->modulus_len) != 0))
		return eac_fail(EAC_ERR_STATE,
				"token %s: key %s: the public key object has another modulus", l,
				key_name(i));
	return make_rsa_pkey(modulus, p[3].ulValueLen, exponent, p[4].ulValueLen, out);
}

static void key_make_uri(hsm_key *k)
{
	const hsm_token_info *t = &k->ctx->info;
	hsm_uri u;

	memset(&u, 0, sizeof(u));
	u.has = HSM_URI_HAS_MODEL | HSM_URI_HAS_MANUFACTURER | HSM_URI_HAS_SERIAL | HSM_URI_HAS_TOKEN |
		HSM_URI_HAS_TYPE;
	snprintf(u.model, sizeof(u.model), "%s", t->model);
	snprintf(u.manufacturer, sizeof(u.manufacturer), "%s", t->manufacturer);
	snprintf(u.serial, sizeof(u.serial), "%s", t->serial);
	snprintf(u.token, sizeof(u.token), "%s", t->label);
	u.type = HSM_URI_TYPE_PRIVATE;
	if (k->id_len > 0) {
		u.has |= HSM_URI_HAS_ID;
		memcpy(u.id, k->id, k->id_len);
		u.id_len = k->id_len;
	}
	if (k->label[0] != '\0') {
		u.has |= HSM_URI_HAS_OBJECT;
		snprintf(u.object, sizeof(u.object), "%s", k->label);
	}
	if (hsm_uri_format(&u, k->uri, sizeof(k->uri)) != EAC_OK)
		k->uri[0] = '\0'; /* cannot happen: every field is bounded */
}

/* A key from its private object: attributes checked, public half loaded. */
static eac_err key_load(hsm_ctx *ctx, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, hsm_key **out)
{
	eac_err r;
	priv_attrs pa;
	hsm_key *k = NULL;

	if ((r = read_private(ctx, s, o, &pa)) != EAC_OK || (r = check_protected(ctx, &pa.info)) != EAC_OK ||
	    (r = check_usable(ctx, &pa)) != EAC_OK)
		goto out;
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		r = eac_fail(EAC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = load_public(ctx, s, &pa, &k->pub)) != EAC_OK)
		goto out;
	if (pa.info.type == HSM_KEY_RSA && (unsigned)EVP_PKEY_get_bits(k->pub) != pa.info.bits) {
		r = eac_fail(EAC_ERR_STATE, "token %s: key %s: public and private modulus differ",
			     ctx->info.label, key_name(&pa.info));
		goto out;
	}
	k->priv = o;
	k->type = pa.info.type;
	k->curve = pa.info.curve;
	k->bits = pa.info.bits;
	k->sig_len = k->type == HSM_KEY_EC ? 2 * hsm_curve_order_len(k->curve) : (k->bits + 7) / 8;
	snprintf(k->label, sizeof(k->label), "%s", pa.info.label);
	memcpy(k->id, pa.info.id, pa.info.id_len);
	k->id_len = pa.info.id_len;
	k->ctx = ctx;
	atomic_fetch_add(&ctx->refs, 1);
	key_make_uri(k);
	*out = k;
	k = NULL;
	r = EAC_OK;
out:
	if (k != NULL) {
		EVP_PKEY_free(k->pub);
		free(k);
	}
	return r;
}

/* Keep a pooled session after errors of our own making; close it after the
 * token failed, its state being unknown. */
static void release(hsm_ctx *ctx, CK_SESSION_HANDLE s, eac_err r)
{
	switch (r) {
	case EAC_ERR_TOKEN:
	case EAC_ERR_DEVICE_REMOVED:
	case EAC_ERR_TOKEN_ABSENT:
	case EAC_ERR_INTERNAL:
	case EAC_ERR_NOMEM:
		hsm_session_drop(ctx, s);
		break;
	default:
		hsm_session_put(ctx, s);
	}
}

/* ---- finding ---- */

static eac_err check_same_token(const hsm_ctx *ctx, const hsm_uri *u, const char *uri)
{
	const hsm_token_info *t = &ctx->info;
	const char *what = NULL;
	const char *want = NULL;

	if ((u->has & HSM_URI_HAS_TOKEN) && strcmp(u->token, t->label) != 0) {
		what = "token";
		want = u->token;
	} else if ((u->has & HSM_URI_HAS_SERIAL) && strcmp(u->serial, t->serial) != 0) {
		what = "serial";
		want = u->serial;
	} else if ((u->has & HSM_URI_HAS_MANUFACTURER) && strcmp(u->manufacturer, t->manufacturer) != 0) {
		what = "manufacturer";
		want = u->manufacturer;
	} else if ((u->has & HSM_URI_HAS_MODEL) && strcmp(u->model, t->model) != 0) {
		what = "model";
		want = u->model;
	} else if ((u->has & HSM_URI_HAS_SLOT_ID) && u->slot_id != t->slot_id) {
		return eac_fail(EAC_ERR_POLICY,
				"refused: key URI %s names slot %lu, not the configured token %s (slot %lu) (CP-4.5a)",
				uri, u->slot_id, t->label, t->slot_id);
	}
	if (what != NULL)
		return eac_fail(EAC_ERR_POLICY,
				"refused: key URI %s names %s '%s', not the configured token %s: this engine signs only with its own token's keys (CP-4.5a)",
				uri, what, want, t->label);
	return EAC_OK;
}

eac_err hsm_key_find(hsm_ctx *ctx, const char *uri_or_label, hsm_key **out)
{
	eac_err r;
	hsm_uri u;
	CK_SESSION_HANDLE s;
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_OBJECT_HANDLE h[2];
	CK_ULONG n = 0, nt = 1;
	CK_ATTRIBUTE t[3] = { { CKA_CLASS, &cls, sizeof(cls) } };
	char desc[HSM_URI_MAX + 32];

	if (ctx == NULL || uri_or_label == NULL || out == NULL)
		return eac_fail(EAC_ERR_USAGE, "hsm_key_find: token and key name required");
	if (strncasecmp(uri_or_label, "pkcs11:", 7) == 0) {
		if ((r = hsm_uri_parse(uri_or_label, &u)) != EAC_OK)
			return r;
	} else {
		memset(&u, 0, sizeof(u));
		if (uri_or_label[0] == '\0' || strlen(uri_or_label) > HSM_URI_OBJECT_MAX)
			return eac_fail(EAC_ERR_USAGE, "key label must be 1 to %d characters",
					HSM_URI_OBJECT_MAX);
		u.has = HSM_URI_HAS_OBJECT;
		snprintf(u.object, sizeof(u.object), "%s", uri_or_label);
	}
	if (!(u.has & (HSM_URI_HAS_OBJECT | HSM_URI_HAS_ID)))
		return eac_fail(EAC_ERR_USAGE, "key URI %s names no object= or id=", uri_or_label);
	if ((u.has & HSM_URI_HAS_TYPE) && u.type != HSM_URI_TYPE_PRIVATE)
		return eac_fail(EAC_ERR_USAGE, "key URI %s: only a private key (type=private) signs",
				uri_or_label);
	if ((r = check_same_token(ctx, &u, uri_or_label)) != EAC_OK)
		return r;
	if (u.has & HSM_URI_HAS_OBJECT)
		t[nt++] = (CK_ATTRIBUTE){ CKA_LABEL, u.object, strlen(u.object) };
	if (u.has & HSM_URI_HAS_ID)
		t[nt++] = (CK_ATTRIBUTE){ CKA_ID, u.id, u.id_len };
	snprintf(desc, sizeof(desc), "%s%s%s",
		 (u.has & HSM_URI_HAS_OBJECT) ? "labelled '" : "with the id of ",
		 (u.has & HSM_URI_HAS_OBJECT) ? u.object : uri_or_label,
		 (u.has & HSM_URI_HAS_OBJECT) ? "'" : "");

	if ((r = hsm_session_get(ctx, 0, &s)) != EAC_OK)
		return r;
	if ((r = find_objects(ctx, s, t, nt, h, 2, &n)) != EAC_OK)
		goto out;
	if (n == 0) {
		r = eac_fail(EAC_ERR_KEY_NOT_FOUND, "token %s: key not found: no private key %s",
			     ctx->info.label, desc);
		goto out;
	}
	if (n > 1) {
		r = eac_fail(EAC_ERR_STATE,
			     "token %s: several private keys %s; name one by id= in a PKCS#11 URI",
			     ctx->info.label, desc);
		goto out;
	}
	r = key_load(ctx, s, h[0], out);
out:
	release(ctx, s, r);
	return r;
}

/* ---- generating ---- */

static eac_err check_unused(hsm_ctx *ctx, CK_SESSION_HANDLE s, const char *chr)
{
	CK_OBJECT_HANDLE h[1];
	CK_ULONG n = 0;
	eac_err r;
	CK_ATTRIBUTE by_label[] = { { CKA_LABEL, (void *)chr, strlen(chr) } };
	CK_ATTRIBUTE by_id[] = { { CKA_ID, (void *)chr, strlen(chr) } };

	if ((r = find_objects(ctx, s, by_label, 1, h, 1, &n)) != EAC_OK)
		return r;
	if (n == 0 && (r = find_objects(ctx, s, by_id, 1, h, 1, &n)) != EAC_OK)
		return r;
	if (n > 0)
		return eac_fail(EAC_ERR_EXISTS,
				"token %s already holds an object labelled or identified %s; a CHR names one key only (CP-3.1b)",
				ctx->info.label, chr);
	return EAC_OK;
}

eac_err hsm_key_generate(hsm_ctx *ctx, const hsm_keyspec *spec, const char *chr, hsm_key **out)
{
	eac_err r;
	cvc_ref ref;
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ULONG bits = 0;
	static const CK_BYTE f4[] = { 0x01, 0x00, 0x01 };
	const uint8_t *oid = NULL;
	size_t oid_len = 0;
	CK_MECHANISM mech = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	char what[64];
	CK_RV rv;

	if (ctx == NULL || spec == NULL || chr == NULL || out == NULL)
		return eac_fail(EAC_ERR_USAGE, "hsm_key_generate: token, spec and CHR required");
	if ((r = cvc_ref_set(&ref, chr, strlen(chr))) != EAC_OK)
		return eac_fail_prefix(r, "CHR for the new key: ");
	if (spec->type == HSM_KEY_EC) {
		if ((oid = hsm_curve_oid(spec->curve, &oid_len)) == NULL)
			return eac_fail(EAC_ERR_UNSUPPORTED,
					"curve refused: keys are generated on brainpoolP256r1, brainpoolP384r1, brainpoolP512r1, P-256 or P-384");
		snprintf(what, sizeof(what), "EC %s", cvc_curve_name(spec->curve));
	} else if (spec->type == HSM_KEY_RSA) {
		if (spec->rsa_bits < HSM_RSA_MIN_BITS || spec->rsa_bits > HSM_RSA_MAX_BITS ||
		    spec->rsa_bits % 8 != 0)
			return eac_fail(EAC_ERR_UNSUPPORTED,
					"RSA-%u refused: RSA keys are %d to %d bits (a multiple of 8)",
					spec->rsa_bits, HSM_RSA_MIN_BITS, HSM_RSA_MAX_BITS);
		mech.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
		bits = spec->rsa_bits;
		snprintf(what, sizeof(what), "RSA-%u", spec->rsa_bits);
	} else {
		return eac_fail(EAC_ERR_UNSUPPORTED, "key type refused: EC or RSA");
	}

	/* CKA_LABEL and CKA_ID are the CHR: the key is found by the name it
	 * will carry in its certificate */
	CK_ATTRIBUTE pub_t[9] = {
		{ CKA_TOKEN, &yes, 1 },
		{ CKA_PRIVATE, &no, 1 },
		{ CKA_VERIFY, &yes, 1 },
		{ CKA_ENCRYPT, &no, 1 },
		{ CKA_WRAP, &no, 1 },
		{ CKA_LABEL, ref.s, ref.len },
		{ CKA_ID, ref.s, ref.len },
	};
	CK_ULONG npub = 7;
	if (spec->type == HSM_KEY_EC) {
		pub_t[npub++] = (CK_ATTRIBUTE){ CKA_EC_PARAMS, (void *)oid, oid_len };
	} else {
		pub_t[npub++] = (CK_ATTRIBUTE){ CKA_MODULUS_BITS, &bits, sizeof(bits) };
		pub_t[npub++] = (CK_ATTRIBUTE){ CKA_PUBLIC_EXPONENT, (void *)f4, sizeof(f4) };
	}
	CK_ATTRIBUTE priv_t[] = {
		{ CKA_TOKEN, &yes, 1 },
		{ CKA_PRIVATE, &yes, 1 },
		{ CKA_SENSITIVE, &yes, 1 },
		{ CKA_EXTRACTABLE, &no, 1 },
		{ CKA_SIGN, &yes, 1 },
		{ CKA_DECRYPT, &no, 1 },
		{ CKA_UNWRAP, &no, 1 },
		{ CKA_DERIVE, &no, 1 },
		{ CKA_LABEL, ref.s, ref.len },
		{ CKA_ID, ref.s, ref.len },
	};

	if ((r = hsm_session_get(ctx, 1, &s)) != EAC_OK)
		return r;
	if ((r = check_unused(ctx, s, ref.s)) != EAC_OK)
		goto out;
	rv = ctx->f->C_GenerateKeyPair(s, &mech, pub_t, npub, priv_t,
				       sizeof(priv_t) / sizeof(priv_t[0]), &pub, &priv);
	if (rv != CKR_OK) {
		pub = priv = CK_INVALID_HANDLE;
		r = hsm_ckr_fail(rv, ctx->info.label, "generating %s key %s", what, ref.s);
		goto out;
	}
	/* read back what the token made, as any key is checked before use */
	r = key_load(ctx, s, priv, out);
out:
	if (r != EAC_OK && priv != CK_INVALID_HANDLE) {
		/* a key that fails its checks is never left behind to be found */
		(void)ctx->f->C_DestroyObject(s, priv);
		(void)ctx->f->C_DestroyObject(s, pub);
	}
	hsm_session_close_rw(ctx, s);
	return r;
}

/* ---- accessors ---- */

eac_err hsm_key_attrs(const hsm_key *key, hsm_key_info *out)
{
	eac_err r;
	priv_attrs pa;
	CK_SESSION_HANDLE s;

	if (key == NULL || out == NULL)
		return eac_fail(EAC_ERR_USAGE, "hsm_key_attrs: key required");
	if ((r = hsm_session_get(key->ctx, 0, &s)) != EAC_OK)
		return r;
	r = read_private(key->ctx, s, key->priv, &pa);
	release(key->ctx, s, r);
	if (r != EAC_OK)
		return eac_fail_prefix(r, "key %s: ", key->label);
	*out = pa.info;
	return EAC_OK;
}

eac_err hsm_key_public(const hsm_key *key, EVP_PKEY **out)
{
	if (key == NULL || out == NULL)
		return eac_fail(EAC_ERR_USAGE, "hsm_key_public: key required");
	if (EVP_PKEY_up_ref(key->pub) != 1)
		return eac_fail(EAC_ERR_INTERNAL, "EVP_PKEY_up_ref failed");
	*out = key->pub;
	return EAC_OK;
}

const char *hsm_key_uri(const hsm_key *key)
{
	return key->uri;
}

const char *hsm_key_label(const hsm_key *key)
{
	return key->label;
}

hsm_key_type hsm_key_get_type(const hsm_key *key)
{
	return key->type;
}

cvc_curve hsm_key_curve(const hsm_key *key)
{
	return key->type == HSM_KEY_EC ? key->curve : CVC_CURVE_NONE;
}

size_t hsm_key_sig_len(const hsm_key *key)
{
	return key->sig_len;
}

void hsm_key_free(hsm_key *key)
{
	if (key == NULL)
		return;
	hsm_ctx *ctx = key->ctx;
	EVP_PKEY_free(key->pub);
	free(key);
	hsm_ctx_unref(ctx);
}
