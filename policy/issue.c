/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The composite checks: one call per certificate an engine is about to
 * sign. Each builds the proposed body itself (CAR, CHR, key without or
 * with domain parameters, CHAT with the right role, effective = today,
 * expiry clamped) and runs the rules in an order that reports the most
 * fundamental problem first: the issuer, the request's form, the
 * registry, the request's authentication, the key, then dates, rights and
 * validity. The first refusal ends the check.
 */

#include <stdio.h>
#include <string.h>

#include "policy/internal.h"

#define TRY(x)                                \
	do {                                  \
		if ((r = (x)) != EAC_OK)      \
			goto out;             \
	} while (0)

/* A usage error inside a composite: the decision must not read as allowed. */
static eac_err finish(eac_err r, pol_decision *d)
{
	if (r != EAC_OK && r != EAC_ERR_POLICY) {
		d->allowed = 0;
		d->rule[0] = '\0';
		snprintf(d->message, sizeof(d->message), "%s", eac_err_detail(r));
	}
	return r;
}

static int dates_ok(const cvc_body *c)
{
	return c->has_dates && cvc_date_valid(&c->effective) && cvc_date_valid(&c->expiry);
}

static int valid_on(const cvc_body *c, int64_t today)
{
	return cvc_date_to_days(&c->effective) <= today && today <= cvc_date_to_days(&c->expiry);
}

/* The issuing certificate: of this country, with the role above `kind`, of
 * the national terminal type and valid today. */
static eac_err check_issuer(const pol_national *nat, pol_kind kind, const cvc_body *issuer,
			    int64_t today, pol_decision *d)
{
	char cc[3], e[11];
	const char *iname = kind == POL_KIND_DV ? "CVCA" : "DV";
	cvc_role role = cvc_chat_role(&issuer->chat);

	cvc_ref_country(&issuer->chr, cc);
	if (strcmp(cc, nat->country) != 0)
		return pol_refuse(d, "CP-3.1c",
				  "%s certificate is issued by a %s of %s; %s is of %s", pol_kind_a(kind),
				  iname, nat->country, issuer->chr.s, cc);
	if (kind == POL_KIND_DV ? role != CVC_ROLE_CVCA
				: (role != CVC_ROLE_DV_DOMESTIC && role != CVC_ROLE_DV_FOREIGN))
		return pol_refuse(d, "CP-4.5c",
				  "the issuing certificate %s has the role %s; %s certificate is issued under a %s certificate",
				  issuer->chr.s, cvc_role_name(role), pol_kind_a(kind), iname);
	if (issuer->chat.type != nat->terminal_type)
		return pol_refuse(d, "CP-4.5c",
				  "the issuing certificate %s is for id-%s terminals, the national policy for id-%s",
				  issuer->chr.s,
				  cvc_chat_type_name(issuer->chat.type) ? cvc_chat_type_name(issuer->chat.type) : "?",
				  cvc_chat_type_name(nat->terminal_type));
	if (cvc_date_to_days(&issuer->effective) > today) {
		cvc_date_format(&issuer->effective, e);
		return pol_refuse(d, "CP-5.4.1",
				  "the %s certificate %s is not valid before %s; nothing can be issued under it yet",
				  iname, issuer->chr.s, e);
	}
	if (cvc_date_to_days(&issuer->expiry) < today) {
		cvc_date_format(&issuer->expiry, e);
		return pol_refuse(d, "CP-5.4.1",
				  "the %s certificate %s expired on %s; nothing can be issued under it",
				  iname, issuer->chr.s, e);
	}
	return EAC_OK;
}

/*
 * TR-03110-3 D.3.3 / 2.3: the request carries domain parameters, and they
 * are the CVCA's, since a DV or IS key inherits them (its certificate
 * carries none); a chain keeps one algorithm and (RSA) one key size.
 */
static eac_err check_chain_key(const cvc_pubkey *k, const cvc_pubkey *root, pol_decision *d)
{
	int ec = cvc_alg_is_ec(k->alg), root_ec = cvc_alg_is_ec(root->alg);

	if (ec && !k->has_params)
		return pol_refuse(d, POL_RULE_PARAMS,
				  "the request carries no domain parameters; every certificate request must");
	if (ec != root_ec)
		return pol_refuse(d, POL_RULE_CHAIN,
				  "the request's key is %s but the CVCA's is %s; a certificate chain keeps one algorithm",
				  ec ? "ECDSA" : "RSA", root_ec ? "ECDSA" : "RSA");
	if (ec && k->curve != root->curve)
		return pol_refuse(d, POL_RULE_PARAMS,
				  "the request's key is on %s, the CVCA's on %s; DV and IS keys inherit the CVCA's domain parameters",
				  cvc_curve_name(k->curve) ? cvc_curve_name(k->curve) : "an unknown curve",
				  cvc_curve_name(root->curve) ? cvc_curve_name(root->curve) : "an unknown curve");
	if (!ec && pol_rsa_bits(k) != pol_rsa_bits(root))
		return pol_refuse(d, POL_RULE_CHAIN,
				  "the request's RSA key has %u bits, the CVCA's %u; a certificate chain keeps one key size",
				  pol_rsa_bits(k), pol_rsa_bits(root));
	return EAC_OK;
}

