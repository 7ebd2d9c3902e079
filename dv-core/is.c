/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inspection systems: the DV's registry of approved terminals (CP-3.2.4),
 * their status (CP-3.3.2), their requests (CP-4.2.3, 24 h, CP-5.4.2) and
 * their certificates.
 */

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dv-core/dv.h"
#include "dv-core/internal.h"

static const char *const is_states[] = { "?", "operational", "stolen", "lost", "retired" };

static json_t *is_json(const db_inspection_system *s)
{
	json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s}", "id", (json_int_t)s->id, "name", s->name,
			      "mnemonic", s->mnemonic, "organisation", s->organisation, "status",
			      is_states[s->status <= DB_IS_RETIRED ? s->status : 0]);
	if (o)
		json_object_set_new(o, "registered_at", eng_json_time(s->created_at));
	return o;
}

/* By name, or by mnemonic. */
static eac_err find_is(eng *e, const char *name, db_inspection_system *out)
{
	db_inspection_system *list = NULL;
	size_t n = 0;
	eac_err r = db_is_list(eng_db(e), &list, &n);
	if (r != EAC_OK)
		return r;
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].name, name) == 0 || strcmp(list[i].mnemonic, name) == 0) {
			*out = list[i];
			free(list);
			return EAC_OK;
		}
	free(list);
	return eac_fail(EAC_ERR_NOT_FOUND, "no inspection system '%s' is registered", name);
}

eac_err dv_cmd_is_add(eng *e, int argc, char **argv)
{
	static const struct option opts[] = { { "org", required_argument, NULL, 'o' },
					      { "mnemonic", required_argument, NULL, 'm' },
					      { NULL, 0, NULL, 0 } };
	const char *org = NULL, *mn = NULL;
	char derived[10];
	db_authority own;
	db_inspection_system s;
	int64_t id;
	eac_err r;

	optind = 0;
	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		if (c == 'o')
			org = optarg;
		else if (c == 'm')
			mn = optarg;
		else
			return eac_fail(EAC_ERR_USAGE, "usage: is add NAME --org ORG [--mnemonic M]");
	}
	if (optind != argc - 1 || org == NULL || *org == '\0' || *argv[optind] == '\0')
		return eac_fail(EAC_ERR_USAGE, "usage: is add NAME --org ORG [--mnemonic M]");
	const char *name = argv[optind];
	if ((r = eng_text_ok("the name", name, 200)) != EAC_OK ||
	    (r = eng_text_ok("--org", org, 200)) != EAC_OK)
		return r;
	if (mn == NULL) {
		/* the DV assigns its terminals' mnemonics (TR-03110-3 A.6.1):
		 * by default the name's letters and digits, upper case */
		size_t k = 0;
		for (const char *p = name; *p && k < 9; p++)
			if (isalnum((unsigned char)*p))
				derived[k++] = (char)toupper((unsigned char)*p);
		derived[k] = '\0';
		mn = derived;
	}
	if ((r = db_authority_own(eng_db(e), &own)) != EAC_OK)
		return r;
	cvc_ref probe;
	if (*mn == '\0' || eng_make_chr(own.country, mn, 0, &probe) != EAC_OK)
		return eac_fail(EAC_ERR_USAGE,
				"mnemonic '%s': 1..9 printable ISO 8859-1 characters (CP-3.1b); give "
				"--mnemonic",
				mn);
	r = db_is_add(eng_db(e), name, mn, org, &id);
	if (r == EAC_ERR_DB_CONFLICT && db_last_conflict(eng_db(e)) == DB_CONFLICT_NAME)
		return eac_fail(EAC_ERR_EXISTS, "an inspection system named '%s' or with mnemonic %s "
						"is already registered",
				name, mn);
	if (r != EAC_OK || (r = db_is_get(eng_db(e), id, &s)) != EAC_OK)
		return r;
	if (!eng_options(e)->json)
		printf("registered inspection system %s (%s, %s): its requests carry CHR %s%s#####\n",
		       name, mn, org, own.country, mn);
	eng_emit(e, is_json(&s), NULL);
	return EAC_OK;
}

