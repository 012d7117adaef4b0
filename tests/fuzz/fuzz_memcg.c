/*
 * fuzz_memcg.c: the memory files of a cgroup (memcg.c, file.c). The
 * input's first byte picks v1 or v2; then, separated by NUL bytes, the
 * texts of the usage, limit, stat, oom_control (v1) or high (v2), events
 * (v2) and meminfo files. They are written into a directory of their own
 * and read through memcg_open() and memcg_read(), descriptors and all, as
 * a watch reads them; each text also goes to the parsers directly.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "file.h"
#include "fuzz.h"
#include "memcg.h"

/* tmpfs: a file written per run must cost little. */
static char dir[] = "/dev/shm/oomguard-fuzz-memcg.XXXXXX";

static void
put(const char *name, const char *text)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, text, strlen(text)) < 0)
		abort();
	close(fd);
}

static void
remove_dir(void)
{
	static const char *const names[] = { "memory.usage_in_bytes", "memory.limit_in_bytes",
		"memory.current", "memory.max", "memory.stat", "memory.oom_control", "memory.high",
		"memory.events" };
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (mkdtemp(dir) == NULL)
		abort();
	atexit(remove_dir);
	return 0;
}

static void
parse_each(char *const *part, int n)
{
	struct memcg_events e;
	uint64_t v;

	for (int i = 0; i < n; i++) {
		(void)memcg_parse_limit(part[i], 0, &v);
		(void)memcg_parse_limit(part[i], 1ULL << 33, &v);
		(void)memcg_parse_events(part[i], &e);
		(void)memcg_parse_meminfo(part[i], &v);
		(void)file_parse_u64(part[i], &v);
		(void)file_kv_lookup(part[i], "total_inactive_file", &v);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *part[7];
	struct memcg m;
	struct memcg_sample sample;
	uint64_t ram = 0;
	int version;

	if (size < 1)
		return 0;
	version = data[0] & 1 ? 2 : 1;
	s = fuzz_string(data + 1, size - 1);
	fuzz_split(s, size - 1, part, 7);
	parse_each(part, 7);
	(void)memcg_parse_meminfo(part[6], &ram);
	put(version == 1 ? "memory.usage_in_bytes" : "memory.current", part[0]);
	put(version == 1 ? "memory.limit_in_bytes" : "memory.max", part[1]);
	put("memory.stat", part[2]);
	put(version == 1 ? "memory.oom_control" : "memory.high", part[3]);
	put("memory.events", part[4]);
	if (memcg_open(&m, dir, version, ram) != 0)
		abort();
	if (memcg_read(&m, &sample) == 0) {
		(void)memcg_metric(&sample, METRIC_USAGE);
		(void)memcg_metric(&sample, METRIC_WORKINGSET);
		(void)memcg_metric(&sample, METRIC_ANON);
	}
	(void)memcg_read_usage(&m, &ram);
	memcg_close(&m);
	free(s);
	return 0;
}
