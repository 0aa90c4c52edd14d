/* SPDX-License-Identifier: Apache-2.0 */
/* The sink link against the simulator's device (tests/sim/sinkdev.c) on a real pty, behind a scripted
 * middle-man that can drop, corrupt, answer or prepend frames, unplug and replug the port, and refuse to
 * answer at the wrong bit rate. Everything runs on one sd-event loop; every wait is for a condition with a
 * deadline. */
#include <fcntl.h>
#include <pty.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "test-helpers.h"

#include "cursor.h"
#include "fd-util.h"
#include "log.h"
#include "ptybaud.h"
#include "serial.h"
#include "sink-link.h"
#include "sinkdev.h"
#include "sinkframe.h"
#include "sinkmsg.h"

#define DEADLINE (10 * USEC_PER_SEC)

/* ---- the device side ---- */

typedef struct Fake {
        sd_event *event;
        SinkDev *dev;
        int master, slave;
        char link[256];
        sd_event_source *io;
        SinkFrameDecoder dec; /* what the host writes */

        /* knobs */
        unsigned deaf;           /* host frames dropped before the device sees them */
        unsigned oom;            /* DATA_TX answered with "out of memory" by us */
        unsigned drop_responses; /* responses dropped: the device sends the same indication again */
        unsigned corrupt;        /* host frames whose CRC is broken on the way */
        bool stale;              /* two mismatched confirms before every confirm */
        bool noise;              /* garbage and a bad-CRC frame before every confirm */
        uint32_t answer_baud;    /* 0: any */
        uint8_t version_error;   /* non-zero: reads of cMeshAPIVersion answered with this result by us ... */
        uint32_t version_ok_baud; /* ... except at this rate (0: none) */
        bool reboot_after_tx;     /* reboot right after the next DATA_TX was taken */
        unsigned discard_tx;      /* DATA_TX confirmed by us, then a TX indication "discarded" */
        bool stale_echo_tx;       /* an SDK16 echo about some other frame before the next DATA_TX confirm */
        /* the device's next answer to a request with this primitive is mangled on its way */
        uint8_t mangle_primitive;
        enum { MANGLE_NONE, MANGLE_CUT, MANGLE_CRC, MANGLE_DROP_FIRST } mangle;

        /* what the host did */
        uint32_t probe_speeds[32];
        size_t n_probes;
        uint8_t probe_ids[32];
        unsigned by_primitive[256];
        unsigned node_address_reads;
        unsigned data_tx, tx_outstanding, tx_outstanding_max;
        unsigned downlinks; /* DATA_TX the device accepted and put on the air */
        SinkDataTx last_tx;
        uint8_t last_tx_apdu[256];
} Fake;

static void on_dev_downlink(SinkDev *d, usec_t t, const SinkDataTx *tx, void *userdata) {
        Fake *f = userdata;
        f->downlinks++;
        f->last_tx = *tx;
        memcpy(f->last_tx_apdu, tx->apdu, tx->apdu_len);
        f->last_tx.apdu = f->last_tx_apdu;
}

static void fake_write(Fake *f, const uint8_t *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(f->master, p, n);
                if (k < 0 && errno == EAGAIN) {
                        struct timespec ts = { .tv_nsec =
                                                       100000 }; /* the pty is full: the host reads soon */
                        nanosleep(&ts, NULL);
                        continue;
                }
                assert_true(k > 0);
                p += k;
                n -= (size_t)k;
        }
}

static void fake_write_frame(Fake *f, uint8_t primitive, uint8_t frame_id, const uint8_t *payload,
                             size_t len) {
        uint8_t wire[SINK_SLIP_WIRE_MAX(SINK_FRAME_MAX)];
        int n = sink_frame_encode(SINK_TO_HOST, primitive, frame_id, payload, len, wire, sizeof(wire));
        assert_true(n > 0);
        fake_write(f, wire, (size_t)n);
}

static bool fr_primitive_matches(const Fake *f, const SinkMsg *req) {
        int p = sinkmsg_type_primitive(req->type);
        return p >= 0 && (uint8_t)p == f->mangle_primitive &&
               (p != SINK_PRIM_POLL || sink_dev_queued(f->dev) > 0); /* a poll: only one with something */
}

/* Writes what the device has to say, with whatever the knobs put in front of a confirm. */
static void fake_flush_dev(Fake *f, const SinkMsg *req) {
        size_t len;
        const uint8_t *out = sink_dev_output(f->dev, &len);

        if (len > 0 && req && sinkmsg_type_kind(req->type) == SINK_KIND_REQUEST) {
                uint8_t cnf = (uint8_t)(sinkmsg_type_primitive(req->type) | SINK_PRIM_REPLY_BIT);
                if (f->stale) {
                        /* the right confirm with another frame id (and a bogus value), and another confirm
                         * with the right frame id */
                        static const uint8_t bogus[] = { 0, 1, 0, 4, 0x99, 0x99, 0x99, 0x09 };
                        fake_write_frame(f, cnf, (uint8_t)(req->frame_id + 1), bogus, sizeof(bogus));
                        fake_write_frame(f, cnf == 0x84 ? 0x8E : 0x84, req->frame_id, bogus, 1);
                }
                if (f->noise) {
                        static const uint8_t junk[] = { 0x00, 0x55, 0xC0, 0x00, 0xC0, 0x13, 0x37 };
                        uint8_t wire[SINK_SLIP_WIRE_MAX(8)];
                        int n = sink_frame_encode(SINK_TO_HOST, cnf, req->frame_id, (const uint8_t *)"\0", 1,
                                                  wire, sizeof(wire));
                        assert_true(n > 0);
                        wire[n - 2] ^= 0x01; /* CRC byte, never a special one in this frame */
                        fake_write(f, junk, sizeof(junk));
                        fake_write(f, wire, (size_t)n);
                }
        }
        if (len > 0 && f->mangle != MANGLE_NONE && req && fr_primitive_matches(f, req)) {
                uint8_t copy[4096];
                size_t end = 1;

                assert_true(len <= sizeof(copy) && len > 4);
                memcpy(copy, out, len);
                while (end < len && copy[end] != SINK_SLIP_END)
                        end++; /* the first frame's trailing END */
                switch (f->mangle) {
                case MANGLE_CUT: /* the END and the rest never come */
                        fake_write(f, copy, 4);
                        break;
                case MANGLE_CRC: /* a bit of the first frame's last CRC byte (never special here) */
                        copy[end - 1] ^= (copy[end - 1] == 0xC1 || copy[end - 1] == 0xDA) ? 0x02 : 0x01;
                        fake_write(f, copy, len);
                        break;
                case MANGLE_DROP_FIRST: /* the first frame vanishes, what follows it arrives */
                        fake_write(f, copy + end + 1, len - end - 1);
                        break;
                case MANGLE_NONE:
                        break;
                }
                f->mangle = MANGLE_NONE;
                sink_dev_output_consume(f->dev, len);
                return;
        }
        if (len > 0) {
                fake_write(f, out, len);
                sink_dev_output_consume(f->dev, len);
        }
}

