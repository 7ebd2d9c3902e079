/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signing: the hash is computed here, the private-key operation in the
 * token, on a pooled session (no session opened and no login per
 * signature). TR-03110-3 A.6.3/A.6.4 schemes: ECDSA with plain r‖s
 * (TR-03111), RSASSA-PKCS1-v1_5 and RSASSA-PSS with salt = hash length.
 */

#include <string.h>

#include <openssl/rsa.h>

#include "hsm/internal.h"

/* DER DigestInfo prefixes (RFC 8017 §9.2 note 1) of the RSA v1.5 schemes */
static const uint8_t di_sha1[] = { 0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e,
				   0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14 };
static const uint8_t di_sha256[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
				     0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };
static const uint8_t di_sha512[] = { 0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
				     0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40 };

int hsm_ecdsa_fixed(const uint8_t *in, size_t inlen, size_t width, uint8_t *out)
{
	/* plain r‖s of fixed width 2·l (TR-03111; [CVF P1]); a token that
	 * returns shorter halves (leading zero octets dropped) is padded, each
	 * half on its own. Odd, empty or longer input is not a signature. */
	if (inlen == 0 || inlen % 2 != 0 || width % 2 != 0 || inlen > width)
		return 0;
	size_t half = width / 2, got = inlen / 2;
	memset(out, 0, width);
	memcpy(out + (half - got), in, got);
	memcpy(out + half + (half - got), in + got, got);
	return 1;
}

typedef struct scheme {
	int md;                 /* HSM_MD_* */
	CK_MECHANISM_TYPE hash; /* for PSS parameters */
	CK_RSA_PKCS_MGF_TYPE mgf;
	const uint8_t *di;
	size_t di_len;
} scheme;

static int scheme_of(cvc_alg alg, scheme *out)
{
	switch (cvc_alg_hash_bits(alg)) {
	case 160:
		*out = (scheme){ HSM_MD_SHA1, CKM_SHA_1, CKG_MGF1_SHA1, di_sha1, sizeof(di_sha1) };
		return 1;
	case 224:
		*out = (scheme){ HSM_MD_SHA224, CKM_SHA224, CKG_MGF1_SHA224, NULL, 0 };
		return 1;
	case 256:
		*out = (scheme){ HSM_MD_SHA256, CKM_SHA256, CKG_MGF1_SHA256, di_sha256,
				 sizeof(di_sha256) };
		return 1;
	case 384:
		*out = (scheme){ HSM_MD_SHA384, CKM_SHA384, CKG_MGF1_SHA384, NULL, 0 };
		return 1;
	case 512:
		*out = (scheme){ HSM_MD_SHA512, CKM_SHA512, CKG_MGF1_SHA512, di_sha512,
				 sizeof(di_sha512) };
		return 1;
	default:
		return 0;
	}
}

/* A faulty RSA-CRT signature gives the key away (Boneh-DeMillo-Lipton):
 * an RSA signature leaves this module only after it verified. */
static eac_err rsa_check(const hsm_key *k, cvc_alg alg, EVP_MD *md, const uint8_t *dg,
			 size_t dglen, const uint8_t *sig, size_t siglen)
{
	eac_err r = EAC_ERR_INTERNAL;
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(NULL, k->pub, NULL);

	if (pc == NULL || EVP_PKEY_verify_init(pc) != 1 || EVP_PKEY_CTX_set_signature_md(pc, md) != 1) {
		r = eac_fail(EAC_ERR_INTERNAL, "OpenSSL cannot verify RSA signatures");
		goto out;
	}
	if (cvc_alg_is_pss(alg)) {
		if (EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) != 1 ||
		    EVP_PKEY_CTX_set_rsa_mgf1_md(pc, md) != 1 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, (int)dglen) != 1) {
			r = eac_fail(EAC_ERR_INTERNAL, "OpenSSL cannot verify RSA-PSS signatures");
			goto out;
		}
	} else if (EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) != 1) {
		r = eac_fail(EAC_ERR_INTERNAL, "OpenSSL cannot verify RSA signatures");
		goto out;
	}
	if (EVP_PKEY_verify(pc, sig, siglen, dg, dglen) != 1) {
		r = eac_fail(EAC_ERR_TOKEN,
			     "token %s: key %s: the token returned a %s signature that does not verify; it was not released (token fault?)",
			     k->ctx->info.label, k->label, cvc_alg_name(alg));
		goto out;
	}
	r = EAC_OK;
out:
	EVP_PKEY_CTX_free(pc);
	return r;
}

