/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pol_is_certificate: the DV approving an inspection system's request.
 * Baseline: FIISHEL, registered and operational, asks on 2026-11-23 under
 * the DV certificate FIDVPOL00001 (valid to 2027-01-01, dg3+dg4) of the
 * brainpoolP256r1 CVCA FICVCA00001. Each row changes one fact.
 */

#include <stdio.h>
#include <string.h>

#include "tests/unit/policy/fixtures.h"

typedef struct is_case {
	pol_national *nat;
	pol_is_facts f;
	cvc_body dv, req, signer;
	cvc_pubkey cvca_key;
	cvc_chat rights;
} is_case;

static void baseline(is_case *c)
{
	memset(c, 0, sizeof(*c));
	c->nat = fx_nat();
	c->cvca_key = fx_ec(CVC_ALG_ECDSA_SHA256, CVC_CURVE_BP256R1, 1, 1);
	c->dv = fx_cert("FICVCA00001", "FIDVPOL00001",
			fx_ec(CVC_ALG_ECDSA_SHA256, CVC_CURVE_NONE, 0, 2), CVC_CHAT_IS, 0x83,
			"2026-10-01", "2027-01-01");
	c->req = fx_req("FIDVPOL00001", "FIISHEL00002",
			fx_ec(CVC_ALG_ECDSA_SHA256, CVC_CURVE_BP256R1, 1, 3));
	c->f.now = fx_time("2026-11-23T12:00:00Z");
	c->f.received_at = c->f.now - 600;
	c->f.request = &c->req;
	c->f.inner_verified = 1;
	c->f.kind = POL_REQUEST_INITIAL;
	c->f.dv_cert = &c->dv;
	c->f.cvca_key = &c->cvca_key;
	c->f.is.registered = 1;
	strcpy(c->f.is.mnemonic, "ISHEL");
	c->f.is.status = POL_IS_OPERATIONAL;
}

static void rekey(is_case *c)
{
	c->f.kind = POL_REQUEST_REKEY;
	c->f.reason = POL_REASON_EXPIRING;
	c->signer = fx_cert("FIDVPOL00001", "FIISHEL00001",
			    fx_ec(CVC_ALG_ECDSA_SHA256, CVC_CURVE_NONE, 0, 4), CVC_CHAT_IS, 0x03,
			    "2026-11-01", "2026-12-01");
	c->f.outer = (pol_outer){ .present = 1, .verified = 1, .signer = POL_SIGNER_HOLDER,
				  .car = fx_ref("FIISHEL00001"), .signer_cert = &c->signer };
}

