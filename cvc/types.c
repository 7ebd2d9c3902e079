/* SPDX-License-Identifier: Apache-2.0 */
/* Names, sizes, references, rights and dates of the shared CV types. */

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/obj_mac.h>

#include "cvc/cvc.h"

/* ---- algorithms ---- */

static const struct {
	const char *name;
	unsigned hash_bits;
} algs[CVC_ALG__COUNT] = {
	[CVC_ALG_RSA_V15_SHA1] = { "RSA-v1.5-SHA-1", 160 },
	[CVC_ALG_RSA_V15_SHA256] = { "RSA-v1.5-SHA-256", 256 },
	[CVC_ALG_RSA_PSS_SHA1] = { "RSA-PSS-SHA-1", 160 },
	[CVC_ALG_RSA_PSS_SHA256] = { "RSA-PSS-SHA-256", 256 },
	[CVC_ALG_RSA_V15_SHA512] = { "RSA-v1.5-SHA-512", 512 },
	[CVC_ALG_RSA_PSS_SHA512] = { "RSA-PSS-SHA-512", 512 },
	[CVC_ALG_ECDSA_SHA1] = { "ECDSA-SHA-1", 160 },
	[CVC_ALG_ECDSA_SHA224] = { "ECDSA-SHA-224", 224 },
	[CVC_ALG_ECDSA_SHA256] = { "ECDSA-SHA-256", 256 },
	[CVC_ALG_ECDSA_SHA384] = { "ECDSA-SHA-384", 384 },
	[CVC_ALG_ECDSA_SHA512] = { "ECDSA-SHA-512", 512 },
};

const char *cvc_alg_name(cvc_alg alg)
{
	return (unsigned)alg < CVC_ALG__COUNT ? algs[alg].name : NULL;
}

/* "ECDSA-SHA-256", "ecdsa_sha256" and "ECDSA_SHA_256" all name one scheme */
static void squash(const char *in, char *out, size_t outlen)
{
	size_t j = 0;
	for (; *in && j + 1 < outlen; in++)
		if (*in != '-' && *in != '_' && *in != '.')
			out[j++] = (char)tolower((unsigned char)*in);
	out[j] = '\0';
}

cvc_alg cvc_alg_from_name(const char *name)
{
	char want[32], have[32];
	squash(name, want, sizeof(want));
	for (int a = 1; a < CVC_ALG__COUNT; a++) {
		squash(algs[a].name, have, sizeof(have));
		if (strcmp(want, have) == 0)
			return (cvc_alg)a;
	}
	return CVC_ALG_NONE;
}

int cvc_alg_is_ec(cvc_alg alg)
{
	return alg >= CVC_ALG_ECDSA_SHA1 && alg <= CVC_ALG_ECDSA_SHA512;
}

int cvc_alg_is_rsa(cvc_alg alg)
{
	return alg >= CVC_ALG_RSA_V15_SHA1 && alg <= CVC_ALG_RSA_PSS_SHA512;
}

int cvc_alg_is_pss(cvc_alg alg)
{
	return alg == CVC_ALG_RSA_PSS_SHA1 || alg == CVC_ALG_RSA_PSS_SHA256 ||
	       alg == CVC_ALG_RSA_PSS_SHA512;
}

unsigned cvc_alg_hash_bits(cvc_alg alg)
{
	return (unsigned)alg < CVC_ALG__COUNT ? algs[alg].hash_bits : 0;
}

/* ---- curves ---- */

static const struct {
	const char *name;
	const char *alias1, *alias2;
	unsigned bits;
	int nid;
} curves[CVC_CURVE__COUNT] = {
	[CVC_CURVE_BP256R1] = { "brainpoolP256r1", NULL, NULL, 256, NID_brainpoolP256r1 },
	[CVC_CURVE_BP384R1] = { "brainpoolP384r1", NULL, NULL, 384, NID_brainpoolP384r1 },
	[CVC_CURVE_BP512R1] = { "brainpoolP512r1", NULL, NULL, 512, NID_brainpoolP512r1 },
	[CVC_CURVE_P256] = { "P-256", "prime256v1", "secp256r1", 256, NID_X9_62_prime256v1 },
	[CVC_CURVE_P384] = { "P-384", "secp384r1", NULL, 384, NID_secp384r1 },
};

const char *cvc_curve_name(cvc_curve c)
{
	return (unsigned)c < CVC_CURVE__COUNT ? curves[c].name : NULL;
}

cvc_curve cvc_curve_from_name(const char *name)
{
	for (int c = 1; c < CVC_CURVE__COUNT; c++)
		if (strcasecmp(name, curves[c].name) == 0 ||
		    (curves[c].alias1 && strcasecmp(name, curves[c].alias1) == 0) ||
		    (curves[c].alias2 && strcasecmp(name, curves[c].alias2) == 0))
			return (cvc_curve)c;
	return CVC_CURVE_NONE;
}

unsigned cvc_curve_bits(cvc_curve c)
{
	return (unsigned)c < CVC_CURVE__COUNT ? curves[c].bits : 0;
}

