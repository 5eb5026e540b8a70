/* log/plates: the in-memory per-plate index — fold order whatever the
 * insertion order, undo, plates in byte order, covered seqs. */
#include "tests/harness/t.h"

#include <errno.h>
#include <stdlib.h>

#include "log/plates.h"
#include "log/store.h"

static log__plates *fresh(void)
{
	log__plates *px = NULL;

	T_EQ_INT(0, log__plates_new(&px));
	/* Streams 1..3: origins and epochs chosen so that stream_no order is
	 * not fold order (fold order compares origin, then epoch). */
	T_EQ_INT(0, log__plates_stream(px, 1, "central-2", 9));
	T_EQ_INT(0, log__plates_stream(px, 2, "central-1", 5));
	T_EQ_INT(0, log__plates_stream(px, 3, "central-2", 4));
	return px;
}

/* Fold order of the fixture: (action time, origin, epoch, seq); ts does
 * not order (the first one was recorded last, its gate's time is early). */
static const log__ppos fold_order[] = {
	{ 10, 7, 1, 40 },	/* at 10 first */
	{ 20, 1, 2, 20 },	/* at 20: central-1 */
	{ 20, 2, 3, 20 },	/* at 20: central-2 epoch 4 */
	{ 20, 1, 1, 20 },	/* at 20: central-2 epoch 9, seq 1 */
	{ 20, 3, 1, 21 },	/*                          seq 3 */
	{ 30, 4, 2, 30 },
};
#define NPOS (sizeof fold_order / sizeof fold_order[0])

TEST(fold_order_whatever_the_insertion_order)
{
	unsigned seed = 1;

	for (int round = 0; round < 200; round++) {
		log__plates *px = fresh();
		log__ppos in[NPOS], *got = NULL, last;
		int64_t ts;
		size_t cap = 0, n = 0;

		memcpy(in, fold_order, sizeof in);
		for (size_t i = NPOS - 1; i > 0; i--) {	/* shuffle */
			size_t j = (size_t)rand_r(&seed) % (i + 1);
			log__ppos x = in[i];

			in[i] = in[j];
			in[j] = x;
		}
		for (size_t i = 0; i < NPOS; i++)
			T_EQ_INT(0, log__plates_add(px, "29A12345", &in[i]));
		T_EQ_INT(0, log__plates_copy(px, "29A12345", &got, &cap, &n));
		T_EQ_U64(NPOS, n);
		for (size_t i = 0; i < NPOS; i++) {
			T_EQ_U64((uint64_t)fold_order[i].at, (uint64_t)got[i].at);
			T_EQ_U64(fold_order[i].no, got[i].no);
			T_EQ_U64(fold_order[i].seq, got[i].seq);
		}
		T_EQ_INT(0, log__plates_last(px, "29A12345", &last));
		T_EQ_U64(2, last.no);
		T_EQ_U64(4, last.seq);
		/* the clock's floor is the highest ts, not the last one's */
		T_EQ_INT(0, log__plates_max_ts(px, "29A12345", &ts));
		T_EQ_INT(40, ts);
		free(got);
		log__plates_free(px);
	}
}

TEST(unregistered_stream_is_refused)
{
	log__plates *px = fresh();

	T_EQ_INT(EINVAL, log__plates_add(px, "29A12345", &(log__ppos){ 1, 1, 99, 1 }));
	T_EQ_U64(0, log__plates_count(px));
	log__plates_free(px);
}

TEST(undo_restores_entries_count_and_covered)
{
	log__plates *px = fresh();
	log__ppos a = { 10, 1, 1, 10 }, b = { 9, 2, 1, 50 }, c = { 5, 1, 2, 5 }, got;
	int64_t ts;
	char plate[LOG_PLATE_MAX + 1] = "";

	T_EQ_INT(0, log__plates_add(px, "29A12345", &a));
	T_EQ_U64(1, log__plates_covered(px, 1));
	/* A transaction adds b (same plate) and c (a new plate), then aborts. */
	T_EQ_INT(0, log__plates_add(px, "29A12345", &b));
	T_EQ_INT(0, log__plates_add(px, "51F99999", &c));
	T_EQ_U64(2, log__plates_count(px));
	T_EQ_U64(2, log__plates_covered(px, 1));
	T_EQ_INT(0, log__plates_max_ts(px, "29A12345", &ts));
	T_EQ_INT(50, ts);
	log__plates_remove(px, "51F99999", &c);
	log__plates_remove(px, "29A12345", &b);
	T_EQ_U64(1, log__plates_count(px));
	T_EQ_U64(1, log__plates_covered(px, 1));
	T_EQ_INT(0, log__plates_last(px, "29A12345", &got));
	T_EQ_U64(10, (uint64_t)got.ts);
	/* the undone event's ts is no floor any more */
	T_EQ_INT(0, log__plates_max_ts(px, "29A12345", &ts));
	T_EQ_INT(10, ts);
	T_EQ_INT(LOG_NOTFOUND, log__plates_last(px, "51F99999", &got));
	T_EQ_INT(LOG_NOTFOUND, log__plates_max_ts(px, "51F99999", &ts));
	/* The emptied plate is not listed. */
	T_EQ_INT(0, log__plates_next(px, plate, plate));
	T_EQ_STR("29A12345", plate);
	T_EQ_INT(LOG_END, log__plates_next(px, plate, plate));
	log__plates_free(px);
}

TEST(plates_in_byte_order_across_growth)
{
	log__plates *px = fresh();
	char plate[LOG_PLATE_MAX + 1] = "", prev[LOG_PLATE_MAX + 1] = "";
	int n = 0;

	/* Enough plates to grow the table several times, added out of order. */
	for (int i = 0; i < 5000; i++) {
		char p[LOG_PLATE_MAX + 1];

		snprintf(p, sizeof p, "%02dA%05d", (i * 37) % 100, (i * 7919) % 5000);
		T_EQ_INT(0, log__plates_add(px, p, &(log__ppos){ i, (uint64_t)i + 1, 1, i }));
		if (i == 2500) {	/* a listing in between, then more adds */
			T_EQ_INT(0, log__plates_next(px, "", plate));
			plate[0] = '\0';
		}
	}
	T_EQ_U64(5000, log__plates_count(px));
	while (log__plates_next(px, plate, plate) == 0) {
		T_ASSERT(strcmp(prev, plate) < 0);
		memcpy(prev, plate, sizeof prev);
		n++;
	}
	T_EQ_INT(5000, n);
	/* From the middle: the first plate strictly greater. */
	T_EQ_INT(0, log__plates_next(px, "50A", plate));
	T_ASSERT(strncmp(plate, "50A", 3) == 0);
	log__plates_free(px);
}

TEST(copy_of_an_unknown_plate_is_empty)
{
	log__plates *px = fresh();
	log__ppos *got = NULL;
	size_t cap = 0, n = 7;

	T_EQ_INT(0, log__plates_copy(px, "29A12345", &got, &cap, &n));
	T_EQ_U64(0, n);
	free(got);
	log__plates_free(px);
}

T_MAIN()
