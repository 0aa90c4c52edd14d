/* SPDX-License-Identifier: Apache-2.0 */
/* Opening, migrations, transactions, two handles on one file, and the query plans of the hot paths. */

#include "store-fixture.h"

static void test_migrations_embedded_in_order(void **state) {
        size_t n = store_migration_count();

        assert_true(n >= 1);
        for (size_t i = 0; i < n; i++) {
                char prefix[32];
                snprintf(prefix, sizeof(prefix), "%04zu_", i + 1);
                assert_non_null(startswith(store_migration_name(i), prefix));
        }
        assert_null(store_migration_name(n));
}

static void test_new_database_is_migrated_and_in_wal_mode(void **state) {
        Fixture *f = *state;
        StoreNetwork n = network_base("net");
        uint8_t *hdr;
        size_t len;

        assert_int_equal(store_schema_version(f->s), (int)store_migration_count());
        put_network_ok(f->s, &n);

        /* WAL is recorded in the file header (bytes 18 and 19 are 2) */
        f->s = store_free(f->s);
        hdr = read_file_bytes(f->path, &len);
        assert_true(len >= 100);
        assert_memory_equal(hdr, "SQLite format 3", 15);
        assert_int_equal(hdr[18], 2);
        assert_int_equal(hdr[19], 2);
        free(hdr);
}

static void test_reopen_runs_no_migration_twice(void **state) {
        Fixture *f = *state;
        StoreNetwork n = network_base("kept"), got;
        Store *s2 = NULL;

        put_network_ok(f->s, &n);
        f->s = store_free(f->s);

        /* store_open() returns the number of migrations it applied: none on an up-to-date file */
        assert_int_equal(fixture_open(f, NULL, &s2), 0);
        assert_int_equal(store_schema_version(s2), (int)store_migration_count());
        assert_int_equal(store_network_get(s2, "kept", &got), 0);
        assert_int_equal(got.network_address, n.network_address);
        f->s = s2;
}

static void test_first_open_applies_every_migration(void **state) {
        Fixture *f = *state;
        Store *s2 = NULL;
        char path[160];
        StoreOptions o = { .master_key = f->master };

        snprintf(path, sizeof(path), "%s/other.db", f->dir);
        assert_int_equal(store_open(path, &o, &s2), (int)store_migration_count());
        store_free(s2);
}

static void test_future_schema_is_refused(void **state) {
        Fixture *f = *state;
        Store *s2 = (Store *)0x1;

        assert_int_equal(store_test_exec(f->s, "PRAGMA user_version = 999"), 0);
        f->s = store_free(f->s);

        assert_int_equal(fixture_open(f, NULL, &s2), -EPROTONOSUPPORT);
        assert_ptr_equal(s2, (Store *)0x1); /* untouched on failure */
        /* and it did not touch the file: still refused */
        assert_int_equal(fixture_open(f, NULL, &s2), -EPROTONOSUPPORT);
}

static void test_not_a_database_is_refused(void **state) {
        Fixture *f = *state;
        char path[160];
        StoreOptions o = { .master_key = f->master };
        Store *s2 = NULL;
        FILE *fp;

        snprintf(path, sizeof(path), "%s/garbage.db", f->dir);
        fp = fopen(path, "we");
        assert_non_null(fp);
        for (int i = 0; i < 4096; i++)
                fputc(i * 31, fp);
        fclose(fp);
        assert_int_equal(store_open(path, &o, &s2), -EBADMSG);
        assert_null(s2);
}

static void test_read_only_open(void **state) {
        Fixture *f = *state;
        StoreOptions o = { .master_key = f->master, .read_only = true };
        StoreNetwork n = network_base("ro"), got;
        StoreError e = {};
        Store *ro = NULL;
        char path[160];

        put_network_ok(f->s, &n);
        assert_int_equal(store_open(f->path, &o, &ro), 0);
        assert_int_equal(store_network_get(ro, "ro", &got), 0);
        assert_int_equal(store_network_put(ro, &n, STORE_PUT_UPSERT, T0, &e), -EROFS);
        assert_true(e.message[0] != '\0');
        assert_int_equal(store_begin(ro), -EROFS);
        store_free(ro);

        snprintf(path, sizeof(path), "%s/missing.db", f->dir);
        assert_int_equal(store_open(path, &o, &ro), -ENOENT);
}

