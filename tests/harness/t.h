/* t.h — the unit-test harness (after libuv's runner).
 *
 * Each TEST runs in its own forked child with a timeout, so one crash or hang
 * fails that case only. Usage:
 *
 *	#include "tests/harness/t.h"
 *	TEST(digest_of_empty_range) { T_EQ_U64(0, f()); }
 *	T_MAIN()
 *
 * Run: ./test_x [name-substring]   (T_TIMEOUT=seconds, default 60)
 * Prints one line per case and closes with "N passed, N failed".
 * Each case gets a fresh scratch directory in t_tmpdir (removed afterwards).
 */
#ifndef PARKLOG_T_H
#define PARKLOG_T_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*t_fn)(void);
void t__register(const char *name, t_fn fn);
void t__fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));
int t__main(int argc, char **argv);

/* Scratch directory of the running case (absolute path). */
extern char t_tmpdir[];

#define TEST(name)							\
	static void t_case_##name(void);				\
	__attribute__((constructor)) static void t_reg_##name(void)	\
	{ t__register(#name, t_case_##name); }				\
	static void t_case_##name(void)

#define T_MAIN() int main(int argc, char **argv) { return t__main(argc, argv); }

#define T_FAIL(...) t__fail(__FILE__, __LINE__, __VA_ARGS__)
#define T_ASSERT(c) do { if (!(c)) T_FAIL("assertion failed: %s", #c); } while (0)
#define T_EQ_INT(exp, got) do { long long e_ = (long long)(exp), g_ = (long long)(got); \
	if (e_ != g_) T_FAIL("%s == %s: expected %lld, got %lld", #exp, #got, e_, g_); } while (0)
#define T_EQ_U64(exp, got) do { uint64_t e_ = (uint64_t)(exp), g_ = (uint64_t)(got); \
	if (e_ != g_) T_FAIL("%s == %s: expected %" PRIu64 ", got %" PRIu64, #exp, #got, e_, g_); } while (0)
#define T_EQ_STR(exp, got) do { const char *e_ = (exp), *g_ = (got); \
	if (e_ == NULL || g_ == NULL || strcmp(e_, g_) != 0) \
		T_FAIL("%s == %s: expected \"%s\", got \"%s\"", #exp, #got, \
		    e_ ? e_ : "(null)", g_ ? g_ : "(null)"); } while (0)
#define T_EQ_MEM(exp, got, n) do { if (memcmp((exp), (got), (n)) != 0) \
	T_FAIL("%s and %s differ in their first %zu bytes", #exp, #got, (size_t)(n)); } while (0)

#endif
