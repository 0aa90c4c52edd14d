/* SPDX-License-Identifier: Apache-2.0 */
/* The emulated joining node (ref-provisioning.md §13) on a fake clock: accepts the reference vectors and
 * rejects the tampered one, START retry schedule with doubling, NACK handling, what costs a retry, the
 * node's 102-byte truncation, and its own CTR against the backend's. */
#include "cursor.h"
#include "nodes.h"
#include "provcrypto.h"
#include "provdata.h"
#include "provmsg.h"
#include "test-helpers.h"

#ifdef HAVE_PROV_VECTORS_H
#include "prov-vectors.h"
#endif

#define SEC USEC_PER_SEC

static const uint8_t KEY[32] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
                                 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
                                 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f };
static const uint8_t IV[16] = { 0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78,
                                0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0 };

static void node_setup(SimNode *n, uint8_t method, usec_t timeout, unsigned retries) {
        SimNodeConfig c = {
                .uid_len = 16,
                .method = method,
                .address = 0x00C0FFEE,
                .proxy = 0x1234,
                .kind = SIM_NODE_WHITELISTED,
                .timeout = timeout,
                .nb_retry = retries,
        };
        for (size_t i = 0; i < 16; i++)
                c.uid[i] = (uint8_t)(0x40 + i);
        memcpy(c.factory_key, KEY, sizeof(KEY));
        sim_node_init(n, &c);
}

/* A DATA built the backend's way (provdata_encode + prov_data_seal), independent of the node's code. */
static size_t build_data(const SimNode *n, uint8_t sid, uint8_t key_index, uint16_t counter,
                         const ProvParams *p, uint8_t *buf, size_t bufsz) {
        uint8_t cbor[PROV_PDU_MAX];
        ProvHeader h = { .type = 2, .session_id = sid };
        int len = provdata_encode(p, cbor, sizeof(cbor));

        assert_true(len > 0);
        unaligned_write_le32(h.address, n->cfg.address);
        assert_true(provmsg_build_data_prefix(&h, key_index, counter, buf) >= 0);
        if (key_index == 0) {
                assert_true(PROV_DATA_HEADER_SIZE + (size_t)len <= bufsz);
                memcpy(buf + PROV_DATA_HEADER_SIZE, cbor, (size_t)len);
                return PROV_DATA_HEADER_SIZE + (size_t)len;
        }
        int r = prov_data_seal(n->cfg.factory_key, n->iv, buf, cbor, (size_t)len,
                               buf + PROV_DATA_HEADER_SIZE, bufsz - PROV_DATA_HEADER_SIZE);
        assert_true(r >= 0);
        return PROV_DATA_HEADER_SIZE + (size_t)len + PROV_MIC_SIZE;
}

static void params_basic(ProvParams *p) {
        *p = (ProvParams){
                .network_address = 0x1012EE, .channel = 2, .has_node_address = true, .node_address = 17
        };
        for (size_t i = 0; i < 16; i++) {
                p->enc_key[i] = (uint8_t)(0x10 - i);
                p->auth_key[i] = (uint8_t)(i + 1);
        }
}

static void test_start_layout(void **state) {
        SimNode n;
        SimPacket p;

        node_setup(&n, 1, 2 * SEC, 3);
        assert_int_equal(sim_node_start_fixed(&n, 0, IV, 7, &p), 1);
        assert_int_equal(p.len, 6 + 1 + 16 + 16);
        assert_int_equal(p.buf[0], 1);
        assert_int_equal(unaligned_read_le32(p.buf + 1), 0x00C0FFEE);
        assert_int_equal(p.buf[5], 7);
        assert_int_equal(p.buf[6], 1);
        assert_memory_equal(p.buf + 7, IV, 16);
        assert_memory_equal(p.buf + 23, n.cfg.uid, 16);
        assert_int_equal(p.src_ep, 246);
        assert_int_equal(p.dst_ep, 255);
        assert_int_equal(sim_node_start_fixed(&n, 0, IV, 7, &p), -EBUSY);

        /* an unsecured node sends its static zero IV whatever it is given */
        node_setup(&n, 0, 2 * SEC, 3);
        assert_int_equal(sim_node_start_fixed(&n, 0, IV, 7, &p), 1);
        static const uint8_t zero[16] = {};
        assert_memory_equal(p.buf + 7, zero, 16);

        /* 5G Mesh endpoints */
        node_setup(&n, 1, 2 * SEC, 3);
        n.cfg.five_g = true;
        assert_int_equal(sim_node_start_fixed(&n, 0, IV, 7, &p), 1);
        assert_int_equal(p.src_ep, 160);
        assert_int_equal(p.dst_ep, 39);
        assert_int_equal(sim_node_down_dst_ep(&n), 40);
}