static void fake_handle(Fake *f, const SinkFrame *fr) {
        usec_t t = now(CLOCK_MONOTONIC);
        uint8_t wire[SINK_SLIP_WIRE_MAX(SINK_FRAME_MAX)];
        SinkMsg m;
        int n;

        assert_int_equal(sinkmsg_decode(SINK_TO_DEVICE, fr, &m), 0); /* the host only writes valid frames */
        f->by_primitive[fr->primitive]++;

        if (m.type == SINK_MSG_CSAP_ATTR_READ_REQ && m.attr_id == SINK_CSAP_MESH_API_VERSION &&
            f->n_probes < ELEMENTSOF(f->probe_speeds)) {
                uint32_t speed = 0;
                assert_int_equal(pty_get_speed(f->slave, &speed), 0);
                f->probe_ids[f->n_probes] = fr->frame_id;
                f->probe_speeds[f->n_probes++] = speed;
        }
        if (m.type == SINK_MSG_CSAP_ATTR_READ_REQ && m.attr_id == SINK_CSAP_NODE_ADDRESS)
                f->node_address_reads++;
        if (m.type == SINK_MSG_RESPONSE && m.primitive == (SINK_PRIM_DATA_TX_IND | SINK_PRIM_REPLY_BIT) &&
            f->tx_outstanding > 0 && !f->drop_responses)
                f->tx_outstanding--;

        if (f->answer_baud != 0) {
                uint32_t speed = 0;
                assert_int_equal(pty_get_speed(f->slave, &speed), 0);
                if (speed != f->answer_baud)
                        return;
        }
        if (f->deaf > 0) {
                f->deaf--;
                return;
        }
        if (m.type == SINK_MSG_CSAP_ATTR_READ_REQ && m.attr_id == SINK_CSAP_MESH_API_VERSION &&
            f->version_error != 0) {
                uint32_t speed = 0;
                assert_int_equal(pty_get_speed(f->slave, &speed), 0);
                if (speed != f->version_ok_baud) {
                        /* result, attribute id (le16), no value */
                        const uint8_t p[] = { f->version_error, SINK_CSAP_MESH_API_VERSION, 0, 0 };
                        fake_write_frame(f, SINK_PRIM_CSAP_ATTR_READ | SINK_PRIM_REPLY_BIT, fr->frame_id, p,
                                         sizeof(p));
                        return;
                }
        }
        if (m.type == SINK_MSG_RESPONSE && f->drop_responses > 0) {
                f->drop_responses--;
                return;
        }
        if (m.type == SINK_MSG_DATA_TX_TT_REQ && f->oom > 0) {
                uint8_t p[4];
                f->oom--;
                f->data_tx++;
                unaligned_write_le16(p, m.data_tx.pdu_id);
                p[2] = SINK_TX_OUT_OF_MEMORY;
                p[3] = 0;
                fake_write_frame(f, SINK_PRIM_DATA_TX_TT | SINK_PRIM_REPLY_BIT, fr->frame_id, p, sizeof(p));
                return;
        }

        if (m.type == SINK_MSG_DATA_TX_TT_REQ && f->discard_tx > 0) {
                uint8_t p[4], ind[14] = {};
                f->discard_tx--;
                f->data_tx++;
                unaligned_write_le16(p, m.data_tx.pdu_id);
                p[2] = SINK_TX_OK;
                p[3] = 8;
                fake_write_frame(f, SINK_PRIM_DATA_TX_TT | SINK_PRIM_REPLY_BIT, fr->frame_id, p, sizeof(p));
                unaligned_write_le16(ind + 1, m.data_tx.pdu_id);
                ind[3] = m.data_tx.src_ep;
                unaligned_write_le32(ind + 4, m.data_tx.dst_addr);
                ind[8] = m.data_tx.dst_ep;
                ind[13] = 1; /* discarded */
                assert_int_equal(sink_dev_queue_indication(f->dev, SINK_PRIM_DATA_TX_IND, ind, sizeof(ind)),
                                 0);
                return;
        }
        if (m.type == SINK_MSG_DATA_TX_TT_REQ && f->stale_echo_tx) {
                uint8_t echo[SINK_ECHO_WIRE_SIZE];
                f->stale_echo_tx = false;
                /* says it got 9 bytes: not this request's length */
                assert_int_equal(sink_echo_encode(SINK_ECHO_BAD_CRC, 9, echo, sizeof(echo)),
                                 (int)sizeof(echo));
                fake_write(f, echo, sizeof(echo));
        }
        n = sink_slip_encode(SINK_TO_DEVICE, fr->raw, fr->raw_len, wire, sizeof(wire));
        assert_true(n > 0);
        if (f->corrupt > 0) {
                f->corrupt--;
                wire[3] ^= 0x01; /* the primitive id: the CRC no longer matches, the framing does */
        }
        sink_dev_input(f->dev, t, wire, (size_t)n);
        if (m.type == SINK_MSG_DATA_TX_TT_REQ) {
                f->data_tx++;
                if (f->reboot_after_tx) {
                        f->reboot_after_tx = false;
                        fake_flush_dev(f, &m); /* the confirm made it out; the TX indication will not */
                        sink_dev_reboot(f->dev, t);
                        return;
                }
                f->tx_outstanding++;
                f->tx_outstanding_max = MAX(f->tx_outstanding_max, f->tx_outstanding);
        }
        fake_flush_dev(f, &m);
}

static int fake_on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Fake *f = userdata;
        uint8_t buf[1024];

        for (;;) {
                ssize_t k = read(f->master, buf, sizeof(buf));
                if (k <= 0)
                        break;
                const uint8_t *p = buf;
                size_t n = (size_t)k;
                while (n > 0) {
                        SinkFrame fr;
                        int r = sink_frame_decoder_feed(&f->dec, &p, &n, &fr, NULL);
                        if (r == SINK_FEED_MORE)
                                break;
                        assert_int_equal(r, SINK_FEED_FRAME); /* the host never sends broken frames */
                        fake_handle(f, &fr);
                }
        }
        return 0;
}

static void fake_plug(Fake *f) {
        struct termios t;
        char name[128];

        assert_int_equal(openpty(&f->master, &f->slave, name, NULL, NULL), 0);
        assert_int_equal(fd_nonblock(f->master, true), 0);
        assert_int_equal(tcgetattr(f->slave, &t), 0);
        cfmakeraw(&t);
        assert_int_equal(tcsetattr(f->slave, TCSANOW, &t), 0);
        (void)unlink(f->link);
        assert_int_equal(symlink(name, f->link), 0);
        assert_int_equal(sd_event_add_io(f->event, &f->io, f->master, EPOLLIN, fake_on_io, f), 0);
        sink_frame_decoder_init(&f->dec, SINK_DEVICE_FRAME_MAX);
}

