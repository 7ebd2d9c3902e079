/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cvc/ — card-verifiable certificates and requests (BSI TR-03110-3 App. C/D):
 * the types every module shares, a strict parser, a DER encoder, signatures
 * for the 11 Terminal Authentication schemes and chain verification.
 * No I/O and no clock: dates are parameters.
 *
 * Byte-level reference: the project's CV-format notes (cv-format.md, kept
 * with the shared specifications); this header cites its sections as
 * [CVF §n] and its interoperability pitfalls as [CVF Pn]. docs/CVC.md
 * describes this module: what it accepts, what it refuses and why.
 */
#ifndef EAC_CVC_H
#define EAC_CVC_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/common.h"

/* ======================================================================
 * Types shared with policy/, db/ and the engines
 * ====================================================================== */

/* A read-only byte slice. In a parsed object it points into the object's
 * own copy of the input; for encoding it points into the caller's memory. */
typedef struct cvc_bytes {
	const uint8_t *ptr;
	size_t len;
} cvc_bytes;

/* The 11 Terminal Authentication signature schemes (id-TA-*, [CVF §3]). */
typedef enum cvc_alg {
	CVC_ALG_NONE = 0,
	CVC_ALG_RSA_V15_SHA1,
	CVC_ALG_RSA_V15_SHA256,
	CVC_ALG_RSA_PSS_SHA1,
	CVC_ALG_RSA_PSS_SHA256,
	CVC_ALG_RSA_V15_SHA512,
	CVC_ALG_RSA_PSS_SHA512,
	CVC_ALG_ECDSA_SHA1,
	CVC_ALG_ECDSA_SHA224,
	CVC_ALG_ECDSA_SHA256,
	CVC_ALG_ECDSA_SHA384,
	CVC_ALG_ECDSA_SHA512,
	CVC_ALG__COUNT
} cvc_alg;

/* The curves this appliance accepts (TR-03110-3 A.6.4.2 recommended set). */
typedef enum cvc_curve {
	CVC_CURVE_NONE = 0, /* no domain parameters (inherited from the CVCA) */
	CVC_CURVE_BP256R1,
	CVC_CURVE_BP384R1,
	CVC_CURVE_BP512R1,
	CVC_CURVE_P256,
	CVC_CURVE_P384,
	CVC_CURVE__COUNT
} cvc_curve;

/* Certificate dates: unpacked BCD YYMMDD, year 2000..2099, UTC ([CVF §1]). */
typedef struct cvc_date {
	uint16_t year;
	uint8_t month;
	uint8_t day;
} cvc_date;

/* CAR / CHR: country (2) + mnemonic (0..9) + sequence (5), ISO 8859-1,
 * 7..16 octets ([CVF §6]). `s` is NUL-terminated for convenience. */
#define CVC_REF_MIN 7
#define CVC_REF_MAX 16
typedef struct cvc_ref {
	char s[CVC_REF_MAX + 1];
	uint8_t len;
} cvc_ref;

/* Terminal type of a CHAT: its OID ([CVF §2.3]). */
typedef enum cvc_chat_type {
	CVC_CHAT_NONE = 0,
	CVC_CHAT_IS, /* id-IS: inspection systems (ePassport/residence permit EAC) */
	CVC_CHAT_AT, /* id-AT: authentication terminals */
	CVC_CHAT_ST, /* id-ST: signature terminals */
} cvc_chat_type;

/* Role: bits 7..6 of the first octet of the relative authorization. */
typedef enum cvc_role {
	CVC_ROLE_TERMINAL = 0,    /* IS / AT / ST */
	CVC_ROLE_DV_FOREIGN = 1,  /* DV official foreign (IS), non-official (AT) */
	CVC_ROLE_DV_DOMESTIC = 2, /* DV official domestic */
	CVC_ROLE_CVCA = 3,
} cvc_role;

/* CHAT: terminal type + relative authorization (1 octet for IS/ST, 5 for
 * AT), stored with its role bits exactly as encoded. */
