/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The management API (proto/mgmt.proto) mapped to plain C structs.
 *
 * Pure: no I/O, no clock, no logging; with gwapi.c the only code that sees protobuf-c. The daemon decodes
 * requests and encodes responses, events and the status; meshprovctl's remote backend does the opposite. The
 * structs mirror the store's (src/store/store.h) field by field, with the same enum values, so both sides
 * map them with plain copies.
 *
 * Requests are untrusted. mgmt_request_decode() is total: any bytes give 0 or a negative errno with an
 * MgmtError that names the problem for the answer. It refuses more than MGMT_REQUEST_MAX bytes before
 * protobuf-c sees them, caps protobuf-c's heap at MGMT_UNPACK_MEMORY_MAX, checks every count, length and
 * value with the rules of provdata.h and the store (names, addresses, channels per profile, keys, roles,
 * user items, UID layouts, enrollment rules), so that a bad request is answered precisely before anything
 * is touched. What only the database can know (does the network exist, does the map fit the network's
 * profile, is an address taken) is left to the store.
 *
 * Error fields name the protobuf fields of the request: "network.channel", "device.user_items[2].id",
 * "devices[12].node_address" (bulk: the index in the whole staged batch), "limit", "request_id".
 *
 * Keys travel only towards the daemon (with *_update SET). Answers never carry them: encoders of answers
 * write fingerprints and ignore key bytes. */

#include "meshprov-limits.h"
#include "macro.h"
#include "provdata.h"
#include "time-util.h"

#define MGMT_TOPIC_ROOT "meshprov/v1/"

/* Size of a buffer for any topic built here, including the NUL. */
#define MGMT_TOPIC_BUFFER_SIZE (sizeof(MGMT_TOPIC_ROOT) + NAME_MAX_LEN + 32u)

typedef enum MgmtOp {
        MGMT_OP_NETWORK_PUT,
        MGMT_OP_NETWORK_GET,
        MGMT_OP_NETWORK_LIST,
        MGMT_OP_NETWORK_DELETE,
        MGMT_OP_VENDOR_PUT,
        MGMT_OP_VENDOR_GET,
        MGMT_OP_VENDOR_LIST,
        MGMT_OP_VENDOR_DELETE,
        MGMT_OP_DEVICE_PUT,
        MGMT_OP_DEVICE_GET,
        MGMT_OP_DEVICE_LIST,
        MGMT_OP_DEVICE_DELETE,
        MGMT_OP_DEVICE_COUNT,
        MGMT_OP_DEVICE_BULK_PUT,
        MGMT_OP_DEVICE_ENABLE,
        MGMT_OP_DEVICE_DISABLE,
        MGMT_OP_DEVICE_HISTORY,
        MGMT_OP_AUDIT_QUERY,
        MGMT_OP_STATS,
        MGMT_OP_STATUS,
        _MGMT_OP_MAX,
        _MGMT_OP_INVALID = -EINVAL,
} MgmtOp;

/* Wire values of ErrorCode. */
typedef enum MgmtCode {
        MGMT_OK = 0,
        MGMT_MALFORMED = 1,
        MGMT_TOO_LARGE = 2,
        MGMT_INVALID = 3,
        MGMT_NOT_FOUND = 4,
        MGMT_EXISTS = 5,
        MGMT_IN_USE = 6,
        MGMT_BUSY = 7,
        MGMT_INTERNAL = 8,
        MGMT_UNSUPPORTED = 9,
        _MGMT_CODE_MAX,
        _MGMT_CODE_INVALID = -EINVAL,
} MgmtCode;

/* These mirror StorePutMode, StoreKeyUpdate, StoreVendorKeyKind, StoreEnrollKind, StoreDeviceState and
 * StoreEventKind value for value (the daemon checks it at compile time). */
typedef enum MgmtPutMode {
        MGMT_PUT_CREATE,
        MGMT_PUT_UPDATE,
        MGMT_PUT_UPSERT,
        _MGMT_PUT_MODE_MAX,
        _MGMT_PUT_MODE_INVALID = -EINVAL,
} MgmtPutMode;

typedef enum MgmtKeyUpdate {
        MGMT_KEY_KEEP,
        MGMT_KEY_SET,
        MGMT_KEY_CLEAR,
        _MGMT_KEY_UPDATE_MAX,
        _MGMT_KEY_UPDATE_INVALID = -EINVAL,
} MgmtKeyUpdate;

typedef enum MgmtVendorKeyKind {
        MGMT_VENDOR_KEY_NONE,
        MGMT_VENDOR_KEY_FACTORY,
        MGMT_VENDOR_KEY_MASTER,
        _MGMT_VENDOR_KEY_KIND_MAX,
        _MGMT_VENDOR_KEY_KIND_INVALID = -EINVAL,
} MgmtVendorKeyKind;

