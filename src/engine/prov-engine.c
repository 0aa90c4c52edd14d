/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "cursor.h"
#include "prov-engine.h"
#include "provcrypto.h"
#include "siphash24.h"

#define NONE UINT32_MAX

typedef enum SessionState {
        SESSION_FREE,
        SESSION_COLLECTING, /* copies of a START being collected; a decision is due at the deadline */
        SESSION_WAIT_ACK,   /* DATA sent; waiting for DATA_ACK or a retry */
        SESSION_FINISHED,   /* NACK sent or ACK received; kept to swallow late copies */
} SessionState;

/* Each list has one timeout (list_timeout()) and a session records when it joined its list, so appending at
 * the tail keeps every list ordered by deadline, also after prov_engine_reconfigure() changed a timeout. */
typedef enum TimerList {
        TIMER_COLLECT,
        TIMER_WAIT,
        TIMER_HOLD,
        _TIMER_MAX,
        TIMER_NONE = _TIMER_MAX,
} TimerList;

typedef struct SessionKey {
        uint32_t network_address;
        uint32_t source_address;
        uint8_t address[4];
        uint8_t session_id;
} SessionKey;

typedef struct Session {
        SessionState state;
        uint32_t generation;
        SessionKey key;

        /* the run this session belongs to: a START with other values is a new run */
        uint8_t method;
        uint8_t iv[PROV_IV_SIZE];
        uint8_t uid[PROV_UID_MAX];
        size_t uid_len;
        uint8_t up_src_ep, up_dst_ep;

        uint32_t hash_next;  /* chain by full key */
        uint32_t hash2_next; /* chain by (network, address, session id) for DATA_ACK via another source */
        uint32_t prev, next; /* timer list */
        TimerList list;
        usec_t since; /* when it joined its timer list; the deadline is since + list_timeout() */

        /* route collection for the pending decision */
        ProvRoute best_route;
        uint32_t best_travel_ms;
        usec_t best_heard;
        unsigned copies;
        unsigned attempts;

        /* the answer */
        bool acked;
        bool has_data;
        usec_t answered_at; /* 0: not answered (or the answer failed to go out) */
        uint16_t counter;
        uint64_t params_hash;
        uint8_t packet[PROV_PDU_MAX];
        size_t packet_len;
        ProvRoute answer_route;
        uint64_t last_downlink_id;
        uint8_t last_kind; /* PROV_RECORD_DATA or PROV_RECORD_NACK: what the last downlink carried */

        /* for later records */
        bool from_device;
        char vendor[NAME_MAX_LEN + 1];
        char network[NAME_MAX_LEN + 1];
} Session;

struct ProvEngine {
        ProvEngineConfig config;
        ProvLookup lookup;

        Session *sessions;
        uint32_t n_sessions;
        uint32_t *buckets;
        uint32_t *buckets2;
        uint32_t bucket_mask;
        uint32_t free_head; /* free list through hash_next */
        uint32_t used;
        uint32_t live;
        uint32_t generation;
        uint32_t downlink_seq; /* makes every downlink id unique, also for re-sent answers */

        struct {
                uint32_t head, tail;
        } lists[_TIMER_MAX];

        ProvEngineStats stats;
        ProvIdentity scratch; /* the identity being decided on; wiped after each decision */
};

/* ---- string tables ---- */

static const char *const bearer_table[_PROV_BEARER_MAX] = {
        [PROV_BEARER_MQTT] = "mqtt",
        [PROV_BEARER_UART] = "uart",
};

const char *prov_bearer_to_string(ProvBearer b) {
        return b >= 0 && b < _PROV_BEARER_MAX ? bearer_table[b] : NULL;
}

static const char *const record_kind_table[_PROV_RECORD_KIND_MAX] = {
        [PROV_RECORD_START] = "start",     [PROV_RECORD_NACK] = "nack",
        [PROV_RECORD_DATA] = "data",       [PROV_RECORD_ACK] = "ack",
        [PROV_RECORD_EXPIRED] = "expired", [PROV_RECORD_SEND_FAILED] = "send_failed",
        [PROV_RECORD_ERROR] = "error",
};

const char *prov_record_kind_to_string(ProvRecordKind k) {
        return k >= 0 && k < _PROV_RECORD_KIND_MAX ? record_kind_table[k] : NULL;
}

static const char *const event_type_table[_PROV_EVENT_TYPE_MAX] = {
        [PROV_EVENT_UPLINK] = "uplink",
        [PROV_EVENT_SEND_RESULT] = "send-result",
        [PROV_EVENT_TIMER] = "timer",
};

const char *prov_event_type_to_string(ProvEventType t) {
        return t >= 0 && t < _PROV_EVENT_TYPE_MAX ? event_type_table[t] : NULL;
}

