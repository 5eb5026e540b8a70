#include "t.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define T_MAX_CASES 1024

struct t_case {
	const char *name;
	t_fn fn;
};

static struct t_case t_cases[T_MAX_CASES];
static int t_ncases;
char t_tmpdir[512];

void t__register(const char *name, t_fn fn)
{
	if (t_ncases == T_MAX_CASES) {
		fprintf(stderr, "t: too many cases\n");
		exit(2);
	}
	t_cases[t_ncases].name = name;
	t_cases[t_ncases].fn = fn;
	t_ncases++;
}

void t__fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "  %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	_exit(1);
}

static int t__rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(path);
}

static int t__run(const struct t_case *c, int timeout)
{
	char tmpl[] = "/tmp/parklog-t-XXXXXX";
	struct timespec t0, t1;
	pid_t pid;
	int status = 0, rc;

	if (mkdtemp(tmpl) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		snprintf(t_tmpdir, sizeof t_tmpdir, "%s", tmpl);
		alarm((unsigned)timeout);
		c->fn();
		fflush(NULL);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	nftw(tmpl, t__rm, 16, FTW_DEPTH | FTW_PHYS);
	rc = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	printf("%s %s (%.0f ms)", rc ? "FAIL" : "ok  ", c->name,
	    (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
	if (WIFSIGNALED(status))
		printf(" — killed by signal %d%s", WTERMSIG(status),
		    WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
	printf("\n");
	fflush(stdout);
	return rc;
}

int t__main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	const char *to = getenv("T_TIMEOUT");
	int timeout = to ? atoi(to) : 60, passed = 0, failed = 0, i;

	if (timeout <= 0)
		timeout = 60;
	for (i = 0; i < t_ncases; i++) {
		if (filter != NULL && strstr(t_cases[i].name, filter) == NULL)
			continue;
		if (t__run(&t_cases[i], timeout))
			failed++;
		else
			passed++;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : (passed ? 0 : 1);
}