typedef enum MgmtEnrollKind {
        MGMT_ENROLL_NONE,
        MGMT_ENROLL_UID_PREFIX,
        MGMT_ENROLL_AUTHENTICATOR,
        _MGMT_ENROLL_KIND_MAX,
        _MGMT_ENROLL_KIND_INVALID = -EINVAL,
} MgmtEnrollKind;

typedef enum MgmtDeviceState {
        MGMT_DEVICE_NEW,
        MGMT_DEVICE_SENT,
        MGMT_DEVICE_PROVISIONED,
        _MGMT_DEVICE_STATE_MAX,
        _MGMT_DEVICE_STATE_INVALID = -EINVAL,
} MgmtDeviceState;

typedef enum MgmtEventKind {
        MGMT_EVENT_START,
        MGMT_EVENT_NACK,
        MGMT_EVENT_DATA,
        MGMT_EVENT_ACK,
        MGMT_EVENT_EXPIRED,
        MGMT_EVENT_SEND_FAILED,
        MGMT_EVENT_ERROR,
        _MGMT_EVENT_KIND_MAX,
        _MGMT_EVENT_KIND_INVALID = -EINVAL,
} MgmtEventKind;

#define MGMT_FINGERPRINT_SIZE (MGMT_FINGERPRINT_MAX_LEN + 1u)

typedef struct MgmtNetwork {
        char name[NAME_MAX_LEN + 1];
        ProvProfile profile;
        uint32_t network_address;
        uint32_t channel;
        MgmtKeyUpdate keys_update;
        uint8_t enc_key[PROV_KEY_SIZE]; /* requests with SET only */
        uint8_t auth_key[PROV_KEY_SIZE];
        bool allow_unsecured;
        bool has_pool;
        uint32_t pool_first, pool_last;
        /* answers */
        char enc_key_fingerprint[MGMT_FINGERPRINT_SIZE];
        char auth_key_fingerprint[MGMT_FINGERPRINT_SIZE];
        usec_t created, updated;
} MgmtNetwork;

typedef struct MgmtVendor {
        char name[NAME_MAX_LEN + 1];
        MgmtKeyUpdate key_update;
        MgmtVendorKeyKind key_kind;
        uint8_t key[32]; /* requests with SET only */
        MgmtEnrollKind enroll_kind;
        uint8_t enroll_prefix[PROV_UID_MAX];
        size_t enroll_prefix_len;
        uint8_t enroll_method;
        char default_network[NAME_MAX_LEN + 1];
        bool enabled;
        /* answers */
        char key_fingerprint[MGMT_FINGERPRINT_SIZE]; /* "" with key_kind NONE */
        usec_t created, updated;
} MgmtVendor;

typedef struct MgmtDevice {
        uint8_t uid[PROV_UID_MAX];
        size_t uid_len;
        char label[NAME_MAX_LEN + 1];
        char vendor[NAME_MAX_LEN + 1];
        char network[NAME_MAX_LEN + 1];
        uint8_t method;
        MgmtKeyUpdate factory_key_update;
        uint8_t factory_key[PROV_FACTORY_KEY_SIZE]; /* requests with SET only */
        bool has_node_address;
        uint32_t node_address;
        bool has_role;
        uint8_t role;
        size_t n_user_items;
        ProvUserItem user_items[PROV_PARAMS_USER_MAX];
        bool enabled;
        /* answers */
        bool has_factory_key;
        char factory_key_fingerprint[MGMT_FINGERPRINT_SIZE];
        MgmtDeviceState state;
        bool has_allocated_address;
        uint32_t allocated_address;
        usec_t created, updated, last_start, provisioned_at;
        uint32_t n_starts, n_provisioned;
} MgmtDevice;

/* An audit log row or a live event. No key material. */
typedef struct MgmtEvent {
        int64_t id; /* 0: a live event */
        usec_t time;
        MgmtEventKind kind;
        uint8_t uid[PROV_UID_MAX];
        size_t uid_len;
        int method; /* -1 unknown */
        char vendor[NAME_MAX_LEN + 1];
        char network[NAME_MAX_LEN + 1];
        char bearer[8]; /* "mqtt", "uart", "" */
        char gateway[GW_ID_MAX_LEN + 1];
        char sink[SINK_ID_MAX_LEN + 1];
        uint32_t network_address;
        uint32_t source_address;
        uint32_t node_address;
        uint8_t session_id;
        char result[MGMT_RESULT_MAX_LEN + 1];
        int nack_reason; /* -1 unless a NACK */
        char detail[MGMT_DETAIL_MAX_LEN + 1];
        unsigned copies, attempt;
} MgmtEvent;

