/* A small seedable random number generator: xoshiro256** seeded through
 * splitmix64.
 *
 * The draws are integer arithmetic, or conversions and scalings by powers of
 * two that IEEE 754 makes exact, so a seed draws the same numbers on every
 * platform and with every compiler: no libm call (log, cos) whose last bit
 * may differ between C libraries, and no multiply-add that a compiler could
 * fuse (rng_uniform_range alone has one). That is what lets
 * `alleycat sim --seed N` repeat itself byte for byte.
 *
 * Not for secrets. */
#ifndef ALLEYCAT_RNG_H
#define ALLEYCAT_RNG_H

#include <stdint.h>

struct rng {
	uint64_t s[4];
};

/* One step of splitmix64 on x: a good 64-bit mixing function on its own. */
uint64_t rng_mix(uint64_t x);

/* Combines two values into one seed, order mattering (a then b), so that
 * related streams (one per racer, per race) are far apart. */
uint64_t rng_hash2(uint64_t a, uint64_t b);

/* Seeds a generator: any seed, 0 included, gives a usable state. */
void rng_seed(struct rng *r, uint64_t seed);

/* The next 64 random bits. */
uint64_t rng_next(struct rng *r);

/* Uniform integer in [0, n), without modulo bias; 0 when n is 0. */
uint64_t rng_below(struct rng *r, uint64_t n);

/* Uniform integer in [lo, hi], both included; lo when hi < lo. */
int64_t rng_range(struct rng *r, int64_t lo, int64_t hi);

/* Uniform double in [0, 1), a multiple of 2^-53. */
double rng_uniform(struct rng *r);

/* Uniform double in [lo, hi] (hi only by rounding). Its last bit may depend
 * on whether the compiler fuses the multiply-add: fine for jitter, not for
 * anything that must repeat across platforms. */
double rng_uniform_range(struct rng *r, double lo, double hi);

/* Standard normal in fixed point: mean 0, standard deviation exactly 2^32
 * (RNG_NORMAL_ONE). The Irwin-Hall sum of twelve 32-bit uniforms: close to
 * normal, computed with integers only, and never beyond 6 standard
 * deviations, so a simulated racer has no freak seconds. */
#define RNG_NORMAL_ONE ((int64_t)1 << 32)
int64_t rng_normal_fixed(struct rng *r);

/* The same draw scaled to integer noise with standard deviation sd (at most
 * 2^28), truncated toward zero so that it stays symmetric about 0. */
int64_t rng_normal_scaled(struct rng *r, int64_t sd);

/* The same draw as a double: mean 0, standard deviation 1, in [-6, 6]. */
double rng_normal(struct rng *r);

/* 64 bits no other process is likely to draw: from the kernel's random
 * source, or, should it fail, the clocks and the process id mixed. For
 * what must differ between runs (an unseeded simulator's race ids), never
 * for what a seed must repeat. */
uint64_t rng_entropy(void);

#endif
