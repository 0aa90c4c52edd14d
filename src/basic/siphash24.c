/* SPDX-License-Identifier: Apache-2.0 */
#include "siphash24.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static uint64_t load_le64(const uint8_t *p) {
        uint64_t v = 0;
        for (int i = 7; i >= 0; i--)
                v = (v << 8) | p[i];
        return v;
}

#define SIPROUND                   \
        do {                       \
                v0 += v1;          \
                v1 = ROTL(v1, 13); \
                v1 ^= v0;          \
                v0 = ROTL(v0, 32); \
                v2 += v3;          \
                v3 = ROTL(v3, 16); \
                v3 ^= v2;          \
                v0 += v3;          \
                v3 = ROTL(v3, 21); \
                v3 ^= v0;          \
                v2 += v1;          \
                v1 = ROTL(v1, 17); \
                v1 ^= v2;          \
                v2 = ROTL(v2, 32); \
        } while (0)

uint64_t siphash24(const void *in, size_t inlen, const uint8_t key[static 16]) {
        const uint8_t *p = in;
        uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
        uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
        uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
        uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
        uint64_t v3 = 0x7465646279746573ULL ^ k1;
        size_t blocks = inlen / 8;

        for (size_t i = 0; i < blocks; i++) {
                uint64_t m = load_le64(p + 8 * i);
                v3 ^= m;
                SIPROUND;
                SIPROUND;
                v0 ^= m;
        }

        uint64_t b = (uint64_t)inlen << 56;
        size_t left = inlen & 7;
        const uint8_t *tail = p + 8 * blocks;
        for (size_t i = 0; i < left; i++)
                b |= (uint64_t)tail[i] << (8 * i);

        v3 ^= b;
        SIPROUND;
        SIPROUND;
        v0 ^= b;
        v2 ^= 0xff;
        SIPROUND;
        SIPROUND;
        SIPROUND;
        SIPROUND;
        return v0 ^ v1 ^ v2 ^ v3;
}
