/* SPDX-License-Identifier: Apache-2.0 */
/* The audit log: every decision, appended in batches, queried with filters and id-based paging, pruned by
 * age. Queries by UID use audit_events_uid (uid, id), by time audit_events_time; neither scans the table. */

#include "store-internal.h"
#include "store-test.h"
#include "string-util.h"

static bool string_terminated(const char *s, size_t size) {
        return strnlen(s, size) < size;
}

static int audit_event_check(const StoreAuditEvent *e) {
        if (e->kind < 0 || e->kind >= _STORE_EVENT_KIND_MAX)
                return -EINVAL;
        if (e->uid_len > PROV_UID_MAX)
                return -EINVAL;
        if (e->method < -1 || e->method > UINT8_MAX || e->nack_reason < -1 || e->nack_reason > UINT8_MAX)
                return -EINVAL;
        if (!string_terminated(e->vendor, sizeof(e->vendor)) ||
            !string_terminated(e->network, sizeof(e->network)) ||
            !string_terminated(e->gateway, sizeof(e->gateway)) ||
            !string_terminated(e->sink, sizeof(e->sink)) ||
            !string_terminated(e->result, sizeof(e->result)) ||
            !string_terminated(e->detail, sizeof(e->detail)))
                return -EINVAL;
        return 0;
}

