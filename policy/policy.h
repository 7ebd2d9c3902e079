/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy/ — the Common Certificate Policy of the EAC PKI (Commission
 * Decision C(2009) 3770, Annex II.a §5.4 and Annex II.b) and the national
 * certificate policy, as pure functions: facts in (the proposed
 * certificate, the request, the issuer's certificate, registry facts and
 * the time as a parameter), a decision out (allow, or refuse with the rule
 * ID and a sentence a CA officer understands, plus warnings).
 *
 * No I/O and no clock: the engines read files, the database and the clock
 * and hand the facts in. Rule IDs (`CP-…`) are those of
 * ../shared/spec/common-certificate-policy.md; the algorithm rules cite
 * BSI TR-03110-3 (`TR-03110-3 A.6.4.2`, …) and TR-02102-1. docs/POLICY.md
 * maps every rule ID to the function that enforces it and the test that
 * shows the refusal.
 *
 * Dates ([CVF §2.1], docs/POLICY.md "Validity arithmetic"): a certificate
 * is valid from 00:00:00 UTC of its effective date through 23:59:59 UTC of
 * its expiry date; the effective date is always the UTC date of `now`.
 *
 * Return convention of every check: EAC_OK when the rule allows (warnings
 * may have been added to the decision); EAC_ERR_POLICY when it refuses —
 * the decision then holds the rule ID and the sentence, and eac_err_detail()
 * reads "refused: <sentence> (<rule>)"; EAC_ERR_USAGE when the facts
 * themselves are malformed (a bug in the caller, not a refusal).
 */
#ifndef EAC_POLICY_H
#define EAC_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "cvc/cvc.h"

/* ======================================================================
 * Decisions
 * ====================================================================== */

#define POL_RULE_MAX 24
#define POL_MESSAGE_MAX 256
#define POL_WARNINGS_MAX 8

typedef struct pol_note {
	char rule[POL_RULE_MAX];       /* "CP-5.4b" */
	char message[POL_MESSAGE_MAX]; /* one sentence, no newline */
} pol_note;

/*
 * The outcome of one or more rules. `allowed` is 1 until a rule refuses;
 * the first refusal is kept (later ones do not overwrite it). Warnings are
 * kept in order; beyond POL_WARNINGS_MAX they are counted in `dropped`.
 */
typedef struct pol_decision {
	int allowed;
	char rule[POL_RULE_MAX];
	char message[POL_MESSAGE_MAX];
	pol_note warning[POL_WARNINGS_MAX];
	size_t nwarnings;
	size_t dropped;
} pol_decision;

/* Start a decision: allowed, no warnings. */
void pol_decision_init(pol_decision *d);

/*
 * EAC_OK when `d` allows; otherwise records
 * eac_fail(EAC_ERR_POLICY, "refused: <message> (<rule>)") — the line the
 * engines print — and returns EAC_ERR_POLICY.
 */
eac_err pol_decision_check(const pol_decision *d) EAC_MUST_CHECK;

/* ======================================================================
 * Kinds, durations and dates
 * ====================================================================== */

typedef enum pol_kind {
	POL_KIND_CVCA = 0, /* self-signed and link certificates */
	POL_KIND_DV,
	POL_KIND_IS,
	POL_KIND__COUNT
} pol_kind;

/* "CVCA", "DV", "IS" */
const char *pol_kind_name(pol_kind kind);

typedef enum pol_unit {
	POL_UNIT_DAY = 1,
	POL_UNIT_WEEK,
	POL_UNIT_MONTH,
	POL_UNIT_YEAR,
} pol_unit;

/* An ISO 8601 duration with one unit: P1D, P2W, P3M, P3Y. */
typedef struct pol_duration {
	unsigned n; /* 1..POL_DURATION_MAX_N */
	pol_unit unit;
} pol_duration;

#define POL_DURATION_MAX_N 1200

/* Parse "P<n><D|W|M|Y>" (upper case, no leading zero, n >= 1). */
eac_err pol_duration_parse(const char *s, pol_duration *out) EAC_MUST_CHECK;

