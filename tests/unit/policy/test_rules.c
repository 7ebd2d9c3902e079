/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The individual rules, each as a table of allowed and refused rows:
 * signature schemes and curves (TR-03110-3 A.6.4.2/A.6.3, TR-02102-1),
 * the national algorithm lists, key strength for the validity (CP-4.7b),
 * rights and roles (CP-1.3b, CP-4.5c), naming (CP-3.1a/b/c), key
 * ceremonies (CP-4.2.1), the Commission's 90 days (CP-5.4a) and the
 * decision object itself.
 */

#include <stdio.h>
#include <string.h>

#include "tests/unit/policy/fixtures.h"

/* ---- decisions ---- */

static void test_decision(void **state)
{
	pol_decision d;
	(void)state;
	pol_decision_init(&d);
	assert_true(d.allowed);
	assert_int_equal(pol_decision_check(&d), EAC_OK);
	assert_int_equal(pol_decision_check(NULL), EAC_ERR_USAGE);

	/* the first refusal is the one reported */
	pol_national *n = fx_nat();
	assert_int_equal(pol_ceremony_officers(1, n, &d), EAC_ERR_POLICY);
	assert_int_equal(pol_check_commission_period(0, 1000, 0, &d), EAC_ERR_POLICY);
	assert_string_equal(d.rule, "CP-4.2.1");
	assert_int_equal(pol_decision_check(&d), EAC_ERR_POLICY);
	fx_contains(eac_err_detail(EAC_ERR_POLICY), "refused: a key ceremony needs at least 2 officers");
	fx_contains(eac_err_detail(EAC_ERR_POLICY), "(CP-4.2.1)");

	/* warnings are capped, the rest counted */
	pol_decision_init(&d);
	for (int i = 0; i < POL_WARNINGS_MAX + 3; i++)
		assert_int_equal(pol_check_commission_period(0, 1000, 1, &d), EAC_OK);
	assert_int_equal(d.nwarnings, POL_WARNINGS_MAX);
	assert_int_equal(d.dropped, 3);
	assert_string_equal(d.warning[7].rule, "CP-5.4a");
	assert_true(d.allowed);

	assert_string_equal(pol_kind_name(POL_KIND_DV), "DV");
	assert_string_equal(pol_kind_name(POL_KIND__COUNT), "?");
	pol_national_free(n);
}

/* A CHR from a request is printed in messages: it never breaks the line. */
static void test_one_line(void **state)
{
	(void)state;
	pol_national *n = fx_nat();
	pol_decision d;
	cvc_body p = fx_cert("FICVCA00001", "FICVCA00001",
			     fx_ec(CVC_ALG_ECDSA_SHA256, CVC_CURVE_BP256R1, 0, 1), CVC_CHAT_IS, 0x83,
			     "2026-01-01", "2026-03-01");
	cvc_body ca = p;
	p.chr = fx_ref("FIDV\xa0" "X00001"); /* ISO 8859-1 NBSP is a legal mnemonic octet */
	p.car = fx_ref("FICVCA00002");
	pol_decision_init(&d);
	eac_err r = pol_check_naming(n, POL_KIND_DV, &p, &ca, &d);
	fx_expect(r, &d, "CP-3.1a", NULL, "the CAR FICVCA00002 does not name the issuer's key FICVCA00001");
	pol_national_free(n);
}

/* ---- schemes (TR-02102-1, TR-03110-3 A.6.4.2, A.6.3) ---- */

typedef struct srow {
	const char *name;
	cvc_alg alg;
	cvc_curve curve; /* EC */
	unsigned rsa;	 /* RSA modulus bits */
	const char *rule;
	const char *text;
} srow;

