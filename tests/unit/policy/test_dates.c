/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Durations, calendar arithmetic, ISO 3166-1 countries and the validity
 * rule CP-5.4.1 on its own: boundaries at the day of expiry, month ends,
 * 29 February and the end of the two-digit year (2099-12-31).
 */

#include <string.h>

#include "tests/unit/policy/fixtures.h"

static void test_duration_parse(void **state)
{
	static const struct {
		const char *s;
		unsigned n;
		pol_unit unit; /* 0: refused */
		const char *text;
	} t[] = {
		{ "P1D", 1, POL_UNIT_DAY, "1 day" },	  { "P2W", 2, POL_UNIT_WEEK, "2 weeks" },
		{ "P3M", 3, POL_UNIT_MONTH, "3 months" }, { "P3Y", 3, POL_UNIT_YEAR, "3 years" },
		{ "P1200M", 1200, POL_UNIT_MONTH, NULL }, { "P1201M", 0, 0, NULL },
		{ "P0D", 0, 0, NULL },			  { "P03M", 0, 0, NULL },
		{ "P3", 0, 0, NULL },			  { "3M", 0, 0, NULL },
		{ "P3m", 0, 0, NULL },			  { "P1M1D", 0, 0, NULL },
		{ "PT3H", 0, 0, NULL },			  { "P", 0, 0, NULL },
		{ "", 0, 0, NULL },			  { "P3M ", 0, 0, NULL },
		{ "P12345D", 0, 0, NULL },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		pol_duration d = { 77, POL_UNIT_DAY };
		eac_err r = pol_duration_parse(t[i].s, &d);
		if (t[i].unit == 0) {
			if (r != EAC_ERR_USAGE)
				FX_FAIL("'%s' accepted", t[i].s);
			assert_int_equal(d.n, 77); /* untouched */
			continue;
		}
		if (r != EAC_OK)
			FX_FAIL("'%s': %s", t[i].s, eac_err_detail(r));
		assert_int_equal(d.n, t[i].n);
		assert_int_equal(d.unit, t[i].unit);
		if (t[i].text != NULL) {
			char out[32];
			pol_duration_format(d, out);
			assert_string_equal(out, t[i].text);
		}
	}
	assert_int_equal(pol_duration_parse(NULL, NULL), EAC_ERR_USAGE);
}

static void test_date_add(void **state)
{
	static const struct {
		const char *from, *dur, *to; /* to NULL: past 2099-12-31 */
	} t[] = {
		{ "2026-11-30", "P3M", "2027-02-28" }, /* the lead's example: day clamped */
		{ "2027-11-30", "P3M", "2028-02-29" }, /* into a leap February */
		{ "2028-02-29", "P1Y", "2029-02-28" }, /* from 29 February */
		{ "2028-02-29", "P4Y", "2032-02-29" },
		{ "2024-01-31", "P1M", "2024-02-29" },
		{ "2026-01-31", "P1M", "2026-02-28" },
		{ "2026-03-31", "P1M", "2026-04-30" },
		{ "2026-12-31", "P1D", "2027-01-01" },
		{ "2026-12-25", "P2W", "2027-01-08" },
		{ "2026-11-23", "P3Y", "2029-11-23" },
		{ "2026-10-15", "P6M", "2027-04-15" },
		{ "2099-07-31", "P5M", "2099-12-31" },
		{ "2099-12-30", "P1D", "2099-12-31" },
		{ "2099-12-31", "P1D", NULL },
		{ "2099-12-01", "P1M", NULL },
		{ "2097-06-01", "P3Y", NULL },
		{ "2000-02-29", "P100Y", NULL }, /* 2100 is not a leap year, and not a CV year */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		pol_duration dur;
		cvc_date from = fx_date(t[i].from), to = { 0 };
		char s[11];
		assert_int_equal(pol_duration_parse(t[i].dur, &dur), EAC_OK);
		eac_err r = pol_date_add(&from, dur, &to);
		if (t[i].to == NULL) {
			if (r != EAC_ERR_USAGE)
				FX_FAIL("%s + %s accepted", t[i].from, t[i].dur);
			fx_contains(eac_err_detail(r), "after 2099-12-31");
			assert_int_equal(to.year, 0);
			continue;
		}
		if (r != EAC_OK)
			FX_FAIL("%s + %s: %s", t[i].from, t[i].dur, eac_err_detail(r));
		cvc_date_format(&to, s);
		if (strcmp(s, t[i].to) != 0)
			FX_FAIL("%s + %s = %s, expected %s", t[i].from, t[i].dur, s, t[i].to);
	}
	cvc_date bad = { 2026, 2, 30 }, out;
	pol_duration p1d = { 1, POL_UNIT_DAY }, zero = { 0, POL_UNIT_DAY };
	assert_int_equal(pol_date_add(&bad, p1d, &out), EAC_ERR_USAGE);
	cvc_date ok = { 2026, 2, 28 };
	assert_int_equal(pol_date_add(&ok, zero, &out), EAC_ERR_USAGE);
}

