/* SPDX-License-Identifier: Apache-2.0 */
/* The sink link's state machine on whatever a (hostile or broken) sink might say. A real SinkLink runs on a
 * pty; the input scripts the device side as a sequence of chunks:
 *
 *   byte 0        options: bit 0 probe the bit rate, bit 1 StartStack=, bits 2-3 MaxInFlight - 1
 *   then chunks   [flags][len][len bytes]
 *     flags bit 0: write the bytes as they are (line noise); otherwise they are a raw frame (primitive,
 * frame id, length byte, payload) that gets its CRC and SLIP escaping, as from a device flags bit 1: put the
 * frame id of the host's last frame in flags bit 2: make the primitive the confirm of the host's last frame
 * (its id | 0x80) flags bit 3: queue a downlink first flags bit 4: wait until the host has written something
 * since the last chunk
 *
 * Timeouts are a few milliseconds, so timeouts, re-sends, link loss and reopening happen too. Checks: no
 * crash, no leak, and the bookkeeping holds (never more downlinks in flight than allowed, at most one
 * outcome per downlink). */
#include <fcntl.h>
#include <pty.h>
#include <stdlib.h>
#include <unistd.h>

#include "cursor.h"
#include "fd-util.h"
#include "log.h"
#include "sink-link.h"
#include "sinkframe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(x)                 \
        do {                     \
                if (!(x))        \
                        abort(); \
        } while (0)

typedef struct Ctx {
        uint64_t sends, results;
        uint64_t seen[64]; /* cookies reported */
} Ctx;

static void on_uplink(SinkLink *l, const SinkLinkUplink *up, void *userdata) {
        check(up->payload_len == 0 || up->payload);
        check((up->src_ep == 246 && up->dst_ep == 255) || (up->src_ep == 160 && up->dst_ep == 39));
}

static void on_send_result(SinkLink *l, uint64_t cookie, int error, const char *detail, void *userdata) {
        Ctx *c = userdata;
        check(cookie < c->sends && cookie < 64 * 64);
        check(!(c->seen[cookie / 64] & (UINT64_C(1) << (cookie % 64)))); /* once */
        c->seen[cookie / 64] |= UINT64_C(1) << (cookie % 64);
        check(detail);
        c->results++;
}

typedef struct Host {
        SinkFrameDecoder dec;
        uint8_t primitive, frame_id;
        bool wrote;
} Host;

/* Reads what the link wrote and remembers its last frame. */
static void drain(int master, Host *h) {
        uint8_t buf[1024];
        ssize_t k;

        while ((k = read(master, buf, sizeof(buf))) > 0) {
                const uint8_t *p = buf;
                size_t n = (size_t)k;
                h->wrote = true;
                while (n > 0) {
                        SinkFrame f;
                        int r = sink_frame_decoder_feed(&h->dec, &p, &n, &f, NULL);
                        if (r == SINK_FEED_MORE)
                                break;
                        check(r == SINK_FEED_FRAME); /* the link writes only good frames */
                        h->primitive = f.primitive;
                        h->frame_id = f.frame_id;
                }
        }
}

static void pump(sd_event *e, int master, Host *h, unsigned rounds) {
        for (unsigned i = 0; i < rounds; i++) {
                check(sd_event_run(e, 500) >= 0);
                drain(master, h);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const uint8_t downlink[] = { 0x02, 0x01, 0x00, 0x20, 0x00, 0x07, 0x01, 0x10, 0x00 };
        _cleanup_close_ int master = -EBADF, slave = -EBADF;
        Cursor c = CURSOR_INIT(data, size);
        sd_event *e = NULL;
        SinkLink *l = NULL;
        SinkLinkOptions o;
        Ctx ctx = {};
        Host h = {};
        char name[128];
        uint8_t opt;

        if (size > 4096 || cursor_get_u8(&c, &opt) < 0)
                return 0;
        log_set_max_level(getenv("FUZZ_DEBUG") ? LOG_DEBUG : LOG_CRIT);

        check(openpty(&master, &slave, name, NULL, NULL) == 0);
        check(fd_nonblock(master, true) >= 0);
        check(sd_event_new(&e) >= 0);
        sink_frame_decoder_init(&h.dec, 0);

        sink_link_options_default(&o);
        o.name = "fuzz";
        o.device = name;
        o.baud = opt & 0x01 ? 0 : 125000;
        o.start_stack = opt & 0x02;
        o.max_in_flight = 1 + ((opt >> 2) & 0x03);
        o.request_timeout = 10 * USEC_PER_MSEC;
        o.frame_gap_timeout = 2 * USEC_PER_MSEC;
        o.poll_interval = USEC_PER_MSEC;
        o.reopen_min = USEC_PER_MSEC;
        o.reopen_max = 2 * USEC_PER_MSEC;
        o.tx_backoff_min = USEC_PER_MSEC;
        o.tx_backoff_max = 2 * USEC_PER_MSEC;
        o.tx_attempts = 3;
        o.tx_indication_timeout = 20 * USEC_PER_MSEC;
        o.tx_uncertain_timeout = 10 * USEC_PER_MSEC;
        o.downlink_max_age = 200 * USEC_PER_MSEC;

        SinkLinkCallbacks cb = { .on_uplink = on_uplink, .on_send_result = on_send_result };
        check(sink_link_new(e, &o, &cb, &ctx, &l) >= 0);
        check(sink_link_start(l) >= 0);
        pump(e, master, &h, 2);

        while (cursor_left(&c) >= 2) {
                uint8_t flags, len, raw[SINK_FRAME_MAX];
                const uint8_t *bytes;
                uint8_t wire[SINK_SLIP_WIRE_MAX(SINK_FRAME_MAX)];
                size_t n;

                (void)cursor_get_u8(&c, &flags);
                (void)cursor_get_u8(&c, &len);
                n = MIN((size_t)len, cursor_left(&c));
                (void)cursor_get_bytes(&c, n, &bytes);

                if ((flags & 0x08) && ctx.sends < 64 * 64 &&
                    sink_link_send(l, 0x2000 + (uint32_t)ctx.sends, 255, 246, downlink, sizeof(downlink),
                                   ctx.sends) >= 0)
                        ctx.sends++;
                if (flags & 0x10)
                        for (unsigned i = 0; i < 40 && !h.wrote; i++)
                                pump(e, master, &h, 1);
                h.wrote = false;

                if (flags & 0x01)
                        (void)!write(master, bytes, n);
                else if (n >= SINK_FRAME_HEADER_SIZE) {
                        int k;
                        memcpy(raw, bytes, n);
                        if (flags & 0x02)
                                raw[1] = h.frame_id;
                        if (flags & 0x04)
                                raw[0] = h.primitive | 0x80;
                        raw[2] = (uint8_t)(n - SINK_FRAME_HEADER_SIZE); /* else the link never sees it */
                        k = sink_slip_encode(SINK_TO_HOST, raw, n, wire, sizeof(wire));
                        if (k > 0)
                                (void)!write(master, wire, (size_t)k);
                }
                pump(e, master, &h, 3);

                SinkLinkInfo i;
                sink_link_get_info(l, &i);
                check(i.in_flight <= o.max_in_flight);
                check(i.queued <= SINK_TX_QUEUE_MAX);
                check(ctx.results <= ctx.sends);
        }
        pump(e, master, &h, 10);

        sink_link_free(l);
        sd_event_unref(e);
        return 0;
}
