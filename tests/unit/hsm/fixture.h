/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A private SoftHSMv2 token for the hsm/ unit tests: a temporary directory
 * with its own softhsm2.conf (SOFTHSM2_CONF is set for the process), one
 * initialised token and a mode-0600 PIN file. The PIN starts with the
 * suite's marker (EAC_TEST_PIN_MARKER) so that the suite's last step can
 * prove it never reaches an output. Set-up talks to SoftHSM directly, so
 * it must run while no hsm_ctx is open in the process.
 */
#ifndef EAC_TEST_HSM_FIXTURE_H
#define EAC_TEST_HSM_FIXTURE_H

#include <limits.h>

typedef struct fixture {
	char dir[256];
	char pin_file[PATH_MAX];
	char wrong_pin_file[PATH_MAX];
	char label[33];
	char module[PATH_MAX];
} fixture;

/* Make the directory, configuration, token `label` and PIN files.
 * Returns 0 on success. */
int fixture_setup(fixture *f, const char *label);
/* Remove the directory. */
void fixture_teardown(fixture *f);

/* Put a private key into the token that must never sign:
 * how = 0: generated in the token but extractable and not sensitive
 *          (CKA_LOCAL true, ALWAYS_SENSITIVE/NEVER_EXTRACTABLE false);
 * how = 1: imported with C_CreateObject from known bytes, sensitive and not
 *          extractable (CKA_LOCAL false) — what `pkcs11-tool --write-object`
 *          does. EC P-256, with a public key object, labelled and id'd
 *          `label`. Returns 0 on success. */
int fixture_weak_key(fixture *f, const char *label, int how);

#endif