static void test_countries(void **state)
{
	static const struct {
		const char *cc;
		int valid;
	} t[] = {
		{ "FI", 1 }, { "DE", 1 }, { "GB", 1 }, { "SS", 1 }, { "BQ", 1 }, { "ZW", 1 },
		{ "AD", 1 }, { "GR", 1 }, { "AX", 1 }, { "UT", 0 }, { "XX", 0 }, { "ZZ", 0 },
		{ "UK", 0 }, { "EU", 0 }, { "EL", 0 }, { "AN", 0 }, { "YU", 0 }, { "XK", 0 },
		{ "fi", 0 }, { "F", 0 },  { "FIN", 0 }, { "", 0 },  { "F1", 0 },
	};
	char cc[3] = "AA";
	int n = 0;
	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (pol_country_valid(t[i].cc) != t[i].valid)
			FX_FAIL("%s should be %s", t[i].cc, t[i].valid ? "valid" : "refused");
	assert_int_equal(pol_country_valid(NULL), 0);
	for (cc[0] = 'A'; cc[0] <= 'Z'; cc[0]++)
		for (cc[1] = 'A'; cc[1] <= 'Z'; cc[1]++)
			n += pol_country_valid(cc);
	assert_int_equal(n, 249);
}

/* ---- pol_validity as a table ---- */

typedef struct vrow {
	const char *name;
	pol_kind kind;
	const char *now;
	unsigned days;
	const char *issuer_expiry; /* NULL: no issuer (CVCA) */
	const char *rule;	   /* NULL: allowed */
	const char *warn;
	const char *text;
	const char *expiry; /* allowed: expected expiry */
} vrow;