#define M(fn) static void fn(is_case *c)
M(m_none) { (void)c; }
M(m_rekey) { rekey(c); }
M(m_rekey_attributes) { rekey(c); c->f.reason = POL_REASON_ATTRIBUTES_CHANGED; }
M(m_rekey_signer_old_dv) { rekey(c); c->signer.car = fx_ref("FIDVPOL00000"); }
M(m_days_1) { c->f.validity_days = 1; }
M(m_days_30) { c->f.validity_days = 30; }
M(m_rights_dg4) { c->rights = fx_chat(CVC_CHAT_IS, 0x02); c->f.rights = &c->rights; }
M(m_foreign_dv_cert) { c->dv.car = fx_ref("DECVCA00001"); c->dv.chr = fx_ref("FIDVPOL00003"); c->dv.chat.auth[0] = 0x43; c->req.car = c->dv.chr; c->cvca_key = fx_ec(CVC_ALG_ECDSA_SHA256, CVC_CURVE_BP256R1, 1, 9); }
M(m_foreign_chain_p256) { m_foreign_dv_cert(c); c->cvca_key = fx_ec(CVC_ALG_ECDSA_SHA256, CVC_CURVE_P256, 1, 9); c->req.key = fx_ec(CVC_ALG_ECDSA_SHA256, CVC_CURVE_P256, 1, 3); }
M(m_dv_expires_tomorrow) { c->dv.expiry = fx_date("2026-11-24"); }
M(m_dv_expires_in_20) { c->dv.expiry = fx_date("2026-12-13"); }
M(m_rights_narrowed) { c->dv.chat.auth[0] = 0x81; }
M(m_at_risk) { c->f.received_at = c->f.now - 13 * 3600; }
M(m_overdue) { c->f.received_at = c->f.now - 25 * 3600; }
M(m_initial_outer_ok) { rekey(c); c->f.kind = POL_REQUEST_INITIAL; c->f.reason = POL_REASON_NONE; }
M(m_leap) { c->f.now = fx_time("2028-01-31T09:00:00Z"); c->f.received_at = 0; c->dv.effective = fx_date("2028-01-01"); c->dv.expiry = fx_date("2028-04-01"); }
M(m_2099) { c->f.now = fx_time("2099-12-20T09:00:00Z"); c->f.received_at = 0; c->dv.effective = fx_date("2099-10-01"); c->dv.expiry = fx_date("2099-12-31"); }
/* refused */
M(m_dv_expires_today) { c->dv.expiry = fx_date("2026-11-23"); }
M(m_dv_expired) { c->dv.expiry = fx_date("2026-11-22"); }
M(m_dv_future) { c->dv.effective = fx_date("2026-11-24"); }
M(m_dv_role_cvca) { c->dv.chat.auth[0] = 0xC3; }
M(m_dv_role_terminal) { c->dv.chat.auth[0] = 0x03; }
M(m_dv_other_country) { c->dv.chr = fx_ref("SEDVPOL00001"); }
M(m_dv_type_st) { c->dv.chat = fx_chat(CVC_CHAT_ST, 0x83); }
M(m_inner_bad) { c->f.inner_verified = 0; }
M(m_no_params) { c->req.key.has_params = 0; }
M(m_other_curve) { c->req.key = fx_ec(CVC_ALG_ECDSA_SHA384, CVC_CURVE_BP384R1, 1, 3); }
M(m_unregistered) { c->f.is.registered = 0; }
M(m_out_of_service) { c->f.is.status = POL_IS_OUT_OF_SERVICE; }
M(m_stolen) { c->f.is.status = POL_IS_STOLEN; }
M(m_lost) { c->f.is.status = POL_IS_LOST; }
M(m_chr_mnemonic) { c->req.chr = fx_ref("FIISTKU00002"); }
M(m_chr_country) { c->req.chr = fx_ref("SEISHEL00002"); }
M(m_initial_outer_bad) { m_initial_outer_ok(c); c->f.outer.verified = 0; }
M(m_initial_outer_compromised) { m_initial_outer_ok(c); c->f.outer.signer_key_compromised = 1; }
M(m_rekey_compromised) { rekey(c); c->f.reason = POL_REASON_KEY_COMPROMISED; }
M(m_rekey_revoked) { rekey(c); c->f.reason = POL_REASON_REVOKED; }
M(m_rekey_no_reason) { rekey(c); c->f.reason = POL_REASON_NONE; }
M(m_rekey_no_outer) { rekey(c); c->f.outer = (pol_outer){ 0 }; }
M(m_rekey_outer_bad) { rekey(c); c->f.outer.verified = 0; }
M(m_rekey_outer_unknown) { rekey(c); c->f.outer.signer = POL_SIGNER_UNKNOWN; c->f.outer.signer_cert = NULL; }
M(m_rekey_other_holder) { rekey(c); c->signer.chr = fx_ref("FIISTKU00001"); }
M(m_rekey_other_dv) { rekey(c); c->signer.car = fx_ref("FIDVOTHER00001"); }
M(m_rekey_signer_expired) { rekey(c); c->signer.expiry = fx_date("2026-11-22"); }
M(m_rekey_signer_compromised) { rekey(c); c->f.outer.signer_key_compromised = 1; }
M(m_key_compromised) { c->f.key.compromised = 1; }
M(m_key_certified) { c->f.key.already_certified = 1; }
M(m_chr_in_use) { c->f.key.chr_in_use = 1; }
M(m_sha1) { c->req.key.alg = CVC_ALG_ECDSA_SHA1; }
M(m_sha512) { c->req.key.alg = CVC_ALG_ECDSA_SHA512; }
M(m_days_31) { c->f.validity_days = 31; }
M(m_rights_wider) { m_rights_narrowed(c); c->rights = fx_chat(CVC_CHAT_IS, 0x03); c->f.rights = &c->rights; }
#undef M

typedef struct row {
	const char *name;
	void (*mut)(is_case *c);
	const char *rule, *warn, *text, *expiry;
} row;

