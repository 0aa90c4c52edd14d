/* SPDX-License-Identifier: Apache-2.0 */
/* Audit statistics for the management API (src/store/store-stats.c): counts per kind, NACK reason, result
 * and route over a time range, against events appended to a real (in-memory) database. */
#include <stdio.h>

#include "store.h"
#include "test-helpers.h"

#define T0 ((usec_t)1700000000 * USEC_PER_SEC)

static uint8_t master[32] = { 1, 2, 3 };

static Store *open_store(void) {
        StoreOptions o = { .master_key = master };
        Store *s = NULL;
        assert_true(store_open(":memory:", &o, &s) >= 0);
        return s;
}

static StoreAuditEvent event(usec_t t, StoreEventKind kind, const char *result, int reason, const char *gw,
                             const char *sink) {
        StoreAuditEvent e = { .time = t, .kind = kind, .method = 1, .nack_reason = reason, .uid_len = 1 };
        snprintf(e.result, sizeof(e.result), "%s", result);
        snprintf(e.gateway, sizeof(e.gateway), "%s", gw);
        snprintf(e.sink, sizeof(e.sink), "%s", sink);
        return e;
}

/* 10 events: gw-a/sink0 has 2 STARTs, 1 DATA, 1 ACK; gw-b/sink0 3 STARTs and 2 NACKs (not_authorized,
 * method_not_supported); a local sink "uart0" 1 START; 1 error without a route. Times T0+0..T0+9 s. */
static void fill(Store *s) {
        StoreAuditEvent ev[] = {
                event(T0 + 0 * USEC_PER_SEC, STORE_EVENT_START, "ok", -1, "gw-a", "sink0"),
                event(T0 + 1 * USEC_PER_SEC, STORE_EVENT_DATA, "ok", -1, "gw-a", "sink0"),
                event(T0 + 2 * USEC_PER_SEC, STORE_EVENT_ACK, "ok", -1, "gw-a", "sink0"),
                event(T0 + 3 * USEC_PER_SEC, STORE_EVENT_START, "ok", -1, "gw-b", "sink0"),
                event(T0 + 4 * USEC_PER_SEC, STORE_EVENT_NACK, "not_authorized", 0, "gw-b", "sink0"),
                event(T0 + 5 * USEC_PER_SEC, STORE_EVENT_START, "ok", -1, "gw-b", "sink0"),
                event(T0 + 6 * USEC_PER_SEC, STORE_EVENT_NACK, "method_not_supported", 1, "gw-b", "sink0"),
                event(T0 + 7 * USEC_PER_SEC, STORE_EVENT_START, "ok", -1, "", "uart0"),
                event(T0 + 8 * USEC_PER_SEC, STORE_EVENT_ERROR, "error", -1, "", ""),
                event(T0 + 9 * USEC_PER_SEC, STORE_EVENT_START, "ok", -1, "gw-b", "sink0"),
        };
        assert_int_equal(store_audit_append(s, ev, ELEMENTSOF(ev)), (int)ELEMENTSOF(ev));
}

static uint64_t result_count(const StoreAuditStats *a, const char *name) {
        for (size_t i = 0; i < a->n_results; i++)
                if (streq(a->results[i].name, name))
                        return a->results[i].count;
        return 0;
}