#define CVC_CHAT_MAX 5
typedef struct cvc_chat {
	cvc_chat_type type;
	uint8_t auth[CVC_CHAT_MAX];
	uint8_t len;
} cvc_chat;

static inline cvc_role cvc_chat_role(const cvc_chat *c)
{
	return (cvc_role)(c->len ? c->auth[0] >> 6 : 0);
}

/*
 * A public key data object 7F49 ([CVF §2.2]). EC: `point` (86) always;
 * `has_params` when 81..85 (and 87) are present, then `curve` names the
 * curve they match (parsing refuses parameters of any other curve).
 * `curve` may also be set on a key without parameters when its curve is
 * known from the chain (inheritance). RSA: `n`, `e`.
 */
typedef struct cvc_pubkey {
	cvc_alg alg;
	cvc_curve curve;
	int has_params;
	cvc_bytes point; /* EC: 04 || X || Y */
	cvc_bytes n;     /* RSA modulus, unsigned big-endian, minimal */
	cvc_bytes e;     /* RSA public exponent */
	/* EC with `has_params`: 81..86 were present without the cofactor 87
	 * (allowed by TR-03110-3 D.3.3, refused by OpenPACE for CVCA roles).
	 * Zero — the default — means the full set 81..87 is encoded. */
	int no_cofactor;
} cvc_pubkey;

/*
 * The fields of a certificate body 7F4E, or of a request body. The parser
 * fills it; the encoder takes it. Requests have no CHAT and no dates
 * (`has_chat`, `has_dates` false) and their CAR is optional.
 */
typedef struct cvc_body {
	int has_car;
	cvc_ref car;
	cvc_pubkey key;
	cvc_ref chr;
	int has_chat;
	cvc_chat chat;
	int has_dates;
	cvc_date effective;
	cvc_date expiry;
	cvc_bytes ext; /* value of the 65 extensions object, kept verbatim; len 0: absent */
} cvc_body;

/* ---- small pure helpers on the types (names, sizes) ---- */

/* "ECDSA-SHA-256", "RSA-PSS-SHA-256", "RSA-v1.5-SHA-1", ...; NULL if none. */
const char *cvc_alg_name(cvc_alg alg);
cvc_alg cvc_alg_from_name(const char *name); /* CVC_ALG_NONE if unknown; case-insensitive */
int cvc_alg_is_ec(cvc_alg alg);
int cvc_alg_is_rsa(cvc_alg alg);
int cvc_alg_is_pss(cvc_alg alg);
unsigned cvc_alg_hash_bits(cvc_alg alg); /* 160, 224, 256, 384, 512; 0 if none */

/* "brainpoolP256r1", ..., "P-256", "P-384"; also accepts the aliases
 * prime256v1/secp256r1 and secp384r1 when parsing. */
const char *cvc_curve_name(cvc_curve c);
cvc_curve cvc_curve_from_name(const char *name);
unsigned cvc_curve_bits(cvc_curve c);   /* 256, 384, 512 */
int cvc_curve_nid(cvc_curve c);         /* OpenSSL NID */

/* "IS", "AT", "ST" / "id-IS", ...; and the role names
 * "cvca", "dv_domestic", "dv_foreign", "terminal". */
const char *cvc_chat_type_name(cvc_chat_type t);
cvc_chat_type cvc_chat_type_from_name(const char *name);
const char *cvc_role_name(cvc_role r);

/*
 * Access rights by name for a CHAT type, excluding the role bits:
 * id-IS "dg3" (read fingerprint, bit 0), "dg4" (read iris, bit 1);
 * id-ST "sig" (bit 0), "qsig" (bit 1); id-AT "dg1".."dg21" (read),
 * "wdg17".."wdg21" (write), "age", "community", "ri", "privileged", "can",
 * "pin", "install-cert", "install-qcert".
 * cvc_rights_parse() parses a comma-separated list ("dg3,dg4") into
 * `auth` (len octets, role bits zero); unknown names are an error naming
 * the right. cvc_rights_format() writes the names of the bits set.
 */
