/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The national certificate policy file (CP-1, CP-5.4.3): strict JSON, and
 * every value inside the common policy. CP-1: a national policy MUST meet
 * the common policy, MAY add requirements for domestic use, and MUST NOT
 * demand more of a foreign DV than the common policy does — so the DV
 * minimum validity and the DV limit per country apply to foreign DVs at
 * their common values whatever the file says (the file may not tighten
 * the first; the second binds domestic DVs only, see pol_dv_certificate).
 */

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"

/* Dotted-decimal OID: at least two arcs, no leading zeros, first arc
 * 0..2, second arc 0..39 under 0 and 1 (X.660). */
static int oid_valid(const char *s)
{
	size_t len = strlen(s);
	unsigned arcs = 0;
	unsigned long long first = 0;

	if (len == 0 || len >= POL_OID_MAX)
		return 0;
	for (const char *p = s;;) {
		if (!isdigit((unsigned char)*p) || (p[0] == '0' && isdigit((unsigned char)p[1])))
			return 0;
		unsigned long long v = 0;
		for (int n = 0; isdigit((unsigned char)*p); p++, n++) {
			if (n >= 19)
				return 0;
			v = v * 10 + (unsigned)(*p - '0');
		}
		if (arcs == 0 && v > 2)
			return 0;
		if (arcs == 0)
			first = v;
		if (arcs == 1 && first < 2 && v > 39)
			return 0;
		arcs++;
		if (*p == '\0')
			break;
		if (*p != '.')
			return 0;
		p++;
	}
	return arcs >= 2;
}

static eac_err get_duration(const json_t *obj, const char *key, int required,
			    const char *where, pol_duration *out)
{
	const char *s = NULL;
	eac_err r = eac_json_string(obj, key, required, where, &s);
	if (r != EAC_OK || s == NULL)
		return r;
	if (pol_duration_parse(s, out) != EAC_OK) {
		char why[160]; /* the detail buffer is about to be rewritten */
		snprintf(why, sizeof(why), "%s", eac_err_detail(EAC_ERR_USAGE));
		return eac_fail(EAC_ERR_CONFIG, "%s.%s: %s", where, key, why);
	}
	return EAC_OK;
}

/* One "validity" entry: {"default", "max", "min" (optional)}. */
static eac_err parse_range(const json_t *validity, pol_kind kind, const char *what,
			   pol_validity_range *out)
{
	static const char *const keys[] = { "default", "max", "min", NULL };
	static const char *const names[] = { "cvca", "dv", "is" };
	char where[256], a[32], b[32];
	const json_t *obj = NULL;
	pol_validity_range v = { .min = pol_common_min[kind] };
	eac_err r;

	snprintf(where, sizeof(where), "%s: validity", what);
	if ((r = eac_json_object(validity, names[kind], 1, where, &obj)) != EAC_OK)
		return r;
	snprintf(where, sizeof(where), "%s: validity.%s", what, names[kind]);
	if ((r = eac_json_only_keys(obj, keys, where)) != EAC_OK ||
	    (r = get_duration(obj, "default", 1, where, &v.def)) != EAC_OK ||
	    (r = get_duration(obj, "max", 1, where, &v.max)) != EAC_OK ||
	    (r = get_duration(obj, "min", 0, where, &v.min)) != EAC_OK)
		return r;

	const pol_duration cmin = pol_common_min[kind], cmax = pol_common_max[kind];
	const struct {
		const char *name;
		pol_duration d;
	} vals[] = { { "min", v.min }, { "default", v.def }, { "max", v.max } };
	for (size_t i = 0; i < 3; i++) {
		if (!pol_duration_le(vals[i].d, cmax)) {
			pol_duration_format(cmax, a);
			return eac_fail(EAC_ERR_CONFIG,
					"%s.%s: P%u%c exceeds the common policy's maximum %s validity of %s (CP-5.4.1)",
					where, vals[i].name, vals[i].d.n, "?DWMY"[vals[i].d.unit],
					pol_kind_name(kind), a);
		}
		if (!pol_duration_le(cmin, vals[i].d)) {
			pol_duration_format(cmin, a);
			return eac_fail(EAC_ERR_CONFIG,
					"%s.%s: P%u%c is below the common policy's minimum %s validity of %s (CP-5.4.1)",
					where, vals[i].name, vals[i].d.n, "?DWMY"[vals[i].d.unit],
					pol_kind_name(kind), a);
		}
	}
	/* a longer minimum would refuse foreign DVs what the common policy allows */
	if (kind == POL_KIND_DV && !pol_duration_le(v.min, cmin)) {
		pol_duration_format(v.min, a);
		pol_duration_format(cmin, b);
		return eac_fail(EAC_ERR_CONFIG,
				"%s.min: a DV minimum validity of %s is stricter than the common policy's %s and would demand more of foreign DVs (CP-1)",
				where, a, b);
	}
	if (!pol_duration_le(v.min, v.def) || !pol_duration_le(v.def, v.max)) {
		pol_duration_format(v.min, a);
		pol_duration_format(v.max, b);
		return eac_fail(EAC_ERR_CONFIG,
				"%s: the default must lie between the minimum (%s) and the maximum (%s) (CP-5.4.1)",
				where, a, b);
	}
	*out = v;
	return EAC_OK;
}

