/* SPDX-License-Identifier: Apache-2.0 */
/* The DATA packet crypto against the reference vectors (tests/data/prov_vectors.json), the primitives
 * against their published test vectors, fingerprints and the vendor key derivation. */
#include "cursor.h"
#include "prov-vectors.h"
#include "provcrypto.h"
#include "provdata.h"
#include "provmsg.h"
#include "test-helpers.h"

static size_t unhex(const char *hex, uint8_t *buf, size_t bufsz) {
        assert_non_null(hex);
        return test_unhex(hex, buf, bufsz);
}

static ProvHeader vector_header(const ProvVector *v, ProvMsgType type) {
        ProvHeader h = { .type = type, .session_id = v->session_id };
        assert_int_equal(unhex(v->node_address_le_hex, h.address, sizeof(h.address)), 4);
        return h;
}

static void test_aes_block_fips197(void **state) {
        uint8_t key[16], in[16], out[16];

        unhex("000102030405060708090a0b0c0d0e0f", key, sizeof(key));
        unhex("00112233445566778899aabbccddeeff", in, sizeof(in));
        assert_int_equal(aes128_encrypt_block(key, in, out), 0);
        assert_memory_equal_hex(out, sizeof(out), "69c4e0d86a7b0430d8cdb78070b4c55a");
}

static void test_cmac_rfc4493(void **state) {
        uint8_t key[16], msg[64], mac[16];
        size_t n;

        unhex("2b7e151628aed2a6abf7158809cf4f3c", key, sizeof(key));
        assert_int_equal(aes128_cmac(key, NULL, 0, mac), 0);
        assert_memory_equal_hex(mac, sizeof(mac), "bb1d6929e95937287fa37d129b756746");

        n = unhex("6bc1bee22e409f96e93d7e117393172a", msg, sizeof(msg));
        assert_int_equal(aes128_cmac(key, msg, n, mac), 0);
        assert_memory_equal_hex(mac, sizeof(mac), "070a16b46b4d4144f79bdd9dd04a287c");

        n = unhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411", msg,
                  sizeof(msg));
        assert_int_equal(aes128_cmac(key, msg, n, mac), 0);
        assert_memory_equal_hex(mac, sizeof(mac), "dfa66747de9ae63030ca32611497c827");
}

/* MIC = first 5 bytes of CMAC(auth key = factory_key[0..15], authenticated bytes). */
static void test_mic_vectors(void **state) {
        unsigned checked = 0;

        for (size_t i = 0; i < PROV_VECTORS_N; i++) {
                const ProvVector *v = &prov_vectors[i];
                uint8_t fk[PROV_FACTORY_KEY_SIZE], auth[256], mac[16];
                size_t n;

                if (!v->mic_hex || !v->expect_accept)
                        continue;
                unhex(v->factory_key_hex, fk, sizeof(fk));
                n = unhex(v->authenticated_bytes_hex, auth, sizeof(auth));
                assert_int_equal(n, PROV_DATA_HEADER_SIZE + v->cbor_len);
                assert_int_equal(aes128_cmac(fk, auth, n, mac), 0);
                assert_memory_equal_hex(mac, PROV_MIC_SIZE, v->mic_hex);
                checked++;
        }
        assert_int_equal(checked, 4);
}

/* The first key stream block is AES(enc, ICB): XOR over zeros must give exactly that for the vector's ICB.
 */
static void test_icb_vectors(void **state) {
        unsigned checked = 0;

        for (size_t i = 0; i < PROV_VECTORS_N; i++) {
                const ProvVector *v = &prov_vectors[i];
                uint8_t fk[PROV_FACTORY_KEY_SIZE], iv[16], icb[16], expect[16], buf[16] = {};

                if (!v->icb_hex)
                        continue;
                unhex(v->factory_key_hex, fk, sizeof(fk));
                unhex(v->iv_hex, iv, sizeof(iv));
                unhex(v->icb_hex, icb, sizeof(icb));
                assert_int_equal(aes128_encrypt_block(fk + 16, icb, expect), 0);
                assert_int_equal(prov_ctr_xor(fk + 16, iv, v->counter, buf, sizeof(buf)), 0);
                assert_memory_equal(buf, expect, 16);
                checked++;
        }
        assert_int_equal(checked, 4);
}

/* Counter blocks are 128-bit little-endian numbers: the carry runs through all 16 bytes and wraps mod 2^128.
 * Expected counter blocks written out by hand. */
