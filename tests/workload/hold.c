/*
 * hold: allocate and touch N MiB of anonymous memory, print "ready" and
 * sleep until killed. The simplest known quantity of charged memory.
 * usage: hold MIB
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	size_t len;
	char *p;

	if (argc != 2 || atoi(argv[1]) <= 0) {
		fprintf(stderr, "usage: hold MIB\n");
		return 2;
	}
	len = (size_t)atoi(argv[1]) << 20;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	memset(p, 0x5a, len);
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
