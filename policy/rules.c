/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The individual rules: algorithms and key strength, rights and roles,
 * naming, the Commission's 90 days, key ceremonies, rollover and
 * deadlines. Each is a pure function of its arguments.
 */

#include <stdio.h>
#include <string.h>

#include "policy/internal.h"

/* ---- keys ---- */

unsigned pol_rsa_bits(const cvc_pubkey *key)
{
	const uint8_t *p = key->n.ptr;
	size_t len = key->n.len;
	if (p == NULL)
		return 0;
	while (len > 0 && *p == 0) {
		p++;
		len--;
	}
	if (len == 0)
		return 0;
	unsigned bits = (unsigned)(len - 1) * 8;
	for (uint8_t top = p[0]; top; top >>= 1)
		bits++;
	return bits;
}

static int bytes_equal(cvc_bytes a, cvc_bytes b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

int pol_key_equal(const cvc_pubkey *a, const cvc_pubkey *b)
{
	if (cvc_alg_is_ec(a->alg) != cvc_alg_is_ec(b->alg))
		return 0;
	if (cvc_alg_is_ec(a->alg))
		return a->point.len > 0 && bytes_equal(a->point, b->point);
	return a->n.len > 0 && bytes_equal(a->n, b->n) && bytes_equal(a->e, b->e);
}

void pol_key_describe(const cvc_pubkey *key, cvc_curve curve, char *out, size_t outlen)
{
	if (cvc_alg_is_rsa(key->alg))
		snprintf(out, outlen, "RSA %u bits", pol_rsa_bits(key));
	else
		snprintf(out, outlen, "%s", cvc_curve_name(curve) ? cvc_curve_name(curve) : "unknown curve");
}

eac_err pol_check_scheme(const cvc_pubkey *key, cvc_curve curve, pol_decision *d)
{
	if (key == NULL || d == NULL || cvc_alg_name(key->alg) == NULL || key->alg == CVC_ALG_NONE)
		return eac_fail(EAC_ERR_USAGE, "pol_check_scheme: no key or no algorithm");
	const char *alg = cvc_alg_name(key->alg);
	unsigned hash = cvc_alg_hash_bits(key->alg);

	/* SHA-1 collisions are practical (2017); BSI TR-02102-1 lists no SHA-1
	 * signature scheme. A CV certificate lives up to 3 years: refuse. */
	if (hash == 160)
		return pol_refuse(d, POL_RULE_TR02102,
				  "the key's scheme %s uses SHA-1, which this appliance refuses for new certificates",
				  alg);
	if (cvc_alg_is_ec(key->alg)) {
		unsigned bits = cvc_curve_bits(curve);
		if (bits == 0)
			return eac_fail(EAC_ERR_USAGE, "pol_check_scheme: EC key without a known curve");
		if (hash > bits)
			return pol_refuse(d, POL_RULE_CURVES,
					  "the key's scheme %s uses a %u-bit hash with a %u-bit key on %s; the hash must not be longer than the key",
					  alg, hash, bits, cvc_curve_name(curve));
		return EAC_OK;
	}
	/* RSA: the encoded message must fit the modulus (RFC 8017 9.1.1 with
	 * salt = hash length per TR-03110-3 A.6.3.1; 9.2 with a DigestInfo of
	 * 19 + hLen octets) */
	unsigned mod = pol_rsa_bits(key);
	unsigned em_len = (mod + 6) / 8; /* ceil((modBits - 1) / 8) */
	unsigned h = hash / 8;
	unsigned need = cvc_alg_is_pss(key->alg) ? 2 * h + 2 : 19 + h + 11;
	if (mod == 0)
		return eac_fail(EAC_ERR_USAGE, "pol_check_scheme: RSA key without a modulus");
	if (em_len < need)
		return pol_refuse(d, POL_RULE_RSA,
				  "the key's scheme %s needs a modulus of at least %u bits; this key has %u",
				  alg, 8 * (need - 1) + 2, mod);
	return EAC_OK;
}

eac_err pol_check_national_algorithms(const pol_national *nat, const cvc_pubkey *key,
				      pol_decision *d)
{
	char list[128] = "";
	size_t used = 0;

	if (nat == NULL || key == NULL || d == NULL)
		return eac_fail(EAC_ERR_USAGE, "pol_check_national_algorithms: missing argument");
	if (cvc_alg_is_ec(key->alg)) {
		if ((unsigned)key->curve < CVC_CURVE__COUNT && key->curve != CVC_CURVE_NONE &&
		    (nat->curves & (1u << key->curve)))
			return EAC_OK;
		for (int c = 1; c < CVC_CURVE__COUNT; c++)
			if (nat->curves & (1u << c)) {
				int w = snprintf(list + used, sizeof(list) - used, "%s%s",
						 used ? ", " : "", cvc_curve_name((cvc_curve)c));
				if (w > 0 && (size_t)w < sizeof(list) - used)
					used += (size_t)w;
			}
		return pol_refuse(d, POL_RULE_CURVES,
				  "the curve %s is not allowed by the national policy (allowed: %s)",
				  cvc_curve_name(key->curve) ? cvc_curve_name(key->curve) : "(none)",
				  used ? list : "no curve");
	}
	if (!cvc_alg_is_rsa(key->alg))
		return eac_fail(EAC_ERR_USAGE, "pol_check_national_algorithms: key without algorithm");
	unsigned bits = pol_rsa_bits(key);
	for (size_t i = 0; i < nat->n_rsa_bits; i++) {
		if (nat->rsa_bits[i] == bits)
			return EAC_OK;
		int w = snprintf(list + used, sizeof(list) - used, "%s%u", used ? ", " : "",
				 nat->rsa_bits[i]);
		if (w > 0 && (size_t)w < sizeof(list) - used)
			used += (size_t)w;
	}
	return pol_refuse(d, POL_RULE_RSA,
			  "an RSA key of %u bits is not allowed by the national policy (allowed: %s)",
			  bits, used ? list : "no RSA size");
}

/*
 * CP-4.7b, "strong enough for the new validity period": security strength
 * by NIST SP 800-57 Part 1 Rev. 5, Table 2 (RSA 2048 = 112 bits, 3072 =
 * 128, 7680 = 192, 15360 = 256; EC = half the order's size) against its
 * Table 4 (112 bits acceptable through 2030, 128 bits beyond).
 */
static unsigned strength(const cvc_pubkey *key, cvc_curve curve)
{
	if (cvc_alg_is_ec(key->alg))
		return cvc_curve_bits(curve) / 2;
	unsigned bits = pol_rsa_bits(key);
	return bits >= 15360 ? 256 : bits >= 7680 ? 192 : bits >= 3072 ? 128 : bits >= 2048 ? 112 : 0;
}

eac_err pol_check_key_strength(const cvc_pubkey *key, cvc_curve curve, const cvc_date *expiry,
			       const char *whose, pol_decision *d)
{
	char desc[48], e[11];
	const cvc_date y2030 = { 2030, 12, 31 };

	if (key == NULL || expiry == NULL || d == NULL || !cvc_date_valid(expiry) ||
	    (!cvc_alg_is_ec(key->alg) && !cvc_alg_is_rsa(key->alg)))
		return eac_fail(EAC_ERR_USAGE, "pol_check_key_strength: missing argument");
	if (whose == NULL)
		whose = "the key";
	pol_key_describe(key, curve, desc, sizeof(desc));
	cvc_date_format(expiry, e);
	unsigned have = strength(key, curve);
	unsigned need = cvc_date_cmp(expiry, &y2030) > 0 ? 128 : 112;
	if (have < 112)
		return pol_refuse(d, "CP-4.7b",
				  "%s (%s) offers less than 112 bits of security and is not strong enough for any validity",
				  whose, desc);
	if (have < need)
		return pol_refuse(d, "CP-4.7b",
				  "%s (%s, %u-bit security) is not strong enough for a validity ending on %s: keys used after 2030 need 128-bit security",
				  whose, desc, have, e);
	if (cvc_alg_is_rsa(key->alg) && pol_rsa_bits(key) < 3000)
		pol_warn(d, POL_RULE_TR02102,
			 "%s (%s) is below the 3000-bit RSA that BSI recommends for new keys", whose,
			 desc);
	return EAC_OK;
}

/* ---- rights and roles (CP-1.3b, CP-4.5c) ---- */

static cvc_role role_for(pol_kind kind, int domestic)
{
	return kind == POL_KIND_CVCA ? CVC_ROLE_CVCA
	       : kind == POL_KIND_DV ? (domestic ? CVC_ROLE_DV_DOMESTIC : CVC_ROLE_DV_FOREIGN)
				     : CVC_ROLE_TERMINAL;
}

eac_err pol_rights(const pol_national *nat, pol_kind kind, int domestic,
		   const cvc_chat *issuer_chat, const cvc_chat *requested, cvc_chat *out,
		   pol_decision *d)
{
	char a[128], b[128];
	cvc_chat c;

	if (nat == NULL || out == NULL || d == NULL || (unsigned)kind >= POL_KIND__COUNT ||
	    (kind != POL_KIND_CVCA && issuer_chat == NULL))
		return eac_fail(EAC_ERR_USAGE, "pol_rights: missing argument");
	const char *type = cvc_chat_type_name(nat->terminal_type);

	if (issuer_chat != NULL) {
		if (issuer_chat->type != nat->terminal_type)
			return pol_refuse(d, "CP-4.5c",
					  "the issuer's certificate is for id-%s terminals, the national policy for id-%s; a chain keeps one terminal type",
					  cvc_chat_type_name(issuer_chat->type) ? cvc_chat_type_name(issuer_chat->type) : "?",
					  type);
		cvc_role ir = cvc_chat_role(issuer_chat);
		int ok = kind == POL_KIND_IS ? (ir == CVC_ROLE_DV_DOMESTIC || ir == CVC_ROLE_DV_FOREIGN)
					     : ir == CVC_ROLE_CVCA;
		if (!ok)
			return pol_refuse(d, "CP-4.5c",
					  "%s certificate is issued under a %s certificate; the issuer's CHAT has the role %s",
					  pol_kind_a(kind), kind == POL_KIND_IS ? "DV" : "CVCA",
					  cvc_role_name(ir));
	}

	if (requested != NULL) {
		if (requested->type != nat->terminal_type || requested->len == 0)
			return pol_refuse(d, "CP-4.5c",
					  "the requested rights are for id-%s; the national terminal type is id-%s",
					  cvc_chat_type_name(requested->type) ? cvc_chat_type_name(requested->type) : "?",
					  type);
		c = *requested;
		if (issuer_chat != NULL && !cvc_chat_rights_subset(&c, issuer_chat)) {
			cvc_rights_format(&c, a, sizeof(a));
			cvc_rights_format(issuer_chat, b, sizeof(b));
			return pol_refuse(d, "CP-1.3b",
					  "the requested rights %s are wider than the issuer's (%s); a certificate may narrow its issuer's rights, never widen them",
					  a[0] ? a : "none", b[0] ? b : "none");
		}
	} else {
		c = *pol_national_rights(nat, kind, domestic);
		if (issuer_chat != NULL && c.len == issuer_chat->len) {
			cvc_chat dropped = c;
			for (unsigned i = 0; i < c.len; i++) {
				uint8_t mask = i == 0 ? 0x3f : 0xff;
				c.auth[i] &= issuer_chat->auth[i] | (uint8_t)~mask;
				dropped.auth[i] &= (uint8_t)~issuer_chat->auth[i] & mask;
			}
			cvc_rights_format(&dropped, a, sizeof(a));
			if (a[0] != '\0')
				pol_warn(d, "CP-1.3b",
					 "default rights narrowed to the issuer's: %s dropped because the issuer's certificate does not carry them",
					 a);
		}
	}
	c.auth[0] = (uint8_t)((c.auth[0] & 0x3f) | (role_for(kind, domestic) << 6));
	*out = c;
	return EAC_OK;
}

/* ---- naming (CP-3.1) ---- */

int pol_same_holder(const cvc_ref *a, const cvc_ref *b)
{
	char ca[3], cb[3], ma[10], mb[10];
	cvc_ref_country(a, ca);
	cvc_ref_country(b, cb);
	cvc_ref_mnemonic(a, ma);
	cvc_ref_mnemonic(b, mb);
	return strcmp(ca, cb) == 0 && strcmp(ma, mb) == 0;
}

eac_err pol_check_naming(const pol_national *nat, pol_kind kind, const cvc_body *p,
			 const cvc_body *issuer, pol_decision *d)
{
	char cc[3], mn[10], icc[3];

	if (nat == NULL || p == NULL || d == NULL || (unsigned)kind >= POL_KIND__COUNT ||
	    (kind != POL_KIND_CVCA && issuer == NULL) || p->chr.len < CVC_REF_MIN)
		return eac_fail(EAC_ERR_USAGE, "pol_check_naming: missing argument");
	cvc_ref_country(&p->chr, cc);
	cvc_ref_mnemonic(&p->chr, mn);

	/* CP-3.1b: country (ISO 3166-1) + mnemonic + sequence */
	if (!pol_country_valid(cc))
		return pol_refuse(d, "CP-3.1b",
				  "the holder reference %s does not start with an ISO 3166-1 country code (%s is not a country)",
				  p->chr.s, cc);
	if (mn[0] == '\0')
		return pol_refuse(d, "CP-3.1b",
				  "the holder reference %s has no holder mnemonic; it must be country, mnemonic and sequence number",
				  p->chr.s);

	/* CP-3.1a: the CAR names the key that signs, the issuer's CHR */
	const char *want_car = issuer != NULL ? issuer->chr.s : p->chr.s;
	if (!p->has_car || strcmp(p->car.s, want_car) != 0) {
		if (issuer == NULL)
			return pol_refuse(d, "CP-3.1c",
					  "a self-signed CVCA certificate has CAR = CHR; here the CAR is %s and the CHR %s",
					  p->has_car ? p->car.s : "absent", p->chr.s);
		return pol_refuse(d, "CP-3.1a",
				  "the CAR %s does not name the issuer's key %s", p->has_car ? p->car.s : "(absent)",
				  issuer->chr.s);
	}

	/* CP-3.1c: who may be named by whom */
	if (issuer != NULL)
		cvc_ref_country(&issuer->chr, icc);
	switch (kind) {
	case POL_KIND_CVCA:
		if (strcmp(cc, nat->country) != 0)
			return pol_refuse(d, "CP-3.1c",
					  "a CVCA certificate names the national CVCA of %s; %s is of %s",
					  nat->country, p->chr.s, cc);
		if (issuer != NULL && !pol_same_holder(&issuer->chr, &p->chr))
			return pol_refuse(d, "CP-3.1c",
					  "a link certificate keeps the national CVCA identity: %s does not continue %s",
					  p->chr.s, issuer->chr.s);
		break;
	case POL_KIND_DV:
		if (strcmp(icc, nat->country) != 0 ||
		    (issuer->has_chat && cvc_chat_role(&issuer->chat) != CVC_ROLE_CVCA))
			return pol_refuse(d, "CP-3.1c",
					  "a DV certificate is issued by the CVCA of %s; %s is not that CVCA",
					  nat->country, issuer->chr.s);
		break;
	case POL_KIND_IS:
		if (strcmp(icc, nat->country) != 0)
			return pol_refuse(d, "CP-3.1c",
					  "an IS certificate is issued by a DV of %s; %s is not one", nat->country,
					  issuer->chr.s);
		if (strcmp(cc, nat->country) != 0)
			return pol_refuse(d, "CP-3.1c",
					  "an IS certificate names a national inspection system of %s; %s is of %s",
					  nat->country, p->chr.s, cc);
		break;
	default: break;
	}
	return EAC_OK;
}

/* ---- CP-5.4a ---- */

eac_err pol_check_commission_period(int64_t sent_at, int64_t now, int domestic, pol_decision *d)
{
	char a[21], b[21];
	const int64_t period = 90 * 86400;

	if (d == NULL)
		return eac_fail(EAC_ERR_USAGE, "pol_check_commission_period: no decision");
	if (sent_at <= 0) {
		if (!domestic)
			return pol_refuse(d, "CP-5.4a",
					  "the initial CVCA certificate has not been distributed to the Commission; foreign DV certificates may be issued 90 days after it is");
		pol_warn(d, "CP-5.4a",
			 "the initial CVCA certificate has not been distributed to the Commission yet; it must be, 90 days before foreign DVs can be served");
		return EAC_OK;
	}
	if (now >= sent_at + period)
		return EAC_OK;
	eac_time_iso(sent_at, a);
	eac_time_iso(sent_at + period, b);
	if (!domestic)
		return pol_refuse(d, "CP-5.4a",
				  "the initial CVCA certificate was distributed to the Commission on %s; foreign DV certificates may be issued from %s (90 days later)",
				  a, b);
	pol_warn(d, "CP-5.4a",
		 "the initial CVCA certificate reached the Commission on %s; other states may not trust it before %s",
		 a, b);
	return EAC_OK;
}

/* ---- CP-4.2.1 ---- */

eac_err pol_ceremony_officers(unsigned present, const pol_national *nat, pol_decision *d)
{
	if (nat == NULL || d == NULL)
		return eac_fail(EAC_ERR_USAGE, "pol_ceremony_officers: missing argument");
	if (present < nat->officers_min)
		return pol_refuse(d, "CP-4.2.1",
				  "a key ceremony needs at least %u officers under the national policy; %u %s present",
				  nat->officers_min, present, present == 1 ? "is" : "are");
	return EAC_OK;
}

/* ---- CP-5.4b ---- */

eac_err pol_rollover_status(const cvc_date *expiry, int successor_distributed, int64_t now,
			    unsigned lead_days, pol_rollover *out)
{
	if (expiry == NULL || out == NULL || !cvc_date_valid(expiry) || lead_days < 14 ||
	    lead_days > 3660)
		return eac_fail(EAC_ERR_USAGE, "pol_rollover_status: invalid expiry or lead time");
	int64_t e = cvc_date_to_days(expiry), today = pol_today(now);
	pol_rollover r;
	/* "at least 14 days before it expires", on dates: distributing on
	 * expiry - 14 is in time; expiry - 13 is late */
	cvc_date_from_days(e - lead_days, &r.due);
	cvc_date_from_days(e - 14, &r.last_day);
	r.days_left = e - today;
	r.state = successor_distributed   ? POL_ROLLOVER_DONE
		  : today > e - 14	  ? POL_ROLLOVER_LATE
		  : today >= e - lead_days ? POL_ROLLOVER_DUE
					   : POL_ROLLOVER_OK;
	*out = r;
	return EAC_OK;
}

const char *pol_rollover_state_name(pol_rollover_state s)
{
	switch (s) {
	case POL_ROLLOVER_OK: return "ok";
	case POL_ROLLOVER_DONE: return "done";
	case POL_ROLLOVER_DUE: return "due";
	case POL_ROLLOVER_LATE: return "late";
	}
	return "?";
}

eac_err pol_check_rollover(const pol_national *nat, const cvc_body *cvca, int successor_distributed,
			   int64_t now, pol_decision *d)
{
	char e[11], due[11], last[11];
	pol_rollover ro;
	eac_err r;

	if (nat == NULL || cvca == NULL || d == NULL || !cvca->has_dates)
		return eac_fail(EAC_ERR_USAGE, "pol_check_rollover: missing argument");
	if ((r = pol_rollover_status(&cvca->expiry, successor_distributed, now,
				     nat->rollover_lead_days, &ro)) != EAC_OK)
		return r;
	cvc_date_format(&cvca->expiry, e);
	cvc_date_format(&ro.due, due);
	cvc_date_format(&ro.last_day, last);
	if (ro.state == POL_ROLLOVER_LATE)
		return pol_refuse(d, "CP-5.4b",
				  "the CVCA certificate %s expires on %s and no link certificate was distributed by %s, 14 days before; DV certificates are no longer issued under the old key",
				  cvca->chr.s, e, last);
	if (ro.state == POL_ROLLOVER_DUE)
		pol_warn(d, "CP-5.4b",
			 "CVCA rollover due since %s: the CVCA certificate %s expires on %s; distribute a link certificate by %s",
			 due, cvca->chr.s, e, last);
	return EAC_OK;
}

/* ---- CP-4.2.2, CP-5.4.2 ---- */

eac_err pol_deadline_classify(pol_deadline_kind kind, pol_authority auth, int64_t start,
			      int64_t now, int64_t margin_seconds, pol_deadline *out)
{
	pol_deadline dl;

	if (out == NULL || start < 0 || margin_seconds < 0 ||
	    (kind != POL_DEADLINE_PROCESSING && kind != POL_DEADLINE_DISTRIBUTION) ||
	    (auth != POL_AUTHORITY_CVCA && auth != POL_AUTHORITY_DV))
		return eac_fail(EAC_ERR_USAGE, "pol_deadline_classify: invalid argument");
	if (kind == POL_DEADLINE_PROCESSING)
		dl.hours = auth == POL_AUTHORITY_CVCA ? 72 : 24;
	else
		dl.hours = auth == POL_AUTHORITY_CVCA ? 24 : 48;
	snprintf(dl.rule, sizeof(dl.rule), "%s",
		 kind == POL_DEADLINE_PROCESSING && auth == POL_AUTHORITY_CVCA ? "CP-4.2.2" : "CP-5.4.2");
	dl.deadline = start + (int64_t)dl.hours * 3600;
	dl.remaining = dl.deadline - now;
	dl.status = dl.remaining < 0		  ? POL_OVERDUE
		    : dl.remaining <= margin_seconds ? POL_AT_RISK
						     : POL_ON_TIME;
	*out = dl;
	return EAC_OK;
}

const char *pol_deadline_status_name(pol_deadline_status s)
{
	switch (s) {
	case POL_ON_TIME: return "on time";
	case POL_AT_RISK: return "at risk";
	case POL_OVERDUE: return "overdue";
	}
	return "?";
}
