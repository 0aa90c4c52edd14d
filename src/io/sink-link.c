/* SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "cursor.h"
#include "fd-util.h"
#include "log.h"
#include "ratelimit.h"
#include "serial.h"
#include "sink-link.h"
#include "sinkframe.h"
#include "sinkmsg.h"
#include "string-util.h"

#define OUT_MAX        1024u /* one request or response at a time: SINK_SLIP_WIRE_MAX(SINK_FRAME_MAX) fits */
#define READ_CHUNK     512u
#define READ_ROUNDS    8u
#define PDU_ID_MAX     0xFFFEu /* 0xFFFF is reserved */
#define TIMER_ACCURACY USEC_PER_MSEC

/* ref-dualmcu.md §1: the device's default first, then the host library's, then the fast one. */
static const uint32_t probe_bauds[] = { 125000, 115200, 1000000 };

/* The provisioning endpoint pairs, uplink (ref-dualmcu.md §5.1). */
static bool provisioning_endpoints(uint8_t src_ep, uint8_t dst_ep) {
        return (src_ep == 246 && dst_ep == 255) || (src_ep == 160 && dst_ep == 39);
}

typedef enum DownlinkState {
        DL_FREE,
        DL_QUEUED,   /* waiting for a slot, or for its backoff (not_before) */
        DL_SENDING,  /* its DATA_TX_TT is the current exchange */
        DL_WAIT_IND, /* confirmed (or its confirm was lost): waiting for the TX indication */
} DownlinkState;

typedef struct Downlink {
        DownlinkState state;
        uint64_t seq; /* arrival order: the oldest ready one goes first */
        uint64_t cookie;
        uint32_t destination;
        uint8_t src_ep, dst_ep;
        uint8_t len;
        uint8_t payload[PROV_PDU_MAX];
        uint16_t pdu_id;
        unsigned attempts; /* DATA_TX requests written */
        bool uncertain;    /* WAIT_IND without a confirm: it may or may not have been taken */
        usec_t queued_at;
        usec_t not_before; /* QUEUED */
        usec_t deadline;   /* WAIT_IND */
        char why[48];      /* reason of the last retry */
} Downlink;

typedef enum Op {
        OP_PROBE, /* CSAP read of cMeshAPIVersion: does the sink answer at this rate? */
        OP_SETUP, /* one of setup_steps[] */
        OP_STACK_START,
        OP_POLL,
        OP_DATA_TX,
} Op;

typedef enum Phase {
        PHASE_IDLE,
        PHASE_CONFIRM,    /* a request is written, its confirm is due */
        PHASE_INDICATION, /* poll cycle: an indication is due */
} Phase;

typedef struct SetupStep {
        uint8_t primitive; /* SINK_PRIM_CSAP_ATTR_READ or SINK_PRIM_MSAP_ATTR_READ */
        uint16_t attr;
        uint8_t size; /* expected value length */
} SetupStep;

/* What is read at link-up and after a reboot (ref-dualmcu.md §7.3). */
static const SetupStep setup_steps[] = {
        { SINK_PRIM_CSAP_ATTR_READ, SINK_CSAP_MESH_API_VERSION, 2 },
        { SINK_PRIM_CSAP_ATTR_READ, SINK_CSAP_NODE_ADDRESS, 4 },
        { SINK_PRIM_CSAP_ATTR_READ, SINK_CSAP_NETWORK_ADDRESS, 3 },
        { SINK_PRIM_CSAP_ATTR_READ, SINK_CSAP_NETWORK_CHANNEL, 1 },
        { SINK_PRIM_CSAP_ATTR_READ, SINK_CSAP_NODE_ROLE, 1 },
        { SINK_PRIM_CSAP_ATTR_READ, SINK_CSAP_MTU, 1 },
        { SINK_PRIM_CSAP_ATTR_READ, SINK_CSAP_FIRMWARE_MAJOR, 2 },
        { SINK_PRIM_CSAP_ATTR_READ, SINK_CSAP_FIRMWARE_MINOR, 2 },
        { SINK_PRIM_CSAP_ATTR_READ, SINK_CSAP_FIRMWARE_MAINTENANCE, 2 },
        { SINK_PRIM_CSAP_ATTR_READ, SINK_CSAP_FIRMWARE_DEVELOPMENT, 2 },
        { SINK_PRIM_MSAP_ATTR_READ, SINK_MSAP_AUTOSTART, 1 },
        { SINK_PRIM_MSAP_ATTR_READ, SINK_MSAP_STACK_STATUS, 1 },
};

struct SinkLink {
        sd_event *event;
        char *name;
        char *device;
        SinkLinkOptions o;
        SinkLinkCallbacks cb;
        void *userdata;

        SinkLinkState state;
        int fd;
        sd_event_source *io;
        sd_event_source *timer;
        sd_event_source *kick;
        SinkFrameDecoder dec;
        uint8_t out[OUT_MAX];
        size_t out_len;

        /* opening and bit rate */
        uint32_t baud;      /* the rate the port is set to */
        uint32_t good_baud; /* the last rate that answered */
        unsigned probe_index;
        unsigned probes_tried; /* rates that did not answer since the port was opened */
        usec_t reopen_delay;
        usec_t reopen_at;
        bool probed;
        bool probe_refused; /* a rate answered the probe with an error result since the port was opened */
        bool open_failure_logged;

        /* the exchange in progress */
        Phase phase;
        Op op;
        uint8_t next_frame_id;
        uint8_t req[SINK_FRAME_MAX]; /* raw request (header + payload), for re-sends */
        size_t req_len;
        unsigned attempts; /* times this request was written after a timeout */
        unsigned echoes;
        unsigned stale_run; /* mismatched frames while waiting for this confirm */
        usec_t deadline;
        Downlink *dl; /* OP_DATA_TX */
        unsigned poll_taken;
        unsigned silent; /* timeouts since the last frame with a good CRC */
        bool broken;     /* a broken frame cut the wait short: that was the answer */
        usec_t last_rx;  /* when the last byte came */
        usec_t poll_due;

        /* settings */
        bool setup_active;
        unsigned setup_step;
        bool start_tried;
        bool up_logged;

        /* the last indication dispatched: a re-sent one has the same frame id and bytes */
        bool last_ind_valid;
        uint8_t last_ind_primitive, last_ind_frame_id;
        uint8_t last_ind_len;
        uint8_t last_ind[SINK_FRAME_PAYLOAD_MAX];

        SinkLinkInfo info;

        Downlink *dls;
        size_t n_dls;
        uint64_t next_seq;
        uint16_t next_pdu_id;
        unsigned n_queued, n_in_flight;

        RateLimit bad_rl, warn_rl;
        SinkLinkStats stats;
};

static const char *const state_names[_SINK_LINK_STATE_MAX] = {
        [SINK_LINK_CLOSED] = "closed",
        [SINK_LINK_PROBING] = "probing",
        [SINK_LINK_UP] = "up",
        [SINK_LINK_DOWN] = "down",
};

const char *sink_link_state_to_string(SinkLinkState s) {
        return s >= 0 && s < _SINK_LINK_STATE_MAX ? state_names[s] : NULL;
}

