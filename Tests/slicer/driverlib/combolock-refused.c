// SPDX-License-Identifier: GPL-2.0
/*
 * The driver library's spin locks on a ComboLock the kernel refuses
 * (check-driverlib.sh links this with the whole library, k-api.c included):
 * the kernel side stubbed here counts the test's lock (and only it: the
 * library's printk has its own) as a ComboLock and refuses every call, as
 * drvnucleus does with EDEADLK for one it counts as held.
 *  - spin_trylock: not taken (0), the copy's lock word untouched;
 *  - spin_unlock: returns, the copy's lock word untouched;
 *  - spin_lock: the process ends with SIGABRT (a BUG), never taking the
 *    copy's lock word instead (which once left it locked for good).
 * Exit 0 when all hold; each miss is printed.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

/* The library's entry points, declared here without the kernel's headers:
 * a raw_spinlock_t is its 32-bit qspinlock word in this configuration. */
void _raw_spin_lock(unsigned int *lock);
int _raw_spin_trylock(unsigned int *lock);
void _raw_spin_unlock(unsigned int *lock);

/* The copy of the ComboLock: its 32-bit word. */
static unsigned int word;

int drvslice_host_combolock(const void *p)
{
	return p == &word;
}

const char *drvslice_host_why(void)
{
	return "the test refuses every call";
}

int drvslice_downcall(const void *e, void *const args[], void *ret)
{
	(void)e;
	(void)args;
	(void)ret;
	return -EDEADLK;
}

int main(void)
{
	int status, bad = 0;
	pid_t pid;

	if (_raw_spin_trylock(&word) != 0) {
		printf("a refused spin_trylock said taken\n");
		bad = 1;
	}
	_raw_spin_unlock(&word);
	if (word != 0) {
		printf("the copy's lock word is %#x after a refused trylock and unlock\n", word);
		bad = 1;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		_raw_spin_lock(&word);
		printf("a refused spin_lock returned (the copy's lock word %#x)\n", word);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid) {
		printf("fork/waitpid failed\n");
		return 1;
	}
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT) {
		printf("a refused spin_lock did not end the process with SIGABRT (status %#x)\n", status);
		bad = 1;
	}
	if (!bad)
		printf("combolock refused: trylock 0, unlock untouched, spin_lock SIGABRT\n");
	return bad;
}
