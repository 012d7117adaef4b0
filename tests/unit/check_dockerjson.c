/*
 * check_dockerjson.c: the Docker Engine's replies, as captured from a real
 * engine (tests/fixtures/docker/, tests/fixtures/capture-docker.sh), and
 * hostile ones: wrong types, ids that would escape a request's path,
 * invalid UTF-8, NUL, depth and size.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dockerjson.h"
#include "suite.h"

#define FX          "tests/fixtures/docker/"
#define LABELLED_ID "73f8521b061d69eac6a1d636dfd7422bee06bce851bec0c50028ed922c79bf1b"

static char *
slurp(const char *path, size_t *ret_len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = malloc(1 << 20);
	size_t n;

	ck_assert_msg(fp != NULL, "cannot open %s", path);
	ck_assert_ptr_nonnull(buf);
	n = fread(buf, 1, (1 << 20) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	*ret_len = n;
	return buf;
}

START_TEST(test_list_real)
{
	size_t len, n = 99;
	char *buf = slurp(FX "list.json", &len), err[DOCKERJSON_ERR_MAX];
	struct dockerjson_container *v = NULL;
	const struct dockerjson_container *lab;

	ck_assert_int_eq(dockerjson_list(buf, len, &v, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 2);
	lab = strcmp(v[0].name, "og-cap17681-labelled") == 0 ? &v[0] : &v[1];
	ck_assert_str_eq(lab->name, "og-cap17681-labelled");
	ck_assert_str_eq(lab->id, LABELLED_ID);
	ck_assert(lab->running);
	/* oomguard-test=... is not ours: dropped */
	ck_assert_uint_eq(lab->nlabels, 3);
	ck_assert_str_eq(dockerjson_label_find(lab, "oomguard.gc.at")->value, "80%");
	ck_assert_str_eq(dockerjson_label_find(lab, "oomguard.restart.signal")->value, "SIGINT");
	ck_assert_ptr_null(dockerjson_label_find(lab, "oomguard-test"));
	ck_assert_uint_eq((lab == &v[0] ? &v[1] : &v[0])->nlabels, 0);
	free(v);
	free(buf);
}
END_TEST

