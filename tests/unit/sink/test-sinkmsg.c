/* SPDX-License-Identifier: Apache-2.0 */
/* Dual-MCU primitives: every worked vector of ref-dualmcu.md §3.5 encoded from fields to the exact bytes and
 * decoded from the bytes to the documented fields, in the direction each one travels and (for the simulator)
 * the other way round; exact payload lengths; unknown ids. */
#include "sink-test-util.h"
#include "cursor.h"
#include "sinkmsg.h"

/* Decodes a wire string (one frame) in direction dir. The views in *ret point into *d. */
static int decode_wire(SinkFrameDecoder *d, SinkDirection dir, const char *wire_hex, SinkMsg *ret) {
        SinkFrame f;

        decode_one_frame(d, wire_hex, &f);
        return sinkmsg_decode(dir, &f, ret);
}

static void assert_wire(const SinkMsg *m, const char *wire_hex) {
        uint8_t wire[SINK_SLIP_WIRE_MAX(SINK_FRAME_MAX)];
        int r = sinkmsg_to_wire(m, wire, sizeof(wire));

        assert_true(r > 0);
        assert_bytes_equal_spaced(wire, (size_t)r, wire_hex);
}

/* §3.5 (1): CSAP read of cMTU, frame id 0, and its confirm (102). */
static void test_vector_csap_read_mtu(void **state) {
        SinkFrameDecoder d;
        SinkMsg m;

        SinkMsg req = { .type = SINK_MSG_CSAP_ATTR_READ_REQ, .frame_id = 0, .attr_id = SINK_CSAP_MTU };
        assert_wire(&req, "C0 C0 C0 0E 00 02 05 00 31 4F C0");
        assert_int_equal(decode_wire(&d, SINK_TO_DEVICE, "C0 C0 C0 0E 00 02 05 00 31 4F C0", &m), 0);
        assert_int_equal(m.type, SINK_MSG_CSAP_ATTR_READ_REQ);
        assert_int_equal(m.attr_id, 5);

        assert_int_equal(decode_wire(&d, SINK_TO_HOST, "C0 8E 00 05 00 05 00 01 66 BB 92 C0", &m), 0);
        assert_int_equal(m.type, SINK_MSG_CSAP_ATTR_READ_CNF);
        assert_int_equal(m.primitive, 0x8E);
        assert_int_equal(m.frame_id, 0);
        assert_int_equal(m.attr_read_cnf.result, SINK_ATTR_OK);
        assert_int_equal(m.attr_read_cnf.attr_id, SINK_CSAP_MTU);
        assert_int_equal(m.attr_read_cnf.value_len, 1);
        assert_int_equal(m.attr_read_cnf.value[0], 102);

        static const uint8_t mtu = 102;
        SinkMsg cnf = { .type = SINK_MSG_CSAP_ATTR_READ_CNF,
                        .frame_id = 0,
                        .attr_read_cnf = { .result = 0, .attr_id = 5, .value = &mtu, .value_len = 1 } };
        assert_wire(&cnf, "C0 8E 00 05 00 05 00 01 66 BB 92 C0");
}

