/* SPDX-License-Identifier: Apache-2.0 */
/* Audit log statistics: GROUP BY aggregates over a time range. Bounded output: results beyond
 * STORE_STATS_RESULTS_MAX are summed as "other", routes are capped by the caller's limit. */

#include <stdio.h>

#include "store-internal.h"

/* " WHERE time >= ?1 AND time < ?2" as needed; both parameters are always bound (unused ones are harmless).
 */
static const char *range_sql(usec_t since, usec_t until) {
        if (since > 0 && until > 0)
                return " INDEXED BY audit_events_time WHERE time >= ?1 AND time < ?2";
        if (since > 0)
                return " INDEXED BY audit_events_time WHERE time >= ?1 AND ?2 = ?2";
        if (until > 0)
                return " INDEXED BY audit_events_time WHERE ?1 = ?1 AND time < ?2";
        return " WHERE ?1 = ?1 AND ?2 = ?2";
}

static int prepare_range(Store *s, const char *head, const char *tail, usec_t since, usec_t until,
                         sqlite3_stmt **ret) {
        _cleanup_(stmt_finalizep) sqlite3_stmt *st = NULL;
        _cleanup_free_ char *sql = NULL;
        int r;

        if (asprintf(&sql, "%s FROM audit_events%s%s", head, range_sql(since, until), tail) < 0)
                return -ENOMEM;
        r = store_prepare(s, sql, &st);
        if (r < 0)
                return r;
        r = sqlite_errno(bind_usec(st, 1, since) ?: bind_usec(st, 2, until));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(st);
        return 0;
}

static int column_count(sqlite3_stmt *st, int i, uint64_t *ret) {
        int64_t n;
        int r = column_int_range(st, i, 0, INT64_MAX, &n);
        if (r < 0)
                return r;
        *ret = (uint64_t)n;
        return 0;
}

int store_audit_stats(Store *s, usec_t since, usec_t until, StoreAuditStats *ret) {
        _cleanup_(stmt_finalizep) sqlite3_stmt *by_kind = NULL, *by_reason = NULL, *by_result = NULL;
        _cleanup_free_ StoreAuditStats *a = NULL;
        uint64_t listed = 0;
        int r;

        if (!s || !ret || (since > 0 && until > 0 && until < since))
                return -EINVAL;
        a = new0(StoreAuditStats, 1);
        if (!a)
                return -ENOMEM;

        r = prepare_range(s, "SELECT kind, COUNT(*)", " GROUP BY kind", since, until, &by_kind);
        if (r < 0)
                return r;
        while ((r = store_step(s, by_kind)) > 0) {
                int64_t k;
                uint64_t n;

                r = column_int_range(by_kind, 0, 0, _STORE_EVENT_KIND_MAX - 1, &k);
                if (r >= 0)
                        r = column_count(by_kind, 1, &n);
                if (r < 0)
                        return r;
                a->by_kind[k] += n;
                a->total += n;
        }
        if (r < 0)
                return r;

        r = prepare_range(s, "SELECT nack_reason, COUNT(*)",
                          " AND nack_reason IS NOT NULL GROUP BY nack_reason", since, until, &by_reason);
        if (r < 0)
                return r;
        while ((r = store_step(s, by_reason)) > 0) {
                int64_t k;
                uint64_t n;

                r = column_int_range(by_reason, 0, 0, STORE_STATS_NACK_MAX - 1, &k);
                if (r >= 0)
                        r = column_count(by_reason, 1, &n);
                if (r < 0)
                        return r;
                a->by_nack_reason[k] = n;
        }
        if (r < 0)
                return r;

        r = prepare_range(s, "SELECT result, COUNT(*) AS n",
                          " GROUP BY result ORDER BY n DESC, result LIMIT 64", since, until, &by_result);
        if (r < 0)
                return r;
        _Static_assert(STORE_STATS_RESULTS_MAX == 64, "the LIMIT above");
        while ((r = store_step(s, by_result)) > 0) {
                size_t i = a->n_results;

                r = column_string(by_result, 0, a->results[i].name, sizeof(a->results[i].name));
                if (r >= 0)
                        r = column_count(by_result, 1, &a->results[i].count);
                if (r < 0)
                        return r;
                listed += a->results[i].count;
                a->n_results++;
        }
        if (r < 0)
                return r;
        a->results_other = a->total >= listed ? a->total - listed : 0;

        *ret = *a;
        return 0;
}

