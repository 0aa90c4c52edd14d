/* SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "bytes-map.h"
#include "ctl-backend-remote.h"
#include "ctl-common.h"
#include "fileio.h"
#include "hex.h"
#include "log.h"
#include "mqtt.h"
#include "string-util.h"

#define REMOTE_CHUNK_DEVICES 1000u  /* devices per staged chunk: at most ~4.3 MB of request */
#define REMOTE_EARLY_EVENTS  10000u /* live events kept while the audit log is read before following */

/* Inside a transaction, device_get() answers from a snapshot of the daemon's devices, loaded with a paged
 * list at the first get (an import asks for every node: one round trip each would dominate its time). The
 * snapshot keeps what an import reads: not the user items. */
typedef struct RemoteKnown {
        char label[NAME_MAX_LEN + 1];
        char vendor[NAME_MAX_LEN + 1];
        char network[NAME_MAX_LEN + 1];
        char fingerprint[MGMT_FINGERPRINT_SIZE];
        uint8_t method;
        bool enabled;
        bool has_factory_key;
        bool has_node_address;
        bool has_role;
        uint8_t role;
        uint8_t state;
        uint32_t node_address;
} RemoteKnown;

/* What is kept of every device of a bulk upload, to name it when the daemon refuses it. */
typedef struct RemoteItem {
        char label[NAME_MAX_LEN + 1];
        uint8_t uid[PROV_UID_MAX];
        size_t uid_len;
} RemoteItem;

typedef struct Remote {
        CtlRemoteOptions opts;
        sd_event *event;
        Mqtt *mqtt;
        bool connected;
        int connect_error;
        char id_prefix[24];
        uint64_t seq;

        /* the call waiting for its answer */
        MgmtOp op;
        char topic_response[MGMT_TOPIC_BUFFER_SIZE];
        char id[MGMT_REQUEST_ID_MAX + 1];
        MgmtResponse *reply;
        int reply_error;

        /* status: the retained status, read beside the answer (a dead daemon cannot answer) */
        char topic_status[MGMT_TOPIC_BUFFER_SIZE];
        MgmtStatus *retained; /* the last one received, NULL if none */

        /* follow: live events, subscribed (topic_event set) by follow_start() */
        char topic_event[MGMT_TOPIC_BUFFER_SIZE];
        int event_mid; /* the SUBSCRIBE's id, until the broker's SUBACK */
        bool event_subscribed;
        MgmtEvent *early; /* received before follow() is called: handed over first */
        size_t n_early, n_early_allocated;
        uint64_t early_dropped;
        CtlLiveEventCb follow_cb;
        void *follow_userdata;
        int follow_r;

        /* transaction: a staged bulk upload */
        bool dry_run;
        bool in_tx;
        MgmtNetworkPut *networks;
        size_t n_networks;
        MgmtDevicePut *chunk; /* REMOTE_CHUNK_DEVICES */
        size_t n_chunk;
        RemoteItem *items; /* every device of the batch */
        size_t n_items, n_items_allocated;
        char batch[MGMT_BATCH_ID_MAX + 1];
        uint32_t next_seq; /* chunks sent */
        bool progress;
        BytesMap *known_uids; /* uid -> index into known */
        RemoteKnown *known;
        size_t n_known, n_known_allocated;
} Remote;

static Remote *R(CtlBackend *b) {
        return b->data;
}

static void event_to_store(const MgmtEvent *e, StoreAuditEvent *s);

/* ---------------------------------------------------------------------------------------------------------
 * Connection and calls */

static void on_connect(Mqtt *m, void *userdata) {
        Remote *r = userdata;
        char filter[MGMT_TOPIC_BUFFER_SIZE];
        int q;

        q = snprintf(filter, sizeof(filter), MGMT_TOPIC_ROOT "%s/response/+", r->opts.instance);
        if (q < 0 || (size_t)q >= sizeof(filter)) {
                r->connect_error = -EINVAL;
                return;
        }
        q = mqtt_subscribe(m, filter, 1, NULL);
        if (q >= 0 && r->topic_status[0] != '\0')
                q = mqtt_subscribe(m, r->topic_status, 1, NULL);
        if (q >= 0 && r->topic_event[0] != '\0') { /* following events (also across a reconnect) */
                r->event_subscribed = false;
                q = mqtt_subscribe(m, r->topic_event, 1, &r->event_mid);
        }
        if (q < 0) {
                r->connect_error = q;
                return;
        }
        r->connected = true;
}

static void on_disconnect(Mqtt *m, int error, void *userdata) {
        Remote *r = userdata;

        r->connected = false;
        r->connect_error = error < 0 ? error : -ECONNRESET;
}

static void on_subscribed(Mqtt *m, int mid, void *userdata) {
        Remote *r = userdata;

        if (r->topic_event[0] != '\0' && mid == r->event_mid)
                r->event_subscribed = true;
}

static void follow_deliver(Remote *r, const MgmtEvent *e) {
        StoreAuditEvent s;

        if (r->follow_r < 0)
                return;
        event_to_store(e, &s);
        r->follow_r = r->follow_cb(&s, e, r->follow_userdata);
        if (r->follow_r < 0)
                (void)sd_event_exit(r->event, 0);
}

static void early_keep(Remote *r, const MgmtEvent *e) {
        if (r->n_early >= REMOTE_EARLY_EVENTS) {
                r->early_dropped++;
                return;
        }
        if (r->n_early == r->n_early_allocated) {
                size_t n = MAX(r->n_early_allocated * 2, (size_t)64);
                MgmtEvent *a = reallocarray(r->early, n, sizeof(MgmtEvent));
                if (!a) {
                        r->early_dropped++;
                        return;
                }
                r->early = a;
                r->n_early_allocated = n;
        }
        r->early[r->n_early++] = *e;
}

static void on_message(Mqtt *m, const char *topic, const uint8_t *payload, size_t len, void *userdata) {
        Remote *r = userdata;

        if (r->topic_event[0] != '\0' && streq(topic, r->topic_event)) {
                MgmtEvent e;

                if (mgmt_event_decode(payload, len, &e) < 0)
                        return; /* not ours to judge: skip what does not decode */
                if (r->follow_cb)
                        follow_deliver(r, &e);
                else
                        early_keep(r, &e);
                return;
        }

        if (r->topic_status[0] != '\0' && streq(topic, r->topic_status)) {
                if (!r->retained) {
                        r->retained = new0(MgmtStatus, 1);
                        if (!r->retained)
                                return;
                }
                if (mgmt_status_decode(payload, len, r->retained) < 0) {
                        log_debug("Ignoring a retained status that does not decode.");
                        free(r->retained);
                        r->retained = NULL;
                }
                return;
        }

        if (r->reply || r->id[0] == '\0' || !streq(topic, r->topic_response))
                return;
        _cleanup_(mgmt_response_freep) MgmtResponse *resp = NULL;
        int q = mgmt_response_decode(payload, len, r->op, &resp);
        if (q < 0) {
                log_debug_errno(q, "Ignoring an answer that does not decode: %m");
                return;
        }
        if (!streq(resp->id, r->id))
                return; /* another client's answer */
        r->reply = TAKE_PTR(resp);
}

