/* SPDX-License-Identifier: Apache-2.0 */
/* Decisions: the first refusal wins, warnings accumulate, one line out. */

#include <stdio.h>
#include <string.h>

#include "policy/internal.h"

void pol_decision_init(pol_decision *d)
{
	memset(d, 0, sizeof(*d));
	d->allowed = 1;
}

eac_err pol_decision_check(const pol_decision *d)
{
	if (d == NULL)
		return eac_fail(EAC_ERR_USAGE, "pol_decision_check: no decision");
	if (d->allowed)
		return EAC_OK;
	if (d->rule[0] == '\0')
		return eac_fail(EAC_ERR_POLICY, "refused: %s", d->message);
	return eac_fail(EAC_ERR_POLICY, "refused: %s (%s)", d->message, d->rule);
}

/* A sentence stays on one line whatever went into it (names from requests). */
static void one_line(char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\r' || *s == '\t')
			*s = ' ';
}

eac_err pol_refuse(pol_decision *d, const char *rule, const char *fmt, ...)
{
	if (d->allowed) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(d->message, sizeof(d->message), fmt, ap);
		va_end(ap);
		one_line(d->message);
		snprintf(d->rule, sizeof(d->rule), "%s", rule);
		d->allowed = 0;
	}
	return pol_decision_check(d);
}

void pol_warn(pol_decision *d, const char *rule, const char *fmt, ...)
{
	if (d->nwarnings >= POL_WARNINGS_MAX) {
		d->dropped++;
		return;
	}
	pol_note *w = &d->warning[d->nwarnings++];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->message, sizeof(w->message), fmt, ap);
	va_end(ap);
	one_line(w->message);
	snprintf(w->rule, sizeof(w->rule), "%s", rule);
}

const char *pol_kind_name(pol_kind kind)
{
	switch (kind) {
	case POL_KIND_CVCA: return "CVCA";
	case POL_KIND_DV: return "DV";
	case POL_KIND_IS: return "IS";
	default: return "?";
	}
}

const char *pol_kind_a(pol_kind kind)
{
	switch (kind) {
	case POL_KIND_CVCA: return "a CVCA";
	case POL_KIND_DV: return "a DV";
	case POL_KIND_IS: return "an IS";
	default: return "a";
	}
}
