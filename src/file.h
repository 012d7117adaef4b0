/*
 * file.h: reading the small text files of /proc and cgroupfs, by path or
 * on an open descriptor (pread from offset 0, as kernfs files need).
 */
#ifndef OOMGUARD_FILE_H
#define OOMGUARD_FILE_H

#include <stddef.h>
#include <stdint.h>

/* Read the whole file at path into buf, NUL-terminated. Return its length,
 * -EFBIG when it does not fit in len - 1 bytes, or -errno. */
int file_read(const char *path, char *buf, size_t len);

/* The same on an open descriptor, from offset 0. */
int file_pread(int fd, char *buf, size_t len);

/* Parse an unsigned decimal number followed by optional whitespace.
 * Return 0 and set *ret, or -EINVAL. */
int file_parse_u64(const char *text, uint64_t *ret);

/* Find "key value" at the start of a line of text (memory.stat,
 * memory.events, meminfo-style "key: value kB" is not handled here).
 * Return 0 and set *ret, -ENOENT when absent, -EINVAL when malformed. */
int file_kv_lookup(const char *text, const char *key, uint64_t *ret);

/* Join a prefix and a path into ret. Return 0 or -ENAMETOOLONG. */
int file_join(char *ret, size_t len, const char *a, const char *b);

#endif
