/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The whitelist and the audit log, in SQLite (WAL). Domain verbs only: no SQL leaves this directory.
 *
 * - Schema changes are numbered migrations (migrations/NNNN_*.sql, embedded at build time), applied in
 * order, each in one transaction, version in PRAGMA user_version. An applied migration is never edited.
 * - Every put validates with the rules of src/codec/provdata.h (and the cross-row rules below) before it
 *   writes, so a DATA the node would reject cannot be configured. Errors name the offending field in
 *   StoreError and change nothing.
 * - Keys are wrapped with the master key (AES-256-GCM, src/crypto) before they are written; the master key
 *   never enters the database. Getters return plain keys: only the daemon needs them, and callers that show
 *   data to people print key_fingerprint() instead.
 * - The daemon and meshprovctl may write at the same time (WAL + busy timeout); a change is visible to the
 *   next lookup, with no cache to invalidate.
 * - Times are microseconds since the epoch (CLOCK_REALTIME), passed in by the caller. */

#include "meshprov-limits.h"
#include "macro.h"
#include "mgmtapi.h"
#include "provdata.h"
#include "time-util.h"

typedef struct Store Store;

typedef struct StoreError {
        char field[64]; /* e.g. "channel", "uid", "nodes[3].factory_key" (set by callers that add context) */
        char message[256]; /* for a person: what is wrong and what is allowed */
        bool missing;      /* with -EINVAL: `field` names a network or vendor that does not exist */
} StoreError;

typedef struct StoreOptions {
        const uint8_t *master_key; /* KEYWRAP_MASTER_KEY_SIZE bytes, required */
        usec_t busy_timeout;       /* 0: 5 s */
        bool read_only;
        /* How long a released pool address is held back before reuse (0: 7 days). */
        usec_t address_hold;
} StoreOptions;

/* Opens (creating if needed) and migrates. Returns the number of migrations applied (0 for an up-to-date
 * file); -EPROTONOSUPPORT for a database written by a newer meshprov (user_version above what this binary
 * knows: it is not touched), -EBADMSG for a file that is not a database, -EROFS when read_only and it needs
 * migrating, -ENOENT/-EACCES when it cannot be opened, -EKEYREJECTED when the master key is not the one the
 * database's secrets were written with (checked against a value stored on the first open with a key). */
int store_open(const char *path, const StoreOptions *opts, Store **ret);
Store *store_free(Store *s);
/* How long a write waits for another writer's lock (StoreOptions.busy_timeout; 0: the default), e.g. after
 * SIGHUP. store_busy_short() lowers it for the writes that follow (a daemon's loop cannot wait long), until
 * store_busy_restore(). */
int store_set_busy_timeout(Store *s, usec_t timeout);
int store_busy_short(Store *s, usec_t timeout);
int store_busy_restore(Store *s);

DEFINE_TRIVIAL_CLEANUP_FUNC(Store *, store_free);
int store_schema_version(Store *s);

/* Group several puts into one transaction (import, bulk API): all or nothing. Nesting is an error
 * (-EALREADY); commit/rollback without store_begin() is -ENOTCONN. A put that fails inside changes nothing
 * and leaves the earlier puts of the transaction in place. If SQLite itself aborted the transaction (I/O
 * error, disk full), later writes and store_commit() return -ECANCELED (nothing was committed). */
int store_begin(Store *s);
int store_commit(Store *s);
int store_rollback(Store *s);

typedef enum StorePutMode {
        STORE_PUT_CREATE, /* -EEXIST if it exists */
        STORE_PUT_UPDATE, /* -ENOENT if it does not */
        STORE_PUT_UPSERT,
} StorePutMode;

/* Puts return 1 when they created the row, 0 when they updated it. An update replaces every field a person
 * sets (key material as its StoreKeyUpdate says) and keeps what the store maintains (times, state,
 * counters). Rule violations fill StoreError: -EINVAL, -EMSGSIZE (field "size": too large for a DATA),
 * -EEXIST (a uniqueness rule), -ENOENT (UPDATE of a missing row), -EBUSY (still referred to, or the database
 * is locked). A rule about another row names it: field "devices.<field>" and the device's UID in the
 * message. Getters and lists return -EBADMSG for a damaged row or a key blob that does not open (wrong
 * master key); a list stops at such a row. */

