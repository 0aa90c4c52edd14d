/* SPDX-License-Identifier: Apache-2.0 */
/* Gateway-API messages: the verified sample encodings of ref-gateway-api.md §6 decode to the documented
 * values and our encoders reproduce them byte for byte; malformed, incomplete and oversized input is
 * refused. */
#include <stdio.h>

#include "gwapi-test-util.h"
#include "gwapi.h"

static uint8_t out[GWAPI_PAYLOAD_MAX];

static size_t unhex(const char *hex, uint8_t *buf, size_t size) {
        return test_unhex(hex, buf, size);
}

/* ---------------------------------------------------------------------------------------------------------
 * The documented values of each sample, built independently of the decoder. */

static void sample_1_values(GwapiReceived *r) {
        *r = (GwapiReceived){
                .gw_id = "gw-test-01",
                .sink_id = "sink0",
                .event_id = UINT64_C(0x0123456789ABCDEF),
                .has_time_ms_epoch = true,
                .time_ms_epoch = UINT64_C(1700000000123),
                .source_address = 74565,
                .destination_address = 1,
                .source_endpoint = 246,
                .destination_endpoint = 255,
                .travel_time_ms = 1250,
                .rx_time_ms_epoch = UINT64_C(1700000000100),
                .qos = 1,
                .has_payload = true,
                .has_hop_count = true,
                .hop_count = 2,
                .has_network_address = true,
                .network_address = 1193046,
        };
        r->payload_len = unhex(SAMPLE_1_PAYLOAD_HEX, r->payload, sizeof(r->payload));
}

static void sample_2_values(GwapiSendData *s) {
        *s = (GwapiSendData){
                .req_id = UINT64_C(0x1122334455667788),
                .has_time_ms_epoch = true,
                .time_ms_epoch = UINT64_C(1700000001000),
                .destination_address = 74565,
                .source_endpoint = 255,
                .destination_endpoint = 246,
                .qos = 1,
        };
        s->payload_len = unhex(SAMPLE_2_PAYLOAD_HEX, s->payload, sizeof(s->payload));
}

static void sample_2b_values(GwapiSendData *s) {
        *s = (GwapiSendData){
                .req_id = UINT64_C(0x1122334455667789),
                .sink_id = "sink0",
                .has_time_ms_epoch = true,
                .time_ms_epoch = UINT64_C(1700000002000),
                .destination_address = UINT32_C(0xFFFFFFFF),
                .source_endpoint = 10,
                .destination_endpoint = 11,
                .qos = 0,
                .payload_len = 2,
                .payload = { 0x01, 0x02 },
                .has_initial_delay_ms = true,
                .initial_delay_ms = 500,
                .has_is_unack_csma_ca = true,
                .is_unack_csma_ca = true,
                .has_hop_limit = true,
                .hop_limit = 5,
        };
}

static void sample_2c_values(GwapiSendDataResponse *r) {
        *r = (GwapiSendDataResponse){
                .req_id = UINT64_C(0x1122334455667788),
                .gw_id = "gw-test-01",
                .sink_id = "sink0",
                .result = GWAPI_ERROR_OK,
                .has_time_ms_epoch = true,
                .time_ms_epoch = UINT64_C(1700000001050),
        };
}

static void sample_3_values(GwapiStatus *s) {
        *s = (GwapiStatus){
                .gw_id = "gw-test-01",
                .event_id = UINT64_C(0x0FEDCBA987654321),
                .has_time_ms_epoch = true,
                .time_ms_epoch = UINT64_C(1700000000000),
                .version = 1,
                .state = GWAPI_ON,
                .has_gw_model = true,
                .gw_model = "test-model",
                .has_gw_version = true,
                .gw_version = "1.0.0",
                .n_features = 3,
                .features = { GWAPI_FEATURE_SCRATCHPAD_CHUNK_V1, GWAPI_FEATURE_CONFIGURATION_DATA_V1,
                              GWAPI_FEATURE_SINK_KEY_MANAGEMENT_V1 },
                .n_sinks = 1,
                .sinks = { {
                        .sink_id = "sink0",
                        .has_role = true,
                        .role = GWAPI_ROLE_SINK,
                        .role_flags = GWAPI_ROLE_FLAG_LOW_LATENCY,
                        .has_node_address = true,
                        .node_address = 1,
                        .has_network_address = true,
                        .network_address = 1193046,
                        .has_network_channel = true,
                        .network_channel = 5,
                        .has_are_keys_set = true,
                        .are_keys_set = true,
                        .has_max_mtu = true,
                        .max_mtu = 102,
                        .has_firmware_version = true,
                        .firmware_version = { 5, 4, 0, 50 },
                        .has_sink_state = true,
                        .sink_state = GWAPI_ON,
                } },
        };
}

static void sample_3b_values(GwapiStatus *s) {
        *s = (GwapiStatus){
                .gw_id = "gw-test-01",
                .event_id = UINT64_C(0x0FEDCBA987654322),
                .has_time_ms_epoch = true,
                .time_ms_epoch = UINT64_C(1699999990000),
                .version = 1,
                .state = GWAPI_OFF,
                .has_gw_model = true,
                .gw_model = "test-model",
                .has_gw_version = true,
                .gw_version = "1.0.0",
        };
}

