/* SPDX-License-Identifier: Apache-2.0 */
/* Vendors: a factory key shared by their devices or a master key to derive per-device keys from, and an
 * enrollment rule that admits devices without a device row. */

#include "store-internal.h"

#define VENDOR_SELECT                                                                               \
        "SELECT v.id, v.name, v.key_kind, v.key, v.enroll_kind, v.enroll_prefix, v.enroll_method, " \
        "v.default_network_id, dn.name, v.enabled, v.created, v.updated "                           \
        "FROM vendors AS v LEFT JOIN networks AS dn ON dn.id = v.default_network_id"

static int vendor_from_row_impl(Store *s, sqlite3_stmt *st, bool with_key, VendorInfo *v) {
        const uint8_t *prefix;
        size_t prefix_len;
        int64_t x;
        int r;

        r = column_int_range(st, 0, 1, INT64_MAX, &v->id);
        if (r < 0)
                return r;
        r = column_string(st, 1, v->vendor.name, sizeof(v->vendor.name));
        if (r < 0)
                return r;
        if (!store_name_valid(v->vendor.name))
                return -EBADMSG;
        r = column_int_range(st, 2, STORE_VENDOR_KEY_NONE, STORE_VENDOR_KEY_MASTER, &x);
        if (r < 0)
                return r;
        v->vendor.key_kind = (StoreVendorKeyKind)x;
        if (with_key && v->vendor.key_kind != STORE_VENDOR_KEY_NONE) {
                char aad[STORE_AAD_MAX];

                store_aad_vendor(v->vendor.name, aad);
                r = store_unwrap(s, aad, st, 3, v->vendor.key, sizeof(v->vendor.key));
                if (r < 0)
                        return r;
        }
        r = column_int_range(st, 4, STORE_ENROLL_NONE, STORE_ENROLL_AUTHENTICATOR, &x);
        if (r < 0)
                return r;
        v->vendor.enroll_kind = (StoreEnrollKind)x;
        r = column_blob(st, 5, &prefix, &prefix_len);
        if (r < 0)
                return r;
        if (prefix_len > sizeof(v->vendor.enroll_prefix))
                return -EBADMSG;
        if (prefix_len > 0)
                memcpy(v->vendor.enroll_prefix, prefix, prefix_len);
        v->vendor.enroll_prefix_len = prefix_len;
        r = column_int_range(st, 6, 0, 3, &x);
        if (r < 0)
                return r;
        v->vendor.enroll_method = (uint8_t)x;
        if (sqlite3_column_type(st, 7) != SQLITE_NULL) {
                r = column_int_range(st, 7, 1, INT64_MAX, &v->default_network_id);
                if (r < 0)
                        return r;
        }
        r = column_string(st, 8, v->vendor.default_network, sizeof(v->vendor.default_network));
        if (r < 0)
                return r;
        r = column_bool(st, 9, &v->vendor.enabled);
        if (r < 0)
                return r;
        r = column_usec(st, 10, &v->vendor.created);
        if (r < 0)
                return r;
        r = column_usec(st, 11, &v->vendor.updated);
        if (r < 0)
                return r;
        v->vendor.key_update = STORE_KEY_KEEP;
        return 0;
}

static int vendor_from_row(Store *s, sqlite3_stmt *st, bool with_key, VendorInfo *ret) {
        VendorInfo v = {};
        int r;

        r = vendor_from_row_impl(s, st, with_key, &v);
        if (r >= 0)
                *ret = v;
        explicit_bzero_safe(&v, sizeof(v));
        return r;
}

int vendor_lookup(Store *s, const char *name, bool with_key, VendorInfo *ret) {
        _cleanup_(stmt_resetp) sqlite3_stmt *st = NULL;
        int r;

        r = store_stmt(s, STMT_VENDOR_GET, VENDOR_SELECT " WHERE v.name = ?1", &st);
        if (r < 0)
                return r;
        r = sqlite_errno(bind_text(st, 1, name));
        if (r < 0)
                return r;
        r = store_step(s, st);
        if (r < 0)
                return r;
        if (r == 0)
                return -ENOENT;
        return vendor_from_row(s, st, with_key, ret);
}

static bool enroll_method_known(uint8_t m) {
        return m == 0 || m == 1 || m == 3;
}

