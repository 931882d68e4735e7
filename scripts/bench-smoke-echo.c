/*
 * bench-smoke-echo.c - a model that answers at once, for `make bench`: reads
 * {"id": N, ...} lines on stdin, writes {"id": N, "output": {"sum": 3,
 * "items": [1.0, 2.0]}} for each, unbuffered. Its own time per request is
 * a few microseconds of read and write, so a client's round trip against
 * it is the client's own cost plus the pipe wake-ups.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	char line[65536], out[256];

	while (fgets(line, sizeof(line), stdin)) {
		const char *id = strstr(line, "\"id\":");
		long n = id ? strtol(id + 5, NULL, 10) : 0;
		int len = snprintf(out, sizeof(out),
				   "{\"id\":%ld,\"output\":{\"sum\":3,\"items\":[1.0,2.0]}}\n", n);

		if (write(1, out, (size_t)len) != len)
			return 1;
	}
	return 0;
}