/* CP-4.5b, CP-4.6, CP-3.1b on the subject key and its CHR. */
static eac_err check_key_facts(const pol_key_facts *k, const cvc_ref *chr, const char *issuer,
			       pol_decision *d)
{
	if (k->compromised)
		return pol_refuse(d, "CP-4.5b",
				  "this public key was reported lost, stolen or compromised; it is never accepted again");
	if (k->already_certified)
		return pol_refuse(d, "CP-4.6",
				  "this public key is already certified by this %s; renewal (a new certificate for the same key) is not allowed, generate a new key",
				  issuer);
	if (k->chr_in_use)
		return pol_refuse(d, "CP-3.1b",
				  "the holder reference %s already names another key certified by this %s; each key needs its own sequence number",
				  chr->s, issuer);
	return EAC_OK;
}

static const char *outer_name(const pol_outer *o)
{
	if (o->signer_cert != NULL)
		return o->signer_cert->chr.s;
	return o->car.len ? o->car.s : "unknown";
}

/* The curve a key is on: its own, or inherited from the chain's root. */
static cvc_curve curve_of(const cvc_pubkey *k, const cvc_pubkey *root)
{
	return k->curve != CVC_CURVE_NONE ? k->curve : root->curve;
}

static void processing_warning(pol_authority auth, int64_t received, const pol_national *nat,
			       int64_t now, pol_decision *d)
{
	pol_deadline dl;
	char a[21];
	if (received <= 0 ||
	    pol_deadline_classify(POL_DEADLINE_PROCESSING, auth, received, now,
				  (int64_t)nat->deadline_risk_margin_hours * 3600, &dl) != EAC_OK)
		return;
	eac_time_iso(dl.deadline, a);
	if (dl.status == POL_OVERDUE)
		pol_warn(d, dl.rule, "the %u-hour processing deadline for this request passed at %s",
			 dl.hours, a);
	else if (dl.status == POL_AT_RISK)
		pol_warn(d, dl.rule, "this request must be processed by %s (%u hours from receipt)", a,
			 dl.hours);
}

/* ======================================================================
 * DV certificates (the CVCA)
 * ====================================================================== */

static eac_err check_dv_registry(const pol_national *nat, const pol_dv_facts *f, int domestic,
				 int64_t today, pol_decision *d)
{
	const pol_dv_registry *g = &f->dv;
	const cvc_ref *chr = &f->request->chr;
	char cc[3], mn[10], e[11];

	if (!g->registered)
		return pol_refuse(d, "CP-4.1",
				  "the DV %s is not registered with this CVCA; its initial identity validation (CP-3.2.3) comes first",
				  chr->s);
	if (!pol_country_valid(g->country))
		return pol_refuse(d, "CP-3.1b",
				  "the DV %s is registered with the country '%.2s', which is not an ISO 3166-1 country code",
				  chr->s, g->country);
	cvc_ref_country(chr, cc);
	cvc_ref_mnemonic(chr, mn);
	if (strcmp(cc, g->country) != 0 || strcmp(mn, g->mnemonic) != 0)
		return pol_refuse(d, "CP-3.1b",
				  "the request's holder reference %s does not name the registered DV (country %s, mnemonic %s)",
				  chr->s, g->country, g->mnemonic);
	switch (g->status) {
	case POL_DV_ACTIVE: break;
	case POL_DV_SUSPENDED:
		return pol_refuse(d, "CP-3.3.1b",
				  "the DV %s%s is suspended: its national CVCA no longer considers it valid",
				  g->country, g->mnemonic);
	case POL_DV_CLOSED:
		if (f->kind == POL_REQUEST_REKEY)
			return pol_refuse(d, "CP-4.7c",
					  "the DV %s%s is closed; a closed DV applies again through the initial procedure, not by re-key",
					  g->country, g->mnemonic);
		return pol_refuse(d, "CP-4.1",
				  "the DV %s%s is closed; its registration must be renewed by a new initial identity validation (CP-3.2.3) before it applies",
				  g->country, g->mnemonic);
	default: return eac_fail(EAC_ERR_USAGE, "pol_dv_certificate: invalid DV status");
	}
	const char *conf_rule = f->kind == POL_REQUEST_REKEY ? "CP-3.3.1c"
				: domestic		     ? "CP-4.2.2"
							     : "CP-3.2.3b";
	if (!g->has_conformity)
		return pol_refuse(d, conf_rule,
				  "the DV %s%s has no certificate of conformity with its national policy on file",
				  g->country, g->mnemonic);
	if (!cvc_date_valid(&g->conformity_expiry))
		return eac_fail(EAC_ERR_USAGE, "pol_dv_certificate: invalid conformity expiry");
	if (cvc_date_to_days(&g->conformity_expiry) < today) {
		cvc_date_format(&g->conformity_expiry, e);
		return pol_refuse(d, conf_rule,
				  "the certificate of conformity of the DV %s%s expired on %s", g->country,
				  g->mnemonic, e);
	}
	/* CP-1.3a; CP-1: the national limit binds domestic DVs only */
	unsigned limit = domestic ? nat->max_dvs_per_country : 3;
	if (g->country_dv_count == 0)
		return eac_fail(EAC_ERR_USAGE, "pol_dv_certificate: a registered DV counts itself");
	if (g->country_dv_count > limit)
		return pol_refuse(d, "CP-1.3a",
				  "%s has %u registered DVs; at most %u %s allowed per country%s",
				  g->country, g->country_dv_count, limit, limit == 1 ? "DV is" : "DVs are",
				  domestic && limit < 3 ? " by the national policy" : "");
	return EAC_OK;
}

