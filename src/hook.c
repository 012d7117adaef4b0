/*
 * hook.c: the operator's program run on an escalation, its output logged,
 * killed at its timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hook.h"
#include "log.h"
#include "units.h"

struct hook {
	struct hook_set *set;
	struct hook *next;
	enum hook_event event;
	pid_t pid;
	int pidfd;
	int outfd; /* the read end of its stdout and stderr, or -1 at its end */
	struct event *exit_ev, *out_ev, *timer;
	hook_done_fn done;
	void *arg;
	bool told; /* done() was called */
	uint64_t start_usec;
	uint64_t timeout_usec;
	char line[HOOK_LINE_MAX];
	size_t len;
	unsigned lines;
};

struct hook_set {
	struct event_base *base;
	struct hook *running;
	unsigned n;
};

static const char *const var_names[] = { "OOMGUARD_EVENT", "OOMGUARD_CGROUP", "OOMGUARD_NAME",
	"OOMGUARD_METRIC_BYTES", "OOMGUARD_LIMIT_BYTES", "OOMGUARD_LEVEL_BYTES", "OOMGUARD_PID",
	"OOMGUARD_SIGNAL", "OOMGUARD_DRY_RUN", "OOMGUARD_WHEN" };
#define NVARS (sizeof(var_names) / sizeof(var_names[0]))

static bool
ours(const char *entry)
{
	for (size_t i = 0; i < NVARS; i++) {
		size_t n = strlen(var_names[i]);

		if (strncmp(entry, var_names[i], n) == 0 && entry[n] == '=')
			return true;
	}
	return false;
}

int
hook_env(const struct hook_info *info, char *const *envp, char **env, size_t max, char *buf,
    size_t buflen)
{
	char values[NVARS][PATH_MAX + 32], sig[UNITS_BUF];
	size_t n = 0, used = 0;

	snprintf(values[0], sizeof(values[0]), "%s", config_hook_event_name(info->event));
	snprintf(values[1], sizeof(values[1]), "%s", info->cgroup != NULL ? info->cgroup : "");
	snprintf(values[2], sizeof(values[2]), "%s", info->name != NULL ? info->name : "");
	snprintf(values[3], sizeof(values[3]), "%" PRIu64, info->metric_bytes);
	snprintf(values[4], sizeof(values[4]), "%" PRIu64, info->limit_bytes);
	snprintf(values[5], sizeof(values[5]), "%" PRIu64, info->level_bytes);
	if (info->pid > 0)
		snprintf(values[6], sizeof(values[6]), "%ld", (long)info->pid);
	else
		values[6][0] = '\0';
	snprintf(values[7], sizeof(values[7]), "%s",
	    info->signo > 0 ? units_format_signal(info->signo, sig) : "");
	snprintf(values[8], sizeof(values[8]), "%d", info->dry_run ? 1 : 0);
	snprintf(values[9], sizeof(values[9]), "%s", info->before ? "before" : "after");
	for (size_t i = 0; i < NVARS; i++) {
		int w = snprintf(buf + used, buflen - used, "%s=%s", var_names[i], values[i]);

		if (w < 0 || (size_t)w >= buflen - used || n + 1 >= max)
			return -E2BIG;
		env[n++] = buf + used;
		used += (size_t)w + 1;
	}
	for (; envp != NULL && *envp != NULL; envp++) {
		if (ours(*envp))
			continue;
		if (n + 1 >= max)
			return -E2BIG;
		env[n++] = *envp;
	}
	env[n] = NULL;
	return (int)n;
}

static uint64_t
now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* In the child: signals as a new program expects them, a process group
 * of its own, output to the pipe, no other descriptor of oomguard's. */
static void
child_setup(int outfd)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	int null;

	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0);
	null = open("/dev/null", O_RDONLY);
	if (null < 0 || dup2(null, 0) < 0 || dup2(outfd, 1) < 0 || dup2(outfd, 2) < 0)
		_exit(126);
	syscall(SYS_close_range, 3U, ~0U, 0U);
}

/* clone3() as fork(), with exit_signal as the end's signal and, when
 * ret_pidfd is not NULL, a pidfd. */
static long
clone_child(int exit_signal, int *ret_pidfd)
{
	struct clone_args args;

	memset(&args, 0, sizeof(args));
	if (ret_pidfd != NULL) {
		args.flags = CLONE_PIDFD;
		args.pidfd = (uint64_t)(uintptr_t)ret_pidfd;
	}
	args.exit_signal = (uint64_t)exit_signal;
	return syscall(SYS_clone3, &args, sizeof(args));
}

