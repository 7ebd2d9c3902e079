/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hsm-p11probe — asks a token, through raw PKCS#11 and not through hsm/,
 * what an attacker with the user PIN would ask of a CA private key, and
 * prints the token's answers as NAME=CKR_CODE lines for the shell tests:
 *
 *   hsm-p11probe --module LIB.so --token LABEL --pin-file F --key LABEL
 *
 *   value=...      C_GetAttributeValue of the secret: CKA_VALUE (EC) or
 *                  CKA_PRIVATE_EXPONENT (RSA)
 *   wrap=...       C_WrapKey of the key under a fresh AES key
 *   extractable=.. C_SetAttributeValue(CKA_EXTRACTABLE = true)
 *   sensitive=...  C_SetAttributeValue(CKA_SENSITIVE = false)
 *   control-value=..., control-wrap=...   the same on an extractable,
 *                  non-sensitive session key: proves the probes work
 * Exit 0 when every probe ran, 3 when the token could not be asked.
 */

#include <dlfcn.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "hsm/internal.h"

static const char *prog = "hsm-p11probe";

static const char *name(CK_RV rv)
{
	const char *n = hsm_ckr_name(rv);
	return n ? n : "CKR_UNKNOWN";
}

static CK_RV find_key(CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE s, const char *label,
		      CK_OBJECT_HANDLE *out)
{
	CK_OBJECT_CLASS c = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t[] = { { CKA_CLASS, &c, sizeof(c) }, { CKA_LABEL, (void *)label, strlen(label) } };
	CK_ULONG n = 0;
	CK_RV rv = f->C_FindObjectsInit(s, t, 2);
	if (rv == CKR_OK)
		rv = f->C_FindObjects(s, out, 1, &n);
	(void)f->C_FindObjectsFinal(s);
	return rv == CKR_OK && n != 1 ? CKR_KEY_HANDLE_INVALID : rv;
}

/* what every probe asks of a key */
static void probe(CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key,
		  CK_OBJECT_HANDLE wrapping, const char *prefix, int all)
{
	uint8_t buf[4096];
	CK_ULONG len = sizeof(buf);
	CK_KEY_TYPE kt = CKK_EC;
	CK_ATTRIBUTE t = { CKA_KEY_TYPE, &kt, sizeof(kt) };
	(void)f->C_GetAttributeValue(s, key, &t, 1);
	CK_ATTRIBUTE v = { kt == CKK_RSA ? CKA_PRIVATE_EXPONENT : CKA_VALUE, buf, sizeof(buf) };
	CK_MECHANISM wrap = { CKM_AES_KEY_WRAP_PAD, NULL, 0 };
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;

	printf("%svalue=%s\n", prefix, name(f->C_GetAttributeValue(s, key, &v, 1)));
	printf("%swrap=%s\n", prefix, name(f->C_WrapKey(s, &wrap, wrapping, key, buf, &len)));
	if (all) {
		CK_ATTRIBUTE ex = { CKA_EXTRACTABLE, &yes, 1 };
		CK_ATTRIBUTE se = { CKA_SENSITIVE, &no, 1 };
		printf("%sextractable=%s\n", prefix, name(f->C_SetAttributeValue(s, key, &ex, 1)));
		printf("%ssensitive=%s\n", prefix, name(f->C_SetAttributeValue(s, key, &se, 1)));
	}
}