static int remote_run_until(Remote *r, bool (*done)(Remote *r), usec_t timeout) {
        usec_t end = usec_add(now(CLOCK_MONOTONIC), timeout);
        int q;

        while (!done(r)) {
                usec_t t = now(CLOCK_MONOTONIC);
                if (t >= end)
                        return -ETIMEDOUT;
                q = sd_event_run(r->event, end - t);
                if (q < 0)
                        return q;
                if (sd_event_get_state(r->event) == SD_EVENT_FINISHED)
                        return -ECANCELED;
        }
        return 0;
}

static bool connected_or_failed(Remote *r) {
        return r->connected || r->connect_error < 0;
}

static int remote_connect(Remote *r) {
        char client_id[64];
        uint8_t rnd[6];
        int q;

        if (r->connected)
                return 0;
        if (!r->event) {
                q = sd_event_new(&r->event);
                if (q < 0)
                        return log_error_errno(q, "Failed to allocate an event loop: %m");
        }
        if (!r->mqtt) {
                if (random_bytes(rnd, sizeof(rnd)) < 0)
                        memset(rnd, 0, sizeof(rnd));
                snprintf(client_id, sizeof(client_id), "meshprovctl-%d-%02x%02x%02x", (int)getpid(), rnd[0],
                         rnd[1], rnd[2]);
                snprintf(r->id_prefix, sizeof(r->id_prefix), "ctl-%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1],
                         rnd[2], rnd[3], rnd[4], rnd[5]);
                MqttOptions o = {
                        .host = r->opts.host,
                        .port = r->opts.port ?: (r->opts.tls ? 8883 : 1883),
                        .tls = r->opts.tls,
                        .ca_file = r->opts.ca_file,
                        .cert_file = r->opts.cert_file,
                        .key_file = r->opts.key_file,
                        .username = r->opts.username,
                        .password = r->opts.password,
                        .client_id = client_id,
                        .keepalive_sec = 60,
                        .reconnect_min = 200 * USEC_PER_MSEC,
                        .reconnect_max = USEC_PER_SEC,
                        .max_payload = MGMT_RESPONSE_MAX,
                };
                MqttCallbacks cb = {
                        .on_connect = on_connect,
                        .on_disconnect = on_disconnect,
                        .on_message = on_message,
                        .on_subscribed = on_subscribed,
                };
                q = mqtt_new(r->event, &o, &cb, r, &r->mqtt);
                if (q < 0)
                        return log_error_errno(q, "Failed to set up the MQTT client for '%s': %m",
                                               r->opts.host);
        }
        r->connect_error = 0;
        q = mqtt_start(r->mqtt);
        if (q >= 0)
                q = remote_run_until(r, connected_or_failed, r->opts.timeout);
        if (q >= 0 && r->connect_error < 0)
                q = r->connect_error;
        if (q < 0)
                return log_error_errno(q, "Cannot reach the MQTT broker '%s:%u': %m", r->opts.host,
                                       r->opts.port ?: (r->opts.tls ? 8883 : 1883));
        return 0;
}

static bool replied(Remote *r) {
        return r->reply || !r->connected;
}

/* "device.node_address" -> "node_address": handlers print the store's field names. */
static const char *strip_prefix(const char *field) {
        static const char *const prefixes[] = { "network.", "vendor.", "device." };
        for (size_t i = 0; i < ELEMENTSOF(prefixes); i++) {
                const char *p = startswith(field, prefixes[i]);
                if (p)
                        return p;
        }
        return field;
}

static void store_error_from(const MgmtError *e, StoreError *err) {
        if (!err)
                return;
        snprintf(err->field, sizeof(err->field), "%.*s", (int)sizeof(err->field) - 1,
                 strip_prefix(e->field));
        snprintf(err->message, sizeof(err->message), "%s", e->message);
}

/* Sends q (its id is set here); the answer is awaited with remote_run_until(). */
static int remote_send(Remote *r, MgmtRequest *q) {
        _cleanup_free_ uint8_t *buf = NULL;
        char topic[MGMT_TOPIC_BUFFER_SIZE];
        size_t n;
        int x;

        x = remote_connect(r);
        if (x < 0)
                return x;
        snprintf(q->id, sizeof(q->id), "%s-%" PRIu64, r->id_prefix, ++r->seq);
        x = mgmt_request_encode(q, &buf, &n);
        if (x == -EMSGSIZE)
                return log_error_errno(x, "The request is larger than the API takes (%u MiB).",
                                       MGMT_REQUEST_MAX >> 20);
        if (x < 0)
                return log_error_errno(x, "Failed to encode the request: %m");
        x = mgmt_topic_request(r->opts.instance, q->op, topic, sizeof(topic));
        if (x >= 0)
                x = mgmt_topic_response(r->opts.instance, q->op, r->topic_response,
                                        sizeof(r->topic_response));
        if (x < 0)
                return log_error_errno(x, "Invalid instance id '%s'.", r->opts.instance);

        r->reply = mgmt_response_free(r->reply);
        r->op = q->op;
        snprintf(r->id, sizeof(r->id), "%s", q->id);
        x = mqtt_publish(r->mqtt, topic, buf, n, 1, false, NULL);
        if (x < 0)
                return log_error_errno(x, "Failed to send the request: %m");
        return 0;
}

/* Sends q (its id is set here) and waits for the answer. A refusal is returned as its errno with *ret still
 * set, so that callers can read the error. */
static int remote_call_timeout(Remote *r, MgmtRequest *q, usec_t timeout, MgmtResponse **ret) {
        int x;

        x = remote_send(r, q);
        if (x < 0)
                return x;
        x = remote_run_until(r, replied, timeout);
        r->id[0] = '\0';
        if (x == -ETIMEDOUT)
                return log_error_errno(x,
                                       "No answer from meshprovd instance '%s' within %" PRIu64
                                       " s (is it running "
                                       "with [Api] Enabled=yes, and may this client use its topics?).",
                                       r->opts.instance, timeout / USEC_PER_SEC);
        if (x < 0)
                return log_error_errno(x, "Failed to wait for the answer: %m");
        if (!r->reply)
                return log_error_errno(r->connect_error ?: -ECONNRESET,
                                       "Lost the connection to the broker: %m");
        *ret = TAKE_PTR(r->reply);
        return mgmt_code_to_errno((*ret)->error.code);
}

static int remote_call(Remote *r, MgmtRequest *q, MgmtResponse **ret) {
        return remote_call_timeout(r, q, r->opts.timeout, ret);
}

/* For calls whose refusals the handlers report themselves: -ENOENT etc. come back quietly; anything else
 * (the daemon failed, the answer did not fit) is logged here. */
static int remote_simple(Remote *r, MgmtRequest *q, MgmtResponse **ret, StoreError *err) {
        int x = remote_call(r, q, ret);

        if (x < 0 && *ret) {
                store_error_from(&(*ret)->error, err);
                if (!err && x != -ENOENT && x != -EEXIST)
                        log_debug("meshprovd answered %s: %s: %s", mgmt_code_to_string((*ret)->error.code),
                                  (*ret)->error.field, (*ret)->error.message);
                if (x == -EMSGSIZE || x == -EBADMSG || x == -EOPNOTSUPP)
                        log_error("meshprovd refused the request: %s%s%s", (*ret)->error.field,
                                  (*ret)->error.field[0] ? ": " : "", (*ret)->error.message);
        }
        return x;
}

