/* SPDX-License-Identifier: Apache-2.0 */
/* The audit log: batch append, filters, id paging in both directions, prune. */

#include "store-fixture.h"

#define N_EVENTS 30

static StoreAuditEvent event(unsigned i) {
        StoreAuditEvent e = {
                .time = T0 + i * USEC_PER_SEC,
                .kind = (StoreEventKind)(i % _STORE_EVENT_KIND_MAX),
                .uid_len = 3,
                .method = i % 2 ? 1 : -1,
                .source_address = 0x1000 + i,
                .node_address = 0x2000 + i,
                .session_id = (uint8_t)i,
                .nack_reason = i % 3 == 0 ? 1 : -1,
        };

        e.uid[0] = 0xd0;
        e.uid[1] = 0x00;
        e.uid[2] = (uint8_t)(i % 3); /* three UIDs, interleaved */
        snprintf(e.vendor, sizeof(e.vendor), "acme");
        snprintf(e.network, sizeof(e.network), "net");
        snprintf(e.gateway, sizeof(e.gateway), "gw-%u", i % 2);
        snprintf(e.sink, sizeof(e.sink), "sink1");
        snprintf(e.result, sizeof(e.result), i % 3 == 0 ? "not_authorized" : "ok");
        snprintf(e.detail, sizeof(e.detail), "event %u", i);
        return e;
}

static void append_all(Store *s) {
        StoreAuditEvent ev[N_EVENTS];

        for (unsigned i = 0; i < N_EVENTS; i++)
                ev[i] = event(i);
        assert_int_equal(store_audit_append(s, ev, N_EVENTS), N_EVENTS);
}

typedef struct Seen {
        unsigned n;
        int64_t ids[N_EVENTS + 1];
        unsigned which[N_EVENTS + 1]; /* the i of event(i), from the detail */
} Seen;

static int seen_cb(const StoreAuditEvent *e, void *userdata) {
        Seen *s = userdata;
        unsigned i;

        assert_true(s->n < ELEMENTSOF(s->ids));
        assert_int_equal(sscanf(e->detail, "event %u", &i), 1);
        s->ids[s->n] = e->id;
        s->which[s->n] = i;
        s->n++;
        return 0;
}

static Seen query(Store *s, const StoreAuditFilter *f) {
        Seen seen = {};
        assert_int_equal(store_audit_query(s, f, seen_cb, &seen), 0);
        return seen;
}

static int copy_cb(const StoreAuditEvent *e, void *userdata) {
        *(StoreAuditEvent *)userdata = *e;
        return 0;
}

static void test_append_round_trip(void **state) {
        Fixture *f = *state;
        StoreAuditEvent in = event(3), got = {};
        StoreAuditFilter fl = { .kind = -1 };
        Seen seen;

        append_all(f->s);
        seen = query(f->s, &fl);
        assert_int_equal(seen.n, N_EVENTS);
        for (unsigned i = 0; i < N_EVENTS; i++) {
                assert_int_equal(seen.which[i], i); /* ascending id = append order */
                if (i > 0)
                        assert_true(seen.ids[i] > seen.ids[i - 1]);
        }

        /* every field comes back */
        fl = (StoreAuditFilter){ .kind = -1, .after_id = seen.ids[2], .limit = 1 };
        assert_int_equal(store_audit_query(f->s, &fl, copy_cb, &got), 0);
        assert_int_equal(got.id, seen.ids[3]);
        assert_int_equal(got.time, in.time);
        assert_int_equal(got.kind, in.kind);
        assert_int_equal(got.uid_len, in.uid_len);
        assert_memory_equal(got.uid, in.uid, in.uid_len);
        assert_int_equal(got.method, 1);
        assert_string_equal(got.vendor, "acme");
        assert_string_equal(got.network, "net");
        assert_string_equal(got.gateway, "gw-1");
        assert_string_equal(got.sink, "sink1");
        assert_int_equal(got.source_address, in.source_address);
        assert_int_equal(got.node_address, in.node_address);
        assert_int_equal(got.session_id, 3);
        assert_string_equal(got.result, "not_authorized");
        assert_int_equal(got.nack_reason, 1);
        assert_string_equal(got.detail, "event 3");
}

static void test_append_is_all_or_nothing(void **state) {
        Fixture *f = *state;
        StoreAuditEvent ev[3] = { event(0), event(1), event(2) };
        Seen seen;

        ev[2].kind = _STORE_EVENT_KIND_MAX;
        assert_int_equal(store_audit_append(f->s, ev, 3), -EINVAL);
        ev[2] = event(2);
        ev[1].uid_len = PROV_UID_MAX + 1;
        assert_int_equal(store_audit_append(f->s, ev, 3), -EINVAL);
        ev[1] = event(1);
        memset(ev[1].result, 'x', sizeof(ev[1].result)); /* not terminated */
        assert_int_equal(store_audit_append(f->s, ev, 3), -EINVAL);
        seen = query(f->s, NULL);
        assert_int_equal(seen.n, 0);
        assert_int_equal(store_audit_append(f->s, ev, 0), 0);

        /* an event without UID, method or NACK reason */
        ev[0].uid_len = 0;
        ev[0].method = -1;
        ev[0].nack_reason = -1;
        assert_int_equal(store_audit_append(f->s, ev, 1), 1);
        seen = query(f->s, NULL);
        assert_int_equal(seen.n, 1);
}

