/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "fileio.h"
#include "gwapi.h"
#include "event-util.h"
#include "gwbearer.h"
#include "meshprov-limits.h"
#include "log.h"
#include "ratelimit.h"
#include "string-util.h"

#define NONE              UINT32_MAX
#define DEDUP_RING        512u
#define GATEWAYS_MAX      4096u
#define RETRY_BACKOFF_MIN (500 * USEC_PER_MSEC)
#define RETRY_BACKOFF_MAX (8 * USEC_PER_SEC)

typedef enum PendingState {
        PENDING_FREE,
        PENDING_WAIT_RESPONSE,
        PENDING_WAIT_RETRY,
} PendingState;

typedef struct Pending {
        PendingState state;
        uint64_t req_id;
        uint64_t cookie;
        uint32_t hash_next;
        unsigned attempts;
        char gw_id[GW_ID_MAX_LEN + 1];
        char sink_id[SINK_ID_MAX_LEN + 1];
        uint32_t destination;
        uint8_t src_ep, dst_ep;
        uint8_t payload[PROV_PDU_MAX];
        size_t payload_len;
        char last_error[48];
        sd_event_source *timer;
        GwBearer *bearer;
} Pending;

typedef struct Gateway {
        uint64_t hash;
        char id[GW_ID_MAX_LEN + 1];
        bool online;
} Gateway;

struct GwBearer {
        sd_event *event;
        Mqtt *mqtt;
        GwBearerOptions options;
        GwBearerCallbacks cb;
        void *userdata;

        Pending *pending;
        uint32_t *buckets;
        uint32_t bucket_mask;
        uint32_t free_head;
        uint32_t n_pending;

        struct {
                uint64_t gw_hash;
                uint64_t event_id;
        } seen[DEDUP_RING];
        unsigned seen_next;

        Gateway *gateways;
        size_t n_gateways;
        uint8_t hash_key[16];

        RateLimit malformed_rl;
        GwBearerStats stats;
};

/* ---- pending requests ---- */

static uint32_t bucket_of(const GwBearer *b, uint64_t req_id) {
        return (uint32_t)(req_id ^ (req_id >> 32)) & b->bucket_mask;
}

static void pending_unhash(GwBearer *b, Pending *p) {
        uint32_t i = (uint32_t)(p - b->pending);
        for (uint32_t *x = &b->buckets[bucket_of(b, p->req_id)]; *x != NONE; x = &b->pending[*x].hash_next)
                if (*x == i) {
                        *x = p->hash_next;
                        return;
                }
}

static void pending_hash(GwBearer *b, Pending *p) {
        uint32_t i = (uint32_t)(p - b->pending);
        uint32_t k = bucket_of(b, p->req_id);
        p->hash_next = b->buckets[k];
        b->buckets[k] = i;
}

static void pending_release(GwBearer *b, Pending *p) {
        if (p->state == PENDING_FREE)
                return;
        if (p->state == PENDING_WAIT_RESPONSE)
                pending_unhash(b, p);
        p->timer = sd_event_source_disable_unref(p->timer);
        p->state = PENDING_FREE;
        p->hash_next = b->free_head;
        b->free_head = (uint32_t)(p - b->pending);
        b->n_pending--;
}

static Pending *pending_find(GwBearer *b, uint64_t req_id) {
        for (uint32_t i = b->buckets[bucket_of(b, req_id)]; i != NONE; i = b->pending[i].hash_next)
                if (b->pending[i].req_id == req_id && b->pending[i].state == PENDING_WAIT_RESPONSE)
                        return &b->pending[i];
        return NULL;
}

static void pending_finish(GwBearer *b, Pending *p, int error, const char *detail) {
        uint64_t cookie = p->cookie;
        char d[64];

        snprintf(d, sizeof(d), "%s", strempty(detail));
        if (error < 0)
                b->stats.failed++;
        else
                b->stats.delivered++;
        pending_release(b, p);
        if (b->cb.on_send_result)
                b->cb.on_send_result(b, cookie, error, d, b->userdata);
}

static int pending_on_timer(sd_event_source *s, uint64_t usec, void *userdata);

static int pending_arm(Pending *p, usec_t delay) {
        GwBearer *b = p->bearer;
        int r;

        if (p->timer)
                return event_source_rearm(p->timer, delay);
        r = sd_event_add_time_relative(b->event, &p->timer, CLOCK_MONOTONIC, delay, 10 * USEC_PER_MSEC,
                                       pending_on_timer, p);
        if (r >= 0)
                (void)sd_event_source_set_description(p->timer, "gwapi-send");
        return r;
}