/* Field-by-field comparisons (structs have padding and unused tails, so no memcmp of whole structs). */
static void assert_received_equal(const GwapiReceived *a, const GwapiReceived *b) {
        assert_string_equal(a->gw_id, b->gw_id);
        assert_string_equal(a->sink_id, b->sink_id);
        assert_true(a->event_id == b->event_id);
        assert_int_equal(a->has_time_ms_epoch, b->has_time_ms_epoch);
        assert_true(a->time_ms_epoch == b->time_ms_epoch);
        assert_int_equal(a->source_address, b->source_address);
        assert_int_equal(a->destination_address, b->destination_address);
        assert_int_equal(a->source_endpoint, b->source_endpoint);
        assert_int_equal(a->destination_endpoint, b->destination_endpoint);
        assert_int_equal(a->travel_time_ms, b->travel_time_ms);
        assert_true(a->rx_time_ms_epoch == b->rx_time_ms_epoch);
        assert_int_equal(a->qos, b->qos);
        assert_int_equal(a->has_payload, b->has_payload);
        assert_int_equal(a->payload_len, b->payload_len);
        assert_memory_equal(a->payload, b->payload, a->payload_len);
        assert_int_equal(a->has_payload_size, b->has_payload_size);
        assert_int_equal(a->payload_size, b->payload_size);
        assert_int_equal(a->has_hop_count, b->has_hop_count);
        assert_int_equal(a->hop_count, b->hop_count);
        assert_int_equal(a->has_network_address, b->has_network_address);
        assert_true(a->network_address == b->network_address);
}

static void assert_send_data_equal(const GwapiSendData *a, const GwapiSendData *b) {
        assert_true(a->req_id == b->req_id);
        assert_string_equal(a->sink_id, b->sink_id);
        assert_int_equal(a->has_time_ms_epoch, b->has_time_ms_epoch);
        assert_true(a->time_ms_epoch == b->time_ms_epoch);
        assert_int_equal(a->destination_address, b->destination_address);
        assert_int_equal(a->source_endpoint, b->source_endpoint);
        assert_int_equal(a->destination_endpoint, b->destination_endpoint);
        assert_int_equal(a->qos, b->qos);
        assert_int_equal(a->payload_len, b->payload_len);
        assert_memory_equal(a->payload, b->payload, a->payload_len);
        assert_int_equal(a->has_initial_delay_ms, b->has_initial_delay_ms);
        assert_int_equal(a->initial_delay_ms, b->initial_delay_ms);
        assert_int_equal(a->has_is_unack_csma_ca, b->has_is_unack_csma_ca);
        assert_int_equal(a->is_unack_csma_ca, b->is_unack_csma_ca);
        assert_int_equal(a->has_hop_limit, b->has_hop_limit);
        assert_int_equal(a->hop_limit, b->hop_limit);
}

static void assert_status_equal(const GwapiStatus *a, const GwapiStatus *b) {
        assert_string_equal(a->gw_id, b->gw_id);
        assert_true(a->event_id == b->event_id);
        assert_int_equal(a->has_time_ms_epoch, b->has_time_ms_epoch);
        assert_true(a->time_ms_epoch == b->time_ms_epoch);
        assert_int_equal(a->version, b->version);
        assert_int_equal(a->state, b->state);
        assert_int_equal(a->has_gw_model, b->has_gw_model);
        assert_string_equal(a->gw_model, b->gw_model);
        assert_int_equal(a->has_gw_version, b->has_gw_version);
        assert_string_equal(a->gw_version, b->gw_version);
        assert_int_equal(a->has_max_scratchpad_size, b->has_max_scratchpad_size);
        assert_int_equal(a->max_scratchpad_size, b->max_scratchpad_size);
        assert_int_equal(a->n_features, b->n_features);
        for (size_t i = 0; i < a->n_features; i++)
                assert_int_equal(a->features[i], b->features[i]);
        assert_int_equal(a->n_sinks, b->n_sinks);
        for (size_t i = 0; i < a->n_sinks; i++) {
                const GwapiSinkConfig *x = &a->sinks[i], *y = &b->sinks[i];

                assert_string_equal(x->sink_id, y->sink_id);
                assert_int_equal(x->has_role, y->has_role);
                assert_int_equal(x->role, y->role);
                assert_int_equal(x->role_flags, y->role_flags);
                assert_int_equal(x->has_node_address, y->has_node_address);
                assert_int_equal(x->node_address, y->node_address);
                assert_int_equal(x->has_network_address, y->has_network_address);
                assert_true(x->network_address == y->network_address);
                assert_int_equal(x->has_network_channel, y->has_network_channel);
                assert_int_equal(x->network_channel, y->network_channel);
                assert_int_equal(x->has_are_keys_set, y->has_are_keys_set);
                assert_int_equal(x->are_keys_set, y->are_keys_set);
                assert_int_equal(x->has_max_mtu, y->has_max_mtu);
                assert_int_equal(x->max_mtu, y->max_mtu);
                assert_int_equal(x->has_firmware_version, y->has_firmware_version);
                assert_memory_equal(x->firmware_version, y->firmware_version, sizeof(x->firmware_version));
                assert_int_equal(x->has_sink_state, y->has_sink_state);
                assert_int_equal(x->sink_state, y->sink_state);
        }
}

