/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eac-p11-init — initialise one token of a PKCS#11 module (the sandbox uses
 * it for SoftHSM's CVCA and DV tokens): C_InitToken with the SO PIN, then
 * C_InitPIN for the user PIN. Both PINs are read from files of mode 0600,
 * never from the command line, and wiped after use. Idempotent: a token that
 * already carries LABEL is left alone.
 *
 *   eac-p11-init --module LIB.so --label LABEL --so-pin-file F --pin-file F
 */

#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <p11-kit/pkcs11.h>

#include "common/common.h"

static const char *prog = "eac-p11-init";

#define PIN_MAX 256

static int read_pin(const char *path, char pin[static PIN_MAX])
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t len = 0;
	int ok = 0;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return 0;
	}
	if ((st.st_mode & 077) != 0) {
		fprintf(stderr, "%s: %s: PIN file must be mode 0600\n", prog, path);
		return 0;
	}
	if (eac_file_read(path, PIN_MAX - 1, &buf, &len) != EAC_OK) {
		fprintf(stderr, "%s: %s: cannot read PIN file\n", prog, path);
		return 0;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (len >= 4 && memchr(buf, '\0', len) == NULL) {
		memcpy(pin, buf, len);
		pin[len] = '\0';
		ok = 1;
	} else {
		fprintf(stderr, "%s: %s: PIN must be 4 to 255 characters\n", prog, path);
	}
	OPENSSL_cleanse(buf, len);
	free(buf);
	return ok;
}

static void pad_label(const char *label, CK_UTF8CHAR out[32])
{
	memset(out, ' ', 32);
	memcpy(out, label, strlen(label));
}

/* Slot whose token has `label`, or (label NULL) an uninitialised token. */
static int find_slot(CK_FUNCTION_LIST_PTR f, const char *label, CK_SLOT_ID *out)
{
	CK_SLOT_ID slots[64];
	CK_ULONG n = 64;
	CK_UTF8CHAR want[32];

	if (label != NULL)
		pad_label(label, want);
	if (f->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
		return 0;
	for (CK_ULONG i = 0; i < n; i++) {
		CK_TOKEN_INFO ti;
		if (f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		int initialised = (ti.flags & CKF_TOKEN_INITIALIZED) != 0;
		if ((label == NULL && !initialised) ||
		    (label != NULL && initialised && memcmp(ti.label, want, 32) == 0)) {
			*out = slots[i];
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *module = NULL, *label = NULL, *so_file = NULL, *pin_file = NULL;
	char so_pin[PIN_MAX] = { 0 }, pin[PIN_MAX] = { 0 };
	CK_FUNCTION_LIST_PTR f = NULL;
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_SLOT_ID slot;
	CK_UTF8CHAR lab[32];
	CK_RV rv;
	void *dl = NULL;
	int ret = 3, initialized = 0;
	static const struct option opts[] = {
		{ "module", required_argument, NULL, 'm' },
		{ "label", required_argument, NULL, 'l' },
		{ "so-pin-file", required_argument, NULL, 's' },
		{ "pin-file", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};

	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		switch (c) {
		case 'm': module = optarg; break;
		case 'l': label = optarg; break;
		case 's': so_file = optarg; break;
		case 'p': pin_file = optarg; break;
		default: goto usage;
		}
	}
	if (optind != argc || !module || !label || !so_file || !pin_file || strlen(label) > 32)
		goto usage;
	if (eac_harden_process() != EAC_OK)
		return eac_report(prog, EAC_ERR_INTERNAL);

	CK_C_GetFunctionList gfl;
	if ((dl = dlopen(module, RTLD_NOW | RTLD_LOCAL)) == NULL ||
	    (gfl = (CK_C_GetFunctionList)dlsym(dl, "C_GetFunctionList")) == NULL ||
	    gfl(&f) != CKR_OK) {
		fprintf(stderr, "%s: %s: not a loadable PKCS#11 module\n", prog, module);
		goto out;
	}
	if ((rv = f->C_Initialize(NULL)) != CKR_OK) {
		fprintf(stderr, "%s: C_Initialize failed (CKR 0x%lx)\n", prog, (unsigned long)rv);
		goto out;
	}
	initialized = 1;
	if (find_slot(f, label, &slot)) {
		printf("token %s already initialised\n", label);
		ret = 0;
		goto out;
	}
	if (!read_pin(so_file, so_pin) || !read_pin(pin_file, pin))
		goto out;
	if (!find_slot(f, NULL, &slot)) {
		fprintf(stderr, "%s: no uninitialised token left in %s\n", prog, module);
		goto out;
	}
	pad_label(label, lab);
	if ((rv = f->C_InitToken(slot, (CK_UTF8CHAR_PTR)so_pin, strlen(so_pin), lab)) != CKR_OK) {
		fprintf(stderr, "%s: C_InitToken failed (CKR 0x%lx)\n", prog, (unsigned long)rv);
		goto out;
	}
	/* SoftHSM moves an initialised token to a new slot ID: look it up again */
	if (!find_slot(f, label, &slot)) {
		fprintf(stderr, "%s: token %s vanished after initialisation\n", prog, label);
		goto out;
	}
	if ((rv = f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s)) !=
		    CKR_OK ||
	    (rv = f->C_Login(s, CKU_SO, (CK_UTF8CHAR_PTR)so_pin, strlen(so_pin))) != CKR_OK ||
	    (rv = f->C_InitPIN(s, (CK_UTF8CHAR_PTR)pin, strlen(pin))) != CKR_OK) {
		fprintf(stderr, "%s: setting the user PIN failed (CKR 0x%lx)\n", prog,
			(unsigned long)rv);
		goto out;
	}
	(void)f->C_Logout(s);
	printf("token %s initialised\n", label);
	ret = 0;
out:
	OPENSSL_cleanse(so_pin, sizeof(so_pin));
	OPENSSL_cleanse(pin, sizeof(pin));
	if (s != CK_INVALID_HANDLE)
		(void)f->C_CloseSession(s);
	if (initialized)
		(void)f->C_Finalize(NULL);
	if (dl != NULL)
		dlclose(dl);
	return ret;
usage:
	fprintf(stderr,
		"usage: %s --module LIB.so --label LABEL --so-pin-file FILE --pin-file FILE\n",
		prog);
	return 2;
}
