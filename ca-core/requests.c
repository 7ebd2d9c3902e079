/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DV certificate requests at the CVCA: receipt with acknowledgement and the
 * 72-hour processing deadline (CP-4.2.2, CP-5.4.2), approval through every
 * policy check and the issuance protocol, rejection, and countersigning a
 * domestic DV's first request to a foreign CVCA (CP-1.4a, CP-3.2.3).
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca-core/ca.h"

#define PROCESS_WITHIN (72 * 3600)    /* CP-4.2.2 / CP-5.4.2: CVCA processing */
#define DISTRIBUTE_WITHIN (24 * 3600) /* CP-5.4.2: CVCA distribution */

static json_t *request_json(const db_request *q)
{
	json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s}", "id", (json_int_t)q->id, "holder",
			      q->holder_chr, "channel", q->channel, "state",
			      db_req_state_name(q->state), "outer_car", q->outer_car);
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "received_at", eng_json_time(q->received_at));
	json_object_set_new(o, "acknowledged_at", eng_json_time(q->acknowledged_at));
	json_object_set_new(o, "deadline", eng_json_time(q->deadline));
	json_object_set_new(o, "sha256", eng_json_hex(q->raw_hash, sizeof(q->raw_hash)));
	if (q->state == DB_REQ_REJECTED) {
		json_object_set_new(o, "rule", json_string(q->rule_id));
		json_object_set_new(o, "reason", json_string(q->message));
	}
	if (q->certificate != 0)
		json_object_set_new(o, "certificate", json_integer(q->certificate));
	return o;
}

/* The DV a request names: country + mnemonic of its CHR (CP-3.1b). */
static eac_err find_dv(eng *e, const cvc_ref *chr, db_authority *dv, int *found)
{
	char cc[3], mn[10];
	cvc_ref_country(chr, cc);
	cvc_ref_mnemonic(chr, mn);
	eac_err r = db_authority_find(eng_db(e), cc, mn, dv);
	*found = r == EAC_OK && dv->kind == DB_AUTH_DV;
	if (r == EAC_ERR_NOT_FOUND) {
		eac_err_clear();
		return EAC_OK;
	}
	return r;
}

