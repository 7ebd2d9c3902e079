/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The key ceremony (CP-4.2.1): pol_cvca_certificate (self-signed) and
 * pol_link_certificate (rollover). Baseline on 2026-11-23: two officers, a
 * new brainpoolP256r1 key with its domain parameters; for the link, the
 * current self-signed FICVCA00001 (valid to 2027-06-01) signs FICVCA00002.
 */

#include <stdio.h>
#include <string.h>

#include "tests/unit/policy/fixtures.h"

typedef struct ca_case {
	pol_national *nat;
	pol_cvca_facts f;
	cvc_pubkey key;
	cvc_body prev;
	cvc_chat rights;
	int link; /* test pol_link_certificate */
} ca_case;

static void baseline(ca_case *c, int link)
{
	memset(c, 0, sizeof(*c));
	c->link = link;
	c->nat = fx_nat();
	c->key = fx_ec(CVC_ALG_ECDSA_SHA256, CVC_CURVE_BP256R1, 1, 11);
	c->prev = fx_cert("FICVCA00001", "FICVCA00001",
			  fx_ec(CVC_ALG_ECDSA_SHA256, CVC_CURVE_BP256R1, 1, 10), CVC_CHAT_IS, 0xC3,
			  "2024-06-01", "2027-06-01");
	c->f.now = fx_time("2026-11-23T10:00:00Z");
	c->f.key = &c->key;
	c->f.chr = fx_ref(link ? "FICVCA00002" : "FICVCA00001");
	c->f.officers = 2;
	c->f.previous = link ? &c->prev : NULL;
}

static void set_nat(ca_case *c, const char *from, const char *to)
{
	pol_national_free(c->nat);
	c->nat = fx_nat_edit(from, to);
}

