/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The fleet-manager management API on the daemon's MQTT connection (proto/mgmt.proto, README "Management
 * API"). Topics under meshprov/v1/<InstanceId>/:
 *
 *   request/<op>        requests, decoded and validated by src/codec/mgmtapi.c before anything is touched
 *   response/<op>       the answer (QoS 1), with the request id echoed and, on failure, a code and a message
 *                       naming the field
 *   event/provisioning  one event per engine record (QoS 0, best effort: never blocks or fails provisioning;
 *                       the audit log is the durable record)
 *   status              retained (QoS 1): online with version, uptime, bearers and counters, refreshed on
 *                       every (re)connect and every StatusIntervalSec; offline at a clean stop, and as the
 * last will the broker publishes when the connection dies
 *
 * The API lives with the MQTT connection: the manager creates it before the client (for the will) when
 * [Api] Enabled=yes, and frees it with the client. Requests run synchronously on the event loop; a bulk put
 * applies its whole batch in one transaction. Bulk uploads may be staged in chunks (one batch at a time,
 * dropped after MGMT_STAGED_IDLE_SEC without a chunk). Keys are never logged, published or answered. */

#include "mgmtapi.h"
#include "prov-engine.h"

typedef struct Manager Manager;
typedef struct Api Api;

typedef struct ApiCounters {
        uint64_t requests; /* answered */
        uint64_t errors;   /* answered with an error */
        uint64_t dropped;  /* could not be answered */
        uint64_t events_published;
        uint64_t events_dropped;
} ApiCounters;

/* Reads [Api] from m->config; m->store, m->engine must exist. */
int api_new(Manager *m, Api **ret);
Api *api_free(Api *a);
DEFINE_TRIVIAL_CLEANUP_FUNC(Api *, api_free);

/* The last will for MqttOptions (retained, QoS 1): valid as long as the Api. */
void api_get_will(Api *a, const char **ret_topic, const void **ret_payload, size_t *ret_len);

/* From the manager's MQTT callbacks. api_on_message() returns true if the topic was the API's. */
void api_on_connect(Api *a);
bool api_on_message(Api *a, const char *topic, const uint8_t *payload, size_t len);
/* An engine record, stamped with the real-time clock: published as an event if enabled and connected. */
void api_on_record(Api *a, const ProvRecord *rec, usec_t realtime);
/* Before a clean disconnect: publishes the retained offline status. */
void api_stop(Api *a);

void api_get_counters(const Api *a, ApiCounters *ret);
