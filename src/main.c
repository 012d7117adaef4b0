/*
 * main.c: command line, configuration loading and dispatch to the
 * commands: probe, hints, status, --check-config, --dump-config.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "hints_cmd.h"
#include "labels.h"
#include "log.h"
#include "probe.h"
#include "status.h"
#include "unit.h"
#include "loop.h"
#include "agent.h"

#ifndef OOMGUARD_VERSION
#define OOMGUARD_VERSION "0.1.0"
#endif

/* Exit codes of oomguard's own (see oomguard(8)). */
enum {
	EXIT_OK = 0,
	EXIT_FAILURE_START = 1, /* start-up failed: no cgroup, unreadable files */
	EXIT_USAGE = 64,
	EXIT_CONFIG = 78,
};

extern char **environ;

/* A flag that sets a configuration key. */
struct flag_key {
	const char *flag;
	const char *section;
	const char *key;
};

static const struct flag_key flag_keys[] = {
	{ "--gc-at", "gc", "at" },
	{ "--gc-signal", "gc", "signal" },
	{ "--restart-at", "restart", "at" },
	{ "--grace", "restart", "grace" },
	{ "--kill-at", "kill", "at" },
	{ "--cgroup", "watch", "cgroup" },
	{ "--log-level", "log", "level" },
	{ "--log-format", "log", "format" },
	{ "--dry-run", "action", "dry_run" },
	{ "--metrics", "metrics", "listen" },
};

#define NFLAG_KEYS (sizeof(flag_keys) / sizeof(flag_keys[0]))

enum command {
	CMD_WATCH,
	CMD_PROBE,
	CMD_CHECK,
	CMD_DUMP,
	CMD_HINTS,
	CMD_STATUS,
	CMD_HELP,
	CMD_VERSION
};

struct args {
	enum command command;
	const char *config_path; /* -c, or NULL */
	const char *flag_values[NFLAG_KEYS];
	pid_t pid;
	const char *unit; /* --unit */
	bool json;
	bool shell; /* hints --shell */
	const char *proc_root;
	const char *fs_root;
	char **app_argv;         /* after "--" */
	struct agent_opts agent; /* --docker, --cgroups */
};

enum {
	OPT_CHECK = 256,
	OPT_DUMP,
	OPT_PID,
	OPT_JSON,
	OPT_PROC_ROOT,
	OPT_FS_ROOT,
	OPT_VERSION,
	OPT_UNIT,
	OPT_SHELL,
	OPT_DOCKER,
	OPT_CGROUPS,
	OPT_FLAG_KEY, /* OPT_FLAG_KEY + i for flag_keys[i] */
};