/* For updates of key material: keep what is stored, set a new key, or remove it. */
typedef enum StoreKeyUpdate {
        STORE_KEY_KEEP,
        STORE_KEY_SET,
        STORE_KEY_CLEAR,
} StoreKeyUpdate;

/* ---- networks ---- */

typedef struct StoreNetwork {
        char name[NAME_MAX_LEN + 1];
        ProvProfile profile;
        uint32_t network_address;
        uint32_t channel;
        StoreKeyUpdate keys_update; /* on put: SET (required on create) or KEEP */
        uint8_t enc_key[PROV_KEY_SIZE];
        uint8_t auth_key[PROV_KEY_SIZE];
        bool allow_unsecured;
        bool has_pool; /* node addresses allocated from [pool_first, pool_last] */
        uint32_t pool_first, pool_last;
        usec_t created, updated; /* set by the store */
} StoreNetwork;

/* Rules: name 1..64 of [A-Za-z0-9._-]; address, channel (per profile) and keys valid; pool inside one of the
 * two unicast node address ranges with first <= last; on update every device of the network must still fit a
 * DATA. allow_unsecured may be turned off while method-0 devices or vendors use the network (it is the
 * operator's switch); method 0 can then not be newly configured there. Moving pool_first (or adding/removing
 * the pool) restarts the pool scan; addresses already handed out stay with their UIDs, also outside the new
 * range. */
int store_network_put(Store *s, const StoreNetwork *n, StorePutMode mode, usec_t now, StoreError *err);
int store_network_get(Store *s, const char *name, StoreNetwork *ret);
typedef int (*StoreNetworkCb)(const StoreNetwork *n, void *userdata); /* <0 stops and is returned */
int store_network_list(Store *s, StoreNetworkCb cb, void *userdata);
/* -EBUSY (with err) while devices or vendors refer to it. */
int store_network_delete(Store *s, const char *name, StoreError *err);

/* ---- vendors ---- */

typedef enum StoreVendorKeyKind {
        STORE_VENDOR_KEY_NONE,
        STORE_VENDOR_KEY_FACTORY, /* one 32-byte factory key shared by the vendor's devices */
        STORE_VENDOR_KEY_MASTER,  /* per-device keys derived with prov_derive_factory_key() */
} StoreVendorKeyKind;

typedef enum StoreEnrollKind {
        STORE_ENROLL_NONE,          /* only devices with a device row */
        STORE_ENROLL_UID_PREFIX,    /* any UID starting with enroll_prefix */
        STORE_ENROLL_AUTHENTICATOR, /* method 3: the authenticator UID (bytes 1..16 of the extended UID)
                                       starts with enroll_prefix (1..16 bytes) */
} StoreEnrollKind;

typedef struct StoreVendor {
        char name[NAME_MAX_LEN + 1];
        StoreKeyUpdate key_update; /* on put */
        StoreVendorKeyKind key_kind;
        uint8_t key[32];
        StoreEnrollKind enroll_kind;
        uint8_t enroll_prefix[PROV_UID_MAX];
        size_t enroll_prefix_len;
        uint8_t enroll_method; /* method enrolled devices must use (1 or 3; 0 only on a network that
                                  allows unsecured) */
        char default_network[NAME_MAX_LEN + 1]; /* "" = none; required when enroll_kind != NONE */
        bool enabled;
        usec_t created, updated;
} StoreVendor;

/* Rules: enrollment needs a key and a default network; an enrollment prefix is unique among vendors (per
 * enroll_kind); enroll_method known and consistent with enroll_kind (AUTHENTICATOR needs 3); method 0 only
 * onto a network that allows it. key_update KEEP keeps the stored key and kind (key_kind is then ignored; on
 * create KEEP means no key and needs key_kind NONE), SET needs key_kind FACTORY or MASTER, CLEAR removes the
 * key. On update every device of the vendor is re-checked (key still available, the new default network). */
