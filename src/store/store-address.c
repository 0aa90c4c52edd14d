/* SPDX-License-Identifier: Apache-2.0 */
/* Node address pools.
 *
 * A network's pool is [pool_first, pool_last]; networks.pool_next is the lowest address it never handed out.
 * Every address in [pool_first, pool_next) is a row of address_allocations (held by a UID, held back after
 * release, or free) or some device's explicit address. So an allocation is:
 *
 *   1. the UID's own row, if it has one (same UID, same address; a held-back address goes back to its UID);
 *   2. else the lower of: the lowest reusable row (free, or released at least address_hold ago), found
 *      through a partial index over released rows; and pool_next, moved past addresses that are taken
 *      (one index probe each; in steady state pool_next is free and it is one probe);
 *   3. else -ENOSPC.
 *
 * Nothing scans the pool. When a device's explicit address below pool_next goes away, it becomes a free row;
 * when one is set, a free or expired row for it is dropped and a held one refuses it. */

#include <stdio.h>

#include "hex.h"
#include "store-internal.h"

const char store_sql_address_by_uid[] =
        "SELECT address, released FROM address_allocations WHERE network_id = ?1 AND uid = ?2";
const char store_sql_address_reusable[] =
        "SELECT address FROM address_allocations INDEXED BY address_allocations_reusable "
        "WHERE network_id = ?1 AND released IS NOT NULL AND (uid IS NULL OR released <= ?2) "
        "AND address BETWEEN ?3 AND ?4 ORDER BY address LIMIT 1";
const char store_sql_address_occupied[] =
        "SELECT EXISTS (SELECT 1 FROM address_allocations WHERE network_id = ?1 AND address = ?2) "
        "OR EXISTS (SELECT 1 FROM devices WHERE eff_network_id = ?1 AND node_address = ?2)";

typedef struct Pool {
        int64_t id;
        bool has_pool;
        uint32_t first, last;
        uint64_t next; /* may be last + 1 */
} Pool;

static int pool_from_row(sqlite3_stmt *st, Pool *ret) {
        Pool p = {};
        bool has_last, has_next;
        uint32_t next;
        int r;

        r = column_int_range(st, 0, 1, INT64_MAX, &p.id);
        if (r >= 0)
                r = column_opt_u32(st, 1, &p.has_pool, &p.first);
        if (r >= 0)
                r = column_opt_u32(st, 2, &has_last, &p.last);
        if (r >= 0)
                r = column_opt_u32(st, 3, &has_next, &next);
        if (r < 0)
                return r;
        if (has_last != p.has_pool || has_next != p.has_pool)
                return -EBADMSG;
        p.next = MAX((uint64_t)next, (uint64_t)p.first);
        *ret = p;
        return 0;
}

static int pool_lookup(Store *s, const char *name, int64_t id, Pool *ret) {
        _cleanup_(stmt_resetp) sqlite3_stmt *st = NULL;
        int r;

        if (name)
                r = store_stmt(s, STMT_NETWORK_POOL,
                               "SELECT id, pool_first, pool_last, pool_next FROM networks WHERE name = ?1",
                               &st);
        else
                r = store_stmt(s, STMT_NETWORK_POOL_ID,
                               "SELECT id, pool_first, pool_last, pool_next FROM networks WHERE id = ?1",
                               &st);
        if (r < 0)
                return r;
        r = sqlite_errno(name ? bind_text(st, 1, name) : sqlite3_bind_int64(st, 1, id));
        if (r < 0)
                return r;
        r = store_step(s, st);
        if (r < 0)
                return r;
        if (r == 0)
                return -ENOENT;
        return pool_from_row(st, ret);
}

static int exists_query(Store *s, StoreStmtId id, const char *sql, int64_t network_id, uint64_t address) {
        _cleanup_(stmt_resetp) sqlite3_stmt *st = NULL;
        int64_t v;
        int r;

        r = store_stmt(s, id, sql, &st);
        if (r < 0)
                return r;
        r = sqlite_errno(sqlite3_bind_int64(st, 1, network_id)
                                 ?: sqlite3_bind_int64(st, 2, (int64_t)address));
        if (r < 0)
                return r;
        r = store_step(s, st);
        if (r < 0)
                return r;
        if (r == 0)
                return -EIO;
        r = column_int_range(st, 0, 0, 1, &v);
        return r < 0 ? r : (int)v;
}

