/* Lanes: the records of one shard processed by N workers at once, as
 * Kinesis's ParallelizationFactor does. A record goes to the lane its
 * partition key hashes to, so the records of one key are processed by one
 * worker, in their order; records of different keys may run at the same
 * time. The caller's thread is lane 0, and lanes_run returns when every
 * lane is done: what each record yields can be written to its own slot
 * and read back in shard order.
 *
 *	struct lanes *l = lanes_new(4);
 *	for (i = 0; i < n; i++)
 *		lane_of[i] = lanes_pick(l, key[i], key_len[i]);
 *	lanes_run(l, lane_of, n, decode_one, ctx);
 */
#ifndef ALLEYCAT_LANES_H
#define ALLEYCAT_LANES_H

#include <stddef.h>
#include <stdint.h>

#define LANES_MAX 10                    /* Kinesis allows factors 1..10 */

struct lanes;

/* Called for record `index` on the lane that owns it. */
typedef void (*lanes_fn)(void *ctx, unsigned lane, size_t index);

/* n lanes (1..LANES_MAX): n - 1 threads besides the caller's. NULL when
 * n is out of range or a thread cannot start. */
struct lanes *lanes_new(unsigned n);
void lanes_free(struct lanes *l);
unsigned lanes_count(const struct lanes *l);

/* The lane of a partition key: the same key, the same lane. */
unsigned lanes_pick(const struct lanes *l, const char *key, size_t len);

/* Calls fn for every index below count, on lane lane_of[index], in
 * increasing index order within a lane, and returns when all are done. */
void lanes_run(struct lanes *l, const uint8_t *lane_of, size_t count, lanes_fn fn, void *ctx);

#endif
