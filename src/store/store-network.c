/* SPDX-License-Identifier: Apache-2.0 */
/* Networks: the parameters every DATA carries, and the optional node address pool. */

#include "store-internal.h"

#define NETWORK_SELECT "SELECT " NETWORK_COLUMNS("n") " FROM networks AS n"

static int network_from_row_impl(Store *s, sqlite3_stmt *st, int c, bool with_keys, NetworkInfo *n) {
        bool has_last, has_next;
        uint8_t keys[32];
        int64_t v;
        int r;

        r = column_int_range(st, c + 0, 1, INT64_MAX, &n->id);
        if (r < 0)
                return r;
        r = column_string(st, c + 1, n->net.name, sizeof(n->net.name));
        if (r < 0)
                return r;
        if (!store_name_valid(n->net.name))
                return -EBADMSG;
        r = column_int_range(st, c + 2, 0, _PROV_PROFILE_MAX - 1, &v);
        if (r < 0)
                return r;
        n->net.profile = (ProvProfile)v;
        r = column_u32(st, c + 3, &n->net.network_address);
        if (r < 0)
                return r;
        r = column_u32(st, c + 4, &n->net.channel);
        if (r < 0)
                return r;
        if (with_keys) {
                char aad[STORE_AAD_MAX];

                store_aad_network(n->net.name, aad);
                r = store_unwrap(s, aad, st, c + 5, keys, sizeof(keys));
                if (r < 0)
                        return r;
                memcpy(n->net.enc_key, keys, PROV_KEY_SIZE);
                memcpy(n->net.auth_key, keys + PROV_KEY_SIZE, PROV_KEY_SIZE);
                explicit_bzero_safe(keys, sizeof(keys));
        }
        r = column_bool(st, c + 6, &n->net.allow_unsecured);
        if (r < 0)
                return r;
        r = column_opt_u32(st, c + 7, &n->net.has_pool, &n->net.pool_first);
        if (r < 0)
                return r;
        r = column_opt_u32(st, c + 8, &has_last, &n->net.pool_last);
        if (r < 0)
                return r;
        r = column_opt_u32(st, c + 9, &has_next, &n->pool_next);
        if (r < 0)
                return r;
        if (has_last != n->net.has_pool || has_next != n->net.has_pool)
                return -EBADMSG;
        r = column_usec(st, c + 10, &n->net.created);
        if (r < 0)
                return r;
        r = column_usec(st, c + 11, &n->net.updated);
        if (r < 0)
                return r;
        n->net.keys_update = STORE_KEY_KEEP;
        return 0;
}

int network_from_row(Store *s, sqlite3_stmt *st, int first, bool with_keys, NetworkInfo *ret) {
        NetworkInfo n = {};
        int r;

        r = network_from_row_impl(s, st, first, with_keys, &n);
        if (r >= 0)
                *ret = n;
        explicit_bzero_safe(&n, sizeof(n));
        return r;
}

int network_lookup(Store *s, const char *name, bool with_keys, NetworkInfo *ret) {
        _cleanup_(stmt_resetp) sqlite3_stmt *st = NULL;
        int r;

        r = store_stmt(s, STMT_NETWORK_GET, NETWORK_SELECT " WHERE n.name = ?1", &st);
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
        return network_from_row(s, st, 0, with_keys, ret);
}

int network_lookup_id(Store *s, int64_t id, NetworkInfo *ret) {
        _cleanup_(stmt_resetp) sqlite3_stmt *st = NULL;
        int r;

        r = store_stmt(s, STMT_NETWORK_GET_ID, NETWORK_SELECT " WHERE n.id = ?1", &st);
        if (r < 0)
                return r;
        r = sqlite_errno(sqlite3_bind_int64(st, 1, id));
        if (r < 0)
                return r;
        r = store_step(s, st);
        if (r < 0)
                return r;
        if (r == 0)
                return -ENOENT;
        return network_from_row(s, st, 0, false, ret);
}