static int address_occupied(Store *s, int64_t network_id, uint64_t address) {
        return exists_query(s, STMT_ADDR_OCCUPIED, store_sql_address_occupied, network_id, address);
}

static int address_explicit(Store *s, int64_t network_id, uint64_t address) {
        return exists_query(
                s, STMT_ADDR_EXPLICIT,
                "SELECT EXISTS (SELECT 1 FROM devices WHERE eff_network_id = ?1 AND node_address = ?2)",
                network_id, address);
}

static int address_row_delete(Store *s, int64_t network_id, uint32_t address) {
        _cleanup_(stmt_resetp) sqlite3_stmt *st = NULL;
        int r;

        r = store_stmt(s, STMT_ADDR_DELETE,
                       "DELETE FROM address_allocations WHERE network_id = ?1 AND address = ?2", &st);
        if (r < 0)
                return r;
        r = sqlite_errno(sqlite3_bind_int64(st, 1, network_id) ?: sqlite3_bind_int64(st, 2, address));
        if (r < 0)
                return r;
        return store_step(s, st);
}

/* Runs one of the fixed writes with (network, address[, uid, time]). */
static int address_write(Store *s, StoreStmtId id, const char *sql, int64_t network_id, uint64_t address,
                         const uint8_t *uid, size_t uid_len, usec_t now) {
        _cleanup_(stmt_resetp) sqlite3_stmt *st = NULL;
        int r;

        r = store_stmt(s, id, sql, &st);
        if (r < 0)
                return r;
        r = sqlite_errno(sqlite3_bind_int64(st, 1, network_id)
                                 ?: sqlite3_bind_int64(st, 2, (int64_t)address));
        if (r >= 0 && uid)
                r = sqlite_errno(sqlite3_bind_blob(st, 3, uid, (int)uid_len, SQLITE_STATIC)
                                         ?: bind_usec(st, 4, now));
        if (r < 0)
                return r;
        return store_step(s, st);
}

/* The address row of a UID in a network's pool: 1 with the address and whether it is released, 0 if none. */
static int address_of_uid(Store *s, int64_t network_id, const uint8_t *uid, size_t uid_len, uint32_t *ret,
                          bool *ret_released) {
        _cleanup_(stmt_resetp) sqlite3_stmt *st = NULL;
        int r;

        r = store_stmt(s, STMT_ADDR_BY_UID, store_sql_address_by_uid, &st);
        if (r < 0)
                return r;
        r = sqlite_errno(sqlite3_bind_int64(st, 1, network_id)
                                 ?: sqlite3_bind_blob(st, 2, uid, (int)uid_len, SQLITE_STATIC));
        if (r < 0)
                return r;
        r = store_step(s, st);
        if (r <= 0)
                return r;
        *ret_released = sqlite3_column_type(st, 1) != SQLITE_NULL;
        r = column_u32(st, 0, ret);
        return r < 0 ? r : 1;
}

