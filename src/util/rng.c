#include "config.h"
#include "util/rng.h"

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* splitmix64's increment: the golden ratio in 64 bits. */
#define RNG_GOLDEN 0x9e3779b97f4a7c15ULL

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t rng_mix(uint64_t x)
{
	x += RNG_GOLDEN;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

uint64_t rng_hash2(uint64_t a, uint64_t b)
{
	/* Mixing a before adding b keeps (a, b) and (b, a) apart. */
	return rng_mix(rng_mix(a) ^ rotl(b, 17) ^ 0x6a09e667f3bcc909ULL);
}

void rng_seed(struct rng *r, uint64_t seed)
{
	/* splitmix64's consecutive outputs: never all zero, which is the one
	 * state xoshiro cannot leave. */
	for (int i = 0; i < 4; i++) {
		r->s[i] = rng_mix(seed);
		seed += RNG_GOLDEN;
	}
}

uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint64_t rng_below(struct rng *r, uint64_t n)
{
	/* Values below 2^64 mod n would make the low residues more likely:
	 * draw again (rarely: at most once in two draws, usually never). */
	uint64_t threshold, x;

	if (n == 0)
		return 0;
	threshold = -n % n;
	do
		x = rng_next(r);
	while (x < threshold);
	return x % n;
}

int64_t rng_range(struct rng *r, int64_t lo, int64_t hi)
{
	uint64_t span;

	if (hi < lo)
		return lo;
	span = (uint64_t)hi - (uint64_t)lo + 1;
	/* span wraps to 0 for the whole int64 range: every value will do. */
	return (int64_t)((uint64_t)lo + (span ? rng_below(r, span) : rng_next(r)));
}

double rng_uniform(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

double rng_uniform_range(struct rng *r, double lo, double hi)
{
	return lo + (hi - lo) * rng_uniform(r);
}

int64_t rng_normal_fixed(struct rng *r)
{
	/* Twelve uniforms on [0, 2^32) have mean 6 * 2^32 and variance
	 * 12 * (2^64 / 12) = 2^64: subtracting the mean leaves a standard
	 * deviation of 2^32. Each 64-bit draw gives two of them. */
	int64_t sum = 0;

	for (int i = 0; i < 6; i++) {
		uint64_t x = rng_next(r);
		sum += (int64_t)(x >> 32) + (int64_t)(x & 0xffffffffu);
	}
	return sum - 6 * RNG_NORMAL_ONE;
}

int64_t rng_normal_scaled(struct rng *r, int64_t sd)
{
	return rng_normal_fixed(r) * sd / RNG_NORMAL_ONE;
}

double rng_normal(struct rng *r)
{
	/* Below 2^36 in magnitude: exact as a double, and so is the scaling. */
	return (double)rng_normal_fixed(r) * 0x1.0p-32;
}

uint64_t rng_entropy(void)
{
	uint64_t x;
	struct timespec wall, mono;

	if (getrandom(&x, sizeof(x), GRND_NONBLOCK) == (ssize_t)sizeof(x))
		return x;
	/* No kernel entropy (very early boot, a seccomp sandbox): two runs
	 * still differ in their start time or their process id. */
	clock_gettime(CLOCK_REALTIME, &wall);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	x = rng_hash2((uint64_t)wall.tv_sec * 1000000000ULL + (uint64_t)wall.tv_nsec,
		      (uint64_t)mono.tv_nsec);
	return rng_hash2(x, (uint64_t)getpid());
}
