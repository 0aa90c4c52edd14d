/* SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>
#include <stdio.h>

#include "config.h"

#include "api.h"
#include "event-util.h"
#include "fileio.h"
#include "siphash24.h"
#include "hex.h"
#include "log.h"
#include "manager.h"
#include "provcrypto.h"
#include "provmsg.h"
#include "ratelimit.h"
#include "string-util.h"

/* The management API's enums carry the store's values. */
#define ASSERT_SAME(a, b) _Static_assert((int)(a) == (int)(b), #a)
ASSERT_SAME(MGMT_PUT_CREATE, STORE_PUT_CREATE);
ASSERT_SAME(MGMT_PUT_UPDATE, STORE_PUT_UPDATE);
ASSERT_SAME(MGMT_PUT_UPSERT, STORE_PUT_UPSERT);
ASSERT_SAME(MGMT_KEY_KEEP, STORE_KEY_KEEP);
ASSERT_SAME(MGMT_KEY_SET, STORE_KEY_SET);
ASSERT_SAME(MGMT_KEY_CLEAR, STORE_KEY_CLEAR);
ASSERT_SAME(MGMT_VENDOR_KEY_NONE, STORE_VENDOR_KEY_NONE);
ASSERT_SAME(MGMT_VENDOR_KEY_FACTORY, STORE_VENDOR_KEY_FACTORY);
ASSERT_SAME(MGMT_VENDOR_KEY_MASTER, STORE_VENDOR_KEY_MASTER);
ASSERT_SAME(MGMT_ENROLL_NONE, STORE_ENROLL_NONE);
ASSERT_SAME(MGMT_ENROLL_UID_PREFIX, STORE_ENROLL_UID_PREFIX);
ASSERT_SAME(MGMT_ENROLL_AUTHENTICATOR, STORE_ENROLL_AUTHENTICATOR);
ASSERT_SAME(_MGMT_DEVICE_STATE_MAX, _STORE_DEVICE_STATE_MAX);
ASSERT_SAME(MGMT_DEVICE_PROVISIONED, STORE_DEVICE_PROVISIONED);
ASSERT_SAME(_MGMT_EVENT_KIND_MAX, _STORE_EVENT_KIND_MAX);
ASSERT_SAME(MGMT_EVENT_START, STORE_EVENT_START);
ASSERT_SAME(MGMT_EVENT_NACK, STORE_EVENT_NACK);
ASSERT_SAME(MGMT_EVENT_DATA, STORE_EVENT_DATA);
ASSERT_SAME(MGMT_EVENT_ACK, STORE_EVENT_ACK);
ASSERT_SAME(MGMT_EVENT_EXPIRED, STORE_EVENT_EXPIRED);
ASSERT_SAME(MGMT_EVENT_SEND_FAILED, STORE_EVENT_SEND_FAILED);
ASSERT_SAME(MGMT_EVENT_ERROR, STORE_EVENT_ERROR);

typedef struct ApiChunk {
        uint8_t *buf;
        size_t len;
} ApiChunk;

/* A staged bulk upload. */
typedef struct ApiBatch {
        char id[MGMT_BATCH_ID_MAX + 1];
        uint32_t next_seq;
        ApiChunk *chunks;
        size_t n_chunks;
        size_t bytes;
        uint64_t n_devices;
        uint32_t n_networks;
        usec_t last_activity; /* CLOCK_MONOTONIC */
} ApiBatch;

struct Api {
        Manager *manager;
        char instance[NAME_MAX_LEN + 1];
        bool events;
        usec_t status_interval;

        char topic_status[MGMT_TOPIC_BUFFER_SIZE];
        char topic_event[MGMT_TOPIC_BUFFER_SIZE];
        char topic_requests[MGMT_TOPIC_BUFFER_SIZE];
        uint8_t will[MGMT_STATUS_MAX];
        size_t will_len;

        sd_event_source *status_timer;
        ApiBatch *batch;
        /* The last staged batch applied: its last chunk redelivered (QoS 1, after a reconnect that lost
         * the answer) gets the same answer instead of "not known". */
        struct {
                bool valid;
                char id[MGMT_BATCH_ID_MAX + 1];
                uint32_t seq;
                uint64_t digest; /* siphash of the last chunk's bytes */
                MgmtBulkResult result;
        } applied;
        uint8_t digest_key[16];

        ApiCounters counters;
        RateLimit bad_log_rl;
};

static void batch_free(ApiBatch *b) {
        if (!b)
                return;
        for (size_t i = 0; i < b->n_chunks; i++) {
                explicit_bzero_safe(b->chunks[i].buf, b->chunks[i].len); /* keys of puts */
                free(b->chunks[i].buf);
        }
        free(b->chunks);
        free(b);
}

static void api_drop_batch(Api *a) {
        batch_free(a->batch);
        a->batch = NULL;
}

/* ---------------------------------------------------------------------------------------------------------
 * Status */

static void status_fill(Api *a, bool online, MgmtStatus *s) {
        Manager *m = a->manager;
        _cleanup_free_ ManagerStatus *ms = NULL;

        *s = (MgmtStatus){ .online = online, .time = now(CLOCK_REALTIME) };
        snprintf(s->instance, sizeof(s->instance), "%s", a->instance);
        snprintf(s->version, sizeof(s->version), "%s", PACKAGE_VERSION);
        if (!online)
                return;

        ms = new0(ManagerStatus, 1);
        if (!ms)
                return; /* the status then says online, without details */
        manager_get_status(m, ms);
        s->uptime = ms->uptime;
        snprintf(s->broker_host, sizeof(s->broker_host), "%s", ms->broker_host);
        s->broker_connected = ms->broker_connected;
        s->gateway_api = ms->gateway_api;
        s->gateways_online = ms->gateways_online;
        s->n_sinks = MIN(ms->n_sinks, (size_t)SINKS_MAX);
        for (size_t i = 0; i < s->n_sinks; i++) {
                snprintf(s->sinks[i].name, sizeof(s->sinks[i].name), "%s", ms->sinks[i].name);
                snprintf(s->sinks[i].device, sizeof(s->sinks[i].device), "%s", ms->sinks[i].device);
                snprintf(s->sinks[i].state, sizeof(s->sinks[i].state), "%s", ms->sinks[i].state);
                s->sinks[i].online = ms->sinks[i].online;
        }
        s->has_counters = true;
        s->counters = (MgmtCounters){
                .uplinks = ms->engine.uplinks,
                .malformed = ms->engine.malformed,
                .starts = ms->engine.starts,
                .data_sent = ms->engine.data_sent,
                .data_resent = ms->engine.data_resent,
                .acks = ms->engine.acks,
                .expired = ms->engine.expired,
                .send_failed = ms->engine.send_failed,
                .errors = ms->engine.errors,
                .sessions_live = ms->engine.sessions_live,
                .sessions_max = ms->engine.sessions_max,
                .api_requests = a->counters.requests,
                .api_errors = a->counters.errors,
                .api_dropped = a->counters.dropped,
                .events_published = a->counters.events_published,
                .events_dropped = a->counters.events_dropped,
        };
        for (size_t i = 0; i < ELEMENTSOF(ms->engine.nacks); i++)
                s->counters.nacks += ms->engine.nacks[i];
}