static int vendor_check_fields(const StoreVendor *v, StoreError *err) {
        if (!store_name_valid(v->name))
                return store_error(err, -EINVAL, "name",
                                   "A vendor name is 1..%u characters of A-Z a-z 0-9 . _ -", NAME_MAX_LEN);
        if ((unsigned)v->key_update > STORE_KEY_CLEAR)
                return store_error(err, -EINVAL, "key_update", "Unknown key update");
        if ((unsigned)v->key_kind > STORE_VENDOR_KEY_MASTER)
                return store_error(err, -EINVAL, "key_kind", "Unknown key kind (none, factory or master)");
        if (v->key_update == STORE_KEY_SET) {
                if (v->key_kind == STORE_VENDOR_KEY_NONE)
                        return store_error(err, -EINVAL, "key_kind",
                                           "Setting a vendor key needs key kind 'factory' or 'master'");
                if (!store_key_pair_valid(v->key))
                        return store_error(
                                err, -EINVAL, "key",
                                "Neither half of the 32-byte vendor key may be all 0x00 or all 0xFF");
        }
        if ((unsigned)v->enroll_kind > STORE_ENROLL_AUTHENTICATOR)
                return store_error(err, -EINVAL, "enroll_kind",
                                   "Unknown enrollment rule (none, uid-prefix or authenticator)");
        if (!enroll_method_known(v->enroll_method))
                return store_error(err, -EINVAL, "enroll_method", "Enrollment method %u is not 0, 1 or 3",
                                   v->enroll_method);
        if (v->default_network[0] && !store_name_valid(v->default_network))
                return store_error(err, -EINVAL, "default_network", "Invalid network name");

        switch (v->enroll_kind) {
        case STORE_ENROLL_NONE:
                break;
        case STORE_ENROLL_UID_PREFIX:
                if (v->enroll_prefix_len < 1 || v->enroll_prefix_len > PROV_UID_MAX)
                        return store_error(err, -EINVAL, "enroll_prefix", "A UID prefix is 1..%u bytes",
                                           PROV_UID_MAX);
                break;
        case STORE_ENROLL_AUTHENTICATOR:
                if (v->enroll_prefix_len < 1 || v->enroll_prefix_len > 16)
                        return store_error(err, -EINVAL, "enroll_prefix",
                                           "An authenticator UID prefix is 1..16 bytes");
                if (v->enroll_method != 3)
                        return store_error(err, -EINVAL, "enroll_method",
                                           "Enrollment by authenticator UID is for method 3 (extended UID)");
                break;
        }
        if (v->enroll_kind != STORE_ENROLL_NONE && !v->default_network[0])
                return store_error(err, -EINVAL, "default_network",
                                   "An enrollment rule needs a default network for the devices it admits");
        return 0;
}

static int vendor_check_prefix_unique(Store *s, const StoreVendor *v, int64_t self_id, StoreError *err) {
        _cleanup_(stmt_finalizep) sqlite3_stmt *st = NULL;
        char other[NAME_MAX_LEN + 1];
        int r;

        if (v->enroll_kind == STORE_ENROLL_NONE)
                return 0;
        r = store_prepare(
                s, "SELECT name FROM vendors WHERE enroll_kind = ?1 AND enroll_prefix = ?2 AND id != ?3",
                &st);
        if (r < 0)
                return r;
        r = sqlite_errno(sqlite3_bind_int(st, 1, v->enroll_kind)
                                 ?: bind_blob_or_null(st, 2, v->enroll_prefix, v->enroll_prefix_len)
                                 ?: sqlite3_bind_int64(st, 3, self_id));
        if (r < 0)
                return r;
        r = store_step(s, st);
        if (r <= 0)
                return r;
        r = column_string(st, 0, other, sizeof(other));
        if (r < 0)
                return r;
        return store_error(err, -EEXIST, "enroll_prefix", "Vendor '%s' already enrolls this %s prefix",
                           other,
                           v->enroll_kind == STORE_ENROLL_AUTHENTICATOR ? "authenticator UID" : "UID");
}