eac_err cvc_rights_parse(cvc_chat_type t, const char *list, uint8_t auth[CVC_CHAT_MAX],
			 uint8_t *len) EAC_MUST_CHECK;
void cvc_rights_format(const cvc_chat *c, char *out, size_t outlen);

/* Is every right of `sub` (role bits ignored) also in `super`? Same type
 * and length required. */
int cvc_chat_rights_subset(const cvc_chat *sub, const cvc_chat *super);

/* ---- references and dates ---- */

/* Validate and store a CHR/CAR: [A-Z]{2}, printable ISO 8859-1 mnemonic of
 * 0..9 octets (no 0x00-0x1F, 0x7F-0x9F), sequence [0-9A-Z]{5}. */
eac_err cvc_ref_set(cvc_ref *ref, const char *s, size_t len) EAC_MUST_CHECK;
/* The parts: country "FI", mnemonic (len-7 octets) and sequence "00001". */
void cvc_ref_country(const cvc_ref *ref, char out[3]);
void cvc_ref_mnemonic(const cvc_ref *ref, char out[10]);
void cvc_ref_sequence(const cvc_ref *ref, char out[6]);

/* Valid calendar date in 2000..2099? */
int cvc_date_valid(const cvc_date *d);
/* -1, 0, 1 */
int cvc_date_cmp(const cvc_date *a, const cvc_date *b);
/* Days since 1970-01-01 and back (proleptic Gregorian, UTC). */
int64_t cvc_date_to_days(const cvc_date *d);
void cvc_date_from_days(int64_t days, cvc_date *out);
/* The UTC calendar date of a time in seconds since the epoch. */
void cvc_date_from_time(int64_t t, cvc_date *out);
/* "YYYY-MM-DD" */
void cvc_date_format(const cvc_date *d, char out[11]);
eac_err cvc_date_parse(const char *s, cvc_date *out) EAC_MUST_CHECK;

/* ======================================================================
 * Codec, signatures and chains
 * ====================================================================== */

/* ---- limits ---- */

/*
 * Hard maximum size of any input object (certificate, request or
 * authenticated request). The largest object this appliance can meet — an
 * authenticated request with RSA-4096 inner and outer keys — is about
 * 1.7 KiB; the rest is room for extensions. Larger input is refused before
 * it is looked at.
 */
#define CVC_MAX_SIZE 4096
/* Maximum nesting of data objects (67 > 7F21 > 7F4E > 65 > 73 > ... ).
 * The fixed layout needs 6; deeper input is refused. */
#define CVC_MAX_DEPTH 8
/* Largest signature: RSA-4096 (RSA moduli are accepted from 1024 to 4096
 * bits, TR-03110-3 A.6.3.2 lists 1024..3072). */
#define CVC_SIG_MAX 512
/* RSA modulus sizes accepted, in bits. */
#define CVC_RSA_MIN_BITS 1024
#define CVC_RSA_MAX_BITS 4096
/* Longest certificate chain (anchor, links, DV, terminal) we walk. */
#define CVC_CHAIN_MAX 16

/* ---- parsed objects ---- */

typedef enum cvc_kind {
	CVC_KIND_NONE = 0,
	CVC_KIND_CERT,         /* 7F21 whose body has a CHAT and dates */
	CVC_KIND_REQUEST,      /* 7F21 whose body has neither (TR-03110-3 C.2) */
	CVC_KIND_AUTH_REQUEST, /* 67 { 7F21 request, 42 outer CAR, 5F37 outer signature } */
} cvc_kind;

/* "certificate", "request", "authenticated request" */
const char *cvc_kind_name(cvc_kind k);

/* A parsed certificate or request. Opaque; owns a copy of its encoding, and
 * every cvc_bytes it hands out points into that copy (valid until
 * cvc_obj_free). */