/* ---- configuration ---- */

void prov_engine_config_defaults(ProvEngineConfig *c) {
        *c = (ProvEngineConfig){
                .max_sessions = SESSIONS_DEFAULT,
                .session_timeout = 30 * USEC_PER_MINUTE,
                .route_window = 200 * USEC_PER_MSEC,
                .duplicate_hold = 5 * USEC_PER_SEC,
                .finished_hold = 2 * USEC_PER_MINUTE,
                .serve_24g = true,
                .serve_5g = true,
        };
}

static int config_check(const ProvEngineConfig *c) {
        if (c->max_sessions < 16 || c->max_sessions > SESSIONS_MAX)
                return -EINVAL;
        if (c->session_timeout == 0 || c->session_timeout == USEC_INFINITY)
                return -EINVAL;
        if (c->route_window == USEC_INFINITY || c->duplicate_hold == USEC_INFINITY ||
            c->finished_hold == USEC_INFINITY)
                return -EINVAL;
        return 0;
}

/* ---- session table ---- */

static uint64_t key_hash(const ProvEngine *e, const SessionKey *k, bool with_source) {
        uint8_t b[13];
        size_t n = 0;

        unaligned_write_le32(b + n, k->network_address);
        n += 4;
        if (with_source) {
                unaligned_write_le32(b + n, k->source_address);
                n += 4;
        }
        memcpy(b + n, k->address, 4);
        n += 4;
        b[n++] = k->session_id;
        return siphash24(b, n, e->config.hash_key);
}

static bool key_equal(const SessionKey *a, const SessionKey *b) {
        return a->network_address == b->network_address && a->source_address == b->source_address &&
               memcmp(a->address, b->address, 4) == 0 && a->session_id == b->session_id;
}

static bool key2_equal(const SessionKey *a, const SessionKey *b) {
        return a->network_address == b->network_address && memcmp(a->address, b->address, 4) == 0 &&
               a->session_id == b->session_id;
}

static uint32_t session_index(const ProvEngine *e, const Session *s) {
        return (uint32_t)(s - e->sessions);
}

static Session *session_find(ProvEngine *e, const SessionKey *k) {
        uint32_t b = (uint32_t)key_hash(e, k, true) & e->bucket_mask;
        for (uint32_t i = e->buckets[b]; i != NONE; i = e->sessions[i].hash_next)
                if (key_equal(&e->sessions[i].key, k))
                        return &e->sessions[i];
        return NULL;
}

/* The session a DATA_ACK belongs to when it arrives from another mesh source than the START did: the most
 * recently answered one with the same scope, address and session id. */
static Session *session_find_for_ack(ProvEngine *e, const SessionKey *k) {
        Session *best = NULL;
        uint32_t b = (uint32_t)key_hash(e, k, false) & e->bucket_mask;
        for (uint32_t i = e->buckets2[b]; i != NONE; i = e->sessions[i].hash2_next) {
                Session *s = &e->sessions[i];
                if (!key2_equal(&s->key, k) || !s->has_data)
                        continue;
                if (!best || s->answered_at > best->answered_at)
                        best = s;
        }
        return best;
}

static void list_unlink(ProvEngine *e, Session *s) {
        if (s->list == TIMER_NONE)
                return;
        uint32_t i = session_index(e, s);
        if (s->prev != NONE)
                e->sessions[s->prev].next = s->next;
        else
                e->lists[s->list].head = s->next;
        if (s->next != NONE)
                e->sessions[s->next].prev = s->prev;
        else
                e->lists[s->list].tail = s->prev;
        (void)i;
        s->prev = s->next = NONE;
        s->list = TIMER_NONE;
}

static usec_t list_timeout(const ProvEngine *e, TimerList l) {
        switch (l) {
        case TIMER_COLLECT:
                return e->config.route_window;
        case TIMER_WAIT:
                return e->config.session_timeout;
        case TIMER_HOLD:
                return MAX(e->config.finished_hold, e->config.duplicate_hold);
        case TIMER_NONE:
                break;
        }
        return USEC_INFINITY;
}

static usec_t list_head_deadline(const ProvEngine *e, TimerList l) {
        uint32_t h = e->lists[l].head;
        return h == NONE ? USEC_INFINITY : usec_add(e->sessions[h].since, list_timeout(e, l));
}

static void list_append(ProvEngine *e, Session *s, TimerList l, usec_t now) {
        uint32_t i = session_index(e, s);

        list_unlink(e, s);
        s->list = l;
        s->since = now;
        s->next = NONE;
        s->prev = e->lists[l].tail;
        if (s->prev != NONE)
                e->sessions[s->prev].next = i;
        else
                e->lists[l].head = i;
        e->lists[l].tail = i;
}