/* CP-3.2.3: a first request, and for a foreign DV the outer signature of
 * its own national CVCA. */
static eac_err check_dv_initial(const pol_dv_facts *f, int domestic, int64_t today,
				pol_decision *d)
{
	const pol_outer *o = &f->outer;
	char cc[3], dcc[3], e[11];

	/* an outer CAR naming no key we hold cannot have been verified: say
	 * that, not "does not verify" */
	if (o->present && (o->signer == POL_SIGNER_UNKNOWN || o->signer_cert == NULL))
		return pol_refuse(d, domestic ? "CP-4.2.2" : "CP-3.2.3d",
				  domestic ? "the outer signature (CAR %s) is not by a key known to us"
					   : "the outer signature (CAR %s) is not by a CVCA known to us; a foreign DV's first request is signed by its national CVCA",
				  outer_name(o));
	if (o->present && !o->verified)
		return pol_refuse(d, domestic ? "CP-4.2.2" : "CP-3.2.3d",
				  "the request's outer signature (CAR %s) does not verify", outer_name(o));
	if (o->present && o->signer_key_compromised)
		return pol_refuse(d, "CP-4.5b",
				  "the outer signature is made with the key of %s, which is reported compromised",
				  outer_name(o));
	if (domestic)
		return EAC_OK;
	cvc_ref_country(&f->request->chr, dcc);
	if (!o->present)
		return pol_refuse(d, "CP-3.2.3d",
				  "a foreign DV's first request must carry an outer signature by the national CVCA of %s; this one has none",
				  dcc);
	if (o->signer != POL_SIGNER_FOREIGN_CVCA || o->signer_cert == NULL)
		return pol_refuse(d, "CP-3.2.3d",
				  "the outer signature (CAR %s) is not by a CVCA known to us; a foreign DV's first request is signed by the national CVCA of %s",
				  outer_name(o), dcc);
	const cvc_body *s = o->signer_cert;
	cvc_ref_country(&s->chr, cc);
	if (strcmp(cc, dcc) != 0 || !s->has_chat || cvc_chat_role(&s->chat) != CVC_ROLE_CVCA)
		return pol_refuse(d, "CP-3.2.3d",
				  "the outer signature is by %s, not by the national CVCA of %s", s->chr.s, dcc);
	if (!dates_ok(s))
		return eac_fail(EAC_ERR_USAGE, "pol_dv_certificate: outer signer certificate without dates");
	if (!valid_on(s, today)) {
		cvc_date_format(cvc_date_to_days(&s->expiry) < today ? &s->expiry : &s->effective, e);
		return pol_refuse(d, "CP-3.2.3d",
				  "the outer signature is by %s, whose certificate is not valid today (%s %s)",
				  s->chr.s, cvc_date_to_days(&s->expiry) < today ? "expired on" : "valid from",
				  e);
	}
	return EAC_OK;
}

/* CP-3.3.1, CP-4.7a/c: a successive request, outer-signed with the DV's
 * current key from a certificate this CVCA issued. */