typedef struct cvc_obj cvc_obj;

/*
 * Parse untrusted bytes: a certificate, a request or an authenticated
 * request (67 → authenticated request; 7F21 with CHAT and dates →
 * certificate; 7F21 with neither → request). The parser is strict: one
 * bounded reader, minimal definite lengths of 1..3 octets, 1..2-octet tags,
 * the fixed field order of TR-03110-3 C.1/C.2/D.3, no trailing bytes,
 * nesting ≤ CVC_MAX_DEPTH, input ≤ CVC_MAX_SIZE, unpacked-BCD dates with
 * expiry ≥ effective, valid CAR/CHR, CHAT length matching its type, minimal
 * unsigned integers, uncompressed EC points, domain parameters all present
 * (cofactor optional) or all absent, matching one of the supported curves;
 * requests carry domain parameters, DV and terminal certificates do not
 * (D.3.3). Parse → cvc_obj_reencode() gives the same bytes.
 * Returns EAC_OK and a new object in *out; EAC_ERR_MALFORMED with detail
 * "offset N: what is wrong" (N counted from the first input byte; callers
 * prefix the file name with eac_fail_prefix); EAC_ERR_UNSUPPORTED for
 * well-formed input naming an unknown OID, profile, curve or key size.
 * Signatures are not checked here (see cvc_verify_*).
 */
eac_err cvc_parse(const uint8_t *buf, size_t len, cvc_obj **out) EAC_MUST_CHECK;
/* The same, requiring a certificate (anything else: EAC_ERR_MALFORMED). */
eac_err cvc_parse_cert(const uint8_t *buf, size_t len, cvc_obj **out) EAC_MUST_CHECK;
/* The same, requiring a request or an authenticated request. */
eac_err cvc_parse_request(const uint8_t *buf, size_t len, cvc_obj **out) EAC_MUST_CHECK;
void cvc_obj_free(cvc_obj *o);

cvc_kind cvc_obj_kind(const cvc_obj *o);
/* The decoded fields; for an authenticated request, those of the inner
 * request. Points into the object. */
const cvc_body *cvc_obj_body(const cvc_obj *o);
/* Role of a certificate (from its CHAT); CVC_ROLE_TERMINAL for requests. */
cvc_role cvc_obj_role(const cvc_obj *o);
/* The whole encoding as parsed. */
cvc_bytes cvc_obj_encoding(const cvc_obj *o);
/* The 7F4E TLV: the to-be-signed bytes of the (inner) signature. */
cvc_bytes cvc_obj_tbs(const cvc_obj *o);
/* The value of the (inner) 5F37. */
cvc_bytes cvc_obj_signature(const cvc_obj *o);
/* The 7F21 TLV (for certificates and requests the whole encoding; for an
 * authenticated request the inner request). */
cvc_bytes cvc_obj_inner(const cvc_obj *o);
/* Authenticated requests: the outer CAR (NULL for other kinds), the value
 * of the outer 5F37, and the outer to-be-signed bytes: the 7F21 TLV
 * followed by the 42 TLV, contiguous in the encoding (TR-03110-3 C.2.6).
 * Empty slices for other kinds. */
const cvc_ref *cvc_obj_outer_car(const cvc_obj *o);
cvc_bytes cvc_obj_outer_signature(const cvc_obj *o);
cvc_bytes cvc_obj_outer_tbs(const cvc_obj *o);
/* Is the object self-signed (certificate whose CAR equals its CHR)? */
int cvc_obj_self_signed(const cvc_obj *o);

/* SHA-256 of the whole encoding: the fingerprint for out-of-band checks. */
eac_err cvc_obj_fingerprint(const cvc_obj *o, uint8_t out[static EAC_SHA256_LEN]) EAC_MUST_CHECK;

/*
 * Encode a parsed object again from its decoded fields (body, signature,
 * outer CAR and signature) with the encoder below, checking only what the
 * parser checks. The result is malloc'ed (free()). For any object the
 * parser accepted it equals cvc_obj_encoding(); the fuzzers assert this.
 */
