/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/ — what every module of the appliance shares and nothing else:
 * the one project-wide error enum with its message table, a thread-local
 * one-line error detail, strict JSON configuration loading (Jansson),
 * bounded file reading and atomic file publication, SHA-256/hex helpers,
 * the wall clock (overridable only in test builds), failpoints (test builds
 * only) and process hardening for binaries that hold secrets.
 *
 * common/ depends on libc, OpenSSL (libcrypto) and Jansson only; every other
 * module may depend on it.
 */
#ifndef EAC_COMMON_H
#define EAC_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#define EAC_MUST_CHECK __attribute__((warn_unused_result))
#define EAC_PRINTF(f, a) __attribute__((format(printf, f, a)))

/*
 * The project's error codes. A function that can fail returns one of these
 * (EAC_OK on success) and is marked EAC_MUST_CHECK. The code says what kind
 * of failure it is; eac_err_detail() holds the one line a person reads.
 */
typedef enum eac_err {
	EAC_OK = 0,
	EAC_ERR_INTERNAL,        /* a bug or an unexpected library failure */
	EAC_ERR_NOMEM,           /* out of memory */
	EAC_ERR_USAGE,           /* bad command line or API misuse */
	EAC_ERR_IO,              /* file or stream error */
	EAC_ERR_CONFIG,          /* configuration or national policy file */
	EAC_ERR_MALFORMED,       /* untrusted input is not well-formed */
	EAC_ERR_UNSUPPORTED,     /* well-formed, but an algorithm/OID/curve we refuse */
	EAC_ERR_SIGNATURE,       /* a signature does not verify */
	EAC_ERR_CHAIN,           /* a certificate chain does not hold */
	EAC_ERR_DATE,            /* expired or not yet valid */
	EAC_ERR_POLICY,          /* refused by the certificate policy (CP-…) */
	EAC_ERR_NOT_FOUND,       /* a named object does not exist */
	EAC_ERR_EXISTS,          /* the object already exists */
	EAC_ERR_STATE,           /* the object is in the wrong state for this */
	EAC_ERR_PIN_INCORRECT,   /* token: wrong PIN */
	EAC_ERR_PIN_LOCKED,      /* token: PIN locked */
	EAC_ERR_PIN_FINAL_TRY,   /* token: one try left, refusing to spend it */
	EAC_ERR_TOKEN_ABSENT,    /* token: not present / module not loadable */
	EAC_ERR_KEY_NOT_FOUND,   /* token: no such key */
	EAC_ERR_KEY_UNPROTECTED, /* token: key lacks SENSITIVE/LOCAL/NEVER_EXTRACTABLE */
	EAC_ERR_MECHANISM,       /* token: mechanism not supported */
	EAC_ERR_DEVICE_REMOVED,  /* token: device removed or session lost */
	EAC_ERR_TOKEN,           /* token: any other PKCS#11 failure */
	EAC_ERR_DB_UNAVAILABLE,  /* database: cannot connect / connection lost */
	EAC_ERR_DB,              /* database: any other failure */
	EAC_ERR_DB_CONFLICT,     /* database: a constraint refused the change */
	EAC_ERR_DB_SCHEMA,       /* database: schema missing, foreign or too new */
	EAC_ERR_AUDIT,           /* the audit log refused or is broken */
	EAC_ERR__COUNT
} eac_err;

/* Short generic description of a code ("malformed input"). Never NULL. */
const char *eac_err_str(eac_err code);

/*
 * Record the one-line detail of the current failure (thread-local) and
 * return `code`, so that `return eac_fail(EAC_ERR_MALFORMED, "...")` reads
 * naturally. The text must not contain secrets. Newlines are replaced.
 */
eac_err eac_fail(eac_err code, const char *fmt, ...) EAC_PRINTF(2, 3);
eac_err eac_failv(eac_err code, const char *fmt, va_list ap) EAC_PRINTF(2, 0);