eac_err dv_cmd_is_mark(eng *e, int argc, char **argv)
{
	static const struct option opts[] = { { "reason", required_argument, NULL, 'r' },
					      { NULL, 0, NULL, 0 } };
	const char *reason = NULL;
	db_inspection_system s;
	db_is_status st;
	eac_err r;

	optind = 0;
	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		if (c != 'r')
			return eac_fail(EAC_ERR_USAGE, "usage: is mark NAME STATUS [--reason TEXT]");
		reason = optarg;
	}
	if (optind != argc - 2)
		return eac_fail(EAC_ERR_USAGE,
				"usage: is mark NAME operational|stolen|lost|retired [--reason TEXT]");
	const char *want = argv[optind + 1];
	for (st = DB_IS_OPERATIONAL; st <= DB_IS_RETIRED; st++)
		if (strcmp(want, is_states[st]) == 0)
			break;
	if (st > DB_IS_RETIRED)
		return eac_fail(EAC_ERR_USAGE, "status must be operational, stolen, lost or retired");
	if ((r = find_is(e, argv[optind], &s)) != EAC_OK)
		return r;
	if (reason == NULL)
		reason = "marked by the DV operator";
	else if ((r = eng_text_ok("--reason", reason, 1000)) != EAC_OK)
		return r;
	r = db_is_set_status(eng_db(e), s.id, st, reason);
	if (r == EAC_ERR_STATE)
		/* the database refused the transition (its trigger is the rule:
		 * a lost terminal may be found, a stolen one is never trusted
		 * again, retirement is final); say so in the officer's terms */
		return eac_fail(EAC_ERR_POLICY,
				"refused: inspection system %s is %s and cannot become %s: %s (CP-3.3.2)",
				s.name, is_states[s.status <= DB_IS_RETIRED ? s.status : 0], want,
				s.status == DB_IS_STOLEN
					? "a stolen inspection system is never trusted again; retire it "
					  "and register its replacement"
					: "retirement is final; register a new inspection system");
	if (r != EAC_OK || (r = db_is_get(eng_db(e), s.id, &s)) != EAC_OK)
		return r;
	if (!eng_options(e)->json)
		printf("inspection system %s is now %s%s\n", s.name, is_states[s.status],
		       st == DB_IS_STOLEN || st == DB_IS_LOST
			       ? ": no certificate will be issued to it (CP-3.3.2)"
			       : "");
	eng_emit(e, is_json(&s), NULL);
	return EAC_OK;
}

eac_err dv_cmd_is_list(eng *e, int argc, char **argv)
{
	db_inspection_system *list = NULL;
	size_t n = 0;
	eac_err r;
	(void)argv;
	if (argc != 1)
		return eac_fail(EAC_ERR_USAGE, "usage: is list");
	if ((r = db_is_list(eng_db(e), &list, &n)) != EAC_OK)
		return r;
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(arr, is_json(&list[i]));
		if (!eng_options(e)->json)
			printf("%-24s %-9s %-11s %s\n", list[i].name, list[i].mnemonic,
			       is_states[list[i].status <= DB_IS_RETIRED ? list[i].status : 0],
			       list[i].organisation);
	}
	free(list);
	eng_emit(e, json_pack("{s:o}", "inspection_systems", arr), NULL);
	return EAC_OK;
}

/* ---- receive ---- */