static usec_t retry_backoff(unsigned attempts) {
        usec_t d = RETRY_BACKOFF_MIN;
        for (unsigned i = 1; i < attempts && d < RETRY_BACKOFF_MAX; i++)
                d *= 2;
        return MIN(d, RETRY_BACKOFF_MAX);
}

/* Schedules another attempt, or gives up when the attempts are used. */
static void pending_retry_later(GwBearer *b, Pending *p, const char *why) {
        snprintf(p->last_error, sizeof(p->last_error), "%s", why);
        if (p->attempts > b->options.send_retries) {
                pending_finish(b, p, -EIO, why);
                return;
        }
        if (p->state == PENDING_WAIT_RESPONSE)
                pending_unhash(b, p);
        p->state = PENDING_WAIT_RETRY;
        b->stats.retries++;
        if (pending_arm(p, retry_backoff(p->attempts)) < 0)
                pending_finish(b, p, -ENOMEM, why);
}

static void pending_publish(GwBearer *b, Pending *p) {
        char topic[GWAPI_TOPIC_BUFFER_SIZE];
        uint8_t buf[512];
        GwapiSendData s = {
                .has_time_ms_epoch = true,
                .time_ms_epoch = now(CLOCK_REALTIME) / USEC_PER_MSEC,
                .destination_address = p->destination,
                .source_endpoint = p->src_ep,
                .destination_endpoint = p->dst_ep,
                .qos = 1, /* mesh priority high, as the reference server */
                .payload_len = p->payload_len,
        };
        int r, n;

        /* A fresh request id per attempt: at least 48 random bits, so several backends can share a gateway.
         */
        if (random_bytes(&s.req_id, sizeof(s.req_id)) < 0 || s.req_id == 0)
                s.req_id = (uint64_t)now(CLOCK_MONOTONIC) * 2654435761u;
        memcpy(s.payload, p->payload, p->payload_len);
        p->attempts++;
        b->stats.attempts++;

        n = gwapi_send_data_encode(&s, buf, sizeof(buf));
        r = n < 0 ? n : gwapi_topic_send_data_request(p->gw_id, p->sink_id, topic, sizeof(topic));
        if (r < 0) {
                pending_finish(b, p, r, "cannot encode request");
                return;
        }
        r = mqtt_publish(b->mqtt, topic, buf, (size_t)n, b->options.qos, false, NULL);
        if (r < 0) {
                /* not connected: try again after the backoff (the broker may be back by then) */
                pending_retry_later(b, p, r == -ENOTCONN ? "broker not connected" : "publish failed");
                return;
        }
        p->req_id = s.req_id;
        p->state = PENDING_WAIT_RESPONSE;
        pending_hash(b, p);
        if (pending_arm(p, b->options.send_timeout) < 0)
                pending_finish(b, p, -ENOMEM, "cannot arm timer");
}

static int pending_on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Pending *p = userdata;
        GwBearer *b = p->bearer;

        switch (p->state) {
        case PENDING_WAIT_RESPONSE:
                b->stats.timeouts++;
                pending_retry_later(b, p, "no response");
                break;
        case PENDING_WAIT_RETRY:
                pending_publish(b, p);
                break;
        case PENDING_FREE:
                break;
        }
        return 0;
}

int gwbearer_send(GwBearer *b, const char *gw_id, const char *sink_id, uint32_t destination, uint8_t src_ep,
                  uint8_t dst_ep, const uint8_t *payload, size_t len, uint64_t cookie) {
        if (!gw_id || !sink_id || strlen(gw_id) > GW_ID_MAX_LEN || strlen(sink_id) > SINK_ID_MAX_LEN ||
            len == 0 || len > PROV_PDU_MAX)
                return -EINVAL;
        if (b->free_head == NONE)
                return -ENOBUFS;

        Pending *p = &b->pending[b->free_head];
        b->free_head = p->hash_next;
        b->n_pending++;
        b->stats.sends++;

        *p = (Pending){
                .cookie = cookie,
                .destination = destination,
                .src_ep = src_ep,
                .dst_ep = dst_ep,
                .payload_len = len,
                .bearer = b,
                .hash_next = NONE,
        };
        snprintf(p->gw_id, sizeof(p->gw_id), "%s", gw_id);
        snprintf(p->sink_id, sizeof(p->sink_id), "%s", sink_id);
        memcpy(p->payload, payload, len);
        p->state = PENDING_WAIT_RETRY; /* until published */
        pending_publish(b, p);
        return 0;
}

/* ---- incoming ---- */

static uint64_t gw_hash(const GwBearer *b, const char *gw_id) {
        uint64_t h = 1469598103934665603ULL;
        for (const char *c = gw_id; *c; c++)
                h = (h ^ (uint8_t)*c) * 1099511628211ULL;
        return h;
}

