/*
 * dockerjson.c: the Engine API's JSON, read with jansson. Every field is
 * checked for its type; a field the engine may leave out or send as null
 * (labels, the OOM killer flag) reads as its zero value.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dockerjson.h"

/* The parse flags: a key given twice is an error rather than a silent
 * choice of one of its values. */
#define LOAD_FLAGS JSON_REJECT_DUPLICATES

static json_t *
load(const char *buf, size_t len, char *err, size_t errlen)
{
	json_error_t e;
	json_t *j = json_loadb(buf, len, LOAD_FLAGS, &e);

	if (j == NULL)
		snprintf(err, errlen, "line %d, column %d: %s", e.line, e.column, e.text);
	return j;
}

static int
type_error(const char *where, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: expected %s", where, what);
	return -EINVAL;
}

/* The string s as an id: 1 to 64 lower-case hexadecimal digits. */
static int
copy_id(const json_t *s, const char *where, char *ret, char *err, size_t errlen)
{
	const char *v = json_string_value(s);
	size_t n = v != NULL ? strlen(v) : 0;

	if (v == NULL || n == 0 || n >= DOCKERJSON_ID_MAX || strspn(v, "0123456789abcdef") != n ||
	    json_string_length(s) != n)
		return type_error(where, "an id of 1 to 64 hexadecimal digits", err, errlen);
	memcpy(ret, v, n + 1);
	return 0;
}

/* The string s as a name, its leading '/' dropped: printable ASCII only,
 * since it is written to the log and matched by the operator. */
static int
copy_name(const json_t *s, const char *where, char *ret, char *err, size_t errlen)
{
	const char *v = json_string_value(s);
	size_t n;

	if (v == NULL)
		return type_error(where, "a string", err, errlen);
	if (v[0] == '/')
		v++;
	n = strlen(v);
	if (n >= DOCKERJSON_NAME_MAX || json_string_length(s) != strlen(json_string_value(s)))
		return type_error(where, "a name shorter than 256 characters", err, errlen);
	for (size_t i = 0; i < n; i++) {
		if (v[i] < 0x21 || v[i] > 0x7e)
			return type_error(where, "a name of printable characters", err, errlen);
	}
	memcpy(ret, v, n + 1);
	return 0;
}

static void
label_add(struct dockerjson_container *c, const char *key, const char *value)
{
	struct dockerjson_label *l;

	if (c->nlabels == DOCKERJSON_LABELS_MAX) {
		c->labels_dropped++;
		return;
	}
	l = &c->labels[c->nlabels++];
	l->too_long = strlen(key) >= sizeof(l->key) || strlen(value) >= sizeof(l->value);
	snprintf(l->key, sizeof(l->key), "%s", key);
	snprintf(l->value, sizeof(l->value), "%s", value);
}

/* Keep the oomguard.* labels of an object (or null) of strings. */
static int
copy_labels(json_t *o, struct dockerjson_container *c, char *err, size_t errlen)
{
	const char *key;
	json_t *v;

	if (o == NULL || json_is_null(o))
		return 0;
	if (!json_is_object(o))
		return type_error("Labels", "an object", err, errlen);
	json_object_foreach(o, key, v)
	{
		if (!json_is_string(v)) {
			snprintf(err, errlen, "Labels.%.64s: expected a string", key);
			return -EINVAL;
		}
		if (strncmp(key, DOCKERJSON_LABEL_PREFIX, strlen(DOCKERJSON_LABEL_PREFIX)) == 0)
			label_add(c, key, json_string_value(v));
	}
	return 0;
}

/* An optional boolean: absent or null is false. */
static int
get_bool(const json_t *o, const char *key, const char *where, bool *ret, char *err, size_t errlen)
{
	const json_t *v = json_object_get(o, key);

	if (v == NULL || json_is_null(v)) {
		*ret = false;
		return 0;
	}
	if (!json_is_boolean(v))
		return type_error(where, "true or false", err, errlen);
	*ret = json_is_true(v);
	return 0;
}