static const srow srows[] = {
	{ "scheme ECDSA-SHA-256 on brainpoolP256r1", CVC_ALG_ECDSA_SHA256, CVC_CURVE_BP256R1, 0, NULL, NULL },
	{ "scheme ECDSA-SHA-224 on P-256", CVC_ALG_ECDSA_SHA224, CVC_CURVE_P256, 0, NULL, NULL },
	{ "scheme ECDSA-SHA-384 on P-384", CVC_ALG_ECDSA_SHA384, CVC_CURVE_P384, 0, NULL, NULL },
	{ "scheme ECDSA-SHA-512 on brainpoolP512r1", CVC_ALG_ECDSA_SHA512, CVC_CURVE_BP512R1, 0, NULL, NULL },
	{ "scheme ECDSA-SHA-256 on brainpoolP512r1", CVC_ALG_ECDSA_SHA256, CVC_CURVE_BP512R1, 0, NULL, NULL },
	{ "scheme ECDSA-SHA-384 on brainpoolP256r1", CVC_ALG_ECDSA_SHA384, CVC_CURVE_BP256R1, 0, "TR-03110-3 A.6.4.2",
	  "ECDSA-SHA-384 uses a 384-bit hash with a 256-bit key on brainpoolP256r1" },
	{ "scheme ECDSA-SHA-512 on P-384", CVC_ALG_ECDSA_SHA512, CVC_CURVE_P384, 0, "TR-03110-3 A.6.4.2", "512-bit hash" },
	{ "scheme ECDSA-SHA-1", CVC_ALG_ECDSA_SHA1, CVC_CURVE_BP256R1, 0, "TR-02102-1", "ECDSA-SHA-1 uses SHA-1" },
	{ "scheme RSA-v1.5-SHA-1", CVC_ALG_RSA_V15_SHA1, 0, 2048, "TR-02102-1", "SHA-1" },
	{ "scheme RSA-PSS-SHA-1", CVC_ALG_RSA_PSS_SHA1, 0, 3072, "TR-02102-1", "SHA-1" },
	{ "scheme RSA-v1.5-SHA-256 2048", CVC_ALG_RSA_V15_SHA256, 0, 2048, NULL, NULL },
	{ "scheme RSA-PSS-SHA-512 2048", CVC_ALG_RSA_PSS_SHA512, 0, 2048, NULL, NULL },
	{ "scheme RSA-PSS-SHA-512 1024 (encoding does not fit)", CVC_ALG_RSA_PSS_SHA512, 0, 1024, "TR-03110-3 A.6.3",
	  "needs a modulus of at least 1034 bits; this key has 1024" },
	{ "scheme RSA-v1.5-SHA-512 1024 (fits)", CVC_ALG_RSA_V15_SHA512, 0, 1024, NULL, NULL },
};

static cvc_pubkey key_of(cvc_alg alg, cvc_curve curve, unsigned rsa, unsigned seed)
{
	return cvc_alg_is_ec(alg) ? fx_ec(alg, curve, 1, seed) : fx_rsa(alg, rsa, seed);
}

static void srow_test(void **state)
{
	const srow *t = *state;
	pol_decision d;
	cvc_pubkey k = key_of(t->alg, t->curve, t->rsa, 3);
	pol_decision_init(&d);
	fx_expect(pol_check_scheme(&k, t->curve, &d), &d, t->rule, NULL, t->text);
}

static void test_scheme_usage(void **state)
{
	pol_decision d;
	cvc_pubkey k = fx_ec(CVC_ALG_ECDSA_SHA256, CVC_CURVE_BP256R1, 1, 1);
	(void)state;
	pol_decision_init(&d);
	assert_int_equal(pol_check_scheme(&k, CVC_CURVE_NONE, &d), EAC_ERR_USAGE); /* curve unknown */
	k.alg = CVC_ALG_NONE;
	assert_int_equal(pol_check_scheme(&k, CVC_CURVE_BP256R1, &d), EAC_ERR_USAGE);
	assert_int_equal(pol_check_scheme(NULL, CVC_CURVE_BP256R1, &d), EAC_ERR_USAGE);
	assert_true(d.allowed);
}

/* ---- national algorithm lists ---- */

