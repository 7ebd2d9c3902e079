/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The national policy file (CP-1, CP-5.4.3): the sandbox's file parses to
 * the expected values, and each row edits it once and expects it accepted
 * or refused with EAC_ERR_CONFIG, a message naming the file and the rule.
 */

#include <stdlib.h>
#include <string.h>

#include "tests/unit/policy/fixtures.h"

static void test_sample_values(void **state)
{
	(void)state;
	pol_national *n = fx_nat();
	assert_string_equal(n->policy_oid, "1.3.6.1.4.1.99999.1.1");
	assert_string_equal(n->country, "FI");
	assert_int_equal(n->terminal_type, CVC_CHAT_IS);
	assert_int_equal(n->validity[POL_KIND_DV].max.n, 3);
	assert_int_equal(n->validity[POL_KIND_DV].max.unit, POL_UNIT_MONTH);
	/* the minimum defaults to the common one */
	assert_int_equal(n->validity[POL_KIND_DV].min.n, 2);
	assert_int_equal(n->validity[POL_KIND_DV].min.unit, POL_UNIT_WEEK);
	assert_int_equal(n->validity[POL_KIND_CVCA].min.unit, POL_UNIT_MONTH);
	assert_int_equal(n->validity[POL_KIND_IS].def.unit, POL_UNIT_MONTH);
	for (int c = 1; c < CVC_CURVE__COUNT; c++)
		assert_true(n->curves & (1u << c));
	assert_int_equal(n->n_rsa_bits, 3);
	assert_int_equal(n->rsa_bits[2], 4096);
	assert_int_equal(n->max_dvs_per_country, 3);
	assert_int_equal(n->officers_min, 2);
	assert_int_equal(n->rollover_lead_days, 60);
	assert_int_equal(n->deadline_risk_margin_hours, 12);
	assert_int_equal(n->rights_dv_domestic.len, 1);
	assert_int_equal(n->rights_dv_domestic.auth[0], 0x03);
	assert_int_equal(n->rights_dv_foreign.auth[0], 0x03);
	assert_int_equal(n->rights_is.auth[0], 0x03);
	assert_int_equal(n->rights_cvca.auth[0], 0x03); /* the union when absent */
	assert_ptr_equal(pol_national_rights(n, POL_KIND_DV, 0), &n->rights_dv_foreign);
	pol_national_free(n);
}

static void test_optional_keys(void **state)
{
	(void)state;
	pol_national *n = fx_nat_edit("\"is\": [\"dg3\", \"dg4\"]",
				      "\"is\": [\"dg3\"], \"cvca\": [\"dg4\", \"dg3\"]");
	assert_int_equal(n->rights_cvca.auth[0], 0x03);
	assert_int_equal(n->rights_is.auth[0], 0x01);
	pol_national_free(n);
	n = fx_nat_edit("\"max\": \"P1M\" }", "\"max\": \"P1M\", \"min\": \"P2D\" }");
	assert_int_equal(n->validity[POL_KIND_IS].min.n, 2);
	pol_national_free(n);
	/* an AT policy: rights are parsed for id-AT */
	n = fx_nat_edit("\"terminal_type\": \"is\"", "\"terminal_type\": \"at\"");
	assert_int_equal(n->terminal_type, CVC_CHAT_AT);
	assert_int_equal(n->rights_is.len, 5);
	assert_int_equal(n->rights_is.auth[3], 0x0c); /* dg3, dg4: bits 10, 11 */
	pol_national_free(n);
}

static void test_arguments(void **state)
{
	pol_national *n = NULL;
	(void)state;
	assert_int_equal(pol_national_parse(NULL, "x", &n), EAC_ERR_USAGE);
	assert_int_equal(pol_national_parse("{", "policy.json", &n), EAC_ERR_CONFIG);
	fx_contains(eac_err_detail(EAC_ERR_CONFIG), "policy.json:1:");
	assert_int_equal(pol_national_parse("[]", "policy.json", &n), EAC_ERR_CONFIG);
	assert_null(n);
	pol_national_free(NULL);
}

