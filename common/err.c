/* SPDX-License-Identifier: Apache-2.0 */
/* The project's one error table and the thread-local one-line detail. */

#include <stdio.h>
#include <string.h>

#include "common/common.h"

#define DETAIL_MAX 1024

static _Thread_local char detail[DETAIL_MAX];
static _Thread_local eac_err detail_code;

static const char *const messages[EAC_ERR__COUNT] = {
	[EAC_OK] = "success",
	[EAC_ERR_INTERNAL] = "internal error",
	[EAC_ERR_NOMEM] = "out of memory",
	[EAC_ERR_USAGE] = "usage error",
	[EAC_ERR_IO] = "input/output error",
	[EAC_ERR_CONFIG] = "configuration error",
	[EAC_ERR_MALFORMED] = "malformed input",
	[EAC_ERR_UNSUPPORTED] = "unsupported algorithm or object",
	[EAC_ERR_SIGNATURE] = "signature does not verify",
	[EAC_ERR_CHAIN] = "certificate chain does not verify",
	[EAC_ERR_DATE] = "certificate expired or not yet valid",
	[EAC_ERR_POLICY] = "refused by the certificate policy",
	[EAC_ERR_NOT_FOUND] = "not found",
	[EAC_ERR_EXISTS] = "already exists",
	[EAC_ERR_STATE] = "wrong state for this operation",
	[EAC_ERR_PIN_INCORRECT] = "token: wrong PIN",
	[EAC_ERR_PIN_LOCKED] = "token: PIN locked",
	[EAC_ERR_PIN_FINAL_TRY] = "token: PIN has one try left; not trying",
	[EAC_ERR_TOKEN_ABSENT] = "token: not present",
	[EAC_ERR_KEY_NOT_FOUND] = "token: key not found",
	[EAC_ERR_KEY_UNPROTECTED] = "token: key is not token-protected",
	[EAC_ERR_MECHANISM] = "token: mechanism not supported",
	[EAC_ERR_DEVICE_REMOVED] = "token: device removed",
	[EAC_ERR_TOKEN] = "token: PKCS#11 error",
	[EAC_ERR_DB_UNAVAILABLE] = "database unavailable",
	[EAC_ERR_DB] = "database error",
	[EAC_ERR_DB_CONFLICT] = "database constraint refused the change",
	[EAC_ERR_DB_SCHEMA] = "database schema missing or incompatible",
	[EAC_ERR_AUDIT] = "audit log error",
};

const char *eac_err_str(eac_err code)
{
	if ((unsigned)code >= EAC_ERR__COUNT || messages[code] == NULL)
		return "unknown error";
	return messages[code];
}

/* One line only: a detail never spans lines, whatever a library said. */
static void flatten(void)
{
	for (char *s = detail; *s; s++)
		if (*s == '\n' || *s == '\r')
			*s = ' ';
	/* strip trailing blanks left by libraries' own newlines */
	for (size_t n = strlen(detail); n > 0 && detail[n - 1] == ' '; n--)
		detail[n - 1] = '\0';
}

eac_err eac_failv(eac_err code, const char *fmt, va_list ap)
{
	/* formatted aside first: an argument may be the current detail itself
	 * (eac_fail(code, "%s", eac_err_detail(r))) */
	char buf[DETAIL_MAX];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	memcpy(detail, buf, sizeof(detail));
	flatten();
	detail_code = code;
	return code;
}

eac_err eac_fail(eac_err code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	eac_failv(code, fmt, ap);
	va_end(ap);
	return code;
}

eac_err eac_fail_prefix(eac_err code, const char *fmt, ...)
{
	char prefix[DETAIL_MAX];
	char old[DETAIL_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	/* (prefix and old are copies: the detail may be an argument too) */
	if (detail[0] != '\0' && detail_code == code)
		snprintf(old, sizeof(old), "%s", detail);
	else
		snprintf(old, sizeof(old), "%s", eac_err_str(code));
	/* truncation of an over-long detail is intended: it stays one line */
	size_t pl = strlen(prefix), ol = strlen(old);
	if (pl > sizeof(detail) - 1)
		pl = sizeof(detail) - 1;
	if (ol > sizeof(detail) - 1 - pl)
		ol = sizeof(detail) - 1 - pl;
	memcpy(detail, prefix, pl);
	memcpy(detail + pl, old, ol);
	detail[pl + ol] = '\0';
	flatten();
	detail_code = code;
	return code;
}

const char *eac_err_detail(eac_err code)
{
	if (detail[0] != '\0' && detail_code == code)
		return detail;
	return eac_err_str(code);
}

void eac_err_clear(void)
{
	detail[0] = '\0';
	detail_code = EAC_OK;
}

int eac_exit_code(eac_err code)
{
	switch (code) {
	case EAC_OK:
		return EAC_EXIT_OK;
	case EAC_ERR_POLICY:
	case EAC_ERR_SIGNATURE:
	case EAC_ERR_CHAIN:
	case EAC_ERR_DATE:
	case EAC_ERR_STATE:
	case EAC_ERR_EXISTS:
	case EAC_ERR_NOT_FOUND:
	case EAC_ERR_DB_CONFLICT:
		return EAC_EXIT_REFUSED;
	case EAC_ERR_USAGE:
	case EAC_ERR_MALFORMED:
	case EAC_ERR_UNSUPPORTED:
	case EAC_ERR_CONFIG:
		return EAC_EXIT_INPUT;
	default:
		return EAC_EXIT_ENV;
	}
}

int eac_report(const char *prog, eac_err code)
{
	fprintf(stderr, "%s: %s\n", prog, eac_err_detail(code));
	return eac_exit_code(code);
}