static void fake_unplug(Fake *f) {
        f->io = sd_event_source_disable_unref(f->io);
        f->master = safe_close(f->master);
        f->slave = safe_close(f->slave);
        (void)unlink(f->link);
}

static char tmpdir[] = "/tmp/test-sink-link-XXXXXX";

static void fake_init(Fake *f, sd_event *e, const SinkDevConfig *dc) {
        *f = (Fake){ .event = e, .master = -EBADF, .slave = -EBADF };
        snprintf(f->link, sizeof(f->link), "%s/ttySINK", tmpdir);
        assert_int_equal(sink_dev_new(dc, now(CLOCK_MONOTONIC), &f->dev), 0);
        sink_dev_set_downlink(f->dev, on_dev_downlink, f);
        fake_plug(f);
}

static void fake_done(Fake *f) {
        fake_unplug(f);
        f->dev = sink_dev_free(f->dev);
}

/* ---- the host side ---- */

typedef struct Result {
        uint64_t cookie;
        int error;
        char detail[64];
} Result;

typedef struct Host {
        SinkLink *link;
        unsigned uplinks;
        SinkLinkUplink last_up;
        uint8_t last_payload[256];
        Result results[512];
        size_t n_results;
        SinkLinkState states[64];
        size_t n_states;
} Host;

static void on_uplink(SinkLink *l, const SinkLinkUplink *up, void *userdata) {
        Host *h = userdata;
        h->uplinks++;
        h->last_up = *up;
        memcpy(h->last_payload, up->payload, up->payload_len);
        h->last_up.payload = h->last_payload;
}

static void on_send_result(SinkLink *l, uint64_t cookie, int error, const char *detail, void *userdata) {
        Host *h = userdata;
        assert_true(h->n_results < ELEMENTSOF(h->results));
        h->results[h->n_results].cookie = cookie;
        h->results[h->n_results].error = error;
        snprintf(h->results[h->n_results].detail, sizeof(h->results[0].detail), "%s", detail);
        h->n_results++;
}

static void on_state_change(SinkLink *l, SinkLinkState s, void *userdata) {
        Host *h = userdata;
        if (h->n_states < ELEMENTSOF(h->states))
                h->states[h->n_states++] = s;
}

static void test_options(SinkLinkOptions *o, const char *device) {
        sink_link_options_default(o);
        o->name = "sink0";
        o->device = device;
        o->request_timeout = 300 * USEC_PER_MSEC; /* tests that count timeouts use more or less */
        o->poll_interval = 10 * USEC_PER_MSEC;
        o->reopen_min = 20 * USEC_PER_MSEC;
        o->reopen_max = 200 * USEC_PER_MSEC;
        o->tx_backoff_min = 10 * USEC_PER_MSEC;
        o->tx_backoff_max = 80 * USEC_PER_MSEC;
        o->tx_indication_timeout = USEC_PER_SEC;
        o->downlink_max_age = 20 * USEC_PER_SEC;
}

static void host_start(Host *h, sd_event *e, const SinkLinkOptions *o) {
        SinkLinkCallbacks cb = { .on_uplink = on_uplink,
                                 .on_send_result = on_send_result,
                                 .on_state_change = on_state_change };
        *h = (Host){};
        assert_int_equal(sink_link_new(e, o, &cb, h, &h->link), 0);
        assert_int_equal(sink_link_start(h->link), 0);
}

#define WAIT_FOR(e, timeout, expr)                                               \
        ({                                                                       \
                usec_t _end = usec_add(now(CLOCK_MONOTONIC), (timeout));         \
                bool _ok;                                                        \
                for (;;) {                                                       \
                        if ((_ok = (expr)))                                      \
                                break;                                           \
                        if (now(CLOCK_MONOTONIC) >= _end)                        \
                                break;                                           \
                        assert_true(sd_event_run((e), 10 * USEC_PER_MSEC) >= 0); \
                }                                                                \
                _ok;                                                             \
        })

static bool link_up(Host *h) {
        return sink_link_state(h->link) == SINK_LINK_UP;
}

/* A test's world: event loop, device, host. */
typedef struct World {
        sd_event *e;
        Fake f;
        Host h;
        SinkDevConfig dc;
        SinkLinkOptions o;
} World;

static void world_init(World *w) {
        *w = (World){};
        assert_int_equal(sd_event_new(&w->e), 0);
        sink_dev_config_default(&w->dc);
        w->dc.node_address = 0x00C0DB01; /* escaped bytes on the wire */
        w->dc.network_address = 0xABCDEF;
        w->dc.channel = 7;
        w->dc.role = 0x11;
        w->dc.api_version = 19;
        w->dc.firmware[0] = 5;
        w->dc.firmware[1] = 4;
        w->dc.firmware[2] = 1;
        w->dc.firmware[3] = 77;
        w->dc.reboot_time = 150 * USEC_PER_MSEC;
        test_options(&w->o, NULL);
}

static void world_start(World *w) {
        fake_init(&w->f, w->e, &w->dc);
        w->o.device = w->f.link;
        host_start(&w->h, w->e, &w->o);
}

static void world_done(World *w) {
        w->h.link = sink_link_free(w->h.link);
        fake_done(&w->f);
        w->e = sd_event_unref(w->e);
}

static int setup(void **state) {
        strcpy(tmpdir, "/tmp/test-sink-link-XXXXXX");
        assert_non_null(mkdtemp(tmpdir));
        return 0;
}

static int teardown(void **state) {
        char p[300];
        snprintf(p, sizeof(p), "%s/ttySINK", tmpdir);
        (void)unlink(p);
        (void)rmdir(tmpdir);
        return 0;
}

static const uint8_t start_pdu[] = { 0x01, 0x01, 0x00, 0x20, 0x00, 0x07, 0x01, 0xAA, 0xBB, 0xCC };

static int queue_uplink(World *w, uint32_t src, uint8_t src_ep, uint8_t dst_ep) {
        return sink_dev_queue_data_rx(w->f.dev, now(CLOCK_MONOTONIC), src, src_ep, dst_ep,
                                      sink_qos_hop_make(1, 3), 128, start_pdu, sizeof(start_pdu));
}

/* ---- tests ---- */

static void test_serial_open(void **state) {
        int m = -EBADF, s = -EBADF, fd;
        char name[128];
        uint32_t speed = 0;

        assert_int_equal(openpty(&m, &s, name, NULL, NULL), 0);
        fd = serial_open(name, 125000);
        assert_true(fd >= 0);
        assert_int_equal(serial_get_baud(fd, &speed), 0);
        assert_int_equal(speed, 125000);
        assert_int_equal(pty_get_speed(s, &speed), 0); /* seen from the other fd of the same tty */
        assert_int_equal(speed, 125000);
        assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);

        struct termios t;
        assert_int_equal(tcgetattr(fd, &t), 0);
        assert_false(t.c_cflag & CRTSCTS);
        assert_false(t.c_iflag & (IXON | IXOFF | IXANY | ICRNL));
        assert_false(t.c_lflag & (ICANON | ECHO | ISIG));
        assert_false(t.c_oflag & OPOST);
        assert_int_equal(t.c_cflag & CSIZE, CS8);
        assert_false(t.c_cflag & (PARENB | CSTOPB));

        assert_int_equal(serial_set_baud(fd, 1000000), 0);
        assert_int_equal(serial_get_baud(fd, &speed), 0);
        assert_int_equal(speed, 1000000);
        safe_close(fd);

        assert_int_equal(serial_open("/dev/null", 115200), -ENOTTY);
        assert_int_equal(serial_open("/nonexistent/tty", 115200), -ENOENT);
        assert_int_equal(serial_open(name, 0), -EINVAL);
        safe_close(m);
        safe_close(s);
}