#ifdef HAVE_PROV_VECTORS_H
/* The generated header keeps hex strings; this is the vector in bytes. */
typedef struct Vec {
        const ProvVector *v;
        uint8_t uid[PROV_UID_MAX];
        size_t uid_len;
        uint8_t address_le[4], iv[16], key[32], enc_key[16], auth_key[16];
        uint8_t start[PROV_PDU_MAX], packet[PROV_PDU_MAX];
        size_t start_len, packet_len;
        uint32_t network_address, channel, node_address;
        bool has_node_address;
        size_t n_user_items;
} Vec;

static void vec_load(const ProvVector *v, Vec *x) {
        *x = (Vec){ .v = v };
        x->uid_len = test_unhex(v->uid_hex, x->uid, sizeof(x->uid));
        test_unhex(v->node_address_le_hex, x->address_le, sizeof(x->address_le));
        test_unhex(v->iv_hex, x->iv, sizeof(x->iv));
        if (v->factory_key_hex)
                assert_int_equal(test_unhex(v->factory_key_hex, x->key, sizeof(x->key)), 32);
        x->start_len = test_unhex(v->start_packet_hex, x->start, sizeof(x->start));
        x->packet_len = test_unhex(v->packet_hex, x->packet, sizeof(x->packet));
        for (size_t i = 0; i < v->n_items; i++) {
                const ProvVectorItem *it = &v->items[i];
                if (it->id == 0)
                        test_unhex(it->hex, x->enc_key, sizeof(x->enc_key));
                else if (it->id == 1)
                        test_unhex(it->hex, x->auth_key, sizeof(x->auth_key));
                else if (it->id == 2)
                        x->network_address = (uint32_t)it->integer;
                else if (it->id == 3)
                        x->channel = (uint32_t)it->integer;
                else if (it->id == 4) {
                        x->has_node_address = true;
                        x->node_address = (uint32_t)it->integer;
                } else if (it->id >= 128 && it->id <= 255)
                        x->n_user_items++;
        }
}

static void vector_node(SimNode *n, const Vec *v, SimPacket *start) {
        SimNodeConfig c = {
                .uid_len = v->uid_len,
                .method = (uint8_t)v->v->method,
                .address = unaligned_read_le32(v->address_le),
                .timeout = 2 * SEC,
                .nb_retry = 3,
        };
        memcpy(c.uid, v->uid, v->uid_len);
        memcpy(c.factory_key, v->key, 32);
        sim_node_init(n, &c);
        assert_int_equal(sim_node_start_fixed(n, 0, v->iv, v->v->session_id, start), 1);
}