/* §3.5 (2): CSAP write of cNodeAddress 0xC0DB0001 (escaping) and its confirm. */
static void test_vector_csap_write_node_address(void **state) {
        SinkFrameDecoder d;
        SinkMsg m;
        uint8_t addr[4];

        unaligned_write_le32(addr, 0xC0DB0001);
        SinkMsg req = { .type = SINK_MSG_CSAP_ATTR_WRITE_REQ,
                        .frame_id = 2,
                        .attr_write = { .attr_id = SINK_CSAP_NODE_ADDRESS, .value = addr, .value_len = 4 } };
        assert_wire(&req, "C0 C0 C0 0D 02 07 01 00 04 01 00 DB DD DB DC 3F 3F C0");

        assert_int_equal(
                decode_wire(&d, SINK_TO_DEVICE, "C0 C0 C0 0D 02 07 01 00 04 01 00 DB DD DB DC 3F 3F C0", &m),
                0);
        assert_int_equal(m.type, SINK_MSG_CSAP_ATTR_WRITE_REQ);
        assert_int_equal(m.frame_id, 2);
        assert_int_equal(m.attr_write.attr_id, 1);
        assert_int_equal(m.attr_write.value_len, 4);
        assert_int_equal(unaligned_read_le32(m.attr_write.value), 0xC0DB0001);

        assert_int_equal(decode_wire(&d, SINK_TO_HOST, "C0 8D 02 01 00 2F 3D C0", &m), 0);
        assert_int_equal(m.type, SINK_MSG_CSAP_ATTR_WRITE_CNF);
        assert_int_equal(m.frame_id, 2);
        assert_int_equal(m.result, 0);
        SinkMsg cnf = { .type = SINK_MSG_CSAP_ATTR_WRITE_CNF, .frame_id = 2, .result = 0 };
        assert_wire(&cnf, "C0 8D 02 01 00 2F 3D C0");
}

/* §3.5 (3): DATA_TX_TT "hello" and its confirm. */
static void test_vector_data_tx_tt(void **state) {
        static const char hello_wire[] =
                "C0 C0 C0 1F 0C 14 02 01 0A 34 12 00 00 14 01 00 00 00 00 00 05 68 65 6C 6C 6F 2D F3 C0";
        SinkFrameDecoder d;
        SinkMsg m;

        SinkMsg req = { .type = SINK_MSG_DATA_TX_TT_REQ,
                        .frame_id = 0x0C,
                        .data_tx = { .pdu_id = 0x0102,
                                     .src_ep = 10,
                                     .dst_addr = 0x1234,
                                     .dst_ep = 20,
                                     .qos = 1,
                                     .tx_options = 0,
                                     .buffering_delay = 0,
                                     .apdu = (const uint8_t *)"hello",
                                     .apdu_len = 5 } };
        assert_wire(&req, hello_wire);

        assert_int_equal(decode_wire(&d, SINK_TO_DEVICE, hello_wire, &m), 0);
        assert_int_equal(m.type, SINK_MSG_DATA_TX_TT_REQ);
        assert_int_equal(m.frame_id, 0x0C);
        assert_int_equal(m.data_tx.pdu_id, 0x0102);
        assert_int_equal(m.data_tx.src_ep, 10);
        assert_int_equal(m.data_tx.dst_addr, 0x1234);
        assert_int_equal(m.data_tx.dst_ep, 20);
        assert_int_equal(m.data_tx.qos, 1);
        assert_int_equal(m.data_tx.tx_options, 0);
        assert_int_equal(m.data_tx.buffering_delay, 0);
        assert_int_equal(m.data_tx.apdu_len, 5);
        assert_memory_equal(m.data_tx.apdu, "hello", 5);

        assert_int_equal(decode_wire(&d, SINK_TO_HOST, "C0 9F 0C 04 02 01 00 07 FF CF C0", &m), 0);
        assert_int_equal(m.type, SINK_MSG_DATA_TX_TT_CNF);
        assert_int_equal(m.frame_id, 0x0C);
        assert_int_equal(m.data_tx_cnf.pdu_id, 0x0102);
        assert_int_equal(m.data_tx_cnf.result, SINK_TX_OK);
        assert_int_equal(m.data_tx_cnf.capacity, 7);
        SinkMsg cnf = { .type = SINK_MSG_DATA_TX_TT_CNF,
                        .frame_id = 0x0C,
                        .data_tx_cnf = { .pdu_id = 0x0102, .result = 0, .capacity = 7 } };
        assert_wire(&cnf, "C0 9F 0C 04 02 01 00 07 FF CF C0");
}