static const row rows[] = {
	{ "IS: initial request, national defaults", m_none, NULL, NULL, NULL, "2026-12-23" },
	{ "IS: re-key, about to expire", m_rekey, NULL, NULL, NULL, "2026-12-23" },
	{ "IS: re-key, attributes changed", m_rekey_attributes, NULL, NULL, NULL, NULL },
	{ "IS: re-key signer issued under the DV's previous certificate", m_rekey_signer_old_dv, NULL, NULL, NULL, NULL },
	{ "IS: validity 1 day (minimum)", m_days_1, NULL, NULL, NULL, "2026-11-24" },
	{ "IS: validity 30 days = 1 month", m_days_30, NULL, NULL, NULL, "2026-12-23" },
	{ "IS: requested rights dg4", m_rights_dg4, NULL, NULL, NULL, NULL },
	{ "IS: under a DV certificate from a foreign CVCA", m_foreign_dv_cert, NULL, NULL, NULL, NULL },
	{ "IS: foreign chain on P-256", m_foreign_chain_p256, NULL, NULL, NULL, NULL },
	{ "IS: initial request with a verified outer signature", m_initial_outer_ok, NULL, NULL, NULL, NULL },
	{ "IS: from 31 January 2028 ends 29 February", m_leap, NULL, NULL, NULL, "2028-02-29" },
	{ "IS: December 2099 clamped to 2099-12-31", m_2099, NULL, "CP-5.4.1", "(requested 2100-01-20)", "2099-12-31" },
	{ "IS: the DV certificate expires tomorrow (1 day)", m_dv_expires_tomorrow, NULL, "CP-5.4.1",
	  "IS validity shortened to end with the DV certificate FIDVPOL00001 on 2026-11-24", "2026-11-24" },
	{ "IS: clamped to the DV certificate", m_dv_expires_in_20, NULL, "CP-5.4.1", NULL, "2026-12-13" },
	{ "IS: default rights narrowed to the DV's", m_rights_narrowed, NULL, "CP-1.3b", "dg4 dropped", NULL },
	{ "IS: processing deadline at risk", m_at_risk, NULL, "CP-5.4.2", "(24 hours from receipt)", NULL },
	{ "IS: processing deadline passed", m_overdue, NULL, "CP-5.4.2", "the 24-hour processing deadline", NULL },

	{ "IS refused: the DV certificate's last day", m_dv_expires_today, "CP-5.4.1", NULL,
	  "the DV certificate FIDVPOL00001 expires on 2026-11-23: an IS certificate issued today would be valid for 0 days, below the minimum of 1 day", NULL },
	{ "IS refused: the DV certificate expired", m_dv_expired, "CP-5.4.1", NULL, "the DV certificate FIDVPOL00001 expired on 2026-11-22", NULL },
	{ "IS refused: the DV certificate not yet valid", m_dv_future, "CP-5.4.1", NULL, NULL, NULL },
	{ "IS refused: issuer is a CVCA certificate", m_dv_role_cvca, "CP-4.5c", NULL, "has the role cvca", NULL },
	{ "IS refused: issuer is a terminal certificate", m_dv_role_terminal, "CP-4.5c", NULL, NULL, NULL },
	{ "IS refused: issuer is another country's DV", m_dv_other_country, "CP-3.1c", NULL, "SEDVPOL00001 is of SE", NULL },
	{ "IS refused: issuer for signature terminals", m_dv_type_st, "CP-4.5c", NULL, "id-ST", NULL },
	{ "IS refused: inner signature", m_inner_bad, "CP-4.2.3", NULL, "does not prove possession", NULL },
	{ "IS refused: no domain parameters", m_no_params, "TR-03110-3 D.3.3", NULL, NULL, NULL },
	{ "IS refused: not on the CVCA's curve", m_other_curve, "TR-03110-3 D.3.3", NULL, "brainpoolP384r1", NULL },
	{ "IS refused: not registered", m_unregistered, "CP-3.3.2a", NULL, "the inspection system FIISHEL00002 is not registered with this DV", NULL },
	{ "IS refused: not operational", m_out_of_service, "CP-3.3.2a", NULL, "registered but not operational", NULL },
	{ "IS refused: stolen", m_stolen, "CP-3.3.2b", NULL, "the inspection system FIISHEL is marked stolen", NULL },
	{ "IS refused: lost", m_lost, "CP-3.3.2b", NULL, "is marked lost", NULL },
	{ "IS refused: CHR names another IS", m_chr_mnemonic, "CP-3.1c", NULL,
	  "FIISTKU00002 does not name the registered inspection system FIISHEL", NULL },
	{ "IS refused: CHR of another country", m_chr_country, "CP-3.1c", NULL, NULL, NULL },
	{ "IS refused: initial outer signature does not verify", m_initial_outer_bad, "CP-4.2.3", NULL, "does not verify", NULL },
	{ "IS refused: initial outer signer compromised", m_initial_outer_compromised, "CP-4.5b", NULL, NULL, NULL },
	{ "IS refused: re-key for a compromised key", m_rekey_compromised, "CP-4.7c", NULL, "applies again through the initial procedure", NULL },
	{ "IS refused: re-key for revocation", m_rekey_revoked, "CP-4.7a", NULL, "for DV certificates only", NULL },
	{ "IS refused: re-key without a reason", m_rekey_no_reason, "CP-4.7a", NULL, NULL, NULL },
	{ "IS refused: re-key without outer signature", m_rekey_no_outer, "TR-03110-3 C.2.6", NULL, "no outer signature", NULL },
	{ "IS refused: re-key outer signature does not verify", m_rekey_outer_bad, "TR-03110-3 C.2.6", NULL, NULL, NULL },
	{ "IS refused: re-key signed by an unknown key", m_rekey_outer_unknown, "TR-03110-3 C.2.6", NULL,
	  "is not made with a key this DV certified for FIISHEL00002", NULL },
	{ "IS refused: re-key signed by another IS", m_rekey_other_holder, "CP-4.7b", NULL, "FIISTKU00001", NULL },
	{ "IS refused: re-key signer from another DV", m_rekey_other_dv, "CP-4.7b", NULL, "issued by FIDVOTHER00001", NULL },
	{ "IS refused: re-key signer's certificate expired", m_rekey_signer_expired, "CP-4.7c", NULL, NULL, NULL },
	{ "IS refused: re-key signer's key compromised", m_rekey_signer_compromised, "CP-4.7b", NULL, NULL, NULL },
	{ "IS refused: compromised key", m_key_compromised, "CP-4.5b", NULL, NULL, NULL },
	{ "IS refused: key already certified (renewal)", m_key_certified, "CP-4.6", NULL, "already certified by this DV", NULL },
	{ "IS refused: CHR already names another key", m_chr_in_use, "CP-3.1b", NULL, NULL, NULL },
	{ "IS refused: ECDSA-SHA-1", m_sha1, "TR-02102-1", NULL, NULL, NULL },
	{ "IS refused: ECDSA-SHA-512 on a 256-bit curve", m_sha512, "TR-03110-3 A.6.4.2", NULL, NULL, NULL },
	{ "IS refused: validity 31 days", m_days_31, "CP-5.4.1", NULL, "IS validity of 31 days exceeds the maximum of 1 month", NULL },
	{ "IS refused: rights wider than the DV's", m_rights_wider, "CP-1.3b", NULL, NULL, NULL },
};

