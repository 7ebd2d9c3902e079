/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for chain verification and the trust store (cvc/chain.c):
 * CAR = CHR of the issuer (CP-3.1a), role hierarchy, one terminal type,
 * inherited domain parameters, AND of rights, dates, link certificates,
 * path building and authenticated requests. */

#include <stdlib.h>
#include <string.h>

#include "tests/unit/cvc/helpers.h"

typedef struct pki {
	EVP_PKEY *cvca, *dv, *term;
	cvc_obj *c, *d, *t;
} pki;

static void make_pki(pki *p, cvc_curve curve, cvc_chat_type type, const char *cr, const char *dr,
		     const char *tr)
{
	p->cvca = h_ec(curve);
	p->dv = h_ec(curve);
	p->term = h_ec(curve);
	cvc_alg a = cvc_curve_bits(curve) == 256 ? CVC_ALG_ECDSA_SHA256 : CVC_ALG_ECDSA_SHA384;
	h_spec c = { p->cvca, a, NULL, p->cvca, a, "DECVCA00001", CVC_ROLE_CVCA, type, cr,
		     "2025-01-01", "2027-12-31" };
	h_spec d = { p->cvca, a, "DECVCA00001", p->dv, a, "DEDVCA00001", CVC_ROLE_DV_DOMESTIC, type, dr,
		     "2025-01-01", "2025-03-31" };
	h_spec t = { p->dv, a, "DEDVCA00001", p->term, a, "DETERM00001", CVC_ROLE_TERMINAL, type, tr,
		     "2025-01-10", "2025-01-31" };
	p->c = h_issue_obj(&c);
	p->d = h_issue_obj(&d);
	p->t = h_issue_obj(&t);
}

static void free_pki(pki *p)
{
	cvc_obj_free(p->c);
	cvc_obj_free(p->d);
	cvc_obj_free(p->t);
	EVP_PKEY_free(p->cvca);
	EVP_PKEY_free(p->dv);
	EVP_PKEY_free(p->term);
}

static cvc_date day(const char *s)
{
	cvc_date d;
	assert_int_equal(cvc_date_parse(s, &d), EAC_OK);
	return d;
}

static void test_chain_ok(void **state)
{
	(void)state;
	pki p;
	cvc_chain_result r;
	make_pki(&p, CVC_CURVE_BP256R1, CVC_CHAT_AT, "dg1,dg2,dg3,age,ri", "dg1,dg2,age,ri", "dg1,dg3,age,pin");
	const cvc_obj *chain[] = { p.c, p.d, p.t };
	cvc_date at = day("2025-01-15");
	assert_int_equal(cvc_chain_verify(chain, 3, &at, &r), EAC_OK);
	assert_int_equal(r.len, 3);
	assert_int_equal(r.type, CVC_CHAT_AT);
	assert_int_equal(r.role, CVC_ROLE_TERMINAL);
	assert_int_equal(r.curve, CVC_CURVE_BP256R1);
	assert_string_equal(r.path[0].s, "DECVCA00001");
	assert_string_equal(r.path[2].s, "DETERM00001");
	/* effective rights: the AND of the three (dg3 and pin drop out) */
	char rights[128];
	cvc_rights_format(&r.chat, rights, sizeof(rights));
	assert_string_equal(rights, "age,dg1");
	assert_int_equal(cvc_chat_role(&r.chat), CVC_ROLE_TERMINAL);
	/* prefixes are chains too */
	assert_int_equal(cvc_chain_verify(chain, 2, &at, &r), EAC_OK);
	assert_int_equal(r.role, CVC_ROLE_DV_DOMESTIC);
	cvc_rights_format(&r.chat, rights, sizeof(rights));
	assert_string_equal(rights, "age,ri,dg1,dg2");
	assert_int_equal(cvc_chain_verify(chain, 1, NULL, &r), EAC_OK);
	assert_int_equal(r.role, CVC_ROLE_CVCA);
	free_pki(&p);
}