static int audit_insert(Store *s, const StoreAuditEvent *e) {
        _cleanup_(stmt_resetp) sqlite3_stmt *st = NULL;
        int rc, r;

        r = store_stmt(s, STMT_AUDIT_INSERT,
                       "INSERT INTO audit_events (time, kind, uid, method, vendor, network, gateway, sink, "
                       "source_address, node_address, session_id, result, nack_reason, detail) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                       &st);
        if (r < 0)
                return r;
        rc = bind_usec(st, 1, e->time) ?: sqlite3_bind_int(st, 2, e->kind)
                ?: bind_blob_or_null(st, 3, e->uid, e->uid_len) ?: bind_text(st, 5, e->vendor)
                ?: bind_text(st, 6, e->network) ?: bind_text(st, 7, e->gateway) ?: bind_text(st, 8, e->sink)
                ?: sqlite3_bind_int64(st, 9, e->source_address) ?: sqlite3_bind_int64(st, 10, e->node_address)
                ?: sqlite3_bind_int(st, 11, e->session_id) ?: bind_text(st, 12, e->result)
                ?: bind_text(st, 14, e->detail);
        if (rc == SQLITE_OK && e->method >= 0)
                rc = sqlite3_bind_int(st, 4, e->method);
        if (rc == SQLITE_OK && e->nack_reason >= 0)
                rc = sqlite3_bind_int(st, 13, e->nack_reason);
        r = sqlite_errno(rc);
        if (r < 0)
                return r;
        return store_step(s, st);
}

static int audit_append(Store *s, const StoreAuditEvent *events, size_t n) {
        int r;

        for (size_t i = 0; i < n; i++) {
                r = audit_insert(s, &events[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

int store_audit_append(Store *s, const StoreAuditEvent *events, size_t n) {
        int r;

        if (!s || (n > 0 && !events) || n > INT32_MAX)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                r = audit_event_check(&events[i]);
                if (r < 0)
                        return r;
        }
        if (n == 0)
                return 0;
        r = store_tx_start(s);
        if (r < 0)
                return r;
        r = store_tx_end(s, audit_append(s, events, n));
        return r < 0 ? r : (int)n;
}

#define AUDIT_COLUMNS                                                                                 \
        "id, time, kind, uid, method, vendor, network, gateway, sink, source_address, node_address, " \
        "session_id, result, nack_reason, detail"

int store_audit_query_sql(const StoreAuditFilter *f, char **ret) {
        _cleanup_free_ char *sql = NULL;
        size_t len = 0;
        int r;

        assert(f);
        /* Pin the index: by UID (which also gives id order), else by time, else the rowid order. */
        r = strappendf(&sql, &len, "SELECT " AUDIT_COLUMNS " FROM audit_events%s WHERE 1",
                       f->uid                         ? " INDEXED BY audit_events_uid"
                       : f->since > 0 || f->until > 0 ? " INDEXED BY audit_events_time"
                                                      : "");
        if (r >= 0 && f->uid)
                r = strappendf(&sql, &len, " AND uid = :uid");
        if (r >= 0 && f->since > 0)
                r = strappendf(&sql, &len, " AND time >= :since");
        if (r >= 0 && f->until > 0)
                r = strappendf(&sql, &len, " AND time < :until");
        if (r >= 0 && f->kind >= 0)
                r = strappendf(&sql, &len, " AND kind = :kind");
        if (r >= 0 && f->result)
                r = strappendf(&sql, &len, " AND result = :result");
        if (r >= 0 && f->after_id > 0)
                r = strappendf(&sql, &len, " AND id %s :after", f->descending ? "<" : ">");
        if (r >= 0)
                r = strappendf(&sql, &len, " ORDER BY id %s", f->descending ? "DESC" : "ASC");
        if (r >= 0 && f->limit > 0)
                r = strappendf(&sql, &len, " LIMIT :limit");
        if (r < 0)
                return r;
        *ret = TAKE_PTR(sql);
        return 0;
}

static int bind_named(sqlite3_stmt *st, const char *name, int64_t v) {
        int i = sqlite3_bind_parameter_index(st, name);
        return i > 0 ? sqlite3_bind_int64(st, i, v) : SQLITE_OK;
}

static int audit_from_row_impl(sqlite3_stmt *st, StoreAuditEvent *e) {
        const uint8_t *uid;
        size_t uid_len;
        int64_t x;
        int r;

        r = column_int_range(st, 0, 1, INT64_MAX, &e->id);
        if (r < 0)
                return r;
        r = column_usec(st, 1, &e->time);
        if (r < 0)
                return r;
        r = column_int_range(st, 2, 0, _STORE_EVENT_KIND_MAX - 1, &x);
        if (r < 0)
                return r;
        e->kind = (StoreEventKind)x;
        r = column_blob(st, 3, &uid, &uid_len);
        if (r < 0)
                return r;
        if (uid_len > PROV_UID_MAX)
                return -EBADMSG;
        if (uid_len > 0)
                memcpy(e->uid, uid, uid_len);
        e->uid_len = uid_len;
        e->method = -1;
        if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
                r = column_int_range(st, 4, 0, UINT8_MAX, &x);
                if (r < 0)
                        return r;
                e->method = (int)x;
        }
        r = column_string(st, 5, e->vendor, sizeof(e->vendor));
        if (r >= 0)
                r = column_string(st, 6, e->network, sizeof(e->network));
        if (r >= 0)
                r = column_string(st, 7, e->gateway, sizeof(e->gateway));
        if (r >= 0)
                r = column_string(st, 8, e->sink, sizeof(e->sink));
        if (r >= 0)
                r = column_u32(st, 9, &e->source_address);
        if (r >= 0)
                r = column_u32(st, 10, &e->node_address);
        if (r < 0)
                return r;
        r = column_int_range(st, 11, 0, UINT8_MAX, &x);
        if (r < 0)
                return r;
        e->session_id = (uint8_t)x;
        r = column_string(st, 12, e->result, sizeof(e->result));
        if (r < 0)
                return r;
        e->nack_reason = -1;
        if (sqlite3_column_type(st, 13) != SQLITE_NULL) {
                r = column_int_range(st, 13, 0, UINT8_MAX, &x);
                if (r < 0)
                        return r;
                e->nack_reason = (int)x;
        }
        return column_string(st, 14, e->detail, sizeof(e->detail));
}

int store_audit_query(Store *s, const StoreAuditFilter *f, StoreAuditCb cb, void *userdata) {
        _cleanup_(stmt_finalizep) sqlite3_stmt *st = NULL;
        static const StoreAuditFilter all = { .kind = -1 };
        _cleanup_free_ char *sql = NULL;
        StoreAuditEvent e;
        int rc, r;

        if (!s || !cb)
                return -EINVAL;
        f = f ?: &all;
        if (f->kind < -1 || f->kind >= _STORE_EVENT_KIND_MAX || f->after_id < 0)
                return -EINVAL;
        if (f->uid && !prov_uid_len_valid(f->uid_len))
                return -EINVAL;

        r = store_audit_query_sql(f, &sql);
        if (r < 0)
                return r;
        r = store_prepare(s, sql, &st);
        if (r < 0)
                return r;
        rc = bind_named(st, ":since", (int64_t)f->since) ?: bind_named(st, ":until", (int64_t)f->until)
                ?: bind_named(st, ":kind", f->kind) ?: bind_named(st, ":after", f->after_id)
                ?: bind_named(st, ":limit", f->limit);
        if (rc == SQLITE_OK && f->uid)
                rc = sqlite3_bind_blob(st, sqlite3_bind_parameter_index(st, ":uid"), f->uid, (int)f->uid_len,
                                       SQLITE_TRANSIENT);
        if (rc == SQLITE_OK && f->result)
                rc = bind_text(st, sqlite3_bind_parameter_index(st, ":result"), f->result);
        r = sqlite_errno(rc);
        if (r < 0)
                return r;

        while ((r = store_step(s, st)) > 0) {
                e = (StoreAuditEvent){};
                r = audit_from_row_impl(st, &e);
                if (r < 0)
                        return r;
                r = cb(&e, userdata);
                if (r < 0)
                        return r;
        }
        return r;
}

static int audit_prune(Store *s, usec_t before, unsigned max_rows) {
        _cleanup_(stmt_finalizep) sqlite3_stmt *st = NULL;
        int r;

        r = store_prepare(s,
                          "DELETE FROM audit_events WHERE id IN "
                          "(SELECT id FROM audit_events WHERE time < ?1 ORDER BY time LIMIT ?2)",
                          &st);
        if (r < 0)
                return r;
        r = sqlite_errno(bind_usec(st, 1, before)
                                 ?: sqlite3_bind_int64(st, 2, max_rows > 0 ? (int64_t)max_rows : -1));
        if (r < 0)
                return r;
        r = store_step(s, st);
        if (r < 0)
                return r;
        return sqlite3_changes(s->db);
}

int store_audit_prune(Store *s, usec_t before, unsigned max_rows) {
        int r;

        if (!s)
                return -EINVAL;
        r = store_tx_start(s);
        if (r < 0)
                return r;
        return store_tx_end(s, audit_prune(s, before, max_rows));
}
