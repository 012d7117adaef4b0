/*
 * hints_cmd.c: the runtime hints for `oomguard hints` and for the app
 * oomguard starts. The values are hints.c's; this file reads the limit,
 * changes oomguard's environment around a spawn and logs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "hints_cmd.h"
#include "log.h"
#include "memcg.h"
#include "units.h"

extern char **environ;

/* The limit that counts, as the watch takes it: memory.max, else (v2)
 * memory.high; 0 for none. Return 0 or -errno. */
static int
read_limit(const struct config *c, const char *proc_root, const char *fs_root, struct cgroup *cg,
    uint64_t *ret_bytes)
{
	struct memcg_sample s;
	struct memcg m;
	int r;

	if (strcmp(c->cgroup, "self") == 0)
		r = cgroup_find_pid(proc_root, fs_root, 0, cg);
	else
		r = cgroup_find_path(proc_root, fs_root, c->cgroup, cg);
	if (r < 0)
		return r;
	r = memcg_open(&m, cg->dir, cg->version, memcg_host_ram(proc_root));
	if (r < 0)
		return r;
	r = memcg_read(&m, &s);
	memcg_close(&m);
	if (r < 0)
		return r;
	*ret_bytes = s.limit_bytes ? s.limit_bytes : s.high_bytes;
	return 0;
}

int
hints_cmd_print(const struct config *c, const char *proc_root, const char *fs_root, bool shell)
{
	struct cgroup cg;
	struct hints h;
	uint64_t limit;
	int r;

	memset(&cg, 0, sizeof(cg));
	r = read_limit(c, proc_root, fs_root, &cg, &limit);
	if (r < 0) {
		log_error("cannot read the memory limit of %s: %s",
		    cg.dir != NULL ? cg.dir : c->cgroup, strerror(-r));
		cgroup_free(&cg);
		return r;
	}
	cgroup_free(&cg);
	(void)hints_compute(c, limit, environ, &h);
	hints_print(&h, shell, stdout);
	return 0;
}

/* The line for a start: what was set, and the rest when it matters. */
static void
log_start(struct hints_app *st, const struct hints *h)
{
	char set[512], kept[512], small[128], lng[128], l[UNITS_BUF], b[UNITS_BUF], hb[UNITS_BUF];

	hints_describe(h, HINT_SET, set, sizeof(set));
	hints_describe(h, HINT_KEPT, kept, sizeof(kept));
	hints_describe(h, HINT_TOO_SMALL, small, sizeof(small));
	hints_describe(h, HINT_TOO_LONG, lng, sizeof(lng));
	if (st->kept_logged)
		kept[0] = '\0';
	st->kept_logged = st->kept_logged || kept[0] != '\0';
	log_info("runtime hints for limit %s (soft under %s, hard under %s): %s%s%s%s%s%s%s",
	    units_format_human(h->limit_bytes, l), units_format_human(h->base_bytes, b),
	    units_format_human(h->hard_base_bytes, hb), set[0] != '\0' ? set : "none set",
	    kept[0] != '\0' ? "; the user's own kept: " : "", kept,
	    small[0] != '\0' ? "; too small a limit for " : "", small,
	    lng[0] != '\0' ? "; too long to add to: " : "", lng);
}

void
hints_cmd_start(struct hints_app *st, const struct config *c, uint64_t limit_bytes)
{
	struct hints *h = &st->given;

	(void)hints_compute(c, limit_bytes, environ, h);
	st->started = true;
	st->stale_logged = false;
	if (h->limit_bytes == 0) {
		if (c->runtime_hints == HINTS_AUTO)
			log_debug("no memory limit: no runtime hints set");
		return;
	}
	for (int i = 0; i < HINTS_NVARS; i++) {
		struct hints_var *v = &h->var[i];

		if (v->outcome == HINT_SET && setenv(v->name, v->value, 1) < 0) {
			log_warn("cannot set %s for the app: %s; it starts without it", v->name,
			    strerror(errno));
			v->outcome = HINT_NONE;
		}
	}
	log_start(st, h);
}

void
hints_cmd_restore(struct hints_app *st)
{
	char old[HINTS_VALUE_MAX];

	for (int i = 0; i < HINTS_NVARS; i++) {
		const struct hints_var *v = &st->given.var[i];

		if (v->outcome != HINT_SET)
			continue;
		/* The old value is a prefix of the new one (hints.h), and a
		 * failure would leave the hint to the next start's compute,
		 * which would take it for the user's: it is logged. */
		memcpy(old, v->value, v->had_len);
		old[v->had_len] = '\0';
		if ((v->had ? setenv(v->name, old, 1) : unsetenv(v->name)) < 0)
			log_warn("cannot put %s back in oomguard's environment: %s", v->name,
			    strerror(errno));
	}
}

void
hints_cmd_limit(struct hints_app *st, const struct config *c, uint64_t limit_bytes)
{
	char now[512], then[512], l[UNITS_BUF];
	struct hints next;

	if (!st->started || c->runtime_hints != HINTS_AUTO ||
	    (st->stale_logged && limit_bytes == st->stale_limit_bytes))
		return;
	(void)hints_compute(c, limit_bytes, environ, &next);
	if (hints_same(&next, &st->given))
		return;
	st->stale_logged = true;
	st->stale_limit_bytes = limit_bytes;
	hints_describe(&st->given, HINT_SET, then, sizeof(then));
	hints_describe(&next, HINT_SET, now, sizeof(now));
	log_info("limit now %s: the app keeps the runtime hints it started with (%s); %s at "
	         "its next start",
	    limit_bytes ? units_format_human(limit_bytes, l) : "none", then[0] ? then : "none",
	    now[0] ? now : "none");
}