char *sink_stack_status_format(uint8_t status, char *buf, size_t size) {
        static const struct {
                uint8_t bit;
                const char *what;
        } bits[] = {
                { SINK_STACK_NO_NETWORK_ADDRESS, "no network address" },
                { SINK_STACK_NO_NODE_ADDRESS, "no node address" },
                { SINK_STACK_NO_CHANNEL, "no channel" },
                { SINK_STACK_NO_ROLE, "no role" },
                { SINK_STACK_NO_APP_CONFIG, "no app config" },
                { SINK_STACK_ACCESS_DENIED, "access denied" },
        };
        size_t n;

        if (size == 0)
                return buf;
        n = (size_t)snprintf(buf, size, "%s", status == 0 ? "running" : "stopped");
        for (size_t i = 0; i < ELEMENTSOF(bits) && n < size; i++)
                if (status & bits[i].bit)
                        n += (size_t)snprintf(buf + n, size - n, ", %s", bits[i].what);
        return buf;
}

void sink_link_options_default(SinkLinkOptions *o) {
        *o = (SinkLinkOptions){
                .max_in_flight = 4,
                .request_timeout = 500 * USEC_PER_MSEC,
                .request_retries = 2,
                .poll_interval = 20 * USEC_PER_MSEC,
                .reopen_min = 100 * USEC_PER_MSEC,
                .reopen_max = 5 * USEC_PER_SEC,
                .tx_backoff_min = 50 * USEC_PER_MSEC,
                .tx_backoff_max = 2 * USEC_PER_SEC,
                .tx_attempts = 8,
                .tx_indication_timeout = 10 * USEC_PER_SEC,
                .tx_uncertain_timeout = 2 * USEC_PER_SEC,
                .downlink_max_age = 60 * USEC_PER_SEC,
                .frame_gap_timeout = 50 * USEC_PER_MSEC,
        };
}

/* ---- small helpers ---- */

static void link_kick(SinkLink *l) {
        if (l->kick)
                (void)sd_event_source_set_enabled(l->kick, SD_EVENT_ONESHOT);
}

static void link_set_state(SinkLink *l, SinkLinkState s) {
        if (l->state == s)
                return;
        l->state = s;
        l->info.state = s;
        if (l->cb.on_state_change)
                l->cb.on_state_change(l, s, l->userdata);
}

static void log_bad(SinkLink *l, int error, const char *what) {
        if (!ratelimit_below(&l->bad_rl, now(CLOCK_MONOTONIC)))
                return;
        log_warning_errno(error,
                          "Sink %s: %s (%" PRIu64 " bad frame(s), %" PRIu64 " undecodable, %" PRIu64
                          " stale so far; further messages rate-limited): %m",
                          l->name, what, l->stats.bad_frames, l->stats.undecodable, l->stats.stale);
}

static usec_t backoff(usec_t min, usec_t max, unsigned attempts) {
        usec_t d = MAX(min, (usec_t)1);
        for (unsigned i = 1; i < attempts && d < max; i++)
                d *= 2;
        return MIN(d, max);
}

static bool link_partial_frame(const SinkLink *l) {
        return l->dec.synced && !l->dec.discarding && (l->dec.len > 0 || l->dec.escape);
}

/* ---- downlinks ---- */

static void dl_set_state(SinkLink *l, Downlink *d, DownlinkState s) {
        if (d->state == DL_QUEUED)
                l->n_queued--;
        else if (d->state == DL_SENDING || d->state == DL_WAIT_IND)
                l->n_in_flight--;
        d->state = s;
        if (s == DL_QUEUED)
                l->n_queued++;
        else if (s == DL_SENDING || s == DL_WAIT_IND)
                l->n_in_flight++;
        l->info.queued = l->n_queued;
        l->info.in_flight = l->n_in_flight;
}

static void dl_finish(SinkLink *l, Downlink *d, int error, const char *detail) {
        uint64_t cookie = d->cookie;
        char why[64];

        snprintf(why, sizeof(why), "%s", strempty(detail));
        if (l->dl == d)
                l->dl = NULL;
        dl_set_state(l, d, DL_FREE);
        if (error < 0) {
                l->stats.failed++;
                if (ratelimit_below(&l->warn_rl, now(CLOCK_MONOTONIC)))
                        log_warning("Sink %s: giving up a downlink to %08" PRIx32
                                    " after %u attempt(s): %s.",
                                    l->name, d->destination, d->attempts, why);
        } else
                l->stats.delivered++;
        if (l->cb.on_send_result)
                l->cb.on_send_result(l, cookie, error, why, l->userdata);
}

/* Queues d again after a backoff, or gives up when its attempts or its time are used. */
static void dl_retry(SinkLink *l, Downlink *d, usec_t t, bool immediate, const char *why) {
        snprintf(d->why, sizeof(d->why), "%s", why);
        if (l->dl == d)
                l->dl = NULL;
        if (d->attempts >= l->o.tx_attempts) {
                dl_finish(l, d, -EIO, why);
                return;
        }
        if (usec_sub(t, d->queued_at) >= l->o.downlink_max_age) {
                dl_finish(l, d, -ETIMEDOUT, why);
                return;
        }
        l->stats.tx_retries++;
        d->uncertain = false;
        d->not_before =
                immediate ? t : usec_add(t, backoff(l->o.tx_backoff_min, l->o.tx_backoff_max, d->attempts));
        dl_set_state(l, d, DL_QUEUED);
}

static bool pdu_id_in_use(const SinkLink *l, uint16_t id) {
        for (size_t i = 0; i < l->n_dls; i++)
                if ((l->dls[i].state == DL_WAIT_IND || l->dls[i].state == DL_SENDING) &&
                    l->dls[i].pdu_id == id)
                        return true;
        return false;
}

static uint16_t pdu_id_next(SinkLink *l) {
        for (;;) {
                uint16_t id = l->next_pdu_id;
                l->next_pdu_id = id >= PDU_ID_MAX ? 0 : (uint16_t)(id + 1);
                if (!pdu_id_in_use(l, id))
                        return id;
        }
}

static Downlink *dl_find_pdu(SinkLink *l, uint16_t pdu_id) {
        for (size_t i = 0; i < l->n_dls; i++)
                if (l->dls[i].state == DL_WAIT_IND && l->dls[i].pdu_id == pdu_id)
                        return &l->dls[i];
        return NULL;
}

/* The oldest queued downlink whose backoff is over, and the earliest time one will be. */
static Downlink *dl_next_ready(SinkLink *l, usec_t t, usec_t *ret_next) {
        Downlink *best = NULL;
        usec_t next = USEC_INFINITY;

        for (size_t i = 0; i < l->n_dls; i++) {
                Downlink *d = &l->dls[i];
                if (d->state != DL_QUEUED)
                        continue;
                if (d->not_before > t) {
                        next = MIN(next, d->not_before);
                        continue;
                }
                if (!best || d->seq < best->seq)
                        best = d;
        }
        if (ret_next)
                *ret_next = best ? t : next;
        return best;
}

/* Everything that was sent and may have been lost with the sink's memory goes out again. */
static void dl_resend_in_flight(SinkLink *l, usec_t t, const char *why) {
        for (size_t i = 0; i < l->n_dls; i++)
                if (l->dls[i].state == DL_WAIT_IND)
                        dl_retry(l, &l->dls[i], t, true, why);
}

/* Deadlines of downlinks: TX indications that did not come, queued ones too old to be useful. */
static void dl_check_deadlines(SinkLink *l, usec_t t) {
        for (size_t i = 0; i < l->n_dls; i++) {
                Downlink *d = &l->dls[i];
                if (d->state == DL_WAIT_IND && t >= d->deadline)
                        dl_retry(l, d, t, true,
                                 d->uncertain ? "no confirm and no TX indication" : "no TX indication");
                else if (d->state == DL_QUEUED && usec_sub(t, d->queued_at) >= l->o.downlink_max_age)
                        dl_finish(l, d, -ETIMEDOUT,
                                  l->state == SINK_LINK_UP ? (d->why[0] ? d->why : "not sent in time")
                                                           : "sink link down");
        }
}

