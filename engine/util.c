/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers both engines use. */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/engine.h"
#include "engine/internal.h"

eac_err eng_make_chr(const char *country, const char *mnemonic, int seq, cvc_ref *out)
{
	char buf[CVC_REF_MAX + 8];
	int n = snprintf(buf, sizeof(buf), "%s%s%05d", country, mnemonic, seq);
	if (n < 0 || (size_t)n >= sizeof(buf) || seq < 0 || seq > 99999)
		return eac_fail(EAC_ERR_USAGE,
				"holder reference %s%s%05d is too long: 2 country letters, at most 9 "
				"mnemonic characters, 5 sequence digits (CP-3.1b)",
				country, mnemonic, seq);
	eac_err r = cvc_ref_set(out, buf, (size_t)n);
	if (r != EAC_OK)
		return eac_fail(EAC_ERR_USAGE, "holder reference %s: %s (CP-3.1b)", buf,
				eac_err_detail(r));
	return EAC_OK;
}

eac_err eng_pick_alg(const hsm_keyspec *spec, const char *alg_name, cvc_alg *out)
{
	cvc_alg a;
	if (alg_name != NULL) {
		if ((a = cvc_alg_from_name(alg_name)) == CVC_ALG_NONE)
			return eac_fail(EAC_ERR_USAGE,
					"unknown signature scheme '%s' (e.g. ECDSA-SHA-256, RSA-PSS-SHA-256)",
					alg_name);
		if ((spec->type == HSM_KEY_EC) != (cvc_alg_is_ec(a) != 0))
			return eac_fail(EAC_ERR_USAGE, "scheme %s does not fit a%s key", cvc_alg_name(a),
					spec->type == HSM_KEY_EC ? "n EC" : "n RSA");
		*out = a;
		return EAC_OK;
	}
	if (spec->type == HSM_KEY_RSA) {
		*out = CVC_ALG_RSA_V15_SHA256;
		return EAC_OK;
	}
	switch (cvc_curve_bits(spec->curve)) {
	case 256: *out = CVC_ALG_ECDSA_SHA256; return EAC_OK;
	case 384: *out = CVC_ALG_ECDSA_SHA384; return EAC_OK;
	case 512: *out = CVC_ALG_ECDSA_SHA512; return EAC_OK;
	default: return eac_fail(EAC_ERR_UNSUPPORTED, "no default scheme for this key");
	}
}

eac_err eng_parse_rights(const pol_national *nat, const char *list, cvc_chat *out)
{
	cvc_chat c = { .type = nat->terminal_type };
	eac_err r = cvc_rights_parse(nat->terminal_type, list, c.auth, &c.len);
	if (r != EAC_OK)
		return r;
	*out = c;
	return EAC_OK;
}

static eac_err parse_num(const char *s, long long min, long long max, const char *what,
			 long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
		return eac_fail(EAC_ERR_USAGE, "%s '%s' is not a number in %lld..%lld", what, s, min,
				max);
	*out = v;
	return EAC_OK;
}

eac_err eng_parse_days(const char *s, unsigned *out)
{
	long long v = 0;
	if (s == NULL) {
		*out = 0;
		return EAC_OK;
	}
	eac_err r = parse_num(s, 1, 36600, "--validity", &v);
	if (r == EAC_OK)
		*out = (unsigned)v;
	return r;
}

eac_err eng_text_ok(const char *what, const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > max)
		return eac_fail(EAC_ERR_USAGE, "%s must be 1 to %zu bytes", what, max);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		unsigned char d = i + 1 < n ? (unsigned char)s[i + 1] : 0;
		if (c < 0x20 || c == 0x7f || (c == 0xc2 && d >= 0x80 && d <= 0x9f))
			return eac_fail(EAC_ERR_USAGE,
					"%s has a control character (0x%02x) at byte %zu; it must be "
					"one line of printable text",
					what, c == 0xc2 ? d : c, i + 1);
	}
	return EAC_OK;
}

eac_err eng_parse_id(const char *s, int64_t *out)
{
	long long v = 0;
	eac_err r = parse_num(s, 1, LLONG_MAX, "id", &v);
	if (r == EAC_OK)
		*out = v;
	return r;
}

eac_err eng_mkdirs(const char *path)
{
	char buf[4096];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return eac_fail(EAC_ERR_USAGE, "%s: path too long", path);
	for (char *p = buf + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(buf, 0755) != 0 && errno != EEXIST)
				return eac_fail(EAC_ERR_IO, "%s: %s", buf, strerror(errno));
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return EAC_OK;
}

eac_err eng_mkdirs_for(const char *file)
{
	char buf[4096];
	if (snprintf(buf, sizeof(buf), "%s", file) >= (int)sizeof(buf))
		return eac_fail(EAC_ERR_USAGE, "%s: path too long", file);
	char *slash = strrchr(buf, '/');
	if (slash == NULL || slash == buf)
		return EAC_OK;
	*slash = '\0';
	return eng_mkdirs(buf);
}

json_t *eng_cert_json(const db_cert *c)
{
	json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:b}", "id", (json_int_t)c->id,
			      "kind", db_kind_name(c->kind), "chr", c->chr, "car", c->car,
			      "effective", c->effective, "expiry", c->expiry, "imported",
			      c->imported);
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "issued_at", eng_json_time(c->issued_at));
	json_object_set_new(o, "distributed_at", eng_json_time(c->distributed_at));
	json_object_set_new(o, "sha256", eng_json_hex(c->der_hash, sizeof(c->der_hash)));
	return o;
}

json_t *eng_warnings(eng *e, const pol_decision *d, const char *object)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < d->nwarnings; i++) {
		json_t *w = json_pack("{s:s, s:s}", "rule", d->warning[i].rule, "message",
				      d->warning[i].message);
		if (w == NULL)
			continue;
		if (!e->opts.json)
			fprintf(stderr, "%s: warning: %s (%s)\n", e->opts.prog, d->warning[i].message,
				d->warning[i].rule);
		char *txt = json_dumps(w, JSON_COMPACT | JSON_SORT_KEYS);
		/* a warning the officer saw is part of the record; failing to
		 * write it is reported but does not undo the decision */
		if (txt == NULL || db_audit(e->db, NULL, "policy.warning", object, txt, NULL) != EAC_OK)
			fprintf(stderr, "%s: could not audit the warning: %s\n", e->opts.prog,
				eac_err_detail(EAC_ERR_DB));
		free(txt);
		json_array_append_new(arr, w);
	}
	return arr;
}

eac_err eng_refusal(const pol_decision *d)
{
	return pol_decision_check(d);
}

eac_err eng_cert_obj(const db_cert *c, cvc_obj **obj)
{
	eac_err r = cvc_parse_cert(c->der, c->der_len, obj);
	if (r != EAC_OK)
		return eac_fail_prefix(r, "certificate %s in the database: ", c->chr);
	return EAC_OK;
}
