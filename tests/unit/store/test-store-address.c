/* SPDX-License-Identifier: Apache-2.0 */
/* Node address pools: stable per UID, never two holders, explicit addresses skipped, released addresses
 * held back, lowest free first, -ENOSPC when exhausted. */

#include "store-fixture.h"

static void pool_network(Fixture *f, const char *name, uint32_t first, uint32_t last) {
        StoreNetwork n = network_base(name);

        n.has_pool = true;
        n.pool_first = first;
        n.pool_last = last;
        put_network_ok(f->s, &n);
}

static const uint8_t *uid_of(uint8_t i, uint8_t buf[static 4]) {
        buf[0] = 0xee;
        buf[1] = 0x00;
        buf[2] = i;
        buf[3] = 0x01;
        return buf;
}

static uint32_t alloc(Store *s, const char *net, uint8_t i, usec_t now) {
        uint8_t u[4];
        uint32_t a = 0;
        int r = store_address_allocate(s, net, uid_of(i, u), 4, now, &a);
        if (r < 0)
                fail_msg("allocate for %u: %d", i, r);
        return a;
}

static int alloc_r(Store *s, const char *net, uint8_t i, usec_t now) {
        uint8_t u[4];
        uint32_t a = 0;
        int r = store_address_allocate(s, net, uid_of(i, u), 4, now, &a);
        return r < 0 ? r : (int)a;
}

static void release(Store *s, const char *net, uint8_t i, usec_t now) {
        uint8_t u[4];
        assert_int_equal(store_address_release(s, net, uid_of(i, u), 4, now), 1);
}

static void test_stable_and_unique(void **state) {
        Fixture *f = *state;
        Store *b = NULL;

        pool_network(f, "net", 1000, 1999);
        pool_network(f, "other", 1000, 1999);
        for (uint8_t i = 0; i < 10; i++)
                assert_int_equal(alloc(f->s, "net", i, T0), 1000 + i); /* lowest free first */
        for (uint8_t i = 0; i < 10; i++)
                assert_int_equal(alloc(f->s, "net", i, T0 + 5), 1000 + i); /* same UID, same address */
        /* pools are per network */
        assert_int_equal(alloc(f->s, "other", 9, T0), 1000);

        /* two handles allocating in turn never hand out an address twice */
        assert_int_equal(fixture_open(f, NULL, &b), 0);
        for (uint8_t i = 10; i < 30; i += 2) {
                assert_int_equal(alloc(f->s, "net", i, T0), 1000 + i);
                assert_int_equal(alloc(b, "net", i + 1, T0), 1000 + i + 1);
                assert_int_equal(alloc(b, "net", i, T0), 1000 + i);
        }
        store_free(b);
}

static void test_release_hold_and_reuse(void **state) {
        Fixture *f = *state;

        pool_network(f, "net", 1, 100);
        for (uint8_t i = 0; i < 5; i++)
                assert_int_equal(alloc(f->s, "net", i, T0), 1 + i);
        release(f->s, "net", 1, T0 + 10); /* address 2 */
        release(f->s, "net", 3, T0 + 20); /* address 4 */
        /* released twice is a no-op */
        {
                uint8_t u[4];
                assert_int_equal(store_address_release(f->s, "net", uid_of(1, u), 4, T0 + 30), 0);
        }

        /* held back: a new UID gets a never-used address */
        assert_int_equal(alloc(f->s, "net", 50, T0 + 10 + TEST_HOLD - 1), 6);
        /* once the hold is over, the lowest released address comes first */
        assert_int_equal(alloc(f->s, "net", 51, T0 + 10 + TEST_HOLD), 2);
        assert_int_equal(alloc(f->s, "net", 52, T0 + 10 + TEST_HOLD), 7); /* 4 is held until +20 */
        assert_int_equal(alloc(f->s, "net", 53, T0 + 20 + TEST_HOLD), 4);
        assert_int_equal(alloc(f->s, "net", 54, T0 + 20 + TEST_HOLD), 8);
}

static void test_released_uid_gets_its_address_back(void **state) {
        Fixture *f = *state;

        pool_network(f, "net", 1, 100);
        assert_int_equal(alloc(f->s, "net", 1, T0), 1);
        assert_int_equal(alloc(f->s, "net", 2, T0), 2);
        release(f->s, "net", 1, T0 + 1);
        assert_int_equal(alloc(f->s, "net", 1, T0 + 2), 1); /* within the hold */
        release(f->s, "net", 2, T0 + 3);
        assert_int_equal(alloc(f->s, "net", 2, T0 + 3 + 10 * TEST_HOLD), 2); /* long after, still its own */
        assert_int_equal(alloc(f->s, "net", 3, T0 + 3 + 10 * TEST_HOLD), 3);
}