static eac_err parse_algorithms(const json_t *root, const char *what, pol_national *n)
{
	static const char *const keys[] = { "curves", "rsa_bits", NULL };
	char where[256];
	const json_t *algs = NULL, *curves = NULL, *rsa = NULL;
	size_t i;
	json_t *v;
	eac_err r;

	if ((r = eac_json_object(root, "algorithms", 1, what, &algs)) != EAC_OK)
		return r;
	snprintf(where, sizeof(where), "%s: algorithms", what);
	if ((r = eac_json_only_keys(algs, keys, where)) != EAC_OK ||
	    (r = eac_json_array(algs, "curves", 1, where, &curves)) != EAC_OK ||
	    (r = eac_json_array(algs, "rsa_bits", 0, where, &rsa)) != EAC_OK)
		return r;
	json_array_foreach(curves, i, v) {
		if (!json_is_string(v))
			return eac_fail(EAC_ERR_CONFIG, "%s.curves: entry %zu is not a string", where, i);
		cvc_curve c = cvc_curve_from_name(json_string_value(v));
		if (c == CVC_CURVE_NONE)
			return eac_fail(EAC_ERR_CONFIG,
					"%s.curves: unknown curve '%.40s'; allowed are brainpoolP256r1, brainpoolP384r1, brainpoolP512r1, P-256 and P-384 (TR-03110-3 A.6.4.2)",
					where, json_string_value(v));
		if (n->curves & (1u << c))
			return eac_fail(EAC_ERR_CONFIG, "%s.curves: curve %s is listed twice", where,
					cvc_curve_name(c));
		n->curves |= 1u << c;
	}
	if (rsa != NULL) {
		json_array_foreach(rsa, i, v) {
			if (!json_is_integer(v))
				return eac_fail(EAC_ERR_CONFIG, "%s.rsa_bits: entry %zu is not an integer",
						where, i);
			long long bits = json_integer_value(v);
			if (bits < 2048 || bits > 4096 || bits % 256 != 0)
				return eac_fail(EAC_ERR_CONFIG,
						"%s.rsa_bits: %lld is not an RSA size this appliance allows (2048..4096 in steps of 256; TR-03110-3 A.6.3, TR-02102-1)",
						where, bits);
			for (size_t k = 0; k < n->n_rsa_bits; k++)
				if (n->rsa_bits[k] == (unsigned)bits)
					return eac_fail(EAC_ERR_CONFIG, "%s.rsa_bits: %lld is listed twice",
							where, bits);
			if (n->n_rsa_bits >= POL_RSA_SIZES_MAX)
				return eac_fail(EAC_ERR_CONFIG, "%s.rsa_bits: more than %d sizes", where,
						POL_RSA_SIZES_MAX);
			n->rsa_bits[n->n_rsa_bits++] = (unsigned)bits;
		}
	}
	if (n->curves == 0 && n->n_rsa_bits == 0)
		return eac_fail(EAC_ERR_CONFIG, "%s: allows no curve and no RSA size", where);
	return EAC_OK;
}