static void test_link_up_reads_settings(void **state) {
        World w;
        SinkLinkInfo i;

        world_init(&w);
        w.o.request_timeout = 2 * USEC_PER_SEC; /* no timeout is expected at all */
        world_start(&w);
        assert_true(WAIT_FOR(w.e, DEADLINE, link_up(&w.h)));

        sink_link_get_info(w.h.link, &i);
        assert_int_equal(i.state, SINK_LINK_UP);
        assert_int_equal(i.baud, 125000); /* the first rate tried, and the sink answers at any */
        assert_true(i.has_node_address && i.has_network_address && i.has_channel && i.has_role);
        assert_int_equal(i.node_address, 0x00C0DB01);
        assert_int_equal(i.network_address, 0xABCDEF);
        assert_int_equal(i.channel, 7);
        assert_int_equal(i.role, 0x11);
        assert_int_equal(i.mtu, 102);
        assert_int_equal(i.api_version, 19);
        assert_int_equal(i.firmware[0], 5);
        assert_int_equal(i.firmware[3], 77);
        assert_true(i.has_stack_status);
        assert_int_equal(i.stack_status, 0);

        /* DOWN (opening) -> PROBING -> UP, and polling goes on once up */
        assert_true(w.h.n_states >= 3);
        assert_int_equal(w.h.states[0], SINK_LINK_DOWN);
        assert_int_equal(w.h.states[1], SINK_LINK_PROBING);
        assert_int_equal(w.h.states[2], SINK_LINK_UP);
        assert_true(WAIT_FOR(w.e, DEADLINE, sink_dev_stats(w.f.dev)->polls >= 5));
        assert_int_equal(sink_link_get_stats(w.h.link)->link_ups, 1);
        assert_int_equal(sink_link_get_stats(w.h.link)->timeouts, 0);
        world_done(&w);
}

static void test_baud_probe_order(void **state) {
        World w;
        SinkLinkInfo i;
        uint32_t order[3];
        size_t n = 0;

        world_init(&w);
        w.o.request_timeout = 100 * USEC_PER_MSEC;
        fake_init(&w.f, w.e, &w.dc);
        w.f.answer_baud = 1000000;
        w.o.device = w.f.link;
        host_start(&w.h, w.e, &w.o);
        assert_true(WAIT_FOR(w.e, DEADLINE, link_up(&w.h)));

        for (size_t k = 0; k < w.f.n_probes; k++)
                if (n == 0 || order[n - 1] != w.f.probe_speeds[k]) {
                        assert_true(n < 3);
                        order[n++] = w.f.probe_speeds[k];
                }
        assert_int_equal(n, 3);
        assert_int_equal(order[0], 125000);
        assert_int_equal(order[1], 115200);
        assert_int_equal(order[2], 1000000);
        /* each rate had its retries before the next was tried */
        assert_int_equal(w.f.probe_speeds[0], 125000);
        assert_int_equal(w.f.probe_speeds[w.o.request_retries], 125000);
        assert_int_equal(w.f.probe_speeds[w.o.request_retries + 1], 115200);
        sink_link_get_info(w.h.link, &i);
        assert_int_equal(i.baud, 1000000);
        assert_int_equal(sink_link_get_stats(w.h.link)->probe_failures, 2);
        world_done(&w);

        /* a configured rate is the only one tried */
        world_init(&w);
        w.o.baud = 115200;
        fake_init(&w.f, w.e, &w.dc);
        w.f.answer_baud = 115200;
        w.o.device = w.f.link;
        host_start(&w.h, w.e, &w.o);
        assert_true(WAIT_FOR(w.e, DEADLINE, link_up(&w.h)));
        for (size_t k = 0; k < w.f.n_probes; k++)
                assert_int_equal(w.f.probe_speeds[k], 115200);
        world_done(&w);
}

static void test_no_answer_at_any_rate(void **state) {
        World w;

        world_init(&w);
        w.o.request_timeout = 20 * USEC_PER_MSEC;
        w.o.request_retries = 0;
        fake_init(&w.f, w.e, &w.dc);
        w.f.answer_baud = 57600; /* never tried */
        w.o.device = w.f.link;
        host_start(&w.h, w.e, &w.o);
        /* every rate fails, the port is closed and opened again, round after round */
        assert_true(WAIT_FOR(w.e, DEADLINE, sink_link_get_stats(w.h.link)->opens >= 3));
        assert_true(sink_link_get_stats(w.h.link)->probe_failures >= 6);
        assert_int_equal(sink_link_get_stats(w.h.link)->link_ups, 0);
        assert_int_not_equal(sink_link_state(w.h.link), SINK_LINK_UP);
        world_done(&w);
}

static bool went_up(const Host *h) {
        for (size_t k = 0; k < h->n_states; k++)
                if (h->states[k] == SINK_LINK_UP)
                        return true;
        return false;
}

/* The link is up only after a successful read: a sink that answers the probe with an error result has not
 * proven the rate. */
