/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pol_dv_certificate: the CVCA approving a DV request. A valid baseline
 * (a domestic DV's initial request on 2026-11-23) is built fresh for every
 * row; each row changes one fact and expects the exact rule of the
 * refusal, or the approval with its warnings and the proposed expiry.
 */

#include <stdio.h>
#include <string.h>

#include "tests/unit/policy/fixtures.h"

#define NOW "2026-11-23T12:00:00Z"
#define DAY 86400

typedef struct dv_case {
	pol_national *nat;
	pol_dv_facts f;
	cvc_body cvca, req, signer;
	cvc_chat rights;
} dv_case;

/* The baseline: FICVCA00001 (brainpoolP256r1, IS, dg3+dg4) valid
 * 2026-01-01..2028-12-31, sent to the Commission in January; the domestic
 * DV FIDVPOL registered and active, conformity until 2027-12-31. */
static void baseline(dv_case *c)
{
	memset(c, 0, sizeof(*c));
	c->nat = fx_nat();
	c->cvca = fx_cert("FICVCA00001", "FICVCA00001",
			  fx_ec(CVC_ALG_ECDSA_SHA256, CVC_CURVE_BP256R1, 1, 1), CVC_CHAT_IS, 0xC3,
			  "2026-01-01", "2028-12-31");
	c->req = fx_req(NULL, "FIDVPOL00002", fx_ec(CVC_ALG_ECDSA_SHA256, CVC_CURVE_BP256R1, 1, 2));
	c->f.now = fx_time(NOW);
	c->f.received_at = c->f.now - 3600;
	c->f.request = &c->req;
	c->f.inner_verified = 1;
	c->f.kind = POL_REQUEST_INITIAL;
	c->f.cvca = &c->cvca;
	c->f.initial_cvca_sent_at = fx_time("2026-01-05T09:00:00Z");
	c->f.dv.registered = 1;
	strcpy(c->f.dv.country, "FI");
	strcpy(c->f.dv.mnemonic, "DVPOL");
	c->f.dv.status = POL_DV_ACTIVE;
	c->f.dv.has_conformity = 1;
	c->f.dv.conformity_expiry = fx_date("2027-12-31");
	c->f.dv.country_dv_count = 1;
}

/* A foreign DV (DE) whose first request is outer-signed by DECVCA00001. */
static void foreign(dv_case *c)
{
	c->req = fx_req("FICVCA00001", "DEDVBKA00001",
			fx_ec(CVC_ALG_ECDSA_SHA256, CVC_CURVE_BP256R1, 1, 3));
	strcpy(c->f.dv.country, "DE");
	strcpy(c->f.dv.mnemonic, "DVBKA");
	c->signer = fx_cert("DECVCA00001", "DECVCA00001",
			    fx_ec(CVC_ALG_ECDSA_SHA256, CVC_CURVE_BP256R1, 1, 4), CVC_CHAT_IS, 0xC3,
			    "2025-06-01", "2028-06-01");
	c->f.outer = (pol_outer){ .present = 1, .verified = 1, .signer = POL_SIGNER_FOREIGN_CVCA,
				  .car = fx_ref("DECVCA00001"), .signer_cert = &c->signer };
}

/* A re-key of FIDVPOL, outer-signed with its current key FIDVPOL00001. */
static void rekey(dv_case *c)
{
	c->f.kind = POL_REQUEST_REKEY;
	c->f.reason = POL_REASON_EXPIRING;
	c->signer = fx_cert("FICVCA00001", "FIDVPOL00001",
			    fx_ec(CVC_ALG_ECDSA_SHA256, CVC_CURVE_NONE, 0, 5), CVC_CHAT_IS, 0x83,
			    "2026-09-01", "2026-12-01");
	c->f.outer = (pol_outer){ .present = 1, .verified = 1, .signer = POL_SIGNER_HOLDER,
				  .car = fx_ref("FIDVPOL00001"), .signer_cert = &c->signer };
}

/* An RSA chain: CVCA and DV on RSA-v1.5-SHA-256 of `bits`. */
static void rsa_chain(dv_case *c, unsigned bits)
{
	c->cvca.key = fx_rsa(CVC_ALG_RSA_V15_SHA256, bits, 6);
	c->req.key = fx_rsa(CVC_ALG_RSA_V15_SHA256, bits, 7);
}

static void at(dv_case *c, const char *iso)
{
	c->f.now = fx_time(iso);
	c->f.received_at = 0;
}

static void set_nat(dv_case *c, const char *from, const char *to)
{
	pol_national_free(c->nat);
	c->nat = fx_nat_edit(from, to);
}

#define M(fn) static void fn(dv_case *c)
/* allowed */
M(m_none) { (void)c; }
M(m_foreign) { foreign(c); }
M(m_rekey) { rekey(c); }
M(m_foreign_rekey) { foreign(c); rekey(c); c->req.chr = fx_ref("DEDVBKA00002"); c->signer.chr = fx_ref("DEDVBKA00001"); }
M(m_days_90) { c->f.validity_days = 90; }
M(m_days_92) { c->f.validity_days = 92; }
M(m_days_14) { c->f.validity_days = 14; }
M(m_30_nov) { at(c, "2026-11-30T08:00:00Z"); }
M(m_leap) { at(c, "2027-11-30T08:00:00Z"); }
M(m_sha224) { c->req.key.alg = CVC_ALG_ECDSA_SHA224; }
M(m_rights_dg3) { c->rights = fx_chat(CVC_CHAT_IS, 0x01); c->f.rights = &c->rights; }
M(m_inner_car_other) { c->req = fx_req("FICVCA00000", "FIDVPOL00002", c->req.key); }
M(m_inner_car_same) { c->req = fx_req("FICVCA00001", "FIDVPOL00002", c->req.key); }
M(m_conformity_today) { c->f.dv.conformity_expiry = fx_date("2026-11-23"); }
M(m_count_3) { c->f.dv.country_dv_count = 3; }
M(m_foreign_count_3_nat_1) { foreign(c); c->f.dv.country_dv_count = 3; set_nat(c, "\"max_dvs_per_country\": 3", "\"max_dvs_per_country\": 1"); }
M(m_rsa_3072) { rsa_chain(c, 3072); }
M(m_domestic_outer_ok) { c->f.outer = (pol_outer){ .present = 1, .verified = 1, .signer = POL_SIGNER_FOREIGN_CVCA, .signer_cert = c->f.cvca, .car = fx_ref("FICVCA00001") }; }
M(m_commission_exactly_90) { foreign(c); c->f.initial_cvca_sent_at = c->f.now - 90 * DAY; }
M(m_year_2099) { c->cvca.effective = fx_date("2097-01-01"); c->cvca.expiry = fx_date("2099-12-31"); at(c, "2099-12-01T10:00:00Z"); c->f.successor_distributed = 1; c->f.dv.conformity_expiry = fx_date("2099-12-31"); }
/* allowed with a warning */
M(m_clamped) { c->cvca.expiry = fx_date("2027-01-10"); c->f.successor_distributed = 1; }
M(m_clamped_14) { c->cvca.expiry = fx_date("2026-12-07"); c->f.successor_distributed = 1; }
M(m_rollover_due) { c->cvca.expiry = fx_date("2027-01-22"); }
M(m_rollover_14_days) { c->cvca.expiry = fx_date("2026-12-07"); }
M(m_commission_domestic) { c->f.initial_cvca_sent_at = c->f.now - 10 * DAY; }
M(m_commission_domestic_never) { c->f.initial_cvca_sent_at = 0; }
M(m_rights_narrowed) { c->cvca.chat.auth[0] = 0xC1; }
M(m_at_risk) { c->f.received_at = c->f.now - 61 * 3600; }
M(m_overdue) { c->f.received_at = c->f.now - 73 * 3600; }
M(m_rsa_2048) { rsa_chain(c, 2048); }
/* refused: the issuer */
M(m_cvca_expired) { c->cvca.expiry = fx_date("2026-11-22"); }
M(m_cvca_future) { c->cvca.effective = fx_date("2026-11-24"); }
M(m_cvca_foreign) { c->cvca.chr = fx_ref("SECVCA00001"); c->cvca.car = c->cvca.chr; }
M(m_cvca_role_dv) { c->cvca.chat.auth[0] = 0x83; }
M(m_cvca_type_at) { c->cvca.chat = fx_chat(CVC_CHAT_AT, 0xC0); }
/* refused: the request's form */
M(m_inner_bad) { c->f.inner_verified = 0; }
M(m_rekey_inner_bad) { rekey(c); c->f.inner_verified = 0; }
M(m_no_params) { c->req.key.has_params = 0; }
M(m_other_curve) { c->req.key = fx_ec(CVC_ALG_ECDSA_SHA256, CVC_CURVE_P256, 1, 2); }
M(m_rsa_request) { c->req.key = fx_rsa(CVC_ALG_RSA_V15_SHA256, 3072, 2); }
M(m_rsa_size) { rsa_chain(c, 3072); c->req.key = fx_rsa(CVC_ALG_RSA_V15_SHA256, 4096, 7); }
/* refused: the registry */
M(m_unregistered) { c->f.dv.registered = 0; }
M(m_registry_country_xx) { strcpy(c->f.dv.country, "XX"); c->req.chr = fx_ref("XXDVPOL00002"); }
M(m_chr_mnemonic) { c->req.chr = fx_ref("FIDVOTHER00002"); }
M(m_chr_country) { c->req.chr = fx_ref("SEDVPOL00002"); }
M(m_suspended) { c->f.dv.status = POL_DV_SUSPENDED; }
M(m_closed_initial) { c->f.dv.status = POL_DV_CLOSED; }
M(m_closed_rekey) { rekey(c); c->f.dv.status = POL_DV_CLOSED; }
M(m_no_conformity) { c->f.dv.has_conformity = 0; }
M(m_conformity_expired_foreign) { foreign(c); c->f.dv.conformity_expiry = fx_date("2026-11-22"); }
M(m_conformity_expired_rekey) { rekey(c); c->f.dv.conformity_expiry = fx_date("2026-11-22"); }
M(m_count_4) { c->f.dv.country_dv_count = 4; }
M(m_count_2_nat_1) { c->f.dv.country_dv_count = 2; set_nat(c, "\"max_dvs_per_country\": 3", "\"max_dvs_per_country\": 1"); }
M(m_foreign_count_4) { foreign(c); c->f.dv.country_dv_count = 4; }
/* refused: the foreign DV's first request */
M(m_foreign_no_outer) { foreign(c); c->f.outer = (pol_outer){ 0 }; }
M(m_foreign_outer_bad) { foreign(c); c->f.outer.verified = 0; }
/* as an engine reports it: an unknown CAR's signature cannot be verified */
M(m_foreign_outer_unknown) { foreign(c); c->f.outer.signer = POL_SIGNER_UNKNOWN; c->f.outer.signer_cert = NULL; c->f.outer.verified = 0; }
M(m_foreign_outer_other_cvca) { foreign(c); c->signer.chr = fx_ref("SECVCA00001"); c->signer.car = c->signer.chr; }
M(m_foreign_outer_not_cvca) { foreign(c); c->signer.chat.auth[0] = 0x83; }
M(m_foreign_outer_expired) { foreign(c); c->signer.expiry = fx_date("2026-11-01"); }
M(m_foreign_outer_compromised) { foreign(c); c->f.outer.signer_key_compromised = 1; }
M(m_foreign_outer_by_dv) { foreign(c); c->f.outer.signer = POL_SIGNER_HOLDER; }
M(m_domestic_outer_bad) { m_domestic_outer_ok(c); c->f.outer.verified = 0; }
M(m_domestic_outer_unknown) { m_domestic_outer_ok(c); c->f.outer.signer = POL_SIGNER_UNKNOWN; c->f.outer.signer_cert = NULL; c->f.outer.verified = 0; }
/* refused: re-key */
M(m_rekey_no_reason) { rekey(c); c->f.reason = POL_REASON_NONE; }
M(m_rekey_revoked) { rekey(c); c->f.reason = POL_REASON_REVOKED; }
M(m_rekey_attributes) { rekey(c); c->f.reason = POL_REASON_ATTRIBUTES_CHANGED; }
M(m_rekey_compromised_reason) { rekey(c); c->f.reason = POL_REASON_KEY_COMPROMISED; }
M(m_rekey_no_outer) { rekey(c); c->f.outer = (pol_outer){ 0 }; }
M(m_rekey_outer_bad) { rekey(c); c->f.outer.verified = 0; }
M(m_rekey_outer_foreign_cvca) { rekey(c); c->f.outer.signer = POL_SIGNER_FOREIGN_CVCA; }
M(m_rekey_outer_unknown) { rekey(c); c->f.outer.signer = POL_SIGNER_UNKNOWN; c->f.outer.signer_cert = NULL; }
M(m_rekey_other_holder) { rekey(c); c->signer.chr = fx_ref("FIDVOTHER00001"); }
M(m_rekey_other_issuer) { rekey(c); c->signer.car = fx_ref("SECVCA00001"); }
M(m_rekey_signer_expired) { rekey(c); c->signer.expiry = fx_date("2026-11-22"); }
M(m_rekey_signer_last_day) { rekey(c); c->signer.expiry = fx_date("2026-11-23"); }
M(m_rekey_signer_compromised) { rekey(c); c->f.outer.signer_key_compromised = 1; }
M(m_rekey_signer_by_old_cvca) { rekey(c); c->signer.car = fx_ref("FICVCA00000"); }
/* refused: the key */
M(m_key_compromised) { c->f.key.compromised = 1; }
M(m_key_certified) { c->f.key.already_certified = 1; }
M(m_chr_in_use) { c->f.key.chr_in_use = 1; }
M(m_sha1) { c->req.key.alg = CVC_ALG_ECDSA_SHA1; }
M(m_sha384) { c->req.key.alg = CVC_ALG_ECDSA_SHA384; }
M(m_rsa_2048_2031) { rsa_chain(c, 2048); c->cvca.effective = fx_date("2030-06-01"); c->cvca.expiry = fx_date("2032-06-01"); at(c, "2030-12-01T10:00:00Z"); c->f.dv.conformity_expiry = fx_date("2032-01-01"); }
/* refused: dates */
M(m_commission_foreign_never) { foreign(c); c->f.initial_cvca_sent_at = 0; }
M(m_commission_foreign_89) { foreign(c); c->f.initial_cvca_sent_at = c->f.now - 89 * DAY; }
M(m_rollover_13_days) { c->cvca.expiry = fx_date("2026-12-06"); }
M(m_clamped_13_successor) { c->cvca.expiry = fx_date("2026-12-06"); c->f.successor_distributed = 1; }
M(m_days_93) { c->f.validity_days = 93; }
M(m_days_120) { c->f.validity_days = 120; }
M(m_days_13) { c->f.validity_days = 13; }
M(m_nat_max_2m) { set_nat(c, "\"default\": \"P3M\", \"max\": \"P3M\"", "\"default\": \"P2M\", \"max\": \"P2M\""); c->f.validity_days = 70; }
/* refused: rights */
M(m_rights_wider) { m_rights_narrowed(c); c->rights = fx_chat(CVC_CHAT_IS, 0x03); c->f.rights = &c->rights; }
M(m_rights_type) { c->rights = fx_chat(CVC_CHAT_ST, 0x01); c->f.rights = &c->rights; }
#undef M

typedef struct row {
	const char *name;
	void (*mut)(dv_case *c);
	const char *rule; /* refused with this rule; NULL: allowed */
	const char *warn; /* allowed with this warning; NULL: no warning */
	const char *text; /* in the refusal or the warning */
	const char *expiry;
} row;

static const row rows[] = {
	{ "DV: domestic initial request, national defaults", m_none, NULL, NULL, NULL, "2027-02-23" },
	{ "DV: foreign first request outer-signed by its national CVCA", m_foreign, NULL, NULL, NULL, "2027-02-23" },
	{ "DV: re-key outer-signed with the current DV key", m_rekey, NULL, NULL, NULL, "2027-02-23" },
	{ "DV: foreign re-key", m_foreign_rekey, NULL, NULL, NULL, "2027-02-23" },
	{ "DV: validity 90 days", m_days_90, NULL, NULL, NULL, "2027-02-21" },
	{ "DV: validity 92 days = 3 months", m_days_92, NULL, NULL, NULL, "2027-02-23" },
	{ "DV: validity 14 days = 2 weeks", m_days_14, NULL, NULL, NULL, "2026-12-07" },
	{ "DV: issued 30 November ends 28 February", m_30_nov, NULL, NULL, NULL, "2027-02-28" },
	{ "DV: issued 30 November 2027 ends 29 February 2028", m_leap, NULL, NULL, NULL, "2028-02-29" },
	{ "DV: ECDSA-SHA-224 on brainpoolP256r1", m_sha224, NULL, NULL, NULL, "2027-02-23" },
	{ "DV: requested rights dg3", m_rights_dg3, NULL, NULL, NULL, "2027-02-23" },
	{ "DV: inner CAR names this CVCA", m_inner_car_same, NULL, NULL, NULL, NULL },
	{ "DV: conformity valid through today", m_conformity_today, NULL, NULL, NULL, NULL },
	{ "DV: third DV of the country", m_count_3, NULL, NULL, NULL, NULL },
	{ "DV: national limit 1 does not bind foreign DVs (CP-1)", m_foreign_count_3_nat_1, NULL, NULL, NULL, NULL },
	{ "DV: RSA 3072 chain", m_rsa_3072, NULL, NULL, NULL, NULL },
	{ "DV: domestic request with a verified outer signature", m_domestic_outer_ok, NULL, NULL, NULL, NULL },
	{ "DV: foreign, exactly 90 days after the Commission", m_commission_exactly_90, NULL, NULL, NULL, NULL },
	{ "DV: December 2099 clamped to 2099-12-31", m_year_2099, NULL, "CP-5.4.1", "on 2099-12-31 (requested 2100-03-01)", "2099-12-31" },
	{ "DV: clamped to the CVCA certificate", m_clamped, NULL, "CP-5.4.1",
	  "DV validity shortened to end with the CVCA certificate FICVCA00001 on 2027-01-10", "2027-01-10" },
	{ "DV: clamped to exactly 2 weeks", m_clamped_14, NULL, "CP-5.4.1", NULL, "2026-12-07" },
	{ "DV: rollover due (warning)", m_rollover_due, NULL, "CP-5.4b", "distribute a link certificate by 2027-01-08", "2027-01-22" },
	{ "DV: exactly 14 days before CVCA expiry, no link yet", m_rollover_14_days, NULL, "CP-5.4b", "expires on 2026-12-07; distribute a link certificate by 2026-11-23", "2026-12-07" },
	{ "DV: domestic within the Commission's 90 days (warning)", m_commission_domestic, NULL, "CP-5.4a", "other states", NULL },
	{ "DV: domestic, CVCA never sent to the Commission (warning)", m_commission_domestic_never, NULL, "CP-5.4a", NULL, NULL },
	{ "DV: default rights narrowed to the CVCA's", m_rights_narrowed, NULL, "CP-1.3b", "dg4 dropped", NULL },
	{ "DV: inner CAR names another key", m_inner_car_other, NULL, "TR-03110-3 C.2.2",
	  "the request expected the CA key FICVCA00000; it is issued under FICVCA00001", NULL },
	{ "DV: processing deadline at risk", m_at_risk, NULL, "CP-4.2.2", "(72 hours from receipt)", NULL },
	{ "DV: processing deadline passed", m_overdue, NULL, "CP-4.2.2", "the 72-hour processing deadline", NULL },
	{ "DV: RSA 2048 chain (warning)", m_rsa_2048, NULL, "TR-02102-1", "the DV's new key (RSA 2048 bits)", NULL },

	{ "DV refused: CVCA certificate expired", m_cvca_expired, "CP-5.4.1", NULL,
	  "the CVCA certificate FICVCA00001 expired on 2026-11-22; nothing can be issued under it", NULL },
	{ "DV refused: CVCA certificate not yet valid", m_cvca_future, "CP-5.4.1", NULL, "not valid before 2026-11-24", NULL },
	{ "DV refused: issuer is another country's CVCA", m_cvca_foreign, "CP-3.1c", NULL,
	  "a DV certificate is issued by a CVCA of FI; SECVCA00001 is of SE", NULL },
	{ "DV refused: issuer has the DV role", m_cvca_role_dv, "CP-4.5c", NULL, "has the role dv_domestic", NULL },
	{ "DV refused: issuer for AT terminals", m_cvca_type_at, "CP-4.5c", NULL, "for id-AT terminals", NULL },
	{ "DV refused: inner signature (initial)", m_inner_bad, "CP-3.2.3d", NULL, "does not prove possession of the private key", NULL },
	{ "DV refused: inner signature (re-key)", m_rekey_inner_bad, "CP-3.3.1a", NULL, NULL, NULL },
	{ "DV refused: request without domain parameters", m_no_params, "TR-03110-3 D.3.3", NULL, "carries no domain parameters", NULL },
	{ "DV refused: request on another curve", m_other_curve, "TR-03110-3 D.3.3", NULL,
	  "the request's key is on P-256, the CVCA's on brainpoolP256r1", NULL },
	{ "DV refused: RSA request under an ECDSA CVCA", m_rsa_request, "TR-03110-3 2.3", NULL, "keeps one algorithm", NULL },
	{ "DV refused: RSA size differs from the CVCA's", m_rsa_size, "TR-03110-3 2.3", NULL, "has 4096 bits, the CVCA's 3072", NULL },
	{ "DV refused: not registered", m_unregistered, "CP-4.1", NULL,
	  "the DV FIDVPOL00002 is not registered with this CVCA; its initial identity validation (CP-3.2.3) comes first", NULL },
	{ "DV refused: registered under a user-assigned country", m_registry_country_xx, "CP-3.1b", NULL, "'XX'", NULL },
	{ "DV refused: CHR names another mnemonic", m_chr_mnemonic, "CP-3.1b", NULL,
	  "the request's holder reference FIDVOTHER00002 does not name the registered DV (country FI, mnemonic DVPOL)", NULL },
	{ "DV refused: CHR names another country", m_chr_country, "CP-3.1b", NULL, NULL, NULL },
	{ "DV refused: suspended", m_suspended, "CP-3.3.1b", NULL, "the DV FIDVPOL is suspended", NULL },
	{ "DV refused: closed, initial request", m_closed_initial, "CP-4.1", NULL, "is closed", NULL },
	{ "DV refused: closed, re-key", m_closed_rekey, "CP-4.7c", NULL, "a closed DV applies again through the initial procedure", NULL },
	{ "DV refused: no certificate of conformity", m_no_conformity, "CP-4.2.2", NULL, "no certificate of conformity", NULL },
	{ "DV refused: foreign, conformity expired", m_conformity_expired_foreign, "CP-3.2.3b", NULL,
	  "the certificate of conformity of the DV DEDVBKA expired on 2026-11-22", NULL },
	{ "DV refused: re-key, conformity expired", m_conformity_expired_rekey, "CP-3.3.1c", NULL, NULL, NULL },
	{ "DV refused: a fourth DV of the country", m_count_4, "CP-1.3a", NULL, "FI has 4 registered DVs; at most 3 DVs are allowed per country", NULL },
	{ "DV refused: national limit 1", m_count_2_nat_1, "CP-1.3a", NULL, "at most 1 DV is allowed per country by the national policy", NULL },
	{ "DV refused: a fourth foreign DV", m_foreign_count_4, "CP-1.3a", NULL, "DE has 4 registered DVs", NULL },
	{ "DV refused: foreign first request without outer signature", m_foreign_no_outer, "CP-3.2.3d", NULL,
	  "a foreign DV's first request must carry an outer signature by the national CVCA of DE; this one has none", NULL },
	{ "DV refused: foreign outer signature does not verify", m_foreign_outer_bad, "CP-3.2.3d", NULL,
	  "the request's outer signature (CAR DECVCA00001) does not verify", NULL },
	{ "DV refused: foreign outer signature by an unknown key", m_foreign_outer_unknown, "CP-3.2.3d", NULL, "not by a CVCA known to us", NULL },
	{ "DV refused: foreign outer signature by another state's CVCA", m_foreign_outer_other_cvca, "CP-3.2.3d", NULL,
	  "the outer signature is by SECVCA00001, not by the national CVCA of DE", NULL },
	{ "DV refused: foreign outer signature by a non-CVCA certificate", m_foreign_outer_not_cvca, "CP-3.2.3d", NULL, NULL, NULL },
	{ "DV refused: foreign outer signer's certificate expired", m_foreign_outer_expired, "CP-3.2.3d", NULL, "expired on 2026-11-01", NULL },
	{ "DV refused: foreign outer signer's key compromised", m_foreign_outer_compromised, "CP-4.5b", NULL, "reported compromised", NULL },
	{ "DV refused: foreign first request signed by a DV key", m_foreign_outer_by_dv, "CP-3.2.3d", NULL, NULL, NULL },
	{ "DV refused: domestic outer signature does not verify", m_domestic_outer_bad, "CP-4.2.2", NULL, "does not verify", NULL },
	{ "DV refused: domestic outer signature by an unknown key", m_domestic_outer_unknown, "CP-4.2.2", NULL, "not by a key known to us", NULL },
	{ "DV refused: re-key without a reason", m_rekey_no_reason, "CP-4.7a", NULL, NULL, NULL },
	{ "DV refused: re-key after revocation", m_rekey_revoked, "CP-4.7c", NULL, "through the initial procedure, not by re-key", NULL },
	{ "DV refused: re-key for changed attributes", m_rekey_attributes, "CP-4.7c", NULL, NULL, NULL },
	{ "DV refused: re-key for a compromised DV key", m_rekey_compromised_reason, "CP-4.7a", NULL, "is for inspection systems", NULL },
	{ "DV refused: re-key without outer signature", m_rekey_no_outer, "CP-3.3.1d", NULL,
	  "a re-key request must be outer-signed with the DV's current key", NULL },
	{ "DV refused: re-key outer signature does not verify", m_rekey_outer_bad, "CP-3.3.1d", NULL, "(CAR FIDVPOL00001) does not verify", NULL },
	{ "DV refused: re-key signed by a CVCA", m_rekey_outer_foreign_cvca, "CP-3.3.1d", NULL, "not made with a key this CVCA certified for FIDVPOL00002", NULL },
	{ "DV refused: re-key signed by an unknown key", m_rekey_outer_unknown, "CP-3.3.1d", NULL, NULL, NULL },
	{ "DV refused: re-key signed by another DV", m_rekey_other_holder, "CP-3.3.1d", NULL,
	  "the outer signature is by FIDVOTHER00001, a certificate of another holder than FIDVPOL00002", NULL },
	{ "DV refused: re-key signer issued by another CVCA", m_rekey_other_issuer, "CP-3.3.1d", NULL, "issued by SECVCA00001, not by this CVCA", NULL },
	{ "DV refused: re-key signer's certificate expired", m_rekey_signer_expired, "CP-3.3.1d", NULL, "an expired DV applies through the initial procedure (CP-4.7c)", NULL },
	{ "DV: re-key on the signer certificate's last day", m_rekey_signer_last_day, NULL, NULL, NULL, NULL },
	{ "DV: re-key signer issued under the previous CVCA key", m_rekey_signer_by_old_cvca, NULL, NULL, NULL, NULL },
	{ "DV refused: re-key signer's key compromised", m_rekey_signer_compromised, "CP-4.7b", NULL, NULL, NULL },
	{ "DV refused: compromised key", m_key_compromised, "CP-4.5b", NULL, "it is never accepted again", NULL },
	{ "DV refused: key already certified (renewal)", m_key_certified, "CP-4.6", NULL,
	  "renewal (a new certificate for the same key) is not allowed", NULL },
	{ "DV refused: CHR already names another key", m_chr_in_use, "CP-3.1b", NULL, "already names another key", NULL },
	{ "DV refused: ECDSA-SHA-1", m_sha1, "TR-02102-1", NULL, NULL, NULL },
	{ "DV refused: ECDSA-SHA-384 on a 256-bit curve", m_sha384, "TR-03110-3 A.6.4.2", NULL, NULL, NULL },
	{ "DV refused: RSA 2048 for a validity into 2031", m_rsa_2048_2031, "CP-4.7b", NULL,
	  "the DV's new key (RSA 2048 bits, 112-bit security) is not strong enough for a validity ending on 2031-03-01", NULL },
	{ "DV refused: foreign, CVCA never sent to the Commission", m_commission_foreign_never, "CP-5.4a", NULL, NULL, NULL },
	{ "DV refused: foreign, 89 days after the Commission", m_commission_foreign_89, "CP-5.4a", NULL, "may be issued from 2026-11-24T12:00:00Z", NULL },
	{ "DV refused: 13 days before CVCA expiry, no link", m_rollover_13_days, "CP-5.4b", NULL, "no link certificate was distributed by 2026-11-22", NULL },
	{ "DV refused: 13 days before CVCA expiry, link out, too short", m_clamped_13_successor, "CP-5.4.1", NULL,
	  "would be valid for 13 days, below the minimum of 2 weeks", NULL },
	{ "DV refused: validity 93 days", m_days_93, "CP-5.4.1", NULL, "DV validity of 93 days exceeds the maximum of 3 months", NULL },
	{ "DV refused: validity 120 days", m_days_120, "CP-5.4.1", NULL, "DV validity of 120 days exceeds the maximum of 3 months", NULL },
	{ "DV refused: validity 13 days", m_days_13, "CP-5.4.1", NULL, "DV validity of 13 days is below the minimum of 2 weeks", NULL },
	{ "DV refused: national maximum 2 months", m_nat_max_2m, "CP-5.4.1", NULL, "exceeds the national maximum of 2 months", NULL },
	{ "DV refused: requested rights wider than the CVCA's", m_rights_wider, "CP-1.3b", NULL, "wider than the issuer's (dg3)", NULL },
	{ "DV refused: requested rights of another terminal type", m_rights_type, "CP-4.5c", NULL, NULL, NULL },
};

static void row_test(void **state)
{
	const row *t = *state;
	dv_case c;
	pol_decision d;
	cvc_body p;
	char s[11];

	baseline(&c);
	t->mut(&c);
	memset(&p, 0xA5, sizeof(p));
	eac_err r = pol_dv_certificate(c.nat, &c.f, &p, &d);
	fx_expect(r, &d, t->rule, t->warn, t->text);
	if (t->rule != NULL) {
		assert_int_equal(p.has_car, (int)0xA5A5A5A5); /* untouched */
	} else {
		/* the derived fields, whatever the row */
		assert_string_equal(p.car.s, c.cvca.chr.s);
		assert_string_equal(p.chr.s, c.req.chr.s);
		assert_int_equal(p.key.has_params, 0);
		assert_ptr_equal(p.key.point.ptr, c.req.key.point.ptr);
		assert_int_equal(p.chat.type, CVC_CHAT_IS);
		cvc_role want = strcmp(c.f.dv.country, "FI") == 0 ? CVC_ROLE_DV_DOMESTIC : CVC_ROLE_DV_FOREIGN;
		assert_int_equal(cvc_chat_role(&p.chat), want);
		assert_true(cvc_chat_rights_subset(&p.chat, &c.cvca.chat));
		cvc_date today;
		cvc_date_from_time(c.f.now, &today);
		assert_int_equal(cvc_date_cmp(&p.effective, &today), 0);
		assert_true(cvc_date_cmp(&p.expiry, &c.cvca.expiry) <= 0);
		assert_int_equal(p.ext.len, 0);
		if (t->expiry != NULL) {
			cvc_date_format(&p.expiry, s);
			assert_string_equal(s, t->expiry);
		}
	}
	pol_national_free(c.nat);
}

/* The whole proposed body of the baseline, field by field. */
static void test_proposed_body(void **state)
{
	dv_case c;
	pol_decision d;
	cvc_body p;
	(void)state;
	baseline(&c);
	assert_int_equal(pol_dv_certificate(c.nat, &c.f, &p, &d), EAC_OK);
	assert_true(p.has_car);
	assert_string_equal(p.car.s, "FICVCA00001");
	assert_string_equal(p.chr.s, "FIDVPOL00002");
	assert_int_equal(p.key.alg, CVC_ALG_ECDSA_SHA256);
	assert_int_equal(p.key.curve, CVC_CURVE_BP256R1); /* inherited, recorded */
	assert_int_equal(p.key.has_params, 0);
	assert_int_equal(p.key.point.len, 65);
	assert_true(p.has_chat && p.has_dates);
	assert_int_equal(p.chat.len, 1);
	assert_int_equal(p.chat.auth[0], 0x83); /* DV official domestic, dg3 + dg4 */
	assert_int_equal(p.effective.year, 2026);
	assert_int_equal(p.effective.month, 11);
	assert_int_equal(p.effective.day, 23);
	assert_int_equal(p.expiry.month, 2);
	assert_int_equal(pol_decision_check(&d), EAC_OK);

	foreign(&c);
	assert_int_equal(pol_dv_certificate(c.nat, &c.f, &p, &d), EAC_OK);
	assert_int_equal(p.chat.auth[0], 0x43); /* DV official foreign */
	assert_string_equal(p.chr.s, "DEDVBKA00001");
	pol_national_free(c.nat);
}

static void test_usage(void **state)
{
	dv_case c;
	pol_decision d;
	cvc_body p;
	(void)state;
	baseline(&c);
	assert_int_equal(pol_dv_certificate(c.nat, &c.f, &p, NULL), EAC_ERR_USAGE);
	assert_int_equal(pol_dv_certificate(NULL, &c.f, &p, &d), EAC_ERR_USAGE);
	assert_false(d.allowed);
	assert_string_equal(d.rule, "");
	c.f.kind = 0;
	assert_int_equal(pol_dv_certificate(c.nat, &c.f, &p, &d), EAC_ERR_USAGE);
	c.f.kind = POL_REQUEST_INITIAL;
	c.req.has_dates = 1; /* a certificate is not a request */
	assert_int_equal(pol_dv_certificate(c.nat, &c.f, &p, &d), EAC_ERR_USAGE);
	c.req.has_dates = 0;
	c.f.dv.status = 0;
	assert_int_equal(pol_dv_certificate(c.nat, &c.f, &p, &d), EAC_ERR_USAGE);
	fx_contains(d.message, "invalid DV status");
	c.f.dv.status = POL_DV_ACTIVE;
	c.f.dv.country_dv_count = 0;
	assert_int_equal(pol_dv_certificate(c.nat, &c.f, &p, &d), EAC_ERR_USAGE);
	pol_national_free(c.nat);
}

int main(void)
{
	static const struct CMUnitTest plain[] = {
		cmocka_unit_test(test_proposed_body),
		cmocka_unit_test(test_usage),
	};
	const fx_table tables[] = { FX_TABLE(rows, row_test) };
	return fx_run("policy-dv", plain, sizeof(plain) / sizeof(plain[0]), tables, 1);
}
