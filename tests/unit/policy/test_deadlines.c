/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Time rules with the time as a parameter: processing and distribution
 * deadlines (CP-4.2.2, CP-5.4.2) and the CVCA rollover (CP-5.4b) — the
 * due date, exactly 14 days before expiry, 13 days before, the day of
 * expiry, after it, across 29 February.
 */

#include <stdio.h>
#include <string.h>

#include "tests/unit/policy/fixtures.h"

/* ---- deadlines ---- */

typedef struct drow {
	const char *name;
	pol_deadline_kind kind;
	pol_authority auth;
	int64_t elapsed; /* seconds since the start */
	int64_t margin;	 /* seconds */
	pol_deadline_status want;
	unsigned hours;
	const char *rule;
} drow;

#define H 3600
static const drow drows[] = {
	{ "CVCA processing: just received", POL_DEADLINE_PROCESSING, POL_AUTHORITY_CVCA, 0, 12 * H, POL_ON_TIME, 72, "CP-4.2.2" },
	{ "CVCA processing: 1 s before the margin", POL_DEADLINE_PROCESSING, POL_AUTHORITY_CVCA, 60 * H - 1, 12 * H, POL_ON_TIME, 72, "CP-4.2.2" },
	{ "CVCA processing: at the margin", POL_DEADLINE_PROCESSING, POL_AUTHORITY_CVCA, 60 * H, 12 * H, POL_AT_RISK, 72, "CP-4.2.2" },
	{ "CVCA processing: at the deadline", POL_DEADLINE_PROCESSING, POL_AUTHORITY_CVCA, 72 * H, 12 * H, POL_AT_RISK, 72, "CP-4.2.2" },
	{ "CVCA processing: 1 s after the deadline", POL_DEADLINE_PROCESSING, POL_AUTHORITY_CVCA, 72 * H + 1, 12 * H, POL_OVERDUE, 72, "CP-4.2.2" },
	{ "DV processing: 23 h with no margin", POL_DEADLINE_PROCESSING, POL_AUTHORITY_DV, 23 * H, 0, POL_ON_TIME, 24, "CP-5.4.2" },
	{ "DV processing: at the deadline with no margin", POL_DEADLINE_PROCESSING, POL_AUTHORITY_DV, 24 * H, 0, POL_AT_RISK, 24, "CP-5.4.2" },
	{ "DV processing: 25 h", POL_DEADLINE_PROCESSING, POL_AUTHORITY_DV, 25 * H, 12 * H, POL_OVERDUE, 24, "CP-5.4.2" },
	{ "CVCA distribution: 11 h", POL_DEADLINE_DISTRIBUTION, POL_AUTHORITY_CVCA, 11 * H, 12 * H, POL_ON_TIME, 24, "CP-5.4.2" },
	{ "CVCA distribution: 13 h", POL_DEADLINE_DISTRIBUTION, POL_AUTHORITY_CVCA, 13 * H, 12 * H, POL_AT_RISK, 24, "CP-5.4.2" },
	{ "CVCA distribution: 25 h", POL_DEADLINE_DISTRIBUTION, POL_AUTHORITY_CVCA, 25 * H, 12 * H, POL_OVERDUE, 24, "CP-5.4.2" },
	{ "DV distribution: 30 h", POL_DEADLINE_DISTRIBUTION, POL_AUTHORITY_DV, 30 * H, 12 * H, POL_ON_TIME, 48, "CP-5.4.2" },
	{ "DV distribution: 47 h", POL_DEADLINE_DISTRIBUTION, POL_AUTHORITY_DV, 47 * H, 12 * H, POL_AT_RISK, 48, "CP-5.4.2" },
	{ "DV distribution: 49 h", POL_DEADLINE_DISTRIBUTION, POL_AUTHORITY_DV, 49 * H, 12 * H, POL_OVERDUE, 48, "CP-5.4.2" },
	{ "clock behind the receipt time", POL_DEADLINE_PROCESSING, POL_AUTHORITY_CVCA, -5 * H, 12 * H, POL_ON_TIME, 72, "CP-4.2.2" },
};

