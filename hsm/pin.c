/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PIN sources: a prompt on /dev/tty with echo off, one line from a file
 * descriptor, or a file that only its owner can read. A PIN never comes
 * from argv or the environment (visible in /proc to the same user, and
 * inherited by children), is never copied to the heap here, and is wiped
 * with OPENSSL_cleanse on every path.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "hsm/internal.h"

void hsm_pin_wipe(char pin[static HSM_PIN_MAX + 1])
{
	OPENSSL_cleanse(pin, HSM_PIN_MAX + 1);
}

eac_err hsm_pin_source_from_args(const char *pin_fd, const char *pin_file, hsm_pin_source *out)
{
	hsm_pin_source s = { 0 };

	if (pin_fd != NULL) {
		char *end;
		errno = 0;
		long fd = strtol(pin_fd, &end, 10);
		if (pin_fd[0] < '0' || pin_fd[0] > '9' || *end != '\0' || errno != 0 || fd > INT_MAX)
			return eac_fail(EAC_ERR_USAGE, "--pin-fd '%s' is not a file descriptor number",
					pin_fd);
		if (fcntl((int)fd, F_GETFD) < 0)
			return eac_fail(EAC_ERR_USAGE, "--pin-fd %ld is not an open file descriptor", fd);
		s.kind = HSM_PIN_FD;
		s.fd = (int)fd;
	} else if (pin_file != NULL) {
		s.kind = HSM_PIN_FILE;
		s.path = pin_file;
	} else {
		s.kind = HSM_PIN_PROMPT;
	}
	*out = s;
	return EAC_OK;
}

/* Raw input holds the PIN, an optional CR LF, and one more byte so that a
 * longer input is noticed rather than cut. */
#define RAW_MAX (HSM_PIN_MAX + 3)

/* Drop one trailing LF or CRLF, refuse what no token PIN can be, and move
 * the PIN from the raw buffer (wiped) into `pin`. */
static eac_err finish(char *raw, size_t n, char *pin, size_t *len, const char *from)
{
	eac_err r = EAC_OK;

	if (n > 0 && raw[n - 1] == '\n')
		n--;
	if (n > 0 && raw[n - 1] == '\r')
		n--;
	if (n == 0)
		r = eac_fail(EAC_ERR_MALFORMED, "%s: the PIN is empty", from);
	else if (n > HSM_PIN_MAX)
		r = eac_fail(EAC_ERR_MALFORMED, "%s: the PIN is longer than %d bytes", from,
			     HSM_PIN_MAX);
	else if (memchr(raw, '\0', n) != NULL || memchr(raw, '\n', n) != NULL)
		r = eac_fail(EAC_ERR_MALFORMED, "%s: the PIN contains a NUL or newline character",
			     from);
	if (r == EAC_OK) {
		memcpy(pin, raw, n);
		pin[n] = '\0';
		*len = n;
	}
	OPENSSL_cleanse(raw, RAW_MAX);
	return r;
}

/* One line (up to and including '\n') from fd, byte by byte so that
 * nothing after the line is consumed from a shared descriptor. */