static void row_test(void **state)
{
	const row *t = *state;
	is_case c;
	pol_decision d;
	cvc_body p;
	char s[11];

	baseline(&c);
	t->mut(&c);
	memset(&p, 0xA5, sizeof(p));
	eac_err r = pol_is_certificate(c.nat, &c.f, &p, &d);
	fx_expect(r, &d, t->rule, t->warn, t->text);
	if (t->rule != NULL) {
		assert_int_equal(p.has_car, (int)0xA5A5A5A5);
	} else {
		assert_string_equal(p.car.s, c.dv.chr.s);
		assert_string_equal(p.chr.s, c.req.chr.s);
		assert_int_equal(p.key.has_params, 0);
		assert_int_equal(p.key.curve, c.cvca_key.curve);
		assert_int_equal(cvc_chat_role(&p.chat), CVC_ROLE_TERMINAL);
		assert_true(cvc_chat_rights_subset(&p.chat, &c.dv.chat));
		assert_true(cvc_date_cmp(&p.expiry, &c.dv.expiry) <= 0);
		if (t->expiry != NULL) {
			cvc_date_format(&p.expiry, s);
			assert_string_equal(s, t->expiry);
		}
	}
	pol_national_free(c.nat);
}

static void test_proposed_body(void **state)
{
	is_case c;
	pol_decision d;
	cvc_body p;
	(void)state;
	baseline(&c);
	assert_int_equal(pol_is_certificate(c.nat, &c.f, &p, &d), EAC_OK);
	assert_string_equal(p.car.s, "FIDVPOL00001");
	assert_string_equal(p.chr.s, "FIISHEL00002");
	assert_int_equal(p.chat.auth[0], 0x03); /* inspection system, dg3 + dg4 */
	assert_int_equal(p.effective.day, 23);
	assert_int_equal(p.expiry.month, 12);
	assert_int_equal(p.expiry.day, 23);
	assert_int_equal(d.nwarnings, 0);

	assert_int_equal(pol_is_certificate(c.nat, &c.f, &p, NULL), EAC_ERR_USAGE);
	c.f.cvca_key = NULL;
	assert_int_equal(pol_is_certificate(c.nat, &c.f, &p, &d), EAC_ERR_USAGE);
	assert_false(d.allowed);
	c.f.cvca_key = &c.cvca_key;
	c.f.is.status = 0;
	assert_int_equal(pol_is_certificate(c.nat, &c.f, &p, &d), EAC_ERR_USAGE);
	pol_national_free(c.nat);
}

int main(void)
{
	static const struct CMUnitTest plain[] = { cmocka_unit_test(test_proposed_body) };
	const fx_table tables[] = { FX_TABLE(rows, row_test) };
	return fx_run("policy-is", plain, 1, tables, 1);
}
