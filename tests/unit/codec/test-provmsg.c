/* SPDX-License-Identifier: Apache-2.0 */
/* Provisioning packets: the vectors' START packets and the auxiliary ACK/NACK byte for byte, and every
 * length and value rule of the parser and the builders. */
#include "cursor.h"
#include "prov-vectors.h"
#include "provmsg.h"
#include "test-helpers.h"

#define PDU24 PROV_PDU_MAX_24G
#define PDU5G PROV_PDU_MAX_5G

static const ProvMsg sentinel = { .hdr = { .type = 0xee, .session_id = 0xee } };

/* Parse must fail with `expect` and leave *ret untouched. */
static void assert_parse_fails(const uint8_t *buf, size_t len, size_t pdu_max, int expect) {
        ProvMsg m;

        memcpy(&m, &sentinel, sizeof(m));
        assert_int_equal(provmsg_parse(buf, len, pdu_max, &m), expect);
        assert_memory_equal(&m, &sentinel, sizeof(m));
}

static void test_start_vectors(void **state) {
        for (size_t i = 0; i < PROV_VECTORS_N; i++) {
                const ProvVector *v = &prov_vectors[i];
                uint8_t pkt[PROV_PDU_MAX], uid[PROV_UID_MAX], iv[16], addr[4], out[PROV_PDU_MAX];
                size_t n = test_unhex(v->start_packet_hex, pkt, sizeof(pkt));
                size_t uid_len = test_unhex(v->uid_hex, uid, sizeof(uid));
                ProvMsg m;

                test_unhex(v->iv_hex, iv, sizeof(iv));
                test_unhex(v->node_address_le_hex, addr, sizeof(addr));

                assert_int_equal(provmsg_parse(pkt, n, PDU24, &m), 0);
                assert_int_equal(m.hdr.type, PROV_MSG_START);
                assert_memory_equal(m.hdr.address, addr, 4);
                assert_int_equal(unaligned_read_le32(m.hdr.address), v->node_address);
                assert_int_equal(m.hdr.session_id, v->session_id);
                assert_int_equal(m.start.method, v->method);
                assert_memory_equal(m.start.iv, iv, 16);
                assert_int_equal(m.start.uid_len, uid_len);
                assert_memory_equal(m.start.uid, uid, uid_len);
                assert_ptr_equal(m.start.uid, pkt + 23); /* a view, not a copy */

                /* and back */
                assert_int_equal(provmsg_build_start(&m.hdr, m.start.method, m.start.iv, m.start.uid,
                                                     m.start.uid_len, out, sizeof(out)),
                                 n);
                assert_memory_equal(out, pkt, n);
        }
}

static void test_start_lengths(void **state) {
        uint8_t pkt[PDU5G + 1] = { PROV_MSG_START, 1, 2, 3, 4, 5, PROV_METHOD_SECURED };
        ProvMsg m;

        memset(pkt + 23, 0x41, sizeof(pkt) - 23);
        assert_parse_fails(pkt, 23, PDU24, -EBADMSG); /* empty UID */
        assert_parse_fails(pkt, 22, PDU24, -EBADMSG); /* IV cut short */
        assert_parse_fails(pkt, 7, PDU24, -EBADMSG);
        assert_parse_fails(pkt, 6, PDU24, -EBADMSG);            /* no method */
        assert_int_equal(provmsg_parse(pkt, 24, PDU24, &m), 0); /* 1-byte UID */
        assert_int_equal(m.start.uid_len, 1);
        assert_int_equal(provmsg_parse(pkt, 23 + PROV_UID_MAX, PDU24, &m), 0); /* 79 bytes: exactly 102 */
        assert_int_equal(m.start.uid_len, PROV_UID_MAX);
        assert_parse_fails(pkt, 24 + PROV_UID_MAX, PDU24, -EMSGSIZE); /* 103 bytes on 2.4G */
        assert_parse_fails(pkt, 24 + PROV_UID_MAX, PDU5G, -EBADMSG);  /* fits 5G, but UID of 80 */
        assert_parse_fails(pkt, PDU5G + 1, PDU5G, -EMSGSIZE);
}

