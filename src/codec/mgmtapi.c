/* SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "cursor.h"
#include "mgmt.pb-c.h"
#include "mgmtapi.h"
#include "provmsg.h"
#include "string-util.h"

typedef Meshprov__Mgmt__Request PbRequest;
typedef Meshprov__Mgmt__Response PbResponse;
typedef Meshprov__Mgmt__Error PbError;
typedef Meshprov__Mgmt__ItemError PbItemError;
typedef Meshprov__Mgmt__Network PbNetwork;
typedef Meshprov__Mgmt__Vendor PbVendor;
typedef Meshprov__Mgmt__Device PbDevice;
typedef Meshprov__Mgmt__UserItem PbUserItem;
typedef Meshprov__Mgmt__Event PbEvent;
typedef Meshprov__Mgmt__NetworkPut PbNetworkPut;
typedef Meshprov__Mgmt__VendorPut PbVendorPut;
typedef Meshprov__Mgmt__DevicePut PbDevicePut;
typedef Meshprov__Mgmt__Name PbName;
typedef Meshprov__Mgmt__DeviceRef PbDeviceRef;
typedef Meshprov__Mgmt__ListRequest PbListRequest;
typedef Meshprov__Mgmt__DeviceFilter PbDeviceFilter;
typedef Meshprov__Mgmt__BulkPut PbBulkPut;
typedef Meshprov__Mgmt__HistoryRequest PbHistoryRequest;
typedef Meshprov__Mgmt__AuditQuery PbAuditQuery;
typedef Meshprov__Mgmt__StatsRequest PbStatsRequest;
typedef Meshprov__Mgmt__StatusRequest PbStatusRequest;
typedef Meshprov__Mgmt__NetworkList PbNetworkList;
typedef Meshprov__Mgmt__VendorList PbVendorList;
typedef Meshprov__Mgmt__DeviceList PbDeviceList;
typedef Meshprov__Mgmt__DeviceCount PbDeviceCount;
typedef Meshprov__Mgmt__BulkResult PbBulkResult;
typedef Meshprov__Mgmt__History PbHistory;
typedef Meshprov__Mgmt__EventList PbEventList;
typedef Meshprov__Mgmt__Count PbCount;
typedef Meshprov__Mgmt__RouteCount PbRouteCount;
typedef Meshprov__Mgmt__Counters PbCounters;
typedef Meshprov__Mgmt__Stats PbStats;
typedef Meshprov__Mgmt__Broker PbBroker;
typedef Meshprov__Mgmt__Sink PbSink;
typedef Meshprov__Mgmt__Status PbStatus;

#define ASSERT_WIRE_VALUE(ours, generated) _Static_assert((int)(ours) == (int)(generated), #ours)
ASSERT_WIRE_VALUE(MGMT_OK, MESHPROV__MGMT__ERROR_CODE__OK);
ASSERT_WIRE_VALUE(MGMT_MALFORMED, MESHPROV__MGMT__ERROR_CODE__MALFORMED);
ASSERT_WIRE_VALUE(MGMT_TOO_LARGE, MESHPROV__MGMT__ERROR_CODE__TOO_LARGE);
ASSERT_WIRE_VALUE(MGMT_INVALID, MESHPROV__MGMT__ERROR_CODE__INVALID);
ASSERT_WIRE_VALUE(MGMT_NOT_FOUND, MESHPROV__MGMT__ERROR_CODE__NOT_FOUND);
ASSERT_WIRE_VALUE(MGMT_EXISTS, MESHPROV__MGMT__ERROR_CODE__EXISTS);
ASSERT_WIRE_VALUE(MGMT_IN_USE, MESHPROV__MGMT__ERROR_CODE__IN_USE);
ASSERT_WIRE_VALUE(MGMT_BUSY, MESHPROV__MGMT__ERROR_CODE__BUSY);
ASSERT_WIRE_VALUE(MGMT_INTERNAL, MESHPROV__MGMT__ERROR_CODE__INTERNAL);
ASSERT_WIRE_VALUE(MGMT_UNSUPPORTED, MESHPROV__MGMT__ERROR_CODE__UNSUPPORTED);
ASSERT_WIRE_VALUE(MGMT_PUT_UPSERT, MESHPROV__MGMT__PUT_MODE__UPSERT);
ASSERT_WIRE_VALUE(MGMT_KEY_CLEAR, MESHPROV__MGMT__KEY_UPDATE__CLEAR);
ASSERT_WIRE_VALUE(PROV_PROFILE_24G, MESHPROV__MGMT__PROFILE__PROFILE_2_4G);
ASSERT_WIRE_VALUE(PROV_PROFILE_SUBG, MESHPROV__MGMT__PROFILE__PROFILE_SUBG);
ASSERT_WIRE_VALUE(PROV_PROFILE_5GMESH, MESHPROV__MGMT__PROFILE__PROFILE_5GMESH);
ASSERT_WIRE_VALUE(MGMT_VENDOR_KEY_MASTER, MESHPROV__MGMT__VENDOR_KEY_KIND__VENDOR_KEY_MASTER);
ASSERT_WIRE_VALUE(MGMT_ENROLL_AUTHENTICATOR, MESHPROV__MGMT__ENROLL_KIND__ENROLL_AUTHENTICATOR);
ASSERT_WIRE_VALUE(MGMT_DEVICE_PROVISIONED, MESHPROV__MGMT__DEVICE_STATE__DEVICE_PROVISIONED);
ASSERT_WIRE_VALUE(MGMT_EVENT_ERROR, MESHPROV__MGMT__EVENT_KIND__EVENT_ERROR);
ASSERT_WIRE_VALUE(PROV_NACK_NOT_AUTHORIZED, MESHPROV__MGMT__NACK_REASON__NACK_NOT_AUTHORIZED);
ASSERT_WIRE_VALUE(PROV_NACK_INVALID_KEY, MESHPROV__MGMT__NACK_REASON__NACK_INVALID_KEY);
_Static_assert(_PROV_NACK_MAX == 4, "MgmtStats.by_nack_reason");
_Static_assert(MGMT_REQUEST_MAX <= INT32_MAX && MGMT_RESPONSE_MAX <= INT32_MAX, "sizes fit an int");

/* ---------------------------------------------------------------------------------------------------------
 * Names */

static const char *const op_table[_MGMT_OP_MAX] = {
        [MGMT_OP_NETWORK_PUT] = "network_put",
        [MGMT_OP_NETWORK_GET] = "network_get",
        [MGMT_OP_NETWORK_LIST] = "network_list",
        [MGMT_OP_NETWORK_DELETE] = "network_delete",
        [MGMT_OP_VENDOR_PUT] = "vendor_put",
        [MGMT_OP_VENDOR_GET] = "vendor_get",
        [MGMT_OP_VENDOR_LIST] = "vendor_list",
        [MGMT_OP_VENDOR_DELETE] = "vendor_delete",
        [MGMT_OP_DEVICE_PUT] = "device_put",
        [MGMT_OP_DEVICE_GET] = "device_get",
        [MGMT_OP_DEVICE_LIST] = "device_list",
        [MGMT_OP_DEVICE_DELETE] = "device_delete",
        [MGMT_OP_DEVICE_COUNT] = "device_count",
        [MGMT_OP_DEVICE_BULK_PUT] = "device_bulk_put",
        [MGMT_OP_DEVICE_ENABLE] = "device_enable",
        [MGMT_OP_DEVICE_DISABLE] = "device_disable",
        [MGMT_OP_DEVICE_HISTORY] = "device_history",
        [MGMT_OP_AUDIT_QUERY] = "audit_query",
        [MGMT_OP_STATS] = "stats",
        [MGMT_OP_STATUS] = "status",
};

/* The Request body case of each op (the Response body case has the same number, see mgmt.proto). */
static const int op_case[_MGMT_OP_MAX] = {
        [MGMT_OP_NETWORK_PUT] = MESHPROV__MGMT__REQUEST__BODY_NETWORK_PUT,
        [MGMT_OP_NETWORK_GET] = MESHPROV__MGMT__REQUEST__BODY_NETWORK_GET,
        [MGMT_OP_NETWORK_LIST] = MESHPROV__MGMT__REQUEST__BODY_NETWORK_LIST,
        [MGMT_OP_NETWORK_DELETE] = MESHPROV__MGMT__REQUEST__BODY_NETWORK_DELETE,
        [MGMT_OP_VENDOR_PUT] = MESHPROV__MGMT__REQUEST__BODY_VENDOR_PUT,
        [MGMT_OP_VENDOR_GET] = MESHPROV__MGMT__REQUEST__BODY_VENDOR_GET,
        [MGMT_OP_VENDOR_LIST] = MESHPROV__MGMT__REQUEST__BODY_VENDOR_LIST,
        [MGMT_OP_VENDOR_DELETE] = MESHPROV__MGMT__REQUEST__BODY_VENDOR_DELETE,
        [MGMT_OP_DEVICE_PUT] = MESHPROV__MGMT__REQUEST__BODY_DEVICE_PUT,
        [MGMT_OP_DEVICE_GET] = MESHPROV__MGMT__REQUEST__BODY_DEVICE_GET,
        [MGMT_OP_DEVICE_LIST] = MESHPROV__MGMT__REQUEST__BODY_DEVICE_LIST,
        [MGMT_OP_DEVICE_DELETE] = MESHPROV__MGMT__REQUEST__BODY_DEVICE_DELETE,
        [MGMT_OP_DEVICE_COUNT] = MESHPROV__MGMT__REQUEST__BODY_DEVICE_COUNT,
        [MGMT_OP_DEVICE_BULK_PUT] = MESHPROV__MGMT__REQUEST__BODY_DEVICE_BULK_PUT,
        [MGMT_OP_DEVICE_ENABLE] = MESHPROV__MGMT__REQUEST__BODY_DEVICE_ENABLE,
        [MGMT_OP_DEVICE_DISABLE] = MESHPROV__MGMT__REQUEST__BODY_DEVICE_DISABLE,
        [MGMT_OP_DEVICE_HISTORY] = MESHPROV__MGMT__REQUEST__BODY_DEVICE_HISTORY,
        [MGMT_OP_AUDIT_QUERY] = MESHPROV__MGMT__REQUEST__BODY_AUDIT_QUERY,
        [MGMT_OP_STATS] = MESHPROV__MGMT__REQUEST__BODY_STATS,
        [MGMT_OP_STATUS] = MESHPROV__MGMT__REQUEST__BODY_STATUS,
};

const char *mgmt_op_to_string(MgmtOp op) {
        if (op < 0 || op >= _MGMT_OP_MAX)
                return NULL;
        return op_table[op];
}

MgmtOp mgmt_op_from_string(const char *s) {
        if (!s)
                return _MGMT_OP_INVALID;
        for (size_t i = 0; i < ELEMENTSOF(op_table); i++)
                if (streq(s, op_table[i]))
                        return (MgmtOp)i;
        return _MGMT_OP_INVALID;
}

static MgmtOp op_from_case(int c) {
        for (size_t i = 0; i < ELEMENTSOF(op_case); i++)
                if (op_case[i] == c)
                        return (MgmtOp)i;
        return _MGMT_OP_INVALID;
}

static const char *const code_table[_MGMT_CODE_MAX] = {
        [MGMT_OK] = "OK",
        [MGMT_MALFORMED] = "MALFORMED",
        [MGMT_TOO_LARGE] = "TOO_LARGE",
        [MGMT_INVALID] = "INVALID",
        [MGMT_NOT_FOUND] = "NOT_FOUND",
        [MGMT_EXISTS] = "EXISTS",
        [MGMT_IN_USE] = "IN_USE",
        [MGMT_BUSY] = "BUSY",
        [MGMT_INTERNAL] = "INTERNAL",
        [MGMT_UNSUPPORTED] = "UNSUPPORTED",
};

const char *mgmt_code_to_string(MgmtCode c) {
        if (c < 0 || c >= _MGMT_CODE_MAX)
                return NULL;
        return code_table[c];
}

MgmtCode mgmt_code_from_string(const char *s) {
        if (!s)
                return _MGMT_CODE_INVALID;
        for (size_t i = 0; i < ELEMENTSOF(code_table); i++)
                if (streq(s, code_table[i]))
                        return (MgmtCode)i;
        return _MGMT_CODE_INVALID;
}

static const char *const event_kind_table[_MGMT_EVENT_KIND_MAX] = {
        [MGMT_EVENT_START] = "start",     [MGMT_EVENT_NACK] = "nack",
        [MGMT_EVENT_DATA] = "data",       [MGMT_EVENT_ACK] = "ack",
        [MGMT_EVENT_EXPIRED] = "expired", [MGMT_EVENT_SEND_FAILED] = "send_failed",
        [MGMT_EVENT_ERROR] = "error",
};

const char *mgmt_event_kind_to_string(MgmtEventKind k) {
        if (k < 0 || k >= _MGMT_EVENT_KIND_MAX)
                return NULL;
        return event_kind_table[k];
}

static const char *const device_state_table[_MGMT_DEVICE_STATE_MAX] = {
        [MGMT_DEVICE_NEW] = "new",
        [MGMT_DEVICE_SENT] = "sent",
        [MGMT_DEVICE_PROVISIONED] = "provisioned",
};

bool mgmt_name_valid(const char *s) {
        size_t n;

        if (!s)
                return false;
        n = strnlen(s, NAME_MAX_LEN + 1);
        if (n == 0 || n > NAME_MAX_LEN)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-'))
                        return false;
        }
        return true;
}

/* ---------------------------------------------------------------------------------------------------------
 * Errors */

int mgmt_code_to_errno(MgmtCode code) {
        switch (code) {
        case MGMT_OK:
                return 0;
        case MGMT_MALFORMED:
                return -EBADMSG;
        case MGMT_TOO_LARGE:
                return -EMSGSIZE;
        case MGMT_INVALID:
                return -EINVAL;
        case MGMT_NOT_FOUND:
                return -ENOENT;
        case MGMT_EXISTS:
                return -EEXIST;
        case MGMT_IN_USE:
        case MGMT_BUSY:
                return -EBUSY;
        case MGMT_INTERNAL:
                return -EIO;
        case MGMT_UNSUPPORTED:
                return -EOPNOTSUPP;
        case _MGMT_CODE_MAX:
        case _MGMT_CODE_INVALID:
                break;
        }
        return -EIO; /* a code from a newer peer */
}

_printf_(4, 0) static void error_vset(MgmtError *e, MgmtCode code, const char *field, const char *format,
                                      va_list ap) {
        e->code = code;
        snprintf(e->field, sizeof(e->field), "%s", strempty(field));
        (void)vsnprintf(e->message, sizeof(e->message), format, ap);
}

int mgmt_error_set(MgmtError *e, MgmtCode code, const char *field, const char *format, ...) {
        va_list ap;

        if (e) {
                va_start(ap, format);
                error_vset(e, code, field, format, ap);
                va_end(ap);
        }
        return mgmt_code_to_errno(code);
}