static void chain_remove(ProvEngine *e, uint32_t *buckets, uint32_t b, uint32_t i, bool second) {
        uint32_t *p = &buckets[b];
        while (*p != NONE) {
                Session *c = &e->sessions[*p];
                if (*p == i) {
                        *p = second ? c->hash2_next : c->hash_next;
                        return;
                }
                p = second ? &c->hash2_next : &c->hash_next;
        }
}

static bool state_is_live(SessionState s) {
        return s == SESSION_COLLECTING || s == SESSION_WAIT_ACK;
}

static void session_set_state(ProvEngine *e, Session *s, SessionState st) {
        if (state_is_live(s->state) && !state_is_live(st))
                e->live--;
        else if (!state_is_live(s->state) && state_is_live(st))
                e->live++;
        s->state = st;
}

static void session_free(ProvEngine *e, Session *s) {
        uint32_t i = session_index(e, s);

        if (s->state == SESSION_FREE)
                return;
        list_unlink(e, s);
        chain_remove(e, e->buckets, (uint32_t)key_hash(e, &s->key, true) & e->bucket_mask, i, false);
        chain_remove(e, e->buckets2, (uint32_t)key_hash(e, &s->key, false) & e->bucket_mask, i, true);
        session_set_state(e, s, SESSION_FREE);
        explicit_bzero_safe(s->packet, sizeof(s->packet));
        s->hash_next = e->free_head;
        s->hash2_next = NONE;
        e->free_head = i;
        e->used--;
}

/* ---- records and downlinks ---- */

static ProvAction *action_push(ProvActionList *actions, ProvActionType type) {
        assert(actions->n < PROV_ACTIONS_MAX);
        ProvAction *a = &actions->a[actions->n++];
        memset(a, 0, sizeof(*a));
        a->type = type;
        return a;
}

static size_t actions_room(const ProvActionList *actions) {
        return PROV_ACTIONS_MAX - actions->n;
}

static ProvRecord *record_push(ProvActionList *actions, const Session *s, ProvRecordKind kind,
                               const char *result) {
        ProvRecord *r = &action_push(actions, PROV_ACTION_RECORD)->record;

        r->kind = kind;
        r->nack_reason = -1;
        r->method = -1;
        snprintf(r->result, sizeof(r->result), "%s", result);
        if (!s)
                return r;
        memcpy(r->uid, s->uid, s->uid_len);
        r->uid_len = s->uid_len;
        r->method = s->method;
        r->from_device = s->from_device;
        memcpy(r->vendor, s->vendor, sizeof(r->vendor));
        memcpy(r->network, s->network, sizeof(r->network));
        /* a decision goes out through the best route heard; later records refer to where it went */
        r->route = kind == PROV_RECORD_ACK || kind == PROV_RECORD_EXPIRED || kind == PROV_RECORD_SEND_FAILED
                           ? s->answer_route
                           : s->best_route;
        r->network_address = s->key.network_address;
        r->source_address = s->key.source_address;
        r->node_address = unaligned_read_le32(s->key.address);
        r->session_id = s->key.session_id;
        return r;
}

static void downlink_push(ProvEngine *e, ProvActionList *actions, Session *s, const uint8_t *payload,
                          size_t len) {
        ProvDownlink *d = &action_push(actions, PROV_ACTION_SEND)->send;

        assert(len <= sizeof(d->payload));
        if (++e->downlink_seq == 0)
                e->downlink_seq = 1;
        d->id = ((uint64_t)e->downlink_seq << 32) | session_index(e, s);
        d->route = s->best_route;
        d->network_address = s->key.network_address;
        d->destination_address = s->key.source_address;
        if (s->up_src_ep == 160) {
                d->src_ep = 160;
                d->dst_ep = 40;
        } else {
                d->src_ep = 255;
                d->dst_ep = 246;
        }
        memcpy(d->payload, payload, len);
        d->payload_len = len;
        s->last_downlink_id = d->id;
        s->answer_route = s->best_route;
}

/* ---- decisions ---- */

static size_t uplink_pdu_max(uint8_t src_ep) {
        return src_ep == 160 ? PROV_PDU_MAX_5G : PROV_PDU_MAX_24G;
}

static ProvHeader session_header(const Session *s, ProvMsgType type) {
        ProvHeader h = { .type = (uint8_t)type, .session_id = s->key.session_id };
        memcpy(h.address, s->key.address, 4);
        return h;
}

static void finish(ProvEngine *e, Session *s, usec_t now) {
        session_set_state(e, s, SESSION_FINISHED);
        list_append(e, s, TIMER_HOLD, now);
}