static int vendor_write(Store *s, const StoreVendor *v, const VendorInfo *old, int64_t network_id,
                        usec_t now) {
        _cleanup_(stmt_finalizep) sqlite3_stmt *st = NULL;
        uint8_t blob[STORE_WRAPPED_MAX];
        size_t blob_len = 0;
        int rc, r;

        if (v->key_update == STORE_KEY_SET) {
                char aad[STORE_AAD_MAX];

                store_aad_vendor(v->name, aad);
                r = store_wrap(s, aad, v->key, sizeof(v->key), blob);
                if (r < 0)
                        return r;
                blob_len = (size_t)r;
        }

        if (!old)
                r = store_prepare(
                        s,
                        "INSERT INTO vendors (key_kind, key, enroll_kind, enroll_prefix, enroll_method, "
                        "default_network_id, enabled, updated, name, created) "
                        "VALUES (?1, ?2, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?9)",
                        &st);
        else
                /* ?3: 1 = keep the stored key (and its kind) */
                r = store_prepare(
                        s,
                        "UPDATE vendors SET key_kind = CASE ?3 WHEN 1 THEN key_kind ELSE ?1 END, "
                        "key = CASE ?3 WHEN 1 THEN key ELSE ?2 END, enroll_kind = ?4, "
                        "enroll_prefix = ?5, enroll_method = ?6, default_network_id = ?7, enabled = ?8, "
                        "updated = ?9 WHERE name = ?10",
                        &st);
        if (r < 0)
                return r;

        rc = sqlite3_bind_int(st, 1, v->key_update == STORE_KEY_SET ? v->key_kind : STORE_VENDOR_KEY_NONE)
                ?: bind_blob_or_null(st, 2, blob, blob_len)
                ?: sqlite3_bind_int(st, 4, v->enroll_kind)
                ?: bind_blob_or_null(st, 5, v->enroll_prefix,
                                     v->enroll_kind == STORE_ENROLL_NONE ? 0 : v->enroll_prefix_len)
                ?: sqlite3_bind_int(st, 6, v->enroll_method) ?: sqlite3_bind_int(st, 8, v->enabled)
                ?: bind_usec(st, 9, now) ?: bind_text(st, 10, v->name);
        if (rc == SQLITE_OK && old)
                rc = sqlite3_bind_int(st, 3, v->key_update == STORE_KEY_KEEP);
        if (rc == SQLITE_OK && network_id > 0)
                rc = sqlite3_bind_int64(st, 7, network_id);
        r = sqlite_errno(rc);
        if (r < 0)
                return r;
        r = store_step(s, st);
        if (r < 0)
                return r;
        return !old;
}

static int vendor_put(Store *s, const StoreVendor *v, StorePutMode mode, usec_t now, StoreError *err) {
        StoreVendorKeyKind kind = STORE_VENDOR_KEY_NONE;
        NetworkInfo net = {};
        VendorInfo old, new;
        bool exists;
        int r;

        if ((unsigned)mode > STORE_PUT_UPSERT)
                return store_error(err, -EINVAL, NULL, "Invalid put mode");
        r = vendor_check_fields(v, err);
        if (r < 0)
                return r;

        r = vendor_lookup(s, v->name, false, &old);
        if (r < 0 && r != -ENOENT)
                return r;
        exists = r >= 0;
        if (exists && mode == STORE_PUT_CREATE)
                return store_error(err, -EEXIST, "name", "Vendor '%s' already exists", v->name);
        if (!exists && mode == STORE_PUT_UPDATE)
                return store_error(err, -ENOENT, "name", "There is no vendor '%s'", v->name);

        switch (v->key_update) {
        case STORE_KEY_SET:
                kind = v->key_kind;
                break;
        case STORE_KEY_CLEAR:
                kind = STORE_VENDOR_KEY_NONE;
                break;
        case STORE_KEY_KEEP:
                kind = exists ? old.vendor.key_kind : STORE_VENDOR_KEY_NONE;
                if (!exists && v->key_kind != STORE_VENDOR_KEY_NONE)
                        return store_error(err, -EINVAL, "key",
                                           "A new vendor with a %s key needs the key itself",
                                           store_vendor_key_kind_to_string(v->key_kind));
                break;
        }
        if (v->enroll_kind != STORE_ENROLL_NONE && kind == STORE_VENDOR_KEY_NONE)
                return store_error(
                        err, -EINVAL, "key",
                        "An enrollment rule needs a vendor key (factory or master) for the devices it "
                        "admits");

        if (v->default_network[0]) {
                r = network_lookup(s, v->default_network, false, &net);
                if (r == -ENOENT)
                        return store_error_missing(err, "default_network", "network", v->default_network);
                if (r < 0)
                        return r;
                /* Only for unsecured enrollment newly configured here: the network's allow_unsecured is the
                 * operator's switch to stop it, and must not block other changes to the vendor. */
                if (v->enroll_kind != STORE_ENROLL_NONE && v->enroll_method == 0 &&
                    !net.net.allow_unsecured &&
                    !(exists && old.vendor.enroll_kind != STORE_ENROLL_NONE &&
                      old.vendor.enroll_method == 0 && old.default_network_id == net.id))
                        return store_error(err, -EINVAL, "enroll_method",
                                           "Network '%s' does not allow unsecured provisioning (method 0)",
                                           net.net.name);
        }

        r = vendor_check_prefix_unique(s, v, exists ? old.id : 0, err);
        if (r < 0)
                return r;

        if (exists) {
                new = old;
                new.vendor = *v;
                explicit_bzero_safe(new.vendor.key, sizeof(new.vendor.key));
                new.vendor.key_kind = kind;
                new.default_network_id = net.id;
                r = device_recheck_for_vendor(s, &new, kind, now, err);
                if (r < 0)
                        return r;
        }

        return vendor_write(s, v, exists ? &old : NULL, net.id, now);
}