static void api_publish_status(Api *a, bool online) {
        _cleanup_free_ MgmtStatus *s = new0(MgmtStatus, 1);
        _cleanup_free_ uint8_t *buf = new (uint8_t, MGMT_STATUS_MAX);
        int n, r;

        if (!s || !buf || !mqtt_is_connected(a->manager->mqtt))
                return;
        status_fill(a, online, s);
        n = mgmt_status_encode(s, buf, MGMT_STATUS_MAX);
        if (n < 0) {
                log_warning_errno(n, "Failed to encode the API status, ignoring: %m");
                return;
        }
        r = mqtt_publish(a->manager->mqtt, a->topic_status, buf, (size_t)n, 1, true, NULL);
        if (r < 0)
                log_debug_errno(r, "Failed to publish the API status: %m");
}

static int on_status_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Api *a = userdata;

        api_publish_status(a, true);
        if (a->batch &&
            usec_sub(now(CLOCK_MONOTONIC), a->batch->last_activity) >= MGMT_STAGED_IDLE_SEC * USEC_PER_SEC) {
                log_info("Dropping staged bulk upload '%s' after %u s without a chunk.", a->batch->id,
                         MGMT_STAGED_IDLE_SEC);
                api_drop_batch(a);
        }
        (void)event_source_rearm(s, a->status_interval);
        return 0;
}

/* ---------------------------------------------------------------------------------------------------------
 * Mapping between the store's structs and the API's */

static void fingerprint_of(const uint8_t *key, size_t len, char *buf, size_t size) {
        char fp[KEY_FINGERPRINT_MAX];

        if (!key_fingerprint(key, len, fp, sizeof(fp)))
                snprintf(fp, sizeof(fp), "sha256:unavailable");
        snprintf(buf, size, "%s", fp);
}

static void network_to_store(const MgmtNetwork *n, StoreNetwork *s) {
        *s = (StoreNetwork){
                .profile = n->profile,
                .network_address = n->network_address,
                .channel = n->channel,
                .keys_update = (StoreKeyUpdate)n->keys_update,
                .allow_unsecured = n->allow_unsecured,
                .has_pool = n->has_pool,
                .pool_first = n->pool_first,
                .pool_last = n->pool_last,
        };
        memcpy(s->name, n->name, sizeof(s->name));
        memcpy(s->enc_key, n->enc_key, sizeof(s->enc_key));
        memcpy(s->auth_key, n->auth_key, sizeof(s->auth_key));
}

static void network_from_store(const StoreNetwork *s, MgmtNetwork *n) {
        *n = (MgmtNetwork){
                .profile = s->profile,
                .network_address = s->network_address,
                .channel = s->channel,
                .allow_unsecured = s->allow_unsecured,
                .has_pool = s->has_pool,
                .pool_first = s->pool_first,
                .pool_last = s->pool_last,
                .created = s->created,
                .updated = s->updated,
        };
        memcpy(n->name, s->name, sizeof(n->name));
        fingerprint_of(s->enc_key, sizeof(s->enc_key), n->enc_key_fingerprint,
                       sizeof(n->enc_key_fingerprint));
        fingerprint_of(s->auth_key, sizeof(s->auth_key), n->auth_key_fingerprint,
                       sizeof(n->auth_key_fingerprint));
}

static void vendor_to_store(const MgmtVendor *v, StoreVendor *s) {
        *s = (StoreVendor){
                .key_update = (StoreKeyUpdate)v->key_update,
                .key_kind = (StoreVendorKeyKind)v->key_kind,
                .enroll_kind = (StoreEnrollKind)v->enroll_kind,
                .enroll_prefix_len = MIN(v->enroll_prefix_len, sizeof(s->enroll_prefix)),
                .enroll_method = v->enroll_method,
                .enabled = v->enabled,
        };
        memcpy(s->name, v->name, sizeof(s->name));
        memcpy(s->key, v->key, sizeof(s->key));
        memcpy(s->enroll_prefix, v->enroll_prefix, sizeof(s->enroll_prefix));
        memcpy(s->default_network, v->default_network, sizeof(s->default_network));
}

static void vendor_from_store(const StoreVendor *s, MgmtVendor *v) {
        *v = (MgmtVendor){
                .key_kind = (MgmtVendorKeyKind)s->key_kind,
                .enroll_kind = (MgmtEnrollKind)s->enroll_kind,
                .enroll_prefix_len = MIN(s->enroll_prefix_len, sizeof(v->enroll_prefix)),
                .enroll_method = s->enroll_method,
                .enabled = s->enabled,
                .created = s->created,
                .updated = s->updated,
        };
        memcpy(v->name, s->name, sizeof(v->name));
        memcpy(v->enroll_prefix, s->enroll_prefix, sizeof(v->enroll_prefix));
        memcpy(v->default_network, s->default_network, sizeof(v->default_network));
        if (s->key_kind != STORE_VENDOR_KEY_NONE)
                fingerprint_of(s->key, sizeof(s->key), v->key_fingerprint, sizeof(v->key_fingerprint));
}

static void device_to_store(const MgmtDevice *d, StoreDevice *s) {
        memset(s, 0, sizeof(*s));
        memcpy(s->uid, d->uid, sizeof(s->uid));
        s->uid_len = MIN(d->uid_len, sizeof(s->uid));
        memcpy(s->label, d->label, sizeof(s->label));
        memcpy(s->vendor, d->vendor, sizeof(s->vendor));
        memcpy(s->network, d->network, sizeof(s->network));
        s->method = d->method;
        s->factory_key_update = (StoreKeyUpdate)d->factory_key_update;
        s->has_factory_key = d->factory_key_update == MGMT_KEY_SET;
        memcpy(s->factory_key, d->factory_key, sizeof(s->factory_key));
        s->has_node_address = d->has_node_address;
        s->node_address = d->node_address;
        s->has_role = d->has_role;
        s->role = d->role;
        s->n_user_items = MIN(d->n_user_items, (size_t)PROV_PARAMS_USER_MAX);
        memcpy(s->user_items, d->user_items, s->n_user_items * sizeof(ProvUserItem));
        s->enabled = d->enabled;
}

static void device_from_store(const StoreDevice *s, MgmtDevice *d) {
        memset(d, 0, sizeof(*d));
        memcpy(d->uid, s->uid, sizeof(d->uid));
        d->uid_len = s->uid_len;
        memcpy(d->label, s->label, sizeof(d->label));
        memcpy(d->vendor, s->vendor, sizeof(d->vendor));
        memcpy(d->network, s->network, sizeof(d->network));
        d->method = s->method;
        d->has_factory_key = s->has_factory_key;
        if (s->has_factory_key)
                fingerprint_of(s->factory_key, sizeof(s->factory_key), d->factory_key_fingerprint,
                               sizeof(d->factory_key_fingerprint));
        d->has_node_address = s->has_node_address;
        d->node_address = s->node_address;
        d->has_role = s->has_role;
        d->role = s->role;
        d->n_user_items = MIN(s->n_user_items, (size_t)PROV_PARAMS_USER_MAX);
        memcpy(d->user_items, s->user_items, d->n_user_items * sizeof(ProvUserItem));
        d->enabled = s->enabled;
        d->state = (MgmtDeviceState)s->state;
        d->has_allocated_address = s->has_allocated_address;
        d->allocated_address = s->allocated_address;
        d->created = s->created;
        d->updated = s->updated;
        d->last_start = s->last_start;
        d->provisioned_at = s->provisioned_at;
        d->n_starts = s->n_starts;
        d->n_provisioned = s->n_provisioned;
}