static void test_ctr_little_endian_carry(void **state) {
        static const struct {
                const char *iv;
                uint16_t counter;
                const char *blocks[3];
        } cases[] = {
                /* the vector secured_iv_carry_wrap: IV all ones + 0x100 */
                { "ffffffffffffffffffffffffffffffff",
                  0x0100,
                  { "ff000000000000000000000000000000", "00010000000000000000000000000000",
                    "01010000000000000000000000000000" } },
                /* all ones + 1 wraps to zero */
                { "ffffffffffffffffffffffffffffffff",
                  1,
                  { "00000000000000000000000000000000", "01000000000000000000000000000000",
                    "02000000000000000000000000000000" } },
                /* a carry out of the low 64 bits into the high half */
                { "feffffffffffffff0000000000000000",
                  1,
                  { "ffffffffffffffff0000000000000000", "00000000000000000100000000000000",
                    "01000000000000000100000000000000" } },
                /* the 16-bit counter itself carries into byte 2 */
                { "ffff0000000000000000000000000080",
                  0xffff,
                  { "feff0100000000000000000000000080", "ffff0100000000000000000000000080",
                    "00000200000000000000000000000080" } },
        };
        uint8_t key[16];

        unhex("101112131415161718191a1b1c1d1e1f", key, sizeof(key));
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint8_t iv[16], buf[48] = {}, expect[48];

                unhex(cases[i].iv, iv, sizeof(iv));
                for (size_t b = 0; b < 3; b++) {
                        uint8_t block[16];
                        unhex(cases[i].blocks[b], block, sizeof(block));
                        assert_int_equal(aes128_encrypt_block(key, block, expect + 16 * b), 0);
                }
                /* 45 bytes: a partial last block is cut, not padded */
                assert_int_equal(prov_ctr_xor(key, iv, cases[i].counter, buf, 45), 0);
                assert_memory_equal(buf, expect, 45);
                assert_int_equal(buf[45] | buf[46] | buf[47], 0);
        }
}

/* CTR is its own inverse, and longer streams (more than one internal chunk) stay continuous. */
static void test_ctr_long_stream(void **state) {
        uint8_t key[16], iv[16], a[300], b[300];

        unhex("00112233445566778899aabbccddeeff", key, sizeof(key));
        memset(iv, 0xfe, sizeof(iv));
        for (size_t i = 0; i < sizeof(a); i++)
                a[i] = (uint8_t)i;
        memcpy(b, a, sizeof(a));
        assert_int_equal(prov_ctr_xor(key, iv, 0xfff0, b, sizeof(b)), 0);
        assert_memory_not_equal(a, b, sizeof(a));
        /* block k + 1 of this stream is block k of the stream that starts one counter value later */
        uint8_t c[300 - 16];
        memcpy(c, a + 16, sizeof(c));
        assert_int_equal(prov_ctr_xor(key, iv, 0xfff1, c, sizeof(c)), 0);
        assert_memory_equal(c, b + 16, sizeof(c));
        assert_int_equal(prov_ctr_xor(key, iv, 0xfff0, b, sizeof(b)), 0);
        assert_memory_equal(a, b, sizeof(a));
}

/* Whole DATA packets: prefix from provmsg_build_data_prefix(), then CBOR in clear (key index 0) or sealed.
 */
static void test_packet_vectors(void **state) {
        unsigned built = 0;

        for (size_t i = 0; i < PROV_VECTORS_N; i++) {
                const ProvVector *v = &prov_vectors[i];
                ProvHeader h = vector_header(v, PROV_MSG_DATA);
                uint8_t cbor[128], pkt[PROV_PDU_MAX], iv[16], fk[PROV_FACTORY_KEY_SIZE];
                size_t n;
                int r;

                if (!v->expect_accept)
                        continue;
                n = unhex(v->cbor_hex, cbor, sizeof(cbor));
                unhex(v->iv_hex, iv, sizeof(iv));
                assert_int_equal(provmsg_build_data_prefix(&h, (ProvKeyIndex)v->key_index, v->counter, pkt),
                                 PROV_DATA_HEADER_SIZE);
                if (v->key_index == PROV_KEY_INDEX_PLAINTEXT) {
                        assert_null(v->factory_key_hex);
                        memcpy(pkt + PROV_DATA_HEADER_SIZE, cbor, n);
                        r = (int)n;
                } else {
                        unhex(v->factory_key_hex, fk, sizeof(fk));
                        r = prov_data_seal(fk, iv, pkt, cbor, n, pkt + PROV_DATA_HEADER_SIZE,
                                           sizeof(pkt) - PROV_DATA_HEADER_SIZE);
                        assert_int_equal(r, n + PROV_MIC_SIZE);
                }
                assert_memory_equal_hex(pkt, PROV_DATA_HEADER_SIZE + (size_t)r, v->packet_hex);
                built++;
        }
        assert_int_equal(built, 5);
}

