/*
 * cgscan.c: glob patterns over a cgroup tree. The walk lists only the
 * directories a pattern can go through, one level per component. The
 * watch rescans the whole set after any inotify event (one rescan for all
 * the events read at once) and reports the difference: a rescan of a few
 * hundred directories costs less than keeping a tree of state in step
 * with the kernel's events.
 */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgscan.h"

#define WATCH_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ONLYDIR)

int
cgscan_match(const char *pattern, const char *rel)
{
	char p[PATH_MAX], r[PATH_MAX], *sp, *sr, *cp, *cr;

	if (strlen(pattern) >= sizeof(p) || strlen(rel) >= sizeof(r))
		return 0;
	strcpy(p, pattern);
	strcpy(r, rel);
	cp = strtok_r(p, "/", &sp);
	cr = strtok_r(r, "/", &sr);
	while (cp != NULL && cr != NULL) {
		if (fnmatch(cp, cr, 0) != 0)
			return 0;
		cp = strtok_r(NULL, "/", &sp);
		cr = strtok_r(NULL, "/", &sr);
	}
	return cp == NULL && cr == NULL;
}

struct walk {
	void (*found)(const char *rel, void *arg);
	void (*dir)(const char *path, void *arg);
	void *arg;
	size_t root_len;
	int count;
};

static bool
is_dir(const char *parent, const struct dirent *e)
{
	char path[PATH_MAX];
	struct stat st;

	if (e->d_type == DT_DIR)
		return true;
	if (e->d_type != DT_UNKNOWN)
		return false;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", parent, e->d_name) >= sizeof(path))
		return false;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Walk path (a buffer of PATH_MAX) for the components of pattern left. */
static int
walk_dir(struct walk *w, char *path, const char *pattern)
{
	const char *slash = strchr(pattern, '/');
	size_t clen = slash ? (size_t)(slash - pattern) : strlen(pattern), len = strlen(path);
	char comp[NAME_MAX + 1];
	struct dirent *e;
	DIR *d;

	if (clen > NAME_MAX)
		return 0;
	memcpy(comp, pattern, clen);
	comp[clen] = '\0';
	d = opendir(path);
	if (d == NULL)
		return -errno;
	if (w->dir != NULL)
		w->dir(path, w->arg);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || fnmatch(comp, e->d_name, 0) != 0 || !is_dir(path, e))
			continue;
		if (len + 1 + strlen(e->d_name) >= PATH_MAX)
			continue;
		snprintf(path + len, PATH_MAX - len, "/%s", e->d_name);
		if (slash == NULL) {
			w->found(path + w->root_len + 1, w->arg);
			w->count++;
		} else {
			(void)walk_dir(w, path, slash + 1);
		}
		path[len] = '\0';
	}
	closedir(d);
	return 0;
}

int
cgscan_walk(const char *root, const char *pattern, void (*found)(const char *rel, void *arg),
    void (*dir)(const char *path, void *arg), void *arg)
{
	struct walk w = { found, dir, arg, strlen(root), 0 };
	char path[PATH_MAX];
	int r;

	if (w.root_len >= sizeof(path))
		return -ENAMETOOLONG;
	while (pattern[0] == '/')
		pattern++;
	strcpy(path, root);
	while (w.root_len > 1 && path[w.root_len - 1] == '/')
		path[--w.root_len] = '\0';
	r = walk_dir(&w, path, pattern);
	return r < 0 ? r : w.count;
}

struct match {
	char *rel;
	size_t index;
	bool seen;  /* in the current rescan */
	bool fresh; /* found by it, not yet reported */
};

struct cgscan {
	struct event_base *base;
	char root[PATH_MAX];
	char *patterns[CGSCAN_PATTERNS_MAX];
	size_t npatterns;
	struct cgscan_callbacks cb;
	int ifd; /* inotify, or -1 */
	struct event *iev;
	struct event *timer;
	uint64_t rescan_usec;
	struct match *m;
	size_t nm, cap;
	size_t index; /* the pattern being walked */
	bool failed;  /* a watch or an allocation failed in this rescan */
};

static void
scan_found(const char *rel, void *arg)
{
	struct cgscan *s = arg;
	struct match *m;

	for (size_t i = 0; i < s->nm; i++) {
		if (s->m[i].index == s->index && strcmp(s->m[i].rel, rel) == 0) {
			s->m[i].seen = true;
			return;
		}
	}
	if (s->nm == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;

		m = realloc(s->m, cap * sizeof(*m));
		if (m == NULL) {
			s->failed = true;
			return;
		}
		s->m = m;
		s->cap = cap;
	}
	m = &s->m[s->nm];
	m->rel = strdup(rel);
	if (m->rel == NULL) {
		s->failed = true;
		return;
	}
	m->index = s->index;
	m->seen = m->fresh = true;
	s->nm++;
}

