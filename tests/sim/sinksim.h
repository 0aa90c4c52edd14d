/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The sink simulator: a SinkDev on a pty (optionally behind a stable symlink), a population of emulated
 * joining nodes heard through proxies, fault injection including "UART unplugged and replugged", and the
 * reports (readable summary, JSON summary, wm-provisioning v1 whitelist YAML for `meshprovctl import`).
 *
 * Everything random derives from the seed: the same seed gives the same nodes, keys, IVs and faults (the
 * timing of a real daemon still varies). Single-threaded; sink_sim_run() is a poll() loop, and
 * sink_sim_process() is one step of it for tests that drive time themselves. */

#include <stdio.h>

#include "meshprov-limits.h"
#include "nodes.h"
#include "sinkdev.h"

typedef struct SinkSimNetwork {
        char name[NAME_MAX_LEN + 1];
        uint32_t address;
        uint8_t channel;
        uint8_t enc_key[PROV_KEY_SIZE];
        uint8_t auth_key[PROV_KEY_SIZE];
        bool allow_unsecured; /* whether the daemon's network is expected to accept method 0 */
} SinkSimNetwork;

typedef struct SinkSimConfig {
        const char *link_path; /* symlink kept pointing at the current pty slave; NULL: none */
        unsigned n_nodes;
        unsigned mix[_SIM_NODE_KIND_MAX]; /* relative weights; exact counts by largest remainder */
        uint64_t seed;
        usec_t node_timeout; /* first wait after START (the node doubles it on each retry) */
        unsigned retries;    /* node nb_retry */
        usec_t ramp;         /* node starts spread evenly over this */
        bool start_at_once;  /* start nodes at once instead of at the first poll */
        unsigned n_proxies;  /* 0: one proxy per node */
        bool five_g;         /* 5G Mesh endpoints (160/39 up, 160/40 down) and 135-byte buffers */
        usec_t linger;       /* after the last outcome, keep serving until the queue drains, at most */
        usec_t replug_time;  /* after a hang-up fault; USEC_INFINITY: stay unplugged */
        uint32_t baud;       /* answer only when the slave's configured speed is this; 0: any */
        bool node_ids;       /* give every whitelisted node a node_id in the YAML */
        uint32_t node_id_base;
        SinkDevConfig dev;
        SinkSimNetwork net;
} SinkSimConfig;

void sink_sim_config_default(SinkSimConfig *c);

/* Parses "whitelisted=80,unknown=10,..." into weights (kinds not named get 0). */
int sink_sim_parse_mix(const char *s, unsigned mix[static _SIM_NODE_KIND_MAX]);
/* Parses "crc=0.01,garbage=0.01,truncate=0.01,stall=0.001,stall-at=150,stall-time=2s,reboot=0.001,dup=0.01,
 * oom=0.01,oom-burst=5,hangup=0.001,replug=1s|never,echo" into the fault settings. */
int sink_sim_parse_faults(const char *s, SinkSimConfig *c);

typedef struct SinkSimStats {
        uint64_t uplinks_sent, uplinks_lost; /* node packets handed to / refused by the sink */
        uint64_t downlinks,
                downlinks_unrouted;   /* DATA_TX on the provisioning endpoints; to no known proxy */
        uint64_t downlink_deliveries; /* packets handed to nodes */
        uint64_t hangups, replugs;
        uint64_t baud_dropped; /* bytes ignored because the configured speed was wrong */
        uint64_t write_errors;
} SinkSimStats;

typedef struct SinkSim SinkSim;

int sink_sim_new(const SinkSimConfig *cfg, usec_t now, SinkSim **ret);
SinkSim *sink_sim_free(SinkSim *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(SinkSim *, sink_sim_free);

/* Opens the pty (raw; the simulator keeps an fd of the slave) and points the symlink at it. */
int sink_sim_open_pty(SinkSim *s);
const char *sink_sim_pty_path(const SinkSim *s);
/* The master fd to poll, or -EBADF while unplugged. */
int sink_sim_fd(const SinkSim *s);
bool sink_sim_want_write(const SinkSim *s);

/* "UART unplugged": closes the pty and removes the symlink now; a new pty appears after replug_time. */
void sink_sim_unplug(SinkSim *s, usec_t now);
bool sink_sim_unplugged(const SinkSim *s);

/* Does everything due at `now`: reads the pty, runs the device and the nodes, writes answers, handles
 * hang-up and replug. */
int sink_sim_process(SinkSim *s, usec_t now);
/* The next time sink_sim_process() has timed work to do. */
usec_t sink_sim_next_wakeup(const SinkSim *s);
/* Every node has an outcome and the linger period is over (or the queue drained). */
bool sink_sim_finished(const SinkSim *s, usec_t now);

/* Runs until finished, `duration` passed (USEC_INFINITY: no limit), or signal_fd (a signalfd, or -1) reports
 * a signal other than SIGUSR1 (which unplugs the UART, see sink_sim_unplug()). Returns 0, 1 if stopped by
 * duration or signal, or a negative errno. */
int sink_sim_run(SinkSim *s, usec_t duration, int signal_fd);

size_t sink_sim_n_nodes(const SinkSim *s);
const SimNode *sink_sim_node(const SinkSim *s, size_t i);
SinkDev *sink_sim_dev(SinkSim *s);
const SinkSimStats *sink_sim_stats(const SinkSim *s);

/* What the whitelist makes of a node of this kind: the outcome and, when nacked, the reason. */
SimNodeOutcome sim_node_expected_outcome(SimNodeKind kind, bool allow_unsecured, int *ret_nack_reason);

void sink_sim_print_summary(const SinkSim *s, FILE *f);
int sink_sim_write_summary_json(const SinkSim *s, FILE *f);
int sink_sim_write_whitelist_yaml(const SinkSim *s, FILE *f);