void mgmt_error_add_item(MgmtError *e, uint32_t index, MgmtCode code, const char *field,
                         const char *message) {
        MgmtItemError *it;

        if (e->n_items >= ELEMENTSOF(e->items))
                return;
        it = &e->items[e->n_items++];
        it->index = index;
        it->code = code;
        snprintf(it->field, sizeof(it->field), "%s", strempty(field));
        snprintf(it->message, sizeof(it->message), "%s", strempty(message));
}

/* Where an error is reported while converting: requests fill an MgmtError with the field's full name;
 * answers (err NULL) only get -EBADMSG / -EMSGSIZE. `strict` adds the value rules (requests). */
typedef struct Check {
        MgmtError *err;
        const char *prefix; /* "network", "devices[12]", "" */
        bool request;       /* a request: keys are read, answer-only fields ignored */
        bool strict;        /* check the value rules too */
} Check;

_printf_(4, 5) static int fail(const Check *c, MgmtCode code, const char *field, const char *format, ...) {
        char full[sizeof(((MgmtError *)NULL)->field)];
        va_list ap;

        if (!c->err)
                return code == MGMT_TOO_LARGE ? -EMSGSIZE : -EBADMSG;
        snprintf(full, sizeof(full), "%s%s%s", strempty(c->prefix),
                 !isempty(c->prefix) && !isempty(field) ? "." : "", strempty(field));
        va_start(ap, format);
        error_vset(c->err, code, full, format, ap);
        va_end(ap);
        return mgmt_code_to_errno(code);
}

/* ---------------------------------------------------------------------------------------------------------
 * Unpacking with a memory budget (as in gwapi.c): every block protobuf-c allocates is charged against
 * MGMT_UNPACK_MEMORY_MAX, so a small but dense message cannot make one decode use gigabytes. */

typedef union BlockHeader {
        max_align_t align;
        size_t size;
} BlockHeader;

typedef struct Budget {
        ProtobufCAllocator allocator;
        size_t used;
        bool over_budget;
        bool out_of_memory;
} Budget;

static void *budget_alloc(void *userdata, size_t size) {
        Budget *b = userdata;
        BlockHeader *h;

        if (size > MGMT_UNPACK_MEMORY_MAX - b->used) {
                b->over_budget = true;
                return NULL;
        }
        h = malloc(sizeof(BlockHeader) + size);
        if (!h) {
                b->out_of_memory = true;
                return NULL;
        }
        h->size = size;
        b->used += size;
        return h + 1;
}

static void budget_free(void *userdata, void *p) {
        Budget *b = userdata;
        BlockHeader *h;

        if (!p)
                return;
        h = (BlockHeader *)p - 1;
        assert(h->size <= b->used);
        b->used -= h->size;
        free(h);
}

static void budget_init(Budget *b) {
        *b = (Budget){ .allocator = { .alloc = budget_alloc, .free = budget_free, .allocator_data = b } };
}

static int budget_errno(const Budget *b) {
        if (b->out_of_memory)
                return -ENOMEM;
        if (b->over_budget)
                return -EMSGSIZE;
        return -EBADMSG;
}

/* ---------------------------------------------------------------------------------------------------------
 * An arena for building messages to pack: everything is freed at once. */

typedef struct ArenaBlock {
        struct ArenaBlock *next;
        max_align_t data[];
} ArenaBlock;

typedef struct Arena {
        ArenaBlock *blocks;
        bool failed;
} Arena;

static void *arena_alloc(Arena *a, size_t size) {
        ArenaBlock *b;

        if (size > SIZE_MAX - sizeof(ArenaBlock)) {
                a->failed = true;
                return NULL;
        }
        b = calloc(1, sizeof(ArenaBlock) + size);
        if (!b) {
                a->failed = true;
                return NULL;
        }
        b->next = a->blocks;
        a->blocks = b;
        return b->data;
}

#define arena_new(a, t, n) ((t *)arena_array((a), sizeof(t), (n)))
static void *arena_array(Arena *a, size_t size, size_t n) {
        if (n == 0)
                return NULL;
        if (size != 0 && n > SIZE_MAX / size) {
                a->failed = true;
                return NULL;
        }
        return arena_alloc(a, size * n);
}

static void arena_done(Arena *a) {
        while (a->blocks) {
                ArenaBlock *b = a->blocks;
                a->blocks = b->next;
                free(b);
        }
}

/* A string for a message being built: the arena's copy, so that the packed bytes never depend on caller
 * buffers that might not be terminated. NULL for "" when optional. */
static char *arena_str(Arena *a, const char *s, size_t size) {
        size_t n = strnlen(s, size);
        char *p;

        if (n >= size) { /* not terminated within its array */
                a->failed = true;
                return NULL;
        }
        p = arena_alloc(a, n + 1);
        if (p)
                memcpy(p, s, n);
        return p;
}
#define ARENA_STR(a, field)     arena_str((a), (field), sizeof(field))
#define ARENA_OPT_STR(a, field) ((field)[0] ? ARENA_STR(a, field) : NULL)

static ProtobufCBinaryData bin(const void *p, size_t n) {
        return (ProtobufCBinaryData){ .data = (uint8_t *)p, .len = n };
}

/* ---------------------------------------------------------------------------------------------------------
 * Field readers (protobuf -> plain). Strings from protobuf-c are NUL-terminated; an embedded NUL ends them.
 */

typedef enum StrRule {
        STR_NAME,      /* mgmt_name_valid() */
        STR_PRINTABLE, /* no control characters (labels, results, ids) */
        STR_ANY,       /* bounded only (answers: details, versions) */
} StrRule;

static bool printable(const char *s) {
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f)
                        return false;
        return true;
}

/* s NULL or "" with !required: dst = "". */
static int get_str(const Check *c, const char *s, const char *field, bool required, StrRule rule, char *dst,
                   size_t size) {
        size_t n;

        if (!s || !s[0]) {
                if (required)
                        return fail(c, MGMT_INVALID, field, "missing");
                dst[0] = '\0';
                return 0;
        }
        n = strnlen(s, size);
        if (n >= size)
                return fail(c, MGMT_TOO_LARGE, field, "longer than %zu bytes", size - 1);
        if (c->strict || rule != STR_ANY) {
                if (rule == STR_NAME && !mgmt_name_valid(s))
                        return fail(c, MGMT_INVALID, field,
                                    "a name is 1..%u characters of A-Z a-z 0-9 . _ -", NAME_MAX_LEN);
                if (!printable(s))
                        return fail(c, MGMT_INVALID, field, "control characters are not allowed");
        }
        memcpy(dst, s, n + 1);
        return 0;
}

static int get_bytes(const Check *c, bool has, ProtobufCBinaryData b, const char *field, size_t min,
                     size_t max, uint8_t *dst, size_t *ret_len) {
        if (!has || b.len == 0) {
                if (min > 0)
                        return fail(c, MGMT_INVALID, field, "missing");
                *ret_len = 0;
                return 0;
        }
        if (b.len > max)
                return fail(c, MGMT_TOO_LARGE, field, "longer than %zu bytes", max);
        if (b.len < min)
                return fail(c, MGMT_INVALID, field, "shorter than %zu bytes", min);
        memcpy(dst, b.data, b.len);
        *ret_len = b.len;
        return 0;
}

/* An enum field: absent = def; a value outside [0, max) is refused (never defaulted). */
static int get_enum(const Check *c, bool has, int v, int max, int def, const char *field, int *ret) {
        if (!has) {
                *ret = def;
                return 0;
        }
        if (v < 0 || v >= max)
                return fail(c, MGMT_INVALID, field, "unknown value %d", v);
        *ret = v;
        return 0;
}

static int get_limit(const Check *c, bool has, uint32_t v, const char *field, unsigned *ret) {
        if (!has || v == 0) {
                *ret = MGMT_PAGE_MAX;
                return 0;
        }
        if (v > MGMT_PAGE_MAX)
                return fail(c, MGMT_TOO_LARGE, field, "at most %u per page", MGMT_PAGE_MAX);
        *ret = v;
        return 0;
}

static bool key_pair_valid(const uint8_t key[static 32]) {
        return prov_key_valid(key) && prov_key_valid(key + 16);
}

static bool uid_extended(const uint8_t *uid, size_t len) {
        return len == PROV_EXTENDED_UID_SIZE && uid[0] == 0x01 && uid[17] == 0x01;
}

/* ---------------------------------------------------------------------------------------------------------
 * Objects: protobuf -> plain */

static int network_from_pb(const Check *c, const PbNetwork *p, MgmtNetwork *n) {
        int r, v = 0;
        size_t len;

        *n = (MgmtNetwork){};
        r = get_str(c, p->name, "name", true, STR_NAME, n->name, sizeof(n->name));
        if (r < 0)
                return r;
        r = get_enum(c, p->has_profile, p->profile, _PROV_PROFILE_MAX, PROV_PROFILE_24G, "profile", &v);
        if (r < 0)
                return r;
        n->profile = v;
        if (c->strict && !p->has_network_address)
                return fail(c, MGMT_INVALID, "network_address", "missing");
        n->network_address = p->network_address;
        if (c->strict && !prov_network_address_valid(n->network_address))
                return fail(c, MGMT_INVALID, "network_address",
                            "0x%06" PRIX32 " is not allowed (0x000001..0xFFFFFE, not 0xAAAAAA or 0x555555)",
                            n->network_address);
        if (c->strict && !p->has_channel)
                return fail(c, MGMT_INVALID, "channel", "missing");
        n->channel = p->channel;
        if (c->strict && !prov_channel_valid(n->profile, n->channel))
                return fail(c, MGMT_INVALID, "channel", "%" PRIu32 " is not valid for profile %s (%s)",
                            n->channel, prov_profile_to_string(n->profile),
                            n->profile == PROV_PROFILE_24G ? "1..40" : "1..255");
        r = get_enum(c, p->has_keys_update, p->keys_update, _MGMT_KEY_UPDATE_MAX, MGMT_KEY_KEEP,
                     "keys_update", &v);
        if (r < 0)
                return r;
        n->keys_update = v;
        if (c->request) {
                if (c->strict && n->keys_update == MGMT_KEY_CLEAR)
                        return fail(c, MGMT_INVALID, "keys_update",
                                    "a network always has keys: they can be replaced (SET), not removed");
                if (n->keys_update == MGMT_KEY_SET) {
                        r = get_bytes(c, p->has_enc_key, p->enc_key, "enc_key", PROV_KEY_SIZE, PROV_KEY_SIZE,
                                      n->enc_key, &len);
                        if (r < 0)
                                return r;
                        r = get_bytes(c, p->has_auth_key, p->auth_key, "auth_key", PROV_KEY_SIZE,
                                      PROV_KEY_SIZE, n->auth_key, &len);
                        if (r < 0)
                                return r;
                        if (c->strict && !prov_key_valid(n->enc_key))
                                return fail(c, MGMT_INVALID, "enc_key", "must not be all 0x00 or all 0xFF");
                        if (c->strict && !prov_key_valid(n->auth_key))
                                return fail(c, MGMT_INVALID, "auth_key", "must not be all 0x00 or all 0xFF");
                } else if (c->strict && ((p->has_enc_key && p->enc_key.len > 0) ||
                                         (p->has_auth_key && p->auth_key.len > 0)))
                        return fail(c, MGMT_INVALID,
                                    p->has_enc_key && p->enc_key.len > 0 ? "enc_key" : "auth_key",
                                    "a key is only taken with keys_update SET");
        }
        n->allow_unsecured = p->has_allow_unsecured && p->allow_unsecured;
        if (p->has_pool_first != p->has_pool_last && c->strict)
                return fail(c, MGMT_INVALID, p->has_pool_first ? "pool_last" : "pool_first",
                            "a pool needs both pool_first and pool_last");
        n->has_pool = p->has_pool_first && p->has_pool_last;
        if (n->has_pool) {
                n->pool_first = p->pool_first;
                n->pool_last = p->pool_last;
        }
        if (c->strict && n->has_pool) {
                if (!prov_node_address_valid(n->pool_first))
                        return fail(c, MGMT_INVALID, "pool_first",
                                    "%" PRIu32 " is not a unicast node address (1..2147483647 or "
                                    "2164260864..4294967293)",
                                    n->pool_first);
                if (!prov_node_address_valid(n->pool_last))
                        return fail(c, MGMT_INVALID, "pool_last",
                                    "%" PRIu32 " is not a unicast node address (1..2147483647 or "
                                    "2164260864..4294967293)",
                                    n->pool_last);
                if (n->pool_first > n->pool_last)
                        return fail(c, MGMT_INVALID, "pool_first",
                                    "the pool start %" PRIu32 " is after its end %" PRIu32, n->pool_first,
                                    n->pool_last);
                if ((n->pool_first <= 0x7FFFFFFFu) != (n->pool_last <= 0x7FFFFFFFu))
                        return fail(c, MGMT_INVALID, "pool_last",
                                    "the pool spans the multicast range: keep it inside 1..2147483647 or "
                                    "2164260864..4294967293");
        }
        if (!c->request) {
                r = get_str(c, p->enc_key_fingerprint, "enc_key_fingerprint", false, STR_PRINTABLE,
                            n->enc_key_fingerprint, sizeof(n->enc_key_fingerprint));
                if (r >= 0)
                        r = get_str(c, p->auth_key_fingerprint, "auth_key_fingerprint", false, STR_PRINTABLE,
                                    n->auth_key_fingerprint, sizeof(n->auth_key_fingerprint));
                if (r < 0)
                        return r;
                n->created = p->created_usec;
                n->updated = p->updated_usec;
        }
        return 0;
}