static void test_probe_needs_successful_read(void **state) {
        World w;
        SinkLinkInfo i;

        /* an error at 125000, a good answer at 115200: up at 115200 */
        world_init(&w);
        w.o.request_timeout = 2 * USEC_PER_SEC; /* no timeout is expected at all */
        fake_init(&w.f, w.e, &w.dc);
        w.f.version_error = SINK_ATTR_ACCESS_DENIED;
        w.f.version_ok_baud = 115200;
        w.o.device = w.f.link;
        host_start(&w.h, w.e, &w.o);
        assert_true(WAIT_FOR(w.e, DEADLINE, link_up(&w.h)));
        sink_link_get_info(w.h.link, &i);
        assert_int_equal(i.baud, 115200);
        assert_int_equal(i.api_version, 19);
        /* 125000 once (an answer is not retried), 115200: the probe and the settings read */
        assert_int_equal(w.f.n_probes, 3);
        assert_int_equal(w.f.probe_speeds[0], 125000);
        assert_int_equal(w.f.probe_speeds[1], 115200);
        assert_int_equal(sink_link_get_stats(w.h.link)->probe_failures, 1);
        assert_int_equal(sink_link_get_stats(w.h.link)->timeouts, 0);
        world_done(&w);

        /* errors at every rate: never up, DOWN and opened again with backoff, the settings never read */
        world_init(&w);
        w.o.request_timeout = 2 * USEC_PER_SEC;
        fake_init(&w.f, w.e, &w.dc);
        w.f.version_error = SINK_ATTR_UNSUPPORTED;
        w.o.device = w.f.link;
        host_start(&w.h, w.e, &w.o);
        assert_true(WAIT_FOR(w.e, DEADLINE, sink_link_get_stats(w.h.link)->opens >= 3));
        assert_false(went_up(&w.h));
        assert_true(sink_link_get_stats(w.h.link)->probe_failures >= 6);
        assert_int_equal(sink_link_get_stats(w.h.link)->link_ups, 0);
        assert_int_equal(sink_link_get_stats(w.h.link)->timeouts, 0);
        assert_int_equal(w.f.node_address_reads, 0);
        assert_int_equal(w.h.states[0], SINK_LINK_DOWN);
        assert_int_equal(w.h.states[1], SINK_LINK_PROBING);
        assert_int_equal(w.h.states[2], SINK_LINK_DOWN);
        world_done(&w);

        /* the configured rate answers with an error: DOWN, and tried again later */
        world_init(&w);
        w.o.baud = 115200;
        fake_init(&w.f, w.e, &w.dc);
        w.f.version_error = SINK_ATTR_WRONG_STATE;
        w.o.device = w.f.link;
        host_start(&w.h, w.e, &w.o);
        assert_true(WAIT_FOR(w.e, DEADLINE, sink_link_get_stats(w.h.link)->opens >= 2));
        assert_false(went_up(&w.h));
        for (size_t k = 0; k < w.f.n_probes; k++)
                assert_int_equal(w.f.probe_speeds[k], 115200);
        w.f.version_error = 0; /* the sink comes to its senses */
        assert_true(WAIT_FOR(w.e, DEADLINE, link_up(&w.h)));
        world_done(&w);
}

static void test_stale_confirms_skipped(void **state) {
        World w;
        SinkLinkInfo i;

        world_init(&w);
        w.o.request_timeout = 2 * USEC_PER_SEC; /* no timeout is expected at all */
        fake_init(&w.f, w.e, &w.dc);
        w.f.stale = true;
        w.o.device = w.f.link;
        host_start(&w.h, w.e, &w.o);
        assert_true(WAIT_FOR(w.e, DEADLINE, link_up(&w.h)));
        sink_link_get_info(w.h.link, &i);
        /* the stale confirms carried 0x09999999 with a matching primitive: never taken */
        assert_int_equal(i.node_address, 0x00C0DB01);
        assert_int_equal(i.network_address, 0xABCDEF);
        assert_true(sink_link_get_stats(w.h.link)->stale >= 2 * 10);
        assert_int_equal(sink_link_get_stats(w.h.link)->timeouts, 0);

        /* and data still flows */
        assert_int_equal(queue_uplink(&w, 0x2001, 246, 255), 0);
        assert_true(WAIT_FOR(w.e, DEADLINE, w.h.uplinks == 1));
        world_done(&w);
}

static void test_timeouts_retried(void **state) {
        World w;
        const SinkLinkStats *st;

        world_init(&w);
        fake_init(&w.f, w.e, &w.dc);
        w.f.deaf = 2; /* the first probe and its first re-send vanish */
        w.o.device = w.f.link;
        host_start(&w.h, w.e, &w.o);
        assert_true(WAIT_FOR(w.e, DEADLINE, link_up(&w.h)));
        st = sink_link_get_stats(w.h.link);
        assert_int_equal(st->timeouts, 2);
        assert_int_equal(st->retries, 2);
        assert_int_equal(st->probe_failures, 0);
        /* re-sent with a new frame id each time */
        assert_int_equal(w.f.n_probes, 3 + 1); /* 3 probes + the setup's own read of the API version */
        assert_int_not_equal(w.f.probe_ids[0], w.f.probe_ids[1]);
        assert_int_not_equal(w.f.probe_ids[1], w.f.probe_ids[2]);
        world_done(&w);
}

static void test_stall_takes_link_down_and_back(void **state) {
        World w;

        world_init(&w);
        world_start(&w);
        assert_true(WAIT_FOR(w.e, DEADLINE, link_up(&w.h)));
        w.f.deaf = 1000000; /* stalled */
        assert_true(WAIT_FOR(w.e, DEADLINE, sink_link_state(w.h.link) == SINK_LINK_DOWN));
        assert_int_equal(sink_link_get_stats(w.h.link)->link_downs, 1);
        assert_true(sink_link_get_stats(w.h.link)->timeouts >= 3);
        w.f.deaf = 0;
        assert_true(WAIT_FOR(w.e, DEADLINE, link_up(&w.h)));
        assert_int_equal(sink_link_get_stats(w.h.link)->link_ups, 2);
        world_done(&w);
}

static void test_uplink_and_downlink(void **state) {
        World w;

        world_init(&w);
        world_start(&w);
        assert_true(WAIT_FOR(w.e, DEADLINE, link_up(&w.h)));

        assert_int_equal(queue_uplink(&w, 0x2001, 10, 11), 0); /* not provisioning */
        assert_int_equal(queue_uplink(&w, 0x2002, 246, 255), 0);
        assert_int_equal(queue_uplink(&w, 0x2003, 160, 39), 0); /* 5G Mesh */
        assert_true(WAIT_FOR(w.e, DEADLINE, w.h.uplinks == 2 && sink_dev_queued(w.f.dev) == 0));
        assert_int_equal(sink_link_get_stats(w.h.link)->ignored, 1);
        assert_int_equal(w.h.last_up.source_address, 0x2003);
        assert_int_equal(w.h.last_up.network_address, 0xABCDEF);
        assert_int_equal(w.h.last_up.src_ep, 160);
        assert_int_equal(w.h.last_up.dst_ep, 39);
        assert_int_equal(w.h.last_up.hops, 3);
        assert_true(w.h.last_up.travel_time_ms >= 1000); /* 128/128 s plus the device's queueing time */
        assert_int_equal(w.h.last_up.payload_len, sizeof(start_pdu));
        assert_memory_equal(w.h.last_up.payload, start_pdu, sizeof(start_pdu));

        static const uint8_t data[] = { 0x02, 0x01, 0x00, 0x20, 0x00, 0x07, 0x01, 0x10, 0x00, 0xC0, 0xDB };
        assert_int_equal(sink_link_send(w.h.link, 0x2002, 255, 246, data, sizeof(data), 42), 0);
        assert_true(WAIT_FOR(w.e, DEADLINE, w.h.n_results == 1));
        assert_int_equal(w.h.results[0].cookie, 42);
        assert_int_equal(w.h.results[0].error, 0);
        assert_int_equal(w.f.downlinks, 1);
        assert_int_equal(w.f.last_tx.dst_addr, 0x2002);
        assert_int_equal(w.f.last_tx.src_ep, 255);
        assert_int_equal(w.f.last_tx.dst_ep, 246);
        assert_true(w.f.last_tx.tx_options & SINK_TX_OPT_INDICATION);
        assert_int_equal(w.f.last_tx.apdu_len, sizeof(data));
        assert_memory_equal(w.f.last_tx.apdu, data, sizeof(data));
        assert_int_equal(w.f.by_primitive[SINK_PRIM_DATA_TX_TT], 1);

        /* nothing more is reported later */
        assert_true(WAIT_FOR(w.e, 200 * USEC_PER_MSEC, false) == false);
        assert_int_equal(w.h.n_results, 1);
        assert_int_equal(sink_link_get_stats(w.h.link)->delivered, 1);
        world_done(&w);
}

