/*
 * dockerjson.h: the Docker Engine API's replies, parsed by jansson into
 * plain structs: the container list (GET /containers/json), one
 * container's inspection (GET /containers/ID/json) and one message of the
 * events stream (GET /events). Pure: bytes in, structs out.
 *
 * Only the labels named oomguard.* are kept (the others are of no use
 * here, and an image may carry hundreds). An id is checked to be 1 to 64
 * hexadecimal digits, since it goes into the paths of later requests; a
 * name must be printable, since it goes into the log.
 */
#ifndef OOMGUARD_DOCKERJSON_H
#define OOMGUARD_DOCKERJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DOCKERJSON_ID_MAX        65 /* 64 hex digits and the NUL */
#define DOCKERJSON_NAME_MAX      256
#define DOCKERJSON_LABELS_MAX    32
#define DOCKERJSON_LABEL_KEY_MAX 96
#define DOCKERJSON_LABEL_VAL_MAX 256
#define DOCKERJSON_ERR_MAX       256
#define DOCKERJSON_LABEL_PREFIX  "oomguard."

/* One oomguard.* label. A key or value too long for its field is kept
 * cut, with too_long set, so that the caller can name it in its error. */
struct dockerjson_label {
	char key[DOCKERJSON_LABEL_KEY_MAX];
	char value[DOCKERJSON_LABEL_VAL_MAX];
	bool too_long;
};

struct dockerjson_container {
	char id[DOCKERJSON_ID_MAX];
	char name[DOCKERJSON_NAME_MAX]; /* without the leading '/' */
	bool running;
	/* From the inspection only (0 or false in the list): */
	int pid;                 /* State.Pid, the host's pid of its PID 1; 0 when stopped */
	uint64_t memory_bytes;   /* HostConfig.Memory; 0 = no limit */
	bool oom_kill_disable;   /* HostConfig.OomKillDisable */
	char cgroup_parent[256]; /* HostConfig.CgroupParent, "" when unset */
	size_t nlabels;
	struct dockerjson_label labels[DOCKERJSON_LABELS_MAX];
	size_t labels_dropped; /* oomguard.* labels beyond DOCKERJSON_LABELS_MAX */
};

enum dockerjson_action {
	DOCKERJSON_OTHER,
	DOCKERJSON_START,
	DOCKERJSON_DIE,
	DOCKERJSON_DESTROY,
	DOCKERJSON_UPDATE,
};

/* One message of the events stream. */
struct dockerjson_event {
	bool container; /* Type is "container" */
	enum dockerjson_action action;
	char id[DOCKERJSON_ID_MAX];     /* Actor.ID; "" unless container */
	char name[DOCKERJSON_NAME_MAX]; /* Actor.Attributes.name, "" when absent */
};

/* Parse a container list of len bytes into a calloc'd array (*ret_v, to
 * be freed by the caller; NULL when the list is empty) of *ret_n
 * containers, with running set from State and no pid or limit. Return 0,
 * or -EINVAL with "where: what" in err (a JSON syntax error has its line
 * and column), or -ENOMEM. */
int dockerjson_list(const char *buf, size_t len, struct dockerjson_container **ret_v, size_t *ret_n,
    char *err, size_t errlen);

/* Parse one container's inspection into *ret. Return 0, or -EINVAL with
 * "where: what" in err. */
int dockerjson_inspect(
    const char *buf, size_t len, struct dockerjson_container *ret, char *err, size_t errlen);

/* Parse one events message into *ret. Return 0, or -EINVAL with
 * "where: what" in err. A message of another Type parses, with container
 * false. */
int dockerjson_event(
    const char *buf, size_t len, struct dockerjson_event *ret, char *err, size_t errlen);

/* The label key of c (with its oomguard. prefix), or NULL. */
const struct dockerjson_label *dockerjson_label_find(
    const struct dockerjson_container *c, const char *key);

#endif