static void test_reference_vectors(void **state) {
        size_t n_accept = 0, n_reject = 0;

        for (size_t i = 0; i < PROV_VECTORS_N; i++) {
                Vec vec, *v = &vec;
                SimNode n;
                SimPacket start, out;

                vec_load(&prov_vectors[i], v);
                vector_node(&n, v, &start);
                /* the node's START is byte for byte the vector's */
                assert_int_equal(start.len, v->start_len);
                assert_memory_equal(start.buf, v->start, v->start_len);

                int r = sim_node_on_packet(&n, SEC, v->packet, v->packet_len, &out);
                assert_int_equal(r, 1);
                if (v->v->expect_accept) {
                        n_accept++;
                        assert_int_equal(n.outcome, SIM_NODE_PROVISIONED);
                        assert_int_equal(sim_node_rejects_total(&n), 0);
                        /* DATA_ACK: header only, type 3 */
                        assert_int_equal(out.len, 6);
                        assert_int_equal(out.buf[0], 3);
                        assert_memory_equal(out.buf + 1, v->address_le, 4);
                        assert_int_equal(out.buf[5], v->v->session_id);
                        assert_int_equal(n.params.network_address, v->network_address);
                        assert_int_equal(n.params.channel, v->channel);
                        assert_int_equal(n.params.has_node_address, v->has_node_address);
                        if (v->has_node_address)
                                assert_int_equal(n.params.node_address, v->node_address);
                        assert_int_equal(n.params.n_user_items, v->n_user_items);
                        assert_memory_equal(n.params.enc_key, v->enc_key, 16);
                        assert_memory_equal(n.params.auth_key, v->auth_key, 16);
                        assert_int_equal(n.data_counter, v->v->counter);
                        assert_int_equal(sim_node_deadline(&n), USEC_INFINITY);
                        /* a late duplicate is ignored: the node stopped listening */
                        assert_int_equal(sim_node_on_packet(&n, 2 * SEC, v->packet, v->packet_len, &out), 0);
                        assert_int_equal(n.n_ignored, 1);
                } else {
                        n_reject++;
                        assert_int_equal(n.outcome, SIM_NODE_PENDING);
                        assert_int_equal(n.n_rejects[SIM_NODE_REJECT_MIC], 1);
                        /* back to START: same IV and session, one retry used, wait doubled */
                        assert_int_equal(out.len, start.len);
                        assert_memory_equal(out.buf, start.buf, start.len);
                        assert_int_equal(n.n_starts, 2);
                        assert_int_equal(sim_node_deadline(&n), SEC + 4 * SEC);
                }
        }
        assert_true(n_accept >= 5);
        assert_true(n_reject >= 1);
}

static void test_reference_aux_packets(void **state) {
        Vec vec;
        SimNode n;
        SimPacket start, out;
        uint8_t pkt[16];
        size_t len;
        bool found = false;

        for (size_t i = 0; i < PROV_VECTORS_N; i++)
                if (streq(prov_vectors[i].name, "secured")) {
                        vec_load(&prov_vectors[i], &vec);
                        found = true;
                }
        if (!found)
                skip();
        /* the node's DATA_ACK is the reference one */
        vector_node(&n, &vec, &start);
        assert_int_equal(sim_node_on_packet(&n, SEC, vec.packet, vec.packet_len, &out), 1);
        len = test_unhex(PROV_AUX_DATA_ACK_HEX, pkt, sizeof(pkt));
        assert_int_equal(out.len, len);
        assert_memory_equal(out.buf, pkt, len);
        /* the reference NACKs end the run with their reason */
        vector_node(&n, &vec, &start);
        len = test_unhex(PROV_AUX_NACK_METHOD_NOT_SUPPORTED_HEX, pkt, sizeof(pkt));
        assert_int_equal(sim_node_on_packet(&n, SEC, pkt, len, &out), 0);
        assert_int_equal(n.outcome, SIM_NODE_NACKED);
        assert_int_equal(n.nack_reason, 1);
        vector_node(&n, &vec, &start);
        len = test_unhex(PROV_AUX_NACK_NOT_AUTHORIZED_HEX, pkt, sizeof(pkt));
        assert_int_equal(sim_node_on_packet(&n, SEC, pkt, len, &out), 0);
        assert_int_equal(n.nack_reason, 0);
}
#endif

/* The node's CTR (word-wise carries) against the backend's 128-bit little-endian CTR, on the carry vector's
 * IV and on random IVs near word boundaries. */
static void test_node_ctr_matches_backend(void **state) {
        static const uint8_t ivs[][16] = {
                { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                  0xff },
                { 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0 },
                { 0xf0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0, 0, 0, 0, 0, 0, 0x80 },
                { 0 },
        };
        static const uint16_t counters[] = { 0, 1, 0x00ff, 0x0100, 0xfff0, 0xffff };

        for (size_t i = 0; i < ELEMENTSOF(ivs); i++)
                for (size_t j = 0; j < ELEMENTSOF(counters); j++) {
                        uint8_t a[100], b[100];
                        for (size_t k = 0; k < sizeof(a); k++)
                                a[k] = b[k] = (uint8_t)(k * 31 + i);
                        assert_int_equal(sim_node_ctr_xor(KEY + 16, ivs[i], counters[j], a, sizeof(a)), 0);
                        assert_int_equal(prov_ctr_xor(KEY + 16, ivs[i], counters[j], b, sizeof(b)), 0);
                        assert_memory_equal(a, b, sizeof(a));
                }
}

