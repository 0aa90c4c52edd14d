/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* One Wirepas sink on a serial port, spoken to with the dual-MCU API (ref-dualmcu.md), entirely on the
 * caller's sd-event loop: no blocking reads, no threads.
 *
 * Lifecycle. sink_link_start() opens the port. Without a configured bit rate the link probes 125000, 115200
 * and 1000000 (the last rate that worked first) with a CSAP read of cMeshAPIVersion, which must succeed
 * (result 0: an error result does not prove the rate); the link is UP only once that read and the reads of
 * the sink's settings (node address, network address, channel, role, MTU,
 * firmware, API version, autostart, stack status) have succeeded. With StartStack= a stopped but configured
 * stack is started. A port that cannot be opened, a hang-up (the device disappears), or requests that keep
 * timing out (a stalled sink) take the link DOWN: the port is closed and reopened with capped doubling
 * backoff, indefinitely.
 *
 * Exchanges. One at a time, as the device expects: a request and its confirm (matched by primitive | 0x80
 * and the frame id from a host counter; anything else is skipped as stale), or a poll cycle (poll, then each
 * indication answered with its response, frame id echoed, before it is dispatched). Polling runs about every
 * poll_interval, at once again while indications are pending. Idempotent requests (polls, attribute reads)
 * are re-sent on timeout with a new frame id; an SDK16 CRC-error echo re-sends the same bytes, a DATA_TX
 * only if the echo's length says it was ours. A re-sent indication (same frame id and bytes, its response
 * lost) is answered again but dispatched once, also when the device went silent after the lost response and
 * the wait for it timed out. A STACK_STATE indication means the sink rebooted: its settings are read again
 * and what was waiting for a TX indication is sent again (a re-sent STACK_STATE cannot be told from a second
 * reboot, so it is acted on each time).
 *
 * Uplinks. DATA_RX on the provisioning endpoint pairs (246 -> 255, 160 -> 39) goes to on_uplink; other
 * indications are counted and answered only.
 *
 * Downlinks. sink_link_send() queues a DATA_TX_TT (TX indication requested, PDU id from a host counter).
 * At most max_in_flight are between their request and their TX indication; up to SINK_TX_QUEUE_MAX wait
 * behind them (then -ENOBUFS). A sink's out-of-memory, stack-stopped or indication-table-full confirm, a
 * discarded TX indication, a lost confirm or a missing TX indication is retried with doubling backoff; the
 * final outcome of every accepted downlink is reported to on_send_result exactly once, never from inside
 * sink_link_send(): 0 once the sink's TX indication says it was sent, or a negative errno with a reason.
 *
 * Bad input (CRC and framing errors, garbage, undecodable or unexpected frames) is counted and logged with
 * rate limiting; it never stops the link. Nothing here ever sees a key. */

#include <systemd/sd-event.h>

#include "meshprov-limits.h"
#include "macro.h"
#include "time-util.h"

typedef struct SinkLink SinkLink;

typedef enum SinkLinkState {
        SINK_LINK_CLOSED,  /* not started */
        SINK_LINK_PROBING, /* port open: finding the bit rate, reading the sink's settings */
        SINK_LINK_UP,      /* polling; uplinks and downlinks flow */
        SINK_LINK_DOWN,    /* port missing or link lost: reopening with backoff */
        _SINK_LINK_STATE_MAX,
        _SINK_LINK_STATE_INVALID = -EINVAL,
} SinkLinkState;

typedef struct SinkLinkOptions {
        const char *name;         /* copied; used in logs (SINK=) */
        const char *device;       /* copied; opened again on every reopen (a symlink may move) */
        uint32_t baud;            /* 0: probe 125000, 115200, 1000000 */
        bool start_stack;         /* start a stopped, configured stack at link-up */
        unsigned max_in_flight;   /* 1..SINK_IN_FLIGHT_MAX downlinks awaiting their TX indication */
        usec_t request_timeout;   /* per request or indication */
        unsigned request_retries; /* re-sends of an idempotent request after a timeout */
        usec_t poll_interval;
        usec_t reopen_min, reopen_max;         /* backoff between (re)open attempts */
        usec_t tx_backoff_min, tx_backoff_max; /* backoff before a downlink is tried again */
        unsigned tx_attempts;                  /* DATA_TX requests per downlink before it fails */
        usec_t tx_indication_timeout;          /* wait for the TX indication after a good confirm */
        usec_t tx_uncertain_timeout;           /* ... after a lost confirm, before sending it again */
        usec_t downlink_max_age;               /* a downlink not sent by then fails */
        usec_t frame_gap_timeout;              /* silence inside a frame, or after a broken one, that ends
                                                * the wait for it */
} SinkLinkOptions;

/* Defaults as the reference host: 500 ms timeouts, 2 retries, 20 ms polling; backoff 100 ms..5 s for
 * reopening, 50 ms..2 s for downlinks; 8 attempts, 10 s for a TX indication (2 s when the confirm was lost),
 * 60 s maximum age; 50 ms frame gap. */
void sink_link_options_default(SinkLinkOptions *o);