static eac_err read_line(int fd, char raw[static RAW_MAX], size_t *len, const char *from)
{
	size_t n = 0;
	while (n < RAW_MAX) {
		char c;
		ssize_t k = read(fd, &c, 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return eac_fail(EAC_ERR_IO, "%s: %s", from, strerror(errno));
		if (k == 0)
			break;
		raw[n++] = c;
		if (c == '\n')
			break;
	}
	*len = n;
	return EAC_OK;
}

static eac_err read_file(const char *path, char raw[static RAW_MAX], size_t *len)
{
	eac_err r = EAC_ERR_INTERNAL;
	struct stat st;
	size_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);

	if (fd < 0)
		return eac_fail(EAC_ERR_IO, "PIN file %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		r = eac_fail(EAC_ERR_IO, "PIN file %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = eac_fail(EAC_ERR_CONFIG, "PIN file %s: not a regular file", path);
		goto out;
	}
	if (st.st_uid != geteuid()) {
		r = eac_fail(EAC_ERR_CONFIG, "PIN file %s: owned by uid %lu, not by the caller (uid %lu)",
			     path, (unsigned long)st.st_uid, (unsigned long)geteuid());
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		r = eac_fail(EAC_ERR_CONFIG,
			     "PIN file %s: mode %04o lets others read it; it must be 0600 (chmod 600)", path,
			     (unsigned)(st.st_mode & 07777));
		goto out;
	}
	while (n < RAW_MAX) {
		ssize_t k = read(fd, raw + n, RAW_MAX - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = eac_fail(EAC_ERR_IO, "PIN file %s: %s", path, strerror(errno));
			goto out;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	*len = n;
	r = EAC_OK;
out:
	close(fd);
	return r;
}

/* ---- the prompt ---- */

static volatile sig_atomic_t caught;
static void on_signal(int sig)
{
	caught = sig;
}

static const int prompt_signals[] = { SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGTSTP, SIGTTIN, SIGTTOU };
#define NSIG_PROMPT (sizeof(prompt_signals) / sizeof(prompt_signals[0]))

static eac_err read_prompt(const char *what, char raw[static RAW_MAX], size_t *len)
{
	eac_err r = EAC_ERR_INTERNAL;
	struct termios saved, quiet;
	struct sigaction sa, old[NSIG_PROMPT];
	sigset_t block, orig;
	int fd, restored = 1;
	char prompt[128];
	size_t n = 0;

	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) < 0)
		return eac_fail(EAC_ERR_USAGE,
				"no terminal to ask for the PIN of token %s (give --pin-fd or a PIN file)",
				what);
	if (tcgetattr(fd, &saved) != 0) {
		close(fd);
		return eac_fail(EAC_ERR_USAGE, "cannot turn off echo on the terminal: %s",
				strerror(errno));
	}
	/*
	 * The signals that would leave the terminal without echo are blocked
	 * for the whole exchange and let through only while ppoll() waits, so
	 * one can neither interrupt a half-done terminal change nor slip in
	 * between a check and a blocking read. When one comes, echo is
	 * restored and the signal is delivered again with the caller's
	 * disposition.
	 */
	sigemptyset(&block);
	for (size_t i = 0; i < NSIG_PROMPT; i++)
		sigaddset(&block, prompt_signals[i]);
	pthread_sigmask(SIG_BLOCK, &block, &orig);
	caught = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NSIG_PROMPT; i++)
		sigaction(prompt_signals[i], &sa, &old[i]);

	quiet = saved;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	/* TCSAFLUSH: anything typed before echo went off is discarded, not
	 * taken as (part of) the PIN */
	if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
		r = eac_fail(EAC_ERR_USAGE, "cannot turn off echo on the terminal: %s", strerror(errno));
		goto out;
	}
	restored = 0;
	snprintf(prompt, sizeof(prompt), "PIN for token %s: ", what);
	if (write(fd, prompt, strlen(prompt)) < 0) {
		r = eac_fail(EAC_ERR_IO, "cannot write to the terminal: %s", strerror(errno));
		goto out;
	}
	while (n < RAW_MAX) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int pr = ppoll(&p, 1, NULL, &orig);
		if (caught) {
			r = eac_fail(EAC_ERR_USAGE, "PIN entry for token %s interrupted", what);
			goto out;
		}
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0) {
			r = eac_fail(EAC_ERR_IO, "waiting for the PIN: %s", strerror(errno));
			goto out;
		}
		char c;
		ssize_t k = read(fd, &c, 1);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k < 0) {
			r = eac_fail(EAC_ERR_IO, "reading the PIN: %s", strerror(errno));
			goto out;
		}
		if (k == 0)
			break;
		raw[n++] = c;
		if (c == '\n')
			break;
	}
	*len = n;
	r = EAC_OK;
out:
	if (!restored) {
		(void)tcsetattr(fd, TCSAFLUSH, &saved);
		(void)!write(fd, "\n", 1);
	}
	close(fd);
	for (size_t i = 0; i < NSIG_PROMPT; i++)
		sigaction(prompt_signals[i], &old[i], NULL);
	if (caught)
		OPENSSL_cleanse(raw, RAW_MAX);
	/* a signal still pending is delivered here, with the old disposition */
	pthread_sigmask(SIG_SETMASK, &orig, NULL);
	if (caught)
		raise(caught);
	return r;
}

eac_err hsm_pin_read(const hsm_pin_source *src, const char *what, char pin[static HSM_PIN_MAX + 1],
		     size_t *len)
{
	eac_err r;
	char from[PATH_MAX + 64];
	char raw[RAW_MAX];
	size_t n = 0;

	memset(pin, 0, HSM_PIN_MAX + 1);
	if (src == NULL)
		return eac_fail(EAC_ERR_USAGE, "no PIN source for token %s", what);
	/* before the first byte of a secret is in memory */
	if ((r = eac_harden_process()) != EAC_OK)
		return r;
	switch (src->kind) {
	case HSM_PIN_FILE:
		if (src->path == NULL)
			return eac_fail(EAC_ERR_USAGE, "PIN file not named");
		snprintf(from, sizeof(from), "PIN file %s", src->path);
		r = read_file(src->path, raw, &n);
		break;
	case HSM_PIN_FD:
		snprintf(from, sizeof(from), "PIN from --pin-fd %d", src->fd);
		r = read_line(src->fd, raw, &n, from);
		break;
	case HSM_PIN_PROMPT:
		snprintf(from, sizeof(from), "PIN entered for token %s", what);
		r = read_prompt(what, raw, &n);
		break;
	default:
		return eac_fail(EAC_ERR_USAGE, "unknown PIN source");
	}
	if (r == EAC_OK)
		return finish(raw, n, pin, len, from);
	OPENSSL_cleanse(raw, sizeof(raw));
	return r;
}
