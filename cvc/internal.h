/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cvc/ private header: the bounded TLV reader every untrusted byte goes
 * through, the DER writer, the OID and curve tables, and the parsed
 * object. Not for use outside cvc/.
 */
#ifndef EAC_CVC_INTERNAL_H
#define EAC_CVC_INTERNAL_H

#include "cvc/cvc.h"

/* ---- tags (TR-03110-3 D.2, Table 23) ---- */

enum {
	T_OID = 0x06,
	T_CAR = 0x42,
	T_CHAT_AUTH = 0x53,
	T_EXTS = 0x65,
	T_AUTH = 0x67,
	T_DDT = 0x73, /* discretionary data template */
	T_CHR = 0x5F20,
	T_EXPIRY = 0x5F24,
	T_EFFECTIVE = 0x5F25,
	T_CPI = 0x5F29,
	T_SIG = 0x5F37,
	T_CVC = 0x7F21,
	T_PUBKEY = 0x7F49,
	T_CHAT = 0x7F4C,
	T_BODY = 0x7F4E,
};

/* ---- the bounded reader ---- */

/*
 * A window [pos, end) of the input `base`; offsets are absolute (from the
 * first input byte) so that every error names where it is. `depth` counts
 * the constructed objects around the window.
 */
typedef struct cvc_rd {
	const uint8_t *base;
	size_t pos;
	size_t end;
	unsigned depth;
} cvc_rd;

typedef struct cvc_tlv {
	uint32_t tag; /* 1 or 2 octets, as written: 0x42, 0x7F21 */
	size_t off;   /* offset of the tag */
	size_t voff;  /* offset of the value */
	size_t vlen;
	const uint8_t *value;
} cvc_tlv;

/* EAC_ERR_MALFORMED "offset N: ..." */
eac_err cvc_bad(size_t off, const char *fmt, ...) EAC_PRINTF(2, 3);
/* EAC_ERR_UNSUPPORTED "offset N: ..." */
eac_err cvc_unsupported(size_t off, const char *fmt, ...) EAC_PRINTF(2, 3);

void cvc_rd_init(cvc_rd *r, const uint8_t *buf, size_t len);
int cvc_rd_more(const cvc_rd *r);
/* Read the next TLV: tag (1..2 octets, minimal), length (definite,
 * minimal, 1..3 octets), value inside the window. */
eac_err cvc_rd_next(cvc_rd *r, cvc_tlv *out) EAC_MUST_CHECK;
/* Read the next TLV and require `tag` ("expected TAG (what), found ..."). */
eac_err cvc_rd_expect(cvc_rd *r, uint32_t tag, const char *what, cvc_tlv *out) EAC_MUST_CHECK;
/* The tag of the next TLV without consuming it; 0 at the end or when it
 * cannot be read (cvc_rd_next then says why). */
uint32_t cvc_rd_peek(const cvc_rd *r);
/* A reader over the value of a constructed TLV, one level deeper. */
eac_err cvc_rd_enter(const cvc_rd *r, const cvc_tlv *t, cvc_rd *sub) EAC_MUST_CHECK;
/* Refuse anything left in the window. */
eac_err cvc_rd_done(const cvc_rd *r, const char *what) EAC_MUST_CHECK;
/* Validate a run of TLVs (recursing into constructed ones). */
eac_err cvc_rd_walk(cvc_rd *r) EAC_MUST_CHECK;

/* Name of a tag for messages ("5F29 (certificate profile identifier)"). */
const char *cvc_tag_name(uint32_t tag);

/* ---- the DER writer ---- */

typedef struct cvc_wr {
	uint8_t *p;
	size_t len;
	size_t cap;
	eac_err err; /* first failure; later writes do nothing */
} cvc_wr;

void cvc_wr_tlv(cvc_wr *w, uint32_t tag, const uint8_t *v, size_t vlen);
void cvc_wr_raw(cvc_wr *w, const uint8_t *v, size_t vlen);
/* Start a constructed object: returns the mark to give to cvc_wr_end. */
size_t cvc_wr_begin(const cvc_wr *w);
/* Wrap everything written since `mark` into `tag` with a minimal length. */
void cvc_wr_end(cvc_wr *w, size_t mark, uint32_t tag);
/* On success hand over the buffer (exactly len bytes); else free it. */
eac_err cvc_wr_finish(cvc_wr *w, uint8_t **out, size_t *outlen) EAC_MUST_CHECK;

/* ---- OIDs ---- */

/* Content octets of the id-TA OID of a scheme; NULL for none. */
cvc_bytes cvc_alg_oid(cvc_alg alg);
cvc_alg cvc_alg_by_oid(const uint8_t *oid, size_t len);
cvc_bytes cvc_chat_oid(cvc_chat_type t);
cvc_chat_type cvc_chat_type_by_oid(const uint8_t *oid, size_t len);
/* Are these valid content octets of an OID (X.690 8.19, minimal)? */
int cvc_oid_valid(const uint8_t *oid, size_t len);

/* ---- curves (domain parameters as encoded in 81..87) ---- */

typedef struct cvc_curve_params {
	cvc_bytes p, a, b, g, n, f;
	size_t field_len; /* bytes of a coordinate */
	size_t order_len; /* l: bytes of r (and of s) in a plain signature */
} cvc_curve_params;

/* NULL for CVC_CURVE_NONE or out of range. */
const cvc_curve_params *cvc_curve_get(cvc_curve c);
/* The OpenSSL group name ("brainpoolP256r1", "prime256v1", ...). */
const char *cvc_curve_ossl_name(cvc_curve c);
/* The curve whose prime is p; CVC_CURVE_NONE if none. */
cvc_curve cvc_curve_by_prime(const uint8_t *p, size_t len);

/* ---- the parsed object ---- */

struct cvc_obj {
	cvc_kind kind;
	uint8_t *buf; /* owned copy of the encoding */
	size_t len;
	cvc_body body;
	cvc_bytes tbs;   /* 7F4E TLV */
	cvc_bytes sig;   /* inner 5F37 value */
	cvc_bytes inner; /* 7F21 TLV */
	int has_outer;
	cvc_ref outer_car;
	cvc_bytes outer_sig;
	cvc_bytes outer_tbs;
};

/* Parse with a kind required (CVC_KIND_NONE: any; CVC_KIND_REQUEST also
 * admits an authenticated request). */
eac_err cvc_parse_kind(const uint8_t *buf, size_t len, cvc_kind want,
		       cvc_obj **out) EAC_MUST_CHECK;

/* Check a body's fields as the parser does; `issuing` adds the rules for
 * what the appliance may emit (cvc_body_encode). EAC_ERR_USAGE. */
eac_err cvc_body_check(const cvc_body *b, int issuing) EAC_MUST_CHECK;
/* Write the 7F4E TLV of a checked body. */
void cvc_body_write(cvc_wr *w, const cvc_body *b);

/* Byte equality of two slices. */
int cvc_bytes_eq(cvc_bytes a, cvc_bytes b);

#endif /* EAC_CVC_INTERNAL_H */
