/*
 * hints.c: the runtime hints, computed from a limit, the levels and an
 * environment. Each runtime has a row: the variable oomguard sets, how its
 * limit is written, the share of the base it gets, and what in the
 * environment means the user set that limit already.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hints.h"
#include "units.h"

#define MiB ((uint64_t)1 << 20)

/* How a runtime's heap limit is written into its variable. */
enum hints_form {
	FORM_GO_SIZE,  /* "172MiB": the whole value */
	FORM_NODE_OLD, /* "--max-old-space-size=156" (MiB), appended */
	FORM_JAVA_XMX, /* "-Xmx124m", appended */
	FORM_HEX,      /* "0xac00000" (bytes): the whole value */
};

struct runtime {
	const char *var;
	enum hints_form form;
	bool hard;          /* a hard limit: fitted under the restart level */
	unsigned pct;       /* share of the base, in percent */
	uint64_t off_bytes; /* less this, for what sits outside the limit set */
	/* The user's own limit: a variable whose name starts with one of
	 * names and (when set) whose value holds one of flags. */
	const char *names[4];
	const char *flags[4];
};

/*
 * GOMEMLIMIT is soft: past it Go only collects more, so it is fitted
 * under the gc level, where oomguard would start asking. The others are
 * hard: past them the runtime fails with its own out-of-memory error, so
 * they are fitted under the restart level, where oomguard would end the
 * app anyway; their collectors work well below their caps.
 *
 * The shares (docs/runtimes.md says more): GOMEMLIMIT covers all the
 * memory Go's runtime manages, so only the binary and memory outside Go
 * need room; the others cap a heap, and the runtime keeps more beside it,
 * a quarter of the base, and for two of them a fixed part too: V8's young
 * generation beside its old space (three semi-spaces, 3 MiB in a 256 MiB
 * container, at most 48 MiB); the JVM its metaspace, code cache and
 * thread stacks, 20 MiB for a small program, 50 to 100 MiB for a
 * framework's service. Node's own 40 MiB (its RSS at start) fit in the
 * quarter, as do .NET's runtime and JIT code.
 */
static const struct runtime runtimes[HINTS_NVARS] = {
	{ "GOMEMLIMIT", FORM_GO_SIZE, false, 90, 0, { "GOMEMLIMIT=" }, { NULL } },
	{ "NODE_OPTIONS", FORM_NODE_OLD, true, 75, 16 * MiB, { "NODE_OPTIONS=" },
	    { "--max-old-space-size", "--max_old_space_size" } },
	{ "JAVA_TOOL_OPTIONS", FORM_JAVA_XMX, true, 75, 48 * MiB,
	    { "JAVA_TOOL_OPTIONS=", "JDK_JAVA_OPTIONS=", "_JAVA_OPTIONS=" },
	    { "-Xmx", "MaxHeapSize", "MaxRAM" } },
	{ "DOTNET_GCHeapHardLimit", FORM_HEX, true, 75, 0,
	    { "DOTNET_GCHeapHardLimit", "COMPlus_GCHeapHardLimit" }, { NULL } },
};

/* The value of name in envp (perhaps ""), or NULL. */
static const char *
env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; *envp != NULL; envp++) {
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	}
	return NULL;
}

/* The environment entry that sets rt's limit already, or NULL. */
static const char *
user_setting(const struct runtime *rt, char *const *envp)
{
	for (; *envp != NULL; envp++) {
		const char *eq = strchr(*envp, '=');

		if (eq == NULL || eq[1] == '\0')
			continue;
		for (int i = 0; i < 4 && rt->names[i] != NULL; i++) {
			if (strncmp(*envp, rt->names[i], strlen(rt->names[i])) != 0)
				continue;
			if (rt->flags[0] == NULL)
				return *envp;
			for (int f = 0; f < 4 && rt->flags[f] != NULL; f++) {
				if (strstr(eq + 1, rt->flags[f]) != NULL)
					return *envp;
			}
		}
	}
	return NULL;
}

/* The lowest of the limit and the armed levels from the first one on
 * (0: gc, 1: restart): the levels are in escalation order unless the user
 * set them otherwise (sizes and percentages mixed), and the runtime should
 * keep below each. */
static uint64_t
base_bytes(const struct config *c, uint64_t limit_bytes, size_t first)
{
	const struct threshold *levels[] = { &c->gc_at, &c->restart_at, &c->kill_at };
	uint64_t base = limit_bytes;

	for (size_t i = first; i < sizeof(levels) / sizeof(levels[0]); i++) {
		uint64_t b = units_threshold_bytes(levels[i], limit_bytes);

		base = b < base ? b : base;
	}
	return base;
}

/* rt's heap limit for the base, in bytes, rounded down to a MiB; 0 when
 * it would be under HINTS_HEAP_MIN_BYTES. */
static uint64_t
heap_bytes(const struct runtime *rt, uint64_t base)
{
	/* base * pct / 100 without overflow for any 64-bit base. */
	uint64_t share = base / 100 * rt->pct + base % 100 * rt->pct / 100;

	if (share < rt->off_bytes + HINTS_HEAP_MIN_BYTES)
		return 0;
	return (share - rt->off_bytes) / MiB * MiB;
}

static void
format_part(enum hints_form form, uint64_t bytes, char *buf, size_t len)
{
	switch (form) {
	case FORM_GO_SIZE:
		snprintf(buf, len, "%" PRIu64 "MiB", bytes / MiB);
		break;
	case FORM_NODE_OLD:
		snprintf(buf, len, "--max-old-space-size=%" PRIu64, bytes / MiB);
		break;
	case FORM_JAVA_XMX:
		snprintf(buf, len, "-Xmx%" PRIu64 "m", bytes / MiB);
		break;
	case FORM_HEX:
		snprintf(buf, len, "0x%" PRIx64, bytes);
		break;
	}
}

