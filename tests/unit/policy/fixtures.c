/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers for the policy/ unit tests (see fixtures.h). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/policy/fixtures.h"

/* Byte for byte what packaging/sandbox writes for country FI. */
const char fx_policy_text[] =
	"{\n"
	"  \"policy_oid\": \"1.3.6.1.4.1.99999.1.1\",\n"
	"  \"country\": \"FI\",\n"
	"  \"terminal_type\": \"is\",\n"
	"  \"validity\": {\n"
	"    \"cvca\": { \"default\": \"P3Y\", \"max\": \"P3Y\" },\n"
	"    \"dv\":   { \"default\": \"P3M\", \"max\": \"P3M\" },\n"
	"    \"is\":   { \"default\": \"P1M\", \"max\": \"P1M\" }\n"
	"  },\n"
	"  \"algorithms\": {\n"
	"    \"curves\": [\"brainpoolP256r1\", \"brainpoolP384r1\", \"brainpoolP512r1\", \"P-256\", \"P-384\"],\n"
	"    \"rsa_bits\": [2048, 3072, 4096]\n"
	"  },\n"
	"  \"max_dvs_per_country\": 3,\n"
	"  \"officers_min\": 2,\n"
	"  \"rollover_lead_days\": 60,\n"
	"  \"deadline_risk_margin_hours\": 12,\n"
	"  \"default_rights\": {\n"
	"    \"dv_domestic\": [\"dg3\", \"dg4\"],\n"
	"    \"dv_foreign\": [\"dg3\", \"dg4\"],\n"
	"    \"is\": [\"dg3\", \"dg4\"]\n"
	"  }\n"
	"}\n";

char *fx_text_edit(const char *from, const char *to)
{
	const char *at = strstr(fx_policy_text, from);
	if (at == NULL)
		FX_FAIL("the policy text has no '%s' to replace", from);
	size_t head = (size_t)(at - fx_policy_text);
	size_t len = strlen(fx_policy_text) - strlen(from) + strlen(to) + 1;
	char *s = malloc(len);
	assert_non_null(s);
	memcpy(s, fx_policy_text, head);
	strcpy(s + head, to);
	strcat(s, at + strlen(from));
	return s;
}

pol_national *fx_nat(void)
{
	pol_national *n = NULL;
	eac_err r = pol_national_parse(fx_policy_text, "policy.json", &n);
	if (r != EAC_OK)
		FX_FAIL("sample policy: %s", eac_err_detail(r));
	return n;
}

pol_national *fx_nat_edit(const char *from, const char *to)
{
	pol_national *n = NULL;
	char *text = fx_text_edit(from, to);
	eac_err r = pol_national_parse(text, "policy.json", &n);
	free(text);
	if (r != EAC_OK)
		FX_FAIL("edited policy: %s", eac_err_detail(r));
	return n;
}

int64_t fx_time(const char *iso)
{
	int64_t t = 0;
	if (eac_time_parse(iso, &t) != EAC_OK)
		FX_FAIL("bad time %s", iso);
	return t;
}

cvc_date fx_date(const char *ymd)
{
	cvc_date d;
	if (cvc_date_parse(ymd, &d) != EAC_OK)
		FX_FAIL("bad date %s", ymd);
	return d;
}

cvc_ref fx_ref(const char *s)
{
	cvc_ref r;
	if (cvc_ref_set(&r, s, strlen(s)) != EAC_OK)
		FX_FAIL("bad reference %s", s);
	return r;
}

cvc_chat fx_chat(cvc_chat_type t, uint8_t auth0)
{
	cvc_chat c = { .type = t, .len = t == CVC_CHAT_AT ? 5 : 1 };
	c.auth[0] = auth0;
	return c;
}

static uint8_t ec_pool[64][1 + 2 * 64];
static uint8_t rsa_pool[64][512];
static const uint8_t e65537[] = { 0x01, 0x00, 0x01 };

cvc_pubkey fx_ec(cvc_alg alg, cvc_curve curve, int params, unsigned seed)
{
	size_t half = (cvc_curve_bits(curve) + 7) / 8;
	uint8_t *p = ec_pool[seed % 64];
	p[0] = 0x04;
	for (size_t i = 1; i < 1 + 2 * half; i++)
		p[i] = (uint8_t)(seed * 31 + i);
	cvc_pubkey k = { .alg = alg, .curve = curve, .has_params = params };
	k.point.ptr = p;
	k.point.len = 1 + 2 * half;
	return k;
}