static void answer_nack(ProvEngine *e, Session *s, ProvNackReason reason, const char *result, usec_t now,
                        ProvActionList *actions) {
        ProvHeader h = session_header(s, PROV_MSG_NACK);
        uint8_t buf[8];
        int n = provmsg_build_nack(&h, reason, buf, sizeof(buf));
        assert(n > 0);

        downlink_push(e, actions, s, buf, (size_t)n);
        ProvRecord *r = record_push(actions, s, PROV_RECORD_NACK, result);
        r->nack_reason = reason;
        snprintf(r->detail, sizeof(r->detail), "%s", prov_nack_reason_to_string(reason));

        e->stats.nacks[reason]++;
        s->answered_at = now ? now : 1;
        s->last_kind = PROV_RECORD_NACK;
        finish(e, s, now);
}

/* Lookup failures and the like: record and answer nothing. A session that never sent DATA is forgotten so
 * the node's retry starts afresh; one that did keeps waiting for its DATA_ACK (the node may have the DATA)
 * with its counter, and lets the node's next START through at once. */
static void answer_error(ProvEngine *e, Session *s, const char *result, int error, usec_t now,
                         ProvActionList *actions) {
        ProvRecord *r = record_push(actions, s, PROV_RECORD_ERROR, result);
        snprintf(r->detail, sizeof(r->detail), "error %d", error);
        e->stats.errors++;
        if (!s->has_data) {
                session_free(e, s);
                return;
        }
        s->answered_at = 0;
        session_set_state(e, s, SESSION_WAIT_ACK);
        list_append(e, s, TIMER_WAIT, now);
}

static uint64_t params_hash(const ProvEngine *e, const uint8_t *cbor, size_t n, const ProvIdentity *id,
                            uint8_t method) {
        uint8_t buf[PROV_PDU_MAX + PROV_FACTORY_KEY_SIZE + 1];
        size_t l = 0;

        memcpy(buf, cbor, n);
        l += n;
        if (id->has_factory_key) {
                memcpy(buf + l, id->factory_key, PROV_FACTORY_KEY_SIZE);
                l += PROV_FACTORY_KEY_SIZE;
        }
        buf[l++] = method;
        uint64_t h = siphash24(buf, l, e->config.hash_key);
        explicit_bzero_safe(buf, sizeof(buf));
        return h;
}

/* Builds the DATA aside and replaces the session's cached packet only when it is complete: a failure leaves
 * the DATA sent before intact (it may still be re-sent). */
static int build_data(Session *s, const ProvIdentity *id, const uint8_t *cbor, size_t n, uint16_t counter) {
        bool secured = s->method != PROV_METHOD_UNSECURED;
        ProvHeader h = session_header(s, PROV_MSG_DATA);
        uint8_t packet[sizeof(s->packet)];
        size_t len;
        int r;

        r = provmsg_build_data_prefix(&h, secured ? PROV_KEY_INDEX_FACTORY : PROV_KEY_INDEX_PLAINTEXT,
                                      counter, packet);
        if (r < 0)
                return r;
        if (secured) {
                r = prov_data_seal(id->factory_key, s->iv, packet, cbor, n, packet + PROV_DATA_HEADER_SIZE,
                                   sizeof(packet) - PROV_DATA_HEADER_SIZE);
                if (r < 0) {
                        explicit_bzero_safe(packet, sizeof(packet));
                        return r;
                }
                len = PROV_DATA_HEADER_SIZE + n + PROV_MIC_SIZE;
        } else {
                memcpy(packet + PROV_DATA_HEADER_SIZE, cbor, n);
                len = PROV_DATA_HEADER_SIZE + n;
        }
        memcpy(s->packet, packet, len);
        explicit_bzero_safe(packet,
                            sizeof(packet)); /* an unsecured DATA carries the network keys in clear */
        s->packet_len = len;
        s->counter = counter;
        return 0;
}

static void decide_locked(ProvEngine *e, Session *s, usec_t now, const uint8_t entropy[static 8],
                          ProvActionList *actions);

static void decide(ProvEngine *e, Session *s, usec_t now, const uint8_t entropy[static 8],
                   ProvActionList *actions) {
        decide_locked(e, s, now, entropy, actions);
        explicit_bzero_safe(&e->scratch, sizeof(e->scratch)); /* keys */
}

static uint16_t initial_counter(const ProvEngine *e, const Session *s, const uint8_t entropy[static 8]) {
        /* several sessions may be decided with one event's entropy: mix in the session */
        uint8_t b[12];
        memcpy(b, entropy, 8);
        unaligned_write_le32(b + 8, s->generation);
        return (uint16_t)siphash24(b, sizeof(b), e->config.hash_key);
}