static const struct option long_options[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "check-config", no_argument, NULL, 'n' },
	{ "dump-config", no_argument, NULL, OPT_DUMP },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "pid", required_argument, NULL, OPT_PID },
	{ "unit", required_argument, NULL, OPT_UNIT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "shell", no_argument, NULL, OPT_SHELL },
	{ "docker", no_argument, NULL, OPT_DOCKER },
	{ "cgroups", required_argument, NULL, OPT_CGROUPS },
	{ "proc-root", required_argument, NULL, OPT_PROC_ROOT },
	{ "fs-root", required_argument, NULL, OPT_FS_ROOT },
	{ "gc-at", required_argument, NULL, OPT_FLAG_KEY + 0 },
	{ "gc-signal", required_argument, NULL, OPT_FLAG_KEY + 1 },
	{ "restart-at", required_argument, NULL, OPT_FLAG_KEY + 2 },
	{ "grace", required_argument, NULL, OPT_FLAG_KEY + 3 },
	{ "kill-at", required_argument, NULL, OPT_FLAG_KEY + 4 },
	{ "cgroup", required_argument, NULL, OPT_FLAG_KEY + 5 },
	{ "log-level", required_argument, NULL, OPT_FLAG_KEY + 6 },
	{ "log-format", required_argument, NULL, OPT_FLAG_KEY + 7 },
	{ "dry-run", no_argument, NULL, OPT_FLAG_KEY + 8 },
	{ "metrics", required_argument, NULL, OPT_FLAG_KEY + 9 },
	{ NULL, 0, NULL, 0 },
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: oomguard [options] -- app [args...]   run app and keep it under its memory "
	    "limit\n"
	    "       oomguard [options] --cgroup PATH | --pid PID | --unit NAME\n"
	    "                                              watch a cgroup beside its app\n"
	    "       oomguard probe [--cgroup PATH | --pid PID] [--json]\n"
	    "       oomguard hints [--cgroup PATH] [--shell]   the app's runtime heap settings\n"
	    "       oomguard status [--json] [--metrics ADDRESS]   what a running oomguard sees\n"
	    "       oomguard --check-config [-c FILE]\n"
	    "       oomguard --dump-config [-c FILE]\n"
	    "\n"
	    "options:\n"
	    "  -c, --config FILE     configuration file (default " CONFIG_DEFAULT_PATH
	    " if it exists)\n"
	    "  -n, --check-config    check the configuration and exit\n"
	    "      --dump-config     print the effective configuration as INI\n"
	    "      --cgroup PATH     cgroup to watch: self, a directory or a cgroup path\n"
	    "      --pid PID         the main target (its cgroup unless --cgroup); probe: the\n"
	    "                        cgroup of this process\n"
	    "      --unit NAME       watch a systemd unit's cgroup, its main process the target;\n"
	    "                        reads " CONFIG_DIR "/NAME.ini (NAME without .service)\n"
	    "                        when it exists\n"
	    "      --docker          guard the Docker containers labelled oomguard.enable=true\n"
	    "      --cgroups NAME    guard the cgroups of [pattern.NAME], or matching a glob\n"
	    "                        (repeatable)\n"
	    "      --json            probe, status: print JSON\n"
	    "      --metrics ADDRESS serve metrics there (127.0.0.1:9487, [::1]:9487,\n"
	    "                        unix:/PATH); status: the oomguard to ask\n"
	    "      --gc-at LEVEL     ask the app to free memory at LEVEL (75%%, 700M, none)\n"
	    "      --gc-signal SIG   signal for the gc request (default SIGUSR1)\n"
	    "      --restart-at LEVEL  send the restart signal at LEVEL\n"
	    "      --grace DURATION  SIGKILL this long after the restart signal\n"
	    "      --kill-at LEVEL   SIGKILL at LEVEL\n"
	    "      --log-level LVL   error, warn, info or debug\n"
	    "      --log-format FMT  text or json\n"
	    "      --dry-run         log decisions, send nothing\n"
	    "      --proc-root DIR   read /proc from DIR (for tests)\n"
	    "      --fs-root DIR     prefix cgroup mount points with DIR (for tests)\n"
	    "  -h, --help            show this help\n"
	    "      --version         show the version\n"
	    "\n"
	    "Every configuration key can be set as OOMGUARD_<SECTION>_<KEY>; see oomguard(8).\n");
}

static int
usage_error(const char *what)
{
	fprintf(stderr, "oomguard: %s\nTry 'oomguard --help' for more information.\n", what);
	return EXIT_USAGE;
}

static int
parse_pid(const char *s, pid_t *ret)
{
	char *end;
	long v;

	/* getopt gives a required argument, but the analyzer cannot know. */
	if (s == NULL)
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0 || v > 4194304)
		return -EINVAL;
	*ret = (pid_t)v;
	return 0;
}

/* What is wrong with the option arg that getopt refused, in buf: an
 * option it knows lacks its value, any other is unknown. */
static const char *
option_error(const char *arg, int short_opt, char *buf, size_t len)
{
	const char *name;
	bool known = false;
	size_t n;

	/* arg is where getopt stood, which for a letter inside a cluster
	 * (-nx) is not always the argument that holds it. */
	if (strncmp(arg, "--", 2) != 0) {
		/* -c FILE is the one short option with a value; getopt names
		 * the letter, which may sit in a cluster such as -nx. */
		if (short_opt == 'c')
			snprintf(buf, len, "option '-c' needs a value");
		else
			snprintf(buf, len, "unknown option '-%c'", short_opt);
		return buf;
	}
	name = arg + 2;
	n = strcspn(name, "=");
	for (const struct option *o = long_options; o->name != NULL; o++)
		known |= strlen(o->name) == n && strncmp(o->name, name, n) == 0;
	if (known)
		snprintf(buf, len, "option '%.*s' needs a value", (int)(n + 2), arg);
	else
		snprintf(buf, len, "unknown option '%s'", arg);
	return buf;
}