static void event_from_store(const StoreAuditEvent *s, MgmtEvent *e) {
        *e = (MgmtEvent){
                .id = s->id,
                .time = s->time,
                .kind = (MgmtEventKind)s->kind,
                .uid_len = MIN(s->uid_len, sizeof(e->uid)),
                .method = s->method,
                .source_address = s->source_address,
                .node_address = s->node_address,
                .session_id = s->session_id,
                .nack_reason = s->nack_reason >= 0 && s->nack_reason < _PROV_NACK_MAX ? s->nack_reason : -1,
        };
        memcpy(e->uid, s->uid, e->uid_len);
        snprintf(e->vendor, sizeof(e->vendor), "%s", s->vendor);
        snprintf(e->network, sizeof(e->network), "%s", s->network);
        snprintf(e->gateway, sizeof(e->gateway), "%s", s->gateway);
        snprintf(e->sink, sizeof(e->sink), "%s", s->sink);
        snprintf(e->result, sizeof(e->result), "%s", s->result);
        snprintf(e->detail, sizeof(e->detail), "%s", s->detail);
}

static MgmtEventKind event_kind_from_record(ProvRecordKind k) {
        switch (k) {
        case PROV_RECORD_START:
                return MGMT_EVENT_START;
        case PROV_RECORD_NACK:
                return MGMT_EVENT_NACK;
        case PROV_RECORD_DATA:
                return MGMT_EVENT_DATA;
        case PROV_RECORD_ACK:
                return MGMT_EVENT_ACK;
        case PROV_RECORD_EXPIRED:
                return MGMT_EVENT_EXPIRED;
        case PROV_RECORD_SEND_FAILED:
                return MGMT_EVENT_SEND_FAILED;
        case PROV_RECORD_ERROR:
        case _PROV_RECORD_KIND_MAX:
        case _PROV_RECORD_KIND_INVALID:
                break;
        }
        return MGMT_EVENT_ERROR;
}

/* The store names its fields as its structs do; the API as mgmt.proto does. Most agree. */
static const char *api_field(const char *store_field) {
        static const char *const map[][2] = {
                { "pool", "pool_first" },
                { "keys", "keys_update" },
        };
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq(store_field, map[i][0]))
                        return map[i][1];
        return store_field;
}

/* A store failure as an answer. prefix: "network", "devices[12]", "". */
static int store_failure(MgmtError *e, int r, const char *prefix, const StoreError *se) {
        char field[sizeof(e->field)];
        MgmtCode code;

        switch (r) {
        case -EINVAL:
                /* a put naming a network or vendor that does not exist */
                code = se && se->missing ? MGMT_NOT_FOUND : MGMT_INVALID;
                break;
        case -EMSGSIZE:
                code = MGMT_INVALID;
                break;
        case -EEXIST:
                code = MGMT_EXISTS;
                break;
        case -ENOENT:
                code = MGMT_NOT_FOUND;
                break;
        case -EBUSY:
                code = se && se->message[0] ? MGMT_IN_USE : MGMT_BUSY;
                break;
        default:
                code = MGMT_INTERNAL;
                break;
        }
        if (se && se->field[0])
                snprintf(field, sizeof(field), "%s%s%s", prefix, prefix[0] ? "." : "", api_field(se->field));
        else
                snprintf(field, sizeof(field), "%s", prefix);
        if (se && se->message[0])
                return mgmt_error_set(e, code, field, "%s", se->message);
        if (code == MGMT_BUSY)
                return mgmt_error_set(e, code, field, "the database is busy, try again");
        return mgmt_error_set(e, code, field, "the database failed: %s", strerror(-r));
}

/* ---------------------------------------------------------------------------------------------------------
 * Operations */

static Store *S(Api *a) {
        return a->manager->store;
}

static usec_t now_realtime(void) {
        return now(CLOCK_REALTIME);
}

static int reply_network(Api *a, const char *name, MgmtResponse *resp) {
        StoreNetwork n;
        int r;

        r = store_network_get(S(a), name, &n);
        if (r == -ENOENT)
                return mgmt_error_set(&resp->error, MGMT_NOT_FOUND, "name", "there is no network '%s'",
                                      name);
        if (r < 0)
                return store_failure(&resp->error, r, "", NULL);
        network_from_store(&n, &resp->network);
        explicit_bzero_safe(&n, sizeof(n));
        return 0;
}

static int reply_vendor(Api *a, const char *name, MgmtResponse *resp) {
        StoreVendor v;
        int r;

        r = store_vendor_get(S(a), name, &v);
        if (r == -ENOENT)
                return mgmt_error_set(&resp->error, MGMT_NOT_FOUND, "name", "there is no vendor '%s'", name);
        if (r < 0)
                return store_failure(&resp->error, r, "", NULL);
        vendor_from_store(&v, &resp->vendor);
        explicit_bzero_safe(&v, sizeof(v));
        return 0;
}

static int reply_device(Api *a, const uint8_t *uid, size_t uid_len, MgmtDevice *ret, MgmtError *e) {
        _cleanup_free_ StoreDevice *d = new0(StoreDevice, 1);
        int r;

        if (!d)
                return mgmt_error_set(e, MGMT_INTERNAL, NULL, "out of memory");
        r = store_device_get(S(a), uid, uid_len, d);
        if (r == -ENOENT) {
                char hex[2 * PROV_UID_MAX + 1];
                return mgmt_error_set(e, MGMT_NOT_FOUND, "uid", "there is no device %s",
                                      hex_encode(uid, uid_len, hex, sizeof(hex)));
        }
        if (r < 0)
                return store_failure(e, r, "", NULL);
        device_from_store(d, ret);
        explicit_bzero_safe(d, sizeof(*d));
        return 0;
}

static int op_network_put(Api *a, const MgmtRequest *q, MgmtResponse *resp) {
        StoreError se = {};
        StoreNetwork n;
        int r;

        network_to_store(&q->network_put.network, &n);
        r = store_network_put(S(a), &n, (StorePutMode)q->network_put.mode, now_realtime(), &se);
        explicit_bzero_safe(&n, sizeof(n));
        if (r < 0)
                return store_failure(&resp->error, r, "network", &se);
        resp->created = r > 0;
        return reply_network(a, q->network_put.network.name, resp);
}

static int op_vendor_put(Api *a, const MgmtRequest *q, MgmtResponse *resp) {
        StoreError se = {};
        StoreVendor v;
        int r;

        vendor_to_store(&q->vendor_put.vendor, &v);
        r = store_vendor_put(S(a), &v, (StorePutMode)q->vendor_put.mode, now_realtime(), &se);
        explicit_bzero_safe(&v, sizeof(v));
        if (r < 0)
                return store_failure(&resp->error, r, "vendor", &se);
        resp->created = r > 0;
        return reply_vendor(a, q->vendor_put.vendor.name, resp);
}