/*
 * Prepend context ("FILE: ") to the current detail and return `code`.
 * Used by callers that know the file or object the callee did not.
 */
eac_err eac_fail_prefix(eac_err code, const char *fmt, ...) EAC_PRINTF(2, 3);

/* The current detail; the generic string of `code` when none was set. */
const char *eac_err_detail(eac_err code);

/* Forget the current detail. */
void eac_err_clear(void);

/*
 * Exit status for command-line tools, documented in docs/CLI.md:
 *   0 success; 1 refused (policy) or verification failed; 2 malformed input
 *   or usage; 3 environment failure (token, database, file system, bug).
 */
enum { EAC_EXIT_OK = 0, EAC_EXIT_REFUSED = 1, EAC_EXIT_INPUT = 2, EAC_EXIT_ENV = 3 };
int eac_exit_code(eac_err code);

/* Print "PROG: detail" on stderr (one line) and return eac_exit_code(code). */
int eac_report(const char *prog, eac_err code);

/* ---- bytes ---- */

#define EAC_SHA256_LEN 32

/* SHA-256 of `len` bytes. */
eac_err eac_sha256(const uint8_t *data, size_t len, uint8_t out[static EAC_SHA256_LEN]) EAC_MUST_CHECK;

/* Lower-case hex of `len` bytes into `out`, which holds 2*len+1 chars. */
void eac_hex(const uint8_t *in, size_t len, char *out);

/* Parse lower/upper-case hex of exactly `outlen` bytes. */
eac_err eac_unhex(const char *hex, uint8_t *out, size_t outlen) EAC_MUST_CHECK;

/* ---- files ---- */

/*
 * Read a whole regular file of at most `max` bytes. The buffer is
 * malloc'ed (free with free()); refuses larger files and non-regular files
 * with a one-line error naming the file.
 */
eac_err eac_file_read(const char *path, size_t max, uint8_t **out, size_t *outlen) EAC_MUST_CHECK;

/*
 * Write `len` bytes to `path` atomically: a temporary file in the same
 * directory is written, fsync'ed and renamed into place, and the directory
 * fsync'ed, so a reader (or a crash) sees either nothing or the whole file.
 * With `overwrite` false an existing file is never replaced (EAC_ERR_EXISTS).
 */
eac_err eac_file_publish(const char *path, const uint8_t *data, size_t len,
			 unsigned mode, int overwrite) EAC_MUST_CHECK;

/*
 * The same with flags: EAC_PUBLISH_OVERWRITE, and EAC_PUBLISH_NOSYNC for
 * batches — the file still appears whole or not at all (rename/link), but
 * neither it nor the directory is fsync'ed; the caller syncs the directory
 * once with eac_dir_sync(). Only for files whose record lives elsewhere
 * (a released certificate can be written again from the database).
 */
#define EAC_PUBLISH_OVERWRITE 1u
#define EAC_PUBLISH_NOSYNC 2u
eac_err eac_file_publish_ex(const char *path, const uint8_t *data, size_t len, unsigned mode,
			    unsigned flags) EAC_MUST_CHECK;
eac_err eac_dir_sync(const char *dir) EAC_MUST_CHECK;

/* ---- JSON (Jansson) ---- */

#define EAC_JSON_MAX_FILE (1024 * 1024)

/*
 * Load a JSON object from a file, refusing duplicate keys, non-objects and
 * files over EAC_JSON_MAX_FILE. Errors name the file, line and column.
 */
eac_err eac_json_load_file(const char *path, json_t **out) EAC_MUST_CHECK;

/* Same for a string; `what` names the source in errors. */
eac_err eac_json_load_string(const char *text, const char *what, json_t **out) EAC_MUST_CHECK;

/*
 * Refuse any key of `obj` not in the NULL-terminated `allowed` list:
 * "WHERE: unknown key 'x'". `where` is e.g. "cvca.json: token".
 */
eac_err eac_json_only_keys(const json_t *obj, const char *const *allowed,
			   const char *where) EAC_MUST_CHECK;