/* Set the command; return -1, or an exit code when one was already set. */
static int
command_set(struct args *a, enum command cmd)
{
	static const char *const names[] = { "", "probe", "--check-config", "--dump-config",
		"hints", "status" };

	if (a->command != CMD_WATCH && a->command != cmd) {
		char msg[96];

		snprintf(msg, sizeof(msg), "%s and %s are two commands: give one",
		    names[a->command], names[cmd]);
		return usage_error(msg);
	}
	a->command = cmd;
	return -1;
}

/* The command a word names (probe, hints, status), or CMD_WATCH. */
static enum command
command_word(const char *w)
{
	if (strcmp(w, "probe") == 0)
		return CMD_PROBE;
	if (strcmp(w, "hints") == 0)
		return CMD_HINTS;
	if (strcmp(w, "status") == 0)
		return CMD_STATUS;
	return CMD_WATCH;
}

/* Parse argv into a; return -1 on success, else an exit code. */
static int
args_parse(int argc, char **argv, struct args *a)
{
	char msg[160];
	int opt, r;

	memset(a, 0, sizeof(*a));
	a->proc_root = "/proc";
	a->fs_root = "";
	opterr = 0;
	/* 0, not 1: glibc then forgets a cluster left half read by an
	 * earlier parse (the fuzzer parses many command lines in one run). */
	optind = 0;
	for (;;) {
		opt = getopt_long(argc, argv, "+c:nh", long_options, NULL);
		/* The command word may come before or after the options; after
		 * "--" the same word is the name of an app. */
		if (opt == -1 && optind < argc && command_word(argv[optind]) != CMD_WATCH &&
		    strcmp(argv[optind - 1], "--") != 0) {
			if ((r = command_set(a, command_word(argv[optind]))) >= 0)
				return r;
			optind++;
			continue;
		}
		if (opt == -1)
			break;
		switch (opt) {
		case 'c':
			a->config_path = optarg;
			break;
		case 'n':
			if ((r = command_set(a, CMD_CHECK)) >= 0)
				return r;
			break;
		case OPT_DUMP:
			if ((r = command_set(a, CMD_DUMP)) >= 0)
				return r;
			break;
		case 'h':
			a->command = CMD_HELP;
			return -1;
		case OPT_VERSION:
			a->command = CMD_VERSION;
			return -1;
		case OPT_PID:
			if (parse_pid(optarg, &a->pid) < 0)
				return usage_error("--pid needs a process ID");
			break;
		case OPT_UNIT:
			if (unit_name_check(optarg) < 0) {
				snprintf(msg, sizeof(msg),
				    "--unit needs a unit name with a cgroup, such as app.service: "
				    "'%s'",
				    optarg);
				return usage_error(msg);
			}
			a->unit = optarg;
			break;
		case OPT_JSON:
			a->json = true;
			break;
		case OPT_SHELL:
			a->shell = true;
			break;
		case OPT_DOCKER:
			a->agent.docker = true;
			break;
		case OPT_CGROUPS:
			if (a->agent.ncgroups == AGENT_CGROUPS_MAX)
				return usage_error("--cgroups: at most 16");
			a->agent.cgroups[a->agent.ncgroups++] = optarg;
			break;
		case OPT_PROC_ROOT:
			a->proc_root = optarg;
			break;
		case OPT_FS_ROOT:
			a->fs_root = optarg;
			break;
		case '?':
			return usage_error(
			    option_error(argv[optind - 1], optopt, msg, sizeof(msg)));
		default:
			a->flag_values[opt - OPT_FLAG_KEY] = optarg != NULL ? optarg : "yes";
			break;
		}
	}
	if (optind < argc) {
		if (a->command != CMD_WATCH) {
			snprintf(msg, sizeof(msg), "unexpected argument '%s'", argv[optind]);
			return usage_error(msg);
		}
		a->app_argv = argv + optind;
	}
	if (a->json && a->command != CMD_PROBE && a->command != CMD_STATUS)
		return usage_error("--json goes with probe or status");
	if (a->shell && a->command != CMD_HINTS)
		return usage_error("--shell goes with hints");
	if (a->pid > 0 && a->command != CMD_PROBE && a->command != CMD_WATCH)
		return usage_error("--pid goes with probe or a watch");
	if (a->unit != NULL &&
	    (a->command != CMD_WATCH && a->command != CMD_CHECK && a->command != CMD_DUMP))
		return usage_error("--unit goes with a watch");
	if (a->unit != NULL && (a->app_argv != NULL || a->pid > 0))
		return usage_error("--unit watches a unit: no app after --, no --pid");
	if ((a->agent.docker || a->agent.ncgroups > 0) &&
	    (a->app_argv != NULL || a->pid > 0 || a->unit != NULL || a->command == CMD_PROBE ||
	        a->command == CMD_HINTS))
		return usage_error(
		    "--docker and --cgroups guard a host: no app, --pid, --unit, probe "
		    "or hints with them");
	if (a->pid > 0 && a->app_argv != NULL)
		return usage_error("--pid names the target of a watch without an app; the app run "
		                   "after -- is the target");
	return -1;
}