/* The child oomguard waits for: it raises no SIGCHLD, and as it never
 * execs (an exec would make SIGCHLD its exit signal again) the
 * entrypoint's waitpid(-1) never takes it. It runs the program in its
 * group and exits with the program's code, or 128+N after signal N. */
static void __attribute__((noreturn)) child_run(const char *program, char **env, int outfd)
{
	/* execve() takes char *const[]; nothing writes through it. */
	char *argv[] = { (char *)(uintptr_t)program, NULL };
	int status;
	long pid;

	child_setup(outfd);
	pid = clone_child(SIGCHLD, NULL);
	if (pid == 0) {
		execve(program, argv, env);
		_exit(errno == ENOENT ? 127 : 126);
	}
	close(1);
	close(2);
	if (pid < 0)
		_exit(126);
	while (waitpid((pid_t)pid, &status, 0) < 0)
		if (errno != EINTR)
			_exit(126);
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/* Start program (see child_run); return the pid of the child oomguard
 * waits for and set *ret_pidfd, or -errno. */
static pid_t
spawn(const char *program, char **env, int outfd, int *ret_pidfd)
{
	sigset_t all, old;
	int pidfd = -1;
	long pid;

	/* No signal reaches a handler of ours in the child before its
	 * dispositions are reset. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = clone_child(0, &pidfd);
	if (pid == 0)
		child_run(program, env, outfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0)
		return -errno;
	/* Set here too, as shells do: the group exists once this returns,
	 * whether or not the child has run yet. */
	setpgid((pid_t)pid, (pid_t)pid);
	*ret_pidfd = pidfd;
	return (pid_t)pid;
}

static void
log_line(struct hook *h)
{
	if (h->lines < HOOK_LINES_MAX)
		log_info("hook %s: %.*s", config_hook_event_name(h->event), (int)h->len, h->line);
	else if (h->lines == HOOK_LINES_MAX)
		log_info("hook %s: more output not logged", config_hook_event_name(h->event));
	h->lines++;
	h->len = 0;
}

/* Read what the hook wrote, a line logged at each newline (or when the
 * line is full). Return 1 at the end of the output, 0 when more may come. */
static int
read_output(struct hook *h)
{
	char buf[1024];
	ssize_t r;

	while ((r = read(h->outfd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < r; i++) {
			if (buf[i] == '\n') {
				log_line(h);
				continue;
			}
			h->line[h->len++] = buf[i];
			if (h->len == sizeof(h->line))
				log_line(h);
		}
	}
	return r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR);
}

static void
output_close(struct hook *h)
{
	if (h->outfd < 0)
		return;
	read_output(h);
	if (h->len > 0)
		log_line(h);
	if (h->out_ev != NULL)
		event_free(h->out_ev);
	h->out_ev = NULL;
	close(h->outfd);
	h->outfd = -1;
}

static void
output_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hook *h = arg;

	(void)fd;
	(void)what;
	if (read_output(h))
		output_close(h);
}

static void
tell(struct hook *h, int status)
{
	if (h->told)
		return;
	h->told = true;
	if (h->done != NULL)
		h->done(h->arg, status);
}

/* Kill what is left of the hook's group (its leader unreaped, the group's
 * id cannot have been reused), reap the leader; return its wait status. */
static int
reap(struct hook *h, int options)
{
	siginfo_t si;

	kill(-h->pid, SIGKILL);
	if (!(options & WNOHANG))
		syscall(SYS_pidfd_send_signal, h->pidfd, SIGKILL, NULL, 0);
	memset(&si, 0, sizeof(si));
	if (waitid(P_PIDFD, (id_t)h->pidfd, &si, WEXITED | __WALL | options) < 0 || si.si_pid == 0)
		return -1;
	return si.si_code == CLD_EXITED ? W_EXITCODE(si.si_status, 0) : si.si_status;
}

/* Free h, out of its set's list already. */
static void
hook_unlinked_free(struct hook *h)
{
	output_close(h);
	h->set->n--;
	if (h->exit_ev != NULL)
		event_free(h->exit_ev);
	if (h->timer != NULL)
		event_free(h->timer);
	close(h->pidfd);
	free(h);
}

static void
hook_free(struct hook *h)
{
	struct hook **p;

	for (p = &h->set->running; *p != h; p = &(*p)->next)
		;
	*p = h->next;
	hook_unlinked_free(h);
}

