/* SPDX-License-Identifier: Apache-2.0 */
/*
 * is issue-batch: fleet renewal. Every request file of a directory is
 * received, decided, signed and recorded through the same protocol as a
 * single approval, by one worker thread per core, each with its own
 * database connection, all sharing one logged-in token (hsm/ keeps a
 * session pool). Work goes in chunks so that a chunk costs a handful of
 * commits, not several per certificate: the token, not our code, should
 * be the limit (docs/PERFORMANCE.md). A bad request is refused and
 * reported; the batch goes on. Memory does not grow with the number of
 * files: the directory is read as the workers go.
 */

#include <dirent.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dv-core/internal.h"

#define CHUNK 64
#define WORKERS_MAX 64

typedef enum item_state {
	IT_PENDING = 0,
	IT_REFUSED,  /* a decision: request rejected or input refused */
	IT_ISSUED,   /* certificate recorded (and released) */
	IT_FAILED,   /* environment failure for this item */
	IT_SAME,     /* the same request as another file of this batch: answered there */
} item_state;

typedef struct item {
	char path[4200];
	char name[256];
	uint8_t *raw;
	size_t len;
	item_state state;
	char msg[600];
	db_request q;
	int existing;
	int already;  /* resubmitted, issued before */
	int taken;    /* the same request, taken by another worker */
	const db_inspection_system *is; /* &is_row when registered, else NULL */
	db_inspection_system is_row;
	char mn[10];
	char chr[CVC_REF_MAX + 1], outer[CVC_REF_MAX + 1];
	uint8_t key_hash[EAC_SHA256_LEN];
	db_issue_fact fact;
	dv_decided d;
	uint8_t *tbs;
	size_t tbs_len;
	uint8_t holder[EAC_SHA256_LEN];
	uint8_t chat[CVC_CHAT_TLV_MAX];
	size_t chat_len;
	char eff[11], exp[11];
	int64_t intent;
	uint8_t *der;
	size_t der_len;
	int64_t cert;
	char out[4200];
} item;

typedef struct batch {
	eng *e;
	dv_ctx *x;
	dv_is_opts opts;
	const char *dir, *out_dir;
	DIR *d;
	pthread_mutex_t lock; /* d, output, report, counters */
	atomic_int stop;
	json_t *refused;
	size_t issued, nrefused, failed;
	eac_err err;
	char errmsg[1100];
} batch;

typedef struct worker {
	batch *b;
	int index;
	db_conn *db;
	item items[CHUNK];
} worker;

static void refuse(item *it, const char *msg)
{
	it->state = IT_REFUSED;
	snprintf(it->msg, sizeof(it->msg), "%s", msg);
}

/* The inspection systems the chunk's requests name, in one statement per
 * chunk: memory stays independent of the size of the registry (the schema
 * checks a system's status again when the intent is recorded, so one
 * marked stolen meanwhile still gets nothing). CP-3.3.2a / CP-3.2.4: only
 * terminals this DV registered; the others are refused. */
static eac_err find_systems(worker *w, size_t n)
{
	const char *mn[CHUNK] = { 0 };
	db_inspection_system rows[CHUNK];
	int found[CHUNK];
	size_t idx[CHUNK], k = 0;
	eac_err r;

	for (size_t i = 0; i < n; i++)
		if (w->items[i].state == IT_PENDING && w->items[i].mn[0]) {
			mn[k] = w->items[i].mn;
			idx[k++] = i;
		}
	if ((r = db_is_find_many(w->db, mn, k, rows, found)) != EAC_OK)
		return r;
	for (size_t j = 0; j < k; j++)
		if (found[j]) {
			w->items[idx[j]].is_row = rows[j];
			w->items[idx[j]].is = &w->items[idx[j]].is_row;
		}
	for (size_t i = 0; i < n; i++) {
		item *it = &w->items[i];
		if (it->state == IT_PENDING && it->is == NULL) {
			char msg[300];
			snprintf(msg, sizeof(msg),
				 "refused: %s names no inspection system registered with this DV "
				 "(CP-3.3.2)",
				 it->chr);
			refuse(it, msg);
		}
	}
	return EAC_OK;
}