/* The file to read: -c, else $OOMGUARD_CONFIG, else with --unit
 * NAME.service /etc/oomguard/NAME.ini when it exists, else the default file when it
 * exists; NULL for none. buf holds a path made here. */
static const char *
config_path(const struct args *a, char *buf, size_t len)
{
	const char *path = a->config_path;

	if (path == NULL)
		path = getenv("OOMGUARD_CONFIG");
	if (path == NULL && a->unit != NULL) {
		size_t n = strlen(a->unit);

		/* myapp.service reads myapp.ini, as oomguard@myapp.service's
		 * /etc/oomguard/%i.ini; other unit types keep their suffix. */
		if (n > 8 && strcmp(a->unit + n - 8, ".service") == 0)
			n -= 8;
		snprintf(buf, len, "%s/%.*s.ini", CONFIG_DIR, (int)n, a->unit);
		if (access(buf, F_OK) == 0)
			path = buf;
	}
	if (path == NULL && access(CONFIG_DEFAULT_PATH, F_OK) == 0)
		path = CONFIG_DEFAULT_PATH;
	return path;
}

/* Defaults, then the file, the environment and the flags. Return 0 when
 * the configuration is valid, else -EINVAL with the error in err. */
static int
config_build(const struct args *a, struct config *c, char *err, size_t errlen)
{
	static const struct config_origin flag_origin_base = { ORIGIN_FLAG, NULL, 0 };
	char buf[PATH_MAX];
	const char *path = config_path(a, buf, sizeof(buf));
	int r;

	config_defaults(c);
	if (path != NULL && path[0] == '\0') {
		snprintf(err, errlen, "OOMGUARD_CONFIG is empty: name a file, or unset it");
		return -EINVAL;
	}
	r = path != NULL ? config_load_file(c, path, err, errlen) : 0;
	if (r < 0) {
		char msg[CONFIG_ERR_MAX + PATH_MAX];

		/* A file that cannot be read is named with the variable that
		 * named it; one that was read names itself and its line. */
		if (r != -EINVAL && a->config_path == NULL && path != buf &&
		    strcmp(path, CONFIG_DEFAULT_PATH) != 0) {
			snprintf(msg, sizeof(msg), "%s", err);
			snprintf(err, errlen, "OOMGUARD_CONFIG: %s", msg);
		}
		return -EINVAL;
	}
	if (config_load_env(c, environ, err, errlen) < 0)
		return -EINVAL;
	for (size_t i = 0; i < NFLAG_KEYS; i++) {
		struct config_origin o = flag_origin_base;
		char msg[CONFIG_ERR_MAX];

		if (a->flag_values[i] == NULL)
			continue;
		o.flag = flag_keys[i].flag;
		if (config_set(c, flag_keys[i].section, flag_keys[i].key, a->flag_values[i], &o,
		        msg, sizeof(msg)) < 0) {
			snprintf(err, errlen, "%s: %s", flag_keys[i].flag, msg);
			return -EINVAL;
		}
	}
	return config_validate(c, err, errlen) < 0 ? -EINVAL : 0;
}

