/* SPDX-License-Identifier: Apache-2.0 */
/*
 * p11fault.so — a PKCS#11 module for tests that forwards every call to a
 * real module and, as the environment says, injects errors and counts the
 * calls, so that tests can assert "no signature was made" or "exactly one
 * login was tried", also after the process was killed.
 *
 *   P11FAULT_MODULE=/usr/lib/softhsm/libsofthsm2.so   the real module (required)
 *   P11FAULT_COUNTS=/path        "C_Login=1" per line for every function,
 *                                rewritten (atomically) after every call
 *                                and at C_Finalize/exit
 *   P11FAULT_FAIL=RULE[,RULE]    RULE = FUNC[@N[+]]=RV: the N-th call of
 *                                FUNC (1-based; "+": and every later one;
 *                                no @N: every call) returns RV, a CKR_*
 *                                name or 0xHEX, without reaching the
 *                                real module
 *   P11FAULT_SIGN_FAIL_AT=N:RV   shorthand for C_Sign@N=RV
 *   P11FAULT_LOGIN_RV=RV         shorthand for C_Login=RV
 *   P11FAULT_TOKEN_FLAGS=+CKF_X,-CKF_Y   flags set/cleared in C_GetTokenInfo
 *   P11FAULT_TOKEN_LABEL=LABEL   limit P11FAULT_TOKEN_FLAGS to that token
 *   P11FAULT_REMOVE_AT=FUNC@N    the device is removed at the N-th call of
 *                                FUNC: that and every later call returns
 *                                CKR_DEVICE_REMOVED (C_GetTokenInfo:
 *                                CKR_TOKEN_NOT_PRESENT; C_GetSlotInfo
 *                                loses CKF_TOKEN_PRESENT); sessions are
 *                                still closed in the real module
 * A call is counted whether it was forwarded or faulted. Documented in
 * docs/HSM.md.
 */

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

#define EXPORT __attribute__((visibility("default")))