/* "1 day", "2 weeks", "3 months", "3 years" */
void pol_duration_format(pol_duration dur, char out[32]);

/*
 * Calendar addition: days and weeks add days; months and years add to the
 * month/year and clamp the day to the end of the resulting month
 * (2026-11-30 + P3M = 2027-02-28, 2028-02-29 + P1Y = 2029-02-28).
 * `d` must be a valid CV date; a result after 2099-12-31 (the last date
 * the two-digit CV year can hold) is EAC_ERR_USAGE.
 */
eac_err pol_date_add(const cvc_date *d, pol_duration dur, cvc_date *out) EAC_MUST_CHECK;

/*
 * Is `cc` exactly two upper-case letters officially assigned in ISO 3166-1
 * alpha-2 (249 codes)? User-assigned codes such as "UT", "XX", "ZZ" (used
 * by test PKIs) and exceptionally reserved ones ("UK", "EU", "EL") are not
 * countries. Returns 1 or 0.
 */
int pol_country_valid(const char *cc);

/* ======================================================================
 * The national certificate policy (CP-1, CP-5.4.3)
 * ====================================================================== */

#define POL_OID_MAX 64
#define POL_RSA_SIZES_MAX 8

typedef struct pol_validity_range {
	pol_duration min; /* optional in the file; default: the common minimum */
	pol_duration def; /* "default" */
	pol_duration max;
} pol_validity_range;

/*
 * A validated national policy. Read-only for callers: make it with
 * pol_national_parse(), free it with pol_national_free().
 */
typedef struct pol_national {
	char policy_oid[POL_OID_MAX];
	char country[3];
	cvc_chat_type terminal_type;
	pol_validity_range validity[POL_KIND__COUNT];
	unsigned curves; /* bit (1u << cvc_curve) for each allowed curve */
	unsigned rsa_bits[POL_RSA_SIZES_MAX];
	size_t n_rsa_bits;
	unsigned max_dvs_per_country; /* 1..3; applies to domestic DVs (CP-1) */
	unsigned officers_min;        /* >= 2 */
	unsigned rollover_lead_days;  /* >= 14 */
	unsigned deadline_risk_margin_hours;
	/* default rights, role bits zero; type = terminal_type */
	cvc_chat rights_cvca;
	cvc_chat rights_dv_domestic;
	cvc_chat rights_dv_foreign;
	cvc_chat rights_is;
} pol_national;

/*
 * Parse and validate the national policy from the text of its file
 * (`what` names the file in errors). The JSON is strict: unknown and
 * duplicate keys are errors naming the key and the file. Shape:
 *
 *   { "policy_oid": "1.3.6.1.4.1.99999.1.1", "country": "FI", "terminal_type": "is",
 *     "validity": { "cvca": {"default": "P3Y", "max": "P3Y"},
 *                   "dv": {"default": "P3M", "max": "P3M"},
 *                   "is": {"default": "P1M", "max": "P1M", "min": "P1D" (optional)} },
 *     "algorithms": { "curves": ["brainpoolP256r1", ...], "rsa_bits": [2048, 3072, 4096] },
 *     "max_dvs_per_country": 3, "officers_min": 2, "rollover_lead_days": 60,
 *     "deadline_risk_margin_hours": 12,
 *     "default_rights": { "dv_domestic": ["dg3","dg4"], "dv_foreign": ["dg3","dg4"],
 *                         "is": ["dg3","dg4"], "cvca": [...] (optional: the union) } }
 *
 * Refuses with EAC_ERR_CONFIG and the rule ID in the message: durations
 * outside the common ranges or min > default > max (CP-5.4.1); a DV
 * minimum above the common one — it would demand more of foreign DVs
 * (CP-1); max_dvs_per_country outside 1..3 (CP-1.3a); officers_min < 2
 * (CP-4.2.1); rollover_lead_days < 14 (CP-5.4b); a margin of 24 hours or
 * more (CP-5.4.2); unknown or repeated curve names, RSA sizes outside
 * 2048..4096 (TR-03110-3 A.6.4.2 / A.6.3); default rights that are
 * unknown, repeated, or wider than the CVCA's or (for IS) the domestic
 * DV's (CP-1.3b); a country that is not ISO 3166-1 (CP-3.1b); a malformed
 * OID (CP-5.4.3).
 */