static int
list_one(const json_t *e, size_t i, struct dockerjson_container *c, char *err, size_t errlen)
{
	const json_t *names = json_object_get(e, "Names");
	const char *state = json_string_value(json_object_get(e, "State"));
	char where[32];
	int r;

	snprintf(where, sizeof(where), "[%zu]", i);
	if (!json_is_object(e))
		return type_error(where, "an object", err, errlen);
	snprintf(where, sizeof(where), "[%zu].Id", i);
	r = copy_id(json_object_get(e, "Id"), where, c->id, err, errlen);
	if (r < 0)
		return r;
	snprintf(where, sizeof(where), "[%zu].Names", i);
	if (!json_is_array(names) || json_array_size(names) == 0)
		return type_error(where, "an array of names", err, errlen);
	r = copy_name(json_array_get(names, 0), where, c->name, err, errlen);
	if (r < 0)
		return r;
	if (state == NULL) {
		snprintf(where, sizeof(where), "[%zu].State", i);
		return type_error(where, "a string", err, errlen);
	}
	c->running = strcmp(state, "running") == 0;
	return copy_labels(json_object_get(e, "Labels"), c, err, errlen);
}

int
dockerjson_list(const char *buf, size_t len, struct dockerjson_container **ret_v, size_t *ret_n,
    char *err, size_t errlen)
{
	json_t *j = load(buf, len, err, errlen);
	struct dockerjson_container *v = NULL;
	size_t n;
	int r = 0;

	if (j == NULL)
		return -EINVAL;
	if (!json_is_array(j)) {
		json_decref(j);
		return type_error("the list", "an array", err, errlen);
	}
	n = json_array_size(j);
	if (n > 0 && (v = calloc(n, sizeof(*v))) == NULL)
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < n; i++)
		r = list_one(json_array_get(j, i), i, &v[i], err, errlen);
	json_decref(j);
	if (r < 0) {
		free(v);
		return r;
	}
	*ret_v = v;
	*ret_n = n;
	return 0;
}

static int
inspect_state(const json_t *j, struct dockerjson_container *c, char *err, size_t errlen)
{
	const json_t *state = json_object_get(j, "State");
	const json_t *pid = json_object_get(state, "Pid");
	int r;

	if (!json_is_object(state))
		return type_error("State", "an object", err, errlen);
	r = get_bool(state, "Running", "State.Running", &c->running, err, errlen);
	if (r < 0)
		return r;
	if (!json_is_integer(pid) || json_integer_value(pid) < 0 ||
	    json_integer_value(pid) > 0x3fffffff)
		return type_error("State.Pid", "a pid", err, errlen);
	c->pid = (int)json_integer_value(pid);
	return 0;
}

static int
inspect_host(const json_t *j, struct dockerjson_container *c, char *err, size_t errlen)
{
	const json_t *host = json_object_get(j, "HostConfig");
	const json_t *mem = json_object_get(host, "Memory");
	const json_t *parent = json_object_get(host, "CgroupParent");
	int r;

	if (!json_is_object(host))
		return type_error("HostConfig", "an object", err, errlen);
	if (mem != NULL && !json_is_null(mem)) {
		if (!json_is_integer(mem) || json_integer_value(mem) < 0)
			return type_error("HostConfig.Memory", "a size in bytes", err, errlen);
		c->memory_bytes = (uint64_t)json_integer_value(mem);
	}
	r = get_bool(
	    host, "OomKillDisable", "HostConfig.OomKillDisable", &c->oom_kill_disable, err, errlen);
	if (r < 0)
		return r;
	if (parent != NULL && !json_is_null(parent)) {
		const char *p = json_string_value(parent);

		if (p == NULL || strlen(p) >= sizeof(c->cgroup_parent) ||
		    json_string_length(parent) != strlen(p))
			return type_error("HostConfig.CgroupParent", "a path", err, errlen);
		memcpy(c->cgroup_parent, p, strlen(p) + 1);
	}
	return 0;
}