/* Every function of the v2.40 list: name, parameters, arguments. */
#define FUNCS(X)                                                                                   \
	X(C_GetInfo, (CK_INFO_PTR a), (a))                                                             \
	X(C_GetSlotList, (CK_BBOOL a, CK_SLOT_ID_PTR b, CK_ULONG_PTR c), (a, b, c))                    \
	X(C_GetMechanismList, (CK_SLOT_ID a, CK_MECHANISM_TYPE_PTR b, CK_ULONG_PTR c), (a, b, c))      \
	X(C_GetMechanismInfo, (CK_SLOT_ID a, CK_MECHANISM_TYPE b, CK_MECHANISM_INFO_PTR c), (a, b, c)) \
	X(C_InitToken, (CK_SLOT_ID a, CK_UTF8CHAR_PTR b, CK_ULONG c, CK_UTF8CHAR_PTR d), (a, b, c, d)) \
	X(C_InitPIN, (CK_SESSION_HANDLE a, CK_UTF8CHAR_PTR b, CK_ULONG c), (a, b, c))                  \
	X(C_SetPIN,                                                                                    \
	  (CK_SESSION_HANDLE a, CK_UTF8CHAR_PTR b, CK_ULONG c, CK_UTF8CHAR_PTR d, CK_ULONG e),         \
	  (a, b, c, d, e))                                                                             \
	X(C_OpenSession,                                                                               \
	  (CK_SLOT_ID a, CK_FLAGS b, CK_VOID_PTR c, CK_NOTIFY d, CK_SESSION_HANDLE_PTR e),             \
	  (a, b, c, d, e))                                                                             \
	X(C_GetSessionInfo, (CK_SESSION_HANDLE a, CK_SESSION_INFO_PTR b), (a, b))                      \
	X(C_GetOperationState, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG_PTR c), (a, b, c))        \
	X(C_SetOperationState,                                                                         \
	  (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_OBJECT_HANDLE d, CK_OBJECT_HANDLE e),    \
	  (a, b, c, d, e))                                                                             \
	X(C_Login, (CK_SESSION_HANDLE a, CK_USER_TYPE b, CK_UTF8CHAR_PTR c, CK_ULONG d), (a, b, c, d)) \
	X(C_Logout, (CK_SESSION_HANDLE a), (a))                                                        \
	X(C_CreateObject,                                                                              \
	  (CK_SESSION_HANDLE a, CK_ATTRIBUTE_PTR b, CK_ULONG c, CK_OBJECT_HANDLE_PTR d), (a, b, c, d)) \
	X(C_CopyObject,                                                                                \
	  (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b, CK_ATTRIBUTE_PTR c, CK_ULONG d,                    \
	   CK_OBJECT_HANDLE_PTR e),                                                                    \
	  (a, b, c, d, e))                                                                             \
	X(C_DestroyObject, (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b), (a, b))                          \
	X(C_GetObjectSize, (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b, CK_ULONG_PTR c), (a, b, c))       \
	X(C_GetAttributeValue,                                                                         \
	  (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b, CK_ATTRIBUTE_PTR c, CK_ULONG d), (a, b, c, d))     \
	X(C_SetAttributeValue,                                                                         \
	  (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b, CK_ATTRIBUTE_PTR c, CK_ULONG d), (a, b, c, d))     \
	X(C_FindObjectsInit, (CK_SESSION_HANDLE a, CK_ATTRIBUTE_PTR b, CK_ULONG c), (a, b, c))         \
	X(C_FindObjects, (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE_PTR b, CK_ULONG c, CK_ULONG_PTR d),    \
	  (a, b, c, d))                                                                                \
	X(C_FindObjectsFinal, (CK_SESSION_HANDLE a), (a))                                              \
	X(C_EncryptInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c), (a, b, c))     \
	X(C_Encrypt,                                                                                   \
	  (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e),             \
	  (a, b, c, d, e))                                                                             \
	X(C_EncryptUpdate,                                                                             \
	  (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e),             \
	  (a, b, c, d, e))                                                                             \
	X(C_EncryptFinal, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG_PTR c), (a, b, c))             \
	X(C_DecryptInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c), (a, b, c))     \
	X(C_Decrypt,                                                                                   \
	  (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e),             \
	  (a, b, c, d, e))                                                                             \
	X(C_DecryptUpdate,                                                                             \
	  (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e),             \
	  (a, b, c, d, e))                                                                             \
	X(C_DecryptFinal, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG_PTR c), (a, b, c))             \
	X(C_DigestInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b), (a, b))                             \
	X(C_Digest,                                                                                    \
	  (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e),             \
	  (a, b, c, d, e))                                                                             \
	X(C_DigestUpdate, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c), (a, b, c))                 \
	X(C_DigestKey, (CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b), (a, b))                              \
	X(C_DigestFinal, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG_PTR c), (a, b, c))              \
	X(C_SignInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c), (a, b, c))        \
	X(C_Sign,                                                                                      \
	  (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e),             \
	  (a, b, c, d, e))                                                                             \
	X(C_SignUpdate, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c), (a, b, c))                   \
	X(C_SignFinal, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG_PTR c), (a, b, c))                \
	X(C_SignRecoverInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c), (a, b, c)) \
	X(C_SignRecover,                                                                               \
	  (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e),             \
	  (a, b, c, d, e))                                                                             \
	X(C_VerifyInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c), (a, b, c))      \
	X(C_Verify, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG e),       \
	  (a, b, c, d, e))                                                                             \
	X(C_VerifyUpdate, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c), (a, b, c))                 \
	X(C_VerifyFinal, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c), (a, b, c))                  \
	X(C_VerifyRecoverInit, (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c),          \
	  (a, b, c))                                                                                   \
	X(C_VerifyRecover,                                                                             \
	  (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e),             \
	  (a, b, c, d, e))                                                                             \
	X(C_DigestEncryptUpdate,                                                                       \
	  (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e),             \
	  (a, b, c, d, e))                                                                             \
	X(C_DecryptDigestUpdate,                                                                       \
	  (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e),             \
	  (a, b, c, d, e))                                                                             \
	X(C_SignEncryptUpdate,                                                                         \
	  (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e),             \
	  (a, b, c, d, e))                                                                             \
	X(C_DecryptVerifyUpdate,                                                                       \
	  (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e),             \
	  (a, b, c, d, e))                                                                             \
	X(C_GenerateKey,                                                                               \
	  (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_ATTRIBUTE_PTR c, CK_ULONG d,                    \
	   CK_OBJECT_HANDLE_PTR e),                                                                    \
	  (a, b, c, d, e))                                                                             \
	X(C_GenerateKeyPair,                                                                           \
	  (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_ATTRIBUTE_PTR c, CK_ULONG d,                    \
	   CK_ATTRIBUTE_PTR e, CK_ULONG f, CK_OBJECT_HANDLE_PTR g, CK_OBJECT_HANDLE_PTR h),            \
	  (a, b, c, d, e, f, g, h))                                                                    \
	X(C_WrapKey,                                                                                   \
	  (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c, CK_OBJECT_HANDLE d,            \
	   CK_BYTE_PTR e, CK_ULONG_PTR f),                                                             \
	  (a, b, c, d, e, f))                                                                          \
	X(C_UnwrapKey,                                                                                 \
	  (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c, CK_BYTE_PTR d, CK_ULONG e,     \
	   CK_ATTRIBUTE_PTR f, CK_ULONG g, CK_OBJECT_HANDLE_PTR h),                                    \
	  (a, b, c, d, e, f, g, h))                                                                    \
	X(C_DeriveKey,                                                                                 \
	  (CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c, CK_ATTRIBUTE_PTR d,            \
	   CK_ULONG e, CK_OBJECT_HANDLE_PTR f),                                                        \
	  (a, b, c, d, e, f))                                                                          \
	X(C_SeedRandom, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c), (a, b, c))                   \
	X(C_GenerateRandom, (CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c), (a, b, c))               \
	X(C_GetFunctionStatus, (CK_SESSION_HANDLE a), (a))                                             \
	X(C_CancelFunction, (CK_SESSION_HANDLE a), (a))                                                \
	X(C_WaitForSlotEvent, (CK_FLAGS a, CK_SLOT_ID_PTR b, CK_VOID_PTR c), (a, b, c))

