/* SPDX-License-Identifier: Apache-2.0 */
/* store_resolve(): device row first, then the vendor enrollment rule with the longest match; the key that
 * results (own, vendor factory, derived from the vendor master). */

#include "store-fixture.h"

static StoreVendor prefix_vendor(const char *name, const char *hex, StoreVendorKeyKind kind,
                                 uint8_t key_start) {
        StoreVendor v = vendor_base(name, "net");

        v.key_kind = kind;
        fill(v.key, sizeof(v.key), key_start);
        v.enroll_kind = STORE_ENROLL_UID_PREFIX;
        v.enroll_prefix_len = test_unhex(hex, v.enroll_prefix, sizeof(v.enroll_prefix));
        return v;
}

static void setup_net(Fixture *f) {
        StoreNetwork n = network_base("net");

        n.has_pool = true;
        n.pool_first = 100;
        n.pool_last = 200;
        put_network_ok(f->s, &n);
}

static void assert_network_with_keys(const StoreIdentity *id) {
        StoreNetwork n = network_base("net");

        assert_string_equal(id->network.name, "net");
        assert_int_equal(id->network.network_address, n.network_address);
        assert_int_equal(id->network.channel, n.channel);
        assert_memory_equal(id->network.enc_key, n.enc_key, PROV_KEY_SIZE);
        assert_memory_equal(id->network.auth_key, n.auth_key, PROV_KEY_SIZE);
        assert_true(id->network.has_pool);
}

static void test_device_row_wins_over_enrollment(void **state) {
        Fixture *f = *state;
        StoreVendor v = prefix_vendor("acme", "4242", STORE_VENDOR_KEY_FACTORY, 0x50);
        StoreDevice d = device_base(0x42, "net");
        StoreIdentity id;

        setup_net(f);
        put_vendor_ok(f->s, &v);
        /* before the device row exists, the vendor's rule admits the UID */
        assert_int_equal(store_resolve(f->s, d.uid, d.uid_len, &id), 0);
        assert_false(id.from_device);
        assert_string_equal(id.vendor, "acme");
        assert_memory_equal(id.factory_key, v.key, sizeof(v.key));

        snprintf(d.label, sizeof(d.label), "kitchen");
        d.has_node_address = true;
        d.node_address = 7;
        d.has_role = true;
        d.role = 0x11;
        d.n_user_items = 1;
        d.user_items[0] = (ProvUserItem){ .id = 131, .type = PROV_USER_INT, .integer = 77 };
        put_device_ok(f->s, &d);
        assert_int_equal(store_resolve(f->s, d.uid, d.uid_len, &id), 0);
        assert_true(id.from_device);
        assert_true(id.device_enabled);
        assert_true(id.vendor_enabled);
        assert_string_equal(id.vendor, ""); /* the row names no vendor */
        assert_string_equal(id.label, "kitchen");
        assert_int_equal(id.method, 1);
        assert_true(id.has_factory_key);
        assert_memory_equal(id.factory_key, d.factory_key, sizeof(d.factory_key));
        assert_true(id.has_node_address);
        assert_int_equal(id.node_address, 7);
        assert_true(id.has_role);
        assert_int_equal(id.role, 0x11);
        assert_int_equal(id.n_user_items, 1);
        assert_int_equal(id.user_items[0].integer, 77);
        assert_network_with_keys(&id);
}

static void test_effective_key(void **state) {
        Fixture *f = *state;
        StoreVendor fac = vendor_base("fac", "net"), mas = vendor_base("mas", "net"),
                    none = vendor_base("none", "net");
        StoreDevice d = device_base(0x01, "");
        StoreNetwork open = network_base("open");
        uint8_t derived[PROV_FACTORY_KEY_SIZE];
        StoreIdentity id;

        setup_net(f);
        open.allow_unsecured = true;
        put_network_ok(f->s, &open);
        put_vendor_ok(f->s, &fac);
        mas.key_kind = STORE_VENDOR_KEY_MASTER;
        fill(mas.key, sizeof(mas.key), 0xa0);
        put_vendor_ok(f->s, &mas);
        none.key_update = STORE_KEY_KEEP;
        none.key_kind = STORE_VENDOR_KEY_NONE;
        put_vendor_ok(f->s, &none);

        /* own key over the vendor's */
        snprintf(d.vendor, sizeof(d.vendor), "fac");
        put_device_ok(f->s, &d);
        assert_int_equal(store_resolve(f->s, d.uid, d.uid_len, &id), 0);
        assert_memory_equal(id.factory_key, d.factory_key, sizeof(d.factory_key));
        assert_string_equal(id.vendor, "fac");
        assert_string_equal(id.network.name, "net"); /* the vendor's default network */

        /* no own key: the vendor's factory key */
        d.factory_key_update = STORE_KEY_CLEAR;
        put_device_ok(f->s, &d);
        assert_int_equal(store_resolve(f->s, d.uid, d.uid_len, &id), 0);
        assert_true(id.has_factory_key);
        assert_memory_equal(id.factory_key, fac.key, sizeof(fac.key));

        /* a master key: derived per UID, exactly as prov_derive_factory_key() */
        snprintf(d.vendor, sizeof(d.vendor), "mas");
        put_device_ok(f->s, &d);
        assert_int_equal(store_resolve(f->s, d.uid, d.uid_len, &id), 0);
        assert_int_equal(prov_derive_factory_key(mas.key, d.uid, d.uid_len, derived), 0);
        assert_memory_equal(id.factory_key, derived, sizeof(derived));
        assert_memory_not_equal(id.factory_key, mas.key, sizeof(mas.key));

        /* method 0 with no key anywhere */
        snprintf(d.vendor, sizeof(d.vendor), "none");
        snprintf(d.network, sizeof(d.network), "open");
        d.method = 0;
        put_device_ok(f->s, &d);
        assert_int_equal(store_resolve(f->s, d.uid, d.uid_len, &id), 0);
        assert_false(id.has_factory_key);
        assert_int_equal(id.method, 0);
        assert_string_equal(id.network.name, "open");
}

