/*
 * check_log.c: when the journal is used (JOURNAL_STREAM against stderr),
 * the names of the journal fields, and the entries themselves, received
 * on a journal socket of our own in a private mount namespace (as root;
 * skipped otherwise).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "suite.h"

START_TEST(test_stream_match)
{
	struct stat st = { .st_dev = 2049, .st_ino = 123456789 };

	ck_assert_int_eq(log_journal_stream_match("2049:123456789", &st), 1);
	ck_assert_int_eq(log_journal_stream_match("2049:123456788", &st), 0);
	ck_assert_int_eq(log_journal_stream_match("2048:123456789", &st), 0);
	ck_assert_int_eq(log_journal_stream_match(NULL, &st), 0);
	st.st_dev = (dev_t)0xffffffffffffffffULL;
	ck_assert_int_eq(log_journal_stream_match("18446744073709551615:123456789", &st), 1);
}
END_TEST

START_TEST(test_stream_malformed)
{
	static const char *const bad[] = { "", "2049", "2049:", ":123", "a:b", " 2049:123",
		"-1:123", "+2049:123", "2049: 123", "2049:123x", "2049:123:1", "2049:123\n",
		"18446744073709551616:123" };
	struct stat st = { .st_dev = 2049, .st_ino = 123 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(log_journal_stream_match(bad[i], &st) == -EINVAL, "'%s'", bad[i]);
}
END_TEST

START_TEST(test_field_name)
{
	char name[LOG_JOURNAL_NAME_MAX + 1], key[64], big[128];

	ck_assert_int_eq(log_journal_field_name("metric_bytes", name, sizeof(name)), 0);
	ck_assert_str_eq(name, "OOMGUARD_METRIC_BYTES");
	ck_assert_int_eq(log_journal_field_name("level", name, sizeof(name)), 0);
	ck_assert_str_eq(name, "OOMGUARD_LEVEL");
	ck_assert_int_eq(log_journal_field_name("a-b.c9", name, sizeof(name)), 0);
	ck_assert_str_eq(name, "OOMGUARD_A_B_C9");
	ck_assert_int_eq(log_journal_field_name("", name, sizeof(name)), -EINVAL);
	/* 9 + 55 = 64 characters, the journal's limit */
	memset(key, 'k', 55);
	key[55] = '\0';
	ck_assert_int_eq(log_journal_field_name(key, name, sizeof(name)), 0);
	ck_assert_uint_eq(strlen(name), LOG_JOURNAL_NAME_MAX);
	strcpy(name, "untouched");
	ck_assert_int_eq(log_journal_field_name(key, name, sizeof(name) - 1), -ENAMETOOLONG);
	ck_assert_str_eq(name, "untouched");
	key[55] = 'k';
	key[56] = '\0';
	ck_assert_int_eq(log_journal_field_name(key, name, sizeof(name)), -ENAMETOOLONG);
	ck_assert_str_eq(name, "untouched");
	/* over the journal's limit, whatever room there is */
	ck_assert_int_eq(log_journal_field_name(key, big, sizeof(big)), -ENAMETOOLONG);
}
END_TEST

/* Point stderr at a new temporary file; return a descriptor to read it. */
static int
stderr_to_file(void)
{
	char path[] = "/tmp/check_log.XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	unlink(path);
	ck_assert_int_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	return fd;
}

/* What was written to that file since the last call. */
static const char *
stderr_text(int fd)
{
	static char buf[4096];
	static off_t seen;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, seen);

	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	seen += n;
	return buf;
}

/* Set JOURNAL_STREAM to what fd is, as systemd would. */
static void
set_journal_stream(int fd)
{
	struct stat st;
	char env[64];

	ck_assert_int_eq(fstat(fd, &st), 0);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
}

#if OOMGUARD_SYSTEMD

/* Give this test process a /run of its own, where a journal socket can
 * be bound without touching the host's. Return 0, or -errno when not
 * permitted (the test is skipped then). */