static int op_device_put(Api *a, const MgmtRequest *q, MgmtResponse *resp) {
        _cleanup_free_ StoreDevice *d = new0(StoreDevice, 1);
        StoreError se = {};
        int r;

        if (!d)
                return mgmt_error_set(&resp->error, MGMT_INTERNAL, NULL, "out of memory");
        device_to_store(&q->device_put.device, d);
        r = store_device_put(S(a), d, (StorePutMode)q->device_put.mode, now_realtime(), &se);
        explicit_bzero_safe(d, sizeof(*d));
        if (r < 0)
                return store_failure(&resp->error, r, "device", &se);
        resp->created = r > 0;
        return reply_device(a, q->device_put.device.uid, q->device_put.device.uid_len, &resp->device,
                            &resp->error);
}

typedef struct ListCtx {
        const char *after;
        unsigned limit;
        size_t n;
        bool more;
        void *items;
} ListCtx;

static int network_list_cb(const StoreNetwork *n, void *userdata) {
        ListCtx *l = userdata;
        MgmtNetwork *items = l->items;

        if (l->after[0] && strcmp(n->name, l->after) <= 0)
                return 0;
        if (l->n >= l->limit) {
                l->more = true;
                return -ECANCELED; /* stop */
        }
        network_from_store(n, &items[l->n++]);
        return 0;
}

static int vendor_list_cb(const StoreVendor *v, void *userdata) {
        ListCtx *l = userdata;
        MgmtVendor *items = l->items;

        if (l->after[0] && strcmp(v->name, l->after) <= 0)
                return 0;
        if (l->n >= l->limit) {
                l->more = true;
                return -ECANCELED;
        }
        vendor_from_store(v, &items[l->n++]);
        return 0;
}

static int device_list_cb(const StoreDevice *d, void *userdata) {
        ListCtx *l = userdata;
        MgmtDevice *items = l->items;

        if (l->n >= l->limit) {
                l->more = true;
                return -ECANCELED;
        }
        device_from_store(d, &items[l->n++]);
        return 0;
}

static int audit_list_cb(const StoreAuditEvent *e, void *userdata) {
        ListCtx *l = userdata;
        MgmtEvent *items = l->items;

        if (l->n >= l->limit) {
                l->more = true;
                return -ECANCELED;
        }
        event_from_store(e, &items[l->n++]);
        return 0;
}

static int op_network_list(Api *a, const MgmtRequest *q, MgmtResponse *resp) {
        ListCtx l = { .after = q->list.after, .limit = q->list.limit };
        int r;

        l.items = resp->networks.items = new0(MgmtNetwork, l.limit);
        if (!l.items)
                return mgmt_error_set(&resp->error, MGMT_INTERNAL, NULL, "out of memory");
        r = store_network_list(S(a), network_list_cb, &l);
        resp->networks.n = l.n;
        resp->networks.more = l.more;
        if (r < 0 && r != -ECANCELED)
                return store_failure(&resp->error, r, "", NULL);
        return 0;
}

static int op_vendor_list(Api *a, const MgmtRequest *q, MgmtResponse *resp) {
        ListCtx l = { .after = q->list.after, .limit = q->list.limit };
        int r;

        l.items = resp->vendors.items = new0(MgmtVendor, l.limit);
        if (!l.items)
                return mgmt_error_set(&resp->error, MGMT_INTERNAL, NULL, "out of memory");
        r = store_vendor_list(S(a), vendor_list_cb, &l);
        resp->vendors.n = l.n;
        resp->vendors.more = l.more;
        if (r < 0 && r != -ECANCELED)
                return store_failure(&resp->error, r, "", NULL);
        return 0;
}

static void filter_to_store(const MgmtDeviceFilter *f, StoreDeviceFilter *s) {
        *s = (StoreDeviceFilter){
                .vendor = f->vendor[0] ? f->vendor : NULL,
                .network = f->network[0] ? f->network : NULL,
                .state = f->state,
                .after_uid = f->after_uid_len > 0 ? f->after_uid : NULL,
                .after_uid_len = f->after_uid_len,
        };
}

static int filter_failure(MgmtError *e, int r, const MgmtDeviceFilter *f) {
        if (r == -ENOENT)
                return mgmt_error_set(e, MGMT_NOT_FOUND, f->vendor[0] ? "vendor" : "network",
                                      "the %s filter names nothing that exists",
                                      f->vendor[0] ? "vendor" : "network");
        return store_failure(e, r, "", NULL);
}

static int op_device_list(Api *a, const MgmtRequest *q, MgmtResponse *resp) {
        ListCtx l = { .limit = q->filter.limit };
        StoreDeviceFilter f;
        int r;

        filter_to_store(&q->filter, &f);
        f.limit = l.limit + 1; /* one more tells whether another page follows */
        l.items = resp->devices.items = new0(MgmtDevice, l.limit);
        if (!l.items)
                return mgmt_error_set(&resp->error, MGMT_INTERNAL, NULL, "out of memory");
        r = store_device_list(S(a), &f, device_list_cb, &l);
        resp->devices.n = l.n;
        resp->devices.more = l.more;
        if (r < 0 && r != -ECANCELED)
                return filter_failure(&resp->error, r, &q->filter);
        return 0;
}

static int op_device_count(Api *a, const MgmtRequest *q, MgmtResponse *resp) {
        StoreDeviceFilter f;
        int r;

        filter_to_store(&q->filter, &f);
        r = store_device_count(S(a), &f, &resp->count);
        if (r < 0)
                return filter_failure(&resp->error, r, &q->filter);
        return 0;
}

static int op_device_delete(Api *a, const MgmtRequest *q, MgmtResponse *resp) {
        StoreError se = {};
        int r;

        r = store_device_delete(S(a), q->device.uid, q->device.uid_len, &se);
        if (r < 0)
                return store_failure(&resp->error, r, "", &se);
        return 0;
}

static int op_device_enable(Api *a, const MgmtRequest *q, bool enable, MgmtResponse *resp) {
        int r;

        r = store_device_set_enabled(S(a), q->device.uid, q->device.uid_len, enable, now_realtime());
        if (r == -ENOENT)
                return mgmt_error_set(&resp->error, MGMT_NOT_FOUND, "uid", "there is no such device");
        if (r < 0)
                return store_failure(&resp->error, r, "", NULL);
        return reply_device(a, q->device.uid, q->device.uid_len, &resp->device, &resp->error);
}