/* §3.5 (4): poll, DATA_RX, response "next", STACK_STATE, response "stop". */
static void test_vector_poll_cycle(void **state) {
        static const char rx_wire[] =
                "C0 03 00 14 01 34 12 00 00 0A 01 00 DB DD DB DC 14 0D 80 00 00 00 03 61 62 63 D5 B1 C0";
        SinkFrameDecoder d;
        SinkMsg m;

        SinkMsg poll = { .type = SINK_MSG_POLL_REQ, .frame_id = 0x0E };
        assert_wire(&poll, "C0 C0 C0 04 0E 00 53 33 C0");
        assert_int_equal(decode_wire(&d, SINK_TO_DEVICE, "C0 C0 C0 04 0E 00 53 33 C0", &m), 0);
        assert_int_equal(m.type, SINK_MSG_POLL_REQ);
        assert_int_equal(m.frame_id, 0x0E);

        assert_int_equal(decode_wire(&d, SINK_TO_HOST, "C0 84 0E 01 01 18 AB C0", &m), 0);
        assert_int_equal(m.type, SINK_MSG_POLL_CNF);
        assert_int_equal(m.result, SINK_POLL_PENDING);
        SinkMsg pcnf = { .type = SINK_MSG_POLL_CNF, .frame_id = 0x0E, .result = 1 };
        assert_wire(&pcnf, "C0 84 0E 01 01 18 AB C0");

        assert_int_equal(decode_wire(&d, SINK_TO_HOST, rx_wire, &m), 0);
        assert_int_equal(m.type, SINK_MSG_DATA_RX_IND);
        assert_int_equal(m.frame_id, 0);
        assert_int_equal(m.data_rx.status, 1);
        assert_int_equal(sinkmsg_indication_status(&m), 1);
        assert_int_equal(m.data_rx.src_addr, 0x1234);
        assert_int_equal(m.data_rx.src_ep, 10);
        assert_int_equal(m.data_rx.dst_addr, 0xC0DB0001);
        assert_int_equal(m.data_rx.dst_ep, 20);
        assert_int_equal(sink_qos_hop_qos(m.data_rx.qos_hop), 1);
        assert_int_equal(sink_qos_hop_hops(m.data_rx.qos_hop), 3);
        assert_int_equal(m.data_rx.travel_time, 128);
        assert_int_equal(sink_travel_time_to_ms(m.data_rx.travel_time), 1000);
        assert_int_equal(m.data_rx.apdu_len, 3);
        assert_memory_equal(m.data_rx.apdu, "abc", 3);
        SinkMsg rx = { .type = SINK_MSG_DATA_RX_IND,
                       .frame_id = 0,
                       .data_rx = { .status = 1,
                                    .src_addr = 0x1234,
                                    .src_ep = 10,
                                    .dst_addr = 0xC0DB0001,
                                    .dst_ep = 20,
                                    .qos_hop = sink_qos_hop_make(1, 3),
                                    .travel_time = sink_ms_to_travel_time(1000),
                                    .apdu = (const uint8_t *)"abc",
                                    .apdu_len = 3 } };
        assert_wire(&rx, rx_wire);

        SinkMsg resp = { .type = SINK_MSG_RESPONSE, .primitive = 0x83, .frame_id = 0, .result = 1 };
        assert_wire(&resp, "C0 C0 C0 83 00 01 01 34 E1 C0");
        assert_int_equal(decode_wire(&d, SINK_TO_DEVICE, "C0 C0 C0 83 00 01 01 34 E1 C0", &m), 0);
        assert_int_equal(m.type, SINK_MSG_RESPONSE);
        assert_int_equal(m.primitive, 0x83);
        assert_int_equal(m.frame_id, 0);
        assert_int_equal(m.result, SINK_RESPONSE_NEXT);

        assert_int_equal(decode_wire(&d, SINK_TO_HOST, "C0 07 01 02 00 00 0C 6E C0", &m), 0);
        assert_int_equal(m.type, SINK_MSG_STACK_STATE_IND);
        assert_int_equal(m.frame_id, 1);
        assert_int_equal(m.stack_state.status, 0);
        assert_int_equal(m.stack_state.stack_status, 0);
        SinkMsg st = { .type = SINK_MSG_STACK_STATE_IND, .frame_id = 1 };
        assert_wire(&st, "C0 07 01 02 00 00 0C 6E C0");

        SinkMsg stop = { .type = SINK_MSG_RESPONSE, .primitive = 0x87, .frame_id = 1, .result = 0 };
        assert_wire(&stop, "C0 C0 C0 87 01 01 00 D4 0C C0");
        assert_int_equal(decode_wire(&d, SINK_TO_DEVICE, "C0 C0 C0 87 01 01 00 D4 0C C0", &m), 0);
        assert_int_equal(m.primitive, 0x87);
        assert_int_equal(m.result, SINK_RESPONSE_STOP);
}

