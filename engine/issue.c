/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The issuance driver both engines use: intent → sign → result → release
 * (docs/ARCHITECTURE.md), and recovery of intents left open by a crash.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/internal.h"

struct sign_arg {
	const eng_issue_in *in;
};

/*
 * db_issue's signer: sign the recorded body in the token, assemble, and
 * check the certificate with the issuer's public key before it can be
 * recorded — a token fault or a key mix-up never reaches the record.
 */
static eac_err sign_and_check(void *arg, const uint8_t *tbs, size_t tbs_len, uint8_t **der,
			      size_t *der_len)
{
	const eng_issue_in *in = ((struct sign_arg *)arg)->in;
	uint8_t sig[CVC_SIG_MAX];
	size_t siglen = sizeof(sig);
	uint8_t *out = NULL;
	size_t outlen = 0;
	cvc_obj *o = NULL;
	eac_err r;

	if ((r = hsm_sign(in->key, in->alg, tbs, tbs_len, sig, &siglen)) != EAC_OK)
		goto out;
	if ((r = cvc_assemble(tbs, tbs_len, sig, siglen, &out, &outlen)) != EAC_OK ||
	    (r = cvc_parse_cert(out, outlen, &o)) != EAC_OK)
		goto out;
	if ((r = cvc_verify_cert(o, in->issuer_pub, in->domain)) != EAC_OK) {
		r = eac_fail(EAC_ERR_SIGNATURE,
			     "the token's signature does not verify with the issuer's public key: "
			     "not recorded, not released");
		goto out;
	}
	*der = out;
	*der_len = outlen;
	out = NULL;
	r = EAC_OK;
out:
	OPENSSL_cleanse(sig, sizeof(sig));
	cvc_obj_free(o);
	free(out);
	return r;
}

static void date_str(const cvc_date *d, char out[11])
{
	cvc_date_format(d, out);
}

eac_err eng_issue(eng *e, const eng_issue_in *in, const cvc_body *body, const char *out_path,
		  uint8_t **der, size_t *der_len, int64_t *cert_id)
{
	eac_err r;
	uint8_t *tbs = NULL, *cert = NULL;
	size_t tbs_len = 0, cert_len = 0;
	uint8_t holder[EAC_SHA256_LEN];
	uint8_t chat[CVC_CHAT_TLV_MAX];
	size_t chat_len = 0;
	char eff[11], exp[11];
	int64_t id = 0;
	struct sign_arg arg = { in };

	if ((r = cvc_body_encode(body, &tbs, &tbs_len)) != EAC_OK ||
	    (r = cvc_pubkey_hash(&body->key, holder)) != EAC_OK ||
	    (r = cvc_chat_encode(&body->chat, chat, &chat_len)) != EAC_OK)
		goto out;
	date_str(&body->effective, eff);
	date_str(&body->expiry, exp);
	db_intent intent = {
		.issuer = in->issuer,
		.signing_key = in->signing_key->id,
		.kind = in->kind,
		.chr = body->chr.s,
		.car = body->car.s,
		.holder_key_hash = holder,
		.request = in->request,
		.chat = chat,
		.chat_len = chat_len,
		.effective = eff,
		.expiry = exp,
		.tbs = tbs,
		.tbs_len = tbs_len,
		.distribute_within = in->distribute_within,
	};
	/* record the intent (committed) → sign → record the result
	 * (committed): db_issue never calls the signer before the intent is
	 * committed and never returns a certificate before the result is */
	if ((r = db_issue(eng_db(e), &intent, sign_and_check, &arg, &id, &cert, &cert_len)) !=
	    EAC_OK)
		goto out;
	if (out_path != NULL && (r = eng_release(e, id, cert, cert_len, out_path, in->file_is_distribution)) != EAC_OK)
		goto out;
	*der = cert;
	*der_len = cert_len;
	*cert_id = id;
	cert = NULL;
	r = EAC_OK;
out:
	free(tbs);
	free(cert);
	return r;
}