/* ---- writing ---- */

static void link_lost(SinkLink *l, int error, const char *why);

static void link_update_io_events(SinkLink *l) {
        if (l->io)
                (void)sd_event_source_set_io_events(l->io, EPOLLIN | (l->out_len > 0 ? EPOLLOUT : 0));
}

static int link_flush(SinkLink *l) {
        while (l->out_len > 0) {
                ssize_t k = write(l->fd, l->out, l->out_len);
                if (k < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                break;
                        return -errno;
                }
                memmove(l->out, l->out + k, l->out_len - (size_t)k);
                l->out_len -= (size_t)k;
                l->stats.bytes_tx += (uint64_t)k;
        }
        link_update_io_events(l);
        return 0;
}

static int link_write_raw(SinkLink *l, const uint8_t *raw, size_t len) {
        uint8_t wire[SINK_SLIP_WIRE_MAX(SINK_FRAME_MAX)];
        int n, r;

        n = sink_slip_encode(SINK_TO_DEVICE, raw, len, wire, sizeof(wire));
        if (n < 0)
                return n;
        if ((size_t)n > sizeof(l->out) - l->out_len)
                return -ENOBUFS; /* cannot happen with one exchange at a time */
        memcpy(l->out + l->out_len, wire, (size_t)n);
        l->out_len += (size_t)n;
        l->stats.frames_tx++;
        r = link_flush(l);
        if (r < 0) {
                l->stats.hangups++;
                link_lost(l, r, "write failed");
                return r;
        }
        return 0;
}

/* Waits request_timeout for the next frame of the exchange. */
static void link_wait(SinkLink *l, usec_t t) {
        l->deadline = usec_add(t, l->o.request_timeout);
        l->broken = false;
}

/* Starts a request exchange: a new frame id, written now, confirm due by request_timeout. */
static int link_request(SinkLink *l, Op op, SinkMsg *m, usec_t t) {
        int n;

        /* the device says nothing unasked: whatever half frame is pending now is line noise */
        if (link_partial_frame(l)) {
                sink_frame_decoder_reset(&l->dec);
                l->stats.noise++;
        }
        m->frame_id = l->next_frame_id++;
        n = sinkmsg_encode(m, l->req, sizeof(l->req));
        if (n < 0)
                return n;
        l->req_len = (size_t)n;
        l->op = op;
        l->phase = PHASE_CONFIRM;
        l->attempts = 1;
        l->echoes = 0;
        l->stale_run = 0;
        link_wait(l, t);
        l->stats.requests++;
        return link_write_raw(l, l->req, l->req_len);
}

/* Writes the current request again: same bytes after an echo, a new frame id after a timeout. */
static void link_resend(SinkLink *l, bool new_frame_id, usec_t t) {
        if (new_frame_id) {
                l->req[1] = l->next_frame_id++;
                l->attempts++;
        } else
                l->echoes++;
        l->stale_run = 0;
        link_wait(l, t);
        l->stats.requests++;
        l->stats.retries++;
        (void)link_write_raw(l, l->req, l->req_len);
}

static void link_respond(SinkLink *l, uint8_t primitive, uint8_t frame_id, bool next) {
        SinkMsg m = {
                .type = SINK_MSG_RESPONSE,
                .primitive = primitive | SINK_PRIM_REPLY_BIT,
                .frame_id = frame_id,
                .result = next ? SINK_RESPONSE_NEXT : SINK_RESPONSE_STOP,
        };
        uint8_t raw[16];
        int n;

        n = sinkmsg_encode(&m, raw, sizeof(raw));
        if (n < 0) {
                log_debug("Sink %s: cannot encode a response to %02x: %s", l->name, primitive, strerror(-n));
                return;
        }
        (void)link_write_raw(l, raw, (size_t)n);
}

/* ---- opening, closing ---- */

static void link_schedule_reopen(SinkLink *l, usec_t t) {
        l->reopen_at = usec_add(t, l->reopen_delay);
        l->reopen_delay = MIN(l->reopen_delay * 2, l->o.reopen_max);
}

static void link_close(SinkLink *l) {
        l->io = sd_event_source_disable_unref(l->io);
        l->fd = safe_close(l->fd);
        l->out_len = 0;
        l->phase = PHASE_IDLE;
        l->last_ind_valid = false;
        sink_frame_decoder_reset(&l->dec);
}

/* Ends the exchange in progress without an answer. A DATA_TX that was written may have been taken. */
static void link_abort_exchange(SinkLink *l, usec_t t) {
        if (l->phase == PHASE_CONFIRM && l->op == OP_DATA_TX && l->dl) {
                Downlink *d = l->dl;
                l->dl = NULL;
                d->uncertain = true;
                d->deadline = usec_add(t, MIN(l->o.tx_uncertain_timeout, l->o.tx_indication_timeout));
                dl_set_state(l, d, DL_WAIT_IND);
                l->stats.tx_uncertain++;
        }
        l->phase = PHASE_IDLE;
}

static void link_lost(SinkLink *l, int error, const char *why) {
        usec_t t = now(CLOCK_MONOTONIC);
        bool was_up = l->state == SINK_LINK_UP;

        if (l->fd < 0)
                return;
        link_abort_exchange(l, t);
        link_close(l);
        l->setup_active = false;
        if (was_up) {
                char f_sink[SINK_ID_MAX_LEN + 8];
                snprintf(f_sink, sizeof(f_sink), "SINK=%s", l->name);
                l->stats.link_downs++;
                log_struct_errno(LOG_WARNING, error, LOG_FIELDS("SINK_EVENT=down", f_sink),
                                 "Sink %s lost (%s), reopening: %m", l->name, why);
        } else
                log_debug_errno(error, "Sink %s: %s, reopening later: %m", l->name, why);
        link_set_state(l, SINK_LINK_DOWN);
        link_schedule_reopen(l, t);
        link_kick(l);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata);

static void link_open(SinkLink *l, usec_t t) {
        char dev[256];
        uint32_t baud;
        int fd, r;

        if (l->o.baud != 0)
                baud = l->o.baud;
        else {
                /* start with the rate that worked last time */
                l->probe_index = 0;
                for (size_t i = 0; i < ELEMENTSOF(probe_bauds); i++)
                        if (probe_bauds[i] == l->good_baud)
                                l->probe_index = (unsigned)i;
                baud = probe_bauds[l->probe_index];
        }

        fd = serial_open(l->device, baud);
        if (fd < 0) {
                l->stats.open_failures++;
                if (!l->open_failure_logged) {
                        log_warning_errno(fd, "Sink %s: cannot open '%s', will keep trying: %m", l->name,
                                          cescape_str(l->device, dev, sizeof(dev)));
                        l->open_failure_logged = true;
                } else
                        log_debug_errno(fd, "Sink %s: cannot open '%s': %m", l->name,
                                        cescape_str(l->device, dev, sizeof(dev)));
                link_set_state(l, SINK_LINK_DOWN);
                link_schedule_reopen(l, t);
                return;
        }
        r = sd_event_add_io(l->event, &l->io, fd, EPOLLIN, on_io, l);
        if (r < 0) {
                safe_close(fd);
                log_warning_errno(r, "Sink %s: cannot watch the port: %m", l->name);
                link_set_state(l, SINK_LINK_DOWN);
                link_schedule_reopen(l, t);
                return;
        }
        (void)sd_event_source_set_description(l->io, "sink-link");
        l->fd = fd;
        l->open_failure_logged = false;
        l->stats.opens++;
        l->baud = baud;
        l->info.baud = baud;
        l->probed = false;
        l->probe_refused = false;
        l->probes_tried = 0;
        l->silent = 0;
        l->out_len = 0;
        l->phase = PHASE_IDLE;
        l->last_ind_valid = false;
        sink_frame_decoder_reset(&l->dec);
        log_debug("Sink %s: opened '%s' at %" PRIu32 " bit/s.", l->name,
                  cescape_str(l->device, dev, sizeof(dev)), baud);
        link_set_state(l, SINK_LINK_PROBING);
}