static int
private_run(void)
{
	if (unshare(CLONE_NEWNS) < 0)
		return -errno;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") < 0)
		return -errno;
	ck_assert_int_eq(mkdir("/run/systemd", 0755), 0);
	ck_assert_int_eq(mkdir("/run/systemd/journal", 0755), 0);
	return 0;
}

static int
journal_bind(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX,
		.sun_path = "/run/systemd/journal/socket" };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

#endif

START_TEST(test_init_journal)
{
	int fd = stderr_to_file(), other = stderr_to_file(), journald = 0;

#if OOMGUARD_SYSTEMD
	struct stat st;

	/* Our own journal socket where we may; else the host's, if any. */
	if (private_run() == 0)
		close(journal_bind()); /* left behind, as journald would */
	journald = stat("/run/systemd/journal/socket", &st) == 0;
#endif

	/* stderr is now other: fd's identity names another file. */
	unsetenv("JOURNAL_STREAM");
	ck_assert_int_eq(log_init_journal(), 0);
	set_journal_stream(fd);
	ck_assert_int_eq(log_init_journal(), 0);
	setenv("JOURNAL_STREAM", "garbage", 1);
	ck_assert_int_eq(log_init_journal(), 0);
	set_journal_stream(other);
	ck_assert_int_eq(log_init_journal(), journald);
	unsetenv("JOURNAL_STREAM");
	ck_assert_int_eq(log_init_journal(), 0);
	close(fd);
	close(other);
}
END_TEST

/* Without JOURNAL_STREAM, the text line as before. */
START_TEST(test_text_unchanged)
{
	int fd = stderr_to_file();
	const char *t;

	unsetenv("JOURNAL_STREAM");
	log_init(LOG_LVL_INFO, LOG_FMT_TEXT);
	ck_assert_int_eq(log_init_journal(), 0);
	log_warn("cannot read %s", "x");
	t = stderr_text(fd);
	ck_assert_msg(strlen(t) > 25 && strcmp(t + 24, " warn  cannot read x\n") == 0, "%s", t);
	close(fd);
}
END_TEST

/* JSON: a percentage in hundredths is a number with two decimals, and
 * any bytes in a string make valid JSON: invalid UTF-8 becomes U+FFFD,
 * valid UTF-8 stays as it is. */
START_TEST(test_json_values)
{
	const struct log_field f[] = {
		{ "percent", LOG_HUNDREDTHS, 7606 },
		{ "low", LOG_HUNDREDTHS, 5 },
		{ "path", "/app/\xff\xfe-\xc3\xa9-\xc0\xaf-\xed\xa0\x80-\xf4\x90\x80\x80-\x7f", 0 },
		{ "pid", NULL, 42 },
	};
	int fd = stderr_to_file();
	const char *t;

	unsetenv("JOURNAL_STREAM");
	log_init(LOG_LVL_INFO, LOG_FMT_JSON);
	log_fields(LOG_LVL_INFO, "m\xe2\x82", f, 4);
	t = stderr_text(fd);
	ck_assert_msg(strstr(t, ",\"msg\":\"m\\ufffd\\ufffd\",") != NULL, "%s", t);
	ck_assert_msg(strstr(t, ",\"percent\":76.06,\"low\":0.05,") != NULL, "%s", t);
	ck_assert_msg(strstr(t,
	                  ",\"path\":\"/app/\\ufffd\\ufffd-\xc3\xa9-\\ufffd\\ufffd-"
	                  "\\ufffd\\ufffd\\ufffd-\\ufffd\\ufffd\\ufffd\\ufffd-\\u007f\","
	                  "\"pid\":42}\n") != NULL,
	    "%s", t);
	close(fd);
}
END_TEST

/* Whether t is one line of one JSON object whose escapes are whole. */
static void
check_json_line(const char *t)
{
	size_t n = strlen(t);

	ck_assert_msg(n > 100 && t[0] == '{' && strcmp(t + n - 2, "}\n") == 0, "%s", t);
	ck_assert_ptr_eq(strchr(t, '\n'), t + n - 1);
	/* No escape is cut in two: every backslash is followed by a quote. */
	for (const char *p = strchr(t, '\\'); p != NULL; p = strchr(p + 2, '\\'))
		ck_assert_msg(p[1] == '"', "%s", p);
}