static void test_longest_prefix_wins(void **state) {
        Fixture *f = *state;
        StoreVendor a = prefix_vendor("short", "ab", STORE_VENDOR_KEY_FACTORY, 0x11);
        StoreVendor b = prefix_vendor("long", "abcdef", STORE_VENDOR_KEY_MASTER, 0x22);
        StoreVendor c = prefix_vendor("middle", "abcd", STORE_VENDOR_KEY_FACTORY, 0x33);
        uint8_t uid[PROV_UID_MAX], derived[PROV_FACTORY_KEY_SIZE];
        size_t n;
        StoreIdentity id;

        setup_net(f);
        c.enroll_method = 3; /* the method enrolled devices must use is reported */
        put_vendor_ok(f->s, &a);
        put_vendor_ok(f->s, &b);
        put_vendor_ok(f->s, &c);

        n = test_unhex("abcdef0102", uid, sizeof(uid));
        assert_int_equal(store_resolve(f->s, uid, n, &id), 0);
        assert_false(id.from_device);
        assert_string_equal(id.vendor, "long");
        assert_int_equal(prov_derive_factory_key(b.key, uid, n, derived), 0);
        assert_memory_equal(id.factory_key, derived, sizeof(derived));
        assert_int_equal(id.method, 1);
        assert_network_with_keys(&id);

        n = test_unhex("abcdee", uid, sizeof(uid));
        assert_int_equal(store_resolve(f->s, uid, n, &id), 0);
        assert_string_equal(id.vendor, "middle");
        assert_int_equal(id.method, 3);
        assert_memory_equal(id.factory_key, c.key, sizeof(c.key));

        n = test_unhex("abcd", uid, sizeof(uid)); /* a UID equal to the prefix matches it */
        assert_int_equal(store_resolve(f->s, uid, n, &id), 0);
        assert_string_equal(id.vendor, "middle");

        n = test_unhex("abff", uid, sizeof(uid));
        assert_int_equal(store_resolve(f->s, uid, n, &id), 0);
        assert_string_equal(id.vendor, "short");

        n = test_unhex("ab", uid, sizeof(uid));
        assert_int_equal(store_resolve(f->s, uid, n, &id), 0);
        assert_string_equal(id.vendor, "short");

        n = test_unhex("a0cdef", uid, sizeof(uid));
        assert_int_equal(store_resolve(f->s, uid, n, &id), -ENOENT);
        n = test_unhex("cdef", uid, sizeof(uid)); /* not a prefix, only contained */
        assert_int_equal(store_resolve(f->s, uid, n, &id), -ENOENT);

        /* a 79-byte rule and a 79-byte UID */
        memset(uid, 0x5c, PROV_UID_MAX);
        c = prefix_vendor("full", "5c", STORE_VENDOR_KEY_FACTORY, 0x44);
        memset(c.enroll_prefix, 0x5c, PROV_UID_MAX);
        c.enroll_prefix_len = PROV_UID_MAX;
        put_vendor_ok(f->s, &c);
        a = prefix_vendor("five", "5c", STORE_VENDOR_KEY_FACTORY, 0x55);
        put_vendor_ok(f->s, &a);
        assert_int_equal(store_resolve(f->s, uid, PROV_UID_MAX, &id), 0);
        assert_string_equal(id.vendor, "full");
        assert_int_equal(store_resolve(f->s, uid, PROV_UID_MAX - 1, &id), 0);
        assert_string_equal(id.vendor, "five");

        assert_int_equal(store_resolve(f->s, uid, 0, &id), -EINVAL);
        assert_int_equal(store_resolve(f->s, uid, PROV_UID_MAX + 1, &id), -EINVAL);
}

