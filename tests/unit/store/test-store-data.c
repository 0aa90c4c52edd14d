/* SPDX-License-Identifier: Apache-2.0 */
/* Keys at rest, the wrong master key, damaged rows, listing and paging, progress notes, names and enums. */

#include "store-fixture.h"

static void put_everything(Fixture *f) {
        StoreNetwork n = network_base("net");
        StoreVendor v = vendor_base("acme", "net"), m = vendor_base("derive", "net");
        StoreDevice d = device_base(0x42, "net");

        put_network_ok(f->s, &n);
        put_vendor_ok(f->s, &v);
        m.key_kind = STORE_VENDOR_KEY_MASTER;
        fill(m.key, sizeof(m.key), 0x90);
        put_vendor_ok(f->s, &m);
        put_device_ok(f->s, &d);
}

static void test_keys_round_trip(void **state) {
        Fixture *f = *state;
        StoreNetwork n = network_base("net"), gn;
        StoreVendor v = vendor_base("acme", "net"), gv;
        StoreDevice d = device_base(0x42, "net"), gd;

        put_everything(f);
        assert_int_equal(store_network_get(f->s, "net", &gn), 0);
        assert_memory_equal(gn.enc_key, n.enc_key, PROV_KEY_SIZE);
        assert_memory_equal(gn.auth_key, n.auth_key, PROV_KEY_SIZE);
        assert_int_equal(gn.keys_update, STORE_KEY_KEEP);
        assert_int_equal(store_vendor_get(f->s, "acme", &gv), 0);
        assert_int_equal(gv.key_kind, STORE_VENDOR_KEY_FACTORY);
        assert_memory_equal(gv.key, v.key, sizeof(v.key));
        assert_int_equal(store_device_get(f->s, d.uid, d.uid_len, &gd), 0);
        assert_true(gd.has_factory_key);
        assert_memory_equal(gd.factory_key, d.factory_key, sizeof(d.factory_key));
}

static void assert_no_file_holds(const Fixture *f, const uint8_t *key, size_t n) {
        static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };

        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
                char path[160];

                snprintf(path, sizeof(path), "%s%s", f->path, suffixes[i]);
                /* any 8-byte window of the key would be a leak */
                for (size_t off = 0; off + 8 <= n; off += 4)
                        if (file_contains(path, key + off, 8))
                                fail_msg("%s holds bytes %zu..%zu of a key in plain text", path, off,
                                         off + 7);
        }
}

static void test_no_key_in_plain_text_on_disk(void **state) {
        Fixture *f = *state;
        StoreNetwork n = network_base("net");
        StoreVendor v = vendor_base("acme", "net"), m = vendor_base("derive", "net");
        StoreDevice d = device_base(0x42, "net");
        uint8_t label[8];

        put_everything(f);
        m.key_kind = STORE_VENDOR_KEY_MASTER;
        fill(m.key, sizeof(m.key), 0x90);

        /* while open (the WAL holds the writes) and after closing (checkpointed into the main file) */
        for (int round = 0; round < 2; round++) {
                assert_no_file_holds(f, n.enc_key, sizeof(n.enc_key));
                assert_no_file_holds(f, n.auth_key, sizeof(n.auth_key));
                assert_no_file_holds(f, v.key, sizeof(v.key));
                assert_no_file_holds(f, m.key, sizeof(m.key));
                assert_no_file_holds(f, d.factory_key, sizeof(d.factory_key));
                f->s = store_free(f->s);
        }
        /* the search itself works: a stored label is found */
        memcpy(label, "findme!!", 8);
        assert_true(fixture_open(f, NULL, &f->s) >= 0);
        snprintf(d.label, sizeof(d.label), "findme!!");
        d.factory_key_update = STORE_KEY_KEEP;
        put_device_ok(f->s, &d);
        f->s = store_free(f->s);
        assert_true(file_contains(f->path, label, sizeof(label)));
}

