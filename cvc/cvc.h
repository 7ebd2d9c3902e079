/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cvc/ — card-verifiable certificates and requests (BSI TR-03110-3 App. C/D):
 * the types every module shares, a strict parser, a DER encoder, signatures
 * for the 11 Terminal Authentication schemes and chain verification.
 * No I/O and no clock: dates are parameters.
 *
 * Byte-level reference: docs/cv-format.md (summary of
 * ../shared/spec/cv-format.md) — this header cites its sections as [CVF §n].
 */
#ifndef EAC_CVC_H
#define EAC_CVC_H

#include <stddef.h>
#include <stdint.h>

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
 * Codec, signatures and chains: see below (cvc/ issue).
 * ====================================================================== */

#endif /* EAC_CVC_H */
