/* SPDX-License-Identifier: Apache-2.0 */
/* audit.c and identity.c against a real SQLite file; a second connection plays meshprovctl holding the
 * write lock. */
#include <sqlite3.h>

#include "../store/store-fixture.h"
#include "audit.h"
#include "identity.h"

static ProvRecord record(ProvRecordKind kind, uint8_t uid_byte, const char *result) {
        ProvRecord r = {
                .kind = kind,
                .uid_len = 8,
                .method = 1,
                .route = { .gateway = "gw-1", .sink = "sink0" },
                .source_address = 0x1234,
                .session_id = 7,
                .nack_reason = -1,
                .copies = 3,
                .attempt = 2,
        };
        memset(r.uid, uid_byte, r.uid_len);
        snprintf(r.vendor, sizeof(r.vendor), "acme");
        snprintf(r.network, sizeof(r.network), "net");
        snprintf(r.result, sizeof(r.result), "%s", result);
        snprintf(r.detail, sizeof(r.detail), "detail of %s", result);
        return r;
}

static void push(AuditQueue *q, ProvRecordKind kind, uint8_t uid_byte, const char *result, usec_t t) {
        ProvRecord r = record(kind, uid_byte, result);
        StoreAuditEvent e;
        audit_event_from_record(&r, t, &e);
        audit_queue_push(q, &e);
}

typedef struct Rows {
        unsigned n;
        StoreAuditEvent last;
        char results[16][sizeof(((StoreAuditEvent *)0)->result)];
} Rows;

static int rows_cb(const StoreAuditEvent *e, void *userdata) {
        Rows *rows = userdata;
        if (rows->n < ELEMENTSOF(rows->results))
                snprintf(rows->results[rows->n], sizeof(rows->results[0]), "%s", e->result);
        rows->n++;
        rows->last = *e;
        return 0;
}

static Rows all_rows(Store *s) {
        StoreAuditFilter fl = { .kind = -1 };
        Rows rows = {};
        assert_int_equal(store_audit_query(s, &fl, rows_cb, &rows), 0);
        return rows;
}

/* A second connection to the same file holding the write lock, as a long import would. */
static sqlite3 *lock_database(const char *path) {
        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
        return db;
}