static int op_device_history(Api *a, const MgmtRequest *q, MgmtResponse *resp) {
        StoreAuditFilter f = {
                .uid = q->device.uid,
                .uid_len = q->device.uid_len,
                .kind = -1,
                .after_id = q->device.after_id,
                .descending = true,
                .limit = q->device.limit + 1,
        };
        ListCtx l = { .limit = q->device.limit };
        MgmtError e = {};
        int r;

        resp->history.device = new0(MgmtDevice, 1);
        if (!resp->history.device)
                return mgmt_error_set(&resp->error, MGMT_INTERNAL, NULL, "out of memory");
        r = reply_device(a, q->device.uid, q->device.uid_len, resp->history.device, &e);
        if (r ==
            -ENOENT) { /* no device row: admitted by enrollment, or unknown; the history may still exist */
                free(resp->history.device);
                resp->history.device = NULL;
        } else if (r < 0) {
                resp->error = e;
                return r;
        }
        l.items = resp->history.items = new0(MgmtEvent, l.limit);
        if (!l.items)
                return mgmt_error_set(&resp->error, MGMT_INTERNAL, NULL, "out of memory");
        r = store_audit_query(S(a), &f, audit_list_cb, &l);
        resp->history.n = l.n;
        resp->history.more = l.more;
        if (r < 0 && r != -ECANCELED)
                return store_failure(&resp->error, r, "", NULL);
        return 0;
}

static int op_audit_query(Api *a, const MgmtRequest *q, MgmtResponse *resp) {
        const MgmtAuditFilter *m = &q->audit;
        StoreAuditFilter f = {
                .uid = m->uid_len > 0 ? m->uid : NULL,
                .uid_len = m->uid_len,
                .since = m->since,
                .until = m->until,
                .kind = m->kind,
                .result = m->result[0] ? m->result : NULL,
                .after_id = m->after_id,
                .descending = m->descending,
                .limit = m->limit + 1,
        };
        ListCtx l = { .limit = m->limit };
        int r;

        l.items = resp->events.items = new0(MgmtEvent, l.limit);
        if (!l.items)
                return mgmt_error_set(&resp->error, MGMT_INTERNAL, NULL, "out of memory");
        r = store_audit_query(S(a), &f, audit_list_cb, &l);
        resp->events.n = l.n;
        resp->events.more = l.more;
        if (r < 0 && r != -ECANCELED)
                return store_failure(&resp->error, r, "", NULL);
        return 0;
}

static int op_stats(Api *a, const MgmtRequest *q, MgmtResponse *resp) {
        MgmtStats *s = &resp->stats;
        int r;

        r = store_mgmt_stats(S(a), q->stats.since, q->stats.until, s);
        if (r < 0)
                return store_failure(&resp->error, r, "", NULL);

        _cleanup_free_ MgmtStatus *live = new0(MgmtStatus, 1);
        if (!live)
                return mgmt_error_set(&resp->error, MGMT_INTERNAL, NULL, "out of memory");
        status_fill(a, true, live);
        s->has_counters = live->has_counters;
        s->counters = live->counters;
        return 0;
}

/* ---- bulk ---- */

typedef struct BulkTally {
        MgmtBulkResult result;
        MgmtError *err;
        int first;
} BulkTally;

static void bulk_item_failed(BulkTally *t, int r, const char *prefix, const StoreError *se, uint64_t index) {
        MgmtError e = {};

        (void)store_failure(&e, r, prefix, se);
        mgmt_error_add_item(t->err, (uint32_t)MIN(index, (uint64_t)UINT32_MAX), e.code, e.field, e.message);
        if (t->first == 0) {
                t->first = r;
                (void)mgmt_error_set(t->err, e.code, e.field, "%s", e.message);
        }
}

/* Applies the items of one decoded chunk; item errors are collected (up to MGMT_ITEM_ERRORS_MAX), the
 * caller rolls back if there was any. Returns <0 only when the database itself failed. */
static int bulk_apply_chunk(Api *a, const MgmtRequest *q, uint32_t net_base, uint64_t dev_base, usec_t stamp,
                            BulkTally *t) {
        _cleanup_free_ MgmtDevicePut *mp = new (MgmtDevicePut, 1);
        _cleanup_free_ StoreDevice *d = new (StoreDevice, 1);
        char prefix[48];
        int r;

        if (!mp || !d)
                return -ENOMEM;
        for (size_t i = 0; i < q->bulk.n_networks; i++) {
                MgmtNetworkPut np;
                StoreNetwork n;
                StoreError se = {};

                r = mgmt_request_bulk_network(q, i, &np);
                if (r < 0)
                        return r;
                network_to_store(&np.network, &n);
                r = store_network_put(S(a), &n, (StorePutMode)np.mode, stamp, &se);
                explicit_bzero_safe(&n, sizeof(n));
                explicit_bzero_safe(&np, sizeof(np));
                if (r == -ECANCELED)
                        return r;
                if (r < 0) {
                        snprintf(prefix, sizeof(prefix), "networks[%" PRIu64 "]", (uint64_t)net_base + i);
                        bulk_item_failed(t, r, prefix, &se, (uint64_t)net_base + i);
                        if (t->err->n_items >= MGMT_ITEM_ERRORS_MAX)
                                return 0;
                } else if (r > 0)
                        t->result.networks_created++;
                else
                        t->result.networks_updated++;
        }
        for (size_t i = 0; i < q->bulk.n_devices; i++) {
                StoreError se = {};

                r = mgmt_request_bulk_device(q, i, mp);
                if (r < 0)
                        return r;
                device_to_store(&mp->device, d);
                r = store_device_put(S(a), d, (StorePutMode)mp->mode, stamp, &se);
                explicit_bzero_safe(d, sizeof(*d));
                explicit_bzero_safe(mp, sizeof(*mp));
                if (r == -ECANCELED)
                        return r;
                if (r < 0) {
                        snprintf(prefix, sizeof(prefix), "devices[%" PRIu64 "]", dev_base + i);
                        bulk_item_failed(t, r, prefix, &se, dev_base + i);
                        if (t->err->n_items >= MGMT_ITEM_ERRORS_MAX)
                                return 0;
                } else if (r > 0)
                        t->result.devices_created++;
                else
                        t->result.devices_updated++;
        }
        return 0;
}