static void test_oom_retried_with_backoff(void **state) {
        World w;
        static const uint8_t data[] = { 0x04, 0x01, 0x00, 0x20, 0x00, 0x07, 0x00 };

        world_init(&w);
        world_start(&w);
        assert_true(WAIT_FOR(w.e, DEADLINE, link_up(&w.h)));
        w.f.oom = 3;
        assert_int_equal(sink_link_send(w.h.link, 0x2002, 255, 246, data, sizeof(data), 7), 0);
        assert_true(WAIT_FOR(w.e, DEADLINE, w.h.n_results == 1));
        assert_int_equal(w.h.results[0].error, 0);
        assert_int_equal(w.f.data_tx, 4);   /* three refusals, then taken */
        assert_int_equal(w.f.downlinks, 1); /* on the air once */
        assert_int_equal(sink_link_get_stats(w.h.link)->out_of_memory, 3);
        assert_int_equal(sink_link_get_stats(w.h.link)->tx_retries, 3);
        world_done(&w);

        /* a sink that stays out of memory: the downlink fails, once, with the reason */
        world_init(&w);
        w.o.tx_attempts = 4;
        world_start(&w);
        assert_true(WAIT_FOR(w.e, DEADLINE, link_up(&w.h)));
        w.f.oom = 1000;
        assert_int_equal(sink_link_send(w.h.link, 0x2002, 255, 246, data, sizeof(data), 8), 0);
        assert_true(WAIT_FOR(w.e, DEADLINE, w.h.n_results == 1));
        assert_int_equal(w.h.results[0].cookie, 8);
        assert_true(w.h.results[0].error < 0);
        assert_non_null(strstr(w.h.results[0].detail, "out of memory"));
        assert_int_equal(w.f.data_tx, 4);
        assert_int_equal(w.f.downlinks, 0);
        assert_true(WAIT_FOR(w.e, 300 * USEC_PER_MSEC, false) == false);
        assert_int_equal(w.h.n_results, 1);
        assert_int_equal(w.f.data_tx, 4);
        world_done(&w);
}

static void test_pacing(void **state) {
        World w;
        static const uint8_t data[] = { 0x04, 0x01, 0x00, 0x20, 0x00, 0x07, 0x00 };

        world_init(&w);
        w.o.max_in_flight = 2;
        world_start(&w);
        assert_true(WAIT_FOR(w.e, DEADLINE, link_up(&w.h)));
        for (uint64_t k = 0; k < 12; k++)
                assert_int_equal(
                        sink_link_send(w.h.link, 0x3000 + (uint32_t)k, 255, 246, data, sizeof(data), k), 0);
        assert_true(WAIT_FOR(w.e, DEADLINE, w.h.n_results == 12));
        assert_int_equal(w.f.downlinks, 12);
        assert_int_equal(w.f.tx_outstanding_max, 2);
        for (size_t k = 0; k < 12; k++) {
                assert_int_equal(w.h.results[k].error, 0);
                assert_int_equal(w.h.results[k].cookie, k); /* first come, first served */
        }
        world_done(&w);
}

static void test_queue_bounds(void **state) {
        World w;
        static const uint8_t data[PROV_PDU_MAX + 1] = { 0x02 };

        world_init(&w);
        world_start(&w);
        /* not started yet: everything waits in the queue */
        for (unsigned k = 0; k < SINK_TX_QUEUE_MAX; k++)
                assert_int_equal(sink_link_send(w.h.link, 0x3000, 255, 246, data, 20, k), 0);
        assert_int_equal(sink_link_send(w.h.link, 0x3000, 255, 246, data, 20, 999), -ENOBUFS);
        assert_int_equal(sink_link_send(w.h.link, 0x3000, 255, 246, data, 0, 999), -EINVAL);
        assert_int_equal(sink_link_send(w.h.link, 0x3000, 255, 246, data, PROV_PDU_MAX + 1, 999), -EINVAL);
        assert_int_equal(sink_link_get_stats(w.h.link)->rejected, 3);
        assert_int_equal(w.h.n_results, 0); /* never a callback from inside send */

        /* longer than the sink's MTU (102): refused when its turn comes, with a reason */
        world_done(&w);
        world_init(&w);
        world_start(&w);
        assert_true(WAIT_FOR(w.e, DEADLINE, link_up(&w.h)));
        assert_int_equal(sink_link_send(w.h.link, 0x3000, 255, 246, data, 110, 5), 0);
        assert_true(WAIT_FOR(w.e, DEADLINE, w.h.n_results == 1));
        assert_int_equal(w.h.results[0].error, -EMSGSIZE);
        assert_int_equal(w.f.data_tx, 0);
        world_done(&w);
}

static void test_duplicate_indication_dispatched_once(void **state) {
        World w;

        world_init(&w);
        world_start(&w);
        assert_true(WAIT_FOR(w.e, DEADLINE, link_up(&w.h)));
        w.f.drop_responses = 1;
        assert_int_equal(queue_uplink(&w, 0x2002, 246, 255), 0);
        assert_true(WAIT_FOR(w.e, DEADLINE, sink_dev_queued(w.f.dev) == 0));
        assert_int_equal(w.h.uplinks, 1);
        assert_int_equal(sink_link_get_stats(w.h.link)->duplicates, 1);
        assert_true(sink_dev_stats(w.f.dev)->indications_sent >= 2);
        assert_int_equal(sink_dev_prot_seq(w.f.dev), 1);

        /* the next indication has the next frame id and is a new one */
        assert_int_equal(queue_uplink(&w, 0x2002, 246, 255), 0);
        assert_true(WAIT_FOR(w.e, DEADLINE, w.h.uplinks == 2));
        world_done(&w);
}

static int queue_uplink_payload(World *w, uint32_t src, uint8_t tag) {
        uint8_t pdu[sizeof(start_pdu)];

        memcpy(pdu, start_pdu, sizeof(pdu));
        pdu[sizeof(pdu) - 1] = tag;
        return sink_dev_queue_data_rx(w->f.dev, now(CLOCK_MONOTONIC), src, 246, 255, sink_qos_hop_make(1, 3),
                                      128, pdu, sizeof(pdu));
}

/* "Send the next one" is lost on its way: the device keeps the indication and says nothing more (no error
 * echo on older firmware), the host times out, polls again and gets the same frame id and bytes. It must
 * not act on it twice. */