eac_err ca_cmd_receive(eng *e, int argc, char **argv)
{
	static const struct option opts[] = { { "channel", required_argument, NULL, 'c' },
					      { NULL, 0, NULL, 0 } };
	const char *channel = NULL;
	uint8_t *raw = NULL;
	size_t len = 0;
	cvc_obj *req = NULL;
	db_authority dv;
	db_request q;
	int found = 0, existing = 0;
	eac_err r;

	optind = 0; /* 0: glibc re-initialises getopt (argument order, + mode) */
	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		if (c == 'c' && (strcmp(optarg, "domestic") == 0 || strcmp(optarg, "foreign") == 0))
			channel = optarg;
		else
			return eac_fail(EAC_ERR_USAGE,
					"receive: --channel domestic|foreign (got '%s')",
					c == 'c' ? optarg : argv[optind - 1]);
	}
	if (optind != argc - 1)
		return eac_fail(EAC_ERR_USAGE, "usage: receive FILE [--channel domestic|foreign]");
	const char *path = argv[optind];
	if ((r = eng_read_input(path, &raw, &len)) != EAC_OK)
		return r;
	if ((r = cvc_parse_request(raw, len, &req)) != EAC_OK) {
		/* syntax check failed: nothing is queued, but the refusal of
		 * untrusted input is part of the record */
		char saved[1100];
		uint8_t h[EAC_SHA256_LEN];
		snprintf(saved, sizeof(saved), "%s: %s", path, eac_err_detail(r));
		if (eac_sha256(raw, len, h) == EAC_OK) {
			json_t *d = json_pack("{s:s, s:o}", "error", saved, "sha256",
					      eng_json_hex(h, sizeof(h)));
			char *txt = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
			json_decref(d);
			if (txt == NULL || db_audit(eng_db(e), NULL, "request.malformed", path, txt,
						    NULL) != EAC_OK) {
				free(txt);
				free(raw);
				return eac_fail(EAC_ERR_AUDIT,
						"%s (and the refusal could not be audited)", saved);
			}
			free(txt);
		}
		free(raw);
		return eac_fail(r, "%s", saved);
	}
	const cvc_body *b = cvc_obj_body(req);
	if ((r = find_dv(e, &b->chr, &dv, &found)) != EAC_OK)
		goto out;
	if (channel == NULL) {
		char cc[3];
		cvc_ref_country(&b->chr, cc);
		channel = strcmp(cc, eng_policy(e)->country) == 0 ? "domestic" : "foreign";
	}
	const cvc_ref *outer = cvc_obj_outer_car(req);
	db_request_in in = { .kind = DB_KIND_DV, .channel = channel,
			     .authority = found ? dv.id : 0, .raw = raw, .raw_len = len,
			     .holder_chr = b->chr.s, .outer_car = outer ? outer->s : NULL,
			     .process_within = PROCESS_WITHIN, .acknowledge = 1 };
	if ((r = db_request_submit(eng_db(e), &in, &q, &existing)) != EAC_OK)
		goto out;
	json_t *o = request_json(&q);
	json_object_set_new(o, "resubmitted", json_boolean(existing));
	json_object_set_new(o, "registered_dv", json_boolean(found));
	if (!eng_options(e)->json) {
		char rec[21], dl[21];
		eac_time_iso(q.received_at, rec);
		eac_time_iso(q.deadline, dl);
		printf("request %lld from %s%s: received %s, acknowledged, to be processed by %s "
		       "(72 h, CP-4.2.2)\n",
		       (long long)q.id, q.holder_chr, existing ? " (resubmitted: same request)" : "",
		       rec, dl);
		if (existing)
			printf("state: %s%s%s\n", db_req_state_name(q.state),
			       q.state == DB_REQ_REJECTED ? " — " : "",
			       q.state == DB_REQ_REJECTED ? q.message : "");
		if (!found)
			printf("note: %s names no registered DV; approval will be refused (CP-4.1)\n",
			       q.holder_chr);
	}
	eng_emit(e, o, NULL);
	r = EAC_OK;
out:
	cvc_obj_free(req);
	free(raw);
	return r;
}

eac_err ca_cmd_requests(eng *e, int argc, char **argv)
{
	static const struct option opts[] = { { "pending", no_argument, NULL, 'p' },
					      { NULL, 0, NULL, 0 } };
	int pending = 0;
	db_request *list = NULL;
	size_t n = 0;
	eac_err r;

	optind = 0; /* 0: glibc re-initialises getopt (argument order, + mode) */
	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		if (c != 'p')
			return eac_fail(EAC_ERR_USAGE, "usage: requests [--pending]");
		pending = 1;
	}
	if (optind != argc)
		return eac_fail(EAC_ERR_USAGE, "usage: requests [--pending]");
	r = pending ? db_requests_pending(eng_db(e), 1000, &list, &n)
		    : db_requests_list(eng_db(e), 1000, &list, &n);
	if (r != EAC_OK)
		return r;
	json_t *arr = json_array();
	if (!eng_options(e)->json)
		printf("%-6s %-17s %-9s %-10s %-21s %s\n", "ID", "HOLDER", "CHANNEL", "STATE",
		       "DEADLINE", "NOTE");
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(arr, request_json(&list[i]));
		if (!eng_options(e)->json) {
			char dl[21];
			eac_time_iso(list[i].deadline, dl);
			printf("%-6lld %-17s %-9s %-10s %-21s %s%s%s\n", (long long)list[i].id,
			       list[i].holder_chr, list[i].channel, db_req_state_name(list[i].state),
			       dl, list[i].state == DB_REQ_REJECTED ? list[i].rule_id : "",
			       list[i].state == DB_REQ_REJECTED ? ": " : "",
			       list[i].state == DB_REQ_REJECTED ? list[i].message : "");
		}
	}
	free(list);
	eng_emit(e, json_pack("{s:o}", "requests", arr), NULL);
	return EAC_OK;
}

/* ---- approve ---- */

typedef struct approve_opts {
	int64_t id;
	const char *validity;
	const char *rights;
	const char *reason;
	const char *out;
} approve_opts;

