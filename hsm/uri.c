/* SPDX-License-Identifier: Apache-2.0 */
/* PKCS#11 URIs (RFC 7512): strict parsing and formatting. */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hsm/internal.h"

typedef enum {
	ATTR_STR, /* text, no NUL */
	ATTR_ID,  /* bytes */
	ATTR_SLOT_ID,
	ATTR_VERSION,
	ATTR_TYPE,
} attr_kind;

/* The path attributes of RFC 7512 §2.3 this appliance understands, in the
 * order hsm_uri_format() writes them. */
static const struct {
	const char *name;
	unsigned bit;
	attr_kind kind;
	size_t off;  /* of the field in hsm_uri */
	size_t size; /* of the field (strings: max length + 1) */
} attrs[] = {
	{ "library-manufacturer", HSM_URI_HAS_LIB_MANUFACTURER, ATTR_STR,
	  offsetof(hsm_uri, lib_manufacturer), sizeof(((hsm_uri *)0)->lib_manufacturer) },
	{ "library-description", HSM_URI_HAS_LIB_DESCRIPTION, ATTR_STR,
	  offsetof(hsm_uri, lib_description), sizeof(((hsm_uri *)0)->lib_description) },
	{ "library-version", HSM_URI_HAS_LIB_VERSION, ATTR_VERSION, 0, 0 },
	{ "slot-manufacturer", HSM_URI_HAS_SLOT_MANUFACTURER, ATTR_STR,
	  offsetof(hsm_uri, slot_manufacturer), sizeof(((hsm_uri *)0)->slot_manufacturer) },
	{ "slot-description", HSM_URI_HAS_SLOT_DESCRIPTION, ATTR_STR,
	  offsetof(hsm_uri, slot_description), sizeof(((hsm_uri *)0)->slot_description) },
	{ "slot-id", HSM_URI_HAS_SLOT_ID, ATTR_SLOT_ID, 0, 0 },
	{ "model", HSM_URI_HAS_MODEL, ATTR_STR, offsetof(hsm_uri, model),
	  sizeof(((hsm_uri *)0)->model) },
	{ "manufacturer", HSM_URI_HAS_MANUFACTURER, ATTR_STR, offsetof(hsm_uri, manufacturer),
	  sizeof(((hsm_uri *)0)->manufacturer) },
	{ "serial", HSM_URI_HAS_SERIAL, ATTR_STR, offsetof(hsm_uri, serial),
	  sizeof(((hsm_uri *)0)->serial) },
	{ "token", HSM_URI_HAS_TOKEN, ATTR_STR, offsetof(hsm_uri, token),
	  sizeof(((hsm_uri *)0)->token) },
	{ "id", HSM_URI_HAS_ID, ATTR_ID, 0, 0 },
	{ "object", HSM_URI_HAS_OBJECT, ATTR_STR, offsetof(hsm_uri, object),
	  sizeof(((hsm_uri *)0)->object) },
	{ "type", HSM_URI_HAS_TYPE, ATTR_TYPE, 0, 0 },
};

static const char *const type_names[] = {
	[HSM_URI_TYPE_PRIVATE] = "private", [HSM_URI_TYPE_PUBLIC] = "public",
	[HSM_URI_TYPE_CERT] = "cert",       [HSM_URI_TYPE_SECRET_KEY] = "secret-key",
	[HSM_URI_TYPE_DATA] = "data",
};

static int is_unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* RFC 7512 pk11-pchar: unreserved / pct-encoded / ":" / "[" / "]" / "@" /
 * "!" / "$" / "'" / "(" / ")" / "*" / "+" / "," / "=" / "&" */
static int is_pchar(unsigned char c)
{
	return is_unreserved(c) || (c != '\0' && strchr(":[]@!$'()*+,=&", c) != NULL);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode value[0..len) into out (at most max bytes). */
static eac_err pct_decode(const char *name, const char *v, size_t len, uint8_t *out, size_t max,
			  size_t *outlen)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];
		int b;
		if (c == '%') {
			int hi = i + 2 < len ? hexval(v[i + 1]) : -1;
			int lo = i + 2 < len ? hexval(v[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return eac_fail(EAC_ERR_CONFIG,
						"PKCS#11 URI: attribute '%s': '%%' must be followed by two hex digits",
						name);
			b = hi << 4 | lo;
			i += 2;
		} else if (is_pchar(c)) {
			b = c;
		} else {
			return eac_fail(EAC_ERR_CONFIG,
					"PKCS#11 URI: attribute '%s': character 0x%02x must be percent-encoded",
					name, c);
		}
		if (n == max)
			return eac_fail(EAC_ERR_CONFIG,
					"PKCS#11 URI: attribute '%s' is longer than %zu bytes", name, max);
		out[n++] = (uint8_t)b;
	}
	*outlen = n;
	return EAC_OK;
}