/* §3.5 (5): idle poll, STACK_START, MSAP read of mStackStatus. */
static void test_vector_other_frames(void **state) {
        SinkFrameDecoder d;
        SinkMsg m;

        SinkMsg poll = { .type = SINK_MSG_POLL_REQ, .frame_id = 0x0D };
        assert_wire(&poll, "C0 C0 C0 04 0D 00 00 66 C0");
        assert_int_equal(decode_wire(&d, SINK_TO_HOST, "C0 84 0D 01 00 69 E2 C0", &m), 0);
        assert_int_equal(m.type, SINK_MSG_POLL_CNF);
        assert_int_equal(m.result, SINK_POLL_NOTHING);

        SinkMsg start = { .type = SINK_MSG_STACK_START_REQ, .frame_id = 0x0A, .start_options = 0 };
        assert_wire(&start, "C0 C0 C0 05 0A 01 00 75 CC C0");
        assert_int_equal(decode_wire(&d, SINK_TO_DEVICE, "C0 C0 C0 05 0A 01 00 75 CC C0", &m), 0);
        assert_int_equal(m.type, SINK_MSG_STACK_START_REQ);
        assert_int_equal(m.start_options, 0);
        assert_int_equal(decode_wire(&d, SINK_TO_HOST, "C0 85 0A 01 00 4D 11 C0", &m), 0);
        assert_int_equal(m.type, SINK_MSG_STACK_START_CNF);
        assert_int_equal(m.result, 0);
        SinkMsg scnf = { .type = SINK_MSG_STACK_START_CNF, .frame_id = 0x0A, .result = 0 };
        assert_wire(&scnf, "C0 85 0A 01 00 4D 11 C0");

        SinkMsg rd = { .type = SINK_MSG_MSAP_ATTR_READ_REQ,
                       .frame_id = 0x0B,
                       .attr_id = SINK_MSAP_STACK_STATUS };
        assert_wire(&rd, "C0 C0 C0 0C 0B 02 01 00 69 D9 C0");
        assert_int_equal(decode_wire(&d, SINK_TO_HOST, "C0 8C 0B 05 00 01 00 01 00 A3 90 C0", &m), 0);
        assert_int_equal(m.type, SINK_MSG_MSAP_ATTR_READ_CNF);
        assert_int_equal(m.attr_read_cnf.result, 0);
        assert_int_equal(m.attr_read_cnf.attr_id, 1);
        assert_int_equal(m.attr_read_cnf.value_len, 1);
        assert_int_equal(m.attr_read_cnf.value[0], 0); /* running */
}

/* Feeds raw header+payload (CRC added here) to the message decoder. */
static int decode_raw(SinkDirection dir, const char *raw_hex, SinkMsg *ret) {
        static uint8_t raw[300];
        size_t n = unhex_spaced(raw_hex, raw, sizeof(raw) - 2);
        uint16_t crc = sink_crc16(raw, n);
        SinkFrame f;

        raw[n] = crc & 0xFF;
        raw[n + 1] = crc >> 8;
        assert_int_equal(sink_frame_parse(raw, n + 2, &f), 0);
        return sinkmsg_decode(dir, &f, ret);
}

