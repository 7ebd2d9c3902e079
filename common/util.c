/* SPDX-License-Identifier: Apache-2.0 */
/* Bytes, files, the clock, failpoints and process hardening. */

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/common.h"

eac_err eac_sha256(const uint8_t *data, size_t len, uint8_t out[static EAC_SHA256_LEN])
{
	unsigned int n = 0;
	if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 || n != EAC_SHA256_LEN)
		return eac_fail(EAC_ERR_INTERNAL, "SHA-256 failed");
	return EAC_OK;
}

void eac_hex(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

eac_err eac_unhex(const char *hex, uint8_t *out, size_t outlen)
{
	if (strlen(hex) != 2 * outlen)
		return eac_fail(EAC_ERR_MALFORMED, "hex string must have %zu digits", 2 * outlen);
	for (size_t i = 0; i < outlen; i++) {
		int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return eac_fail(EAC_ERR_MALFORMED, "not a hex digit at position %zu", 2 * i);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return EAC_OK;
}

eac_err eac_file_read(const char *path, size_t max, uint8_t **out, size_t *outlen)
{
	eac_err r = EAC_ERR_INTERNAL;
	uint8_t *buf = NULL;
	struct stat st;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return eac_fail(EAC_ERR_IO, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		r = eac_fail(EAC_ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = eac_fail(EAC_ERR_IO, "%s: not a regular file", path);
		goto out;
	}
	if ((uintmax_t)st.st_size > max) {
		r = eac_fail(EAC_ERR_MALFORMED, "%s: %jd bytes exceeds the limit of %zu bytes",
			     path, (intmax_t)st.st_size, max);
		goto out;
	}
	/* +1 so an empty file still gets a buffer and a file grown since
	 * fstat() is noticed below */
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		r = eac_fail(EAC_ERR_NOMEM, "%s: out of memory", path);
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = eac_fail(EAC_ERR_IO, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > (size_t)st.st_size) {
			r = eac_fail(EAC_ERR_IO, "%s: file changed while reading", path);
			goto out;
		}
	}
	*out = buf;
	*outlen = got;
	buf = NULL;
	r = EAC_OK;
out:
	free(buf);
	close(fd);
	return r;
}

static eac_err write_all(int fd, const uint8_t *data, size_t len, const char *path)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return eac_fail(EAC_ERR_IO, "%s: %s", path, strerror(errno));
		data += n;
		len -= (size_t)n;
	}
	return EAC_OK;
}

eac_err eac_file_publish(const char *path, const uint8_t *data, size_t len,
			 unsigned mode, int overwrite)
{
	return eac_file_publish_ex(path, data, len, mode, overwrite ? EAC_PUBLISH_OVERWRITE : 0);
}

eac_err eac_dir_sync(const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return eac_fail(EAC_ERR_IO, "%s: %s", dir, strerror(errno));
	int rc = fsync(dfd);
	close(dfd);
	if (rc != 0)
		return eac_fail(EAC_ERR_IO, "%s: fsync: %s", dir, strerror(errno));
	return EAC_OK;
}