eac_err dv_receive(db_conn *db, const char *path, const uint8_t *raw, size_t len,
		   db_request *q, int *existing)
{
	cvc_obj *req = NULL;
	db_authority own;
	db_inspection_system s;
	eac_err r;

	if ((r = cvc_parse_request(raw, len, &req)) != EAC_OK) {
		r = eac_fail_prefix(r, "%s: ", path);
		goto out;
	}
	const cvc_body *b = cvc_obj_body(req);
	char cc[3], mn[10];
	cvc_ref_country(&b->chr, cc);
	cvc_ref_mnemonic(&b->chr, mn);
	if ((r = db_authority_own(db, &own)) != EAC_OK)
		goto out;
	/* CP-3.3.2a / CP-3.2.4: only terminals this DV registered */
	if (strcmp(cc, own.country) != 0 || (r = db_is_find(db, mn, &s)) == EAC_ERR_NOT_FOUND) {
		r = eac_fail(EAC_ERR_POLICY,
			     "refused: %s: %s names no inspection system registered with this DV "
			     "(CP-3.3.2)",
			     path, b->chr.s);
		goto out;
	}
	if (r != EAC_OK)
		goto out;
	const cvc_ref *outer = cvc_obj_outer_car(req);
	db_request_in in = { .kind = DB_KIND_IS, .channel = "is", .inspection_system = s.id,
			     .raw = raw, .raw_len = len, .holder_chr = b->chr.s,
			     .outer_car = outer ? outer->s : NULL,
			     .process_within = DV_PROCESS_WITHIN, .acknowledge = 1 };
	r = db_request_submit(db, &in, q, existing);
out:
	cvc_obj_free(req);
	return r;
}

static json_t *request_json(const db_request *q)
{
	json_t *o = json_pack("{s:I, s:s, s:s}", "id", (json_int_t)q->id, "holder", q->holder_chr,
			      "state", db_req_state_name(q->state));
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "received_at", eng_json_time(q->received_at));
	json_object_set_new(o, "deadline", eng_json_time(q->deadline));
	if (q->state == DB_REQ_REJECTED) {
		json_object_set_new(o, "rule", json_string(q->rule_id));
		json_object_set_new(o, "reason", json_string(q->message));
	}
	return o;
}

/* A refusal of input from a terminal is part of the record. */
static eac_err audit_refusal(eng *e, const char *action, const char *object, eac_err why)
{
	char saved[1100];
	snprintf(saved, sizeof(saved), "%s", eac_err_detail(why));
	json_t *d = json_pack("{s:s}", "error", saved);
	char *txt = d ? json_dumps(d, JSON_COMPACT) : NULL;
	json_decref(d);
	eac_err a = txt ? db_audit(eng_db(e), NULL, action, object, txt, NULL)
			: eac_fail(EAC_ERR_NOMEM, "out of memory");
	free(txt);
	if (a != EAC_OK)
		return eac_fail(EAC_ERR_AUDIT, "%s (and the refusal could not be audited)", saved);
	return eac_fail(why, "%s", saved);
}

eac_err dv_cmd_is_receive(eng *e, int argc, char **argv)
{
	uint8_t *raw = NULL;
	size_t len = 0;
	db_request q;
	int existing = 0;
	eac_err r;

	if (argc != 2)
		return eac_fail(EAC_ERR_USAGE, "usage: is receive FILE");
	if ((r = eng_read_input(argv[1], &raw, &len)) != EAC_OK)
		return r;
	r = dv_receive(eng_db(e), argv[1], raw, len, &q, &existing);
	free(raw);
	if (r == EAC_ERR_MALFORMED || r == EAC_ERR_UNSUPPORTED || r == EAC_ERR_POLICY)
		return audit_refusal(e, "request.refused", argv[1], r);
	if (r != EAC_OK)
		return r;
	json_t *o = request_json(&q);
	json_object_set_new(o, "resubmitted", json_boolean(existing));
	if (!eng_options(e)->json) {
		char rec[21], dl[21];
		eac_time_iso(q.received_at, rec);
		eac_time_iso(q.deadline, dl);
		printf("IS request %lld from %s%s: received %s, acknowledged, to be processed by %s "
		       "(24 h, CP-5.4.2)\n",
		       (long long)q.id, q.holder_chr, existing ? " (resubmitted: same request)" : "",
		       rec, dl);
	}
	eng_emit(e, o, NULL);
	return EAC_OK;
}

/* ---- approve ---- */

