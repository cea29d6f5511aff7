// SPDX-License-Identifier: GPL-2.0
/*
 * The C library's side of the driver library test: runs k-test.c's
 * checks and gives them a way to stdout.  Also checks that the process's
 * own snprintf is still the C library's, i.e. that the kernel's printf
 * family stayed inside the kernel-facing objects (the script localises
 * those names there): glibc prints "%#x" of 0 as "0", the kernel "0x0".
 */
#include <stdio.h>

int ktest_run(void);
void ktest_out(const char *line);

void ktest_out(const char *line)
{
	fputs(line, stdout);
	fputc('\n', stdout);
	fflush(stdout);
}

int main(void)
{
	char buf[16];
	int failures;

	snprintf(buf, sizeof(buf), "%#x", 0);
	printf("libc snprintf(\"%%#x\", 0) outside the user half: \"%s\"\n", buf);
	fflush(stdout);
	failures = ktest_run();
	printf("failures: %d\n", failures);
	return failures ? 1 : 0;
}