/* Defaults of the SDK scaled down: 4 STARTs at 0, T, 3T, 7T and give-up at 15T. */
static void test_retry_schedule_doubles(void **state) {
        const usec_t T = 2 * SEC;
        SimNode n;
        SimPacket first, p;

        node_setup(&n, 1, T, 3);
        assert_int_equal(sim_node_start_fixed(&n, 0, IV, 9, &first), 1);
        assert_int_equal(sim_node_deadline(&n), T);

        static const usec_t at[] = { 1 * 2 * SEC, 3 * 2 * SEC, 7 * 2 * SEC };
        for (size_t k = 0; k < ELEMENTSOF(at); k++) {
                /* nothing before the deadline */
                assert_int_equal(sim_node_on_timer(&n, at[k] - 1, &p), 0);
                assert_int_equal(n.n_starts, k + 1);
                /* at the deadline: the same START again, wait doubled */
                assert_int_equal(sim_node_on_timer(&n, at[k], &p), 1);
                assert_int_equal(p.len, first.len);
                assert_memory_equal(p.buf, first.buf, first.len);
                assert_int_equal(n.n_starts, k + 2);
                assert_int_equal(sim_node_deadline(&n), at[k] + (T << (k + 1)));
        }
        assert_int_equal(sim_node_on_timer(&n, 15 * 2 * SEC - 1, &p), 0);
        assert_int_equal(n.outcome, SIM_NODE_PENDING);
        assert_int_equal(sim_node_on_timer(&n, 15 * 2 * SEC, &p), 0);
        assert_int_equal(n.outcome, SIM_NODE_GAVE_UP);
        assert_int_equal(n.n_starts, 4);
        assert_int_equal(n.finished_at, 30 * SEC);
        assert_int_equal(sim_node_deadline(&n), USEC_INFINITY);

        /* no retries at all: gives up at the first timeout */
        node_setup(&n, 1, T, 0);
        assert_int_equal(sim_node_start_fixed(&n, 0, IV, 9, &first), 1);
        assert_int_equal(sim_node_on_timer(&n, T, &p), 0);
        assert_int_equal(n.outcome, SIM_NODE_GAVE_UP);
        assert_int_equal(n.n_starts, 1);
}

static void test_nack_ends_at_once(void **state) {
        SimNode n;
        SimPacket p;
        uint8_t nack[7] = { 4 };

        node_setup(&n, 1, 2 * SEC, 3);
        assert_int_equal(sim_node_start_fixed(&n, 0, IV, 0x21, &p), 1);
        unaligned_write_le32(nack + 1, 0x12345678); /* the node does not check the address */
        nack[5] = 0x21;
        nack[6] = 1;
        assert_int_equal(sim_node_on_packet(&n, SEC / 2, nack, sizeof(nack), &p), 0);
        assert_int_equal(n.outcome, SIM_NODE_NACKED);
        assert_int_equal(n.nack_reason, 1);
        assert_int_equal(n.n_starts, 1);
        assert_int_equal(n.finished_at, SEC / 2);
        assert_int_equal(sim_node_deadline(&n), USEC_INFINITY);
        assert_int_equal(sim_node_on_timer(&n, 100 * SEC, &p), 0);
        assert_int_equal(n.outcome, SIM_NODE_NACKED);
}

/* A NACK or DATA for another session, or anything unacceptable, costs a retry: START again at once with the
 * wait doubled; after nb_retry of them the node gives up. */
