/* SPDX-License-Identifier: Apache-2.0 */
/* status, audit verify and recover: the same for both engines. */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/internal.h"

#define PENDING_SHOWN 200

void eng_status_note(eng_status *s, int severity, const char *rule, const char *message,
		     json_t *extra)
{
	static const char *const sev[] = { "info", "warning", "missed" };
	json_t *n = json_pack("{s:s, s:s, s:s}", "severity", sev[severity < 0 ? 0 : severity > 2 ? 2 : severity],
			      "rule", rule ? rule : "", "message", message);
	if (n != NULL && extra != NULL)
		json_object_update(n, extra);
	json_decref(extra);
	if (n != NULL)
		json_array_append_new(s->notes, n);
	if (severity > s->verdict)
		s->verdict = severity;
}

eac_err eng_status_begin(eng *e, pol_authority auth, eng_status *s)
{
	db_status st;
	db_request *list = NULL;
	size_t n = 0;
	eac_err r;
	int64_t now = eac_now();
	int64_t margin = (int64_t)eng_policy(e)->deadline_risk_margin_hours * 3600;
	char msg[512], t1[21];

	memset(s, 0, sizeof(*s));
	s->auth = auth;
	if ((r = db_status_get(eng_db(e), &st)) != EAC_OK)
		return r;
	s->obj = json_pack("{s:s, s:o, s:{s:I, s:I, s:I, s:I, s:I}, s:[]}", "engine",
			   auth == POL_AUTHORITY_CVCA ? "cvca" : "dv", "time", eng_json_time(now),
			   "counts", "requests_pending", (json_int_t)st.requests_pending,
			   "requests_overdue", (json_int_t)st.requests_overdue,
			   "awaiting_distribution", (json_int_t)st.awaiting_distribution,
			   "distribution_overdue", (json_int_t)st.distribution_overdue,
			   "open_intents", (json_int_t)st.open_intents, "notes");
	if (s->obj == NULL)
		return eac_fail(EAC_ERR_NOMEM, "out of memory");
	s->notes = json_object_get(s->obj, "notes");

	/* CP-4.2.2 / CP-5.4.2: each pending request against its deadline */
	if ((r = db_requests_pending(eng_db(e), PENDING_SHOWN, &list, &n)) != EAC_OK)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		pol_deadline dl;
		if ((r = pol_deadline_classify(POL_DEADLINE_PROCESSING, auth, list[i].received_at, now,
					       margin, &dl)) != EAC_OK)
			goto fail;
		eac_time_iso(dl.deadline, t1);
		snprintf(msg, sizeof(msg), "request %lld from %s: processing deadline %s (%u h)%s",
			 (long long)list[i].id, list[i].holder_chr, t1, dl.hours,
			 dl.status == POL_OVERDUE ? " missed" : dl.status == POL_AT_RISK ? " near" : "");
		eng_status_note(s, dl.status == POL_OVERDUE ? 2 : dl.status == POL_AT_RISK ? 1 : 0,
				dl.rule, msg,
				json_pack("{s:I, s:s, s:s, s:s}", "request", (json_int_t)list[i].id,
					  "holder", list[i].holder_chr, "deadline", t1, "status",
					  pol_deadline_status_name(dl.status)));
	}
	if (st.requests_pending > (int64_t)n) {
		snprintf(msg, sizeof(msg), "%lld more pending requests not listed",
			 (long long)(st.requests_pending - (int64_t)n));
		eng_status_note(s, st.requests_overdue > 0 ? 2 : 0, "CP-4.2.2", msg, NULL);
	}
	if (st.requests_overdue > 0 && st.requests_pending > (int64_t)n) {
		snprintf(msg, sizeof(msg), "%lld requests are past their processing deadline",
			 (long long)st.requests_overdue);
		eng_status_note(s, 2, "CP-5.4.2", msg, NULL);
	}
	/* CP-5.4.2: issued certificates not yet distributed */
	if (st.distribution_overdue > 0) {
		snprintf(msg, sizeof(msg),
			 "%lld issued certificates are past their distribution deadline (%s)",
			 (long long)st.distribution_overdue, auth == POL_AUTHORITY_CVCA ? "24 h" : "48 h");
		eng_status_note(s, 2, "CP-5.4.2", msg, NULL);
	} else if (st.awaiting_distribution > 0) {
		eac_time_iso(st.next_distribution_deadline, t1);
		snprintf(msg, sizeof(msg), "%lld issued certificates await distribution, next by %s",
			 (long long)st.awaiting_distribution, t1);
		eng_status_note(s, 0, "CP-5.4.2", msg, NULL);
	}
	if (st.open_intents > 0) {
		snprintf(msg, sizeof(msg),
			 "%lld issuances were interrupted (intent without result): run recover",
			 (long long)st.open_intents);
		eng_status_note(s, 1, "", msg, NULL);
	}
	free(list);
	return EAC_OK;