int store_vendor_put(Store *s, const StoreVendor *v, StorePutMode mode, usec_t now, StoreError *err);
int store_vendor_get(Store *s, const char *name, StoreVendor *ret);
typedef int (*StoreVendorCb)(const StoreVendor *v, void *userdata);
int store_vendor_list(Store *s, StoreVendorCb cb, void *userdata);
/* -EBUSY while devices refer to it. */
int store_vendor_delete(Store *s, const char *name, StoreError *err);

/* ---- devices ---- */

typedef enum StoreDeviceState {
        STORE_DEVICE_NEW,         /* never answered with DATA */
        STORE_DEVICE_SENT,        /* DATA sent, no DATA_ACK (yet) */
        STORE_DEVICE_PROVISIONED, /* DATA_ACK received */
        _STORE_DEVICE_STATE_MAX,
        _STORE_DEVICE_STATE_INVALID = -EINVAL,
} StoreDeviceState;

typedef struct StoreDevice {
        uint8_t uid[PROV_UID_MAX];
        size_t uid_len;
        char label[NAME_MAX_LEN + 1];   /* optional, for people (the YAML node name) */
        char vendor[NAME_MAX_LEN + 1];  /* "" = none (then the device needs its own factory key) */
        char network[NAME_MAX_LEN + 1]; /* "" = the vendor's default network */
        uint8_t method;
        StoreKeyUpdate factory_key_update; /* on put */
        bool has_factory_key;
        uint8_t factory_key[PROV_FACTORY_KEY_SIZE];
        bool has_node_address;
        uint32_t node_address;
        bool has_role;
        uint8_t role;
        size_t n_user_items;
        ProvUserItem user_items[PROV_PARAMS_USER_MAX];
        bool enabled;
        /* maintained by the store: */
        StoreDeviceState state;
        bool has_allocated_address;
        uint32_t allocated_address; /* from the network's pool */
        usec_t created, updated, last_start, provisioned_at;
        uint32_t n_starts, n_provisioned;
} StoreDevice;

/* Rules: uid 1..79 bytes (method 3: the 34-byte extended layout with both type bytes 0x01); method 0, 1 or
 * 3; method 0 only on a network with allow_unsecured; methods 1 and 3 need a key (own, or the vendor's); the
 * network (own or the vendor's default) exists; node address a valid unicast address not used by another
 * device of the network, nor held (or held back) by another UID from the network's pool; role valid; user
 * items valid, ids unique (stored ascending by id); the whole map fits a DATA for the network's profile,
 * counting a 4-byte pool address on a network with a pool. A new device's own key comes with SET.
 * An explicit address releases the device's other pool address in that network; leaving a network releases
 * the pool address there. */
int store_device_put(Store *s, const StoreDevice *d, StorePutMode mode, usec_t now, StoreError *err);
int store_device_get(Store *s, const uint8_t *uid, size_t uid_len, StoreDevice *ret);
/* Also releases the device's pool address; as no time is passed, its hold starts at CLOCK_REALTIME now. */
int store_device_delete(Store *s, const uint8_t *uid, size_t uid_len, StoreError *err);
/* -ENOENT without a device row. */
int store_device_set_enabled(Store *s, const uint8_t *uid, size_t uid_len, bool enabled, usec_t now);

typedef struct StoreDeviceFilter {
        const char *vendor;  /* NULL = any */
        const char *network; /* NULL = any */
        int state;           /* a StoreDeviceState, or -1 = any */
        /* paging: devices ordered by uid; start after this uid (NULL = from the start) */
        const uint8_t *after_uid;
        size_t after_uid_len;
        unsigned limit; /* 0 = no limit */
} StoreDeviceFilter;
typedef int (*StoreDeviceCb)(const StoreDevice *d, void *userdata);
/* The network filter is the network a device joins (its own or its vendor's default). A vendor or network
 * filter naming nothing that exists is -ENOENT. f may be NULL (everything). */
int store_device_list(Store *s, const StoreDeviceFilter *f, StoreDeviceCb cb, void *userdata);
/* Counts what store_device_list() would list, ignoring limit. */
int store_device_count(Store *s, const StoreDeviceFilter *f, uint64_t *ret);

/* ---- what the daemon needs for one START ---- */