static void test_authenticator_rule(void **state) {
        Fixture *f = *state;
        StoreVendor auth = vendor_base("auth", "net"),
                    any01 = prefix_vendor("any01", "01", STORE_VENDOR_KEY_FACTORY, 0x66);
        StoreDevice d = device_base(0, "net");
        StoreIdentity id;

        setup_net(f);
        auth.enroll_kind = STORE_ENROLL_AUTHENTICATOR;
        auth.enroll_method = 3;
        auth.enroll_prefix_len = 4;
        memset(auth.enroll_prefix, 0xaa, 4);
        put_vendor_ok(f->s, &auth);
        /* a UID prefix rule "01" matches every extended UID by its first type byte */
        put_vendor_ok(f->s, &any01);

        extended_uid(&d, 0xaa, 0x07);
        assert_int_equal(store_resolve(f->s, d.uid, d.uid_len, &id), 0);
        assert_string_equal(id.vendor, "auth");
        assert_int_equal(id.method, 3);
        assert_memory_equal(id.factory_key, auth.key, sizeof(auth.key));

        /* another authenticator: the UID prefix rule */
        extended_uid(&d, 0xab, 0x07);
        assert_int_equal(store_resolve(f->s, d.uid, d.uid_len, &id), 0);
        assert_string_equal(id.vendor, "any01");

        /* the authenticator's bytes somewhere else, or without the extended layout, do not match it */
        extended_uid(&d, 0xaa, 0x07);
        d.uid[17] = 0x02;
        assert_int_equal(store_resolve(f->s, d.uid, d.uid_len, &id), 0);
        assert_string_equal(id.vendor, "any01");
        extended_uid(&d, 0xaa, 0x07);
        assert_int_equal(store_resolve(f->s, d.uid, d.uid_len - 1, &id), 0);
        assert_string_equal(id.vendor, "any01");
        memset(d.uid, 0xaa, 34);
        assert_int_equal(store_resolve(f->s, d.uid, 34, &id), -ENOENT);

        /* a device row for an extended UID still wins */
        extended_uid(&d, 0xaa, 0x08);
        d.method = 3;
        put_device_ok(f->s, &d);
        assert_int_equal(store_resolve(f->s, d.uid, d.uid_len, &id), 0);
        assert_true(id.from_device);
        assert_memory_equal(id.factory_key, d.factory_key, sizeof(d.factory_key));
}

static void test_disabled_flags(void **state) {
        Fixture *f = *state;
        StoreVendor v = prefix_vendor("acme", "4242", STORE_VENDOR_KEY_FACTORY, 0x50);
        StoreVendor broad = prefix_vendor("broad", "42", STORE_VENDOR_KEY_FACTORY, 0x60);
        StoreDevice d = device_base(0x42, "");
        uint8_t other[8];
        StoreIdentity id;

        setup_net(f);
        put_vendor_ok(f->s, &v);
        snprintf(d.vendor, sizeof(d.vendor), "acme");
        put_device_ok(f->s, &d);

        assert_int_equal(store_device_set_enabled(f->s, d.uid, d.uid_len, false, T0 + 1), 0);
        assert_int_equal(store_resolve(f->s, d.uid, d.uid_len, &id), 0);
        assert_true(id.from_device);
        assert_false(id.device_enabled);
        assert_true(id.vendor_enabled);

        v.enabled = false;
        v.key_update = STORE_KEY_KEEP;
        put_vendor_ok(f->s, &v);
        assert_int_equal(store_device_set_enabled(f->s, d.uid, d.uid_len, true, T0 + 2), 0);
        assert_int_equal(store_resolve(f->s, d.uid, d.uid_len, &id), 0);
        assert_true(id.device_enabled);
        assert_false(id.vendor_enabled);

        /* by enrollment: a disabled vendor's rule still matches (and is reported disabled) rather than
         * falling through to a shorter rule of another vendor */
        put_vendor_ok(f->s, &broad);
        memset(other, 0x42, sizeof(other));
        other[7] = 0x00;
        assert_int_equal(store_resolve(f->s, other, sizeof(other), &id), 0);
        assert_false(id.from_device);
        assert_string_equal(id.vendor, "acme");
        assert_false(id.vendor_enabled);
        other[1] = 0x00;
        assert_int_equal(store_resolve(f->s, other, sizeof(other), &id), 0);
        assert_string_equal(id.vendor, "broad");
        assert_true(id.vendor_enabled);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                FIXTURE_TEST(test_device_row_wins_over_enrollment),
                FIXTURE_TEST(test_effective_key),
                FIXTURE_TEST(test_longest_prefix_wins),
                FIXTURE_TEST(test_authenticator_rule),
                FIXTURE_TEST(test_disabled_flags),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