static void test_two_handles_see_each_others_writes(void **state) {
        Fixture *f = *state;
        StoreNetwork n = network_base("shared"), got;
        StoreDevice d = device_base(0x11, "shared"), gd;
        StoreIdentity id;
        Store *b = NULL;

        assert_int_equal(fixture_open(f, NULL, &b), 0);
        assert_int_equal(store_resolve(b, d.uid, d.uid_len, &id), -ENOENT);

        put_network_ok(f->s, &n);
        assert_int_equal(store_network_get(b, "shared", &got), 0);
        put_device_ok(f->s, &d);
        assert_int_equal(store_resolve(b, d.uid, d.uid_len, &id), 0);
        assert_true(id.from_device);
        assert_true(id.device_enabled);

        /* and the other way round: a change on b is seen by the next lookup on a */
        assert_int_equal(store_device_set_enabled(b, d.uid, d.uid_len, false, T0 + 1), 0);
        assert_int_equal(store_resolve(f->s, d.uid, d.uid_len, &id), 0);
        assert_false(id.device_enabled);
        assert_int_equal(store_device_get(f->s, d.uid, d.uid_len, &gd), 0);
        assert_false(gd.enabled);
        assert_int_equal(gd.updated, T0 + 1);
        store_free(b);
}

static void test_writer_lock_gives_ebusy(void **state) {
        Fixture *f = *state;
        StoreOptions o = { .master_key = f->master, .busy_timeout = USEC_PER_MSEC };
        StoreNetwork n = network_base("blocked");
        StoreError e = {};
        Store *b = NULL;

        assert_int_equal(store_open(f->path, &o, &b), 0);
        assert_int_equal(store_begin(f->s), 0);
        assert_int_equal(store_network_put(b, &n, STORE_PUT_CREATE, T0, &e), -EBUSY);
        assert_true(e.message[0] != '\0');
        assert_int_equal(store_rollback(f->s), 0);
        assert_int_equal(store_network_put(b, &n, STORE_PUT_CREATE, T0, &e), 1);
        store_free(b);
}

static void test_failed_put_inside_transaction_keeps_earlier_puts(void **state) {
        Fixture *f = *state;
        StoreNetwork a = network_base("a"), bad = network_base("bad"), c = network_base("c"), got;
        StoreNetwork later = network_base("later");
        StoreDevice d = device_base(0x21, "a"), blocker = device_base(0x40, "c");
        StoreVendor v = vendor_base("v", "a"), gv;
        StoreDeviceFilter fl = { .state = -1 };
        StoreError e = {};

        bad.channel = 99; /* 2.4G: 1..40 */
        assert_int_equal(store_begin(f->s), 0);
        assert_int_equal(store_begin(f->s), -EALREADY);
        put_network_ok(f->s, &a);
        put_device_ok(f->s, &d);
        assert_put_error(store_network_put(f->s, &bad, STORE_PUT_CREATE, T0, &e), e, -EINVAL, "channel");
        d.uid[0] = 0x22;
        d.has_node_address = true;
        d.node_address = 0x80000000u; /* multicast */
        assert_put_error(store_device_put(f->s, &d, STORE_PUT_CREATE, T0, &e), e, -EINVAL, "node_address");

        /* a put that fails after it has already written: moving a vendor's devices to another default
         * network moves v1 (written), then finds v2's explicit address taken there */
        put_network_ok(f->s, &c);
        put_vendor_ok(f->s, &v);
        for (uint8_t i = 1; i <= 2; i++) {
                StoreDevice x = device_base(0x30 + i, "");
                snprintf(x.vendor, sizeof(x.vendor), "v");
                x.has_node_address = true;
                x.node_address = i;
                put_device_ok(f->s, &x);
        }
        blocker.has_node_address = true;
        blocker.node_address = 2;
        put_device_ok(f->s, &blocker);
        snprintf(v.default_network, sizeof(v.default_network), "c");
        v.key_update = STORE_KEY_KEEP;
        assert_put_error(store_vendor_put(f->s, &v, STORE_PUT_UPDATE, T0, &e), e, -EEXIST,
                         "devices.node_address");
        put_network_ok(f->s, &later);
        assert_int_equal(store_commit(f->s), 0);

        assert_int_equal(store_network_get(f->s, "a", &got), 0);
        assert_int_equal(store_network_get(f->s, "c", &got), 0);
        assert_int_equal(store_network_get(f->s, "later", &got), 0);
        assert_int_equal(store_network_get(f->s, "bad", &got), -ENOENT);
        assert_int_equal(count_devices(f->s, NULL), 4);
        fl.network = "a";
        assert_int_equal(count_devices(f->s, &fl), 3); /* both vendor devices are still on a */
        assert_int_equal(store_vendor_get(f->s, "v", &gv), 0);
        assert_string_equal(gv.default_network, "a");
        assert_int_equal(store_commit(f->s), -ENOTCONN);
}

