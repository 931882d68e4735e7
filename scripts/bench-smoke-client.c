/*
 * bench-smoke-client.c - the least a client of mlctl's exec protocol can do,
 * for `make bench`: start MODEL with pipes, send N requests one at a time
 * (after 200 untimed), read each answer line, and print the p50 and p95
 * round trip in microseconds. No JSON parsing, no checks: what mlctl smoke
 * spends beyond this per request is its overhead.
 *
 * usage: bench-smoke-client N MODEL [ARG...]
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int in[2], out[2], n, i;
	double *lat;
	char buf[4096];
	pid_t pid;

	if (argc < 3 || (n = atoi(argv[1])) < 1) {
		fprintf(stderr, "usage: bench-smoke-client N MODEL [ARG...]\n");
		return 2;
	}
	if (pipe(in) < 0 || pipe(out) < 0)
		return 1;
	pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execvp(argv[2], argv + 2);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	lat = calloc((size_t)n, sizeof(double));
	for (i = 0; i < n + 200; i++) {
		size_t have = 0;
		int len = snprintf(buf, sizeof(buf), "{\"id\":%d,\"input\":[1,2]}\n", i);
		double t = now_us();

		if (write(in[1], buf, (size_t)len) != len)
			return 1;
		/* one answer line; the model writes it whole */
		while (!have || buf[have - 1] != '\n') {
			ssize_t r = read(out[0], buf + have, sizeof(buf) - have);

			if (r <= 0)
				return 1;
			have += (size_t)r;
		}
		if (i >= 200)
			lat[i - 200] = now_us() - t;
	}
	close(in[1]);
	waitpid(pid, NULL, 0);
	qsort(lat, (size_t)n, sizeof(double), cmp);
	printf("%.1f %.1f\n", lat[n / 2], lat[(int)(n * 0.95)]);
	free(lat);
	return 0;
}