/* An array of right names, each once, into `out` (role bits zero). */
static eac_err parse_rights(const json_t *obj, const char *key, int required, const char *where,
			    cvc_chat_type type, cvc_chat *out, int *present)
{
	const json_t *arr = NULL;
	size_t i;
	json_t *v;
	cvc_chat c = { .type = type };
	uint8_t one[CVC_CHAT_MAX], len;
	eac_err r;

	if ((r = eac_json_array(obj, key, required, where, &arr)) != EAC_OK)
		return r;
	*present = arr != NULL;
	if (arr == NULL)
		return EAC_OK;
	if (cvc_rights_parse(type, "", c.auth, &c.len) != EAC_OK)
		return eac_fail(EAC_ERR_INTERNAL, "%s.%s: no terminal type", where, key);
	json_array_foreach(arr, i, v) {
		const char *name = json_is_string(v) ? json_string_value(v) : NULL;
		if (name == NULL || name[0] == '\0' || strchr(name, ',') != NULL ||
		    strcasecmp(name, "none") == 0)
			return eac_fail(EAC_ERR_CONFIG, "%s.%s: entry %zu is not the name of one access right",
					where, key, i);
		if (cvc_rights_parse(type, name, one, &len) != EAC_OK) {
			char why[160];
			snprintf(why, sizeof(why), "%s", eac_err_detail(EAC_ERR_USAGE));
			return eac_fail(EAC_ERR_CONFIG, "%s.%s: %s", where, key, why);
		}
		for (unsigned k = 0; k < len; k++) {
			if (c.auth[k] & one[k])
				return eac_fail(EAC_ERR_CONFIG, "%s.%s: right '%.24s' is listed twice",
						where, key, name);
			c.auth[k] |= one[k];
		}
	}
	*out = c;
	return EAC_OK;
}

static eac_err parse_default_rights(const json_t *root, const char *what, pol_national *n)
{
	static const char *const keys[] = { "dv_domestic", "dv_foreign", "is", "cvca", NULL };
	char where[256], a[128], b[128];
	const json_t *obj = NULL;
	int present;
	eac_err r;

	if ((r = eac_json_object(root, "default_rights", 1, what, &obj)) != EAC_OK)
		return r;
	snprintf(where, sizeof(where), "%s: default_rights", what);
	if ((r = eac_json_only_keys(obj, keys, where)) != EAC_OK ||
	    (r = parse_rights(obj, "dv_domestic", 1, where, n->terminal_type, &n->rights_dv_domestic,
			      &present)) != EAC_OK ||
	    (r = parse_rights(obj, "dv_foreign", 1, where, n->terminal_type, &n->rights_dv_foreign,
			      &present)) != EAC_OK ||
	    (r = parse_rights(obj, "is", 1, where, n->terminal_type, &n->rights_is, &present)) !=
		    EAC_OK ||
	    (r = parse_rights(obj, "cvca", 0, where, n->terminal_type, &n->rights_cvca, &present)) !=
		    EAC_OK)
		return r;
	if (!present) { /* the CVCA holds every right it delegates */
		n->rights_cvca = n->rights_dv_domestic;
		for (unsigned k = 0; k < n->rights_cvca.len; k++)
			n->rights_cvca.auth[k] |= n->rights_dv_foreign.auth[k] | n->rights_is.auth[k];
	}
	/* CP-1.3b: a subordinate never holds more than its issuer */
	const struct {
		const char *sub, *super;
		const cvc_chat *s, *p;
	} pairs[] = {
		{ "dv_domestic", "cvca", &n->rights_dv_domestic, &n->rights_cvca },
		{ "dv_foreign", "cvca", &n->rights_dv_foreign, &n->rights_cvca },
		{ "is", "dv_domestic", &n->rights_is, &n->rights_dv_domestic },
	};
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		if (!cvc_chat_rights_subset(pairs[i].s, pairs[i].p)) {
			cvc_rights_format(pairs[i].s, a, sizeof(a));
			cvc_rights_format(pairs[i].p, b, sizeof(b));
			return eac_fail(EAC_ERR_CONFIG,
					"%s.%s (%s) is wider than %s (%s): rights are narrowed down the chain, never widened (CP-1.3b)",
					where, pairs[i].sub, a, pairs[i].super, b[0] ? b : "none");
		}
	return EAC_OK;
}

/* An integer key checked against [lo, hi] with the rule in the message. */
static eac_err get_uint(const json_t *root, const char *key, const char *what, long long lo,
			long long hi, const char *why, unsigned *out)
{
	long long v = 0;
	eac_err r = eac_json_int(root, key, 1, what, LLONG_MIN, LLONG_MAX, &v);
	if (r != EAC_OK)
		return r;
	if (v < lo || v > hi)
		return eac_fail(EAC_ERR_CONFIG, "%s: %s = %lld is outside %lld..%lld: %s", what, key, v,
				lo, hi, why);
	*out = (unsigned)v;
	return EAC_OK;
}