static void decide_locked(ProvEngine *e, Session *s, usec_t now, const uint8_t entropy[static 8],
                          ProvActionList *actions) {
        ProvIdentity *id = &e->scratch;
        uint8_t cbor[PROV_PDU_MAX];
        const char *detail;
        int r;

        assert(actions_room(actions) >= 3);
        e->stats.starts++;

        memset(id, 0, sizeof(*id));
        r = e->lookup.identity(e->lookup.userdata, s->uid, s->uid_len, id);
        if (r >= 0) {
                s->from_device = id->from_device;
                memcpy(s->vendor, id->vendor, sizeof(s->vendor));
                memcpy(s->network, id->network, sizeof(s->network));
                s->vendor[sizeof(s->vendor) - 1] = s->network[sizeof(s->network) - 1] = '\0';
        }

        ProvRecord *st = record_push(actions, s, PROV_RECORD_START,
                                     r == -ENOENT ? "unknown"
                                     : r < 0      ? "lookup_failed"
                                                  : "ok");
        st->copies = s->copies;
        st->attempt = s->attempts;

        if (r == -ENOENT)
                return answer_nack(e, s, PROV_NACK_NOT_AUTHORIZED, "not_authorized", now, actions);
        if (r < 0)
                return answer_error(e, s, "lookup_failed", r, now, actions);
        if (!id->enabled)
                return answer_nack(e, s, PROV_NACK_NOT_AUTHORIZED, "disabled", now, actions);
        if (s->method == PROV_METHOD_EXTENDED_UID_KEY_MGMT || id->method != s->method)
                return answer_nack(e, s, PROV_NACK_METHOD_NOT_SUPPORTED, "method_mismatch", now, actions);
        if (s->method == PROV_METHOD_UNSECURED && !id->allow_unsecured)
                return answer_nack(e, s, PROV_NACK_METHOD_NOT_SUPPORTED, "unsecured_not_allowed", now,
                                   actions);
        if (s->method != PROV_METHOD_UNSECURED && !id->has_factory_key)
                return answer_nack(e, s, PROV_NACK_NOT_AUTHORIZED, "no_key", now, actions);

        if (!id->params.has_node_address && id->has_pool) {
                uint32_t a;
                r = e->lookup.allocate_address
                            ? e->lookup.allocate_address(e->lookup.userdata, id, s->uid, s->uid_len, &a)
                            : -ENOENT;
                if (r == -ENOSPC)
                        return answer_error(e, s, "address_pool_exhausted", r, now, actions);
                if (r < 0 && r != -ENOENT)
                        return answer_error(e, s, "address_allocation_failed", r, now, actions);
                if (r >= 0) {
                        id->params.has_node_address = true;
                        id->params.node_address = a;
                }
        }

        bool secured = s->method != PROV_METHOD_UNSECURED;
        size_t limit = uplink_pdu_max(s->up_src_ep) - PROV_DATA_HEADER_SIZE - (secured ? PROV_MIC_SIZE : 0);
        prov_params_normalize(&id->params);
        r = provdata_encode(&id->params, cbor, sizeof(cbor));
        if (r == -EMSGSIZE || (r >= 0 && (size_t)r > limit))
                return answer_nack(e, s, PROV_NACK_INVALID_DATA, "too_large", now, actions);
        if (r < 0)
                return answer_nack(e, s, PROV_NACK_INVALID_DATA, "invalid_parameters", now, actions);
        size_t n = (size_t)r;

        uint64_t h = params_hash(e, cbor, n, id, s->method);
        if (s->has_data && s->params_hash == h) {
                detail = "resent";
                e->stats.data_resent++;
        } else {
                uint16_t counter = s->has_data ? (uint16_t)(s->counter + PROV_COUNTER_STRIDE)
                                               : initial_counter(e, s, entropy);
                r = build_data(s, id, cbor, n, counter);
                explicit_bzero_safe(cbor, sizeof(cbor));
                if (r < 0)
                        return answer_error(e, s, "encryption_failed", r, now, actions);
                detail = s->has_data ? "rebuilt" : "first";
                if (s->has_data)
                        e->stats.data_rebuilt++;
                else
                        e->stats.data_sent++;
                s->has_data = true;
                s->params_hash = h;
        }
        explicit_bzero_safe(cbor, sizeof(cbor));

        downlink_push(e, actions, s, s->packet, s->packet_len);
        ProvRecord *rec = record_push(actions, s, PROV_RECORD_DATA, "ok");
        snprintf(rec->detail, sizeof(rec->detail), "%s; counter %u; %zu bytes", detail, s->counter,
                 s->packet_len);

        s->answered_at = now ? now : 1;
        s->last_kind = PROV_RECORD_DATA;
        session_set_state(e, s, SESSION_WAIT_ACK);
        list_append(e, s, TIMER_WAIT, now);
}

/* ---- allocation ---- */

/* Makes room for a new session: a finished one first, else the one waiting longest for its ACK, else the
 * oldest undecided one. Needs room for one record. */
