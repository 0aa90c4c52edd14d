/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Shared by the gateway-API unit tests: the verified sample encodings of ref-gateway-api.md §6, and a tiny
 * protobuf writer to build messages the samples don't cover (missing fields, wrong values). The tests do not
 * include the generated protobuf-c headers: only src/codec/gwapi.c does. */

#include "test-helpers.h"

/* 1. received_data carrying a provisioning START (103 bytes). */
#define SAMPLE_1_HEX                                                                                   \
        "0a6542630a240a0a67772d746573742d3031120573696e6b3018ef9bafcdf8acd1910120fbd095ffbc3110c5c604" \
        "180120f60128ff0130e20938e4d095ffbc3140014a1d01452301002a01000102030405060708090a0b0c0d0e0fde" \
        "adbeef0102580260d6e848"
/* 2. send_data carrying a provisioning DATA, no optional fields (91 bytes). */
#define SAMPLE_2_HEX                                                                                   \
        "0a5932570a110888ef99abc5e88c911118e8d795ffbc3110c5c60418ff0120f6012801323602452301002a003412" \
        "a40050000102030405060708090a0b0c0d0e0f0150101112131415161718191a1b1c1d1e1f021a001234560305"
/* 2b. send_data with every optional field (53 bytes). */
#define SAMPLE_2B_HEX                                                                                   \
        "0a3332310a180889ef99abc5e88c9111120573696e6b3018d0df95ffbc3110ffffffff0f180a200b2800320201023" \
        "8f40340014805"
/* 2c. send_data response to 2 (44 bytes). */
#define SAMPLE_2C_HEX \
        "0a2a3a280a260888ef99abc5e88c9111120a67772d746573742d30311a0573696e6b302000289ad895ffbc31"
/* 3. status ONLINE with one sink config (105 bytes). */
#define SAMPLE_3_HEX                                                                                   \
        "0a670a650a1d0a0a67772d746573742d303118a18695bb98f5f2f60f2080d095ffbc311001180122270a0573696e" \
        "6b30120408011001180120d6e84828054001586682010808051004180020328801012a0a746573742d6d6f64656c" \
        "3205312e302e30400140024003"
/* 3b. last-will OFFLINE (58 bytes). */
#define SAMPLE_3B_HEX                                                                                    \
        "0a380a360a1d0a0a67772d746573742d303118a28695bb98f5f2f60f20f08195ffbc31100118022a0a746573742d6d" \
        "6f64656c3205312e302e30"

/* The provisioning START payload of sample 1 and the DATA payload of sample 2. */
#define SAMPLE_1_PAYLOAD_HEX "01452301002a01000102030405060708090a0b0c0d0e0fdeadbeef0102"
#define SAMPLE_2_PAYLOAD_HEX                                                                                \
        "02452301002a003412a40050000102030405060708090a0b0c0d0e0f0150101112131415161718191a1b1c1d1e1f021a0" \
        "0"                                                                                                 \
        "1234560305"

/* Minimal protobuf writer. Fails the test if a message outgrows the buffer. */
typedef struct Pb {
        uint8_t b[16384];
        size_t n;
} Pb;

static inline void pb_raw(Pb *p, const void *d, size_t n) {
        assert_true(n <= sizeof(p->b) - p->n);
        if (n > 0)
                memcpy(p->b + p->n, d, n);
        p->n += n;
}

static inline void pb_varint(Pb *p, uint64_t v) {
        do {
                uint8_t byte = (uint8_t)(v & 0x7f);
                v >>= 7;
                if (v)
                        byte |= 0x80;
                pb_raw(p, &byte, 1);
        } while (v);
}

/* field: varint value */
static inline void pb_uint(Pb *p, unsigned field, uint64_t v) {
        pb_varint(p, (uint64_t)field << 3);
        pb_varint(p, v);
}

/* field: length-delimited bytes */
static inline void pb_bytes(Pb *p, unsigned field, const void *d, size_t n) {
        pb_varint(p, ((uint64_t)field << 3) | 2);
        pb_varint(p, n);
        pb_raw(p, d, n);
}

static inline void pb_str(Pb *p, unsigned field, const char *s) {
        pb_bytes(p, field, s, strlen(s));
}

static inline void pb_msg(Pb *p, unsigned field, const Pb *sub) {
        pb_bytes(p, field, sub->b, sub->n);
}

/* GenericMessage { wirepas { <field>: inner } } */
static inline void pb_envelope(Pb *out, unsigned field, const Pb *inner) {
        Pb w = {};

        pb_msg(&w, field, inner);
        *out = (Pb){};
        pb_msg(out, 1, &w);
}

/* WirepasMessage field numbers (ref §2.1). */
enum {
        WP_STATUS_EVENT = 1,
        WP_SEND_PACKET_REQ = 6,
        WP_SEND_PACKET_RESP = 7,
        WP_PACKET_RECEIVED_EVENT = 8,
};