static int vendor_from_pb(const Check *c, const PbVendor *p, MgmtVendor *v) {
        size_t len;
        int r, x = 0;

        *v = (MgmtVendor){};
        r = get_str(c, p->name, "name", true, STR_NAME, v->name, sizeof(v->name));
        if (r < 0)
                return r;
        r = get_enum(c, p->has_key_update, p->key_update, _MGMT_KEY_UPDATE_MAX, MGMT_KEY_KEEP, "key_update",
                     &x);
        if (r < 0)
                return r;
        v->key_update = x;
        r = get_enum(c, p->has_key_kind, p->key_kind, _MGMT_VENDOR_KEY_KIND_MAX, MGMT_VENDOR_KEY_NONE,
                     "key_kind", &x);
        if (r < 0)
                return r;
        v->key_kind = x;
        if (c->request) {
                if (v->key_update == MGMT_KEY_SET) {
                        if (c->strict && v->key_kind == MGMT_VENDOR_KEY_NONE)
                                return fail(c, MGMT_INVALID, "key_kind",
                                            "setting a vendor key needs key kind FACTORY or MASTER");
                        r = get_bytes(c, p->has_key, p->key, "key", sizeof(v->key), sizeof(v->key), v->key,
                                      &len);
                        if (r < 0)
                                return r;
                        if (c->strict && !key_pair_valid(v->key))
                                return fail(c, MGMT_INVALID, "key",
                                            "neither half of the 32-byte key may be all 0x00 or all 0xFF");
                } else if (c->strict && p->has_key && p->key.len > 0)
                        return fail(c, MGMT_INVALID, "key", "a key is only taken with key_update SET");
        }
        r = get_enum(c, p->has_enroll_kind, p->enroll_kind, _MGMT_ENROLL_KIND_MAX, MGMT_ENROLL_NONE,
                     "enroll_kind", &x);
        if (r < 0)
                return r;
        v->enroll_kind = x;
        r = get_bytes(c, p->has_enroll_prefix, p->enroll_prefix, "enroll_prefix", 0, PROV_UID_MAX,
                      v->enroll_prefix, &v->enroll_prefix_len);
        if (r < 0)
                return r;
        if (p->enroll_method > 3 || (c->strict && p->enroll_method == 2))
                return fail(c, MGMT_INVALID, "enroll_method", "%" PRIu32 " is not 0, 1 or 3",
                            p->enroll_method);
        v->enroll_method = (uint8_t)p->enroll_method;
        r = get_str(c, p->default_network, "default_network", false, STR_NAME, v->default_network,
                    sizeof(v->default_network));
        if (r < 0)
                return r;
        v->enabled = p->enabled;
        if (c->strict) {
                switch (v->enroll_kind) {
                case MGMT_ENROLL_NONE:
                        if (v->enroll_prefix_len > 0)
                                return fail(c, MGMT_INVALID, "enroll_prefix",
                                            "an enrollment prefix needs enroll_kind UID_PREFIX or "
                                            "AUTHENTICATOR");
                        break;
                case MGMT_ENROLL_UID_PREFIX:
                        if (v->enroll_prefix_len == 0)
                                return fail(c, MGMT_INVALID, "enroll_prefix", "a UID prefix is 1..%u bytes",
                                            PROV_UID_MAX);
                        break;
                case MGMT_ENROLL_AUTHENTICATOR:
                        if (v->enroll_prefix_len < 1 || v->enroll_prefix_len > 16)
                                return fail(c, MGMT_INVALID, "enroll_prefix",
                                            "an authenticator UID prefix is 1..16 bytes");
                        if (v->enroll_method != 3)
                                return fail(
                                        c, MGMT_INVALID, "enroll_method",
                                        "enrollment by authenticator UID is for method 3 (extended UID)");
                        break;
                case _MGMT_ENROLL_KIND_MAX:
                case _MGMT_ENROLL_KIND_INVALID:
                        assert_not_reached();
                }
                if (v->enroll_kind != MGMT_ENROLL_NONE && !v->default_network[0])
                        return fail(c, MGMT_INVALID, "default_network",
                                    "an enrollment rule needs a default network for the devices it admits");
        }
        if (!c->request) {
                r = get_str(c, p->key_fingerprint, "key_fingerprint", false, STR_PRINTABLE,
                            v->key_fingerprint, sizeof(v->key_fingerprint));
                if (r < 0)
                        return r;
                v->created = p->created_usec;
                v->updated = p->updated_usec;
        }
        return 0;
}

static int user_item_from_pb(const Check *c, const PbUserItem *p, size_t i, ProvUserItem *u) {
        char field[48];

        snprintf(field, sizeof(field), "user_items[%zu]", i);
        *u = (ProvUserItem){};
        if (!p->has_id || p->id < 128 || p->id > 255)
                return fail(c, MGMT_INVALID, field, "an id is 128..255");
        u->id = (uint8_t)p->id;
        switch (p->value_case) {
        case MESHPROV__MGMT__USER_ITEM__VALUE_INT_VALUE:
                u->type = PROV_USER_INT;
                u->integer = p->int_value;
                break;
        case MESHPROV__MGMT__USER_ITEM__VALUE_BOOL_VALUE:
                u->type = PROV_USER_BOOL;
                u->boolean = p->bool_value;
                break;
        case MESHPROV__MGMT__USER_ITEM__VALUE_BYTES_VALUE:
                u->type = PROV_USER_BYTES;
                if (p->bytes_value.len > PROV_USER_STRING_MAX)
                        return fail(c, MGMT_TOO_LARGE, field, "item %u: longer than %u bytes", u->id,
                                    PROV_USER_STRING_MAX);
                u->len = (uint8_t)p->bytes_value.len;
                if (u->len > 0)
                        memcpy(u->data, p->bytes_value.data, u->len);
                break;
        case MESHPROV__MGMT__USER_ITEM__VALUE_TEXT_VALUE: {
                size_t n = strnlen(p->text_value ?: "", PROV_USER_STRING_MAX + 1);
                u->type = PROV_USER_TEXT;
                if (n > PROV_USER_STRING_MAX)
                        return fail(c, MGMT_TOO_LARGE, field, "item %u: longer than %u bytes", u->id,
                                    PROV_USER_STRING_MAX);
                u->len = (uint8_t)n;
                if (n > 0)
                        memcpy(u->data, p->text_value, n);
                break;
        }
        case MESHPROV__MGMT__USER_ITEM__VALUE__NOT_SET:
        default: /* protobuf-c's enum: a case we do not know is no value */
                return fail(c, MGMT_INVALID, field, "item %u has no value", u->id);
        }
        if (!prov_user_item_valid(u))
                return fail(c, MGMT_INVALID, field, "item %u is not valid (text must be UTF-8)", u->id);
        return 0;
}

static int device_from_pb(const Check *c, const PbDevice *p, MgmtPutMode mode, MgmtDevice *d) {
        bool seen[256] = {};
        size_t len;
        int r, x = 0;

        *d = (MgmtDevice){};
        r = get_bytes(c, p->has_uid, p->uid, "uid", 1, PROV_UID_MAX, d->uid, &d->uid_len);
        if (r < 0)
                return r;
        r = get_str(c, p->label, "label", false, STR_PRINTABLE, d->label, sizeof(d->label));
        if (r >= 0)
                r = get_str(c, p->vendor, "vendor", false, STR_NAME, d->vendor, sizeof(d->vendor));
        if (r >= 0)
                r = get_str(c, p->network, "network", false, STR_NAME, d->network, sizeof(d->network));
        if (r < 0)
                return r;
        if (p->method > 3 || (c->strict && p->method == 2))
                return fail(c, MGMT_INVALID, "method",
                            "method %" PRIu32 " is not supported (0 unsecured, 1 secured, 3 extended UID)",
                            p->method);
        d->method = (uint8_t)p->method;
        if (c->strict && d->method == 3 && !uid_extended(d->uid, d->uid_len))
                return fail(c, MGMT_INVALID, "uid",
                            "method 3 needs the 34-byte extended UID: type 0x01, 16-byte authenticator UID, "
                            "type 0x01, 16-byte node UID");
        r = get_enum(c, p->has_factory_key_update, p->factory_key_update, _MGMT_KEY_UPDATE_MAX,
                     MGMT_KEY_KEEP, "factory_key_update", &x);
        if (r < 0)
                return r;
        d->factory_key_update = x;
        if (c->request) {
                if (d->factory_key_update == MGMT_KEY_SET) {
                        r = get_bytes(c, p->has_factory_key, p->factory_key, "factory_key",
                                      PROV_FACTORY_KEY_SIZE, PROV_FACTORY_KEY_SIZE, d->factory_key, &len);
                        if (r < 0)
                                return r;
                        if (c->strict && !key_pair_valid(d->factory_key))
                                return fail(
                                        c, MGMT_INVALID, "factory_key",
                                        "neither half of the 32-byte factory key ([auth 16][enc 16]) may be "
                                        "all 0x00 or all 0xFF");
                        d->has_factory_key = true;
                } else if (c->strict && p->has_factory_key && p->factory_key.len > 0)
                        return fail(c, MGMT_INVALID, "factory_key",
                                    "a key is only taken with factory_key_update SET");
                if (c->strict && mode == MGMT_PUT_CREATE && d->method != 0 &&
                    d->factory_key_update != MGMT_KEY_SET && !d->vendor[0])
                        return fail(c, MGMT_INVALID, "factory_key",
                                    "method %u needs a factory key: the device's own or its vendor's",
                                    d->method);
        }
        d->has_node_address = p->has_node_address;
        d->node_address = p->node_address;
        if (c->strict && d->has_node_address && !prov_node_address_valid(d->node_address))
                return fail(c, MGMT_INVALID, "node_address",
                            "%" PRIu32 " is not a unicast address (1..2147483647 or 2164260864..4294967293)",
                            d->node_address);
        d->has_role = p->has_role;
        if (p->has_role && (p->role > UINT8_MAX || (c->strict && !prov_role_valid((uint8_t)p->role))))
                return fail(c, MGMT_INVALID, "role",
                            "role 0x%02" PRIx32
                            " is not valid (0x00 0x01 0x02 0x04 0x10 0x11 0x12 0x42 0x52)",
                            p->role);
        d->role = (uint8_t)p->role;
        if (p->n_user_items > PROV_PARAMS_USER_MAX)
                return fail(c, MGMT_TOO_LARGE, "user_items", "at most %u user items", PROV_PARAMS_USER_MAX);
        for (size_t i = 0; i < p->n_user_items; i++) {
                r = user_item_from_pb(c, p->user_items[i], i, &d->user_items[i]);
                if (r < 0)
                        return r;
                if (seen[d->user_items[i].id]) {
                        char field[48];
                        snprintf(field, sizeof(field), "user_items[%zu]", i);
                        return fail(c, MGMT_INVALID, field, "item %u is given twice", d->user_items[i].id);
                }
                seen[d->user_items[i].id] = true;
        }
        d->n_user_items = p->n_user_items;
        d->enabled = p->enabled;
        if (!c->request) {
                r = get_str(c, p->factory_key_fingerprint, "factory_key_fingerprint", false, STR_PRINTABLE,
                            d->factory_key_fingerprint, sizeof(d->factory_key_fingerprint));
                if (r < 0)
                        return r;
                d->has_factory_key = d->factory_key_fingerprint[0] != '\0';
                r = get_enum(c, p->has_state, p->state, _MGMT_DEVICE_STATE_MAX, MGMT_DEVICE_NEW, "state",
                             &x);
                if (r < 0)
                        return r;
                d->state = x;
                d->has_allocated_address = p->has_allocated_address;
                d->allocated_address = p->allocated_address;
                d->created = p->created_usec;
                d->updated = p->updated_usec;
                d->last_start = p->last_start_usec;
                d->provisioned_at = p->provisioned_usec;
                d->n_starts = p->starts;
                d->n_provisioned = p->provisioned_count;
        }
        return 0;
}

static int event_from_pb(const Check *c, const PbEvent *p, MgmtEvent *e) {
        int r, x = 0;

        *e = (MgmtEvent){ .method = -1, .nack_reason = -1 };
        e->id = p->id;
        e->time = p->time_usec;
        r = get_enum(c, p->has_kind, p->kind, _MGMT_EVENT_KIND_MAX, MGMT_EVENT_ERROR, "kind", &x);
        if (r < 0)
                return r;
        e->kind = x;
        r = get_bytes(c, p->has_uid, p->uid, "uid", 0, PROV_UID_MAX, e->uid, &e->uid_len);
        if (r < 0)
                return r;
        if (p->has_method) {
                if (p->method > UINT8_MAX)
                        return fail(c, MGMT_INVALID, "method", "out of range");
                e->method = (int)p->method;
        }
        r = get_str(c, p->vendor, "vendor", false, STR_ANY, e->vendor, sizeof(e->vendor));
        if (r >= 0)
                r = get_str(c, p->network, "network", false, STR_ANY, e->network, sizeof(e->network));
        if (r >= 0)
                r = get_str(c, p->bearer, "bearer", false, STR_ANY, e->bearer, sizeof(e->bearer));
        if (r >= 0)
                r = get_str(c, p->gateway, "gateway", false, STR_ANY, e->gateway, sizeof(e->gateway));
        if (r >= 0)
                r = get_str(c, p->sink, "sink", false, STR_ANY, e->sink, sizeof(e->sink));
        if (r >= 0)
                r = get_str(c, p->result, "result", false, STR_ANY, e->result, sizeof(e->result));
        if (r >= 0)
                r = get_str(c, p->detail, "detail", false, STR_ANY, e->detail, sizeof(e->detail));
        if (r < 0)
                return r;
        e->network_address = p->network_address;
        e->source_address = p->source_address;
        e->node_address = p->node_address;
        if (p->session_id > UINT8_MAX)
                return fail(c, MGMT_INVALID, "session_id", "out of range");
        e->session_id = (uint8_t)p->session_id;
        if (p->has_nack_reason) {
                r = get_enum(c, true, p->nack_reason, _PROV_NACK_MAX, 0, "nack_reason", &x);
                if (r < 0)
                        return r;
                e->nack_reason = x;
        }
        e->copies = p->copies;
        e->attempt = p->attempt;
        return 0;
}

/* ---------------------------------------------------------------------------------------------------------
 * Objects: plain -> protobuf (into an arena) */

static void network_to_pb(Arena *a, const MgmtNetwork *n, bool answer, PbNetwork *p) {
        meshprov__mgmt__network__init(p);
        p->name = ARENA_STR(a, n->name);
        p->has_profile = true;
        p->profile = (Meshprov__Mgmt__Profile)n->profile;
        p->has_network_address = true;
        p->network_address = n->network_address;
        p->has_channel = true;
        p->channel = n->channel;
        if (!answer) {
                p->has_keys_update = true;
                p->keys_update = (Meshprov__Mgmt__KeyUpdate)n->keys_update;
                if (n->keys_update == MGMT_KEY_SET) {
                        p->has_enc_key = p->has_auth_key = true;
                        p->enc_key = bin(n->enc_key, sizeof(n->enc_key));
                        p->auth_key = bin(n->auth_key, sizeof(n->auth_key));
                }
        }
        p->has_allow_unsecured = true;
        p->allow_unsecured = n->allow_unsecured;
        if (n->has_pool) {
                p->has_pool_first = p->has_pool_last = true;
                p->pool_first = n->pool_first;
                p->pool_last = n->pool_last;
        }
        if (answer) {
                p->enc_key_fingerprint = ARENA_OPT_STR(a, n->enc_key_fingerprint);
                p->auth_key_fingerprint = ARENA_OPT_STR(a, n->auth_key_fingerprint);
                p->has_created_usec = p->has_updated_usec = true;
                p->created_usec = n->created;
                p->updated_usec = n->updated;
        }
}