static void test_start_methods(void **state) {
        uint8_t pkt[24] = { PROV_MSG_START, 1, 2, 3, 4, 5, 0 };
        ProvMsg m;

        for (int method = 0; method < 256; method++) {
                pkt[6] = (uint8_t)method;
                if (method == 0 || method == 1 || method == 3 || method == 7) {
                        assert_int_equal(provmsg_parse(pkt, sizeof(pkt), PDU24, &m), 0);
                        assert_int_equal(m.start.method, method);
                } else
                        assert_parse_fails(pkt, sizeof(pkt), PDU24, -EBADMSG);
        }
}

static void test_unknown_types(void **state) {
        uint8_t pkt[7] = { 0, 0xee, 0xff, 0xc0, 0x00, 0x07, 0x00 };

        assert_parse_fails(pkt, 0, PDU24, -EBADMSG);
        assert_parse_fails(NULL, 0, PDU24, -EBADMSG);
        for (int t = 0; t < 256; t++) {
                if (t >= PROV_MSG_START && t <= PROV_MSG_NACK)
                        continue;
                pkt[0] = (uint8_t)t;
                for (size_t len = 1; len <= sizeof(pkt); len++)
                        assert_parse_fails(pkt, len, PDU24, -EBADMSG);
        }
        /* too long wins over everything else */
        assert_parse_fails(pkt, sizeof(pkt), 6, -EMSGSIZE);
}

static void test_ack_vector(void **state) {
        uint8_t pkt[8], out[16];
        size_t n = test_unhex(PROV_AUX_DATA_ACK_HEX, pkt, sizeof(pkt));
        ProvMsg m;

        assert_int_equal(n, 6);
        assert_int_equal(provmsg_parse(pkt, n, PDU24, &m), 0);
        assert_int_equal(m.hdr.type, PROV_MSG_DATA_ACK);
        assert_int_equal(unaligned_read_le32(m.hdr.address), 0x00c0ffee);
        assert_int_equal(m.hdr.session_id, 7);

        assert_int_equal(provmsg_build_data_ack(&m.hdr, out, sizeof(out)), 6);
        assert_memory_equal_hex(out, 6, PROV_AUX_DATA_ACK_HEX);
        assert_int_equal(provmsg_build_data_ack(&m.hdr, out, 5), -EMSGSIZE);

        /* exactly 6 */
        pkt[6] = 0;
        assert_parse_fails(pkt, 7, PDU24, -EBADMSG);
        assert_parse_fails(pkt, 5, PDU24, -EBADMSG);
}

static void test_nack_vectors(void **state) {
        static const struct {
                const char *hex;
                ProvNackReason reason;
        } cases[] = {
                { PROV_AUX_NACK_NOT_AUTHORIZED_HEX, PROV_NACK_NOT_AUTHORIZED },
                { PROV_AUX_NACK_METHOD_NOT_SUPPORTED_HEX, PROV_NACK_METHOD_NOT_SUPPORTED },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint8_t pkt[8], out[16];
                size_t n = test_unhex(cases[i].hex, pkt, sizeof(pkt));
                ProvMsg m;

                assert_int_equal(n, 7);
                assert_int_equal(provmsg_parse(pkt, n, PDU24, &m), 0);
                assert_int_equal(m.hdr.type, PROV_MSG_NACK);
                assert_int_equal(m.nack.reason, cases[i].reason);
                assert_int_equal(unaligned_read_le32(m.hdr.address), 0x00c0ffee);
                assert_int_equal(m.hdr.session_id, 7);

                assert_int_equal(provmsg_build_nack(&m.hdr, cases[i].reason, out, sizeof(out)), 7);
                assert_memory_equal_hex(out, 7, cases[i].hex);
                assert_int_equal(provmsg_build_nack(&m.hdr, cases[i].reason, out, 6), -EMSGSIZE);

                assert_parse_fails(pkt, 6, PDU24, -EBADMSG);
                pkt[7] = 0;
                assert_parse_fails(pkt, 8, PDU24, -EBADMSG);
        }
}

