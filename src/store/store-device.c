/* SPDX-License-Identifier: Apache-2.0 */
/* Devices: the whitelist rows, their rules, and the provisioning progress kept on them. */

#include <stdarg.h>
#include <stdio.h>

#include "cursor.h"
#include "hex.h"
#include "store-internal.h"
#include "store-test.h"
#include "string-util.h"

/* User items at rest (devices.user_items), format 1:
 *
 *   u8 format (1) | u8 count (1..PROV_PARAMS_USER_MAX) | count x item
 *   item:  u8 id (128..255) | u8 type (ProvUserType) | value
 *   value: INT: le64 (two's complement) | BOOL: u8 0 or 1 | BYTES, TEXT: u8 len (<= PROV_USER_STRING_MAX),
 * bytes
 *
 * Items ascending by id, no duplicates, nothing after the last one. No items: the column is NULL. */
#define USER_ITEMS_FORMAT   1u
#define USER_ITEMS_BLOB_MAX (2u + PROV_PARAMS_USER_MAX * (3u + PROV_USER_STRING_MAX))

static int user_items_encode(const ProvUserItem *items, size_t n, uint8_t *buf, size_t size,
                             size_t *ret_len) {
        Writer w = WRITER_INIT(buf, size);

        assert(n <= PROV_PARAMS_USER_MAX);
        if (n == 0) {
                *ret_len = 0;
                return 0;
        }
        (void)writer_put_u8(&w, USER_ITEMS_FORMAT);
        (void)writer_put_u8(&w, (uint8_t)n);
        for (size_t i = 0; i < n; i++) {
                const ProvUserItem *it = &items[i];

                (void)writer_put_u8(&w, it->id);
                (void)writer_put_u8(&w, (uint8_t)it->type);
                switch (it->type) {
                case PROV_USER_INT:
                        (void)writer_put_le32(&w, (uint32_t)((uint64_t)it->integer & UINT32_MAX));
                        (void)writer_put_le32(&w, (uint32_t)((uint64_t)it->integer >> 32));
                        break;
                case PROV_USER_BOOL:
                        (void)writer_put_u8(&w, it->boolean ? 1 : 0);
                        break;
                case PROV_USER_BYTES:
                case PROV_USER_TEXT:
                        (void)writer_put_u8(&w, it->len);
                        (void)writer_put_bytes(&w, it->data, it->len);
                        break;
                case _PROV_USER_TYPE_MAX:
                case _PROV_USER_TYPE_INVALID:
                        return -EINVAL;
                }
        }
        if (writer_status(&w) < 0)
                return -EMSGSIZE;
        *ret_len = w.len;
        return 0;
}

static int user_items_decode(const uint8_t *p, size_t len, ProvUserItem *items, size_t *ret_n) {
        Cursor c = CURSOR_INIT(p, len);
        uint8_t format, n;
        int r;

        if (len == 0) {
                *ret_n = 0;
                return 0;
        }
        r = cursor_get_u8(&c, &format);
        if (r < 0)
                return r;
        if (format != USER_ITEMS_FORMAT)
                return -EBADMSG;
        r = cursor_get_u8(&c, &n);
        if (r < 0)
                return r;
        if (n == 0 || n > PROV_PARAMS_USER_MAX)
                return -EBADMSG;

        for (size_t i = 0; i < n; i++) {
                ProvUserItem it = {};
                uint8_t type, b;
                uint64_t v;

                r = cursor_get_u8(&c, &it.id);
                if (r < 0)
                        return r;
                r = cursor_get_u8(&c, &type);
                if (r < 0)
                        return r;
                if (type >= _PROV_USER_TYPE_MAX)
                        return -EBADMSG;
                it.type = (ProvUserType)type;
                switch (it.type) {
                case PROV_USER_INT:
                        r = cursor_get_le64(&c, &v);
                        if (r < 0)
                                return r;
                        it.integer = (int64_t)v;
                        break;
                case PROV_USER_BOOL:
                        r = cursor_get_u8(&c, &b);
                        if (r < 0)
                                return r;
                        if (b > 1)
                                return -EBADMSG;
                        it.boolean = b;
                        break;
                case PROV_USER_BYTES:
                case PROV_USER_TEXT:
                        r = cursor_get_u8(&c, &it.len);
                        if (r < 0)
                                return r;
                        if (it.len > PROV_USER_STRING_MAX)
                                return -EBADMSG;
                        r = cursor_copy_bytes(&c, it.data, it.len);
                        if (r < 0)
                                return r;
                        break;
                case _PROV_USER_TYPE_MAX:
                case _PROV_USER_TYPE_INVALID:
                        return -EBADMSG;
                }
                if (!prov_user_item_valid(&it))
                        return -EBADMSG;
                if (i > 0 && it.id <= items[i - 1].id)
                        return -EBADMSG;
                items[i] = it;
        }
        if (cursor_left(&c) != 0)
                return -EBADMSG;
        *ret_n = n;
        return 0;
}

int column_user_items(sqlite3_stmt *st, int i, ProvUserItem *items, size_t *ret_n) {
        const uint8_t *p;
        size_t len;
        int r;

        r = column_blob(st, i, &p, &len);
        if (r < 0)
                return r;
        if (len == 0 && sqlite3_column_type(st, i) != SQLITE_NULL)
                return -EBADMSG; /* no items is NULL, never an empty blob */
        return user_items_decode(p, len, items, ret_n);
}

static int column_uid(sqlite3_stmt *st, int i, uint8_t *uid, size_t *ret_len) {
        const uint8_t *p;
        size_t len;
        int r;

        r = column_blob(st, i, &p, &len);
        if (r < 0)
                return r;
        if (!prov_uid_len_valid(len))
                return -EBADMSG;
        memcpy(uid, p, len);
        *ret_len = len;
        return 0;
}

/* ---- reading rows ---- */