/* The keys whose meaning depends on the mode given on the command line:
 * target = group signals the process group of the app oomguard runs, and
 * there is none without one. Return 0, or -EINVAL with the error in err. */
static int
mode_check(const struct args *a, const struct config *c, char *err, size_t errlen)
{
	char where[PATH_MAX + 32];

	if (c->target != TARGET_GROUP || a->app_argv != NULL || a->command != CMD_WATCH)
		return 0;
	config_origin_name(c, "action", "target", where, sizeof(where));
	snprintf(err, errlen,
	    "%s: [action] target = group is the process group of the app oomguard runs "
	    "(oomguard -- app): watching %s, use main or cgroup",
	    where,
	    a->pid > 0            ? "a process"
	        : a->unit != NULL ? "a unit"
	                          : "a cgroup");
	return -EINVAL;
}

/* Return -1 when the configuration is valid, else an exit code (the
 * error printed). */
static int
config_load(const struct args *a, struct config *c)
{
	char err[CONFIG_ERR_MAX + PATH_MAX];

	if (config_build(a, c, err, sizeof(err)) == 0 && mode_check(a, c, err, sizeof(err)) == 0)
		return -1;
	fprintf(stderr, "oomguard: %s\n", err);
	return EXIT_CONFIG;
}

/* SIGHUP in a watch without an app: the same sources read again. */
static const struct args *reload_args;

static int
config_reload(struct config *c, char *err, size_t errlen)
{
	if (config_build(reload_args, c, err, errlen) < 0)
		return -EINVAL;
	return mode_check(reload_args, c, err, errlen);
}

/* What the watch or probe is pointed at, checked before anything starts
 * so that the message names the flag: --pid a process that exists,
 * --cgroup a directory when it names a file at all. Return -1, or an
 * exit code (the error printed). */
static int
target_check(const struct args *a, const struct config *c)
{
	char path[PATH_MAX], where[PATH_MAX + 32];
	struct stat st;

	if (a->pid > 0) {
		snprintf(path, sizeof(path), "%s/%d", a->proc_root, (int)a->pid);
		if (access(path, F_OK) < 0) {
			fprintf(stderr, "oomguard: --pid %d: no such process\n", (int)a->pid);
			return EXIT_FAILURE_START;
		}
	}
	if (strcmp(c->cgroup, "self") != 0 && a->unit == NULL && stat(c->cgroup, &st) == 0 &&
	    !S_ISDIR(st.st_mode)) {
		config_origin_name(c, "watch", "cgroup", where, sizeof(where));
		fprintf(stderr,
		    "oomguard: %s: %s is not a directory (expected a cgroup directory, or a "
		    "cgroup path such as /system.slice/app.service)\n",
		    where, c->cgroup);
		return EXIT_FAILURE_START;
	}
	return -1;
}

static int
cmd_probe(const struct args *a, const struct config *c)
{
	struct probe_request req = {
		.proc_root = a->proc_root,
		.fs_root = a->fs_root,
		.cgroup = c->cgroup,
		.pid = a->pid,
		.psi = c->psi,
	};
	struct probe_report r;
	int e;

	/* Probe tries a trigger even when none is configured. */
	if (!req.psi.enabled)
		req.psi = (struct psi_trigger){ true, false, 150000, 1000000 };
	e = probe_run(&req, &r);
	if (e < 0) {
		char where[PATH_MAX + 32];

		if (a->pid > 0)
			snprintf(where, sizeof(where), "--pid %d", (int)a->pid);
		else
			config_origin_name(c, "watch", "cgroup", where, sizeof(where));
		fprintf(stderr, "oomguard: cannot locate the memory cgroup of %s (%s): %s\n",
		    a->pid > 0 ? "that process" : c->cgroup, where, strerror(-e));
		return EXIT_FAILURE_START;
	}
	if (a->json)
		probe_print_json(&r, stdout);
	else
		probe_print_text(&r, stdout);
	cgroup_free(&r.cg);
	return EXIT_OK;
}