static eac_err check_dv_rekey(const pol_dv_facts *f, int64_t today, pol_decision *d)
{
	const pol_outer *o = &f->outer;
	const cvc_ref *chr = &f->request->chr;
	char e[11];

	switch (f->reason) {
	case POL_REASON_EXPIRING: break;
	case POL_REASON_REVOKED:
	case POL_REASON_ATTRIBUTES_CHANGED:
		return pol_refuse(d, "CP-4.7c",
				  "a DV whose certificate was revoked or whose attributes changed applies again through the initial procedure, not by re-key");
	case POL_REASON_KEY_COMPROMISED:
		return pol_refuse(d, "CP-4.7a",
				  "re-key for a compromised key is for inspection systems; a DV whose key is compromised is revoked and applies again through the initial procedure");
	default:
		return pol_refuse(d, "CP-4.7a",
				  "a re-key request needs one of the reasons of CP-4.7a (the DV certificate is about to expire)");
	}
	if (!o->present)
		return pol_refuse(d, "CP-3.3.1d",
				  "a re-key request must be outer-signed with the DV's current key; this one has no outer signature");
	if (!o->verified)
		return pol_refuse(d, "CP-3.3.1d", "the request's outer signature (CAR %s) does not verify",
				  outer_name(o));
	if (o->signer != POL_SIGNER_HOLDER || o->signer_cert == NULL)
		return pol_refuse(d, "CP-3.3.1d",
				  "the outer signature (CAR %s) is not made with a key this CVCA certified for %s",
				  outer_name(o), chr->s);
	const cvc_body *s = o->signer_cert;
	if (!dates_ok(s) || !s->has_car)
		return eac_fail(EAC_ERR_USAGE, "pol_dv_certificate: outer signer certificate incomplete");
	if (!pol_same_holder(&s->chr, chr))
		return pol_refuse(d, "CP-3.3.1d",
				  "the outer signature is by %s, a certificate of another holder than %s",
				  s->chr.s, chr->s);
	if (!pol_same_holder(&s->car, &f->cvca->chr))
		return pol_refuse(d, "CP-3.3.1d",
				  "the outer signature is by %s, which was issued by %s, not by this CVCA",
				  s->chr.s, s->car.s);
	if (!valid_on(s, today)) {
		cvc_date_format(&s->expiry, e);
		return pol_refuse(d, "CP-3.3.1d",
				  "the outer signature is by %s, whose certificate is not valid today (expiry %s); an expired DV applies through the initial procedure (CP-4.7c)",
				  s->chr.s, e);
	}
	if (o->signer_key_compromised)
		return pol_refuse(d, "CP-4.7b",
				  "the outer signature is made with the key of %s, which is reported compromised",
				  s->chr.s);
	return EAC_OK;
}

eac_err pol_dv_certificate(const pol_national *nat, const pol_dv_facts *f, cvc_body *proposed,
			   pol_decision *d)
{
	eac_err r = EAC_OK;
	cvc_body b;
	cvc_chat chat;
	cvc_date eff, exp;

	if (d == NULL)
		return eac_fail(EAC_ERR_USAGE, "pol_dv_certificate: no decision");
	pol_decision_init(d);
	if (nat == NULL || f == NULL || proposed == NULL || f->request == NULL || f->cvca == NULL) {
		r = eac_fail(EAC_ERR_USAGE, "pol_dv_certificate: missing facts");
		goto out;
	}
	const cvc_body *rq = f->request, *ca = f->cvca;
	if (!ca->has_chat || !dates_ok(ca) || rq->has_chat || rq->has_dates ||
	    (f->kind != POL_REQUEST_INITIAL && f->kind != POL_REQUEST_REKEY) ||
	    (!cvc_alg_is_ec(rq->key.alg) && !cvc_alg_is_rsa(rq->key.alg))) {
		r = eac_fail(EAC_ERR_USAGE,
			     "pol_dv_certificate: facts malformed (CVCA certificate, request body or kind)");
		goto out;
	}
	int64_t today = pol_today(f->now);
	int domestic = strcmp(f->dv.country, nat->country) == 0;

	TRY(check_issuer(nat, POL_KIND_DV, ca, today, d));
	if (!f->inner_verified) {
		r = pol_refuse(d, f->kind == POL_REQUEST_REKEY ? "CP-3.3.1a" : "CP-3.2.3d",
			       "the request's inner signature does not verify: it does not prove possession of the private key");
		goto out;
	}
	TRY(check_chain_key(&rq->key, &ca->key, d));
	TRY(check_dv_registry(nat, f, domestic, today, d));
	if (f->kind == POL_REQUEST_INITIAL)
		TRY(check_dv_initial(f, domestic, today, d));
	else
		TRY(check_dv_rekey(f, today, d));
	TRY(check_key_facts(&f->key, &rq->chr, "CVCA", d));
	TRY(pol_check_scheme(&rq->key, ca->key.curve, d));
	TRY(pol_check_commission_period(f->initial_cvca_sent_at, f->now, domestic, d));
	TRY(pol_check_rollover(nat, ca, f->successor_distributed, f->now, d));
	TRY(pol_rights(nat, POL_KIND_DV, domestic, &ca->chat, f->rights, &chat, d));
	TRY(pol_validity(nat, POL_KIND_DV, f->now, f->validity_days, ca, &eff, &exp, d));
	TRY(pol_check_key_strength(&rq->key, ca->key.curve, &exp, "the DV's new key", d));
	if (f->kind == POL_REQUEST_REKEY)
		TRY(pol_check_key_strength(&f->outer.signer_cert->key,
					   curve_of(&f->outer.signer_cert->key, &ca->key), &exp,
					   "the key that signed the re-key request", d));

	memset(&b, 0, sizeof(b));
	b.has_car = 1;
	b.car = ca->chr;
	b.key = rq->key;
	b.key.has_params = 0; /* DV certificates carry no domain parameters (D.3.3) */
	b.key.no_cofactor = 0;
	b.key.curve = cvc_alg_is_ec(rq->key.alg) ? ca->key.curve : CVC_CURVE_NONE;
	b.chr = rq->chr;
	b.has_chat = 1;
	b.chat = chat;
	b.has_dates = 1;
	b.effective = eff;
	b.expiry = exp;
	TRY(pol_check_naming(nat, POL_KIND_DV, &b, ca, d));

	if (rq->has_car && strcmp(rq->car.s, ca->chr.s) != 0)
		pol_warn(d, POL_RULE_INNER_CAR,
			 "the request expected the CA key %s; it is issued under %s, so send the CVCA certificate along",
			 rq->car.s, ca->chr.s);
	processing_warning(POL_AUTHORITY_CVCA, f->received_at, nat, f->now, d);
	*proposed = b;
out:
	return finish(r, d);
}