static void test_stats_all_and_range(void **state) {
        _cleanup_(store_freep) Store *s = open_store();
        StoreAuditStats a;

        assert_int_equal(store_audit_stats(s, 0, 0, &a), 0);
        assert_int_equal(a.total, 0);
        assert_int_equal(a.n_results, 0);

        fill(s);
        assert_int_equal(store_audit_stats(s, 0, 0, &a), 0);
        assert_int_equal(a.total, 10);
        assert_int_equal(a.by_kind[STORE_EVENT_START], 5);
        assert_int_equal(a.by_kind[STORE_EVENT_NACK], 2);
        assert_int_equal(a.by_kind[STORE_EVENT_ERROR], 1);
        assert_int_equal(a.by_nack_reason[0], 1);
        assert_int_equal(a.by_nack_reason[1], 1);
        assert_int_equal(a.by_nack_reason[2], 0);
        assert_int_equal(a.n_results, 4);
        assert_string_equal(a.results[0].name, "ok"); /* most frequent first */
        assert_int_equal(a.results[0].count, 7);
        assert_int_equal(result_count(&a, "not_authorized"), 1);
        assert_int_equal(a.results_other, 0);

        /* [T0+3, T0+7): START, NACK, START, NACK */
        assert_int_equal(store_audit_stats(s, T0 + 3 * USEC_PER_SEC, T0 + 7 * USEC_PER_SEC, &a), 0);
        assert_int_equal(a.total, 4);
        assert_int_equal(a.by_kind[STORE_EVENT_START], 2);
        assert_int_equal(a.by_kind[STORE_EVENT_NACK], 2);
        assert_int_equal(a.by_kind[STORE_EVENT_DATA], 0);
        /* open ends */
        assert_int_equal(store_audit_stats(s, T0 + 8 * USEC_PER_SEC, 0, &a), 0);
        assert_int_equal(a.total, 2);
        assert_int_equal(store_audit_stats(s, 0, T0 + 1, &a), 0);
        assert_int_equal(a.total, 1);

        assert_int_equal(store_audit_stats(s, 10, 5, &a), -EINVAL);
}

static void test_stats_many_results(void **state) {
        _cleanup_(store_freep) Store *s = open_store();
        StoreAuditEvent ev[STORE_STATS_RESULTS_MAX + 6];
        StoreAuditStats a;

        for (size_t i = 0; i < ELEMENTSOF(ev); i++) {
                char r[32];
                snprintf(r, sizeof(r), "result-%03zu", i);
                ev[i] = event(T0 + i, STORE_EVENT_ERROR, r, -1, "", "");
        }
        assert_int_equal(store_audit_append(s, ev, ELEMENTSOF(ev)), (int)ELEMENTSOF(ev));
        assert_int_equal(store_audit_stats(s, 0, 0, &a), 0);
        assert_int_equal(a.n_results, STORE_STATS_RESULTS_MAX);
        assert_int_equal(a.results_other, 6);
        assert_int_equal(a.total, ELEMENTSOF(ev));
}

typedef struct Routes {
        unsigned n;
        StoreRouteStats r[8];
} Routes;

static int route_cb(const StoreRouteStats *r, void *userdata) {
        Routes *x = userdata;
        assert_true(x->n < ELEMENTSOF(x->r));
        x->r[x->n++] = *r;
        return 0;
}

static int stop_cb(const StoreRouteStats *r, void *userdata) {
        return -ECANCELED;
}

static void test_route_stats(void **state) {
        _cleanup_(store_freep) Store *s = open_store();
        Routes x = {};

        fill(s);
        assert_int_equal(store_audit_route_stats(s, 0, 0, 0, route_cb, &x), 3);
        assert_int_equal(x.n, 3);
        /* busiest first: gw-b (5 events), gw-a (3), the local sink (1); the routeless error is not a route
         */
        assert_string_equal(x.r[0].gateway, "gw-b");
        assert_int_equal(x.r[0].events, 5);
        assert_int_equal(x.r[0].starts, 3);
        assert_int_equal(x.r[0].nacks, 2);
        assert_int_equal(x.r[0].acks, 0);
        assert_string_equal(x.r[1].gateway, "gw-a");
        assert_int_equal(x.r[1].data, 1);
        assert_int_equal(x.r[1].acks, 1);
        assert_string_equal(x.r[2].gateway, "");
        assert_string_equal(x.r[2].sink, "uart0");

        x = (Routes){};
        assert_int_equal(store_audit_route_stats(s, 0, 0, 1, route_cb, &x), 1);
        assert_string_equal(x.r[0].gateway, "gw-b");

        x = (Routes){};
        assert_int_equal(store_audit_route_stats(s, T0, T0 + 3 * USEC_PER_SEC, 0, route_cb, &x), 1);
        assert_string_equal(x.r[0].gateway, "gw-a");

        assert_int_equal(store_audit_route_stats(s, 0, 0, 0, stop_cb, NULL), -ECANCELED);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_stats_all_and_range),
                cmocka_unit_test(test_stats_many_results),
                cmocka_unit_test(test_route_stats),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
