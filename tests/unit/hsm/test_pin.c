/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for PIN sources: files, descriptors, the hardening they imply. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hsm/hsm.h"

static char dir[] = "/tmp/eac-hsm-pin.XXXXXX";

static const char *marker(void)
{
	const char *m = getenv("EAC_TEST_PIN_MARKER");
	return m && *m ? m : "PINMARKunit";
}

/* a file with exactly `len` bytes of `data` and the given mode */
static const char *pin_file(const char *name, const void *data, size_t len, mode_t mode)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[600];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static eac_err read_file(const char *path, char pin[static HSM_PIN_MAX + 1], size_t *len)
{
	hsm_pin_source src = { .kind = HSM_PIN_FILE, .path = path };
	return hsm_pin_read(&src, "UNIT", pin, len);
}

static void assert_wiped(const char pin[static HSM_PIN_MAX + 1])
{
	for (size_t i = 0; i <= HSM_PIN_MAX; i++)
		assert_int_equal(pin[i], 0);
}

static void test_file_accepted(void **state)
{
	char pin[HSM_PIN_MAX + 1], want[64];
	size_t len = 0;
	(void)state;

	snprintf(want, sizeof(want), "%s1234", marker());
	assert_int_equal(read_file(pin_file("a.pin", want, strlen(want), 0600), pin, &len), EAC_OK);
	assert_string_equal(pin, want);
	assert_int_equal(len, strlen(want));

	/* one trailing LF or CRLF is not part of the PIN */
	char withnl[80];
	snprintf(withnl, sizeof(withnl), "%s\r\n", want);
	assert_int_equal(read_file(pin_file("b.pin", withnl, strlen(withnl), 0600), pin, &len), EAC_OK);
	assert_string_equal(pin, want);
	/* read-only for the owner is stricter than 0600 and fine */
	assert_int_equal(read_file(pin_file("c.pin", want, strlen(want), 0400), pin, &len), EAC_OK);

	/* exactly HSM_PIN_MAX bytes (+ newline) fit */
	char big[HSM_PIN_MAX + 1];
	memset(big, 'x', sizeof(big));
	big[HSM_PIN_MAX] = '\n';
	assert_int_equal(read_file(pin_file("d.pin", big, sizeof(big), 0600), pin, &len), EAC_OK);
	assert_int_equal(len, HSM_PIN_MAX);
	hsm_pin_wipe(pin);
	assert_wiped(pin);
}

static void test_file_refused(void **state)
{
	char pin[HSM_PIN_MAX + 1];
	size_t len = 0;
	eac_err r;
	(void)state;

	r = read_file(pin_file("open.pin", "secret12", 8, 0644), pin, &len);
	assert_int_equal(r, EAC_ERR_CONFIG);
	assert_non_null(strstr(eac_err_detail(r), "mode 0644 lets others read it; it must be 0600"));
	assert_wiped(pin);
	r = read_file(pin_file("group.pin", "secret12", 8, 0640), pin, &len);
	assert_int_equal(r, EAC_ERR_CONFIG);
	assert_non_null(strstr(eac_err_detail(r), "mode 0640"));

	/* owned by someone else: refused even with mode 0600 */
	if (geteuid() == 0) {
		const char *p = pin_file("other.pin", "secret12", 8, 0600);
		assert_int_equal(chown(p, 65534, 65534), 0);
		r = read_file(p, pin, &len);
		assert_int_equal(r, EAC_ERR_CONFIG);
		assert_non_null(strstr(eac_err_detail(r), "owned by uid 65534, not by the caller"));
	}
	/* a symbolic link is not followed */
	char link[600];
	snprintf(link, sizeof(link), "%s/link.pin", dir);
	assert_int_equal(symlink(pin_file("target.pin", "secret12", 8, 0600), link), 0);
	r = read_file(link, pin, &len);
	assert_int_equal(r, EAC_ERR_IO);
	assert_non_null(strstr(eac_err_detail(r), "link.pin"));
	/* not a regular file, missing, empty, too long, NUL inside */
	r = read_file(dir, pin, &len);
	assert_true(r == EAC_ERR_CONFIG || r == EAC_ERR_IO);
	r = read_file("/nonexistent/x.pin", pin, &len);
	assert_int_equal(r, EAC_ERR_IO);
	r = read_file(pin_file("empty.pin", "\n", 1, 0600), pin, &len);
	assert_int_equal(r, EAC_ERR_MALFORMED);
	assert_non_null(strstr(eac_err_detail(r), "the PIN is empty"));
	char big[HSM_PIN_MAX + 1];
	memset(big, 'x', sizeof(big));
	r = read_file(pin_file("big.pin", big, sizeof(big), 0600), pin, &len);
	assert_int_equal(r, EAC_ERR_MALFORMED);
	assert_non_null(strstr(eac_err_detail(r), "longer than 256 bytes"));
	assert_wiped(pin);
	r = read_file(pin_file("nul.pin", "ab\0cd", 5, 0600), pin, &len);
	assert_int_equal(r, EAC_ERR_MALFORMED);
	r = read_file(pin_file("lines.pin", "ab\ncd\n", 6, 0600), pin, &len);
	assert_int_equal(r, EAC_ERR_MALFORMED);
	assert_wiped(pin);
	/* no error message carries the PIN */
	r = read_file(pin_file("secret.pin", "s3cr3t\0x", 8, 0600), pin, &len);
	assert_null(strstr(eac_err_detail(r), "s3cr3t"));
}