/* ---------------------------------------------------------------------------------------------------------
 * Samples */

static void test_sample_1_received_data(void **state) {
        uint8_t wire[256];
        size_t n = unhex(SAMPLE_1_HEX, wire, sizeof(wire));
        GwapiReceived expected, got;

        assert_int_equal(n, 103);
        sample_1_values(&expected);
        assert_int_equal(expected.payload_len, 29);

        assert_int_equal(gwapi_received_data_decode(wire, n, &got), 0);
        assert_received_equal(&got, &expected);
        assert_false(got.has_payload_size);

        assert_int_equal(gwapi_received_data_encode(&expected, out, sizeof(out)), 103);
        assert_memory_equal_hex(out, 103, SAMPLE_1_HEX);
}

static void test_sample_2_send_data(void **state) {
        uint8_t wire[256];
        size_t n = unhex(SAMPLE_2_HEX, wire, sizeof(wire));
        GwapiSendData expected, got;

        assert_int_equal(n, 91);
        sample_2_values(&expected);
        assert_int_equal(expected.payload_len, 54);

        assert_int_equal(gwapi_send_data_encode(&expected, out, sizeof(out)), 91);
        assert_memory_equal_hex(out, 91, SAMPLE_2_HEX);

        assert_int_equal(gwapi_send_data_decode(wire, n, &got), 0);
        assert_send_data_equal(&got, &expected);
        assert_string_equal(got.sink_id, "");
        assert_false(got.has_initial_delay_ms);
        assert_false(got.has_is_unack_csma_ca);
        assert_false(got.has_hop_limit);
}

static void test_sample_2b_send_data_all_optional(void **state) {
        uint8_t wire[256];
        size_t n = unhex(SAMPLE_2B_HEX, wire, sizeof(wire));
        GwapiSendData expected, got;

        assert_int_equal(n, 53);
        sample_2b_values(&expected);

        assert_int_equal(gwapi_send_data_encode(&expected, out, sizeof(out)), 53);
        assert_memory_equal_hex(out, 53, SAMPLE_2B_HEX);

        assert_int_equal(gwapi_send_data_decode(wire, n, &got), 0);
        assert_send_data_equal(&got, &expected);
}

static void test_sample_2c_send_data_response(void **state) {
        uint8_t wire[256];
        size_t n = unhex(SAMPLE_2C_HEX, wire, sizeof(wire));
        GwapiSendDataResponse expected, got;

        assert_int_equal(n, 44);
        sample_2c_values(&expected);

        assert_int_equal(gwapi_send_data_response_decode(wire, n, &got), 0);
        assert_true(got.req_id == expected.req_id);
        assert_string_equal(got.gw_id, "gw-test-01");
        assert_string_equal(got.sink_id, "sink0");
        assert_int_equal(got.result, GWAPI_ERROR_OK);
        assert_true(got.has_time_ms_epoch);
        assert_true(got.time_ms_epoch == expected.time_ms_epoch);

        assert_int_equal(gwapi_send_data_response_encode(&expected, out, sizeof(out)), 44);
        assert_memory_equal_hex(out, 44, SAMPLE_2C_HEX);
}

static void test_sample_3_status_online(void **state) {
        uint8_t wire[256];
        size_t n = unhex(SAMPLE_3_HEX, wire, sizeof(wire));
        GwapiStatus expected, got;

        assert_int_equal(n, 105);
        sample_3_values(&expected);

        assert_int_equal(gwapi_status_decode(wire, n, &got), 0);
        assert_status_equal(&got, &expected);

        assert_int_equal(gwapi_status_encode(&expected, out, sizeof(out)), 105);
        assert_memory_equal_hex(out, 105, SAMPLE_3_HEX);
}

static void test_sample_3b_status_offline(void **state) {
        uint8_t wire[256];
        size_t n = unhex(SAMPLE_3B_HEX, wire, sizeof(wire));
        GwapiStatus expected, got;

        assert_int_equal(n, 58);
        sample_3b_values(&expected);

        assert_int_equal(gwapi_status_decode(wire, n, &got), 0);
        assert_status_equal(&got, &expected);
        assert_int_equal(got.n_sinks, 0);

        assert_int_equal(gwapi_status_encode(&expected, out, sizeof(out)), 58);
        assert_memory_equal_hex(out, 58, SAMPLE_3B_HEX);
}

/* ---------------------------------------------------------------------------------------------------------
 * Refusals */

static void test_wrong_inner_message(void **state) {
        uint8_t s1[256], s2[256], s2c[256], s3[256];
        size_t n1 = unhex(SAMPLE_1_HEX, s1, sizeof(s1)), n2 = unhex(SAMPLE_2_HEX, s2, sizeof(s2));
        size_t n2c = unhex(SAMPLE_2C_HEX, s2c, sizeof(s2c)), n3 = unhex(SAMPLE_3_HEX, s3, sizeof(s3));
        GwapiReceived r;
        GwapiSendData sd;
        GwapiSendDataResponse resp;
        GwapiStatus st;

        assert_int_equal(gwapi_received_data_decode(s2, n2, &r), -EBADMSG);
        assert_int_equal(gwapi_received_data_decode(s3, n3, &r), -EBADMSG);
        assert_int_equal(gwapi_send_data_decode(s1, n1, &sd), -EBADMSG);
        assert_int_equal(gwapi_send_data_response_decode(s2, n2, &resp), -EBADMSG);
        assert_int_equal(gwapi_send_data_response_decode(s3, n3, &resp), -EBADMSG);
        assert_int_equal(gwapi_status_decode(s1, n1, &st), -EBADMSG);
        assert_int_equal(gwapi_status_decode(s2c, n2c, &st), -EBADMSG);
}