/* The pool must lie inside one of the two unicast ranges, so that it never hands out a multicast address. */
static int network_check_pool(const StoreNetwork *n, StoreError *err) {
        if (!n->has_pool)
                return 0;
        if (!prov_node_address_valid(n->pool_first))
                return store_error(err, -EINVAL, "pool_first",
                                   "Pool start %" PRIu32 " is not a unicast node address "
                                   "(1..2147483647 or 2164260864..4294967293)",
                                   n->pool_first);
        if (!prov_node_address_valid(n->pool_last))
                return store_error(err, -EINVAL, "pool_last",
                                   "Pool end %" PRIu32 " is not a unicast node address "
                                   "(1..2147483647 or 2164260864..4294967293)",
                                   n->pool_last);
        if (n->pool_first > n->pool_last)
                return store_error(err, -EINVAL, "pool", "Pool start %" PRIu32 " is after its end %" PRIu32,
                                   n->pool_first, n->pool_last);
        if ((n->pool_first <= 0x7FFFFFFFu) != (n->pool_last <= 0x7FFFFFFFu))
                return store_error(err, -EINVAL, "pool",
                                   "Pool %" PRIu32 "..%" PRIu32 " spans the multicast range: keep it inside "
                                   "1..2147483647 or 2164260864..4294967293",
                                   n->pool_first, n->pool_last);
        return 0;
}

static int network_check_fields(const StoreNetwork *n, bool keys_set, StoreError *err) {
        if (!store_name_valid(n->name))
                return store_error(err, -EINVAL, "name",
                                   "A network name is 1..%u characters of A-Z a-z 0-9 . _ -", NAME_MAX_LEN);
        if (n->profile < 0 || n->profile >= _PROV_PROFILE_MAX)
                return store_error(err, -EINVAL, "profile", "Unknown profile (2.4G, SubG or 5GMesh)");
        if (!prov_network_address_valid(n->network_address))
                return store_error(err, -EINVAL, "network_address",
                                   "Network address 0x%06" PRIX32 " is not allowed (0x000001..0xFFFFFE, "
                                   "not 0xAAAAAA or 0x555555)",
                                   n->network_address);
        if (!prov_channel_valid(n->profile, n->channel))
                return store_error(err, -EINVAL, "channel",
                                   "Channel %" PRIu32 " is not valid for profile %s (%s)", n->channel,
                                   prov_profile_to_string(n->profile),
                                   n->profile == PROV_PROFILE_24G ? "1..40" : "1..255");
        if (keys_set) {
                if (!prov_key_valid(n->enc_key))
                        return store_error(err, -EINVAL, "enc_key",
                                           "The network encryption key must not be all 0x00 or all 0xFF");
                if (!prov_key_valid(n->auth_key))
                        return store_error(
                                err, -EINVAL, "auth_key",
                                "The network authentication key must not be all 0x00 or all 0xFF");
        }
        return network_check_pool(n, err);
}

/* The network's own parameters (plus a pool address) must fit a DATA on its profile. */
static int network_check_fit(const StoreNetwork *n, StoreError *err) {
        ProvParams p = {
                .network_address = n->network_address,
                .channel = n->channel,
        };
        const char *field = NULL;
        int r;

        memset(p.enc_key, 0x5a, sizeof(p.enc_key));
        memset(p.auth_key, 0xa5, sizeof(p.auth_key));
        for (int secured = 1; secured >= (n->allow_unsecured ? 0 : 1); secured--) {
                r = prov_params_validate(&p, n->profile, secured, n->has_pool, &field);
                if (r < 0)
                        return store_error(err, r, field ?: "size",
                                           "The network parameters do not fit a DATA for profile %s",
                                           prov_profile_to_string(n->profile));
        }
        return 0;
}