/* The node side: every secured vector opens to its CBOR; the tampered one is refused and nothing leaks. */
static void test_open_vectors(void **state) {
        unsigned opened = 0, refused = 0;

        for (size_t i = 0; i < PROV_VECTORS_N; i++) {
                const ProvVector *v = &prov_vectors[i];
                uint8_t pkt[PROV_PDU_MAX], iv[16], fk[PROV_FACTORY_KEY_SIZE], out[PROV_PDU_MAX];
                size_t n, ct_len;
                int r;

                if (v->key_index != PROV_KEY_INDEX_FACTORY)
                        continue;
                n = unhex(v->packet_hex, pkt, sizeof(pkt));
                unhex(v->iv_hex, iv, sizeof(iv));
                unhex(v->factory_key_hex, fk, sizeof(fk));
                ct_len = n - PROV_DATA_HEADER_SIZE;
                memset(out, 0xa5, sizeof(out));
                r = prov_data_open(fk, iv, pkt, pkt + PROV_DATA_HEADER_SIZE, ct_len, out, sizeof(out));
                if (v->expect_accept) {
                        assert_int_equal(r, v->cbor_len);
                        assert_memory_equal_hex(out, (size_t)r, v->cbor_hex);
                        opened++;
                } else {
                        uint8_t zero[PROV_PDU_MAX] = {};
                        assert_int_equal(r, -EBADMSG);
                        assert_memory_equal(out, zero, ct_len - PROV_MIC_SIZE); /* wiped */
                        refused++;
                }
        }
        assert_int_equal(opened, 4);
        assert_int_equal(refused, 1);
}

static const ProvVector *find_vector(const char *name) {
        for (size_t i = 0; i < PROV_VECTORS_N; i++)
                if (streq(prov_vectors[i].name, name))
                        return &prov_vectors[i];
        fail_msg("no vector '%s'", name);
        return NULL;
}

/* What the node harness also refused (ref-provisioning §12): anything the MIC covers, the key split, the key
 * index, lengths. */
static void test_open_rejects(void **state) {
        const ProvVector *v = find_vector("secured");
        uint8_t pkt[PROV_PDU_MAX], iv[16], fk[PROV_FACTORY_KEY_SIZE], swapped[PROV_FACTORY_KEY_SIZE];
        uint8_t out[PROV_PDU_MAX], mod[PROV_PDU_MAX];
        size_t n = unhex(v->packet_hex, pkt, sizeof(pkt)), ct_len = n - PROV_DATA_HEADER_SIZE;

        unhex(v->iv_hex, iv, sizeof(iv));
        unhex(v->factory_key_hex, fk, sizeof(fk));
        memcpy(swapped, fk + 16, 16);
        memcpy(swapped + 16, fk, 16);

        /* sanity: the unmodified packet opens */
        assert_int_equal(prov_data_open(fk, iv, pkt, pkt + 9, ct_len, out, sizeof(out)), v->cbor_len);

        /* every byte of the prefix except the key index (checked separately), and every ciphertext byte */
        for (size_t pos = 0; pos < n; pos++) {
                if (pos == 6)
                        continue;
                memcpy(mod, pkt, n);
                mod[pos] ^= 0x01;
                assert_int_equal(prov_data_open(fk, iv, mod, mod + 9, ct_len, out, sizeof(out)), -EBADMSG);
        }
        memcpy(mod, pkt, n);
        mod[6] = 0; /* key index 0 for a secured node */
        assert_int_equal(prov_data_open(fk, iv, mod, mod + 9, ct_len, out, sizeof(out)), -EBADMSG);

        assert_int_equal(prov_data_open(swapped, iv, pkt, pkt + 9, ct_len, out, sizeof(out)), -EBADMSG);
        iv[15] ^= 0x80;
        assert_int_equal(prov_data_open(fk, iv, pkt, pkt + 9, ct_len, out, sizeof(out)), -EBADMSG);
        iv[15] ^= 0x80;

        /* a truncated packet (the node cuts what exceeds its buffer) */
        assert_int_equal(prov_data_open(fk, iv, pkt, pkt + 9, ct_len - 1, out, sizeof(out)), -EBADMSG);
        assert_int_equal(prov_data_open(fk, iv, pkt, pkt + 9, PROV_MIC_SIZE, out, sizeof(out)), -EBADMSG);
        assert_int_equal(prov_data_open(fk, iv, pkt, pkt + 9, 0, out, sizeof(out)), -EBADMSG);
        assert_int_equal(prov_data_open(fk, iv, pkt, pkt + 9, ct_len, out, v->cbor_len - 1), -EMSGSIZE);
}