static void test_garbage_and_truncation(void **state) {
        static const char *const garbage[] = {
                "ff",     "ffffffffffffffffffffff", /* over-long varint */
                "0a",                               /* tag without length */
                "0a05",                             /* length beyond the end */
                "0a020a",                           /* nested length beyond the end */
                "0f00",                             /* wire type 7 */
                "0b0c",                             /* group start */
                "0a00",                             /* empty WirepasMessage: no inner message */
                "1203",                             /* customer message only, truncated */
                "00",                               /* field number 0 */
        };
        uint8_t wire[256], buf[64];
        size_t n = unhex(SAMPLE_1_HEX, wire, sizeof(wire));
        GwapiReceived r = { .gw_id = "untouched" };

        for (size_t i = 0; i < ELEMENTSOF(garbage); i++) {
                size_t k = unhex(garbage[i], buf, sizeof(buf));
                assert_int_equal(gwapi_received_data_decode(buf, k, &r), -EBADMSG);
        }
        assert_int_equal(gwapi_received_data_decode(NULL, 0, &r), -EBADMSG);
        assert_int_equal(gwapi_received_data_decode(wire, 0, &r), -EBADMSG);

        /* Every proper prefix of a valid message is incomplete. */
        for (size_t k = 1; k < n; k++) {
                uint8_t *copy = malloc(k);
                assert_non_null(copy);
                memcpy(copy, wire, k);
                assert_int_equal(gwapi_received_data_decode(copy, k, &r), -EBADMSG);
                free(copy);
        }
        /* ... and the output was never written. */
        assert_string_equal(r.gw_id, "untouched");
}

static void build_send_packet_req(Pb *q, bool with_header, bool with_req_id, bool with_qos,
                                  bool with_payload) {
        Pb hdr = {};

        *q = (Pb){};
        if (with_req_id)
                pb_uint(&hdr, 1, UINT64_C(0x1122334455667788));
        pb_uint(&hdr, 3, UINT64_C(1700000001000));
        if (with_header)
                pb_msg(q, 1, &hdr);
        pb_uint(q, 2, 74565);
        pb_uint(q, 3, 255);
        pb_uint(q, 4, 246);
        if (with_qos)
                pb_uint(q, 5, 1);
        if (with_payload) {
                uint8_t payload[64];
                size_t n = unhex(SAMPLE_2_PAYLOAD_HEX, payload, sizeof(payload));
                pb_bytes(q, 6, payload, n);
        }
}

static void test_send_packet_req_missing_required(void **state) {
        GwapiSendData s;
        Pb q, msg;

        /* The writer builds sample 2 exactly when nothing is left out... */
        build_send_packet_req(&q, true, true, true, true);
        pb_envelope(&msg, WP_SEND_PACKET_REQ, &q);
        assert_memory_equal_hex(msg.b, msg.n, SAMPLE_2_HEX);
        assert_int_equal(gwapi_send_data_decode(msg.b, msg.n, &s), 0);

        /* ... and each missing required field makes the message invalid. */
        build_send_packet_req(&q, false, true, true, true);
        pb_envelope(&msg, WP_SEND_PACKET_REQ, &q);
        assert_int_equal(gwapi_send_data_decode(msg.b, msg.n, &s), -EBADMSG);

        build_send_packet_req(&q, true, false, true, true);
        pb_envelope(&msg, WP_SEND_PACKET_REQ, &q);
        assert_int_equal(gwapi_send_data_decode(msg.b, msg.n, &s), -EBADMSG);

        build_send_packet_req(&q, true, true, false, true);
        pb_envelope(&msg, WP_SEND_PACKET_REQ, &q);
        assert_int_equal(gwapi_send_data_decode(msg.b, msg.n, &s), -EBADMSG);

        build_send_packet_req(&q, true, true, true, false);
        pb_envelope(&msg, WP_SEND_PACKET_REQ, &q);
        assert_int_equal(gwapi_send_data_decode(msg.b, msg.n, &s), -EBADMSG);
}

/* Sample 1, padded to exactly `total` bytes with an unknown GenericMessage field (number 15, bytes). */
static size_t padded_sample_1(uint8_t *buf, size_t total) {
        size_t n = unhex(SAMPLE_1_HEX, buf, total);
        size_t pad = total - n - 3; /* tag (1) + length as a 2-byte varint (128..16383) */

        assert_true(pad >= 128 && pad < 16384);
        buf[n++] = (15 << 3) | 2;
        buf[n++] = (uint8_t)(0x80 | (pad & 0x7f));
        buf[n++] = (uint8_t)(pad >> 7);
        memset(buf + n, 0xab, pad);
        return n + pad;
}