static void test_national_algorithms(void **state)
{
	static const struct {
		cvc_alg alg;
		cvc_curve curve;
		unsigned rsa;
		const char *rule, *text;
	} t[] = {
		{ CVC_ALG_ECDSA_SHA256, CVC_CURVE_BP256R1, 0, NULL, NULL },
		{ CVC_ALG_ECDSA_SHA384, CVC_CURVE_BP384R1, 0, NULL, NULL },
		{ CVC_ALG_ECDSA_SHA256, CVC_CURVE_P256, 0, "TR-03110-3 A.6.4.2",
		  "the curve P-256 is not allowed by the national policy (allowed: brainpoolP256r1, brainpoolP384r1, brainpoolP512r1)" },
		{ CVC_ALG_ECDSA_SHA256, CVC_CURVE_NONE, 0, "TR-03110-3 A.6.4.2", "(none)" },
		{ CVC_ALG_RSA_V15_SHA256, 0, 3072, NULL, NULL },
		{ CVC_ALG_RSA_V15_SHA256, 0, 2560, "TR-03110-3 A.6.3",
		  "an RSA key of 2560 bits is not allowed by the national policy (allowed: 3072)" },
	};
	(void)state;
	pol_national *n = fx_nat_edit(", \"P-256\", \"P-384\"],\n    \"rsa_bits\": [2048, 3072, 4096]",
				      "],\n    \"rsa_bits\": [3072]");
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		pol_decision d;
		cvc_pubkey k = key_of(t[i].alg, t[i].curve, t[i].rsa, 4);
		pol_decision_init(&d);
		fx_expect(pol_check_national_algorithms(n, &k, &d), &d, t[i].rule, NULL, t[i].text);
	}
	pol_national_free(n);
	n = fx_nat_edit(",\n    \"rsa_bits\": [2048, 3072, 4096]", "");
	pol_decision d;
	cvc_pubkey k = fx_rsa(CVC_ALG_RSA_V15_SHA256, 2048, 1);
	pol_decision_init(&d);
	fx_expect(pol_check_national_algorithms(n, &k, &d), &d, "TR-03110-3 A.6.3", NULL, "(allowed: no RSA size)");
	pol_national_free(n);
}

/* ---- CP-4.7b key strength ---- */