fail:
	free(list);
	eng_status_free(s);
	return r;
}

eac_err eng_status_rollover(eng *e, eng_status *s, const char *what, const cvc_body *cert,
			    int successor_distributed)
{
	pol_rollover ro;
	char exp[11], due[11], last[11], msg[512];
	eac_err r = pol_rollover_status(&cert->expiry, successor_distributed, eac_now(),
					eng_policy(e)->rollover_lead_days, &ro);
	if (r != EAC_OK)
		return r;
	cvc_date_format(&cert->expiry, exp);
	cvc_date_format(&ro.due, due);
	cvc_date_format(&ro.last_day, last);
	json_object_set_new(s->obj, "active_certificate",
			    json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "chr", cert->chr.s, "expiry",
				      exp, "rollover_due", due, "rollover_last_day", last,
				      "rollover", pol_rollover_state_name(ro.state), "days_left",
				      (json_int_t)ro.days_left));
	switch (ro.state) {
	case POL_ROLLOVER_OK:
	case POL_ROLLOVER_DONE:
		snprintf(msg, sizeof(msg), "%s certificate %s expires %s; rollover due %s", what,
			 cert->chr.s, exp, due);
		eng_status_note(s, 0, "CP-5.4b", msg, NULL);
		break;
	case POL_ROLLOVER_DUE:
		snprintf(msg, sizeof(msg),
			 "%s certificate %s expires %s: the link certificate is due (distribute it "
			 "by %s)",
			 what, cert->chr.s, exp, last);
		eng_status_note(s, 1, "CP-5.4b", msg, NULL);
		break;
	case POL_ROLLOVER_LATE:
		snprintf(msg, sizeof(msg),
			 "%s certificate %s expires %s and no link certificate was distributed by "
			 "%s: DV issuance under it is refused",
			 what, cert->chr.s, exp, last);
		eng_status_note(s, 2, "CP-5.4b", msg, NULL);
		break;
	}
	return EAC_OK;
}

int eng_status_finish(eng *e, eng_status *s)
{
	static const char *const words[] = { "ok", "warnings", "deadline missed" };
	json_object_set_new(s->obj, "verdict", json_integer(s->verdict));
	if (!e->opts.json) {
		size_t i;
		json_t *n;
		json_t *c = json_object_get(s->obj, "counts");
		printf("%s status: %s\n", e->opts.flavour, words[s->verdict]);
		printf("requests pending %lld (overdue %lld), certificates awaiting distribution "
		       "%lld (overdue %lld), interrupted issuances %lld\n",
		       (long long)json_integer_value(json_object_get(c, "requests_pending")),
		       (long long)json_integer_value(json_object_get(c, "requests_overdue")),
		       (long long)json_integer_value(json_object_get(c, "awaiting_distribution")),
		       (long long)json_integer_value(json_object_get(c, "distribution_overdue")),
		       (long long)json_integer_value(json_object_get(c, "open_intents")));
		json_array_foreach(s->notes, i, n) {
			const char *sev = json_string_value(json_object_get(n, "severity"));
			const char *rule = json_string_value(json_object_get(n, "rule"));
			printf("%-7s %s%s%s%s\n", sev, json_string_value(json_object_get(n, "message")),
			       rule && *rule ? " (" : "", rule ? rule : "", rule && *rule ? ")" : "");
		}
	}
	int v = s->verdict;
	eng_emit(e, s->obj, NULL);
	s->obj = NULL;
	return v;
}

void eng_status_free(eng_status *s)
{
	json_decref(s->obj);
	s->obj = NULL;
}

