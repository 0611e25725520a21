/*
 * The monitor's part of the event journal (src/store/events.ts): the lifecycle only it sees —
 * each start (restarts by policy too), each exit (`die`, also when no CLI is running), and health
 * status changes. One JSON line in the CLI's format, appended with a single O_APPEND write, which
 * the kernel never interleaves with another writer's line. The CLI gives the file and the
 * container's attributes (image, name, labels), already JSON, in the spec. Best effort: a journal
 * that cannot be written never disturbs the container.
 */
#include "shim.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *g_file, *g_attrs, *g_id;

void event_init(const struct spec *s)
{
	g_file = s->events_file;
	g_attrs = s->event_attrs;
	g_id = s->id;
}

/* `extra`: more attributes, the inside of a JSON object ("exitCode":"0"), or NULL. */
void event_append(const char *action, const char *extra)
{
	if (!g_file || !*g_file || !g_id)
		return;
	const char *attrs = g_attrs ? g_attrs : "";
	size_t sz = strlen(attrs) + strlen(action) + (extra ? strlen(extra) : 0) + strlen(g_id) + 256;
	char *buf = malloc(sz);
	if (!buf)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int n = snprintf(buf, sz,
			 "{\"Type\":\"container\",\"Action\":\"%s\",\"Actor\":{\"ID\":\"%s\",\"Attributes\":{%s%s%s}},"
			 "\"scope\":\"local\",\"time\":%lld,\"timeNano\":%lld%09ld}\n",
			 action, g_id, extra ? extra : "", extra && *attrs ? "," : "", attrs, (long long)ts.tv_sec,
			 (long long)ts.tv_sec, ts.tv_nsec);
	if (n > 0 && (size_t)n < sz) {
		int fd = open(g_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd >= 0) {
			write_all(fd, buf, (size_t)n);
			close(fd);
		}
	}
	free(buf);
}