/* The rate in use did not answer: the next one, or give up this round once every rate had its turn. */
static void link_probe_next(SinkLink *l) {
        int r;

        l->stats.probe_failures++;
        l->probes_tried++;
        if (l->o.baud != 0 || l->probes_tried >= ELEMENTSOF(probe_bauds)) {
                if (l->probe_refused)
                        link_lost(l, -EIO,
                                  l->o.baud != 0 ? "no successful attribute read at the configured bit rate"
                                                 : "no successful attribute read at any bit rate");
                else
                        link_lost(l, -ETIMEDOUT,
                                  l->o.baud != 0 ? "no answer at the configured bit rate"
                                                 : "no answer at any bit rate");
                return;
        }
        l->probe_index = (l->probe_index + 1) % (unsigned)ELEMENTSOF(probe_bauds);
        l->baud = probe_bauds[l->probe_index];
        l->info.baud = l->baud;
        r = serial_set_baud(l->fd, l->baud);
        if (r < 0) {
                link_lost(l, r, "cannot change the bit rate");
                return;
        }
        sink_frame_decoder_reset(&l->dec);
        l->phase = PHASE_IDLE; /* the next round sends a fresh probe */
        log_debug("Sink %s: no successful read at that bit rate, trying %" PRIu32 " bit/s.", l->name,
                  l->baud);
}

/* ---- settings ---- */

static void setup_begin(SinkLink *l) {
        l->setup_active = true;
        l->setup_step = 0;
        l->start_tried = false;
}

static void link_log_up(SinkLink *l, bool reread) {
        const SinkLinkInfo *i = &l->info;
        char f_sink[SINK_ID_MAX_LEN + 8], f_node[32], f_net[32], f_ch[24], f_role[24], f_stack[128];
        char f_fw[64], f_api[24], f_mtu[24], f_baud[32], stack[96];
        char node[16] = "unset", net[16] = "unset", ch[8] = "unset";

        sink_stack_status_format(i->stack_status, stack, sizeof(stack));
        if (i->has_node_address)
                snprintf(node, sizeof(node), "%" PRIu32, i->node_address);
        if (i->has_network_address)
                snprintf(net, sizeof(net), "0x%06" PRIx32, i->network_address);
        if (i->has_channel)
                snprintf(ch, sizeof(ch), "%u", i->channel);
        snprintf(f_sink, sizeof(f_sink), "SINK=%s", l->name);
        snprintf(f_node, sizeof(f_node), "NODE_ADDR=%s", node);
        snprintf(f_net, sizeof(f_net), "NETWORK_ADDR=%s", net);
        snprintf(f_ch, sizeof(f_ch), "CHANNEL=%s", ch);
        snprintf(f_role, sizeof(f_role), "ROLE=0x%02x", i->role);
        snprintf(f_stack, sizeof(f_stack), "STACK=%s", i->has_stack_status ? stack : "unknown");
        snprintf(f_fw, sizeof(f_fw), "FIRMWARE=%u.%u.%u.%u", i->firmware[0], i->firmware[1], i->firmware[2],
                 i->firmware[3]);
        snprintf(f_api, sizeof(f_api), "API_VERSION=%u", i->api_version);
        snprintf(f_mtu, sizeof(f_mtu), "MTU=%u", i->mtu);
        snprintf(f_baud, sizeof(f_baud), "BAUD=%" PRIu32, l->baud);
        log_struct(reread ? LOG_NOTICE : LOG_INFO,
                   LOG_FIELDS(reread ? "SINK_EVENT=settings" : "SINK_EVENT=up", f_sink, f_node, f_net, f_ch,
                              f_role, f_stack, f_fw, f_api, f_mtu, f_baud),
                   "Sink %s %s at %" PRIu32 " bit/s: node address %s, role 0x%02x, network %s, channel %s, "
                   "stack %s, MTU %u, firmware %u.%u.%u.%u, API version %u.",
                   l->name, reread ? "settings read again" : "up", l->baud, node, i->role, net, ch,
                   i->has_stack_status ? stack : "unknown", i->mtu, i->firmware[0], i->firmware[1],
                   i->firmware[2], i->firmware[3], i->api_version);
}

static void setup_finished(SinkLink *l, usec_t t) {
        l->setup_active = false;
        l->poll_due = t;
        if (l->state != SINK_LINK_UP) {
                l->stats.link_ups++;
                l->reopen_delay = l->o.reopen_min;
                link_log_up(l, false);
                link_set_state(l, SINK_LINK_UP);
        } else
                link_log_up(l, true);
}

/* Stores one value read during setup; a failed read leaves it unknown. */
static void setup_store(SinkLink *l, const SetupStep *st, const SinkAttrReadCnf *c) {
        SinkLinkInfo *i = &l->info;
        Cursor cur = CURSOR_INIT(c->value, c->value_len);
        uint32_t v32 = 0;
        uint16_t v16 = 0;
        uint8_t v8 = 0;
        bool ok = c->result == SINK_ATTR_OK && c->attr_id == st->attr && c->value_len == st->size;

        if (ok) {
                switch (st->size) {
                case 1:
                        ok = cursor_get_u8(&cur, &v8) >= 0;
                        break;
                case 2:
                        ok = cursor_get_le16(&cur, &v16) >= 0;
                        break;
                case 3:
                        ok = cursor_get_le16(&cur, &v16) >= 0 && cursor_get_u8(&cur, &v8) >= 0;
                        v32 = v16 | ((uint32_t)v8 << 16);
                        break;
                case 4:
                        ok = cursor_get_le32(&cur, &v32) >= 0;
                        break;
                default:
                        ok = false;
                }
        }

        if (st->primitive == SINK_PRIM_MSAP_ATTR_READ) {
                if (st->attr == SINK_MSAP_AUTOSTART)
                        i->autostart = ok && v8 == 1;
                else if (st->attr == SINK_MSAP_STACK_STATUS) {
                        i->has_stack_status = ok;
                        i->stack_status = ok ? v8 : 0;
                }
                return;
        }
        switch (st->attr) {
        case SINK_CSAP_MESH_API_VERSION:
                if (ok)
                        i->api_version = v16;
                break;
        case SINK_CSAP_NODE_ADDRESS:
                i->has_node_address = ok;
                i->node_address = ok ? v32 : 0;
                break;
        case SINK_CSAP_NETWORK_ADDRESS:
                i->has_network_address = ok;
                i->network_address = ok ? v32 : 0;
                break;
        case SINK_CSAP_NETWORK_CHANNEL:
                i->has_channel = ok;
                i->channel = ok ? v8 : 0;
                break;
        case SINK_CSAP_NODE_ROLE:
                i->has_role = ok;
                i->role = ok ? v8 : 0;
                break;
        case SINK_CSAP_MTU:
                /* a failed read keeps the usual 102 (ref-dualmcu.md §8.5) */
                i->mtu = ok && v8 > 0 ? v8 : SINK_MTU_DEFAULT;
                break;
        case SINK_CSAP_FIRMWARE_MAJOR:
        case SINK_CSAP_FIRMWARE_MINOR:
        case SINK_CSAP_FIRMWARE_MAINTENANCE:
        case SINK_CSAP_FIRMWARE_DEVELOPMENT:
                i->firmware[st->attr - SINK_CSAP_FIRMWARE_MAJOR] = ok ? v16 : 0;
                break;
        default:
                break;
        }
}