static void test_oversize_refused_before_unpack(void **state) {
        static const uint8_t one_byte = 0x0a;
        uint8_t *buf = malloc(GWAPI_PAYLOAD_MAX + 1);
        GwapiReceived r;

        assert_non_null(buf);

        /* At the limit, a valid message with an unknown field is accepted... */
        assert_int_equal(padded_sample_1(buf, GWAPI_PAYLOAD_MAX), GWAPI_PAYLOAD_MAX);
        assert_int_equal(gwapi_received_data_decode(buf, GWAPI_PAYLOAD_MAX, &r), 0);
        assert_int_equal(r.source_endpoint, 246);
        /* ... one byte more and it is refused for its size. */
        assert_int_equal(padded_sample_1(buf, GWAPI_PAYLOAD_MAX + 1), GWAPI_PAYLOAD_MAX + 1);
        assert_int_equal(gwapi_received_data_decode(buf, GWAPI_PAYLOAD_MAX + 1, &r), -EMSGSIZE);
        free(buf);

        /* The size is checked before a single byte is read: a 1-byte buffer claiming to be huge is never
         * touched (ASan would notice). */
        GwapiSendData sd;
        GwapiSendDataResponse resp;
        GwapiStatus st;
        assert_int_equal(gwapi_received_data_decode(&one_byte, GWAPI_PAYLOAD_MAX + 1, &r), -EMSGSIZE);
        assert_int_equal(gwapi_send_data_decode(&one_byte, SIZE_MAX, &sd), -EMSGSIZE);
        assert_int_equal(gwapi_send_data_response_decode(&one_byte, GWAPI_PAYLOAD_MAX + 1, &resp),
                         -EMSGSIZE);
        assert_int_equal(gwapi_status_decode(&one_byte, GWAPI_PAYLOAD_MAX + 1, &st), -EMSGSIZE);
}

/* received_data with the given payload length and endpoints, and otherwise sample 1's values. */
static void build_received(Pb *msg, const char *gw_id, const char *sink_id, size_t payload_len,
                           uint64_t src_ep, uint64_t dst_ep) {
        static uint8_t payload[2048];
        Pb hdr = {}, e = {};

        memset(payload, 0x5a, sizeof(payload));
        assert_true(payload_len <= sizeof(payload));
        pb_str(&hdr, 1, gw_id);
        if (sink_id)
                pb_str(&hdr, 2, sink_id);
        pb_uint(&hdr, 3, 7);
        pb_msg(&e, 1, &hdr);
        pb_uint(&e, 2, 74565);
        pb_uint(&e, 3, 1);
        pb_uint(&e, 4, src_ep);
        pb_uint(&e, 5, dst_ep);
        pb_uint(&e, 6, 10);
        pb_uint(&e, 7, 1);
        pb_uint(&e, 8, 1);
        pb_bytes(&e, 9, payload, payload_len);
        pb_envelope(msg, WP_PACKET_RECEIVED_EVENT, &e);
}

static void test_received_payload_bounds(void **state) {
        GwapiReceived r;
        Pb msg;

        /* A provisioning-sized payload, one byte over it (flagged by length only), the full-packet cap. */
        build_received(&msg, "gw", "sink0", PROV_PDU_MAX, 246, 255);
        assert_int_equal(gwapi_received_data_decode(msg.b, msg.n, &r), 0);
        assert_int_equal(r.payload_len, PROV_PDU_MAX);

        build_received(&msg, "gw", "sink0", PROV_PDU_MAX + 1, 246, 255);
        assert_int_equal(gwapi_received_data_decode(msg.b, msg.n, &r), 0);
        assert_int_equal(r.payload_len, PROV_PDU_MAX + 1);
        assert_true(r.payload_len > PROV_PDU_MAX);

        build_received(&msg, "gw", "sink0", GWAPI_APP_PAYLOAD_MAX, 246, 255);
        assert_int_equal(gwapi_received_data_decode(msg.b, msg.n, &r), 0);
        assert_int_equal(r.payload_len, GWAPI_APP_PAYLOAD_MAX);
        assert_int_equal(r.payload[GWAPI_APP_PAYLOAD_MAX - 1], 0x5a);

        build_received(&msg, "gw", "sink0", GWAPI_APP_PAYLOAD_MAX + 1, 246, 255);
        assert_true(msg.n <= GWAPI_PAYLOAD_MAX);
        assert_int_equal(gwapi_received_data_decode(msg.b, msg.n, &r), -EMSGSIZE);

        /* An empty payload is present but empty; no sink id is "". */
        build_received(&msg, "gw", NULL, 0, 246, 255);
        assert_int_equal(gwapi_received_data_decode(msg.b, msg.n, &r), 0);
        assert_true(r.has_payload);
        assert_int_equal(r.payload_len, 0);
        assert_string_equal(r.sink_id, "");
}

