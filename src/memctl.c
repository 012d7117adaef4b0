/*
 * memctl.c: writes to the cgroup v2 memory knobs.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "memctl.h"

static int
write_text(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd, r = 0;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	if (n < 0)
		r = -errno;
	close(fd);
	return r;
}

int
memctl_high_get(const char *dir, char *buf, size_t len)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/memory.high", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return file_read(path, buf, len);
}

int
memctl_high_set(const char *dir, const char *text)
{
	return write_text(dir, "memory.high", text);
}

int
memctl_reclaim(const char *dir, uint64_t bytes)
{
	char text[32];

	snprintf(text, sizeof(text), "%llu", (unsigned long long)bytes);
	return write_text(dir, "memory.reclaim", text);
}