#define DEVICE_SELECT                                                                              \
        "SELECT d.uid, d.label, v.name, n.name, d.method, d.factory_key, d.node_address, d.role, " \
        "d.user_items, "                                                                           \
        "d.enabled, d.state, d.created, d.updated, d.last_start, d.provisioned_at, d.n_starts, "   \
        "d.n_provisioned, a.address "                                                              \
        "FROM devices AS d "                                                                       \
        "LEFT JOIN vendors AS v ON v.id = d.vendor_id "                                            \
        "LEFT JOIN networks AS n ON n.id = d.network_id "                                          \
        "LEFT JOIN address_allocations AS a "                                                      \
        "ON a.network_id = d.eff_network_id AND a.uid = d.uid AND a.released IS NULL"

const char store_sql_device_get[] = DEVICE_SELECT " WHERE d.uid = ?1";

static int device_from_row_impl(Store *s, sqlite3_stmt *st, bool with_key, StoreDevice *d) {
        bool has_role;
        uint32_t role;
        int64_t x;
        int r;

        r = column_uid(st, 0, d->uid, &d->uid_len);
        if (r < 0)
                return r;
        r = column_string(st, 1, d->label, sizeof(d->label));
        if (r < 0)
                return r;
        r = column_string(st, 2, d->vendor, sizeof(d->vendor));
        if (r < 0)
                return r;
        r = column_string(st, 3, d->network, sizeof(d->network));
        if (r < 0)
                return r;
        r = column_int_range(st, 4, 0, 3, &x);
        if (r < 0)
                return r;
        d->method = (uint8_t)x;
        d->factory_key_update = STORE_KEY_KEEP;
        d->has_factory_key = sqlite3_column_type(st, 5) != SQLITE_NULL;
        if (with_key && d->has_factory_key) {
                char aad[STORE_AAD_MAX];

                store_aad_device(d->uid, d->uid_len, aad);
                r = store_unwrap(s, aad, st, 5, d->factory_key, sizeof(d->factory_key));
                if (r < 0)
                        return r;
        }
        r = column_opt_u32(st, 6, &d->has_node_address, &d->node_address);
        if (r < 0)
                return r;
        r = column_opt_u32(st, 7, &has_role, &role);
        if (r < 0)
                return r;
        if (role > UINT8_MAX)
                return -EBADMSG;
        d->has_role = has_role;
        d->role = (uint8_t)role;
        r = column_user_items(st, 8, d->user_items, &d->n_user_items);
        if (r < 0)
                return r;
        r = column_bool(st, 9, &d->enabled);
        if (r < 0)
                return r;
        r = column_int_range(st, 10, 0, _STORE_DEVICE_STATE_MAX - 1, &x);
        if (r < 0)
                return r;
        d->state = (StoreDeviceState)x;
        r = column_usec(st, 11, &d->created);
        if (r < 0)
                return r;
        r = column_usec(st, 12, &d->updated);
        if (r < 0)
                return r;
        r = column_usec(st, 13, &d->last_start);
        if (r < 0)
                return r;
        r = column_usec(st, 14, &d->provisioned_at);
        if (r < 0)
                return r;
        r = column_u32(st, 15, &d->n_starts);
        if (r < 0)
                return r;
        r = column_u32(st, 16, &d->n_provisioned);
        if (r < 0)
                return r;
        return column_opt_u32(st, 17, &d->has_allocated_address, &d->allocated_address);
}

static int device_from_row(Store *s, sqlite3_stmt *st, bool with_key, StoreDevice *ret) {
        int r;

        r = device_from_row_impl(s, st, with_key, ret);
        if (r < 0)
                explicit_bzero_safe(ret->factory_key, sizeof(ret->factory_key));
        return r;
}

int store_device_get(Store *s, const uint8_t *uid, size_t uid_len, StoreDevice *ret) {
        _cleanup_(stmt_resetp) sqlite3_stmt *st = NULL;
        _cleanup_free_ StoreDevice *d = NULL;
        int r;

        if (!s || !uid || !ret)
                return -EINVAL;
        if (!prov_uid_len_valid(uid_len))
                return -EINVAL;
        d = new0(StoreDevice, 1);
        if (!d)
                return -ENOMEM;

        r = store_stmt(s, STMT_DEVICE_GET, store_sql_device_get, &st);
        if (r < 0)
                return r;
        r = sqlite_errno(sqlite3_bind_blob(st, 1, uid, (int)uid_len, SQLITE_STATIC));
        if (r < 0)
                return r;
        r = store_step(s, st);
        if (r < 0)
                return r;
        if (r == 0)
                return -ENOENT;
        r = device_from_row(s, st, true, d);
        if (r >= 0)
                *ret = *d;
        explicit_bzero_safe(d->factory_key, sizeof(d->factory_key));
        return r;
}

/* ---- rules ---- */

/* What the rules look at, for a device being put or an existing one re-checked after its vendor or network
 * changed. */
typedef struct DeviceRules {
        const uint8_t *uid;
        size_t uid_len;
        uint8_t method;
        bool has_key;                  /* its own factory key */
        StoreVendorKeyKind vendor_key; /* NONE without a vendor */
        bool has_node_address;
        uint32_t node_address;
        bool has_role;
        uint8_t role;
        size_t n_user_items;
        const ProvUserItem *user_items; /* ascending ids */
} DeviceRules;

/* Errors about another device than the one being put name it: field "devices.<field>", message prefixed
 * with the device's UID. */
typedef struct RuleContext {
        const char *field_prefix;
        char who[2 * PROV_UID_MAX + 16];
        /* The network's allow_unsecured flag is the operator's switch for method 0 (the engine refuses
         * method 0 while it is off), so turning it off must not be blocked by the method-0 devices it is
         * meant to stop, nor may it block other changes to them. The rule applies to method 0 newly
         * configured on a network: a new device, a device switched to method 0, or one moving to another
         * network. */
        bool unsecured_already_there;
} RuleContext;