static bool seen_before(GwBearer *b, const char *gw_id, uint64_t event_id) {
        uint64_t h = gw_hash(b, gw_id);
        for (unsigned i = 0; i < DEDUP_RING; i++)
                if (b->seen[i].event_id == event_id && b->seen[i].gw_hash == h)
                        return true;
        b->seen[b->seen_next].gw_hash = h;
        b->seen[b->seen_next].event_id = event_id;
        b->seen_next = (b->seen_next + 1) % DEDUP_RING;
        return false;
}

static void log_malformed(GwBearer *b, const char *what, const char *topic, int error) {
        char t[96];
        if (!ratelimit_below(&b->malformed_rl, now(CLOCK_MONOTONIC)))
                return;
        log_warning_errno(error,
                          "Ignoring malformed %s on '%s' (%" PRIu64 " malformed so far, further "
                          "messages rate-limited): %m",
                          what, cescape_str(topic, t, sizeof(t)), b->stats.malformed + b->stats.bad_topics);
}

static void handle_received(GwBearer *b, const GwapiTopic *t, const char *topic, const uint8_t *payload,
                            size_t len) {
        GwapiReceived rx;
        int r;

        r = gwapi_received_data_decode(payload, len, &rx);
        if (r < 0) {
                b->stats.malformed++;
                log_malformed(b, "received_data", topic, r);
                return;
        }
        /* The topic names the gateway (it is what the broker's ACL checks); the header's copy is not used.
         */
        if (!rx.has_payload || rx.payload_len > PROV_PDU_MAX || t->network_address > 0xFFFFFF) {
                b->stats.malformed++;
                log_malformed(b, "provisioning packet", topic, -EBADMSG);
                return;
        }
        if (seen_before(b, t->gw_id, rx.event_id)) {
                b->stats.duplicates++;
                return;
        }
        b->stats.uplinks++;

        GwUplink up = {
                .gw_id = t->gw_id,
                .sink_id = t->sink_id,
                .network_address = (uint32_t)t->network_address,
                .source_address = rx.source_address,
                .src_ep = t->src_ep,
                .dst_ep = t->dst_ep,
                .travel_time_ms = rx.travel_time_ms,
                .payload = rx.payload,
                .payload_len = rx.payload_len,
        };
        if (b->cb.on_uplink)
                b->cb.on_uplink(b, &up, b->userdata);
}

static void handle_response(GwBearer *b, const char *topic, const uint8_t *payload, size_t len) {
        GwapiSendDataResponse resp;
        int r;

        r = gwapi_send_data_response_decode(payload, len, &resp);
        if (r < 0) {
                b->stats.malformed++;
                log_malformed(b, "send_data response", topic, r);
                return;
        }
        Pending *p = pending_find(b, resp.req_id);
        if (!p) {
                b->stats.unknown_responses++; /* another backend's request, or one we gave up on */
                return;
        }
        if (resp.result == GWAPI_ERROR_OK) {
                pending_finish(b, p, 0, "OK");
                return;
        }
        const char *name = gwapi_error_to_string(resp.result) ?: "unknown error";
        if (gwapi_error_retryable(resp.result))
                pending_retry_later(b, p, name);
        else
                pending_finish(b, p, -EIO, name);
}

static Gateway *gateway_get(GwBearer *b, const char *gw_id, bool create) {
        uint64_t h = gw_hash(b, gw_id);
        for (size_t i = 0; i < b->n_gateways; i++)
                if (b->gateways[i].hash == h && streq(b->gateways[i].id, gw_id))
                        return &b->gateways[i];
        if (!create || b->n_gateways >= GATEWAYS_MAX)
                return NULL;
        Gateway *g = &b->gateways[b->n_gateways++];
        *g = (Gateway){ .hash = h };
        snprintf(g->id, sizeof(g->id), "%s", gw_id);
        return g;
}

static void handle_status(GwBearer *b, const GwapiTopic *t, const uint8_t *payload, size_t len) {
        GwapiStatus *st;

        if (len == 0) { /* retained status cleared: the gateway is gone */
                Gateway *g = gateway_get(b, t->gw_id, false);
                if (g) {
                        *g = b->gateways[--b->n_gateways];
                }
                return;
        }
        st = new0(GwapiStatus, 1);
        if (!st)
                return;
        if (gwapi_status_decode(payload, len, st) >= 0) {
                Gateway *g = gateway_get(b, t->gw_id, true);
                if (g) {
                        bool online = st->state == GWAPI_ON;
                        if (g->online != online)
                                log_debug("Gateway '%s' is %s.", g->id, online ? "online" : "offline");
                        g->online = online;
                }
        }
        free(st);
}