static int
inspect_parse(const json_t *j, struct dockerjson_container *c, char *err, size_t errlen)
{
	const json_t *config = json_object_get(j, "Config");
	int r;

	if (!json_is_object(j))
		return type_error("the inspection", "an object", err, errlen);
	r = copy_id(json_object_get(j, "Id"), "Id", c->id, err, errlen);
	if (r == 0)
		r = copy_name(json_object_get(j, "Name"), "Name", c->name, err, errlen);
	if (r == 0)
		r = inspect_state(j, c, err, errlen);
	if (r == 0)
		r = inspect_host(j, c, err, errlen);
	if (r == 0 && config != NULL && !json_is_null(config) && !json_is_object(config))
		r = type_error("Config", "an object", err, errlen);
	if (r == 0)
		r = copy_labels(json_object_get(config, "Labels"), c, err, errlen);
	return r;
}

int
dockerjson_inspect(
    const char *buf, size_t len, struct dockerjson_container *ret, char *err, size_t errlen)
{
	json_t *j = load(buf, len, err, errlen);
	struct dockerjson_container *c;
	int r;

	if (j == NULL)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	r = c == NULL ? -ENOMEM : inspect_parse(j, c, err, errlen);
	json_decref(j);
	if (r == 0)
		*ret = *c;
	free(c);
	return r;
}

static enum dockerjson_action
action_parse(const char *s)
{
	static const struct {
		const char *name;
		enum dockerjson_action action;
	} actions[] = {
		{ "start", DOCKERJSON_START },
		{ "die", DOCKERJSON_DIE },
		{ "destroy", DOCKERJSON_DESTROY },
		{ "update", DOCKERJSON_UPDATE },
	};

	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		if (strcmp(s, actions[i].name) == 0)
			return actions[i].action;
	}
	return DOCKERJSON_OTHER;
}

static int
event_parse(const json_t *j, struct dockerjson_event *ev, char *err, size_t errlen)
{
	const char *type = json_string_value(json_object_get(j, "Type"));
	const char *action = json_string_value(json_object_get(j, "Action"));
	const json_t *actor = json_object_get(j, "Actor");
	const json_t *attrs = json_object_get(actor, "Attributes");
	const json_t *name = json_object_get(attrs, "name");
	int r;

	if (!json_is_object(j))
		return type_error("the event", "an object", err, errlen);
	if (type == NULL)
		return type_error("Type", "a string", err, errlen);
	if (action == NULL)
		return type_error("Action", "a string", err, errlen);
	ev->container = strcmp(type, "container") == 0;
	ev->action = action_parse(action);
	if (!ev->container)
		return 0;
	if (!json_is_object(actor))
		return type_error("Actor", "an object", err, errlen);
	r = copy_id(json_object_get(actor, "ID"), "Actor.ID", ev->id, err, errlen);
	if (r == 0 && attrs != NULL && !json_is_null(attrs) && !json_is_object(attrs))
		r = type_error("Actor.Attributes", "an object", err, errlen);
	if (r == 0 && name != NULL)
		r = copy_name(name, "Actor.Attributes.name", ev->name, err, errlen);
	return r;
}

int
dockerjson_event(
    const char *buf, size_t len, struct dockerjson_event *ret, char *err, size_t errlen)
{
	json_t *j = load(buf, len, err, errlen);
	struct dockerjson_event ev = { 0 };
	int r;

	if (j == NULL)
		return -EINVAL;
	r = event_parse(j, &ev, err, errlen);
	json_decref(j);
	if (r == 0)
		*ret = ev;
	return r;
}

const struct dockerjson_label *
dockerjson_label_find(const struct dockerjson_container *c, const char *key)
{
	for (size_t i = 0; i < c->nlabels; i++) {
		if (strcmp(c->labels[i].key, key) == 0)
			return &c->labels[i];
	}
	return NULL;
}