/* -n and --dump-config: the configuration with its file's [pattern.NAME]
 * sections, each checked over it as the agent takes it. */
static int
cmd_config(const struct args *a, const struct config *c)
{
	char err[CONFIG_ERR_MAX + PATH_MAX];
	struct config_pattern *patterns = NULL;
	size_t n = 0;

	if (c->path[0] != '\0' &&
	    (config_load_patterns(c->path, &patterns, &n, err, sizeof(err)) < 0 ||
	        labels_check_patterns(c, patterns, n, err, sizeof(err)) < 0)) {
		fprintf(stderr, "oomguard: %s\n", err);
		free(patterns);
		return EXIT_CONFIG;
	}
	if (a->command == CMD_CHECK) {
		printf("configuration OK\n");
	} else {
		config_dump(c, stdout);
		config_dump_patterns(patterns, n, stdout);
	}
	free(patterns);
	return EXIT_OK;
}

/* The host agent (--docker, --cgroups), with the file's [pattern.NAME]
 * sections. */
static int
cmd_agent(struct args *a, const struct config *c)
{
	char err[CONFIG_ERR_MAX + PATH_MAX];
	struct config_pattern *patterns = NULL;
	int r;

	if (c->path[0] != '\0' &&
	    config_load_patterns(c->path, &patterns, &a->agent.npatterns, err, sizeof(err)) < 0) {
		fprintf(stderr, "oomguard: %s\n", err);
		return EXIT_CONFIG;
	}
	a->agent.patterns = patterns;
	a->agent.reload = config_reload;
	reload_args = a;
	a->agent.proc_root = a->proc_root;
	a->agent.fs_root = a->fs_root;
	log_init_journal();
	r = agent_run(c, &a->agent);
	free(patterns);
	return r;
}

int
main(int argc, char **argv)
{
	struct config c;
	struct args a;
	int r;

	r = args_parse(argc, argv, &a);
	if (r >= 0)
		return r;
	if (a.command == CMD_HELP) {
		usage(stdout);
		return EXIT_OK;
	}
	if (a.command == CMD_VERSION) {
		printf("oomguard %s\n", OOMGUARD_VERSION);
		return EXIT_OK;
	}
	r = config_load(&a, &c);
	if (r >= 0)
		return r;
	log_init(c.log_level, c.log_format);
	switch (a.command) {
	case CMD_CHECK:
	case CMD_DUMP:
		return cmd_config(&a, &c);
	case CMD_HINTS:
		return hints_cmd_print(&c, a.proc_root, a.fs_root, a.shell) < 0 ? EXIT_FAILURE_START
		                                                                : EXIT_OK;
	case CMD_STATUS:
		return status_run(strcmp(c.metrics_listen, "none") != 0 ? c.metrics_listen
		                                                        : STATUS_DEFAULT_ADDRESS,
		    a.json);
	default:
		break;
	}
	if (a.agent.docker || a.agent.ncgroups > 0)
		return cmd_agent(&a, &c);
	r = target_check(&a, &c);
	if (r >= 0)
		return r;
	if (a.command == CMD_PROBE)
		return cmd_probe(&a, &c);
	if (a.app_argv == NULL && a.pid == 0 && a.unit == NULL && strcmp(c.cgroup, "self") == 0)
		return usage_error("no command given: oomguard [options] -- app [args...], or "
		                   "--cgroup PATH, --pid PID or --unit NAME to watch a cgroup");
	log_init_journal();
	reload_args = &a;
	struct loop_opts lo = { a.proc_root, a.fs_root, a.app_argv, a.pid, a.unit,
		a.app_argv == NULL ? config_reload : NULL };

	return loop_run(&c, &lo);
}