#define M(fn) static void fn(ca_case *c)
M(m_none) { (void)c; }
M(m_officers_3) { c->f.officers = 3; }
M(m_officers_1) { c->f.officers = 1; }
M(m_officers_3_of_4) { c->f.officers = 3; set_nat(c, "\"officers_min\": 2", "\"officers_min\": 4"); }
M(m_chr_se) { c->f.chr = fx_ref("SECVCA00001"); }
M(m_chr_ut) { c->f.chr = fx_ref("UTCVCA00001"); }
M(m_chr_no_mnemonic) { c->f.chr = fx_ref("FI00001"); }
M(m_no_params) { c->key.has_params = 0; }
M(m_p384) { c->key = fx_ec(CVC_ALG_ECDSA_SHA384, CVC_CURVE_P384, 1, 11); }
M(m_bp512_sha512) { c->key = fx_ec(CVC_ALG_ECDSA_SHA512, CVC_CURVE_BP512R1, 1, 11); }
M(m_bp256_sha512) { c->key.alg = CVC_ALG_ECDSA_SHA512; }
M(m_sha1) { c->key.alg = CVC_ALG_ECDSA_SHA1; }
M(m_curve_not_national) { set_nat(c, ", \"P-256\", \"P-384\"]", "]"); c->key = fx_ec(CVC_ALG_ECDSA_SHA256, CVC_CURVE_P256, 1, 11); }
M(m_rsa_3072) { c->key = fx_rsa(CVC_ALG_RSA_PSS_SHA256, 3072, 11); }
M(m_rsa_2048) { c->key = fx_rsa(CVC_ALG_RSA_V15_SHA256, 2048, 11); }
M(m_rsa_2048_2031) { m_rsa_2048(c); c->f.now = fx_time("2028-06-01T10:00:00Z"); }
M(m_rsa_2560) { c->key = fx_rsa(CVC_ALG_RSA_V15_SHA256, 2560, 11); }
M(m_days_181) { c->f.validity_days = 181; }
M(m_days_180) { c->f.validity_days = 180; }
M(m_days_1097) { c->f.validity_days = 1097; }
M(m_nat_max_2y) { set_nat(c, "\"default\": \"P3Y\", \"max\": \"P3Y\"", "\"default\": \"P2Y\", \"max\": \"P2Y\""); c->f.validity_days = 1000; }
M(m_2096) { c->f.now = fx_time("2096-12-31T10:00:00Z"); }
M(m_2097) { c->f.now = fx_time("2097-06-01T10:00:00Z"); }
M(m_leap) { c->f.now = fx_time("2028-02-29T10:00:00Z"); }
M(m_compromised) { c->f.key_facts.compromised = 1; }
M(m_certified) { c->f.key_facts.already_certified = 1; }
M(m_chr_in_use) { c->f.key_facts.chr_in_use = 1; }
M(m_rights_dg3) { c->rights = fx_chat(CVC_CHAT_IS, 0x01); c->f.rights = &c->rights; }
M(m_rights_at) { c->rights = fx_chat(CVC_CHAT_AT, 0x00); c->f.rights = &c->rights; }
/* self-signed with a previous CVCA certificate */
M(m_next_anchor) { c->f.previous = &c->prev; c->f.chr = fx_ref("FICVCA00002"); }
M(m_same_chr) { c->f.previous = &c->prev; }
M(m_lower_sequence) { c->f.previous = &c->prev; c->prev.chr = fx_ref("FICVCA00003"); c->prev.car = c->prev.chr; c->f.chr = fx_ref("FICVCA00002"); }
M(m_other_mnemonic) { c->f.previous = &c->prev; c->f.chr = fx_ref("FIROOT00002"); }
M(m_companion) {
	/* the link certificate FICVCA00002 just issued for this key */
	c->prev = fx_cert("FICVCA00001", "FICVCA00002", c->key, CVC_CHAT_IS, 0xC3, "2026-11-23", "2029-11-23");
	c->f.previous = &c->prev;
	c->f.chr = fx_ref("FICVCA00002");
	c->f.key_facts.already_certified = 1;
	c->f.key_facts.chr_in_use = 1;
}
M(m_companion_other_key) { m_companion(c); c->prev.key = fx_ec(CVC_ALG_ECDSA_SHA256, CVC_CURVE_BP256R1, 1, 12); }
M(m_sequence_alnum) { c->f.previous = &c->prev; c->prev.chr = fx_ref("FICVCA0000Z"); c->f.chr = fx_ref("FICVCA00010"); }
M(m_sequence_alnum_down) { c->f.previous = &c->prev; c->prev.chr = fx_ref("FICVCA000A0"); c->f.chr = fx_ref("FICVCA00099"); }
M(m_sequence_alnum_up) { c->f.previous = &c->prev; c->prev.chr = fx_ref("FICVCA00009"); c->f.chr = fx_ref("FICVCA0000A"); }
/* link */
M(l_same_key) { c->key = c->prev.key; }
M(l_same_chr) { c->f.chr = fx_ref("FICVCA00001"); }
M(l_lower) { c->f.chr = fx_ref("FICVCA00000"); }
M(l_mnemonic) { c->f.chr = fx_ref("FIROOT00002"); }
M(l_country) { c->f.chr = fx_ref("SECVCA00002"); }
M(l_bp384) { c->key = fx_ec(CVC_ALG_ECDSA_SHA384, CVC_CURVE_BP384R1, 1, 11); }
M(l_bp384_allowed) { l_bp384(c); c->f.allow_curve_change = 1; }
M(l_rsa) { c->key = fx_rsa(CVC_ALG_RSA_PSS_SHA256, 3072, 11); }
M(l_rsa_allowed) { l_rsa(c); c->f.allow_curve_change = 1; }
M(l_same_curve_allowed) { c->f.allow_curve_change = 1; }
M(l_prev_expired) { c->prev.expiry = fx_date("2026-11-20"); }
M(l_prev_10_days) { c->prev.expiry = fx_date("2026-12-03"); }
M(l_prev_14_days) { c->prev.expiry = fx_date("2026-12-07"); }
M(l_prev_role_dv) { c->prev.chat.auth[0] = 0x83; }
M(l_prev_type_at) { c->prev.chat = fx_chat(CVC_CHAT_AT, 0xC0); }
M(l_rights_wider) { c->prev.chat.auth[0] = 0xC1; }
#undef M