eac_err pol_national_parse(const char *json_text, const char *what,
			   pol_national **out) EAC_MUST_CHECK;
void pol_national_free(pol_national *nat);

/* The national default rights of a kind (role bits zero). */
const cvc_chat *pol_national_rights(const pol_national *nat, pol_kind kind, int domestic);

/* ======================================================================
 * Individual rules
 * ====================================================================== */

/*
 * CP-5.4.1 validity. Effective = the UTC date of `now`. Expiry =
 * effective + `days` when days > 0, else effective + the national default
 * of `kind`. Refuses a validity below the national minimum or above the
 * national maximum, and an expiry past 2099-12-31 (TR-03110-3 D.2.1.3).
 * With an `issuer` (DV and IS certificates), refuses when the issuer's
 * certificate is not valid today, clamps the expiry to the issuer's (a
 * warning) and refuses when the clamped period falls under the minimum.
 * Sets *effective and *expiry only when allowed.
 */
eac_err pol_validity(const pol_national *nat, pol_kind kind, int64_t now, unsigned days,
		     const cvc_body *issuer, cvc_date *effective, cvc_date *expiry,
		     pol_decision *d) EAC_MUST_CHECK;

/*
 * The signature scheme of a subject key ([CVF §3]): SHA-1 is refused for
 * new certificates (TR-02102-1); an ECDSA hash longer than the key's curve
 * is refused (TR-03110-3 A.6.4.2); an RSA scheme whose encoding does not
 * fit the modulus is refused (TR-03110-3 A.6.3). `curve` is the key's
 * curve (its own or inherited from the CVCA); ignored for RSA.
 */
eac_err pol_check_scheme(const cvc_pubkey *key, cvc_curve curve, pol_decision *d) EAC_MUST_CHECK;

/*
 * The national algorithm lists (applied to CVCA keys; DV and IS keys
 * inherit the CVCA's): an EC key's curve must be listed (TR-03110-3
 * A.6.4.2), an RSA key's modulus size must be listed (TR-03110-3 A.6.3).
 */
eac_err pol_check_national_algorithms(const pol_national *nat, const cvc_pubkey *key,
				      pol_decision *d) EAC_MUST_CHECK;

/*
 * CP-4.7b: a key must stay strong enough until `expiry`. Security strength
 * (NIST SP 800-57 Pt. 1 Rev. 5, Table 2): RSA 2048 = 112 bits, RSA 3072 =
 * 128 bits, EC = half the curve size. At least 112 bits always, at least
 * 128 bits for an expiry after 2030-12-31. A warning (TR-02102-1) for RSA
 * under 3000 bits, which BSI no longer recommends. `curve` as above.
 */
eac_err pol_check_key_strength(const cvc_pubkey *key, cvc_curve curve, const cvc_date *expiry,
			       const char *whose, pol_decision *d) EAC_MUST_CHECK;

/*
 * CP-1.3b / CP-4.5c: the CHAT of a certificate to be issued. The terminal
 * type is the national one and the issuer's; the role follows the
 * hierarchy (CVCA -> DV official domestic for the own country, DV foreign
 * for others -> terminal); the rights are `requested` (refused when wider
 * than the issuer's) or, when NULL, the national default narrowed to the
 * issuer's (a warning when narrowed). `issuer_chat` is NULL for a
 * self-signed CVCA certificate. `domestic` matters for DVs only.
 * Sets *out (with role bits) only when allowed.
 */
eac_err pol_rights(const pol_national *nat, pol_kind kind, int domestic,
		   const cvc_chat *issuer_chat, const cvc_chat *requested, cvc_chat *out,
		   pol_decision *d) EAC_MUST_CHECK;