static void test_key_strength(void **state)
{
	static const struct {
		cvc_alg alg;
		cvc_curve curve;
		unsigned rsa;
		const char *expiry;
		const char *rule, *warn, *text;
	} t[] = {
		{ CVC_ALG_ECDSA_SHA256, CVC_CURVE_BP256R1, 0, "2099-12-31", NULL, NULL, NULL },
		{ CVC_ALG_ECDSA_SHA256, CVC_CURVE_P256, 0, "2040-01-01", NULL, NULL, NULL },
		{ CVC_ALG_RSA_V15_SHA256, 0, 3072, "2045-01-01", NULL, NULL, NULL },
		{ CVC_ALG_RSA_V15_SHA256, 0, 2048, "2030-12-31", NULL, "TR-02102-1",
		  "the key (RSA 2048 bits) is below the 3000-bit RSA that BSI recommends" },
		{ CVC_ALG_RSA_V15_SHA256, 0, 2048, "2031-01-01", "CP-4.7b", NULL,
		  "the key (RSA 2048 bits, 112-bit security) is not strong enough for a validity ending on 2031-01-01" },
		{ CVC_ALG_RSA_PSS_SHA256, 0, 1024, "2027-01-01", "CP-4.7b", NULL, "less than 112 bits of security" },
		{ CVC_ALG_RSA_PSS_SHA256, 0, 2040, "2027-01-01", "CP-4.7b", NULL, "RSA 2040 bits" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		pol_decision d;
		cvc_pubkey k = key_of(t[i].alg, t[i].curve, t[i].rsa, 5);
		cvc_date e = fx_date(t[i].expiry);
		pol_decision_init(&d);
		fx_expect(pol_check_key_strength(&k, t[i].curve, &e, NULL, &d), &d, t[i].rule, t[i].warn,
			  t[i].text);
	}
	pol_decision d;
	cvc_pubkey k = fx_ec(CVC_ALG_ECDSA_SHA256, CVC_CURVE_BP256R1, 0, 1);
	cvc_date bad = { 2026, 13, 1 };
	pol_decision_init(&d);
	assert_int_equal(pol_check_key_strength(&k, CVC_CURVE_BP256R1, &bad, NULL, &d), EAC_ERR_USAGE);
}

/* ---- CP-1.3b / CP-4.5c rights and roles ---- */

typedef struct rrow {
	const char *name;
	pol_kind kind;
	int domestic;
	cvc_chat_type issuer_type; /* CVC_CHAT_NONE: no issuer (self-signed) */
	uint8_t issuer_auth;
	cvc_chat_type req_type; /* CVC_CHAT_NONE: the national default */
	uint8_t req_auth;
	const char *rule, *warn, *text;
	uint8_t want; /* the CHAT's first octet, role included */
} rrow;

static const rrow rrows[] = {
	{ "rights: self-signed CVCA takes the CVCA default", POL_KIND_CVCA, 1, 0, 0, 0, 0, NULL, NULL, NULL, 0xC3 },
	{ "rights: CVCA requests dg3 only", POL_KIND_CVCA, 1, 0, 0, CVC_CHAT_IS, 0x01, NULL, NULL, NULL, 0xC1 },
	{ "rights: domestic DV under C3 takes dg3,dg4", POL_KIND_DV, 1, CVC_CHAT_IS, 0xC3, 0, 0, NULL, NULL, NULL, 0x83 },
	{ "rights: foreign DV gets the foreign-DV role", POL_KIND_DV, 0, CVC_CHAT_IS, 0xC3, 0, 0, NULL, NULL, NULL, 0x43 },
	{ "rights: requested role bits are ignored", POL_KIND_DV, 0, CVC_CHAT_IS, 0xC3, CVC_CHAT_IS, 0xC1, NULL, NULL, NULL, 0x41 },
	{ "rights: IS under a domestic DV", POL_KIND_IS, 1, CVC_CHAT_IS, 0x83, 0, 0, NULL, NULL, NULL, 0x03 },
	{ "rights: IS under a foreign-role DV certificate", POL_KIND_IS, 1, CVC_CHAT_IS, 0x43, 0, 0, NULL, NULL, NULL, 0x03 },
	{ "rights: default narrowed to the issuer's", POL_KIND_IS, 1, CVC_CHAT_IS, 0x81, 0, 0, NULL, "CP-1.3b",
	  "default rights narrowed to the issuer's: dg4 dropped", 0x01 },
	{ "rights: requested narrower than the issuer's", POL_KIND_IS, 1, CVC_CHAT_IS, 0x83, CVC_CHAT_IS, 0x02, NULL, NULL, NULL, 0x02 },
	{ "rights: requested wider than the issuer's", POL_KIND_IS, 1, CVC_CHAT_IS, 0x81, CVC_CHAT_IS, 0x03, "CP-1.3b", NULL,
	  "the requested rights dg3,dg4 are wider than the issuer's (dg3)", 0 },
	{ "rights: DV wider than the CVCA", POL_KIND_DV, 1, CVC_CHAT_IS, 0xC2, CVC_CHAT_IS, 0x01, "CP-1.3b", NULL, "dg3", 0 },
	{ "rights: requested for another terminal type", POL_KIND_IS, 1, CVC_CHAT_IS, 0x83, CVC_CHAT_AT, 0x00, "CP-4.5c", NULL,
	  "the requested rights are for id-AT; the national terminal type is id-IS", 0 },
	{ "rights: issuer of another terminal type", POL_KIND_DV, 1, CVC_CHAT_AT, 0xC0, 0, 0, "CP-4.5c", NULL,
	  "the issuer's certificate is for id-AT terminals, the national policy for id-IS", 0 },
	{ "rights: DV under a DV certificate", POL_KIND_DV, 1, CVC_CHAT_IS, 0x83, 0, 0, "CP-4.5c", NULL,
	  "a DV certificate is issued under a CVCA certificate; the issuer's CHAT has the role dv_domestic", 0 },
	{ "rights: IS under a CVCA certificate", POL_KIND_IS, 1, CVC_CHAT_IS, 0xC3, 0, 0, "CP-4.5c", NULL, "role cvca", 0 },
	{ "rights: IS under a terminal certificate", POL_KIND_IS, 1, CVC_CHAT_IS, 0x03, 0, 0, "CP-4.5c", NULL, "role terminal", 0 },
};

static void rrow_test(void **state)
{
	const rrow *t = *state;
	pol_national *n = fx_nat();
	pol_decision d;
	cvc_chat issuer = fx_chat(t->issuer_type, t->issuer_auth), req = fx_chat(t->req_type, t->req_auth);
	cvc_chat out = { 0 };
	pol_decision_init(&d);
	eac_err r = pol_rights(n, t->kind, t->domestic, t->issuer_type ? &issuer : NULL,
			       t->req_type ? &req : NULL, &out, &d);
	fx_expect(r, &d, t->rule, t->warn, t->text);
	if (t->rule == NULL) {
		assert_int_equal(out.type, CVC_CHAT_IS);
		assert_int_equal(out.len, 1);
		assert_int_equal(out.auth[0], t->want);
	} else {
		assert_int_equal(out.len, 0);
	}
	pol_national_free(n);
}

/* ---- CP-3.1 naming ---- */

typedef struct nrow {
	const char *name;
	pol_kind kind;
	const char *car, *chr;	  /* the proposed certificate */
	const char *issuer;	  /* the issuer's CHR; NULL: self-signed */
	uint8_t issuer_role;	  /* first CHAT octet of the issuer */
	const char *rule, *text;
} nrow;

static const nrow nrows[] = {
	{ "naming: self-signed CVCA", POL_KIND_CVCA, "FICVCA00001", "FICVCA00001", NULL, 0, NULL, NULL },
	{ "naming: link certificate", POL_KIND_CVCA, "FICVCA00001", "FICVCA00002", "FICVCA00001", 0xC3, NULL, NULL },
	{ "naming: domestic DV", POL_KIND_DV, "FICVCA00001", "FIDVPOL00001", "FICVCA00001", 0xC3, NULL, NULL },
	{ "naming: foreign DV", POL_KIND_DV, "FICVCA00001", "DEDVBKA00001", "FICVCA00001", 0xC3, NULL, NULL },
	{ "naming: IS", POL_KIND_IS, "FIDVPOL00001", "FIISHEL00001", "FIDVPOL00001", 0x83, NULL, NULL },
	{ "naming: IS under a DV certificate from a foreign CVCA", POL_KIND_IS, "FIDVPOL00003", "FIISHEL00002", "FIDVPOL00003", 0x43, NULL, NULL },
	{ "naming: CAR is not the issuer's CHR", POL_KIND_DV, "FICVCA00002", "FIDVPOL00001", "FICVCA00001", 0xC3, "CP-3.1a",
	  "the CAR FICVCA00002 does not name the issuer's key FICVCA00001" },
	{ "naming: IS CAR is not the DV's CHR", POL_KIND_IS, "FIDVPOL00001", "FIISHEL00001", "FIDVPOL00002", 0x83, "CP-3.1a", NULL },
	{ "naming: holder country UT (test PKI code)", POL_KIND_DV, "FICVCA00001", "UTDVPOL00001", "FICVCA00001", 0xC3, "CP-3.1b",
	  "the holder reference UTDVPOL00001 does not start with an ISO 3166-1 country code (UT is not a country)" },
	{ "naming: no holder mnemonic", POL_KIND_DV, "FICVCA00001", "FI00001", "FICVCA00001", 0xC3, "CP-3.1b",
	  "has no holder mnemonic" },
	{ "naming: CVCA of another country", POL_KIND_CVCA, "SECVCA00001", "SECVCA00001", NULL, 0, "CP-3.1c",
	  "a CVCA certificate names the national CVCA of FI; SECVCA00001 is of SE" },
	{ "naming: self-signed with CAR != CHR", POL_KIND_CVCA, "FICVCA00001", "FICVCA00002", NULL, 0, "CP-3.1c",
	  "a self-signed CVCA certificate has CAR = CHR" },
	{ "naming: link changes the mnemonic", POL_KIND_CVCA, "FICVCA00001", "FIROOT00002", "FICVCA00001", 0xC3, "CP-3.1c",
	  "FIROOT00002 does not continue FICVCA00001" },
	{ "naming: DV issued by a foreign CVCA", POL_KIND_DV, "SECVCA00001", "FIDVPOL00001", "SECVCA00001", 0xC3, "CP-3.1c",
	  "a DV certificate is issued by the CVCA of FI; SECVCA00001 is not that CVCA" },
	{ "naming: DV issued under a DV certificate", POL_KIND_DV, "FIDVPOL00001", "FIDVX00001", "FIDVPOL00001", 0x83, "CP-3.1c", NULL },
	{ "naming: IS issued by a foreign DV", POL_KIND_IS, "SEDVPOL00001", "FIISHEL00001", "SEDVPOL00001", 0x83, "CP-3.1c",
	  "an IS certificate is issued by a DV of FI" },
	{ "naming: IS of another country", POL_KIND_IS, "FIDVPOL00001", "SEISHEL00001", "FIDVPOL00001", 0x83, "CP-3.1c",
	  "an IS certificate names a national inspection system of FI; SEISHEL00001 is of SE" },
};

static void nrow_test(void **state)
{
	const nrow *t = *state;
	pol_national *n = fx_nat();
	pol_decision d;
	cvc_pubkey k = fx_ec(CVC_ALG_ECDSA_SHA256, CVC_CURVE_BP256R1, 0, 6);
	cvc_body p = fx_cert(t->car, t->chr, k, CVC_CHAT_IS, 0x03, "2026-11-23", "2026-12-23");
	cvc_body issuer;
	if (t->issuer != NULL)
		issuer = fx_cert("FICVCA00001", t->issuer, k, CVC_CHAT_IS, t->issuer_role, "2026-01-01",
				 "2027-01-01");
	pol_decision_init(&d);
	fx_expect(pol_check_naming(n, t->kind, &p, t->issuer ? &issuer : NULL, &d), &d, t->rule,
		  NULL, t->text);
	pol_national_free(n);
}

/* ---- CP-4.2.1 officers ---- */

static void test_officers(void **state)
{
	static const struct {
		unsigned present, min;
		const char *rule, *text;
	} t[] = {
		{ 2, 2, NULL, NULL },
		{ 5, 2, NULL, NULL },
		{ 1, 2, "CP-4.2.1", "a key ceremony needs at least 2 officers under the national policy; 1 is present" },
		{ 0, 2, "CP-4.2.1", "0 are present" },
		{ 3, 3, NULL, NULL },
		{ 2, 3, "CP-4.2.1", "at least 3 officers" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char to[32];
		snprintf(to, sizeof(to), "\"officers_min\": %u", t[i].min);
		pol_national *n = fx_nat_edit("\"officers_min\": 2", to);
		pol_decision d;
		pol_decision_init(&d);
		fx_expect(pol_ceremony_officers(t[i].present, n, &d), &d, t[i].rule, NULL, t[i].text);
		pol_national_free(n);
	}
}

/* ---- CP-5.4a the Commission's 90 days ---- */

static void test_commission_period(void **state)
{
	const int64_t now = fx_time("2026-11-23T12:00:00Z"), day = 86400;
	const struct {
		int64_t sent;
		int domestic;
		const char *rule, *warn, *text;
	} t[] = {
		{ 0, 0, "CP-5.4a", NULL, "has not been distributed to the Commission" },
		{ now - 89 * day, 0, "CP-5.4a", NULL,
		  "distributed to the Commission on 2026-08-26T12:00:00Z; foreign DV certificates may be issued from 2026-11-24T12:00:00Z" },
		{ now - 90 * day + 1, 0, "CP-5.4a", NULL, NULL },
		{ now - 90 * day, 0, NULL, NULL, NULL },
		{ now - 400 * day, 0, NULL, NULL, NULL },
		{ 0, 1, NULL, "CP-5.4a", "not been distributed to the Commission yet" },
		{ now - 10 * day, 1, NULL, "CP-5.4a", "other states may not trust it before 2027-02-11T12:00:00Z" },
		{ now - 90 * day, 1, NULL, NULL, NULL },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		pol_decision d;
		pol_decision_init(&d);
		fx_expect(pol_check_commission_period(t[i].sent, now, t[i].domestic, &d), &d, t[i].rule,
			  t[i].warn, t[i].text);
	}
}

int main(void)
{
	static const struct CMUnitTest plain[] = {
		cmocka_unit_test(test_decision),	  cmocka_unit_test(test_one_line),
		cmocka_unit_test(test_scheme_usage),	  cmocka_unit_test(test_national_algorithms),
		cmocka_unit_test(test_key_strength),	  cmocka_unit_test(test_officers),
		cmocka_unit_test(test_commission_period),
	};
	const fx_table tables[] = {
		FX_TABLE(srows, srow_test),
		FX_TABLE(rrows, rrow_test),
		FX_TABLE(nrows, nrow_test),
	};
	return fx_run("policy-rules", plain, sizeof(plain) / sizeof(plain[0]), tables,
		      sizeof(tables) / sizeof(tables[0]));
}