static void test_chain_dates(void **state)
{
	(void)state;
	pki p;
	make_pki(&p, CVC_CURVE_P256, CVC_CHAT_IS, "dg3,dg4", "dg3,dg4", "dg3");
	const cvc_obj *chain[] = { p.c, p.d, p.t };
	cvc_date at;
	/* both ends are valid days (TR-03110-3 C.1.5: expiry inclusive) */
	at = day("2025-01-10");
	assert_int_equal(cvc_chain_verify(chain, 3, &at, NULL), EAC_OK);
	at = day("2025-01-31");
	assert_int_equal(cvc_chain_verify(chain, 3, &at, NULL), EAC_OK);
	at = day("2025-01-09");
	h_assert_err(cvc_chain_verify(chain, 3, &at, NULL), EAC_ERR_DATE,
		     "^certificate DETERM00001 is not valid before 2025-01-10 \\(checked at 2025-01-09\\)$");
	at = day("2025-02-01");
	h_assert_err(cvc_chain_verify(chain, 3, &at, NULL), EAC_ERR_DATE,
		     "^certificate DETERM00001 expired after 2025-01-31 \\(checked at 2025-02-01\\)$");
	at = day("2025-04-01");
	h_assert_err(cvc_chain_verify(chain, 2, &at, NULL), EAC_ERR_DATE, "^certificate DEDVCA00001 expired after 2025-03-31");
	/* the CVCA certificate is not date-checked (TR-03110-3 2.5) */
	at = day("2031-01-01");
	assert_int_equal(cvc_chain_verify(chain, 1, &at, NULL), EAC_OK);
	at = day("2024-12-31");
	assert_int_equal(cvc_chain_verify(chain, 1, &at, NULL), EAC_OK);
	/* no date: no check */
	assert_int_equal(cvc_chain_verify(chain, 3, NULL, NULL), EAC_OK);
	free_pki(&p);
}

