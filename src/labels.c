/*
 * labels.c: container labels and pattern sections, applied through the
 * configuration's table. The whole result is built on a heap copy, so
 * that the caller's configuration is touched only by a full success.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "labels.h"
#include "units.h"

/* Keys a guard cannot set for itself: they are the daemon's, or the
 * agent sets them (the cgroup is the container's). */
static const char *
key_refused(const char *section, const char *key)
{
	static const char *const daemon_sections[] = { "log", "docker", "supervise", "runtime" };

	for (size_t i = 0; i < sizeof(daemon_sections) / sizeof(daemon_sections[0]); i++) {
		if (strcasecmp(section, daemon_sections[i]) == 0)
			return "set for the whole daemon, not per container";
	}
	if (strcasecmp(section, "watch") == 0 && strcasecmp(key, "cgroup") == 0)
		return "the agent watches the container's own cgroup";
	return NULL;
}

/* Set "SECTION.KEY" = value on c; name says where it came from in err. */
static int
apply_one(struct config *c, const char *dotted, const char *value,
    const struct config_origin *origin, const char *name, char *err, size_t errlen)
{
	const char *dot = strchr(dotted, '.');
	char section[32], msg[CONFIG_ERR_MAX];
	const char *refused;

	if (dot == NULL || dot == dotted || dot[1] == '\0' || strchr(dot + 1, '.') != NULL ||
	    (size_t)(dot - dotted) >= sizeof(section)) {
		snprintf(err, errlen, "%s: expected SECTION.KEY, a key of oomguard.ini(5)", name);
		return -EINVAL;
	}
	snprintf(section, sizeof(section), "%.*s", (int)(dot - dotted), dotted);
	refused = key_refused(section, dot + 1);
	if (refused != NULL) {
		snprintf(err, errlen, "%s: %s", name, refused);
		return -EINVAL;
	}
	if (config_set(c, section, dot + 1, value, origin, msg, sizeof(msg)) < 0) {
		snprintf(err, errlen, "%s: %s", name, msg);
		return -EINVAL;
	}
	return 0;
}

int
labels_enabled(const struct dockerjson_container *c, char *err, size_t errlen)
{
	const struct dockerjson_label *l = dockerjson_label_find(c, LABELS_ENABLE);
	bool on;

	if (l == NULL)
		return 0;
	if (l->too_long || units_parse_bool(l->value, &on) < 0) {
		snprintf(
		    err, errlen, "label %s: '%.32s' is not true or false", LABELS_ENABLE, l->value);
		return -EINVAL;
	}
	return on ? 1 : 0;
}

static int
apply_labels(struct config *c, const struct dockerjson_container *ct, char *err, size_t errlen)
{
	static const struct config_origin origin = { ORIGIN_LABEL, NULL, 0 };
	const size_t prefix = strlen(DOCKERJSON_LABEL_PREFIX);

	if (ct->labels_dropped > 0) {
		snprintf(err, errlen, "more than %d oomguard.* labels", DOCKERJSON_LABELS_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < ct->nlabels; i++) {
		const struct dockerjson_label *l = &ct->labels[i];
		char name[DOCKERJSON_LABEL_KEY_MAX + 16];

		snprintf(name, sizeof(name), "label %s", l->key);
		if (l->too_long) {
			snprintf(err, errlen, "%s: longer than %d characters", name,
			    DOCKERJSON_LABEL_VAL_MAX - 1);
			return -EINVAL;
		}
		if (strcmp(l->key, LABELS_ENABLE) == 0)
			continue;
		if (apply_one(c, l->key + prefix, l->value, &origin, name, err, errlen) < 0)
			return -EINVAL;
	}
	return 0;
}

int
labels_apply(const struct config *base, const struct dockerjson_container *ct, struct config *ret,
    char *err, size_t errlen)
{
	struct config *c = malloc(sizeof(*c));
	int r;

	if (c == NULL) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	*c = *base;
	r = apply_labels(c, ct, err, errlen);
	if (r == 0)
		r = config_validate(c, err, errlen);
	if (r == 0)
		*ret = *c;
	free(c);
	return r;
}

int
labels_apply_pattern(const struct config *base, const struct config_pattern *p, struct config *ret,
    char *err, size_t errlen)
{
	struct config *c = malloc(sizeof(*c));
	int r = 0;

	if (c == NULL) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	*c = *base;
	for (size_t i = 0; r == 0 && i < p->nset; i++) {
		struct config_origin origin = { ORIGIN_FILE, NULL, p->set[i].line };
		char name[PATH_MAX + 32];

		snprintf(name, sizeof(name), "%s:%d", base->path, p->set[i].line);
		r = apply_one(c, p->set[i].key, p->set[i].value, &origin, name, err, errlen);
	}
	if (r == 0)
		r = config_validate(c, err, errlen);
	if (r == 0)
		*ret = *c;
	free(c);
	return r;
}

int
labels_check_patterns(
    const struct config *base, const struct config_pattern *v, size_t n, char *err, size_t errlen)
{
	struct config *tmp = malloc(sizeof(*tmp));
	int r = tmp == NULL ? -ENOMEM : 0;

	if (tmp == NULL)
		snprintf(err, errlen, "%s", strerror(ENOMEM));
	for (size_t i = 0; r == 0 && i < n; i++)
		r = labels_apply_pattern(base, &v[i], tmp, err, errlen);
	free(tmp);
	return r;
}

/* The UID in one component of a path under kubepods, or 0. */
static int
pod_component(const char *comp, size_t n, char *buf, size_t len)
{
	const char *uid = NULL, *end = comp + n;
	size_t k;

	if (n > 3 && strncmp(comp, "pod", 3) == 0) {
		uid = comp + 3;
	} else if (n > 6 && strncmp(end - 6, ".slice", 6) == 0) {
		end -= 6;
		for (const char *c = comp; c + 4 <= end; c++)
			if (strncmp(c, "-pod", 4) == 0)
				uid = c + 4;
	}
	if (uid == NULL || uid >= end || (size_t)(end - uid) >= len ||
	    strspn(uid, "0123456789abcdefABCDEF-_") < (size_t)(end - uid))
		return 0;
	for (k = 0; uid + k < end; k++)
		buf[k] = uid[k] == '_' ? '-' : uid[k];
	buf[k] = '\0';
	return 1;
}

int
labels_pod_uid(const char *path, char *buf, size_t len)
{
	const char *p = path;
	bool under = false;

	if (len > 0)
		buf[0] = '\0';
	while (len > 0 && *p != '\0') {
		size_t n = strcspn(p, "/");

		if (n >= 8 && strncmp(p, "kubepods", 8) == 0)
			under = true;
		if (under && pod_component(p, n, buf, len))
			return 1;
		p += n + (p[n] == '/');
	}
	if (len > 0)
		buf[0] = '\0';
	return 0;
}