/* The next request file name, or 0 when the directory is done. */
static int next_file(batch *b, item *it)
{
	int got = 0;
	pthread_mutex_lock(&b->lock);
	for (struct dirent *de; !got && (de = readdir(b->d)) != NULL;) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(it->path, sizeof(it->path), "%s/%s", b->dir, de->d_name);
		struct stat st;
		if (stat(it->path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		snprintf(it->name, sizeof(it->name), "%s", de->d_name);
		got = 1;
	}
	pthread_mutex_unlock(&b->lock);
	return got;
}

static void fail_batch(batch *b, eac_err r, const char *what)
{
	pthread_mutex_lock(&b->lock);
	if (b->err == EAC_OK) {
		b->err = r;
		snprintf(b->errmsg, sizeof(b->errmsg), "%s%s", what, eac_err_detail(r));
	}
	pthread_mutex_unlock(&b->lock);
	atomic_store(&b->stop, 1);
}

/* ---- the transactions of a chunk (rerun from the start on retry) ---- */

typedef struct tx_arg {
	worker *w;
	size_t n;
} tx_arg;

/* Receive: every readable request of the chunk recorded and acknowledged
 * in one statement; refusals of a terminal's input recorded with it. */
static eac_err tx_receive(db_conn *db, void *arg)
{
	tx_arg *t = arg;
	worker *w = t->w;
	db_request_in in[CHUNK] = { 0 };
	db_request out[CHUNK];
	int existing[CHUNK];
	size_t idx[CHUNK], k = 0;
	eac_err r;

	for (size_t i = 0; i < t->n; i++) {
		item *it = &w->items[i];
		if (it->state == IT_REFUSED) {
			/* the refusal of a terminal's input is part of the record,
			 * an unreadable or oversized file's as much as a bad one's */
			char saved[700];
			snprintf(saved, sizeof(saved), "%s", it->msg);
			json_t *dj = json_pack("{s:s}", "error", saved);
			char *txt = dj ? json_dumps(dj, JSON_COMPACT) : NULL;
			json_decref(dj);
			r = txt ? db_audit(db, NULL, "request.refused", it->name, txt, NULL)
				: eac_fail(EAC_ERR_NOMEM, "out of memory");
			free(txt);
			if (r != EAC_OK)
				return r;
		}
		if (it->state != IT_PENDING || it->is == NULL)
			continue;
		in[k] = (db_request_in){ .kind = DB_KIND_IS, .channel = "is",
					 .inspection_system = it->is->id, .raw = it->raw,
					 .raw_len = it->len, .holder_chr = it->chr,
					 .outer_car = it->outer[0] ? it->outer : NULL,
					 .process_within = DV_PROCESS_WITHIN, .acknowledge = 1 };
		idx[k++] = i;
	}
	if ((r = db_request_submit_many(db, in, k, out, existing)) != EAC_OK)
		return r;
	for (size_t j = 0; j < k; j++) {
		w->items[idx[j]].q = out[j];
		w->items[idx[j]].existing = existing[j];
	}
	return EAC_OK;
}

static int officer_option(const pol_decision *d, const dv_is_opts *o)
{
	return (o->validity_days && strcmp(d->rule, "CP-5.4.1") == 0) ||
	       (o->has_rights && (strcmp(d->rule, "CP-1.3b") == 0 || strcmp(d->rule, "CP-4.5c") == 0));
}

/* Was this request taken by another worker (its intent under way or its
 * certificate issued)? Then it is answered there. */
static eac_err taken_elsewhere(db_conn *db, int64_t request, int *taken)
{
	int64_t intent = 0;
	int busy = 0;
	db_request now;
	eac_err r;
	if ((r = db_request_intent_busy(db, request, &intent, &busy)) != EAC_OK ||
	    (r = db_request_get(db, request, &now)) != EAC_OK)
		return r;
	*taken = intent != 0 || now.state == DB_REQ_ISSUED;
	return EAC_OK;
}

static eac_err tx_decide(db_conn *db, void *arg)
{
	tx_arg *t = arg;
	batch *b = t->w->b;
	int64_t ids[CHUNK];
	size_t k = 0;
	eac_err r;
	for (size_t i = 0; i < t->n; i++) {
		item *it = &t->w->items[i];
		if (it->state == IT_PENDING && !it->already && it->d.allowed &&
		    it->q.state == DB_REQ_RECEIVED)
			ids[k++] = it->q.id;
	}
	if ((r = db_request_validate_many(db, ids, k, eng_actor(b->e))) != EAC_OK)
		return r;
	for (size_t i = 0; i < t->n; i++) {
		item *it = &t->w->items[i];
		if (it->state != IT_PENDING || it->already || it->d.allowed)
			continue;
		/* the same request taken by another worker (its intent under way
		 * or its certificate issued: hence "key already certified") is
		 * answered there, not rejected here */
		if ((r = taken_elsewhere(db, it->q.id, &it->taken)) != EAC_OK)
			return r;
		if (it->taken)
			continue;
		/* refused: the request is rejected with its rule, unless the
		 * officer's own options caused the refusal */
		if (!officer_option(&it->d.decision, &b->opts) &&
		    (r = db_request_reject(db, it->q.id, it->d.decision.rule, it->d.decision.message,
					   eng_actor(b->e))) != EAC_OK)
			return r;
	}
	return EAC_OK;
}

static eac_err tx_release(db_conn *db, void *arg)
{
	tx_arg *t = arg;
	int64_t ids[CHUNK];
	const char *to[CHUNK];
	size_t k = 0;
	eac_err r;
	for (size_t i = 0; i < t->n; i++) {
		item *it = &t->w->items[i];
		if (it->state == IT_ISSUED && it->out[0]) {
			ids[k] = it->cert;
			to[k++] = it->out;
		}
	}
	if ((r = db_distribution_record_many(db, ids, k, "file", to)) != EAC_OK)
		return r;
	for (size_t i = 0; i < t->n; i++) {
		item *it = &t->w->items[i];
		/* an intent the database refused (CP-4.6, CP-3.1b): the request is
		 * answered with that refusal */
		if (it->state != IT_REFUSED || it->intent != -1)
			continue;
		/* the key or CHR conflict may be this very request's, taken by
		 * another worker: then it is answered there */
		int taken = 0;
		if ((r = taken_elsewhere(db, it->q.id, &taken)) != EAC_OK)
			return r;
		if (taken) {
			it->state = IT_SAME;
			continue;
		}
		if ((r = db_request_reject(db, it->q.id, it->d.decision.rule, it->msg,
					   eng_actor(t->w->b->e))) != EAC_OK)
			return r;
	}
	return EAC_OK;
}

/* ---- one chunk ---- */

static void chunk_free(worker *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		item *it = &w->items[i];
		free(it->raw);
		free(it->tbs);
		free(it->der);
		db_issue_facts_free(&it->fact, 1);
		dv_decided_free(&it->d);
		memset(it, 0, sizeof(*it));
	}
}