static void test_chain_structure_refusals(void **state)
{
	(void)state;
	pki p;
	cvc_date at = day("2025-01-15");
	make_pki(&p, CVC_CURVE_BP256R1, CVC_CHAT_AT, "dg1", "dg1", "dg1");
	/* order: the terminal names the DV, not the CVCA (CP-3.1a) */
	const cvc_obj *skip[] = { p.c, p.t };
	h_assert_err(cvc_chain_verify(skip, 2, &at, NULL), EAC_ERR_CHAIN,
		     "^certificate DETERM00001 names CAR DEDVCA00001, but the certificate before it is DECVCA00001 \\(CP-3.1a\\)$");
	/* the anchor must be a self-signed CVCA certificate */
	const cvc_obj *nodv[] = { p.d, p.t };
	h_assert_err(cvc_chain_verify(nodv, 2, &at, NULL), EAC_ERR_CHAIN,
		     "^trust anchor DEDVCA00001 is a dv_domestic certificate, not a CVCA certificate$");
	/* a terminal certificate straight from the CVCA key */
	h_spec ts = { p.cvca, CVC_ALG_ECDSA_SHA256, "DECVCA00001", p.term, CVC_ALG_ECDSA_SHA256, "DETERM00009",
		      CVC_ROLE_TERMINAL, CVC_CHAT_AT, "dg1", "2025-01-10", "2025-01-31" };
	cvc_obj *t2 = h_issue_obj(&ts);
	const cvc_obj *direct[] = { p.c, t2 };
	h_assert_err(cvc_chain_verify(direct, 2, &at, NULL), EAC_ERR_CHAIN,
		     "a terminal certificate \\(DETERM00009\\) cannot be issued by a cvca \\(DECVCA00001\\)");
	cvc_obj_free(t2);
	/* a DV certificate from a DV */
	h_spec ds = { p.dv, CVC_ALG_ECDSA_SHA256, "DEDVCA00001", p.term, CVC_ALG_ECDSA_SHA256, "DEDVCA00009",
		      CVC_ROLE_DV_FOREIGN, CVC_CHAT_AT, "dg1", "2025-01-10", "2025-01-31" };
	cvc_obj *d2 = h_issue_obj(&ds);
	const cvc_obj *dvdv[] = { p.c, p.d, d2 };
	h_assert_err(cvc_chain_verify(dvdv, 3, &at, NULL), EAC_ERR_CHAIN,
		     "a dv_foreign certificate \\(DEDVCA00009\\) cannot be issued by a dv_domestic");
	cvc_obj_free(d2);
	/* nothing after a terminal */
	const cvc_obj *after[] = { p.c, p.d, p.t, p.t };
	h_assert_err(cvc_chain_verify(after, 4, &at, NULL), EAC_ERR_CHAIN, "CHR DETERM00001 appears twice");
	/* one terminal type along the chain (TR-03110-3 C.4) */
	h_spec is = { p.dv, CVC_ALG_ECDSA_SHA256, "DEDVCA00001", p.term, CVC_ALG_ECDSA_SHA256, "DETERM00002",
		      CVC_ROLE_TERMINAL, CVC_CHAT_IS, "dg3", "2025-01-10", "2025-01-31" };
	cvc_obj *tis = h_issue_obj(&is);
	const cvc_obj *mixed[] = { p.c, p.d, tis };
	h_assert_err(cvc_chain_verify(mixed, 3, &at, NULL), EAC_ERR_CHAIN,
		     "^certificate DETERM00002 is for id-IS terminals, its chain for id-AT \\(TR-03110-3 C.4\\)$");
	cvc_obj_free(tis);
	/* a certificate signed by another key under the right CAR */
	h_spec forged = { p.term, CVC_ALG_ECDSA_SHA256, "DEDVCA00001", p.term, CVC_ALG_ECDSA_SHA256,
			  "DETERM00003", CVC_ROLE_TERMINAL, CVC_CHAT_AT, "dg1", "2025-01-10", "2025-01-31" };
	cvc_obj *tf = h_issue_obj(&forged);
	const cvc_obj *fc[] = { p.c, p.d, tf };
	h_assert_err(cvc_chain_verify(fc, 3, &at, NULL), EAC_ERR_SIGNATURE,
		     "^certificate DETERM00003, signed by DEDVCA00001: signature does not verify \\(ECDSA-SHA-256\\)$");
	cvc_obj_free(tf);
	/* a request is not a link of a chain */
	cvc_obj *rq = h_request(p.term, CVC_ALG_ECDSA_SHA256, "DETERM00004", "DEDVCA00001", NULL, CVC_ALG_NONE, NULL);
	const cvc_obj *withreq[] = { p.c, p.d, rq };
	h_assert_err(cvc_chain_verify(withreq, 3, &at, NULL), EAC_ERR_CHAIN, "DETERM00004 is not a certificate");
	cvc_obj_free(rq);
	h_assert_err(cvc_chain_verify(withreq, 0, &at, NULL), EAC_ERR_USAGE, "a chain of 0 certificates");
	free_pki(&p);
}

static void test_anchor_refusals(void **state)
{
	(void)state;
	EVP_PKEY *k = h_ec(CVC_CURVE_BP256R1), *other = h_ec(CVC_CURVE_BP256R1);
	/* a CVCA certificate for one key signed by another, named as self-signed */
	h_spec s = { other, CVC_ALG_ECDSA_SHA256, NULL, k, CVC_ALG_ECDSA_SHA256, "DECVCA00001", CVC_ROLE_CVCA,
		     CVC_CHAT_AT, "dg1", "2025-01-01", "2027-01-01" };
	cvc_obj *c = h_issue_obj(&s);
	const cvc_obj *chain[] = { c };
	h_assert_err(cvc_chain_verify(chain, 1, NULL, NULL), EAC_ERR_SIGNATURE,
		     "^certificate DECVCA00001, signed by DECVCA00001: signature does not verify");
	cvc_obj_free(c);
	/* a CVCA-role certificate with another CAR is a link, not an anchor */
	h_spec l = { k, CVC_ALG_ECDSA_SHA256, "DECVCA00000", k, CVC_ALG_ECDSA_SHA256, "DECVCA00001", CVC_ROLE_CVCA,
		     CVC_CHAT_AT, "dg1", "2025-01-01", "2027-01-01" };
	c = h_issue_obj(&l);
	chain[0] = c;
	h_assert_err(cvc_chain_verify(chain, 1, NULL, NULL), EAC_ERR_CHAIN,
		     "^trust anchor DECVCA00001 is not self-signed \\(its CAR is DECVCA00000\\)$");
	cvc_obj_free(c);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}