static const vrow vrows[] = {
	{ "DV default 3 months", POL_KIND_DV, "2026-11-23T10:00:00Z", 0, "2029-01-01", NULL, NULL, NULL, "2027-02-23" },
	{ "DV default from 30 November ends 28 February", POL_KIND_DV, "2026-11-30T23:59:59Z", 0, "2029-01-01", NULL, NULL, NULL, "2027-02-28" },
	{ "DV default into a leap February", POL_KIND_DV, "2027-11-30T00:00:00Z", 0, "2029-01-01", NULL, NULL, NULL, "2028-02-29" },
	{ "DV 92 days = exactly 3 months", POL_KIND_DV, "2026-11-23T10:00:00Z", 92, "2029-01-01", NULL, NULL, NULL, "2027-02-23" },
	{ "DV 93 days exceeds 3 months", POL_KIND_DV, "2026-11-23T10:00:00Z", 93, "2029-01-01", "CP-5.4.1", NULL,
	  "DV validity of 93 days exceeds the maximum of 3 months", NULL },
	{ "DV 120 days", POL_KIND_DV, "2026-11-23T10:00:00Z", 120, "2029-01-01", "CP-5.4.1", NULL,
	  "DV validity of 120 days exceeds the maximum of 3 months", NULL },
	{ "DV 14 days = 2 weeks", POL_KIND_DV, "2026-11-23T10:00:00Z", 14, "2029-01-01", NULL, NULL, NULL, "2026-12-07" },
	{ "DV 13 days", POL_KIND_DV, "2026-11-23T10:00:00Z", 13, "2029-01-01", "CP-5.4.1", NULL,
	  "DV validity of 13 days is below the minimum of 2 weeks", NULL },
	{ "IS 1 day", POL_KIND_IS, "2026-11-23T23:00:00Z", 1, "2027-01-01", NULL, NULL, NULL, "2026-11-24" },
	{ "IS 31 days from 23 November", POL_KIND_IS, "2026-11-23T10:00:00Z", 31, "2027-01-01", "CP-5.4.1", NULL,
	  "IS validity of 31 days exceeds the maximum of 1 month", NULL },
	{ "IS 31 days from 1 December (= 1 month)", POL_KIND_IS, "2026-12-01T10:00:00Z", 31, "2027-06-01", NULL, NULL, NULL, "2027-01-01" },
	{ "IS 29 days from 31 January 2028 = 1 month (29 February)", POL_KIND_IS, "2028-01-31T10:00:00Z", 29, "2028-06-01", NULL, NULL, NULL, "2028-02-29" },
	{ "IS 30 days from 31 January 2028", POL_KIND_IS, "2028-01-31T10:00:00Z", 30, "2028-06-01", "CP-5.4.1", NULL, "exceeds", NULL },
	{ "clamped to the issuer's expiry", POL_KIND_DV, "2026-11-23T10:00:00Z", 0, "2027-01-10", NULL, "CP-5.4.1",
	  "DV validity shortened to end with the CVCA certificate FICVCA00001 on 2027-01-10 (requested 2027-02-23)", "2027-01-10" },
	{ "clamped to 14 days: still the minimum", POL_KIND_DV, "2026-11-23T10:00:00Z", 0, "2026-12-07", NULL, "CP-5.4.1", NULL, "2026-12-07" },
	{ "clamped to 13 days: below the minimum", POL_KIND_DV, "2026-11-23T10:00:00Z", 0, "2026-12-06", "CP-5.4.1", NULL,
	  "the CVCA certificate FICVCA00001 expires on 2026-12-06: a DV certificate issued today would be valid for 13 days, below the minimum of 2 weeks", NULL },
	{ "IS on the DV certificate's last day", POL_KIND_IS, "2026-11-23T23:59:59Z", 0, "2026-11-23", "CP-5.4.1", NULL,
	  "valid for 0 days, below the minimum of 1 day", NULL },
	{ "IS the day before the DV certificate expires", POL_KIND_IS, "2026-11-22T00:00:00Z", 0, "2026-11-23", NULL, "CP-5.4.1", NULL, "2026-11-23" },
	{ "issuer expired yesterday", POL_KIND_IS, "2026-11-24T00:00:00Z", 1, "2026-11-23", "CP-5.4.1", NULL,
	  "the DV certificate FIDVPOL00001 expired on 2026-11-23", NULL },
	{ "DV in December 2099 clamped to 2099-12-31", POL_KIND_DV, "2099-12-01T00:00:00Z", 0, "2099-12-31", NULL, "CP-5.4.1", NULL, "2099-12-31" },
	{ "CVCA default 3 years", POL_KIND_CVCA, "2026-11-23T10:00:00Z", 0, NULL, NULL, NULL, NULL, "2029-11-23" },
	{ "CVCA from 29 February: 3 years end on 28 February", POL_KIND_CVCA, "2028-02-29T10:00:00Z", 0, NULL, NULL, NULL, NULL, "2031-02-28" },
	{ "CVCA 181 days = 6 months", POL_KIND_CVCA, "2026-11-23T10:00:00Z", 181, NULL, NULL, NULL, NULL, "2027-05-23" },
	{ "CVCA 180 days", POL_KIND_CVCA, "2026-11-23T10:00:00Z", 180, NULL, "CP-5.4.1", NULL,
	  "CVCA validity of 180 days is below the minimum of 6 months", NULL },
	{ "CVCA 3 years and a day", POL_KIND_CVCA, "2026-11-23T10:00:00Z", 1097, NULL, "CP-5.4.1", NULL, "exceeds the maximum of 3 years", NULL },
	{ "CVCA ending 2099-12-31", POL_KIND_CVCA, "2096-12-31T10:00:00Z", 0, NULL, NULL, NULL, NULL, "2099-12-31" },
	{ "CVCA past 2099 (two-digit year)", POL_KIND_CVCA, "2097-06-01T10:00:00Z", 0, NULL, "TR-03110-3 D.2.1.3", NULL,
	  "would expire on 2100-06-01, after 2099-12-31", NULL },
	{ "today before 2000", POL_KIND_CVCA, "1999-12-31T10:00:00Z", 0, NULL, "TR-03110-3 D.2.1.3", NULL,
	  "today's date 1999-12-31 cannot be written", NULL },
	{ "today after 2099", POL_KIND_IS, "2100-01-01T00:00:00Z", 1, "2099-12-31", "TR-03110-3 D.2.1.3", NULL, NULL, NULL },
};