/* Applies a whole batch (the staged chunks, then `last`) in one transaction. */
static int bulk_apply(Api *a, const ApiBatch *b, const MgmtRequest *last, MgmtResponse *resp) {
        BulkTally t = { .err = &resp->error };
        uint64_t dev_base = 0;
        uint32_t net_base = 0;
        usec_t t0 = now(CLOCK_MONOTONIC), stamp = now_realtime();
        int r;

        r = store_begin(S(a));
        if (r < 0)
                return store_failure(&resp->error, r, "", NULL);

        for (size_t i = 0; b && i < b->n_chunks && t.first == 0; i++) {
                _cleanup_(mgmt_request_freep) MgmtRequest *q = NULL;
                MgmtError e;

                r = mgmt_request_decode(b->chunks[i].buf, b->chunks[i].len, MGMT_OP_DEVICE_BULK_PUT, &q, &e);
                if (r < 0)
                        goto fail; /* it decoded when it arrived: only -ENOMEM gets here */
                r = bulk_apply_chunk(a, q, net_base, dev_base, stamp, &t);
                if (r < 0)
                        goto fail;
                net_base += (uint32_t)q->bulk.n_networks;
                dev_base += q->bulk.n_devices;
        }
        if (t.first == 0) {
                r = bulk_apply_chunk(a, last, net_base, dev_base, stamp, &t);
                if (r < 0)
                        goto fail;
        }

        if (t.first < 0 || last->bulk.dry_run) {
                r = store_rollback(S(a));
                if (r < 0 && t.first == 0)
                        return store_failure(&resp->error, r, "", NULL);
                if (t.first < 0)
                        return t.first;
        } else {
                r = store_commit(S(a));
                if (r < 0) {
                        (void)store_rollback(S(a));
                        return store_failure(&resp->error, r, "", NULL);
                }
        }
        resp->bulk = t.result;
        resp->bulk.committed = !last->bulk.dry_run;
        resp->bulk.dry_run = last->bulk.dry_run;
        resp->bulk.staged_networks = net_base + (uint32_t)last->bulk.n_networks;
        resp->bulk.staged_devices = dev_base + last->bulk.n_devices;
        log_info("Management API: bulk put '%s' %s: networks %" PRIu32 " created, %" PRIu32
                 " updated; devices %" PRIu64 " created, %" PRIu64 " updated (%" PRIu64 " ms).",
                 b ? b->id : last->id, last->bulk.dry_run ? "checked (dry run)" : "applied",
                 t.result.networks_created, t.result.networks_updated, t.result.devices_created,
                 t.result.devices_updated, usec_sub(now(CLOCK_MONOTONIC), t0) / USEC_PER_MSEC);
        return 0;

fail:
        (void)store_rollback(S(a));
        return store_failure(&resp->error, r, "", NULL);
}

static int op_bulk(Api *a, const MgmtRequest *q, const uint8_t *payload, size_t len, MgmtResponse *resp) {
        const MgmtBulkPut *bp = &q->bulk;
        usec_t t = now(CLOCK_MONOTONIC);
        ApiBatch *b;
        int r;

        if (!bp->batch[0]) {
                r = mgmt_request_bulk_check(q, 0, 0, &resp->error);
                if (r < 0)
                        return r;
                return bulk_apply(a, NULL, q, resp);
        }

        if (bp->abort) {
                if (a->batch && streq(a->batch->id, bp->batch)) {
                        log_info("Management API: staged bulk upload '%s' aborted by the client.",
                                 a->batch->id);
                        api_drop_batch(a);
                }
                return 0;
        }
        if (a->batch && !streq(a->batch->id, bp->batch)) {
                if (usec_sub(t, a->batch->last_activity) < MGMT_STAGED_IDLE_SEC * USEC_PER_SEC)
                        return mgmt_error_set(&resp->error, MGMT_BUSY, "batch",
                                              "another bulk upload ('%s') is in progress; try again later",
                                              a->batch->id);
                log_info("Dropping idle staged bulk upload '%s' for '%s'.", a->batch->id, bp->batch);
                api_drop_batch(a);
        }
        if (!a->batch && a->applied.valid && bp->last && streq(a->applied.id, bp->batch) &&
            bp->seq == a->applied.seq && siphash24(payload, len, a->digest_key) == a->applied.digest) {
                log_debug("Management API: the last chunk of applied batch '%s' again, answered again.",
                          bp->batch);
                resp->bulk = a->applied.result;
                return 0;
        }
        if (!a->batch) {
                if (bp->seq != 0)
                        return mgmt_error_set(
                                &resp->error, MGMT_INVALID, "seq",
                                "batch '%s' is not known here (it may have expired): start again "
                                "with seq 0",
                                bp->batch);
                a->batch = b = new0(ApiBatch, 1);
                if (!b)
                        return mgmt_error_set(&resp->error, MGMT_INTERNAL, NULL, "out of memory");
                snprintf(b->id, sizeof(b->id), "%s", bp->batch);
        }
        b = a->batch;
        if (b->n_chunks > 0 && bp->seq == b->next_seq - 1 && !bp->last) {
                /* Requests are QoS 1: the chunk staged last may come again (redelivered after a reconnect).
                 * The same bytes get the same answer; nothing is staged twice. */
                const ApiChunk *prev = &b->chunks[b->n_chunks - 1];
                if (prev->len == len && memcmp(prev->buf, payload, len) == 0) {
                        log_debug("Management API: chunk %" PRIu32 " of batch '%s' again, answered again.",
                                  bp->seq, b->id);
                        b->last_activity = t;
                        resp->bulk = (MgmtBulkResult){
                                .staged_devices = b->n_devices,
                                .staged_networks = b->n_networks,
                                .dry_run = bp->dry_run,
                        };
                        return 0;
                }
                r = mgmt_error_set(&resp->error, MGMT_INVALID, "seq",
                                   "chunk %" PRIu32 " of batch '%s' was received already, with other "
                                   "content; expected chunk %" PRIu32 "; the batch is dropped",
                                   bp->seq, b->id, b->next_seq);
                api_drop_batch(a);
                return r;
        }
        if (bp->seq != b->next_seq) {
                r = mgmt_error_set(&resp->error, MGMT_INVALID, "seq",
                                   "expected chunk %" PRIu32 " of batch '%s', got seq %" PRIu32
                                   "; the batch is dropped",
                                   b->next_seq, b->id, bp->seq);
                api_drop_batch(a);
                return r;
        }
        if (len > MGMT_STAGED_BYTES_MAX - b->bytes ||
            bp->n_devices + bp->n_networks > MGMT_STAGED_ITEMS_MAX - (b->n_devices + b->n_networks)) {
                r = mgmt_error_set(&resp->error, MGMT_TOO_LARGE, "devices",
                                   "a staged batch holds at most %u items and %u MiB; the batch is dropped",
                                   MGMT_STAGED_ITEMS_MAX, MGMT_STAGED_BYTES_MAX >> 20);
                api_drop_batch(a);
                return r;
        }
        r = mgmt_request_bulk_check(q, b->n_networks, b->n_devices, &resp->error);
        if (r < 0) {
                api_drop_batch(a);
                return r;
        }
        b->last_activity = t;
        b->next_seq++;

        if (bp->last) {
                r = bulk_apply(a, b, q, resp);
                a->applied.valid = r >= 0 && resp->error.code == MGMT_OK && resp->bulk.committed;
                if (a->applied.valid) {
                        snprintf(a->applied.id, sizeof(a->applied.id), "%s", b->id);
                        a->applied.seq = bp->seq;
                        a->applied.digest = siphash24(payload, len, a->digest_key);
                        a->applied.result = resp->bulk;
                }
                api_drop_batch(a);
                return r;
        }

        /* keep the chunk's bytes; it is decoded again when the batch is applied */
        ApiChunk *c = reallocarray(b->chunks, b->n_chunks + 1, sizeof(ApiChunk));
        if (!c) {
                api_drop_batch(a);
                return mgmt_error_set(&resp->error, MGMT_INTERNAL, NULL, "out of memory");
        }
        b->chunks = c;
        c[b->n_chunks].buf = malloc(MAX(len, (size_t)1));
        if (!c[b->n_chunks].buf) {
                api_drop_batch(a);
                return mgmt_error_set(&resp->error, MGMT_INTERNAL, NULL, "out of memory");
        }
        memcpy(c[b->n_chunks].buf, payload, len);
        c[b->n_chunks].len = len;
        b->n_chunks++;
        b->bytes += len;
        b->n_devices += bp->n_devices;
        b->n_networks += (uint32_t)bp->n_networks;
        resp->bulk = (MgmtBulkResult){
                .staged_devices = b->n_devices,
                .staged_networks = b->n_networks,
                .dry_run = bp->dry_run,
        };
        return 0;
}