static void vendor_to_pb(Arena *a, const MgmtVendor *v, bool answer, PbVendor *p) {
        meshprov__mgmt__vendor__init(p);
        p->name = ARENA_STR(a, v->name);
        if (!answer) {
                p->has_key_update = true;
                p->key_update = (Meshprov__Mgmt__KeyUpdate)v->key_update;
                if (v->key_update == MGMT_KEY_SET) {
                        p->has_key = true;
                        p->key = bin(v->key, sizeof(v->key));
                }
        }
        p->has_key_kind = true;
        p->key_kind = (Meshprov__Mgmt__VendorKeyKind)v->key_kind;
        p->has_enroll_kind = true;
        p->enroll_kind = (Meshprov__Mgmt__EnrollKind)v->enroll_kind;
        if (v->enroll_prefix_len > 0) {
                p->has_enroll_prefix = true;
                p->enroll_prefix =
                        bin(v->enroll_prefix, MIN(v->enroll_prefix_len, sizeof(v->enroll_prefix)));
        }
        p->has_enroll_method = true;
        p->enroll_method = v->enroll_method;
        p->default_network = ARENA_OPT_STR(a, v->default_network);
        p->has_enabled = true;
        p->enabled = v->enabled;
        if (answer) {
                p->key_fingerprint = ARENA_OPT_STR(a, v->key_fingerprint);
                p->has_created_usec = p->has_updated_usec = true;
                p->created_usec = v->created;
                p->updated_usec = v->updated;
        }
}

static void device_to_pb(Arena *a, const MgmtDevice *d, bool answer, PbDevice *p) {
        size_t n_items = MIN(d->n_user_items, (size_t)PROV_PARAMS_USER_MAX);

        meshprov__mgmt__device__init(p);
        p->has_uid = true;
        p->uid = bin(d->uid, MIN(d->uid_len, sizeof(d->uid)));
        p->label = ARENA_OPT_STR(a, d->label);
        p->vendor = ARENA_OPT_STR(a, d->vendor);
        p->network = ARENA_OPT_STR(a, d->network);
        p->has_method = true;
        p->method = d->method;
        if (!answer) {
                p->has_factory_key_update = true;
                p->factory_key_update = (Meshprov__Mgmt__KeyUpdate)d->factory_key_update;
                if (d->factory_key_update == MGMT_KEY_SET) {
                        p->has_factory_key = true;
                        p->factory_key = bin(d->factory_key, sizeof(d->factory_key));
                }
        }
        p->has_node_address = d->has_node_address;
        p->node_address = d->node_address;
        p->has_role = d->has_role;
        p->role = d->role;
        if (n_items > 0) {
                PbUserItem *items = arena_new(a, PbUserItem, n_items);
                PbUserItem **ptrs = arena_new(a, PbUserItem *, n_items);
                if (items && ptrs) {
                        for (size_t i = 0; i < n_items; i++) {
                                const ProvUserItem *u = &d->user_items[i];
                                PbUserItem *q = &items[i];

                                meshprov__mgmt__user_item__init(q);
                                q->has_id = true;
                                q->id = u->id;
                                switch (u->type) {
                                case PROV_USER_INT:
                                        q->value_case = MESHPROV__MGMT__USER_ITEM__VALUE_INT_VALUE;
                                        q->int_value = u->integer;
                                        break;
                                case PROV_USER_BOOL:
                                        q->value_case = MESHPROV__MGMT__USER_ITEM__VALUE_BOOL_VALUE;
                                        q->bool_value = u->boolean;
                                        break;
                                case PROV_USER_BYTES:
                                        q->value_case = MESHPROV__MGMT__USER_ITEM__VALUE_BYTES_VALUE;
                                        q->bytes_value = bin(u->data, MIN(u->len, sizeof(u->data)));
                                        break;
                                case PROV_USER_TEXT: {
                                        char *t = arena_alloc(a, (size_t)MIN(u->len, sizeof(u->data)) + 1);
                                        if (t)
                                                memcpy(t, u->data, MIN(u->len, sizeof(u->data)));
                                        q->value_case = MESHPROV__MGMT__USER_ITEM__VALUE_TEXT_VALUE;
                                        q->text_value = t;
                                        break;
                                }
                                case _PROV_USER_TYPE_MAX:
                                case _PROV_USER_TYPE_INVALID:
                                        a->failed = true;
                                        break;
                                }
                                ptrs[i] = q;
                        }
                        p->n_user_items = n_items;
                        p->user_items = ptrs;
                }
        }
        p->has_enabled = true;
        p->enabled = d->enabled;
        if (answer) {
                p->factory_key_fingerprint =
                        d->has_factory_key ? ARENA_OPT_STR(a, d->factory_key_fingerprint) : NULL;
                p->has_state = true;
                p->state = (Meshprov__Mgmt__DeviceState)d->state;
                p->has_allocated_address = d->has_allocated_address;
                p->allocated_address = d->allocated_address;
                p->has_created_usec = p->has_updated_usec = true;
                p->created_usec = d->created;
                p->updated_usec = d->updated;
                p->has_last_start_usec = d->last_start != 0;
                p->last_start_usec = d->last_start;
                p->has_provisioned_usec = d->provisioned_at != 0;
                p->provisioned_usec = d->provisioned_at;
                p->has_starts = p->has_provisioned_count = true;
                p->starts = d->n_starts;
                p->provisioned_count = d->n_provisioned;
        }
}

static void event_to_pb(Arena *a, const MgmtEvent *e, PbEvent *p) {
        meshprov__mgmt__event__init(p);
        p->has_id = e->id != 0;
        p->id = e->id;
        p->has_time_usec = true;
        p->time_usec = e->time;
        p->has_kind = true;
        p->kind = (Meshprov__Mgmt__EventKind)e->kind;
        if (e->uid_len > 0) {
                p->has_uid = true;
                p->uid = bin(e->uid, MIN(e->uid_len, sizeof(e->uid)));
        }
        p->has_method = e->method >= 0;
        p->method = e->method >= 0 ? (uint32_t)e->method : 0;
        p->vendor = ARENA_OPT_STR(a, e->vendor);
        p->network = ARENA_OPT_STR(a, e->network);
        p->bearer = ARENA_OPT_STR(a, e->bearer);
        p->gateway = ARENA_OPT_STR(a, e->gateway);
        p->sink = ARENA_OPT_STR(a, e->sink);
        p->has_network_address = e->network_address != 0;
        p->network_address = e->network_address;
        p->has_source_address = p->has_node_address = p->has_session_id = true;
        p->source_address = e->source_address;
        p->node_address = e->node_address;
        p->session_id = e->session_id;
        p->result = ARENA_OPT_STR(a, e->result);
        p->has_nack_reason = e->nack_reason >= 0;
        p->nack_reason = e->nack_reason >= 0 ? (Meshprov__Mgmt__NackReason)e->nack_reason : 0;
        p->detail = ARENA_OPT_STR(a, e->detail);
        p->has_copies = e->copies > 0;
        p->copies = e->copies;
        p->has_attempt = e->attempt > 0;
        p->attempt = e->attempt;
}

/* ---------------------------------------------------------------------------------------------------------
 * Requests */

typedef struct RequestInternal {
        Budget budget;
        PbRequest *pb;
} RequestInternal;

MgmtRequest *mgmt_request_free(MgmtRequest *r) {
        RequestInternal *in;

        if (!r)
                return NULL;
        in = r->internal;
        if (in) {
                if (in->pb)
                        meshprov__mgmt__request__free_unpacked(in->pb, &in->budget.allocator);
                free(in);
        }
        explicit_bzero_safe(r, sizeof(*r)); /* keys of puts */
        free(r);
        return NULL;
}

/* Reads the request id (field 1, length-delimited) by walking the top-level fields with a Cursor, without
 * unpacking: an unreadable or oversized request can still be answered with its id. */
static void peek_request_id(const uint8_t *buf, size_t len, char *dst, size_t size) {
        Cursor c = CURSOR_INIT(buf, len);

        dst[0] = '\0';
        while (cursor_left(&c) > 0) {
                uint64_t key = 0, n = 0;
                int shift = 0;
                uint8_t b;

                do { /* varint key */
                        if (cursor_get_u8(&c, &b) < 0 || shift > 63)
                                return;
                        key |= (uint64_t)(b & 0x7f) << shift;
                        shift += 7;
                } while (b & 0x80);

                switch (key & 7) {
                case 0: /* varint */
                        do {
                                if (cursor_get_u8(&c, &b) < 0)
                                        return;
                        } while (b & 0x80);
                        break;
                case 1:
                        if (cursor_skip(&c, 8) < 0)
                                return;
                        break;
                case 5:
                        if (cursor_skip(&c, 4) < 0)
                                return;
                        break;
                case 2: {
                        const uint8_t *p;

                        shift = 0;
                        do {
                                if (cursor_get_u8(&c, &b) < 0 || shift > 63)
                                        return;
                                n |= (uint64_t)(b & 0x7f) << shift;
                                shift += 7;
                        } while (b & 0x80);
                        if (n > cursor_left(&c))
                                return;
                        if (cursor_get_bytes(&c, (size_t)n, &p) < 0)
                                return;
                        if ((key >> 3) == 1) {
                                if (n == 0 || n >= size)
                                        return;
                                for (size_t i = 0; i < n; i++)
                                        if (p[i] < 0x20 || p[i] >= 0x7f)
                                                return;
                                memcpy(dst, p, (size_t)n);
                                dst[n] = '\0';
                                return;
                        }
                        break;
                }
                default: /* groups and unknown wire types: give up */
                        return;
                }
        }
}

static int list_args_from_pb(const Check *c, const PbListRequest *p, MgmtListArgs *a) {
        int r;

        *a = (MgmtListArgs){};
        r = get_str(c, p->after, "after", false, STR_NAME, a->after, sizeof(a->after));
        if (r < 0)
                return r;
        return get_limit(c, p->has_limit, p->limit, "limit", &a->limit);
}

static int filter_from_pb(const Check *c, const PbDeviceFilter *p, MgmtDeviceFilter *f) {
        int r, x = 0;

        *f = (MgmtDeviceFilter){};
        r = get_str(c, p->vendor, "vendor", false, STR_NAME, f->vendor, sizeof(f->vendor));
        if (r >= 0)
                r = get_str(c, p->network, "network", false, STR_NAME, f->network, sizeof(f->network));
        if (r < 0)
                return r;
        r = get_enum(c, p->has_state, p->state, _MGMT_DEVICE_STATE_MAX, -1, "state", &x);
        if (r < 0)
                return r;
        f->state = x;
        r = get_bytes(c, p->has_after_uid, p->after_uid, "after_uid", 0, PROV_UID_MAX, f->after_uid,
                      &f->after_uid_len);
        if (r < 0)
                return r;
        return get_limit(c, p->has_limit, p->limit, "limit", &f->limit);
}

static int time_range(const Check *c, bool has_since, uint64_t since, bool has_until, uint64_t until,
                      usec_t *ret_since, usec_t *ret_until) {
        if (has_since && has_until && until != 0 && since > until)
                return fail(c, MGMT_INVALID, "until_usec", "the range ends before it starts");
        *ret_since = has_since ? since : 0;
        *ret_until = has_until ? until : 0;
        return 0;
}

static int audit_from_pb(const Check *c, const PbAuditQuery *p, MgmtAuditFilter *f) {
        int r, x = 0;

        *f = (MgmtAuditFilter){};
        r = get_bytes(c, p->has_uid, p->uid, "uid", 0, PROV_UID_MAX, f->uid, &f->uid_len);
        if (r < 0)
                return r;
        r = time_range(c, p->has_since_usec, p->since_usec, p->has_until_usec, p->until_usec, &f->since,
                       &f->until);
        if (r < 0)
                return r;
        r = get_enum(c, p->has_kind, p->kind, _MGMT_EVENT_KIND_MAX, -1, "kind", &x);
        if (r < 0)
                return r;
        f->kind = x;
        r = get_str(c, p->result, "result", false, STR_PRINTABLE, f->result, sizeof(f->result));
        if (r < 0)
                return r;
        if (p->has_after_id && p->after_id < 0)
                return fail(c, MGMT_INVALID, "after_id", "must not be negative");
        f->after_id = p->after_id;
        f->descending = p->has_descending && p->descending;
        return get_limit(c, p->has_limit, p->limit, "limit", &f->limit);
}

static int uid_args_from_pb(const Check *c, bool has, ProtobufCBinaryData uid, MgmtUidArgs *a) {
        *a = (MgmtUidArgs){};
        return get_bytes(c, has, uid, "uid", 1, PROV_UID_MAX, a->uid, &a->uid_len);
}

static int bulk_from_pb(const Check *c, const PbBulkPut *p, MgmtBulkPut *b) {
        int r;

        *b = (MgmtBulkPut){};
        if (p->n_networks > MGMT_BULK_ITEMS_MAX || p->n_devices > MGMT_BULK_ITEMS_MAX - p->n_networks)
                return fail(c, MGMT_TOO_LARGE, p->n_devices > 0 ? "devices" : "networks",
                            "at most %u networks and devices in one request (split larger uploads into the "
                            "chunks of a staged batch)",
                            MGMT_BULK_ITEMS_MAX);
        for (size_t i = 0; i < p->n_networks; i++)
                if (!p->networks[i]->network) {
                        char field[48];
                        snprintf(field, sizeof(field), "networks[%zu].network", i);
                        return fail(c, MGMT_INVALID, field, "missing");
                }
        for (size_t i = 0; i < p->n_devices; i++)
                if (!p->devices[i]->device) {
                        char field[48];
                        snprintf(field, sizeof(field), "devices[%zu].device", i);
                        return fail(c, MGMT_INVALID, field, "missing");
                }
        b->n_networks = p->n_networks;
        b->n_devices = p->n_devices;
        b->dry_run = p->has_dry_run && p->dry_run;
        r = get_str(c, p->batch, "batch", false, STR_PRINTABLE, b->batch, sizeof(b->batch));
        if (r < 0)
                return r;
        b->seq = p->seq;
        b->last = p->last;
        b->abort = p->has_abort && p->abort;
        if (b->abort && !b->batch[0])
                return fail(c, MGMT_INVALID, "batch", "abort names the batch to drop");
        if (!b->batch[0] && (!b->last || b->seq != 0))
                return fail(c, MGMT_INVALID, "batch", "chunks (seq, last = false) belong to a named batch");
        return 0;
}

static int put_mode(const Check *c, bool has, int v, MgmtPutMode *ret) {
        int x = 0, r;

        r = get_enum(c, has, v, _MGMT_PUT_MODE_MAX, MGMT_PUT_CREATE, "mode", &x);
        if (r < 0)
                return r;
        *ret = x;
        return 0;
}

