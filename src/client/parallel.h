/* Lanes: the records of one shard processed by N workers at once, as
 * Kinesis's ParallelizationFactor does. A record goes to the lane its
 * partition key hashes to, so the records of one key are processed by one
 * worker, in their order; records of different keys may run at the same
 * time. The caller's thread is lane 0, and parallel_run returns when every
 * lane is done: what each record yields can be written to its own slot
 * and read back in shard order.
 *
 *	struct parallel *l = parallel_new(4);
 *	for (i = 0; i < n; i++)
 *		lane_of[i] = parallel_pick(l, key[i], key_len[i]);
 *	parallel_run(l, lane_of, n, decode_one, ctx);
 */
#ifndef ALLEYCAT_PARALLEL_H
#define ALLEYCAT_PARALLEL_H

#include <stddef.h>
#include <stdint.h>

#define PARALLEL_MAX 10                    /* Kinesis allows factors 1..10 */

struct parallel;

/* Called for record `index` on the lane that owns it. */
typedef void (*parallel_fn)(void *ctx, unsigned lane, size_t index);

/* n lanes (1..PARALLEL_MAX): n - 1 threads besides the caller's. NULL when
 * n is out of range or a thread cannot start. */
struct parallel *parallel_new(unsigned n);
void parallel_free(struct parallel *l);
unsigned parallel_count(const struct parallel *l);

/* The lane of a partition key: the same key, the same lane. */
unsigned parallel_pick(const struct parallel *l, const char *key, size_t len);

/* Calls fn for every index below count, on lane lane_of[index], in
 * increasing index order within a lane, and returns when all are done. */
void parallel_run(struct parallel *l, const uint8_t *lane_of, size_t count, parallel_fn fn, void *ctx);

#endif
