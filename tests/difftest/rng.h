/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DIFFTEST_RNG_H
#define DIFFTEST_RNG_H

#include <stdbool.h>
#include <stdint.h>

/*
 * SplitMix64 (Steele, Lea, Flood: "Fast splittable pseudorandom number
 * generators", OOPSLA 2014): small, and the same sequence on every platform
 * and library version, so a seed printed today reproduces a case later.
 */
struct rng {
	uint64_t state;
};

static inline uint64_t rng_next(struct rng *rng)
{
	uint64_t z = (rng->state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The generator of case number index of a run seeded with seed. */
static inline void rng_init_case(struct rng *rng, uint64_t seed, uint64_t index, uint64_t stream)
{
	rng->state = seed;
	rng->state = rng_next(rng) ^ (index * 0xd1b54a32d192ed03ULL) ^ (stream << 56);
	rng_next(rng);
}

/* Uniform in [0, n); n > 0.  The modulo bias is irrelevant here. */
static inline uint64_t rng_below(struct rng *rng, uint64_t n)
{
	return rng_next(rng) % n;
}

static inline bool rng_percent(struct rng *rng, unsigned int percent)
{
	return rng_below(rng, 100) < percent;
}

#endif