static MgmtRequest *request_new(MgmtOp op) {
        MgmtRequest *q = new0(MgmtRequest, 1);
        if (q)
                q->op = op;
        return q;
}

/* ---------------------------------------------------------------------------------------------------------
 * Mapping */

static void network_to_mgmt(const StoreNetwork *s, MgmtNetwork *n) {
        *n = (MgmtNetwork){
                .profile = s->profile,
                .network_address = s->network_address,
                .channel = s->channel,
                .keys_update = (MgmtKeyUpdate)s->keys_update,
                .allow_unsecured = s->allow_unsecured,
                .has_pool = s->has_pool,
                .pool_first = s->pool_first,
                .pool_last = s->pool_last,
        };
        memcpy(n->name, s->name, sizeof(n->name));
        if (s->keys_update == STORE_KEY_SET) {
                memcpy(n->enc_key, s->enc_key, sizeof(n->enc_key));
                memcpy(n->auth_key, s->auth_key, sizeof(n->auth_key));
        }
}

static void network_from_mgmt(const MgmtNetwork *n, StoreNetwork *s) {
        *s = (StoreNetwork){
                .profile = n->profile,
                .network_address = n->network_address,
                .channel = n->channel,
                .keys_update = STORE_KEY_KEEP,
                .allow_unsecured = n->allow_unsecured,
                .has_pool = n->has_pool,
                .pool_first = n->pool_first,
                .pool_last = n->pool_last,
                .created = n->created,
                .updated = n->updated,
        };
        memcpy(s->name, n->name, sizeof(s->name));
        ctl_key_placeholder(n->enc_key_fingerprint, s->enc_key, sizeof(s->enc_key));
        ctl_key_placeholder(n->auth_key_fingerprint, s->auth_key, sizeof(s->auth_key));
}

static void vendor_to_mgmt(const StoreVendor *s, MgmtVendor *v) {
        *v = (MgmtVendor){
                .key_update = (MgmtKeyUpdate)s->key_update,
                .key_kind = (MgmtVendorKeyKind)s->key_kind,
                .enroll_kind = (MgmtEnrollKind)s->enroll_kind,
                .enroll_prefix_len = MIN(s->enroll_prefix_len, sizeof(v->enroll_prefix)),
                .enroll_method = s->enroll_method,
                .enabled = s->enabled,
        };
        memcpy(v->name, s->name, sizeof(v->name));
        if (s->key_update == STORE_KEY_SET)
                memcpy(v->key, s->key, sizeof(v->key));
        memcpy(v->enroll_prefix, s->enroll_prefix, sizeof(v->enroll_prefix));
        memcpy(v->default_network, s->default_network, sizeof(v->default_network));
}

static void vendor_from_mgmt(const MgmtVendor *v, StoreVendor *s) {
        *s = (StoreVendor){
                .key_update = STORE_KEY_KEEP,
                .key_kind = (StoreVendorKeyKind)v->key_kind,
                .enroll_kind = (StoreEnrollKind)v->enroll_kind,
                .enroll_prefix_len = MIN(v->enroll_prefix_len, sizeof(s->enroll_prefix)),
                .enroll_method = v->enroll_method,
                .enabled = v->enabled,
                .created = v->created,
                .updated = v->updated,
        };
        memcpy(s->name, v->name, sizeof(s->name));
        memcpy(s->enroll_prefix, v->enroll_prefix, sizeof(s->enroll_prefix));
        memcpy(s->default_network, v->default_network, sizeof(s->default_network));
        if (v->key_kind != MGMT_VENDOR_KEY_NONE)
                ctl_key_placeholder(v->key_fingerprint, s->key, sizeof(s->key));
}

static void device_to_mgmt(const StoreDevice *s, MgmtDevice *d) {
        memset(d, 0, sizeof(*d));
        memcpy(d->uid, s->uid, sizeof(d->uid));
        d->uid_len = MIN(s->uid_len, sizeof(d->uid));
        memcpy(d->label, s->label, sizeof(d->label));
        memcpy(d->vendor, s->vendor, sizeof(d->vendor));
        memcpy(d->network, s->network, sizeof(d->network));
        d->method = s->method;
        d->factory_key_update = (MgmtKeyUpdate)s->factory_key_update;
        if (s->factory_key_update == STORE_KEY_SET)
                memcpy(d->factory_key, s->factory_key, sizeof(d->factory_key));
        d->has_node_address = s->has_node_address;
        d->node_address = s->node_address;
        d->has_role = s->has_role;
        d->role = s->role;
        d->n_user_items = MIN(s->n_user_items, (size_t)PROV_PARAMS_USER_MAX);
        memcpy(d->user_items, s->user_items, d->n_user_items * sizeof(ProvUserItem));
        d->enabled = s->enabled;
}

static void device_from_mgmt(const MgmtDevice *d, StoreDevice *s) {
        memset(s, 0, sizeof(*s));
        memcpy(s->uid, d->uid, sizeof(s->uid));
        s->uid_len = d->uid_len;
        memcpy(s->label, d->label, sizeof(s->label));
        memcpy(s->vendor, d->vendor, sizeof(s->vendor));
        memcpy(s->network, d->network, sizeof(s->network));
        s->method = d->method;
        s->factory_key_update = STORE_KEY_KEEP;
        s->has_factory_key = d->has_factory_key;
        if (d->has_factory_key)
                ctl_key_placeholder(d->factory_key_fingerprint, s->factory_key, sizeof(s->factory_key));
        s->has_node_address = d->has_node_address;
        s->node_address = d->node_address;
        s->has_role = d->has_role;
        s->role = d->role;
        s->n_user_items = MIN(d->n_user_items, (size_t)PROV_PARAMS_USER_MAX);
        memcpy(s->user_items, d->user_items, s->n_user_items * sizeof(ProvUserItem));
        s->enabled = d->enabled;
        s->state = (StoreDeviceState)d->state;
        s->has_allocated_address = d->has_allocated_address;
        s->allocated_address = d->allocated_address;
        s->created = d->created;
        s->updated = d->updated;
        s->last_start = d->last_start;
        s->provisioned_at = d->provisioned_at;
        s->n_starts = d->n_starts;
        s->n_provisioned = d->n_provisioned;
}

static void event_to_store(const MgmtEvent *e, StoreAuditEvent *s) {
        *s = (StoreAuditEvent){
                .id = e->id,
                .time = e->time,
                .kind = (StoreEventKind)e->kind,
                .uid_len = MIN(e->uid_len, sizeof(s->uid)),
                .method = e->method,
                .source_address = e->source_address,
                .node_address = e->node_address,
                .session_id = e->session_id,
                .nack_reason = e->nack_reason,
        };
        memcpy(s->uid, e->uid, s->uid_len);
        snprintf(s->vendor, sizeof(s->vendor), "%s", e->vendor);
        snprintf(s->network, sizeof(s->network), "%s", e->network);
        snprintf(s->gateway, sizeof(s->gateway), "%s", e->gateway);
        snprintf(s->sink, sizeof(s->sink), "%s", e->sink);
        snprintf(s->result, sizeof(s->result), "%s", e->result);
        snprintf(s->detail, sizeof(s->detail), "%s", e->detail);
}