static void drow_test(void **state)
{
	const drow *t = *state;
	const int64_t start = fx_time("2026-11-23T08:30:00Z");
	pol_deadline dl;
	assert_int_equal(pol_deadline_classify(t->kind, t->auth, start, start + t->elapsed, t->margin, &dl),
			 EAC_OK);
	if (dl.status != t->want)
		FX_FAIL("status %s, expected %s", pol_deadline_status_name(dl.status),
			pol_deadline_status_name(t->want));
	assert_int_equal(dl.hours, t->hours);
	assert_int_equal(dl.deadline, start + (int64_t)t->hours * H);
	assert_int_equal(dl.remaining, dl.deadline - (start + t->elapsed));
	assert_string_equal(dl.rule, t->rule);
}

static void test_deadline_usage(void **state)
{
	pol_deadline dl = { .hours = 99 };
	(void)state;
	assert_int_equal(pol_deadline_classify(0, POL_AUTHORITY_CVCA, 0, 0, 0, &dl), EAC_ERR_USAGE);
	assert_int_equal(pol_deadline_classify(POL_DEADLINE_PROCESSING, 3, 0, 0, 0, &dl), EAC_ERR_USAGE);
	assert_int_equal(pol_deadline_classify(POL_DEADLINE_PROCESSING, POL_AUTHORITY_DV, 0, 0, -1, &dl),
			 EAC_ERR_USAGE);
	assert_int_equal(pol_deadline_classify(POL_DEADLINE_PROCESSING, POL_AUTHORITY_DV, -1, 0, 0, &dl),
			 EAC_ERR_USAGE);
	assert_int_equal(dl.hours, 99); /* untouched */
	assert_string_equal(pol_deadline_status_name(POL_AT_RISK), "at risk");
	assert_string_equal(pol_deadline_status_name(POL_OVERDUE), "overdue");
}

/* ---- rollover ---- */

typedef struct orow {
	const char *name;
	const char *expiry, *today;
	int successor;
	unsigned lead;
	pol_rollover_state want;
	const char *due, *last; /* expected dates */
	int64_t days_left;
	const char *rule, *warn, *text; /* pol_check_rollover's outcome */
} orow;

static const orow orows[] = {
	{ "rollover: 61 days before expiry", "2027-03-01", "2026-12-30", 0, 60, POL_ROLLOVER_OK, "2026-12-31", "2027-02-15", 61, NULL, NULL, NULL },
	{ "rollover: the due date (60 days before)", "2027-03-01", "2026-12-31", 0, 60, POL_ROLLOVER_DUE, "2026-12-31", "2027-02-15", 60, NULL, "CP-5.4b",
	  "CVCA rollover due since 2026-12-31: the CVCA certificate FICVCA00001 expires on 2027-03-01; distribute a link certificate by 2027-02-15" },
	{ "rollover: exactly 14 days before expiry", "2027-03-01", "2027-02-15", 0, 60, POL_ROLLOVER_DUE, "2026-12-31", "2027-02-15", 14, NULL, "CP-5.4b", "by 2027-02-15" },
	{ "rollover: 13 days before expiry", "2027-03-01", "2027-02-16", 0, 60, POL_ROLLOVER_LATE, "2026-12-31", "2027-02-15", 13, "CP-5.4b", NULL,
	  "the CVCA certificate FICVCA00001 expires on 2027-03-01 and no link certificate was distributed by 2027-02-15, 14 days before; DV certificates are no longer issued under the old key" },
	{ "rollover: the day of expiry", "2027-03-01", "2027-03-01", 0, 60, POL_ROLLOVER_LATE, "2026-12-31", "2027-02-15", 0, "CP-5.4b", NULL, NULL },
	{ "rollover: after expiry", "2027-03-01", "2027-03-05", 0, 60, POL_ROLLOVER_LATE, "2026-12-31", "2027-02-15", -4, "CP-5.4b", NULL, NULL },
	{ "rollover: successor distributed, 13 days before", "2027-03-01", "2027-02-16", 1, 60, POL_ROLLOVER_DONE, "2026-12-31", "2027-02-15", 13, NULL, NULL, NULL },
	{ "rollover: successor distributed early", "2027-03-01", "2026-11-01", 1, 60, POL_ROLLOVER_DONE, "2026-12-31", "2027-02-15", 120, NULL, NULL, NULL },
	{ "rollover: last day is 29 February", "2028-03-14", "2028-02-29", 0, 60, POL_ROLLOVER_DUE, "2028-01-14", "2028-02-29", 14, NULL, "CP-5.4b", "by 2028-02-29" },
	{ "rollover: the day after 29 February", "2028-03-14", "2028-03-01", 0, 60, POL_ROLLOVER_LATE, "2028-01-14", "2028-02-29", 13, "CP-5.4b", NULL, NULL },
	{ "rollover: lead 14 days, the due date is the last day", "2027-03-01", "2027-02-15", 0, 14, POL_ROLLOVER_DUE, "2027-02-15", "2027-02-15", 14, NULL, "CP-5.4b", NULL },
	{ "rollover: lead 14 days, 15 days before", "2027-03-01", "2027-02-14", 0, 14, POL_ROLLOVER_OK, "2027-02-15", "2027-02-15", 15, NULL, NULL, NULL },
	{ "rollover: year 2099", "2099-12-31", "2099-12-17", 0, 60, POL_ROLLOVER_DUE, "2099-11-01", "2099-12-17", 14, NULL, "CP-5.4b", NULL },
};

