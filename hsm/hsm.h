/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hsm/ — the one way the CVCA and DV engines touch private keys: a PKCS#11
 * token selected by PKCS#11 URI (RFC 7512), key pairs generated inside the
 * token and never extractable (CP-4.5a, CP-4.12), signatures for the
 * Terminal Authentication schemes made in the token, and PINs read from a
 * prompt, a file descriptor or a mode-0600 file — never from argv, the
 * environment or a log.
 *
 * Division of labour (docs/HSM.md explains why): libp11 loads the module
 * (C_Initialize with OS locking) and enumerates slots and tokens; login, key
 * lookup, key generation and signing go through the module's own function
 * list, reached by a second dlopen() of the same module, which yields the
 * same, already initialised module instance.
 *
 * Threads: one hsm_ctx may be shared by any number of threads. hsm_sign()
 * and the other calls take a session from a per-token pool (opened on
 * demand, reused, never more than the token allows) so that a batch signs
 * without opening a session or logging in per signature. hsm_ctx must not
 * be used in a child after fork().
 *
 * Depends on common/ and on the types of cvc/cvc.h (cvc_alg, cvc_curve).
 */
#ifndef EAC_HSM_H
#define EAC_HSM_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/common.h"
#include "cvc/cvc.h"

/* ---- PINs ---- */

/* Longest PIN accepted from any source, in bytes. */
#define HSM_PIN_MAX 256

typedef enum hsm_pin_kind {
	HSM_PIN_PROMPT = 1, /* ask on /dev/tty, echo off */
	HSM_PIN_FD,         /* read one line from an open file descriptor */
	HSM_PIN_FILE,       /* read a file that is mode 0600 (or 0400) and owned by the caller */
} hsm_pin_kind;

/* Where a PIN comes from. `path` is not copied: it must outlive the use. */
typedef struct hsm_pin_source {
	hsm_pin_kind kind;
	int fd;           /* HSM_PIN_FD */
	const char *path; /* HSM_PIN_FILE */
} hsm_pin_source;

/*
 * The PIN source of an engine command line: `pin_fd` is the value of
 * --pin-fd (decimal, an open descriptor; NULL when not given), `pin_file`
 * the configuration's token.pin_file (NULL when absent). --pin-fd wins over
 * the configuration; with neither the PIN is prompted for. Refuses a
 * --pin-fd value that is not a number or not an open descriptor
 * (EAC_ERR_USAGE). `pin_file` is only stored; it is checked when read.
 */
eac_err hsm_pin_source_from_args(const char *pin_fd, const char *pin_file,
				 hsm_pin_source *out) EAC_MUST_CHECK;

/*
 * Read a PIN from `src` into `pin` (NUL-terminated, at most HSM_PIN_MAX
 * bytes; *len its length). `what` names the token in the prompt ("PIN for
 * token CVCA: ") and in errors. Before anything is read the process is made
 * non-dumpable with core dumps off (eac_harden_process), so that no binary
 * reading a PIN through hsm/ can forget it. One trailing newline (or CRLF)
 * is dropped; an empty PIN, a NUL byte or more than HSM_PIN_MAX bytes is
 * refused. A file must be a regular file owned by the caller with no
 * group/other permission bits; a prompt needs a terminal and restores its
 * echo even when interrupted. On failure `pin` holds nothing (wiped). The
 * caller wipes `pin` with hsm_pin_wipe() after use. Errors never contain
 * the PIN: EAC_ERR_IO (unreadable), EAC_ERR_USAGE (no terminal),
 * EAC_ERR_CONFIG (file permissions or owner), EAC_ERR_MALFORMED (empty,
 * too long, NUL).
 */
eac_err hsm_pin_read(const hsm_pin_source *src, const char *what, char pin[static HSM_PIN_MAX + 1],
		     size_t *len) EAC_MUST_CHECK;
void hsm_pin_wipe(char pin[static HSM_PIN_MAX + 1]);

/* ---- the token ---- */

typedef struct hsm_ctx hsm_ctx;