typedef struct MgmtCounters {
        uint64_t uplinks, malformed, starts, data_sent, data_resent, acks, nacks, expired, send_failed,
                errors;
        uint64_t sessions_live, sessions_max;
        uint64_t api_requests, api_errors, api_dropped, events_published, events_dropped;
} MgmtCounters;

typedef struct MgmtSinkStatus {
        char name[SINK_ID_MAX_LEN + 1];
        char device[MGMT_STATUS_STRING_MAX + 1];
        bool online;
        char state[32];
} MgmtSinkStatus;

typedef struct MgmtStatus {
        bool online;
        char instance[NAME_MAX_LEN + 1];
        char version[MGMT_STATUS_STRING_MAX + 1];
        usec_t time;
        usec_t uptime;
        char broker_host[MGMT_STATUS_STRING_MAX + 1];
        bool broker_connected;
        bool gateway_api;
        uint64_t gateways_online;
        size_t n_sinks;
        MgmtSinkStatus sinks[SINKS_MAX];
        bool has_counters;
        MgmtCounters counters;
} MgmtStatus;

typedef struct MgmtCount {
        char name[MGMT_RESULT_MAX_LEN + 1];
        uint64_t count;
} MgmtCount;

typedef struct MgmtRouteCount {
        char gateway[GW_ID_MAX_LEN + 1];
        char sink[SINK_ID_MAX_LEN + 1];
        uint64_t starts, data, acks, nacks, events;
} MgmtRouteCount;

typedef struct MgmtStats {
        usec_t since, until;
        uint64_t events_total;
        uint64_t by_kind[_MGMT_EVENT_KIND_MAX];
        size_t n_by_result;
        MgmtCount by_result[MGMT_STATS_RESULTS_MAX];
        uint64_t by_nack_reason[4]; /* PROV_NACK_* */
        size_t n_routes;
        MgmtRouteCount *routes; /* owned (MGMT_STATS_ROUTES_MAX at most) */
        bool routes_truncated;
        uint64_t devices_total;
        uint64_t devices_by_state[_MGMT_DEVICE_STATE_MAX];
        bool has_counters;
        MgmtCounters counters;
} MgmtStats;

/* ---- requests ---- */

typedef struct MgmtNetworkPut {
        MgmtNetwork network;
        MgmtPutMode mode;
} MgmtNetworkPut;

typedef struct MgmtVendorPut {
        MgmtVendor vendor;
        MgmtPutMode mode;
} MgmtVendorPut;

typedef struct MgmtDevicePut {
        MgmtDevice device;
        MgmtPutMode mode;
} MgmtDevicePut;

typedef struct MgmtListArgs {
        char after[NAME_MAX_LEN + 1]; /* "" from the start */
        unsigned limit;               /* 1..MGMT_PAGE_MAX (a request's 0 is decoded as MGMT_PAGE_MAX) */
} MgmtListArgs;

typedef struct MgmtUidArgs {
        uint8_t uid[PROV_UID_MAX];
        size_t uid_len;
        unsigned limit;   /* device_history only */
        int64_t after_id; /* device_history only: events older than this id; 0 from the newest */
} MgmtUidArgs;

typedef struct MgmtDeviceFilter {
        char vendor[NAME_MAX_LEN + 1];  /* "" any */
        char network[NAME_MAX_LEN + 1]; /* "" any */
        int state;                      /* MgmtDeviceState, -1 any */
        uint8_t after_uid[PROV_UID_MAX];
        size_t after_uid_len; /* 0: from the start */
        unsigned limit;
} MgmtDeviceFilter;

typedef struct MgmtAuditFilter {
        uint8_t uid[PROV_UID_MAX];
        size_t uid_len; /* 0: any */
        usec_t since, until;
        int kind;                             /* MgmtEventKind, -1 any */
        char result[MGMT_RESULT_MAX_LEN + 1]; /* "" any */
        int64_t after_id;
        bool descending;
        unsigned limit;
} MgmtAuditFilter;

typedef struct MgmtStatsArgs {
        usec_t since, until;
} MgmtStatsArgs;

typedef struct MgmtBulkPut {
        /* Encoding: the items (borrowed). Decoding: NULL; read them with mgmt_request_bulk_network() and
         * mgmt_request_bulk_device(), which convert one at a time (a request may hold 20000 devices). */
        const MgmtNetworkPut *networks;
        const MgmtDevicePut *devices;
        size_t n_networks, n_devices;
        bool dry_run;
        char batch[MGMT_BATCH_ID_MAX + 1]; /* "" the request is the whole batch */
        uint32_t seq;
        bool last;
        bool abort; /* drop the staged batch */
} MgmtBulkPut;