eac_err eac_file_publish_ex(const char *path, const uint8_t *data, size_t len, unsigned mode,
			    unsigned flags)
{
	int overwrite = (flags & EAC_PUBLISH_OVERWRITE) != 0;
	int sync = (flags & EAC_PUBLISH_NOSYNC) == 0;
	eac_err r = EAC_ERR_INTERNAL;
	char tmp[PATH_MAX];
	char dircopy[PATH_MAX];
	int fd = -1, dfd = -1, linked = 0;

	if (snprintf(dircopy, sizeof(dircopy), "%s", path) >= (int)sizeof(dircopy))
		return eac_fail(EAC_ERR_USAGE, "%s: path too long", path);
	const char *dir = dirname(dircopy);
	if (snprintf(tmp, sizeof(tmp), "%s/.eac-tmp-XXXXXX", dir) >= (int)sizeof(tmp))
		return eac_fail(EAC_ERR_USAGE, "%s: path too long", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		return eac_fail(EAC_ERR_IO, "%s: cannot create a file in %s: %s", path, dir,
				strerror(errno));
	linked = 1;
	if (fchmod(fd, mode) != 0) {
		r = eac_fail(EAC_ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if ((r = write_all(fd, data, len, path)) != EAC_OK)
		goto out;
	if (sync && fsync(fd) != 0) {
		r = eac_fail(EAC_ERR_IO, "%s: fsync: %s", path, strerror(errno));
		goto out;
	}
	if (overwrite) {
		if (rename(tmp, path) != 0) {
			r = eac_fail(EAC_ERR_IO, "%s: %s", path, strerror(errno));
			goto out;
		}
	} else {
		/* refuse an existing target, atomically: rename without replacing
		 * (the temporary inode becomes the file), or where the file
		 * system cannot, link() and unlink the temporary name */
		int rc = renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE);
		if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) {
			rc = link(tmp, path);
			if (rc == 0)
				(void)unlink(tmp);
		}
		if (rc != 0) {
			r = errno == EEXIST
				? eac_fail(EAC_ERR_EXISTS, "%s: file exists; not overwriting it", path)
				: eac_fail(EAC_ERR_IO, "%s: %s", path, strerror(errno));
			goto out;
		}
	}
	linked = 0;
	if (sync && (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)
		(void)fsync(dfd);
	r = EAC_OK;
out:
	if (linked)
		(void)unlink(tmp);
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	return r;
}

/* ---- time ---- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	/* Howard Hinnant's algorithm: proleptic Gregorian, no locale, no TZ */
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

eac_err eac_time_parse(const char *s, int64_t *out)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
	size_t len = strlen(s);

	if (len == 10) {
		if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
			goto bad;
	} else if (len == 20) {
		if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
		    n != 20)
			goto bad;
	} else {
		goto bad;
	}
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 ||
	    mi > 59 || sec > 59 || h < 0 || mi < 0 || sec < 0)
		goto bad;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		goto bad;
	*out = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec;
	return EAC_OK;
bad:
	return eac_fail(EAC_ERR_MALFORMED, "'%s' is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)",
			s);
}

void eac_time_iso(int64_t t, char out[static 21])
{
	struct tm tm;
	time_t tt = (time_t)t;
	if (gmtime_r(&tt, &tm) == NULL || strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) != 20)
		snprintf(out, 21, "0000-00-00T00:00:00Z");
}

int64_t eac_now(void)
{
#ifdef EAC_TESTING
	const char *fake = getenv("EAC_TEST_NOW");
	if (fake != NULL && *fake != '\0') {
		int64_t t;
		char *end;
		long long v = strtoll(fake, &end, 10);
		if (*end == '\0')
			return (int64_t)v;
		if (eac_time_parse(fake, &t) == EAC_OK)
			return t;
		eac_err_clear();
	}
#endif
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

#ifdef EAC_TESTING
void eac_failpoint(const char *name)
{
	static _Thread_local unsigned long hits;
	const char *want = getenv("EAC_FAILPOINT");
	size_t n = strlen(name);

	if (want == NULL || strncmp(want, name, n) != 0)
		return;
	if (want[n] == '\0' || (want[n] == ':' && strtoul(want + n + 1, NULL, 10) == ++hits)) {
		/* EAC_FAILPOINT_STOP: stop instead (SIGSTOP), holding every
		 * connection and claim, for tests of work beside a live issuance */
		int stop = getenv("EAC_FAILPOINT_STOP") != NULL;
		fprintf(stderr, "failpoint %s: %s process\n", name, stop ? "stopping" : "killing");
		kill(getpid(), stop ? SIGSTOP : SIGKILL);
	}
}
#endif

eac_err eac_harden_process(void)
{
	struct rlimit rl = { 0, 0 };
	if (setrlimit(RLIMIT_CORE, &rl) != 0)
		return eac_fail(EAC_ERR_INTERNAL, "cannot disable core dumps: %s", strerror(errno));
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return eac_fail(EAC_ERR_INTERNAL, "cannot make the process non-dumpable: %s",
				strerror(errno));
	return EAC_OK;
}
