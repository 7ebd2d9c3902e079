/* SPDX-License-Identifier: Apache-2.0 */
/* The SoftHSM token of the hsm/ unit tests (see fixture.h). */

#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <p11-kit/pkcs11.h>

#include "fixture.h"

static const char *softhsm(void)
{
	static const char *const paths[] = { "/usr/lib/softhsm/libsofthsm2.so",
					     "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
					     "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so" };
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (access(paths[i], R_OK) == 0)
			return paths[i];
	return NULL;
}

static int write_secret(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

static void random_alnum(char *out, size_t n)
{
	static const char set[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
	unsigned char b[64];
	if (n > sizeof(b))
		n = sizeof(b);
	if (RAND_bytes(b, (int)n) != 1)
		abort();
	for (size_t i = 0; i < n; i++)
		out[i] = set[b[i] % (sizeof(set) - 1)];
	out[n] = '\0';
}

typedef struct p11 {
	void *dl;
	CK_FUNCTION_LIST_PTR f;
} p11;

static int p11_open(p11 *p, const char *module)
{
	CK_C_GetFunctionList gfl;
	if ((p->dl = dlopen(module, RTLD_NOW | RTLD_LOCAL)) == NULL ||
	    (gfl = (CK_C_GetFunctionList)dlsym(p->dl, "C_GetFunctionList")) == NULL ||
	    gfl(&p->f) != CKR_OK || p->f->C_Initialize(NULL) != CKR_OK)
		return -1;
	return 0;
}

static void p11_close(p11 *p)
{
	if (p->f != NULL)
		p->f->C_Finalize(NULL);
	if (p->dl != NULL)
		dlclose(p->dl);
}

static int find_slot(p11 *p, const char *label, CK_SLOT_ID *out)
{
	CK_SLOT_ID slots[16];
	CK_ULONG n = 16;
	CK_UTF8CHAR want[32];
	memset(want, ' ', 32);
	if (label != NULL)
		memcpy(want, label, strlen(label));
	if (p->f->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
		return -1;
	for (CK_ULONG i = 0; i < n; i++) {
		CK_TOKEN_INFO ti;
		if (p->f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		int init = (ti.flags & CKF_TOKEN_INITIALIZED) != 0;
		if ((label == NULL && !init) || (label != NULL && init && memcmp(ti.label, want, 32) == 0)) {
			*out = slots[i];
			return 0;
		}
	}
	return -1;
}

int fixture_setup(fixture *f, const char *label)
{
	char conf[PATH_MAX + 32], tokens[PATH_MAX + 16], text[2 * PATH_MAX];
	char pin[64], so_pin[40], rnd[16];
	const char *marker = getenv("EAC_TEST_PIN_MARKER");
	const char *mod = softhsm();
	p11 p = { 0 };
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE s;
	CK_UTF8CHAR lab[32];
	int ret = -1;

	memset(f, 0, sizeof(*f));
	if (mod == NULL)
		return -1;
	snprintf(f->module, sizeof(f->module), "%s", mod);
	snprintf(f->label, sizeof(f->label), "%s", label);
	snprintf(f->dir, sizeof(f->dir), "/tmp/eac-hsm-unit.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(tokens, sizeof(tokens), "%s/tokens", f->dir);
	snprintf(conf, sizeof(conf), "%s/softhsm2.conf", f->dir);
	if (mkdir(tokens, 0700) != 0)
		return -1;
	snprintf(text, sizeof(text),
		 "directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n"
		 "slots.removable = false\n",
		 tokens);
	if (write_secret(conf, text) != 0)
		return -1;
	setenv("SOFTHSM2_CONF", conf, 1);

	random_alnum(rnd, 10);
	snprintf(pin, sizeof(pin), "%s%s", marker && *marker ? marker : "PINMARKunit", rnd);
	random_alnum(so_pin, 20);
	snprintf(f->pin_file, sizeof(f->pin_file), "%s/user.pin", f->dir);
	snprintf(f->wrong_pin_file, sizeof(f->wrong_pin_file), "%s/wrong.pin", f->dir);
	if (write_secret(f->pin_file, pin) != 0)
		goto out;
	/* wrong, but carrying the marker as any PIN of the suite does */
	snprintf(text, sizeof(text), "%sWRONG", marker && *marker ? marker : "PINMARKunit");
	if (write_secret(f->wrong_pin_file, text) != 0)
		goto out;

	if (p11_open(&p, mod) != 0 || find_slot(&p, NULL, &slot) != 0)
		goto out;
	memset(lab, ' ', sizeof(lab));
	memcpy(lab, label, strlen(label));
	if (p.f->C_InitToken(slot, (CK_UTF8CHAR_PTR)so_pin, strlen(so_pin), lab) != CKR_OK ||
	    find_slot(&p, label, &slot) != 0 ||
	    p.f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s) != CKR_OK ||
	    p.f->C_Login(s, CKU_SO, (CK_UTF8CHAR_PTR)so_pin, strlen(so_pin)) != CKR_OK ||
	    p.f->C_InitPIN(s, (CK_UTF8CHAR_PTR)pin, strlen(pin)) != CKR_OK)
		goto out;
	ret = 0;
out:
	p11_close(&p);
	OPENSSL_cleanse(pin, sizeof(pin));
	OPENSSL_cleanse(so_pin, sizeof(so_pin));
	OPENSSL_cleanse(text, sizeof(text));
	return ret;
}

void fixture_teardown(fixture *f)
{
	char cmd[PATH_MAX + 16];
	if (f->dir[0] == '\0' || strncmp(f->dir, "/tmp/eac-hsm-unit.", 18) != 0)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "# could not remove %s\n", f->dir);
}

static int read_pin(const fixture *f, char *pin, size_t size)
{
	int fd = open(f->pin_file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, pin, size - 1);
	close(fd);
	if (n <= 0)
		return -1;
	pin[n] = '\0';
	return 0;
}

int fixture_weak_key(fixture *f, const char *label, int how)
{
	static const CK_BYTE p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
	/* a fixed scalar and its public point on P-256 (d = 2: the point 2G) */
	static const CK_BYTE d[32] = { [31] = 2 };
	static const CK_BYTE point2g[] = {
		0x04, 0x41, 0x04, 0x7c, 0xf2, 0x7b, 0x18, 0x8d, 0x03, 0x4f, 0x7e, 0x8a, 0x52, 0x38, 0x03,
		0x04, 0xb5, 0x1a, 0xc3, 0xc0, 0x89, 0x69, 0xe2, 0x77, 0xf2, 0x1b, 0x35, 0xa6, 0x0b, 0x48,
		0xfc, 0x47, 0x66, 0x99, 0x78, 0x07, 0x77, 0x55, 0x10, 0xdb, 0x8e, 0xd0, 0x40, 0x29, 0x3d,
		0x9a, 0xc6, 0x9f, 0x74, 0x30, 0xdb, 0xba, 0x7d, 0xad, 0xe6, 0x3c, 0xe9, 0x82, 0x29, 0x9e,
		0x04, 0xb7, 0x9d, 0x22, 0x78, 0x73, 0xd1,
	};
	char pin[128];
	p11 p = { 0 };
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE s;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_OBJECT_CLASS priv_c = CKO_PRIVATE_KEY, pub_c = CKO_PUBLIC_KEY;
	CK_KEY_TYPE ec = CKK_EC;
	CK_OBJECT_HANDLE hpub, hpriv;
	CK_ULONG ll = strlen(label);
	int ret = -1;

	if (read_pin(f, pin, sizeof(pin)) != 0)
		return -1;
	if (p11_open(&p, f->module) != 0 || find_slot(&p, f->label, &slot) != 0 ||
	    p.f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s) != CKR_OK ||
	    p.f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)) != CKR_OK)
		goto out;
	if (how == 0) {
		CK_MECHANISM m = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
		CK_ATTRIBUTE pub[] = { { CKA_TOKEN, &yes, 1 },
				       { CKA_EC_PARAMS, (void *)p256, sizeof(p256) },
				       { CKA_VERIFY, &yes, 1 },
				       { CKA_LABEL, (void *)label, ll },
				       { CKA_ID, (void *)label, ll } };
		CK_ATTRIBUTE prv[] = { { CKA_TOKEN, &yes, 1 },     { CKA_PRIVATE, &yes, 1 },
				       { CKA_SENSITIVE, &no, 1 },  { CKA_EXTRACTABLE, &yes, 1 },
				       { CKA_SIGN, &yes, 1 },      { CKA_LABEL, (void *)label, ll },
				       { CKA_ID, (void *)label, ll } };
		if (p.f->C_GenerateKeyPair(s, &m, pub, 5, prv, 7, &hpub, &hpriv) != CKR_OK)
			goto out;
	} else {
		CK_ATTRIBUTE prv[] = {
			{ CKA_CLASS, &priv_c, sizeof(priv_c) },
			{ CKA_KEY_TYPE, &ec, sizeof(ec) },
			{ CKA_TOKEN, &yes, 1 },
			{ CKA_PRIVATE, &yes, 1 },
			{ CKA_SENSITIVE, &yes, 1 },
			{ CKA_EXTRACTABLE, &no, 1 },
			{ CKA_SIGN, &yes, 1 },
			{ CKA_EC_PARAMS, (void *)p256, sizeof(p256) },
			{ CKA_VALUE, (void *)d, sizeof(d) },
			{ CKA_LABEL, (void *)label, ll },
			{ CKA_ID, (void *)label, ll },
		};
		CK_ATTRIBUTE pub[] = {
			{ CKA_CLASS, &pub_c, sizeof(pub_c) },
			{ CKA_KEY_TYPE, &ec, sizeof(ec) },
			{ CKA_TOKEN, &yes, 1 },
			{ CKA_VERIFY, &yes, 1 },
			{ CKA_EC_PARAMS, (void *)p256, sizeof(p256) },
			{ CKA_EC_POINT, (void *)point2g, sizeof(point2g) },
			{ CKA_LABEL, (void *)label, ll },
			{ CKA_ID, (void *)label, ll },
		};
		if (p.f->C_CreateObject(s, prv, sizeof(prv) / sizeof(prv[0]), &hpriv) != CKR_OK ||
		    p.f->C_CreateObject(s, pub, sizeof(pub) / sizeof(pub[0]), &hpub) != CKR_OK)
			goto out;
	}
	ret = 0;
out:
	p11_close(&p);
	OPENSSL_cleanse(pin, sizeof(pin));
	return ret;
}