/* A line too long for the buffer is still one JSON object: strings are
 * cut ("..."), and when the fields do not fit even so, the message stays
 * alone with "truncated":true. */
START_TEST(test_json_long)
{
	static char big[1500];
	struct log_field f[40];
	int fd = stderr_to_file();
	const char *t;

	memset(big, '"', sizeof(big) - 1);
	for (int i = 0; i < 40; i++)
		f[i] = (struct log_field){ "field", big, 0 };
	unsetenv("JOURNAL_STREAM");
	log_init(LOG_LVL_INFO, LOG_FMT_JSON);
	log_fields(LOG_LVL_INFO, big, f, 8);
	t = stderr_text(fd);
	check_json_line(t);
	ck_assert_msg(strstr(t, "...\",\"field\":\"...\",\"field\":\"...\"") != NULL, "%s", t);
	log_fields(LOG_LVL_INFO, big, f, 40);
	t = stderr_text(fd);
	check_json_line(t);
	ck_assert_msg(strstr(t, "...\",\"truncated\":true}\n") != NULL, "%s", t);
	ck_assert_ptr_null(strstr(t, "\"field\""));
	close(fd);
}
END_TEST

/* Level and format names in any case. */
START_TEST(test_names_case)
{
	enum log_level lv;
	enum log_format fm;

	ck_assert_int_eq(log_level_parse("DEBUG", &lv), 0);
	ck_assert_int_eq(lv, LOG_LVL_DEBUG);
	ck_assert_int_eq(log_format_parse("Json", &fm), 0);
	ck_assert_int_eq(fm, LOG_FMT_JSON);
	ck_assert_int_eq(log_level_parse("verbose", &lv), -EINVAL);
}
END_TEST

#if OOMGUARD_SYSTEMD

/* The next journal entry received, or "" when none is waiting. */
static const char *
journal_entry(int fd)
{
	static char buf[8192];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	if (n < 0) {
		ck_assert_int_eq(errno, EAGAIN);
		n = 0;
	}
	buf[n] = '\0';
	return buf;
}

START_TEST(test_journal_entries)
{
	const struct log_field f[] = {
		{ "level", "gc", 0 },
		{ "metric_bytes", NULL, 201326592 },
		{ "limit_bytes", NULL, 268435456 },
		{ "action", "SIGUSR1", 0 },
		{ "pid", NULL, 123 },
		{ "outcome", "sent", 0 },
	};
	int err, jfd, r;

	r = private_run();
	if (r < 0) {
		fprintf(stderr, "skipped: no private mount namespace: %s\n", strerror(-r));
		return;
	}
	err = stderr_to_file();
	set_journal_stream(err);
	log_init(LOG_LVL_INFO, LOG_FMT_JSON);
	/* No journald: the line goes to stderr in the configured format. */
	ck_assert_int_eq(log_init_journal(), 0);
	log_warn("before %d", 1);
	ck_assert_ptr_nonnull(
	    strstr(stderr_text(err), "\"severity\":\"warn\",\"msg\":\"before 1\"}\n"));

	jfd = journal_bind();
	ck_assert_int_eq(log_init_journal(), 1);
	log_fields(LOG_LVL_INFO, "gc: workingset 192.0MiB", f, 6);
	ck_assert_str_eq(journal_entry(jfd),
	    "MESSAGE=gc: workingset 192.0MiB\nPRIORITY=6\nSYSLOG_IDENTIFIER=oomguard\n"
	    "OOMGUARD_LEVEL=gc\nOOMGUARD_METRIC_BYTES=201326592\nOOMGUARD_LIMIT_BYTES=268435456\n"
	    "OOMGUARD_ACTION=SIGUSR1\nOOMGUARD_PID=123\nOOMGUARD_OUTCOME=sent\n");
	log_error("cannot read %s: %s", "memory.current", "No such device");
	ck_assert_str_eq(journal_entry(jfd),
	    "MESSAGE=cannot read memory.current: No such device\nPRIORITY=3\n"
	    "SYSLOG_IDENTIFIER=oomguard\n");
	log_warn("w");
	ck_assert_str_eq(journal_entry(jfd), "MESSAGE=w\nPRIORITY=4\nSYSLOG_IDENTIFIER=oomguard\n");
	/* Below the level, nothing at all. */
	log_debug("d");
	ck_assert_str_eq(journal_entry(jfd), "");
	log_init(LOG_LVL_DEBUG, LOG_FMT_TEXT);
	log_debug("d");
	ck_assert_str_eq(journal_entry(jfd), "MESSAGE=d\nPRIORITY=7\nSYSLOG_IDENTIFIER=oomguard\n");
	ck_assert_str_eq(stderr_text(err), "");
	/* journald gone, its socket left behind: stderr again. */
	close(jfd);
	log_info("after");
	ck_assert_str_eq(stderr_text(err) + 24, " info  after\n");
	close(err);
}
END_TEST

