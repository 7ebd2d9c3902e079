/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to policy/: decision helpers, the common policy's validity
 * ranges, day arithmetic and key sizes shared by the module's sources.
 * Not for other modules (they include policy/policy.h only).
 */
#ifndef EAC_POLICY_INTERNAL_H
#define EAC_POLICY_INTERNAL_H

#include "policy/policy.h"

/* Rule IDs that are not CP-… (docs/POLICY.md lists them all). */
#define POL_RULE_DATES "TR-03110-3 D.2.1.3"   /* dates 2000..2099 */
#define POL_RULE_CURVES "TR-03110-3 A.6.4.2"  /* EC curves; hash no longer than the key */
#define POL_RULE_RSA "TR-03110-3 A.6.3"       /* RSA schemes and sizes */
#define POL_RULE_PARAMS "TR-03110-3 D.3.3"    /* domain parameters: requests carry, DV/IS inherit */
#define POL_RULE_CHAIN "TR-03110-3 2.3"       /* one algorithm/curve/size per chain; links may switch */
#define POL_RULE_INNER_CAR "TR-03110-3 C.2.2" /* the request's CAR is advisory */
#define POL_RULE_SUCCESSIVE "TR-03110-3 C.2.6" /* successive requests are outer-signed */
#define POL_RULE_TR02102 "TR-02102-1"          /* no SHA-1; RSA >= 3000 recommended */

/*
 * Refuse: record the first refusal in `d` (later ones leave it), set the
 * thread's error detail to "refused: <message> (<rule>)" and return
 * EAC_ERR_POLICY.
 */
eac_err pol_refuse(pol_decision *d, const char *rule, const char *fmt, ...) EAC_PRINTF(3, 4);

/* Add a warning (counted in d->dropped beyond POL_WARNINGS_MAX). */
void pol_warn(pol_decision *d, const char *rule, const char *fmt, ...) EAC_PRINTF(3, 4);

/* "a CVCA", "a DV", "an IS": a kind with its article, for sentences. */
const char *pol_kind_a(pol_kind kind);

/* The common policy's minimum and maximum validity of each kind (CP-5.4.1). */
extern const pol_duration pol_common_min[POL_KIND__COUNT];
extern const pol_duration pol_common_max[POL_KIND__COUNT];

/* Days since 1970-01-01 of the UTC date of `now`. */
int64_t pol_today(int64_t now);

/* Day number of the last date a CV certificate can hold (2099-12-31). */
int64_t pol_last_cv_day(void);

/* Calendar addition on day numbers, without the 2099 limit. */
int64_t pol_days_add(int64_t days, pol_duration dur);

/* Is start + a <= start + b for every start date? (a 4-year cycle is enough
 * in 2000..2099, where every fourth year is a leap year) */
int pol_duration_le(pol_duration a, pol_duration b);

/* The same duration as written (same n and unit)? */
int pol_duration_eq(pol_duration a, pol_duration b);

/* "YYYY-MM-DD" of a day number. */
void pol_day_format(int64_t days, char out[11]);

/* Bits of an RSA modulus (leading zero octets ignored). */
unsigned pol_rsa_bits(const cvc_pubkey *key);

/* Same public key (EC point or RSA modulus and exponent)? */
int pol_key_equal(const cvc_pubkey *a, const cvc_pubkey *b);

/* Same holder: equal country and mnemonic (the sequence may differ). */
int pol_same_holder(const cvc_ref *a, const cvc_ref *b);

/* "brainpoolP256r1" / "RSA 2048 bits" into out. */
void pol_key_describe(const cvc_pubkey *key, cvc_curve curve, char *out, size_t outlen);

#endif /* EAC_POLICY_INTERNAL_H */