bool gwbearer_on_message(GwBearer *b, const char *topic, const uint8_t *payload, size_t len) {
        GwapiTopic t;
        int r;

        if (!startswith(topic, "gw-event/") && !startswith(topic, "gw-response/") &&
            !startswith(topic, "gw-request/"))
                return false;

        r = gwapi_topic_parse(topic, &t);
        if (r < 0) {
                b->stats.bad_topics++;
                log_malformed(b, "topic", topic, r);
                return true;
        }
        switch (t.kind) {
        case GWAPI_TOPIC_RECEIVED_DATA:
                handle_received(b, &t, topic, payload, len);
                break;
        case GWAPI_TOPIC_SEND_DATA_RESPONSE:
                handle_response(b, topic, payload, len);
                break;
        case GWAPI_TOPIC_STATUS:
                handle_status(b, &t, payload, len);
                break;
        case GWAPI_TOPIC_SEND_DATA_REQUEST: /* not subscribed; someone else's downlink */
                break;
        case _GWAPI_TOPIC_KIND_MAX:
        case _GWAPI_TOPIC_KIND_INVALID:
                assert_not_reached();
        }
        return true;
}

void gwbearer_on_connect(GwBearer *b) {
        char filter[GWAPI_TOPIC_BUFFER_SIZE];
        int r = 0;

        if (b->options.serve_24g && gwapi_topic_received_data_filter(246, 255, filter, sizeof(filter)) >= 0)
                r = mqtt_subscribe(b->mqtt, filter, 1, NULL);
        if (r >= 0 && b->options.serve_5g &&
            gwapi_topic_received_data_filter(160, 39, filter, sizeof(filter)) >= 0)
                r = mqtt_subscribe(b->mqtt, filter, 1, NULL);
        if (r >= 0)
                r = mqtt_subscribe(b->mqtt, GWAPI_SUBSCRIBE_SEND_DATA_RESPONSES, 1, NULL);
        if (r >= 0)
                r = mqtt_subscribe(b->mqtt, GWAPI_SUBSCRIBE_STATUS, 1, NULL);
        if (r < 0)
                log_warning_errno(r, "Failed to subscribe to the gateway API topics: %m");
}

/* ---- lifecycle ---- */

int gwbearer_new(sd_event *event, Mqtt *mqtt, const GwBearerOptions *o, const GwBearerCallbacks *cb,
                 void *userdata, GwBearer **ret) {
        _cleanup_(gwbearer_freep) GwBearer *b = NULL;

        b = new0(GwBearer, 1);
        if (!b)
                return -ENOMEM;
        b->event = sd_event_ref(event);
        b->mqtt = mqtt;
        b->options = *o;
        b->cb = *cb;
        b->userdata = userdata;
        b->malformed_rl = RATELIMIT_INIT(10 * USEC_PER_SEC, 5);

        uint32_t nb = 1;
        while (nb < GWAPI_PENDING_MAX)
                nb <<= 1;
        b->bucket_mask = nb - 1;
        b->pending = new0(Pending, GWAPI_PENDING_MAX);
        b->buckets = new (uint32_t, nb);
        b->gateways = new0(Gateway, GATEWAYS_MAX);
        if (!b->pending || !b->buckets || !b->gateways)
                return -ENOMEM;
        for (uint32_t i = 0; i < nb; i++)
                b->buckets[i] = NONE;
        for (uint32_t i = 0; i < GWAPI_PENDING_MAX; i++)
                b->pending[i].hash_next = i + 1 < GWAPI_PENDING_MAX ? i + 1 : NONE;
        b->free_head = 0;

        *ret = TAKE_PTR(b);
        return 0;
}

GwBearer *gwbearer_free(GwBearer *b) {
        if (!b)
                return NULL;
        if (b->pending)
                for (uint32_t i = 0; i < GWAPI_PENDING_MAX; i++)
                        b->pending[i].timer = sd_event_source_disable_unref(b->pending[i].timer);
        free(b->pending);
        free(b->buckets);
        free(b->gateways);
        sd_event_unref(b->event);
        free(b);
        return NULL;
}

int gwbearer_reconfigure(GwBearer *b, const GwBearerOptions *o) {
        bool resubscribe = o->serve_24g != b->options.serve_24g || o->serve_5g != b->options.serve_5g;
        b->options = *o;
        if (resubscribe && mqtt_is_connected(b->mqtt))
                gwbearer_on_connect(b);
        return 0;
}

void gwbearer_get_stats(const GwBearer *b, GwBearerStats *ret) {
        *ret = b->stats;
        ret->pending = b->n_pending;
        ret->gateways_known = b->n_gateways;
        ret->gateways_online = 0;
        for (size_t i = 0; i < b->n_gateways; i++)
                ret->gateways_online += b->gateways[i].online;
}