static void test_received_endpoints_and_ids(void **state) {
        char long_gw[GW_ID_MAX_LEN + 2], long_sink[SINK_ID_MAX_LEN + 2];
        GwapiReceived r;
        Pb msg;

        build_received(&msg, "gw", "sink0", 10, 255, 0);
        assert_int_equal(gwapi_received_data_decode(msg.b, msg.n, &r), 0);
        assert_int_equal(r.source_endpoint, 255);
        assert_int_equal(r.destination_endpoint, 0);

        build_received(&msg, "gw", "sink0", 10, 256, 255);
        assert_int_equal(gwapi_received_data_decode(msg.b, msg.n, &r), -EBADMSG);
        build_received(&msg, "gw", "sink0", 10, 246, UINT64_C(0x1ff));
        assert_int_equal(gwapi_received_data_decode(msg.b, msg.n, &r), -EBADMSG);

        static const char *const bad_ids[] = { "", "gw/1", "gw+", "#", "gw 1\n", "g\x7fw", "\xc3\xa9" };
        for (size_t i = 0; i < ELEMENTSOF(bad_ids); i++) {
                build_received(&msg, bad_ids[i], "sink0", 10, 246, 255);
                assert_int_equal(gwapi_received_data_decode(msg.b, msg.n, &r), -EBADMSG);
                build_received(&msg, "gw", bad_ids[i], 10, 246, 255);
                assert_int_equal(gwapi_received_data_decode(msg.b, msg.n, &r), -EBADMSG);
        }

        memset(long_gw, 'g', sizeof(long_gw));
        long_gw[GW_ID_MAX_LEN] = '\0';
        build_received(&msg, long_gw, "sink0", 10, 246, 255);
        assert_int_equal(gwapi_received_data_decode(msg.b, msg.n, &r), 0);
        assert_int_equal(strlen(r.gw_id), GW_ID_MAX_LEN);
        long_gw[GW_ID_MAX_LEN] = 'g';
        long_gw[GW_ID_MAX_LEN + 1] = '\0';
        build_received(&msg, long_gw, "sink0", 10, 246, 255);
        assert_int_equal(gwapi_received_data_decode(msg.b, msg.n, &r), -EMSGSIZE);

        memset(long_sink, 's', sizeof(long_sink));
        long_sink[SINK_ID_MAX_LEN + 1] = '\0';
        build_received(&msg, "gw", long_sink, 10, 246, 255);
        assert_int_equal(gwapi_received_data_decode(msg.b, msg.n, &r), -EMSGSIZE);
}

/* ---------------------------------------------------------------------------------------------------------
 * Responses and status edge cases */

static void build_response(Pb *msg, int64_t res) {
        Pb hdr = {}, resp = {};

        pb_uint(&hdr, 1, 42);
        pb_str(&hdr, 2, "gw-test-01");
        pb_str(&hdr, 3, "sink1");
        pb_uint(&hdr, 4, (uint64_t)res); /* int32 enums: negative values are 10-byte varints */
        pb_msg(&resp, 1, &hdr);
        pb_envelope(msg, WP_SEND_PACKET_RESP, &resp);
}

static void test_response_result_codes(void **state) {
        GwapiSendDataResponse r;
        Pb msg;

        build_response(&msg, GWAPI_ERROR_SINK_OUT_OF_MEMORY);
        assert_int_equal(gwapi_send_data_response_decode(msg.b, msg.n, &r), 0);
        assert_true(r.req_id == 42);
        assert_string_equal(r.sink_id, "sink1");
        assert_int_equal(r.result, GWAPI_ERROR_SINK_OUT_OF_MEMORY);
        assert_false(r.has_time_ms_epoch);
        assert_true(gwapi_error_retryable(r.result));

        /* A code newer than our table is kept, has no name and is final. */
        build_response(&msg, 30);
        assert_int_equal(gwapi_send_data_response_decode(msg.b, msg.n, &r), 0);
        assert_int_equal(r.result, 30);
        assert_null(gwapi_error_to_string(r.result));
        assert_false(gwapi_error_retryable(r.result));

        /* UNKNOWN_ERROR_CODE (-1) is a parser default, never a gateway's answer. */
        build_response(&msg, -1);
        assert_int_equal(gwapi_send_data_response_decode(msg.b, msg.n, &r), -EBADMSG);

        /* Encoding a response for a result we hold round-trips. */
        GwapiSendDataResponse in = { .req_id = 7,
                                     .gw_id = "gw",
                                     .result = GWAPI_ERROR_INVALID_MAX_HOP_COUNT };
        int n = gwapi_send_data_response_encode(&in, out, sizeof(out));
        assert_true(n > 0);
        assert_int_equal(gwapi_send_data_response_decode(out, (size_t)n, &r), 0);
        assert_int_equal(r.result, GWAPI_ERROR_INVALID_MAX_HOP_COUNT);
        assert_string_equal(r.sink_id, "");
        in.result = _GWAPI_ERROR_INVALID;
        assert_int_equal(gwapi_send_data_response_encode(&in, out, sizeof(out)), -EINVAL);
}

/* StatusEvent with the given version, state and sink count; features unpacked or packed. */
static void build_status(Pb *msg, uint64_t version, uint64_t state, size_t n_sinks, bool packed_features,
                         uint64_t role_flag) {
        Pb hdr = {}, st = {};

        pb_str(&hdr, 1, "gw-test-01");
        pb_uint(&hdr, 3, 99);
        pb_msg(&st, 1, &hdr);
        pb_uint(&st, 2, version);
        pb_uint(&st, 3, state);
        for (size_t i = 0; i < n_sinks; i++) {
                Pb cfg = {}, role = {};
                char id[32];

                snprintf(id, sizeof(id), "sink%zu", i);
                pb_str(&cfg, 1, id);
                pb_uint(&role, 1, GWAPI_ROLE_SINK);
                pb_uint(&role, 2, role_flag);
                pb_msg(&cfg, 2, &role);
                pb_uint(&cfg, 4, 1000 + i);
                pb_uint(&cfg, 7, 0xffff); /* channel_map: on the wire, not mapped */
                pb_msg(&st, 4, &cfg);
        }
        if (packed_features) {
                static const uint8_t f[] = { 1, 2, 3, 9 };
                pb_bytes(&st, 8, f, sizeof(f));
        } else {
                pb_uint(&st, 8, 1);
                pb_uint(&st, 8, 2);
                pb_uint(&st, 8, 3);
                pb_uint(&st, 8, 9);
        }
        pb_envelope(msg, WP_STATUS_EVENT, &st);
}