START_TEST(test_journal_bounds)
{
	struct log_field f[20];
	char keys[20][16], big[3000];
	const char *e;
	int err, jfd, r, n = 0;

	r = private_run();
	if (r < 0) {
		fprintf(stderr, "skipped: no private mount namespace: %s\n", strerror(-r));
		return;
	}
	err = stderr_to_file();
	set_journal_stream(err);
	log_init(LOG_LVL_INFO, LOG_FMT_TEXT);
	jfd = journal_bind();
	ck_assert_int_eq(log_init_journal(), 1);

	/* Twenty fields, one without a usable name: the first 16 good ones. */
	for (int i = 0; i < 20; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
		f[i] = (struct log_field){ i == 3 ? "" : keys[i], NULL, i };
	}
	log_fields(LOG_LVL_INFO, "many", f, 20);
	e = strstr(journal_entry(jfd), "OOMGUARD_");
	ck_assert_ptr_nonnull(e);
	ck_assert_ptr_null(strstr(e, "OOMGUARD_K3="));
	ck_assert_ptr_nonnull(strstr(e, "OOMGUARD_K16=16\n"));
	ck_assert_ptr_null(strstr(e, "OOMGUARD_K17="));
	for (; (e = strstr(e, "OOMGUARD_")) != NULL; e++)
		n++;
	ck_assert_int_eq(n, 16);

	/* A message too long is cut; a field that does not fit is left out,
	 * not those after it. */
	memset(big, 'm', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	f[0] = (struct log_field){ "small", NULL, 1 };
	f[1] = (struct log_field){ "big", big, 0 };
	f[2] = (struct log_field){ "after", NULL, 2 };
	log_fields(LOG_LVL_INFO, big, f, 3);
	e = journal_entry(jfd);
	ck_assert_ptr_nonnull(strstr(e, "\nOOMGUARD_SMALL=1\n"));
	ck_assert_ptr_null(strstr(e, "OOMGUARD_BIG="));
	ck_assert_ptr_nonnull(strstr(e, "\nOOMGUARD_AFTER=2\n"));
	ck_assert_uint_eq(strcspn(e, "\n"), 2047);
	ck_assert_str_eq(stderr_text(err), "");
	close(jfd);
	close(err);
}
END_TEST

#endif

int
main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("journal");

	tcase_add_test(tc, test_stream_match);
	tcase_add_test(tc, test_stream_malformed);
	tcase_add_test(tc, test_field_name);
	tcase_add_test(tc, test_init_journal);
	tcase_add_test(tc, test_text_unchanged);
	tcase_add_test(tc, test_json_values);
	tcase_add_test(tc, test_json_long);
	tcase_add_test(tc, test_names_case);
#if OOMGUARD_SYSTEMD
	tcase_add_test(tc, test_journal_entries);
	tcase_add_test(tc, test_journal_bounds);
#endif
	suite_add_tcase(s, tc);
	return suite_run(s);
}