typedef struct MgmtRequest {
        char id[MGMT_REQUEST_ID_MAX + 1];
        MgmtOp op;
        union {
                MgmtNetworkPut network_put;
                MgmtVendorPut vendor_put;
                MgmtDevicePut device_put;
                char name[NAME_MAX_LEN + 1]; /* network_get/delete, vendor_get/delete */
                MgmtListArgs list;           /* network_list, vendor_list */
                MgmtUidArgs device;          /* device_get/delete/enable/disable/history */
                MgmtDeviceFilter filter;     /* device_list, device_count */
                MgmtBulkPut bulk;
                MgmtAuditFilter audit;
                MgmtStatsArgs stats;
        };
        void *internal; /* decoded requests: the unpacked message */
} MgmtRequest;

/* Item errors of a bulk request; index is the item's position in the whole batch. */
typedef struct MgmtItemError {
        uint32_t index;
        MgmtCode code;
        char field[96];
        char message[256];
} MgmtItemError;

typedef struct MgmtError {
        MgmtCode code; /* MGMT_OK: no error */
        char field[96];
        char message[256];
        size_t n_items;
        MgmtItemError items[MGMT_ITEM_ERRORS_MAX];
        /* mgmt_request_decode(): the request id when it could be read, to echo it even in a refusal */
        char request_id[MGMT_REQUEST_ID_MAX + 1];
} MgmtError;

/* Fills e (keeping request_id) and returns the matching negative errno: MALFORMED -EBADMSG, TOO_LARGE
 * -EMSGSIZE, INVALID -EINVAL, NOT_FOUND -ENOENT, EXISTS -EEXIST, IN_USE/BUSY -EBUSY, INTERNAL -EIO,
 * UNSUPPORTED -EOPNOTSUPP. field may be NULL. */
/* The -errno for an error code (MGMT_OK: 0; a code this build does not know: -EIO). */
int mgmt_code_to_errno(MgmtCode code);
int mgmt_error_set(MgmtError *e, MgmtCode code, const char *field, const char *format, ...) _printf_(4, 5);
/* Appends an item error; beyond MGMT_ITEM_ERRORS_MAX they are dropped (the first ones matter). */
void mgmt_error_add_item(MgmtError *e, uint32_t index, MgmtCode code, const char *field,
                         const char *message);

/* Decodes a request that arrived on request/<op>. The body must be the operation `op`. On success *ret is a
 * new request (free with mgmt_request_free()); on failure err says why (code, field, message) and carries
 * the request id if it could be read. -EMSGSIZE over a cap, -EBADMSG unreadable or the wrong body, -EINVAL a
 * rule broken, -ENOMEM. */