static void test_link_changes_curve(void **state)
{
	(void)state;
	pki p;
	cvc_chain_result r;
	make_pki(&p, CVC_CURVE_BP256R1, CVC_CHAT_AT, "dg1,dg2", "dg1", "dg1");
	/* the new CVCA key is on P-384, signed by the old bp256 key */
	EVP_PKEY *n = h_ec(CVC_CURVE_P384), *dv2 = h_ec(CVC_CURVE_P384), *t2 = h_ec(CVC_CURVE_P384);
	h_spec ls = { p.cvca, CVC_ALG_ECDSA_SHA256, "DECVCA00001", n, CVC_ALG_ECDSA_SHA384, "DECVCA00002",
		      CVC_ROLE_CVCA, CVC_CHAT_AT, "dg1,dg2", "2025-06-01", "2028-05-31" };
	h_spec ds = { n, CVC_ALG_ECDSA_SHA384, "DECVCA00002", dv2, CVC_ALG_ECDSA_SHA384, "DEDVCA00002",
		      CVC_ROLE_DV_DOMESTIC, CVC_CHAT_AT, "dg1,dg2", "2025-06-01", "2025-08-31" };
	h_spec ts = { dv2, CVC_ALG_ECDSA_SHA384, "DEDVCA00002", t2, CVC_ALG_ECDSA_SHA384, "DETERM00002",
		      CVC_ROLE_TERMINAL, CVC_CHAT_AT, "dg2", "2025-06-02", "2025-06-30" };
	cvc_obj *link = h_issue_obj(&ls), *d2 = h_issue_obj(&ds), *tt = h_issue_obj(&ts);
	assert_true(cvc_obj_body(link)->key.has_params);
	const cvc_obj *chain[] = { p.c, link, d2, tt };
	cvc_date at = day("2025-06-15");
	assert_int_equal(cvc_chain_verify(chain, 4, &at, &r), EAC_OK);
	/* the DV and terminal keys inherit P-384 from the link certificate */
	assert_int_equal(r.curve, CVC_CURVE_P384);
	char rights[64];
	cvc_rights_format(&r.chat, rights, sizeof(rights));
	assert_string_equal(rights, "dg2");
	/* the link is not date-checked; the DV under it is */
	at = day("2030-01-01");
	h_assert_err(cvc_chain_verify(chain, 4, &at, &r), EAC_ERR_DATE, "DEDVCA00002 expired after 2025-08-31");
	assert_int_equal(cvc_chain_verify(chain, 2, &at, &r), EAC_OK);
	/* a P-384 DV key cannot inherit the bp256 parameters of its CVCA */
	h_spec bs = { p.cvca, CVC_ALG_ECDSA_SHA256, "DECVCA00001", dv2, CVC_ALG_ECDSA_SHA384, "DEDVCA00003",
		      CVC_ROLE_DV_DOMESTIC, CVC_CHAT_AT, "dg1", "2025-06-01", "2025-08-31" };
	cvc_obj *bad = h_issue_obj(&bs);
	const cvc_obj *wrong[] = { p.c, bad };
	h_assert_err(cvc_chain_verify(wrong, 2, NULL, NULL), EAC_ERR_CHAIN,
		     "^certificate DEDVCA00003: its public point does not fit the inherited curve brainpoolP256r1$");
	cvc_obj_free(bad);
	cvc_obj_free(link);
	cvc_obj_free(d2);
	cvc_obj_free(tt);
	EVP_PKEY_free(n);
	EVP_PKEY_free(dv2);
	EVP_PKEY_free(t2);
	free_pki(&p);
}