int main(int argc, char **argv)
{
	const char *module = NULL, *token = NULL, *pin_file = NULL, *keylabel = NULL;
	char pin[HSM_PIN_MAX + 1];
	size_t pinlen = 0;
	void *dl = NULL;
	CK_FUNCTION_LIST_PTR f = NULL;
	CK_C_GetFunctionList gfl;
	CK_SLOT_ID slots[32];
	CK_ULONG nslots = 32;
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE key, aes, cpub, cpriv;
	CK_RV rv = CKR_OK;
	int ret = 3, found = 0;
	eac_err r;
	static const struct option opts[] = {
		{ "module", required_argument, NULL, 'm' }, { "token", required_argument, NULL, 't' },
		{ "pin-file", required_argument, NULL, 'p' }, { "key", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};

	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		switch (c) {
		case 'm': module = optarg; break;
		case 't': token = optarg; break;
		case 'p': pin_file = optarg; break;
		case 'k': keylabel = optarg; break;
		default: goto usage;
		}
	}
	if (!module || !token || !pin_file || !keylabel || optind != argc || strlen(token) > 32)
		goto usage;
	hsm_pin_source src = { .kind = HSM_PIN_FILE, .path = pin_file };
	if ((r = hsm_pin_read(&src, token, pin, &pinlen)) != EAC_OK)
		return eac_report(prog, r);
	if ((dl = dlopen(module, RTLD_NOW | RTLD_LOCAL)) == NULL ||
	    (gfl = (CK_C_GetFunctionList)dlsym(dl, "C_GetFunctionList")) == NULL || gfl(&f) != CKR_OK ||
	    (rv = f->C_Initialize(NULL)) != CKR_OK) {
		fprintf(stderr, "%s: %s: cannot load the module (%s)\n", prog, module, name(rv));
		f = NULL;
		goto out;
	}
	if ((rv = f->C_GetSlotList(CK_TRUE, slots, &nslots)) != CKR_OK)
		goto fail;
	for (CK_ULONG i = 0; i < nslots && !found; i++) {
		CK_TOKEN_INFO ti;
		char l[33];
		if (f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		memcpy(l, ti.label, 32);
		size_t n = 32;
		while (n > 0 && l[n - 1] == ' ')
			n--;
		l[n] = '\0';
		if (strcmp(l, token) == 0) {
			rv = f->C_OpenSession(slots[i], CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s);
			found = 1;
		}
	}
	if (!found) {
		fprintf(stderr, "%s: no token %s\n", prog, token);
		goto out;
	}
	if (rv != CKR_OK || (rv = f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)pin, pinlen)) != CKR_OK)
		goto fail;
	hsm_pin_wipe(pin);
	if ((rv = find_key(f, s, keylabel, &key)) != CKR_OK)
		goto fail;

	/* a session AES key that may wrap anything wrappable */
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ULONG aeslen = 32;
	CK_MECHANISM aesgen = { CKM_AES_KEY_GEN, NULL, 0 };
	CK_ATTRIBUTE aes_t[] = { { CKA_TOKEN, &no, 1 }, { CKA_WRAP, &yes, 1 },
				 { CKA_ENCRYPT, &yes, 1 }, { CKA_VALUE_LEN, &aeslen, sizeof(aeslen) } };
	if ((rv = f->C_GenerateKey(s, &aesgen, aes_t, 4, &aes)) != CKR_OK)
		goto fail;
	probe(f, s, key, aes, "", 1);

	/* the control: a session key that is extractable and not sensitive */
	static const CK_BYTE p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
	CK_MECHANISM ecgen = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_ATTRIBUTE pub_t[] = { { CKA_TOKEN, &no, 1 }, { CKA_EC_PARAMS, (void *)p256, sizeof(p256) } };
	CK_ATTRIBUTE priv_t[] = { { CKA_TOKEN, &no, 1 }, { CKA_PRIVATE, &yes, 1 },
				  { CKA_SENSITIVE, &no, 1 }, { CKA_EXTRACTABLE, &yes, 1 },
				  { CKA_SIGN, &yes, 1 } };
	if ((rv = f->C_GenerateKeyPair(s, &ecgen, pub_t, 2, priv_t, 5, &cpub, &cpriv)) != CKR_OK)
		goto fail;
	probe(f, s, cpriv, aes, "control-", 0);
	ret = 0;
	goto out;
fail:
	fprintf(stderr, "%s: token %s: %s\n", prog, token, name(rv));
out:
	hsm_pin_wipe(pin);
	if (f != NULL) {
		if (s != CK_INVALID_HANDLE)
			(void)f->C_CloseSession(s);
		(void)f->C_Finalize(NULL);
	}
	if (dl != NULL)
		dlclose(dl);
	return ret;
usage:
	fprintf(stderr, "usage: %s --module LIB.so --token LABEL --pin-file F --key LABEL\n", prog);
	return 2;
}
