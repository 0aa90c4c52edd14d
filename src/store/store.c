/* SPDX-License-Identifier: Apache-2.0 */
/* Opening the database, migrations, transactions, and the helpers the other store-*.c files share. */

#include <stdarg.h>
#include <stdio.h>

#include "hex.h"
#include "store-internal.h"
#include "store-migrations.h"
#include "store-test.h"

#define STORE_BUSY_TIMEOUT_DEFAULT (5 * USEC_PER_SEC)
#define STORE_ADDRESS_HOLD_DEFAULT (7 * USEC_PER_DAY)

int sqlite_errno(int rc) {
        switch (rc & 0xff) {
        case SQLITE_OK:
        case SQLITE_ROW:
        case SQLITE_DONE:
                return 0;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_READONLY:
                return -EROFS;
        case SQLITE_INTERRUPT:
                return -EINTR;
        case SQLITE_IOERR:
                if (rc == SQLITE_IOERR_NOMEM)
                        return -ENOMEM;
                return -EIO;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
                return -EBADMSG;
        case SQLITE_FULL:
                return -ENOSPC;
        case SQLITE_CANTOPEN:
        case SQLITE_NOTFOUND:
                return -ENOENT;
        case SQLITE_TOOBIG:
                return -EMSGSIZE;
        case SQLITE_CONSTRAINT:
                if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
                        return -EEXIST;
                return -EINVAL;
        case SQLITE_MISMATCH:
        case SQLITE_RANGE:
        case SQLITE_MISUSE:
                return -EINVAL;
        case SQLITE_NOLFS:
                return -EFBIG;
        case SQLITE_AUTH:
        case SQLITE_PERM:
                return -EACCES;
        case SQLITE_SCHEMA:
                return -EAGAIN;
        default: /* SQLITE_ERROR, SQLITE_PROTOCOL, ...: nothing the caller can fix */
                return -EIO;
        }
}

int store_prepare(Store *s, const char *sql, sqlite3_stmt **ret) {
        sqlite3_stmt *st = NULL;
        int r;

        r = sqlite_errno(sqlite3_prepare_v3(s->db, sql, -1, 0, &st, NULL));
        if (r < 0)
                return r;
        *ret = st;
        return 0;
}

int store_stmt(Store *s, StoreStmtId id, const char *sql, sqlite3_stmt **ret) {
        int r;

        assert(id >= 0 && id < _STMT_MAX);
        if (!s->stmts[id]) {
                r = sqlite_errno(
                        sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->stmts[id], NULL));
                if (r < 0)
                        return r;
        }
        *ret = s->stmts[id];
        return 0;
}

int store_step(Store *s, sqlite3_stmt *st) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                return 1;
        if (rc == SQLITE_DONE)
                return 0;
        return sqlite_errno(rc);
}

int store_exec(Store *s, const char *sql) {
        return sqlite_errno(sqlite3_exec(s->db, sql, NULL, NULL, NULL));
}

/* ---- column readers ---- */

int column_int_range(sqlite3_stmt *st, int i, int64_t min, int64_t max, int64_t *ret) {
        int64_t v;

        if (sqlite3_column_type(st, i) != SQLITE_INTEGER)
                return -EBADMSG;
        v = sqlite3_column_int64(st, i);
        if (v < min || v > max)
                return -EBADMSG;
        *ret = v;
        return 0;
}

int column_u32(sqlite3_stmt *st, int i, uint32_t *ret) {
        int64_t v;
        int r = column_int_range(st, i, 0, UINT32_MAX, &v);
        if (r < 0)
                return r;
        *ret = (uint32_t)v;
        return 0;
}

int column_opt_u32(sqlite3_stmt *st, int i, bool *ret_has, uint32_t *ret) {
        if (sqlite3_column_type(st, i) == SQLITE_NULL) {
                *ret_has = false;
                *ret = 0;
                return 0;
        }
        int r = column_u32(st, i, ret);
        if (r < 0)
                return r;
        *ret_has = true;
        return 0;
}

int column_bool(sqlite3_stmt *st, int i, bool *ret) {
        int64_t v;
        int r = column_int_range(st, i, 0, 1, &v);
        if (r < 0)
                return r;
        *ret = v != 0;
        return 0;
}

int column_usec(sqlite3_stmt *st, int i, usec_t *ret) {
        if (sqlite3_column_type(st, i) != SQLITE_INTEGER)
                return -EBADMSG;
        *ret = (usec_t)sqlite3_column_int64(st, i);
        return 0;
}