static void test_rsa_chain_and_algorithm_change(void **state)
{
	(void)state;
	EVP_PKEY *c = h_rsa(2048), *d = h_rsa(1024), *e = h_ec(CVC_CURVE_BP256R1);
	h_spec cs = { c, CVC_ALG_RSA_PSS_SHA256, NULL, c, CVC_ALG_RSA_PSS_SHA256, "DECVCA00001", CVC_ROLE_CVCA,
		      CVC_CHAT_ST, "sig,qsig", "2025-01-01", "2027-01-01" };
	h_spec ds = { c, CVC_ALG_RSA_PSS_SHA256, "DECVCA00001", d, CVC_ALG_RSA_V15_SHA1, "DEDVCA00001",
		      CVC_ROLE_DV_FOREIGN, CVC_CHAT_ST, "sig", "2025-01-01", "2025-03-01" };
	h_spec es = { c, CVC_ALG_RSA_PSS_SHA256, "DECVCA00001", e, CVC_ALG_ECDSA_SHA256, "DEDVCA00002",
		      CVC_ROLE_DV_DOMESTIC, CVC_CHAT_ST, "sig", "2025-01-01", "2025-03-01" };
	cvc_obj *co = h_issue_obj(&cs), *dobj = h_issue_obj(&ds), *eo = NULL;
	const cvc_obj *chain[] = { co, dobj };
	cvc_chain_result r;
	assert_int_equal(cvc_chain_verify(chain, 2, NULL, &r), EAC_OK);
	assert_int_equal(r.curve, CVC_CURVE_NONE);
	assert_int_equal(r.type, CVC_CHAT_ST);
	/* an EC DV key under an RSA CVCA has nothing to inherit, and only
	 * link certificates change the algorithm (TR-03110-3 2.3) */
	eo = h_issue_obj(&es);
	chain[1] = eo;
	h_assert_err(cvc_chain_verify(chain, 2, NULL, &r), EAC_ERR_CHAIN,
		     "^certificate DEDVCA00002 has an EC key under an RSA key; only link certificates change the algorithm$");
	cvc_obj_free(co);
	cvc_obj_free(dobj);
	cvc_obj_free(eo);
	EVP_PKEY_free(c);
	EVP_PKEY_free(d);
	EVP_PKEY_free(e);
}

static void add(cvc_store *s, const cvc_obj *o)
{
	cvc_bytes b = cvc_obj_encoding(o);
	eac_err e = cvc_store_add(s, b.ptr, b.len);
	if (e != EAC_OK)
		fail_msg("store: %s", eac_err_detail(e));
}