static int request_body(const PbRequest *pb, MgmtRequest *q, MgmtError *err) {
        Check c = { .err = err, .prefix = "", .request = true, .strict = true };
        int r;

        switch (q->op) {
        case MGMT_OP_NETWORK_PUT:
                c.prefix = "network";
                if (!pb->network_put->network)
                        return fail(&c, MGMT_INVALID, NULL, "missing");
                r = network_from_pb(&c, pb->network_put->network, &q->network_put.network);
                if (r < 0)
                        return r;
                c.prefix = "";
                return put_mode(&c, pb->network_put->has_mode, pb->network_put->mode, &q->network_put.mode);
        case MGMT_OP_VENDOR_PUT:
                c.prefix = "vendor";
                if (!pb->vendor_put->vendor)
                        return fail(&c, MGMT_INVALID, NULL, "missing");
                r = vendor_from_pb(&c, pb->vendor_put->vendor, &q->vendor_put.vendor);
                if (r < 0)
                        return r;
                c.prefix = "";
                return put_mode(&c, pb->vendor_put->has_mode, pb->vendor_put->mode, &q->vendor_put.mode);
        case MGMT_OP_DEVICE_PUT:
                r = put_mode(&c, pb->device_put->has_mode, pb->device_put->mode, &q->device_put.mode);
                if (r < 0)
                        return r;
                c.prefix = "device";
                if (!pb->device_put->device)
                        return fail(&c, MGMT_INVALID, NULL, "missing");
                return device_from_pb(&c, pb->device_put->device, q->device_put.mode, &q->device_put.device);
        case MGMT_OP_NETWORK_GET:
                return get_str(&c, pb->network_get->name, "name", true, STR_NAME, q->name, sizeof(q->name));
        case MGMT_OP_NETWORK_DELETE:
                return get_str(&c, pb->network_delete->name, "name", true, STR_NAME, q->name,
                               sizeof(q->name));
        case MGMT_OP_VENDOR_GET:
                return get_str(&c, pb->vendor_get->name, "name", true, STR_NAME, q->name, sizeof(q->name));
        case MGMT_OP_VENDOR_DELETE:
                return get_str(&c, pb->vendor_delete->name, "name", true, STR_NAME, q->name,
                               sizeof(q->name));
        case MGMT_OP_NETWORK_LIST:
                return list_args_from_pb(&c, pb->network_list, &q->list);
        case MGMT_OP_VENDOR_LIST:
                return list_args_from_pb(&c, pb->vendor_list, &q->list);
        case MGMT_OP_DEVICE_GET:
                return uid_args_from_pb(&c, pb->device_get->has_uid, pb->device_get->uid, &q->device);
        case MGMT_OP_DEVICE_DELETE:
                return uid_args_from_pb(&c, pb->device_delete->has_uid, pb->device_delete->uid, &q->device);
        case MGMT_OP_DEVICE_ENABLE:
                return uid_args_from_pb(&c, pb->device_enable->has_uid, pb->device_enable->uid, &q->device);
        case MGMT_OP_DEVICE_DISABLE:
                return uid_args_from_pb(&c, pb->device_disable->has_uid, pb->device_disable->uid,
                                        &q->device);
        case MGMT_OP_DEVICE_HISTORY:
                r = uid_args_from_pb(&c, pb->device_history->has_uid, pb->device_history->uid, &q->device);
                if (r < 0)
                        return r;
                if (pb->device_history->has_after_id && pb->device_history->after_id < 0)
                        return fail(&c, MGMT_INVALID, "after_id", "must not be negative");
                q->device.after_id = pb->device_history->after_id;
                return get_limit(&c, pb->device_history->has_limit, pb->device_history->limit, "limit",
                                 &q->device.limit);
        case MGMT_OP_DEVICE_LIST:
                return filter_from_pb(&c, pb->device_list, &q->filter);
        case MGMT_OP_DEVICE_COUNT:
                return filter_from_pb(&c, pb->device_count, &q->filter);
        case MGMT_OP_DEVICE_BULK_PUT:
                return bulk_from_pb(&c, pb->device_bulk_put, &q->bulk);
        case MGMT_OP_AUDIT_QUERY:
                return audit_from_pb(&c, pb->audit_query, &q->audit);
        case MGMT_OP_STATS:
                return time_range(&c, pb->stats->has_since_usec, pb->stats->since_usec,
                                  pb->stats->has_until_usec, pb->stats->until_usec, &q->stats.since,
                                  &q->stats.until);
        case MGMT_OP_STATUS:
                return 0;
        case _MGMT_OP_MAX:
        case _MGMT_OP_INVALID:
                break;
        }
        assert_not_reached();
}

int mgmt_request_decode(const void *buf, size_t len, MgmtOp op, MgmtRequest **ret, MgmtError *err) {
        static const uint8_t empty[1];
        _cleanup_(mgmt_request_freep) MgmtRequest *q = NULL;
        RequestInternal *in;
        PbRequest *pb;
        MgmtOp body_op;
        int r;

        assert(ret);
        assert(err);

        *err = (MgmtError){};
        if (!buf && len > 0)
                return mgmt_error_set(err, MGMT_MALFORMED, NULL, "no request");
        peek_request_id(buf ?: empty, len, err->request_id, sizeof(err->request_id));
        if (op < 0 || op >= _MGMT_OP_MAX)
                return mgmt_error_set(err, MGMT_UNSUPPORTED, NULL, "unknown operation");
        if (len > MGMT_REQUEST_MAX)
                return mgmt_error_set(
                        err, MGMT_TOO_LARGE, NULL,
                        "the request is %zu bytes; at most %u are taken (split bulk uploads into "
                        "the chunks of a staged batch)",
                        len, MGMT_REQUEST_MAX);

        q = new0(MgmtRequest, 1);
        if (!q)
                return mgmt_error_set(err, MGMT_INTERNAL, NULL, "out of memory");
        q->internal = in = new0(RequestInternal, 1);
        if (!in)
                return mgmt_error_set(err, MGMT_INTERNAL, NULL, "out of memory");
        budget_init(&in->budget);

        in->pb = pb = meshprov__mgmt__request__unpack(&in->budget.allocator, len, buf ?: empty);
        if (!pb) {
                r = budget_errno(&in->budget);
                if (r == -ENOMEM)
                        return mgmt_error_set(err, MGMT_INTERNAL, NULL, "out of memory");
                if (r == -EMSGSIZE)
                        return mgmt_error_set(err, MGMT_TOO_LARGE, NULL,
                                              "the request unpacks to more than %u MiB",
                                              MGMT_UNPACK_MEMORY_MAX >> 20);
                return mgmt_error_set(err, MGMT_MALFORMED, NULL, "not a meshprov.mgmt.Request message");
        }

        if (pb->request_id) {
                size_t n = strnlen(pb->request_id, MGMT_REQUEST_ID_MAX + 1);
                if (n > MGMT_REQUEST_ID_MAX) {
                        err->request_id[0] = '\0';
                        return mgmt_error_set(err, MGMT_TOO_LARGE, "request_id", "longer than %u characters",
                                              MGMT_REQUEST_ID_MAX);
                }
                for (size_t i = 0; i < n; i++)
                        if ((unsigned char)pb->request_id[i] < 0x20 ||
                            (unsigned char)pb->request_id[i] >= 0x7f) {
                                err->request_id[0] = '\0';
                                return mgmt_error_set(err, MGMT_INVALID, "request_id",
                                                      "only printable ASCII characters");
                        }
                memcpy(q->id, pb->request_id, n + 1);
                memcpy(err->request_id, q->id, n + 1);
        } else
                err->request_id[0] = '\0';

        body_op = op_from_case(pb->body_case);
        if (body_op < 0)
                return mgmt_error_set(err, MGMT_MALFORMED, "body", "the request has no body for '%s'",
                                      mgmt_op_to_string(op));
        if (body_op != op)
                return mgmt_error_set(err, MGMT_MALFORMED, "body",
                                      "the body is '%s' but the topic names '%s'",
                                      mgmt_op_to_string(body_op), mgmt_op_to_string(op));
        q->op = op;

        r = request_body(pb, q, err);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(q);
        return 0;
}

static const PbBulkPut *bulk_pb(const MgmtRequest *r) {
        const RequestInternal *in = r ? r->internal : NULL;

        if (!in || !in->pb || r->op != MGMT_OP_DEVICE_BULK_PUT || !in->pb->device_bulk_put)
                return NULL;
        return in->pb->device_bulk_put;
}

static int bulk_network(const PbBulkPut *b, size_t i, const Check *c, MgmtNetworkPut *ret) {
        const PbNetworkPut *np = b->networks[i];
        int r;

        if (!np->network)
                return fail(c, MGMT_INVALID, "network", "missing");
        r = network_from_pb(c, np->network, &ret->network);
        if (r < 0)
                return r;
        return put_mode(c, np->has_mode, np->mode, &ret->mode);
}

static int bulk_device(const PbBulkPut *b, size_t i, const Check *c, MgmtDevicePut *ret) {
        const PbDevicePut *dp = b->devices[i];
        int r;

        r = put_mode(c, dp->has_mode, dp->mode, &ret->mode);
        if (r < 0)
                return r;
        if (!dp->device)
                return fail(c, MGMT_INVALID, "device", "missing");
        return device_from_pb(c, dp->device, ret->mode, &ret->device);
}

int mgmt_request_bulk_check(const MgmtRequest *r, uint32_t networks_base, uint64_t devices_base,
                            MgmtError *err) {
        const PbBulkPut *b = bulk_pb(r);
        _cleanup_free_ MgmtDevicePut *d = NULL;
        MgmtNetworkPut n;
        char prefix[48];
        int first = 0;

        assert(err);
        if (!b)
                return -EINVAL;
        d = new (MgmtDevicePut, 1);
        if (!d)
                return mgmt_error_set(err, MGMT_INTERNAL, NULL, "out of memory");

        for (size_t i = 0; i < b->n_networks && err->n_items < MGMT_ITEM_ERRORS_MAX; i++) {
                MgmtError e = {};
                Check c = { .err = &e, .prefix = prefix, .request = true, .strict = true };
                int q;

                snprintf(prefix, sizeof(prefix), "networks[%" PRIu64 "]", (uint64_t)networks_base + i);
                q = bulk_network(b, i, &c, &n);
                explicit_bzero_safe(&n, sizeof(n));
                if (q < 0) {
                        mgmt_error_add_item(err, (uint32_t)(networks_base + i), e.code, e.field, e.message);
                        if (first == 0) {
                                first = q;
                                mgmt_error_set(err, e.code, e.field, "%s", e.message);
                        }
                }
        }
        for (size_t i = 0; i < b->n_devices && err->n_items < MGMT_ITEM_ERRORS_MAX; i++) {
                MgmtError e = {};
                Check c = { .err = &e, .prefix = prefix, .request = true, .strict = true };
                int q;

                snprintf(prefix, sizeof(prefix), "devices[%" PRIu64 "]", devices_base + i);
                q = bulk_device(b, i, &c, d);
                if (q < 0) {
                        mgmt_error_add_item(err, (uint32_t)MIN(devices_base + i, (uint64_t)UINT32_MAX),
                                            e.code, e.field, e.message);
                        if (first == 0) {
                                first = q;
                                mgmt_error_set(err, e.code, e.field, "%s", e.message);
                        }
                }
        }
        explicit_bzero_safe(d, sizeof(*d));
        return first;
}

int mgmt_request_bulk_network(const MgmtRequest *r, size_t i, MgmtNetworkPut *ret) {
        const PbBulkPut *b = bulk_pb(r);
        Check c = { .prefix = "", .request = true };

        if (!b || i >= b->n_networks)
                return -EINVAL;
        return bulk_network(b, i, &c, ret);
}

int mgmt_request_bulk_device(const MgmtRequest *r, size_t i, MgmtDevicePut *ret) {
        const PbBulkPut *b = bulk_pb(r);
        Check c = { .prefix = "", .request = true };

        if (!b || i >= b->n_devices)
                return -EINVAL;
        return bulk_device(b, i, &c, ret);
}

/* ---- request encoding ---- */

static int pack_message(const ProtobufCMessage *m, size_t max, uint8_t **ret, size_t *ret_len) {
        size_t n = protobuf_c_message_get_packed_size(m);
        uint8_t *buf;

        if (n > max)
                return -EMSGSIZE;
        buf = malloc(MAX(n, (size_t)1));
        if (!buf)
                return -ENOMEM;
        if (protobuf_c_message_pack(m, buf) != n) {
                free(buf);
                return -EIO;
        }
        *ret = buf;
        *ret_len = n;
        return 0;
}

static PbName *name_pb(Arena *a, const char *name, size_t size) {
        PbName *p = arena_new(a, PbName, 1);
        if (!p)
                return NULL;
        meshprov__mgmt__name__init(p);
        p->name = arena_str(a, name, size);
        return p;
}

static PbDeviceRef *ref_pb(Arena *a, const MgmtUidArgs *u) {
        PbDeviceRef *p = arena_new(a, PbDeviceRef, 1);
        if (!p)
                return NULL;
        meshprov__mgmt__device_ref__init(p);
        p->has_uid = true;
        p->uid = bin(u->uid, MIN(u->uid_len, sizeof(u->uid)));
        return p;
}

static PbListRequest *list_pb(Arena *a, const MgmtListArgs *l) {
        PbListRequest *p = arena_new(a, PbListRequest, 1);
        if (!p)
                return NULL;
        meshprov__mgmt__list_request__init(p);
        p->after = ARENA_OPT_STR(a, l->after);
        p->has_limit = l->limit > 0;
        p->limit = l->limit;
        return p;
}

static PbDeviceFilter *filter_pb(Arena *a, const MgmtDeviceFilter *f) {
        PbDeviceFilter *p = arena_new(a, PbDeviceFilter, 1);
        if (!p)
                return NULL;
        meshprov__mgmt__device_filter__init(p);
        p->vendor = ARENA_OPT_STR(a, f->vendor);
        p->network = ARENA_OPT_STR(a, f->network);
        p->has_state = f->state >= 0;
        p->state = f->state >= 0 ? (Meshprov__Mgmt__DeviceState)f->state : 0;
        if (f->after_uid_len > 0) {
                p->has_after_uid = true;
                p->after_uid = bin(f->after_uid, MIN(f->after_uid_len, sizeof(f->after_uid)));
        }
        p->has_limit = f->limit > 0;
        p->limit = f->limit;
        return p;
}

static PbBulkPut *bulk_to_pb(Arena *a, const MgmtBulkPut *b) {
        PbBulkPut *p = arena_new(a, PbBulkPut, 1);
        if (!p)
                return NULL;
        meshprov__mgmt__bulk_put__init(p);
        if (b->n_networks > 0) {
                PbNetworkPut *items = arena_new(a, PbNetworkPut, b->n_networks);
                PbNetworkPut **ptrs = arena_new(a, PbNetworkPut *, b->n_networks);
                PbNetwork *nets = arena_new(a, PbNetwork, b->n_networks);
                if (!items || !ptrs || !nets || !b->networks)
                        return NULL;
                for (size_t i = 0; i < b->n_networks; i++) {
                        meshprov__mgmt__network_put__init(&items[i]);
                        network_to_pb(a, &b->networks[i].network, false, &nets[i]);
                        items[i].network = &nets[i];
                        items[i].has_mode = true;
                        items[i].mode = (Meshprov__Mgmt__PutMode)b->networks[i].mode;
                        ptrs[i] = &items[i];
                }
                p->n_networks = b->n_networks;
                p->networks = ptrs;
        }
        if (b->n_devices > 0) {
                PbDevicePut *items = arena_new(a, PbDevicePut, b->n_devices);
                PbDevicePut **ptrs = arena_new(a, PbDevicePut *, b->n_devices);
                PbDevice *devs = arena_new(a, PbDevice, b->n_devices);
                if (!items || !ptrs || !devs || !b->devices)
                        return NULL;
                for (size_t i = 0; i < b->n_devices; i++) {
                        meshprov__mgmt__device_put__init(&items[i]);
                        device_to_pb(a, &b->devices[i].device, false, &devs[i]);
                        items[i].device = &devs[i];
                        items[i].has_mode = true;
                        items[i].mode = (Meshprov__Mgmt__PutMode)b->devices[i].mode;
                        ptrs[i] = &items[i];
                }
                p->n_devices = b->n_devices;
                p->devices = ptrs;
        }
        p->has_dry_run = b->dry_run;
        p->dry_run = b->dry_run;
        p->batch = ARENA_OPT_STR(a, b->batch);
        p->has_seq = b->batch[0] != '\0';
        p->seq = b->seq;
        p->has_last = true;
        p->last = b->last;
        p->has_abort = b->abort;
        p->abort = b->abort;
        return p;
}

