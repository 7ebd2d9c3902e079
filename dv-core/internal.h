/* SPDX-License-Identifier: Apache-2.0 */
/* dv-core/ private: what IS issuance (one at a time or in batches) shares. */
#ifndef EAC_DV_INTERNAL_H
#define EAC_DV_INTERNAL_H

#include "dv-core/dv.h"

#define DV_CHAINS_MAX 64

/* The DV as IS issuance needs it: identity, active key, the DV
 * certificates of that key (one per CVCA) with their chains, and the
 * token key once something is to be signed. */
typedef struct dv_ctx {
	db_authority own;
	db_key key;
	hsm_key *hk;
	dv_chain chains[DV_CHAINS_MAX];
	size_t nchains;
} dv_ctx;
eac_err dv_ctx_open(eng *e, dv_ctx *x) EAC_MUST_CHECK;
/* The DV certificate named `chr` of the active key, NULL if none. */
const dv_chain *dv_ctx_chain(const dv_ctx *x, const char *chr);
eac_err dv_ctx_token(eng *e, dv_ctx *x) EAC_MUST_CHECK;
void dv_ctx_close(dv_ctx *x);

/* The officer's options of an IS approval. */
typedef struct dv_is_opts {
	unsigned validity_days;
	int has_rights;
	cvc_chat rights;
	pol_rekey_reason reason;
} dv_is_opts;
eac_err dv_parse_is_opts(eng *e, const char *validity, const char *rights,
			 dv_is_opts *o) EAC_MUST_CHECK;

/* The policy's decision on one IS request, made without the token. */
typedef struct dv_decided {
	int allowed;
	cvc_body body;          /* to sign, when allowed */
	pol_decision decision;  /* rule and message when refused; warnings */
	const dv_chain *chain;  /* the DV certificate it chains under */
	cvc_obj *req;           /* the parsed request (body.key points into it) */
} dv_decided;
/* `db`: the connection of the calling thread (batch workers have their own).
 * `is` and `fact` (NULL: read here) are what a batch read for a whole chunk:
 * the requesting inspection system, and db_issue_facts() for this request. */
eac_err dv_is_decide(eng *e, db_conn *db, dv_ctx *x, const db_request *q, const uint8_t *raw,
		     size_t len, const dv_is_opts *o, const db_inspection_system *is,
		     const db_issue_fact *fact, dv_decided *out) EAC_MUST_CHECK;
void dv_decided_free(dv_decided *d);

/* Record a refusal (the request is rejected with its rule, unless the
 * officer's own options caused it) and return it as EAC_ERR_POLICY. */
eac_err dv_refuse(eng *e, db_conn *db, const db_request *q, const dv_is_opts *o,
		  const pol_decision *d) EAC_MUST_CHECK;

/* Record and acknowledge an IS request (CP-4.2.2) from a registered IS. */
eac_err dv_receive(db_conn *db, const char *path, const uint8_t *raw, size_t len,
		   db_request *q, int *existing) EAC_MUST_CHECK;

#endif