typedef struct SinkLinkUplink {
        uint32_t network_address; /* the sink's, as read at link-up */
        uint32_t source_address;
        uint32_t destination_address;
        uint8_t src_ep, dst_ep;
        uint8_t qos, hops;
        uint32_t travel_time_ms;
        const uint8_t *payload; /* borrowed for the duration of the call */
        size_t payload_len;
} SinkLinkUplink;

typedef struct SinkLinkCallbacks {
        void (*on_uplink)(SinkLink *l, const SinkLinkUplink *up, void *userdata);
        /* error 0: the sink reports it sent; < 0 given up, detail says why. Once per accepted downlink. */
        void (*on_send_result)(SinkLink *l, uint64_t cookie, int error, const char *detail, void *userdata);
        /* optional */
        void (*on_state_change)(SinkLink *l, SinkLinkState state, void *userdata);
} SinkLinkCallbacks;

typedef struct SinkLinkStats {
        uint64_t bytes_rx, bytes_tx;
        uint64_t frames_rx, frames_tx;
        uint64_t bad_frames;  /* CRC, escape, length byte or size errors, cut short */
        uint64_t truncated;   /* frames that stopped coming before their END */
        uint64_t noise;       /* short runs between ENDs and bytes before the first END */
        uint64_t undecodable; /* good CRC, but not a valid primitive of that size */
        uint64_t stale;       /* frames skipped while waiting for something else */
        uint64_t echoes;      /* SDK16 CRC-error echoes */
        uint64_t requests;    /* requests written, re-sends included */
        uint64_t retries;     /* re-sends after a timeout or an echo */
        uint64_t timeouts;    /* confirms or indications that did not come in time */
        uint64_t polls;
        uint64_t indications;   /* answered, duplicates included */
        uint64_t duplicates;    /* indications seen again with the same frame id and bytes */
        uint64_t uplinks;       /* DATA_RX on a provisioning endpoint pair, handed up */
        uint64_t ignored;       /* other DATA_RX and indications of no interest */
        uint64_t sends;         /* downlinks accepted by sink_link_send() */
        uint64_t rejected;      /* refused by sink_link_send(): queue full or bad size */
        uint64_t tx_requests;   /* DATA_TX_TT requests written */
        uint64_t delivered;     /* TX indication: sent */
        uint64_t failed;        /* given up */
        uint64_t tx_retries;    /* a downlink queued again */
        uint64_t out_of_memory; /* DATA_TX confirms with result 4 */
        uint64_t tx_errors;     /* other non-zero DATA_TX confirm results */
        uint64_t tx_discarded;  /* TX indications with result "discarded" */
        uint64_t tx_uncertain;  /* DATA_TX whose confirm never came */
        uint64_t tx_unmatched;  /* TX indications for no downlink of ours */
        uint64_t reboots;       /* STACK_STATE indications */
        uint64_t hangups;       /* the port went away (EOF, EIO, EPOLLHUP) */
        uint64_t opens, open_failures;
        uint64_t probe_failures; /* a bit rate that did not answer, or answered the probe with an error */
        uint64_t link_ups, link_downs;
        uint64_t stack_starts;
} SinkLinkStats;

typedef struct SinkLinkInfo {
        SinkLinkState state;
        uint32_t baud; /* current or last working rate; 0 unknown */
        bool has_node_address, has_network_address, has_channel, has_role, has_stack_status;
        uint32_t node_address;
        uint32_t network_address;
        uint8_t channel;
        uint8_t role;
        uint8_t stack_status; /* 0 running, else SINK_STACK_* bits */
        uint8_t mtu;
        uint16_t api_version;
        uint16_t firmware[4];
        bool autostart;
        unsigned in_flight; /* downlinks between request and TX indication */
        unsigned queued;    /* downlinks waiting (backoff included) */
} SinkLinkInfo;

int sink_link_new(sd_event *event, const SinkLinkOptions *options, const SinkLinkCallbacks *callbacks,
                  void *userdata, SinkLink **ret);
/* Closes the port. Downlinks still pending are dropped without a callback (the owner is going away). */
SinkLink *sink_link_free(SinkLink *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(SinkLink *, sink_link_free);

/* Opens the port now; if that fails the link is DOWN and retries by itself. Returns 0 either way, or
 * -ENOMEM / -EALREADY. */
int sink_link_start(SinkLink *l);

/* Queues one downlink (see above). -EINVAL for an empty or too long payload (> PROV_PDU_MAX), -ENOBUFS when
 * the queue is full. Never calls a callback itself. */
int sink_link_send(SinkLink *l, uint32_t destination, uint8_t src_ep, uint8_t dst_ep, const uint8_t *payload,
                   size_t len, uint64_t cookie);

const char *sink_link_name(const SinkLink *l);
SinkLinkState sink_link_state(const SinkLink *l);
void sink_link_get_info(const SinkLink *l, SinkLinkInfo *ret);
const SinkLinkStats *sink_link_get_stats(const SinkLink *l);

const char *sink_link_state_to_string(SinkLinkState s);
/* "running", "stopped", "stopped, no network address, no channel", ...; buf >= 96 */
char *sink_stack_status_format(uint8_t status, char *buf, size_t size);