static int request_body_to_pb(Arena *a, const MgmtRequest *q, PbRequest *p) {
        p->body_case = op_case[q->op];
        switch (q->op) {
        case MGMT_OP_NETWORK_PUT: {
                PbNetworkPut *np = arena_new(a, PbNetworkPut, 1);
                PbNetwork *n = arena_new(a, PbNetwork, 1);
                if (!np || !n)
                        return -ENOMEM;
                meshprov__mgmt__network_put__init(np);
                network_to_pb(a, &q->network_put.network, false, n);
                np->network = n;
                np->has_mode = true;
                np->mode = (Meshprov__Mgmt__PutMode)q->network_put.mode;
                p->network_put = np;
                break;
        }
        case MGMT_OP_VENDOR_PUT: {
                PbVendorPut *vp = arena_new(a, PbVendorPut, 1);
                PbVendor *v = arena_new(a, PbVendor, 1);
                if (!vp || !v)
                        return -ENOMEM;
                meshprov__mgmt__vendor_put__init(vp);
                vendor_to_pb(a, &q->vendor_put.vendor, false, v);
                vp->vendor = v;
                vp->has_mode = true;
                vp->mode = (Meshprov__Mgmt__PutMode)q->vendor_put.mode;
                p->vendor_put = vp;
                break;
        }
        case MGMT_OP_DEVICE_PUT: {
                PbDevicePut *dp = arena_new(a, PbDevicePut, 1);
                PbDevice *d = arena_new(a, PbDevice, 1);
                if (!dp || !d)
                        return -ENOMEM;
                meshprov__mgmt__device_put__init(dp);
                device_to_pb(a, &q->device_put.device, false, d);
                dp->device = d;
                dp->has_mode = true;
                dp->mode = (Meshprov__Mgmt__PutMode)q->device_put.mode;
                p->device_put = dp;
                break;
        }
        case MGMT_OP_NETWORK_GET:
                p->network_get = name_pb(a, q->name, sizeof(q->name));
                break;
        case MGMT_OP_NETWORK_DELETE:
                p->network_delete = name_pb(a, q->name, sizeof(q->name));
                break;
        case MGMT_OP_VENDOR_GET:
                p->vendor_get = name_pb(a, q->name, sizeof(q->name));
                break;
        case MGMT_OP_VENDOR_DELETE:
                p->vendor_delete = name_pb(a, q->name, sizeof(q->name));
                break;
        case MGMT_OP_NETWORK_LIST:
                p->network_list = list_pb(a, &q->list);
                break;
        case MGMT_OP_VENDOR_LIST:
                p->vendor_list = list_pb(a, &q->list);
                break;
        case MGMT_OP_DEVICE_GET:
                p->device_get = ref_pb(a, &q->device);
                break;
        case MGMT_OP_DEVICE_DELETE:
                p->device_delete = ref_pb(a, &q->device);
                break;
        case MGMT_OP_DEVICE_ENABLE:
                p->device_enable = ref_pb(a, &q->device);
                break;
        case MGMT_OP_DEVICE_DISABLE:
                p->device_disable = ref_pb(a, &q->device);
                break;
        case MGMT_OP_DEVICE_HISTORY: {
                PbHistoryRequest *h = arena_new(a, PbHistoryRequest, 1);
                if (!h)
                        return -ENOMEM;
                meshprov__mgmt__history_request__init(h);
                h->has_uid = true;
                h->uid = bin(q->device.uid, MIN(q->device.uid_len, sizeof(q->device.uid)));
                h->has_limit = q->device.limit > 0;
                h->limit = q->device.limit;
                h->has_after_id = q->device.after_id != 0;
                h->after_id = q->device.after_id;
                p->device_history = h;
                break;
        }
        case MGMT_OP_DEVICE_LIST:
                p->device_list = filter_pb(a, &q->filter);
                break;
        case MGMT_OP_DEVICE_COUNT:
                p->device_count = filter_pb(a, &q->filter);
                break;
        case MGMT_OP_DEVICE_BULK_PUT:
                p->device_bulk_put = bulk_to_pb(a, &q->bulk);
                if (!p->device_bulk_put && !a->failed)
                        return -EINVAL; /* items missing */
                break;
        case MGMT_OP_AUDIT_QUERY: {
                const MgmtAuditFilter *f = &q->audit;
                PbAuditQuery *aq = arena_new(a, PbAuditQuery, 1);
                if (!aq)
                        return -ENOMEM;
                meshprov__mgmt__audit_query__init(aq);
                if (f->uid_len > 0) {
                        aq->has_uid = true;
                        aq->uid = bin(f->uid, MIN(f->uid_len, sizeof(f->uid)));
                }
                aq->has_since_usec = f->since > 0;
                aq->since_usec = f->since;
                aq->has_until_usec = f->until > 0;
                aq->until_usec = f->until;
                aq->has_kind = f->kind >= 0;
                aq->kind = f->kind >= 0 ? (Meshprov__Mgmt__EventKind)f->kind : 0;
                aq->result = ARENA_OPT_STR(a, f->result);
                aq->has_after_id = f->after_id != 0;
                aq->after_id = f->after_id;
                aq->has_descending = true;
                aq->descending = f->descending;
                aq->has_limit = f->limit > 0;
                aq->limit = f->limit;
                p->audit_query = aq;
                break;
        }
        case MGMT_OP_STATS: {
                PbStatsRequest *s = arena_new(a, PbStatsRequest, 1);
                if (!s)
                        return -ENOMEM;
                meshprov__mgmt__stats_request__init(s);
                s->has_since_usec = q->stats.since > 0;
                s->since_usec = q->stats.since;
                s->has_until_usec = q->stats.until > 0;
                s->until_usec = q->stats.until;
                p->stats = s;
                break;
        }
        case MGMT_OP_STATUS: {
                PbStatusRequest *s = arena_new(a, PbStatusRequest, 1);
                if (!s)
                        return -ENOMEM;
                meshprov__mgmt__status_request__init(s);
                p->status = s;
                break;
        }
        case _MGMT_OP_MAX:
        case _MGMT_OP_INVALID:
                return -EINVAL;
        }
        return 0;
}

int mgmt_request_encode(const MgmtRequest *q, uint8_t **ret, size_t *ret_len) {
        Arena a = {};
        PbRequest p;
        int r;

        assert(q);
        assert(ret);
        assert(ret_len);

        if (q->op < 0 || q->op >= _MGMT_OP_MAX)
                return -EINVAL;
        meshprov__mgmt__request__init(&p);
        p.request_id = ARENA_OPT_STR(&a, q->id);
        r = request_body_to_pb(&a, q, &p);
        if (r >= 0 && a.failed)
                r = -EINVAL; /* an allocation failed or a string was not terminated: tell them apart */
        if (r >= 0)
                r = pack_message(&p.base, MGMT_REQUEST_MAX, ret, ret_len);
        arena_done(&a);
        return r;
}

/* ---------------------------------------------------------------------------------------------------------
 * Responses */

void mgmt_response_init(MgmtResponse *r, MgmtOp op, const char *id) {
        *r = (MgmtResponse){ .op = op };
        snprintf(r->id, sizeof(r->id), "%s", strempty(id));
}

void mgmt_response_done(MgmtResponse *r) {
        char id[sizeof(r->id)];

        if (!r)
                return;
        switch (r->op) { /* the union is zero where no body was filled */
        case MGMT_OP_NETWORK_LIST:
                free(r->networks.items);
                break;
        case MGMT_OP_VENDOR_LIST:
                free(r->vendors.items);
                break;
        case MGMT_OP_DEVICE_LIST:
                free(r->devices.items);
                break;
        case MGMT_OP_DEVICE_HISTORY:
                free(r->history.device);
                free(r->history.items);
                break;
        case MGMT_OP_AUDIT_QUERY:
                free(r->events.items);
                break;
        case MGMT_OP_STATS:
                free(r->stats.routes);
                break;
        case MGMT_OP_NETWORK_PUT:
        case MGMT_OP_NETWORK_GET:
        case MGMT_OP_NETWORK_DELETE:
        case MGMT_OP_VENDOR_PUT:
        case MGMT_OP_VENDOR_GET:
        case MGMT_OP_VENDOR_DELETE:
        case MGMT_OP_DEVICE_PUT:
        case MGMT_OP_DEVICE_GET:
        case MGMT_OP_DEVICE_DELETE:
        case MGMT_OP_DEVICE_COUNT:
        case MGMT_OP_DEVICE_BULK_PUT:
        case MGMT_OP_DEVICE_ENABLE:
        case MGMT_OP_DEVICE_DISABLE:
        case MGMT_OP_STATUS:
        case _MGMT_OP_MAX:
        case _MGMT_OP_INVALID:
                break;
        }
        memcpy(id, r->id, sizeof(id));
        mgmt_response_init(r, r->op, id);
}

MgmtResponse *mgmt_response_free(MgmtResponse *r) {
        if (!r)
                return NULL;
        mgmt_response_done(r);
        free(r);
        return NULL;
}

static PbCounters *counters_pb(Arena *a, const MgmtCounters *c) {
        PbCounters *p = arena_new(a, PbCounters, 1);
        if (!p)
                return NULL;
        meshprov__mgmt__counters__init(p);
#define C(f) p->has_##f = true, p->f = c->f
        C(uplinks);
        C(malformed);
        C(starts);
        C(data_sent);
        C(data_resent);
        C(acks);
        C(nacks);
        C(expired);
        C(send_failed);
        C(errors);
        C(sessions_live);
        C(sessions_max);
        C(api_requests);
        C(api_errors);
        C(api_dropped);
        C(events_published);
        C(events_dropped);
#undef C
        return p;
}

static void counters_from_pb(const PbCounters *p, MgmtCounters *c) {
#define C(f) c->f = p->f
        C(uplinks);
        C(malformed);
        C(starts);
        C(data_sent);
        C(data_resent);
        C(acks);
        C(nacks);
        C(expired);
        C(send_failed);
        C(errors);
        C(sessions_live);
        C(sessions_max);
        C(api_requests);
        C(api_errors);
        C(api_dropped);
        C(events_published);
        C(events_dropped);
#undef C
}

static void status_to_pb(Arena *a, const MgmtStatus *s, PbStatus *p) {
        size_t n_sinks = MIN(s->n_sinks, (size_t)SINKS_MAX);

        meshprov__mgmt__status__init(p);
        p->has_online = true;
        p->online = s->online;
        p->instance = ARENA_OPT_STR(a, s->instance);
        p->version = ARENA_OPT_STR(a, s->version);
        p->has_time_usec = s->time != 0;
        p->time_usec = s->time;
        p->has_uptime_usec = s->online;
        p->uptime_usec = s->uptime;
        if (s->broker_host[0]) {
                PbBroker *b = arena_new(a, PbBroker, 1);
                if (b) {
                        meshprov__mgmt__broker__init(b);
                        b->host = ARENA_STR(a, s->broker_host);
                        b->has_connected = true;
                        b->connected = s->broker_connected;
                        p->broker = b;
                }
        }
        if (s->online) {
                p->has_gateway_api = true;
                p->gateway_api = s->gateway_api;
                p->has_gateways_online = true;
                p->gateways_online = s->gateways_online;
        }
        if (n_sinks > 0) {
                PbSink *sinks = arena_new(a, PbSink, n_sinks);
                PbSink **ptrs = arena_new(a, PbSink *, n_sinks);
                if (sinks && ptrs) {
                        for (size_t i = 0; i < n_sinks; i++) {
                                meshprov__mgmt__sink__init(&sinks[i]);
                                sinks[i].name = ARENA_STR(a, s->sinks[i].name);
                                sinks[i].device = ARENA_OPT_STR(a, s->sinks[i].device);
                                sinks[i].has_online = true;
                                sinks[i].online = s->sinks[i].online;
                                sinks[i].state = ARENA_OPT_STR(a, s->sinks[i].state);
                                ptrs[i] = &sinks[i];
                        }
                        p->n_sinks = n_sinks;
                        p->sinks = ptrs;
                }
        }
        if (s->has_counters)
                p->counters = counters_pb(a, &s->counters);
}

static int status_from_pb(const Check *c, const PbStatus *p, MgmtStatus *s) {
        int r;

        *s = (MgmtStatus){};
        s->online = p->has_online && p->online;
        r = get_str(c, p->instance, "instance", false, STR_ANY, s->instance, sizeof(s->instance));
        if (r >= 0)
                r = get_str(c, p->version, "version", false, STR_ANY, s->version, sizeof(s->version));
        if (r < 0)
                return r;
        s->time = p->time_usec;
        s->uptime = p->uptime_usec;
        if (p->broker) {
                r = get_str(c, p->broker->host, "broker.host", false, STR_ANY, s->broker_host,
                            sizeof(s->broker_host));
                if (r < 0)
                        return r;
                s->broker_connected = p->broker->connected;
        }
        s->gateway_api = p->gateway_api;
        s->gateways_online = p->gateways_online;
        if (p->n_sinks > SINKS_MAX)
                return fail(c, MGMT_TOO_LARGE, "sinks", "at most %u", SINKS_MAX);
        for (size_t i = 0; i < p->n_sinks; i++) {
                MgmtSinkStatus *k = &s->sinks[i];
                r = get_str(c, p->sinks[i]->name, "sinks.name", false, STR_ANY, k->name, sizeof(k->name));
                if (r >= 0)
                        r = get_str(c, p->sinks[i]->device, "sinks.device", false, STR_ANY, k->device,
                                    sizeof(k->device));
                if (r >= 0)
                        r = get_str(c, p->sinks[i]->state, "sinks.state", false, STR_ANY, k->state,
                                    sizeof(k->state));
                if (r < 0)
                        return r;
                k->online = p->sinks[i]->online;
        }
        s->n_sinks = p->n_sinks;
        if (p->counters) {
                s->has_counters = true;
                counters_from_pb(p->counters, &s->counters);
        }
        return 0;
}

