/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The cloud bearer: provisioning traffic of every Wirepas gateway on the broker, through the gateway API.
 *
 * In: gw-event/received_data/<gw>/<sink>/<net>/<ep>/<ep> for the provisioning endpoint pairs, decoded and
 * handed up as GwUplink. Exact duplicates (same gateway and event id, QoS 1 redelivery) are dropped here.
 * Out: gw-request/send_data/<gw>/<sink>, one request per attempt with a fresh random req_id; the matching
 * gw-response/send_data settles it: OK -> delivered; SINK_OUT_OF_MEMORY, SINK_TIMEOUT, INTERNAL_ERROR or no
 * answer within the send timeout -> retried with doubling backoff up to the retry limit; other errors ->
 * failed. The owner hears the final outcome once per send (on_send_result).
 * Also tracks which gateways are online from their retained status.
 * Malformed payloads and topics are counted and logged (rate-limited), never fatal. */

#include <systemd/sd-event.h>

#include "macro.h"
#include "mqtt.h"
#include "time-util.h"

typedef struct GwBearer GwBearer;

typedef struct GwUplink {
        const char *gw_id;
        const char *sink_id;
        uint32_t network_address;
        uint32_t source_address;
        uint8_t src_ep, dst_ep;
        uint32_t travel_time_ms;
        const uint8_t *payload;
        size_t payload_len;
} GwUplink;

typedef struct GwBearerCallbacks {
        void (*on_uplink)(GwBearer *b, const GwUplink *up, void *userdata);
        /* error 0: the gateway accepted it; <0: given up (detail names the last gateway error or
         * "no response"). */
        void (*on_send_result)(GwBearer *b, uint64_t cookie, int error, const char *detail, void *userdata);
} GwBearerCallbacks;

typedef struct GwBearerOptions {
        int qos;             /* MQTT QoS of requests (1 recommended) */
        usec_t send_timeout; /* wait for gw-response/send_data */
        unsigned send_retries;
        bool serve_24g; /* subscribe 246/255 */
        bool serve_5g;  /* subscribe 160/39 */
} GwBearerOptions;

typedef struct GwBearerStats {
        uint64_t uplinks;
        uint64_t malformed; /* undecodable payloads */
        uint64_t bad_topics;
        uint64_t duplicates; /* same gateway + event id */
        uint64_t sends;      /* downlinks handed to us */
        uint64_t attempts;   /* requests published */
        uint64_t delivered;
        uint64_t retries;
        uint64_t failed;
        uint64_t timeouts;
        uint64_t unknown_responses;
        uint64_t pending;         /* now */
        uint64_t gateways_online; /* now */
        uint64_t gateways_known;  /* now */
} GwBearerStats;

int gwbearer_new(sd_event *event, Mqtt *mqtt, const GwBearerOptions *options,
                 const GwBearerCallbacks *callbacks, void *userdata, GwBearer **ret);
GwBearer *gwbearer_free(GwBearer *b);
DEFINE_TRIVIAL_CLEANUP_FUNC(GwBearer *, gwbearer_free);
int gwbearer_reconfigure(GwBearer *b, const GwBearerOptions *options);

/* Called by the owner of the MQTT connection. */
void gwbearer_on_connect(GwBearer *b);
/* Returns true if the topic belongs to the gateway API (handled, even if malformed). */
bool gwbearer_on_message(GwBearer *b, const char *topic, const uint8_t *payload, size_t len);

/* Queues one downlink. -ENOBUFS when too many are pending, -EINVAL for bad ids or sizes. */
int gwbearer_send(GwBearer *b, const char *gw_id, const char *sink_id, uint32_t destination, uint8_t src_ep,
                  uint8_t dst_ep, const uint8_t *payload, size_t len, uint64_t cookie);

void gwbearer_get_stats(const GwBearer *b, GwBearerStats *ret);