/* Next step of the settings read: an attribute, the stack start, or done. */
static void setup_next(SinkLink *l, usec_t t) {
        const uint8_t missing = SINK_STACK_NO_NETWORK_ADDRESS | SINK_STACK_NO_NODE_ADDRESS |
                                SINK_STACK_NO_CHANNEL | SINK_STACK_NO_ROLE | SINK_STACK_NO_APP_CONFIG |
                                SINK_STACK_ACCESS_DENIED;
        SinkLinkInfo *i = &l->info;

        if (l->setup_step < ELEMENTSOF(setup_steps)) {
                const SetupStep *st = &setup_steps[l->setup_step];
                SinkMsg m = { .type = st->primitive == SINK_PRIM_CSAP_ATTR_READ
                                              ? SINK_MSG_CSAP_ATTR_READ_REQ
                                              : SINK_MSG_MSAP_ATTR_READ_REQ,
                              .attr_id = st->attr };
                (void)link_request(l, OP_SETUP, &m, t);
                return;
        }
        if (i->has_stack_status && (i->stack_status & SINK_STACK_STOPPED)) {
                char s[96];
                if (l->o.start_stack && !l->start_tried && !(i->stack_status & missing)) {
                        /* keep the sink's own autostart setting: the start options store it */
                        SinkMsg m = { .type = SINK_MSG_STACK_START_REQ,
                                      .start_options = i->autostart ? 1 : 0 };
                        l->start_tried = true;
                        (void)link_request(l, OP_STACK_START, &m, t);
                        return;
                }
                log_warning("Sink %s: the stack is %s%s.", l->name,
                            sink_stack_status_format(i->stack_status, s, sizeof(s)),
                            l->o.start_stack ? "" : " (StartStack=no)");
        }
        setup_finished(l, t);
}

/* ---- confirms ---- */

static void on_data_tx_confirm(SinkLink *l, const SinkDataTxCnf *c, usec_t t) {
        Downlink *d = l->dl;
        char why[48];

        l->dl = NULL;
        if (!d)
                return;
        switch (c->result) {
        case SINK_TX_OK:
                d->uncertain = false;
                d->deadline = usec_add(t, l->o.tx_indication_timeout);
                dl_set_state(l, d, DL_WAIT_IND);
                return;
        case SINK_TX_OUT_OF_MEMORY:
                l->stats.out_of_memory++;
                dl_retry(l, d, t, false, "sink out of memory");
                return;
        case SINK_TX_STACK_STOPPED:
                l->stats.tx_errors++;
                dl_retry(l, d, t, false, "sink stack stopped");
                if (!l->setup_active) {
                        l->info.has_stack_status = true;
                        l->info.stack_status |= SINK_STACK_STOPPED;
                        if (l->o.start_stack)
                                setup_begin(l); /* read the settings again and start it */
                }
                return;
        case SINK_TX_INDICATION_FULL:
                l->stats.tx_errors++;
                dl_retry(l, d, t, false, "sink TX indication table full");
                return;
        case SINK_TX_PDU_ID_IN_USE:
                l->stats.tx_errors++;
                dl_retry(l, d, t, true, "PDU id in use");
                return;
        default:
                l->stats.tx_errors++;
                snprintf(why, sizeof(why), "sink refused it (DATA_TX result %u)", c->result);
                d->why[0] = '\0';
                dl_finish(l, d, -EIO, why);
                return;
        }
}

static void on_confirm(SinkLink *l, const SinkMsg *m, usec_t t) {
        Op op = l->op;

        l->phase = PHASE_IDLE;
        switch (op) {
        case OP_PROBE:
                /* only a successful read proves the link (ref-dualmcu.md §1): an error result at this rate
                 * proves nothing, so the next rate is tried, and after the last one the link is DOWN */
                if (m->attr_read_cnf.result != SINK_ATTR_OK ||
                    m->attr_read_cnf.attr_id != SINK_CSAP_MESH_API_VERSION ||
                    m->attr_read_cnf.value_len != 2) {
                        log_debug("Sink %s: reading the API version at %" PRIu32
                                  " bit/s failed (result %u).",
                                  l->name, l->baud, m->attr_read_cnf.result);
                        l->probe_refused = true;
                        link_probe_next(l);
                        break;
                }
                l->info.api_version = unaligned_read_le16(m->attr_read_cnf.value);
                l->probed = true;
                l->good_baud = l->baud;
                setup_begin(l);
                break;
        case OP_SETUP:
                setup_store(l, &setup_steps[l->setup_step], &m->attr_read_cnf);
                l->setup_step++;
                break;
        case OP_STACK_START:
                if (m->result == 0) {
                        l->stats.stack_starts++;
                        l->info.stack_status = 0;
                        log_info("Sink %s: stack started.", l->name);
                } else {
                        char s[96];
                        log_warning("Sink %s: the stack did not start: %s (result 0x%02x).", l->name,
                                    sink_stack_status_format(m->result, s, sizeof(s)), m->result);
                }
                setup_finished(l, t);
                break;
        case OP_POLL:
                if (m->result == SINK_POLL_PENDING) {
                        l->phase = PHASE_INDICATION;
                        l->poll_taken = 0;
                        link_wait(l, t);
                } else {
                        /* nothing queued and nothing awaiting a response: the next indication is a new one
                         */
                        l->last_ind_valid = false;
                        l->poll_due = usec_add(t, l->o.poll_interval);
                }
                break;
        case OP_DATA_TX:
                on_data_tx_confirm(l, &m->data_tx_cnf, t);
                break;
        }
}

/* ---- indications ---- */

static void on_stack_state(SinkLink *l, const SinkStackState *st, usec_t t) {
        char s[96], f_sink[SINK_ID_MAX_LEN + 8];

        snprintf(f_sink, sizeof(f_sink), "SINK=%s", l->name);
        l->stats.reboots++;
        l->info.has_stack_status = true;
        l->info.stack_status = st->stack_status;
        log_struct(LOG_NOTICE, LOG_FIELDS("SINK_EVENT=reboot", f_sink),
                   "Sink %s rebooted (stack %s); reading its settings again.", l->name,
                   sink_stack_status_format(st->stack_status, s, sizeof(s)));
        /* what it had queued is gone: send again what was waiting for its TX indication */
        dl_resend_in_flight(l, t, "sink rebooted");
        setup_begin(l);
}

static void on_data_tx_indication(SinkLink *l, const SinkDataTxInd *ind, usec_t t) {
        Downlink *d = dl_find_pdu(l, ind->pdu_id);

        if (!d) {
                l->stats.tx_unmatched++;
                log_debug("Sink %s: TX indication for PDU %u, which is not ours (any more).", l->name,
                          ind->pdu_id);
                return;
        }
        if (ind->result == 0) {
                dl_finish(l, d, 0, "sent");
                return;
        }
        l->stats.tx_discarded++;
        dl_retry(l, d, t, false, "discarded by the sink");
}

