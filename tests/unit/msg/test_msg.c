/* msg: one line per message, levels filter, errno text appended. */
#include "tests/harness/t.h"
#include "msg/msg.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void capture(char *buf, size_t cap, void (*fn)(void))
{
	char path[600];
	int fd, saved;
	ssize_t n;

	snprintf(path, sizeof path, "%s/err", t_tmpdir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	T_ASSERT(fd >= 0);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, cap - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
}

static void emit_levels(void)
{
	msg_init("tmsg", MSG_INFO);
	msg_debug("hidden %d", 1);
	msg_info("shown %d", 2);
	errno = ENOENT;
	msg_warn("open %s", "x");
}

TEST(levels_and_errno)
{
	char out[4096];

	capture(out, sizeof out, emit_levels);
	T_ASSERT(strstr(out, "hidden") == NULL);
	T_ASSERT(strstr(out, "tmsg info: shown 2\n") != NULL);
	T_ASSERT(strstr(out, "tmsg warning: open x: No such file or directory\n") != NULL);
}

static void emit_long(void)
{
	char big[5000];

	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	msg_init("tmsg", MSG_DEBUG);
	msg_debug("%s", big);
}

TEST(long_message_is_cut_to_one_line)
{
	char out[8192];

	capture(out, sizeof out, emit_long);
	T_ASSERT(strchr(out, '\n') == out + strlen(out) - 1);
}

static void emit_journal(void)
{
	char js[64];
	struct stat st;

	fstat(STDERR_FILENO, &st);
	snprintf(js, sizeof js, "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", js, 1);
	msg_init("tmsg", MSG_DEBUG);
	msg_info("shown %d", 1);
	msg_warnx("careful");
	msg_debug("detail");
	setenv("JOURNAL_STREAM", "1:2", 1);	/* another stream: not journald */
	msg_init("tmsg", MSG_INFO);
	msg_info("plain");
	unsetenv("JOURNAL_STREAM");
}

TEST(journald_priorities_without_timestamps)
{
	char out[4096];

	capture(out, sizeof out, emit_journal);
	T_ASSERT(strncmp(out, "<6>shown 1\n<4>warning: careful\n<7>detail\n", 40) == 0);
	T_ASSERT(strstr(out, "Z tmsg info: plain\n") != NULL);
	T_ASSERT(msg_stderr_is_journal(NULL) == 0);
	T_ASSERT(msg_stderr_is_journal("garbage") == 0);
	T_ASSERT(msg_stderr_is_journal("1:2x") == 0);
}

static void emit_assert_fail(void)
{
	pid_t pid = fork();
	int st = 0;

	if (pid == 0) {
		msg_init("tmsg", MSG_INFO);
		msg_assert(1 + 1 == 2);
		msg_assert(2 + 2 == 5);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	T_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
}

TEST(assert_aborts_with_file_and_line)
{
	char out[4096];

	capture(out, sizeof out, emit_assert_fail);
	T_ASSERT(strstr(out, "tmsg: ") != NULL);
	T_ASSERT(strstr(out, "test_msg.c:") != NULL);
	T_ASSERT(strstr(out, "assertion failed: 2 + 2 == 5") != NULL);
}

T_MAIN()
