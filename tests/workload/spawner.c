/*
 * spawner: tiny child processes for testing oomguard as PID 1 (reaping,
 * exit codes, signal forwarding).
 *
 * Usage:
 *   spawner orphan SEC  fork a child that sleeps SEC seconds and then exits
 *                       0; print "orphan <pid>" on stdout and exit 0 at once.
 *                       The child is orphaned and reparented to PID 1 (or
 *                       the nearest subreaper), which must reap it. Its
 *                       stdin, stdout and stderr are /dev/null, so
 *                       $(spawner orphan 5) returns without waiting for it.
 *   spawner exit N      exit with status N (0-255).
 *   spawner signal SIG  kill itself with SIG (a name such as TERM or
 *                       SIGTERM, or a number), after restoring SIG's default
 *                       action and unblocking it. Exits 1 if it survives.
 *   spawner trap [SEC]  catch SIGTERM, SIGINT, SIGHUP, SIGUSR1 and SIGUSR2;
 *                       print "ready" once the handlers are in place, then
 *                       the name of each signal caught ("SIGHUP"), one per
 *                       line. Exits 0 after printing SIGTERM; exits 1 if SEC
 *                       (default: never) pass without a SIGTERM. Signals
 *                       pending together are handled one at a time, lowest
 *                       number first (the kernel's order, not the order sent).
 *
 * Exit status 2 means a usage error. The trap handlers print with write(2),
 * which is async-signal-safe, and call nothing else but _exit(2).
 */
/* The Makefile passes -D_GNU_SOURCE; a standalone build needs it too. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct signame {
	const char *name;
	int sig;
};

static const struct signame signames[] = {
	{ "SIGHUP", SIGHUP },
	{ "SIGINT", SIGINT },
	{ "SIGQUIT", SIGQUIT },
	{ "SIGILL", SIGILL },
	{ "SIGABRT", SIGABRT },
	{ "SIGFPE", SIGFPE },
	{ "SIGKILL", SIGKILL },
	{ "SIGUSR1", SIGUSR1 },
	{ "SIGSEGV", SIGSEGV },
	{ "SIGUSR2", SIGUSR2 },
	{ "SIGPIPE", SIGPIPE },
	{ "SIGALRM", SIGALRM },
	{ "SIGTERM", SIGTERM },
	{ "SIGCHLD", SIGCHLD },
	{ "SIGCONT", SIGCONT },
	{ "SIGSTOP", SIGSTOP },
	{ "SIGTSTP", SIGTSTP },
	{ "SIGWINCH", SIGWINCH },
};

#define NSIGNAMES (sizeof(signames) / sizeof(signames[0]))

static void
usage(void)
{
	fprintf(stderr, "usage: spawner orphan SEC | exit N | signal SIG | trap [SEC]\n");
	exit(2);
}

/* Parse a decimal in [min, max]; exit 2 on anything else. */
static long
parse_long(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		usage();
	return v;
}

/* Return the signal named by s ("TERM", "SIGTERM" or "15"); exit 2 if
 * unknown. */
static int
parse_signal(const char *s)
{
	size_t i;

	if (s[0] >= '0' && s[0] <= '9')
		return (int)parse_long(s, 1, NSIG - 1);
	for (i = 0; i < NSIGNAMES; i++)
		if (strcmp(s, signames[i].name) == 0 || strcmp(s, signames[i].name + 3) == 0)
			return signames[i].sig;
	usage();
	return 0;
}

static void
sleep_sec(long sec)
{
	struct timespec ts = { sec, 0 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int
cmd_orphan(long sec)
{
	pid_t pid = fork();

	if (pid < 0) {
		perror("spawner: fork");
		return 1;
	}
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
			if (fd > 2)
				close(fd);
		}
		sleep_sec(sec);
		_exit(0);
	}
	printf("orphan %d\n", (int)pid);
	return 0;
}

static int
cmd_signal(int sig)
{
	sigset_t set;

	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	kill(getpid(), sig);
	fprintf(stderr, "spawner: still alive after signal %d\n", sig);
	return 1;
}

static void
on_trap(int sig)
{
	int saved_errno = errno;
	size_t i;

	for (i = 0; i < NSIGNAMES; i++) {
		if (signames[i].sig == sig) {
			(void)!write(STDOUT_FILENO, signames[i].name, strlen(signames[i].name));
			(void)!write(STDOUT_FILENO, "\n", 1);
		}
	}
	if (sig == SIGTERM)
		_exit(0);
	errno = saved_errno;
}

static int
cmd_trap(long sec)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2 };
	struct sigaction sa;
	size_t i;

	/* Each handler blocks the other trapped signals, so that a SIGTERM
	 * arriving with a SIGHUP cannot exit before SIGHUP is printed. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_trap;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&sa.sa_mask, sigs[i]);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	(void)!write(STDOUT_FILENO, "ready\n", 6);
	if (sec > 0) {
		/* SIGTERM's handler exits; anything else just shortens the
		 * sleep, which restarts from where it stopped. */
		sleep_sec(sec);
		return 1;
	}
	for (;;)
		pause();
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "orphan") == 0)
		return cmd_orphan(parse_long(argv[2], 0, 86400));
	if (argc == 3 && strcmp(argv[1], "exit") == 0)
		return (int)parse_long(argv[2], 0, 255);
	if (argc == 3 && strcmp(argv[1], "signal") == 0)
		return cmd_signal(parse_signal(argv[2]));
	if ((argc == 2 || argc == 3) && strcmp(argv[1], "trap") == 0)
		return cmd_trap(argc == 3 ? parse_long(argv[2], 1, 86400) : 0);
	usage();
	return 2;
}
