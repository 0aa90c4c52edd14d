/* SPDX-License-Identifier: Apache-2.0 */
/* Key wrapping at rest (AES-256-GCM): round trip, and every way a blob can be wrong. */
#include "provcrypto.h"
#include "test-helpers.h"

static const uint8_t secret[PROV_FACTORY_KEY_SIZE] = {
        0x8a, 0x3f, 0x19, 0xc4, 0xe7, 0x01, 0x5b, 0x62, 0xd9, 0x0e, 0x44, 0xa7, 0xc3, 0xb2, 0x8f, 0x51,
        0x2c, 0x7e, 0x90, 0xd1, 0xa4, 0x5f, 0x3b, 0x68, 0xe2, 0x19, 0x0c, 0x7d, 0x5a, 0xb4, 0xe3, 0xf6,
};

static void master_key(uint8_t m[static KEYWRAP_MASTER_KEY_SIZE], uint8_t seed) {
        for (size_t i = 0; i < KEYWRAP_MASTER_KEY_SIZE; i++)
                m[i] = (uint8_t)(seed + 7 * i);
}

static void test_round_trip(void **state) {
        uint8_t m[KEYWRAP_MASTER_KEY_SIZE], blob[128], out[64];
        int n;

        master_key(m, 1);
        n = keywrap_seal(m, "vendor:acme", secret, sizeof(secret), blob, sizeof(blob));
        assert_int_equal(n, sizeof(secret) + KEYWRAP_OVERHEAD);
        assert_int_equal(blob[0], 1); /* version */
        /* the secret does not appear in the blob */
        assert_memory_not_equal(blob + 13, secret, sizeof(secret));

        memset(out, 0, sizeof(out));
        assert_int_equal(keywrap_open(m, "vendor:acme", blob, (size_t)n, out, sizeof(out)), sizeof(secret));
        assert_memory_equal(out, secret, sizeof(secret));
}

static void test_nonce_is_fresh(void **state) {
        uint8_t m[KEYWRAP_MASTER_KEY_SIZE], a[128], b[128];

        master_key(m, 2);
        assert_int_equal(keywrap_seal(m, "x", secret, sizeof(secret), a, sizeof(a)), 61);
        assert_int_equal(keywrap_seal(m, "x", secret, sizeof(secret), b, sizeof(b)), 61);
        /* same key, aad and plaintext: a repeated nonce would give the same blob */
        assert_memory_not_equal(a + 1, b + 1, 12);
        assert_memory_not_equal(a, b, 61);
}

static void test_wrong_key_or_aad(void **state) {
        uint8_t m[KEYWRAP_MASTER_KEY_SIZE], other[KEYWRAP_MASTER_KEY_SIZE], blob[128], out[64];
        static const uint8_t zero[64] = {};
        int n;

        master_key(m, 3);
        memcpy(other, m, sizeof(other));
        other[31] ^= 0x01;
        n = keywrap_seal(m, "device:0102", secret, sizeof(secret), blob, sizeof(blob));
        assert_int_equal(n, 61);

        memset(out, 0xee, sizeof(out));
        assert_int_equal(keywrap_open(other, "device:0102", blob, (size_t)n, out, sizeof(out)), -EBADMSG);
        assert_memory_equal(out, zero, sizeof(secret)); /* nothing of the plaintext stays behind */
        assert_int_equal(keywrap_open(m, "device:0103", blob, (size_t)n, out, sizeof(out)), -EBADMSG);
        assert_int_equal(keywrap_open(m, "device:010", blob, (size_t)n, out, sizeof(out)), -EBADMSG);
        assert_int_equal(keywrap_open(m, NULL, blob, (size_t)n, out, sizeof(out)), -EBADMSG);
        assert_int_equal(keywrap_open(m, "device:0102", blob, (size_t)n, out, sizeof(out)), 32);
}

static void test_null_aad_is_empty(void **state) {
        uint8_t m[KEYWRAP_MASTER_KEY_SIZE], blob[128], out[64];
        int n;

        master_key(m, 4);
        n = keywrap_seal(m, NULL, secret, 16, blob, sizeof(blob));
        assert_int_equal(n, 16 + KEYWRAP_OVERHEAD);
        assert_int_equal(keywrap_open(m, "", blob, (size_t)n, out, sizeof(out)), 16);
        assert_memory_equal(out, secret, 16);
}

/* One flipped bit anywhere (version, nonce, ciphertext, tag) and the blob is refused. */
static void test_flipped_bytes(void **state) {
        uint8_t m[KEYWRAP_MASTER_KEY_SIZE], blob[128], mod[128], out[64];
        int n;

        master_key(m, 5);
        n = keywrap_seal(m, "network:plant", secret, sizeof(secret), blob, sizeof(blob));
        assert_int_equal(n, 61);
        for (int i = 0; i < n; i++)
                for (int bit = 0; bit < 8; bit += 7) {
                        memcpy(mod, blob, (size_t)n);
                        mod[i] ^= (uint8_t)(1u << bit);
                        assert_int_equal(keywrap_open(m, "network:plant", mod, (size_t)n, out, sizeof(out)),
                                         -EBADMSG);
                }
}

static void test_lengths(void **state) {
        uint8_t m[KEYWRAP_MASTER_KEY_SIZE], blob[128], out[64];
        int n;

        master_key(m, 6);
        /* too small an output buffer for the blob */
        assert_int_equal(
                keywrap_seal(m, "a", secret, sizeof(secret), blob, sizeof(secret) + KEYWRAP_OVERHEAD - 1),
                -EMSGSIZE);
        n = keywrap_seal(m, "a", secret, sizeof(secret), blob, sizeof(blob));
        assert_int_equal(n, 61);
        /* truncated blobs, and a blob shorter than the overhead */
        assert_int_equal(keywrap_open(m, "a", blob, (size_t)n - 1, out, sizeof(out)), -EBADMSG);
        assert_int_equal(keywrap_open(m, "a", blob, KEYWRAP_OVERHEAD - 1, out, sizeof(out)), -EBADMSG);
        assert_int_equal(keywrap_open(m, "a", blob, 0, out, sizeof(out)), -EBADMSG);
        /* plaintext would not fit */
        assert_int_equal(keywrap_open(m, "a", blob, (size_t)n, out, sizeof(secret) - 1), -EMSGSIZE);

        /* an empty secret round-trips too */
        n = keywrap_seal(m, "a", NULL, 0, blob, sizeof(blob));
        assert_int_equal(n, KEYWRAP_OVERHEAD);
        assert_int_equal(keywrap_open(m, "a", blob, (size_t)n, out, sizeof(out)), 0);
        assert_int_equal(keywrap_open(m, "b", blob, (size_t)n, out, sizeof(out)), -EBADMSG);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip),       cmocka_unit_test(test_nonce_is_fresh),
                cmocka_unit_test(test_wrong_key_or_aad), cmocka_unit_test(test_null_aad_is_empty),
                cmocka_unit_test(test_flipped_bytes),    cmocka_unit_test(test_lengths),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