static void test_exhaustion(void **state) {
        Fixture *f = *state;
        StoreNetwork n = network_base("net");

        pool_network(f, "net", 0x81000000, 0x81000002);
        assert_int_equal(alloc(f->s, "net", 1, T0), 0x81000000);
        assert_int_equal(alloc(f->s, "net", 2, T0), 0x81000001);
        assert_int_equal(alloc(f->s, "net", 3, T0), 0x81000002);
        assert_int_equal(alloc_r(f->s, "net", 4, T0), -ENOSPC);
        assert_int_equal(alloc_r(f->s, "net", 4, T0), -ENOSPC);
        assert_int_equal(alloc(f->s, "net", 2, T0), 0x81000001); /* holders still get theirs */

        release(f->s, "net", 2, T0);
        assert_int_equal(alloc_r(f->s, "net", 4, T0 + TEST_HOLD - 1), -ENOSPC);
        assert_int_equal(alloc(f->s, "net", 4, T0 + TEST_HOLD), 0x81000001);

        /* a longer pool (same start) continues where it was */
        n.has_pool = true;
        n.pool_first = 0x81000000;
        n.pool_last = 0x81000010;
        n.keys_update = STORE_KEY_KEEP;
        put_network_ok(f->s, &n);
        assert_int_equal(alloc(f->s, "net", 5, T0), 0x81000003);
}

static void test_no_pool(void **state) {
        Fixture *f = *state;
        StoreNetwork n = network_base("plain");
        uint8_t u[4];
        uint32_t a;

        put_network_ok(f->s, &n);
        assert_int_equal(store_address_allocate(f->s, "plain", uid_of(1, u), 4, T0, &a), -ENOENT);
        assert_int_equal(store_address_allocate(f->s, "missing", uid_of(1, u), 4, T0, &a), -ENOENT);
        assert_int_equal(store_address_release(f->s, "missing", uid_of(1, u), 4, T0), -ENOENT);
        assert_int_equal(store_address_allocate(f->s, "plain", u, 0, T0, &a), -EINVAL);
}

static void put_explicit(Fixture *f, uint8_t uid_byte, const char *net, uint32_t address) {
        StoreDevice d = device_base(uid_byte, net);

        d.has_node_address = true;
        d.node_address = address;
        put_device_ok(f->s, &d);
}

static void test_explicit_addresses_are_skipped(void **state) {
        Fixture *f = *state;
        StoreDevice d = device_base(0x77, "net");

        pool_network(f, "net", 10, 20);
        put_explicit(f, 0x71, "net", 11);
        put_explicit(f, 0x72, "net", 12);
        put_explicit(f, 0x73, "net", 14);
        assert_int_equal(alloc(f->s, "net", 1, T0), 10);
        assert_int_equal(alloc(f->s, "net", 2, T0), 13);
        assert_int_equal(alloc(f->s, "net", 3, T0), 15);

        /* an explicit address the pool passed over becomes free when the device lets go of it */
        assert_int_equal(
                store_device_delete(f->s, (const uint8_t *)"\x72\x72\x72\x72\x72\x72\x72\x72", 8, NULL), 0);
        assert_int_equal(alloc(f->s, "net", 4, T0), 12);
        d = device_base(0x71, "net"); /* device 0x71 drops its explicit address 11 */
        d.factory_key_update = STORE_KEY_KEEP;
        put_device_ok(f->s, &d);
        assert_int_equal(alloc(f->s, "net", 5, T0), 11);
        assert_int_equal(alloc(f->s, "net", 6, T0), 16);
}