/* The functions with behaviour of their own (not in FUNCS). */
#define SPECIAL(X)          \
	X(C_Initialize)         \
	X(C_Finalize)           \
	X(C_GetSlotInfo)        \
	X(C_GetTokenInfo)       \
	X(C_CloseSession)       \
	X(C_CloseAllSessions)

enum {
#define ENUM_F(name, ...) F_##name,
	FUNCS(ENUM_F) SPECIAL(ENUM_F)
#undef ENUM_F
	F__COUNT
};

static const char *const fnames[F__COUNT] = {
#define NAME_F(name, ...) [F_##name] = #name,
	FUNCS(NAME_F) SPECIAL(NAME_F)
#undef NAME_F
};

/* ---- state ---- */

#define MAX_RULES 16

typedef struct rule {
	int fn;
	unsigned long at; /* 0: every call */
	int and_later;
	CK_RV rv;
} rule;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static CK_FUNCTION_LIST_PTR real;
static void *real_dl;
static int setup_ok;
static unsigned long counts[F__COUNT];
static rule rules[MAX_RULES];
static int nrules;
static CK_FLAGS flags_set, flags_clear;
static char flags_label[33];
static int remove_fn = -1;
static unsigned long remove_at;
static int removed;
static char counts_path[4096];

static void die_config(const char *what, const char *value)
{
	fprintf(stderr, "p11fault: %s: '%s'\n", what, value ? value : "(unset)");
	setup_ok = 0;
}

/* ---- names ---- */