eac_err eng_release(eng *e, int64_t cert_id, const uint8_t *der, size_t len, const char *path,
		    int distribution)
{
	eac_err r;

	/* the record is committed; a crash from here on leaves a certificate
	 * awaiting distribution, which `status` reports and recovery or a
	 * resubmission releases */
	eac_failpoint("before_release");
	r = eac_file_publish(path, der, len, 0644, 0);
	if (r == EAC_ERR_EXISTS) {
		uint8_t *have = NULL;
		size_t hlen = 0;
		eac_err r2 = eac_file_read(path, CVC_MAX_SIZE, &have, &hlen);
		int same = r2 == EAC_OK && hlen == len && memcmp(have, der, len) == 0;
		free(have);
		if (!same)
			return eac_fail(EAC_ERR_EXISTS,
					"%s exists with other content; the certificate is recorded "
					"(id %lld) but not written there",
					path, (long long)cert_id);
	} else if (r != EAC_OK) {
		return eac_fail_prefix(r, "certificate recorded (id %lld) but not written out: ",
				       (long long)cert_id);
	}
	return distribution ? db_distribution_record(eng_db(e), cert_id, "file", path) : EAC_OK;
}

eac_err eng_await_taken(eng *e, db_request *q, eac_err why)
{
	char saved[1100];
	db_request now;
	int64_t intent = 0;
	int busy = 0;

	snprintf(saved, sizeof(saved), "%s", eac_err_detail(why));
	if (db_request_intent_busy(eng_db(e), q->id, &intent, &busy) != EAC_OK ||
	    db_request_get(eng_db(e), q->id, &now) != EAC_OK)
		return eac_fail(why, "%s", saved);
	if (intent == 0 && now.state != DB_REQ_ISSUED)
		return eac_fail(why, "%s", saved);
	/* another approval holds the intent: its answer is this one's */
	for (int i = 0; i < 600; i++) {
		if (now.state == DB_REQ_ISSUED || now.state == DB_REQ_REJECTED) {
			*q = now;
			return EAC_OK;
		}
		if (intent != 0 && !busy)
			return eac_fail(EAC_ERR_STATE,
					"request %lld: its issuance (intent %lld) was interrupted and no "
					"process works on it: %s recover completes it",
					(long long)q->id, (long long)intent, e->opts.prog);
		usleep(50 * 1000);
		if (db_request_get(eng_db(e), q->id, &now) != EAC_OK ||
		    (now.state != DB_REQ_ISSUED && now.state != DB_REQ_REJECTED &&
		     db_request_intent_busy(eng_db(e), q->id, &intent, &busy) != EAC_OK))
			break;
	}
	return eac_fail(EAC_ERR_STATE,
			"request %lld is still being issued by another approval: look again with "
			"%s status",
			(long long)q->id, e->opts.prog);
}

/* ---- recovery ---- */