typedef struct row {
	const char *name;
	int link;
	void (*mut)(ca_case *c);
	const char *rule, *warn, *text, *expiry;
} row;

static const row rows[] = {
	{ "CVCA: self-signed, national defaults", 0, m_none, NULL, NULL, NULL, "2029-11-23" },
	{ "CVCA: three officers", 0, m_officers_3, NULL, NULL, NULL, NULL },
	{ "CVCA: P-384 with ECDSA-SHA-384", 0, m_p384, NULL, NULL, NULL, NULL },
	{ "CVCA: brainpoolP512r1 with ECDSA-SHA-512", 0, m_bp512_sha512, NULL, NULL, NULL, NULL },
	{ "CVCA: RSA-PSS 3072", 0, m_rsa_3072, NULL, NULL, NULL, NULL },
	{ "CVCA: RSA 2048 to 2029 (warning)", 0, m_rsa_2048, NULL, "TR-02102-1", "the new CVCA key (RSA 2048 bits)", "2029-11-23" },
	{ "CVCA: validity 181 days = 6 months", 0, m_days_181, NULL, NULL, NULL, "2027-05-23" },
	{ "CVCA: from 31 December 2096 to 2099-12-31", 0, m_2096, NULL, NULL, NULL, "2099-12-31" },
	{ "CVCA: from 29 February 2028 to 28 February 2031", 0, m_leap, NULL, NULL, NULL, "2031-02-28" },
	{ "CVCA: requested rights dg3", 0, m_rights_dg3, NULL, NULL, NULL, NULL },
	{ "CVCA: next self-signed anchor after FICVCA00001", 0, m_next_anchor, NULL, NULL, NULL, NULL },
	{ "CVCA: self-signed companion of a link certificate", 0, m_companion, NULL, NULL, NULL, NULL },
	{ "CVCA: sequence 0000Z -> 00010 (base 36)", 0, m_sequence_alnum, NULL, NULL, NULL, NULL },
	{ "CVCA refused: sequence 000A0 -> 00099", 0, m_sequence_alnum_down, "CP-3.1b", NULL, "does not follow FICVCA000A0", NULL },
	{ "CVCA: sequence 00009 -> 0000A", 0, m_sequence_alnum_up, NULL, NULL, NULL, NULL },
	{ "CVCA refused: one officer", 0, m_officers_1, "CP-4.2.1", NULL, "a key ceremony needs at least 2 officers", NULL },
	{ "CVCA refused: 3 of 4 officers", 0, m_officers_3_of_4, "CP-4.2.1", NULL, "at least 4 officers", NULL },
	{ "CVCA refused: CHR of another country", 0, m_chr_se, "CP-3.1c", NULL, "names the national CVCA of FI; SECVCA00001 is of SE", NULL },
	{ "CVCA refused: CHR with test code UT", 0, m_chr_ut, "CP-3.1b", NULL, "UT is not a country", NULL },
	{ "CVCA refused: CHR without mnemonic", 0, m_chr_no_mnemonic, "CP-3.1b", NULL, NULL, NULL },
	{ "CVCA refused: key without domain parameters", 0, m_no_params, "TR-03110-3 D.3.3", NULL, "without its domain parameters", NULL },
	{ "CVCA refused: ECDSA-SHA-512 on brainpoolP256r1", 0, m_bp256_sha512, "TR-03110-3 A.6.4.2", NULL, NULL, NULL },
	{ "CVCA refused: ECDSA-SHA-1", 0, m_sha1, "TR-02102-1", NULL, NULL, NULL },
	{ "CVCA refused: curve outside the national list", 0, m_curve_not_national, "TR-03110-3 A.6.4.2", NULL, "the curve P-256 is not allowed by the national policy", NULL },
	{ "CVCA refused: RSA 2560 outside the national list", 0, m_rsa_2560, "TR-03110-3 A.6.3", NULL, NULL, NULL },
	{ "CVCA refused: RSA 2048 into 2031", 0, m_rsa_2048_2031, "CP-4.7b", NULL, "validity ending on 2031-06-01", NULL },
	{ "CVCA refused: validity 180 days", 0, m_days_180, "CP-5.4.1", NULL, "CVCA validity of 180 days is below the minimum of 6 months", NULL },
	{ "CVCA refused: validity 1097 days", 0, m_days_1097, "CP-5.4.1", NULL, "exceeds the maximum of 3 years", NULL },
	{ "CVCA refused: national maximum 2 years", 0, m_nat_max_2y, "CP-5.4.1", NULL, "exceeds the national maximum of 2 years", NULL },
	{ "CVCA refused: past 2099", 0, m_2097, "TR-03110-3 D.2.1.3", NULL, "a CVCA certificate issued on 2097-06-01 would expire on 2100-06-01", NULL },
	{ "CVCA refused: compromised key", 0, m_compromised, "CP-4.5b", NULL, NULL, NULL },
	{ "CVCA refused: key already certified", 0, m_certified, "CP-4.6", NULL, "already certified by this CVCA", NULL },
	{ "CVCA refused: CHR already used", 0, m_chr_in_use, "CP-3.1b", NULL, NULL, NULL },
	{ "CVCA refused: rights of another terminal type", 0, m_rights_at, "CP-4.5c", NULL, NULL, NULL },
	{ "CVCA refused: CHR of the previous self-signed certificate", 0, m_same_chr, "CP-3.1b", NULL, "already used", NULL },
	{ "CVCA refused: lower sequence than the previous", 0, m_lower_sequence, "CP-3.1b", NULL,
	  "the sequence number of FICVCA00002 does not follow FICVCA00003", NULL },
	{ "CVCA refused: another CVCA mnemonic", 0, m_other_mnemonic, "CP-3.1c", NULL, "does not keep the national CVCA identity", NULL },
	{ "CVCA refused: companion for another key than the link's", 0, m_companion_other_key, "CP-3.1b", NULL, NULL, NULL },

	{ "link: FICVCA00001 -> FICVCA00002", 1, m_none, NULL, NULL, NULL, "2029-11-23" },
	{ "link: curve change allowed but none made", 1, l_same_curve_allowed, NULL, NULL, NULL, NULL },
	{ "link: to brainpoolP384r1, allowed by the officers", 1, l_bp384_allowed, NULL, "TR-03110-3 2.3",
	  "the chain changes from brainpoolP256r1 to brainpoolP384r1", NULL },
	{ "link: to RSA 3072, allowed by the officers", 1, l_rsa_allowed, NULL, "TR-03110-3 2.3", "to RSA 3072 bits", NULL },
	{ "link: after the old certificate expired (warning)", 1, l_prev_expired, NULL, "CP-5.4b", "expired on 2026-11-20", "2029-11-23" },
	{ "link: 10 days before the old certificate expires (warning)", 1, l_prev_10_days, NULL, "CP-5.4b", "less than 14 days from now", NULL },
	{ "link: 14 days before the old certificate expires", 1, l_prev_14_days, NULL, NULL, NULL, NULL },
	{ "link: rights wider than the old CVCA's", 1, l_rights_wider, NULL, NULL, NULL, NULL },
	{ "link refused: one officer", 1, m_officers_1, "CP-4.2.1", NULL, NULL, NULL },
	{ "link refused: the same key", 1, l_same_key, "CP-4.6", NULL, "the new key is the current CVCA key of FICVCA00001", NULL },
	{ "link refused: the same CHR", 1, l_same_chr, "CP-3.1b", NULL, NULL, NULL },
	{ "link refused: a lower sequence number", 1, l_lower, "CP-3.1b", NULL, NULL, NULL },
	{ "link refused: another mnemonic", 1, l_mnemonic, "CP-3.1c", NULL, "FIROOT00002 does not continue FICVCA00001", NULL },
	{ "link refused: another country", 1, l_country, "CP-3.1c", NULL, NULL, NULL },
	{ "link refused: to brainpoolP384r1 without permission", 1, l_bp384, "TR-03110-3 2.3", NULL,
	  "the new key (brainpoolP384r1) changes the domain parameters of the current CVCA key (brainpoolP256r1)", NULL },
	{ "link refused: to RSA without permission", 1, l_rsa, "TR-03110-3 2.3", NULL, NULL, NULL },
	{ "link refused: signer is a DV certificate", 1, l_prev_role_dv, "CP-4.5c", NULL, NULL, NULL },
	{ "link refused: signer for AT terminals", 1, l_prev_type_at, "CP-4.5c", NULL, NULL, NULL },
	{ "link refused: compromised new key", 1, m_compromised, "CP-4.5b", NULL, NULL, NULL },
	{ "link refused: new key already certified", 1, m_certified, "CP-4.6", NULL, NULL, NULL },
	{ "link refused: ECDSA-SHA-384 on brainpoolP256r1", 1, m_bp256_sha512, "TR-03110-3 A.6.4.2", NULL, NULL, NULL },
	{ "link refused: no domain parameters", 1, m_no_params, "TR-03110-3 D.3.3", NULL, NULL, NULL },
	{ "link refused: validity 180 days", 1, m_days_180, "CP-5.4.1", NULL, NULL, NULL },
};