static void test_filters(void **state) {
        Fixture *f = *state;
        static const uint8_t uid1[] = { 0xd0, 0x00, 0x01 };
        StoreAuditFilter fl;
        Seen seen;

        append_all(f->s);

        fl = (StoreAuditFilter){ .uid = uid1, .uid_len = 3, .kind = -1 };
        seen = query(f->s, &fl);
        assert_int_equal(seen.n, N_EVENTS / 3);
        for (unsigned i = 0; i < seen.n; i++)
                assert_int_equal(seen.which[i] % 3, 1);

        /* [since, until) */
        fl = (StoreAuditFilter){ .since = T0 + 5 * USEC_PER_SEC,
                                 .until = T0 + 9 * USEC_PER_SEC,
                                 .kind = -1 };
        seen = query(f->s, &fl);
        assert_int_equal(seen.n, 4);
        assert_int_equal(seen.which[0], 5);
        assert_int_equal(seen.which[3], 8);

        fl = (StoreAuditFilter){ .kind = STORE_EVENT_ACK };
        seen = query(f->s, &fl);
        for (unsigned i = 0; i < seen.n; i++)
                assert_int_equal(seen.which[i] % _STORE_EVENT_KIND_MAX, STORE_EVENT_ACK);
        assert_true(seen.n >= 4);

        fl = (StoreAuditFilter){ .kind = -1, .result = "not_authorized", .uid = uid1, .uid_len = 3 };
        seen = query(f->s, &fl);
        assert_int_equal(seen.n, 0); /* i % 3 == 1 never is */
        fl.uid = NULL;
        seen = query(f->s, &fl);
        assert_int_equal(seen.n, N_EVENTS / 3);

        fl = (StoreAuditFilter){ .kind = _STORE_EVENT_KIND_MAX };
        assert_int_equal(store_audit_query(f->s, &fl, seen_cb, &seen), -EINVAL);
}

static void test_paging_both_ways(void **state) {
        Fixture *f = *state;
        StoreAuditFilter fl;
        Seen page;
        unsigned total = 0;
        int64_t last = 0;

        append_all(f->s);

        /* ascending pages of 7 */
        fl = (StoreAuditFilter){ .kind = -1, .limit = 7 };
        do {
                fl.after_id = last;
                page = query(f->s, &fl);
                for (unsigned i = 0; i < page.n; i++)
                        assert_int_equal(page.which[i], total + i);
                total += page.n;
                if (page.n > 0)
                        last = page.ids[page.n - 1];
        } while (page.n == 7);
        assert_int_equal(total, N_EVENTS);

        /* descending pages of 7: newest first */
        fl = (StoreAuditFilter){ .kind = -1, .limit = 7, .descending = true };
        total = 0;
        last = 0;
        do {
                fl.after_id = last;
                page = query(f->s, &fl);
                for (unsigned i = 0; i < page.n; i++)
                        assert_int_equal(page.which[i], N_EVENTS - 1 - (total + i));
                total += page.n;
                if (page.n > 0)
                        last = page.ids[page.n - 1];
        } while (page.n == 7);
        assert_int_equal(total, N_EVENTS);

        /* paging within a UID, newest first */
        {
                static const uint8_t uid2[] = { 0xd0, 0x00, 0x02 };
                fl = (StoreAuditFilter){
                        .uid = uid2, .uid_len = 3, .kind = -1, .limit = 3, .descending = true
                };
                page = query(f->s, &fl);
                assert_int_equal(page.n, 3);
                assert_int_equal(page.which[0], 29);
                assert_int_equal(page.which[2], 23);
                fl.after_id = page.ids[2];
                page = query(f->s, &fl);
                assert_int_equal(page.which[0], 20);
        }
}

static void test_prune(void **state) {
        Fixture *f = *state;
        StoreAuditFilter fl = { .kind = -1 };
        Seen seen;
        StoreAuditEvent late = event(100);

        append_all(f->s);
        /* at most 4 at a time, oldest first */
        assert_int_equal(store_audit_prune(f->s, T0 + 10 * USEC_PER_SEC, 4), 4);
        seen = query(f->s, &fl);
        assert_int_equal(seen.n, N_EVENTS - 4);
        assert_int_equal(seen.which[0], 4);
        assert_int_equal(store_audit_prune(f->s, T0 + 10 * USEC_PER_SEC, 0), 6);
        assert_int_equal(store_audit_prune(f->s, T0 + 10 * USEC_PER_SEC, 0), 0);
        seen = query(f->s, &fl);
        assert_int_equal(seen.n, N_EVENTS - 10);
        assert_int_equal(seen.which[0], 10);

        /* ids are not reused after pruning everything */
        assert_int_equal(store_audit_prune(f->s, T0 + 1000 * USEC_PER_SEC, 0), N_EVENTS - 10);
        assert_int_equal(store_audit_append(f->s, &late, 1), 1);
        {
                Seen after = query(f->s, &fl);
                assert_int_equal(after.n, 1);
                assert_true(after.ids[0] > seen.ids[seen.n - 1]);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                FIXTURE_TEST(test_append_round_trip),
                FIXTURE_TEST(test_append_is_all_or_nothing),
                FIXTURE_TEST(test_filters),
                FIXTURE_TEST(test_paging_both_ways),
                FIXTURE_TEST(test_prune),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