eac_err pol_national_parse(const char *json_text, const char *what, pol_national **out)
{
	static const char *const top_keys[] = {
		"policy_oid",	       "country",	     "terminal_type",
		"validity",	       "algorithms",	     "max_dvs_per_country",
		"officers_min",	       "rollover_lead_days", "deadline_risk_margin_hours",
		"default_rights",      NULL,
	};
	static const char *const validity_keys[] = { "cvca", "dv", "is", NULL };
	char where[256];
	json_t *root = NULL;
	pol_national *n = NULL;
	const json_t *validity = NULL;
	const char *s = NULL;
	eac_err r;

	if (json_text == NULL || what == NULL || out == NULL)
		return eac_fail(EAC_ERR_USAGE, "pol_national_parse: missing argument");
	if ((r = eac_json_load_string(json_text, what, &root)) != EAC_OK)
		goto out;
	if ((n = calloc(1, sizeof(*n))) == NULL) {
		r = eac_fail(EAC_ERR_NOMEM, "%s: out of memory", what);
		goto out;
	}
	if ((r = eac_json_only_keys(root, top_keys, what)) != EAC_OK)
		goto out;

	if ((r = eac_json_string(root, "policy_oid", 1, what, &s)) != EAC_OK)
		goto out;
	if (!oid_valid(s)) {
		r = eac_fail(EAC_ERR_CONFIG,
			     "%s: policy_oid '%.64s' is not a dotted-decimal object identifier; the national policy needs its own OID (CP-5.4.3)",
			     what, s);
		goto out;
	}
	snprintf(n->policy_oid, sizeof(n->policy_oid), "%s", s);

	if ((r = eac_json_string(root, "country", 1, what, &s)) != EAC_OK)
		goto out;
	if (!pol_country_valid(s)) {
		r = eac_fail(EAC_ERR_CONFIG,
			     "%s: country '%.8s' is not an ISO 3166-1 alpha-2 country code (CP-3.1b)",
			     what, s);
		goto out;
	}
	memcpy(n->country, s, 3);

	if ((r = eac_json_string(root, "terminal_type", 1, what, &s)) != EAC_OK)
		goto out;
	if ((n->terminal_type = cvc_chat_type_from_name(s)) == CVC_CHAT_NONE) {
		r = eac_fail(EAC_ERR_CONFIG, "%s: terminal_type '%.16s' is not is, at or st", what, s);
		goto out;
	}

	if ((r = eac_json_object(root, "validity", 1, what, &validity)) != EAC_OK)
		goto out;
	snprintf(where, sizeof(where), "%s: validity", what);
	if ((r = eac_json_only_keys(validity, validity_keys, where)) != EAC_OK)
		goto out;
	for (int k = 0; k < POL_KIND__COUNT; k++)
		if ((r = parse_range(validity, (pol_kind)k, what, &n->validity[k])) != EAC_OK)
			goto out;

	if ((r = parse_algorithms(root, what, n)) != EAC_OK ||
	    (r = get_uint(root, "max_dvs_per_country", what, 1, 3,
			  "a country has at least one and at most 3 DVs (CP-1.3a)",
			  &n->max_dvs_per_country)) != EAC_OK ||
	    (r = get_uint(root, "officers_min", what, 2, 32,
			  "a key ceremony needs at least two officers (CP-4.2.1)", &n->officers_min)) !=
		    EAC_OK ||
	    (r = get_uint(root, "rollover_lead_days", what, 14, 365,
			  "a link certificate is distributed at least 14 days before the CVCA certificate expires (CP-5.4b)",
			  &n->rollover_lead_days)) != EAC_OK ||
	    (r = get_uint(root, "deadline_risk_margin_hours", what, 0, 23,
			  "the margin must be shorter than the shortest deadline of 24 hours (CP-5.4.2)",
			  &n->deadline_risk_margin_hours)) != EAC_OK ||
	    (r = parse_default_rights(root, what, n)) != EAC_OK)
		goto out;

	*out = n;
	n = NULL;
	r = EAC_OK;
out:
	free(n);
	json_decref(root);
	return r;
}

void pol_national_free(pol_national *nat)
{
	free(nat);
}

const cvc_chat *pol_national_rights(const pol_national *nat, pol_kind kind, int domestic)
{
	switch (kind) {
	case POL_KIND_CVCA: return &nat->rights_cvca;
	case POL_KIND_DV: return domestic ? &nat->rights_dv_domestic : &nat->rights_dv_foreign;
	case POL_KIND_IS: return &nat->rights_is;
	default: return NULL;
	}
}