static void test_seal_open_in_place(void **state) {
        const ProvVector *v = find_vector("secured_user_specific");
        uint8_t pkt[PROV_PDU_MAX], iv[16], fk[PROV_FACTORY_KEY_SIZE];
        size_t n;

        unhex(v->iv_hex, iv, sizeof(iv));
        unhex(v->factory_key_hex, fk, sizeof(fk));
        ProvHeader h = vector_header(v, PROV_MSG_DATA);
        assert_int_equal(provmsg_build_data_prefix(&h, PROV_KEY_INDEX_FACTORY, v->counter, pkt), 9);
        n = unhex(v->cbor_hex, pkt + 9, sizeof(pkt) - 9);

        assert_int_equal(prov_data_seal(fk, iv, pkt, pkt + 9, n, pkt + 9, sizeof(pkt) - 9), n + 5);
        assert_memory_equal_hex(pkt, 9 + n + 5, v->packet_hex);
        assert_int_equal(prov_data_open(fk, iv, pkt, pkt + 9, n + 5, pkt + 9, sizeof(pkt) - 9), n);
        assert_memory_equal_hex(pkt + 9, n, v->cbor_hex);
}

static void test_seal_rejects(void **state) {
        uint8_t fk[PROV_FACTORY_KEY_SIZE] = { 1 }, iv[16] = {}, prefix[9], cbor[8] = { 0xa0 }, out[32];
        ProvHeader h = {};

        assert_int_equal(provmsg_build_data_prefix(&h, PROV_KEY_INDEX_FACTORY, 1, prefix), 9);
        assert_int_equal(prov_data_seal(fk, iv, prefix, cbor, sizeof(cbor), out, sizeof(cbor) + 4),
                         -EMSGSIZE);
        assert_int_equal(prov_data_seal(fk, iv, prefix, cbor, 0, out, sizeof(out)), -EINVAL);
        assert_int_equal(prov_data_seal(fk, iv, prefix, cbor, sizeof(cbor), out, sizeof(cbor) + 5),
                         sizeof(cbor) + 5);
        assert_int_equal(provmsg_build_data_prefix(&h, PROV_KEY_INDEX_PLAINTEXT, 1, prefix), 9);
        assert_int_equal(prov_data_seal(fk, iv, prefix, cbor, sizeof(cbor), out, sizeof(out)), -EINVAL);
}

/* The accepted edge cases of ref §12 end to end: a secured DATA of exactly 102 bytes (an 88-byte map) with
 * counter 0, built, parsed, opened and decoded as the node would; one byte more and the parser refuses it.
 */
static void test_full_size_packet_counter_zero(void **state) {
        ProvHeader h = { .address = { 0xee, 0xff, 0xc0, 0x00 }, .session_id = 3 };
        uint8_t fk[PROV_FACTORY_KEY_SIZE], iv[16], cbor[PROV_PDU_MAX], pkt[PROV_PDU_MAX + 1],
                plain[PROV_PDU_MAX];
        ProvParams p = {}, q;
        ProvMsg m;
        int n, r;

        for (size_t i = 0; i < sizeof(fk); i++)
                fk[i] = (uint8_t)(0xa0 + i);
        memset(iv, 0x77, sizeof(iv));
        memset(p.enc_key, 0x11, 16);
        memset(p.auth_key, 0x22, 16);
        p.network_address = 0x223bad;
        p.channel = 7;
        p.n_user_items = 1;
        p.user_items[0] = (ProvUserItem){ .id = 200, .type = PROV_USER_BYTES, .len = 39 };
        memset(p.user_items[0].data, 0x5a, 39);
        assert_int_equal(prov_params_validate(&p, PROV_PROFILE_24G, true, false, NULL), 0);
        n = provdata_encode(&p, cbor, sizeof(cbor));
        assert_int_equal(n, 88);

        assert_int_equal(provmsg_build_data_prefix(&h, PROV_KEY_INDEX_FACTORY, 0, pkt), 9);
        r = prov_data_seal(fk, iv, pkt, cbor, (size_t)n, pkt + 9, sizeof(pkt) - 9);
        assert_int_equal(r, 93);
        /* counter 0: the first key stream block is AES(enc, IV) itself */
        uint8_t ks[16];
        assert_int_equal(aes128_encrypt_block(fk + 16, iv, ks), 0);
        for (size_t i = 0; i < 16; i++)
                assert_int_equal(pkt[9 + i] ^ ks[i], cbor[i]);

        assert_int_equal(provmsg_parse(pkt, 102, PROV_PDU_MAX_24G, &m), 0);
        assert_int_equal(m.data.counter, 0);
        r = prov_data_open(fk, iv, pkt, m.data.payload, m.data.payload_len, plain, sizeof(plain));
        assert_int_equal(r, 88);
        assert_int_equal(provdata_decode(plain, (size_t)r, &q), 0);
        assert_int_equal(q.n_user_items, 1);
        assert_int_equal(q.user_items[0].len, 39);
        assert_memory_equal(q.user_items[0].data, p.user_items[0].data, 39);

        pkt[102] = 0;
        assert_int_equal(provmsg_parse(pkt, 103, PROV_PDU_MAX_24G, &m), -EMSGSIZE);
}