/* Abandon the intents of items [from, n) after a signing failure. */
static void abandon_rest(worker *w, size_t from, size_t n, const char *why)
{
	for (size_t i = from; i < n; i++) {
		item *it = &w->items[i];
		if (it->state == IT_PENDING && it->intent > 0) {
			if (db_abandon(w->db, it->intent, why) != EAC_OK)
				eac_err_clear(); /* left open: recover finds it */
			it->state = IT_FAILED;
			snprintf(it->msg, sizeof(it->msg), "not issued: %s", why);
		}
	}
}

static void report(worker *w, size_t n)
{
	batch *b = w->b;
	int json = eng_options(b->e)->json;
	pthread_mutex_lock(&b->lock);
	for (size_t i = 0; i < n; i++) {
		item *it = &w->items[i];
		switch (it->state) {
		case IT_ISSUED:
			b->issued++;
			if (!json)
				printf("issued  %s -> %s%s\n", it->name, it->out,
				       it->already ? " (issued before)" : "");
			break;
		case IT_SAME:
			b->issued++;
			if (!json)
				printf("same    %s: the same request as another file of this batch, "
				       "answered there\n",
				       it->name);
			break;
		case IT_REFUSED:
			b->nrefused++;
			json_array_append_new(b->refused,
					      json_pack("{s:s, s:s}", "file", it->name, "reason", it->msg));
			if (!json)
				printf("refused %s: %s\n", it->name, it->msg);
			break;
		default:
			b->failed++;
			if (!json)
				printf("failed  %s: %s\n", it->name, it->msg[0] ? it->msg : "not processed");
			break;
		}
	}
	fflush(stdout);
	pthread_mutex_unlock(&b->lock);
}

