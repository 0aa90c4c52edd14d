/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The provisioning engine: one pure step function.
 *
 *   prov_engine_handle(engine, event, now) -> actions + next deadline
 *
 * It never touches a file descriptor, a clock, a database or a log. What it needs to know about a UID it
 * asks through the narrow ProvLookup interface (the daemon implements it on the store; tests fake it). What
 * it decides comes back as actions: downlinks to send and records to audit/publish. Time is handed in as a
 * monotonic `now`; the caller re-arms one timer for the returned deadline and calls again with a TIMER
 * event.
 *
 * Policy (design.md §3):
 * - A START is looked up by UID: unknown -> NACK NOT_AUTHORIZED; device or vendor disabled -> NACK
 *   NOT_AUTHORIZED; method differs from the configured one -> NACK METHOD_NOT_SUPPORTED; method 0 on a
 * network that does not allow it -> NACK METHOD_NOT_SUPPORTED; parameters that would not fit the node's
 * buffer for the profile the START came in on -> NACK INVALID_DATA. Otherwise DATA with the network
 * parameters.
 * - Sessions are keyed by (network address of the receiving sink, mesh source address, header address,
 *   session id). Copies of one START heard through several gateways or sinks within `route_window` are
 *   answered once, through the best route: lowest travel time, then the most recent hearing.
 * - A repeated START (the node's retry, same UID, IV and method) gets the same answer without new work: the
 *   cached DATA is re-sent when the parameters, key and method are unchanged; if they changed, the DATA is
 *   rebuilt with the counter advanced by PROV_COUNTER_STRIDE (key stream is never reused). Copies that
 *   arrive within `duplicate_hold` after an answer are ignored.
 * - DATA_ACK ends the session as provisioned. A session without ACK expires after `session_timeout` (the
 *   node's retries refresh it) and is recorded as "sent, unconfirmed", not as a failure.
 * - The session table is a fixed pool of `max_sessions` entries allocated up front: memory never grows with
 *   traffic. When it is full the oldest finished session is reused, then the oldest waiting one.
 * - Records never carry key material. */

#include "meshprov-limits.h"
#include "macro.h"
#include "provdata.h"
#include "provmsg.h"
#include "time-util.h"

/* Counter advance for a rebuilt DATA: more than the 16-byte blocks one DATA can use (126 + 5 bytes -> 9). */
#define PROV_COUNTER_STRIDE 16u

typedef enum ProvBearer {
        PROV_BEARER_MQTT,
        PROV_BEARER_UART,
        _PROV_BEARER_MAX,
        _PROV_BEARER_INVALID = -EINVAL,
} ProvBearer;

/* Where a packet was heard and where an answer goes. */
typedef struct ProvRoute {
        ProvBearer bearer;
        char gateway[GW_ID_MAX_LEN + 1]; /* MQTT: the gateway id; UART: "" */
        char sink[SINK_ID_MAX_LEN + 1];  /* the sink id on that gateway, or the local sink's name */
} ProvRoute;

typedef struct ProvUplink {
        ProvRoute route;
        uint32_t network_address; /* of the sink that heard it: the session scope */
        uint32_t source_address;  /* mesh source address: the answer goes back to it */
        uint8_t src_ep, dst_ep;   /* 246/255 or 160/39; anything else is ignored */
        uint32_t travel_time_ms;
        const uint8_t *payload; /* borrowed for the duration of the call */
        size_t payload_len;
} ProvUplink;

typedef enum ProvEventType {
        PROV_EVENT_UPLINK,      /* a packet on a provisioning endpoint pair */
        PROV_EVENT_SEND_RESULT, /* the bearer's final word on a downlink */
        PROV_EVENT_TIMER,       /* the deadline returned earlier has passed */
        _PROV_EVENT_TYPE_MAX,
        _PROV_EVENT_TYPE_INVALID = -EINVAL,
} ProvEventType;

typedef struct ProvEvent {
        ProvEventType type;
        union {
                ProvUplink uplink;
                struct {
                        uint64_t downlink_id;
                        int error;       /* 0 delivered to the sink, <0 gave up */
                        char detail[64]; /* e.g. the gateway's error code name */
                } send_result;
        };
        /* Fresh random bytes from the caller (the engine has no RNG): initial DATA counters. */
        uint8_t entropy[8];
} ProvEvent;

/* What the lookup tells the engine about a UID. */
typedef struct ProvIdentity {
        bool from_device; /* a device row; otherwise admitted by a vendor enrollment rule */
        bool enabled;     /* device and vendor enabled */
        uint8_t method;   /* configured method */
        char vendor[NAME_MAX_LEN + 1];
        char network[NAME_MAX_LEN + 1];
        char label[NAME_MAX_LEN + 1];
        bool has_factory_key;
        uint8_t factory_key[PROV_FACTORY_KEY_SIZE];
        bool allow_unsecured; /* the target network allows method 0 */
        ProvProfile profile;  /* the target network's profile */
        bool has_pool;        /* node address to be allocated when params has none */
        ProvParams params;    /* complete apart from a pool address */
} ProvIdentity;

typedef struct ProvLookup {
        /* 0 found, -ENOENT unknown UID, other <0: lookup failed (nothing is answered; the node retries). */
        int (*identity)(void *userdata, const uint8_t *uid, size_t uid_len, ProvIdentity *ret);
        /* Called only when answering with DATA and identity has_pool without a node address. */
        int (*allocate_address)(void *userdata, const ProvIdentity *identity, const uint8_t *uid,
                                size_t uid_len, uint32_t *ret);
        void *userdata;
} ProvLookup;

typedef enum ProvRecordKind {
        PROV_RECORD_START,       /* a START the engine acted on (not each copy) */
        PROV_RECORD_NACK,        /* NACK sent */
        PROV_RECORD_DATA,        /* DATA sent */
        PROV_RECORD_ACK,         /* DATA_ACK received: provisioned */
        PROV_RECORD_EXPIRED,     /* no ACK within the session timeout: sent, unconfirmed */
        PROV_RECORD_SEND_FAILED, /* the bearer gave up on a DATA or NACK */
        PROV_RECORD_ERROR,       /* lookup or address allocation failed; nothing sent */
        _PROV_RECORD_KIND_MAX,
        _PROV_RECORD_KIND_INVALID = -EINVAL,
} ProvRecordKind;

/* An auditable decision. No key material. */
typedef struct ProvRecord {
        ProvRecordKind kind;
        uint8_t uid[PROV_UID_MAX];
        size_t uid_len;
        int method; /* -1 unknown */
        bool from_device;
        char vendor[NAME_MAX_LEN + 1];
        char network[NAME_MAX_LEN + 1];
        ProvRoute route;
        uint32_t network_address;
        uint32_t source_address;
        uint32_t node_address; /* the header's address field */
        uint8_t session_id;
        int nack_reason; /* -1 unless NACK */
        char result[32]; /* "ok", "not_authorized", "disabled", "method_mismatch", ... */
        char detail[128];
        unsigned copies;  /* START: how many copies were heard in the route window */
        unsigned attempt; /* START: 1 for the first, 2.. for the node's retries */
} ProvRecord;

typedef struct ProvDownlink {
        uint64_t id; /* quoted back in PROV_EVENT_SEND_RESULT */
        ProvRoute route;
        uint32_t network_address;
        uint32_t destination_address;
        uint8_t src_ep, dst_ep;
        uint8_t payload[PROV_PDU_MAX];
        size_t payload_len;
} ProvDownlink;

typedef enum ProvActionType {
        PROV_ACTION_SEND,
        PROV_ACTION_RECORD,
        _PROV_ACTION_TYPE_MAX,
        _PROV_ACTION_TYPE_INVALID = -EINVAL,
} ProvActionType;

typedef struct ProvAction {
        ProvActionType type;
        union {
                ProvDownlink send;
                ProvRecord record;
        };
} ProvAction;

typedef struct ProvActionList {
        size_t n;
        ProvAction a[PROV_ACTIONS_MAX];
} ProvActionList;

typedef struct ProvEngineConfig {
        unsigned max_sessions;  /* 16..SESSIONS_MAX */
        usec_t session_timeout; /* waiting for DATA_ACK */
        usec_t route_window;    /* 0: answer the first copy at once */
        usec_t duplicate_hold;  /* copies after an answer are ignored this long */
        usec_t finished_hold;   /* finished sessions are kept this long to swallow late copies */
        bool serve_24g;         /* 246/255 -> 255/246 (2.4 GHz and Sub-GHz) */
        bool serve_5g;          /* 160/39 -> 160/40 (5G Mesh) */
        uint8_t hash_key[16];   /* random: keys the session hash table */
} ProvEngineConfig;

/* Sensible defaults (design.md); hash_key left zero: the caller fills it with random bytes. */
void prov_engine_config_defaults(ProvEngineConfig *c);

typedef struct ProvEngineStats {
        uint64_t uplinks;
        uint64_t malformed; /* not a provisioning packet we accept */
        uint64_t ignored;   /* DATA or NACK from a node, wrong endpoints, ... */
        uint64_t starts;    /* STARTs acted on */
        uint64_t copies;    /* extra copies of a START (other routes, duplicates) */
        uint64_t nacks[_PROV_NACK_MAX];
        uint64_t data_sent;    /* first DATA of a session */
        uint64_t data_resent;  /* identical DATA re-sent on a repeated START */
        uint64_t data_rebuilt; /* DATA rebuilt (parameters changed) */
        uint64_t acks;
        uint64_t acks_unknown; /* DATA_ACK with no session (restart, expired) */
        uint64_t acks_duplicate;
        uint64_t expired;
        uint64_t send_failed;
        uint64_t errors;        /* lookup / allocation failures */
        uint64_t evicted;       /* sessions pushed out of a full table */
        uint64_t sessions_live; /* now: waiting for a decision or an ACK */
        uint64_t sessions_used; /* now: table entries in use (including finished ones held back) */
        uint64_t sessions_max;
} ProvEngineStats;

typedef struct ProvEngine ProvEngine;

/* The lookup is borrowed and must outlive the engine. */
int prov_engine_new(const ProvEngineConfig *config, const ProvLookup *lookup, ProvEngine **ret);
ProvEngine *prov_engine_free(ProvEngine *e);
DEFINE_TRIVIAL_CLEANUP_FUNC(ProvEngine *, prov_engine_free);

/* Timeouts and served profiles can change at run time (SIGHUP); max_sessions and hash_key cannot. */
int prov_engine_reconfigure(ProvEngine *e, const ProvEngineConfig *config);

/* Handles one event. Appends at most PROV_ACTIONS_MAX actions to `actions` (which the caller empties first)
 * and never drops one: when more work is due than fits, *ret_deadline is `now` and the caller calls again
 * with a TIMER event. *ret_deadline is USEC_INFINITY when no timer is needed.
 * Returns 0; -EBADMSG / -EMSGSIZE for an uplink that is not a provisioning packet we accept (counted; no
 * actions for it); -EAGAIN when due work filled the action list before the event itself could be handled:
 * carry out the actions and call again with the same event; -EINVAL for a bad event. */
int prov_engine_handle(ProvEngine *e, const ProvEvent *ev, usec_t now, ProvActionList *actions,
                       usec_t *ret_deadline);

void prov_engine_get_stats(const ProvEngine *e, ProvEngineStats *ret);

const char *prov_bearer_to_string(ProvBearer b);
const char *prov_record_kind_to_string(ProvRecordKind k);
const char *prov_event_type_to_string(ProvEventType t);