static void
exit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hook *h = arg;
	const char *name = config_hook_event_name(h->event);
	uint64_t msec = (now_usec() - h->start_usec) / 1000;
	int status = reap(h, WNOHANG);

	(void)fd;
	(void)what;
	if (status < 0)
		return; /* not ended after all: the event is persistent */
	output_close(h);
	if (h->told)
		log_debug("hook %s: reaped after %" PRIu64 "ms", name, msec);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		log_info("hook %s: exited with 0 after %" PRIu64 "ms", name, msec);
	else if (WIFEXITED(status))
		log_warn(
		    "hook %s: exited with %d after %" PRIu64 "ms", name, WEXITSTATUS(status), msec);
	else
		log_warn("hook %s: ended by signal %d after %" PRIu64 "ms", name, WTERMSIG(status),
		    msec);
	tell(h, status);
	hook_free(h);
}

static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hook *h = arg;
	char t[UNITS_BUF];

	(void)fd;
	(void)what;
	syscall(SYS_pidfd_send_signal, h->pidfd, SIGKILL, NULL, 0);
	kill(-h->pid, SIGKILL);
	log_warn("hook %s: killed at its timeout (%s)", config_hook_event_name(h->event),
	    units_format_duration(h->timeout_usec, t));
	tell(h, -ETIMEDOUT);
}

/* The hook's events and timer, once it runs. Return 0 or -ENOMEM. */
static int
watch_hook(struct hook *h, struct event_base *base)
{
	struct timeval tv = { (time_t)(h->timeout_usec / 1000000),
		(suseconds_t)(h->timeout_usec % 1000000) };

	h->exit_ev = event_new(base, h->pidfd, EV_READ | EV_PERSIST, exit_cb, h);
	h->out_ev = event_new(base, h->outfd, EV_READ | EV_PERSIST, output_cb, h);
	h->timer = evtimer_new(base, timeout_cb, h);
	if (h->exit_ev == NULL || h->out_ev == NULL || h->timer == NULL ||
	    event_add(h->exit_ev, NULL) < 0 || event_add(h->out_ev, NULL) < 0 ||
	    evtimer_add(h->timer, &tv) < 0)
		return -ENOMEM;
	return 0;
}

/* Start the process: its environment, its pipe. Return 0 or -errno. */
static int
start(struct hook *h, const char *program, const struct hook_info *info)
{
	extern char **environ;
	size_t nenv = 0, buflen = 1024 + 2 * PATH_MAX;
	char **env, *buf;
	int p[2], r;
	pid_t pid;

	while (environ != NULL && environ[nenv] != NULL)
		nenv++;
	env = calloc(nenv + NVARS + 1, sizeof(*env));
	buf = malloc(buflen);
	r = env != NULL && buf != NULL ? 0 : -ENOMEM;
	if (r == 0)
		r = hook_env(info, environ, env, nenv + NVARS + 1, buf, buflen);
	if (r >= 0)
		r = pipe2(p, O_CLOEXEC) < 0 ? -errno : 0;
	if (r == 0) {
		pid = spawn(program, env, p[1], &h->pidfd);
		close(p[1]);
		if (pid < 0) {
			close(p[0]);
			r = pid;
		} else {
			h->pid = pid;
			h->outfd = p[0];
			fcntl(p[0], F_SETFL, O_NONBLOCK);
		}
	}
	free(env);
	free(buf);
	return r;
}

int
hook_run(struct hook_set *hs, const char *program, const struct hook_info *info,
    uint64_t timeout_usec, hook_done_fn done, void *arg)
{
	struct hook *h;
	int r;

	if (hs->n >= HOOK_RUNNING_MAX)
		return -EBUSY;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return -ENOMEM;
	*h = (struct hook){ .set = hs,
		.event = info->event,
		.pidfd = -1,
		.outfd = -1,
		.done = done,
		.arg = arg,
		.start_usec = now_usec(),
		.timeout_usec = timeout_usec };
	r = start(h, program, info);
	if (r < 0) {
		free(h);
		return r;
	}
	h->next = hs->running;
	hs->running = h;
	hs->n++;
	r = watch_hook(h, hs->base);
	if (r < 0) {
		h->told = true;
		reap(h, 0);
		hook_free(h);
	}
	return r;
}

struct hook_set *
hook_set_new(struct event_base *base)
{
	struct hook_set *hs = calloc(1, sizeof(*hs));

	if (hs != NULL)
		hs->base = base;
	return hs;
}

void
hook_set_free(struct hook_set *hs)
{
	if (hs == NULL)
		return;
	while (hs->running != NULL) {
		struct hook *h = hs->running;

		hs->running = h->next;
		h->next = NULL;
		h->told = true;
		reap(h, 0);
		hook_unlinked_free(h);
	}
	free(hs);
}

unsigned
hook_running(const struct hook_set *hs)
{
	return hs->n;
}