static void test_exact_lengths(void **state) {
        SinkMsg m;

        /* poll confirm: exactly one byte, 0 or 1 */
        assert_int_equal(decode_raw(SINK_TO_HOST, "84 00 01 01", &m), 0);
        assert_int_equal(decode_raw(SINK_TO_HOST, "84 00 02 01 00", &m), -EBADMSG);
        assert_int_equal(decode_raw(SINK_TO_HOST, "84 00 00", &m), -EBADMSG);
        assert_int_equal(decode_raw(SINK_TO_HOST, "84 00 01 02", &m), -EBADMSG);
        /* poll request: no payload */
        assert_int_equal(decode_raw(SINK_TO_DEVICE, "04 00 01 00", &m), -EBADMSG);
        /* DATA_RX: APDU length must match what is left */
        assert_int_equal(decode_raw(SINK_TO_HOST,
                                    "03 00 12 00 34 12 00 00 F6 01 00 00 00 FF 00 05 00 00 00 01 41", &m),
                         0);
        assert_int_equal(m.data_rx.apdu_len, 1);
        assert_int_equal(decode_raw(SINK_TO_HOST,
                                    "03 00 12 00 34 12 00 00 F6 01 00 00 00 FF 00 05 00 00 00 02 41", &m),
                         -EBADMSG);
        assert_int_equal(decode_raw(SINK_TO_HOST,
                                    "03 00 13 00 34 12 00 00 F6 01 00 00 00 FF 00 05 00 00 00 01 41 42", &m),
                         -EBADMSG);
        /* attribute read confirm on failure: length 0, 4-byte payload */
        assert_int_equal(decode_raw(SINK_TO_HOST, "8E 01 04 04 01 00 00", &m), 0);
        assert_int_equal(m.attr_read_cnf.result, SINK_ATTR_INVALID_VALUE);
        assert_int_equal(m.attr_read_cnf.value_len, 0);
        assert_int_equal(decode_raw(SINK_TO_HOST, "8E 01 05 04 01 00 00 00", &m), -EBADMSG);
        /* attribute write: the length byte governs */
        assert_int_equal(decode_raw(SINK_TO_DEVICE, "0D 01 04 03 00 01 05", &m), 0);
        assert_int_equal(m.attr_write.value_len, 1);
        assert_int_equal(m.attr_write.value[0], 5);
        assert_int_equal(decode_raw(SINK_TO_DEVICE, "0D 01 04 03 00 02 05", &m), -EBADMSG);
        /* STACK_STATE: exactly 2 */
        assert_int_equal(decode_raw(SINK_TO_HOST, "07 00 01 00", &m), -EBADMSG);
        /* DATA_TX confirm: exactly 4 */
        assert_int_equal(decode_raw(SINK_TO_HOST, "81 00 03 01 00 00", &m), -EBADMSG);
        /* response: exactly one byte, 0 or 1 */
        assert_int_equal(decode_raw(SINK_TO_DEVICE, "83 00 01 02", &m), -EBADMSG);
        assert_int_equal(decode_raw(SINK_TO_DEVICE, "83 00 00", &m), -EBADMSG);
}