static int network_write(Store *s, const StoreNetwork *n, const NetworkInfo *old, usec_t now) {
        _cleanup_(stmt_finalizep) sqlite3_stmt *st = NULL;
        uint8_t keys[32], blob[STORE_WRAPPED_MAX];
        size_t blob_len = 0;
        bool reset_pool;
        int rc, r;

        if (n->keys_update == STORE_KEY_SET) {
                char aad[STORE_AAD_MAX];

                store_aad_network(n->name, aad);
                memcpy(keys, n->enc_key, PROV_KEY_SIZE);
                memcpy(keys + PROV_KEY_SIZE, n->auth_key, PROV_KEY_SIZE);
                r = store_wrap(s, aad, keys, sizeof(keys), blob);
                explicit_bzero_safe(keys, sizeof(keys));
                if (r < 0)
                        return r;
                blob_len = (size_t)r;
        }

        /* A pool that appears, disappears or starts elsewhere restarts its scan; a new end keeps it. */
        reset_pool = !old || old->net.has_pool != n->has_pool ||
                     (n->has_pool && old->net.pool_first != n->pool_first);

        if (!old)
                r = store_prepare(
                        s,
                        "INSERT INTO networks (profile, network_address, channel, keys, allow_unsecured, "
                        "pool_first, pool_last, pool_next, updated, name, created) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?9)",
                        &st);
        else
                r = store_prepare(s,
                                  "UPDATE networks SET profile = ?1, network_address = ?2, channel = ?3, "
                                  "keys = coalesce(?4, keys), allow_unsecured = ?5, pool_first = ?6, "
                                  "pool_last = ?7, pool_next = ?8, updated = ?9 WHERE name = ?10",
                                  &st);
        if (r < 0)
                return r;

        rc = sqlite3_bind_int(st, 1, n->profile) ?: sqlite3_bind_int64(st, 2, n->network_address)
                ?: sqlite3_bind_int64(st, 3, n->channel) ?: bind_blob_or_null(st, 4, blob, blob_len)
                ?: sqlite3_bind_int(st, 5, n->allow_unsecured) ?: bind_usec(st, 9, now)
                ?: bind_text(st, 10, n->name);
        if (rc == SQLITE_OK && n->has_pool)
                rc = sqlite3_bind_int64(st, 6, n->pool_first) ?: sqlite3_bind_int64(st, 7, n->pool_last)
                        ?: sqlite3_bind_int64(st, 8, reset_pool ? n->pool_first : old->pool_next);
        /* (unbound parameters are NULL: no pool) */
        r = sqlite_errno(rc);
        if (r < 0)
                return r;
        r = store_step(s, st);
        if (r < 0)
                return r;

        if (old && reset_pool) {
                r = address_pool_reset(s, old->id);
                if (r < 0)
                        return r;
        }
        return !old;
}

static int network_put(Store *s, const StoreNetwork *n, StorePutMode mode, usec_t now, StoreError *err) {
        NetworkInfo old, new;
        bool exists;
        int r;

        if (n->keys_update == STORE_KEY_CLEAR)
                return store_error(err, -EINVAL, "keys",
                                   "A network always has keys: they can be replaced, "
                                   "not removed");
        if ((unsigned)n->keys_update > STORE_KEY_CLEAR || (unsigned)mode > STORE_PUT_UPSERT)
                return store_error(err, -EINVAL, NULL, "Invalid put mode or key update");
        r = network_check_fields(n, n->keys_update == STORE_KEY_SET, err);
        if (r < 0)
                return r;
        r = network_check_fit(n, err);
        if (r < 0)
                return r;

        r = network_lookup(s, n->name, false, &old);
        if (r < 0 && r != -ENOENT)
                return r;
        exists = r >= 0;
        if (exists && mode == STORE_PUT_CREATE)
                return store_error(err, -EEXIST, "name", "Network '%s' already exists", n->name);
        if (!exists && mode == STORE_PUT_UPDATE)
                return store_error(err, -ENOENT, "name", "There is no network '%s'", n->name);
        if (!exists && n->keys_update != STORE_KEY_SET)
                return store_error(err, -EINVAL, "keys",
                                   "A new network needs its encryption and "
                                   "authentication keys");

        if (exists) {
                new = old;
                new.net = *n;
                explicit_bzero_safe(new.net.enc_key, sizeof(new.net.enc_key));
                explicit_bzero_safe(new.net.auth_key, sizeof(new.net.auth_key));
                /* Turning allow_unsecured off is allowed while method-0 devices or enrolling vendors refer
                 * to the network: it is how an operator stops unsecured provisioning (the engine then
                 * refuses method 0 with METHOD_NOT_SUPPORTED). */
                r = device_recheck_for_network(s, &new, err);
                if (r < 0)
                        return r;
        }

        return network_write(s, n, exists ? &old : NULL, now);
}