#define CKR_ROW(n) { #n, n }
static const struct {
	const char *name;
	CK_RV rv;
} ckrs[] = {
	CKR_ROW(CKR_OK), CKR_ROW(CKR_CANCEL), CKR_ROW(CKR_HOST_MEMORY), CKR_ROW(CKR_SLOT_ID_INVALID),
	CKR_ROW(CKR_GENERAL_ERROR), CKR_ROW(CKR_FUNCTION_FAILED), CKR_ROW(CKR_ARGUMENTS_BAD),
	CKR_ROW(CKR_ATTRIBUTE_SENSITIVE), CKR_ROW(CKR_ATTRIBUTE_VALUE_INVALID),
	CKR_ROW(CKR_DATA_LEN_RANGE), CKR_ROW(CKR_DEVICE_ERROR), CKR_ROW(CKR_DEVICE_MEMORY),
	CKR_ROW(CKR_DEVICE_REMOVED), CKR_ROW(CKR_FUNCTION_CANCELED), CKR_ROW(CKR_FUNCTION_NOT_SUPPORTED),
	CKR_ROW(CKR_KEY_HANDLE_INVALID), CKR_ROW(CKR_KEY_SIZE_RANGE), CKR_ROW(CKR_KEY_TYPE_INCONSISTENT),
	CKR_ROW(CKR_KEY_FUNCTION_NOT_PERMITTED), CKR_ROW(CKR_KEY_UNEXTRACTABLE),
	CKR_ROW(CKR_MECHANISM_INVALID), CKR_ROW(CKR_MECHANISM_PARAM_INVALID),
	CKR_ROW(CKR_OBJECT_HANDLE_INVALID), CKR_ROW(CKR_OPERATION_ACTIVE),
	CKR_ROW(CKR_OPERATION_NOT_INITIALIZED), CKR_ROW(CKR_PIN_INCORRECT), CKR_ROW(CKR_PIN_INVALID),
	CKR_ROW(CKR_PIN_LEN_RANGE), CKR_ROW(CKR_PIN_EXPIRED), CKR_ROW(CKR_PIN_LOCKED),
	CKR_ROW(CKR_SESSION_CLOSED), CKR_ROW(CKR_SESSION_COUNT), CKR_ROW(CKR_SESSION_HANDLE_INVALID),
	CKR_ROW(CKR_SESSION_READ_ONLY), CKR_ROW(CKR_SIGNATURE_INVALID), CKR_ROW(CKR_TEMPLATE_INCOMPLETE),
	CKR_ROW(CKR_TEMPLATE_INCONSISTENT), CKR_ROW(CKR_TOKEN_NOT_PRESENT),
	CKR_ROW(CKR_TOKEN_NOT_RECOGNIZED), CKR_ROW(CKR_TOKEN_WRITE_PROTECTED),
	CKR_ROW(CKR_USER_ALREADY_LOGGED_IN), CKR_ROW(CKR_USER_NOT_LOGGED_IN),
	CKR_ROW(CKR_USER_PIN_NOT_INITIALIZED), CKR_ROW(CKR_USER_TYPE_INVALID),
	CKR_ROW(CKR_DOMAIN_PARAMS_INVALID), CKR_ROW(CKR_CURVE_NOT_SUPPORTED),
	CKR_ROW(CKR_BUFFER_TOO_SMALL), CKR_ROW(CKR_CRYPTOKI_NOT_INITIALIZED),
	CKR_ROW(CKR_CRYPTOKI_ALREADY_INITIALIZED), CKR_ROW(CKR_FUNCTION_REJECTED),
};