static void
scan_dir(const char *path, void *arg)
{
	struct cgscan *s = arg;

	if (s->ifd >= 0 && inotify_add_watch(s->ifd, path, WATCH_MASK) < 0)
		s->failed = true;
}

static void timer_start(struct cgscan *s);

int
cgscan_rescan(struct cgscan *s)
{
	size_t kept = 0;

	s->failed = false;
	for (size_t i = 0; i < s->nm; i++)
		s->m[i].seen = false;
	for (s->index = 0; s->index < s->npatterns; s->index++)
		(void)cgscan_walk(s->root, s->patterns[s->index], scan_found, scan_dir, s);
	/* The lost first, so that a cgroup made again under its old name is
	 * reported gone before it is reported found. */
	for (size_t i = 0; i < s->nm; i++) {
		if (s->m[i].seen) {
			s->m[kept++] = s->m[i];
			continue;
		}
		s->cb.lost(s->m[i].rel, s->m[i].index, s->cb.arg);
		free(s->m[i].rel);
	}
	s->nm = kept;
	for (size_t i = 0; i < s->nm; i++) {
		if (s->m[i].fresh) {
			s->m[i].fresh = false;
			s->cb.found(s->m[i].rel, s->m[i].index, s->cb.arg);
		}
	}
	/* A directory inotify would not take (the watch limit): the timer
	 * carries the watch from now on. */
	if (s->failed && s->ifd >= 0) {
		event_free(s->iev);
		s->iev = NULL;
		close(s->ifd);
		s->ifd = -1;
		timer_start(s);
	}
	return (int)s->nm;
}

static void
inotify_cb(evutil_socket_t fd, short what, void *arg)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	(void)what;
	/* Every event read at once, then one rescan for them all. */
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	cgscan_rescan(arg);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	cgscan_rescan(arg);
}

static void
timer_start(struct cgscan *s)
{
	struct timeval tv = { (time_t)(s->rescan_usec / 1000000),
		(suseconds_t)(s->rescan_usec % 1000000) };

	if (s->timer == NULL)
		s->timer = event_new(s->base, -1, EV_PERSIST, timer_cb, s);
	if (s->timer != NULL)
		event_add(s->timer, &tv);
}

static int
watch_start(struct cgscan *s)
{
	s->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->ifd >= 0) {
		s->iev = event_new(s->base, s->ifd, EV_READ | EV_PERSIST, inotify_cb, s);
		if (s->iev != NULL && event_add(s->iev, NULL) == 0)
			return 0;
		if (s->iev != NULL)
			event_free(s->iev);
		s->iev = NULL;
		close(s->ifd);
		s->ifd = -1;
	}
	timer_start(s);
	return s->timer != NULL ? 0 : -ENOMEM;
}

struct cgscan *
cgscan_new(struct event_base *base, const char *root, const char *const *patterns, size_t npatterns,
    uint64_t rescan_usec, const struct cgscan_callbacks *cb)
{
	struct cgscan *s;
	struct stat st;

	if (npatterns == 0 || npatterns > CGSCAN_PATTERNS_MAX || strlen(root) >= PATH_MAX) {
		errno = EINVAL;
		return NULL;
	}
	if (stat(root, &st) < 0)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->base = base;
	s->ifd = -1;
	strcpy(s->root, root);
	s->cb = *cb;
	s->rescan_usec = rescan_usec;
	for (; s->npatterns < npatterns; s->npatterns++) {
		s->patterns[s->npatterns] = strdup(patterns[s->npatterns]);
		if (s->patterns[s->npatterns] == NULL)
			break;
	}
	if (s->npatterns < npatterns || watch_start(s) < 0) {
		cgscan_free(s);
		errno = ENOMEM;
		return NULL;
	}
	cgscan_rescan(s);
	return s;
}

int
cgscan_inotify(const struct cgscan *s)
{
	return s->ifd >= 0;
}

void
cgscan_free(struct cgscan *s)
{
	if (s == NULL)
		return;
	if (s->iev != NULL)
		event_free(s->iev);
	if (s->ifd >= 0)
		close(s->ifd);
	if (s->timer != NULL)
		event_free(s->timer);
	for (size_t i = 0; i < s->nm; i++)
		free(s->m[i].rel);
	free(s->m);
	for (size_t i = 0; i < s->npatterns; i++)
		free(s->patterns[i]);
	free(s);
}