/* ======================================================================
 * IS certificates (the DV)
 * ====================================================================== */

static eac_err check_is_registry(const pol_national *nat, const pol_is_facts *f, pol_decision *d)
{
	const cvc_ref *chr = &f->request->chr;
	char cc[3], mn[10];

	if (!f->is.registered)
		return pol_refuse(d, "CP-3.3.2a",
				  "the inspection system %s is not registered with this DV", chr->s);
	cvc_ref_country(chr, cc);
	cvc_ref_mnemonic(chr, mn);
	if (strcmp(cc, nat->country) != 0 || strcmp(mn, f->is.mnemonic) != 0)
		return pol_refuse(d, "CP-3.1c",
				  "the request's holder reference %s does not name the registered inspection system %s%s",
				  chr->s, nat->country, f->is.mnemonic);
	switch (f->is.status) {
	case POL_IS_OPERATIONAL: return EAC_OK;
	case POL_IS_OUT_OF_SERVICE:
		return pol_refuse(d, "CP-3.3.2a",
				  "the inspection system %s%s is registered but not operational", nat->country,
				  f->is.mnemonic);
	case POL_IS_STOLEN:
	case POL_IS_LOST:
		return pol_refuse(d, "CP-3.3.2b", "the inspection system %s%s is marked %s",
				  nat->country, f->is.mnemonic,
				  f->is.status == POL_IS_STOLEN ? "stolen" : "lost");
	default: return eac_fail(EAC_ERR_USAGE, "pol_is_certificate: invalid IS status");
	}
}

static eac_err check_is_request(const pol_is_facts *f, int64_t today, pol_decision *d)
{
	const pol_outer *o = &f->outer;
	const cvc_ref *chr = &f->request->chr;
	char e[11];

	if (f->kind == POL_REQUEST_INITIAL) {
		if (o->present && !o->verified)
			return pol_refuse(d, "CP-4.2.3",
					  "the request's outer signature (CAR %s) does not verify", outer_name(o));
		if (o->present && o->signer_key_compromised)
			return pol_refuse(d, "CP-4.5b",
					  "the outer signature is made with the key of %s, which is reported compromised",
					  outer_name(o));
		return EAC_OK;
	}
	switch (f->reason) {
	case POL_REASON_EXPIRING:
	case POL_REASON_ATTRIBUTES_CHANGED: break;
	case POL_REASON_KEY_COMPROMISED:
		return pol_refuse(d, "CP-4.7c",
				  "an inspection system whose key is compromised applies again through the initial procedure, not by re-key with that key");
	case POL_REASON_REVOKED:
		return pol_refuse(d, "CP-4.7a",
				  "revocation is a re-key reason for DV certificates only; an inspection system applies again through the initial procedure");
	default:
		return pol_refuse(d, "CP-4.7a",
				  "a re-key request needs one of the reasons of CP-4.7a (about to expire, attributes changed)");
	}
	if (!o->present)
		return pol_refuse(d, POL_RULE_SUCCESSIVE,
				  "a re-key request must be outer-signed with the inspection system's current key; this one has no outer signature");
	if (!o->verified)
		return pol_refuse(d, POL_RULE_SUCCESSIVE,
				  "the request's outer signature (CAR %s) does not verify", outer_name(o));
	if (o->signer != POL_SIGNER_HOLDER || o->signer_cert == NULL)
		return pol_refuse(d, POL_RULE_SUCCESSIVE,
				  "the outer signature (CAR %s) is not made with a key this DV certified for %s",
				  outer_name(o), chr->s);
	const cvc_body *s = o->signer_cert;
	if (!dates_ok(s) || !s->has_car)
		return eac_fail(EAC_ERR_USAGE, "pol_is_certificate: outer signer certificate incomplete");
	if (!pol_same_holder(&s->chr, chr) || !pol_same_holder(&s->car, &f->dv_cert->chr))
		return pol_refuse(d, "CP-4.7b",
				  "the outer signature is by %s (issued by %s), not by a certificate this DV issued to %s",
				  s->chr.s, s->car.s, chr->s);
	if (!valid_on(s, today)) {
		cvc_date_format(&s->expiry, e);
		return pol_refuse(d, "CP-4.7c",
				  "the outer signature is by %s, whose certificate is not valid today (expiry %s); an inspection system whose certificate expired applies again through the initial procedure",
				  s->chr.s, e);
	}
	if (o->signer_key_compromised)
		return pol_refuse(d, "CP-4.7b",
				  "the outer signature is made with the key of %s, which is reported compromised",
				  s->chr.s);
	return EAC_OK;
}

