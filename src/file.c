/*
 * file.c: small text-file reading for /proc and cgroupfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file.h"

int
file_pread(int fd, char *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;

	/* kernfs answers a read in one go for files this small, but a short
	 * read must not be taken for the end of a proc file. */
	for (;;) {
		if (off + 1 >= len)
			return -EFBIG;
		n = pread(fd, buf + off, len - 1 - off, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	buf[off] = '\0';
	return (int)off;
}

int
file_read(const char *path, char *buf, size_t len)
{
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = file_pread(fd, buf, len);
	close(fd);
	return r;
}

int
file_parse_u64(const char *text, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (*text < '0' || *text > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno != 0)
		return -EINVAL;
	while (*end == ' ' || *end == '\n' || *end == '\t')
		end++;
	if (*end != '\0')
		return -EINVAL;
	*ret = v;
	return 0;
}

int
file_kv_lookup(const char *text, const char *key, uint64_t *ret)
{
	size_t klen = strlen(key);
	const char *p = text;
	char *end;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, klen) == 0 && p[klen] == ' ') {
			errno = 0;
			unsigned long long v = strtoull(p + klen + 1, &end, 10);

			if (errno != 0 || end == p + klen + 1 || (*end != '\n' && *end != '\0'))
				return -EINVAL;
			*ret = v;
			return 0;
		}
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return -ENOENT;
}

int
file_join(char *ret, size_t len, const char *a, const char *b)
{
	int n = snprintf(ret, len, "%s%s", a, b);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}