static void unlock_database(sqlite3 *db) {
        assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static Store *open_impatient(Fixture *f) {
        StoreOptions o = { .master_key = f->master,
                           .busy_timeout = USEC_PER_MSEC,
                           .address_hold = TEST_HOLD };
        Store *s = NULL;
        assert_true(store_open(f->path, &o, &s) >= 0);
        return s;
}

static void test_record_to_row(void **state) {
        ProvRecord r = record(PROV_RECORD_START, 0xa1, "ok");
        StoreAuditEvent e;

        audit_event_from_record(&r, T0, &e);
        assert_int_equal(e.kind, STORE_EVENT_START);
        assert_int_equal(e.time, T0);
        assert_int_equal(e.uid_len, 8);
        assert_memory_equal(e.uid, r.uid, 8);
        assert_string_equal(e.gateway, "gw-1");
        assert_string_equal(e.sink, "sink0");
        assert_string_equal(e.detail, "attempt 2, 3 copies heard");

        r = record(PROV_RECORD_NACK, 0xa1, "not_authorized");
        r.nack_reason = 1;
        audit_event_from_record(&r, T0, &e);
        assert_int_equal(e.kind, STORE_EVENT_NACK);
        assert_int_equal(e.nack_reason, 1);
        assert_string_equal(e.result, "not_authorized");
        assert_string_equal(e.detail, "detail of not_authorized");

        r = record(PROV_RECORD_ERROR, 0xa1, "lookup_failed");
        audit_event_from_record(&r, T0, &e);
        assert_int_equal(e.kind, STORE_EVENT_ERROR);
}

static void test_flush_writes_rows_and_device_state(void **state) {
        Fixture *f = *state;
        StoreNetwork n = network_base("net");
        StoreDevice d = device_base(0xa1, "net");
        AuditQueue q;

        put_network_ok(f->s, &n);
        put_device_ok(f->s, &d);
        assert_int_equal(audit_queue_init(&q, f->s, 8), 0);
        push(&q, PROV_RECORD_START, 0xa1, "ok", T0 + 1);
        push(&q, PROV_RECORD_DATA, 0xa1, "ok", T0 + 2);
        push(&q, PROV_RECORD_ACK, 0xa1, "ok", T0 + 3);
        push(&q, PROV_RECORD_START, 0xb2, "not_authorized", T0 + 4); /* no device row: only the audit row */
        assert_int_equal(all_rows(f->s).n, 0);                       /* nothing before the flush */
        assert_true(audit_queue_pending(&q));

        assert_int_equal(audit_queue_flush(&q), 0);
        assert_false(audit_queue_pending(&q));
        assert_int_equal(q.written, 4);
        assert_int_equal(all_rows(f->s).n, 4);
        assert_int_equal(store_device_get(f->s, d.uid, d.uid_len, &d), 0);
        assert_int_equal(d.state, STORE_DEVICE_PROVISIONED);
        assert_int_equal(d.last_start, T0 + 1);
        assert_int_equal(d.provisioned_at, T0 + 3);
        assert_int_equal(d.n_starts, 1);
        audit_queue_done(&q);
}

static void test_locked_database_keeps_rows_then_drops_oldest(void **state) {
        Fixture *f = *state;
        Store *s = open_impatient(f);
        AuditQueue q;
        sqlite3 *lock;
        Rows rows;

        assert_int_equal(audit_queue_init(&q, s, 4), 0);
        lock = lock_database(f->path);

        /* the write fails: the row is kept and the queue says so */
        push(&q, PROV_RECORD_START, 0x01, "r1", T0 + 1);
        assert_true(audit_queue_flush(&q) < 0);
        assert_true(q.failing);
        assert_int_equal(q.failures, 1);
        assert_int_equal(q.n, 1);

        /* a full queue drops its oldest rows: push never writes (nor waits for the lock) */
        push(&q, PROV_RECORD_START, 0x02, "r2", T0 + 2);
        push(&q, PROV_RECORD_START, 0x03, "r3", T0 + 3);
        push(&q, PROV_RECORD_START, 0x04, "r4", T0 + 4);
        push(&q, PROV_RECORD_START, 0x05, "r5", T0 + 5);
        push(&q, PROV_RECORD_START, 0x06, "r6", T0 + 6);
        assert_int_equal(q.n, 4);
        assert_int_equal(q.dropped, 2);
        assert_int_equal(q.failures, 1);

        /* the other writer is done: everything kept is written, in order */
        unlock_database(lock);
        assert_int_equal(audit_queue_flush(&q), 0);
        assert_false(q.failing);
        assert_int_equal(q.written, 4);
        rows = all_rows(s);
        assert_int_equal(rows.n, 4);
        assert_string_equal(rows.results[0], "r3");
        assert_string_equal(rows.results[3], "r6");

        /* healthy again: the caller writes a full queue before pushing more, as the daemon does */
        for (unsigned i = 0; i < 9; i++) {
                if (audit_queue_full(&q))
                        assert_int_equal(audit_queue_flush(&q), 0);
                push(&q, PROV_RECORD_NACK, 0x07, "more", T0 + 10 + i);
        }
        assert_int_equal(q.dropped, 2);
        assert_int_equal(audit_queue_flush(&q), 0);
        assert_int_equal(all_rows(s).n, 13);
        audit_queue_done(&q);
        store_free(s);
}

static void test_identity_from_device_and_vendor(void **state) {
        Fixture *f = *state;
        StoreNetwork n = network_base("net");
        StoreVendor v = vendor_base("acme", "net");
        StoreDevice d = device_base(0xa1, "net");
        IdentitySource src;
        ProvLookup lookup;
        ProvIdentity id;
        uint8_t enrolled[8], unknown[8];

        n.channel = 9;
        put_network_ok(f->s, &n);
        v.enroll_kind = STORE_ENROLL_UID_PREFIX;
        v.enroll_prefix[0] = 0xee;
        v.enroll_prefix_len = 1;
        put_vendor_ok(f->s, &v);
        d.has_role = true;
        d.role = 0x02;
        put_device_ok(f->s, &d);

        identity_source_init(&src, f->s, &lookup);

        assert_int_equal(lookup.identity(lookup.userdata, d.uid, d.uid_len, &id), 0);
        assert_true(id.from_device);
        assert_true(id.enabled);
        assert_int_equal(id.method, 1);
        assert_string_equal(id.network, "net");
        assert_true(id.has_factory_key);
        assert_memory_equal(id.factory_key, d.factory_key, sizeof(id.factory_key));
        assert_int_equal(id.params.network_address, n.network_address);
        assert_int_equal(id.params.channel, 9);
        assert_memory_equal(id.params.enc_key, n.enc_key, sizeof(n.enc_key));
        assert_true(id.params.has_role);
        assert_int_equal(id.params.role, 0x02);

        memset(enrolled, 0xee, sizeof(enrolled));
        assert_int_equal(lookup.identity(lookup.userdata, enrolled, sizeof(enrolled), &id), 0);
        assert_false(id.from_device);
        assert_string_equal(id.vendor, "acme");
        assert_memory_equal(id.factory_key, v.key, sizeof(id.factory_key));

        /* disabling the vendor disables what it enrolls, seen at the next lookup */
        v.enabled = false;
        v.key_update = STORE_KEY_KEEP;
        put_vendor_ok(f->s, &v);
        assert_int_equal(lookup.identity(lookup.userdata, enrolled, sizeof(enrolled), &id), 0);
        assert_false(id.enabled);

        memset(unknown, 0x11, sizeof(unknown));
        assert_int_equal(lookup.identity(lookup.userdata, unknown, sizeof(unknown), &id), -ENOENT);
        assert_int_equal(src.lookups, 4);
        assert_int_equal(src.failures, 0); /* an unknown UID is an answer, not a failure */
}

static void test_pool_address_kept_while_database_locked(void **state) {
        Fixture *f = *state;
        StoreNetwork n = network_base("pool");
        StoreDevice d = device_base(0xa1, "pool"), other = device_base(0xb2, "pool");
        IdentitySource src;
        ProvLookup lookup;
        ProvIdentity id;
        uint32_t a1 = 0, again = 0, a2 = 0;
        Store *s;
        sqlite3 *lock;

        n.has_pool = true;
        n.pool_first = 0x81000000;
        n.pool_last = 0x810000ff;
        put_network_ok(f->s, &n);
        put_device_ok(f->s, &d);
        put_device_ok(f->s, &other);
        s = open_impatient(f);
        identity_source_init(&src, s, &lookup);

        assert_int_equal(lookup.identity(lookup.userdata, d.uid, d.uid_len, &id), 0);
        assert_true(id.has_pool);
        assert_int_equal(lookup.allocate_address(lookup.userdata, &id, d.uid, d.uid_len, &a1), 0);
        assert_int_equal(a1, 0x81000000);

        /* another process holds the write lock: a node that has its address is still answered (a read), a
         * node that needs a new one waits for the lock and fails rather than block the daemon */
        lock = lock_database(f->path);
        assert_int_equal(lookup.allocate_address(lookup.userdata, &id, d.uid, d.uid_len, &again), 0);
        assert_int_equal(again, a1);
        assert_true(lookup.allocate_address(lookup.userdata, &id, other.uid, other.uid_len, &a2) < 0);
        unlock_database(lock);

        assert_int_equal(lookup.allocate_address(lookup.userdata, &id, other.uid, other.uid_len, &a2), 0);
        assert_int_equal(a2, 0x81000001);
        store_free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_record_to_row),
                FIXTURE_TEST(test_flush_writes_rows_and_device_state),
                FIXTURE_TEST(test_locked_database_keeps_rows_then_drops_oldest),
                FIXTURE_TEST(test_identity_from_device_and_vendor),
                FIXTURE_TEST(test_pool_address_kept_while_database_locked),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