static void rule_context_init(RuleContext *ctx, const uint8_t *uid, size_t uid_len) {
        char hex[2 * PROV_UID_MAX + 1];

        ctx->unsecured_already_there = false;
        if (!uid) {
                ctx->field_prefix = "";
                ctx->who[0] = '\0';
                return;
        }
        ctx->field_prefix = "devices.";
        snprintf(ctx->who, sizeof(ctx->who), "Device 0x%s: ", hex_encode(uid, uid_len, hex, sizeof(hex)));
}

_printf_(5, 6) static int rule_error(StoreError *err, int r, const RuleContext *ctx, const char *field,
                                     const char *fmt, ...) {
        char field_buf[sizeof(err->field)], msg[sizeof(err->message)];
        va_list ap;

        if (!err)
                return r;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        snprintf(field_buf, sizeof(field_buf), "%s%s", ctx->field_prefix, field);
        return store_error(err, r, field_buf, "%s%s", ctx->who, msg);
}

static bool method_known(uint8_t m) {
        return m == 0 || m == 1 || m == 3;
}

static int device_check_rules(const DeviceRules *d, const NetworkInfo *n, const RuleContext *ctx,
                              StoreError *err) {
        _cleanup_free_ ProvParams *p = NULL;
        const char *field = NULL;
        int r;

        if (!method_known(d->method))
                return rule_error(err, -EINVAL, ctx, "method",
                                  "Method %u is not supported (0 unsecured, 1 secured, 3 extended UID)",
                                  d->method);
        if (d->method == 3 && !store_uid_extended(d->uid, d->uid_len))
                return rule_error(
                        err, -EINVAL, ctx, "uid",
                        "Method 3 needs the 34-byte extended UID: type 0x01, 16-byte authenticator "
                        "UID, type 0x01, 16-byte node UID");
        if (d->method == 0 && !n->net.allow_unsecured && !ctx->unsecured_already_there)
                return rule_error(err, -EINVAL, ctx, "method",
                                  "Network '%s' does not allow unsecured provisioning (method 0)",
                                  n->net.name);
        if (d->method != 0 && !d->has_key && d->vendor_key == STORE_VENDOR_KEY_NONE)
                return rule_error(err, -EINVAL, ctx, "factory_key",
                                  "Method %u needs a factory key: the device's own or its vendor's",
                                  d->method);
        if (d->has_node_address && !prov_node_address_valid(d->node_address))
                return rule_error(err, -EINVAL, ctx, "node_address",
                                  "Node address %" PRIu32 " is not a unicast address "
                                  "(1..2147483647 or 2164260864..4294967293)",
                                  d->node_address);
        if (d->has_role && !prov_role_valid(d->role))
                return rule_error(err, -EINVAL, ctx, "role",
                                  "Role 0x%02x is not valid (0x00 0x01 0x02 0x04 0x10 0x11 0x12 0x42 0x52)",
                                  d->role);
        if (d->n_user_items > PROV_PARAMS_USER_MAX)
                return rule_error(err, -EMSGSIZE, ctx, "user_items", "At most %u user items",
                                  PROV_PARAMS_USER_MAX);
        for (size_t i = 0; i < d->n_user_items; i++)
                if (!prov_user_item_valid(&d->user_items[i]))
                        return rule_error(err, -EINVAL, ctx, "user_items",
                                          "User item %u is not valid (ids 128..255; strings up to %u bytes, "
                                          "text UTF-8)",
                                          d->user_items[i].id, PROV_USER_STRING_MAX);

        /* The whole map, with a pool address if one would be added, must fit a DATA on the profile. */
        p = new0(ProvParams, 1);
        if (!p)
                return -ENOMEM;
        memset(p->enc_key, 0x5a, sizeof(p->enc_key)); /* sizes matter here, not values */
        memset(p->auth_key, 0xa5, sizeof(p->auth_key));
        p->network_address = n->net.network_address;
        p->channel = n->net.channel;
        p->has_node_address = d->has_node_address;
        p->node_address = d->node_address;
        p->has_role = d->has_role;
        p->role = d->role;
        p->n_user_items = d->n_user_items;
        if (d->n_user_items > 0)
                memcpy(p->user_items, d->user_items, d->n_user_items * sizeof(ProvUserItem));
        r = prov_params_validate(p, n->net.profile, d->method != 0, !d->has_node_address && n->net.has_pool,
                                 &field);
        if (r < 0)
                return rule_error(
                        err, r, ctx, field ?: "size",
                        "The parameters do not fit a %s DATA on network '%s' (profile %s, at most %zu "
                        "bytes of CBOR)",
                        d->method != 0 ? "secured" : "unsecured", n->net.name,
                        prov_profile_to_string(n->net.profile),
                        prov_cbor_max(n->net.profile, d->method != 0));
        return 0;
}

/* Another device of the network with this explicit address? */
static int device_check_address_free(Store *s, const NetworkInfo *n, uint32_t address, const uint8_t *uid,
                                     size_t uid_len, const RuleContext *ctx, StoreError *err) {
        _cleanup_(stmt_finalizep) sqlite3_stmt *st = NULL;
        char hex[2 * PROV_UID_MAX + 1];
        uint8_t other[PROV_UID_MAX];
        size_t other_len;
        int r;

        r = store_prepare(
                s, "SELECT uid FROM devices WHERE eff_network_id = ?1 AND node_address = ?2 AND uid != ?3",
                &st);
        if (r < 0)
                return r;
        r = sqlite_errno(sqlite3_bind_int64(st, 1, n->id) ?: sqlite3_bind_int64(st, 2, address)
                                 ?: sqlite3_bind_blob(st, 3, uid, (int)uid_len, SQLITE_STATIC));
        if (r < 0)
                return r;
        r = store_step(s, st);
        if (r <= 0)
                return r;
        r = column_uid(st, 0, other, &other_len);
        if (r < 0)
                return r;
        return rule_error(err, -EEXIST, ctx, "node_address",
                          "Node address %" PRIu32 " is already used by device 0x%s in network '%s'", address,
                          hex_encode(other, other_len, hex, sizeof(hex)), n->net.name);
}