static void orow_test(void **state)
{
	const orow *t = *state;
	cvc_date e = fx_date(t->expiry);
	pol_rollover ro;
	char s[11];
	int64_t now = fx_time(t->today) + 43200; /* midday: only the date counts */

	assert_int_equal(pol_rollover_status(&e, t->successor, now, t->lead, &ro), EAC_OK);
	if (ro.state != t->want)
		FX_FAIL("state %s, expected %s", pol_rollover_state_name(ro.state),
			pol_rollover_state_name(t->want));
	cvc_date_format(&ro.due, s);
	assert_string_equal(s, t->due);
	cvc_date_format(&ro.last_day, s);
	assert_string_equal(s, t->last);
	assert_int_equal(ro.days_left, t->days_left);

	/* the same through pol_check_rollover, as DV issuance uses it */
	char to[48];
	snprintf(to, sizeof(to), "\"rollover_lead_days\": %u", t->lead);
	pol_national *n = fx_nat_edit("\"rollover_lead_days\": 60", to);
	cvc_body ca = fx_cert("FICVCA00001", "FICVCA00001",
			      fx_ec(CVC_ALG_ECDSA_SHA256, CVC_CURVE_BP256R1, 1, 1), CVC_CHAT_IS, 0xC3,
			      "2024-01-01", t->expiry);
	pol_decision d;
	pol_decision_init(&d);
	fx_expect(pol_check_rollover(n, &ca, t->successor, now, &d), &d, t->rule, t->warn, t->text);
	pol_national_free(n);
}

static void test_rollover_usage(void **state)
{
	cvc_date e = { 2027, 3, 1 }, bad = { 2027, 2, 29 };
	pol_rollover ro = { .days_left = 7 };
	(void)state;
	assert_int_equal(pol_rollover_status(&e, 0, 0, 13, &ro), EAC_ERR_USAGE);
	assert_int_equal(pol_rollover_status(&bad, 0, 0, 60, &ro), EAC_ERR_USAGE);
	assert_int_equal(pol_rollover_status(NULL, 0, 0, 60, &ro), EAC_ERR_USAGE);
	assert_int_equal(ro.days_left, 7);
	assert_string_equal(pol_rollover_state_name(POL_ROLLOVER_LATE), "late");
}

int main(void)
{
	static const struct CMUnitTest plain[] = {
		cmocka_unit_test(test_deadline_usage),
		cmocka_unit_test(test_rollover_usage),
	};
	const fx_table tables[] = { FX_TABLE(drows, drow_test), FX_TABLE(orows, orow_test) };
	return fx_run("policy-deadlines", plain, sizeof(plain) / sizeof(plain[0]), tables,
		      sizeof(tables) / sizeof(tables[0]));
}