eac_err pol_is_certificate(const pol_national *nat, const pol_is_facts *f, cvc_body *proposed,
			   pol_decision *d)
{
	eac_err r = EAC_OK;
	cvc_body b;
	cvc_chat chat;
	cvc_date eff, exp;

	if (d == NULL)
		return eac_fail(EAC_ERR_USAGE, "pol_is_certificate: no decision");
	pol_decision_init(d);
	if (nat == NULL || f == NULL || proposed == NULL || f->request == NULL ||
	    f->dv_cert == NULL || f->cvca_key == NULL) {
		r = eac_fail(EAC_ERR_USAGE, "pol_is_certificate: missing facts");
		goto out;
	}
	const cvc_body *rq = f->request, *dv = f->dv_cert;
	if (!dv->has_chat || !dates_ok(dv) || rq->has_chat || rq->has_dates ||
	    (f->kind != POL_REQUEST_INITIAL && f->kind != POL_REQUEST_REKEY) ||
	    (!cvc_alg_is_ec(rq->key.alg) && !cvc_alg_is_rsa(rq->key.alg))) {
		r = eac_fail(EAC_ERR_USAGE,
			     "pol_is_certificate: facts malformed (DV certificate, request body or kind)");
		goto out;
	}
	int64_t today = pol_today(f->now);

	TRY(check_issuer(nat, POL_KIND_IS, dv, today, d));
	if (!f->inner_verified) {
		r = pol_refuse(d, "CP-4.2.3",
			       "the request's inner signature does not verify: it does not prove possession of the private key");
		goto out;
	}
	TRY(check_chain_key(&rq->key, f->cvca_key, d));
	TRY(check_is_registry(nat, f, d));
	TRY(check_is_request(f, today, d));
	TRY(check_key_facts(&f->key, &rq->chr, "DV", d));
	TRY(pol_check_scheme(&rq->key, f->cvca_key->curve, d));
	TRY(pol_rights(nat, POL_KIND_IS, 1, &dv->chat, f->rights, &chat, d));
	TRY(pol_validity(nat, POL_KIND_IS, f->now, f->validity_days, dv, &eff, &exp, d));
	TRY(pol_check_key_strength(&rq->key, f->cvca_key->curve, &exp,
				   "the inspection system's new key", d));
	if (f->kind == POL_REQUEST_REKEY)
		TRY(pol_check_key_strength(&f->outer.signer_cert->key,
					   curve_of(&f->outer.signer_cert->key, f->cvca_key), &exp,
					   "the key that signed the re-key request", d));

	memset(&b, 0, sizeof(b));
	b.has_car = 1;
	b.car = dv->chr;
	b.key = rq->key;
	b.key.has_params = 0; /* terminal certificates carry no domain parameters (D.3.3) */
	b.key.no_cofactor = 0;
	b.key.curve = cvc_alg_is_ec(rq->key.alg) ? f->cvca_key->curve : CVC_CURVE_NONE;
	b.chr = rq->chr;
	b.has_chat = 1;
	b.chat = chat;
	b.has_dates = 1;
	b.effective = eff;
	b.expiry = exp;
	TRY(pol_check_naming(nat, POL_KIND_IS, &b, dv, d));

	processing_warning(POL_AUTHORITY_DV, f->received_at, nat, f->now, d);
	*proposed = b;
out:
	return finish(r, d);
}