/* The facts of one IS request, everything but the token. */
eac_err dv_is_decide(eng *e, db_conn *db, dv_ctx *x, const db_request *q, const uint8_t *raw,
		     size_t len, const dv_is_opts *o, const db_inspection_system *is,
		     const db_issue_fact *fact, dv_decided *out)
{
	cvc_obj *req = NULL, *signer = NULL;
	db_inspection_system s;
	db_issue_fact own_fact;
	int have_own_fact = 0;
	pol_is_facts f = { 0 };
	eac_err r;

	memset(out, 0, sizeof(*out));
	if ((r = cvc_parse_request(raw, len, &req)) != EAC_OK)
		return r;
	const cvc_body *b = cvc_obj_body(req);
	f.now = eac_now();
	f.received_at = q->received_at;
	f.request = b;
	r = cvc_verify_request_inner(req);
	f.inner_verified = r == EAC_OK;
	if (r != EAC_OK && r != EAC_ERR_SIGNATURE && r != EAC_ERR_UNSUPPORTED)
		goto out;
	eac_err_clear();
	/* the chain it asks for: its CAR names one of our DV certificates */
	const dv_chain *ch = NULL;
	if (b->has_car)
		ch = dv_ctx_chain(x, b->car.s);
	if (ch == NULL) {
		/* the certificate's CAR must name the DV certificate whose key
		 * signs it (CP-3.1a) */
		pol_decision_init(&out->decision);
		out->decision.allowed = 0;
		snprintf(out->decision.rule, sizeof(out->decision.rule), "CP-3.1a");
		snprintf(out->decision.message, sizeof(out->decision.message),
			 "the request names %s, which is no DV certificate of this DV's active key",
			 b->has_car ? b->car.s : "no certification authority");
		r = EAC_OK;
		goto out;
	}
	f.dv_cert = cvc_obj_body(ch->dv_obj);
	f.cvca_key = &cvc_obj_body(ch->cvca_obj)->key;
	if (is == NULL) {
		if ((r = db_is_get(db, q->inspection_system, &s)) != EAC_OK)
			goto out;
		is = &s;
	}
	char mn[10];
	cvc_ref_mnemonic(&b->chr, mn);
	f.is.registered = strcmp(mn, is->mnemonic) == 0;
	snprintf(f.is.mnemonic, sizeof(f.is.mnemonic), "%s", is->mnemonic);
	f.is.status = is->status == DB_IS_OPERATIONAL ? POL_IS_OPERATIONAL
		      : is->status == DB_IS_STOLEN   ? POL_IS_STOLEN
		      : is->status == DB_IS_LOST     ? POL_IS_LOST
						     : POL_IS_OUT_OF_SERVICE;
	/* key facts (CP-4.6, CP-4.5b, CP-3.1b) and a re-key's signer, in one
	 * statement (a batch reads them for a whole chunk at once) */
	uint8_t h[EAC_SHA256_LEN];
	const cvc_ref *outer = cvc_obj_outer_car(req);
	if ((r = cvc_pubkey_hash(&b->key, h)) != EAC_OK)
		goto out;
	if (fact == NULL) {
		db_fact_query fq = { h, b->chr.s, outer ? outer->s : NULL };
		if ((r = db_issue_facts(db, x->own.id, DB_KIND_IS, 1, &fq, &own_fact)) != EAC_OK)
			goto out;
		have_own_fact = 1;
		fact = &own_fact;
	}
	f.key.already_certified = fact->certified;
	f.key.compromised = fact->compromised;
	f.key.chr_in_use = fact->chr_found && memcmp(fact->chr_key, h, sizeof(h)) != 0;
	/* re-key: outer-signed by the IS's current certificate from us */
	if (outer != NULL) {
		f.outer.present = 1;
		f.outer.car = *outer;
		f.outer.signer = POL_SIGNER_UNKNOWN;
		if (fact->outer_der != NULL &&
		    (r = cvc_parse_cert(fact->outer_der, fact->outer_len, &signer)) == EAC_OK) {
			const cvc_body *sb = cvc_obj_body(signer);
			f.outer.signer = POL_SIGNER_HOLDER;
			f.outer.signer_cert = sb;
			f.outer.signer_key_compromised = fact->outer_compromised;
			r = cvc_verify_request_outer(req, &sb->key, f.cvca_key);
			f.outer.verified = r == EAC_OK;
		}
		if (r == EAC_ERR_SIGNATURE || r == EAC_ERR_UNSUPPORTED || r == EAC_ERR_MALFORMED) {
			eac_err_clear();
			r = EAC_OK;
		}
		if (r != EAC_OK)
			goto out;
	}
	f.kind = f.outer.signer == POL_SIGNER_HOLDER ? POL_REQUEST_REKEY : POL_REQUEST_INITIAL;
	if (f.kind == POL_REQUEST_REKEY)
		f.reason = o->reason != POL_REASON_NONE ? o->reason : POL_REASON_EXPIRING;
	f.validity_days = o->validity_days;
	f.rights = o->has_rights ? &o->rights : NULL;
	r = pol_is_certificate(eng_policy(e), &f, &out->body, &out->decision);
	if (r == EAC_ERR_POLICY)
		goto decided;
	if (r != EAC_OK)
		goto out;
	out->chain = ch;
	out->allowed = 1;
	out->req = req; /* the body's key points into it */
	req = NULL;
	r = EAC_OK;
	goto out;
decided:
	/* a refusal is a decision, not an error of the command */
	out->allowed = 0;
	r = EAC_OK;
out:
	if (have_own_fact)
		db_issue_facts_free(&own_fact, 1);
	cvc_obj_free(signer);
	cvc_obj_free(req);
	return r;
}