eac_err cvc_obj_reencode(const cvc_obj *o, uint8_t **out, size_t *outlen) EAC_MUST_CHECK;

/*
 * Extensions (65): the value of the 65 object is kept verbatim in
 * cvc_body.ext. cvc_ext_next() walks its 73 templates: start with *pos = 0;
 * each call returns the next template's OID (content octets of the 06
 * object) and the data objects after it (raw TLVs), and advances *pos.
 * Returns EAC_ERR_NOT_FOUND after the last, EAC_ERR_MALFORMED if `ext` is
 * not a sequence of templates (never for a parsed body).
 */
typedef struct cvc_ext {
	cvc_bytes oid;  /* content octets of the OID */
	cvc_bytes data; /* the data objects following the OID (TLVs) */
} cvc_ext;
eac_err cvc_ext_next(cvc_bytes ext, size_t *pos, cvc_ext *out) EAC_MUST_CHECK;
/* Name of a known extension OID ("id-description", "id-sector",
 * "id-eIDAccess", "id-specialFunctions"), NULL if unknown. */
const char *cvc_ext_name(cvc_bytes oid);
/* Dotted text of OID content octets into out (e.g. "0.4.0.127.0.7.3.1.3.1"). */
void cvc_oid_text(cvc_bytes oid, char *out, size_t outlen);

/* ---- encoding ---- */

/*
 * Encode a body 7F4E — the to-be-signed bytes — for issuance. The body is a
 * certificate body when it has a CHAT and dates, a request body when it has
 * neither. Refuses (EAC_ERR_USAGE, detail naming the field and rule) what
 * the parser would refuse, and in addition what the appliance must never
 * issue: a CVCA-role certificate without the full domain parameters 81..87
 * including the cofactor, and a request without domain parameters
 * ([CVF §2.2, P5]). The result is malloc'ed (free()); at most
 * CVC_MAX_SIZE bytes. The engine records these bytes before it signs.
 */
eac_err cvc_body_encode(const cvc_body *b, uint8_t **out, size_t *outlen) EAC_MUST_CHECK;

/* The CHAT data object 7F4C { 06 OID, 53 auth } exactly as a body carries
 * it (the issuance record stores it beside the body). */
#define CVC_CHAT_TLV_MAX 24
eac_err cvc_chat_encode(const cvc_chat *c, uint8_t out[static CVC_CHAT_TLV_MAX],
			size_t *outlen) EAC_MUST_CHECK;

/*
 * Assemble a certificate or request 7F21 from a body TLV (as made by
 * cvc_body_encode) and the signature value (5F37) over it. The result is
 * parsed again before it is returned, so nothing the parser refuses is ever
 * emitted. Signatures are not verified here. Result malloc'ed (free()).
 */
eac_err cvc_assemble(const uint8_t *tbs, size_t tbslen, const uint8_t *sig, size_t siglen,
		     uint8_t **out, size_t *outlen) EAC_MUST_CHECK;

/*
 * Authenticated requests, in two steps like certificates: the outer
 * to-be-signed bytes for a request (7F21 TLV, parsed and checked to be a
 * request) and an outer CAR are `request ‖ 42 L car` (TR-03110-3 C.2.6);
 * cvc_auth_request_assemble() wraps request, CAR and outer signature into
 * 67. Results malloc'ed (free()).
 */
eac_err cvc_auth_request_tbs(const uint8_t *req, size_t reqlen, const cvc_ref *outer_car,
			     uint8_t **out, size_t *outlen) EAC_MUST_CHECK;
eac_err cvc_auth_request_assemble(const uint8_t *req, size_t reqlen, const cvc_ref *outer_car,
				  const uint8_t *sig, size_t siglen, uint8_t **out,
				  size_t *outlen) EAC_MUST_CHECK;

/* ---- signatures ---- */