static PbCount **counts_pb(Arena *a, size_t n) {
        PbCount *items = arena_new(a, PbCount, n);
        PbCount **ptrs = arena_new(a, PbCount *, n);
        if (!items || !ptrs)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                meshprov__mgmt__count__init(&items[i]);
                items[i].has_count = true;
                ptrs[i] = &items[i];
        }
        return ptrs;
}

static const char *const nack_names[4] = { "not_authorized", "method_not_supported", "invalid_data",
                                           "invalid_key" };

static PbStats *stats_pb(Arena *a, const MgmtStats *s) {
        PbStats *p = arena_new(a, PbStats, 1);
        size_t n_results = MIN(s->n_by_result, (size_t)MGMT_STATS_RESULTS_MAX);
        size_t n_routes = MIN(s->n_routes, (size_t)MGMT_STATS_ROUTES_MAX);

        if (!p)
                return NULL;
        meshprov__mgmt__stats__init(p);
        p->has_since_usec = s->since > 0;
        p->since_usec = s->since;
        p->has_until_usec = s->until > 0;
        p->until_usec = s->until;
        p->has_events_total = true;
        p->events_total = s->events_total;
        p->by_kind = counts_pb(a, _MGMT_EVENT_KIND_MAX);
        if (p->by_kind) {
                p->n_by_kind = _MGMT_EVENT_KIND_MAX;
                for (size_t i = 0; i < _MGMT_EVENT_KIND_MAX; i++) {
                        p->by_kind[i]->name = (char *)event_kind_table[i];
                        p->by_kind[i]->count = s->by_kind[i];
                }
        }
        if (n_results > 0) {
                p->by_result = counts_pb(a, n_results);
                if (p->by_result) {
                        p->n_by_result = n_results;
                        for (size_t i = 0; i < n_results; i++) {
                                p->by_result[i]->name = ARENA_STR(a, s->by_result[i].name);
                                p->by_result[i]->count = s->by_result[i].count;
                        }
                }
        }
        p->by_nack_reason = counts_pb(a, ELEMENTSOF(nack_names));
        if (p->by_nack_reason) {
                p->n_by_nack_reason = ELEMENTSOF(nack_names);
                for (size_t i = 0; i < ELEMENTSOF(nack_names); i++) {
                        p->by_nack_reason[i]->name = (char *)nack_names[i];
                        p->by_nack_reason[i]->count = s->by_nack_reason[i];
                }
        }
        if (n_routes > 0 && s->routes) {
                PbRouteCount *items = arena_new(a, PbRouteCount, n_routes);
                PbRouteCount **ptrs = arena_new(a, PbRouteCount *, n_routes);
                if (items && ptrs) {
                        for (size_t i = 0; i < n_routes; i++) {
                                const MgmtRouteCount *rc = &s->routes[i];
                                meshprov__mgmt__route_count__init(&items[i]);
                                items[i].gateway = ARENA_STR(a, rc->gateway);
                                items[i].sink = ARENA_STR(a, rc->sink);
                                items[i].has_starts = items[i].has_data = items[i].has_acks = true;
                                items[i].has_nacks = items[i].has_events = true;
                                items[i].starts = rc->starts;
                                items[i].data = rc->data;
                                items[i].acks = rc->acks;
                                items[i].nacks = rc->nacks;
                                items[i].events = rc->events;
                                ptrs[i] = &items[i];
                        }
                        p->n_by_route = n_routes;
                        p->by_route = ptrs;
                }
        }
        p->has_routes_truncated = true;
        p->routes_truncated = s->routes_truncated;
        p->has_devices_total = true;
        p->devices_total = s->devices_total;
        p->devices_by_state = counts_pb(a, _MGMT_DEVICE_STATE_MAX);
        if (p->devices_by_state) {
                p->n_devices_by_state = _MGMT_DEVICE_STATE_MAX;
                for (size_t i = 0; i < _MGMT_DEVICE_STATE_MAX; i++) {
                        p->devices_by_state[i]->name = (char *)device_state_table[i];
                        p->devices_by_state[i]->count = s->devices_by_state[i];
                }
        }
        if (s->has_counters)
                p->counters = counters_pb(a, &s->counters);
        return p;
}

static int stats_from_pb(const Check *c, const PbStats *p, MgmtStats *s) {
        int r;

        *s = (MgmtStats){};
        s->since = p->since_usec;
        s->until = p->until_usec;
        s->events_total = p->events_total;
        /* names we do not know (a newer daemon) are skipped */
        for (size_t i = 0; i < p->n_by_kind; i++)
                for (size_t k = 0; k < _MGMT_EVENT_KIND_MAX; k++)
                        if (streq_ptr(p->by_kind[i]->name, event_kind_table[k]))
                                s->by_kind[k] = p->by_kind[i]->count;
        if (p->n_by_result > MGMT_STATS_RESULTS_MAX)
                return fail(c, MGMT_TOO_LARGE, "by_result", "too many");
        for (size_t i = 0; i < p->n_by_result; i++) {
                r = get_str(c, p->by_result[i]->name, "by_result.name", false, STR_ANY, s->by_result[i].name,
                            sizeof(s->by_result[i].name));
                if (r < 0)
                        return r;
                s->by_result[i].count = p->by_result[i]->count;
        }
        s->n_by_result = p->n_by_result;
        for (size_t i = 0; i < p->n_by_nack_reason; i++)
                for (size_t k = 0; k < ELEMENTSOF(nack_names); k++)
                        if (streq_ptr(p->by_nack_reason[i]->name, nack_names[k]))
                                s->by_nack_reason[k] = p->by_nack_reason[i]->count;
        if (p->n_by_route > MGMT_STATS_ROUTES_MAX)
                return fail(c, MGMT_TOO_LARGE, "by_route", "too many");
        if (p->n_by_route > 0) {
                s->routes = new0(MgmtRouteCount, p->n_by_route);
                if (!s->routes)
                        return -ENOMEM;
                for (size_t i = 0; i < p->n_by_route; i++) {
                        MgmtRouteCount *rc = &s->routes[i];
                        const PbRouteCount *q = p->by_route[i];
                        r = get_str(c, q->gateway, "by_route.gateway", false, STR_ANY, rc->gateway,
                                    sizeof(rc->gateway));
                        if (r >= 0)
                                r = get_str(c, q->sink, "by_route.sink", false, STR_ANY, rc->sink,
                                            sizeof(rc->sink));
                        if (r < 0) {
                                free(s->routes);
                                s->routes = NULL;
                                return r;
                        }
                        rc->starts = q->starts;
                        rc->data = q->data;
                        rc->acks = q->acks;
                        rc->nacks = q->nacks;
                        rc->events = q->events;
                }
                s->n_routes = p->n_by_route;
        }
        s->routes_truncated = p->routes_truncated;
        s->devices_total = p->devices_total;
        for (size_t i = 0; i < p->n_devices_by_state; i++)
                for (size_t k = 0; k < _MGMT_DEVICE_STATE_MAX; k++)
                        if (streq_ptr(p->devices_by_state[i]->name, device_state_table[k]))
                                s->devices_by_state[k] = p->devices_by_state[i]->count;
        if (p->counters) {
                s->has_counters = true;
                counters_from_pb(p->counters, &s->counters);
        }
        return 0;
}

static PbEvent **events_pb(Arena *a, const MgmtEvent *items, size_t n) {
        PbEvent *evs = arena_new(a, PbEvent, n);
        PbEvent **ptrs = arena_new(a, PbEvent *, n);

        if (!evs || !ptrs)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                event_to_pb(a, &items[i], &evs[i]);
                ptrs[i] = &evs[i];
        }
        return ptrs;
}

static int response_body_to_pb(Arena *a, const MgmtResponse *r, PbResponse *p) {
        p->body_case = (Meshprov__Mgmt__Response__BodyCase)op_case[r->op];
        switch (r->op) {
        case MGMT_OP_NETWORK_PUT:
        case MGMT_OP_NETWORK_GET:
                p->network = arena_new(a, PbNetwork, 1);
                if (!p->network)
                        return -ENOMEM;
                network_to_pb(a, &r->network, true, p->network);
                p->body_case = MESHPROV__MGMT__RESPONSE__BODY_NETWORK;
                break;
        case MGMT_OP_VENDOR_PUT:
        case MGMT_OP_VENDOR_GET:
                p->vendor = arena_new(a, PbVendor, 1);
                if (!p->vendor)
                        return -ENOMEM;
                vendor_to_pb(a, &r->vendor, true, p->vendor);
                p->body_case = MESHPROV__MGMT__RESPONSE__BODY_VENDOR;
                break;
        case MGMT_OP_DEVICE_PUT:
        case MGMT_OP_DEVICE_GET:
        case MGMT_OP_DEVICE_ENABLE:
        case MGMT_OP_DEVICE_DISABLE:
                p->device = arena_new(a, PbDevice, 1);
                if (!p->device)
                        return -ENOMEM;
                device_to_pb(a, &r->device, true, p->device);
                p->body_case = MESHPROV__MGMT__RESPONSE__BODY_DEVICE;
                break;
        case MGMT_OP_NETWORK_LIST: {
                PbNetworkList *l = arena_new(a, PbNetworkList, 1);
                if (!l)
                        return -ENOMEM;
                meshprov__mgmt__network_list__init(l);
                if (r->networks.n > 0) {
                        PbNetwork *items = arena_new(a, PbNetwork, r->networks.n);
                        l->networks = arena_new(a, PbNetwork *, r->networks.n);
                        if (!items || !l->networks)
                                return -ENOMEM;
                        for (size_t i = 0; i < r->networks.n; i++) {
                                network_to_pb(a, &r->networks.items[i], true, &items[i]);
                                l->networks[i] = &items[i];
                        }
                        l->n_networks = r->networks.n;
                }
                l->has_more = true;
                l->more = r->networks.more;
                p->networks = l;
                break;
        }
        case MGMT_OP_VENDOR_LIST: {
                PbVendorList *l = arena_new(a, PbVendorList, 1);
                if (!l)
                        return -ENOMEM;
                meshprov__mgmt__vendor_list__init(l);
                if (r->vendors.n > 0) {
                        PbVendor *items = arena_new(a, PbVendor, r->vendors.n);
                        l->vendors = arena_new(a, PbVendor *, r->vendors.n);
                        if (!items || !l->vendors)
                                return -ENOMEM;
                        for (size_t i = 0; i < r->vendors.n; i++) {
                                vendor_to_pb(a, &r->vendors.items[i], true, &items[i]);
                                l->vendors[i] = &items[i];
                        }
                        l->n_vendors = r->vendors.n;
                }
                l->has_more = true;
                l->more = r->vendors.more;
                p->vendors = l;
                break;
        }
        case MGMT_OP_DEVICE_LIST: {
                PbDeviceList *l = arena_new(a, PbDeviceList, 1);
                if (!l)
                        return -ENOMEM;
                meshprov__mgmt__device_list__init(l);
                if (r->devices.n > 0) {
                        PbDevice *items = arena_new(a, PbDevice, r->devices.n);
                        l->devices = arena_new(a, PbDevice *, r->devices.n);
                        if (!items || !l->devices)
                                return -ENOMEM;
                        for (size_t i = 0; i < r->devices.n; i++) {
                                device_to_pb(a, &r->devices.items[i], true, &items[i]);
                                l->devices[i] = &items[i];
                        }
                        l->n_devices = r->devices.n;
                }
                l->has_more = true;
                l->more = r->devices.more;
                p->devices = l;
                break;
        }
        case MGMT_OP_DEVICE_COUNT: {
                PbDeviceCount *dc = arena_new(a, PbDeviceCount, 1);
                if (!dc)
                        return -ENOMEM;
                meshprov__mgmt__device_count__init(dc);
                dc->has_count = true;
                dc->count = r->count;
                p->device_count = dc;
                break;
        }
        case MGMT_OP_DEVICE_BULK_PUT: {
                PbBulkResult *b = arena_new(a, PbBulkResult, 1);
                if (!b)
                        return -ENOMEM;
                meshprov__mgmt__bulk_result__init(b);
                b->has_networks_created = b->has_networks_updated = b->has_devices_created = true;
                b->has_devices_updated = b->has_committed = b->has_dry_run = true;
                b->has_staged_devices = b->has_staged_networks = true;
                b->networks_created = r->bulk.networks_created;
                b->networks_updated = r->bulk.networks_updated;
                b->devices_created = r->bulk.devices_created;
                b->devices_updated = r->bulk.devices_updated;
                b->committed = r->bulk.committed;
                b->dry_run = r->bulk.dry_run;
                b->staged_devices = r->bulk.staged_devices;
                b->staged_networks = r->bulk.staged_networks;
                p->bulk = b;
                break;
        }
        case MGMT_OP_DEVICE_HISTORY: {
                PbHistory *h = arena_new(a, PbHistory, 1);
                if (!h)
                        return -ENOMEM;
                meshprov__mgmt__history__init(h);
                if (r->history.device) {
                        h->device = arena_new(a, PbDevice, 1);
                        if (!h->device)
                                return -ENOMEM;
                        device_to_pb(a, r->history.device, true, h->device);
                }
                if (r->history.n > 0) {
                        h->events = events_pb(a, r->history.items, r->history.n);
                        if (!h->events)
                                return -ENOMEM;
                        h->n_events = r->history.n;
                }
                h->has_more = true;
                h->more = r->history.more;
                p->history = h;
                break;
        }
        case MGMT_OP_AUDIT_QUERY: {
                PbEventList *l = arena_new(a, PbEventList, 1);
                if (!l)
                        return -ENOMEM;
                meshprov__mgmt__event_list__init(l);
                if (r->events.n > 0) {
                        l->events = events_pb(a, r->events.items, r->events.n);
                        if (!l->events)
                                return -ENOMEM;
                        l->n_events = r->events.n;
                }
                l->has_more = true;
                l->more = r->events.more;
                p->events = l;
                break;
        }
        case MGMT_OP_STATS:
                p->stats = stats_pb(a, &r->stats);
                if (!p->stats)
                        return -ENOMEM;
                break;
        case MGMT_OP_STATUS:
                p->status = arena_new(a, PbStatus, 1);
                if (!p->status)
                        return -ENOMEM;
                status_to_pb(a, &r->status, p->status);
                break;
        case MGMT_OP_NETWORK_DELETE:
        case MGMT_OP_VENDOR_DELETE:
        case MGMT_OP_DEVICE_DELETE:
                p->body_case = MESHPROV__MGMT__RESPONSE__BODY__NOT_SET;
                break;
        case _MGMT_OP_MAX:
        case _MGMT_OP_INVALID:
                return -EINVAL;
        }
        return 0;
}