static eac_err parse_reason(const char *s, pol_rekey_reason *out)
{
	static const struct {
		const char *name;
		pol_rekey_reason r;
	} t[] = { { "expiring", POL_REASON_EXPIRING },
		  { "revoked", POL_REASON_REVOKED },
		  { "compromised", POL_REASON_KEY_COMPROMISED },
		  { "changed", POL_REASON_ATTRIBUTES_CHANGED } };
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(s, t[i].name) == 0) {
			*out = t[i].r;
			return EAC_OK;
		}
	return eac_fail(EAC_ERR_USAGE,
			"--reason must be expiring, revoked, compromised or changed (CP-4.7a)");
}

/* Output for an issued certificate: file, fingerprint, chain info. */
static eac_err report_issued(eng *e, const db_request *q, int64_t cert_id, const uint8_t *der,
			     size_t len, const char *path, json_t *warnings, int again)
{
	uint8_t h[EAC_SHA256_LEN];
	char hex[2 * EAC_SHA256_LEN + 1];
	cvc_obj *o = NULL;
	eac_err r;

	if ((r = eac_sha256(der, len, h)) != EAC_OK || (r = cvc_parse_cert(der, len, &o)) != EAC_OK) {
		json_decref(warnings);
		return r;
	}
	eac_hex(h, sizeof(h), hex);
	const cvc_body *b = cvc_obj_body(o);
	char eff[11], exp[11], rights[128];
	cvc_date_format(&b->effective, eff);
	cvc_date_format(&b->expiry, exp);
	cvc_rights_format(&b->chat, rights, sizeof(rights));
	json_t *j = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:o}",
			      "request", (json_int_t)q->id, "certificate", (json_int_t)cert_id, "chr",
			      b->chr.s, "car", b->car.s, "role",
			      cvc_role_description(b->chat.type, cvc_chat_role(&b->chat)), "rights",
			      rights, "effective", eff, "expiry", exp, "file", path, "sha256", hex,
			      "resubmitted", again, "warnings", warnings ? warnings : json_array());
	if (!eng_options(e)->json)
		printf("%s certificate %s (CAR %s, %s, rights %s) valid %s .. %s\nwritten to %s\n"
		       "sha256 %s\n",
		       again ? "already issued:" : "issued", b->chr.s, b->car.s,
		       cvc_role_description(b->chat.type, cvc_chat_role(&b->chat)),
		       rights[0] ? rights : "none", eff, exp, path, hex);
	eng_emit(e, j, NULL);
	cvc_obj_free(o);
	return EAC_OK;
}

static void default_out(eng *e, const db_request *q, char *out, size_t n)
{
	snprintf(out, n, "%s/issued/%s.cvcert", eng_config(e)->data_dir, q->holder_chr);
}

/* A request already decided answers the same way again (idempotent). */
static eac_err answer_decided(eng *e, const db_request *q, const char *out_path)
{
	db_cert c;
	char path[4200];
	eac_err r;

	if (q->state == DB_REQ_REJECTED)
		return eac_fail(EAC_ERR_POLICY, "refused: request %lld was rejected: %s (%s)",
				(long long)q->id, q->message, q->rule_id);
	if ((r = db_cert_by_request(eng_db(e), q->id, &c)) != EAC_OK)
		return r;
	if (out_path)
		snprintf(path, sizeof(path), "%s", out_path);
	else
		default_out(e, q, path, sizeof(path));
	if ((r = eng_mkdirs_for(path)) == EAC_OK &&
	    (r = eng_release(e, c.id, c.der, c.der_len, path, 1)) == EAC_OK)
		r = report_issued(e, q, c.id, c.der, c.der_len, path, NULL, 1);
	db_cert_free(&c);
	return r;
}