typedef struct StoreIdentity {
        bool from_device;    /* a device row matched; otherwise a vendor enrollment rule did */
        bool device_enabled; /* from_device only */
        bool vendor_enabled; /* true when there is no vendor */
        uint8_t method;      /* the device's method, or the vendor's enroll_method */
        char vendor[NAME_MAX_LEN + 1];
        char label[NAME_MAX_LEN + 1];
        bool has_factory_key; /* the device's own, the vendor's, or derived from the vendor master */
        uint8_t factory_key[PROV_FACTORY_KEY_SIZE];
        StoreNetwork network;  /* with keys */
        bool has_node_address; /* explicit device address */
        uint32_t node_address;
        bool has_role;
        uint8_t role;
        size_t n_user_items;
        ProvUserItem user_items[PROV_PARAMS_USER_MAX];
} StoreIdentity;

/* Looks up a device row for the UID, else the vendor whose enrollment rule matches it (longest prefix wins),
 * using indexes only: no table scan per START. -ENOENT if neither; -EBADMSG if a row is damaged or a key
 * does not open. For a UID with the extended layout an AUTHENTICATOR rule ranks above any UID prefix rule. A
 * disabled vendor's rule still matches (vendor_enabled = false) rather than falling through to a shorter
 * rule. */
int store_resolve(Store *s, const uint8_t *uid, size_t uid_len, StoreIdentity *ret);

/* Node address from the network's pool for this UID: the same UID always gets the same address back; an
 * address is never held by two devices (explicit device addresses are skipped); a released address is held
 * back for StoreOptions.address_hold before reuse. -ENOSPC when the pool is exhausted, -ENOENT without pool.
 */
int store_address_allocate(Store *s, const char *network, const uint8_t *uid, size_t uid_len, usec_t now,
                           uint32_t *ret);
/* Releases the UID's pool address (device removed): it becomes reusable after the hold time; the same UID
 * gets it back if it asks again first. Returns 1 if released, 0 if the UID held none; -ENOENT without the
 * network. */
int store_address_release(Store *s, const char *network, const uint8_t *uid, size_t uid_len, usec_t now);

/* Provisioning progress on a device row (no-ops for UIDs admitted by vendor enrollment without a row).
 * Return 1 if a row was updated, 0 if there is none. */
int store_device_note_start(Store *s, const uint8_t *uid, size_t uid_len, usec_t now);
int store_device_note_sent(Store *s, const uint8_t *uid, size_t uid_len, usec_t now);
int store_device_note_provisioned(Store *s, const uint8_t *uid, size_t uid_len, usec_t now);

/* ---- audit log: every decision ---- */

typedef enum StoreEventKind {
        STORE_EVENT_START,       /* START seen */
        STORE_EVENT_NACK,        /* NACK sent (nack_reason) */
        STORE_EVENT_DATA,        /* DATA sent */
        STORE_EVENT_ACK,         /* DATA_ACK received: provisioned */
        STORE_EVENT_EXPIRED,     /* session ended without ACK: sent, unconfirmed */
        STORE_EVENT_SEND_FAILED, /* the bearer could not deliver a DATA/NACK */
        STORE_EVENT_ERROR,       /* internal failure (e.g. database), nothing sent */
        _STORE_EVENT_KIND_MAX,
        _STORE_EVENT_KIND_INVALID = -EINVAL,
} StoreEventKind;

typedef struct StoreAuditEvent {
        int64_t id; /* set by the store */
        usec_t time;
        StoreEventKind kind;
        uint8_t uid[PROV_UID_MAX];
        size_t uid_len;
        int method; /* -1 unknown */
        char vendor[NAME_MAX_LEN + 1];
        char network[NAME_MAX_LEN + 1];
        char gateway[GW_ID_MAX_LEN + 1]; /* "" for the UART bearer */
        char sink[SINK_ID_MAX_LEN + 1];
        uint32_t source_address; /* mesh source address of the START (the node or its proxy) */
        uint32_t node_address;   /* the address field of the provisioning header */
        uint8_t session_id;
        char result[32]; /* "ok", "not_authorized", "method_not_supported", "invalid_data", "disabled",
                            "unconfirmed", "duplicate", "error", ... */
        int nack_reason; /* -1 if not a NACK */
        char detail[128];
} StoreAuditEvent;

