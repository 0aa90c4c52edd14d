/* SPDX-License-Identifier: Apache-2.0 */
/* What the daemon needs for one START: one indexed query for the device row (with its vendor and network),
 * else one for the vendor enrollment rule with the longest matching prefix. No table is scanned. */

#include "store-internal.h"

_Static_assert(STORE_ENROLL_UID_PREFIX == 1 && STORE_ENROLL_AUTHENTICATOR == 2,
               "enroll kinds are in the SQL");

const char store_sql_resolve_device[] =
        "SELECT d.method, d.enabled, d.label, d.factory_key, d.node_address, d.role, d.user_items, "
        "v.name, v.enabled, v.key_kind, v.key, " NETWORK_COLUMNS(
                "n") " "
                     "FROM devices AS d "
                     "JOIN networks AS n ON n.id = d.eff_network_id "
                     "LEFT JOIN vendors AS v ON v.id = d.vendor_id "
                     "WHERE d.uid = ?1";

/* ?1 uid, ?2 its length, ?3 16 if it has the extended (method 3) layout, else 0.
 * Candidate prefix lengths come from two small recursive CTEs; each is one probe of vendors_enroll
 * (enroll_kind, enroll_prefix). An authenticator rule (kind 2, matched against bytes 1..16) is more
 * specific than any UID prefix rule for an extended UID, so it ranks first; then the longest prefix. */
const char store_sql_resolve_vendor[] =
        "WITH RECURSIVE "
        "uid_len(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM uid_len WHERE n < ?2), "
        "auth_len(n) AS (SELECT 1 WHERE ?3 > 0 UNION ALL SELECT n + 1 FROM auth_len WHERE n < ?3), "
        "matches(rank, len, vendor_id) AS ("
        "SELECT 2, a.n, e.id FROM auth_len AS a CROSS JOIN vendors AS e "
        "WHERE e.enroll_kind = 2 AND e.enroll_prefix = substr(?1, 2, a.n) "
        "UNION ALL "
        "SELECT 1, u.n, e.id FROM uid_len AS u CROSS JOIN vendors AS e "
        "WHERE e.enroll_kind = 1 AND e.enroll_prefix = substr(?1, 1, u.n)) "
        "SELECT v.name, v.enabled, v.key_kind, v.key, v.enroll_method, " NETWORK_COLUMNS(
                "n") " "
                     "FROM matches AS m "
                     "CROSS JOIN vendors AS v ON v.id = m.vendor_id "
                     "CROSS JOIN networks AS n ON n.id = v.default_network_id "
                     "ORDER BY m.rank DESC, m.len DESC LIMIT 1";

/* The vendor's key columns (name at c, key_kind at c + 2, key at c + 3) -> the factory key for uid. */
static int vendor_factory_key(Store *s, sqlite3_stmt *st, int c, const uint8_t *uid, size_t uid_len,
                              StoreIdentity *id) {
        uint8_t key[32];
        char aad[STORE_AAD_MAX];
        int64_t kind;
        int r;

        r = column_int_range(st, c + 2, STORE_VENDOR_KEY_NONE, STORE_VENDOR_KEY_MASTER, &kind);
        if (r < 0)
                return r;
        if (kind == STORE_VENDOR_KEY_NONE)
                return 0;

        store_aad_vendor(id->vendor, aad);
        r = store_unwrap(s, aad, st, c + 3, key, sizeof(key));
        if (r < 0)
                return r;
        if (kind == STORE_VENDOR_KEY_FACTORY)
                memcpy(id->factory_key, key, sizeof(key));
        else
                r = prov_derive_factory_key(key, uid, uid_len, id->factory_key);
        explicit_bzero_safe(key, sizeof(key));
        if (r < 0)
                return r;
        id->has_factory_key = true;
        return 0;
}

/* Row columns from `c` on: method/enroll_method handled by the caller. */
static int resolve_network(Store *s, sqlite3_stmt *st, int c, StoreIdentity *id) {
        NetworkInfo n;
        int r;

        r = network_from_row(s, st, c, true, &n);
        if (r < 0)
                return r;
        id->network = n.net;
        explicit_bzero_safe(&n, sizeof(n));
        return 0;
}