void dv_decided_free(dv_decided *d)
{
	cvc_obj_free(d->req);
	memset(d, 0, sizeof(*d));
}

static int officer_option_refusal(const pol_decision *d, const dv_is_opts *o)
{
	return (o->validity_days && strcmp(d->rule, "CP-5.4.1") == 0) ||
	       (o->has_rights && (strcmp(d->rule, "CP-1.3b") == 0 || strcmp(d->rule, "CP-4.5c") == 0));
}

/* Record a refusal: the request is rejected with its rule, unless the
 * officer's own options caused it. Returns the refusal as the error. */
eac_err dv_refuse(eng *e, db_conn *db, const db_request *q, const dv_is_opts *o,
		  const pol_decision *d)
{
	char obj[32];
	eac_err r;
	snprintf(obj, sizeof(obj), "request:%lld", (long long)q->id);
	if (!officer_option_refusal(d, o)) {
		r = db_request_reject(db, q->id, d->rule, d->message, eng_actor(e));
		if (r != EAC_OK && r != EAC_ERR_STATE)
			return r;
	} else {
		json_t *dj = json_pack("{s:s, s:s}", "rule", d->rule, "message", d->message);
		char *txt = dj ? json_dumps(dj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		json_decref(dj);
		r = txt ? db_audit(db, NULL, "approve.refused", obj, txt, NULL)
			: eac_fail(EAC_ERR_NOMEM, "out of memory");
		free(txt);
		if (r != EAC_OK)
			return r;
	}
	return eac_fail(EAC_ERR_POLICY, "refused: %s (%s)", d->message, d->rule);
}

eac_err dv_parse_is_opts(eng *e, const char *validity, const char *rights, dv_is_opts *o)
{
	eac_err r;
	memset(o, 0, sizeof(*o));
	if ((r = eng_parse_days(validity, &o->validity_days)) != EAC_OK)
		return r;
	if (rights != NULL) {
		if ((r = eng_parse_rights(eng_policy(e), rights, &o->rights)) != EAC_OK)
			return r;
		o->has_rights = 1;
	}
	return EAC_OK;
}

static eac_err answer_decided(eng *e, const db_request *q, const char *out_path)
{
	db_cert c;
	eac_err r;
	if (q->state == DB_REQ_REJECTED)
		return eac_fail(EAC_ERR_POLICY, "refused: request %lld was rejected: %s (%s)",
				(long long)q->id, q->message, q->rule_id);
	if ((r = db_cert_by_request(eng_db(e), q->id, &c)) != EAC_OK)
		return r;
	if ((r = eng_mkdirs_for(out_path)) == EAC_OK &&
	    (r = eng_release(e, c.id, c.der, c.der_len, out_path, 1)) == EAC_OK) {
		if (!eng_options(e)->json)
			printf("already issued: IS certificate %s (CAR %s), written to %s\n", c.chr,
			       c.car, out_path);
		json_t *j = eng_cert_json(&c);
		json_object_set_new(j, "file", json_string(out_path));
		json_object_set_new(j, "resubmitted", json_true());
		eng_emit(e, j, NULL);
	}
	db_cert_free(&c);
	return r;
}

/* Answer like a resubmission when a parallel approval took the request
 * (engine: eng_await_taken); else `why` stands. */
static eac_err answer_if_taken(eng *e, db_request *q, const char *path, eac_err why)
{
	eac_err r = eng_await_taken(e, q, why);
	return r == EAC_OK ? answer_decided(e, q, path) : r;
}

/* The database refused the intent of `body` for request q: taken by a
 * parallel approval, or the CHR or key taken by another request meanwhile
 * (a refusal). */
static eac_err intent_conflict(eng *e, db_request *q, const cvc_body *body, const char *path)
{
	db_conflict c = db_last_conflict(eng_db(e));
	eac_err r = EAC_ERR_DB_CONFLICT;
	if (c == DB_CONFLICT_HOLDER_KEY)
		r = eac_fail(EAC_ERR_POLICY,
			     "refused: the public key of %s is already certified by this DV (CP-4.6)",
			     body->chr.s);
	else if (c == DB_CONFLICT_CHR)
		r = eac_fail(EAC_ERR_POLICY,
			     "refused: the holder reference %s already names another key certified "
			     "by this DV (CP-3.1b)",
			     body->chr.s);
	return answer_if_taken(e, q, path, r);
}

eac_err dv_cmd_is_approve(eng *e, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "validity", required_argument, NULL, 'v' },
		{ "rights", required_argument, NULL, 'r' },
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *validity = NULL, *rights = NULL, *out_opt = NULL;
	dv_is_opts o;
	dv_ctx x = { 0 };
	db_request q;
	uint8_t *raw = NULL, *der = NULL;
	size_t len = 0, der_len = 0;
	dv_decided dd = { 0 };
	int64_t id, cert_id = 0;
	char path[4200];
	eac_err r;

	optind = 0;
	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		switch (c) {
		case 'v': validity = optarg; break;
		case 'r': rights = optarg; break;
		case 'o': out_opt = optarg; break;
		default:
			return eac_fail(EAC_ERR_USAGE, "is approve: unknown or incomplete option '%s'",
					argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return eac_fail(EAC_ERR_USAGE,
				"usage: is approve ID [--validity DAYS] [--rights LIST] [--out FILE]");
	if ((r = eng_parse_id(argv[optind], &id)) != EAC_OK ||
	    (r = dv_parse_is_opts(e, validity, rights, &o)) != EAC_OK)
		return r;
	if ((r = db_request_get(eng_db(e), id, &q)) != EAC_OK)
		return r;
	if (q.kind != DB_KIND_IS)
		return eac_fail(EAC_ERR_STATE, "request %lld is not an IS request", (long long)id);
	if (out_opt)
		snprintf(path, sizeof(path), "%s", out_opt);
	else
		snprintf(path, sizeof(path), "%s/issued/%s.cvcert", eng_config(e)->data_dir,
			 q.holder_chr);
	if (q.state == DB_REQ_ISSUED || q.state == DB_REQ_REJECTED)
		return answer_decided(e, &q, path);
	if ((r = dv_ctx_open(e, &x)) != EAC_OK)
		return r;
	if ((r = db_request_raw(eng_db(e), q.id, &raw, &len)) != EAC_OK ||
	    (r = dv_is_decide(e, eng_db(e), &x, &q, raw, len, &o, NULL, NULL, &dd)) != EAC_OK)
		goto out;
	if (!dd.allowed) {
		/* (a parallel approval that issued it first makes its key
		 * "already certified": then its certificate is the answer) */
		r = dv_refuse(e, eng_db(e), &q, &o, &dd.decision);
		if (r == EAC_ERR_POLICY)
			r = answer_if_taken(e, &q, path, r);
		goto out;
	}
	char obj[32];
	snprintf(obj, sizeof(obj), "request:%lld", (long long)q.id);
	json_t *warnings = eng_warnings(e, &dd.decision, obj);
	json_decref(warnings);
	/* received -> validated. A request found validated was left so by an
	 * approval under way or interrupted before its intent: the intent,
	 * unique per request, decides which approval signs (intent_conflict) */
	if (q.state == DB_REQ_RECEIVED) {
		r = db_request_validate(eng_db(e), q.id, eng_actor(e));
		if (r == EAC_ERR_STATE) {
			/* a parallel approval decided first */
			eac_err_clear();
			if ((r = db_request_get(eng_db(e), q.id, &q)) != EAC_OK)
				goto out;
			if (q.state == DB_REQ_ISSUED || q.state == DB_REQ_REJECTED) {
				r = answer_decided(e, &q, path);
				goto out;
			}
		}
		if (r != EAC_OK)
			goto out;
	}
	if ((r = dv_ctx_token(e, &x)) != EAC_OK || (r = eng_mkdirs_for(path)) != EAC_OK)
		goto out;
	const cvc_body *dvb = cvc_obj_body(dd.chain->dv_obj);
	eng_issue_in in = { .issuer = x.own.id, .signing_key = &x.key, .key = x.hk,
			    .alg = cvc_obj_body(dd.chain->cvca_obj)->key.alg,
			    .issuer_pub = &dvb->key, .domain = &cvc_obj_body(dd.chain->cvca_obj)->key,
			    .kind = DB_KIND_IS, .request = q.id,
			    .distribute_within = DV_DISTRIBUTE_WITHIN, .file_is_distribution = 1 };
	/* the DV signs with its key's scheme as its certificate names it */
	in.alg = dvb->key.alg;
	r = eng_issue(e, &in, &dd.body, path, &der, &der_len, &cert_id);
	if (r == EAC_ERR_DB_CONFLICT) {
		r = intent_conflict(e, &q, &dd.body, path);
		goto out; /* refused, or answered with the other approval's certificate */
	}
	if (r == EAC_ERR_POLICY || r == EAC_ERR_STATE) {
		/* the schema refuses an intent for a request issued meanwhile */
		r = answer_if_taken(e, &q, path, r);
		goto out;
	}
	if (r != EAC_OK)
		goto out;
	char eff[11], exp[11], rs[64];
	cvc_date_format(&dd.body.effective, eff);
	cvc_date_format(&dd.body.expiry, exp);
	cvc_rights_format(&dd.body.chat, rs, sizeof(rs));
	if (!eng_options(e)->json)
		printf("issued IS certificate %s (CAR %s, rights %s) valid %s .. %s\nwritten to %s\n",
		       dd.body.chr.s, dd.body.car.s, rs[0] ? rs : "none", eff, exp, path);
	eng_emit(e, json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s}", "request",
			      (json_int_t)q.id, "certificate", (json_int_t)cert_id, "chr",
			      dd.body.chr.s, "car", dd.body.car.s, "rights", rs, "effective", eff,
			      "expiry", exp, "file", path),
		 NULL);
	r = EAC_OK;
out:
	free(der);
	free(raw);
	dv_decided_free(&dd);
	dv_ctx_close(&x);
	return r;
}