static void test_status_edge_cases(void **state) {
        GwapiStatus *s = malloc(sizeof(GwapiStatus));
        Pb msg;

        assert_non_null(s);

        /* Packed and unpacked repeated enums both decode; unknown feature 9 is kept; unmapped fields are
         * skipped. */
        for (int packed = 0; packed <= 1; packed++) {
                build_status(&msg, 1, GWAPI_ON, 2, packed, 2);
                assert_int_equal(gwapi_status_decode(msg.b, msg.n, s), 0);
                assert_int_equal(s->n_features, 4);
                assert_int_equal(s->features[0], 1);
                assert_int_equal(s->features[3], 9);
                assert_int_equal(s->n_sinks, 2);
                assert_string_equal(s->sinks[1].sink_id, "sink1");
                assert_true(s->sinks[1].network_address == 1001);
                assert_int_equal(s->sinks[1].role_flags, GWAPI_ROLE_FLAG_AUTOROLE);
                assert_false(s->sinks[1].has_max_mtu);
        }

        /* Version other than 1, state or role flag outside the enum. */
        build_status(&msg, 2, GWAPI_ON, 1, false, 1);
        assert_int_equal(gwapi_status_decode(msg.b, msg.n, s), -EPROTONOSUPPORT);
        build_status(&msg, 1, 3, 1, false, 1);
        assert_int_equal(gwapi_status_decode(msg.b, msg.n, s), -EBADMSG);
        build_status(&msg, 1, 0, 1, false, 1);
        assert_int_equal(gwapi_status_decode(msg.b, msg.n, s), -EBADMSG);
        build_status(&msg, 1, GWAPI_OFF, 1, false, 3);
        assert_int_equal(gwapi_status_decode(msg.b, msg.n, s), -EBADMSG);

        /* Up to GWAPI_STATUS_SINKS_MAX configs, not more. */
        build_status(&msg, 1, GWAPI_ON, GWAPI_STATUS_SINKS_MAX, false, 1);
        assert_int_equal(gwapi_status_decode(msg.b, msg.n, s), 0);
        assert_int_equal(s->n_sinks, GWAPI_STATUS_SINKS_MAX);
        build_status(&msg, 1, GWAPI_ON, GWAPI_STATUS_SINKS_MAX + 1, false, 1);
        assert_int_equal(gwapi_status_decode(msg.b, msg.n, s), -EMSGSIZE);

        /* Decode -> encode -> decode keeps everything we map. */
        build_status(&msg, 1, GWAPI_ON, 3, false, 1);
        assert_int_equal(gwapi_status_decode(msg.b, msg.n, s), 0);
        int n = gwapi_status_encode(s, out, sizeof(out));
        assert_true(n > 0);
        GwapiStatus *again = malloc(sizeof(GwapiStatus));
        assert_non_null(again);
        assert_int_equal(gwapi_status_decode(out, (size_t)n, again), 0);
        assert_status_equal(again, s);

        /* Encoder refuses what the decoder would refuse. */
        s->state = 0;
        assert_int_equal(gwapi_status_encode(s, out, sizeof(out)), -EINVAL);
        s->state = GWAPI_ON;
        s->sinks[0].role_flags = 4;
        assert_int_equal(gwapi_status_encode(s, out, sizeof(out)), -EINVAL);
        s->sinks[0].role_flags = 0;
        s->sinks[0].sink_id[0] = '\0';
        assert_int_equal(gwapi_status_encode(s, out, sizeof(out)), -EINVAL);

        free(again);
        free(s);
}

/* ---------------------------------------------------------------------------------------------------------
 * Encoders */