static void test_store(void **state)
{
	(void)state;
	pki p;
	cvc_store *s = NULL;
	const cvc_obj *path[CVC_CHAIN_MAX];
	size_t n = 0;
	cvc_chain_result r;
	cvc_date at = day("2025-01-15");
	make_pki(&p, CVC_CURVE_BP256R1, CVC_CHAT_AT, "dg1", "dg1", "dg1");
	assert_int_equal(cvc_store_new(&s), EAC_OK);
	/* without the DV there is no path */
	add(s, p.c);
	h_assert_err(cvc_store_path(s, p.t, path, CVC_CHAIN_MAX, &n), EAC_ERR_CHAIN,
		     "^no certificate with CHR DEDVCA00001 \\(the CAR of DETERM00001\\) in the trust store$");
	add(s, p.d);
	add(s, p.d); /* the same certificate twice: kept once */
	assert_int_equal(cvc_store_count(s), 2);
	assert_int_equal(cvc_store_path(s, p.t, path, CVC_CHAIN_MAX, &n), EAC_OK);
	assert_int_equal(n, 3);
	assert_ptr_equal(path[2], p.t);
	assert_string_equal(cvc_obj_body(path[0])->chr.s, "DECVCA00001");
	assert_int_equal(cvc_store_verify(s, p.t, &at, &r), EAC_OK);
	assert_int_equal(r.len, 3);
	h_assert_err(cvc_store_path(s, p.t, path, 2, &n), EAC_ERR_USAGE, "path of 3 certificates; room for 2");
	/* a self-signed certificate is trusted only if the store holds it */
	assert_int_equal(cvc_store_verify(s, p.c, NULL, &r), EAC_OK);
	EVP_PKEY *k = h_ec(CVC_CURVE_BP256R1);
	h_spec fake = { k, CVC_ALG_ECDSA_SHA256, NULL, k, CVC_ALG_ECDSA_SHA256, "DECVCA00001", CVC_ROLE_CVCA,
			CVC_CHAT_AT, "dg1", "2025-01-01", "2027-01-01" };
	cvc_obj *f = h_issue_obj(&fake);
	h_assert_err(cvc_store_verify(s, f, NULL, &r), EAC_ERR_CHAIN,
		     "^self-signed certificate DECVCA00001 is not in the trust store$");
	/* one CHR, one key (TR-03110-3 A.6.2) */
	cvc_bytes fb = cvc_obj_encoding(f);
	h_assert_err(cvc_store_add(s, fb.ptr, fb.len), EAC_ERR_EXISTS,
		     "^CHR DECVCA00001 is already in the trust store with a different key$");
	assert_int_equal(cvc_store_count(s), 2);
	/* requests are not trust */
	cvc_obj *rq = h_request(k, CVC_ALG_ECDSA_SHA256, "DETERM00002", NULL, NULL, CVC_ALG_NONE, NULL);
	cvc_bytes rb = cvc_obj_encoding(rq);
	h_assert_err(cvc_store_add(s, rb.ptr, rb.len), EAC_ERR_MALFORMED, "not a certificate");
	/* but verify: a plain request by its proof of possession */
	assert_int_equal(cvc_store_verify(s, rq, &at, &r), EAC_OK);
	assert_int_equal(r.len, 0);
	cvc_obj_free(rq);
	cvc_obj_free(f);
	EVP_PKEY_free(k);
	cvc_store_free(s);
	free_pki(&p);
}

static void test_store_prefers_self_signed(void **state)
{
	(void)state;
	pki p;
	cvc_store *s = NULL;
	const cvc_obj *path[CVC_CHAIN_MAX];
	size_t n = 0;
	make_pki(&p, CVC_CURVE_BP256R1, CVC_CHAT_AT, "dg1", "dg1", "dg1");
	EVP_PKEY *k2 = h_ec(CVC_CURVE_BP256R1), *dv2 = h_ec(CVC_CURVE_BP256R1);
	h_spec ls = { p.cvca, CVC_ALG_ECDSA_SHA256, "DECVCA00001", k2, CVC_ALG_ECDSA_SHA256, "DECVCA00002",
		      CVC_ROLE_CVCA, CVC_CHAT_AT, "dg1", "2025-06-01", "2028-05-31" };
	h_spec ss = { k2, CVC_ALG_ECDSA_SHA256, NULL, k2, CVC_ALG_ECDSA_SHA256, "DECVCA00002", CVC_ROLE_CVCA,
		      CVC_CHAT_AT, "dg1", "2025-06-01", "2028-05-31" };
	h_spec ds = { k2, CVC_ALG_ECDSA_SHA256, "DECVCA00002", dv2, CVC_ALG_ECDSA_SHA256, "DEDVCA00002",
		      CVC_ROLE_DV_DOMESTIC, CVC_CHAT_AT, "dg1", "2025-06-01", "2025-08-31" };
	cvc_obj *link = h_issue_obj(&ls), *self = h_issue_obj(&ss), *d2 = h_issue_obj(&ds);
	assert_int_equal(cvc_store_new(&s), EAC_OK);
	add(s, p.c);
	add(s, link);
	assert_int_equal(cvc_store_path(s, d2, path, CVC_CHAIN_MAX, &n), EAC_OK);
	assert_int_equal(n, 3); /* old CVCA > link > DV */
	assert_ptr_equal(path[1], cvc_store_find(s, &cvc_obj_body(link)->chr));
	/* with the new self-signed certificate (same CHR, same key) the
	 * path starts there */
	add(s, self);
	assert_int_equal(cvc_store_count(s), 3);
	assert_int_equal(cvc_store_path(s, d2, path, CVC_CHAIN_MAX, &n), EAC_OK);
	assert_int_equal(n, 2);
	assert_true(cvc_obj_self_signed(path[0]));
	assert_int_equal(cvc_store_verify(s, d2, NULL, NULL), EAC_OK);
	/* and the link certificate itself verifies through the old CVCA */
	assert_int_equal(cvc_store_verify(s, link, NULL, NULL), EAC_OK);
	cvc_obj_free(link);
	cvc_obj_free(self);
	cvc_obj_free(d2);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(dv2);
	cvc_store_free(s);
	free_pki(&p);
}