int column_string(sqlite3_stmt *st, int i, char *buf, size_t size) {
        const unsigned char *p;
        int n;

        assert(size > 0);
        switch (sqlite3_column_type(st, i)) {
        case SQLITE_NULL:
                buf[0] = '\0';
                return 0;
        case SQLITE_TEXT:
                break;
        default:
                return -EBADMSG;
        }
        p = sqlite3_column_text(st, i);
        n = sqlite3_column_bytes(st, i);
        if (!p)
                return -ENOMEM;
        if (n < 0 || (size_t)n >= size || memchr(p, 0, (size_t)n))
                return -EBADMSG;
        memcpy(buf, p, (size_t)n);
        buf[n] = '\0';
        return 0;
}

int column_blob(sqlite3_stmt *st, int i, const uint8_t **ret, size_t *ret_len) {
        const void *p;
        int n;

        switch (sqlite3_column_type(st, i)) {
        case SQLITE_NULL:
                *ret = NULL;
                *ret_len = 0;
                return 0;
        case SQLITE_BLOB:
                break;
        default:
                return -EBADMSG;
        }
        p = sqlite3_column_blob(st, i);
        n = sqlite3_column_bytes(st, i);
        if (n < 0)
                return -EBADMSG;
        if (!p && n > 0)
                return -ENOMEM;
        *ret = p;
        *ret_len = (size_t)n;
        return 0;
}

/* ---- keys ---- */

void store_aad_network(const char *name, char buf[static STORE_AAD_MAX]) {
        snprintf(buf, STORE_AAD_MAX, "network:%s", name);
}

void store_aad_vendor(const char *name, char buf[static STORE_AAD_MAX]) {
        snprintf(buf, STORE_AAD_MAX, "vendor:%s", name);
}

void store_aad_device(const uint8_t *uid, size_t uid_len, char buf[static STORE_AAD_MAX]) {
        char hex[2 * PROV_UID_MAX + 1];

        assert(uid_len <= PROV_UID_MAX);
        snprintf(buf, STORE_AAD_MAX, "device:%s", hex_encode(uid, uid_len, hex, sizeof(hex)));
}

int store_wrap(Store *s, const char *aad, const uint8_t *key, size_t len,
               uint8_t out[static STORE_WRAPPED_MAX]) {
        assert(len <= 32);
        return keywrap_seal(s->master, aad, key, len, out, STORE_WRAPPED_MAX);
}

int store_unwrap(Store *s, const char *aad, sqlite3_stmt *st, int i, uint8_t *out, size_t size) {
        uint8_t plain[64];
        const uint8_t *blob;
        size_t blob_len;
        int r;

        assert(size <= sizeof(plain));
        r = column_blob(st, i, &blob, &blob_len);
        if (r < 0)
                return r;
        if (!blob || blob_len != size + KEYWRAP_OVERHEAD)
                return -EBADMSG;
        r = keywrap_open(s->master, aad, blob, blob_len, plain, sizeof(plain));
        if (r >= 0 && (size_t)r != size)
                r = -EBADMSG;
        if (r >= 0) {
                memcpy(out, plain, size);
                r = 0;
        } else if (r != -ENOMEM)
                r = -EBADMSG;
        explicit_bzero_safe(plain, sizeof(plain));
        return r;
}

bool store_key_pair_valid(const uint8_t key[static 32]) {
        return prov_key_valid(key) && prov_key_valid(key + 16);
}

bool store_uid_extended(const uint8_t *uid, size_t uid_len) {
        return uid_len == PROV_EXTENDED_UID_SIZE && uid[0] == 0x01 && uid[17] == 0x01;
}

/* ---- errors for people ---- */

int store_error(StoreError *err, int r, const char *field, const char *fmt, ...) {
        va_list ap;

        if (!err)
                return r;
        snprintf(err->field, sizeof(err->field), "%s", strempty(field));
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
        err->missing = false;
        return r;
}

int store_error_missing(StoreError *err, const char *field, const char *what, const char *name) {
        (void)store_error(err, -EINVAL, field, "There is no %s '%s'", what, name);
        if (err)
                err->missing = true;
        return -EINVAL;
}