/* 1: found (id filled), 0: no device row. */
static int resolve_device(Store *s, const uint8_t *uid, size_t uid_len, StoreIdentity *id) {
        _cleanup_(stmt_resetp) sqlite3_stmt *st = NULL;
        bool has_role, has_vendor;
        uint32_t role;
        int64_t x;
        int r;

        r = store_stmt(s, STMT_RESOLVE_DEVICE, store_sql_resolve_device, &st);
        if (r < 0)
                return r;
        r = sqlite_errno(sqlite3_bind_blob(st, 1, uid, (int)uid_len, SQLITE_STATIC));
        if (r < 0)
                return r;
        r = store_step(s, st);
        if (r <= 0)
                return r;

        id->from_device = true;
        r = column_int_range(st, 0, 0, 3, &x);
        if (r < 0)
                return r;
        id->method = (uint8_t)x;
        r = column_bool(st, 1, &id->device_enabled);
        if (r < 0)
                return r;
        r = column_string(st, 2, id->label, sizeof(id->label));
        if (r < 0)
                return r;
        r = column_opt_u32(st, 4, &id->has_node_address, &id->node_address);
        if (r < 0)
                return r;
        r = column_opt_u32(st, 5, &has_role, &role);
        if (r < 0)
                return r;
        if (role > UINT8_MAX)
                return -EBADMSG;
        id->has_role = has_role;
        id->role = (uint8_t)role;
        r = column_user_items(st, 6, id->user_items, &id->n_user_items);
        if (r < 0)
                return r;

        has_vendor = sqlite3_column_type(st, 7) != SQLITE_NULL;
        id->vendor_enabled = true;
        if (has_vendor) {
                r = column_string(st, 7, id->vendor, sizeof(id->vendor));
                if (r < 0)
                        return r;
                r = column_bool(st, 8, &id->vendor_enabled);
                if (r < 0)
                        return r;
        }

        if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
                char aad[STORE_AAD_MAX];

                store_aad_device(uid, uid_len, aad);
                r = store_unwrap(s, aad, st, 3, id->factory_key, sizeof(id->factory_key));
                if (r < 0)
                        return r;
                id->has_factory_key = true;
        } else if (has_vendor) {
                r = vendor_factory_key(s, st, 7, uid, uid_len, id);
                if (r < 0)
                        return r;
        }

        r = resolve_network(s, st, 11, id);
        if (r < 0)
                return r;
        return 1;
}

/* 1: an enrollment rule matched (id filled), 0: none did. */
static int resolve_vendor(Store *s, const uint8_t *uid, size_t uid_len, StoreIdentity *id) {
        _cleanup_(stmt_resetp) sqlite3_stmt *st = NULL;
        int64_t x;
        int r;

        r = store_stmt(s, STMT_RESOLVE_VENDOR, store_sql_resolve_vendor, &st);
        if (r < 0)
                return r;
        r = sqlite_errno(sqlite3_bind_blob(st, 1, uid, (int)uid_len, SQLITE_STATIC)
                                 ?: sqlite3_bind_int(st, 2, (int)uid_len)
                                 ?: sqlite3_bind_int(st, 3, store_uid_extended(uid, uid_len) ? 16 : 0));
        if (r < 0)
                return r;
        r = store_step(s, st);
        if (r <= 0)
                return r;

        id->from_device = false;
        id->device_enabled = false;
        r = column_string(st, 0, id->vendor, sizeof(id->vendor));
        if (r < 0)
                return r;
        r = column_bool(st, 1, &id->vendor_enabled);
        if (r < 0)
                return r;
        r = column_int_range(st, 4, 0, 3, &x);
        if (r < 0)
                return r;
        id->method = (uint8_t)x;
        r = vendor_factory_key(s, st, 0, uid, uid_len, id);
        if (r < 0)
                return r;
        r = resolve_network(s, st, 5, id);
        if (r < 0)
                return r;
        return 1;
}

int store_resolve(Store *s, const uint8_t *uid, size_t uid_len, StoreIdentity *ret) {
        _cleanup_free_ StoreIdentity *id = NULL;
        int r;

        if (!s || !uid || !ret || !prov_uid_len_valid(uid_len))
                return -EINVAL;
        id = new0(StoreIdentity, 1);
        if (!id)
                return -ENOMEM;

        r = resolve_device(s, uid, uid_len, id);
        if (r == 0) {
                *id = (StoreIdentity){};
                r = resolve_vendor(s, uid, uid_len, id);
        }
        if (r > 0)
                *ret = *id;
        explicit_bzero_safe(id, sizeof(*id));
        if (r < 0)
                return r;
        return r > 0 ? 0 : -ENOENT;
}