static void test_nack_reasons(void **state) {
        uint8_t pkt[7] = { PROV_MSG_NACK, 1, 2, 3, 4, 5, 0 };
        ProvHeader h = {};
        uint8_t out[8];
        ProvMsg m;

        for (int r = 0; r < 256; r++) {
                pkt[6] = (uint8_t)r;
                if (r < _PROV_NACK_MAX) {
                        assert_int_equal(provmsg_parse(pkt, sizeof(pkt), PDU24, &m), 0);
                        assert_int_equal(m.nack.reason, r);
                } else
                        assert_parse_fails(pkt, sizeof(pkt), PDU24, -EBADMSG);
        }
        memset(out, 0x5a, sizeof(out));
        assert_int_equal(provmsg_build_nack(&h, _PROV_NACK_MAX, out, sizeof(out)), -EINVAL);
        assert_int_equal(provmsg_build_nack(&h, _PROV_NACK_INVALID, out, sizeof(out)), -EINVAL);
        assert_int_equal(out[0], 0x5a); /* nothing written */
}

static void test_data_vectors(void **state) {
        for (size_t i = 0; i < PROV_VECTORS_N; i++) {
                const ProvVector *v = &prov_vectors[i];
                uint8_t pkt[PROV_PDU_MAX], prefix[PROV_DATA_HEADER_SIZE];
                size_t n = test_unhex(v->packet_hex, pkt, sizeof(pkt));
                ProvMsg m;

                assert_int_equal(provmsg_parse(pkt, n, PDU24, &m), 0);
                assert_int_equal(m.hdr.type, PROV_MSG_DATA);
                assert_int_equal(unaligned_read_le32(m.hdr.address), v->node_address);
                assert_int_equal(m.hdr.session_id, v->session_id);
                assert_int_equal(m.data.key_index, v->key_index);
                assert_int_equal(m.data.counter, v->counter);
                assert_ptr_equal(m.data.payload, pkt + PROV_DATA_HEADER_SIZE);
                assert_int_equal(m.data.payload_len, n - PROV_DATA_HEADER_SIZE);
                if (v->key_index == PROV_KEY_INDEX_PLAINTEXT)
                        assert_memory_equal_hex(m.data.payload, m.data.payload_len, v->cbor_hex);
                else
                        assert_int_equal(m.data.payload_len, v->cbor_len + PROV_MIC_SIZE);

                /* the prefix builder reproduces the first 9 bytes from a START-typed header */
                ProvHeader h = m.hdr;
                h.type = PROV_MSG_START;
                assert_int_equal(provmsg_build_data_prefix(&h, m.data.key_index, m.data.counter, prefix),
                                 PROV_DATA_HEADER_SIZE);
                assert_memory_equal(prefix, pkt, PROV_DATA_HEADER_SIZE);
        }
}

static void test_data_lengths(void **state) {
        uint8_t pkt[PDU5G + 1] = { PROV_MSG_DATA, 1, 2, 3, 4, 5, PROV_KEY_INDEX_FACTORY, 0x34, 0x12 };
        ProvMsg m;

        assert_parse_fails(pkt, 8, PDU24, -EBADMSG);
        assert_int_equal(provmsg_parse(pkt, 9, PDU24, &m), 0);
        assert_int_equal(m.data.payload_len, 0);
        assert_int_equal(m.data.counter, 0x1234);
        assert_int_equal(provmsg_parse(pkt, PDU24, PDU24, &m), 0);
        assert_int_equal(m.data.payload_len, PDU24 - 9);
        assert_parse_fails(pkt, PDU24 + 1, PDU24, -EMSGSIZE); /* the 103-byte packet */
        assert_int_equal(provmsg_parse(pkt, PDU24 + 1, PDU5G, &m), 0);
        assert_int_equal(provmsg_parse(pkt, PDU5G, PDU5G, &m), 0);
        assert_parse_fails(pkt, PDU5G + 1, PDU5G, -EMSGSIZE);

        for (int k = 2; k < 256; k++) {
                pkt[6] = (uint8_t)k;
                assert_parse_fails(pkt, 20, PDU24, -EBADMSG);
        }
}