/* ======================================================================
 * CVCA certificates: the key ceremony (CP-4.2.1)
 * ====================================================================== */

static int key_ok(const cvc_pubkey *k)
{
	return k != NULL && (cvc_alg_is_ec(k->alg) || cvc_alg_is_rsa(k->alg));
}

/* The new CVCA key itself: CP-4.5b/CP-4.6/CP-3.1b facts, parameters,
 * national lists, scheme. `renewal_ok`: the self-signed companion of a
 * link certificate for the same key. */
static eac_err check_cvca_key(const pol_national *nat, const pol_cvca_facts *f, int renewal_ok,
			      pol_decision *d)
{
	eac_err r;
	pol_key_facts k = f->key_facts;
	if (renewal_ok)
		k.already_certified = k.chr_in_use = 0;
	if ((r = check_key_facts(&k, &f->chr, "CVCA", d)) != EAC_OK)
		return r;
	/* [CVF §2.2, P5]: every CVCA certificate carries its domain parameters */
	if (cvc_alg_is_ec(f->key->alg) && (!f->key->has_params || f->key->curve == CVC_CURVE_NONE))
		return pol_refuse(d, POL_RULE_PARAMS,
				  "the new CVCA key comes without its domain parameters; a CVCA certificate carries them");
	if ((r = pol_check_national_algorithms(nat, f->key, d)) != EAC_OK)
		return r;
	return pol_check_scheme(f->key, f->key->curve, d);
}

/* CP-3.1b: a new CVCA key gets a new sequence number, above the last. */
static eac_err check_sequence(const cvc_ref *chr, const cvc_ref *prev, pol_decision *d)
{
	char s[6], p[6];
	cvc_ref_sequence(chr, s);
	cvc_ref_sequence(prev, p);
	/* five characters 0-9A-Z: ASCII order is the sequence order */
	if (strcmp(s, p) <= 0)
		return pol_refuse(d, "CP-3.1b",
				  "the sequence number of %s does not follow %s; every new CVCA key gets a higher one",
				  chr->s, prev->s);
	return EAC_OK;
}

static void build_cvca(const pol_cvca_facts *f, const cvc_ref *car, const cvc_chat *chat,
		       const cvc_date *eff, const cvc_date *exp, cvc_body *b)
{
	memset(b, 0, sizeof(*b));
	b->has_car = 1;
	b->car = *car;
	b->key = *f->key;
	b->key.no_cofactor = 0; /* [CVF P5]: CVCA certificates carry 81..87, cofactor included */
	b->chr = f->chr;
	b->has_chat = 1;
	b->chat = *chat;
	b->has_dates = 1;
	b->effective = *eff;
	b->expiry = *exp;
}

eac_err pol_cvca_certificate(const pol_national *nat, const pol_cvca_facts *f, cvc_body *proposed,
			     pol_decision *d)
{
	eac_err r = EAC_OK;
	cvc_body b;
	cvc_chat chat;
	cvc_date eff, exp;
	int companion = 0;

	if (d == NULL)
		return eac_fail(EAC_ERR_USAGE, "pol_cvca_certificate: no decision");
	pol_decision_init(d);
	if (nat == NULL || f == NULL || proposed == NULL || !key_ok(f->key) ||
	    f->chr.len < CVC_REF_MIN || (f->previous != NULL && !f->previous->has_car)) {
		r = eac_fail(EAC_ERR_USAGE, "pol_cvca_certificate: missing facts");
		goto out;
	}

	TRY(pol_ceremony_officers(f->officers, nat, d));
	if (f->previous != NULL) {
		const cvc_body *p = f->previous;
		if (!pol_same_holder(&p->chr, &f->chr)) {
			r = pol_refuse(d, "CP-3.1c",
				       "the new CVCA certificate %s does not keep the national CVCA identity of %s",
				       f->chr.s, p->chr.s);
			goto out;
		}
		if (strcmp(p->chr.s, f->chr.s) == 0) {
			/* the self-signed anchor for a key a link certificate just
			 * certified: same CHR, same key (cv-format §5) */
			if (strcmp(p->car.s, p->chr.s) == 0 || !pol_key_equal(&p->key, f->key)) {
				r = pol_refuse(d, "CP-3.1b",
					       "the holder reference %s is already used by the CVCA certificate for another key or by a self-signed certificate",
					       f->chr.s);
				goto out;
			}
			companion = 1;
		} else {
			TRY(check_sequence(&f->chr, &p->chr, d));
		}
	}
	TRY(check_cvca_key(nat, f, companion, d));
	TRY(pol_rights(nat, POL_KIND_CVCA, 1, NULL, f->rights, &chat, d));
	TRY(pol_validity(nat, POL_KIND_CVCA, f->now, f->validity_days, NULL, &eff, &exp, d));
	TRY(pol_check_key_strength(f->key, f->key->curve, &exp, "the new CVCA key", d));
	build_cvca(f, &f->chr, &chat, &eff, &exp, &b);
	TRY(pol_check_naming(nat, POL_KIND_CVCA, &b, NULL, d));
	*proposed = b;
out:
	return finish(r, d);
}