static void test_duplicate_after_lost_next_response(void **state) {
        World w;
        const SinkLinkStats *st;

        world_init(&w);
        world_start(&w);
        assert_true(WAIT_FOR(w.e, DEADLINE, link_up(&w.h)));
        st = sink_link_get_stats(w.h.link);
        w.f.drop_responses = 1;
        assert_int_equal(queue_uplink_payload(&w, 0x2002, 1), 0);
        assert_int_equal(queue_uplink_payload(&w, 0x2003, 2), 0);
        assert_int_equal(queue_uplink_payload(&w, 0x2004, 3), 0);
        assert_true(WAIT_FOR(w.e, DEADLINE, sink_dev_queued(w.f.dev) == 0 && w.h.uplinks >= 3));
        assert_true(WAIT_FOR(w.e, 200 * USEC_PER_MSEC, false) == false); /* nothing more comes */
        assert_int_equal(w.h.uplinks, 3);
        assert_int_equal(w.h.last_up.source_address, 0x2004);
        assert_int_equal(st->duplicates, 1);
        assert_true(st->timeouts >= 1); /* the device was silent after the lost response */
        assert_int_equal(st->link_downs, 0);
        assert_int_equal(sink_dev_stats(w.f.dev)->indications_popped, 3);
        assert_int_equal(sink_dev_prot_seq(w.f.dev), 3);

        /* a reboot: the STACK_STATE is acted on, and the same bytes with a frame id seen before are new */
        sink_dev_reboot(w.f.dev, now(CLOCK_MONOTONIC));
        assert_true(
                WAIT_FOR(w.e, DEADLINE, st->reboots == 1 && link_up(&w.h) && sink_dev_queued(w.f.dev) == 0));
        assert_int_equal(queue_uplink_payload(&w, 0x2002, 1), 0);
        assert_true(WAIT_FOR(w.e, DEADLINE, w.h.uplinks == 4));
        assert_int_equal(st->duplicates, 1);
        world_done(&w);
}

static void test_reboot_rereads_and_resends(void **state) {
        World w;
        static const uint8_t data[] = { 0x04, 0x01, 0x00, 0x20, 0x00, 0x07, 0x00 };

        world_init(&w);
        w.o.tx_indication_timeout = 60 * USEC_PER_SEC; /* only the reboot can make it go out again in time */
        world_start(&w);
        assert_true(WAIT_FOR(w.e, DEADLINE, link_up(&w.h)));
        assert_int_equal(w.f.node_address_reads, 1);

        w.f.reboot_after_tx = true;
        assert_int_equal(sink_link_send(w.h.link, 0x2002, 255, 246, data, sizeof(data), 11), 0);
        assert_true(WAIT_FOR(w.e, DEADLINE, w.h.n_results == 1));
        assert_int_equal(w.h.results[0].error, 0);
        assert_int_equal(w.f.downlinks, 2); /* before the reboot (its TX indication lost), and again */
        assert_int_equal(sink_link_get_stats(w.h.link)->reboots, 1);
        assert_int_equal(w.f.node_address_reads, 2);               /* settings read again */
        assert_true(sink_link_get_stats(w.h.link)->timeouts >= 1); /* the reboot's silence */
        assert_int_equal(sink_link_get_stats(w.h.link)->link_downs, 0);
        assert_true(link_up(&w.h));
        world_done(&w);
}

static void test_hangup_and_replug(void **state) {
        World w;
        static const uint8_t data[] = { 0x04, 0x01, 0x00, 0x20, 0x00, 0x07, 0x00 };

        world_init(&w);
        world_start(&w);
        assert_true(WAIT_FOR(w.e, DEADLINE, link_up(&w.h)));

        fake_unplug(&w.f);
        assert_true(WAIT_FOR(w.e, DEADLINE, sink_link_state(w.h.link) == SINK_LINK_DOWN));
        assert_int_equal(sink_link_get_stats(w.h.link)->hangups, 1);
        assert_int_equal(sink_link_get_stats(w.h.link)->link_downs, 1);
        /* queued while the device is gone; it keeps trying to open the missing path */
        assert_int_equal(sink_link_send(w.h.link, 0x2002, 255, 246, data, sizeof(data), 3), 0);
        assert_true(WAIT_FOR(w.e, DEADLINE, sink_link_get_stats(w.h.link)->open_failures >= 2));
        assert_int_equal(w.h.n_results, 0);

        fake_plug(&w.f);
        sink_dev_reboot(w.f.dev, now(CLOCK_MONOTONIC)); /* it was powered from the port */
        assert_true(WAIT_FOR(w.e, DEADLINE, w.h.n_results == 1));
        assert_int_equal(w.h.results[0].error, 0);
        assert_int_equal(w.f.downlinks, 1);
        assert_true(link_up(&w.h));
        assert_int_equal(sink_link_get_stats(w.h.link)->link_ups, 2);
        world_done(&w);
}

static void test_garbage_and_bad_crc(void **state) {
        World w;
        const SinkLinkStats *st;

        world_init(&w);
        fake_init(&w.f, w.e, &w.dc);
        w.f.noise = true;
        w.o.device = w.f.link;
        host_start(&w.h, w.e, &w.o);
        assert_true(WAIT_FOR(w.e, DEADLINE, link_up(&w.h)));
        assert_int_equal(queue_uplink(&w, 0x2002, 246, 255), 0);
        assert_true(WAIT_FOR(w.e, DEADLINE, w.h.uplinks == 1));
        st = sink_link_get_stats(w.h.link);
        assert_true(st->bad_frames >= 10);
        assert_true(st->noise >= 10);
        assert_int_equal(st->link_downs, 0);
        world_done(&w);
}

static void test_error_echo_resends_same_frame(void **state) {
        World w;

        world_init(&w);
        w.o.request_timeout = 2 * USEC_PER_SEC; /* no timeout is expected at all */
        w.dc.error_echo = true;
        fake_init(&w.f, w.e, &w.dc);
        w.f.corrupt = 1; /* the first probe arrives with a bad CRC: the SDK16 device says so */
        w.o.device = w.f.link;
        host_start(&w.h, w.e, &w.o);
        assert_true(WAIT_FOR(w.e, DEADLINE, link_up(&w.h)));
        assert_int_equal(sink_link_get_stats(w.h.link)->echoes, 1);
        assert_int_equal(sink_link_get_stats(w.h.link)->timeouts, 0);
        assert_true(w.f.n_probes >= 2);
        assert_int_equal(w.f.probe_ids[0], w.f.probe_ids[1]); /* the same request, the same frame id */
        world_done(&w);
}