static void test_wrong_master_key_loses_nothing(void **state) {
        Fixture *f = *state;
        uint8_t wrong[KEYWRAP_MASTER_KEY_SIZE];
        StoreNetwork n = network_base("net"), gn;
        StoreVendor gv;
        StoreDevice d = device_base(0x42, "net"), gd;
        StoreIdentity id;
        StoreOptions ro = { .read_only = true };
        Store *w = NULL;

        put_everything(f);
        memcpy(wrong, f->master, sizeof(wrong));
        wrong[5] ^= 0x01;

        /* another key is refused at once, read-write and read-only, and nothing is written */
        assert_int_equal(fixture_open(f, wrong, &w), -EKEYREJECTED);
        assert_null(w);
        ro.master_key = wrong;
        assert_int_equal(store_open(f->path, &ro, &w), -EKEYREJECTED);

        /* a database from before the check value (0002) is checked against its network keys, and gets
         * the check value with the right key */
        assert_int_equal(store_test_exec(f->s, "DELETE FROM store_meta"), 0);
        assert_int_equal(fixture_open(f, wrong, &w), -EKEYREJECTED);
        assert_int_equal(fixture_open(f, NULL, &w), 0);
        store_free(w);
        w = NULL;
        assert_int_equal(fixture_open(f, wrong, &w), -EKEYREJECTED); /* the check value is back */

        /* ... and with the right key everything is still there */
        assert_int_equal(store_network_get(f->s, "net", &gn), 0);
        assert_memory_equal(gn.enc_key, n.enc_key, PROV_KEY_SIZE);
        assert_int_equal(store_vendor_get(f->s, "acme", &gv), 0);
        assert_int_equal(store_device_get(f->s, d.uid, d.uid_len, &gd), 0);
        assert_memory_equal(gd.factory_key, d.factory_key, sizeof(d.factory_key));
        assert_int_equal(store_resolve(f->s, d.uid, d.uid_len, &id), 0);
}

/* A new database takes the key it is first opened with, and keeps to it. */
static void test_new_database_remembers_its_key(void **state) {
        Fixture *f = *state;
        uint8_t other[KEYWRAP_MASTER_KEY_SIZE];
        Store *w = NULL;

        memcpy(other, f->master, sizeof(other));
        other[0] ^= 0x80;
        /* no secret yet, but the first open wrote the check value */
        assert_int_equal(fixture_open(f, other, &w), -EKEYREJECTED);
        assert_int_equal(fixture_open(f, NULL, &w), 0);
        store_free(w);
}

static int count_cb(const StoreDevice *d, void *userdata) {
        (*(unsigned *)userdata)++;
        return 0;
}

/* A key blob bound to one row does not open for another (the associated data names the row). */
static void test_key_blob_is_bound_to_its_row(void **state) {
        Fixture *f = *state;
        StoreDevice a = device_base(0x01, "net"), b = device_base(0x02, "net"), got;
        StoreNetwork n2 = network_base("net2"), gn;

        put_everything(f);
        put_device_ok(f->s, &a);
        put_device_ok(f->s, &b);
        put_network_ok(f->s, &n2);
        assert_int_equal(
                store_test_exec(f->s,
                                "UPDATE devices SET factory_key = (SELECT factory_key FROM devices "
                                "WHERE uid = x'0101010101010101') WHERE uid = x'0202020202020202';"
                                "UPDATE networks SET keys = (SELECT keys FROM networks WHERE name = 'net') "
                                "WHERE name = 'net2'"),
                0);
        assert_int_equal(store_device_get(f->s, b.uid, b.uid_len, &got), -EBADMSG);
        assert_int_equal(store_device_get(f->s, a.uid, a.uid_len, &got), 0);
        assert_int_equal(store_network_get(f->s, "net2", &gn), -EBADMSG);
        assert_int_equal(store_network_get(f->s, "net", &gn), 0);
}