/* Checks a put with the API's own validation, as the daemon will: encode it and decode it again. */
static int check_locally(MgmtRequest *q, StoreError *err) {
        _cleanup_(mgmt_request_freep) MgmtRequest *d = NULL;
        _cleanup_free_ uint8_t *buf = NULL;
        MgmtError e;
        size_t n;
        int x;

        x = mgmt_request_encode(q, &buf, &n);
        if (x < 0)
                return x;
        x = mgmt_request_decode(buf, n, q->op, &d, &e);
        explicit_bzero_safe(buf, n);
        if (x < 0)
                store_error_from(&e, err);
        return x;
}

/* ---------------------------------------------------------------------------------------------------------
 * Networks */

static MgmtNetworkPut *tx_network(Remote *r, const char *name) {
        for (size_t i = r->n_networks; i > 0; i--)
                if (streq(r->networks[i - 1].network.name, name))
                        return &r->networks[i - 1];
        return NULL;
}

static int remote_network_put(CtlBackend *b, const StoreNetwork *n, StorePutMode mode, StoreError *err) {
        _cleanup_(mgmt_request_freep) MgmtRequest *q = request_new(MGMT_OP_NETWORK_PUT);
        _cleanup_(mgmt_response_freep) MgmtResponse *resp = NULL;
        Remote *r = R(b);
        int x;

        if (!q)
                return -ENOMEM;
        network_to_mgmt(n, &q->network_put.network);
        q->network_put.mode = (MgmtPutMode)mode;
        if (r->in_tx) {
                MgmtNetworkPut *a;

                x = check_locally(q, err);
                if (x < 0)
                        return x;
                a = reallocarray(r->networks, r->n_networks + 1, sizeof(MgmtNetworkPut));
                if (!a)
                        return -ENOMEM;
                r->networks = a;
                a[r->n_networks++] = q->network_put;
                return mode == STORE_PUT_CREATE ? 1 : 0;
        }
        x = remote_simple(r, q, &resp, err);
        explicit_bzero_safe(q, sizeof(*q));
        if (x < 0)
                return x;
        return resp->created ? 1 : 0;
}

static int remote_network_get(CtlBackend *b, const char *name, StoreNetwork *ret) {
        _cleanup_(mgmt_request_freep) MgmtRequest *q = request_new(MGMT_OP_NETWORK_GET);
        _cleanup_(mgmt_response_freep) MgmtResponse *resp = NULL;
        Remote *r = R(b);
        MgmtNetworkPut *t;
        int x;

        if (!q)
                return -ENOMEM;
        if (r->in_tx && (t = tx_network(r, name))) {
                MgmtNetwork n = t->network;
                /* as the daemon would show it: keys as fingerprints (of nothing yet) */
                n.enc_key_fingerprint[0] = n.auth_key_fingerprint[0] = '\0';
                network_from_mgmt(&n, ret);
                explicit_bzero_safe(&n, sizeof(n));
                return 0;
        }
        snprintf(q->name, sizeof(q->name), "%s", name);
        x = remote_simple(r, q, &resp, NULL);
        if (x < 0)
                return x;
        network_from_mgmt(&resp->network, ret);
        return 0;
}

static int remote_network_list(CtlBackend *b, StoreNetworkCb cb, void *userdata) {
        Remote *r = R(b);
        char after[NAME_MAX_LEN + 1] = "";
        int x;

        for (;;) {
                _cleanup_(mgmt_request_freep) MgmtRequest *q = request_new(MGMT_OP_NETWORK_LIST);
                _cleanup_(mgmt_response_freep) MgmtResponse *resp = NULL;

                if (!q)
                        return -ENOMEM;
                snprintf(q->list.after, sizeof(q->list.after), "%s", after);
                x = remote_simple(r, q, &resp, NULL);
                if (x < 0)
                        return x;
                for (size_t i = 0; i < resp->networks.n; i++) {
                        StoreNetwork n;
                        network_from_mgmt(&resp->networks.items[i], &n);
                        x = cb(&n, userdata);
                        if (x < 0)
                                return x;
                }
                if (!resp->networks.more || resp->networks.n == 0)
                        return 0;
                snprintf(after, sizeof(after), "%s", resp->networks.items[resp->networks.n - 1].name);
        }
}

static int remote_name_op(Remote *r, MgmtOp op, const char *name, StoreError *err) {
        _cleanup_(mgmt_request_freep) MgmtRequest *q = request_new(op);
        _cleanup_(mgmt_response_freep) MgmtResponse *resp = NULL;

        if (!q)
                return -ENOMEM;
        snprintf(q->name, sizeof(q->name), "%s", name);
        return remote_simple(r, q, &resp, err);
}

static int remote_network_delete(CtlBackend *b, const char *name, StoreError *err) {
        if (R(b)->in_tx)
                return -EOPNOTSUPP;
        return remote_name_op(R(b), MGMT_OP_NETWORK_DELETE, name, err);
}

/* ---------------------------------------------------------------------------------------------------------
 * Vendors */

static int remote_vendor_put(CtlBackend *b, const StoreVendor *v, StorePutMode mode, StoreError *err) {
        _cleanup_(mgmt_request_freep) MgmtRequest *q = request_new(MGMT_OP_VENDOR_PUT);
        _cleanup_(mgmt_response_freep) MgmtResponse *resp = NULL;
        int x;

        if (!q)
                return -ENOMEM;
        if (R(b)->in_tx)
                return -EOPNOTSUPP;
        vendor_to_mgmt(v, &q->vendor_put.vendor);
        q->vendor_put.mode = (MgmtPutMode)mode;
        x = remote_simple(R(b), q, &resp, err);
        explicit_bzero_safe(q, sizeof(*q));
        if (x < 0)
                return x;
        return resp->created ? 1 : 0;
}

static int remote_vendor_get(CtlBackend *b, const char *name, StoreVendor *ret) {
        _cleanup_(mgmt_request_freep) MgmtRequest *q = request_new(MGMT_OP_VENDOR_GET);
        _cleanup_(mgmt_response_freep) MgmtResponse *resp = NULL;
        int x;

        if (!q)
                return -ENOMEM;
        snprintf(q->name, sizeof(q->name), "%s", name);
        x = remote_simple(R(b), q, &resp, NULL);
        if (x < 0)
                return x;
        vendor_from_mgmt(&resp->vendor, ret);
        return 0;
}

static int remote_vendor_list(CtlBackend *b, StoreVendorCb cb, void *userdata) {
        char after[NAME_MAX_LEN + 1] = "";
        int x;

        for (;;) {
                _cleanup_(mgmt_request_freep) MgmtRequest *q = request_new(MGMT_OP_VENDOR_LIST);
                _cleanup_(mgmt_response_freep) MgmtResponse *resp = NULL;

                if (!q)
                        return -ENOMEM;
                snprintf(q->list.after, sizeof(q->list.after), "%s", after);
                x = remote_simple(R(b), q, &resp, NULL);
                if (x < 0)
                        return x;
                for (size_t i = 0; i < resp->vendors.n; i++) {
                        StoreVendor v;
                        vendor_from_mgmt(&resp->vendors.items[i], &v);
                        x = cb(&v, userdata);
                        if (x < 0)
                                return x;
                }
                if (!resp->vendors.more || resp->vendors.n == 0)
                        return 0;
                snprintf(after, sizeof(after), "%s", resp->vendors.items[resp->vendors.n - 1].name);
        }
}