static void test_encoders_refuse_and_bound(void **state) {
        GwapiSendData s;
        GwapiReceived r;
        uint8_t small[91];

        sample_2_values(&s);
        /* Exactly enough room, one byte less, and the output is untouched on failure. */
        assert_int_equal(gwapi_send_data_encode(&s, small, sizeof(small)), 91);
        memset(small, 0xee, sizeof(small));
        assert_int_equal(gwapi_send_data_encode(&s, small, sizeof(small) - 1), -EMSGSIZE);
        assert_int_equal(small[0], 0xee);

        s.payload_len = GWAPI_APP_PAYLOAD_MAX + 1;
        assert_int_equal(gwapi_send_data_encode(&s, out, sizeof(out)), -EINVAL);
        s.payload_len = GWAPI_APP_PAYLOAD_MAX;
        assert_true(gwapi_send_data_encode(&s, out, sizeof(out)) > (int)GWAPI_APP_PAYLOAD_MAX);
        /* An empty payload is legal on the wire (protobuf-c hands it over as { 0, NULL }). */
        GwapiSendData empty;
        sample_2_values(&s);
        s.payload_len = 0;
        int k = gwapi_send_data_encode(&s, out, sizeof(out));
        assert_int_equal(k, 91 - 54);
        assert_int_equal(gwapi_send_data_decode(out, (size_t)k, &empty), 0);
        assert_int_equal(empty.payload_len, 0);

        sample_2_values(&s);
        strcpy(s.sink_id, "sink+");
        assert_int_equal(gwapi_send_data_encode(&s, out, sizeof(out)), -EINVAL);

        sample_1_values(&r);
        r.gw_id[0] = '\0';
        assert_int_equal(gwapi_received_data_encode(&r, out, sizeof(out)), -EINVAL);
        sample_1_values(&r);
        strcpy(r.sink_id, "a/b");
        assert_int_equal(gwapi_received_data_encode(&r, out, sizeof(out)), -EINVAL);
        sample_1_values(&r);
        memset(r.gw_id, 'g', sizeof(r.gw_id)); /* not NUL-terminated */
        assert_int_equal(gwapi_received_data_encode(&r, out, sizeof(out)), -EINVAL);

        /* Without a payload the field is absent; payload_size tells the length instead. */
        sample_1_values(&r);
        r.has_payload = false;
        r.has_payload_size = true;
        r.payload_size = 29;
        int n = gwapi_received_data_encode(&r, out, sizeof(out));
        assert_int_equal(n, 103 - 31 + 2);
        GwapiReceived back;
        assert_int_equal(gwapi_received_data_decode(out, (size_t)n, &back), 0);
        assert_false(back.has_payload);
        assert_int_equal(back.payload_len, 0);
        assert_true(back.has_payload_size);
        assert_int_equal(back.payload_size, 29);
}

/* ---------------------------------------------------------------------------------------------------------
 * Error codes */

static void test_error_table(void **state) {
        for (int e = 0; e < _GWAPI_ERROR_MAX; e++) {
                const char *s = gwapi_error_to_string(e);

                assert_non_null(s);
                assert_int_equal(gwapi_error_from_string(s), e);
        }
        assert_string_equal(gwapi_error_to_string(GWAPI_ERROR_OK), "OK");
        assert_string_equal(gwapi_error_to_string(GWAPI_ERROR_SINK_TIMEOUT), "SINK_TIMEOUT");
        assert_string_equal(gwapi_error_to_string(GWAPI_ERROR_INVALID_SCRATCHPAD_CHUNK_SIZE),
                            "INVALID_SCRATCHPAD_CHUNK_SIZE");
        assert_null(gwapi_error_to_string(_GWAPI_ERROR_MAX));
        assert_null(gwapi_error_to_string(-1));
        assert_int_equal(gwapi_error_from_string("INVLAID_SEQUENCE_NUMBER"),
                         GWAPI_ERROR_INVALID_SEQUENCE_NUMBER);
        assert_int_equal(gwapi_error_from_string("sink_timeout"), _GWAPI_ERROR_INVALID);
        assert_int_equal(gwapi_error_from_string(NULL), _GWAPI_ERROR_INVALID);
}

static void test_error_retryable(void **state) {
        /* Exactly these three are worth retrying. */
        for (int e = 0; e < _GWAPI_ERROR_MAX; e++) {
                bool expected = e == GWAPI_ERROR_SINK_OUT_OF_MEMORY || e == GWAPI_ERROR_SINK_TIMEOUT ||
                                e == GWAPI_ERROR_INTERNAL_ERROR;
                assert_int_equal(gwapi_error_retryable(e), expected);
        }
        assert_false(gwapi_error_retryable(GWAPI_ERROR_OK));
        assert_false(gwapi_error_retryable(GWAPI_ERROR_ACCESS_DENIED));
        assert_false(gwapi_error_retryable(GWAPI_ERROR_INVALID_DEST_ADDRESS));
        assert_false(gwapi_error_retryable(GWAPI_ERROR_INVALID_MAX_HOP_COUNT));
        assert_false(gwapi_error_retryable(_GWAPI_ERROR_INVALID));
        assert_false(gwapi_error_retryable(_GWAPI_ERROR_MAX + 5));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sample_1_received_data),
                cmocka_unit_test(test_sample_2_send_data),
                cmocka_unit_test(test_sample_2b_send_data_all_optional),
                cmocka_unit_test(test_sample_2c_send_data_response),
                cmocka_unit_test(test_sample_3_status_online),
                cmocka_unit_test(test_sample_3b_status_offline),
                cmocka_unit_test(test_wrong_inner_message),
                cmocka_unit_test(test_garbage_and_truncation),
                cmocka_unit_test(test_send_packet_req_missing_required),
                cmocka_unit_test(test_oversize_refused_before_unpack),
                cmocka_unit_test(test_received_payload_bounds),
                cmocka_unit_test(test_received_endpoints_and_ids),
                cmocka_unit_test(test_response_result_codes),
                cmocka_unit_test(test_status_edge_cases),
                cmocka_unit_test(test_encoders_refuse_and_bound),
                cmocka_unit_test(test_error_table),
                cmocka_unit_test(test_error_retryable),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