/* Resolve who made the outer signature, and check it (CP-3.2.3, CP-3.3.1). */
static eac_err resolve_outer(eng *e, const ca_active *a, const cvc_obj *req, pol_outer *out,
			     cvc_obj **signer_obj)
{
	const cvc_ref *car = cvc_obj_outer_car(req);
	db_cert *list = NULL;
	size_t n = 0;
	eac_err r;

	memset(out, 0, sizeof(*out));
	*signer_obj = NULL;
	if (car == NULL)
		return EAC_OK;
	out->present = 1;
	out->car = *car;
	out->signer = POL_SIGNER_UNKNOWN;
	/* a certificate this CVCA issued (re-key: the DV's current one), or a
	 * foreign CVCA's certificate registered here */
	db_cert_filter f = { .chr = car->s, .imported = -1, .limit = 8 };
	if ((r = db_certs_find(eng_db(e), &f, &list, &n)) != EAC_OK)
		return r;
	for (size_t i = 0; i < n; i++) {
		const db_cert *c = &list[i];
		int ours_dv = !c->imported && c->issuer == a->own.id && c->kind == DB_KIND_DV;
		int foreign = c->imported && (c->kind == DB_KIND_CVCA || c->kind == DB_KIND_LINK);
		if (!ours_dv && !foreign)
			continue;
		if ((r = eng_cert_obj(c, signer_obj)) != EAC_OK)
			goto out;
		const cvc_body *sb = cvc_obj_body(*signer_obj);
		const cvc_pubkey *domain = NULL;
		if (ours_dv) {
			/* a DV key inherits the domain parameters of the CVCA key
			 * that certified it: ours (or an earlier key of ours on
			 * the same curve) */
			domain = &cvc_obj_body(a->obj)->key;
			out->signer = POL_SIGNER_HOLDER;
		} else {
			out->signer = POL_SIGNER_FOREIGN_CVCA;
		}
		out->signer_cert = sb;
		uint8_t h[EAC_SHA256_LEN];
		if ((r = cvc_pubkey_hash(&sb->key, h)) != EAC_OK ||
		    (r = db_key_compromised(eng_db(e), h, &out->signer_key_compromised)) != EAC_OK)
			goto out;
		r = cvc_verify_request_outer(req, &sb->key, domain);
		out->verified = r == EAC_OK;
		if (r == EAC_ERR_SIGNATURE || r == EAC_ERR_UNSUPPORTED)
			eac_err_clear();
		else if (r != EAC_OK)
			goto out;
		r = EAC_OK;
		goto out;
	}
	r = EAC_OK;
out:
	db_certs_free(list, n);
	return r;
}

/* Refusals caused by the officer's own options do not reject the request:
 * the officer can approve again with other options. */
static int officer_option_refusal(const pol_decision *d, const approve_opts *o)
{
	return (o->validity && strcmp(d->rule, "CP-5.4.1") == 0) ||
	       (o->rights && (strcmp(d->rule, "CP-1.3b") == 0 || strcmp(d->rule, "CP-4.5c") == 0)) ||
	       (o->reason && strcmp(d->rule, "CP-4.7a") == 0);
}

/* Answer like a resubmission when a parallel approval took the request
 * (engine: eng_await_taken); else `why` stands. */
static eac_err answer_if_taken(eng *e, db_request *q, const char *out_path, eac_err why)
{
	eac_err r = eng_await_taken(e, q, why);
	return r == EAC_OK ? answer_decided(e, q, out_path) : r;
}