int mgmt_request_decode(const void *buf, size_t len, MgmtOp op, MgmtRequest **ret, MgmtError *err);
MgmtRequest *mgmt_request_free(MgmtRequest *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(MgmtRequest *, mgmt_request_free);

/* Bulk requests: mgmt_request_decode() checks the envelope, the batch fields and the item counts; the items
 * themselves are checked by mgmt_request_bulk_check(), given the batch index of the request's first network
 * and first device (0, 0 for a request that is the whole batch) so that errors name items by their index in
 * the whole batch. It lists up to MGMT_ITEM_ERRORS_MAX failing items in err->items, names the first one in
 * err->field/message and returns its errno (-EINVAL, or -EMSGSIZE for a cap); 0 if every item is fine. */
int mgmt_request_bulk_check(const MgmtRequest *r, uint32_t networks_base, uint64_t devices_base,
                            MgmtError *err);
/* Converts one bulk item of a decoded request (i < n_networks / n_devices, else -EINVAL). Only bounds are
 * checked here: run mgmt_request_bulk_check() first. */
int mgmt_request_bulk_network(const MgmtRequest *r, size_t i, MgmtNetworkPut *ret);
int mgmt_request_bulk_device(const MgmtRequest *r, size_t i, MgmtDevicePut *ret);

/* Encodes a request (meshprovctl). Key bytes are written only with *_update SET. Values are not validated:
 * the daemon does that and answers precisely. *ret is malloc'ed. -EMSGSIZE beyond MGMT_REQUEST_MAX, -EINVAL
 * for an op out of range or a string not terminated within its array. */
int mgmt_request_encode(const MgmtRequest *r, uint8_t **ret, size_t *ret_len);

/* ---- responses ---- */

typedef struct MgmtBulkResult {
        uint32_t networks_created, networks_updated;
        uint64_t devices_created, devices_updated;
        bool committed, dry_run;
        uint64_t staged_devices;
        uint32_t staged_networks;
} MgmtBulkResult;

typedef struct MgmtResponse {
        char id[MGMT_REQUEST_ID_MAX + 1];
        MgmtOp op; /* not on the wire: the topic's; selects the body */
        MgmtError error;
        bool created;
        union {
                MgmtNetwork network; /* network_put, network_get */
                MgmtVendor vendor;   /* vendor_put, vendor_get */
                MgmtDevice device;   /* device_put/get/enable/disable */
                struct {
                        MgmtNetwork *items;
                        size_t n;
                        bool more;
                } networks;
                struct {
                        MgmtVendor *items;
                        size_t n;
                        bool more;
                } vendors;
                struct {
                        MgmtDevice *items;
                        size_t n;
                        bool more;
                } devices;
                uint64_t count; /* device_count */
                MgmtBulkResult bulk;
                struct {
                        MgmtDevice *device; /* NULL: no device row */
                        MgmtEvent *items;
                        size_t n;
                        bool more;
                } history;
                struct {
                        MgmtEvent *items;
                        size_t n;
                        bool more;
                } events; /* audit_query */
                MgmtStats stats;
                MgmtStatus status;
        };
} MgmtResponse;

/* Initializes an empty successful response to op (id copied, truncated to MGMT_REQUEST_ID_MAX). */
void mgmt_response_init(MgmtResponse *r, MgmtOp op, const char *id);
/* Frees the arrays the response owns (items, history device, stats routes); the struct itself stays. */
void mgmt_response_done(MgmtResponse *r);
MgmtResponse *mgmt_response_free(MgmtResponse *r); /* done + free */
DEFINE_TRIVIAL_CLEANUP_FUNC(MgmtResponse *, mgmt_response_free);

/* Encodes a response; with error.code != OK only the error is written. Fingerprints, never keys. *ret is
 * malloc'ed. -EMSGSIZE beyond MGMT_RESPONSE_MAX. */
int mgmt_response_encode(const MgmtResponse *r, uint8_t **ret, size_t *ret_len);
/* Decodes a response to op (meshprovctl): total like the request decoder, bounded by MGMT_RESPONSE_MAX,
 * arrays bounded by MGMT_PAGE_MAX. -EBADMSG if the body does not belong to op. */
int mgmt_response_decode(const void *buf, size_t len, MgmtOp op, MgmtResponse **ret);

/* ---- events and status ---- */

/* Returns the length written (<= MGMT_EVENT_MAX), -EMSGSIZE if bufsz is too small. */
int mgmt_event_encode(const MgmtEvent *e, uint8_t *buf, size_t bufsz);
int mgmt_event_decode(const void *buf, size_t len, MgmtEvent *ret);
int mgmt_status_encode(const MgmtStatus *s, uint8_t *buf, size_t bufsz);
int mgmt_status_decode(const void *buf, size_t len, MgmtStatus *ret);

/* ---- names and topics ---- */

const char *mgmt_op_to_string(MgmtOp op) _pure_; /* "network_put": the topic level */
MgmtOp mgmt_op_from_string(const char *s) _pure_;
const char *mgmt_code_to_string(MgmtCode c) _pure_; /* "INVALID" */
MgmtCode mgmt_code_from_string(const char *s) _pure_;
const char *mgmt_event_kind_to_string(MgmtEventKind k) _pure_; /* "start", ... as the store's */
/* Same rule as the store's names: 1..64 of [A-Za-z0-9._-]. */
bool mgmt_name_valid(const char *s) _pure_;

/* "meshprov/v1/<instance>/request/<op>" etc. Return -EINVAL for an invalid instance id, -EMSGSIZE if bufsz
 * is too small. */
int mgmt_topic_request(const char *instance, MgmtOp op, char *buf, size_t bufsz);
int mgmt_topic_response(const char *instance, MgmtOp op, char *buf, size_t bufsz);
int mgmt_topic_event(const char *instance, char *buf, size_t bufsz);
int mgmt_topic_status(const char *instance, char *buf, size_t bufsz);
/* "meshprov/v1/<instance>/request/+" */
int mgmt_topic_request_filter(const char *instance, char *buf, size_t bufsz);
/* Parses "meshprov/v1/<instance>/request/<op>" for our instance: 1 and *ret_op, 0 if the topic is not a
 * request to this instance, -EOPNOTSUPP for a request to this instance with an unknown op. */
int mgmt_topic_parse_request(const char *topic, const char *instance, MgmtOp *ret_op);
