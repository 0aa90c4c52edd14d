/* SPDX-License-Identifier: Apache-2.0 */
/* The dual-MCU frame decoder on arbitrary bytes, fed in chunk sizes derived from the input. Checks: the
 * decoder always makes progress, never returns a frame that fails to re-encode, and every frame it returns
 * re-encodes (both directions) and decodes back to itself. */
#include <stdlib.h>

#include "sinkframe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(x)                 \
        do {                     \
                if (!(x))        \
                        abort(); \
        } while (0)

static void check_frame_round_trip(const SinkFrame *f) {
        for (SinkDirection dir = 0; dir < _SINK_DIRECTION_MAX; dir++) {
                uint8_t wire[SINK_SLIP_WIRE_MAX(SINK_FRAME_MAX)];
                int n = sink_slip_encode(dir, f->raw, f->raw_len, wire, sizeof(wire));
                check(n > 0);

                SinkFrameDecoder d;
                SinkFrame g;
                const uint8_t *p = wire;
                size_t left = (size_t)n;
                sink_frame_decoder_init(&d, 0);
                check(sink_frame_decoder_feed(&d, &p, &left, &g, NULL) == SINK_FEED_FRAME);
                check(left == 0);
                check(g.raw_len == f->raw_len && memcmp(g.raw, f->raw, f->raw_len) == 0);
                check(g.primitive == f->primitive && g.frame_id == f->frame_id);
                check(g.payload_len == f->payload_len && g.payload == g.raw + SINK_FRAME_HEADER_SIZE);
        }
}

static void check_echo_round_trip(const SinkEcho *e) {
        uint8_t wire[SINK_ECHO_WIRE_SIZE];
        uint8_t lo = e->rxlen & 0xFF, hi = e->rxlen >> 8;

        check(e->error >= SINK_ECHO_BAD_CRC && e->error <= SINK_ECHO_TOO_SHORT);
        check(sink_echo_encode(e->error, e->rxlen, wire, sizeof(wire)) == (int)SINK_ECHO_WIRE_SIZE);
        /* the device never escapes its echo, so a length byte equal to END or ESC cannot come back */
        if (lo == SINK_SLIP_END || lo == SINK_SLIP_ESC || hi == SINK_SLIP_END || hi == SINK_SLIP_ESC)
                return;

        SinkFrameDecoder d;
        SinkEcho g;
        const uint8_t *p = wire;
        size_t left = sizeof(wire);
        sink_frame_decoder_init(&d, 0);
        check(sink_frame_decoder_feed(&d, &p, &left, NULL, &g) == SINK_FEED_ECHO);
        check(g.error == e->error && g.rxlen == e->rxlen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        SinkFrameDecoder d;
        uint32_t rng;
        size_t off = 0, max_frame;

        if (size < 3)
                return 0;
        /* first three bytes: chunking seed and the decoder's size limit */
        rng = (uint32_t)data[0] << 8 | data[1];
        max_frame = data[2] < 16 ? (size_t)data[2] * 16 : 0;
        data += 3;
        size -= 3;

        sink_frame_decoder_init(&d, max_frame);
        while (off < size) {
                rng = rng * 1103515245u + 12345u;
                size_t chunk = 1 + (rng >> 16) % 40;
                const uint8_t *p = data + off;
                size_t left = MIN(chunk, size - off);

                off += left;
                while (left > 0) {
                        size_t before = left;
                        SinkFrame f;
                        SinkEcho e;
                        int r = sink_frame_decoder_feed(&d, &p, &left, &f, &e);

                        check(left <= before);
                        if (r == SINK_FEED_MORE) {
                                check(left == 0);
                                break;
                        }
                        check(left < before); /* every result consumes at least its END */
                        if (r == SINK_FEED_FRAME) {
                                check(f.raw_len >= SINK_FRAME_HEADER_SIZE && f.raw_len + 2 <= d.max_frame);
                                check_frame_round_trip(&f);
                        } else if (r == SINK_FEED_ECHO)
                                check_echo_round_trip(&e);
                        else
                                check(r == -EBADMSG || r == -EMSGSIZE);
                }
        }
        return 0;
}