static void test_damaged_rows_are_ebadmsg(void **state) {
        Fixture *f = *state;
        static const char *const damage[] = {
                /* user items: wrong format, count 0, too many, id < 128, unknown type, truncated int, bool
                 * 2, string longer than allowed, truncated string, ids not ascending, trailing byte, empty
                 * blob, text that is not UTF-8, not a blob */
                "UPDATE devices SET user_items = x'020180000100000000000000'",
                "UPDATE devices SET user_items = x'0100'",
                "UPDATE devices SET user_items = x'0129'",
                "UPDATE devices SET user_items = x'01017f030100'",
                "UPDATE devices SET user_items = x'0101800700'",
                "UPDATE devices SET user_items = x'01018000010203'",
                "UPDATE devices SET user_items = x'0101800302'",
                "UPDATE devices SET user_items = x'010180015f' || zeroblob(95)",
                "UPDATE devices SET user_items = x'0101800105616263'",
                "UPDATE devices SET user_items = x'010290030181030100'",
                "UPDATE devices SET user_items = x'010180030100'",
                "UPDATE devices SET user_items = x''",
                "UPDATE devices SET user_items = x'0101800202c328'",
                "UPDATE devices SET user_items = 'text'",
                /* keys: flipped byte, truncated, not a blob */
                ("UPDATE devices SET factory_key = substr(factory_key, 1, 20) || x'00' || "
                 "substr(factory_key, 22)"),
                "UPDATE devices SET factory_key = substr(factory_key, 1, 40)",
                "UPDATE devices SET factory_key = 7",
                /* values out of range */
                "UPDATE devices SET state = 9",
                "UPDATE devices SET node_address = -1",
                "UPDATE devices SET role = 300",
                "UPDATE devices SET label = zeroblob(3)",
                "UPDATE devices SET label = substr(hex(zeroblob(40)), 1, 65)",
                "UPDATE devices SET uid = zeroblob(80)",
        };
        StoreDevice d = device_base(0x42, "net"), got;
        StoreIdentity id;
        unsigned n;

        put_everything(f);
        d.n_user_items = 1;
        d.user_items[0] = (ProvUserItem){ .id = 150, .type = PROV_USER_INT, .integer = 1 };
        put_device_ok(f->s, &d);
        /* the schema's CHECK constraints would stop some of the damage: let it through */
        assert_int_equal(store_test_exec(f->s, "PRAGMA ignore_check_constraints = ON; SAVEPOINT good"), 0);

        for (size_t i = 0; i < ELEMENTSOF(damage); i++) {
                bool uid_changed = strstr(damage[i], "SET uid") != NULL;
                int r;

                assert_int_equal(store_test_exec(f->s, "ROLLBACK TO good"), 0);
                assert_int_equal(store_test_exec(f->s, damage[i]), 0);
                if (!uid_changed) {
                        r = store_device_get(f->s, d.uid, d.uid_len, &got);
                        if (r != -EBADMSG)
                                fail_msg("get after \"%s\": %d", damage[i], r);
                }
                n = 0;
                r = store_device_list(f->s, NULL, count_cb, &n);
                if (r != -EBADMSG)
                        fail_msg("list after \"%s\": %d", damage[i], r);
                /* resolve reads everything but the state */
                if (!uid_changed && !strstr(damage[i], "state")) {
                        r = store_resolve(f->s, d.uid, d.uid_len, &id);
                        if (r != -EBADMSG)
                                fail_msg("resolve after \"%s\": %d", damage[i], r);
                }
        }
        assert_int_equal(
                store_test_exec(f->s,
                                "ROLLBACK TO good; RELEASE good; PRAGMA ignore_check_constraints = OFF"),
                0);
        assert_int_equal(store_device_get(f->s, d.uid, d.uid_len, &got), 0);
        assert_int_equal(got.user_items[0].integer, 1);
}

struct collect {
        unsigned n;
        uint8_t first[8];
        uint8_t last[PROV_UID_MAX];
        size_t last_len;
};

static int collect_cb(const StoreDevice *d, void *userdata) {
        struct collect *c = userdata;

        if (c->n == 0)
                memcpy(c->first, d->uid, MIN(d->uid_len, sizeof(c->first)));
        memcpy(c->last, d->uid, d->uid_len);
        c->last_len = d->uid_len;
        c->n++;
        return 0;
}

static int stop_cb(const StoreDevice *d, void *userdata) {
        return -ECANCELED;
}

