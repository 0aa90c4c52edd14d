/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Shared by src/store/store*.c only: the one place besides them that sees SQLite. */

#include <sqlite3.h>

#include "provcrypto.h"
#include "store.h"

/* The SQL of the statements whose plans the tests check (store-test.h). */
extern const char store_sql_resolve_device[];
extern const char store_sql_resolve_vendor[];
extern const char store_sql_device_get[];
extern const char store_sql_address_by_uid[];
extern const char store_sql_address_reusable[];
extern const char store_sql_address_occupied[];

typedef enum StoreStmtId {
        /* hot paths (one START, one audit flush, one allocation) */
        STMT_RESOLVE_DEVICE,
        STMT_RESOLVE_VENDOR,
        STMT_NOTE_START,
        STMT_NOTE_SENT,
        STMT_NOTE_PROVISIONED,
        STMT_AUDIT_INSERT,
        STMT_ADDR_BY_UID,
        STMT_ADDR_REACTIVATE,
        STMT_ADDR_OCCUPIED,
        STMT_ADDR_EXPLICIT,
        STMT_ADDR_ROW,
        STMT_ADDR_DELETE,
        STMT_ADDR_REUSABLE,
        STMT_ADDR_TAKE,
        STMT_ADDR_INSERT,
        STMT_ADDR_SET_NEXT,
        STMT_NETWORK_POOL,
        STMT_NETWORK_POOL_ID,
        /* everything else that is fixed SQL */
        STMT_DEVICE_GET,
        STMT_DEVICE_SET_ENABLED,
        STMT_NETWORK_GET,
        STMT_NETWORK_GET_ID,
        STMT_VENDOR_GET,
        _STMT_MAX,
} StoreStmtId;

struct Store {
        sqlite3 *db;
        sqlite3_stmt *stmts[_STMT_MAX];
        uint8_t master[KEYWRAP_MASTER_KEY_SIZE];
        usec_t address_hold;
        usec_t busy_timeout; /* configured; store_busy_short() lowers it for a while */
        bool read_only;
        bool in_tx;      /* inside store_begin() */
        bool tx_aborted; /* SQLite rolled the store_begin() transaction back by itself */
};

/* SQLite result code -> -errno, once, here. */
int sqlite_errno(int rc);

/* A cached statement (prepared once, persistent). Use with _cleanup_(stmt_resetp) so that it is reset (and
 * releases its read snapshot) on every path. */
int store_stmt(Store *s, StoreStmtId id, const char *sql, sqlite3_stmt **ret);
/* A one-off statement (built from a filter), to be finalized with _cleanup_(stmt_finalizep). */
int store_prepare(Store *s, const char *sql, sqlite3_stmt **ret);
/* 1: a row, 0: done, <0: error. */
int store_step(Store *s, sqlite3_stmt *st);
int store_exec(Store *s, const char *sql);

static inline void stmt_resetp(sqlite3_stmt **st) {
        if (*st) {
                (void)sqlite3_reset(*st);
                (void)sqlite3_clear_bindings(*st);
        }
}
static inline void stmt_finalizep(sqlite3_stmt **st) {
        if (*st)
                (void)sqlite3_finalize(*st);
}

/* Every write goes through one of these: a transaction of its own (BEGIN IMMEDIATE), or a savepoint inside
 * store_begin(), so that a failed write changes nothing and does not poison the caller's transaction.
 * store_tx_end() commits (r >= 0) or rolls back (r < 0) and returns r or the commit error. */
int store_tx_start(Store *s);
int store_tx_end(Store *s, int r);

