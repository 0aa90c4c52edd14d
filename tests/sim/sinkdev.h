/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The device side of the dual-MCU API (ref-dualmcu.md §8): a sink that parses SLIP as the firmware does,
 * answers requests with confirms that echo the frame id, hands out queued indications only when polled,
 * handles responses (pop on matching id and primitive, prot_seq + 1, next one if asked), keeps realistic
 * state, and reboots on STACK_STOP (silence, queue lost, prot_seq 0, then a STACK_STATE indication).
 *
 * Pure state machine: bytes in, bytes out, time passed in, randomness from a seed. No file descriptors:
 * sinksim.c puts it on a pty. It never produces output except in answer to input (the optional SDK16 error
 * echo included). */

#include "macro.h"
#include "sinkmsg.h"
#include "time-util.h"

/* Fault injection; every rate is a probability in [0, 1]. */
typedef struct SinkDevFaults {
        double crc;      /* per frame sent: CRC corrupted */
        double garbage;  /* per frame sent: 1-8 random bytes written before it */
        double truncate; /* per frame sent: cut short (its trailing END never comes) */
        double stall;    /* per request: no answer to anything for stall_time */
        usec_t stall_time;
        uint64_t stall_at; /* also a stall at exactly this request (counted from 1; 0: none) */
        double reboot;     /* per request: unplanned reboot instead of an answer */
        double dup;        /* per response: lost before the device sees it, so it sends nothing more and the
                            * same indication comes again at the next poll */
        double oom;        /* per DATA_TX: a burst of oom_burst confirms with result 4 starts */
        unsigned oom_burst;
        double hangup; /* per request: sink_dev_take_hangup() reports it; the simulator closes the pty */
} SinkDevFaults;

typedef struct SinkDevConfig {
        bool has_node_address, has_network_address, has_channel;
        uint32_t node_address;
        uint32_t network_address;
        uint8_t channel;
        uint8_t role; /* 0x01 sink, 0x11 low-latency sink, ... (default 0x82 on a blank device) */
        bool running; /* stack running at power-up */
        bool autostart;
        uint16_t api_version; /* cMeshAPIVersion: 18 (SDK 1.5) or 19 (SDK16) */
        uint16_t firmware[4]; /* major, minor, maintenance, development */
        uint8_t mtu;
        uint8_t pdu_buffers;
        uint8_t channel_min, channel_max;
        usec_t reboot_time; /* silence after STACK_STOP or a reboot fault */
        size_t queue_max;   /* indications the device can hold */
        bool error_echo;    /* SDK16 mode: C0 e lo hi FF FF C0 on CRC / size errors */
        SinkDevFaults faults;
        uint64_t seed;
} SinkDevConfig;

/* A configured, running sink as a gateway would find it. */
void sink_dev_config_default(SinkDevConfig *c);

typedef struct SinkDevStats {
        uint64_t bytes_in, bytes_out;
        uint64_t requests, responses, polls, confirms;
        uint64_t indications_sent, indications_resent, indications_popped;
        uint64_t bad_frames; /* CRC, escape, length, size errors */
        uint64_t unanswered; /* unknown primitive or wrong size: no reply */
        uint64_t echoes;
        uint64_t dropped_while_off;     /* bytes received during a reboot */
        uint64_t dropped_while_stalled; /* frames received during a stall */
        uint64_t rx_queued, rx_dropped_full, rx_dropped_stopped;
        uint64_t data_tx, data_tx_ok, data_tx_failed;
        uint64_t reboots, stalls, hangups;
        uint64_t fault_crc, fault_garbage, fault_truncate, fault_dup, fault_oom;
        uint64_t output_overflow;
} SinkDevStats;

typedef struct SinkDev SinkDev;

/* Called for every DATA_TX accepted (result 0): the simulator delivers it to the mesh. */
typedef void (*SinkDevDownlinkFn)(SinkDev *d, usec_t now, const SinkDataTx *tx, void *userdata);

int sink_dev_new(const SinkDevConfig *cfg, usec_t now, SinkDev **ret);
SinkDev *sink_dev_free(SinkDev *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(SinkDev *, sink_dev_free);

void sink_dev_set_downlink(SinkDev *d, SinkDevDownlinkFn fn, void *userdata);

/* Called when an indication queued with a tag is popped by its matching response: the host got it intact
 * and answered it. One never popped (refused, lost in a reboot, still queued at the end) may or may not have
 * reached the host. */
typedef void (*SinkDevPoppedFn)(SinkDev *d, uint64_t tag, void *userdata);
void sink_dev_set_popped(SinkDev *d, SinkDevPoppedFn fn, void *userdata);

/* Bytes written by the host. Answers are appended to the output. */
void sink_dev_input(SinkDev *d, usec_t now, const uint8_t *buf, size_t len);
/* Lets time pass: ends a reboot (queues the STACK_STATE indication). */
void sink_dev_tick(SinkDev *d, usec_t now);
/* When sink_dev_tick() has something to do next, or USEC_INFINITY. */
usec_t sink_dev_deadline(const SinkDev *d);

/* Output waiting for the host, and how much of it was written. */
const uint8_t *sink_dev_output(const SinkDev *d, size_t *ret_len);
void sink_dev_output_consume(SinkDev *d, size_t n);
void sink_dev_output_clear(SinkDev *d);

/* A packet heard from the mesh, queued as a DATA_RX indication (status byte filled in when sent).
 * -ENETDOWN if the stack is not running (or the device is rebooting), -ENOBUFS if the queue is full. */
int sink_dev_queue_data_rx(SinkDev *d, usec_t now, uint32_t src_addr, uint8_t src_ep, uint8_t dst_ep,
                           uint8_t qos_hop, uint32_t travel_time, const uint8_t *apdu, size_t apdu_len);
/* The same with a non-zero tag reported to the popped callback. */
int sink_dev_queue_data_rx_tagged(SinkDev *d, usec_t now, uint32_t src_addr, uint8_t src_ep, uint8_t dst_ep,
                                  uint8_t qos_hop, uint32_t travel_time, const uint8_t *apdu,
                                  size_t apdu_len, uint64_t tag);
/* Test hook: any indication; payload[0] is the status byte, overwritten when sent. */
int sink_dev_queue_indication(SinkDev *d, uint8_t primitive, const uint8_t *payload, size_t len);
size_t sink_dev_queued(const SinkDev *d);

/* Power cycle now (planned or not). */
void sink_dev_reboot(SinkDev *d, usec_t now);
/* True once after a hang-up fault fired. */
bool sink_dev_take_hangup(SinkDev *d);

bool sink_dev_stack_running(const SinkDev *d);
bool sink_dev_is_off(const SinkDev *d, usec_t now);
uint8_t sink_dev_prot_seq(const SinkDev *d);
uint32_t sink_dev_node_address(const SinkDev *d);
uint32_t sink_dev_network_address(const SinkDev *d);
uint8_t sink_dev_channel(const SinkDev *d);
const SinkDevStats *sink_dev_stats(const SinkDev *d);