static void on_data_rx(SinkLink *l, const SinkDataRx *rx) {
        if (!provisioning_endpoints(rx->src_ep, rx->dst_ep)) {
                l->stats.ignored++;
                return;
        }
        l->stats.uplinks++;
        SinkLinkUplink up = {
                .network_address = l->info.network_address,
                .source_address = rx->src_addr,
                .destination_address = rx->dst_addr,
                .src_ep = rx->src_ep,
                .dst_ep = rx->dst_ep,
                .qos = sink_qos_hop_qos(rx->qos_hop),
                .hops = sink_qos_hop_hops(rx->qos_hop),
                .travel_time_ms =
                        (uint32_t)MIN(sink_travel_time_to_ms(rx->travel_time), (uint64_t)UINT32_MAX),
                .payload = rx->apdu,
                .payload_len = rx->apdu_len,
        };
        if (l->cb.on_uplink)
                l->cb.on_uplink(l, &up, l->userdata);
}

/* Whether f is the last indication again (same primitive, frame id and bytes): its response was lost, so the
 * device kept it and sent it again. The record lives until the port is reopened, a poll answers "nothing
 * pending" (the device holds no indication, so the next one is new), or a STACK_STATE comes: after a reboot
 * the device's frame ids start again at 0 and its first indication is a STACK_STATE (ref-dualmcu.md §7.2),
 * so a STACK_STATE is never taken for a duplicate. Acting on a re-sent one only reads the settings again;
 * taking a second reboot for a duplicate would miss it. */
static bool indication_seen(SinkLink *l, const SinkFrame *f) {
        /* byte 0 (more queued?) may differ between sends of the same indication */
        const uint8_t *body = f->payload_len > 0 ? f->payload + 1 : f->payload;
        size_t n = f->payload_len > 0 ? f->payload_len - 1 : 0;

        if (f->primitive == SINK_PRIM_STACK_STATE_IND) {
                l->last_ind_valid = false;
                return false;
        }
        if (l->last_ind_valid && l->last_ind_primitive == f->primitive &&
            l->last_ind_frame_id == f->frame_id && l->last_ind_len == n && memcmp(l->last_ind, body, n) == 0)
                return true;
        l->last_ind_valid = true;
        l->last_ind_primitive = f->primitive;
        l->last_ind_frame_id = f->frame_id;
        l->last_ind_len = (uint8_t)n;
        memcpy(l->last_ind, body, n);
        return false;
}

static void on_indication(SinkLink *l, const SinkFrame *f, usec_t t) {
        SinkMsg m;
        int r, status;
        bool next;

        l->stats.indications++;
        l->poll_taken++;
        r = sinkmsg_decode(SINK_TO_HOST, f, &m);
        status = r >= 0 ? sinkmsg_indication_status(&m) : (f->payload_len > 0 ? f->payload[0] : 0);
        next = status > 0 && l->poll_taken < SINK_POLL_BURST_MAX;

        /* answered first, whatever it is, so the device can let go of it; then dispatched */
        link_respond(l, f->primitive, f->frame_id, next);
        if (next)
                link_wait(l, t);
        else {
                l->phase = PHASE_IDLE;
                l->poll_due = status > 0 ? t : usec_add(t, l->o.poll_interval);
        }

        if (indication_seen(l, f)) {
                l->stats.duplicates++;
                log_debug("Sink %s: indication %02x #%u again (its response was lost), not dispatched.",
                          l->name, f->primitive, f->frame_id);
                return;
        }
        if (r < 0) {
                l->stats.undecodable++;
                log_bad(l, r, "answered an undecodable indication");
                return;
        }
        switch (m.type) {
        case SINK_MSG_DATA_RX_IND:
                on_data_rx(l, &m.data_rx);
                break;
        case SINK_MSG_DATA_TX_IND:
                on_data_tx_indication(l, &m.data_tx_ind, t);
                break;
        case SINK_MSG_STACK_STATE_IND:
                on_stack_state(l, &m.stack_state, t);
                break;
        default: /* app config, fragments, scans, ...: of no interest here */
                l->stats.ignored++;
                break;
        }
}

/* ---- frames ---- */

static void link_stale(SinkLink *l, const SinkFrame *f, usec_t t);

static void on_frame(SinkLink *l, const SinkFrame *f, usec_t t) {
        l->stats.frames_rx++;
        l->silent = 0; /* a good CRC is a sign of life, even when the frame is not the one we wait for */

        if (f->primitive & SINK_PRIM_REPLY_BIT) {
                SinkMsg m;
                int r;

                if (l->phase != PHASE_CONFIRM || f->primitive != (l->req[0] | SINK_PRIM_REPLY_BIT) ||
                    f->frame_id != l->req[1]) {
                        link_stale(l, f, t);
                        return;
                }
                r = sinkmsg_decode(SINK_TO_HOST, f, &m);
                if (r < 0 || (l->op == OP_DATA_TX && l->dl && m.data_tx_cnf.pdu_id != l->dl->pdu_id)) {
                        /* ours by id, but not a valid answer: wait on (a timeout re-sends what may be) */
                        l->stats.undecodable++;
                        log_bad(l, r < 0 ? r : -EBADMSG, "ignored a malformed confirm");
                        return;
                }
                on_confirm(l, &m, t);
                return;
        }

        if (l->phase == PHASE_CONFIRM && l->op == OP_POLL) {
                /* The poll's confirm was lost (cut to line noise), but the device only sends an indication
                 * right after one saying "pending": take it. Our response names its frame id, so the device
                 * lets go of exactly this one; if it is sent again, it is recognised as a duplicate. */
                l->phase = PHASE_INDICATION;
                l->poll_taken = 0;
        }
        if (l->phase != PHASE_INDICATION) {
                /* an indication nobody polled for: the device sends it again at the next poll */
                link_stale(l, f, t);
                return;
        }
        on_indication(l, f, t);
}

static void link_stale(SinkLink *l, const SinkFrame *f, usec_t t) {
        l->stats.stale++;
        log_debug("Sink %s: skipped frame %02x #%u (waiting for %02x #%u).", l->name, f->primitive,
                  f->frame_id, l->phase == PHASE_CONFIRM ? l->req[0] | SINK_PRIM_REPLY_BIT : 0,
                  l->phase == PHASE_CONFIRM ? l->req[1] : 0);
        if (l->phase == PHASE_CONFIRM && ++l->stale_run > SINK_STALE_FRAMES_MAX) {
                log_bad(l, -EPROTO, "too many frames that are not the awaited confirm");
                l->deadline = t; /* handled as a timeout now */
        }
}

static void on_echo(SinkLink *l, const SinkEcho *e, usec_t t) {
        l->stats.echoes++;
        if (l->phase == PHASE_INDICATION) {
                /* our response was corrupted: the device keeps the indication and sends it at the next poll
                 */
                l->phase = PHASE_IDLE;
                l->poll_due = t;
                return;
        }
        if (l->phase != PHASE_CONFIRM)
                return;
        /* A DATA_TX is re-sent only when the echo is about a frame of its length: a stale echo of an earlier
         * frame must not make us send it twice. */
        if (l->op == OP_DATA_TX && e->rxlen != l->req_len + SINK_FRAME_CRC_SIZE) {
                l->stats.stale++;
                return;
        }
        if (l->echoes >= SINK_ECHO_RESENDS_MAX) {
                log_bad(l, -EBADMSG, "the sink keeps rejecting a request as corrupted");
                l->deadline = t;
                return;
        }
        link_resend(l, false, t);
}

/* A frame arrived broken, or was cut short. If we are waiting for something, it was most likely that: the
 * device sends its answer at once and then nothing until spoken to, so waiting the whole timeout only loses
 * time. What else it sent with it comes within the frame gap, so wait that long before acting. */