static Session *session_evict(ProvEngine *e, ProvActionList *actions) {
        Session *s;

        if (e->lists[TIMER_HOLD].head != NONE) {
                s = &e->sessions[e->lists[TIMER_HOLD].head];
        } else if (e->lists[TIMER_WAIT].head != NONE) {
                s = &e->sessions[e->lists[TIMER_WAIT].head];
                ProvRecord *r = record_push(actions, s, PROV_RECORD_EXPIRED, "unconfirmed");
                snprintf(r->detail, sizeof(r->detail), "evicted from a full session table");
                e->stats.expired++;
        } else {
                assert(e->lists[TIMER_COLLECT].head != NONE);
                s = &e->sessions[e->lists[TIMER_COLLECT].head];
        }
        e->stats.evicted++;
        session_free(e, s);
        return s;
}

static Session *session_new(ProvEngine *e, const SessionKey *k, ProvActionList *actions) {
        if (e->free_head == NONE)
                (void)session_evict(e, actions);
        assert(e->free_head != NONE);

        uint32_t i = e->free_head;
        Session *s = &e->sessions[i];
        e->free_head = s->hash_next;

        memset(s, 0, sizeof(*s));
        s->generation = ++e->generation ? e->generation : ++e->generation;
        s->key = *k;
        s->prev = s->next = NONE;
        s->list = TIMER_NONE;
        s->state = SESSION_FREE;

        uint32_t b = (uint32_t)key_hash(e, k, true) & e->bucket_mask;
        s->hash_next = e->buckets[b];
        e->buckets[b] = i;
        uint32_t b2 = (uint32_t)key_hash(e, k, false) & e->bucket_mask;
        s->hash2_next = e->buckets2[b2];
        e->buckets2[b2] = i;
        e->used++;
        return s;
}

/* ---- event handlers ---- */

static bool same_run(const Session *s, const ProvMsg *m) {
        return s->method == m->start.method && s->uid_len == m->start.uid_len &&
               memcmp(s->uid, m->start.uid, s->uid_len) == 0 &&
               memcmp(s->iv, m->start.iv, PROV_IV_SIZE) == 0;
}

static bool route_better(const Session *s, const ProvUplink *up, usec_t now) {
        if (up->travel_time_ms != s->best_travel_ms)
                return up->travel_time_ms < s->best_travel_ms;
        return now >= s->best_heard; /* equal travel time: the most recent hearing */
}

static void collect_start(ProvEngine *e, Session *s, const ProvUplink *up, usec_t now) {
        s->copies = 1;
        s->best_route = up->route;
        s->best_travel_ms = up->travel_time_ms;
        s->best_heard = now;
        session_set_state(e, s, SESSION_COLLECTING);
        list_append(e, s, TIMER_COLLECT, now);
}

static void handle_start(ProvEngine *e, const ProvUplink *up, const ProvMsg *m, usec_t now,
                         const uint8_t entropy[static 8], ProvActionList *actions) {
        SessionKey k = {
                .network_address = up->network_address,
                .source_address = up->source_address,
                .session_id = m->hdr.session_id,
        };
        memcpy(k.address, m->hdr.address, 4);

        Session *s = session_find(e, &k);
        if (s && !same_run(s, m)) {
                /* Same key, other UID or IV: the node started a new run; the old one is over. */
                if (s->state == SESSION_WAIT_ACK) {
                        ProvRecord *r = record_push(actions, s, PROV_RECORD_EXPIRED, "unconfirmed");
                        snprintf(r->detail, sizeof(r->detail), "superseded by a new run");
                        e->stats.expired++;
                }
                session_free(e, s);
                s = NULL;
        }

        if (!s) {
                s = session_new(e, &k, actions);
                s->method = m->start.method;
                memcpy(s->iv, m->start.iv, PROV_IV_SIZE);
                memcpy(s->uid, m->start.uid, m->start.uid_len);
                s->uid_len = m->start.uid_len;
                s->up_src_ep = up->src_ep;
                s->up_dst_ep = up->dst_ep;
                s->attempts = 1;
                collect_start(e, s, up, now);
        } else {
                switch (s->state) {
                case SESSION_COLLECTING:
                        s->copies++;
                        e->stats.copies++;
                        if (route_better(s, up, now)) {
                                s->best_route = up->route;
                                s->best_travel_ms = up->travel_time_ms;
                                s->best_heard = now;
                        }
                        return;

                case SESSION_WAIT_ACK:
                case SESSION_FINISHED:
                        if (s->acked || (s->answered_at != 0 &&
                                         now < usec_add(s->answered_at, e->config.duplicate_hold))) {
                                /* a late copy of something already answered */
                                e->stats.copies++;
                                return;
                        }
                        /* the node's retry: decide again (the whitelist may have changed meanwhile) */
                        s->attempts++;
                        collect_start(e, s, up, now);
                        break;

                case SESSION_FREE:
                        assert_not_reached();
                }
        }

        if (e->config.route_window == 0)
                decide(e, s, now, entropy, actions);
}