static void test_explicit_address_versus_pool_holders(void **state) {
        Fixture *f = *state;
        StoreDevice d = device_base(0x61, "net"), got;
        StoreError e = {};
        uint8_t u[4];

        pool_network(f, "net", 10, 20);
        assert_int_equal(alloc(f->s, "net", 1, T0), 10);
        assert_int_equal(alloc(f->s, "net", 2, T0), 11);

        /* held by another UID */
        d.has_node_address = true;
        d.node_address = 10;
        assert_put_error(store_device_put(f->s, &d, STORE_PUT_UPSERT, T0, &e), e, -EEXIST, "node_address");
        /* released but still held back */
        release(f->s, "net", 1, T0);
        assert_put_error(store_device_put(f->s, &d, STORE_PUT_UPSERT, T0 + TEST_HOLD - 1, &e), e, -EEXIST,
                         "node_address");
        /* after the hold it may be taken, and the pool then skips it */
        assert_int_equal(store_device_put(f->s, &d, STORE_PUT_UPSERT, T0 + TEST_HOLD, &e), 1);
        assert_int_equal(alloc(f->s, "net", 3, T0 + 2 * TEST_HOLD), 12);
        /* the old holder no longer gets it back either */
        assert_int_equal(alloc(f->s, "net", 1, T0 + 2 * TEST_HOLD), 13);

        /* a device may take its own pool address as its explicit one */
        d = device_base(0x62, "net");
        memcpy(d.uid, uid_of(2, u), 4);
        d.uid_len = 4;
        d.has_node_address = true;
        d.node_address = 11;
        put_device_ok(f->s, &d);
        assert_int_equal(store_device_get(f->s, d.uid, d.uid_len, &got), 0);
        assert_true(got.has_allocated_address);
        assert_int_equal(got.allocated_address, 11);

        /* an explicit address other than its pool address releases the pool address (held back) */
        d.node_address = 19;
        put_device_ok(f->s, &d);
        assert_int_equal(store_device_get(f->s, d.uid, d.uid_len, &got), 0);
        assert_false(got.has_allocated_address);
        assert_int_equal(alloc(f->s, "net", 4, T0), 14);
}

static void test_device_delete_releases_its_address(void **state) {
        Fixture *f = *state;
        StoreDevice d = device_base(0x51, "net"), got;
        uint32_t a;

        pool_network(f, "net", 10, 20);
        put_device_ok(f->s, &d);
        assert_int_equal(store_address_allocate(f->s, "net", d.uid, d.uid_len, T0, &a), 0);
        assert_int_equal(a, 10);
        assert_int_equal(store_device_get(f->s, d.uid, d.uid_len, &got), 0);
        assert_true(got.has_allocated_address);
        assert_int_equal(got.allocated_address, 10);

        assert_int_equal(store_device_delete(f->s, d.uid, d.uid_len, NULL), 0);
        /* held back (store_device_delete() starts the hold at the wall clock, later than T0) */
        assert_int_equal(alloc(f->s, "net", 1, T0), 11);
        /* the same UID, added again, gets it back */
        put_device_ok(f->s, &d);
        assert_int_equal(store_address_allocate(f->s, "net", d.uid, d.uid_len, T0, &a), 0);
        assert_int_equal(a, 10);
}

static void test_pool_moved(void **state) {
        Fixture *f = *state;
        StoreNetwork n = network_base("net");

        pool_network(f, "net", 100, 105);
        assert_int_equal(alloc(f->s, "net", 1, T0), 100);
        assert_int_equal(alloc(f->s, "net", 2, T0), 101);
        assert_int_equal(alloc(f->s, "net", 3, T0), 102);
        put_explicit(f, 0x41, "net", 98);

        /* the pool now starts lower: the new addresses come first, then past what is held */
        n.has_pool = true;
        n.pool_first = 97;
        n.pool_last = 105;
        n.keys_update = STORE_KEY_KEEP;
        put_network_ok(f->s, &n);
        assert_int_equal(alloc(f->s, "net", 4, T0), 97);
        assert_int_equal(alloc(f->s, "net", 5, T0), 99);
        assert_int_equal(alloc(f->s, "net", 6, T0), 103);
        assert_int_equal(alloc(f->s, "net", 2, T0), 101);

        /* a pool that no longer covers an address: its holder keeps it */
        n.pool_first = 200;
        n.pool_last = 300;
        put_network_ok(f->s, &n);
        assert_int_equal(alloc(f->s, "net", 1, T0), 100);
        assert_int_equal(alloc(f->s, "net", 7, T0), 200);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                FIXTURE_TEST(test_stable_and_unique),
                FIXTURE_TEST(test_release_hold_and_reuse),
                FIXTURE_TEST(test_released_uid_gets_its_address_back),
                FIXTURE_TEST(test_exhaustion),
                FIXTURE_TEST(test_no_pool),
                FIXTURE_TEST(test_explicit_addresses_are_skipped),
                FIXTURE_TEST(test_explicit_address_versus_pool_holders),
                FIXTURE_TEST(test_device_delete_releases_its_address),
                FIXTURE_TEST(test_pool_moved),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