static eac_err release_existing(worker *w, item *it)
{
	db_cert c;
	eac_err r = db_cert_by_request(w->db, it->q.id, &c);
	if (r != EAC_OK)
		return r;
	snprintf(it->out, sizeof(it->out), "%s/%s.cvcert", w->b->out_dir, c.chr);
	r = eac_file_publish_ex(it->out, c.der, c.der_len, 0644, EAC_PUBLISH_NOSYNC);
	if (r == EAC_ERR_EXISTS) {
		eac_err_clear();
		r = EAC_OK;
	}
	it->cert = c.id;
	db_cert_free(&c);
	if (r == EAC_OK) {
		it->state = IT_ISSUED;
		it->already = 1;
	}
	return r;
}

static eac_err run_chunk(worker *w, size_t n)
{
	batch *b = w->b;
	tx_arg t = { w, n };
	db_intent intents[CHUNK];
	db_batch_item res[CHUNK];
	db_result results[CHUNK];
	size_t idx[CHUNK], ni = 0, nr = 0;
	eac_err r;

	for (size_t i = 0; i < n; i++) {
		item *it = &w->items[i];
		cvc_obj *o = NULL;
		if ((r = eng_read_input(it->path, &it->raw, &it->len)) != EAC_OK) {
			refuse(it, eac_err_detail(r));
			continue;
		}
		if ((r = cvc_parse_request(it->raw, it->len, &o)) != EAC_OK) {
			eac_fail_prefix(r, "%s: ", it->name);
			refuse(it, eac_err_detail(r));
			continue;
		}
		const cvc_body *bd = cvc_obj_body(o);
		const cvc_ref *oc = cvc_obj_outer_car(o);
		char cc[3], mn[10];
		cvc_ref_country(&bd->chr, cc);
		cvc_ref_mnemonic(&bd->chr, mn);
		snprintf(it->chr, sizeof(it->chr), "%s", bd->chr.s);
		snprintf(it->outer, sizeof(it->outer), "%s", oc ? oc->s : "");
		r = cvc_pubkey_hash(&bd->key, it->key_hash);
		cvc_obj_free(o);
		if (r != EAC_OK)
			return r;
		/* another country's terminal is never ours: no look-up */
		if (strcmp(cc, b->x->own.country) == 0)
			snprintf(it->mn, sizeof(it->mn), "%s", mn);
	}
	if ((r = find_systems(w, n)) != EAC_OK)
		return r;
	/* 1. receive and acknowledge (one commit) */
	if ((r = db_tx(w->db, tx_receive, &t)) != EAC_OK)
		return r;
	/* the same request twice in the chunk: the first file answers */
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i && w->items[i].state == IT_PENDING; j++)
			if (w->items[j].q.id != 0 && w->items[j].q.id == w->items[i].q.id)
				w->items[i].state = IT_SAME;
	/* 2. decide: the facts of the whole chunk in one statement, then the
	 * policy, no token */
	{
		db_fact_query fq[CHUNK];
		db_issue_fact facts[CHUNK];
		size_t fi[CHUNK], k = 0;
		for (size_t i = 0; i < n; i++) {
			item *it = &w->items[i];
			if (it->state != IT_PENDING || it->q.state == DB_REQ_ISSUED ||
			    it->q.state == DB_REQ_REJECTED)
				continue;
			fq[k] = (db_fact_query){ it->key_hash, it->chr, it->outer[0] ? it->outer : NULL };
			fi[k++] = i;
		}
		if ((r = db_issue_facts(w->db, b->x->own.id, DB_KIND_IS, k, fq, facts)) != EAC_OK)
			return r;
		for (size_t j = 0; j < k; j++)
			w->items[fi[j]].fact = facts[j];
	}
	for (size_t i = 0; i < n; i++) {
		item *it = &w->items[i];
		if (it->state != IT_PENDING)
			continue;
		if (it->q.state == DB_REQ_ISSUED) {
			if ((r = release_existing(w, it)) != EAC_OK)
				return r;
			continue;
		}
		if (it->q.state == DB_REQ_REJECTED) {
			snprintf(it->msg, sizeof(it->msg), "rejected before: %s (%s)", it->q.message,
				 it->q.rule_id);
			it->state = IT_REFUSED;
			continue;
		}
		if ((r = dv_is_decide(b->e, w->db, b->x, &it->q, it->raw, it->len, &b->opts, it->is,
				      &it->fact, &it->d)) != EAC_OK)
			return r;
		if (!it->d.allowed)
			snprintf(it->msg, sizeof(it->msg), "refused: %s (%s)", it->d.decision.message,
				 it->d.decision.rule);
	}
	if ((r = db_tx(w->db, tx_decide, &t)) != EAC_OK)
		return r;
	for (size_t i = 0; i < n; i++) {
		item *it = &w->items[i];
		if (it->state == IT_PENDING && !it->already && !it->d.allowed)
			it->state = it->taken ? IT_SAME : IT_REFUSED;
	}
	/* 3. the intents (one commit) */
	for (size_t i = 0; i < n; i++) {
		item *it = &w->items[i];
		if (it->state != IT_PENDING)
			continue;
		const cvc_body *body = &it->d.body;
		if ((r = cvc_body_encode(body, &it->tbs, &it->tbs_len)) != EAC_OK ||
		    (r = cvc_pubkey_hash(&body->key, it->holder)) != EAC_OK ||
		    (r = cvc_chat_encode(&body->chat, it->chat, &it->chat_len)) != EAC_OK)
			return r;
		cvc_date_format(&body->effective, it->eff);
		cvc_date_format(&body->expiry, it->exp);
		intents[ni] = (db_intent){ .issuer = b->x->own.id, .signing_key = b->x->key.id,
					   .kind = DB_KIND_IS, .chr = body->chr.s, .car = body->car.s,
					   .holder_key_hash = it->holder, .request = it->q.id,
					   .chat = it->chat, .chat_len = it->chat_len,
					   .effective = it->eff, .expiry = it->exp, .tbs = it->tbs,
					   .tbs_len = it->tbs_len,
					   .distribute_within = DV_DISTRIBUTE_WITHIN };
		idx[ni++] = i;
	}
	if (ni > 0 && (r = db_intent_record_batch(w->db, intents, ni, res)) != EAC_OK)
		return r;
	for (size_t k = 0; k < ni; k++) {
		item *it = &w->items[idx[k]];
		if (res[k].status == EAC_OK) {
			it->intent = res[k].id;
			continue;
		}
		if (res[k].conflict == DB_CONFLICT_REQUEST) {
			/* another worker holds this request's intent */
			it->state = IT_SAME;
			continue;
		}
		/* refused by a constraint: no renewal, CHR already used */
		it->intent = -1;
		it->state = IT_REFUSED;
		char chr[CVC_REF_MAX + 1];
		memcpy(chr, it->d.body.chr.s, sizeof(chr));
		if (res[k].conflict == DB_CONFLICT_HOLDER_KEY) {
			snprintf(it->d.decision.rule, sizeof(it->d.decision.rule), "CP-4.6");
			snprintf(it->msg, sizeof(it->msg),
				 "refused: the public key of %s is already certified by this DV (CP-4.6)",
				 chr);
		} else if (res[k].conflict == DB_CONFLICT_CHR) {
			snprintf(it->d.decision.rule, sizeof(it->d.decision.rule), "CP-3.1b");
			snprintf(it->msg, sizeof(it->msg),
				 "refused: %s already names another key of this DV's (CP-3.1b)", chr);
		} else {
			snprintf(it->d.decision.rule, sizeof(it->d.decision.rule), "CP-4.2.3");
			snprintf(it->msg, sizeof(it->msg), "refused: %s", res[k].detail);
		}
	}
	/* 4. sign in the token (the expensive part) */
	int checked = 0;
	for (size_t i = 0; i < n; i++) {
		item *it = &w->items[i];
		uint8_t sig[CVC_SIG_MAX];
		size_t siglen = sizeof(sig);
		if (it->state != IT_PENDING || it->intent <= 0)
			continue;
		const dv_chain *ch = it->d.chain;
		const cvc_pubkey *dvkey = &cvc_obj_body(ch->dv_obj)->key;
		if ((r = hsm_sign(b->x->hk, dvkey->alg, it->tbs, it->tbs_len, sig, &siglen)) != EAC_OK ||
		    (r = cvc_assemble(it->tbs, it->tbs_len, sig, siglen, &it->der, &it->der_len)) !=
			    EAC_OK) {
			char why[300];
			snprintf(why, sizeof(why), "signing failed: %s", eac_err_detail(r));
			abandon_rest(w, i, n, why);
			return eac_fail(r, "%s", why);
		}
		/* the first signature of a chunk is checked against the DV
		 * certificate (a wrong key or a broken token shows at once);
		 * RSA signatures are all checked by hsm/ */
		if (!checked) {
			cvc_obj *o = NULL;
			r = cvc_parse_cert(it->der, it->der_len, &o);
			if (r == EAC_OK)
				r = cvc_verify_cert(o, dvkey, &cvc_obj_body(ch->cvca_obj)->key);
			cvc_obj_free(o);
			if (r != EAC_OK) {
				abandon_rest(w, i, n, "the token's signature does not verify");
				return eac_fail(EAC_ERR_SIGNATURE,
						"the token's signature does not verify with the DV "
						"certificate %s: batch stopped, nothing recorded for it",
						ch->dv.chr);
			}
			checked = 1;
		}
		results[nr] = (db_result){ .intent_id = it->intent, .der = it->der,
					   .der_len = it->der_len };
		idx[nr++] = i;
	}
	eac_failpoint("after_sign");
	/* 5. the results (one commit): only now may certificates leave */
	if (nr > 0 && (r = db_result_record_batch(w->db, results, nr, res)) != EAC_OK)
		return r;
	for (size_t k = 0; k < nr; k++) {
		item *it = &w->items[idx[k]];
		if (res[k].status != EAC_OK) {
			it->state = IT_FAILED;
			snprintf(it->msg, sizeof(it->msg), "not recorded: %s", res[k].detail);
			continue;
		}
		it->cert = res[k].id;
		it->state = IT_ISSUED;
	}
	/* 6. release: write the files, sync the directory once, record the
	 * distribution (one commit) */
	eac_failpoint("before_release");
	for (size_t i = 0; i < n; i++) {
		item *it = &w->items[i];
		if (it->state != IT_ISSUED || it->already)
			continue;
		snprintf(it->out, sizeof(it->out), "%s/%s.cvcert", b->out_dir, it->d.body.chr.s);
		r = eac_file_publish_ex(it->out, it->der, it->der_len, 0644, EAC_PUBLISH_NOSYNC);
		if (r != EAC_OK) {
			it->state = IT_FAILED;
			snprintf(it->msg, sizeof(it->msg), "recorded (certificate %lld) but not written: %s",
				 (long long)it->cert, eac_err_detail(r));
			it->out[0] = '\0';
		}
	}
	if ((r = eac_dir_sync(b->out_dir)) != EAC_OK)
		return r;
	return db_tx(w->db, tx_release, &t);
}