static void test_fd(void **state)
{
	int p[2];
	char pin[HSM_PIN_MAX + 1], rest[16] = "";
	size_t len = 0;
	hsm_pin_source src;
	char buf[32];
	(void)state;

	assert_int_equal(pipe(p), 0);
	snprintf(buf, sizeof(buf), "%d", p[0]);
	assert_int_equal(hsm_pin_source_from_args(buf, "/ignored.pin", &src), EAC_OK);
	assert_int_equal(src.kind, HSM_PIN_FD);
	assert_int_equal(write(p[1], "123456\nafter", 12), 12);
	close(p[1]);
	assert_int_equal(hsm_pin_read(&src, "UNIT", pin, &len), EAC_OK);
	assert_string_equal(pin, "123456");
	/* only the line was consumed: the rest stays for its reader */
	assert_int_equal(read(p[0], rest, sizeof(rest) - 1), 5);
	assert_string_equal(rest, "after");
	/* end of input: empty */
	eac_err r = hsm_pin_read(&src, "UNIT", pin, &len);
	assert_int_equal(r, EAC_ERR_MALFORMED);
	close(p[0]);
	hsm_pin_wipe(pin);
}

static void test_source_from_args(void **state)
{
	hsm_pin_source src;
	eac_err r;
	(void)state;

	assert_int_equal(hsm_pin_source_from_args(NULL, "/etc/eac/cvca.pin", &src), EAC_OK);
	assert_int_equal(src.kind, HSM_PIN_FILE);
	assert_string_equal(src.path, "/etc/eac/cvca.pin");
	assert_int_equal(hsm_pin_source_from_args(NULL, NULL, &src), EAC_OK);
	assert_int_equal(src.kind, HSM_PIN_PROMPT);
	assert_int_equal(hsm_pin_source_from_args("0", NULL, &src), EAC_OK);
	assert_int_equal(src.kind, HSM_PIN_FD);
	assert_int_equal(src.fd, 0);
	r = hsm_pin_source_from_args("three", NULL, &src);
	assert_int_equal(r, EAC_ERR_USAGE);
	assert_non_null(strstr(eac_err_detail(r), "--pin-fd 'three'"));
	r = hsm_pin_source_from_args("-1", NULL, &src);
	assert_int_equal(r, EAC_ERR_USAGE);
	r = hsm_pin_source_from_args("987", NULL, &src);
	assert_int_equal(r, EAC_ERR_USAGE);
	assert_non_null(strstr(eac_err_detail(r), "not an open file descriptor"));
}

static void test_hardening(void **state)
{
	char pin[HSM_PIN_MAX + 1];
	size_t len = 0;
	struct rlimit rl;
	(void)state;

	/* reading a PIN leaves the process non-dumpable with no core files,
	 * whatever the binary did before */
	assert_int_equal(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), 0);
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1);
	assert_int_equal(read_file(pin_file("h.pin", "12345678", 8, 0600), pin, &len), EAC_OK);
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
	assert_int_equal(getrlimit(RLIMIT_CORE, &rl), 0);
	assert_int_equal(rl.rlim_cur, 0);
	assert_int_equal(rl.rlim_max, 0);
	hsm_pin_wipe(pin);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_accepted),
		cmocka_unit_test(test_file_refused),
		cmocka_unit_test(test_fd),
		cmocka_unit_test(test_source_from_args),
		cmocka_unit_test(test_hardening),
	};
	return cmocka_run_group_tests_name("hsm/pin", tests, setup, teardown);
}