typedef struct row {
	const char *name;
	const char *from, *to;
	const char *error; /* NULL: accepted; else a substring of the detail */
} row;

static const row rows[] = {
	/* strict JSON */
	{ "unknown top-level key", "\"country\"", "\"colour\": 1, \"country\"", "unknown key 'colour'" },
	{ "duplicate key", "\"country\": \"FI\"", "\"country\": \"FI\", \"country\": \"SE\"", "duplicate" },
	{ "unknown key in validity.dv", "\"dv\":   { \"default\"", "\"dv\":   { \"maximum\": \"P1M\", \"default\"",
	  "validity.dv: unknown key 'maximum'" },
	{ "unknown key in algorithms", "\"rsa_bits\"", "\"hashes\": [], \"rsa_bits\"", "algorithms: unknown key 'hashes'" },
	{ "unknown default_rights kind", "\"is\": [\"dg3\", \"dg4\"]", "\"is\": [\"dg3\"], \"st\": []",
	  "default_rights: unknown key 'st'" },
	{ "missing country", "\"country\": \"FI\",", "", "missing key 'country'" },
	{ "missing validity.is", ",\n    \"is\":   { \"default\": \"P1M\", \"max\": \"P1M\" }", "", "missing key 'is'" },
	/* CP-5.4.3: the policy OID */
	{ "OID with an empty arc", "99999.1.1", "99999..1", "(CP-5.4.3)" },
	{ "OID with first arc 3", "\"1.3.6.1.4.1.99999.1.1\"", "\"3.1\"", "(CP-5.4.3)" },
	{ "OID with second arc 40 under 1", "\"1.3.6.1.4.1.99999.1.1\"", "\"1.40\"", "(CP-5.4.3)" },
	{ "OID with a leading zero", "99999.1.1", "099999.1.1", "(CP-5.4.3)" },
	{ "OID of one arc", "\"1.3.6.1.4.1.99999.1.1\"", "\"1\"", "(CP-5.4.3)" },
	{ "OID with a letter", "99999.1.1", "99999.1.a", "(CP-5.4.3)" },
	{ "OID 2.999.1 (second arc free under 2)", "\"1.3.6.1.4.1.99999.1.1\"", "\"2.999.1\"", NULL },
	/* CP-3.1b: the country */
	{ "country XX (user-assigned)", "\"FI\"", "\"XX\"", "'XX' is not an ISO 3166-1" },
	{ "country UK (reserved, not GB)", "\"FI\"", "\"UK\"", "(CP-3.1b)" },
	{ "country in lower case", "\"FI\"", "\"fi\"", "(CP-3.1b)" },
	{ "country of three letters", "\"FI\"", "\"FIN\"", "(CP-3.1b)" },
	{ "country DE", "\"FI\"", "\"DE\"", NULL },
	{ "terminal type unknown", "\"terminal_type\": \"is\"", "\"terminal_type\": \"xx\"", "terminal_type 'xx'" },
	/* CP-5.4.1: durations inside the common ranges */
	{ "DV maximum 4 months", "\"dv\":   { \"default\": \"P3M\", \"max\": \"P3M\" }",
	  "\"dv\":   { \"default\": \"P3M\", \"max\": \"P4M\" }", "validity.dv.max: P4M exceeds the common policy's maximum DV validity of 3 months (CP-5.4.1)" },
	{ "DV maximum 13 weeks (longer than 3 months from some dates)", "\"max\": \"P3M\"", "\"max\": \"P13W\"", "(CP-5.4.1)" },
	{ "DV maximum 12 weeks", "\"default\": \"P3M\", \"max\": \"P3M\"", "\"default\": \"P12W\", \"max\": \"P12W\"", NULL },
	{ "DV maximum 89 days (never above 3 months)", "\"default\": \"P3M\", \"max\": \"P3M\"", "\"default\": \"P89D\", \"max\": \"P89D\"", NULL },
	{ "DV maximum 90 days (above 3 months from 31 January)", "\"default\": \"P3M\", \"max\": \"P3M\"", "\"default\": \"P90D\", \"max\": \"P90D\"", "(CP-5.4.1)" },
	{ "CVCA maximum 37 months", "\"max\": \"P3Y\"", "\"max\": \"P37M\"", "exceeds the common policy's maximum CVCA validity of 3 years (CP-5.4.1)" },
	{ "CVCA default 5 months", "\"default\": \"P3Y\"", "\"default\": \"P5M\"", "validity.cvca.default: P5M is below the common policy's minimum CVCA validity of 6 months (CP-5.4.1)" },
	{ "CVCA default and maximum 6 months", "\"default\": \"P3Y\", \"max\": \"P3Y\"", "\"default\": \"P6M\", \"max\": \"P6M\"", NULL },
	{ "IS maximum 5 weeks", "\"default\": \"P1M\", \"max\": \"P1M\"", "\"default\": \"P1M\", \"max\": \"P5W\"", "(CP-5.4.1)" },
	{ "IS minimum 0 days", "\"max\": \"P1M\" }", "\"max\": \"P1M\", \"min\": \"P0D\" }", "validity.is.min" },
	{ "IS minimum 2 days (domestic only: allowed)", "\"max\": \"P1M\" }", "\"max\": \"P1M\", \"min\": \"P2D\" }", NULL },
	{ "DV minimum 3 weeks demands more of foreign DVs", "\"max\": \"P3M\" }", "\"max\": \"P3M\", \"min\": \"P3W\" }",
	  "would demand more of foreign DVs (CP-1)" },
	{ "DV minimum 14 days equals the common one", "\"max\": \"P3M\" }", "\"max\": \"P3M\", \"min\": \"P14D\" }", NULL },
	{ "DV default above the maximum", "\"default\": \"P3M\", \"max\": \"P3M\"", "\"default\": \"P3M\", \"max\": \"P2M\"",
	  "validity.dv: the default must lie between" },
	{ "IS default below the minimum", "\"default\": \"P1M\", \"max\": \"P1M\" }", "\"default\": \"P2D\", \"max\": \"P1M\", \"min\": \"P1W\" }",
	  "(CP-5.4.1)" },
	{ "duration without unit", "\"max\": \"P3M\"", "\"max\": \"P3\"", "validity.dv.max: 'P3' is not an ISO 8601 duration" },
	{ "duration of two units", "\"max\": \"P3M\"", "\"max\": \"P2M1D\"", "is not an ISO 8601 duration" },
	{ "duration in lower case", "\"max\": \"P3M\"", "\"max\": \"p3m\"", "is not an ISO 8601 duration" },
	{ "duration as a number", "\"max\": \"P3M\"", "\"max\": 90", "'max' must be a string" },
	/* algorithms */
	{ "unknown curve P-521", "\"P-384\"]", "\"P-384\", \"secp521r1\"]", "unknown curve 'secp521r1'" },
	{ "curve listed twice (alias)", "\"P-384\"]", "\"P-384\", \"secp384r1\"]", "curve P-384 is listed twice" },
	{ "curves only brainpool", ", \"P-256\", \"P-384\"]", "]", NULL },
	{ "RSA 1024", "[2048, 3072, 4096]", "[1024, 2048]", "1024 is not an RSA size this appliance allows" },
	{ "RSA 8192", "[2048, 3072, 4096]", "[8192]", "8192 is not an RSA size" },
	{ "RSA size listed twice", "[2048, 3072, 4096]", "[2048, 2048]", "2048 is listed twice" },
	{ "RSA size not a number", "[2048, 3072, 4096]", "[\"2048\"]", "entry 0 is not an integer" },
	{ "no RSA sizes", ",\n    \"rsa_bits\": [2048, 3072, 4096]", "", NULL },
	{ "no curve and no RSA size", "\"brainpoolP256r1\", \"brainpoolP384r1\", \"brainpoolP512r1\", \"P-256\", \"P-384\"],\n    \"rsa_bits\": [2048, 3072, 4096]",
	  "],\n    \"rsa_bits\": []", "allows no curve and no RSA size" },
	/* limits */
	{ "4 DVs per country", "\"max_dvs_per_country\": 3", "\"max_dvs_per_country\": 4", "max_dvs_per_country = 4 is outside 1..3" },
	{ "0 DVs per country", "\"max_dvs_per_country\": 3", "\"max_dvs_per_country\": 0", "(CP-1.3a)" },
	{ "1 DV per country", "\"max_dvs_per_country\": 3", "\"max_dvs_per_country\": 1", NULL },
	{ "one officer", "\"officers_min\": 2", "\"officers_min\": 1", "(CP-4.2.1)" },
	{ "lead time 13 days", "\"rollover_lead_days\": 60", "\"rollover_lead_days\": 13", "(CP-5.4b)" },
	{ "lead time 14 days", "\"rollover_lead_days\": 60", "\"rollover_lead_days\": 14", NULL },
	{ "margin 24 hours", "\"deadline_risk_margin_hours\": 12", "\"deadline_risk_margin_hours\": 24", "(CP-5.4.2)" },
	{ "margin -1 hours", "\"deadline_risk_margin_hours\": 12", "\"deadline_risk_margin_hours\": -1", "(CP-5.4.2)" },
	{ "margin 0 hours", "\"deadline_risk_margin_hours\": 12", "\"deadline_risk_margin_hours\": 0", NULL },
	{ "officers as a string", "\"officers_min\": 2", "\"officers_min\": \"2\"", "'officers_min' must be an integer" },
	/* rights */
	{ "unknown right dg5", "\"is\": [\"dg3\", \"dg4\"]", "\"is\": [\"dg3\", \"dg5\"]", "default_rights.is: unknown access right 'dg5'" },
	{ "right listed twice", "\"dv_foreign\": [\"dg3\", \"dg4\"]", "\"dv_foreign\": [\"dg3\", \"dg3\"]", "right 'dg3' is listed twice" },
	{ "right as a list in one string", "\"dv_foreign\": [\"dg3\", \"dg4\"]", "\"dv_foreign\": [\"dg3,dg4\"]", "is not the name of one access right" },
	{ "empty right name", "\"dv_foreign\": [\"dg3\", \"dg4\"]", "\"dv_foreign\": [\"\"]", "is not the name of one access right" },
	{ "IS wider than the domestic DV", "\"dv_domestic\": [\"dg3\", \"dg4\"]", "\"dv_domestic\": [\"dg3\"]",
	  "default_rights.is (dg3,dg4) is wider than dv_domestic (dg3)" },
	{ "foreign DV wider than the CVCA", "\"is\": [\"dg3\", \"dg4\"]", "\"is\": [\"dg3\", \"dg4\"], \"cvca\": [\"dg3\"]",
	  "(CP-1.3b)" },
	{ "foreign DV with no rights", "\"dv_foreign\": [\"dg3\", \"dg4\"]", "\"dv_foreign\": []", NULL },
};

static void row_test(void **state)
{
	const row *t = *state;
	pol_national *n = NULL;
	char *text = fx_text_edit(t->from, t->to);
	eac_err r = pol_national_parse(text, "policy.json", &n);
	free(text);
	if (t->error == NULL) {
		if (r != EAC_OK)
			FX_FAIL("refused: %s", eac_err_detail(r));
		assert_non_null(n);
		pol_national_free(n);
		return;
	}
	assert_int_equal(r, EAC_ERR_CONFIG);
	assert_null(n);
	fx_contains(eac_err_detail(r), "policy.json");
	fx_contains(eac_err_detail(r), t->error);
}

int main(void)
{
	const struct CMUnitTest plain[] = {
		cmocka_unit_test(test_sample_values),
		cmocka_unit_test(test_optional_keys),
		cmocka_unit_test(test_arguments),
	};
	const fx_table tables[] = { FX_TABLE(rows, row_test) };
	return fx_run("policy-national", plain, sizeof(plain) / sizeof(plain[0]), tables, 1);
}