static eac_err recover_one(eng *e, const db_open_intent *oi, json_t *entry)
{
	eac_err r;
	db_key rec;
	hsm_key *key = NULL;
	EVP_PKEY *pk = NULL;
	uint8_t sig[CVC_SIG_MAX];
	size_t siglen = sizeof(sig);
	uint8_t *cert = NULL;
	size_t cert_len = 0;
	int64_t cert_id = 0;
	char reason[600] = "";
	uint8_t h[EAC_SHA256_LEN];

	/* the body is the one recorded: it must still hash to its record */
	if ((r = eac_sha256(oi->tbs, oi->tbs_len, h)) != EAC_OK)
		return r;
	if (memcmp(h, oi->tbs_hash, sizeof(h)) != 0) {
		snprintf(reason, sizeof(reason), "recorded body does not match its hash");
		goto abandon;
	}
	if ((r = db_key_get(eng_db(e), oi->signing_key, &rec)) != EAC_OK)
		return r;
	/* a key ceremony is completed only by holding it again, with its
	 * officers (CP-4.2.1, CP-5.4b): recovery, one operator's command,
	 * never signs a self-signed or link certificate for a key that did not
	 * become the CVCA's; that key stays pending, never exported */
	if (oi->kind == DB_KIND_CVCA || oi->kind == DB_KIND_LINK) {
		db_key holder;
		eac_err kr = db_key_find(eng_db(e), oi->holder_key_hash, &holder);
		if (kr != EAC_OK && kr != EAC_ERR_NOT_FOUND)
			return kr;
		if (kr == EAC_ERR_NOT_FOUND || holder.state == DB_KEY_PENDING) {
			eac_err_clear();
			snprintf(reason, sizeof(reason),
				 "key ceremony interrupted: a ceremony is completed only by holding "
				 "it again with its officers (CP-4.2.1, CP-5.4b)");
			goto abandon;
		}
	}
	if (rec.state != DB_KEY_ACTIVE && rec.state != DB_KEY_PENDING) {
		snprintf(reason, sizeof(reason), "signing key %s is no longer usable (%s)",
			 rec.label, rec.state == DB_KEY_COMPROMISED ? "compromised" : "retired");
		goto abandon;
	}
	r = eng_signing_key(e, &rec, &key);
	if (r == EAC_ERR_KEY_NOT_FOUND || r == EAC_ERR_KEY_UNPROTECTED) {
		snprintf(reason, sizeof(reason), "signing key unusable: %s", eac_err_detail(r));
		goto abandon;
	}
	if (r != EAC_OK)
		return r; /* token or database trouble: leave the intent open */
	cvc_alg alg = cvc_alg_from_name(rec.algorithm);
	if ((r = hsm_sign(key, alg, oi->tbs, oi->tbs_len, sig, &siglen)) != EAC_OK)
		goto out;
	if ((r = hsm_key_public(key, &pk)) != EAC_OK ||
	    (r = cvc_verify_sig_pkey(pk, alg, (cvc_bytes){ oi->tbs, oi->tbs_len },
				     (cvc_bytes){ sig, siglen })) != EAC_OK ||
	    (r = cvc_assemble(oi->tbs, oi->tbs_len, sig, siglen, &cert, &cert_len)) != EAC_OK)
		goto out;
	if ((r = db_result_record(eng_db(e), oi->id, cert, cert_len, &cert_id)) != EAC_OK)
		goto out;
	/* released into the data directory; the officer forwards it */
	char dir[4096], path[4200];
	snprintf(dir, sizeof(dir), "%s/recovered", eng_config(e)->data_dir);
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		r = eac_fail(EAC_ERR_IO, "%s: %s", dir, strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s-%lld.cvcert", dir, oi->chr, (long long)cert_id);
	/* DV and IS certificates are delivered by this file; CVCA and link
	 * certificates wait for `publish` */
	if ((r = eng_release(e, cert_id, cert, cert_len, path,
			     oi->kind == DB_KIND_DV || oi->kind == DB_KIND_IS)) != EAC_OK)
		goto out;
	json_object_set_new(entry, "outcome", json_string("completed"));
	json_object_set_new(entry, "certificate_id", json_integer(cert_id));
	json_object_set_new(entry, "file", json_string(path));
	r = EAC_OK;
	goto out;
abandon:
	if ((r = db_abandon(eng_db(e), oi->id, reason)) != EAC_OK)
		goto out;
	json_object_set_new(entry, "outcome", json_string("abandoned"));
	json_object_set_new(entry, "reason", json_string(reason));
	r = EAC_OK;
out:
	OPENSSL_cleanse(sig, sizeof(sig));
	EVP_PKEY_free(pk);
	hsm_key_free(key);
	free(cert);
	return r;
}

eac_err eng_recover(eng *e, json_t **report)
{
	db_open_intent *list = NULL;
	size_t n = 0;
	eac_err r;
	json_t *arr = json_array();

	if (arr == NULL)
		return eac_fail(EAC_ERR_NOMEM, "out of memory");
	if ((r = db_recover_list(eng_db(e), &list, &n)) != EAC_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		json_t *entry = json_pack("{s:I, s:s, s:s, s:s}", "intent", (json_int_t)list[i].id,
					  "kind", db_kind_name(list[i].kind), "chr", list[i].chr,
					  "car", list[i].car);
		if (entry == NULL) {
			r = eac_fail(EAC_ERR_NOMEM, "out of memory");
			goto out;
		}
		json_array_append_new(arr, entry);
		/* only an intent nobody works on: wait a little for a holder
		 * that is just ending (its server process goes a moment after) */
		int claimed = 0, open = 0;
		if ((r = db_intent_claim(eng_db(e), list[i].id, 3000, &claimed, &open)) != EAC_OK) {
			r = eac_fail_prefix(r, "recovery of intent %lld (%s): ", (long long)list[i].id,
					    list[i].chr);
			goto out;
		}
		if (!claimed) {
			json_object_set_new(entry, "outcome",
					    json_string(open ? "in progress" : "finished elsewhere"));
			json_object_set_new(entry, "reason",
					    json_string(open ? "another process is issuing it now"
							     : "its issuance finished meanwhile"));
			continue;
		}
		r = recover_one(e, &list[i], entry);
		db_intent_unclaim(eng_db(e), list[i].id);
		if (r != EAC_OK) {
			r = eac_fail_prefix(r, "recovery of intent %lld (%s): ", (long long)list[i].id,
					    list[i].chr);
			goto out;
		}
	}
	*report = arr;
	arr = NULL;
	r = EAC_OK;
out:
	db_open_intents_free(list, n);
	json_decref(arr);
	return r;
}