eac_err pol_link_certificate(const pol_national *nat, const pol_cvca_facts *f, cvc_body *proposed,
			     pol_decision *d)
{
	eac_err r = EAC_OK;
	cvc_body b;
	cvc_chat chat;
	cvc_date eff, exp;
	char e[11], from[48], to[48];

	if (d == NULL)
		return eac_fail(EAC_ERR_USAGE, "pol_link_certificate: no decision");
	pol_decision_init(d);
	if (nat == NULL || f == NULL || proposed == NULL || !key_ok(f->key) ||
	    f->chr.len < CVC_REF_MIN || f->previous == NULL || !f->previous->has_chat ||
	    !dates_ok(f->previous) || !key_ok(&f->previous->key)) {
		r = eac_fail(EAC_ERR_USAGE, "pol_link_certificate: missing facts (the current CVCA certificate)");
		goto out;
	}
	const cvc_body *p = f->previous;
	int64_t today = pol_today(f->now);

	TRY(pol_ceremony_officers(f->officers, nat, d));
	if (cvc_chat_role(&p->chat) != CVC_ROLE_CVCA || p->chat.type != nat->terminal_type) {
		r = pol_refuse(d, "CP-4.5c",
			       "the signing certificate %s is not a CVCA certificate for id-%s terminals",
			       p->chr.s, cvc_chat_type_name(nat->terminal_type));
		goto out;
	}
	if (pol_key_equal(&p->key, f->key)) {
		r = pol_refuse(d, "CP-4.6",
			       "the new key is the current CVCA key of %s; a link certificate certifies a new key",
			       p->chr.s);
		goto out;
	}
	if (!pol_same_holder(&p->chr, &f->chr)) {
		r = pol_refuse(d, "CP-3.1c",
			       "a link certificate keeps the national CVCA identity: %s does not continue %s",
			       f->chr.s, p->chr.s);
		goto out;
	}
	TRY(check_sequence(&f->chr, &p->chr, d));

	/* TR-03110-3 2.3: only a link certificate may change the algorithm,
	 * curve or key size of the chain, and here only when the officers
	 * say so explicitly */
	cvc_curve pc = p->key.curve;
	int changed = cvc_alg_is_ec(p->key.alg) != cvc_alg_is_ec(f->key->alg) ||
		      (cvc_alg_is_ec(f->key->alg) ? pc != f->key->curve
						  : pol_rsa_bits(&p->key) != pol_rsa_bits(f->key));
	if (changed) {
		pol_key_describe(&p->key, pc, from, sizeof(from));
		pol_key_describe(f->key, f->key->curve, to, sizeof(to));
		if (!f->allow_curve_change) {
			r = pol_refuse(d, POL_RULE_CHAIN,
				       "the new key (%s) changes the domain parameters of the current CVCA key (%s); a link certificate may do so only when the officers explicitly allow it",
				       to, from);
			goto out;
		}
		pol_warn(d, POL_RULE_CHAIN,
			 "the chain changes from %s to %s: every inspection system and document must support the new parameters",
			 from, to);
	}
	TRY(check_cvca_key(nat, f, 0, d));

	/* late rollovers are still signed (chips accept expired link
	 * certificates), but the officers must see that CP-5.4b was missed */
	cvc_date_format(&p->expiry, e);
	if (cvc_date_to_days(&p->expiry) < today)
		pol_warn(d, "CP-5.4b",
			 "the current CVCA certificate %s expired on %s; this link certificate comes too late for CP-5.4b",
			 p->chr.s, e);
	else if (cvc_date_to_days(&p->expiry) - today < 14)
		pol_warn(d, "CP-5.4b",
			 "the current CVCA certificate %s expires on %s, less than 14 days from now; CP-5.4b required the link certificate earlier",
			 p->chr.s, e);

	TRY(pol_rights(nat, POL_KIND_CVCA, 1, NULL, f->rights, &chat, d));
	TRY(pol_validity(nat, POL_KIND_CVCA, f->now, f->validity_days, NULL, &eff, &exp, d));
	TRY(pol_check_key_strength(f->key, f->key->curve, &exp, "the new CVCA key", d));
	build_cvca(f, &p->chr, &chat, &eff, &exp, &b);
	TRY(pol_check_naming(nat, POL_KIND_CVCA, &b, p, d));
	*proposed = b;
out:
	return finish(r, d);
}
