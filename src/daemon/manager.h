/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The manager wires everything onto one sd-event loop: configuration, store, engine, the cloud bearer
 * (MQTT, Wirepas gateway API), the UART sinks and the management API. It turns what the bearers hear into
 * engine events and carries out the engine's actions. */

#include <systemd/sd-event.h>

#include "audit.h"
#include "conf.h"
#include "gwbearer.h"
#include "identity.h"
#include "mqtt.h"
#include "prov-engine.h"
#include "ratelimit.h"
#include "sinks.h"
#include "store.h"

typedef struct Manager Manager;
typedef struct Api Api; /* management API (api.c) */

/* Hooks for the bearers and the API that live in their own files (sinks.c, api.c). */
typedef struct ManagerCounters {
        uint64_t malformed;     /* uplinks the engine refused to parse */
        uint64_t send_rejected; /* downlinks a bearer refused outright */
        uint64_t records;
} ManagerCounters;

struct Manager {
        sd_event *event;
        char *config_path; /* NULL: default */
        Config *config;

        Store *store;
        uint8_t master_key[32];
        IdentitySource identity;
        ProvLookup lookup;
        ProvEngine *engine;
        ProvEngineConfig engine_config;
        sd_event_source *engine_timer;

        AuditQueue audit;
        sd_event_source *audit_flush;  /* defer: once per loop iteration while writes succeed */
        sd_event_source *audit_retry;  /* time: after a failed write, with backoff */
        usec_t audit_backoff;          /* 0: writing works; else the retry timer's current wait */
        uint64_t audit_dropped_before; /* audit.dropped when writing started to fail */
        sd_event_source *prune_timer;
        sd_event_source *status_timer;

        Mqtt *mqtt;
        GwBearer *gw;
        Sinks *sinks; /* gateway mode: the [Sink] links (sinks.c) */
        Api *api;     /* [Api] Enabled=yes: lives with the MQTT client (api.c) */

        /* downlink results that could not be fed to the engine while its actions were being executed
         * (a bearer refusing a downlink synchronously); fed in order right after (manager_engine_feed) */
        struct DeferredResult {
                uint64_t id;
                int error;
                char detail[64];
        } * deferred_results;
        size_t n_deferred_results, cap_deferred_results;
        bool in_engine;

        usec_t started; /* CLOCK_MONOTONIC */
        RateLimit nack_log_rl, warn_log_rl, malformed_log_rl;
        ManagerCounters counters;
};

int manager_new(const char *config_path, Config *config, Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* Runs until SIGTERM/SIGINT; returns the exit code. */
int manager_run(Manager *m);

/* For the bearers: hand an uplink to the engine, report a downlink's fate. */
void manager_uplink(Manager *m, const ProvUplink *up);
void manager_send_result(Manager *m, uint64_t downlink_id, int error, const char *detail);

/* One-line summary for STATUS= and logs. */
void manager_format_status(Manager *m, char *buf, size_t size);

/* ---- status snapshot (management API) ---- */

typedef struct ManagerSinkStatus {
        char name[SINK_ID_MAX_LEN + 1];
        char device[MGMT_STATUS_STRING_MAX + 1];
        bool online;
        char state[32];
} ManagerSinkStatus;

typedef struct ManagerStatus {
        usec_t uptime;
        char broker_host[MGMT_STATUS_STRING_MAX + 1]; /* "" without a broker */
        bool broker_connected;
        bool gateway_api;
        uint64_t gateways_online;
        size_t n_sinks;
        ManagerSinkStatus sinks[SINKS_MAX];
        ProvEngineStats engine;
        ManagerCounters counters;
} ManagerStatus;

/* What the bearers and the engine are doing now, for the API's status and stats answers. */
void manager_get_status(Manager *m, ManagerStatus *ret);
/* Writes the queued audit rows now (unless writes are failing and backing off), so that a read of the audit
 * log sees every decision whose live event was already published. */
void manager_audit_sync(Manager *m);