static void handle_ack(ProvEngine *e, const ProvUplink *up, const ProvMsg *m, usec_t now,
                       ProvActionList *actions) {
        SessionKey k = {
                .network_address = up->network_address,
                .source_address = up->source_address,
                .session_id = m->hdr.session_id,
        };
        memcpy(k.address, m->hdr.address, 4);

        Session *s = session_find(e, &k);
        if (!s || !s->has_data)
                s = session_find_for_ack(e, &k);

        if (s && s->acked) {
                e->stats.acks_duplicate++;
                return;
        }
        if (!s || !s->has_data) {
                e->stats.acks_unknown++;
                ProvRecord *r = record_push(actions, NULL, PROV_RECORD_ACK, "unknown_session");
                r->route = up->route;
                r->network_address = up->network_address;
                r->source_address = up->source_address;
                r->node_address = unaligned_read_le32(m->hdr.address);
                r->session_id = m->hdr.session_id;
                return;
        }

        s->acked = true;
        s->answer_route = up->route;
        e->stats.acks++;
        record_push(actions, s, PROV_RECORD_ACK, "ok");
        finish(e, s, now);
}

static int handle_uplink(ProvEngine *e, const ProvEvent *ev, usec_t now, ProvActionList *actions) {
        const ProvUplink *up = &ev->uplink;
        ProvMsg m;
        int r;

        e->stats.uplinks++;

        bool ok24 = up->src_ep == 246 && up->dst_ep == 255 && e->config.serve_24g;
        bool ok5g = up->src_ep == 160 && up->dst_ep == 39 && e->config.serve_5g;
        if (!ok24 && !ok5g) {
                e->stats.ignored++;
                return 0;
        }
        if (!up->payload && up->payload_len > 0)
                return -EINVAL;

        r = provmsg_parse(up->payload, up->payload_len, uplink_pdu_max(up->src_ep), &m);
        if (r < 0) {
                e->stats.malformed++;
                return r;
        }

        switch ((ProvMsgType)m.hdr.type) {
        case PROV_MSG_START:
                handle_start(e, up, &m, now, ev->entropy, actions);
                return 0;
        case PROV_MSG_DATA_ACK:
                handle_ack(e, up, &m, now, actions);
                return 0;
        case PROV_MSG_DATA:
        case PROV_MSG_NACK:
                /* only the backend sends these; a node never does */
                e->stats.ignored++;
                return 0;
        }
        e->stats.malformed++;
        return -EBADMSG;
}

static void handle_send_result(ProvEngine *e, const ProvEvent *ev, ProvActionList *actions) {
        uint64_t id = ev->send_result.downlink_id;
        uint32_t i = (uint32_t)id;

        if (i >= e->n_sessions)
                return;
        Session *s = &e->sessions[i];
        if (s->state == SESSION_FREE || s->last_downlink_id != id)
                return; /* about an answer that has been superseded */
        if (ev->send_result.error >= 0)
                return;

        ProvRecord *r = record_push(actions, s, PROV_RECORD_SEND_FAILED, "send_failed");
        snprintf(r->detail, sizeof(r->detail), "%s %s", s->last_kind == PROV_RECORD_NACK ? "NACK:" : "DATA:",
                 ev->send_result.detail[0] ? ev->send_result.detail : "not delivered");
        e->stats.send_failed++;
        /* Let the node's next START through at once instead of treating it as a late copy. */
        s->answered_at = 0;
}

/* Does what is due, as far as the action list allows. Returns true if more is due now. */
static bool run_timers(ProvEngine *e, usec_t now, const uint8_t entropy[static 8], ProvActionList *actions) {
        for (;;) {
                usec_t earliest = USEC_INFINITY;
                TimerList which = TIMER_NONE;
                Session *due;

                for (TimerList l = 0; l < _TIMER_MAX; l++) {
                        usec_t d = list_head_deadline(e, l);
                        if (d <= now && d < earliest) {
                                earliest = d;
                                which = l;
                        }
                }
                if (which == TIMER_NONE)
                        return false;
                due = &e->sessions[e->lists[which].head];

                switch (which) {
                case TIMER_COLLECT:
                        if (actions_room(actions) < 3)
                                return true;
                        decide(e, due, now, entropy, actions);
                        break;
                case TIMER_WAIT: {
                        if (actions_room(actions) < 1)
                                return true;
                        ProvRecord *r = record_push(actions, due, PROV_RECORD_EXPIRED, "unconfirmed");
                        snprintf(r->detail, sizeof(r->detail), "no DATA_ACK after %u START(s)",
                                 due->attempts);
                        e->stats.expired++;
                        session_free(e, due);
                        break;
                }
                case TIMER_HOLD:
                        session_free(e, due);
                        break;
                case TIMER_NONE:
                        assert_not_reached();
                }
        }
}