static void row_test(void **state)
{
	const row *t = *state;
	ca_case c;
	pol_decision d;
	cvc_body p;
	char s[11];

	baseline(&c, t->link);
	t->mut(&c);
	memset(&p, 0xA5, sizeof(p));
	eac_err r = t->link ? pol_link_certificate(c.nat, &c.f, &p, &d)
			    : pol_cvca_certificate(c.nat, &c.f, &p, &d);
	fx_expect(r, &d, t->rule, t->warn, t->text);
	if (t->rule != NULL) {
		assert_int_equal(p.has_car, (int)0xA5A5A5A5);
	} else {
		assert_string_equal(p.chr.s, c.f.chr.s);
		assert_string_equal(p.car.s, t->link ? c.prev.chr.s : c.f.chr.s);
		assert_int_equal(cvc_chat_role(&p.chat), CVC_ROLE_CVCA);
		assert_int_equal(p.key.has_params, c.key.has_params);
		assert_true(pol_country_valid("FI"));
		cvc_date today;
		cvc_date_from_time(c.f.now, &today);
		assert_int_equal(cvc_date_cmp(&p.effective, &today), 0);
		if (t->expiry != NULL) {
			cvc_date_format(&p.expiry, s);
			assert_string_equal(s, t->expiry);
		}
	}
	pol_national_free(c.nat);
}