cvc_pubkey fx_rsa(cvc_alg alg, unsigned bits, unsigned seed)
{
	size_t len = bits / 8; /* whole octets: 1024, 2048, ... */
	uint8_t *n = rsa_pool[seed % 64];
	for (size_t i = 0; i < len; i++)
		n[i] = (uint8_t)(seed * 17 + i) | 1;
	n[0] = (uint8_t)(0x80 | (seed & 0x7f)); /* the top bit makes the size */
	cvc_pubkey k = { .alg = alg };
	k.n.ptr = n;
	k.n.len = len;
	k.e.ptr = e65537;
	k.e.len = sizeof(e65537);
	return k;
}

cvc_body fx_cert(const char *car, const char *chr, cvc_pubkey key, cvc_chat_type t, uint8_t auth0,
		 const char *effective, const char *expiry)
{
	cvc_body b = { 0 };
	b.has_car = 1;
	b.car = fx_ref(car);
	b.key = key;
	b.chr = fx_ref(chr);
	b.has_chat = 1;
	b.chat = fx_chat(t, auth0);
	b.has_dates = 1;
	b.effective = fx_date(effective);
	b.expiry = fx_date(expiry);
	return b;
}

cvc_body fx_req(const char *car, const char *chr, cvc_pubkey key)
{
	cvc_body b = { 0 };
	if (car != NULL) {
		b.has_car = 1;
		b.car = fx_ref(car);
	}
	b.key = key;
	b.chr = fx_ref(chr);
	return b;
}

void fx_contains(const char *hay, const char *needle)
{
	if (needle != NULL && strstr(hay, needle) == NULL)
		FX_FAIL("\"%s\" does not contain \"%s\"", hay, needle);
}

void fx_expect(eac_err r, const pol_decision *d, const char *rule, const char *warn,
	       const char *text)
{
	char want[POL_MESSAGE_MAX + POL_RULE_MAX + 16];

	if (rule != NULL) {
		if (r != EAC_ERR_POLICY || d->allowed)
			FX_FAIL("expected a refusal (%s), got %s: %s", rule,
				 r == EAC_OK ? "allowed" : eac_err_str(r), d->message);
		if (strcmp(d->rule, rule) != 0)
			FX_FAIL("expected rule %s, got %s: %s", rule, d->rule, d->message);
		fx_contains(d->message, text);
		snprintf(want, sizeof(want), "refused: %s (%s)", d->message, d->rule);
		assert_string_equal(eac_err_detail(EAC_ERR_POLICY), want);
		assert_null(strchr(d->message, '\n'));
		return;
	}
	if (r != EAC_OK || !d->allowed)
		FX_FAIL("expected allowed, got %s: %s (%s)", eac_err_str(r), d->message, d->rule);
	if (warn == NULL) {
		if (d->nwarnings != 0)
			FX_FAIL("expected no warning, got %zu, first: %s (%s)", d->nwarnings,
				 d->warning[0].message, d->warning[0].rule);
		return;
	}
	for (size_t i = 0; i < d->nwarnings; i++)
		if (strcmp(d->warning[i].rule, warn) == 0 &&
		    (text == NULL || strstr(d->warning[i].message, text) != NULL))
			return;
	FX_FAIL("expected a warning %s containing \"%s\"; got %zu warning(s)%s%s", warn,
		 text ? text : "", d->nwarnings, d->nwarnings ? ", first: " : "",
		 d->nwarnings ? d->warning[0].message : "");
}

int fx_run(const char *group, const struct CMUnitTest *plain, size_t nplain,
	   const fx_table *tables, size_t ntables)
{
	size_t total = nplain, k = 0;
	for (size_t i = 0; i < ntables; i++)
		total += tables[i].n;
	struct CMUnitTest *t = calloc(total, sizeof(*t));
	if (t == NULL)
		return 1;
	for (size_t i = 0; i < nplain; i++)
		t[k++] = plain[i];
	for (size_t i = 0; i < ntables; i++)
		for (size_t j = 0; j < tables[i].n; j++) {
			const void *row = (const char *)tables[i].rows + j * tables[i].stride;
			t[k].name = *(const char *const *)row;
			t[k].test_func = tables[i].test;
			t[k].initial_state = (void *)(uintptr_t)row;
			k++;
		}
	int rc = _cmocka_run_group_tests(group, t, total, NULL, NULL);
	free(t);
	return rc;
}