static bool label_valid(const char *label) {
        size_t n = strnlen(label, NAME_MAX_LEN + 1);

        if (n > NAME_MAX_LEN)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)label[i] < 0x20 || label[i] == 0x7f)
                        return false;
        return true;
}

/* ---- put ---- */

typedef struct DeviceOld {
        int64_t id;
        int64_t eff_network_id;
        uint8_t method;
        bool has_node_address;
        uint32_t node_address;
        bool has_key;
} DeviceOld;

static int device_old_lookup(Store *s, const uint8_t *uid, size_t uid_len, DeviceOld *ret) {
        _cleanup_(stmt_finalizep) sqlite3_stmt *st = NULL;
        DeviceOld o = {};
        int64_t x;
        int r;

        r = store_prepare(
                s,
                "SELECT id, eff_network_id, node_address, factory_key IS NOT NULL, method FROM devices "
                "WHERE uid = ?1",
                &st);
        if (r < 0)
                return r;
        r = sqlite_errno(sqlite3_bind_blob(st, 1, uid, (int)uid_len, SQLITE_STATIC));
        if (r < 0)
                return r;
        r = store_step(s, st);
        if (r < 0)
                return r;
        if (r == 0)
                return -ENOENT;
        r = column_int_range(st, 0, 1, INT64_MAX, &o.id);
        if (r >= 0)
                r = column_int_range(st, 1, 1, INT64_MAX, &o.eff_network_id);
        if (r >= 0)
                r = column_opt_u32(st, 2, &o.has_node_address, &o.node_address);
        if (r >= 0)
                r = column_bool(st, 3, &o.has_key);
        if (r >= 0)
                r = column_int_range(st, 4, 0, 3, &x);
        if (r < 0)
                return r;
        o.method = (uint8_t)x;
        *ret = o;
        return 0;
}