int store_error_db(StoreError *err, int r) {
        switch (r) {
        case -EBUSY:
                return store_error(err, r, NULL,
                                   "The database is busy (another writer holds it), try again");
        case -EROFS:
                return store_error(err, r, NULL, "The database is open read-only");
        case -EBADMSG:
                return store_error(err, r, NULL,
                                   "A stored row is damaged or was written with another master key");
        case -ECANCELED:
                return store_error(err, r, NULL, "The surrounding transaction was already rolled back");
        default:
                errno = -r;
                return store_error(err, r, NULL, "Database error: %m");
        }
}

/* ---- transactions ---- */

int store_tx_start(Store *s) {
        if (s->read_only)
                return -EROFS;
        if (s->in_tx) {
                if (s->tx_aborted || sqlite3_get_autocommit(s->db)) {
                        /* Writing now would not be part of the caller's transaction. */
                        s->tx_aborted = true;
                        return -ECANCELED;
                }
                return store_exec(s, "SAVEPOINT store_write");
        }
        return store_exec(s, "BEGIN IMMEDIATE");
}

int store_tx_end(Store *s, int r) {
        int q;

        if (s->in_tx) {
                if (sqlite3_get_autocommit(s->db)) {
                        /* SQLite rolled the whole transaction back (I/O error, disk full, ...). */
                        s->tx_aborted = true;
                        return r < 0 ? r : -ECANCELED;
                }
                if (r >= 0) {
                        q = store_exec(s, "RELEASE store_write");
                        if (q >= 0)
                                return r;
                        r = q;
                }
                (void)store_exec(s, "ROLLBACK TO store_write");
                (void)store_exec(s, "RELEASE store_write");
                return r;
        }

        if (r >= 0) {
                q = store_exec(s, "COMMIT");
                if (q >= 0)
                        return r;
                r = q;
        }
        if (!sqlite3_get_autocommit(s->db))
                (void)store_exec(s, "ROLLBACK");
        return r;
}

int store_begin(Store *s) {
        int r;

        assert(s);
        if (s->read_only)
                return -EROFS;
        if (s->in_tx)
                return -EALREADY;
        r = store_exec(s, "BEGIN IMMEDIATE");
        if (r < 0)
                return r;
        s->in_tx = true;
        s->tx_aborted = false;
        return 0;
}

int store_commit(Store *s) {
        int r;

        assert(s);
        if (!s->in_tx)
                return -ENOTCONN;
        s->in_tx = false;
        if (s->tx_aborted || sqlite3_get_autocommit(s->db)) {
                s->tx_aborted = false;
                return -ECANCELED;
        }
        r = store_exec(s, "COMMIT");
        if (r < 0 && !sqlite3_get_autocommit(s->db))
                (void)store_exec(s, "ROLLBACK");
        return r;
}

int store_rollback(Store *s) {
        assert(s);
        if (!s->in_tx)
                return -ENOTCONN;
        s->in_tx = false;
        s->tx_aborted = false;
        if (sqlite3_get_autocommit(s->db))
                return 0;
        return store_exec(s, "ROLLBACK");
}

/* ---- open, migrations ---- */

static int store_user_version(Store *s, int *ret) {
        _cleanup_(stmt_finalizep) sqlite3_stmt *st = NULL;
        int64_t v;
        int r;

        r = store_prepare(s, "PRAGMA user_version", &st);
        if (r < 0)
                return r;
        r = store_step(s, st);
        if (r < 0)
                return r;
        if (r == 0)
                return -EBADMSG;
        r = column_int_range(st, 0, 0, INT32_MAX, &v);
        if (r < 0)
                return r;
        *ret = (int)v;
        return 0;
}

int store_schema_version(Store *s) {
        int v, r;

        assert(s);
        r = store_user_version(s, &v);
        return r < 0 ? r : v;
}

/* Migration i must be named "NNNN_*.sql" with NNNN = i + 1: the version it brings the schema to. */
static bool migration_name_valid(const char *name, size_t i) {
        char prefix[32];

        snprintf(prefix, sizeof(prefix), "%04zu_", i + 1);
        return startswith(name, prefix) && strlen(name) > 9 && streq(name + strlen(name) - 4, ".sql");
}

static int store_apply_migration(Store *s, int version) {
        char pragma[64];
        int r;

        /* One transaction: the schema change and the version move together or not at all. */
        r = store_exec(s, (const char *)store_migrations[version].data);
        if (r < 0)
                return r;
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version + 1);
        return store_exec(s, pragma);
}