static int remote_vendor_delete(CtlBackend *b, const char *name, StoreError *err) {
        if (R(b)->in_tx)
                return -EOPNOTSUPP;
        return remote_name_op(R(b), MGMT_OP_VENDOR_DELETE, name, err);
}

static int remote_vendor_device_key(CtlBackend *b, const char *vendor, const uint8_t *uid, size_t uid_len,
                                    uint8_t ret_key[static PROV_FACTORY_KEY_SIZE], bool *ret_derived) {
        log_error("The management API never sends keys: derive device keys where the database is "
                  "(meshprovctl --db ... vendor derive-key).");
        return -EOPNOTSUPP;
}

/* ---------------------------------------------------------------------------------------------------------
 * Devices */

static int uid_op(Remote *r, MgmtOp op, const uint8_t *uid, size_t uid_len, MgmtResponse **resp,
                  StoreError *err) {
        _cleanup_(mgmt_request_freep) MgmtRequest *q = request_new(op);

        if (!q)
                return -ENOMEM;
        if (uid_len > sizeof(q->device.uid))
                return -EINVAL;
        memcpy(q->device.uid, uid, uid_len);
        q->device.uid_len = uid_len;
        return remote_simple(r, q, resp, err);
}

/* Sends the buffered devices (and, with the first chunk, the buffered networks) as one chunk of the batch.
 */
static int tx_send_chunk(Remote *r, bool last, MgmtResponse **ret) {
        _cleanup_(mgmt_request_freep) MgmtRequest *q = request_new(MGMT_OP_DEVICE_BULK_PUT);
        uint64_t sent = (uint64_t)r->next_seq * REMOTE_CHUNK_DEVICES;
        usec_t timeout = r->opts.timeout;
        int x;

        if (!q)
                return -ENOMEM;
        if (r->next_seq == 0) {
                q->bulk.networks = r->networks;
                q->bulk.n_networks = r->n_networks;
        }
        q->bulk.devices = r->chunk;
        q->bulk.n_devices = r->n_chunk;
        q->bulk.dry_run = r->dry_run;
        q->bulk.last = last;
        if (!(last && r->next_seq == 0)) { /* more than one request: a staged batch */
                if (r->batch[0] == '\0') {
                        uint8_t rnd[8];
                        char hex[2 * sizeof(rnd) + 1];
                        if (random_bytes(rnd, sizeof(rnd)) < 0)
                                memset(rnd, 0x5a, sizeof(rnd));
                        snprintf(r->batch, sizeof(r->batch), "import-%s",
                                 hex_encode(rnd, sizeof(rnd), hex, sizeof(hex)));
                }
                snprintf(q->bulk.batch, sizeof(q->bulk.batch), "%s", r->batch);
                q->bulk.seq = r->next_seq;
        }
        if (last) /* the daemon applies the whole batch now: give it time */
                timeout = usec_add(MAX(timeout, 60 * USEC_PER_SEC),
                                   (r->n_items + r->n_networks) * 2 * USEC_PER_MSEC);

        /* chunks go out while the import walks the file (its own progress line counts them); the wait that
         * needs a line of its own is the last one */
        if (r->progress && last) {
                fprintf(stderr,
                        "Sent %" PRIu64
                        " device(s) to meshprovd, which applies them in one transaction...\n",
                        sent + r->n_chunk);
                fflush(stderr);
        }
        x = remote_call_timeout(r, q, timeout, ret);
        for (size_t i = 0; i < r->n_chunk; i++)
                explicit_bzero_safe(&r->chunk[i], sizeof(r->chunk[i]));
        r->n_chunk = 0;
        r->next_seq++;
        return x;
}

/* The daemon refused an item of the batch: say which, for commit_error and the message. */
static void tx_describe_failure(CtlBackend *b, const MgmtError *e) {
        Remote *r = R(b);
        const char *f = e->field, *p;
        unsigned long long index;
        char *end;

        b->commit_error = (CtlCommitError){};
        snprintf(b->commit_error.error.message, sizeof(b->commit_error.error.message), "%s", e->message);
        snprintf(b->commit_error.error.field, sizeof(b->commit_error.error.field), "%.*s",
                 (int)sizeof(b->commit_error.error.field) - 1, f);
        p = startswith(f, "devices[");
        if (!p)
                p = startswith(f, "networks[");
        if (!p)
                return;
        index = strtoull(p, &end, 10);
        if (end == p || *end != ']')
                return;
        snprintf(b->commit_error.error.field, sizeof(b->commit_error.error.field), "%.*s",
                 (int)sizeof(b->commit_error.error.field) - 1, end[1] == '.' ? end + 2 : "");
        if (f[0] == 'n') {
                b->commit_error.is_network = true;
                if (index < r->n_networks)
                        snprintf(b->commit_error.name, sizeof(b->commit_error.name), "%s",
                                 r->networks[index].network.name);
        } else if (index < r->n_items) {
                const RemoteItem *it = &r->items[index];
                if (it->label[0])
                        snprintf(b->commit_error.name, sizeof(b->commit_error.name), "%s", it->label);
                else {
                        char hex[2 * PROV_UID_MAX + 1];
                        snprintf(b->commit_error.name, sizeof(b->commit_error.name), "%.64s",
                                 hex_encode(it->uid, it->uid_len, hex, sizeof(hex)));
                }
        }
}

static void tx_reset(Remote *r) {
        if (r->networks)
                explicit_bzero_safe(r->networks, r->n_networks * sizeof(MgmtNetworkPut));
        free(r->networks);
        r->networks = NULL;
        r->n_networks = 0;
        if (r->chunk)
                explicit_bzero_safe(r->chunk, REMOTE_CHUNK_DEVICES * sizeof(MgmtDevicePut));
        free(r->chunk);
        r->chunk = NULL;
        r->n_chunk = 0;
        free(r->items);
        r->items = NULL;
        r->n_items = r->n_items_allocated = 0;
        r->known_uids = bytes_map_free(r->known_uids);
        free(r->known);
        r->known = NULL;
        r->n_known = r->n_known_allocated = 0;
        r->batch[0] = '\0';
        r->next_seq = 0;
        r->in_tx = false;
}