static eac_err parse_attr(hsm_uri *u, const char *a, size_t alen)
{
	const char *eq = memchr(a, '=', alen);
	uint8_t buf[HSM_URI_MAX];
	size_t blen = 0;
	eac_err r;

	if (eq == NULL)
		return eac_fail(EAC_ERR_CONFIG, "PKCS#11 URI: '%.*s' is not NAME=VALUE", (int)alen, a);
	size_t nlen = (size_t)(eq - a);
	const char *v = eq + 1;
	size_t vlen = alen - nlen - 1;

	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		if (strlen(attrs[i].name) != nlen || strncmp(attrs[i].name, a, nlen) != 0)
			continue;
		const char *name = attrs[i].name;
		if (u->has & attrs[i].bit)
			return eac_fail(EAC_ERR_CONFIG, "PKCS#11 URI: attribute '%s' given twice", name);
		if ((r = pct_decode(name, v, vlen, buf, sizeof(buf) - 1, &blen)) != EAC_OK)
			return r;
		buf[blen] = '\0';
		switch (attrs[i].kind) {
		case ATTR_STR:
			if (memchr(buf, '\0', blen) != NULL)
				return eac_fail(EAC_ERR_CONFIG, "PKCS#11 URI: attribute '%s' contains a NUL byte",
						name);
			if (blen + 1 > attrs[i].size)
				return eac_fail(EAC_ERR_CONFIG,
						"PKCS#11 URI: attribute '%s' is longer than %zu bytes", name,
						attrs[i].size - 1);
			memcpy((char *)u + attrs[i].off, buf, blen + 1);
			break;
		case ATTR_ID:
			if (blen == 0 || blen > HSM_URI_ID_MAX)
				return eac_fail(EAC_ERR_CONFIG,
						"PKCS#11 URI: attribute 'id' must be 1 to %d bytes", HSM_URI_ID_MAX);
			memcpy(u->id, buf, blen);
			u->id_len = blen;
			break;
		case ATTR_SLOT_ID: {
			char *end;
			errno = 0;
			unsigned long long id = strtoull((char *)buf, &end, 10);
			if (blen == 0 || !isdigit(buf[0]) || *end != '\0' || errno != 0 || id > ULONG_MAX)
				return eac_fail(EAC_ERR_CONFIG,
						"PKCS#11 URI: slot-id '%s' is not a decimal number", (char *)buf);
			u->slot_id = (unsigned long)id;
			break;
		}
		case ATTR_VERSION: {
			unsigned maj = 0, min = 0;
			int n = 0;
			if (sscanf((char *)buf, "%3u%n", &maj, &n) != 1 || n == 0 || !isdigit(buf[0]))
				goto badver;
			if (buf[n] == '.') {
				int m = 0;
				if (!isdigit(buf[n + 1]) || sscanf((char *)buf + n + 1, "%3u%n", &min, &m) != 1)
					goto badver;
				n += 1 + m;
			}
			if (buf[n] != '\0' || maj > 255 || min > 255)
				goto badver;
			u->lib_ver_major = maj;
			u->lib_ver_minor = min;
			break;
badver:
			return eac_fail(EAC_ERR_CONFIG,
					"PKCS#11 URI: library-version '%s' is not M or M.N", (char *)buf);
		}
		case ATTR_TYPE: {
			hsm_uri_type t = HSM_URI_TYPE_ANY;
			for (int k = HSM_URI_TYPE_PRIVATE; k <= HSM_URI_TYPE_DATA; k++)
				if (strcmp((char *)buf, type_names[k]) == 0)
					t = (hsm_uri_type)k;
			if (t == HSM_URI_TYPE_ANY)
				return eac_fail(EAC_ERR_CONFIG, "PKCS#11 URI: unknown type '%s'", (char *)buf);
			u->type = t;
			break;
		}
		}
		u->has |= attrs[i].bit;
		return EAC_OK;
	}
	return eac_fail(EAC_ERR_CONFIG, "PKCS#11 URI: unknown attribute '%.*s'", (int)nlen, a);
}

static eac_err parse_query(const char *q, size_t len)
{
	/* Only the four query attributes of RFC 7512 exist; none is taken. */
	const char *eq = memchr(q, '=', len);
	size_t nlen = eq ? (size_t)(eq - q) : len;
	if ((nlen == 9 && strncmp(q, "pin-value", 9) == 0) ||
	    (nlen == 10 && strncmp(q, "pin-source", 10) == 0))
		return eac_fail(EAC_ERR_CONFIG,
				"PKCS#11 URI: '%.*s' refused: a PIN never comes from a URI (use a PIN file of mode 0600, --pin-fd or the prompt)",
				(int)nlen, q);
	if ((nlen == 11 && strncmp(q, "module-name", 11) == 0) ||
	    (nlen == 11 && strncmp(q, "module-path", 11) == 0))
		return eac_fail(EAC_ERR_CONFIG,
				"PKCS#11 URI: '%.*s' refused: the module is set by the configuration's token.module",
				(int)nlen, q);
	return eac_fail(EAC_ERR_CONFIG, "PKCS#11 URI: unknown query attribute '%.*s'", (int)nlen, q);
}