static void test_builders_reject(void **state) {
        ProvHeader h = { .type = PROV_MSG_NACK, .address = { 1, 2, 3, 4 }, .session_id = 9 };
        uint8_t iv[16] = {}, uid[PROV_UID_MAX + 1] = {}, out[PROV_PDU_MAX], prefix[PROV_DATA_HEADER_SIZE];

        memset(out, 0x5a, sizeof(out));
        assert_int_equal(provmsg_build_start(&h, 1, iv, uid, 0, out, sizeof(out)), -EINVAL);
        assert_int_equal(provmsg_build_start(&h, 1, iv, uid, PROV_UID_MAX + 1, out, sizeof(out)), -EINVAL);
        assert_int_equal(provmsg_build_start(&h, 2, iv, uid, 4, out, sizeof(out)), -EINVAL);
        assert_int_equal(provmsg_build_start(&h, 1, iv, uid, 4, out, 26), -EMSGSIZE);
        assert_int_equal(out[0], 0x5a);
        /* the builder writes its own type whatever hdr->type says */
        assert_int_equal(provmsg_build_start(&h, 1, iv, uid, 4, out, 27), 27);
        assert_int_equal(out[0], PROV_MSG_START);
        assert_int_equal(provmsg_build_start(&h, 1, iv, uid, PROV_UID_MAX, out, sizeof(out)), PDU24);

        assert_int_equal(provmsg_build_data_prefix(&h, 2, 0, prefix), -EINVAL);
        assert_int_equal(provmsg_build_data_prefix(&h, PROV_KEY_INDEX_PLAINTEXT, 0xbeef, prefix), 9);
        assert_memory_equal_hex(prefix, 9, "02010203040900efbe");
        assert_int_equal(provmsg_build_data_ack(&h, out, sizeof(out)), 6);
        assert_memory_equal_hex(out, 6, "030102030409");
}

static void test_string_tables(void **state) {
        assert_string_equal(prov_msg_type_to_string(PROV_MSG_START), "start");
        assert_string_equal(prov_msg_type_to_string(PROV_MSG_DATA_ACK), "data_ack");
        assert_null(prov_msg_type_to_string(0));
        assert_null(prov_msg_type_to_string(5));
        assert_null(prov_msg_type_to_string(-1));

        for (int m = -1; m < 300; m++) {
                const char *s = prov_method_to_string(m);
                assert_int_equal(prov_method_is_known(m), s != NULL);
                assert_int_equal(prov_method_is_secured(m), s != NULL && m != 0);
                if (s)
                        assert_int_equal(prov_method_from_string(s), m);
        }
        assert_string_equal(prov_method_to_string(PROV_METHOD_EXTENDED_UID), "extended_uid");
        assert_int_equal(prov_method_from_string("SECURED"), PROV_METHOD_SECURED);
        assert_int_equal(prov_method_from_string("3"), PROV_METHOD_EXTENDED_UID);
        assert_int_equal(prov_method_from_string("2"), -EINVAL);
        assert_int_equal(prov_method_from_string("256"), -EINVAL);
        assert_int_equal(prov_method_from_string("-1"), -EINVAL);
        assert_int_equal(prov_method_from_string(""), -EINVAL);
        assert_int_equal(prov_method_from_string(NULL), -EINVAL);
        assert_int_equal(prov_method_from_string("secure"), -EINVAL);

        for (int r = 0; r < _PROV_NACK_MAX; r++)
                assert_int_equal(prov_nack_reason_from_string(prov_nack_reason_to_string(r)), r);
        assert_string_equal(prov_nack_reason_to_string(PROV_NACK_METHOD_NOT_SUPPORTED),
                            "method_not_supported");
        assert_null(prov_nack_reason_to_string(_PROV_NACK_MAX));
        assert_int_equal(prov_nack_reason_from_string("Not_Authorized"), PROV_NACK_NOT_AUTHORIZED);
        assert_int_equal(prov_nack_reason_from_string("4"), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_start_vectors), cmocka_unit_test(test_start_lengths),
                cmocka_unit_test(test_start_methods), cmocka_unit_test(test_unknown_types),
                cmocka_unit_test(test_ack_vector),    cmocka_unit_test(test_nack_vectors),
                cmocka_unit_test(test_nack_reasons),  cmocka_unit_test(test_data_vectors),
                cmocka_unit_test(test_data_lengths),  cmocka_unit_test(test_builders_reject),
                cmocka_unit_test(test_string_tables),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