static void test_unknown_ids(void **state) {
        SinkMsg m;

        /* unknown request and confirm ids are reported, not defaulted */
        assert_int_equal(decode_raw(SINK_TO_DEVICE, "7E 00 00", &m), -EOPNOTSUPP);
        assert_int_equal(decode_raw(SINK_TO_HOST, "FE 00 01 00", &m), -EOPNOTSUPP);
        /* a confirm id arriving in the host -> device direction is a response, not a confirm */
        assert_int_equal(decode_raw(SINK_TO_DEVICE, "84 00 01 00", &m), 0);
        assert_int_equal(m.type, SINK_MSG_RESPONSE);
        /* indications are never requests */
        assert_int_equal(decode_raw(SINK_TO_DEVICE, "03 00 00", &m), -EOPNOTSUPP);

        /* an unknown indication (here RX_FRAG) is generic, so the host can still answer it */
        assert_int_equal(decode_raw(SINK_TO_HOST, "10 05 03 01 AA BB", &m), 0);
        assert_int_equal(m.type, SINK_MSG_GENERIC_IND);
        assert_int_equal(m.primitive, 0x10);
        assert_int_equal(m.frame_id, 5);
        assert_int_equal(m.generic.payload_len, 3);
        assert_int_equal(sinkmsg_indication_status(&m), 1);
        uint8_t raw[16];
        int r = sinkmsg_encode(&m, raw, sizeof(raw));
        assert_int_equal(r, 6);
        assert_bytes_equal_spaced(raw, 6, "10 05 03 01 AA BB");

        /* a generic indication may not carry a known id, nor the reply bit */
        m.primitive = SINK_PRIM_DATA_RX_IND;
        assert_int_equal(sinkmsg_encode(&m, raw, sizeof(raw)), -EINVAL);
        m.primitive = 0x90;
        assert_int_equal(sinkmsg_encode(&m, raw, sizeof(raw)), -EINVAL);
}

static void test_encode_rejects_invalid(void **state) {
        uint8_t buf[300];

        SinkMsg resp = { .type = SINK_MSG_RESPONSE, .primitive = 0x03, .result = 1 };
        assert_int_equal(sinkmsg_encode(&resp, buf, sizeof(buf)), -EINVAL); /* no reply bit */
        resp.primitive = 0x83;
        resp.result = 2;
        assert_int_equal(sinkmsg_encode(&resp, buf, sizeof(buf)), -EINVAL);
        resp.result = 0;
        assert_int_equal(sinkmsg_encode(&resp, buf, 3), -EMSGSIZE);
        assert_int_equal(sinkmsg_encode(&resp, buf, 4), 4);

        SinkMsg tx = { .type = SINK_MSG_DATA_TX_REQ, .data_tx = { .apdu = NULL, .apdu_len = 3 } };
        assert_int_equal(sinkmsg_encode(&tx, buf, sizeof(buf)), -EINVAL);
        static const uint8_t big[250] = {};
        tx.data_tx.apdu = big;
        tx.data_tx.apdu_len = 250; /* 11 + 250 > 255: cannot be framed */
        assert_int_equal(sinkmsg_encode(&tx, buf, sizeof(buf)), -EINVAL);
        tx.data_tx.apdu_len = 244;
        assert_int_equal(sinkmsg_encode(&tx, buf, sizeof(buf)), 3 + 255);

        SinkMsg bad = { .type = _SINK_MSG_TYPE_MAX };
        assert_int_equal(sinkmsg_encode(&bad, buf, sizeof(buf)), -EINVAL);
        SinkMsg app = { .type = SINK_MSG_APP_CONFIG_WRITE_REQ };
        assert_int_equal(sinkmsg_encode(&app, buf, sizeof(buf)), -EINVAL); /* data view missing */
}