static int address_allocate(Store *s, const char *network, const uint8_t *uid, size_t uid_len, usec_t now,
                            uint32_t *ret) {
        uint64_t a, c = 0, got, next;
        bool have_c = false;
        int64_t cutoff;
        Pool p;
        int r;

        r = pool_lookup(s, network, 0, &p);
        if (r < 0)
                return r;
        if (!p.has_pool)
                return -ENOENT;

        /* 1. The UID's own address. */
        {
                uint32_t addr;
                bool released;

                r = address_of_uid(s, p.id, uid, uid_len, &addr, &released);
                if (r < 0)
                        return r;
                if (r > 0) {
                        if (released) {
                                r = address_write(s, STMT_ADDR_REACTIVATE,
                                                  "UPDATE address_allocations SET released = NULL "
                                                  "WHERE network_id = ?1 AND address = ?2",
                                                  p.id, addr, NULL, 0, 0);
                                if (r < 0)
                                        return r;
                        }
                        *ret = addr;
                        return 0;
                }
        }

        /* 2a. Move pool_next past what is taken. */
        for (a = p.next; a <= p.last; a++) {
                r = address_occupied(s, p.id, a);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
        }

        /* 2b. The lowest reusable row: free, or released long enough ago. */
        cutoff = now >= s->address_hold ? (int64_t)MIN(now - s->address_hold, (usec_t)INT64_MAX) : -1;
        for (;;) {
                _cleanup_(stmt_resetp) sqlite3_stmt *st = NULL;
                uint32_t v;

                r = store_stmt(s, STMT_ADDR_REUSABLE, store_sql_address_reusable, &st);
                if (r < 0)
                        return r;
                r = sqlite_errno(sqlite3_bind_int64(st, 1, p.id) ?: sqlite3_bind_int64(st, 2, cutoff)
                                         ?: sqlite3_bind_int64(st, 3, p.first) ?: sqlite3_bind_int64(st, 4, p.last));
                if (r < 0)
                        return r;
                r = store_step(s, st);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                r = column_u32(st, 0, &v);
                if (r < 0)
                        return r;
                stmt_resetp(&st);
                /* Explicit addresses drop their row when set; be safe if one did not. */
                r = address_explicit(s, p.id, v);
                if (r < 0)
                        return r;
                if (r == 0) {
                        c = v;
                        have_c = true;
                        break;
                }
                r = address_row_delete(s, p.id, v);
                if (r < 0)
                        return r;
        }

        /* Everything in [pool_next, a) is taken, so pool_next may move to a (past it, if a is handed out).
         */
        next = a;
        if (have_c && (a > p.last || c < a)) {
                r = address_write(s, STMT_ADDR_TAKE,
                                  "UPDATE address_allocations SET uid = ?3, allocated = ?4, released = NULL "
                                  "WHERE network_id = ?1 AND address = ?2",
                                  p.id, c, uid, uid_len, now);
                if (r < 0)
                        return r;
                got = c;
        } else if (a <= p.last) {
                r = address_write(s, STMT_ADDR_INSERT,
                                  "INSERT INTO address_allocations (network_id, address, uid, allocated) "
                                  "VALUES (?1, ?2, ?3, ?4)",
                                  p.id, a, uid, uid_len, now);
                if (r < 0)
                        return r;
                got = a;
                next = a + 1;
        } else
                return -ENOSPC;

        if (next != p.next) {
                r = address_write(s, STMT_ADDR_SET_NEXT, "UPDATE networks SET pool_next = ?2 WHERE id = ?1",
                                  p.id, next, NULL, 0, 0);
                if (r < 0)
                        return r;
        }
        *ret = (uint32_t)got;
        return 0;
}

/* The UID's address when it holds one that is not released: a plain read, no write lock. Returns 1 and the
 * address, 0 if a write is needed (no row, released, or no pool), <0 on error. */
static int address_current(Store *s, const char *network, const uint8_t *uid, size_t uid_len,
                           uint32_t *ret) {
        bool released;
        Pool p;
        int r;

        r = pool_lookup(s, network, 0, &p);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (!p.has_pool)
                return 0;
        r = address_of_uid(s, p.id, uid, uid_len, ret, &released);
        return r <= 0 ? r : !released;
}

int store_address_allocate(Store *s, const char *network, const uint8_t *uid, size_t uid_len, usec_t now,
                           uint32_t *ret) {
        uint32_t a = 0;
        int r;

        if (!s || !network || !uid || !ret || !prov_uid_len_valid(uid_len))
                return -EINVAL;
        /* A node that already holds its address (every repeated START) needs no write transaction, so it
         * is answered even while another process holds the write lock. */
        r = address_current(s, network, uid, uid_len, &a);
        if (r < 0)
                return r;
        if (r > 0) {
                *ret = a;
                return 0;
        }
        r = store_tx_start(s);
        if (r < 0)
                return r;
        r = store_tx_end(s, address_allocate(s, network, uid, uid_len, now, &a));
        if (r < 0)
                return r;
        *ret = a;
        return 0;
}

int address_release_other(Store *s, int64_t network_id, const uint8_t *uid, size_t uid_len, uint64_t keep,
                          usec_t now) {
        _cleanup_(stmt_finalizep) sqlite3_stmt *st = NULL;
        int r;

        r = store_prepare(s,
                          "UPDATE address_allocations SET released = ?3 "
                          "WHERE network_id = ?1 AND uid = ?2 AND released IS NULL AND address != ?4",
                          &st);
        if (r < 0)
                return r;
        r = sqlite_errno(sqlite3_bind_int64(st, 1, network_id)
                                 ?: sqlite3_bind_blob(st, 2, uid, (int)uid_len, SQLITE_STATIC)
                                 ?: bind_usec(st, 3, now)
                                 ?: sqlite3_bind_int64(st, 4, keep > INT64_MAX ? -1 : (int64_t)keep));
        if (r < 0)
                return r;
        r = store_step(s, st);
        if (r < 0)
                return r;
        return sqlite3_changes(s->db) > 0;
}