eac_err hsm_sign(void *vkey, cvc_alg alg, const uint8_t *tbs, size_t tbslen, uint8_t *sig,
		 size_t *siglen)
{
	hsm_key *k = vkey;
	eac_err r = EAC_ERR_INTERNAL;
	scheme sc;
	uint8_t dg[EVP_MAX_MD_SIZE];
	unsigned dglen = 0;
	uint8_t in[sizeof(di_sha512) + EVP_MAX_MD_SIZE];
	size_t inlen;
	uint8_t out[HSM_RSA_MAX_BITS / 8];
	CK_ULONG outlen = sizeof(out);
	CK_RSA_PKCS_PSS_PARAMS pss;
	CK_MECHANISM mech = { CKM_ECDSA, NULL, 0 };
	CK_SESSION_HANDLE s;
	CK_RV rv;

	if (k == NULL || siglen == NULL || sig == NULL || (tbs == NULL && tbslen > 0))
		return eac_fail(EAC_ERR_USAGE, "hsm_sign: key, input and output required");
	if (!scheme_of(alg, &sc) || (!cvc_alg_is_ec(alg) && !cvc_alg_is_rsa(alg)))
		return eac_fail(EAC_ERR_UNSUPPORTED, "hsm_sign: no such signature scheme (%d)", (int)alg);
	if ((k->type == HSM_KEY_EC) != (cvc_alg_is_ec(alg) != 0))
		return eac_fail(EAC_ERR_UNSUPPORTED, "key %s is %s; it cannot sign %s", k->label,
				k->type == HSM_KEY_EC ? "an EC key" : "an RSA key", cvc_alg_name(alg));
	if (*siglen < k->sig_len)
		return eac_fail(EAC_ERR_USAGE,
				"hsm_sign: a %zu-byte buffer cannot hold the %zu-byte signature of key %s",
				*siglen, k->sig_len, k->label);
	if (EVP_Digest(tbs, tbslen, dg, &dglen, k->ctx->md[sc.md], NULL) != 1)
		return eac_fail(EAC_ERR_INTERNAL, "hashing for %s failed", cvc_alg_name(alg));

	if (k->type == HSM_KEY_EC) {
		/* CKM_ECDSA signs the digest as given; a digest longer than the
		 * order is truncated by the token (X9.62), and whether the pair
		 * is allowed at all is the policy's decision */
		memcpy(in, dg, dglen);
		inlen = dglen;
	} else if (cvc_alg_is_pss(alg)) {
		pss = (CK_RSA_PKCS_PSS_PARAMS){ sc.hash, sc.mgf, dglen };
		mech = (CK_MECHANISM){ CKM_RSA_PKCS_PSS, &pss, sizeof(pss) };
		memcpy(in, dg, dglen);
		inlen = dglen;
	} else {
		if (sc.di == NULL)
			return eac_fail(EAC_ERR_UNSUPPORTED, "%s is not an RSA scheme", cvc_alg_name(alg));
		mech = (CK_MECHANISM){ CKM_RSA_PKCS, NULL, 0 };
		memcpy(in, sc.di, sc.di_len);
		memcpy(in + sc.di_len, dg, dglen);
		inlen = sc.di_len + dglen;
	}

	if ((r = hsm_session_get(k->ctx, 0, &s)) != EAC_OK)
		return r;
	rv = k->ctx->f->C_SignInit(s, &mech, k->priv);
	if (rv == CKR_OK)
		rv = k->ctx->f->C_Sign(s, in, inlen, out, &outlen);
	if (rv != CKR_OK) {
		/* whatever state the failed operation left is closed with the
		 * session; nothing reaches the caller */
		hsm_session_drop(k->ctx, s);
		return hsm_ckr_fail(rv, k->ctx->info.label, "signing with key %s (%s)", k->label,
				    cvc_alg_name(alg));
	}
	hsm_session_put(k->ctx, s);

	if (k->type == HSM_KEY_EC) {
		if (!hsm_ecdsa_fixed(out, outlen, k->sig_len, sig))
			return eac_fail(EAC_ERR_TOKEN,
					"token %s: key %s: the token returned a %lu-byte ECDSA signature; expected %zu",
					k->ctx->info.label, k->label, (unsigned long)outlen, k->sig_len);
		*siglen = k->sig_len;
		return EAC_OK;
	}
	if (outlen == 0 || outlen > k->sig_len)
		return eac_fail(EAC_ERR_TOKEN,
				"token %s: key %s: the token returned a %lu-byte RSA signature; expected %zu",
				k->ctx->info.label, k->label, (unsigned long)outlen, k->sig_len);
	/* I2OSP to the modulus length */
	uint8_t full[HSM_RSA_MAX_BITS / 8];
	memset(full, 0, k->sig_len);
	memcpy(full + (k->sig_len - outlen), out, outlen);
	if ((r = rsa_check(k, alg, k->ctx->md[sc.md], dg, dglen, full, k->sig_len)) != EAC_OK)
		return r;
	memcpy(sig, full, k->sig_len);
	*siglen = k->sig_len;
	return EAC_OK;
}