/* Every typed message survives encode -> frame -> decode unchanged, in its own direction. */
static void test_round_trip_all_types(void **state) {
        static const uint8_t apdu[] = { 0x01, 0xC0, 0xDB, 0x02 };
        static uint8_t cfg[SINK_APP_CONFIG_SIZE];
        SinkMsg msgs[_SINK_MSG_TYPE_MAX];

        for (size_t i = 0; i < sizeof(cfg); i++)
                cfg[i] = (uint8_t)(i * 7);
        for (SinkMsgType t = 0; t < _SINK_MSG_TYPE_MAX; t++) {
                SinkMsg *m = &msgs[t];
                *m = (SinkMsg){ .type = t, .frame_id = (uint8_t)(0xB0 + t) };
                switch (t) {
                case SINK_MSG_DATA_TX_REQ:
                case SINK_MSG_DATA_TX_TT_REQ:
                        m->data_tx = (SinkDataTx){ 0xFFFE,
                                                   255,
                                                   0xC0DB0001,
                                                   246,
                                                   1,
                                                   0x05,
                                                   t == SINK_MSG_DATA_TX_TT_REQ ? 77 : 0,
                                                   apdu,
                                                   sizeof(apdu) };
                        break;
                case SINK_MSG_DATA_RX_IND:
                        m->data_rx = (SinkDataRx){ 1, 0x11, 246, 0x22, 255, 0x0D, 999, apdu, sizeof(apdu) };
                        break;
                case SINK_MSG_DATA_TX_IND:
                        m->data_tx_ind = (SinkDataTxInd){ 0, 0xABCD, 255, 0x33, 246, 12345, 1 };
                        break;
                case SINK_MSG_MSAP_ATTR_WRITE_REQ:
                case SINK_MSG_CSAP_ATTR_WRITE_REQ:
                        m->attr_write = (SinkAttrWrite){ 0x0102, apdu, 3 };
                        break;
                case SINK_MSG_MSAP_ATTR_READ_CNF:
                case SINK_MSG_CSAP_ATTR_READ_CNF:
                        m->attr_read_cnf = (SinkAttrReadCnf){ 0, 0x0203, apdu, 4 };
                        break;
                case SINK_MSG_APP_CONFIG_WRITE_REQ:
                case SINK_MSG_APP_CONFIG_READ_CNF:
                case SINK_MSG_APP_CONFIG_RX_IND:
                        m->app_config =
                                (SinkAppConfig){ t == SINK_MSG_APP_CONFIG_WRITE_REQ ? 0 : 1, 9, 1800, cfg };
                        break;
                case SINK_MSG_SCRATCHPAD_STATUS_CNF:
                        m->scratchpad = (SinkScratchpadStatus){ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 };
                        break;
                case SINK_MSG_GENERIC_IND:
                        m->primitive = 0x22;
                        m->generic = (SinkGenericInd){ apdu, 2 };
                        break;
                case SINK_MSG_RESPONSE:
                        m->primitive = 0x83;
                        m->result = 1;
                        break;
                case SINK_MSG_FACTORY_RESET_REQ:
                        m->reset_key = SINK_FACTORY_RESET_KEY;
                        break;
                case SINK_MSG_SINK_COST_READ_CNF:
                        m->cost_cnf.result = 0;
                        m->cost_cnf.cost = 200;
                        break;
                default:
                        m->result = 1; /* also start_options / cost / attr_id low byte via the union */
                        break;
                }
        }

        for (SinkMsgType t = 0; t < _SINK_MSG_TYPE_MAX; t++) {
                uint8_t wire[SINK_SLIP_WIRE_MAX(SINK_FRAME_MAX)], raw1[SINK_FRAME_MAX], raw2[SINK_FRAME_MAX];
                SinkMsgKind kind = sinkmsg_type_kind(t);
                SinkDirection dir = kind == SINK_KIND_REQUEST || kind == SINK_KIND_RESPONSE ? SINK_TO_DEVICE
                                                                                            : SINK_TO_HOST;
                int n1 = sinkmsg_encode(&msgs[t], raw1, sizeof(raw1));
                assert_true(n1 >= 3);
                int w = sinkmsg_to_wire(&msgs[t], wire, sizeof(wire));
                assert_true(w > n1);
                assert_int_equal(wire[1] == 0xC0 && wire[2] == 0xC0, dir == SINK_TO_DEVICE);

                SinkFrameDecoder d;
                SinkFrame f;
                SinkMsg back;
                const uint8_t *p = wire;
                size_t n = (size_t)w;
                sink_frame_decoder_init(&d, 0);
                assert_int_equal(sink_frame_decoder_feed(&d, &p, &n, &f, NULL), SINK_FEED_FRAME);
                assert_int_equal(sinkmsg_decode(dir, &f, &back), 0);
                assert_int_equal(back.type, t);
                assert_int_equal(back.frame_id, msgs[t].frame_id);
                int n2 = sinkmsg_encode(&back, raw2, sizeof(raw2));
                assert_int_equal(n2, n1);
                assert_memory_equal(raw1, raw2, (size_t)n1);
                assert_non_null(sinkmsg_type_to_string(t));
        }
}