/* Address bookkeeping once a device's explicit address or network changed. */
static int device_moved(Store *s, const uint8_t *uid, size_t uid_len, const DeviceOld *old,
                        int64_t new_network, bool has_node_address, uint32_t node_address, usec_t now) {
        int r;

        if (old && old->has_node_address &&
            (old->eff_network_id != new_network || !has_node_address || old->node_address != node_address)) {
                r = address_unclaim_explicit(s, old->eff_network_id, old->node_address);
                if (r < 0)
                        return r;
        }
        if (old && old->eff_network_id != new_network) {
                r = address_release_internal(s, old->eff_network_id, uid, uid_len, now);
                if (r < 0)
                        return r;
        }
        if (has_node_address) {
                /* A pool address it held is no longer its address. */
                r = address_release_other(s, new_network, uid, uid_len, node_address, now);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void sort_user_items(ProvUserItem *items, size_t n) {
        for (size_t i = 1; i < n; i++)
                for (size_t j = i; j > 0 && items[j - 1].id > items[j].id; j--) {
                        ProvUserItem t = items[j];
                        items[j] = items[j - 1];
                        items[j - 1] = t;
                }
}

static int device_write(Store *s, const StoreDevice *d, const ProvUserItem *items, const DeviceOld *old,
                        const VendorInfo *v, const NetworkInfo *n, bool explicit_network, usec_t now) {
        _cleanup_(stmt_finalizep) sqlite3_stmt *st = NULL;
        uint8_t key_blob[STORE_WRAPPED_MAX], items_blob[USER_ITEMS_BLOB_MAX];
        size_t key_len = 0, items_len = 0;
        int rc, r;

        if (d->factory_key_update == STORE_KEY_SET) {
                char aad[STORE_AAD_MAX];

                store_aad_device(d->uid, d->uid_len, aad);
                r = store_wrap(s, aad, d->factory_key, sizeof(d->factory_key), key_blob);
                if (r < 0)
                        return r;
                key_len = (size_t)r;
        }
        r = user_items_encode(items, d->n_user_items, items_blob, sizeof(items_blob), &items_len);
        if (r < 0)
                return r;

        if (!old)
                r = store_prepare(
                        s,
                        "INSERT INTO devices (uid, label, vendor_id, network_id, eff_network_id, method, "
                        "factory_key, node_address, role, user_items, enabled, updated, created) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)",
                        &st);
        else
                /* ?13: 1 = keep the stored key */
                r = store_prepare(
                        s,
                        "UPDATE devices SET label = ?2, vendor_id = ?3, network_id = ?4, "
                        "eff_network_id = ?5, method = ?6, "
                        "factory_key = CASE ?13 WHEN 1 THEN factory_key ELSE ?7 END, "
                        "node_address = ?8, role = ?9, user_items = ?10, enabled = ?11, updated = ?12 "
                        "WHERE uid = ?1",
                        &st);
        if (r < 0)
                return r;

        rc = sqlite3_bind_blob(st, 1, d->uid, (int)d->uid_len, SQLITE_STATIC) ?: bind_text(st, 2, d->label)
                ?: sqlite3_bind_int64(st, 5, n->id) ?: sqlite3_bind_int(st, 6, d->method)
                ?: bind_blob_or_null(st, 7, key_blob, key_len) ?: bind_blob_or_null(st, 10, items_blob, items_len)
                ?: sqlite3_bind_int(st, 11, d->enabled) ?: bind_usec(st, 12, now);
        if (rc == SQLITE_OK && v)
                rc = sqlite3_bind_int64(st, 3, v->id);
        if (rc == SQLITE_OK && explicit_network)
                rc = sqlite3_bind_int64(st, 4, n->id);
        if (rc == SQLITE_OK && d->has_node_address)
                rc = sqlite3_bind_int64(st, 8, d->node_address);
        if (rc == SQLITE_OK && d->has_role)
                rc = sqlite3_bind_int(st, 9, d->role);
        if (rc == SQLITE_OK && old)
                rc = sqlite3_bind_int(st, 13, d->factory_key_update == STORE_KEY_KEEP);
        explicit_bzero_safe(key_blob, sizeof(key_blob));
        r = sqlite_errno(rc);
        if (r < 0)
                return r;
        return store_step(s, st);
}

static int device_put(Store *s, const StoreDevice *d, StorePutMode mode, usec_t now, StoreError *err) {
        _cleanup_free_ ProvUserItem *items = NULL;
        RuleContext self = {};
        VendorInfo vendor = {};
        NetworkInfo net = {};
        DeviceOld old = {};
        DeviceRules rules;
        bool exists, has_key = false;
        int r;

        rule_context_init(&self, NULL, 0);
        if ((unsigned)mode > STORE_PUT_UPSERT || (unsigned)d->factory_key_update > STORE_KEY_CLEAR)
                return store_error(err, -EINVAL, NULL, "Invalid put mode or key update");
        if (!prov_uid_len_valid(d->uid_len))
                return store_error(err, -EINVAL, "uid", "A UID is 1..%u bytes", PROV_UID_MAX);
        if (!label_valid(d->label))
                return store_error(err, -EINVAL, "label", "A label is up to %u printable characters",
                                   NAME_MAX_LEN);
        if (strnlen(d->vendor, sizeof(d->vendor)) >= sizeof(d->vendor) ||
            (d->vendor[0] && !store_name_valid(d->vendor)))
                return store_error(err, -EINVAL, "vendor", "Invalid vendor name");
        if (strnlen(d->network, sizeof(d->network)) >= sizeof(d->network) ||
            (d->network[0] && !store_name_valid(d->network)))
                return store_error(err, -EINVAL, "network", "Invalid network name");
        if (d->n_user_items > PROV_PARAMS_USER_MAX)
                return store_error(err, -EMSGSIZE, "user_items", "At most %u user items",
                                   PROV_PARAMS_USER_MAX);
        if (d->factory_key_update == STORE_KEY_SET && !store_key_pair_valid(d->factory_key))
                return store_error(
                        err, -EINVAL, "factory_key",
                        "Neither half of the 32-byte factory key ([auth 16][enc 16]) may be all 0x00 "
                        "or all 0xFF");

        items = new (ProvUserItem, PROV_PARAMS_USER_MAX);
        if (!items)
                return -ENOMEM;
        if (d->n_user_items > 0)
                memcpy(items, d->user_items, d->n_user_items * sizeof(ProvUserItem));
        sort_user_items(items, d->n_user_items);
        for (size_t i = 1; i < d->n_user_items; i++)
                if (items[i].id == items[i - 1].id)
                        return store_error(err, -EINVAL, "user_items", "User item %u is given twice",
                                           items[i].id);

        r = device_old_lookup(s, d->uid, d->uid_len, &old);
        if (r < 0 && r != -ENOENT)
                return r;
        exists = r >= 0;
        if (exists && mode == STORE_PUT_CREATE)
                return store_error(err, -EEXIST, "uid", "The device already exists");
        if (!exists && mode == STORE_PUT_UPDATE)
                return store_error(err, -ENOENT, "uid", "There is no such device");

        if (d->vendor[0]) {
                r = vendor_lookup(s, d->vendor, false, &vendor);
                if (r == -ENOENT)
                        return store_error_missing(err, "vendor", "vendor", d->vendor);
                if (r < 0)
                        return r;
        }
        if (d->network[0]) {
                r = network_lookup(s, d->network, false, &net);
                if (r == -ENOENT)
                        return store_error_missing(err, "network", "network", d->network);
        } else if (vendor.default_network_id > 0)
                r = network_lookup_id(s, vendor.default_network_id, &net);
        else if (d->vendor[0])
                return store_error(err, -EINVAL, "network",
                                   "Vendor '%s' has no default network: name a network", d->vendor);
        else
                return store_error(err, -EINVAL, "network", "A device without a vendor needs a network");
        if (r < 0)
                return r;

        switch (d->factory_key_update) {
        case STORE_KEY_SET:
                has_key = true;
                break;
        case STORE_KEY_CLEAR:
                has_key = false;
                break;
        case STORE_KEY_KEEP:
                if (!exists && d->has_factory_key)
                        return store_error(
                                err, -EINVAL, "factory_key",
                                "A new device's factory key is given with factory_key_update SET");
                has_key = exists && old.has_key;
                break;
        }

        rules = (DeviceRules){
                .uid = d->uid,
                .uid_len = d->uid_len,
                .method = d->method,
                .has_key = has_key,
                .vendor_key = d->vendor[0] ? vendor.vendor.key_kind : STORE_VENDOR_KEY_NONE,
                .has_node_address = d->has_node_address,
                .node_address = d->node_address,
                .has_role = d->has_role,
                .role = d->role,
                .n_user_items = d->n_user_items,
                .user_items = items,
        };
        self.unsecured_already_there = exists && old.method == 0 && old.eff_network_id == net.id;
        r = device_check_rules(&rules, &net, &self, err);
        if (r < 0)
                return r;

        if (d->has_node_address) {
                r = device_check_address_free(s, &net, d->node_address, d->uid, d->uid_len, &self, err);
                if (r < 0)
                        return r;
                r = address_claim_explicit(s, &net, d->node_address, d->uid, d->uid_len, now, false, err);
                if (r < 0)
                        return r;
        }

        r = device_write(s, d, items, exists ? &old : NULL, d->vendor[0] ? &vendor : NULL, &net,
                         d->network[0] != '\0', now);
        if (r < 0)
                return r;
        r = device_moved(s, d->uid, d->uid_len, exists ? &old : NULL, net.id, d->has_node_address,
                         d->node_address, now);
        if (r < 0)
                return r;
        return !exists;
}

int store_device_put(Store *s, const StoreDevice *d, StorePutMode mode, usec_t now, StoreError *err) {
        StoreError e = {};
        int r;

        if (!s || !d)
                return -EINVAL;
        r = store_tx_start(s);
        if (r >= 0)
                r = store_tx_end(s, device_put(s, d, mode, now, &e));
        return store_fail(err, &e, r);
}

static int device_delete(Store *s, const uint8_t *uid, size_t uid_len, usec_t now, StoreError *err) {
        _cleanup_(stmt_finalizep) sqlite3_stmt *st = NULL;
        DeviceOld old;
        int r;

        r = device_old_lookup(s, uid, uid_len, &old);
        if (r == -ENOENT)
                return store_error(err, r, "uid", "There is no such device");
        if (r < 0)
                return r;
        r = store_prepare(s, "DELETE FROM devices WHERE id = ?1", &st);
        if (r < 0)
                return r;
        r = sqlite_errno(sqlite3_bind_int64(st, 1, old.id));
        if (r < 0)
                return r;
        r = store_step(s, st);
        if (r < 0)
                return r;
        if (old.has_node_address) {
                r = address_unclaim_explicit(s, old.eff_network_id, old.node_address);
                if (r < 0)
                        return r;
        }
        /* Its pool address is held back, then reused. */
        r = address_release_internal(s, old.eff_network_id, uid, uid_len, now);
        return r < 0 ? r : 0;
}

int store_device_delete(Store *s, const uint8_t *uid, size_t uid_len, StoreError *err) {
        StoreError e = {};
        usec_t t;
        int r;

        if (!s || !uid || !prov_uid_len_valid(uid_len))
                return -EINVAL;
        /* The interface passes no time: the hold of a released pool address starts now. */
        t = now(CLOCK_REALTIME);
        r = store_tx_start(s);
        if (r >= 0)
                r = store_tx_end(s, device_delete(s, uid, uid_len, t, &e));
        return store_fail(err, &e, r);
}

/* ---- single-statement updates: enable flag, provisioning progress ---- */

static int device_update_one(Store *s, StoreStmtId id, const char *sql, const uint8_t *uid, size_t uid_len,
                             bool has_value, int64_t value, usec_t now) {
        _cleanup_(stmt_resetp) sqlite3_stmt *st = NULL;
        int r;

        if (!s || !uid)
                return -EINVAL;
        if (!prov_uid_len_valid(uid_len))
                return -EINVAL;
        if (s->read_only)
                return -EROFS;
        if (s->in_tx && (s->tx_aborted || sqlite3_get_autocommit(s->db)))
                return -ECANCELED;

        r = store_stmt(s, id, sql, &st);
        if (r < 0)
                return r;
        r = sqlite_errno(sqlite3_bind_blob(st, 1, uid, (int)uid_len, SQLITE_STATIC));
        if (r < 0)
                return r;
        if (sqlite3_bind_parameter_count(st) >= 2) {
                r = sqlite_errno(bind_usec(st, 2, now));
                if (r < 0)
                        return r;
        }
        if (has_value) {
                r = sqlite_errno(sqlite3_bind_int64(st, 3, value));
                if (r < 0)
                        return r;
        }
        r = store_step(s, st);
        if (r < 0)
                return r;
        return sqlite3_changes(s->db) > 0;
}

int store_device_set_enabled(Store *s, const uint8_t *uid, size_t uid_len, bool enabled, usec_t now) {
        int r;

        r = device_update_one(s, STMT_DEVICE_SET_ENABLED,
                              "UPDATE devices SET updated = ?2, enabled = ?3 WHERE uid = ?1", uid, uid_len,
                              true, enabled, now);
        if (r == 0)
                return -ENOENT;
        return r < 0 ? r : 0;
}

int store_device_note_start(Store *s, const uint8_t *uid, size_t uid_len, usec_t now) {
        return device_update_one(
                s, STMT_NOTE_START,
                "UPDATE devices SET last_start = ?2, n_starts = n_starts + 1 WHERE uid = ?1", uid, uid_len,
                false, 0, now);
}

int store_device_note_sent(Store *s, const uint8_t *uid, size_t uid_len, usec_t now) {
        /* (the row keeps no "sent at" time) */
        return device_update_one(s, STMT_NOTE_SENT, "UPDATE devices SET state = 1 WHERE uid = ?1", uid,
                                 uid_len, false, 0, now);
}

int store_device_note_provisioned(Store *s, const uint8_t *uid, size_t uid_len, usec_t now) {
        return device_update_one(s, STMT_NOTE_PROVISIONED,
                                 "UPDATE devices SET state = 2, provisioned_at = ?2, "
                                 "n_provisioned = n_provisioned + 1 WHERE uid = ?1",
                                 uid, uid_len, false, 0, now);
}

/* ---- list, count ---- */

int store_device_list_sql(const StoreDeviceFilter *f, bool count, char **ret) {
        _cleanup_free_ char *sql = NULL;
        size_t len = 0;
        int r;

        r = strappendf(&sql, &len, "%s WHERE 1",
                       count ? "SELECT count(*) FROM devices AS d" : DEVICE_SELECT);
        if (r >= 0 && f && f->vendor)
                r = strappendf(&sql, &len, " AND d.vendor_id = :vendor");
        if (r >= 0 && f && f->network)
                r = strappendf(&sql, &len, " AND d.eff_network_id = :network");
        if (r >= 0 && f && f->state >= 0)
                r = strappendf(&sql, &len, " AND d.state = :state");
        if (r >= 0 && f && f->after_uid)
                r = strappendf(&sql, &len, " AND d.uid > :after");
        if (r >= 0 && !count)
                r = strappendf(&sql, &len, " ORDER BY d.uid");
        if (r >= 0 && !count && f && f->limit > 0)
                r = strappendf(&sql, &len, " LIMIT :limit");
        if (r < 0)
                return r;
        *ret = TAKE_PTR(sql);
        return 0;
}

static int bind_named_int64(sqlite3_stmt *st, const char *name, int64_t v) {
        int i = sqlite3_bind_parameter_index(st, name);
        return i > 0 ? sqlite3_bind_int64(st, i, v) : SQLITE_OK;
}

static int device_filter_prepare(Store *s, const StoreDeviceFilter *f, bool count, sqlite3_stmt **ret) {
        _cleanup_(stmt_finalizep) sqlite3_stmt *st = NULL;
        _cleanup_free_ char *sql = NULL;
        int64_t vendor_id = 0, network_id = 0;
        int rc, r;

        if (f && (f->state < -1 || f->state >= _STORE_DEVICE_STATE_MAX))
                return -EINVAL;
        if (f && f->after_uid && !prov_uid_len_valid(f->after_uid_len))
                return -EINVAL;
        if (f && f->vendor) {
                VendorInfo v;
                r = vendor_lookup(s, f->vendor, false, &v);
                if (r < 0)
                        return r;
                vendor_id = v.id;
        }
        if (f && f->network) {
                NetworkInfo n;
                r = network_lookup(s, f->network, false, &n);
                if (r < 0)
                        return r;
                network_id = n.id;
        }

        r = store_device_list_sql(f, count, &sql);
        if (r < 0)
                return r;
        r = store_prepare(s, sql, &st);
        if (r < 0)
                return r;
        rc = bind_named_int64(st, ":vendor", vendor_id) ?: bind_named_int64(st, ":network", network_id)
                ?: bind_named_int64(st, ":state", f ? f->state : -1)
                ?: bind_named_int64(st, ":limit", f ? f->limit : 0);
        if (rc == SQLITE_OK && f && f->after_uid)
                rc = sqlite3_bind_blob(st, sqlite3_bind_parameter_index(st, ":after"), f->after_uid,
                                       (int)f->after_uid_len, SQLITE_TRANSIENT);
        r = sqlite_errno(rc);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(st);
        return 0;
}

int store_device_list(Store *s, const StoreDeviceFilter *f, StoreDeviceCb cb, void *userdata) {
        _cleanup_(stmt_finalizep) sqlite3_stmt *st = NULL;
        _cleanup_free_ StoreDevice *d = NULL;
        int r;

        if (!s || !cb)
                return -EINVAL;
        r = device_filter_prepare(s, f, false, &st);
        if (r < 0)
                return r;
        d = new (StoreDevice, 1);
        if (!d)
                return -ENOMEM;
        while ((r = store_step(s, st)) > 0) {
                *d = (StoreDevice){};
                r = device_from_row(s, st, true, d);
                if (r >= 0)
                        r = cb(d, userdata);
                explicit_bzero_safe(d->factory_key, sizeof(d->factory_key));
                if (r < 0)
                        return r;
        }
        return r;
}

int store_device_count(Store *s, const StoreDeviceFilter *f, uint64_t *ret) {
        _cleanup_(stmt_finalizep) sqlite3_stmt *st = NULL;
        int64_t n;
        int r;

        if (!s || !ret)
                return -EINVAL;
        r = device_filter_prepare(s, f, true, &st);
        if (r < 0)
                return r;
        r = store_step(s, st);
        if (r < 0)
                return r;
        if (r == 0)
                return -EIO;
        r = column_int_range(st, 0, 0, INT64_MAX, &n);
        if (r < 0)
                return r;
        *ret = (uint64_t)n;
        return 0;
}

/* ---- re-checks when a network or vendor changes ---- */

/* Columns: uid, method, own key?, node_address, role, user_items (then per query) */
static int rules_from_row(sqlite3_stmt *st, uint8_t *uid, ProvUserItem *items, DeviceRules *ret) {
        DeviceRules d = { .uid = uid, .user_items = items };
        uint32_t role;
        int64_t x;
        int r;

        r = column_uid(st, 0, uid, &d.uid_len);
        if (r < 0)
                return r;
        r = column_int_range(st, 1, 0, 3, &x);
        if (r < 0)
                return r;
        d.method = (uint8_t)x;
        r = column_bool(st, 2, &d.has_key);
        if (r < 0)
                return r;
        r = column_opt_u32(st, 3, &d.has_node_address, &d.node_address);
        if (r < 0)
                return r;
        r = column_opt_u32(st, 4, &d.has_role, &role);
        if (r < 0)
                return r;
        if (role > UINT8_MAX)
                return -EBADMSG;
        d.role = (uint8_t)role;
        r = column_user_items(st, 5, items, &d.n_user_items);
        if (r < 0)
                return r;
        *ret = d;
        return 0;
}

int device_recheck_for_network(Store *s, const NetworkInfo *n, StoreError *err) {
        _cleanup_(stmt_finalizep) sqlite3_stmt *st = NULL;
        _cleanup_free_ ProvUserItem *items = NULL;
        uint8_t uid[PROV_UID_MAX];
        int r;

        items = new (ProvUserItem, PROV_PARAMS_USER_MAX);
        if (!items)
                return -ENOMEM;
        r = store_prepare(
                s,
                "SELECT d.uid, d.method, d.factory_key IS NOT NULL, d.node_address, d.role, "
                "d.user_items, v.key_kind FROM devices AS d LEFT JOIN vendors AS v ON v.id = d.vendor_id "
                "WHERE d.eff_network_id = ?1",
                &st);
        if (r < 0)
                return r;
        r = sqlite_errno(sqlite3_bind_int64(st, 1, n->id));
        if (r < 0)
                return r;
        while ((r = store_step(s, st)) > 0) {
                DeviceRules d;
                RuleContext ctx;
                int64_t kind = STORE_VENDOR_KEY_NONE;

                r = rules_from_row(st, uid, items, &d);
                if (r < 0)
                        return r;
                if (sqlite3_column_type(st, 6) != SQLITE_NULL) {
                        r = column_int_range(st, 6, STORE_VENDOR_KEY_NONE, STORE_VENDOR_KEY_MASTER, &kind);
                        if (r < 0)
                                return r;
                }
                d.vendor_key = (StoreVendorKeyKind)kind;
                rule_context_init(&ctx, d.uid, d.uid_len);
                ctx.unsecured_already_there = true;
                r = device_check_rules(&d, n, &ctx, err);
                if (r < 0)
                        return r;
        }
        return r;
}

typedef struct DeviceMove {
        int64_t id;
        uint8_t uid[PROV_UID_MAX];
        size_t uid_len;
        DeviceOld old;
} DeviceMove;

static int device_move(Store *s, const DeviceMove *m, const NetworkInfo *to, usec_t now, StoreError *err) {
        _cleanup_(stmt_finalizep) sqlite3_stmt *st = NULL;
        RuleContext ctx;
        int r;

        rule_context_init(&ctx, m->uid, m->uid_len);
        if (m->old.has_node_address) {
                r = device_check_address_free(s, to, m->old.node_address, m->uid, m->uid_len, &ctx, err);
                if (r < 0)
                        return r;
                r = address_claim_explicit(s, to, m->old.node_address, m->uid, m->uid_len, now, false, err);
                if (r < 0)
                        return r;
        }
        r = store_prepare(s, "UPDATE devices SET eff_network_id = ?2 WHERE id = ?1", &st);
        if (r < 0)
                return r;
        r = sqlite_errno(sqlite3_bind_int64(st, 1, m->id) ?: sqlite3_bind_int64(st, 2, to->id));
        if (r < 0)
                return r;
        r = store_step(s, st);
        if (r < 0)
                return r;
        return device_moved(s, m->uid, m->uid_len, &m->old, to->id, m->old.has_node_address,
                            m->old.node_address, now);
}

int device_recheck_for_vendor(Store *s, const VendorInfo *v, StoreVendorKeyKind key_kind, usec_t now,
                              StoreError *err) {
        _cleanup_(stmt_finalizep) sqlite3_stmt *st = NULL;
        _cleanup_free_ ProvUserItem *items = NULL;
        _cleanup_free_ DeviceMove *moves = NULL;
        size_t n_moves = 0, n_alloc = 0;
        NetworkInfo net = {}, to = {};
        uint8_t uid[PROV_UID_MAX];
        int r;

        items = new (ProvUserItem, PROV_PARAMS_USER_MAX);
        if (!items)
                return -ENOMEM;
        if (v->default_network_id > 0) {
                r = network_lookup_id(s, v->default_network_id, &to);
                if (r < 0)
                        return r;
        }

        r = store_prepare(s,
                          "SELECT uid, method, factory_key IS NOT NULL, node_address, role, user_items, "
                          "network_id, eff_network_id, id FROM devices WHERE vendor_id = ?1",
                          &st);
        if (r < 0)
                return r;
        r = sqlite_errno(sqlite3_bind_int64(st, 1, v->id));
        if (r < 0)
                return r;
        while ((r = store_step(s, st)) > 0) {
                int64_t eff, id;
                bool follows_vendor;
                DeviceRules d;
                RuleContext ctx;

                r = rules_from_row(st, uid, items, &d);
                if (r < 0)
                        return r;
                d.vendor_key = key_kind;
                follows_vendor = sqlite3_column_type(st, 6) == SQLITE_NULL;
                r = column_int_range(st, 7, 1, INT64_MAX, &eff);
                if (r >= 0)
                        r = column_int_range(st, 8, 1, INT64_MAX, &id);
                if (r < 0)
                        return r;
                rule_context_init(&ctx, d.uid, d.uid_len);

                if (!follows_vendor || eff == to.id) {
                        if (net.id != eff) {
                                r = network_lookup_id(s, eff, &net);
                                if (r < 0)
                                        return r;
                        }
                        ctx.unsecured_already_there = true; /* it stays where it is */
                        r = device_check_rules(&d, &net, &ctx, err);
                        if (r < 0)
                                return r;
                        continue;
                }

                /* It joins the vendor's default network, which changes. */
                if (to.id == 0)
                        return rule_error(err, -EINVAL, &ctx, "network",
                                          "Joins the vendor's default network, which would be removed");
                r = device_check_rules(&d, &to, &ctx, err);
                if (r < 0)
                        return r;
                if (n_moves == n_alloc) {
                        size_t k = n_alloc ? n_alloc * 2 : 16;
                        DeviceMove *t = reallocarray(moves, k, sizeof(DeviceMove));
                        if (!t)
                                return -ENOMEM;
                        moves = t;
                        n_alloc = k;
                }
                moves[n_moves++] = (DeviceMove){
                        .id = id,
                        .uid_len = d.uid_len,
                        .old = {
                                .id = id,
                                .eff_network_id = eff,
                                .has_node_address = d.has_node_address,
                                .node_address = d.node_address,
                                .has_key = d.has_key,
                        },
                };
                memcpy(moves[n_moves - 1].uid, d.uid, d.uid_len);
        }
        if (r < 0)
                return r;

        /* Writes only after the scan over the vendor's devices is done. */
        for (size_t i = 0; i < n_moves; i++) {
                r = device_move(s, &moves[i], &to, now, err);
                if (r < 0)
                        return r;
        }
        return 0;
}