/*
 * A signer: signs `tbs` (the whole TLV to be signed; the signer hashes it)
 * with scheme `alg` into `sig`, which holds CVC_SIG_MAX bytes; *siglen is
 * CVC_SIG_MAX on entry and the signature length on success. ECDSA output is
 * the plain r‖s of fixed width 2·l, l the byte length of the group order
 * (TR-03111); RSA-PSS uses salt length = hash length (TR-03110-3 A.6.3.1).
 * hsm/ implements this for token keys; cvc_soft_sign for software keys.
 */
typedef eac_err (*cvc_sign_fn)(void *ctx, cvc_alg alg, const uint8_t *tbs, size_t tbslen,
			       uint8_t *sig, size_t *siglen);

/* A software signer: `ctx` is an EVP_PKEY * holding a private key (not
 * owned). Refuses a scheme that does not fit the key (EC vs RSA, curve
 * not supported) with EAC_ERR_UNSUPPORTED. For tests and eac-cvc request. */
eac_err cvc_soft_sign(void *ctx, cvc_alg alg, const uint8_t *tbs, size_t tbslen, uint8_t *sig,
		      size_t *siglen) EAC_MUST_CHECK;

/*
 * Convenience: cvc_body_encode + sign the body with `alg` + cvc_assemble.
 * For a certificate `alg` is the issuer's scheme (the OID of the issuer's
 * key); for a request it is the scheme of the request's own key (proof of
 * possession). Result malloc'ed (free()).
 */
eac_err cvc_encode_signed(const cvc_body *b, cvc_alg alg, cvc_sign_fn sign, void *ctx,
			  uint8_t **out, size_t *outlen) EAC_MUST_CHECK;
/* Convenience: cvc_auth_request_tbs + sign + cvc_auth_request_assemble. */
eac_err cvc_auth_request_sign(const uint8_t *req, size_t reqlen, const cvc_ref *outer_car,
			      cvc_alg alg, cvc_sign_fn sign, void *ctx, uint8_t **out,
			      size_t *outlen) EAC_MUST_CHECK;

/*
 * Verify a signature over `tbs` with a public key. `domain` supplies the
 * curve when `key` carries no domain parameters and no `curve` (the CVCA
 * key of the chain; may be NULL otherwise). ECDSA: plain r‖s of any even
 * length up to 2·l, split at len/2 ([CVF P1]); odd, empty or longer input
 * is refused. RSA-PSS: any salt length ([CVF P2]). Returns EAC_OK,
 * EAC_ERR_SIGNATURE (detail says what failed), EAC_ERR_UNSUPPORTED for a
 * key that cannot be used (unknown curve, nothing to inherit from).
 */
eac_err cvc_verify_sig(const cvc_pubkey *key, const cvc_pubkey *domain, cvc_bytes tbs,
		       cvc_bytes sig) EAC_MUST_CHECK;
/* The same with a ready EVP_PKEY (not owned) and the scheme to use. */
eac_err cvc_verify_sig_pkey(EVP_PKEY *pkey, cvc_alg alg, cvc_bytes tbs,
			    cvc_bytes sig) EAC_MUST_CHECK;

/* A certificate's signature with its issuer's key (the issuer's scheme is
 * the OID of that key). For a self-signed certificate pass its own key. */
eac_err cvc_verify_cert(const cvc_obj *cert, const cvc_pubkey *issuer,
			const cvc_pubkey *domain) EAC_MUST_CHECK;
/* A request's inner signature with the key it carries: proof of possession
 * (TR-03110-3 C.2). For an authenticated request, of the inner request. */
eac_err cvc_verify_request_inner(const cvc_obj *req) EAC_MUST_CHECK;
/* An authenticated request's outer signature with the key of the outer CAR
 * (`domain` as for cvc_verify_sig). Refuses other kinds (EAC_ERR_USAGE). */
eac_err cvc_verify_request_outer(const cvc_obj *req, const cvc_pubkey *signer,
				 const cvc_pubkey *domain) EAC_MUST_CHECK;