eac_err hsm_uri_parse(const char *s, hsm_uri *out)
{
	hsm_uri u;
	eac_err r;

	memset(&u, 0, sizeof(u));
	if (s == NULL || strncasecmp(s, "pkcs11:", 7) != 0)
		return eac_fail(EAC_ERR_CONFIG, "'%s' is not a PKCS#11 URI (pkcs11:...)",
				s ? s : "(null)");
	size_t total = strlen(s);
	if (total > HSM_URI_MAX)
		return eac_fail(EAC_ERR_CONFIG, "PKCS#11 URI longer than %d characters", HSM_URI_MAX);
	const char *p = s + 7;
	const char *query = strchr(p, '?');
	const char *end = query ? query : s + total;

	while (p < end) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *aend = semi ? semi : end;
		if (aend == p)
			return eac_fail(EAC_ERR_CONFIG, "PKCS#11 URI: empty attribute in '%s'", s);
		if ((r = parse_attr(&u, p, (size_t)(aend - p))) != EAC_OK)
			return r;
		p = semi ? semi + 1 : end;
		if (semi != NULL && p == end)
			return eac_fail(EAC_ERR_CONFIG, "PKCS#11 URI: trailing ';' in '%s'", s);
	}
	if (query != NULL) {
		const char *q = query + 1;
		const char *qend = s + total;
		if (q == qend)
			return eac_fail(EAC_ERR_CONFIG, "PKCS#11 URI: empty query in '%s'", s);
		const char *amp = memchr(q, '&', (size_t)(qend - q));
		return parse_query(q, (size_t)((amp ? amp : qend) - q));
	}
	*out = u;
	return EAC_OK;
}

/* Append `len` bytes percent-encoded (all but unreserved). */
static int put_pct(char *out, size_t outlen, size_t *pos, const uint8_t *v, size_t len, int all)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < len; i++) {
		if (!all && is_unreserved(v[i])) {
			if (*pos + 1 >= outlen)
				return 0;
			out[(*pos)++] = (char)v[i];
		} else {
			if (*pos + 3 >= outlen)
				return 0;
			out[(*pos)++] = '%';
			out[(*pos)++] = hex[v[i] >> 4];
			out[(*pos)++] = hex[v[i] & 15];
		}
	}
	out[*pos] = '\0';
	return 1;
}

static int put_str(char *out, size_t outlen, size_t *pos, const char *s)
{
	size_t n = strlen(s);
	if (*pos + n >= outlen)
		return 0;
	memcpy(out + *pos, s, n + 1);
	*pos += n;
	return 1;
}

eac_err hsm_uri_format(const hsm_uri *u, char *out, size_t outlen)
{
	size_t pos = 0;
	int first = 1;
	char num[32];

	if (outlen == 0 || !put_str(out, outlen, &pos, "pkcs11:"))
		goto toolong;
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		if (!(u->has & attrs[i].bit))
			continue;
		if ((!first && !put_str(out, outlen, &pos, ";")) ||
		    !put_str(out, outlen, &pos, attrs[i].name) || !put_str(out, outlen, &pos, "="))
			goto toolong;
		first = 0;
		int ok = 1;
		switch (attrs[i].kind) {
		case ATTR_STR: {
			const char *v = (const char *)u + attrs[i].off;
			ok = put_pct(out, outlen, &pos, (const uint8_t *)v, strlen(v), 0);
			break;
		}
		case ATTR_ID:
			ok = put_pct(out, outlen, &pos, u->id, u->id_len, 1);
			break;
		case ATTR_SLOT_ID:
			snprintf(num, sizeof(num), "%lu", u->slot_id);
			ok = put_str(out, outlen, &pos, num);
			break;
		case ATTR_VERSION:
			snprintf(num, sizeof(num), "%u.%u", u->lib_ver_major, u->lib_ver_minor);
			ok = put_str(out, outlen, &pos, num);
			break;
		case ATTR_TYPE:
			ok = u->type >= HSM_URI_TYPE_PRIVATE && u->type <= HSM_URI_TYPE_DATA &&
			     put_str(out, outlen, &pos, type_names[u->type]);
			break;
		}
		if (!ok)
			goto toolong;
	}
	return EAC_OK;
toolong:
	if (outlen > 0)
		out[0] = '\0';
	return eac_fail(EAC_ERR_INTERNAL, "PKCS#11 URI does not fit in %zu bytes", outlen);
}