/* Typed getters. A missing key with `required` false leaves *out alone. */
eac_err eac_json_string(const json_t *obj, const char *key, int required,
			const char *where, const char **out) EAC_MUST_CHECK;
eac_err eac_json_int(const json_t *obj, const char *key, int required,
		     const char *where, long long min, long long max,
		     long long *out) EAC_MUST_CHECK;
eac_err eac_json_bool(const json_t *obj, const char *key, int required,
		      const char *where, int *out) EAC_MUST_CHECK;
eac_err eac_json_object(const json_t *obj, const char *key, int required,
			const char *where, const json_t **out) EAC_MUST_CHECK;
eac_err eac_json_array(const json_t *obj, const char *key, int required,
		       const char *where, const json_t **out) EAC_MUST_CHECK;

/* ---- engine configuration ---- */

/*
 * An engine's configuration file (the sandbox writes DIR/cvca.json and
 * DIR/dv.json):
 *   {
 *     "engine": "cvca" | "dv",
 *     "token": { "module": "/path/lib.so", "uri": "pkcs11:token=CVCA",
 *                "pin_file": "/path/cvca.pin" (optional: else --pin-fd or prompt) },
 *     "database": { "conninfo": "libpq string, service role",
 *                   "owner_conninfo": "libpq string, owner role (optional:
 *                                      migrations; without it the schema is
 *                                      only checked)" },
 *     "policy": "/path/policy.json",
 *     "data_dir": "/path/dir for transcripts and issued files"
 *   }
 * Unknown and duplicate keys are errors naming the key and the file.
 */
typedef struct eac_config {
	json_t *root; /* owns the strings below */
	const char *path;
	const char *engine;
	const char *token_module;
	const char *token_uri;
	const char *token_pin_file; /* NULL when absent */
	const char *db_conninfo;
	const char *db_owner_conninfo; /* NULL when absent */
	const char *policy_path;
	const char *data_dir;
} eac_config;

/* Load and validate; `engine` ("cvca" or "dv") must match the file's. */
eac_err eac_config_load(const char *path, const char *engine, eac_config *out) EAC_MUST_CHECK;
void eac_config_free(eac_config *cfg);

/* ---- time ---- */

/*
 * The current UTC time in seconds since the epoch. In test builds
 * (EAC_TESTING) the environment variable EAC_TEST_NOW — seconds since the
 * epoch or YYYY-MM-DDTHH:MM:SSZ — overrides it; release builds have no
 * override at all (the code is not compiled in).
 */
int64_t eac_now(void);

/* Format seconds since the epoch as "YYYY-MM-DDTHH:MM:SSZ" (21 bytes). */
void eac_time_iso(int64_t t, char out[static 21]);

/* Parse "YYYY-MM-DDTHH:MM:SSZ" or "YYYY-MM-DD" (midnight UTC). */
eac_err eac_time_parse(const char *s, int64_t *out) EAC_MUST_CHECK;

/* ---- test hooks ---- */

/*
 * A named failpoint. In test builds, when the environment variable
 * EAC_FAILPOINT equals `name` (or "name:N", the N-th time this point is
 * reached), the process ends at once with SIGKILL — the crash tests use
 * this to stop the issuance protocol between its steps. With
 * EAC_FAILPOINT_STOP set it stops (SIGSTOP) instead, alive and holding its
 * connections, until SIGCONT. Release builds compile it to nothing.
 */
#ifdef EAC_TESTING
void eac_failpoint(const char *name);
#else
#define eac_failpoint(name) ((void)0)
#endif

/* ---- process hardening ---- */

/*
 * For binaries that handle PINs: no core dumps (RLIMIT_CORE 0) and not
 * dumpable (PR_SET_DUMPABLE 0), so no PIN ends up in a core file or can be
 * read by ptrace from another process of the same user.
 */
eac_err eac_harden_process(void) EAC_MUST_CHECK;

#endif /* EAC_COMMON_H */
