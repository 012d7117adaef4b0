/*
 * fuzz_config.c: the configuration as config.c takes it from outside: an
 * INI file, OOMGUARD_* environment variables and single keys as the flags
 * set them. The input holds, separated by NUL bytes, the file's text, the
 * environment (one NAME=VALUE a line) and keys ("section key=value" a
 * line). A configuration that passes config_validate() must survive
 * --dump-config: its dump reads back, valid, and dumps the same again,
 * with the same cgroup path whatever bytes the path holds (a path the bare
 * value cannot hold is dumped in quotes). The file's [pattern.NAME]
 * sections, when they read, are dumped after it and must read back the
 * same too.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"

#define ENV_MAX 64

static int ini_fd = -1;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ini_fd = memfd_create("oomguard-fuzz.ini", MFD_CLOEXEC);
	if (ini_fd < 0)
		abort();
	return 0;
}

/* The file's [pattern.NAME] sections. */
struct patterns {
	struct config_pattern *v;
	size_t n;
	int r; /* as config_load_patterns() returned */
};

/* Put text in the memfd and load it as the file, and its patterns into
 * *p. Return as config_load_file(). */
static int
load_text(
    struct config *c, struct patterns *p, const char *text, size_t len, char *err, size_t errlen)
{
	char path[64], perr[CONFIG_ERR_MAX + PATH_MAX];

	if (ftruncate(ini_fd, 0) < 0 || pwrite(ini_fd, text, len, 0) != (ssize_t)len)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", ini_fd);
	*p = (struct patterns){ NULL, 0, 0 };
	p->r = config_load_patterns(path, &p->v, &p->n, perr, sizeof(perr));
	return config_load_file(c, path, err, errlen);
}

static int
load_env(struct config *c, char *text, char *err, size_t errlen)
{
	char *envp[ENV_MAX + 1];
	size_t n = 0;

	for (char *line = strtok(text, "\n"); line != NULL && n < ENV_MAX;
	     line = strtok(NULL, "\n"))
		envp[n++] = line;
	envp[n] = NULL;
	return config_load_env(c, envp, err, errlen);
}

static int
load_keys(struct config *c, char *text, char *err, size_t errlen)
{
	static const struct config_origin origin = { ORIGIN_FLAG, "--flag", 0 };
	char *save = NULL;

	for (char *line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char *key = strchr(line, ' '), *value;

		if (key == NULL || (value = strchr(key + 1, '=')) == NULL)
			continue;
		*key++ = '\0';
		*value++ = '\0';
		if (config_set(c, line, key, value, &origin, err, errlen) < 0)
			return -EINVAL;
	}
	return 0;
}

/* The dump of c and p, to be freed; its length in *ret_len. */
static char *
dump(const struct config *c, const struct patterns *p, size_t *ret_len)
{
	char *text = NULL;
	FILE *fp = open_memstream(&text, ret_len);

	if (fp == NULL)
		abort();
	config_dump(c, fp);
	config_dump_patterns(p->v, p->n, fp);
	if (fclose(fp) != 0)
		abort();
	return text;
}

/* The longest line inih reads whole (its buffer, less the newline and
 * the NUL), as config.c reports it. */
#define INI_LINE_MAX 199

static size_t
longest_line(const char *text)
{
	size_t longest = 0;

	for (const char *p = text; *p != '\0';) {
		size_t n = strcspn(p, "\n");

		if (n > longest)
			longest = n;
		p += n + (p[n] == '\n');
	}
	return longest;
}

/* A valid configuration's dump reads back to a valid one that dumps the
 * same. A value set by the environment or a flag can make a line longer
 * than inih reads (a long cgroup path): then the file must be refused
 * for it, never read in part. */
static void
check_dump(const struct config *c, const struct patterns *p)
{
	struct config back;
	struct patterns pback;
	char err[CONFIG_ERR_MAX + PATH_MAX];
	size_t len, len2;
	char *text = dump(c, p, &len), *text2;
	bool too_long = longest_line(text) > INI_LINE_MAX;
	int r;

	config_defaults(&back);
	r = load_text(&back, &pback, text, len, err, sizeof(err));
	if (r == 0 && pback.r < 0)
		snprintf(err, sizeof(err), "its patterns do not read back");
	if ((r < 0 || pback.r < 0) && too_long) {
		free(pback.v);
		free(text);
		return;
	}
	if (r < 0 || pback.r < 0 || too_long || config_validate(&back, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_config: the dump does not read back: %s\n%s",
		    r < 0 || pback.r < 0 ? err : "a line too long was read", text);
		abort();
	}
	if (strcmp(back.cgroup, c->cgroup) != 0) {
		fprintf(stderr, "fuzz_config: the cgroup path changed on reading back:\n%s", text);
		abort();
	}
	text2 = dump(&back, &pback, &len2);
	if (len != len2 || memcmp(text, text2, len) != 0) {
		fprintf(stderr, "fuzz_config: the dump changed on reading back:\n%s\n--\n%s", text,
		    text2);
		abort();
	}
	free(pback.v);
	free(text);
	free(text2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), *part[3];
	char err[CONFIG_ERR_MAX + PATH_MAX];
	struct patterns p;
	struct config c;

	fuzz_split(s, size, part, 3);
	config_defaults(&c);
	if (load_text(&c, &p, part[0], strlen(part[0]), err, sizeof(err)) == 0 &&
	    load_env(&c, part[1], err, sizeof(err)) == 0 &&
	    load_keys(&c, part[2], err, sizeof(err)) == 0 &&
	    config_validate(&c, err, sizeof(err)) == 0) {
		/* Patterns that do not read are the file's error, not the dump's. */
		if (p.r < 0)
			p = (struct patterns){ NULL, 0, 0 };
		check_dump(&c, &p);
	}
	free(p.v);
	free(s);
	return 0;
}