#define FLAG_ROW(n) { #n, n }
static const struct {
	const char *name;
	CK_FLAGS flag;
} flagnames[] = {
	FLAG_ROW(CKF_RNG), FLAG_ROW(CKF_WRITE_PROTECTED), FLAG_ROW(CKF_LOGIN_REQUIRED),
	FLAG_ROW(CKF_USER_PIN_INITIALIZED), FLAG_ROW(CKF_PROTECTED_AUTHENTICATION_PATH),
	FLAG_ROW(CKF_TOKEN_INITIALIZED), FLAG_ROW(CKF_USER_PIN_COUNT_LOW),
	FLAG_ROW(CKF_USER_PIN_FINAL_TRY), FLAG_ROW(CKF_USER_PIN_LOCKED),
	FLAG_ROW(CKF_USER_PIN_TO_BE_CHANGED), FLAG_ROW(CKF_SO_PIN_COUNT_LOW),
	FLAG_ROW(CKF_SO_PIN_FINAL_TRY), FLAG_ROW(CKF_SO_PIN_LOCKED), FLAG_ROW(CKF_SO_PIN_TO_BE_CHANGED),
};

static int parse_rv(const char *s, size_t len, CK_RV *out)
{
	char buf[64];
	if (len == 0 || len >= sizeof(buf))
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (strncmp(buf, "0x", 2) == 0) {
		char *end;
		unsigned long v = strtoul(buf + 2, &end, 16);
		if (buf[2] == '\0' || *end != '\0')
			return 0;
		*out = v;
		return 1;
	}
	for (size_t i = 0; i < sizeof(ckrs) / sizeof(ckrs[0]); i++)
		if (strcmp(ckrs[i].name, buf) == 0) {
			*out = ckrs[i].rv;
			return 1;
		}
	return 0;
}

static int parse_fn(const char *s, size_t len)
{
	for (int i = 0; i < F__COUNT; i++)
		if (strlen(fnames[i]) == len && strncmp(fnames[i], s, len) == 0)
			return i;
	return -1;
}

/* FUNC[@N[+]] */
static int parse_call(const char *s, size_t len, int *fn, unsigned long *at, int *later)
{
	const char *atp = memchr(s, '@', len);
	*at = 0;
	*later = 0;
	if ((*fn = parse_fn(s, atp ? (size_t)(atp - s) : len)) < 0)
		return 0;
	if (atp != NULL) {
		char buf[32];
		size_t n = len - (size_t)(atp + 1 - s);
		if (n == 0 || n >= sizeof(buf))
			return 0;
		memcpy(buf, atp + 1, n);
		buf[n] = '\0';
		if (buf[n - 1] == '+') {
			*later = 1;
			buf[n - 1] = '\0';
		}
		char *end;
		*at = strtoul(buf, &end, 10);
		if (buf[0] < '1' || buf[0] > '9' || *end != '\0')
			return 0;
	}
	return 1;
}

static void add_rule(const char *s, size_t len)
{
	const char *eq = memchr(s, '=', len);
	rule r;
	if (nrules == MAX_RULES || eq == NULL ||
	    !parse_call(s, (size_t)(eq - s), &r.fn, &r.at, &r.and_later) ||
	    !parse_rv(eq + 1, len - (size_t)(eq + 1 - s), &r.rv)) {
		char buf[256];
		snprintf(buf, sizeof(buf), "%.*s", (int)len, s);
		die_config("bad fault rule (FUNC[@N[+]]=CKR_NAME)", buf);
		return;
	}
	rules[nrules++] = r;
}

static void parse_rules(const char *s)
{
	while (s != NULL && *s != '\0') {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		if (len > 0)
			add_rule(s, len);
		s = comma ? comma + 1 : NULL;
	}
}

static void parse_flags(const char *s)
{
	while (s != NULL && *s != '\0') {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		char buf[64];
		CK_FLAGS f = 0;
		int found = 0;
		if (len < 2 || len >= sizeof(buf) || (s[0] != '+' && s[0] != '-')) {
			die_config("bad P11FAULT_TOKEN_FLAGS entry (+CKF_X or -CKF_X)", s);
			return;
		}
		memcpy(buf, s + 1, len - 1);
		buf[len - 1] = '\0';
		for (size_t i = 0; i < sizeof(flagnames) / sizeof(flagnames[0]); i++)
			if (strcmp(flagnames[i].name, buf) == 0) {
				f = flagnames[i].flag;
				found = 1;
			}
		if (!found && strncmp(buf, "0x", 2) == 0) {
			char *end;
			f = strtoul(buf + 2, &end, 16);
			found = buf[2] != '\0' && *end == '\0';
		}
		if (!found) {
			die_config("unknown token flag", buf);
			return;
		}
		if (s[0] == '+')
			flags_set |= f;
		else
			flags_clear |= f;
		s = comma ? comma + 1 : NULL;
	}
}

