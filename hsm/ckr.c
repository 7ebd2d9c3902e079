/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CKR table: every PKCS#11 v2.40 return code with its name, the
 * eac_err class it falls in and the phrase a CA officer reads. The classes
 * follow what the officer can do about it: a wrong PIN (try again with the
 * right one), a locked PIN (the security officer unlocks it), an absent
 * token (plug it in, check the slot), a lost device or session (the token
 * went away mid-operation: nothing was released, run again), a mechanism
 * the token lacks (choose another scheme or token), a missing key.
 */

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "hsm/internal.h"

#define ROW(code, cls, phrase) { code, #code, cls, phrase }

static const struct {
	CK_RV rv;
	const char *name;
	eac_err code;
	const char *phrase;
} table[] = {
	ROW(CKR_OK, EAC_OK, "success"),
	ROW(CKR_CANCEL, EAC_ERR_TOKEN, "cancelled"),
	ROW(CKR_HOST_MEMORY, EAC_ERR_NOMEM, "the PKCS#11 module ran out of memory"),
	ROW(CKR_SLOT_ID_INVALID, EAC_ERR_TOKEN_ABSENT, "token absent: no such slot"),
	ROW(CKR_GENERAL_ERROR, EAC_ERR_TOKEN, "the token reported a general error"),
	ROW(CKR_FUNCTION_FAILED, EAC_ERR_TOKEN, "the token could not complete the operation"),
	ROW(CKR_ARGUMENTS_BAD, EAC_ERR_INTERNAL, "bad arguments to the PKCS#11 module"),
	ROW(CKR_NO_EVENT, EAC_ERR_TOKEN, "no slot event"),
	ROW(CKR_NEED_TO_CREATE_THREADS, EAC_ERR_TOKEN, "the module needs to create threads"),
	ROW(CKR_CANT_LOCK, EAC_ERR_TOKEN, "the module cannot use the requested locking"),
	ROW(CKR_ATTRIBUTE_READ_ONLY, EAC_ERR_TOKEN, "attribute is read-only"),
	ROW(CKR_ATTRIBUTE_SENSITIVE, EAC_ERR_TOKEN, "attribute is sensitive and cannot be read"),
	ROW(CKR_ATTRIBUTE_TYPE_INVALID, EAC_ERR_TOKEN, "attribute not known to the token"),
	ROW(CKR_ATTRIBUTE_VALUE_INVALID, EAC_ERR_TOKEN, "attribute value refused by the token"),
	ROW(CKR_ACTION_PROHIBITED, EAC_ERR_TOKEN, "action prohibited by the token's policy"),
	ROW(CKR_DATA_INVALID, EAC_ERR_TOKEN, "data refused by the token"),
	ROW(CKR_DATA_LEN_RANGE, EAC_ERR_TOKEN, "data length refused by the token"),
	ROW(CKR_DEVICE_ERROR, EAC_ERR_DEVICE_REMOVED, "device error: the token failed or went away"),
	ROW(CKR_DEVICE_MEMORY, EAC_ERR_TOKEN, "the token is out of memory"),
	ROW(CKR_DEVICE_REMOVED, EAC_ERR_DEVICE_REMOVED, "device removed"),
	ROW(CKR_ENCRYPTED_DATA_INVALID, EAC_ERR_TOKEN, "encrypted data invalid"),
	ROW(CKR_ENCRYPTED_DATA_LEN_RANGE, EAC_ERR_TOKEN, "encrypted data length invalid"),
	ROW(CKR_FUNCTION_CANCELED, EAC_ERR_TOKEN, "operation cancelled"),
	ROW(CKR_FUNCTION_NOT_PARALLEL, EAC_ERR_TOKEN, "no parallel operation"),
	ROW(CKR_FUNCTION_NOT_SUPPORTED, EAC_ERR_MECHANISM, "function not supported by the module"),
	ROW(CKR_KEY_HANDLE_INVALID, EAC_ERR_KEY_NOT_FOUND, "key not found (handle no longer valid)"),
	ROW(CKR_KEY_SIZE_RANGE, EAC_ERR_MECHANISM, "key size not supported by the token"),
	ROW(CKR_KEY_TYPE_INCONSISTENT, EAC_ERR_MECHANISM, "key type does not fit the mechanism"),
	ROW(CKR_KEY_NOT_NEEDED, EAC_ERR_TOKEN, "key not needed"),
	ROW(CKR_KEY_CHANGED, EAC_ERR_TOKEN, "key changed"),
	ROW(CKR_KEY_NEEDED, EAC_ERR_TOKEN, "key needed"),
	ROW(CKR_KEY_INDIGESTIBLE, EAC_ERR_TOKEN, "key cannot be digested"),
	ROW(CKR_KEY_FUNCTION_NOT_PERMITTED, EAC_ERR_MECHANISM,
	    "the key's attributes do not permit this operation"),
	ROW(CKR_KEY_NOT_WRAPPABLE, EAC_ERR_TOKEN, "key cannot be wrapped"),
	ROW(CKR_KEY_UNEXTRACTABLE, EAC_ERR_TOKEN, "key is not extractable"),
	ROW(CKR_MECHANISM_INVALID, EAC_ERR_MECHANISM, "mechanism not supported by the token"),
	ROW(CKR_MECHANISM_PARAM_INVALID, EAC_ERR_MECHANISM,
	    "mechanism parameters not supported by the token"),
	ROW(CKR_OBJECT_HANDLE_INVALID, EAC_ERR_KEY_NOT_FOUND, "object not found (handle no longer valid)"),
	ROW(CKR_OPERATION_ACTIVE, EAC_ERR_TOKEN, "another operation is active in the session"),
	ROW(CKR_OPERATION_NOT_INITIALIZED, EAC_ERR_TOKEN, "operation not initialised"),
	ROW(CKR_PIN_INCORRECT, EAC_ERR_PIN_INCORRECT, "wrong PIN"),
	ROW(CKR_PIN_INVALID, EAC_ERR_PIN_INCORRECT, "wrong PIN (characters the token refuses)"),
	ROW(CKR_PIN_LEN_RANGE, EAC_ERR_PIN_INCORRECT, "wrong PIN (length the token refuses)"),
	ROW(CKR_PIN_EXPIRED, EAC_ERR_PIN_LOCKED, "PIN expired: the user PIN must be changed first"),
	ROW(CKR_PIN_LOCKED, EAC_ERR_PIN_LOCKED,
	    "PIN locked: the security officer must unlock it"),
	ROW(CKR_SESSION_CLOSED, EAC_ERR_DEVICE_REMOVED, "session closed: the token went away"),
	ROW(CKR_SESSION_COUNT, EAC_ERR_TOKEN, "the token has no session left"),
	ROW(CKR_SESSION_HANDLE_INVALID, EAC_ERR_DEVICE_REMOVED,
	    "session lost: the token was removed or reset"),
	ROW(CKR_SESSION_PARALLEL_NOT_SUPPORTED, EAC_ERR_TOKEN, "parallel sessions not supported"),
	ROW(CKR_SESSION_READ_ONLY, EAC_ERR_TOKEN, "session is read-only"),
	ROW(CKR_SESSION_EXISTS, EAC_ERR_TOKEN, "a session exists"),
	ROW(CKR_SESSION_READ_ONLY_EXISTS, EAC_ERR_TOKEN, "a read-only session exists"),
	ROW(CKR_SESSION_READ_WRITE_SO_EXISTS, EAC_ERR_TOKEN,
	    "the security officer is logged in on this token"),
	ROW(CKR_SIGNATURE_INVALID, EAC_ERR_SIGNATURE, "signature invalid"),
	ROW(CKR_SIGNATURE_LEN_RANGE, EAC_ERR_SIGNATURE, "signature length invalid"),
	ROW(CKR_TEMPLATE_INCOMPLETE, EAC_ERR_TOKEN, "the token needs attributes we did not give"),
	ROW(CKR_TEMPLATE_INCONSISTENT, EAC_ERR_TOKEN, "the token refuses the attribute template"),
	ROW(CKR_TOKEN_NOT_PRESENT, EAC_ERR_TOKEN_ABSENT, "token absent"),
	ROW(CKR_TOKEN_NOT_RECOGNIZED, EAC_ERR_TOKEN_ABSENT, "token not recognised"),
	ROW(CKR_TOKEN_WRITE_PROTECTED, EAC_ERR_TOKEN, "token is write-protected"),
	ROW(CKR_UNWRAPPING_KEY_HANDLE_INVALID, EAC_ERR_TOKEN, "unwrapping key invalid"),
	ROW(CKR_UNWRAPPING_KEY_SIZE_RANGE, EAC_ERR_TOKEN, "unwrapping key size invalid"),
	ROW(CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT, EAC_ERR_TOKEN, "unwrapping key type invalid"),
	ROW(CKR_USER_ALREADY_LOGGED_IN, EAC_ERR_TOKEN, "already logged in"),
	ROW(CKR_USER_NOT_LOGGED_IN, EAC_ERR_TOKEN, "not logged in (the login was lost)"),
	ROW(CKR_USER_PIN_NOT_INITIALIZED, EAC_ERR_TOKEN, "the token has no user PIN set"),
	ROW(CKR_USER_TYPE_INVALID, EAC_ERR_TOKEN, "user type invalid"),
	ROW(CKR_USER_ANOTHER_ALREADY_LOGGED_IN, EAC_ERR_TOKEN,
	    "another user is logged in on this token"),
	ROW(CKR_USER_TOO_MANY_TYPES, EAC_ERR_TOKEN, "too many users logged in"),
	ROW(CKR_WRAPPED_KEY_INVALID, EAC_ERR_TOKEN, "wrapped key invalid"),
	ROW(CKR_WRAPPED_KEY_LEN_RANGE, EAC_ERR_TOKEN, "wrapped key length invalid"),
	ROW(CKR_WRAPPING_KEY_HANDLE_INVALID, EAC_ERR_TOKEN, "wrapping key invalid"),
	ROW(CKR_WRAPPING_KEY_SIZE_RANGE, EAC_ERR_TOKEN, "wrapping key size invalid"),
	ROW(CKR_WRAPPING_KEY_TYPE_INCONSISTENT, EAC_ERR_TOKEN, "wrapping key type invalid"),
	ROW(CKR_RANDOM_SEED_NOT_SUPPORTED, EAC_ERR_TOKEN, "seeding the RNG not supported"),
	ROW(CKR_RANDOM_NO_RNG, EAC_ERR_TOKEN, "the token has no RNG"),
	ROW(CKR_DOMAIN_PARAMS_INVALID, EAC_ERR_MECHANISM, "domain parameters not supported by the token"),
	ROW(CKR_CURVE_NOT_SUPPORTED, EAC_ERR_MECHANISM, "curve not supported by the token"),
	ROW(CKR_BUFFER_TOO_SMALL, EAC_ERR_INTERNAL, "output buffer too small"),
	ROW(CKR_SAVED_STATE_INVALID, EAC_ERR_TOKEN, "saved state invalid"),
	ROW(CKR_INFORMATION_SENSITIVE, EAC_ERR_TOKEN, "information is sensitive"),
	ROW(CKR_STATE_UNSAVEABLE, EAC_ERR_TOKEN, "state cannot be saved"),
	ROW(CKR_CRYPTOKI_NOT_INITIALIZED, EAC_ERR_DEVICE_REMOVED,
	    "the PKCS#11 module is not initialised (finalised or reset)"),
	ROW(CKR_CRYPTOKI_ALREADY_INITIALIZED, EAC_ERR_TOKEN, "the PKCS#11 module is already initialised"),
	ROW(CKR_MUTEX_BAD, EAC_ERR_TOKEN, "mutex error in the module"),
	ROW(CKR_MUTEX_NOT_LOCKED, EAC_ERR_TOKEN, "mutex error in the module"),
	ROW(CKR_NEW_PIN_MODE, EAC_ERR_TOKEN, "new PIN mode"),
	ROW(CKR_NEXT_OTP, EAC_ERR_TOKEN, "next OTP"),
	ROW(CKR_EXCEEDED_MAX_ITERATIONS, EAC_ERR_TOKEN, "exceeded maximum iterations"),
	ROW(CKR_FIPS_SELF_TEST_FAILED, EAC_ERR_DEVICE_REMOVED, "the token failed its self-test"),
	ROW(CKR_LIBRARY_LOAD_FAILED, EAC_ERR_TOKEN_ABSENT, "the module could not load a library"),
	ROW(CKR_PIN_TOO_WEAK, EAC_ERR_PIN_INCORRECT, "PIN too weak"),
	ROW(CKR_PUBLIC_KEY_INVALID, EAC_ERR_TOKEN, "public key invalid"),
	ROW(CKR_FUNCTION_REJECTED, EAC_ERR_TOKEN, "function rejected"),
};