/* Does the scheme fit the key: same family, and for ECDSA a hash no longer
 * than the curve (TR-03111, [CVF P13])? EAC_OK or EAC_ERR_UNSUPPORTED. */
eac_err cvc_alg_check_key(cvc_alg alg, const cvc_pubkey *key) EAC_MUST_CHECK;

/* ---- keys ---- */

/* The curve of a key: its own parameters, else its `curve`, else the
 * domain source's; CVC_CURVE_NONE if none (or for RSA). */
cvc_curve cvc_pubkey_curve(const cvc_pubkey *key, const cvc_pubkey *domain);

/*
 * A public key as an EVP_PKEY (new reference, EVP_PKEY_free()). EC keys
 * without parameters take the curve as cvc_pubkey_curve() says; none →
 * EAC_ERR_UNSUPPORTED. A point not on the curve → EAC_ERR_MALFORMED.
 */
eac_err cvc_pubkey_to_pkey(const cvc_pubkey *key, const cvc_pubkey *domain,
			   EVP_PKEY **out) EAC_MUST_CHECK;

/* Storage for the bytes of a cvc_pubkey made from an EVP_PKEY: the EC
 * point or the RSA modulus and exponent (domain parameters are constants
 * of this module). A cvc_pubkey made into it is valid while it lives. */
typedef struct cvc_keybuf {
	uint8_t b[CVC_RSA_MAX_BITS / 8 + 8];
} cvc_keybuf;

/*
 * The public part of `pkey` (public or private; EC on a supported curve,
 * named or explicit parameters, or RSA of 1024..4096 bits) as a cvc_pubkey
 * for scheme `alg`, with EC domain parameters 81..87 when `with_params`.
 * The bytes live in `buf`. Refuses a scheme that does not fit the key.
 */
eac_err cvc_pubkey_from_pkey(EVP_PKEY *pkey, cvc_alg alg, int with_params, cvc_keybuf *buf,
			     cvc_pubkey *out) EAC_MUST_CHECK;

/*
 * The key hash that identifies a key whatever its encoding (CP-4.6: no new
 * certificate for a public key already certified): SHA-256 of the EC point
 * 04‖X‖Y, or of 81 L n ‖ 82 L e for RSA — neither the scheme OID nor the
 * presence of domain parameters changes it.
 */
eac_err cvc_pubkey_hash(const cvc_pubkey *key, uint8_t out[static EAC_SHA256_LEN]) EAC_MUST_CHECK;

/* Same domain: EC keys on the same curve (resolved as cvc_pubkey_curve,
 * each with its own domain source), or RSA keys with moduli of the same
 * length. 0 when unknown. */
int cvc_pubkey_same_domain(const cvc_pubkey *a, const cvc_pubkey *adom, const cvc_pubkey *b,
			   const cvc_pubkey *bdom);

/* Decode an unencrypted private key (PEM or DER; PKCS#8 or traditional)
 * from memory. The caller wipes `buf`. EAC_ERR_MALFORMED if it is none. */
eac_err cvc_privkey_decode(const uint8_t *buf, size_t len, EVP_PKEY **out) EAC_MUST_CHECK;

/* ---- chains and the trust store ---- */

/* The outcome of a chain that holds. */
typedef struct cvc_chain_result {
	cvc_chat chat;           /* effective: AND of the rights of every CHAT, role bits of the last */
	cvc_chat_type type;      /* terminal type, the same along the chain */
	cvc_role role;           /* role of the last certificate */
	cvc_curve curve;         /* curve of the last certificate's key (inherited); NONE for RSA */
	size_t len;              /* certificates in the chain */
	cvc_ref path[CVC_CHAIN_MAX]; /* their CHRs, anchor first */
} cvc_chain_result;