static void test_confirm_types_and_helpers(void **state) {
        assert_int_equal(sinkmsg_confirm_type(SINK_MSG_POLL_REQ), SINK_MSG_POLL_CNF);
        assert_int_equal(sinkmsg_confirm_type(SINK_MSG_DATA_TX_TT_REQ), SINK_MSG_DATA_TX_TT_CNF);
        assert_int_equal(sinkmsg_confirm_type(SINK_MSG_CSAP_ATTR_READ_REQ), SINK_MSG_CSAP_ATTR_READ_CNF);
        assert_int_equal(sinkmsg_confirm_type(SINK_MSG_POLL_CNF), -EINVAL);
        assert_int_equal(sinkmsg_confirm_type(SINK_MSG_DATA_RX_IND), -EINVAL);
        /* every request has a confirm whose id is the request's | 0x80 */
        for (SinkMsgType t = 0; t < _SINK_MSG_TYPE_MAX; t++) {
                if (sinkmsg_type_kind(t) != SINK_KIND_REQUEST)
                        continue;
                SinkMsgType c = sinkmsg_confirm_type(t);
                assert_true(c >= 0);
                assert_int_equal(sinkmsg_type_primitive(c), sinkmsg_type_primitive(t) | 0x80);
        }
        assert_int_equal(sinkmsg_type_primitive(SINK_MSG_GENERIC_IND), -EINVAL);

        /* travel time: 1/128 s -> ms, no overflow at the top of the range */
        assert_int_equal(sink_travel_time_to_ms(0), 0);
        assert_int_equal(sink_travel_time_to_ms(1), 7);
        assert_int_equal(sink_travel_time_to_ms(64), 500);
        assert_true(sink_travel_time_to_ms(UINT32_MAX) == 33554431992ULL);
        assert_int_equal(sink_ms_to_travel_time(1000), 128);
        assert_int_equal(sink_ms_to_travel_time(UINT64_MAX), UINT32_MAX);

        /* QoS / hops */
        assert_int_equal(sink_qos_hop_make(1, 3), 0x0D);
        assert_int_equal(sink_qos_hop_make(0, 100), 0xFC); /* capped at 63 hops */
        assert_int_equal(sink_qos_hop_hops(0xFF), 63);
        assert_int_equal(sink_qos_hop_qos(0xFE), 2);
        assert_int_equal(sink_tx_options_make(true, false, 0), 0x01);
        assert_int_equal(sink_tx_options_make(true, true, 15), 0x3F);

        SinkMsg poll = { .type = SINK_MSG_POLL_CNF };
        assert_int_equal(sinkmsg_indication_status(&poll), -EINVAL);
        SinkMsg empty = { .type = SINK_MSG_GENERIC_IND, .primitive = 0x22 };
        assert_int_equal(sinkmsg_indication_status(&empty), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_vector_csap_read_mtu),
                cmocka_unit_test(test_vector_csap_write_node_address),
                cmocka_unit_test(test_vector_data_tx_tt),
                cmocka_unit_test(test_vector_poll_cycle),
                cmocka_unit_test(test_vector_other_frames),
                cmocka_unit_test(test_exact_lengths),
                cmocka_unit_test(test_unknown_ids),
                cmocka_unit_test(test_encode_rejects_invalid),
                cmocka_unit_test(test_round_trip_all_types),
                cmocka_unit_test(test_confirm_types_and_helpers),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