static void test_device_list_filters_and_paging(void **state) {
        Fixture *f = *state;
        StoreNetwork other = network_base("other");
        uint8_t after[PROV_UID_MAX];
        StoreDeviceFilter fl;
        struct collect c;

        put_everything(f);
        put_network_ok(f->s, &other);
        for (uint8_t i = 1; i <= 9; i++) {
                StoreDevice d = device_base(i, i % 3 == 0 ? "other" : "");

                if (i % 3 != 0)
                        snprintf(d.vendor, sizeof(d.vendor), "acme");
                put_device_ok(f->s, &d);
        }
        /* 10 devices: 0x42 (no vendor, net), 1..9 */
        assert_int_equal(count_devices(f->s, NULL), 10);
        fl = (StoreDeviceFilter){ .vendor = "acme", .state = -1 };
        assert_int_equal(count_devices(f->s, &fl), 6);
        fl = (StoreDeviceFilter){ .network = "net", .state = -1 };
        assert_int_equal(count_devices(f->s, &fl), 7); /* the vendor's default network counts */
        fl = (StoreDeviceFilter){ .network = "other", .vendor = "acme", .state = -1 };
        assert_int_equal(count_devices(f->s, &fl), 0);
        fl = (StoreDeviceFilter){ .vendor = "nobody", .state = -1 };
        assert_int_equal(store_device_count(f->s, &fl, &(uint64_t){ 0 }), -ENOENT);
        fl = (StoreDeviceFilter){ .state = 7 };
        assert_int_equal(store_device_count(f->s, &fl, &(uint64_t){ 0 }), -EINVAL);

        assert_int_equal(
                store_device_note_sent(f->s, (const uint8_t *)"\x04\x04\x04\x04\x04\x04\x04\x04", 8, T0), 1);
        fl = (StoreDeviceFilter){ .state = STORE_DEVICE_SENT };
        assert_int_equal(count_devices(f->s, &fl), 1);

        /* pages of 4, ordered by uid, each starting after the last of the previous one */
        fl = (StoreDeviceFilter){ .state = -1, .limit = 4 };
        c = (struct collect){};
        assert_int_equal(store_device_list(f->s, &fl, collect_cb, &c), 0);
        assert_int_equal(c.n, 4);
        assert_int_equal(c.first[0], 0x01);
        assert_int_equal(c.last[0], 0x04);
        memcpy(after, c.last, c.last_len);
        fl.after_uid = after;
        fl.after_uid_len = c.last_len;
        c = (struct collect){};
        assert_int_equal(store_device_list(f->s, &fl, collect_cb, &c), 0);
        assert_int_equal(c.n, 4);
        assert_int_equal(c.first[0], 0x05);
        assert_int_equal(c.last[0], 0x08);
        memcpy(after, c.last, c.last_len);
        c = (struct collect){};
        assert_int_equal(store_device_list(f->s, &fl, collect_cb, &c), 0);
        assert_int_equal(c.n, 2);
        assert_int_equal(c.first[0], 0x09);
        assert_int_equal(c.last[0], 0x42);

        assert_int_equal(store_device_list(f->s, NULL, stop_cb, NULL), -ECANCELED);
}

static int net_name_cb(const StoreNetwork *n, void *userdata) {
        strcat(userdata, n->name);
        strcat(userdata, ",");
        return 0;
}

static int vendor_name_cb(const StoreVendor *v, void *userdata) {
        strcat(userdata, v->name);
        strcat(userdata, ",");
        return 0;
}

static void test_network_and_vendor_lists(void **state) {
        Fixture *f = *state;
        StoreNetwork a = network_base("alpha");
        char names[256] = "";

        put_everything(f);
        put_network_ok(f->s, &a);
        assert_int_equal(store_network_list(f->s, net_name_cb, names), 0);
        assert_string_equal(names, "alpha,net,");
        names[0] = '\0';
        assert_int_equal(store_vendor_list(f->s, vendor_name_cb, names), 0);
        assert_string_equal(names, "acme,derive,");
}