static int remote_device_put(CtlBackend *b, const StoreDevice *d, StorePutMode mode, StoreError *err) {
        _cleanup_(mgmt_request_freep) MgmtRequest *q = request_new(MGMT_OP_DEVICE_PUT);
        _cleanup_(mgmt_response_freep) MgmtResponse *resp = NULL;
        Remote *r = R(b);
        int x;

        if (!q)
                return -ENOMEM;
        device_to_mgmt(d, &q->device_put.device);
        q->device_put.mode = (MgmtPutMode)mode;
        if (!r->in_tx) {
                x = remote_simple(r, q, &resp, err);
                explicit_bzero_safe(q, sizeof(*q));
                if (x < 0)
                        return x;
                return resp->created ? 1 : 0;
        }

        x = check_locally(q, err);
        if (x < 0) {
                explicit_bzero_safe(q, sizeof(*q));
                return x;
        }
        if (r->n_items >= r->n_items_allocated) {
                size_t n = MAX(r->n_items_allocated * 2, (size_t)1024);
                RemoteItem *a = reallocarray(r->items, n, sizeof(RemoteItem));
                if (!a)
                        return -ENOMEM;
                r->items = a;
                r->n_items_allocated = n;
        }
        RemoteItem *it = &r->items[r->n_items++];
        snprintf(it->label, sizeof(it->label), "%s", d->label);
        memcpy(it->uid, d->uid, MIN(d->uid_len, sizeof(it->uid)));
        it->uid_len = MIN(d->uid_len, sizeof(it->uid));

        r->chunk[r->n_chunk++] = q->device_put;
        explicit_bzero_safe(q, sizeof(*q));
        if (r->n_chunk >= REMOTE_CHUNK_DEVICES) {
                x = tx_send_chunk(r, false, &resp);
                if (x < 0) {
                        if (resp) {
                                tx_describe_failure(b, &resp->error);
                                if (err) {
                                        snprintf(err->field, sizeof(err->field), "%s",
                                                 b->commit_error.error.field);
                                        snprintf(err->message, sizeof(err->message), "node '%.64s': %.180s",
                                                 b->commit_error.name, b->commit_error.error.message);
                                }
                        }
                        return x;
                }
        }
        return mode == STORE_PUT_CREATE ? 1 : 0;
}

static int known_add(const MgmtDevice *d, Remote *r) {
        char index[24];
        RemoteKnown *k;
        int x;

        if (r->n_known >= r->n_known_allocated) {
                size_t n = MAX(r->n_known_allocated * 2, (size_t)1024);
                RemoteKnown *a = reallocarray(r->known, n, sizeof(RemoteKnown));
                if (!a)
                        return -ENOMEM;
                r->known = a;
                r->n_known_allocated = n;
        }
        snprintf(index, sizeof(index), "%zu", r->n_known);
        x = bytes_map_add(r->known_uids, d->uid, d->uid_len, index, NULL);
        if (x == -EEXIST)
                return 0;
        if (x < 0)
                return x;
        k = &r->known[r->n_known++];
        *k = (RemoteKnown){
                .method = d->method,
                .enabled = d->enabled,
                .has_factory_key = d->has_factory_key,
                .has_node_address = d->has_node_address,
                .node_address = d->node_address,
                .has_role = d->has_role,
                .role = d->role,
                .state = (uint8_t)d->state,
        };
        memcpy(k->label, d->label, sizeof(k->label));
        memcpy(k->vendor, d->vendor, sizeof(k->vendor));
        memcpy(k->network, d->network, sizeof(k->network));
        memcpy(k->fingerprint, d->factory_key_fingerprint, sizeof(k->fingerprint));
        return 0;
}

static int known_load(Remote *r) {
        MgmtDeviceFilter m = { .state = -1 };
        int x;

        r->known_uids = bytes_map_new();
        if (!r->known_uids)
                return -ENOMEM;
        for (;;) {
                _cleanup_(mgmt_request_freep) MgmtRequest *q = request_new(MGMT_OP_DEVICE_LIST);
                _cleanup_(mgmt_response_freep) MgmtResponse *resp = NULL;

                if (!q)
                        return -ENOMEM;
                q->filter = m;
                q->filter.limit = MGMT_PAGE_MAX;
                x = remote_simple(r, q, &resp, NULL);
                if (x < 0)
                        return x;
                for (size_t i = 0; i < resp->devices.n; i++) {
                        x = known_add(&resp->devices.items[i], r);
                        if (x < 0)
                                return x;
                }
                if (!resp->devices.more || resp->devices.n == 0)
                        return 0;
                const MgmtDevice *lastd = &resp->devices.items[resp->devices.n - 1];
                memcpy(m.after_uid, lastd->uid, lastd->uid_len);
                m.after_uid_len = lastd->uid_len;
        }
}

static int known_get(Remote *r, const uint8_t *uid, size_t uid_len, StoreDevice *ret) {
        const char *index = NULL;
        const RemoteKnown *k;
        int x;

        if (!r->known_uids) {
                x = known_load(r);
                if (x < 0) {
                        r->known_uids = bytes_map_free(r->known_uids);
                        return x;
                }
        }
        x = bytes_map_get(r->known_uids, uid, uid_len, &index);
        if (x < 0)
                return x;
        if (!index)
                return -ENOENT;
        k = &r->known[strtoul(index, NULL, 10)];
        memset(ret, 0, sizeof(*ret));
        memcpy(ret->uid, uid, uid_len);
        ret->uid_len = uid_len;
        memcpy(ret->label, k->label, sizeof(ret->label));
        memcpy(ret->vendor, k->vendor, sizeof(ret->vendor));
        memcpy(ret->network, k->network, sizeof(ret->network));
        ret->method = k->method;
        ret->enabled = k->enabled;
        ret->has_factory_key = k->has_factory_key;
        if (k->has_factory_key)
                ctl_key_placeholder(k->fingerprint, ret->factory_key, sizeof(ret->factory_key));
        ret->has_node_address = k->has_node_address;
        ret->node_address = k->node_address;
        ret->has_role = k->has_role;
        ret->role = k->role;
        ret->state = (StoreDeviceState)k->state;
        return 0;
}

static int remote_device_get(CtlBackend *b, const uint8_t *uid, size_t uid_len, StoreDevice *ret) {
        _cleanup_(mgmt_response_freep) MgmtResponse *resp = NULL;
        int x;

        if (R(b)->in_tx)
                return known_get(R(b), uid, uid_len, ret);
        x = uid_op(R(b), MGMT_OP_DEVICE_GET, uid, uid_len, &resp, NULL);
        if (x < 0)
                return x;
        device_from_mgmt(&resp->device, ret);
        return 0;
}

static int remote_device_delete(CtlBackend *b, const uint8_t *uid, size_t uid_len, StoreError *err) {
        _cleanup_(mgmt_response_freep) MgmtResponse *resp = NULL;

        if (R(b)->in_tx)
                return -EOPNOTSUPP;
        return uid_op(R(b), MGMT_OP_DEVICE_DELETE, uid, uid_len, &resp, err);
}

static int remote_device_set_enabled(CtlBackend *b, const uint8_t *uid, size_t uid_len, bool enabled) {
        _cleanup_(mgmt_response_freep) MgmtResponse *resp = NULL;

        if (R(b)->in_tx)
                return -EOPNOTSUPP;
        return uid_op(R(b), enabled ? MGMT_OP_DEVICE_ENABLE : MGMT_OP_DEVICE_DISABLE, uid, uid_len, &resp,
                      NULL);
}

static void filter_to_mgmt(const StoreDeviceFilter *f, MgmtDeviceFilter *m) {
        *m = (MgmtDeviceFilter){ .state = f ? f->state : -1 };
        if (!f)
                return;
        snprintf(m->vendor, sizeof(m->vendor), "%s", strempty(f->vendor));
        snprintf(m->network, sizeof(m->network), "%s", strempty(f->network));
        if (f->after_uid && f->after_uid_len <= sizeof(m->after_uid)) {
                memcpy(m->after_uid, f->after_uid, f->after_uid_len);
                m->after_uid_len = f->after_uid_len;
        }
}