static void vrow_test(void **state)
{
	const vrow *t = *state;
	pol_national *n = fx_nat();
	pol_decision d;
	cvc_date eff = { 0 }, exp = { 0 };
	cvc_body issuer;
	const char *chr = t->kind == POL_KIND_IS ? "FIDVPOL00001" : "FICVCA00001";
	char s[11];

	if (t->issuer_expiry != NULL)
		issuer = fx_cert("FICVCA00001", chr, fx_ec(CVC_ALG_ECDSA_SHA256, CVC_CURVE_BP256R1, 1, 1),
				 CVC_CHAT_IS, 0xC3, "2020-01-01", t->issuer_expiry);
	pol_decision_init(&d);
	eac_err r = pol_validity(n, t->kind, fx_time(t->now), t->days,
				 t->issuer_expiry ? &issuer : NULL, &eff, &exp, &d);
	fx_expect(r, &d, t->rule, t->warn, t->text);
	if (t->rule != NULL) {
		assert_int_equal(exp.year, 0); /* untouched */
	} else {
		cvc_date today;
		cvc_date_from_time(fx_time(t->now), &today);
		assert_int_equal(cvc_date_cmp(&eff, &today), 0);
		cvc_date_format(&exp, s);
		assert_string_equal(s, t->expiry);
	}
	pol_national_free(n);
}

static void test_validity_national_max(void **state)
{
	(void)state;
	pol_national *n = fx_nat_edit("\"default\": \"P3M\", \"max\": \"P3M\"",
				      "\"default\": \"P2M\", \"max\": \"P2M\"");
	pol_decision d;
	cvc_date eff, exp;
	cvc_body ca = fx_cert("FICVCA00001", "FICVCA00001",
			      fx_ec(CVC_ALG_ECDSA_SHA256, CVC_CURVE_BP256R1, 1, 1), CVC_CHAT_IS, 0xC3,
			      "2026-01-01", "2028-01-01");
	pol_decision_init(&d);
	eac_err r = pol_validity(n, POL_KIND_DV, fx_time("2026-11-23"), 80, &ca, &eff, &exp, &d);
	fx_expect(r, &d, "CP-5.4.1", NULL, "DV validity of 80 days exceeds the national maximum of 2 months");
	pol_decision_init(&d);
	assert_int_equal(pol_validity(n, POL_KIND_DV, fx_time("2026-11-23"), 0, &ca, &eff, &exp, &d), EAC_OK);
	assert_int_equal(exp.month, 1);
	assert_int_equal(pol_validity(NULL, POL_KIND_DV, 0, 0, NULL, &eff, &exp, &d), EAC_ERR_USAGE);
	assert_int_equal(pol_validity(n, POL_KIND__COUNT, 0, 0, NULL, &eff, &exp, &d), EAC_ERR_USAGE);
	pol_national_free(n);
}

int main(void)
{
	const struct CMUnitTest plain[] = {
		cmocka_unit_test(test_duration_parse),
		cmocka_unit_test(test_date_add),
		cmocka_unit_test(test_countries),
		cmocka_unit_test(test_validity_national_max),
	};
	const fx_table tables[] = { FX_TABLE(vrows, vrow_test) };
	return fx_run("policy-dates", plain, sizeof(plain) / sizeof(plain[0]), tables, 1);
}