static void test_wrong_session_costs_a_retry(void **state) {
        SimNode n;
        SimPacket first, p;
        uint8_t nack[7] = { 4, 0xEE, 0xFF, 0xC0, 0x00, 0x22, 0 };

        node_setup(&n, 1, 2 * SEC, 2);
        assert_int_equal(sim_node_start_fixed(&n, 0, IV, 0x21, &first), 1);
        assert_int_equal(sim_node_on_packet(&n, SEC, nack, sizeof(nack), &p), 1);
        assert_int_equal(n.outcome, SIM_NODE_PENDING);
        assert_int_equal(n.n_rejects[SIM_NODE_REJECT_SESSION], 1);
        assert_memory_equal(p.buf, first.buf, first.len);
        assert_int_equal(sim_node_deadline(&n), SEC + 4 * SEC);

        /* a valid DATA for another session: passes crypto, fails the session check */
        ProvParams prm;
        uint8_t data[PROV_PDU_MAX];
        params_basic(&prm);
        size_t len = build_data(&n, 0x22, 1, 5, &prm, data, sizeof(data));
        assert_int_equal(sim_node_on_packet(&n, 2 * SEC, data, len, &p), 1);
        assert_int_equal(n.n_rejects[SIM_NODE_REJECT_SESSION], 2);
        assert_int_equal(sim_node_deadline(&n), 2 * SEC + 8 * SEC);

        /* third failure with nb_retry = 2: gives up */
        assert_int_equal(sim_node_on_packet(&n, 3 * SEC, data, len, &p), 0);
        assert_int_equal(n.outcome, SIM_NODE_GAVE_UP);
        assert_int_equal(n.n_starts, 3);
}

static void test_unacceptable_packets(void **state) {
        ProvParams prm;
        uint8_t data[PROV_PDU_MAX];
        SimNode n;
        SimPacket p;
        size_t len;

        params_basic(&prm);

        /* secured node, key index 0 */
        node_setup(&n, 1, 2 * SEC, 5);
        assert_int_equal(sim_node_start_fixed(&n, 0, IV, 3, &p), 1);
        len = build_data(&n, 3, 0, 5, &prm, data, sizeof(data));
        assert_int_equal(sim_node_on_packet(&n, SEC, data, len, &p), 1);
        assert_int_equal(n.n_rejects[SIM_NODE_REJECT_KEY_INDEX], 1);
        /* a START or DATA_ACK type */
        uint8_t start_like[6] = { 1, 0, 0, 0, 0, 3 };
        assert_int_equal(sim_node_on_packet(&n, SEC, start_like, sizeof(start_like), &p), 1);
        assert_int_equal(n.n_rejects[SIM_NODE_REJECT_TYPE], 1);
        /* short header */
        assert_int_equal(sim_node_on_packet(&n, SEC, start_like, 5, &p), 1);
        assert_int_equal(n.n_rejects[SIM_NODE_REJECT_SHORT], 1);
        /* a changed counter breaks the MIC (the key stream and the authenticated prefix change) */
        len = build_data(&n, 3, 1, 5, &prm, data, sizeof(data));
        data[7] ^= 1;
        assert_int_equal(sim_node_on_packet(&n, SEC, data, len, &p), 1);
        assert_int_equal(n.n_rejects[SIM_NODE_REJECT_MIC], 1);
        /* the other factory key (wrong-key kind) */
        SimNode other = n;
        memset(other.cfg.factory_key, 0x77, 32);
        len = build_data(&other, 3, 1, 5, &prm, data, sizeof(data));
        assert_int_equal(sim_node_on_packet(&n, SEC, data, len, &p), 1);
        assert_int_equal(n.n_rejects[SIM_NODE_REJECT_MIC], 2);
        assert_int_equal(n.outcome, SIM_NODE_PENDING);
        /* and finally the right one */
        len = build_data(&n, 3, 1, 6, &prm, data, sizeof(data));
        assert_int_equal(sim_node_on_packet(&n, SEC, data, len, &p), 1);
        assert_int_equal(n.outcome, SIM_NODE_PROVISIONED);
        assert_int_equal(p.buf[0], 3);
        assert_int_equal(sim_node_rejects_total(&n), 5);

        /* unsecured node: plaintext with key index 0 only */
        node_setup(&n, 0, 2 * SEC, 5);
        assert_int_equal(sim_node_start_fixed(&n, 0, IV, 4, &p), 1);
        len = build_data(&n, 4, 1, 5, &prm, data, sizeof(data));
        assert_int_equal(sim_node_on_packet(&n, SEC, data, len, &p), 1);
        assert_int_equal(n.n_rejects[SIM_NODE_REJECT_KEY_INDEX], 1);
        len = build_data(&n, 4, 0, 5, &prm, data, sizeof(data));
        assert_int_equal(sim_node_on_packet(&n, SEC, data, len, &p), 1);
        assert_int_equal(n.outcome, SIM_NODE_PROVISIONED);
        assert_int_equal(n.params.node_address, 17);

        /* CBOR without the channel (id 3): the node refuses it */
        node_setup(&n, 0, 2 * SEC, 5);
        assert_int_equal(sim_node_start_fixed(&n, 0, IV, 4, &p), 1);
        static const uint8_t no_channel[] = { 0x02, 0xEE, 0xFF, 0xC0, 0x00, 0x04, 0x00, 0x00, 0x00,
                                              0xA3, 0x00, 0x41, 0x01, 0x01, 0x41, 0x02, 0x02, 0x01 };
        assert_int_equal(sim_node_on_packet(&n, SEC, no_channel, sizeof(no_channel), &p), 1);
        assert_int_equal(n.n_rejects[SIM_NODE_REJECT_CBOR], 1);
}