int store_network_put(Store *s, const StoreNetwork *n, StorePutMode mode, usec_t now, StoreError *err) {
        StoreError e = {};
        int r;

        if (!s || !n)
                return -EINVAL;
        r = store_tx_start(s);
        if (r >= 0)
                r = store_tx_end(s, network_put(s, n, mode, now, &e));
        return store_fail(err, &e, r);
}

int store_network_get(Store *s, const char *name, StoreNetwork *ret) {
        NetworkInfo n;
        int r;

        if (!s || !name || !ret)
                return -EINVAL;
        r = network_lookup(s, name, true, &n);
        if (r < 0)
                return r;
        *ret = n.net;
        explicit_bzero_safe(&n, sizeof(n));
        return 0;
}

int store_network_list(Store *s, StoreNetworkCb cb, void *userdata) {
        _cleanup_(stmt_finalizep) sqlite3_stmt *st = NULL;
        NetworkInfo n;
        int r;

        if (!s || !cb)
                return -EINVAL;
        r = store_prepare(s, NETWORK_SELECT " ORDER BY n.name", &st);
        if (r < 0)
                return r;
        while ((r = store_step(s, st)) > 0) {
                r = network_from_row(s, st, 0, true, &n);
                if (r < 0)
                        return r;
                r = cb(&n.net, userdata);
                explicit_bzero_safe(&n, sizeof(n));
                if (r < 0)
                        return r;
        }
        return r;
}

static int count_refs(Store *s, const char *sql, int64_t id, int64_t *ret) {
        _cleanup_(stmt_finalizep) sqlite3_stmt *st = NULL;
        int r;

        r = store_prepare(s, sql, &st);
        if (r < 0)
                return r;
        r = sqlite_errno(sqlite3_bind_int64(st, 1, id));
        if (r < 0)
                return r;
        r = store_step(s, st);
        if (r < 0)
                return r;
        if (r == 0)
                return -EIO;
        return column_int_range(st, 0, 0, INT64_MAX, ret);
}

static int network_delete(Store *s, const char *name, StoreError *err) {
        _cleanup_(stmt_finalizep) sqlite3_stmt *st = NULL;
        NetworkInfo n;
        int64_t k;
        int r;

        r = network_lookup(s, name, false, &n);
        if (r == -ENOENT)
                return store_error(err, r, "name", "There is no network '%s'", name);
        if (r < 0)
                return r;
        r = count_refs(s, "SELECT count(*) FROM devices WHERE eff_network_id = ?1", n.id, &k);
        if (r < 0)
                return r;
        if (k > 0)
                return store_error(err, -EBUSY, "name", "Network '%s' is used by %" PRIi64 " device(s)",
                                   name, k);
        r = count_refs(s, "SELECT count(*) FROM vendors WHERE default_network_id = ?1", n.id, &k);
        if (r < 0)
                return r;
        if (k > 0)
                return store_error(err, -EBUSY, "name",
                                   "Network '%s' is the default network of %" PRIi64 " vendor(s)", name, k);

        r = store_prepare(s, "DELETE FROM networks WHERE id = ?1", &st); /* allocations go with it */
        if (r < 0)
                return r;
        r = sqlite_errno(sqlite3_bind_int64(st, 1, n.id));
        if (r < 0)
                return r;
        return store_step(s, st);
}

int store_network_delete(Store *s, const char *name, StoreError *err) {
        StoreError e = {};
        int r;

        if (!s || !name)
                return -EINVAL;
        r = store_tx_start(s);
        if (r >= 0)
                r = store_tx_end(s, network_delete(s, name, &e));
        return store_fail(err, &e, r);
}