static void test_store_authenticated_request(void **state)
{
	(void)state;
	pki p;
	cvc_store *s = NULL;
	cvc_chain_result r;
	make_pki(&p, CVC_CURVE_BP384R1, CVC_CHAT_IS, "dg3,dg4", "dg3", "dg3");
	assert_int_equal(cvc_store_new(&s), EAC_OK);
	add(s, p.c);
	add(s, p.d);
	/* a DV re-key request authenticated with the current DV key (CP-4.7c) */
	EVP_PKEY *nk = h_ec(CVC_CURVE_BP384R1);
	cvc_obj *rq = h_request(nk, CVC_ALG_ECDSA_SHA384, "DEDVCA00002", "DECVCA00001", p.dv, CVC_ALG_ECDSA_SHA384,
				"DEDVCA00001");
	cvc_date at = day("2025-02-01");
	assert_int_equal(cvc_store_verify(s, rq, &at, &r), EAC_OK);
	assert_int_equal(r.len, 2);
	assert_int_equal(r.curve, CVC_CURVE_BP384R1);
	/* the outer signer's certificate must be valid on the day */
	at = day("2025-04-01");
	h_assert_err(cvc_store_verify(s, rq, &at, &r), EAC_ERR_DATE,
		     "^request DEDVCA00002: outer signer: certificate DEDVCA00001 expired after 2025-03-31");
	cvc_obj_free(rq);
	/* outer-signed by a key the store does not know under that CAR */
	rq = h_request(nk, CVC_ALG_ECDSA_SHA384, "DEDVCA00002", NULL, nk, CVC_ALG_ECDSA_SHA384, "DEDVCA00001");
	h_assert_err(cvc_store_verify(s, rq, NULL, &r), EAC_ERR_SIGNATURE,
		     "^request DEDVCA00002: outer signature by DEDVCA00001: signature does not verify");
	cvc_obj_free(rq);
	rq = h_request(nk, CVC_ALG_ECDSA_SHA384, "DEDVCA00002", NULL, nk, CVC_ALG_ECDSA_SHA384, "DEXXXX00001");
	h_assert_err(cvc_store_verify(s, rq, NULL, &r), EAC_ERR_CHAIN,
		     "no certificate with CHR DEXXXX00001 \\(the outer CAR\\)");
	cvc_obj_free(rq);
	/* the national CVCA outer-signs a DV request for a foreign CVCA (CP-3.2.3) */
	rq = h_request(nk, CVC_ALG_ECDSA_SHA384, "DEDVCA00002", "FRCVCA00001", p.cvca, CVC_ALG_ECDSA_SHA384,
		       "DECVCA00001");
	assert_int_equal(cvc_store_verify(s, rq, NULL, &r), EAC_OK);
	assert_int_equal(r.len, 1);
	cvc_obj_free(rq);
	EVP_PKEY_free(nk);
	cvc_store_free(s);
	free_pki(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain_ok),
		cmocka_unit_test(test_chain_dates),
		cmocka_unit_test(test_chain_structure_refusals),
		cmocka_unit_test(test_anchor_refusals),
		cmocka_unit_test(test_link_changes_curve),
		cmocka_unit_test(test_rsa_chain_and_algorithm_change),
		cmocka_unit_test(test_store),
		cmocka_unit_test(test_store_prefers_self_signed),
		cmocka_unit_test(test_store_authenticated_request),
	};
	return cmocka_run_group_tests_name("cvc-chain", tests, NULL, NULL);
}
