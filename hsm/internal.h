/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hsm/ internals shared by the module's files (and its unit tests): the
 * PKCS#11 URI, the CKR table, the token context with its session pool and
 * the key object. Not for use outside hsm/ and tests/unit/hsm/.
 */
#ifndef EAC_HSM_INTERNAL_H
#define EAC_HSM_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>

#include <libp11.h>
#include <p11-kit/pkcs11.h>

#include "hsm/hsm.h"

/* ---- PKCS#11 URI (RFC 7512) ---- */

#define HSM_URI_MAX 2048        /* longest URI accepted */
#define HSM_URI_OBJECT_MAX 128  /* longest object label accepted */
#define HSM_URI_ID_MAX 64       /* longest key id accepted, bytes */

typedef enum hsm_uri_type {
	HSM_URI_TYPE_ANY = 0,
	HSM_URI_TYPE_PRIVATE,
	HSM_URI_TYPE_PUBLIC,
	HSM_URI_TYPE_CERT,
	HSM_URI_TYPE_SECRET_KEY,
	HSM_URI_TYPE_DATA,
} hsm_uri_type;

/* The decoded attributes of a PKCS#11 URI. Strings are NUL-terminated and
 * must not contain NUL; `id` is raw bytes. `has` bits tell what was given. */
typedef struct hsm_uri {
	unsigned has; /* HSM_URI_HAS_* */
	char token[33];
	char manufacturer[33];
	char model[17];
	char serial[17];
	char slot_description[65];
	char slot_manufacturer[33];
	unsigned long slot_id;
	char lib_manufacturer[33];
	char lib_description[33];
	unsigned lib_ver_major, lib_ver_minor;
	char object[HSM_URI_OBJECT_MAX + 1];
	uint8_t id[HSM_URI_ID_MAX];
	size_t id_len;
	hsm_uri_type type;
} hsm_uri;

enum {
	HSM_URI_HAS_TOKEN = 1u << 0,
	HSM_URI_HAS_MANUFACTURER = 1u << 1,
	HSM_URI_HAS_MODEL = 1u << 2,
	HSM_URI_HAS_SERIAL = 1u << 3,
	HSM_URI_HAS_SLOT_DESCRIPTION = 1u << 4,
	HSM_URI_HAS_SLOT_MANUFACTURER = 1u << 5,
	HSM_URI_HAS_SLOT_ID = 1u << 6,
	HSM_URI_HAS_LIB_MANUFACTURER = 1u << 7,
	HSM_URI_HAS_LIB_DESCRIPTION = 1u << 8,
	HSM_URI_HAS_LIB_VERSION = 1u << 9,
	HSM_URI_HAS_OBJECT = 1u << 10,
	HSM_URI_HAS_ID = 1u << 11,
	HSM_URI_HAS_TYPE = 1u << 12,
};
/* the attributes that select a token (or its slot or library) */
#define HSM_URI_TOKEN_ATTRS                                                                  \
	(HSM_URI_HAS_TOKEN | HSM_URI_HAS_MANUFACTURER | HSM_URI_HAS_MODEL | HSM_URI_HAS_SERIAL | \
	 HSM_URI_HAS_SLOT_DESCRIPTION | HSM_URI_HAS_SLOT_MANUFACTURER | HSM_URI_HAS_SLOT_ID |   \
	 HSM_URI_HAS_LIB_MANUFACTURER | HSM_URI_HAS_LIB_DESCRIPTION | HSM_URI_HAS_LIB_VERSION)
#define HSM_URI_OBJECT_ATTRS (HSM_URI_HAS_OBJECT | HSM_URI_HAS_ID | HSM_URI_HAS_TYPE)

/*
 * Parse a PKCS#11 URI strictly: scheme "pkcs11:" (any case), path
 * attributes separated by ';', each at most once, values percent-decoded;
 * characters outside RFC 7512's pchar set must be percent-encoded. Query
 * attributes are refused: pin-value and pin-source because PINs never come
 * from a URI (argv, configuration), module-name and module-path because
 * the module is configured separately. Unknown attributes are refused so a
 * typo never widens a selection. EAC_ERR_CONFIG with a detail naming the
 * attribute.
 */
eac_err hsm_uri_parse(const char *s, hsm_uri *out) EAC_MUST_CHECK;

/* Format a URI with the given attributes (in RFC 7512 order), every byte
 * outside the unreserved set percent-encoded. EAC_ERR_INTERNAL when it
 * does not fit. */
eac_err hsm_uri_format(const hsm_uri *u, char *out, size_t outlen) EAC_MUST_CHECK;

/* ---- CKR codes ---- */