/*
 * CP-3.1a/b/c naming of a proposed certificate. `issuer` is the
 * certificate whose key signs it (the previous CVCA certificate for a
 * link, NULL for a self-signed CVCA certificate). Refuses: CAR != issuer's
 * CHR (CP-3.1a); a CHR whose country is not ISO 3166-1 or whose mnemonic
 * is empty (CP-3.1b); a CVCA CHR of another country than the national
 * one, a self-signed CAR != CHR, a link that changes the CVCA's country or
 * mnemonic, a DV certificate not issued by this CVCA, an IS certificate
 * not issued by a DV of this country or not naming a national IS (CP-3.1c).
 */
eac_err pol_check_naming(const pol_national *nat, pol_kind kind, const cvc_body *proposed,
			 const cvc_body *issuer, pol_decision *d) EAC_MUST_CHECK;

/*
 * CP-5.4a: the initial CVCA certificate must have been available to the
 * Commission 90 days before it is used to issue DV certificates.
 * `sent_at` is when it was distributed to the Commission (0: not yet).
 * Refuses for a foreign DV; a warning only for a domestic DV (the 90 days
 * serve the other states).
 */
eac_err pol_check_commission_period(int64_t sent_at, int64_t now, int domestic,
				    pol_decision *d) EAC_MUST_CHECK;

/* CP-4.2.1: a key ceremony needs at least `officers_min` officers. */
eac_err pol_ceremony_officers(unsigned present, const pol_national *nat,
			      pol_decision *d) EAC_MUST_CHECK;

/* ---- CVCA rollover (CP-5.4b) ---- */

typedef enum pol_rollover_state {
	POL_ROLLOVER_OK = 0,      /* before the due date */
	POL_ROLLOVER_DONE,        /* a successor (link) certificate is distributed */
	POL_ROLLOVER_DUE,         /* from the due date through the last day */
	POL_ROLLOVER_LATE,        /* after the last day: CP-5.4b is broken */
} pol_rollover_state;

typedef struct pol_rollover {
	pol_rollover_state state;
	cvc_date due;      /* expiry - lead days */
	cvc_date last_day; /* expiry - 14 days: the last day to distribute the link */
	int64_t days_left; /* expiry - today (negative once expired) */
} pol_rollover;

/*
 * Where the CVCA certificate expiring on `expiry` stands in its rollover
 * at `now`, with `lead_days` (>= 14) of lead time. "At least 14 days
 * before it expires" is read on dates: the link certificate distributed on
 * expiry - 14 is in time, from expiry - 13 on it is late (docs/POLICY.md).
 */
eac_err pol_rollover_status(const cvc_date *expiry, int successor_distributed, int64_t now,
			    unsigned lead_days, pol_rollover *out) EAC_MUST_CHECK;
const char *pol_rollover_state_name(pol_rollover_state s);

/*
 * CP-5.4b for DV issuance under the CVCA certificate `cvca`: a warning
 * with the due date once the rollover is due, a refusal once it is late
 * and no successor is distributed.
 */
eac_err pol_check_rollover(const pol_national *nat, const cvc_body *cvca,
			   int successor_distributed, int64_t now, pol_decision *d) EAC_MUST_CHECK;

/* ---- deadlines (CP-4.2.2, CP-5.4.2) ---- */

typedef enum pol_deadline_kind {
	POL_DEADLINE_PROCESSING = 1,   /* from receipt of a request */
	POL_DEADLINE_DISTRIBUTION = 2, /* from issuance of a certificate */
} pol_deadline_kind;

typedef enum pol_authority {
	POL_AUTHORITY_CVCA = 1,
	POL_AUTHORITY_DV = 2,
} pol_authority;

typedef enum pol_deadline_status {
	POL_ON_TIME = 0,
	POL_AT_RISK, /* the deadline is less than the margin away (or now) */
	POL_OVERDUE, /* the deadline has passed */
} pol_deadline_status;

typedef struct pol_deadline {
	pol_deadline_status status;
	int64_t deadline;  /* seconds since the epoch */
	int64_t remaining; /* deadline - now; negative when overdue */
	unsigned hours;    /* 72, 24, 24 or 48 */
	char rule[POL_RULE_MAX];
} pol_deadline;

/*
 * CP-5.4.2: processing (CVCA 72 h, DV 24 h) and distribution (CVCA 24 h,
 * DV 48 h) deadlines from `start`. At risk from deadline - margin through
 * the deadline itself; overdue after it. `margin_seconds` >= 0.
 */
