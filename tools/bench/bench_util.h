/* tools/bench/bench_util.h — what every benchmark needs: a monotonic clock,
 * the median of several runs, and removing its scratch directory. */
#ifndef PARKLOG_BENCH_UTIL_H
#define PARKLOG_BENCH_UTIL_H

/* Seconds on CLOCK_MONOTONIC. */
double bench_now_s(void);
/* Median of v[0..n) (sorts v in place); n > 0. */
double bench_median(double *v, int n);
/* Remove a directory tree (the benchmark's own scratch directory). */
void bench_rmtree(const char *dir);

#endif