/* "CKR_PIN_INCORRECT"; "CKR_VENDOR_DEFINED+0x12" style is not used: an
 * unknown code yields NULL. */
const char *hsm_ckr_name(CK_RV rv);

/* The eac_err for a CKR code (EAC_ERR_TOKEN for codes without a class of
 * their own) and the short phrase a person reads ("wrong PIN"). */
eac_err hsm_ckr_code(CK_RV rv);
const char *hsm_ckr_phrase(CK_RV rv);

/*
 * Record "token LABEL: [WHAT: ]PHRASE (CKR_NAME)" and return its eac_err.
 * `what` (printf format, may be NULL) says which operation failed.
 */
eac_err hsm_ckr_fail(CK_RV rv, const char *token, const char *what, ...) EAC_PRINTF(3, 4);

/* The CKR code libp11 left in the OpenSSL error queue (libp11 reports a
 * module's CKR_* as the reason of an error of its own library,
 * ERR_get_CKR_code()); CKR_OK when there is none. Empties the queue. */
CK_RV hsm_ckr_from_libp11(void);

/* ---- the token context ---- */

/* Digests of the TA schemes, fetched once per context. */
enum { HSM_MD_SHA1, HSM_MD_SHA224, HSM_MD_SHA256, HSM_MD_SHA384, HSM_MD_SHA512, HSM_MD__COUNT };

/* Upper bound of sessions one context opens (fewer when the token says so). */
#define HSM_SESSIONS_MAX 64

struct hsm_ctx {
	atomic_int refs; /* hsm_open: 1; +1 per live key */
	/* libp11: module loading (C_Initialize/C_Finalize) and enumeration */
	PKCS11_CTX *p11;
	int loaded; /* PKCS11_CTX_load succeeded: PKCS11_CTX_unload owed */
	PKCS11_SLOT *slots;
	unsigned nslots;
	/* the same module instance reached through its function list */
	void *dl;
	CK_FUNCTION_LIST_PTR f;
	CK_SLOT_ID slot;
	hsm_token_info info;
	/* the session that holds the login for the context's lifetime; no
	 * operation runs on it, so a failed operation never ends the login */
	CK_SESSION_HANDLE login_session;
	int logged_in;
	/* the pool: idle sessions ready for any operation */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	CK_SESSION_HANDLE idle[HSM_SESSIONS_MAX];
	unsigned nidle, nopen, max_open;
	EVP_MD *md[HSM_MD__COUNT];
};

/* Take a session (read-only; rw: read/write) from the pool, opening one
 * when none is idle and the limit allows, else waiting for one. */
eac_err hsm_session_get(hsm_ctx *ctx, int rw, CK_SESSION_HANDLE *out) EAC_MUST_CHECK;
/* Give a session back for reuse. */
void hsm_session_put(hsm_ctx *ctx, CK_SESSION_HANDLE s);
/* Close a session that failed (its state is unknown) instead of reusing it. */
void hsm_session_drop(hsm_ctx *ctx, CK_SESSION_HANDLE s);
/* Close a read/write session used once (key generation); not pooled. */
void hsm_session_close_rw(hsm_ctx *ctx, CK_SESSION_HANDLE s);

void hsm_ctx_unref(hsm_ctx *ctx);

/* ---- keys ---- */

/* Plain ECDSA r‖s from the token (`inlen` bytes, halves of equal length up
 * to width/2) as exactly `width` bytes, each half left-padded with zeros.
 * 0 when `in` cannot be a signature of that width (odd, empty, longer);
 * `out` is then untouched. */
int hsm_ecdsa_fixed(const uint8_t *in, size_t inlen, size_t width, uint8_t *out);

struct hsm_key {
	hsm_ctx *ctx;
	CK_OBJECT_HANDLE priv;
	hsm_key_type type;
	cvc_curve curve;
	unsigned bits;
	size_t sig_len;   /* 2·l or modulus bytes */
	EVP_PKEY *pub;    /* public only */
	char label[HSM_URI_OBJECT_MAX + 1];
	uint8_t id[HSM_URI_ID_MAX];
	size_t id_len;
	char uri[HSM_URI_MAX];
};

/* DER of the named-curve OID of a supported curve (the CKA_EC_PARAMS
 * value) and the curve such a value names (CVC_CURVE_NONE if none). */
const uint8_t *hsm_curve_oid(cvc_curve c, size_t *len);
cvc_curve hsm_curve_from_params(const uint8_t *der, size_t len);
/* Byte length of the group order of a supported curve. */
size_t hsm_curve_order_len(cvc_curve c);

#endif /* EAC_HSM_INTERNAL_H */