static int remote_device_list(CtlBackend *b, const StoreDeviceFilter *f, StoreDeviceCb cb, void *userdata) {
        _cleanup_free_ StoreDevice *d = new (StoreDevice, 1);
        MgmtDeviceFilter m;
        uint64_t left = f && f->limit > 0 ? f->limit : UINT64_MAX;
        int x;

        if (!d)
                return -ENOMEM;
        filter_to_mgmt(f, &m);
        while (left > 0) {
                _cleanup_(mgmt_request_freep) MgmtRequest *q = request_new(MGMT_OP_DEVICE_LIST);
                _cleanup_(mgmt_response_freep) MgmtResponse *resp = NULL;

                if (!q)
                        return -ENOMEM;
                q->filter = m;
                q->filter.limit = (unsigned)MIN(left, (uint64_t)MGMT_PAGE_MAX);
                x = remote_simple(R(b), q, &resp, NULL);
                if (x < 0)
                        return x;
                for (size_t i = 0; i < resp->devices.n && left > 0; i++, left--) {
                        device_from_mgmt(&resp->devices.items[i], d);
                        x = cb(d, userdata);
                        if (x < 0)
                                return x;
                }
                if (!resp->devices.more || resp->devices.n == 0)
                        break;
                const MgmtDevice *lastd = &resp->devices.items[resp->devices.n - 1];
                memcpy(m.after_uid, lastd->uid, lastd->uid_len);
                m.after_uid_len = lastd->uid_len;
        }
        return 0;
}

static int remote_device_count(CtlBackend *b, const StoreDeviceFilter *f, uint64_t *ret) {
        _cleanup_(mgmt_request_freep) MgmtRequest *q = request_new(MGMT_OP_DEVICE_COUNT);
        _cleanup_(mgmt_response_freep) MgmtResponse *resp = NULL;
        int x;

        if (!q)
                return -ENOMEM;
        filter_to_mgmt(f, &q->filter);
        x = remote_simple(R(b), q, &resp, NULL);
        if (x < 0)
                return x;
        *ret = resp->count;
        return 0;
}

/* ---------------------------------------------------------------------------------------------------------
 * Audit log */

static int remote_audit_query(CtlBackend *b, const StoreAuditFilter *f, StoreAuditCb cb, void *userdata) {
        static const StoreAuditFilter all = { .kind = -1 };
        MgmtAuditFilter m;
        uint64_t left;
        int x;

        f = f ?: &all;
        left = f->limit > 0 ? f->limit : UINT64_MAX;
        m = (MgmtAuditFilter){
                .since = f->since,
                .until = f->until,
                .kind = f->kind,
                .after_id = f->after_id,
                .descending = f->descending,
        };
        if (f->uid) {
                if (f->uid_len > sizeof(m.uid))
                        return -EINVAL;
                memcpy(m.uid, f->uid, f->uid_len);
                m.uid_len = f->uid_len;
        }
        snprintf(m.result, sizeof(m.result), "%s", strempty(f->result));

        while (left > 0) {
                _cleanup_(mgmt_request_freep) MgmtRequest *q = request_new(MGMT_OP_AUDIT_QUERY);
                _cleanup_(mgmt_response_freep) MgmtResponse *resp = NULL;

                if (!q)
                        return -ENOMEM;
                q->audit = m;
                q->audit.limit = (unsigned)MIN(left, (uint64_t)MGMT_PAGE_MAX);
                x = remote_simple(R(b), q, &resp, NULL);
                if (x < 0)
                        return x;
                for (size_t i = 0; i < resp->events.n && left > 0; i++, left--) {
                        StoreAuditEvent e;
                        event_to_store(&resp->events.items[i], &e);
                        x = cb(&e, userdata);
                        if (x < 0)
                                return x;
                }
                if (!resp->events.more || resp->events.n == 0)
                        break;
                m.after_id = resp->events.items[resp->events.n - 1].id;
        }
        return 0;
}

/* ---------------------------------------------------------------------------------------------------------
 * Transactions: staged bulk uploads */

static int remote_begin(CtlBackend *b) {
        Remote *r = R(b);

        if (r->in_tx)
                return -EALREADY;
        tx_reset(r);
        r->chunk = new0(MgmtDevicePut, REMOTE_CHUNK_DEVICES);
        if (!r->chunk)
                return -ENOMEM;
        r->in_tx = true;
        r->progress = isatty(STDERR_FILENO);
        b->commit_error = (CtlCommitError){};
        return 0;
}

static int tx_finish(CtlBackend *b) {
        _cleanup_(mgmt_response_freep) MgmtResponse *resp = NULL;
        Remote *r = R(b);
        int x;

        x = tx_send_chunk(r, true, &resp);
        if (x < 0 && resp)
                tx_describe_failure(b, &resp->error);
        if (x >= 0 && resp && (r->dry_run ? resp->bulk.committed : !resp->bulk.committed))
                x = -EIO; /* the daemon did not do what was asked */
        tx_reset(r);
        return x;
}

static int remote_commit(CtlBackend *b) {
        if (!R(b)->in_tx)
                return -ENOTCONN;
        return tx_finish(b);
}

static int remote_rollback(CtlBackend *b) {
        _cleanup_(mgmt_request_freep) MgmtRequest *q = NULL;
        _cleanup_(mgmt_response_freep) MgmtResponse *resp = NULL;
        Remote *r = R(b);

        if (!r->in_tx)
                return -ENOTCONN;
        if (r->dry_run) /* the check is the daemon's: it applies everything and rolls it back */
                return tx_finish(b);
        if (r->next_seq > 0) { /* chunks are staged on the daemon: drop them */
                q = request_new(MGMT_OP_DEVICE_BULK_PUT);
                if (q) {
                        snprintf(q->bulk.batch, sizeof(q->bulk.batch), "%s", r->batch);
                        q->bulk.seq = r->next_seq;
                        q->bulk.abort = true;
                        q->bulk.last = true;
                        (void)remote_call(r, q, &resp);
                }
        }
        tx_reset(r);
        return 0;
}

/* ---------------------------------------------------------------------------------------------------------
 * Status, stats, follow */

bool ctl_backend_is_remote(const CtlBackend *b) {
        return b && streq_ptr(b->kind, "remote");
}

static bool status_known(Remote *r) {
        return r->reply || !r->connected || (r->retained && !r->retained->online);
}

int ctl_backend_remote_status(CtlBackend *b, MgmtStatus *ret) {
        _cleanup_(mgmt_request_freep) MgmtRequest *q = request_new(MGMT_OP_STATUS);
        _cleanup_(mgmt_response_freep) MgmtResponse *resp = NULL;
        Remote *r;
        int x;

        if (!ctl_backend_is_remote(b))
                return -EOPNOTSUPP;
        if (!q)
                return -ENOMEM;
        r = R(b);
        /* the retained status too: it is all a dead daemon leaves behind (its last will) */
        x = mgmt_topic_status(r->opts.instance, r->topic_status, sizeof(r->topic_status));
        if (x < 0)
                return log_error_errno(x, "Invalid instance id '%s'.", r->opts.instance);
        if (r->connected) {
                x = mqtt_subscribe(r->mqtt, r->topic_status, 1, NULL);
                if (x < 0)
                        return log_error_errno(x, "Failed to subscribe to '%s': %m", r->topic_status);
        }
        x = remote_send(r, q);
        if (x < 0)
                return x;
        x = remote_run_until(r, status_known, r->opts.timeout);
        r->id[0] = '\0';
        if (x < 0 && x != -ETIMEDOUT)
                return log_error_errno(x, "Failed to wait for the answer: %m");
        if (r->reply) {
                resp = TAKE_PTR(r->reply);
                x = mgmt_code_to_errno(resp->error.code);
                if (x < 0)
                        return log_error_errno(x, "meshprovd refused the status request: %s",
                                               resp->error.message);
                *ret = resp->status;
                return 1;
        }
        if (r->retained) {
                *ret = *r->retained;
                return 0;
        }
        if (x == -ETIMEDOUT)
                return log_error_errno(x,
                                       "No answer from meshprovd instance '%s' within %" PRIu64
                                       " s, and no retained status (is it running with [Api] Enabled=yes, "
                                       "and may this client use its topics?).",
                                       r->opts.instance, r->opts.timeout / USEC_PER_SEC);
        return log_error_errno(r->connect_error ?: -ECONNRESET, "Lost the connection to the broker: %m");
}

