/*
 * probe.c: the probe command. Every mechanism is registered for real and
 * released at once, so what it reports is what the watchdog would get.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "log.h"
#include "notify.h"
#include "probe.h"

/* Close a descriptor a registration returned; keep its error otherwise. */
static int
tried(int fd)
{
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

static void
try_mechanisms(const struct probe_request *req, struct probe_report *r)
{
	int epfd, psifd;

	r->threshold_err = r->oom_err = r->inotify_err = PROBE_NA;
	if (r->cg.version == 1) {
		/* A threshold above the current usage, so that registering it
		 * does not fire it. */
		r->threshold_err =
		    tried(notify_v1_threshold(r->cg.dir, r->sample.usage_bytes + (64 << 20)));
		r->oom_err = tried(notify_v1_oom(r->cg.dir));
	} else {
		r->inotify_err = tried(notify_v2_events(r->cg.dir));
	}
	r->trigger = req->psi;
	r->trigger_err = -ENOENT;
	if (r->cg.psi_file[0] != '\0') {
		r->trigger_err = psi_trigger_open(r->cg.psi_file, &req->psi, &epfd, &psifd);
		if (r->trigger_err == 0) {
			close(epfd);
			close(psifd);
		}
	}
}

int
probe_run(const struct probe_request *req, struct probe_report *ret)
{
	struct probe_report r;
	struct memcg m;
	int e;

	memset(&r, 0, sizeof(r));
	if (req->pid > 0)
		e = cgroup_find_pid(req->proc_root, req->fs_root, req->pid, &r.cg);
	else if (strcmp(req->cgroup, "self") == 0)
		e = cgroup_find_pid(req->proc_root, req->fs_root, 0, &r.cg);
	else
		e = cgroup_find_path(req->proc_root, req->fs_root, req->cgroup, &r.cg);
	if (e < 0)
		return e;
	r.host_ram_bytes = memcg_host_ram(req->proc_root);
	r.sample_err = memcg_open(&m, r.cg.dir, r.cg.version, r.host_ram_bytes);
	if (r.sample_err == 0) {
		r.sample_err = memcg_read(&m, &r.sample);
		memcg_close(&m);
	}
	r.psi_err = r.cg.psi_file[0] != '\0' ? psi_read(r.cg.psi_file, &r.psi) : -ENOENT;
	try_mechanisms(req, &r);
	*ret = r;
	return 0;
}

static const char *
outcome(int err, char *buf, size_t len)
{
	if (err == 0)
		return "available";
	if (err == PROBE_NA)
		return "not applicable";
	snprintf(buf, len, "%s (%s)", strerrorname_np(-err) ? strerrorname_np(-err) : "error",
	    strerror(-err));
	return buf;
}

static void
print_bytes(FILE *fp, const char *label, uint64_t bytes, const char *zero)
{
	char h[UNITS_BUF];

	if (bytes == 0 && zero != NULL)
		fprintf(fp, "%-16s %s\n", label, zero);
	else
		fprintf(fp, "%-16s %s (%" PRIu64 " bytes)\n", label, units_format_human(bytes, h),
		    bytes);
}

/* The files oomguard reads in the cgroup's directory, NULL-terminated. */
static const char *const v1_files[] = { "memory.usage_in_bytes", "memory.limit_in_bytes",
	"memory.stat", "memory.oom_control", NULL };
static const char *const v2_files[] = { "memory.current", "memory.max", "memory.high",
	"memory.stat", "memory.events", NULL };

static const char *const *
probe_files(const struct probe_report *r)
{
	return r->cg.version == 1 ? v1_files : v2_files;
}

static void
print_sample_text(const struct probe_report *r, FILE *fp)
{
	const struct memcg_sample *s = &r->sample;
	char e[128];

	if (r->sample_err < 0) {
		fprintf(
		    fp, "%-16s unreadable: %s\n", "sample", outcome(r->sample_err, e, sizeof(e)));
		return;
	}
	print_bytes(fp, "usage:", s->usage_bytes, NULL);
	print_bytes(fp, "limit:", s->limit_bytes, "none");
	if (r->cg.version == 2)
		print_bytes(fp, "high:", s->high_bytes, "none");
	if (s->has_stat) {
		print_bytes(fp, "workingset:", s->workingset_bytes, NULL);
		print_bytes(fp, "anon:", s->anon_bytes, NULL);
		print_bytes(fp, "file:", s->file_bytes, NULL);
		print_bytes(fp, "inactive_file:", s->inactive_file_bytes, NULL);
	}
	if (s->has_oom_control)
		fprintf(fp, "%-16s oom_kill_disable %d under_oom %d oom_kill %" PRIu64 "\n",
		    "oom_control:", s->oom_kill_disable, s->under_oom, s->oom_kill);
	if (s->has_events)
		fprintf(fp,
		    "%-16s low %" PRIu64 " high %" PRIu64 " max %" PRIu64 " oom %" PRIu64
		    " oom_kill %" PRIu64 " oom_group_kill %" PRIu64 "\n",
		    "events:", s->events.low, s->events.high, s->events.max, s->events.oom,
		    s->events.oom_kill, s->events.oom_group_kill);
}

static void
print_psi_line(FILE *fp, const char *label, const struct psi_line *l)
{
	fprintf(fp, "%-16s avg10=%u.%02u avg60=%u.%02u avg300=%u.%02u total=%" PRIu64 "us\n", label,
	    l->avg10 / 100, l->avg10 % 100, l->avg60 / 100, l->avg60 % 100, l->avg300 / 100,
	    l->avg300 % 100, l->total_usec);
}

void
probe_print_text(const struct probe_report *r, FILE *fp)
{
	char e[128], t[64], label[96];

	fprintf(fp, "%-16s v%d (%s host)\n", "cgroup:", r->cg.version,
	    cgroup_layout_name(r->cg.layout));
	fprintf(fp, "%-16s %s\n", "path:", r->cg.path);
	fprintf(fp, "%-16s %s\n", "directory:", r->cg.dir);
	fprintf(fp, "%-16s", "files:");
	for (const char *const *f = probe_files(r); *f != NULL; f++)
		fprintf(fp, " %s", *f);
	fprintf(fp, "\n");
	print_sample_text(r, fp);
	if (r->psi_err == 0) {
		fprintf(fp, "%-16s %s%s\n", "psi file:", r->cg.psi_file,
		    r->cg.psi_system ? " (whole system)" : "");
		print_psi_line(fp, "psi some:", &r->psi.some);
		if (r->psi.has_full)
			print_psi_line(fp, "psi full:", &r->psi.full);
	} else {
		fprintf(fp, "%-16s %s\n", "psi:", outcome(r->psi_err, e, sizeof(e)));
	}
	fprintf(fp, "notifications:\n");
	fprintf(
	    fp, "  %-28s %s\n", "v1 threshold eventfd:", outcome(r->threshold_err, e, sizeof(e)));
	fprintf(fp, "  %-28s %s\n", "v1 oom eventfd:", outcome(r->oom_err, e, sizeof(e)));
	fprintf(
	    fp, "  %-28s %s\n", "v2 inotify memory.events:", outcome(r->inotify_err, e, sizeof(e)));
	snprintf(label, sizeof(label),
	    "psi trigger (%s):", config_psi_format(&r->trigger, t, sizeof(t)));
	fprintf(fp, "  %-28s %s\n", label, outcome(r->trigger_err, e, sizeof(e)));
}

/* A mechanism's outcome as JSON: "available", "not applicable", or the
 * errno name. */
static void
json_outcome(FILE *fp, const char *key, int err, bool last)
{
	const char *name = err < 0 ? strerrorname_np(-err) : NULL;

	fprintf(fp, "    \"%s\": \"%s\"%s\n", key,
	    err == 0              ? "available"
	        : err == PROBE_NA ? "not applicable"
	        : name            ? name
	                          : "error",
	    last ? "" : ",");
}

static void
json_psi_line(FILE *fp, const char *key, const struct psi_line *l, bool last)
{
	fprintf(fp,
	    "    \"%s\": {\"avg10\": %u.%02u, \"avg60\": %u.%02u, \"avg300\": %u.%02u, "
	    "\"total_usec\": %" PRIu64 "}%s\n",
	    key, l->avg10 / 100, l->avg10 % 100, l->avg60 / 100, l->avg60 % 100, l->avg300 / 100,
	    l->avg300 % 100, l->total_usec, last ? "" : ",");
}

static void
json_bytes_or_null(FILE *fp, const char *key, uint64_t bytes)
{
	if (bytes == 0)
		fprintf(fp, "  \"%s\": null,\n", key);
	else
		fprintf(fp, "  \"%s\": %" PRIu64 ",\n", key, bytes);
}

static void
json_sample(const struct probe_report *r, FILE *fp)
{
	const struct memcg_sample *s = &r->sample;

	fprintf(fp, "  \"usage_bytes\": %" PRIu64 ",\n", s->usage_bytes);
	/* No limit (and no memory.high) is null, as the text form's "none". */
	json_bytes_or_null(fp, "limit_bytes", s->limit_bytes);
	if (r->cg.version == 2)
		json_bytes_or_null(fp, "high_bytes", s->high_bytes);
	if (s->has_stat)
		fprintf(fp,
		    "  \"workingset_bytes\": %" PRIu64 ",\n  \"anon_bytes\": %" PRIu64
		    ",\n  \"file_bytes\": %" PRIu64 ",\n  \"inactive_file_bytes\": %" PRIu64 ",\n",
		    s->workingset_bytes, s->anon_bytes, s->file_bytes, s->inactive_file_bytes);
	if (s->has_oom_control)
		fprintf(fp,
		    "  \"oom_control\": {\"oom_kill_disable\": %s, \"under_oom\": %s, "
		    "\"oom_kill\": %" PRIu64 "},\n",
		    s->oom_kill_disable ? "true" : "false", s->under_oom ? "true" : "false",
		    s->oom_kill);
	if (s->has_events)
		fprintf(fp,
		    "  \"events\": {\"low\": %" PRIu64 ", \"high\": %" PRIu64 ", \"max\": %" PRIu64
		    ", \"oom\": %" PRIu64 ", \"oom_kill\": %" PRIu64
		    ", \"oom_group_kill\": %" PRIu64 "},\n",
		    s->events.low, s->events.high, s->events.max, s->events.oom, s->events.oom_kill,
		    s->events.oom_group_kill);
}

void
probe_print_json(const struct probe_report *r, FILE *fp)
{
	fprintf(fp, "{\n  \"version\": %d,\n  \"layout\": \"%s\",\n  \"path\": ", r->cg.version,
	    cgroup_layout_name(r->cg.layout));
	log_json_string(fp, r->cg.path);
	fprintf(fp, ",\n  \"directory\": ");
	log_json_string(fp, r->cg.dir);
	fprintf(fp, ",\n  \"files\": [");
	for (const char *const *f = probe_files(r); *f != NULL; f++)
		fprintf(fp, "%s\"%s\"", f == probe_files(r) ? "" : ", ", *f);
	fprintf(fp, "],\n  \"sample_error\": \"%s\",\n",
	    r->sample_err < 0 ? strerrorname_np(-r->sample_err) : "");
	if (r->sample_err == 0)
		json_sample(r, fp);
	fprintf(fp, "  \"psi_file\": ");
	log_json_string(fp, r->cg.psi_file);
	fprintf(fp, ",\n  \"psi_system\": %s,\n", r->cg.psi_system ? "true" : "false");
	if (r->psi_err == 0) {
		fprintf(fp, "  \"psi\": {\n");
		json_psi_line(fp, "some", &r->psi.some, !r->psi.has_full);
		if (r->psi.has_full)
			json_psi_line(fp, "full", &r->psi.full, true);
		fprintf(fp, "  },\n");
	}
	fprintf(fp, "  \"notifications\": {\n");
	json_outcome(fp, "v1_threshold_eventfd", r->threshold_err, false);
	json_outcome(fp, "v1_oom_eventfd", r->oom_err, false);
	json_outcome(fp, "v2_inotify_events", r->inotify_err, false);
	json_outcome(fp, "psi_trigger", r->trigger_err, true);
	fprintf(fp, "  }\n}\n");
}
