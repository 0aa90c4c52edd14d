/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Deterministic pseudo-random numbers for the simulator (splitmix64 seeding + xoshiro256**): the same seed
 * gives the same nodes, keys, IVs, session ids and faults. Not for real keys. */

#include "macro.h"

typedef struct SimRand {
        uint64_t s[4];
} SimRand;

static inline uint64_t sim_rand_splitmix(uint64_t *x) {
        uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
}

static inline void sim_rand_seed(SimRand *r, uint64_t seed) {
        for (int i = 0; i < 4; i++)
                r->s[i] = sim_rand_splitmix(&seed);
}

static inline uint64_t sim_rand_rotl(uint64_t x, int k) {
        return (x << k) | (x >> (64 - k));
}

static inline uint64_t sim_rand_u64(SimRand *r) {
        uint64_t *s = r->s;
        uint64_t result = sim_rand_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = sim_rand_rotl(s[3], 45);
        return result;
}

/* Uniform in [0, n); n > 0. */
static inline uint64_t sim_rand_below(SimRand *r, uint64_t n) {
        return n == 0 ? 0 : sim_rand_u64(r) % n;
}

/* True with probability p (0..1). */
static inline bool sim_rand_chance(SimRand *r, double p) {
        if (p <= 0)
                return false;
        return (double)(sim_rand_u64(r) >> 11) * (1.0 / 9007199254740992.0) < p;
}

static inline void sim_rand_bytes(SimRand *r, void *p, size_t n) {
        uint8_t *b = p;
        for (size_t i = 0; i < n; i++)
                b[i] = (uint8_t)(sim_rand_u64(r) >> 56);
}

/* An independent stream derived from this one (e.g. one per node), so adding draws in one place does not
 * shift every other. */
static inline void sim_rand_fork(SimRand *r, uint64_t salt, SimRand *ret) {
        sim_rand_seed(ret, sim_rand_u64(r) ^ (salt * 0xD1B54A32D192ED03ULL));
}