eac_err pol_deadline_classify(pol_deadline_kind kind, pol_authority auth, int64_t start,
			      int64_t now, int64_t margin_seconds,
			      pol_deadline *out) EAC_MUST_CHECK;
const char *pol_deadline_status_name(pol_deadline_status s);

/* ======================================================================
 * Facts and composite checks: what the engines call, once per certificate.
 * Each builds the proposed certificate body (CAR, CHR, key, CHAT with the
 * right role, effective = today, expiry clamped), so an engine cannot get
 * a derived field wrong, and runs every rule on it. `*d` is always written
 * (it is the report); `*proposed` only when allowed. The proposed body's
 * key points into the request's (or the facts') key bytes: keep them alive
 * while it is used.
 * ====================================================================== */

typedef enum pol_request_kind {
	POL_REQUEST_INITIAL = 1, /* first request, or a new initial application (CP-4.7c) */
	POL_REQUEST_REKEY = 2,   /* successive request, outer-signed by the current key */
} pol_request_kind;

/* CP-4.7a: why a re-key request is made. */
typedef enum pol_rekey_reason {
	POL_REASON_NONE = 0,
	POL_REASON_EXPIRING,          /* (a) the certificate is about to expire */
	POL_REASON_REVOKED,           /* (b) the DV certificate was revoked/closed */
	POL_REASON_KEY_COMPROMISED,   /* (c) the IS key is compromised */
	POL_REASON_ATTRIBUTES_CHANGED /* (d) DV or IS attributes changed */
} pol_rekey_reason;

/* Who made a request's outer signature, as the engine resolved its CAR. */
typedef enum pol_signer {
	POL_SIGNER_NONE = 0,     /* no outer signature */
	POL_SIGNER_UNKNOWN,      /* the outer CAR names no key known to us */
	POL_SIGNER_FOREIGN_CVCA, /* a foreign CVCA whose certificate we hold (CP-3.2.2) */
	POL_SIGNER_HOLDER,       /* a certificate this issuer issued to the holder */
} pol_signer;

typedef struct pol_outer {
	int present;                  /* the request is an authentication request (67) */
	int verified;                 /* the outer signature verifies with signer_cert's key */
	pol_signer signer;
	cvc_ref car;                  /* the outer CAR (when present) */
	const cvc_body *signer_cert;  /* the certificate of the signing key (FOREIGN_CVCA, HOLDER) */
	int signer_key_compromised;   /* reported compromised (CP-4.5b, CP-4.7b) */
} pol_outer;

/* Facts about the subject's public key, from the issuer's records. */
typedef struct pol_key_facts {
	int already_certified; /* this issuer certified this public key before, for anyone (CP-4.6) */
	int compromised;       /* reported lost/stolen/compromised (CP-4.5b) */
	int chr_in_use;        /* this issuer certified another key under this CHR (CP-3.1b) */
} pol_key_facts;

typedef enum pol_dv_status {
	POL_DV_ACTIVE = 1,
	POL_DV_SUSPENDED, /* its national CVCA no longer considers it valid (CP-3.3.1b) */
	POL_DV_CLOSED,    /* revoked/closed: a new initial application is needed (CP-4.7c) */
} pol_dv_status;

/* The CVCA's registry entry for a DV. Domestic = its country is ours. */
typedef struct pol_dv_registry {
	int registered;              /* initial identity validation done (CP-3.2.3, CP-4.1) */
	char country[3];
	char mnemonic[10];
	pol_dv_status status;
	int has_conformity;          /* a certificate of conformity is on file */
	cvc_date conformity_expiry;  /* its last valid day (CP-3.3.1c) */
	unsigned country_dv_count;   /* registered DVs of that country, this one included */
} pol_dv_registry;

