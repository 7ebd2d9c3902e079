/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Durations, calendar arithmetic and the validity rule CP-5.4.1.
 *
 * A CV certificate is valid from 00:00:00 UTC of its effective date through
 * 23:59:59 UTC of its expiry date ([CVF §2.1]); the period of a certificate
 * is measured on dates, "expiry - effective", in calendar terms: a maximum
 * of 3 months means expiry <= effective + 3 months (day clamped to the end
 * of the month), a minimum of 1 day means expiry >= effective + 1 day.
 */

#include <stdio.h>
#include <string.h>

#include "policy/internal.h"

const pol_duration pol_common_min[POL_KIND__COUNT] = {
	[POL_KIND_CVCA] = { 6, POL_UNIT_MONTH },
	[POL_KIND_DV] = { 2, POL_UNIT_WEEK },
	[POL_KIND_IS] = { 1, POL_UNIT_DAY },
};
const pol_duration pol_common_max[POL_KIND__COUNT] = {
	[POL_KIND_CVCA] = { 3, POL_UNIT_YEAR },
	[POL_KIND_DV] = { 3, POL_UNIT_MONTH },
	[POL_KIND_IS] = { 1, POL_UNIT_MONTH },
};

static int leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_days(int64_t y, unsigned m)
{
	static const unsigned char d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && leap(y) ? 29 : d[m - 1];
}

int64_t pol_today(int64_t now)
{
	return now >= 0 ? now / 86400 : -((-now + 86399) / 86400);
}

int64_t pol_last_cv_day(void)
{
	const cvc_date last = { 2099, 12, 31 };
	return cvc_date_to_days(&last);
}

void pol_day_format(int64_t days, char out[11])
{
	cvc_date d;
	cvc_date_from_days(days, &d);
	cvc_date_format(&d, out);
}

int64_t pol_days_add(int64_t days, pol_duration dur)
{
	cvc_date d;
	int64_t months;

	switch (dur.unit) {
	case POL_UNIT_DAY: return days + dur.n;
	case POL_UNIT_WEEK: return days + 7 * (int64_t)dur.n;
	case POL_UNIT_MONTH: months = dur.n; break;
	case POL_UNIT_YEAR: months = 12 * (int64_t)dur.n; break;
	default: return days;
	}
	cvc_date_from_days(days, &d);
	int64_t total = (int64_t)d.year * 12 + (d.month - 1) + months;
	int64_t y = total / 12;
	unsigned m = (unsigned)(total % 12) + 1;
	unsigned day = d.day;
	if (day > month_days(y, m))
		day = month_days(y, m); /* 11-30 + 3 months = 02-28 */
	cvc_date r = { (uint16_t)y, (uint8_t)m, (uint8_t)day };
	return cvc_date_to_days(&r);
}

int pol_duration_eq(pol_duration a, pol_duration b)
{
	return a.n == b.n && a.unit == b.unit;
}

int pol_duration_le(pol_duration a, pol_duration b)
{
	const cvc_date first = { 2000, 1, 1 };
	int64_t s0 = cvc_date_to_days(&first);
	/* 2000..2099 repeats every 4 years (1461 days): 2000 is a leap year
	 * and 2100, the next exception, is beyond any CV date. */
	for (int64_t s = s0; s < s0 + 1461; s++)
		if (pol_days_add(s, a) > pol_days_add(s, b))
			return 0;
	return 1;
}

eac_err pol_duration_parse(const char *s, pol_duration *out)
{
	unsigned n = 0;
	size_t i = 1, digits = 0;
	pol_unit unit;

	if (s == NULL || out == NULL)
		return eac_fail(EAC_ERR_USAGE, "pol_duration_parse: no input");
	if (s[0] != 'P' || s[1] < '1' || s[1] > '9')
		goto bad;
	for (; s[i] >= '0' && s[i] <= '9'; i++, digits++) {
		if (digits >= 4)
			goto bad;
		n = n * 10 + (unsigned)(s[i] - '0');
	}
	switch (s[i]) {
	case 'D': unit = POL_UNIT_DAY; break;
	case 'W': unit = POL_UNIT_WEEK; break;
	case 'M': unit = POL_UNIT_MONTH; break;
	case 'Y': unit = POL_UNIT_YEAR; break;
	default: goto bad;
	}
	if (s[i + 1] != '\0' || n > POL_DURATION_MAX_N)
		goto bad;
	out->n = n;
	out->unit = unit;
	return EAC_OK;
bad:
	return eac_fail(EAC_ERR_USAGE,
			"'%.32s' is not an ISO 8601 duration with one unit (P1D, P2W, P3M, P3Y; at most %u)",
			s, POL_DURATION_MAX_N);
}

void pol_duration_format(pol_duration dur, char out[32])
{
	const char *u = dur.unit == POL_UNIT_DAY	? "day"
			: dur.unit == POL_UNIT_WEEK	? "week"
			: dur.unit == POL_UNIT_MONTH ? "month"
			: dur.unit == POL_UNIT_YEAR	? "year"
						     : "?";
	snprintf(out, 32, "%u %s%s", dur.n, u, dur.n == 1 ? "" : "s");
}

