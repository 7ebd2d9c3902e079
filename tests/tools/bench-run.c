/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-run OUT.json CMD [ARGS...] — run a command with its stdout and
 * stderr to /dev/null, and write {"seconds": wall time, "cpu_seconds": its
 * user + system CPU time (all threads), "max_rss_kb": peak resident set of
 * the command, "exit": status}. The benchmark's stopwatch
 * and memory gauge (GNU time is not on every machine).
 */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec a, b;
	struct rusage ru;
	int st = 0;
	if (argc < 3)
		return fprintf(stderr, "usage: bench-run OUT.json CMD [ARGS...]\n"), 2;
	clock_gettime(CLOCK_MONOTONIC, &a);
	pid_t p = fork();
	if (p == 0) {
		int fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		dup2(fd, 2);
		execvp(argv[2], argv + 2);
		_exit(127);
	}
	if (p < 0 || wait4(p, &st, 0, &ru) != p)
		return perror("bench-run"), 3;
	clock_gettime(CLOCK_MONOTONIC, &b);
	FILE *f = fopen(argv[1], "w");
	if (f == NULL)
		return perror(argv[1]), 3;
	double cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
		     (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	fprintf(f, "{\"seconds\": %.4f, \"cpu_seconds\": %.4f, \"max_rss_kb\": %ld, \"exit\": %d}\n",
		(double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9, cpu, ru.ru_maxrss,
		WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	fclose(f);
	return 0;
}