START_TEST(test_list_empty)
{
	struct dockerjson_container *v = (void *)1;
	size_t n = 99;
	char err[DOCKERJSON_ERR_MAX];

	ck_assert_int_eq(dockerjson_list("[]", 2, &v, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(v);
}
END_TEST

START_TEST(test_inspect_real)
{
	size_t len;
	char *buf = slurp(FX "inspect.json", &len), err[DOCKERJSON_ERR_MAX];
	struct dockerjson_container c;

	ck_assert_int_eq(dockerjson_inspect(buf, len, &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.id, LABELLED_ID);
	ck_assert_str_eq(c.name, "og-cap17681-labelled");
	ck_assert(c.running);
	ck_assert_int_eq(c.pid, 17931);
	ck_assert_uint_eq(c.memory_bytes, 64 << 20);
	ck_assert(c.oom_kill_disable);
	ck_assert_str_eq(c.cgroup_parent, "");
	ck_assert_uint_eq(c.nlabels, 3);
	ck_assert_str_eq(dockerjson_label_find(&c, "oomguard.enable")->value, "true");
	free(buf);
}
END_TEST

START_TEST(test_inspect_stopped)
{
	size_t len;
	char *buf = slurp(FX "inspect-stopped.json", &len), err[DOCKERJSON_ERR_MAX];
	struct dockerjson_container c;

	ck_assert_int_eq(dockerjson_inspect(buf, len, &c, err, sizeof(err)), 0);
	ck_assert(!c.running);
	ck_assert_int_eq(c.pid, 0);
	/* docker update --memory 96m between the two captures */
	ck_assert_uint_eq(c.memory_bytes, 96 << 20);
	free(buf);
}
END_TEST

START_TEST(test_events_real)
{
	static const enum dockerjson_action want[] = { DOCKERJSON_START, DOCKERJSON_START,
		DOCKERJSON_UPDATE, DOCKERJSON_DIE, DOCKERJSON_DESTROY };
	size_t len, i = 0;
	char *buf = slurp(FX "events.ndjson", &len), err[DOCKERJSON_ERR_MAX];
	char *line = buf, *nl;

	while ((nl = strchr(line, '\n')) != NULL) {
		struct dockerjson_event ev;

		ck_assert_int_eq(
		    dockerjson_event(line, (size_t)(nl - line), &ev, err, sizeof(err)), 0);
		ck_assert_uint_lt(i, 5);
		ck_assert(ev.container);
		ck_assert_int_eq(ev.action, want[i]);
		ck_assert_uint_eq(strlen(ev.id), 64);
		ck_assert_str_eq(ev.name, i == 1 ? "og-cap17681-plain" : "og-cap17681-labelled");
		line = nl + 1;
		i++;
	}
	ck_assert_uint_eq(i, 5);
	free(buf);
}
END_TEST

START_TEST(test_event_other)
{
	static const char msg[] =
	    "{\"Type\":\"network\",\"Action\":\"connect\",\"Actor\":{\"ID\":\"x/y\"}}";
	static const char exec[] = "{\"Type\":\"container\",\"Action\":\"exec_start: sh -c true\","
	                           "\"Actor\":{\"ID\":\"ab12\",\"Attributes\":null}}";
	struct dockerjson_event ev;
	char err[DOCKERJSON_ERR_MAX];

	ck_assert_int_eq(dockerjson_event(msg, strlen(msg), &ev, err, sizeof(err)), 0);
	ck_assert(!ev.container);
	ck_assert_int_eq(ev.action, DOCKERJSON_OTHER);
	ck_assert_int_eq(dockerjson_event(exec, strlen(exec), &ev, err, sizeof(err)), 0);
	ck_assert(ev.container);
	ck_assert_int_eq(ev.action, DOCKERJSON_OTHER);
	ck_assert_str_eq(ev.name, "");
}
END_TEST

/* Each hostile fixture fails with an error that names the field. */
static const struct {
	const char *file;
	char kind; /* l(ist), i(nspect), e(vent) */
	const char *err;
} hostile[] = {
	{ "list-id-number.json", 'l', "[0].Id: expected an id" },
	{ "list-id-path.json", 'l', "[0].Id: expected an id" },
	{ "list-names-string.json", 'l', "[0].Names: expected an array" },
	{ "list-label-number.json", 'l', "Labels.oomguard.gc.at: expected a string" },
	{ "list-invalid-utf8.json", 'l', "unable to decode byte 0xff" },
	{ "list-name-escape.json", 'l', "[0].Names: expected a name of printable" },
	{ "inspect-pid-string.json", 'i', "State.Pid: expected a pid" },
	{ "inspect-pid-negative.json", 'i', "State.Pid: expected a pid" },
	{ "inspect-running-string.json", 'i', "State.Running: expected true or false" },
	{ "inspect-memory-negative.json", 'i', "HostConfig.Memory: expected a size" },
	{ "inspect-duplicate-key.json", 'i', "duplicate object key" },
	{ "inspect-hostconfig-array.json", 'i', "HostConfig: expected an object" },
	{ "event-name-nul.json", 'e', "\\u0000 is not allowed" },
	{ "event-actor-string.json", 'e', "Actor: expected an object" },
	{ "event-action-number.json", 'e', "Action: expected a string" },
	{ "event-trailing.json", 'e', "end of file expected" },
};

START_TEST(test_hostile)
{
	char path[256], err[DOCKERJSON_ERR_MAX] = "", *buf;
	struct dockerjson_container *v = NULL, c;
	struct dockerjson_event ev;
	size_t len, n = 0;
	int r;

	snprintf(path, sizeof(path), FX "hostile/%s", hostile[_i].file);
	buf = slurp(path, &len);
	if (hostile[_i].kind == 'l')
		r = dockerjson_list(buf, len, &v, &n, err, sizeof(err));
	else if (hostile[_i].kind == 'i')
		r = dockerjson_inspect(buf, len, &c, err, sizeof(err));
	else
		r = dockerjson_event(buf, len, &ev, err, sizeof(err));
	ck_assert_msg(r == -EINVAL, "%s: %d", hostile[_i].file, r);
	ck_assert_msg(strstr(err, hostile[_i].err) != NULL, "%s: '%s' lacks '%s'", hostile[_i].file,
	    err, hostile[_i].err);
	ck_assert_ptr_null(v);
	free(buf);
}
END_TEST

/* Nesting far past jansson's depth limit, and a list of a thousand
 * containers each with more oomguard labels than are kept. */
START_TEST(test_huge)
{
	size_t depth = 200000, n = 0, cap = 16 << 20, len = 0;
	char *deep = malloc(2 * depth), *big = malloc(cap), err[DOCKERJSON_ERR_MAX];
	struct dockerjson_container *v = NULL;

	memset(deep, '[', depth);
	memset(deep + depth, ']', depth);
	ck_assert_int_eq(dockerjson_list(deep, 2 * depth, &v, &n, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "maximum parsing depth") != NULL, "%s", err);
	len += (size_t)snprintf(big + len, cap - len, "[");
	for (int i = 0; i < 1000; i++) {
		len += (size_t)snprintf(big + len, cap - len,
		    "%s{\"Id\":\"%x\",\"Names\":[\"/c%d\"],\"State\":\"running\",\"Labels\":{",
		    i ? "," : "", i + 1, i);
		for (int k = 0; k < 40; k++)
			len += (size_t)snprintf(big + len, cap - len,
			    "%s\"oomguard.k%d\":\"%0300d\"", k ? "," : "", k, k);
		len += (size_t)snprintf(big + len, cap - len, "}}");
	}
	len += (size_t)snprintf(big + len, cap - len, "]");
	ck_assert_uint_lt(len, cap - 1);
	ck_assert_int_eq(dockerjson_list(big, len, &v, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 1000);
	ck_assert_uint_eq(v[999].nlabels, DOCKERJSON_LABELS_MAX);
	ck_assert_uint_eq(v[999].labels_dropped, 40 - DOCKERJSON_LABELS_MAX);
	ck_assert(v[999].labels[0].too_long);
	ck_assert_str_eq(v[999].name, "c999");
	free(v);
	free(big);
	free(deep);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("dockerjson");
	TCase *tc = tcase_create("dockerjson");

	tcase_add_test(tc, test_list_real);
	tcase_add_test(tc, test_list_empty);
	tcase_add_test(tc, test_inspect_real);
	tcase_add_test(tc, test_inspect_stopped);
	tcase_add_test(tc, test_events_real);
	tcase_add_test(tc, test_event_other);
	tcase_add_loop_test(tc, test_hostile, 0, sizeof(hostile) / sizeof(hostile[0]));
	tcase_add_test(tc, test_huge);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