/*
 * Load the PKCS#11 module at `module_path`, select the one token that the
 * PKCS#11 URI `token_uri` matches (attributes token, manufacturer, serial,
 * model, slot-id, slot-description, slot-manufacturer, library-manufacturer,
 * library-description, library-version; e.g. "pkcs11:token=CVCA"), and log
 * in as the user exactly once with the PIN read from `pin` (read inside,
 * wiped before returning).
 * Before any login — and before the PIN is even asked for — the token's
 * flags are checked: a locked user PIN is EAC_ERR_PIN_LOCKED, a PIN on its
 * final try EAC_ERR_PIN_FINAL_TRY (the last try is left for the officer to
 * spend deliberately, e.g. with pkcs11-tool), and then no C_Login is made.
 * The flags are checked again right before the one C_Login. There is never
 * a retry.
 * Errors: EAC_ERR_TOKEN_ABSENT (module not loadable, no matching token),
 * EAC_ERR_CONFIG (bad URI, URI naming an object or carrying a PIN, several
 * tokens match), EAC_ERR_PIN_INCORRECT ("token CVCA: wrong PIN
 * (CKR_PIN_INCORRECT)"), EAC_ERR_PIN_LOCKED, EAC_ERR_PIN_FINAL_TRY, PIN
 * source errors as hsm_pin_read, other token errors as the CKR table says.
 */
eac_err hsm_open(const char *module_path, const char *token_uri, const hsm_pin_source *pin,
		 hsm_ctx **out) EAC_MUST_CHECK;

/*
 * Log out, close the sessions and unload the module. Keys still held keep
 * the token open until the last hsm_key_free(). NULL is ignored.
 */
void hsm_close(hsm_ctx *ctx);

/* What identifies the opened token (blank padding removed), for
 * transcripts and messages. */
typedef struct hsm_token_info {
	char label[33];
	char manufacturer[33];
	char model[17];
	char serial[17];
	unsigned long slot_id;
	char module[4096];
} hsm_token_info;
void hsm_token_describe(const hsm_ctx *ctx, hsm_token_info *out);

/* ---- keys ---- */

typedef struct hsm_key hsm_key;

typedef enum hsm_key_type { HSM_KEY_NONE = 0, HSM_KEY_EC, HSM_KEY_RSA } hsm_key_type;

/* RSA modulus sizes generated and accepted, in bits (the national policy
 * narrows this further). */
#define HSM_RSA_MIN_BITS 2048
#define HSM_RSA_MAX_BITS 4096

/* What to generate: an EC key on `curve` (one of cvc_curve: brainpoolP256r1,
 * brainpoolP384r1, brainpoolP512r1, P-256, P-384) or an RSA key of
 * `rsa_bits` (2048..4096, a multiple of 8) with public exponent 65537. */
typedef struct hsm_keyspec {
	hsm_key_type type;
	cvc_curve curve;
	unsigned rsa_bits;
} hsm_keyspec;

/* "brainpoolP256r1", "P-256" (and cvc_curve_from_name's aliases), or
 * "rsa2048".."rsa4096". Anything else: EAC_ERR_UNSUPPORTED naming it. */
eac_err hsm_keyspec_parse(const char *s, hsm_keyspec *out) EAC_MUST_CHECK;

/*
 * Generate a key pair in the token (C_GenerateKeyPair) for the holder
 * reference `chr`, which becomes the label and the CKA_ID (its bytes) of
 * both halves. Private half: CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE true,
 * CKA_EXTRACTABLE false, CKA_SIGN true, no decrypt/unwrap/derive. The
 * attributes are then read back and the key is refused (and destroyed)
 * unless the token also reports ALWAYS_SENSITIVE, NEVER_EXTRACTABLE and
 * LOCAL (CP-4.5a). Refuses an invalid CHR (EAC_ERR_USAGE), an unsupported
 * spec (EAC_ERR_UNSUPPORTED) and a CHR already used as the label or id of
 * any object in the token (EAC_ERR_EXISTS; CP-3.1b: one key per CHR).
 */
eac_err hsm_key_generate(hsm_ctx *ctx, const hsm_keyspec *spec, const char *chr,
			 hsm_key **out) EAC_MUST_CHECK;

