/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Helpers shared by the dual-MCU codec tests: hex with spaces (as the reference document prints it). */

#include "sinkframe.h"
#include "test-helpers.h"

/* Decodes "C0 C0 0E ..." (spaces allowed) into buf; fails the test on bad hex. */
static inline size_t unhex_spaced(const char *hex, uint8_t *buf, size_t bufsz) {
        char compact[4096];
        size_t n = 0;

        for (const char *p = hex; *p; p++)
                if (*p != ' ') {
                        assert_true(n + 1 < sizeof(compact));
                        compact[n++] = *p;
                }
        compact[n] = '\0';
        return test_unhex(compact, buf, bufsz);
}

#define assert_bytes_equal_spaced(buf, len, hex)                     \
        do {                                                         \
                uint8_t _exp[1024];                                  \
                size_t _n = unhex_spaced((hex), _exp, sizeof(_exp)); \
                assert_int_equal((len), _n);                         \
                assert_memory_equal((buf), _exp, _n);                \
        } while (0)

/* Feeds the whole wire string to a fresh decoder and expects exactly one frame, consuming all input. The
 * frame's views point into *d. */
static inline void decode_one_frame(SinkFrameDecoder *d, const char *wire_hex, SinkFrame *ret) {
        uint8_t wire[1024];
        size_t n = unhex_spaced(wire_hex, wire, sizeof(wire));
        const uint8_t *p = wire;

        sink_frame_decoder_init(d, 0);
        assert_int_equal(sink_frame_decoder_feed(d, &p, &n, ret, NULL), SINK_FEED_FRAME);
        assert_int_equal(n, 0);
}