/* The CVCA approving a DV request. */
typedef struct pol_dv_facts {
	int64_t now;
	int64_t received_at;            /* receipt of the request; 0: unknown (CP-4.2.2) */
	const cvc_body *request;        /* parsed request body */
	int inner_verified;             /* proof of possession (TR-03110-3 C.2) */
	pol_request_kind kind;
	pol_rekey_reason reason;        /* for POL_REQUEST_REKEY */
	pol_outer outer;
	const cvc_body *cvca;           /* the active CVCA certificate: the issuer */
	int successor_distributed;      /* a link certificate to its successor is out (CP-5.4b) */
	int64_t initial_cvca_sent_at;   /* initial CVCA certificate to the Commission; 0: not yet */
	pol_dv_registry dv;
	pol_key_facts key;
	unsigned validity_days;         /* 0: the national default */
	const cvc_chat *rights;         /* NULL: the national default */
} pol_dv_facts;

eac_err pol_dv_certificate(const pol_national *nat, const pol_dv_facts *f, cvc_body *proposed,
			   pol_decision *d) EAC_MUST_CHECK;

typedef enum pol_is_status {
	POL_IS_OPERATIONAL = 1,
	POL_IS_OUT_OF_SERVICE, /* registered but not operational (CP-3.3.2a) */
	POL_IS_STOLEN,         /* CP-3.3.2b */
	POL_IS_LOST,           /* CP-3.3.2b */
} pol_is_status;

/* The DV's registry entry for an inspection system (a national IS). */
typedef struct pol_is_registry {
	int registered;
	char mnemonic[10];
	pol_is_status status;
} pol_is_registry;

/* The DV approving an IS request. */
typedef struct pol_is_facts {
	int64_t now;
	int64_t received_at;            /* 0: unknown (CP-5.4.2, DV 24 h) */
	const cvc_body *request;
	int inner_verified;
	pol_request_kind kind;
	pol_rekey_reason reason;
	pol_outer outer;                /* signer HOLDER: the IS's current certificate */
	const cvc_body *dv_cert;        /* the DV certificate the IS certificate chains under */
	const cvc_pubkey *cvca_key;     /* the CVCA key at the root of that chain (domain parameters) */
	pol_is_registry is;
	pol_key_facts key;
	unsigned validity_days;
	const cvc_chat *rights;
} pol_is_facts;

eac_err pol_is_certificate(const pol_national *nat, const pol_is_facts *f, cvc_body *proposed,
			   pol_decision *d) EAC_MUST_CHECK;

/*
 * A key ceremony (CP-4.2.1): a self-signed CVCA certificate or a link
 * certificate for a new CVCA key generated in the token.
 */
typedef struct pol_cvca_facts {
	int64_t now;
	const cvc_pubkey *key;     /* the new key, with its domain parameters (EC) */
	cvc_ref chr;               /* the new CHR: national country + mnemonic + sequence */
	unsigned officers;         /* officers present and authenticated */
	const cvc_body *previous;  /* the current CVCA certificate; NULL for the very first */
	int allow_curve_change;    /* the officers explicitly allow a new curve/algorithm (link) */
	pol_key_facts key_facts;
	unsigned validity_days;
	const cvc_chat *rights;
} pol_cvca_facts;

/*
 * Self-signed CVCA certificate: CAR = CHR, CHR country = the national
 * country, allowed curve / RSA size, scheme vs key, validity 6 months - 3
 * years (national maximum). With `previous`, the CHR keeps the national
 * CVCA identity (country, mnemonic) and its sequence number increases —
 * or, for the self-signed companion of a link certificate, `previous` is
 * that link certificate with the same CHR and key (not a renewal).
 */
eac_err pol_cvca_certificate(const pol_national *nat, const pol_cvca_facts *f,
			     cvc_body *proposed, pol_decision *d) EAC_MUST_CHECK;

/*
 * Link certificate (rollover): `previous` is required and signs. The new
 * key differs from the old, the sequence number increases, the country and
 * mnemonic stay, a curve or algorithm change only when allow_curve_change
 * (TR-03110-3 2.3). Not clamped to the old certificate's expiry.
 */
eac_err pol_link_certificate(const pol_national *nat, const pol_cvca_facts *f,
			     cvc_body *proposed, pol_decision *d) EAC_MUST_CHECK;

#endif /* EAC_POLICY_H */