static void test_stack_start(void **state) {
        World w;
        SinkLinkInfo i;

        world_init(&w);
        w.dc.running = false;
        w.dc.autostart = false;
        w.o.start_stack = true;
        world_start(&w);
        assert_true(WAIT_FOR(w.e, DEADLINE, link_up(&w.h)));
        assert_true(sink_dev_stack_running(w.f.dev));
        assert_int_equal(sink_link_get_stats(w.h.link)->stack_starts, 1);
        sink_link_get_info(w.h.link, &i);
        assert_int_equal(i.stack_status, 0);
        world_done(&w);

        world_init(&w);
        w.dc.running = false;
        w.dc.autostart = false;
        w.o.start_stack = false;
        world_start(&w);
        assert_true(WAIT_FOR(w.e, DEADLINE, link_up(&w.h)));
        assert_false(sink_dev_stack_running(w.f.dev));
        sink_link_get_info(w.h.link, &i);
        assert_true(i.stack_status & SINK_STACK_STOPPED);
        assert_int_equal(w.f.by_primitive[SINK_PRIM_STACK_START], 0);
        world_done(&w);
}

static void test_broken_answers_handled_at_once(void **state) {
        World w;
        const SinkLinkStats *st;

        world_init(&w);
        w.o.request_timeout = 5 * USEC_PER_SEC; /* any real timeout would show in the counters */
        world_start(&w);
        assert_true(WAIT_FOR(w.e, DEADLINE, link_up(&w.h)));
        st = sink_link_get_stats(w.h.link);

        /* an attribute read's confirm stops half way: noticed by the frame gap, read again */
        w.f.mangle_primitive = SINK_PRIM_CSAP_ATTR_READ;
        w.f.mangle = MANGLE_CUT;
        unsigned reads = w.f.node_address_reads;
        assert_int_equal(
                sink_dev_queue_indication(w.f.dev, SINK_PRIM_STACK_STATE_IND, (const uint8_t[]){ 0, 0 }, 2),
                0); /* "rebooted": the settings are read again */
        assert_true(WAIT_FOR(w.e, DEADLINE,
                             w.f.node_address_reads > reads && link_up(&w.h) && w.f.mangle == MANGLE_NONE));
        assert_true(WAIT_FOR(w.e, DEADLINE, st->truncated == 1 && st->retries >= 1));

        /* a poll's confirm with a bad CRC: polled again at once */
        w.f.mangle_primitive = SINK_PRIM_POLL;
        w.f.mangle = MANGLE_CRC;
        assert_int_equal(queue_uplink(&w, 0x2002, 246, 255), 0);
        assert_true(WAIT_FOR(w.e, DEADLINE, w.h.uplinks == 1));
        assert_true(st->bad_frames >= 2);

        /* a poll's confirm lost entirely, the indication behind it arrives: taken */
        w.f.mangle = MANGLE_DROP_FIRST;
        assert_int_equal(queue_uplink(&w, 0x2003, 246, 255), 0);
        assert_true(WAIT_FOR(w.e, DEADLINE, w.h.uplinks == 2));
        assert_int_equal(w.h.last_up.source_address, 0x2003);

        /* a DATA_TX confirm cut: it was taken, its TX indication settles it, sent once */
        static const uint8_t data[] = { 0x04, 0x01, 0x00, 0x20, 0x00, 0x07, 0x00 };
        w.f.mangle_primitive = SINK_PRIM_DATA_TX_TT;
        w.f.mangle = MANGLE_CUT;
        assert_int_equal(sink_link_send(w.h.link, 0x2002, 255, 246, data, sizeof(data), 1), 0);
        assert_true(WAIT_FOR(w.e, DEADLINE, w.h.n_results == 1));
        assert_int_equal(w.h.results[0].error, 0);
        assert_int_equal(w.f.downlinks, 1);
        assert_int_equal(st->tx_uncertain, 1);

        assert_int_equal(st->timeouts, 0);
        assert_int_equal(st->link_downs, 0);
        world_done(&w);
}

static void test_discarded_and_stale_echo(void **state) {
        World w;
        static const uint8_t data[] = { 0x04, 0x01, 0x00, 0x20, 0x00, 0x07, 0x00 };

        world_init(&w);
        world_start(&w);
        assert_true(WAIT_FOR(w.e, DEADLINE, link_up(&w.h)));

        /* the sink took it, then reports it discarded: sent again, delivered, reported once */
        w.f.discard_tx = 1;
        assert_int_equal(sink_link_send(w.h.link, 0x2002, 255, 246, data, sizeof(data), 1), 0);
        assert_true(WAIT_FOR(w.e, DEADLINE, w.h.n_results == 1));
        assert_int_equal(w.h.results[0].error, 0);
        assert_int_equal(w.f.data_tx, 2);
        assert_int_equal(w.f.downlinks, 1);
        assert_int_equal(sink_link_get_stats(w.h.link)->tx_discarded, 1);

        /* an error echo about some other frame must not make a DATA_TX go out twice */
        w.f.stale_echo_tx = true;
        assert_int_equal(sink_link_send(w.h.link, 0x2003, 255, 246, data, sizeof(data), 2), 0);
        assert_true(WAIT_FOR(w.e, DEADLINE, w.h.n_results == 2));
        assert_int_equal(w.h.results[1].error, 0);
        assert_int_equal(w.f.by_primitive[SINK_PRIM_DATA_TX_TT], 3);
        assert_int_equal(w.f.downlinks, 2);
        assert_int_equal(sink_link_get_stats(w.h.link)->echoes, 1);
        world_done(&w);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_serial_open),
                cmocka_unit_test_setup_teardown(test_link_up_reads_settings, setup, teardown),
                cmocka_unit_test_setup_teardown(test_baud_probe_order, setup, teardown),
                cmocka_unit_test_setup_teardown(test_no_answer_at_any_rate, setup, teardown),
                cmocka_unit_test_setup_teardown(test_probe_needs_successful_read, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stale_confirms_skipped, setup, teardown),
                cmocka_unit_test_setup_teardown(test_timeouts_retried, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stall_takes_link_down_and_back, setup, teardown),
                cmocka_unit_test_setup_teardown(test_uplink_and_downlink, setup, teardown),
                cmocka_unit_test_setup_teardown(test_oom_retried_with_backoff, setup, teardown),
                cmocka_unit_test_setup_teardown(test_pacing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_discarded_and_stale_echo, setup, teardown),
                cmocka_unit_test_setup_teardown(test_queue_bounds, setup, teardown),
                cmocka_unit_test_setup_teardown(test_duplicate_indication_dispatched_once, setup, teardown),
                cmocka_unit_test_setup_teardown(test_duplicate_after_lost_next_response, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reboot_rereads_and_resends, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hangup_and_replug, setup, teardown),
                cmocka_unit_test_setup_teardown(test_garbage_and_bad_crc, setup, teardown),
                cmocka_unit_test_setup_teardown(test_broken_answers_handled_at_once, setup, teardown),
                cmocka_unit_test_setup_teardown(test_error_echo_resends_same_frame, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stack_start, setup, teardown),
        };
        log_set_max_level(getenv("SINK_TEST_DEBUG") ? LOG_DEBUG : LOG_ERR);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
