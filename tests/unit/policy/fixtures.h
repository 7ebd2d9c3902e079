/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers for the policy/ unit tests: the sandbox's national policy text,
 * fake keys (the policy compares key bytes, it never computes with them),
 * certificate and request bodies, the assertions every table row makes,
 * and a runner that turns each table row into its own TAP test line.
 */
#ifndef EAC_TEST_POLICY_FIXTURES_H
#define EAC_TEST_POLICY_FIXTURES_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "policy/policy.h"

/* Fail with a "# ..." line, which tests/run shows under a failing test. */
#define FX_FAIL(...)                            \
	do {                                    \
		print_message("# ");            \
		print_message(__VA_ARGS__);     \
		print_message("\n");            \
		fail();                         \
	} while (0)

/* The national policy packaging/sandbox writes (country FI). */
extern const char fx_policy_text[];

/* Parsed fx_policy_text, or with the first `from` replaced by `to` (the
 * edit must exist and the result must parse). Free with pol_national_free. */
pol_national *fx_nat(void);
pol_national *fx_nat_edit(const char *from, const char *to);
/* The edited text, malloc'ed; the test fails when `from` is absent. */
char *fx_text_edit(const char *from, const char *to);

int64_t fx_time(const char *iso); /* "YYYY-MM-DDTHH:MM:SSZ" or "YYYY-MM-DD" */
cvc_date fx_date(const char *ymd);
cvc_ref fx_ref(const char *s);
cvc_chat fx_chat(cvc_chat_type t, uint8_t auth0);

/* A fake EC key (point 04||X||Y of the curve's size) or RSA key (modulus
 * of `bits` with the top bit set, e = 65537); `seed` makes keys differ. */
cvc_pubkey fx_ec(cvc_alg alg, cvc_curve curve, int params, unsigned seed);
cvc_pubkey fx_rsa(cvc_alg alg, unsigned bits, unsigned seed);

/* A certificate body, and a request body (no CHAT, no dates; car NULL:
 * no inner CAR). */
cvc_body fx_cert(const char *car, const char *chr, cvc_pubkey key, cvc_chat_type t, uint8_t auth0,
		 const char *effective, const char *expiry);
cvc_body fx_req(const char *car, const char *chr, cvc_pubkey key);

/* Fail unless `hay` contains `needle`. */
void fx_contains(const char *hay, const char *needle);

/*
 * The outcome of a check: `rule` non-NULL means refused with exactly that
 * rule, the decision's message containing `text`, and the error detail
 * "refused: <message> (<rule>)". `rule` NULL means allowed, with a warning
 * of rule `warn` (containing `text`) when `warn` is set, else no warning.
 */
void fx_expect(eac_err r, const pol_decision *d, const char *rule, const char *warn,
	       const char *text);

/* A table: rows (each starts with its `const char *name`, `stride` bytes
 * apart) and the test run once per row with the row as its state. */
typedef struct fx_table {
	const void *rows;
	size_t stride, n;
	CMUnitTestFunction test;
} fx_table;
#define FX_TABLE(rows, fn) { (rows), sizeof((rows)[0]), sizeof(rows) / sizeof((rows)[0]), (fn) }

/* Run the `plain` tests, then one test per row of each table, as one TAP
 * group (one plan, one line per row named after it). */
int fx_run(const char *group, const struct CMUnitTest *plain, size_t nplain,
	   const fx_table *tables, size_t ntables);

#endif /* EAC_TEST_POLICY_FIXTURES_H */