int store_vendor_put(Store *s, const StoreVendor *v, StorePutMode mode, usec_t now, StoreError *err) {
        StoreError e = {};
        int r;

        if (!s || !v)
                return -EINVAL;
        r = store_tx_start(s);
        if (r >= 0)
                r = store_tx_end(s, vendor_put(s, v, mode, now, &e));
        return store_fail(err, &e, r);
}

int store_vendor_get(Store *s, const char *name, StoreVendor *ret) {
        VendorInfo v;
        int r;

        if (!s || !name || !ret)
                return -EINVAL;
        r = vendor_lookup(s, name, true, &v);
        if (r < 0)
                return r;
        *ret = v.vendor;
        explicit_bzero_safe(&v, sizeof(v));
        return 0;
}

int store_vendor_list(Store *s, StoreVendorCb cb, void *userdata) {
        _cleanup_(stmt_finalizep) sqlite3_stmt *st = NULL;
        VendorInfo v;
        int r;

        if (!s || !cb)
                return -EINVAL;
        r = store_prepare(s, VENDOR_SELECT " ORDER BY v.name", &st);
        if (r < 0)
                return r;
        while ((r = store_step(s, st)) > 0) {
                r = vendor_from_row(s, st, true, &v);
                if (r < 0)
                        return r;
                r = cb(&v.vendor, userdata);
                explicit_bzero_safe(&v, sizeof(v));
                if (r < 0)
                        return r;
        }
        return r;
}

static int vendor_delete(Store *s, const char *name, StoreError *err) {
        _cleanup_(stmt_finalizep) sqlite3_stmt *st = NULL, *del = NULL;
        VendorInfo v;
        int64_t k;
        int r;

        r = vendor_lookup(s, name, false, &v);
        if (r == -ENOENT)
                return store_error(err, r, "name", "There is no vendor '%s'", name);
        if (r < 0)
                return r;

        r = store_prepare(s, "SELECT count(*) FROM devices WHERE vendor_id = ?1", &st);
        if (r < 0)
                return r;
        r = sqlite_errno(sqlite3_bind_int64(st, 1, v.id));
        if (r < 0)
                return r;
        r = store_step(s, st);
        if (r < 0)
                return r;
        if (r == 0)
                return -EIO;
        r = column_int_range(st, 0, 0, INT64_MAX, &k);
        if (r < 0)
                return r;
        if (k > 0)
                return store_error(err, -EBUSY, "name", "Vendor '%s' has %" PRIi64 " device(s)", name, k);

        r = store_prepare(s, "DELETE FROM vendors WHERE id = ?1", &del);
        if (r < 0)
                return r;
        r = sqlite_errno(sqlite3_bind_int64(del, 1, v.id));
        if (r < 0)
                return r;
        return store_step(s, del);
}

int store_vendor_delete(Store *s, const char *name, StoreError *err) {
        StoreError e = {};
        int r;

        if (!s || !name)
                return -EINVAL;
        r = store_tx_start(s);
        if (r >= 0)
                r = store_tx_end(s, vendor_delete(s, name, &e));
        return store_fail(err, &e, r);
}