int mgmt_response_encode(const MgmtResponse *r, uint8_t **ret, size_t *ret_len) {
        PbItemError *items = NULL, **ptrs = NULL;
        Arena a = {};
        PbResponse p;
        PbError e;
        int q = 0;

        assert(r);
        assert(ret);
        assert(ret_len);

        if (r->op < 0 || r->op >= _MGMT_OP_MAX)
                return -EINVAL;
        meshprov__mgmt__response__init(&p);
        p.request_id = ARENA_OPT_STR(&a, r->id);
        if (r->error.code != MGMT_OK) {
                size_t n = MIN(r->error.n_items, (size_t)MGMT_ITEM_ERRORS_MAX);

                meshprov__mgmt__error__init(&e);
                e.has_code = true;
                e.code = (Meshprov__Mgmt__ErrorCode)r->error.code;
                e.field = ARENA_OPT_STR(&a, r->error.field);
                e.message = ARENA_OPT_STR(&a, r->error.message);
                if (n > 0) {
                        items = arena_new(&a, PbItemError, n);
                        ptrs = arena_new(&a, PbItemError *, n);
                        if (items && ptrs) {
                                for (size_t i = 0; i < n; i++) {
                                        const MgmtItemError *it = &r->error.items[i];
                                        meshprov__mgmt__item_error__init(&items[i]);
                                        items[i].has_index = items[i].has_code = true;
                                        items[i].index = it->index;
                                        items[i].code = (Meshprov__Mgmt__ErrorCode)it->code;
                                        items[i].field = ARENA_OPT_STR(&a, it->field);
                                        items[i].message = ARENA_OPT_STR(&a, it->message);
                                        ptrs[i] = &items[i];
                                }
                                e.n_items = n;
                                e.items = ptrs;
                        }
                }
                p.error = &e;
        } else {
                if (r->created) {
                        p.has_created = true;
                        p.created = true;
                }
                q = response_body_to_pb(&a, r, &p);
        }
        if (q >= 0 && a.failed)
                q = -ENOMEM;
        if (q >= 0)
                q = pack_message(&p.base, MGMT_RESPONSE_MAX, ret, ret_len);
        arena_done(&a);
        return q;
}

/* One array of n decoded objects; n bounded by MGMT_PAGE_MAX. */
#define DECODE_LIST(c, pb_items, pb_n, out_items, out_n, conv)              \
        ({                                                                  \
                int _r = 0;                                                 \
                if ((pb_n) > MGMT_PAGE_MAX)                                 \
                        _r = -EMSGSIZE;                                     \
                else if ((pb_n) > 0) {                                      \
                        (out_items) = calloc((pb_n), sizeof(*(out_items))); \
                        if (!(out_items))                                   \
                                _r = -ENOMEM;                               \
                        for (size_t _i = 0; _r >= 0 && _i < (pb_n); _i++)   \
                                _r = conv;                                  \
                        if (_r >= 0)                                        \
                                (out_n) = (pb_n);                           \
                }                                                           \
                _r;                                                         \
        })

static int response_body_from_pb(const Check *c, const PbResponse *p, MgmtResponse *r) {
        int q;

        switch (r->op) {
        case MGMT_OP_NETWORK_PUT:
        case MGMT_OP_NETWORK_GET:
                if (p->body_case != MESHPROV__MGMT__RESPONSE__BODY_NETWORK)
                        return -EBADMSG;
                return network_from_pb(c, p->network, &r->network);
        case MGMT_OP_VENDOR_PUT:
        case MGMT_OP_VENDOR_GET:
                if (p->body_case != MESHPROV__MGMT__RESPONSE__BODY_VENDOR)
                        return -EBADMSG;
                return vendor_from_pb(c, p->vendor, &r->vendor);
        case MGMT_OP_DEVICE_PUT:
        case MGMT_OP_DEVICE_GET:
        case MGMT_OP_DEVICE_ENABLE:
        case MGMT_OP_DEVICE_DISABLE:
                if (p->body_case != MESHPROV__MGMT__RESPONSE__BODY_DEVICE)
                        return -EBADMSG;
                return device_from_pb(c, p->device, MGMT_PUT_UPSERT, &r->device);
        case MGMT_OP_NETWORK_LIST:
                if (p->body_case != MESHPROV__MGMT__RESPONSE__BODY_NETWORKS)
                        return -EBADMSG;
                r->networks.more = p->networks->more;
                return DECODE_LIST(c, p->networks->networks, p->networks->n_networks, r->networks.items,
                                   r->networks.n,
                                   network_from_pb(c, p->networks->networks[_i], &r->networks.items[_i]));
        case MGMT_OP_VENDOR_LIST:
                if (p->body_case != MESHPROV__MGMT__RESPONSE__BODY_VENDORS)
                        return -EBADMSG;
                r->vendors.more = p->vendors->more;
                return DECODE_LIST(c, p->vendors->vendors, p->vendors->n_vendors, r->vendors.items,
                                   r->vendors.n,
                                   vendor_from_pb(c, p->vendors->vendors[_i], &r->vendors.items[_i]));
        case MGMT_OP_DEVICE_LIST:
                if (p->body_case != MESHPROV__MGMT__RESPONSE__BODY_DEVICES)
                        return -EBADMSG;
                r->devices.more = p->devices->more;
                return DECODE_LIST(
                        c, p->devices->devices, p->devices->n_devices, r->devices.items, r->devices.n,
                        device_from_pb(c, p->devices->devices[_i], MGMT_PUT_UPSERT, &r->devices.items[_i]));
        case MGMT_OP_DEVICE_COUNT:
                if (p->body_case != MESHPROV__MGMT__RESPONSE__BODY_DEVICE_COUNT)
                        return -EBADMSG;
                r->count = p->device_count->count;
                return 0;
        case MGMT_OP_DEVICE_BULK_PUT: {
                const PbBulkResult *b = p->bulk;
                if (p->body_case != MESHPROV__MGMT__RESPONSE__BODY_BULK)
                        return -EBADMSG;
                r->bulk = (MgmtBulkResult){
                        .networks_created = b->networks_created,
                        .networks_updated = b->networks_updated,
                        .devices_created = b->devices_created,
                        .devices_updated = b->devices_updated,
                        .committed = b->committed,
                        .dry_run = b->dry_run,
                        .staged_devices = b->staged_devices,
                        .staged_networks = b->staged_networks,
                };
                return 0;
        }
        case MGMT_OP_DEVICE_HISTORY:
                if (p->body_case != MESHPROV__MGMT__RESPONSE__BODY_HISTORY)
                        return -EBADMSG;
                r->history.more = p->history->more;
                if (p->history->device) {
                        r->history.device = new0(MgmtDevice, 1);
                        if (!r->history.device)
                                return -ENOMEM;
                        q = device_from_pb(c, p->history->device, MGMT_PUT_UPSERT, r->history.device);
                        if (q < 0)
                                return q;
                }
                return DECODE_LIST(c, p->history->events, p->history->n_events, r->history.items,
                                   r->history.n,
                                   event_from_pb(c, p->history->events[_i], &r->history.items[_i]));
        case MGMT_OP_AUDIT_QUERY:
                if (p->body_case != MESHPROV__MGMT__RESPONSE__BODY_EVENTS)
                        return -EBADMSG;
                r->events.more = p->events->more;
                return DECODE_LIST(c, p->events->events, p->events->n_events, r->events.items, r->events.n,
                                   event_from_pb(c, p->events->events[_i], &r->events.items[_i]));
        case MGMT_OP_STATS:
                if (p->body_case != MESHPROV__MGMT__RESPONSE__BODY_STATS)
                        return -EBADMSG;
                return stats_from_pb(c, p->stats, &r->stats);
        case MGMT_OP_STATUS:
                if (p->body_case != MESHPROV__MGMT__RESPONSE__BODY_STATUS)
                        return -EBADMSG;
                return status_from_pb(c, p->status, &r->status);
        case MGMT_OP_NETWORK_DELETE:
        case MGMT_OP_VENDOR_DELETE:
        case MGMT_OP_DEVICE_DELETE:
                return p->body_case == MESHPROV__MGMT__RESPONSE__BODY__NOT_SET ? 0 : -EBADMSG;
        case _MGMT_OP_MAX:
        case _MGMT_OP_INVALID:
                break;
        }
        return -EINVAL;
}

static int error_from_pb(const Check *c, const PbError *p, MgmtError *e) {
        int x = 0, r;

        *e = (MgmtError){};
        r = get_enum(c, p->has_code, p->code, _MGMT_CODE_MAX, MGMT_INTERNAL, "code", &x);
        if (r < 0)
                return r;
        e->code = x == MGMT_OK ? MGMT_INTERNAL : x; /* an error object always means failure */
        /* long texts from a peer are cut, not refused: they are only shown to a person */
        snprintf(e->field, sizeof(e->field), "%s", strempty(p->field));
        snprintf(e->message, sizeof(e->message), "%s", strempty(p->message));
        for (size_t i = 0; i < p->n_items && i < MGMT_ITEM_ERRORS_MAX; i++) {
                const PbItemError *it = p->items[i];
                r = get_enum(c, it->has_code, it->code, _MGMT_CODE_MAX, MGMT_INVALID, "items.code", &x);
                if (r < 0)
                        return r;
                mgmt_error_add_item(e, it->index, x, it->field, it->message);
        }
        return 0;
}

int mgmt_response_decode(const void *buf, size_t len, MgmtOp op, MgmtResponse **ret) {
        static const uint8_t empty[1];
        _cleanup_(mgmt_response_freep) MgmtResponse *r = NULL;
        Check c = { .prefix = "" };
        PbResponse *p;
        Budget b;
        int q;

        assert(ret);
        if (!buf && len > 0)
                return -EINVAL;
        if (op < 0 || op >= _MGMT_OP_MAX)
                return -EINVAL;
        if (len > MGMT_RESPONSE_MAX)
                return -EMSGSIZE;
        r = new0(MgmtResponse, 1);
        if (!r)
                return -ENOMEM;
        mgmt_response_init(r, op, NULL);

        budget_init(&b);
        p = meshprov__mgmt__response__unpack(&b.allocator, len, buf ?: empty);
        if (!p)
                return budget_errno(&b);

        q = get_str(&c, p->request_id, "request_id", false, STR_PRINTABLE, r->id, sizeof(r->id));
        if (q >= 0 && p->error)
                q = error_from_pb(&c, p->error, &r->error);
        else if (q >= 0) {
                r->created = p->has_created && p->created;
                q = response_body_from_pb(&c, p, r);
        }
        meshprov__mgmt__response__free_unpacked(p, &b.allocator);
        if (q < 0)
                return q;
        *ret = TAKE_PTR(r);
        return 0;
}

/* ---------------------------------------------------------------------------------------------------------
 * Events and status */

static int pack_into(const ProtobufCMessage *m, uint8_t *buf, size_t bufsz) {
        size_t n = protobuf_c_message_get_packed_size(m);

        if (n > bufsz || n > INT32_MAX)
                return -EMSGSIZE;
        if (protobuf_c_message_pack(m, buf) != n)
                return -EIO;
        return (int)n;
}

int mgmt_event_encode(const MgmtEvent *e, uint8_t *buf, size_t bufsz) {
        Arena a = {};
        PbEvent p;
        int r;

        assert(e);
        event_to_pb(&a, e, &p);
        r = a.failed ? -EINVAL : pack_into(&p.base, buf, MIN(bufsz, (size_t)MGMT_EVENT_MAX));
        arena_done(&a);
        return r;
}

int mgmt_event_decode(const void *buf, size_t len, MgmtEvent *ret) {
        static const uint8_t empty[1];
        Check c = { .prefix = "" };
        MgmtEvent e;
        PbEvent *p;
        Budget b;
        int r;

        if (!buf && len > 0)
                return -EINVAL;
        if (len > MGMT_EVENT_MAX)
                return -EMSGSIZE;
        budget_init(&b);
        p = meshprov__mgmt__event__unpack(&b.allocator, len, buf ?: empty);
        if (!p)
                return budget_errno(&b);
        r = event_from_pb(&c, p, &e);
        meshprov__mgmt__event__free_unpacked(p, &b.allocator);
        if (r < 0)
                return r;
        *ret = e;
        return 0;
}

int mgmt_status_encode(const MgmtStatus *s, uint8_t *buf, size_t bufsz) {
        Arena a = {};
        PbStatus p;
        int r;

        assert(s);
        status_to_pb(&a, s, &p);
        r = a.failed ? -EINVAL : pack_into(&p.base, buf, MIN(bufsz, (size_t)MGMT_STATUS_MAX));
        arena_done(&a);
        return r;
}

int mgmt_status_decode(const void *buf, size_t len, MgmtStatus *ret) {
        static const uint8_t empty[1];
        _cleanup_free_ MgmtStatus *s = NULL;
        Check c = { .prefix = "" };
        PbStatus *p;
        Budget b;
        int r;

        if (!buf && len > 0)
                return -EINVAL;
        if (len > MGMT_STATUS_MAX)
                return -EMSGSIZE;
        s = new0(MgmtStatus, 1);
        if (!s)
                return -ENOMEM;
        budget_init(&b);
        p = meshprov__mgmt__status__unpack(&b.allocator, len, buf ?: empty);
        if (!p)
                return budget_errno(&b);
        r = status_from_pb(&c, p, s);
        meshprov__mgmt__status__free_unpacked(p, &b.allocator);
        if (r < 0)
                return r;
        *ret = *s;
        return 0;
}

/* ---------------------------------------------------------------------------------------------------------
 * Topics */

static int topic(const char *instance, const char *what, const char *op, char *buf, size_t bufsz) {
        int n;

        if (!mgmt_name_valid(instance))
                return -EINVAL;
        n = snprintf(buf, bufsz, MGMT_TOPIC_ROOT "%s/%s%s%s", instance, what, op ? "/" : "", strempty(op));
        if (n < 0 || (size_t)n >= bufsz)
                return -EMSGSIZE;
        return 0;
}

int mgmt_topic_request(const char *instance, MgmtOp op, char *buf, size_t bufsz) {
        const char *s = mgmt_op_to_string(op);
        return s ? topic(instance, "request", s, buf, bufsz) : -EINVAL;
}

int mgmt_topic_response(const char *instance, MgmtOp op, char *buf, size_t bufsz) {
        const char *s = mgmt_op_to_string(op);
        return s ? topic(instance, "response", s, buf, bufsz) : -EINVAL;
}

int mgmt_topic_event(const char *instance, char *buf, size_t bufsz) {
        return topic(instance, "event", "provisioning", buf, bufsz);
}

int mgmt_topic_status(const char *instance, char *buf, size_t bufsz) {
        return topic(instance, "status", NULL, buf, bufsz);
}

int mgmt_topic_request_filter(const char *instance, char *buf, size_t bufsz) {
        return topic(instance, "request", "+", buf, bufsz);
}

int mgmt_topic_parse_request(const char *t, const char *instance, MgmtOp *ret_op) {
        const char *p;
        size_t n;
        MgmtOp op;

        if (!t || !instance)
                return 0;
        p = startswith(t, MGMT_TOPIC_ROOT);
        if (!p)
                return 0;
        n = strlen(instance);
        if (strncmp(p, instance, n) != 0 || p[n] != '/')
                return 0;
        p = startswith(p + n + 1, "request/");
        if (!p)
                return 0;
        op = mgmt_op_from_string(p);
        if (op < 0)
                return -EOPNOTSUPP;
        *ret_op = op;
        return 1;
}