static void test_usage(void **state)
{
	ca_case c;
	pol_decision d;
	cvc_body p;
	(void)state;
	baseline(&c, 1);
	c.f.previous = NULL;
	assert_int_equal(pol_link_certificate(c.nat, &c.f, &p, &d), EAC_ERR_USAGE);
	assert_false(d.allowed);
	c.f.key = NULL;
	assert_int_equal(pol_cvca_certificate(c.nat, &c.f, &p, &d), EAC_ERR_USAGE);
	assert_int_equal(pol_cvca_certificate(c.nat, &c.f, &p, NULL), EAC_ERR_USAGE);
	pol_national_free(c.nat);

	/* the proposed self-signed body, field by field; a key read without
	 * its cofactor still gets the full parameter set 81..87 ([CVF P5]) */
	baseline(&c, 0);
	c.key.no_cofactor = 1;
	assert_int_equal(pol_cvca_certificate(c.nat, &c.f, &p, &d), EAC_OK);
	assert_string_equal(p.car.s, "FICVCA00001");
	assert_int_equal(p.chat.auth[0], 0xC3);
	assert_int_equal(p.key.has_params, 1);
	assert_int_equal(p.key.curve, CVC_CURVE_BP256R1);
	assert_ptr_equal(p.key.point.ptr, c.key.point.ptr);
	assert_int_equal(p.key.no_cofactor, 0);
	pol_national_free(c.nat);
}

int main(void)
{
	static const struct CMUnitTest plain[] = { cmocka_unit_test(test_usage) };
	const fx_table tables[] = { FX_TABLE(rows, row_test) };
	return fx_run("policy-cvca", plain, 1, tables, 1);
}