/* Returns the number of migrations applied. */
static int store_migrate(Store *s) {
        int applied = 0, version, r;

        for (size_t i = 0; i < store_migrations_count; i++)
                if (!migration_name_valid(store_migrations[i].name, i))
                        return -EINVAL; /* a build mistake, caught by the unit tests */

        for (;;) {
                r = store_user_version(s, &version);
                if (r < 0)
                        return r;
                if ((size_t)version > store_migrations_count)
                        return -EPROTONOSUPPORT; /* written by a newer meshprov */
                if ((size_t)version == store_migrations_count)
                        return applied;
                if (s->read_only)
                        return -EROFS;

                r = store_exec(s, "BEGIN IMMEDIATE");
                if (r < 0)
                        return r;
                /* Another process may have migrated while we waited for the lock. */
                r = store_user_version(s, &version);
                if (r >= 0 && (size_t)version > store_migrations_count)
                        r = -EPROTONOSUPPORT;
                if (r >= 0 && (size_t)version < store_migrations_count) {
                        r = store_apply_migration(s, version);
                        if (r >= 0)
                                applied++;
                }
                if (r >= 0)
                        r = store_exec(s, "COMMIT");
                if (r < 0) {
                        if (!sqlite3_get_autocommit(s->db))
                                (void)store_exec(s, "ROLLBACK");
                        return r;
                }
        }
}