static void *worker_main(void *arg)
{
	worker *w = arg;
	batch *b = w->b;
	const eac_config *cfg = eng_config(b->e);
	char actor[260];
	eac_err r;

	if ((r = db_open(cfg->db_conninfo, NULL, "dv", &w->db)) != EAC_OK) {
		fail_batch(b, r, "");
		return NULL;
	}
	snprintf(actor, sizeof(actor), "%s (batch worker %d)", eng_actor(b->e), w->index);
	if ((r = db_set_actor(w->db, actor)) != EAC_OK) {
		fail_batch(b, r, "");
		goto out;
	}
	while (!atomic_load(&b->stop)) {
		size_t n = 0;
		while (n < CHUNK && next_file(b, &w->items[n]))
			n++;
		if (n == 0)
			break;
		r = run_chunk(w, n);
		if (r != EAC_OK) {
			for (size_t i = 0; i < n; i++)
				if (w->items[i].state == IT_PENDING) {
					w->items[i].state = IT_FAILED;
					snprintf(w->items[i].msg, sizeof(w->items[i].msg), "%s",
						 eac_err_detail(r));
				}
			fail_batch(b, r, "");
		}
		report(w, n);
		chunk_free(w, n);
	}
out:
	db_close(w->db);
	return NULL;
}