int cvc_curve_nid(cvc_curve c)
{
	return (unsigned)c < CVC_CURVE__COUNT ? curves[c].nid : 0;
}

/* ---- CHAT types, roles and rights ---- */

const char *cvc_chat_type_name(cvc_chat_type t)
{
	switch (t) {
	case CVC_CHAT_IS: return "IS";
	case CVC_CHAT_AT: return "AT";
	case CVC_CHAT_ST: return "ST";
	default: return NULL;
	}
}

cvc_chat_type cvc_chat_type_from_name(const char *name)
{
	if (strncasecmp(name, "id-", 3) == 0)
		name += 3;
	if (strcasecmp(name, "IS") == 0)
		return CVC_CHAT_IS;
	if (strcasecmp(name, "AT") == 0)
		return CVC_CHAT_AT;
	if (strcasecmp(name, "ST") == 0)
		return CVC_CHAT_ST;
	return CVC_CHAT_NONE;
}

const char *cvc_role_name(cvc_role r)
{
	switch (r) {
	case CVC_ROLE_CVCA: return "cvca";
	case CVC_ROLE_DV_DOMESTIC: return "dv_domestic";
	case CVC_ROLE_DV_FOREIGN: return "dv_foreign";
	case CVC_ROLE_TERMINAL: return "terminal";
	}
	return "?";
}

/*
 * A right is a bit number counted from the least significant bit of the
 * last octet: for id-AT bit 39 is the MSB of octet 0 ([CVF §2.3]). Role
 * bits (the top two of octet 0) are never rights.
 */
typedef struct right {
	const char *name;
	unsigned bit;
} right;

static const right is_rights[] = { { "dg3", 0 }, { "dg4", 1 }, { NULL, 0 } };
static const right st_rights[] = { { "sig", 0 }, { "qsig", 1 }, { NULL, 0 } };
static const right at_special[] = {
	{ "age", 0 },	     { "community", 1 },    { "ri", 2 },	     { "privileged", 3 },
	{ "can", 4 },	     { "pin", 5 },	    { "install-cert", 6 }, { "install-qcert", 7 },
	{ NULL, 0 },
};

static uint8_t chat_len(cvc_chat_type t)
{
	return t == CVC_CHAT_AT ? 5 : (t == CVC_CHAT_IS || t == CVC_CHAT_ST) ? 1 : 0;
}

/* Bit number of a right's name for type t; -1 if unknown. */
static int right_bit(cvc_chat_type t, const char *name, size_t n)
{
	char buf[24];
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, name, n);
	buf[n] = '\0';
	const right *tab = t == CVC_CHAT_IS ? is_rights : t == CVC_CHAT_ST ? st_rights : at_special;
	for (; tab->name; tab++)
		if (strcasecmp(tab->name, buf) == 0)
			return (int)tab->bit;
	if (t == CVC_CHAT_AT) {
		unsigned dg;
		char end;
		if (sscanf(buf, "dg%u%c", &dg, &end) == 1 && dg >= 1 && dg <= 21)
			return (int)(8 + dg - 1);
		if (sscanf(buf, "wdg%u%c", &dg, &end) == 1 && dg >= 17 && dg <= 21)
			return (int)(37 - (dg - 17));
	}
	return -1;
}

static void bit_name(cvc_chat_type t, unsigned bit, char *out, size_t outlen)
{
	const right *tab = t == CVC_CHAT_IS ? is_rights : t == CVC_CHAT_ST ? st_rights : at_special;
	for (; tab->name; tab++)
		if (tab->bit == bit) {
			snprintf(out, outlen, "%s", tab->name);
			return;
		}
	if (t == CVC_CHAT_AT && bit >= 8 && bit <= 28)
		snprintf(out, outlen, "dg%u", bit - 8 + 1);
	else if (t == CVC_CHAT_AT && bit >= 33 && bit <= 37)
		snprintf(out, outlen, "wdg%u", 17 + (37 - bit));
	else
		snprintf(out, outlen, "rfu%u", bit);
}

eac_err cvc_rights_parse(cvc_chat_type t, const char *list, uint8_t auth[CVC_CHAT_MAX],
			 uint8_t *len)
{
	uint8_t n = chat_len(t);
	if (n == 0)
		return eac_fail(EAC_ERR_USAGE, "unknown terminal type");
	memset(auth, 0, CVC_CHAT_MAX);
	if (strcmp(list, "") == 0 || strcasecmp(list, "none") == 0) {
		*len = n;
		return EAC_OK;
	}
	for (const char *p = list;;) {
		const char *comma = strchr(p, ',');
		size_t k = comma ? (size_t)(comma - p) : strlen(p);
		int bit = right_bit(t, p, k);
		if (bit < 0)
			return eac_fail(EAC_ERR_USAGE, "unknown access right '%.*s' for id-%s",
					(int)(k > 24 ? 24 : k), p, cvc_chat_type_name(t));
		auth[n - 1 - bit / 8] |= (uint8_t)(1u << (bit % 8));
		if (!comma)
			break;
		p = comma + 1;
	}
	*len = n;
	return EAC_OK;
}