/* Binding helpers: uint32 and usec_t are stored as INTEGER (usec_t bit-cast to int64). */
static inline int bind_blob_or_null(sqlite3_stmt *st, int i, const void *p, size_t n) {
        return n > 0 ? sqlite3_bind_blob(st, i, p, (int)n, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}
static inline int bind_text(sqlite3_stmt *st, int i, const char *s) {
        return sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}
static inline int bind_usec(sqlite3_stmt *st, int i, usec_t t) {
        return sqlite3_bind_int64(st, i, (sqlite3_int64)t);
}

/* Column readers: a value of the wrong type or out of range (a damaged row) is -EBADMSG. */
int column_int_range(sqlite3_stmt *st, int i, int64_t min, int64_t max, int64_t *ret);
int column_u32(sqlite3_stmt *st, int i, uint32_t *ret);
int column_opt_u32(sqlite3_stmt *st, int i, bool *ret_has, uint32_t *ret);
int column_bool(sqlite3_stmt *st, int i, bool *ret);
int column_usec(sqlite3_stmt *st, int i, usec_t *ret);
/* Copies TEXT into buf (NULL -> ""): -EBADMSG if it does not fit or holds a NUL. */
int column_string(sqlite3_stmt *st, int i, char *buf, size_t size);
/* A view of a BLOB (NULL -> NULL, 0), valid until the next step/reset. */
int column_blob(sqlite3_stmt *st, int i, const uint8_t **ret, size_t *ret_len);

/* Key wrapping bound to a row. */
#define STORE_AAD_MAX (16u + 2u * PROV_UID_MAX)
void store_aad_network(const char *name, char buf[static STORE_AAD_MAX]);
void store_aad_vendor(const char *name, char buf[static STORE_AAD_MAX]);
void store_aad_device(const uint8_t *uid, size_t uid_len, char buf[static STORE_AAD_MAX]);
#define STORE_WRAPPED_MAX (32u + KEYWRAP_OVERHEAD)
int store_wrap(Store *s, const char *aad, const uint8_t *key, size_t len,
               uint8_t out[static STORE_WRAPPED_MAX]);
/* Opens the blob in column i into out: exactly `size` bytes, else -EBADMSG (damaged or wrong master key). */
int store_unwrap(Store *s, const char *aad, sqlite3_stmt *st, int i, uint8_t *out, size_t size);

/* Fills err (if given) for a person and returns r. */
int store_error(StoreError *err, int r, const char *field, const char *fmt, ...) _printf_(4, 5);
/* -EINVAL: `field` names the `what` ("network", "vendor") `name`, which does not exist (err->missing). */
int store_error_missing(StoreError *err, const char *field, const char *what, const char *name);
/* For failures that are not a rule: names no field. */
int store_error_db(StoreError *err, int r);
/* The public writers collect errors in a local StoreError e and finish with this: on failure it makes sure e
 * says something (a database error if no rule did) and copies it to err. err is untouched on success. */
int store_fail(StoreError *err, StoreError *e, int r);

bool store_key_pair_valid(const uint8_t key[static 32]);
bool store_uid_extended(const uint8_t *uid, size_t uid_len);

/* ---- rows shared between the modules ---- */

/* Network columns, in the order network_from_row() reads them. */
#define NETWORK_COLUMNS(n)                                                                          \
        n ".id, " n ".name, " n ".profile, " n ".network_address, " n ".channel, " n ".keys, " n    \
          ".allow_unsecured, " n ".pool_first, " n ".pool_last, " n ".pool_next, " n ".created, " n \
          ".updated"
#define NETWORK_N_COLUMNS 12

typedef struct NetworkInfo {
        int64_t id;
        StoreNetwork net; /* keys only if asked for */
        uint32_t pool_next;
} NetworkInfo;

int network_from_row(Store *s, sqlite3_stmt *st, int first, bool with_keys, NetworkInfo *ret);
/* -ENOENT if there is no such network. */
int network_lookup(Store *s, const char *name, bool with_keys, NetworkInfo *ret);
int network_lookup_id(Store *s, int64_t id, NetworkInfo *ret);

typedef struct VendorInfo {
        int64_t id;
        StoreVendor vendor;         /* key only if asked for */
        int64_t default_network_id; /* 0: none */
} VendorInfo;

int vendor_lookup(Store *s, const char *name, bool with_key, VendorInfo *ret);

/* ---- devices (store-device.c) ---- */

/* Decodes the user items column (at most PROV_PARAMS_USER_MAX into items); -EBADMSG if damaged. */
int column_user_items(sqlite3_stmt *st, int i, ProvUserItem *items, size_t *ret_n);

/* Re-checks every device that would be affected by a change of network n (with its new values) or vendor v
 * (with its new values and key kind): all the per-row rules and, if the device moves to another network,
 * its explicit address there. Then moves the devices (eff_network_id) and their address bookkeeping.
 * The caller runs inside store_tx_start(). */
int device_recheck_for_network(Store *s, const NetworkInfo *n, StoreError *err);
int device_recheck_for_vendor(Store *s, const VendorInfo *v, StoreVendorKeyKind key_kind, usec_t now,
                              StoreError *err);

/* ---- pool bookkeeping (store-address.c), inside a transaction ---- */

/* An explicit device address `address` is about to be set for uid in network n: -EEXIST (with err) if the
 * pool gave it to another UID that still holds it or holds it back; otherwise makes sure the pool will not
 * hand it out (drops a free or expired row). */
int address_claim_explicit(Store *s, const NetworkInfo *n, uint32_t address, const uint8_t *uid,
                           size_t uid_len, usec_t now, bool dry_run, StoreError *err);
/* An explicit address left network n: if the pool had passed over it, it becomes free for the pool. */
int address_unclaim_explicit(Store *s, int64_t network_id, uint32_t address);
/* The pool moved (added, removed, new first address): forget the free rows; the caller restarts pool_next.
 */
int address_pool_reset(Store *s, int64_t network_id);
int address_release_internal(Store *s, int64_t network_id, const uint8_t *uid, size_t uid_len, usec_t now);
/* Releases uid's pool address in the network unless it is `keep` (UINT64_MAX: release any). */
int address_release_other(Store *s, int64_t network_id, const uint8_t *uid, size_t uid_len, uint64_t keep,
                          usec_t now);