static int api_dispatch(Api *a, const MgmtRequest *q, const uint8_t *payload, size_t len,
                        MgmtResponse *resp) {
        StoreError se = {};
        int r;

        switch (q->op) {
        case MGMT_OP_NETWORK_PUT:
                return op_network_put(a, q, resp);
        case MGMT_OP_NETWORK_GET:
                return reply_network(a, q->name, resp);
        case MGMT_OP_NETWORK_LIST:
                return op_network_list(a, q, resp);
        case MGMT_OP_NETWORK_DELETE:
                r = store_network_delete(S(a), q->name, &se);
                return r < 0 ? store_failure(&resp->error, r, "", &se) : 0;
        case MGMT_OP_VENDOR_PUT:
                return op_vendor_put(a, q, resp);
        case MGMT_OP_VENDOR_GET:
                return reply_vendor(a, q->name, resp);
        case MGMT_OP_VENDOR_LIST:
                return op_vendor_list(a, q, resp);
        case MGMT_OP_VENDOR_DELETE:
                r = store_vendor_delete(S(a), q->name, &se);
                return r < 0 ? store_failure(&resp->error, r, "", &se) : 0;
        case MGMT_OP_DEVICE_PUT:
                return op_device_put(a, q, resp);
        case MGMT_OP_DEVICE_GET:
                return reply_device(a, q->device.uid, q->device.uid_len, &resp->device, &resp->error);
        case MGMT_OP_DEVICE_LIST:
                return op_device_list(a, q, resp);
        case MGMT_OP_DEVICE_DELETE:
                return op_device_delete(a, q, resp);
        case MGMT_OP_DEVICE_COUNT:
                return op_device_count(a, q, resp);
        case MGMT_OP_DEVICE_BULK_PUT:
                return op_bulk(a, q, payload, len, resp);
        case MGMT_OP_DEVICE_ENABLE:
                return op_device_enable(a, q, true, resp);
        case MGMT_OP_DEVICE_DISABLE:
                return op_device_enable(a, q, false, resp);
        case MGMT_OP_DEVICE_HISTORY:
                manager_audit_sync(a->manager); /* the rows of events already published, too */
                return op_device_history(a, q, resp);
        case MGMT_OP_AUDIT_QUERY:
                manager_audit_sync(a->manager);
                return op_audit_query(a, q, resp);
        case MGMT_OP_STATS:
                manager_audit_sync(a->manager);
                return op_stats(a, q, resp);
        case MGMT_OP_STATUS:
                status_fill(a, true, &resp->status);
                return 0;
        case _MGMT_OP_MAX:
        case _MGMT_OP_INVALID:
                break;
        }
        assert_not_reached();
}

/* ---------------------------------------------------------------------------------------------------------
 * Requests in, answers out */

static void api_respond(Api *a, MgmtOp op, const char *op_name, MgmtResponse *resp) {
        _cleanup_free_ uint8_t *buf = NULL;
        char topic[MGMT_TOPIC_BUFFER_SIZE];
        size_t n;
        int r;

        if (resp->error.code != MGMT_OK)
                a->counters.errors++;
        r = mgmt_response_encode(resp, &buf, &n);
        if (r < 0) {
                /* too large or out of memory: say so instead */
                MgmtResponse small;
                mgmt_response_init(&small, op, resp->id);
                (void)mgmt_error_set(&small.error, r == -EMSGSIZE ? MGMT_TOO_LARGE : MGMT_INTERNAL, "limit",
                                     "the answer does not fit one message: ask for a smaller page");
                r = mgmt_response_encode(&small, &buf, &n);
                if (r < 0) {
                        a->counters.dropped++;
                        return;
                }
        }
        r = snprintf(topic, sizeof(topic), MGMT_TOPIC_ROOT "%s/response/%s", a->instance, op_name);
        if (r < 0 || (size_t)r >= sizeof(topic)) {
                a->counters.dropped++;
                return;
        }
        r = mqtt_publish(a->manager->mqtt, topic, buf, n, 1, false, NULL);
        if (r < 0) {
                a->counters.dropped++;
                log_debug_errno(r, "Failed to publish the answer on '%s': %m", topic);
                return;
        }
        a->counters.requests++;
}

static void api_log_refusal(Api *a, const char *op, const MgmtError *e) {
        char id[2 * MGMT_REQUEST_ID_MAX + 8], field[sizeof(e->field) * 2];

        if (!ratelimit_below(&a->bad_log_rl, now(CLOCK_MONOTONIC)))
                return;
        log_struct(LOG_INFO, LOG_FIELDS("API_ERROR=1"),
                   "Management API: refused %s request '%s': %s %s%s%s.", op,
                   cescape_str(e->request_id, id, sizeof(id)), mgmt_code_to_string(e->code),
                   cescape_str(e->field, field, sizeof(field)), e->field[0] ? ": " : "", e->message);
}

static void api_handle(Api *a, MgmtOp op, const char *op_name, const uint8_t *payload, size_t len) {
        _cleanup_(mgmt_request_freep) MgmtRequest *q = NULL;
        _cleanup_(mgmt_response_freep) MgmtResponse *resp = new0(MgmtResponse, 1);
        int r;

        if (!resp) {
                a->counters.dropped++;
                return;
        }
        mgmt_response_init(resp, op, NULL);
        r = mgmt_request_decode(payload, len, op, &q, &resp->error);
        if (r < 0) {
                snprintf(resp->id, sizeof(resp->id), "%s", resp->error.request_id);
                api_log_refusal(a, op_name, &resp->error);
                api_respond(a, op, op_name, resp);
                return;
        }
        snprintf(resp->id, sizeof(resp->id), "%s", q->id);
        r = api_dispatch(a, q, payload, len, resp);
        if (r < 0) {
                _cleanup_free_ MgmtError *e = new (MgmtError, 1);
                if (!e) {
                        a->counters.dropped++;
                        return;
                }
                *e = resp->error;
                mgmt_response_done(resp); /* a half-filled body goes, the error stays */
                resp->error = *e;
                if (resp->error.code ==
                    MGMT_OK) /* a failure without an answer prepared: should not happen */
                        (void)mgmt_error_set(&resp->error, MGMT_INTERNAL, NULL, "failed: %s", strerror(-r));
                snprintf(resp->error.request_id, sizeof(resp->error.request_id), "%s", q->id);
                log_debug("Management API: %s request '%s' failed: %s %s: %s", op_name, q->id,
                          mgmt_code_to_string(resp->error.code), resp->error.field, resp->error.message);
        } else
                log_debug("Management API: %s request '%s' done.", op_name, q->id);
        api_respond(a, op, op_name, resp);
}