static int store_configure(Store *s, const StoreOptions *opts) {
        usec_t busy = s->busy_timeout = opts->busy_timeout ?: STORE_BUSY_TIMEOUT_DEFAULT;
        _cleanup_(stmt_finalizep) sqlite3_stmt *st = NULL;
        int r;

        (void)sqlite3_extended_result_codes(s->db, 1);
        (void)sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
        (void)sqlite3_db_config(s->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
        r = sqlite_errno(sqlite3_busy_timeout(s->db, (int)MIN(busy / USEC_PER_MSEC, (usec_t)INT32_MAX)));
        if (r < 0)
                return r;

        if (!s->read_only) {
                /* Also the first read of the file: a file that is not a database fails here (-EBADMSG). */
                r = store_prepare(s, "PRAGMA journal_mode = WAL", &st);
                if (r < 0)
                        return r;
                r = store_step(s, st);
                if (r < 0)
                        return r;
                r = store_exec(s, "PRAGMA synchronous = NORMAL");
                if (r < 0)
                        return r;
        }
        return store_exec(s, "PRAGMA foreign_keys = ON");
}

#define MASTER_KEY_CHECK_AAD "meshprov:master-key-check"

/* Reads one wrapped value with its own statement; 1 if it unwrapped, 0 if there is no row, -EKEYREJECTED if
 * it did not unwrap (another master key). */
static int master_key_try(Store *s, const char *sql, bool network_aad) {
        _cleanup_(stmt_finalizep) sqlite3_stmt *st = NULL;
        uint8_t plain[32];
        char aad[STORE_AAD_MAX];
        int r;

        r = store_prepare(s, sql, &st);
        if (r < 0)
                return r;
        r = store_step(s, st);
        if (r <= 0)
                return r;
        if (sqlite3_column_bytes(st, 0) != (int)(sizeof(plain) + KEYWRAP_OVERHEAD))
                return -EBADMSG; /* damaged: not a question of the key */
        if (network_aad)
                store_aad_network((const char *)sqlite3_column_text(st, 1) ?: "", aad);
        else
                snprintf(aad, sizeof(aad), "%s", MASTER_KEY_CHECK_AAD);
        r = store_unwrap(s, aad, st, 0, plain, sizeof(plain));
        explicit_bzero_safe(plain, sizeof(plain));
        if (r == -ENOMEM)
                return r;
        return r < 0 ? -EKEYREJECTED : 1;
}

/* Refuses a master key that does not match the database. The check value is written on the first open
 * with a key; a database that already holds network keys without a check value (written before 0002) is
 * checked against one of them first. */
static int store_check_master_key(Store *s) {
        uint8_t zero[32] = {}, blob[STORE_WRAPPED_MAX];
        _cleanup_(stmt_finalizep) sqlite3_stmt *st = NULL;
        int r, n;

        r = master_key_try(s, "SELECT value FROM store_meta WHERE name = 'master_key_check'", false);
        if (r != 0)
                return r < 0 ? r : 0;
        r = master_key_try(s, "SELECT keys, name FROM networks ORDER BY id LIMIT 1", true);
        if (r < 0)
                return r;
        if (s->read_only)
                return 0;
        n = store_wrap(s, MASTER_KEY_CHECK_AAD, zero, sizeof(zero), blob);
        if (n < 0)
                return n;
        r = store_prepare(
                s, "INSERT OR IGNORE INTO store_meta (name, value) VALUES ('master_key_check', ?1)", &st);
        if (r < 0)
                return r;
        r = sqlite_errno(sqlite3_bind_blob(st, 1, blob, n, SQLITE_STATIC));
        if (r < 0)
                return r;
        r = store_step(s, st);
        if (r < 0)
                return r;
        /* another process may have written its own check value first (INSERT OR IGNORE): read it back */
        r = master_key_try(s, "SELECT value FROM store_meta WHERE name = 'master_key_check'", false);
        return r < 0 ? r : 0;
}

int store_open(const char *path, const StoreOptions *opts, Store **ret) {
        _cleanup_(store_freep) Store *s = NULL;
        int flags, n, r;

        assert(path);
        assert(opts);
        assert(ret);

        if (!opts->master_key)
                return -EINVAL;

        s = new0(Store, 1);
        if (!s)
                return -ENOMEM;
        memcpy(s->master, opts->master_key, KEYWRAP_MASTER_KEY_SIZE);
        s->address_hold = opts->address_hold ?: STORE_ADDRESS_HOLD_DEFAULT;
        s->read_only = opts->read_only;

        flags = (s->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
        r = sqlite3_open_v2(path, &s->db, flags, NULL);
        if (r != SQLITE_OK) {
                int e = s->db ? sqlite3_system_errno(s->db) : 0;
                return e > 0 && (r & 0xff) == SQLITE_CANTOPEN ? -e : sqlite_errno(r);
        }

        r = store_configure(s, opts);
        if (r < 0)
                return r;

        r = store_migrate(s);
        if (r < 0)
                return r;
        n = r;

        r = store_check_master_key(s);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(s);
        return n;
}

static int apply_busy_timeout(Store *s, usec_t timeout) {
        return sqlite_errno(
                sqlite3_busy_timeout(s->db, (int)MIN(timeout / USEC_PER_MSEC, (usec_t)INT32_MAX)));
}

int store_set_busy_timeout(Store *s, usec_t timeout) {
        if (!s)
                return -EINVAL;
        s->busy_timeout = timeout ?: STORE_BUSY_TIMEOUT_DEFAULT;
        return apply_busy_timeout(s, s->busy_timeout);
}

int store_busy_short(Store *s, usec_t timeout) {
        if (!s)
                return -EINVAL;
        return apply_busy_timeout(s, MIN(timeout, s->busy_timeout));
}

int store_busy_restore(Store *s) {
        if (!s)
                return -EINVAL;
        return apply_busy_timeout(s, s->busy_timeout);
}

Store *store_free(Store *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < _STMT_MAX; i++)
                (void)sqlite3_finalize(s->stmts[i]);
        if (s->db) {
                if (!sqlite3_get_autocommit(s->db))
                        (void)store_exec(s, "ROLLBACK");
                (void)sqlite3_close(s->db);
        }
        explicit_bzero_safe(s->master, sizeof(s->master));
        free(s);
        return NULL;
}

/* ---- names and enums ---- */

bool store_name_valid(const char *name) {
        size_t n;

        if (!name)
                return false;
        n = strnlen(name, NAME_MAX_LEN + 1);
        if (n == 0 || n > NAME_MAX_LEN)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = name[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-'))
                        return false;
        }
        return true;
}

static const char *const event_kind_table[_STORE_EVENT_KIND_MAX] = {
        [STORE_EVENT_START] = "start",     [STORE_EVENT_NACK] = "nack",
        [STORE_EVENT_DATA] = "data",       [STORE_EVENT_ACK] = "ack",
        [STORE_EVENT_EXPIRED] = "expired", [STORE_EVENT_SEND_FAILED] = "send_failed",
        [STORE_EVENT_ERROR] = "error",
};

static const char *const device_state_table[_STORE_DEVICE_STATE_MAX] = {
        [STORE_DEVICE_NEW] = "new",
        [STORE_DEVICE_SENT] = "sent",
        [STORE_DEVICE_PROVISIONED] = "provisioned",
};

static const char *const vendor_key_kind_table[] = {
        [STORE_VENDOR_KEY_NONE] = "none",
        [STORE_VENDOR_KEY_FACTORY] = "factory",
        [STORE_VENDOR_KEY_MASTER] = "master",
};

static const char *const enroll_kind_table[] = {
        [STORE_ENROLL_NONE] = "none",
        [STORE_ENROLL_UID_PREFIX] = "uid-prefix",
        [STORE_ENROLL_AUTHENTICATOR] = "authenticator",
};

static int table_lookup(const char *const *table, size_t n, const char *s) {
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (table[i] && streq(table[i], s))
                        return (int)i;
        return -EINVAL;
}

const char *store_event_kind_to_string(StoreEventKind k) {
        return k >= 0 && k < _STORE_EVENT_KIND_MAX ? event_kind_table[k] : NULL;
}

StoreEventKind store_event_kind_from_string(const char *s) {
        return (StoreEventKind)table_lookup(event_kind_table, ELEMENTSOF(event_kind_table), s);
}

const char *store_device_state_to_string(StoreDeviceState st) {
        return st >= 0 && st < _STORE_DEVICE_STATE_MAX ? device_state_table[st] : NULL;
}

StoreDeviceState store_device_state_from_string(const char *s) {
        return (StoreDeviceState)table_lookup(device_state_table, ELEMENTSOF(device_state_table), s);
}

const char *store_vendor_key_kind_to_string(StoreVendorKeyKind k) {
        return (size_t)k < ELEMENTSOF(vendor_key_kind_table) ? vendor_key_kind_table[k] : NULL;
}

StoreVendorKeyKind store_vendor_key_kind_from_string(const char *s) {
        return (StoreVendorKeyKind)table_lookup(vendor_key_kind_table, ELEMENTSOF(vendor_key_kind_table), s);
}

const char *store_enroll_kind_to_string(StoreEnrollKind k) {
        return (size_t)k < ELEMENTSOF(enroll_kind_table) ? enroll_kind_table[k] : NULL;
}

StoreEnrollKind store_enroll_kind_from_string(const char *s) {
        return (StoreEnrollKind)table_lookup(enroll_kind_table, ELEMENTSOF(enroll_kind_table), s);
}

/* ---- test helpers (store-test.h) ---- */

int store_explain_sql(Store *s, const char *sql, char **ret) {
        _cleanup_(stmt_finalizep) sqlite3_stmt *st = NULL;
        _cleanup_free_ char *q = NULL, *out = NULL;
        size_t len = 0;
        int r;

        if (asprintf(&q, "EXPLAIN QUERY PLAN %s", sql) < 0)
                return -ENOMEM;
        r = store_prepare(s, q, &st);
        if (r < 0)
                return r;
        out = strdup("");
        if (!out)
                return -ENOMEM;
        while ((r = store_step(s, st)) > 0) {
                const unsigned char *detail = sqlite3_column_text(st, 3);
                size_t n = detail ? strlen((const char *)detail) : 0;
                char *t = realloc(out, len + n + 2);
                if (!t)
                        return -ENOMEM;
                out = t;
                memcpy(out + len, detail ?: (const unsigned char *)"", n);
                out[len + n] = '\n';
                out[len + n + 1] = '\0';
                len += n + 1;
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(out);
        return 0;
}

size_t store_migration_count(void) {
        return store_migrations_count;
}

const char *store_migration_name(size_t i) {
        return i < store_migrations_count ? store_migrations[i].name : NULL;
}

const char *store_query_sql(StoreQuery q) {
        switch (q) {
        case STORE_QUERY_RESOLVE_DEVICE:
                return store_sql_resolve_device;
        case STORE_QUERY_RESOLVE_VENDOR:
                return store_sql_resolve_vendor;
        case STORE_QUERY_DEVICE_GET:
                return store_sql_device_get;
        case STORE_QUERY_ADDRESS_BY_UID:
                return store_sql_address_by_uid;
        case STORE_QUERY_ADDRESS_REUSABLE:
                return store_sql_address_reusable;
        case STORE_QUERY_ADDRESS_OCCUPIED:
                return store_sql_address_occupied;
        case _STORE_QUERY_MAX:
        case _STORE_QUERY_INVALID:
                break;
        }
        return NULL;
}

int store_test_exec(Store *s, const char *sql) {
        return store_exec(s, sql);
}

int store_fail(StoreError *err, StoreError *e, int r) {
        if (r >= 0)
                return r;
        if (e->message[0] == '\0')
                (void)store_error_db(e, r);
        if (err)
                *err = *e;
        return r;
}