static void link_frame_broken(SinkLink *l, usec_t t) {
        if (l->phase == PHASE_IDLE)
                return;
        l->broken = true;
        l->deadline = MIN(l->deadline, usec_add(t, l->o.frame_gap_timeout));
}

static void link_feed(SinkLink *l, const uint8_t *p, size_t n, usec_t t) {
        while (n > 0 && l->fd >= 0) {
                size_t runs = l->dec.n_noise, unsynced = l->dec.n_unsynced_bytes;
                SinkFrame f;
                SinkEcho e;
                int r = sink_frame_decoder_feed(&l->dec, &p, &n, &f, &e);

                l->stats.noise += l->dec.n_unsynced_bytes - unsynced;
                if (l->dec.n_noise != runs) {
                        /* a short run between two ENDs, before whatever this call returns: it may be what is
                         * left of a cut answer */
                        l->stats.noise += l->dec.n_noise - runs;
                        link_frame_broken(l, t);
                }
                if (r == SINK_FEED_MORE)
                        break;
                if (r == SINK_FEED_FRAME)
                        on_frame(l, &f, t);
                else if (r == SINK_FEED_ECHO)
                        on_echo(l, &e, t);
                else {
                        char what[64];
                        l->stats.bad_frames++;
                        snprintf(what, sizeof(what), "dropped a bad frame (%s)",
                                 sink_frame_error_to_string(l->dec.last_error) ?: "?");
                        log_bad(l, r, what);
                        link_frame_broken(l, t);
                }
        }
}

static void link_read(SinkLink *l, uint32_t revents, usec_t t) {
        uint8_t buf[READ_CHUNK];

        for (unsigned round = 0; round < READ_ROUNDS && l->fd >= 0; round++) {
                ssize_t k = read(l->fd, buf, sizeof(buf));
                if (k < 0 && (errno == EAGAIN || errno == EINTR))
                        break;
                if (k <= 0) {
                        l->stats.hangups++;
                        link_lost(l, k < 0 ? -errno : -ENODEV, "the device went away");
                        return;
                }
                l->stats.bytes_rx += (uint64_t)k;
                l->last_rx = t;
                link_feed(l, buf, (size_t)k, t);
                if ((size_t)k < sizeof(buf))
                        break;
        }
        if (l->fd >= 0 && (revents & (EPOLLHUP | EPOLLERR)) && !(revents & EPOLLIN)) {
                l->stats.hangups++;
                link_lost(l, -ENODEV, "the device hung up");
        }
}

/* ---- time ---- */

/* The awaited frame did not come: silence (a real timeout), or a broken frame (bad CRC, cut short) that must
 * have been it, after which the device says nothing more until spoken to. */
static void on_timeout(SinkLink *l, usec_t t) {
        bool idempotent = l->op != OP_DATA_TX, broken = l->broken;

        l->broken = false;
        if (!broken) {
                l->stats.timeouts++;
                l->silent++;
                /* The record of the last indication is kept: silence is also what follows a response that
                 * was lost on its way (older firmware has no error echo, ref-dualmcu.md §4.2.5), and then
                 * the next poll brings the same indication again. A reboot needs no reset here: the first
                 * indication after one is always a STACK_STATE, which resets the record itself. */
        }
        log_debug("Sink %s: %s waiting for %s %02x #%u (attempt %u, %u silent in a row).", l->name,
                  broken ? "broken frame" : "timeout",
                  l->phase == PHASE_INDICATION ? "an indication after" : "the confirm of", l->req[0],
                  l->req[1], l->attempts, l->silent);

        if (l->phase == PHASE_INDICATION) {
                /* no response went out: the device sends that indication again at the next poll */
                l->phase = PHASE_IDLE;
                l->poll_due = t;
                if (l->silent > l->o.request_retries)
                        link_lost(l, -ETIMEDOUT, "no indication after a poll");
                return;
        }

        if (l->op == OP_PROBE) {
                if (l->attempts <= l->o.request_retries)
                        link_resend(l, true, t);
                else
                        link_probe_next(l);
                return;
        }

        if (!idempotent) {
                /* it may have been taken: wait a while for its TX indication, then send it again */
                link_abort_exchange(l, t);
                if (l->silent > l->o.request_retries)
                        link_lost(l, -ETIMEDOUT, "requests keep timing out");
                return;
        }
        if (l->attempts <= l->o.request_retries && l->silent <= l->o.request_retries) {
                link_resend(l, true, t);
                return;
        }
        link_lost(l, -ETIMEDOUT, broken ? "answers keep arriving broken" : "requests keep timing out");
}

static void link_send_downlink(SinkLink *l, Downlink *d, usec_t t) {
        uint8_t mtu = l->info.mtu > 0 ? l->info.mtu : SINK_MTU_DEFAULT;
        int r;

        if (d->len > mtu) {
                dl_finish(l, d, -EMSGSIZE, "longer than the sink's MTU");
                return;
        }
        d->pdu_id = pdu_id_next(l);
        d->attempts++;
        dl_set_state(l, d, DL_SENDING);
        l->dl = d;
        l->stats.tx_requests++;

        SinkMsg m = {
                .type = SINK_MSG_DATA_TX_TT_REQ,
                .data_tx = {
                        .pdu_id = d->pdu_id,
                        .src_ep = d->src_ep,
                        .dst_addr = d->destination,
                        .dst_ep = d->dst_ep,
                        .qos = 1, /* high priority, as the reference server */
                        .tx_options = sink_tx_options_make(true, false, 0),
                        /* how long it already waited here */
                        .buffering_delay = sink_ms_to_travel_time(usec_sub(t, d->queued_at) / USEC_PER_MSEC),
                        .apdu = d->payload,
                        .apdu_len = d->len,
                },
        };
        r = link_request(l, OP_DATA_TX, &m, t);
        if (r < 0 && l->dl == d && d->state == DL_SENDING) /* not written at all */
                dl_finish(l, d, r, "cannot encode the request");
}

/* Starts the next exchange if the line is free. Returns when the next one may start (USEC_INFINITY: when
 * something happens). */
static usec_t link_start_next(SinkLink *l, usec_t t) {
        usec_t ready;
        Downlink *d;

        if (l->fd < 0 || l->phase != PHASE_IDLE)
                return USEC_INFINITY;

        if (!l->probed) {
                SinkMsg m = { .type = SINK_MSG_CSAP_ATTR_READ_REQ, .attr_id = SINK_CSAP_MESH_API_VERSION };
                (void)link_request(l, OP_PROBE, &m, t);
                return USEC_INFINITY;
        }
        if (l->setup_active) {
                setup_next(l, t);
                return l->phase == PHASE_IDLE ? t : USEC_INFINITY;
        }
        if (l->state != SINK_LINK_UP)
                return USEC_INFINITY;

        if (t >= l->poll_due) {
                SinkMsg m = { .type = SINK_MSG_POLL_REQ };
                l->stats.polls++;
                (void)link_request(l, OP_POLL, &m, t);
                return USEC_INFINITY;
        }
        if (l->n_in_flight < l->o.max_in_flight) {
                d = dl_next_ready(l, t, &ready);
                if (d) {
                        link_send_downlink(l, d, t);
                        return l->phase == PHASE_IDLE ? t : USEC_INFINITY;
                }
                return MIN(l->poll_due, ready);
        }
        return l->poll_due;
}

static void link_arm(SinkLink *l, usec_t when) {
        if (when == USEC_INFINITY) {
                (void)sd_event_source_set_enabled(l->timer, SD_EVENT_OFF);
                return;
        }
        (void)sd_event_source_set_time(l->timer, when);
        (void)sd_event_source_set_enabled(l->timer, SD_EVENT_ONESHOT);
}