/* Appends all events in one transaction; returns n. -EINVAL (nothing appended) if any event is invalid:
 * unknown kind, uid_len > 79, a string not terminated within its array. */
int store_audit_append(Store *s, const StoreAuditEvent *events, size_t n);

typedef struct StoreAuditFilter {
        const uint8_t *uid; /* NULL = any */
        size_t uid_len;
        usec_t since, until; /* since <= time < until; 0 = open */
        int kind;            /* a StoreEventKind, -1 = any */
        const char *result;  /* NULL = any */
        int64_t after_id; /* paging: only ids > after_id (ascending) or < after_id (descending); 0 = none */
        bool descending;  /* newest first */
        unsigned limit;   /* 0 = no limit */
} StoreAuditFilter;
typedef int (*StoreAuditCb)(const StoreAuditEvent *e, void *userdata);
int store_audit_query(Store *s, const StoreAuditFilter *f, StoreAuditCb cb, void *userdata);
/* Deletes events older than `before`, oldest first, at most `max_rows` (0: no limit) at a time; returns the
 * number deleted. Ids are never reused. */
int store_audit_prune(Store *s, usec_t before, unsigned max_rows);

const char *store_event_kind_to_string(StoreEventKind k); /* "start", "nack", "data", "ack", "expired",
                                                             "send_failed", "error" */
StoreEventKind store_event_kind_from_string(const char *s);
const char *store_device_state_to_string(StoreDeviceState s); /* "new", "sent", "provisioned" */
StoreDeviceState store_device_state_from_string(const char *s);
const char *store_vendor_key_kind_to_string(StoreVendorKeyKind k); /* "none", "factory", "master" */
StoreVendorKeyKind store_vendor_key_kind_from_string(const char *s);
const char *store_enroll_kind_to_string(StoreEnrollKind k); /* "none", "uid-prefix", "authenticator" */
StoreEnrollKind store_enroll_kind_from_string(const char *s);
bool store_name_valid(const char *name);

/* ---- statistics (store-stats.c): audit log counts for the management API and meshprovctl ---- */

#define STORE_STATS_RESULTS_MAX 64u /* distinct result names counted one by one; the rest are "other" */
#define STORE_STATS_NACK_MAX    256u

typedef struct StoreAuditStats {
        uint64_t total;
        uint64_t by_kind[_STORE_EVENT_KIND_MAX];
        uint64_t by_nack_reason[STORE_STATS_NACK_MAX]; /* indexed by the NACK reason byte */
        size_t n_results;                              /* most frequent first */
        struct {
                char name[32];
                uint64_t count;
        } results[STORE_STATS_RESULTS_MAX];
        uint64_t results_other; /* events whose result is not among those listed */
} StoreAuditStats;

typedef struct StoreRouteStats {
        char gateway[GW_ID_MAX_LEN + 1]; /* "" for the UART bearer */
        char sink[SINK_ID_MAX_LEN + 1];
        uint64_t starts, data, acks, nacks, events;
} StoreRouteStats;
typedef int (*StoreRouteStatsCb)(const StoreRouteStats *r, void *userdata); /* <0 stops and is returned */

/* Counts of the audit events with since <= time < until (0 = open end), per kind, NACK reason and result.
 * Aggregates over the time index (or the whole table when both ends are open). */
int store_audit_stats(Store *s, usec_t since, usec_t until, StoreAuditStats *ret);
/* Per gateway and sink in the same range, busiest first, at most `limit` (0: all) routes. Returns the number
 * of routes passed to cb. */
int store_audit_route_stats(Store *s, usec_t since, usec_t until, unsigned limit, StoreRouteStatsCb cb,
                            void *userdata);
/* Everything `stats` shows (audit counts, routes, devices per state) in the management API's shape, shared
 * by the daemon's API and meshprovctl's local mode; no live counters. ret->routes is allocated: free() it.
 */
int store_mgmt_stats(Store *s, usec_t since, usec_t until, MgmtStats *ret);