int address_release_internal(Store *s, int64_t network_id, const uint8_t *uid, size_t uid_len, usec_t now) {
        return address_release_other(s, network_id, uid, uid_len, UINT64_MAX, now);
}

static int address_release(Store *s, const char *network, const uint8_t *uid, size_t uid_len, usec_t now) {
        Pool p;
        int r;

        r = pool_lookup(s, network, 0, &p);
        if (r < 0)
                return r;
        return address_release_internal(s, p.id, uid, uid_len, now);
}

int store_address_release(Store *s, const char *network, const uint8_t *uid, size_t uid_len, usec_t now) {
        int r;

        if (!s || !network || !uid || !prov_uid_len_valid(uid_len))
                return -EINVAL;
        r = store_tx_start(s);
        if (r < 0)
                return r;
        return store_tx_end(s, address_release(s, network, uid, uid_len, now));
}

int address_claim_explicit(Store *s, const NetworkInfo *n, uint32_t address, const uint8_t *uid,
                           size_t uid_len, usec_t now, bool dry_run, StoreError *err) {
        _cleanup_(stmt_resetp) sqlite3_stmt *st = NULL;
        char hex[2 * PROV_UID_MAX + 1];
        const uint8_t *holder;
        size_t holder_len;
        usec_t when = 0;
        bool released;
        int r;

        r = store_stmt(
                s, STMT_ADDR_ROW,
                "SELECT uid, released FROM address_allocations WHERE network_id = ?1 AND address = ?2", &st);
        if (r < 0)
                return r;
        r = sqlite_errno(sqlite3_bind_int64(st, 1, n->id) ?: sqlite3_bind_int64(st, 2, address));
        if (r < 0)
                return r;
        r = store_step(s, st);
        if (r <= 0)
                return r; /* never handed out by the pool */

        r = column_blob(st, 0, &holder, &holder_len);
        if (r < 0)
                return r;
        if (holder_len > PROV_UID_MAX)
                return -EBADMSG;
        if (holder && holder_len == uid_len && memcmp(holder, uid, uid_len) == 0)
                return 0; /* its own pool address */
        released = sqlite3_column_type(st, 1) != SQLITE_NULL;
        if (released) {
                r = column_usec(st, 1, &when);
                if (r < 0)
                        return r;
        }
        if (holder && !released)
                return store_error(err, -EEXIST, "node_address",
                                   "Node address %" PRIu32
                                   " is held by UID 0x%s from the pool of network '%s'",
                                   address, hex_encode(holder, holder_len, hex, sizeof(hex)), n->net.name);
        if (holder && usec_add(when, s->address_hold) > now) {
                char ts[32];

                return store_error(err, -EEXIST, "node_address",
                                   "Node address %" PRIu32
                                   " was released from the pool of network '%s' and is "
                                   "held back until %s",
                                   address, n->net.name,
                                   format_timestamp_utc(ts, sizeof(ts), usec_add(when, s->address_hold)));
        }
        stmt_resetp(&st);
        if (dry_run)
                return 0;
        return address_row_delete(s, n->id, address);
}

int address_unclaim_explicit(Store *s, int64_t network_id, uint32_t address) {
        _cleanup_(stmt_finalizep) sqlite3_stmt *st = NULL;
        Pool p;
        int r;

        r = pool_lookup(s, NULL, network_id, &p);
        if (r < 0)
                return r;
        if (!p.has_pool || address < p.first || address > p.last || address >= p.next)
                return 0; /* the pool never passed over it */

        r = store_prepare(
                s,
                "INSERT OR IGNORE INTO address_allocations (network_id, address, uid, allocated, released) "
                "VALUES (?1, ?2, NULL, 0, 0)",
                &st);
        if (r < 0)
                return r;
        r = sqlite_errno(sqlite3_bind_int64(st, 1, network_id) ?: sqlite3_bind_int64(st, 2, address));
        if (r < 0)
                return r;
        return store_step(s, st);
}

int address_pool_reset(Store *s, int64_t network_id) {
        _cleanup_(stmt_finalizep) sqlite3_stmt *st = NULL;
        int r;

        r = store_prepare(s, "DELETE FROM address_allocations WHERE network_id = ?1 AND uid IS NULL", &st);
        if (r < 0)
                return r;
        r = sqlite_errno(sqlite3_bind_int64(st, 1, network_id));
        if (r < 0)
                return r;
        return store_step(s, st);
}