/* One runtime's variable: its outcome, and its value when set. */
static void
compute_var(const struct runtime *rt, uint64_t base, char *const *envp, struct hints_var *v)
{
	const char *user = user_setting(rt, envp);
	const char *old = env_get(envp, rt->var);
	uint64_t bytes = heap_bytes(rt, base);
	bool append = rt->form == FORM_NODE_OLD || rt->form == FORM_JAVA_XMX;
	char part[sizeof(v->part)];
	int n;

	v->had = old != NULL;
	/* An empty value is no setting, for the runtimes as for us. */
	if (old != NULL && old[0] == '\0')
		old = NULL;
	if (user != NULL) {
		v->outcome = HINT_KEPT;
		snprintf(v->part, sizeof(v->part), "%s", user);
		return;
	}
	if (bytes == 0) {
		v->outcome = HINT_TOO_SMALL;
		return;
	}
	/* Made apart and copied: both fields are in *v, which gcc's restrict
	 * check cannot tell apart under the sanitizers. */
	format_part(rt->form, bytes, part, sizeof(part));
	memcpy(v->part, part, sizeof(part));
	if (append && old != NULL)
		n = snprintf(v->value, sizeof(v->value), "%s %s", old, part);
	else
		n = snprintf(v->value, sizeof(v->value), "%s", part);
	if (n < 0 || (size_t)n >= sizeof(v->value)) {
		v->outcome = HINT_TOO_LONG;
		v->value[0] = '\0';
		return;
	}
	v->outcome = HINT_SET;
	v->had_len = append && old != NULL ? strlen(old) : 0;
}

int
hints_compute(const struct config *c, uint64_t limit_bytes, char *const *envp, struct hints *ret)
{
	struct hints h;
	int nset = 0;

	memset(&h, 0, sizeof(h));
	for (int i = 0; i < HINTS_NVARS; i++)
		h.var[i].name = runtimes[i].var;
	if (c->runtime_hints == HINTS_AUTO && limit_bytes != 0) {
		h.limit_bytes = limit_bytes;
		h.base_bytes = base_bytes(c, limit_bytes, 0);
		h.hard_base_bytes = base_bytes(c, limit_bytes, 1);
		for (int i = 0; i < HINTS_NVARS; i++) {
			compute_var(&runtimes[i],
			    runtimes[i].hard ? h.hard_base_bytes : h.base_bytes, envp, &h.var[i]);
			nset += h.var[i].outcome == HINT_SET;
		}
	}
	*ret = h;
	return nset;
}

bool
hints_same(const struct hints *a, const struct hints *b)
{
	for (int i = 0; i < HINTS_NVARS; i++) {
		if (a->var[i].outcome != b->var[i].outcome ||
		    (a->var[i].outcome == HINT_SET &&
		        strcmp(a->var[i].value, b->var[i].value) != 0))
			return false;
	}
	return true;
}

char *
hints_describe(const struct hints *h, enum hints_outcome which, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < HINTS_NVARS && used < len; i++) {
		const struct hints_var *v = &h->var[i];
		const char *sep = used > 0 ? " " : "";
		int n;

		if (v->outcome != which)
			continue;
		if (which == HINT_SET)
			n = snprintf(buf + used, len - used, "%s%s%s%s", sep, v->name,
			    v->had_len > 0 ? "+=" : "=", v->part);
		else if (which == HINT_KEPT)
			n = snprintf(buf + used, len - used, "%s%s", sep, v->part);
		else
			n = snprintf(buf + used, len - used, "%s%s", sep, v->name);
		used = n < 0 ? len : used + (size_t)n;
	}
	return buf;
}

/* value in single quotes, each ' written as '\'' */
static void
print_quoted(const char *value, FILE *fp)
{
	fputc('\'', fp);
	for (; *value != '\0'; value++) {
		if (*value == '\'')
			fputs("'\\''", fp);
		else
			fputc(*value, fp);
	}
	fputc('\'', fp);
}

void
hints_print(const struct hints *h, bool shell, FILE *fp)
{
	static const char *const why[] = {
		[HINT_NONE] = "not set",
		[HINT_SET] = "set",
		[HINT_KEPT] = "the user's setting kept",
		[HINT_TOO_SMALL] = "not set: the limit is too small for a heap limit",
		[HINT_TOO_LONG] = "not set: its value with ours would be too long",
	};
	char l[UNITS_BUF], b[UNITS_BUF], hb[UNITS_BUF];

	if (h->limit_bytes == 0) {
		fprintf(fp, "# no runtime hints: no memory limit, or [runtime] hints = none\n");
		return;
	}
	fprintf(fp, "# limit %s, soft limits under %s, hard limits under %s\n",
	    units_format_human(h->limit_bytes, l), units_format_human(h->base_bytes, b),
	    units_format_human(h->hard_base_bytes, hb));
	for (int i = 0; i < HINTS_NVARS; i++) {
		const struct hints_var *v = &h->var[i];

		if (v->outcome != HINT_SET) {
			fprintf(fp, "# %s: %s%s%s\n", v->name, why[v->outcome],
			    v->outcome == HINT_KEPT ? ": " : "",
			    v->outcome == HINT_KEPT ? v->part : "");
			continue;
		}
		fprintf(fp, "%s%s=", shell ? "export " : "", v->name);
		if (shell)
			print_quoted(v->value, fp);
		else
			fputs(v->value, fp);
		fputc('\n', fp);
	}
}