int store_audit_route_stats(Store *s, usec_t since, usec_t until, unsigned limit, StoreRouteStatsCb cb,
                            void *userdata) {
        _cleanup_(stmt_finalizep) sqlite3_stmt *st = NULL;
        _cleanup_free_ char *tail = NULL;
        StoreRouteStats rs;
        int n = 0, r;

        if (!s || !cb || (since > 0 && until > 0 && until < since))
                return -EINVAL;
        if (asprintf(&tail,
                     " AND (gateway != '' OR sink != '') GROUP BY gateway, sink ORDER BY COUNT(*) DESC, "
                     "gateway, sink LIMIT %lld",
                     limit > 0 ? (long long)limit : -1LL) < 0)
                return -ENOMEM;
        r = prepare_range(
                s,
                "SELECT gateway, sink, SUM(kind = 0), SUM(kind = 2), SUM(kind = 3), SUM(kind = 1), "
                "COUNT(*)",
                tail, since, until, &st);
        if (r < 0)
                return r;
        _Static_assert(STORE_EVENT_START == 0 && STORE_EVENT_NACK == 1 && STORE_EVENT_DATA == 2 &&
                               STORE_EVENT_ACK == 3,
                       "the SUMs above");
        while ((r = store_step(s, st)) > 0) {
                rs = (StoreRouteStats){};
                r = column_string(st, 0, rs.gateway, sizeof(rs.gateway));
                if (r >= 0)
                        r = column_string(st, 1, rs.sink, sizeof(rs.sink));
                if (r >= 0)
                        r = column_count(st, 2, &rs.starts);
                if (r >= 0)
                        r = column_count(st, 3, &rs.data);
                if (r >= 0)
                        r = column_count(st, 4, &rs.acks);
                if (r >= 0)
                        r = column_count(st, 5, &rs.nacks);
                if (r >= 0)
                        r = column_count(st, 6, &rs.events);
                if (r < 0)
                        return r;
                r = cb(&rs, userdata);
                if (r < 0)
                        return r;
                if (n < INT32_MAX)
                        n++;
        }
        return r < 0 ? r : n;
}

/* ---- the management API's shape ---- */

static int mgmt_route_cb(const StoreRouteStats *rs, void *userdata) {
        MgmtStats *s = userdata;
        MgmtRouteCount *rc;

        if (s->n_routes >= MGMT_STATS_ROUTES_MAX) {
                s->routes_truncated = true;
                return -ECANCELED;
        }
        rc = &s->routes[s->n_routes++];
        snprintf(rc->gateway, sizeof(rc->gateway), "%s", rs->gateway);
        snprintf(rc->sink, sizeof(rc->sink), "%s", rs->sink);
        rc->starts = rs->starts;
        rc->data = rs->data;
        rc->acks = rs->acks;
        rc->nacks = rs->nacks;
        rc->events = rs->events;
        return 0;
}

int store_mgmt_stats(Store *s, usec_t since, usec_t until, MgmtStats *ret) {
        _cleanup_free_ StoreAuditStats *as = new0(StoreAuditStats, 1);
        MgmtStats m = { .since = since, .until = until };
        int r;

        if (!s || !ret)
                return -EINVAL;
        if (!as)
                return -ENOMEM;
        r = store_audit_stats(s, since, until, as);
        if (r < 0)
                return r;
        m.events_total = as->total;
        for (size_t k = 0; k < _MGMT_EVENT_KIND_MAX; k++)
                m.by_kind[k] = as->by_kind[k];
        for (size_t k = 0; k < ELEMENTSOF(m.by_nack_reason); k++)
                m.by_nack_reason[k] = as->by_nack_reason[k];
        m.n_by_result = MIN(as->n_results, (size_t)MGMT_STATS_RESULTS_MAX);
        for (size_t i = 0; i < m.n_by_result; i++) {
                snprintf(m.by_result[i].name, sizeof(m.by_result[i].name), "%s", as->results[i].name);
                m.by_result[i].count = as->results[i].count;
        }
        m.routes = new0(MgmtRouteCount, MGMT_STATS_ROUTES_MAX);
        if (!m.routes)
                return -ENOMEM;
        r = store_audit_route_stats(s, since, until, MGMT_STATS_ROUTES_MAX + 1, mgmt_route_cb, &m);
        if (r == -ECANCELED)
                r = 0; /* more routes than listed: routes_truncated */
        for (StoreDeviceState st = 0; r >= 0 && st < _STORE_DEVICE_STATE_MAX; st++) {
                StoreDeviceFilter f = { .state = st };
                r = store_device_count(s, &f, &m.devices_by_state[st]);
                m.devices_total += m.devices_by_state[st];
        }
        if (r < 0) {
                free(m.routes);
                return r;
        }
        *ret = m;
        return 0;
}
