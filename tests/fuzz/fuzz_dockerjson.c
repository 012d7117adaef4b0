/*
 * fuzz_dockerjson.c: the Docker Engine's replies (dockerjson.c) and the
 * labels they carry (labels.c). The first byte picks the reply's kind
 * (0: a container list, 1: an inspection, 2: an events message), the
 * rest is the reply; the labels of each container parsed are applied
 * over the defaults as the agent would.
 */
#include <string.h>

#include "dockerjson.h"
#include "fuzz.h"
#include "labels.h"

static struct config base;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[CONFIG_ERR_MAX];

	(void)argc;
	(void)argv;
	config_defaults(&base);
	return config_validate(&base, err, sizeof(err)) == 0 ? 0 : 1;
}

static void
labels_try(const struct dockerjson_container *c)
{
	static struct config out;
	char err[CONFIG_ERR_MAX];

	(void)labels_enabled(c, err, sizeof(err));
	(void)labels_apply(&base, c, &out, err, sizeof(err));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[DOCKERJSON_ERR_MAX];
	const char *buf = (const char *)data + 1;
	struct dockerjson_container *v = NULL, *c;
	struct dockerjson_event ev;
	size_t n = 0;

	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		if (dockerjson_list(buf, size - 1, &v, &n, err, sizeof(err)) == 0) {
			for (size_t i = 0; i < n; i++)
				labels_try(&v[i]);
		}
		free(v);
		break;
	case 1:
		c = malloc(sizeof(*c));
		if (c != NULL && dockerjson_inspect(buf, size - 1, c, err, sizeof(err)) == 0)
			labels_try(c);
		free(c);
		break;
	default:
		(void)dockerjson_event(buf, size - 1, &ev, err, sizeof(err));
		break;
	}
	return 0;
}