/* The default number of workers: the cores this process may run on (its
 * CPU affinity, which taskset, numactl and container cpusets set), not the
 * cores the machine has, so that a batch confined to 2 of 64 cores opens 2
 * database connections, not 64. */
static long cores_available(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	return sysconf(_SC_NPROCESSORS_ONLN);
}

eac_err dv_cmd_is_issue_batch(eng *e, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out-dir", required_argument, NULL, 'o' },
		{ "workers", required_argument, NULL, 'w' },
		{ "validity", required_argument, NULL, 'v' },
		{ "rights", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out_dir = NULL, *validity = NULL, *rights = NULL, *workers_s = NULL;
	long nworkers = cores_available();
	dv_ctx x = { 0 };
	batch b = { 0 };
	worker *ws = NULL;
	pthread_t th[WORKERS_MAX];
	int started = 0;
	eac_err r;

	optind = 0;
	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		switch (c) {
		case 'o': out_dir = optarg; break;
		case 'w': workers_s = optarg; break;
		case 'v': validity = optarg; break;
		case 'r': rights = optarg; break;
		default:
			return eac_fail(EAC_ERR_USAGE, "is issue-batch: unknown or incomplete option '%s'",
					argv[optind - 1]);
		}
	}
	if (optind != argc - 1 || out_dir == NULL)
		return eac_fail(EAC_ERR_USAGE, "usage: is issue-batch DIR --out-dir DIR [--workers N] "
					       "[--validity DAYS] [--rights LIST]");
	if (workers_s != NULL) {
		int64_t v;
		if ((r = eng_parse_id(workers_s, &v)) != EAC_OK || v > WORKERS_MAX)
			return eac_fail(EAC_ERR_USAGE, "--workers: 1..%d", WORKERS_MAX);
		nworkers = (long)v;
	}
	if (nworkers < 1)
		nworkers = 1;
	if (nworkers > WORKERS_MAX)
		nworkers = WORKERS_MAX;
	b.e = e;
	b.dir = argv[optind];
	b.out_dir = out_dir;
	if ((r = dv_parse_is_opts(e, validity, rights, &b.opts)) != EAC_OK ||
	    (r = eng_mkdirs(out_dir)) != EAC_OK)
		return r;
	if ((b.d = opendir(b.dir)) == NULL)
		return eac_fail(EAC_ERR_IO, "%s: cannot read the directory", b.dir);
	/* identity, chains and the token, once: one login for the batch */
	if ((r = dv_ctx_open(e, &x)) != EAC_OK || (r = dv_ctx_token(e, &x)) != EAC_OK)
		goto out;
	b.x = &x;
	pthread_mutex_init(&b.lock, NULL);
	b.refused = json_array();
	if ((ws = calloc((size_t)nworkers, sizeof(*ws))) == NULL) {
		r = eac_fail(EAC_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (long i = 0; i < nworkers; i++) {
		ws[i].b = &b;
		ws[i].index = (int)i + 1;
		if (pthread_create(&th[i], NULL, worker_main, &ws[i]) != 0) {
			fail_batch(&b, eac_fail(EAC_ERR_INTERNAL, "cannot start a worker thread"), "");
			break;
		}
		started++;
	}
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	char sum[300];
	snprintf(sum, sizeof(sum), "{\"issued\":%zu,\"refused\":%zu,\"failed\":%zu,\"workers\":%d}",
		 b.issued, b.nrefused, b.failed, started);
	if (db_audit(eng_db(e), NULL, "batch.summary", b.dir, sum, NULL) != EAC_OK && b.err == EAC_OK)
		fail_batch(&b, EAC_ERR_AUDIT, "batch summary: ");
	if (!eng_options(e)->json)
		printf("%zu issued, %zu refused, %zu failed (%d workers)\n", b.issued, b.nrefused,
		       b.failed, started);
	eng_emit(e, json_pack("{s:I, s:I, s:I, s:i, s:O}", "issued", (json_int_t)b.issued, "refused",
			      (json_int_t)b.nrefused, "failed", (json_int_t)b.failed, "workers",
			      started, "refusals", b.refused),
		 NULL);
	if (b.err != EAC_OK)
		r = eac_fail(b.err, "batch stopped: %s", b.errmsg);
	else if (b.nrefused > 0)
		/* the batch ran to the end; the refusals make the status 1 */
		r = EAC_OK, eng_set_exit(e, EAC_EXIT_REFUSED);
	else
		r = EAC_OK;
	pthread_mutex_destroy(&b.lock);
out:
	json_decref(b.refused);
	free(ws);
	if (b.d)
		closedir(b.d);
	dv_ctx_close(&x);
	return r;
}