/* ---- counts ---- */

/* Caller holds the lock. Atomic replace, so a reader (or a kill) never
 * sees half a file. */
static void write_counts_locked(void)
{
	char tmp[4200], buf[F__COUNT * 40];
	size_t n = 0;
	if (counts_path[0] == '\0')
		return;
	for (int i = 0; i < F__COUNT; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s=%lu\n", fnames[i], counts[i]);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", counts_path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	ssize_t w = write(fd, buf, n);
	close(fd);
	if (w == (ssize_t)n)
		rename(tmp, counts_path);
	else
		unlink(tmp);
}

static void write_counts_at_exit(void)
{
	pthread_mutex_lock(&lock);
	write_counts_locked();
	pthread_mutex_unlock(&lock);
}

/* ---- set-up ---- */

static void setup(void)
{
	const char *mod = getenv("P11FAULT_MODULE");
	const char *v;
	CK_C_GetFunctionList gfl;

	setup_ok = 1;
	if ((v = getenv("P11FAULT_COUNTS")) != NULL)
		snprintf(counts_path, sizeof(counts_path), "%s", v);
	parse_rules(getenv("P11FAULT_FAIL"));
	if ((v = getenv("P11FAULT_SIGN_FAIL_AT")) != NULL) {
		const char *colon = strchr(v, ':');
		char buf[128];
		if (colon == NULL) {
			die_config("bad P11FAULT_SIGN_FAIL_AT (N:CKR_NAME)", v);
		} else {
			snprintf(buf, sizeof(buf), "C_Sign@%.*s=%s", (int)(colon - v), v, colon + 1);
			add_rule(buf, strlen(buf));
		}
	}
	if ((v = getenv("P11FAULT_LOGIN_RV")) != NULL) {
		char buf[128];
		snprintf(buf, sizeof(buf), "C_Login=%s", v);
		add_rule(buf, strlen(buf));
	}
	parse_flags(getenv("P11FAULT_TOKEN_FLAGS"));
	if ((v = getenv("P11FAULT_TOKEN_LABEL")) != NULL)
		snprintf(flags_label, sizeof(flags_label), "%s", v);
	if ((v = getenv("P11FAULT_REMOVE_AT")) != NULL) {
		int later;
		if (!parse_call(v, strlen(v), &remove_fn, &remove_at, &later) || remove_at == 0 || later)
			die_config("bad P11FAULT_REMOVE_AT (FUNC@N)", v);
	}
	if (mod == NULL || *mod == '\0') {
		die_config("P11FAULT_MODULE names no module", mod);
		return;
	}
	if ((real_dl = dlopen(mod, RTLD_NOW | RTLD_LOCAL)) == NULL ||
	    (gfl = (CK_C_GetFunctionList)dlsym(real_dl, "C_GetFunctionList")) == NULL ||
	    gfl(&real) != CKR_OK || real == NULL) {
		die_config("cannot load the real module", mod);
		return;
	}
	atexit(write_counts_at_exit);
}

/*
 * Count the call and decide: returns 1 with *rv set when the call is
 * faulted (not forwarded). `fail_when_removed` is 0 for the calls that
 * still work on a removed device.
 */
static int enter(int fn, CK_RV *rv, int fail_when_removed)
{
	int faulted = 0;
	pthread_mutex_lock(&lock);
	unsigned long n = ++counts[fn];
	if (!removed && fn == remove_fn && n == remove_at)
		removed = 1;
	if (removed && fail_when_removed) {
		*rv = fn == F_C_GetTokenInfo ? CKR_TOKEN_NOT_PRESENT : CKR_DEVICE_REMOVED;
		faulted = 1;
	}
	for (int i = 0; i < nrules && !faulted; i++) {
		const rule *r = &rules[i];
		if (r->fn == fn && (r->at == 0 || n == r->at || (r->and_later && n > r->at))) {
			*rv = r->rv;
			faulted = 1;
		}
	}
	write_counts_locked();
	pthread_mutex_unlock(&lock);
	return faulted;
}

/* ---- the wrappers ---- */

/* What still answers with the device gone: the library and its slots. */
static int fails_removed(int fn)
{
	return fn != F_C_GetInfo && fn != F_C_GetSlotList && fn != F_C_WaitForSlotEvent;
}

#define WRAP(name, params, args)                      \
	static CK_RV w_##name params                      \
	{                                                 \
		CK_RV rv;                                     \
		if (enter(F_##name, &rv, fails_removed(F_##name))) \
			return rv;                                \
		return real->name args;                       \
	}
FUNCS(WRAP)
#undef WRAP

static CK_RV w_C_Initialize(CK_VOID_PTR args)
{
	CK_RV rv;
	if (enter(F_C_Initialize, &rv, 0))
		return rv;
	return real->C_Initialize(args);
}

static CK_RV w_C_Finalize(CK_VOID_PTR reserved)
{
	CK_RV rv;
	if (enter(F_C_Finalize, &rv, 0))
		return rv;
	rv = real->C_Finalize(reserved);
	write_counts_at_exit();
	return rv;
}

static CK_RV w_C_GetSlotInfo(CK_SLOT_ID slot, CK_SLOT_INFO_PTR info)
{
	CK_RV rv;
	if (enter(F_C_GetSlotInfo, &rv, 0))
		return rv;
	rv = real->C_GetSlotInfo(slot, info);
	pthread_mutex_lock(&lock);
	if (rv == CKR_OK && removed)
		info->flags &= ~(CK_FLAGS)CKF_TOKEN_PRESENT;
	pthread_mutex_unlock(&lock);
	return rv;
}

static CK_RV w_C_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
	CK_RV rv;
	if (enter(F_C_GetTokenInfo, &rv, 1))
		return rv;
	rv = real->C_GetTokenInfo(slot, info);
	if (rv == CKR_OK && (flags_set | flags_clear) != 0) {
		char label[33];
		size_t n = 32;
		memcpy(label, info->label, 32);
		while (n > 0 && label[n - 1] == ' ')
			n--;
		label[n] = '\0';
		if (flags_label[0] == '\0' || strcmp(label, flags_label) == 0)
			info->flags = (info->flags | flags_set) & ~flags_clear;
	}
	return rv;
}

/* Closing still reaches the real module after a removal, so that its
 * resources are released as they would be by a real device going away. */
static CK_RV w_C_CloseSession(CK_SESSION_HANDLE s)
{
	CK_RV rv, frv = CKR_OK;
	int faulted = enter(F_C_CloseSession, &frv, 1);
	rv = real->C_CloseSession(s);
	return faulted ? frv : rv;
}

static CK_RV w_C_CloseAllSessions(CK_SLOT_ID slot)
{
	CK_RV rv, frv = CKR_OK;
	int faulted = enter(F_C_CloseAllSessions, &frv, 1);
	rv = real->C_CloseAllSessions(slot);
	return faulted ? frv : rv;
}

static CK_RV w_C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR out);

static CK_FUNCTION_LIST table = {
	.version = { 2, 40 },
#define ENTRY(name, ...) .name = w_##name,
	FUNCS(ENTRY) SPECIAL(ENTRY)
#undef ENTRY
	.C_GetFunctionList = w_C_GetFunctionList,
};

static CK_RV w_C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR out)
{
	pthread_once(&once, setup);
	if (!setup_ok)
		return CKR_GENERAL_ERROR;
	if (out == NULL)
		return CKR_ARGUMENTS_BAD;
	*out = &table;
	return CKR_OK;
}

EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR out)
{
	return w_C_GetFunctionList(out);
}