/* The anchor a ceremony transcript printed: audit.last, audit.last_hash. */
static eac_err anchor_from_transcript(const char *path, db_anchor *a)
{
	json_t *t = NULL;
	const json_t *audit = NULL;
	const char *hash = NULL;
	long long seq = 0;
	eac_err r;
	if ((r = eac_json_load_file(path, &t)) != EAC_OK)
		return r;
	if ((r = eac_json_object(t, "audit", 1, path, &audit)) == EAC_OK &&
	    (r = eac_json_int(audit, "last", 1, path, 1, INT64_MAX, &seq)) == EAC_OK &&
	    (r = eac_json_string(audit, "last_hash", 1, path, &hash)) == EAC_OK) {
		a->seq = seq;
		r = eac_unhex(hash, a->hash, sizeof(a->hash));
	}
	json_decref(t);
	return r;
}

eac_err eng_cmd_audit_verify(eng *e, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "expect-seq", required_argument, NULL, 's' },
		{ "expect-hash", required_argument, NULL, 'h' },
		{ "transcript", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *seq = NULL, *hash = NULL, *transcript = NULL;
	db_anchor want;
	db_audit_report rep;
	eac_err r;

	optind = 0; /* 0: glibc re-initialises getopt (argument order, + mode) */
	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		switch (c) {
		case 's': seq = optarg; break;
		case 'h': hash = optarg; break;
		case 't': transcript = optarg; break;
		default:
			return eac_fail(EAC_ERR_USAGE, "usage: audit verify [--expect-seq N --expect-hash "
						       "HEX | --transcript FILE]");
		}
	}
	if (optind != argc || (!seq != !hash) || (seq && transcript))
		return eac_fail(EAC_ERR_USAGE, "usage: audit verify [--expect-seq N --expect-hash HEX "
					       "| --transcript FILE]");
	if (seq) {
		if ((r = eng_parse_id(seq, &want.seq)) != EAC_OK ||
		    (r = eac_unhex(hash, want.hash, sizeof(want.hash))) != EAC_OK)
			return r;
	} else if (transcript && (r = anchor_from_transcript(transcript, &want)) != EAC_OK) {
		return r;
	}
	r = db_audit_verify(e->db, seq || transcript ? &want : NULL, &rep);
	if (r != EAC_OK && r != EAC_ERR_AUDIT)
		return r;
	json_t *o = json_pack("{s:b, s:I, s:I, s:o, s:i}", "intact", r == EAC_OK, "rows",
			      (json_int_t)rep.rows, "last_seq", (json_int_t)rep.last.seq,
			      "last_hash", eng_json_hex(rep.last.hash, sizeof(rep.last.hash)),
			      "anchors_checked", rep.anchors);
	if (r != EAC_OK) {
		json_object_set_new(o, "first_bad", json_integer(rep.first_bad));
		json_object_set_new(o, "why", json_string(rep.why));
		if (e->opts.json)
			eng_emit(e, o, NULL);
		else
			json_decref(o);
		return r;
	}
	if (!e->opts.json) {
		char hex[2 * DB_HASH_LEN + 1];
		eac_hex(rep.last.hash, sizeof(rep.last.hash), hex);
		printf("audit chain verified: %lld events, last seq %lld, hash %s, %d anchors checked\n",
		       (long long)rep.rows, (long long)rep.last.seq, hex, rep.anchors);
	}
	eng_emit(e, o, NULL);
	return EAC_OK;
}

eac_err eng_cmd_recover(eng *e, int argc, char **argv)
{
	json_t *rep = NULL;
	(void)argv;
	if (argc != 1)
		return eac_fail(EAC_ERR_USAGE, "usage: recover");
	eac_err r = eng_recover(e, &rep);
	if (r != EAC_OK)
		return r;
	if (!e->opts.json) {
		size_t i;
		json_t *x;
		if (json_array_size(rep) == 0)
			printf("nothing to recover: every intent has its result\n");
		json_array_foreach(rep, i, x) {
			const char *out = json_string_value(json_object_get(x, "outcome"));
			int done = strcmp(out, "completed") == 0;
			printf("intent %lld (%s %s): %s%s%s\n",
			       (long long)json_integer_value(json_object_get(x, "intent")),
			       json_string_value(json_object_get(x, "kind")),
			       json_string_value(json_object_get(x, "chr")), out, done ? " -> " : ": ",
			       json_string_value(json_object_get(x, done ? "file" : "reason")));
		}
	}
	eng_emit(e, json_pack("{s:o}", "recovered", rep), NULL);
	return EAC_OK;
}