eac_err pol_date_add(const cvc_date *d, pol_duration dur, cvc_date *out)
{
	char a[11], b[11];
	if (d == NULL || out == NULL || !cvc_date_valid(d) || dur.n == 0 ||
	    dur.n > POL_DURATION_MAX_N || dur.unit < POL_UNIT_DAY || dur.unit > POL_UNIT_YEAR)
		return eac_fail(EAC_ERR_USAGE, "pol_date_add: invalid date or duration");
	int64_t r = pol_days_add(cvc_date_to_days(d), dur);
	if (r > pol_last_cv_day()) {
		cvc_date_format(d, a);
		pol_day_format(r, b);
		return eac_fail(EAC_ERR_USAGE,
				"%s + %u%c = %s is after 2099-12-31, the last date a CV certificate can hold",
				a, dur.n, "?DWMY"[dur.unit], b);
	}
	cvc_date_from_days(r, out);
	return EAC_OK;
}

/* ---- CP-5.4.1 ---- */

static const char *issuer_name(pol_kind kind)
{
	return kind == POL_KIND_DV ? "CVCA" : kind == POL_KIND_IS ? "DV" : "issuer's";
}

/* "the maximum of 3 months" or "the national maximum of 2 months" */
static void bound_text(const char *what, pol_duration national, pol_duration common,
		       char *out, size_t outlen)
{
	char n[32];
	pol_duration_format(national, n);
	if (pol_duration_eq(national, common))
		snprintf(out, outlen, "the %s of %s", what, n);
	else
		snprintf(out, outlen, "the national %s of %s", what, n);
}

eac_err pol_validity(const pol_national *nat, pol_kind kind, int64_t now, unsigned days,
		     const cvc_body *issuer, cvc_date *effective, cvc_date *expiry, pol_decision *d)
{
	char a[11], b[11], bound[64];

	if (nat == NULL || d == NULL || effective == NULL || expiry == NULL ||
	    (unsigned)kind >= POL_KIND__COUNT)
		return eac_fail(EAC_ERR_USAGE, "pol_validity: missing argument");
	if (issuer != NULL && (!issuer->has_dates || !cvc_date_valid(&issuer->effective) ||
			       !cvc_date_valid(&issuer->expiry)))
		return eac_fail(EAC_ERR_USAGE, "pol_validity: the issuer's certificate has no valid dates");

	const pol_validity_range *range = &nat->validity[kind];
	const char *k = pol_kind_name(kind);
	int64_t eff = pol_today(now);
	int64_t last = pol_last_cv_day();
	cvc_date effd;
	cvc_date_from_days(eff, &effd);
	if (!cvc_date_valid(&effd)) {
		pol_day_format(eff, a);
		return pol_refuse(d, POL_RULE_DATES,
				  "today's date %s cannot be written in a CV certificate, whose dates run from 2000-01-01 to 2099-12-31",
				  a);
	}

	/* the issuer must itself be valid today: nothing is issued under an
	 * expired or not yet valid certificate */
	if (issuer != NULL) {
		if (cvc_date_to_days(&issuer->effective) > eff) {
			cvc_date_format(&issuer->effective, a);
			return pol_refuse(d, "CP-5.4.1",
					  "the %s certificate %s is not valid before %s; nothing can be issued under it yet",
					  issuer_name(kind), issuer->chr.s, a);
		}
		if (cvc_date_to_days(&issuer->expiry) < eff) {
			cvc_date_format(&issuer->expiry, a);
			return pol_refuse(d, "CP-5.4.1",
					  "the %s certificate %s expired on %s; nothing can be issued under it",
					  issuer_name(kind), issuer->chr.s, a);
		}
	}

	int64_t exp = days > 0 ? eff + (int64_t)days /* --validity DAYS */
			       : pol_days_add(eff, range->def);
	if (exp > pol_days_add(eff, range->max)) {
		bound_text("maximum", range->max, pol_common_max[kind], bound, sizeof(bound));
		return pol_refuse(d, "CP-5.4.1", "%s validity of %lld days exceeds %s", k,
				  (long long)(exp - eff), bound);
	}
	if (exp < pol_days_add(eff, range->min)) {
		bound_text("minimum", range->min, pol_common_min[kind], bound, sizeof(bound));
		return pol_refuse(d, "CP-5.4.1", "%s validity of %lld day%s is below %s", k,
				  (long long)(exp - eff), exp - eff == 1 ? "" : "s", bound);
	}

	/* an issued certificate never outlives its issuer's: clamp, then the
	 * clamped period must still reach the minimum */
	if (issuer != NULL && exp > cvc_date_to_days(&issuer->expiry)) {
		int64_t iexp = cvc_date_to_days(&issuer->expiry);
		pol_day_format(exp, a);
		cvc_date_format(&issuer->expiry, b);
		if (iexp < pol_days_add(eff, range->min)) {
			bound_text("minimum", range->min, pol_common_min[kind], bound, sizeof(bound));
			return pol_refuse(d, "CP-5.4.1",
					  "the %s certificate %s expires on %s: %s certificate issued today would be valid for %lld day%s, below %s",
					  issuer_name(kind), issuer->chr.s, b, pol_kind_a(kind),
					  (long long)(iexp - eff), iexp - eff == 1 ? "" : "s", bound);
		}
		pol_warn(d, "CP-5.4.1",
			 "%s validity shortened to end with the %s certificate %s on %s (requested %s)",
			 k, issuer_name(kind), issuer->chr.s, b, a);
		exp = iexp;
	}

	/* only a CVCA certificate (never clamped) can run past the two-digit year */
	if (exp > last) {
		cvc_date_format(&effd, a);
		pol_day_format(exp, b);
		return pol_refuse(d, POL_RULE_DATES,
				  "%s certificate issued on %s would expire on %s, after 2099-12-31, the last date a CV certificate can hold",
				  pol_kind_a(kind), a, b);
	}

	*effective = effd;
	cvc_date_from_days(exp, expiry);
	return EAC_OK;
}