/*
 * Verify an ordered chain: chain[0] a self-signed CVCA-role certificate
 * (its self-signature is checked), then any link certificates (CVCA role,
 * signed by the previous CVCA key), then at most a DV certificate (domestic
 * or foreign) and a terminal certificate. Checks for each: CAR = CHR of the
 * previous (CP-3.1a), signature with the previous key, domain parameters
 * inherited from the last CVCA key that had them (D.3.3), role hierarchy
 * CVCA → DV → terminal, the same terminal type along the chain, no CHR
 * twice. With `at` non-NULL, DV and terminal certificates must be valid on
 * that day (effective ≤ at ≤ expiry, both inclusive); CVCA and link
 * certificates are not date-checked (TR-03110-3 2.5). `at` NULL: no date
 * check. On success fills *out (may be NULL). Errors: EAC_ERR_SIGNATURE,
 * EAC_ERR_CHAIN, EAC_ERR_DATE, each naming the certificate by CHR.
 */
eac_err cvc_chain_verify(const cvc_obj *const *chain, size_t n, const cvc_date *at,
			 cvc_chain_result *out) EAC_MUST_CHECK;

/* A set of certificates indexed by CHR, for path building. */
typedef struct cvc_store cvc_store;

eac_err cvc_store_new(cvc_store **out) EAC_MUST_CHECK;
void cvc_store_free(cvc_store *s);
/*
 * Add a certificate (parsed from `buf`; the store keeps its own copy).
 * The same certificate twice is ignored; a second certificate for one CHR
 * is kept only when it carries the same key (a CVCA's self-signed and link
 * certificates), else EAC_ERR_EXISTS. Requests: EAC_ERR_MALFORMED.
 */
eac_err cvc_store_add(cvc_store *s, const uint8_t *buf, size_t len) EAC_MUST_CHECK;
/* Number of certificates held. */
size_t cvc_store_count(const cvc_store *s);
/* A certificate with this CHR (a self-signed one first), NULL if none.
 * Owned by the store. */
const cvc_obj *cvc_store_find(const cvc_store *s, const cvc_ref *chr);
/*
 * Build the path to `leaf` (a certificate, not necessarily in the store):
 * CAR lookups up to a self-signed CVCA certificate, preferring a
 * self-signed issuer over a link certificate for the same CHR. Writes up to
 * `max` pointers, anchor first and `leaf` last, and their number.
 * EAC_ERR_CHAIN naming the missing CAR when there is no such path.
 */
eac_err cvc_store_path(const cvc_store *s, const cvc_obj *leaf, const cvc_obj **path,
		       size_t max, size_t *n) EAC_MUST_CHECK;
/*
 * cvc_store_path + cvc_chain_verify for a certificate. For a request: the
 * inner signature, and for an authenticated request also the outer
 * signature with the key of the certificate named by the outer CAR, whose
 * own chain is verified at `at` (its result is returned in *out).
 */
eac_err cvc_store_verify(const cvc_store *s, const cvc_obj *o, const cvc_date *at,
			 cvc_chain_result *out) EAC_MUST_CHECK;

/* ---- rendering ---- */

/*
 * Every field decoded, as a new JSON object (json_decref()): kind, size,
 * fingerprint, profile, CAR/CHR with their parts, public key (scheme, OID,
 * curve, parameters present, point or modulus/exponent, key hash), CHAT
 * (type, role, rights by name, raw octets), dates (ISO 8601), extensions
 * (OID, name, data objects), signature(s) and, for authenticated requests,
 * the outer CAR and signature.
 */
eac_err cvc_obj_to_json(const cvc_obj *o, json_t **out) EAC_MUST_CHECK;
/* The same as indented text, one field per line (malloc'ed, free()). */
eac_err cvc_obj_to_text(const cvc_obj *o, char **out) EAC_MUST_CHECK;
/* Role name in the words of its terminal type ("DV (official domestic)",
 * "authentication terminal", ...). */
const char *cvc_role_description(cvc_chat_type t, cvc_role r);

#endif /* EAC_CVC_H */