bool api_on_message(Api *a, const char *topic, const uint8_t *payload, size_t len) {
        MgmtOp op;
        const char *p;
        int r;

        if (!a)
                return false;
        r = mgmt_topic_parse_request(topic, a->instance, &op);
        if (r == 0)
                return false;
        p = strrchr(topic, '/') + 1; /* the op level: parse_request found "request/" */
        if (r < 0) {
                /* an operation we don't know: answer if the name can be a topic level of ours */
                if (mgmt_name_valid(p)) {
                        _cleanup_free_ MgmtResponse *resp = new0(MgmtResponse, 1);
                        MgmtError e = {};
                        char esc[NAME_MAX_LEN * 4 + 1];

                        if (!resp) {
                                a->counters.dropped++;
                                return true;
                        }
                        /* the error-only answer needs an op for the encoder; the topic keeps the asked name.
                         * Decoding as a status request only serves to read the request id. */
                        mgmt_response_init(resp, MGMT_OP_STATUS, NULL);
                        {
                                _cleanup_(mgmt_request_freep) MgmtRequest *q = NULL;
                                (void)mgmt_request_decode(payload, len, MGMT_OP_STATUS, &q, &e);
                                snprintf(resp->id, sizeof(resp->id), "%s", e.request_id);
                        }
                        (void)mgmt_error_set(&resp->error, MGMT_UNSUPPORTED, "op", "unknown operation '%s'",
                                             cescape_str(p, esc, sizeof(esc)));
                        snprintf(resp->error.request_id, sizeof(resp->error.request_id), "%s", resp->id);
                        api_log_refusal(a, p, &resp->error);
                        api_respond(a, MGMT_OP_STATUS, p, resp);
                } else {
                        a->counters.dropped++;
                        if (ratelimit_below(&a->bad_log_rl, now(CLOCK_MONOTONIC))) {
                                char esc[128];
                                log_info("Management API: ignoring a request on an unusable topic "
                                         "'...request/%s' "
                                         "(%" PRIu64 " so far).",
                                         cescape_str(p, esc, sizeof(esc)), a->counters.dropped);
                        }
                }
                return true;
        }
        api_handle(a, op, mgmt_op_to_string(op), payload, len);
        return true;
}

/* ---------------------------------------------------------------------------------------------------------
 * Events */

void api_on_record(Api *a, const ProvRecord *rec, usec_t realtime) {
        uint8_t buf[MGMT_EVENT_MAX];
        MgmtEvent e;
        int n, r;

        if (!a || !a->events)
                return;
        if (!mqtt_is_connected(a->manager->mqtt)) {
                a->counters.events_dropped++;
                return;
        }
        e = (MgmtEvent){
                .time = realtime,
                .kind = event_kind_from_record(rec->kind),
                .uid_len = MIN(rec->uid_len, sizeof(e.uid)),
                .method = rec->method,
                .network_address = rec->network_address,
                .source_address = rec->source_address,
                .node_address = rec->node_address,
                .session_id = rec->session_id,
                .nack_reason =
                        rec->nack_reason >= 0 && rec->nack_reason < _PROV_NACK_MAX ? rec->nack_reason : -1,
                .copies = rec->copies,
                .attempt = rec->attempt,
        };
        memcpy(e.uid, rec->uid, e.uid_len);
        snprintf(e.vendor, sizeof(e.vendor), "%s", rec->vendor);
        snprintf(e.network, sizeof(e.network), "%s", rec->network);
        snprintf(e.bearer, sizeof(e.bearer), "%s", strempty(prov_bearer_to_string(rec->route.bearer)));
        snprintf(e.gateway, sizeof(e.gateway), "%s", rec->route.gateway);
        snprintf(e.sink, sizeof(e.sink), "%s", rec->route.sink);
        snprintf(e.result, sizeof(e.result), "%s", rec->result);
        snprintf(e.detail, sizeof(e.detail), "%s", rec->detail);

        n = mgmt_event_encode(&e, buf, sizeof(buf));
        if (n < 0) {
                a->counters.events_dropped++;
                return;
        }
        r = mqtt_publish(a->manager->mqtt, a->topic_event, buf, (size_t)n, 0, false, NULL);
        if (r < 0)
                a->counters.events_dropped++;
        else
                a->counters.events_published++;
}

/* ---------------------------------------------------------------------------------------------------------
 * Lifecycle */

void api_on_connect(Api *a) {
        int r;

        if (!a)
                return;
        r = mqtt_subscribe(a->manager->mqtt, a->topic_requests, 1, NULL);
        if (r < 0)
                log_warning_errno(r, "Failed to subscribe to the management API requests '%s', ignoring: %m",
                                  a->topic_requests);
        api_publish_status(a, true);
        (void)event_source_rearm(a->status_timer, a->status_interval);
}

void api_stop(Api *a) {
        if (!a)
                return;
        api_publish_status(a, false);
}

void api_get_will(Api *a, const char **ret_topic, const void **ret_payload, size_t *ret_len) {
        *ret_topic = a->topic_status;
        *ret_payload = a->will;
        *ret_len = a->will_len;
}

void api_get_counters(const Api *a, ApiCounters *ret) {
        *ret = a ? a->counters : (ApiCounters){};
}

int api_new(Manager *m, Api **ret) {
        _cleanup_(api_freep) Api *a = NULL;
        _cleanup_free_ MgmtStatus *will = NULL;
        const Config *c = m->config;
        int r;

        a = new0(Api, 1);
        if (!a)
                return -ENOMEM;
        a->manager = m;
        a->events = c->api.events;
        a->status_interval = c->api.status_interval ?: 60 * USEC_PER_SEC;
        a->bad_log_rl = RATELIMIT_INIT(10 * USEC_PER_SEC, 5);
        if (!mgmt_name_valid(c->api.instance_id))
                return -EINVAL;
        snprintf(a->instance, sizeof(a->instance), "%s", c->api.instance_id);
        if (random_bytes(a->digest_key, sizeof(a->digest_key)) < 0)
                return -EIO;

        r = mgmt_topic_status(a->instance, a->topic_status, sizeof(a->topic_status));
        if (r >= 0)
                r = mgmt_topic_event(a->instance, a->topic_event, sizeof(a->topic_event));
        if (r >= 0)
                r = mgmt_topic_request_filter(a->instance, a->topic_requests, sizeof(a->topic_requests));
        if (r < 0)
                return r;

        will = new0(MgmtStatus, 1);
        if (!will)
                return -ENOMEM;
        status_fill(a, false, will);
        will->time = 0; /* the will is published later, at an unknown time */
        r = mgmt_status_encode(will, a->will, sizeof(a->will));
        if (r < 0)
                return r;
        a->will_len = (size_t)r;

        r = sd_event_add_time_relative(m->event, &a->status_timer, CLOCK_MONOTONIC, a->status_interval,
                                       USEC_PER_SEC, on_status_timer, a);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(a->status_timer, "api-status");

        *ret = TAKE_PTR(a);
        return 0;
}

Api *api_free(Api *a) {
        if (!a)
                return NULL;
        a->status_timer = sd_event_source_disable_unref(a->status_timer);
        api_drop_batch(a);
        free(a);
        return NULL;
}