/*
 * Find the private key named by a PKCS#11 URI ("pkcs11:object=FICVCA00002",
 * "pkcs11:token=CVCA;id=%46%49...") or, without the "pkcs11:" scheme, by its
 * label. Token attributes in the URI must name the opened token: a URI
 * naming another token is refused as not the configured token
 * (EAC_ERR_POLICY, CP-4.5a) — the DV engine cannot use the CVCA key even
 * given its URI. The key must be protected: CKA_TOKEN, CKA_PRIVATE,
 * CKA_SENSITIVE, CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE, CKA_LOCAL
 * true, CKA_EXTRACTABLE false, else EAC_ERR_KEY_UNPROTECTED naming every
 * missing attribute (a key imported from outside the token is never a CA
 * key; CP-4.5a, CP-4.12). Also refuses: no such key (EAC_ERR_KEY_NOT_FOUND),
 * several keys match (EAC_ERR_STATE), a key that cannot sign or needs a PIN
 * per signature (CKA_ALWAYS_AUTHENTICATE), a curve or size outside the set
 * above (EAC_ERR_UNSUPPORTED), a missing or mismatching public half
 * (EAC_ERR_KEY_NOT_FOUND / EAC_ERR_STATE).
 */
eac_err hsm_key_find(hsm_ctx *ctx, const char *uri_or_label, hsm_key **out) EAC_MUST_CHECK;

/* The attributes of a key as the token reports them now, for the key
 * ceremony transcript. */
typedef struct hsm_key_info {
	hsm_key_type type;
	cvc_curve curve;    /* EC */
	unsigned bits;      /* EC: order bits; RSA: modulus bits */
	int token, private_, sensitive, extractable, always_sensitive, never_extractable, local;
	int sign, always_authenticate;
	char label[129];
	uint8_t id[64];
	size_t id_len;
} hsm_key_info;
eac_err hsm_key_attrs(const hsm_key *key, hsm_key_info *out) EAC_MUST_CHECK;

/* The public key as an EVP_PKEY holding no private part (new reference:
 * EVP_PKEY_free()), for the codec. Read from the token's public key object
 * when the key was found or generated. */
eac_err hsm_key_public(const hsm_key *key, EVP_PKEY **out) EAC_MUST_CHECK;

/* A PKCS#11 URI naming the key precisely (token model, manufacturer,
 * serial and label; key id, label and type), for the database. Owned by
 * the key. */
const char *hsm_key_uri(const hsm_key *key);
/* The key's label (the CHR it was generated for). Owned by the key. */
const char *hsm_key_label(const hsm_key *key);
hsm_key_type hsm_key_get_type(const hsm_key *key);
cvc_curve hsm_key_curve(const hsm_key *key); /* CVC_CURVE_NONE for RSA */
/* Length of every signature the key makes: 2·l for ECDSA (l = byte length
 * of the group order), the modulus length for RSA. */
size_t hsm_key_sig_len(const hsm_key *key);

/* Free a key; releases the token when hsm_close() was already called. */
void hsm_key_free(hsm_key *key);

/* ---- signing ---- */

/*
 * The codec's signer (cvc_sign_fn): `key` is an hsm_key *. Hashes `tbs`
 * in software with the scheme's hash and signs the digest in the token:
 * ECDSA with CKM_ECDSA, output as plain r‖s of exactly 2·l bytes
 * (TR-03111); RSA v1.5 with DigestInfo and CKM_RSA_PKCS; RSA-PSS with
 * CKM_RSA_PKCS_PSS, MGF1 with the same hash and salt length = hash length
 * (TR-03110-3 A.6.3.1). RSA signatures are verified with the public key
 * before they are returned (a faulty RSA-CRT signature would reveal the
 * key). *siglen is the size of `sig` on entry and the signature length on
 * success; on any failure nothing is written to `sig`.
 * Refuses a scheme that does not fit the key (EC vs RSA) with
 * EAC_ERR_UNSUPPORTED and a short buffer with EAC_ERR_USAGE; token errors
 * as the CKR table says (e.g. EAC_ERR_DEVICE_REMOVED). Thread-safe.
 */
eac_err hsm_sign(void *key, cvc_alg alg, const uint8_t *tbs, size_t tbslen, uint8_t *sig,
		 size_t *siglen) EAC_MUST_CHECK;

#endif /* EAC_HSM_H */