static int count_event(const StoreAuditEvent *e, void *userdata) {
        (*(int *)userdata)++;
        return 0;
}

static void test_rollback_removes_every_put(void **state) {
        Fixture *f = *state;
        StoreNetwork a = network_base("a"), got;
        StoreDevice d = device_base(0x31, "a");
        StoreAuditEvent ev = { .time = T0, .kind = STORE_EVENT_START, .method = 1, .nack_reason = -1 };
        uint32_t addr;
        int n = 0;

        a.has_pool = true;
        a.pool_first = 10;
        a.pool_last = 20;
        assert_int_equal(store_begin(f->s), 0);
        put_network_ok(f->s, &a);
        put_device_ok(f->s, &d);
        assert_int_equal(store_address_allocate(f->s, "a", d.uid, d.uid_len, T0, &addr), 0);
        assert_int_equal(store_audit_append(f->s, &ev, 1), 1);
        assert_int_equal(store_rollback(f->s), 0);

        assert_int_equal(store_network_get(f->s, "a", &got), -ENOENT);
        assert_int_equal(count_devices(f->s, NULL), 0);
        assert_int_equal(store_audit_query(f->s, NULL, count_event, &n), 0);
        assert_int_equal(n, 0);
        assert_int_equal(store_rollback(f->s), -ENOTCONN);
}

/* ---- query plans ---- */

static bool plan_scans_a_table(const char *plan) {
        static const char *const tables[] = {
                "devices", "vendors", "networks", "address_allocations", "audit_events", "d", "v",
                "n",       "e",       "dn"
        };
        for (const char *l = plan; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                const char *rest = startswith(l, "SCAN ");
                if (!rest)
                        continue;
                for (size_t i = 0; i < ELEMENTSOF(tables); i++) {
                        size_t k = strlen(tables[i]);
                        if (strncmp(rest, tables[i], k) == 0 &&
                            (rest[k] == '\n' || rest[k] == ' ' || !rest[k]))
                                return true;
                }
        }
        return false;
}

static char *explain(Store *s, const char *sql) {
        char *plan = NULL;
        assert_int_equal(store_explain_sql(s, sql, &plan), 0);
        return plan;
}