static void test_fingerprint(void **state) {
        uint8_t key[32];
        char buf[KEY_FINGERPRINT_MAX], other[KEY_FINGERPRINT_MAX], small[KEY_FINGERPRINT_MAX - 1];

        for (size_t i = 0; i < sizeof(key); i++)
                key[i] = (uint8_t)i;
        /* expected: python3 -c 'import hashlib; print(hashlib.sha256(bytes(range(32))).hexdigest()[:16])' */
        assert_ptr_equal(key_fingerprint(key, sizeof(key), buf, sizeof(buf)), buf);
        assert_string_equal(buf, "sha256:630dcd2966c43366");
        assert_int_equal(strlen(buf), KEY_FINGERPRINT_MAX - 1);

        assert_non_null(key_fingerprint(NULL, 0, buf, sizeof(buf)));
        assert_string_equal(buf, "sha256:e3b0c44298fc1c14");

        key[31] ^= 1;
        assert_non_null(key_fingerprint(key, sizeof(key), other, sizeof(other)));
        assert_string_not_equal(other, "sha256:630dcd2966c43366");
        for (const char *p = other + 7; *p; p++)
                assert_true((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'));

        assert_null(key_fingerprint(key, sizeof(key), small, sizeof(small)));
        assert_null(key_fingerprint(key, sizeof(key), NULL, 64));
}

static void test_derive_factory_key(void **state) {
        uint8_t master[32], uid[16], out[PROV_FACTORY_KEY_SIZE], out2[PROV_FACTORY_KEY_SIZE];

        for (size_t i = 0; i < sizeof(master); i++)
                master[i] = (uint8_t)i;
        unhex("58c812ad37e8364aa11f1cbc633e8e34", uid, sizeof(uid));
        /* expected, computed independently:
         * python3 -c 'import hmac, hashlib; print(hmac.new(bytes(range(32)), b"meshprov factory key v1\0" +
         *   bytes.fromhex("58c812ad37e8364aa11f1cbc633e8e34"), hashlib.sha256).hexdigest())' */
        assert_int_equal(prov_derive_factory_key(master, uid, sizeof(uid), out), 0);
        assert_memory_equal_hex(out, sizeof(out),
                                "400e38dc8c755e2c176c00f35b447ce97dd6489e950f9474932b5ce1c9699d78");

        /* one UID byte more changes everything */
        assert_int_equal(prov_derive_factory_key(master, uid, sizeof(uid) - 1, out2), 0);
        assert_memory_not_equal(out, out2, sizeof(out));

        memset(out2, 0x5a, sizeof(out2));
        assert_int_equal(prov_derive_factory_key(master, uid, 0, out2), -EINVAL);
        assert_int_equal(prov_derive_factory_key(master, uid, PROV_UID_MAX + 1, out2), -EINVAL);
        assert_int_equal(out2[0], 0x5a); /* untouched on failure */
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_aes_block_fips197),
                cmocka_unit_test(test_cmac_rfc4493),
                cmocka_unit_test(test_mic_vectors),
                cmocka_unit_test(test_icb_vectors),
                cmocka_unit_test(test_ctr_little_endian_carry),
                cmocka_unit_test(test_ctr_long_stream),
                cmocka_unit_test(test_packet_vectors),
                cmocka_unit_test(test_open_vectors),
                cmocka_unit_test(test_open_rejects),
                cmocka_unit_test(test_seal_open_in_place),
                cmocka_unit_test(test_seal_rejects),
                cmocka_unit_test(test_full_size_packet_counter_zero),
                cmocka_unit_test(test_fingerprint),
                cmocka_unit_test(test_derive_factory_key),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
