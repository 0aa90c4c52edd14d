/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A tiny host for the simulator tests: encodes requests, collects and decodes what the device answers. */

#include "sinkdev.h"
#include "sinkframe.h"
#include "sinkmsg.h"
#include "test-helpers.h"

#define HOST_MAX_FRAMES 32

typedef struct TestHost {
        SinkFrameDecoder dec;
        size_t n;   /* frames decoded by the last collect */
        int errors; /* decoder errors in the last collect */
        size_t echoes;
        SinkEcho echo;
        uint8_t raw[HOST_MAX_FRAMES][SINK_FRAME_MAX]; /* copies, so the views stay valid */
        SinkMsg msg[HOST_MAX_FRAMES];
        uint8_t next_fid;
} TestHost;

static inline void host_init(TestHost *h) {
        *h = (TestHost){};
        sink_frame_decoder_init(&h->dec, 0);
}

/* Decodes bytes from the device, appending to h->msg. */
static inline void host_feed(TestHost *h, const uint8_t *p, size_t len) {
        while (len > 0) {
                SinkFrame f;
                SinkEcho e;
                int r = sink_frame_decoder_feed(&h->dec, &p, &len, &f, &e);
                if (r == SINK_FEED_MORE)
                        break;
                if (r == SINK_FEED_ECHO) {
                        h->echoes++;
                        h->echo = e;
                        continue;
                }
                if (r < 0) {
                        h->errors++;
                        continue;
                }
                assert_true(h->n < HOST_MAX_FRAMES);
                memcpy(h->raw[h->n], f.raw, f.raw_len);
                SinkFrame copy = f;
                copy.raw = h->raw[h->n];
                copy.payload = h->raw[h->n] + SINK_FRAME_HEADER_SIZE;
                assert_int_equal(sinkmsg_decode(SINK_TO_HOST, &copy, &h->msg[h->n]), 0);
                h->n++;
        }
}

/* Takes everything the device has written. */
static inline void host_collect(TestHost *h, SinkDev *d) {
        size_t len;
        const uint8_t *out = sink_dev_output(d, &len);

        h->n = 0;
        h->errors = 0;
        h->echoes = 0;
        host_feed(h, out, len);
        sink_dev_output_consume(d, len);
}

static inline void host_send(SinkDev *d, usec_t now, const SinkMsg *m) {
        uint8_t wire[SINK_SLIP_WIRE_MAX(SINK_FRAME_MAX)];
        int r = sinkmsg_to_wire(m, wire, sizeof(wire));
        assert_true(r > 0);
        sink_dev_input(d, now, wire, (size_t)r);
}

/* Sends a request and returns the number of frames that came back. */
static inline size_t host_request(TestHost *h, SinkDev *d, usec_t now, SinkMsg m) {
        m.frame_id = h->next_fid++;
        host_send(d, now, &m);
        host_collect(h, d);
        return h->n;
}

static inline size_t host_respond(TestHost *h, SinkDev *d, usec_t now, uint8_t ind_primitive, uint8_t fid,
                                  uint8_t next) {
        SinkMsg m = { .type = SINK_MSG_RESPONSE,
                      .primitive = ind_primitive | SINK_PRIM_REPLY_BIT,
                      .frame_id = fid,
                      .result = next };
        host_send(d, now, &m);
        host_collect(h, d);
        return h->n;
}