static void test_hot_paths_use_indexes(void **state) {
        Fixture *f = *state;
        static const struct {
                StoreQuery q;
                const char *must;
        } cases[] = {
                { STORE_QUERY_RESOLVE_DEVICE, "USING INDEX sqlite_autoindex_devices_1 (uid=?)" },
                { STORE_QUERY_RESOLVE_VENDOR, "INDEX vendors_enroll (enroll_kind=? AND enroll_prefix=?)" },
                { STORE_QUERY_DEVICE_GET, "USING INDEX sqlite_autoindex_devices_1 (uid=?)" },
                { STORE_QUERY_ADDRESS_BY_UID, "INDEX address_allocations_uid (network_id=? AND uid=?)" },
                { STORE_QUERY_ADDRESS_REUSABLE,
                  "INDEX address_allocations_reusable (network_id=? AND address>? AND address<?)" },
                { STORE_QUERY_ADDRESS_OCCUPIED,
                  "devices_node_address (eff_network_id=? AND node_address=?)" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *plan = explain(f->s, store_query_sql(cases[i].q));
                if (getenv("STORE_TEST_SHOW_PLANS"))
                        printf("%s\n%s\n", store_query_sql(cases[i].q), plan);
                if (!strstr(plan, cases[i].must) || plan_scans_a_table(plan))
                        fail_msg("query %zu: plan does not use '%s' or scans a table:\n%s", i, cases[i].must,
                                 plan);
        }
}

static void test_audit_and_device_queries_use_indexes(void **state) {
        Fixture *f = *state;
        static const uint8_t uid[] = { 1, 2, 3 };
        const StoreAuditFilter by_uid = { .uid = uid, .uid_len = 3, .kind = -1, .after_id = 10, .limit = 5 };
        const StoreAuditFilter by_uid_desc = {
                .uid = uid, .uid_len = 3, .kind = -1, .descending = true, .since = T0
        };
        const StoreAuditFilter by_time = { .since = T0, .until = T0 + 5, .kind = 2, .limit = 5 };
        const StoreDeviceFilter by_vendor = {
                .vendor = "x", .state = -1, .after_uid = uid, .after_uid_len = 3
        };
        const StoreDeviceFilter by_network = { .network = "x", .state = 1, .limit = 10 };
        const struct {
                const StoreAuditFilter *a;
                const StoreDeviceFilter *d;
                const char *must;
        } cases[] = {
                { &by_uid, NULL, "USING INDEX audit_events_uid (uid=? AND id>?)" },
                { &by_uid_desc, NULL, "USING INDEX audit_events_uid (uid=?)" },
                { &by_time, NULL, "USING INDEX audit_events_time (time>? AND time<?)" },
                { NULL, &by_vendor, "USING INDEX devices_vendor (vendor_id=? AND uid>?)" },
                { NULL, &by_network, "USING INDEX devices_eff_network (eff_network_id=?)" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *sql = NULL, *plan = NULL;

                if (cases[i].a)
                        assert_int_equal(store_audit_query_sql(cases[i].a, &sql), 0);
                else
                        assert_int_equal(store_device_list_sql(cases[i].d, false, &sql), 0);
                plan = explain(f->s, sql);
                if (getenv("STORE_TEST_SHOW_PLANS"))
                        printf("%s\n%s\n", sql, plan);
                if (!strstr(plan, cases[i].must) || plan_scans_a_table(plan))
                        fail_msg("case %zu: plan does not use '%s' or scans a table:\n%s\n%s", i,
                                 cases[i].must, sql, plan);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_migrations_embedded_in_order),
                FIXTURE_TEST(test_new_database_is_migrated_and_in_wal_mode),
                FIXTURE_TEST(test_reopen_runs_no_migration_twice),
                FIXTURE_TEST(test_first_open_applies_every_migration),
                FIXTURE_TEST(test_future_schema_is_refused),
                FIXTURE_TEST(test_not_a_database_is_refused),
                FIXTURE_TEST(test_read_only_open),
                FIXTURE_TEST(test_two_handles_see_each_others_writes),
                FIXTURE_TEST(test_writer_lock_gives_ebusy),
                FIXTURE_TEST(test_failed_put_inside_transaction_keeps_earlier_puts),
                FIXTURE_TEST(test_rollback_removes_every_put),
                FIXTURE_TEST(test_hot_paths_use_indexes),
                FIXTURE_TEST(test_audit_and_device_queries_use_indexes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