static void test_progress_notes(void **state) {
        Fixture *f = *state;
        StoreDevice d = device_base(0x42, "net"), got;
        static const uint8_t unknown[] = { 9, 9, 9 };

        put_everything(f);
        assert_int_equal(store_device_note_start(f->s, d.uid, d.uid_len, T0 + 10), 1);
        assert_int_equal(store_device_note_start(f->s, d.uid, d.uid_len, T0 + 20), 1);
        assert_int_equal(store_device_get(f->s, d.uid, d.uid_len, &got), 0);
        assert_int_equal(got.state, STORE_DEVICE_NEW);
        assert_int_equal(got.n_starts, 2);
        assert_int_equal(got.last_start, T0 + 20);
        assert_int_equal(store_device_note_sent(f->s, d.uid, d.uid_len, T0 + 21), 1);
        assert_int_equal(store_device_get(f->s, d.uid, d.uid_len, &got), 0);
        assert_int_equal(got.state, STORE_DEVICE_SENT);
        assert_int_equal(store_device_note_provisioned(f->s, d.uid, d.uid_len, T0 + 22), 1);
        assert_int_equal(store_device_get(f->s, d.uid, d.uid_len, &got), 0);
        assert_int_equal(got.state, STORE_DEVICE_PROVISIONED);
        assert_int_equal(got.provisioned_at, T0 + 22);
        assert_int_equal(got.n_provisioned, 1);
        assert_int_equal(got.updated, T0); /* progress is not an edit */

        /* UIDs without a row (admitted by enrollment) are no-ops */
        assert_int_equal(store_device_note_start(f->s, unknown, sizeof(unknown), T0), 0);
        assert_int_equal(store_device_note_provisioned(f->s, unknown, sizeof(unknown), T0), 0);
        assert_int_equal(store_device_set_enabled(f->s, unknown, sizeof(unknown), false, T0), -ENOENT);
        assert_int_equal(store_device_note_start(f->s, unknown, 0, T0), -EINVAL);
}

static void test_names_and_enums(void **state) {
        char long_name[NAME_MAX_LEN + 2];

        assert_true(store_name_valid("a"));
        assert_true(store_name_valid("Net_1.test-2"));
        assert_false(store_name_valid(""));
        assert_false(store_name_valid(NULL));
        assert_false(store_name_valid("a b"));
        assert_false(store_name_valid("a/b"));
        assert_false(store_name_valid("caf\xc3\xa9"));
        memset(long_name, 'a', sizeof(long_name) - 1);
        long_name[sizeof(long_name) - 1] = '\0';
        assert_false(store_name_valid(long_name));
        long_name[NAME_MAX_LEN] = '\0';
        assert_true(store_name_valid(long_name));

        for (int k = 0; k < _STORE_EVENT_KIND_MAX; k++)
                assert_int_equal(store_event_kind_from_string(store_event_kind_to_string(k)), k);
        for (int k = 0; k < _STORE_DEVICE_STATE_MAX; k++)
                assert_int_equal(store_device_state_from_string(store_device_state_to_string(k)), k);
        for (int k = 0; k <= STORE_VENDOR_KEY_MASTER; k++)
                assert_int_equal(store_vendor_key_kind_from_string(store_vendor_key_kind_to_string(k)), k);
        for (int k = 0; k <= STORE_ENROLL_AUTHENTICATOR; k++)
                assert_int_equal(store_enroll_kind_from_string(store_enroll_kind_to_string(k)), k);
        assert_string_equal(store_event_kind_to_string(STORE_EVENT_SEND_FAILED), "send_failed");
        assert_string_equal(store_enroll_kind_to_string(STORE_ENROLL_UID_PREFIX), "uid-prefix");
        assert_null(store_event_kind_to_string(_STORE_EVENT_KIND_MAX));
        assert_int_equal(store_event_kind_from_string("bogus"), -EINVAL);
        assert_int_equal(store_device_state_from_string(NULL), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                FIXTURE_TEST(test_keys_round_trip),
                FIXTURE_TEST(test_no_key_in_plain_text_on_disk),
                FIXTURE_TEST(test_wrong_master_key_loses_nothing),
                FIXTURE_TEST(test_new_database_remembers_its_key),
                FIXTURE_TEST(test_key_blob_is_bound_to_its_row),
                FIXTURE_TEST(test_damaged_rows_are_ebadmsg),
                FIXTURE_TEST(test_device_list_filters_and_paging),
                FIXTURE_TEST(test_network_and_vendor_lists),
                FIXTURE_TEST(test_progress_notes),
                cmocka_unit_test(test_names_and_enums),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