int ctl_backend_remote_stats(CtlBackend *b, usec_t since, usec_t until, MgmtResponse **ret) {
        _cleanup_(mgmt_request_freep) MgmtRequest *q = request_new(MGMT_OP_STATS);
        MgmtResponse *resp = NULL;
        int x;

        if (!ctl_backend_is_remote(b))
                return -EOPNOTSUPP;
        if (!q)
                return -ENOMEM;
        q->stats.since = since;
        q->stats.until = until;
        x = remote_simple(R(b), q, &resp, NULL);
        if (x < 0) {
                if (resp && resp->error.code == MGMT_INVALID)
                        log_error("%s: %s", resp->error.field, resp->error.message);
                mgmt_response_free(resp);
                return x;
        }
        *ret = resp;
        return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

static bool event_subscribed_or_failed(Remote *r) {
        return r->event_subscribed || r->connect_error < 0;
}

int ctl_backend_remote_follow_start(CtlBackend *b) {
        Remote *r;
        int x;

        if (!ctl_backend_is_remote(b))
                return -EOPNOTSUPP;
        r = R(b);
        if (r->topic_event[0] != '\0')
                return 0; /* started already */
        x = mgmt_topic_event(r->opts.instance, r->topic_event, sizeof(r->topic_event));
        if (x < 0) {
                r->topic_event[0] = '\0';
                return log_error_errno(x, "Invalid instance id '%s'.", r->opts.instance);
        }
        if (r->connected) {
                r->event_subscribed = false;
                x = mqtt_subscribe(r->mqtt, r->topic_event, 1, &r->event_mid);
                if (x < 0)
                        return log_error_errno(x, "Failed to subscribe to '%s': %m", r->topic_event);
        } else {
                x = remote_connect(r); /* subscribes in on_connect() */
                if (x < 0)
                        return x;
        }
        /* the subscription counts once the broker says so: events published before that are not ours */
        x = remote_run_until(r, event_subscribed_or_failed, r->opts.timeout);
        if (x >= 0 && !r->event_subscribed)
                x = r->connect_error ?: -ECONNRESET;
        if (x < 0)
                return log_error_errno(x, "Failed to subscribe to '%s': %m", r->topic_event);
        return 0;
}

int ctl_backend_remote_follow(CtlBackend *b, CtlLiveEventCb cb, void *userdata) {
        _cleanup_(sd_event_source_unrefp) sd_event_source *sint = NULL, *sterm = NULL;
        Remote *r;
        sigset_t mask;
        int x;

        if (!ctl_backend_is_remote(b))
                return -EOPNOTSUPP;
        r = R(b);
        x = ctl_backend_remote_follow_start(b);
        if (x < 0)
                return x;

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        (void)sigprocmask(SIG_BLOCK, &mask, NULL);
        x = sd_event_add_signal(r->event, &sint, SIGINT, on_signal, NULL);
        if (x >= 0)
                x = sd_event_add_signal(r->event, &sterm, SIGTERM, on_signal, NULL);
        if (x < 0)
                return log_error_errno(x, "Failed to watch for signals: %m");

        r->follow_cb = cb;
        r->follow_userdata = userdata;
        r->follow_r = 0;
        if (r->early_dropped > 0)
                log_warning("%" PRIu64
                            " live event(s) arrived while the audit log was read and were not kept "
                            "(at most %u are).",
                            r->early_dropped, REMOTE_EARLY_EVENTS);
        for (size_t i = 0; i < r->n_early && r->follow_r >= 0; i++)
                follow_deliver(r, &r->early[i]);
        free(r->early);
        r->early = NULL;
        r->n_early = r->n_early_allocated = 0;
        for (;;) {
                x = sd_event_run(r->event, UINT64_MAX);
                if (x < 0 || sd_event_get_state(r->event) == SD_EVENT_FINISHED)
                        break;
                if (!r->connected && r->connect_error < 0) {
                        /* the broker went away: mqtt.c reconnects (on_connect subscribes again); say so once
                         */
                        log_warning_errno(r->connect_error,
                                          "Lost the connection to the broker, reconnecting: %m");
                        r->connect_error = 0;
                }
        }
        r->follow_cb = NULL;
        if (x < 0)
                return x;
        return r->follow_r < 0 ? r->follow_r : 0;
}

/* ---------------------------------------------------------------------------------------------------------
 * Construction */

static void remote_free(CtlBackend *b) {
        Remote *r = b->data;

        if (!r)
                return;
        tx_reset(r);
        mgmt_response_free(r->reply);
        free(r->retained);
        free(r->early);
        if (r->mqtt)
                (void)mqtt_shutdown(r->mqtt, USEC_PER_SEC);
        mqtt_free(r->mqtt);
        sd_event_unref(r->event);
        free(r);
}

int ctl_backend_remote_new(const CtlRemoteOptions *o, bool dry_run, CtlBackend **ret) {
        CtlBackend *b;
        Remote *r;

        if (!o || isempty(o->host) || !mgmt_name_valid(o->instance))
                return -EINVAL;
        r = new0(Remote, 1);
        if (!r)
                return -ENOMEM;
        b = new0(CtlBackend, 1);
        if (!b) {
                free(r);
                return -ENOMEM;
        }
        r->opts = *o;
        r->opts.timeout = o->timeout ?: REMOTE_TIMEOUT_DEFAULT;
        r->dry_run = dry_run;
        *b = (CtlBackend){
                .kind = "remote",
                .data = r,
                .begin = remote_begin,
                .commit = remote_commit,
                .rollback = remote_rollback,
                .network_put = remote_network_put,
                .network_get = remote_network_get,
                .network_list = remote_network_list,
                .network_delete = remote_network_delete,
                .vendor_put = remote_vendor_put,
                .vendor_get = remote_vendor_get,
                .vendor_list = remote_vendor_list,
                .vendor_delete = remote_vendor_delete,
                .vendor_device_key = remote_vendor_device_key,
                .device_put = remote_device_put,
                .device_get = remote_device_get,
                .device_delete = remote_device_delete,
                .device_set_enabled = remote_device_set_enabled,
                .device_list = remote_device_list,
                .device_count = remote_device_count,
                .audit_query = remote_audit_query,
                .free = remote_free,
        };
        *ret = b;
        return 0;
}