void cvc_rights_format(const cvc_chat *c, char *out, size_t outlen)
{
	size_t used = 0;
	if (outlen == 0)
		return;
	out[0] = '\0';
	unsigned nbits = c->len * 8u;
	for (unsigned bit = 0; bit + 2 < nbits; bit++) { /* top two bits: role */
		if (!(c->auth[c->len - 1 - bit / 8] & (1u << (bit % 8))))
			continue;
		char name[24];
		bit_name(c->type, bit, name, sizeof(name));
		int w = snprintf(out + used, outlen - used, "%s%s", used ? "," : "", name);
		if (w < 0 || (size_t)w >= outlen - used)
			return;
		used += (size_t)w;
	}
}

int cvc_chat_rights_subset(const cvc_chat *sub, const cvc_chat *super)
{
	if (sub->type != super->type || sub->len != super->len || sub->len == 0)
		return 0;
	for (unsigned i = 0; i < sub->len; i++) {
		uint8_t mask = i == 0 ? 0x3f : 0xff; /* role bits are not rights */
		if ((sub->auth[i] & mask) & ~super->auth[i])
			return 0;
	}
	return 1;
}

/* ---- references ---- */

eac_err cvc_ref_set(cvc_ref *ref, const char *s, size_t len)
{
	if (len < CVC_REF_MIN || len > CVC_REF_MAX)
		return eac_fail(EAC_ERR_MALFORMED,
				"reference of %zu characters; a CHR/CAR has 7 to 16 (TR-03110 A.6.1)",
				len);
	for (size_t i = 0; i < 2; i++)
		if (s[i] < 'A' || s[i] > 'Z')
			return eac_fail(EAC_ERR_MALFORMED,
					"reference must start with an ISO 3166-1 alpha-2 country code");
	for (size_t i = 2; i < len - 5; i++) {
		uint8_t c = (uint8_t)s[i];
		if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
			return eac_fail(EAC_ERR_MALFORMED,
					"reference mnemonic has a control character (0x%02x) at position %zu",
					c, i);
	}
	for (size_t i = len - 5; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z')))
			return eac_fail(EAC_ERR_MALFORMED,
					"reference sequence number must be 5 characters 0-9/A-Z");
	memcpy(ref->s, s, len);
	ref->s[len] = '\0';
	ref->len = (uint8_t)len;
	return EAC_OK;
}

void cvc_ref_country(const cvc_ref *ref, char out[3])
{
	memcpy(out, ref->s, 2);
	out[2] = '\0';
}

void cvc_ref_mnemonic(const cvc_ref *ref, char out[10])
{
	size_t n = ref->len >= 7 ? ref->len - 7u : 0;
	memcpy(out, ref->s + 2, n);
	out[n] = '\0';
}

void cvc_ref_sequence(const cvc_ref *ref, char out[6])
{
	size_t off = ref->len >= 5 ? ref->len - 5u : 0;
	memcpy(out, ref->s + off, 5);
	out[5] = '\0';
}

/* ---- dates ---- */

static int leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_days(unsigned y, unsigned m)
{
	static const uint8_t d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && leap(y) ? 29 : d[m - 1];
}

int cvc_date_valid(const cvc_date *d)
{
	return d->year >= 2000 && d->year <= 2099 && d->month >= 1 && d->month <= 12 &&
	       d->day >= 1 && d->day <= month_days(d->year, d->month);
}

int cvc_date_cmp(const cvc_date *a, const cvc_date *b)
{
	uint32_t x = (uint32_t)a->year << 16 | (uint32_t)a->month << 8 | a->day;
	uint32_t y = (uint32_t)b->year << 16 | (uint32_t)b->month << 8 | b->day;
	return x < y ? -1 : x > y;
}

int64_t cvc_date_to_days(const cvc_date *d)
{
	/* Howard Hinnant's days_from_civil */
	int64_t y = (int64_t)d->year - (d->month <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned m = d->month;
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d->day - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void cvc_date_from_days(int64_t z, cvc_date *out)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;
	out->year = (uint16_t)(y + (m <= 2));
	out->month = (uint8_t)m;
	out->day = (uint8_t)d;
}

void cvc_date_from_time(int64_t t, cvc_date *out)
{
	int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	cvc_date_from_days(days, out);
}

void cvc_date_format(const cvc_date *d, char out[11])
{
	snprintf(out, 11, "%04u-%02u-%02u", (unsigned)d->year % 10000, (unsigned)d->month % 100,
		 (unsigned)d->day % 100);
}

eac_err cvc_date_parse(const char *s, cvc_date *out)
{
	unsigned y, m, d;
	int n = 0;
	if (strlen(s) != 10 || sscanf(s, "%4u-%2u-%2u%n", &y, &m, &d, &n) != 3 || n != 10 ||
	    s[4] != '-' || s[7] != '-')
		return eac_fail(EAC_ERR_USAGE, "'%s' is not a date YYYY-MM-DD", s);
	cvc_date t = { (uint16_t)y, (uint8_t)m, (uint8_t)d };
	if (!cvc_date_valid(&t))
		return eac_fail(EAC_ERR_USAGE, "'%s' is not a valid date in 2000..2099", s);
	*out = t;
	return EAC_OK;
}
