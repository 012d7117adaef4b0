/*
 * fuzz_args.c: the command line (main.c's args_parse) and the flags'
 * values applied over the defaults as config_build() applies them. main.c
 * is included whole, its main() renamed, to reach its static functions
 * unchanged. The input is argv, one argument per NUL-separated part; no
 * file is read (-c is replaced by /dev/null) and the process's
 * environment holds no OOMGUARD_ variable.
 */
#define main oomguard_main
int oomguard_main(int argc, char **argv);
#include "../../src/main.c"
#undef main

#include "fuzz.h"

#define ARGS_MAX 32

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	for (char **e = environ; *e != NULL;) {
		if (strncmp(*e, "OOMGUARD_", 9) == 0) {
			char name[256];

			snprintf(name, sizeof(name), "%.*s", (int)strcspn(*e, "="), *e);
			unsetenv(name);
		} else {
			e++;
		}
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), *argv[ARGS_MAX + 2];
	char err[CONFIG_ERR_MAX + PATH_MAX];
	struct args a;
	struct config c;
	int argc;

	argv[0] = "oomguard";
	argc = 1 + fuzz_split(s, size, argv + 1, ARGS_MAX);
	argv[argc] = NULL;
	if (args_parse(argc, argv, &a) == -1) {
		a.config_path = "/dev/null";
		(void)config_build(&a, &c, err, sizeof(err));
	}
	free(s);
	return 0;
}