eac_err ca_cmd_approve(eng *e, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "validity", required_argument, NULL, 'v' },
		{ "rights", required_argument, NULL, 'r' },
		{ "reason", required_argument, NULL, 'R' },
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	approve_opts o = { 0 };
	const pol_national *nat = eng_policy(e);
	db_request q;
	uint8_t *raw = NULL;
	size_t raw_len = 0;
	cvc_obj *req = NULL, *signer = NULL;
	ca_active a = { 0 };
	int have_active = 0, found = 0;
	db_authority dv;
	cvc_chat rights;
	pol_dv_facts f = { 0 };
	pol_decision d;
	cvc_body body;
	hsm_key *key = NULL;
	uint8_t *der = NULL;
	size_t der_len = 0;
	int64_t cert_id = 0;
	char path[4200];
	json_t *warnings = NULL;
	eac_err r;

	optind = 0; /* 0: glibc re-initialises getopt (argument order, + mode) */
	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		switch (c) {
		case 'v': o.validity = optarg; break;
		case 'r': o.rights = optarg; break;
		case 'R': o.reason = optarg; break;
		case 'o': o.out = optarg; break;
		default:
			return eac_fail(EAC_ERR_USAGE, "approve: unknown or incomplete option '%s'",
					argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return eac_fail(EAC_ERR_USAGE,
				"usage: approve ID [--validity DAYS] [--rights LIST] [--reason R] [--out FILE]");
	if ((r = eng_parse_id(argv[optind], &o.id)) != EAC_OK ||
	    (r = eng_parse_days(o.validity, &f.validity_days)) != EAC_OK)
		return r;
	if (o.rights && (r = eng_parse_rights(nat, o.rights, &rights)) != EAC_OK)
		return r;
	if (o.reason && (r = parse_reason(o.reason, &f.reason)) != EAC_OK)
		return r;

	if ((r = db_request_get(eng_db(e), o.id, &q)) != EAC_OK)
		return r;
	if (q.kind != DB_KIND_DV)
		return eac_fail(EAC_ERR_STATE, "request %lld is not a DV request", (long long)o.id);
	if (q.state == DB_REQ_ISSUED || q.state == DB_REQ_REJECTED)
		return answer_decided(e, &q, o.out);

	if ((r = db_request_raw(eng_db(e), q.id, &raw, &raw_len)) != EAC_OK ||
	    (r = cvc_parse_request(raw, raw_len, &req)) != EAC_OK)
		goto out;
	if ((r = ca_active_load(e, &a)) != EAC_OK)
		goto out;
	have_active = 1;
	const cvc_body *b = cvc_obj_body(req);

	/* the facts, gathered without the token */
	f.now = eac_now();
	f.received_at = q.received_at;
	f.request = b;
	r = cvc_verify_request_inner(req);
	f.inner_verified = r == EAC_OK;
	if (r != EAC_OK && r != EAC_ERR_SIGNATURE && r != EAC_ERR_UNSUPPORTED)
		goto out;
	eac_err_clear();
	if ((r = resolve_outer(e, &a, req, &f.outer, &signer)) != EAC_OK)
		goto out;
	f.kind = f.outer.signer == POL_SIGNER_HOLDER ? POL_REQUEST_REKEY : POL_REQUEST_INITIAL;
	if (f.kind == POL_REQUEST_REKEY && f.reason == POL_REASON_NONE)
		f.reason = POL_REASON_EXPIRING;
	f.cvca = cvc_obj_body(a.obj);

	/* CP-5.4b: has a successor of the active CVCA certificate been
	 * distributed? (a link certificate whose CAR is its CHR) */
	{
		db_cert *links = NULL;
		size_t nl = 0;
		db_cert_filter lf = { .kind = DB_KIND_LINK, .issuer = a.own.id, .car = a.key.label,
				      .imported = 0, .limit = 4 };
		if ((r = db_certs_find(eng_db(e), &lf, &links, &nl)) != EAC_OK)
			goto out;
		for (size_t i = 0; i < nl; i++)
			f.successor_distributed |= links[i].distributed_at != 0;
		db_certs_free(links, nl);
		/* CP-5.4a: when the initial CVCA certificate went to the
		 * Commission (its first distribution) */
		db_cert *all = NULL;
		size_t na = 0;
		db_cert_filter cf = { .kind = DB_KIND_CVCA, .issuer = a.own.id, .imported = 0 };
		if ((r = db_certs_find(eng_db(e), &cf, &all, &na)) != EAC_OK)
			goto out;
		if (na > 0)
			f.initial_cvca_sent_at = all[na - 1].distributed_at; /* oldest */
		db_certs_free(all, na);
	}

	if ((r = find_dv(e, &b->chr, &dv, &found)) != EAC_OK)
		goto out;
	f.dv.registered = found;
	if (found) {
		int cnt = 0;
		snprintf(f.dv.country, sizeof(f.dv.country), "%s", dv.country);
		snprintf(f.dv.mnemonic, sizeof(f.dv.mnemonic), "%s", dv.mnemonic);
		f.dv.status = dv.status == DB_AUTH_ACTIVE	 ? POL_DV_ACTIVE
			      : dv.status == DB_AUTH_SUSPENDED ? POL_DV_SUSPENDED
							       : POL_DV_CLOSED;
		f.dv.has_conformity = dv.conformity_expiry[0] != '\0';
		if (f.dv.has_conformity &&
		    (r = cvc_date_parse(dv.conformity_expiry, &f.dv.conformity_expiry)) != EAC_OK)
			goto out;
		if ((r = db_authority_count_dvs(eng_db(e), dv.country, &cnt)) != EAC_OK)
			goto out;
		f.dv.country_dv_count = (unsigned)cnt;
	}
	{
		uint8_t h[EAC_SHA256_LEN], other[EAC_SHA256_LEN];
		int same_chr = 0;
		if ((r = cvc_pubkey_hash(&b->key, h)) != EAC_OK ||
		    (r = db_key_certified(eng_db(e), a.own.id, h, &f.key.already_certified)) != EAC_OK ||
		    (r = db_key_compromised(eng_db(e), h, &f.key.compromised)) != EAC_OK ||
		    (r = db_cert_chr_key(eng_db(e), a.own.id, DB_KIND_DV, b->chr.s, other, &same_chr)) !=
			    EAC_OK)
			goto out;
		f.key.chr_in_use = same_chr && memcmp(other, h, sizeof(h)) != 0;
	}
	f.rights = o.rights ? &rights : NULL;

	if ((r = pol_dv_certificate(nat, &f, &body, &d)) != EAC_OK) {
		if (r == EAC_ERR_POLICY) {
			char saved[1100];
			snprintf(saved, sizeof(saved), "%s", eac_err_detail(r));
			if (!officer_option_refusal(&d, &o)) {
				eac_err rr = db_request_reject(eng_db(e), q.id, d.rule, d.message,
							       eng_actor(e));
				if (rr != EAC_OK && rr != EAC_ERR_STATE) {
					r = rr;
					goto out;
				}
				/* a parallel approval that issued it first makes its
				 * key "already certified": its certificate is the
				 * answer then */
				r = answer_if_taken(e, &q, o.out, eac_fail(EAC_ERR_POLICY, "%s", saved));
				goto out;
			} else {
				json_t *dj = json_pack("{s:s, s:s}", "rule", d.rule, "message",
						       d.message);
				char *txt = dj ? json_dumps(dj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
				json_decref(dj);
				char obj[32];
				snprintf(obj, sizeof(obj), "request:%lld", (long long)q.id);
				eac_err rr = txt ? db_audit(eng_db(e), NULL, "approve.refused", obj,
							    txt, NULL)
						 : eac_fail(EAC_ERR_NOMEM, "out of memory");
				free(txt);
				if (rr != EAC_OK) {
					r = rr;
					goto out;
				}
			}
			r = eac_fail(EAC_ERR_POLICY, "%s", saved);
		}
		goto out;
	}
	char obj[32];
	snprintf(obj, sizeof(obj), "request:%lld", (long long)q.id);
	/* after a rollover, until the link certificate is out, chips that
	 * know only the previous CVCA key cannot check what this key signs */
	{
		db_cert *links = NULL;
		size_t nl = 0;
		db_cert_filter lf = { .kind = DB_KIND_LINK, .issuer = a.own.id, .chr = a.key.label,
				      .imported = 0, .limit = 1 };
		if ((r = db_certs_find(eng_db(e), &lf, &links, &nl)) != EAC_OK)
			goto out;
		if (nl == 1 && links[0].distributed_at == 0 && d.nwarnings < POL_WARNINGS_MAX) {
			pol_note *w = &d.warning[d.nwarnings++];
			snprintf(w->rule, sizeof(w->rule), "CP-5.4b");
			snprintf(w->message, sizeof(w->message),
				 "the link certificate %s (CAR %s) is not distributed yet; chips that "
				 "know only %s cannot verify this certificate until it is (eac-cvca "
				 "publish %s)",
				 links[0].chr, links[0].car, links[0].car, links[0].chr);
		}
		db_certs_free(links, nl);
	}
	warnings = eng_warnings(e, &d, obj);

	/* received -> validated. A request found validated was left so by an
	 * approval under way or interrupted before its intent: the intent,
	 * unique per request, decides which approval signs */
	if (q.state == DB_REQ_RECEIVED) {
		r = db_request_validate(eng_db(e), q.id, eng_actor(e));
		if (r == EAC_ERR_STATE) {
			eac_err_clear();
			if ((r = db_request_get(eng_db(e), q.id, &q)) != EAC_OK)
				goto out;
			if (q.state == DB_REQ_ISSUED || q.state == DB_REQ_REJECTED) {
				r = answer_decided(e, &q, o.out);
				goto out;
			}
		}
		if (r != EAC_OK)
			goto out;
	}
	if ((r = eng_signing_key(e, &a.key, &key)) != EAC_OK)
		goto out;
	if (o.out)
		snprintf(path, sizeof(path), "%s", o.out);
	else
		default_out(e, &q, path, sizeof(path));
	if ((r = eng_mkdirs_for(path)) != EAC_OK)
		goto out;
	eng_issue_in in = { .issuer = a.own.id, .signing_key = &a.key, .key = key,
			    .alg = f.cvca->key.alg, .issuer_pub = &f.cvca->key, .kind = DB_KIND_DV,
			    .request = q.id, .distribute_within = DISTRIBUTE_WITHIN,
			    .file_is_distribution = 1 };
	r = eng_issue(e, &in, &body, path, &der, &der_len, &cert_id);
	if (r == EAC_ERR_DB_CONFLICT || r == EAC_ERR_POLICY || r == EAC_ERR_STATE) {
		/* taken by a parallel approval (one intent per request), or the
		 * key or CHR certified meanwhile for another request (a refusal) */
		db_conflict c = db_last_conflict(eng_db(e));
		if (c == DB_CONFLICT_HOLDER_KEY)
			r = eac_fail(EAC_ERR_POLICY,
				     "refused: the public key of %s is already certified by this CVCA "
				     "(CP-4.6)",
				     b->chr.s);
		else if (c == DB_CONFLICT_CHR)
			r = eac_fail(EAC_ERR_POLICY,
				     "refused: the holder reference %s already names another key "
				     "certified by this CVCA (CP-3.1b)",
				     b->chr.s);
		json_decref(warnings);
		warnings = NULL;
		r = answer_if_taken(e, &q, o.out, r);
		goto out;
	}
	if (r != EAC_OK)
		goto out;
	r = report_issued(e, &q, cert_id, der, der_len, path, warnings, 0);
	warnings = NULL;
out:
	json_decref(warnings);
	free(der);
	hsm_key_free(key);
	cvc_obj_free(signer);
	cvc_obj_free(req);
	free(raw);
	if (have_active)
		ca_active_free(&a);
	return r;
}

eac_err ca_cmd_reject(eng *e, int argc, char **argv)
{
	static const struct option opts[] = { { "reason", required_argument, NULL, 'r' },
					      { NULL, 0, NULL, 0 } };
	const char *reason = NULL;
	int64_t id;
	eac_err r;

	optind = 0; /* 0: glibc re-initialises getopt (argument order, + mode) */
	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		if (c != 'r')
			return eac_fail(EAC_ERR_USAGE, "usage: reject ID --reason TEXT");
		reason = optarg;
	}
	if (optind != argc - 1 || reason == NULL || *reason == '\0')
		return eac_fail(EAC_ERR_USAGE, "usage: reject ID --reason TEXT");
	if ((r = eng_text_ok("--reason", reason, 1000)) != EAC_OK)
		return r;
	if ((r = eng_parse_id(argv[optind], &id)) != EAC_OK)
		return r;
	/* an officer's decision after checking the request (CP-4.2.2) */
	if ((r = db_request_reject(eng_db(e), id, "CP-4.2.2", reason, eng_actor(e))) != EAC_OK)
		return r;
	if (!eng_options(e)->json)
		printf("request %lld rejected: %s\n", (long long)id, reason);
	eng_emit(e, json_pack("{s:I, s:s, s:s}", "request", (json_int_t)id, "state", "rejected",
			      "reason", reason),
		 NULL);
	return EAC_OK;
}

eac_err ca_cmd_countersign(eng *e, int argc, char **argv)
{
	static const struct option opts[] = { { "out", required_argument, NULL, 'o' },
					      { NULL, 0, NULL, 0 } };
	const char *out_path = NULL;
	cvc_obj *req = NULL;
	ca_active a;
	int have_active = 0, found = 0;
	db_authority dv;
	hsm_key *key = NULL;
	uint8_t *der = NULL;
	size_t der_len = 0;
	eac_err r;

	optind = 0; /* 0: glibc re-initialises getopt (argument order, + mode) */
	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		if (c != 'o')
			return eac_fail(EAC_ERR_USAGE, "usage: countersign FILE --out FILE");
		out_path = optarg;
	}
	if (optind != argc - 1 || out_path == NULL)
		return eac_fail(EAC_ERR_USAGE, "usage: countersign FILE --out FILE");
	if ((r = eng_parse_file(argv[optind], &req)) != EAC_OK)
		return r;
	if (cvc_obj_kind(req) != CVC_KIND_REQUEST) {
		r = eac_fail(EAC_ERR_MALFORMED,
			     "%s: a %s; countersigning takes a plain certificate request",
			     argv[optind], cvc_kind_name(cvc_obj_kind(req)));
		goto out;
	}
	const cvc_body *b = cvc_obj_body(req);
	char cc[3];
	cvc_ref_country(&b->chr, cc);
	/* CP-1.4a: the CVCA key outer-signs only its own country's DVs */
	if (strcmp(cc, eng_policy(e)->country) != 0) {
		r = eac_fail(EAC_ERR_POLICY,
			     "refused: %s is not a domestic DV; this CVCA countersigns only its own "
			     "country's DVs (CP-1.4a)",
			     b->chr.s);
		goto out;
	}
	if ((r = find_dv(e, &b->chr, &dv, &found)) != EAC_OK)
		goto out;
	if (!found) {
		r = eac_fail(EAC_ERR_POLICY, "refused: %s names no registered DV (CP-3.2.3)", b->chr.s);
		goto out;
	}
	if (dv.status != DB_AUTH_ACTIVE) {
		r = eac_fail(EAC_ERR_POLICY, "refused: DV %s%s is suspended (CP-3.3.1)", dv.country,
			     dv.mnemonic);
		goto out;
	}
	if ((r = cvc_verify_request_inner(req)) != EAC_OK) {
		r = eac_fail(EAC_ERR_POLICY,
			     "refused: the request's inner signature does not verify (proof of "
			     "possession, CP-3.2.3)");
		goto out;
	}
	if ((r = ca_active_load(e, &a)) != EAC_OK)
		goto out;
	have_active = 1;
	if ((r = eng_signing_key(e, &a.key, &key)) != EAC_OK)
		goto out;
	cvc_bytes inner = cvc_obj_inner(req);
	const cvc_body *cb = cvc_obj_body(a.obj);
	if ((r = cvc_auth_request_sign(inner.ptr, inner.len, &cb->chr, cb->key.alg, hsm_sign, key,
				       &der, &der_len)) != EAC_OK)
		goto out;
	uint8_t h[EAC_SHA256_LEN];
	if ((r = eac_sha256(der, der_len, h)) != EAC_OK)
		goto out;
	json_t *dj = json_pack("{s:s, s:s, s:o}", "holder", b->chr.s, "outer_car", cb->chr.s,
			       "sha256", eng_json_hex(h, sizeof(h)));
	char *txt = dj ? json_dumps(dj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(dj);
	/* recorded before the countersigned request leaves the appliance */
	r = txt ? db_audit(eng_db(e), NULL, "request.countersign", b->chr.s, txt, NULL)
		: eac_fail(EAC_ERR_NOMEM, "out of memory");
	free(txt);
	if (r != EAC_OK || (r = eac_file_publish(out_path, der, der_len, 0644, 0)) != EAC_OK)
		goto out;
	if (!eng_options(e)->json)
		printf("countersigned %s with %s: %s\n", b->chr.s, cb->chr.s, out_path);
	eng_emit(e, json_pack("{s:s, s:s, s:s, s:o}", "holder", b->chr.s, "outer_car", cb->chr.s,
			      "file", out_path, "sha256", eng_json_hex(h, sizeof(h))),
		 NULL);
	r = EAC_OK;
out:
	free(der);
	hsm_key_free(key);
	if (have_active)
		ca_active_free(&a);
	cvc_obj_free(req);
	return r;
}