static void link_process(SinkLink *l) {
        usec_t t = now(CLOCK_MONOTONIC), next = USEC_INFINITY;

        if ((l->state == SINK_LINK_DOWN) && l->fd < 0 && t >= l->reopen_at)
                link_open(l, t);

        /* a frame that stopped coming in the middle was cut short: its END will never come */
        if (l->phase != PHASE_IDLE && link_partial_frame(l) &&
            t >= usec_add(l->last_rx, l->o.frame_gap_timeout)) {
                sink_frame_decoder_reset(&l->dec);
                l->stats.bad_frames++;
                l->stats.truncated++;
                l->broken = true;
                l->deadline = t;
        }
        if (l->phase != PHASE_IDLE && t >= l->deadline)
                on_timeout(l, t);

        dl_check_deadlines(l, t);

        /* a few exchanges may end at once (a downlink refused before it is written): go on until one is
         * under way or nothing is due */
        for (unsigned i = 0;; i++) {
                usec_t n = link_start_next(l, t);
                if (n != t) {
                        next = n;
                        break;
                }
                if (i >= 8) {
                        link_kick(l); /* more to do: after whatever else is waiting on the loop */
                        break;
                }
        }

        if (l->phase != PHASE_IDLE) {
                next = MIN(next, l->deadline);
                if (link_partial_frame(l))
                        next = MIN(next, usec_add(l->last_rx, l->o.frame_gap_timeout));
        }
        if (l->state == SINK_LINK_DOWN && l->fd < 0)
                next = MIN(next, l->reopen_at);
        for (size_t i = 0; i < l->n_dls; i++) {
                const Downlink *d = &l->dls[i];
                if (d->state == DL_WAIT_IND)
                        next = MIN(next, d->deadline);
                else if (d->state == DL_QUEUED)
                        next = MIN(next, usec_add(d->queued_at, l->o.downlink_max_age));
        }
        link_arm(l, next);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        SinkLink *l = userdata;
        usec_t t = now(CLOCK_MONOTONIC);

        if (revents & EPOLLOUT) {
                int r = link_flush(l);
                if (r < 0) {
                        l->stats.hangups++;
                        link_lost(l, r, "write failed");
                }
        }
        if (l->fd >= 0 && (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                link_read(l, revents, t);
        link_process(l);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        link_process(userdata);
        return 0;
}

static int on_kick(sd_event_source *s, void *userdata) {
        link_process(userdata);
        return 0;
}

/* ---- public ---- */

int sink_link_new(sd_event *event, const SinkLinkOptions *o, const SinkLinkCallbacks *cb, void *userdata,
                  SinkLink **ret) {
        _cleanup_(sink_link_freep) SinkLink *l = NULL;
        int r;

        assert(event);
        assert(o);
        assert(ret);

        if (isempty(o->name) || isempty(o->device) || o->max_in_flight == 0 ||
            o->max_in_flight > SINK_IN_FLIGHT_MAX || o->request_timeout == 0 || o->tx_attempts == 0)
                return -EINVAL;

        l = new0(SinkLink, 1);
        if (!l)
                return -ENOMEM;
        l->fd = -EBADF;
        l->event = sd_event_ref(event);
        l->o = *o;
        if (cb)
                l->cb = *cb;
        l->userdata = userdata;
        l->name = strdup(o->name);
        l->device = strdup(o->device);
        if (!l->name || !l->device)
                return -ENOMEM;
        l->o.name = l->name;
        l->o.device = l->device;
        if (l->o.frame_gap_timeout == 0)
                l->o.frame_gap_timeout = 50 * USEC_PER_MSEC;
        l->o.reopen_min = MAX(o->reopen_min, USEC_PER_MSEC);
        l->o.reopen_max = MAX(o->reopen_max, l->o.reopen_min);
        l->reopen_delay = l->o.reopen_min;
        l->bad_rl = RATELIMIT_INIT(10 * USEC_PER_SEC, 5);
        l->warn_rl = RATELIMIT_INIT(10 * USEC_PER_SEC, 10);
        l->info.mtu = SINK_MTU_DEFAULT;
        sink_frame_decoder_init(&l->dec, SINK_FRAME_MAX);

        l->n_dls = (size_t)o->max_in_flight + SINK_TX_QUEUE_MAX;
        l->dls = new0(Downlink, l->n_dls);
        if (!l->dls)
                return -ENOMEM;

        r = sd_event_add_time(event, &l->timer, CLOCK_MONOTONIC, USEC_INFINITY, TIMER_ACCURACY, on_timer, l);
        if (r < 0)
                return r;
        (void)sd_event_source_set_enabled(l->timer, SD_EVENT_OFF);
        (void)sd_event_source_set_description(l->timer, "sink-link-timer");
        r = sd_event_add_defer(event, &l->kick, on_kick, l);
        if (r < 0)
                return r;
        (void)sd_event_source_set_enabled(l->kick, SD_EVENT_OFF);
        (void)sd_event_source_set_description(l->kick, "sink-link-kick");

        *ret = TAKE_PTR(l);
        return 0;
}

SinkLink *sink_link_free(SinkLink *l) {
        if (!l)
                return NULL;
        l->io = sd_event_source_disable_unref(l->io);
        l->timer = sd_event_source_disable_unref(l->timer);
        l->kick = sd_event_source_disable_unref(l->kick);
        safe_close(l->fd);
        free(l->dls);
        free(l->name);
        free(l->device);
        sd_event_unref(l->event);
        free(l);
        return NULL;
}

int sink_link_start(SinkLink *l) {
        assert(l);

        if (l->state != SINK_LINK_CLOSED)
                return -EALREADY;
        link_set_state(l, SINK_LINK_DOWN);
        l->reopen_at = 0;
        link_process(l);
        return 0;
}

int sink_link_send(SinkLink *l, uint32_t destination, uint8_t src_ep, uint8_t dst_ep, const uint8_t *payload,
                   size_t len, uint64_t cookie) {
        Downlink *d = NULL;

        assert(l);

        if (!payload || len == 0 || len > PROV_PDU_MAX) {
                l->stats.rejected++;
                return -EINVAL;
        }
        if (l->n_queued >= SINK_TX_QUEUE_MAX) {
                l->stats.rejected++;
                return -ENOBUFS;
        }
        for (size_t i = 0; i < l->n_dls && !d; i++)
                if (l->dls[i].state == DL_FREE)
                        d = &l->dls[i];
        if (!d) {
                l->stats.rejected++;
                return -ENOBUFS;
        }

        *d = (Downlink){
                .state = DL_FREE,
                .seq = l->next_seq++,
                .cookie = cookie,
                .destination = destination,
                .src_ep = src_ep,
                .dst_ep = dst_ep,
                .len = (uint8_t)len,
                .queued_at = now(CLOCK_MONOTONIC),
        };
        d->not_before = d->queued_at;
        memcpy(d->payload, payload, len);
        dl_set_state(l, d, DL_QUEUED);
        l->stats.sends++;
        link_kick(l);
        return 0;
}

const char *sink_link_name(const SinkLink *l) {
        return l->name;
}

SinkLinkState sink_link_state(const SinkLink *l) {
        return l->state;
}

void sink_link_get_info(const SinkLink *l, SinkLinkInfo *ret) {
        *ret = l->info;
        ret->state = l->state;
        ret->in_flight = l->n_in_flight;
        ret->queued = l->n_queued;
}

const SinkLinkStats *sink_link_get_stats(const SinkLink *l) {
        return &l->stats;
}