static int find(CK_RV rv)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].rv == rv)
			return (int)i;
	return -1;
}

const char *hsm_ckr_name(CK_RV rv)
{
	int i = find(rv);
	return i < 0 ? NULL : table[i].name;
}

eac_err hsm_ckr_code(CK_RV rv)
{
	int i = find(rv);
	return i < 0 ? EAC_ERR_TOKEN : table[i].code;
}

const char *hsm_ckr_phrase(CK_RV rv)
{
	int i = find(rv);
	if (i >= 0)
		return table[i].phrase;
	return rv >= CKR_VENDOR_DEFINED ? "vendor-defined error" : "unknown PKCS#11 error";
}

eac_err hsm_ckr_fail(CK_RV rv, const char *token, const char *what, ...)
{
	char ctx[512] = "";
	char name[48];
	const char *n = hsm_ckr_name(rv);

	if (what != NULL) {
		va_list ap;
		va_start(ap, what);
		vsnprintf(ctx, sizeof(ctx) - 2, what, ap);
		va_end(ap);
		strcat(ctx, ": ");
	}
	if (n == NULL)
		snprintf(name, sizeof(name), "CKR 0x%lx", (unsigned long)rv);
	else
		snprintf(name, sizeof(name), "%s", n);
	return eac_fail(hsm_ckr_code(rv), "token %s: %s%s (%s)", token ? token : "?", ctx,
			hsm_ckr_phrase(rv), name);
}

CK_RV hsm_ckr_from_libp11(void)
{
	/* libp11 registers two OpenSSL error libraries at run time: one whose
	 * reasons are the module's CKR_* codes (ERR_get_CKR_code()) and one
	 * for its own errors. The last CKR reason in the queue is the one that
	 * made the call fail. */
	CK_RV rv = CKR_OK;
	int lib = ERR_get_CKR_code();
	unsigned long e;

	while ((e = ERR_get_error()) != 0)
		if (lib != 0 && ERR_GET_LIB(e) == lib && ERR_GET_REASON(e) != 0)
			rv = (CK_RV)ERR_GET_REASON(e);
	return rv;
}