/* The node copies at most 102 bytes: an exactly-102-byte DATA passes, extra bytes after it are cut off
 * (so still passes), and a DATA whose MIC lies beyond byte 102 fails. */
static void test_truncation_to_pdu(void **state) {
        ProvParams prm;
        uint8_t data[PROV_PDU_MAX + 8];
        SimNode n;
        SimPacket p;
        size_t len;

        params_basic(&prm);
        prm.n_user_items = 1;
        prm.user_items[0] = (ProvUserItem){ .id = 200, .type = PROV_USER_BYTES };

        /* grow the user item until the secured packet is exactly 102 bytes */
        node_setup(&n, 1, 2 * SEC, 5);
        assert_int_equal(sim_node_start_fixed(&n, 0, IV, 3, &p), 1);
        for (prm.user_items[0].len = 0;; prm.user_items[0].len++) {
                len = build_data(&n, 3, 1, 5, &prm, data, sizeof(data));
                if (len >= PROV_PDU_MAX_24G)
                        break;
        }
        assert_int_equal(len, PROV_PDU_MAX_24G);
        data[len] = 0xAB; /* one more byte: cut off by the node */
        assert_int_equal(sim_node_on_packet(&n, SEC, data, len + 1, &p), 1);
        assert_int_equal(n.outcome, SIM_NODE_PROVISIONED);
        assert_int_equal(n.params.n_user_items, 1);

        /* 103 bytes of real DATA: the MIC's last byte is lost */
        node_setup(&n, 1, 2 * SEC, 5);
        assert_int_equal(sim_node_start_fixed(&n, 0, IV, 3, &p), 1);
        prm.user_items[0].len++;
        len = build_data(&n, 3, 1, 5, &prm, data, sizeof(data));
        assert_int_equal(len, PROV_PDU_MAX_24G + 1);
        assert_int_equal(sim_node_on_packet(&n, SEC, data, len, &p), 1);
        assert_int_equal(n.n_rejects[SIM_NODE_REJECT_MIC], 1);

        /* a 5G node has room for it */
        node_setup(&n, 1, 2 * SEC, 5);
        n.cfg.five_g = true;
        assert_int_equal(sim_node_start_fixed(&n, 0, IV, 3, &p), 1);
        assert_int_equal(sim_node_on_packet(&n, SEC, data, len, &p), 1);
        assert_int_equal(n.outcome, SIM_NODE_PROVISIONED);
}

static void test_kind_names(void **state) {
        for (SimNodeKind k = 0; k < _SIM_NODE_KIND_MAX; k++)
                assert_int_equal(sim_node_kind_from_string(sim_node_kind_to_string(k)), k);
        assert_int_equal(sim_node_kind_from_string("nope"), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_start_layout),
#ifdef HAVE_PROV_VECTORS_H
                cmocka_unit_test(test_reference_vectors),
                cmocka_unit_test(test_reference_aux_packets),
#endif
                cmocka_unit_test(test_node_ctr_matches_backend),
                cmocka_unit_test(test_retry_schedule_doubles),
                cmocka_unit_test(test_nack_ends_at_once),
                cmocka_unit_test(test_wrong_session_costs_a_retry),
                cmocka_unit_test(test_unacceptable_packets),
                cmocka_unit_test(test_truncation_to_pdu),
                cmocka_unit_test(test_kind_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