static usec_t next_deadline(const ProvEngine *e) {
        usec_t d = USEC_INFINITY;
        for (TimerList l = 0; l < _TIMER_MAX; l++)
                d = MIN(d, list_head_deadline(e, l));
        return d;
}

int prov_engine_handle(ProvEngine *e, const ProvEvent *ev, usec_t now, ProvActionList *actions,
                       usec_t *ret_deadline) {
        int r = 0;
        bool more;

        if (!e || !ev || !actions || !ret_deadline || actions->n != 0)
                return -EINVAL;
        if (ev->type < 0 || ev->type >= _PROV_EVENT_TYPE_MAX)
                return -EINVAL;

        /* Whatever is overdue goes first, so that an uplink never sees stale sessions. Keep room for the
         * worst case of one uplink (eviction record + START + answer + downlink). */
        more = run_timers(e, now, ev->entropy, actions);
        if (ev->type == PROV_EVENT_UPLINK && actions_room(actions) < 4) {
                /* Rare: a burst of due timers filled the list. Handle the uplink on the next call. */
                *ret_deadline = now;
                return -EAGAIN;
        }

        switch (ev->type) {
        case PROV_EVENT_UPLINK:
                r = handle_uplink(e, ev, now, actions);
                break;
        case PROV_EVENT_SEND_RESULT:
                if (actions_room(actions) >= 1)
                        handle_send_result(e, ev, actions);
                else
                        r = -EAGAIN;
                break;
        case PROV_EVENT_TIMER:
                break;
        case _PROV_EVENT_TYPE_MAX:
        case _PROV_EVENT_TYPE_INVALID:
                assert_not_reached();
        }

        if (!more)
                more = run_timers(e, now, ev->entropy, actions);
        *ret_deadline = more ? now : next_deadline(e);
        return r;
}

/* ---- lifecycle ---- */

int prov_engine_new(const ProvEngineConfig *config, const ProvLookup *lookup, ProvEngine **ret) {
        _cleanup_(prov_engine_freep) ProvEngine *e = NULL;
        int r;

        if (!config || !lookup || !lookup->identity || !ret)
                return -EINVAL;
        r = config_check(config);
        if (r < 0)
                return r;

        e = new0(ProvEngine, 1);
        if (!e)
                return -ENOMEM;
        e->config = *config;
        e->lookup = *lookup;
        e->n_sessions = config->max_sessions;

        uint32_t nb = 1;
        while (nb < e->n_sessions)
                nb <<= 1;
        e->bucket_mask = nb - 1;

        e->sessions = new0(Session, e->n_sessions);
        e->buckets = new (uint32_t, nb);
        e->buckets2 = new (uint32_t, nb);
        if (!e->sessions || !e->buckets || !e->buckets2)
                return -ENOMEM;
        for (uint32_t i = 0; i < nb; i++)
                e->buckets[i] = e->buckets2[i] = NONE;
        for (uint32_t i = 0; i < e->n_sessions; i++) {
                e->sessions[i].hash_next = i + 1 < e->n_sessions ? i + 1 : NONE;
                e->sessions[i].hash2_next = NONE;
                e->sessions[i].list = TIMER_NONE;
                e->sessions[i].prev = e->sessions[i].next = NONE;
        }
        e->free_head = 0;
        for (TimerList l = 0; l < _TIMER_MAX; l++)
                e->lists[l].head = e->lists[l].tail = NONE;

        *ret = TAKE_PTR(e);
        return 0;
}

ProvEngine *prov_engine_free(ProvEngine *e) {
        if (!e)
                return NULL;
        if (e->sessions)
                explicit_bzero_safe(e->sessions, sizeof(Session) * e->n_sessions);
        explicit_bzero_safe(&e->scratch, sizeof(e->scratch));
        free(e->sessions);
        free(e->buckets);
        free(e->buckets2);
        explicit_bzero_safe(&e->config, sizeof(e->config));
        free(e);
        return NULL;
}

int prov_engine_reconfigure(ProvEngine *e, const ProvEngineConfig *config) {
        int r = config_check(config);
        if (r < 0)
                return r;
        if (config->max_sessions != e->config.max_sessions ||
            memcmp(config->hash_key, e->config.hash_key, sizeof(config->hash_key)) != 0)
                return -EBUSY;
        e->config = *config;
        return 0;
}

void prov_engine_get_stats(const ProvEngine *e, ProvEngineStats *ret) {
        *ret = e->stats;
        ret->sessions_live = e->live;
        ret->sessions_used = e->used;
        ret->sessions_max = e->n_sessions;
}
