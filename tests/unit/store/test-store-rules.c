/* SPDX-License-Identifier: Apache-2.0 */
/* Every validation rule of the whitelist: one passing and one failing case each, with the field named in
 * StoreError. A failing put must change nothing. */

#include "store-fixture.h"

static int net_put(Store *s, const StoreNetwork *n, StoreError *e) {
        *e = (StoreError){};
        return store_network_put(s, n, STORE_PUT_UPSERT, T0, e);
}

static int vendor_put(Store *s, const StoreVendor *v, StoreError *e) {
        *e = (StoreError){};
        return store_vendor_put(s, v, STORE_PUT_UPSERT, T0, e);
}

static int dev_put(Store *s, const StoreDevice *d, StoreError *e) {
        *e = (StoreError){};
        return store_device_put(s, d, STORE_PUT_UPSERT, T0, e);
}

/* ---- networks ---- */

static void test_network_field_rules(void **state) {
        Fixture *f = *state;
        StoreNetwork n, got;
        StoreError e;

        n = network_base("bad name");
        assert_put_error(net_put(f->s, &n, &e), e, -EINVAL, "name");
        n = network_base("Net-1.a_b");
        assert_int_equal(net_put(f->s, &n, &e), 1);
        memset(n.name, 'x', NAME_MAX_LEN);
        n.name[NAME_MAX_LEN] = '\0';
        assert_int_equal(net_put(f->s, &n, &e), 1); /* 64 characters */

        n = network_base("p");
        n.profile = _PROV_PROFILE_MAX;
        assert_put_error(net_put(f->s, &n, &e), e, -EINVAL, "profile");
        n.profile = PROV_PROFILE_5GMESH;
        assert_int_equal(net_put(f->s, &n, &e), 1);

        n = network_base("addr");
        n.network_address = 0xAAAAAA;
        assert_put_error(net_put(f->s, &n, &e), e, -EINVAL, "network_address");
        n.network_address = 0;
        assert_put_error(net_put(f->s, &n, &e), e, -EINVAL, "network_address");
        n.network_address = 0xFFFFFF;
        assert_put_error(net_put(f->s, &n, &e), e, -EINVAL, "network_address");
        n.network_address = 0xFFFFFE;
        assert_int_equal(net_put(f->s, &n, &e), 1);

        n = network_base("chan");
        n.channel = 41; /* 2.4G: 1..40 */
        assert_put_error(net_put(f->s, &n, &e), e, -EINVAL, "channel");
        n.channel = 0;
        assert_put_error(net_put(f->s, &n, &e), e, -EINVAL, "channel");
        n.profile = PROV_PROFILE_SUBG;
        n.channel = 41;
        assert_int_equal(net_put(f->s, &n, &e), 1);

        n = network_base("keys");
        memset(n.enc_key, 0xff, sizeof(n.enc_key));
        assert_put_error(net_put(f->s, &n, &e), e, -EINVAL, "enc_key");
        n = network_base("keys");
        memset(n.auth_key, 0x00, sizeof(n.auth_key));
        assert_put_error(net_put(f->s, &n, &e), e, -EINVAL, "auth_key");
        n = network_base("keys");
        n.keys_update = STORE_KEY_KEEP;
        assert_put_error(net_put(f->s, &n, &e), e, -EINVAL, "keys"); /* a new network needs keys */
        n.keys_update = STORE_KEY_SET;
        assert_int_equal(net_put(f->s, &n, &e), 1);
        n.keys_update = STORE_KEY_CLEAR;
        assert_put_error(net_put(f->s, &n, &e), e, -EINVAL, "keys");
        /* KEEP on update leaves the stored keys, whatever the struct holds */
        n.keys_update = STORE_KEY_KEEP;
        memset(n.enc_key, 0, sizeof(n.enc_key));
        n.channel = 7;
        assert_int_equal(net_put(f->s, &n, &e), 0);
        assert_int_equal(store_network_get(f->s, "keys", &got), 0);
        assert_int_equal(got.channel, 7);
        n = network_base("keys");
        assert_memory_equal(got.enc_key, n.enc_key, PROV_KEY_SIZE);
        assert_memory_equal(got.auth_key, n.auth_key, PROV_KEY_SIZE);

        /* nothing of the failed puts was stored */
        assert_int_equal(store_network_get(f->s, "bad name", &got), -ENOENT);
        assert_int_equal(store_network_get(f->s, "p", &got), 0);
        assert_int_equal(got.profile, PROV_PROFILE_5GMESH);
}

static void test_network_pool_rules(void **state) {
        Fixture *f = *state;
        StoreNetwork n = network_base("pool");
        StoreError e;

        n.has_pool = true;
        n.pool_first = 0;
        n.pool_last = 100;
        assert_put_error(net_put(f->s, &n, &e), e, -EINVAL, "pool_first");
        n.pool_first = 1;
        n.pool_last = 0xFFFFFFFE; /* broadcast */
        assert_put_error(net_put(f->s, &n, &e), e, -EINVAL, "pool_last");
        n.pool_first = 200;
        n.pool_last = 100;
        assert_put_error(net_put(f->s, &n, &e), e, -EINVAL, "pool");
        n.pool_first = 0x7FFFFFF0;
        n.pool_last = 0x81000010; /* spans the multicast range */
        assert_put_error(net_put(f->s, &n, &e), e, -EINVAL, "pool");
        n.pool_first = 0x81000000;
        n.pool_last = 0x81000100;
        assert_int_equal(net_put(f->s, &n, &e), 1);
        n.pool_first = 1;
        n.pool_last = 1; /* a pool of one */
        assert_int_equal(net_put(f->s, &n, &e), 0);
}

static void test_network_put_modes(void **state) {
        Fixture *f = *state;
        StoreNetwork n = network_base("modes"), got;
        StoreError e = {};

        assert_put_error(store_network_put(f->s, &n, STORE_PUT_UPDATE, T0, &e), e, -ENOENT, "name");
        assert_int_equal(store_network_put(f->s, &n, STORE_PUT_CREATE, T0, &e), 1);
        assert_put_error(store_network_put(f->s, &n, STORE_PUT_CREATE, T0, &e), e, -EEXIST, "name");
        n.channel = 9;
        assert_int_equal(store_network_put(f->s, &n, STORE_PUT_UPDATE, T0 + 5, &e), 0);
        assert_int_equal(store_network_get(f->s, "modes", &got), 0);
        assert_int_equal(got.channel, 9);
        assert_int_equal(got.created, T0);
        assert_int_equal(got.updated, T0 + 5);
}

static void test_network_update_rechecks_devices(void **state) {
        Fixture *f = *state;
        StoreNetwork n = network_base("big");
        StoreDevice d = device_base(0x01, "big"), m0 = device_base(0x02, "big");
        StoreError e;

        /* a device whose parameters fit 5G Mesh (121 bytes secured) but not 2.4G (88) */
        n.profile = PROV_PROFILE_5GMESH;
        n.allow_unsecured = true;
        put_network_ok(f->s, &n);
        d.n_user_items = 1;
        d.user_items[0] = (ProvUserItem){ .id = 200, .type = PROV_USER_BYTES, .len = 60 };
        put_device_ok(f->s, &d);

        n.profile = PROV_PROFILE_24G;
        assert_put_error(net_put(f->s, &n, &e), e, -EMSGSIZE, "devices.size");
        assert_non_null(strstr(e.message, "0x0101010101010101"));
        n.profile = PROV_PROFILE_SUBG; /* same size limit as 2.4G */
        assert_put_error(net_put(f->s, &n, &e), e, -EMSGSIZE, "devices.size");
        n.profile = PROV_PROFILE_5GMESH;
        n.channel = 200; /* still fits */
        assert_int_equal(net_put(f->s, &n, &e), 0);

        /* allow_unsecured is the operator's switch for method 0 (lead's commit "store: allow switching a
         * network's allow_unsecured off while method-0 devices refer to it"): turning it off is allowed with
         * method-0 devices present (the engine then refuses them), but a new method-0 device needs it on. */
        m0.method = 0;
        m0.factory_key_update = STORE_KEY_KEEP;
        m0.has_factory_key = false;
        put_device_ok(f->s, &m0);
        n.allow_unsecured = false;
        assert_int_equal(net_put(f->s, &n, &e), 0);
        /* the existing method-0 device stays editable */
        snprintf(m0.label, sizeof(m0.label), "still editable");
        put_device_ok(f->s, &m0);
        m0.uid[0] ^= 0xff;
        assert_int_equal(store_device_put(f->s, &m0, STORE_PUT_CREATE, 1, &e), -EINVAL);
        assert_string_equal(e.field, "method");
        /* and switching an existing device to method 0 is newly configuring it */
        d.method = 0;
        d.factory_key_update = STORE_KEY_KEEP;
        assert_put_error(dev_put(f->s, &d, &e), e, -EINVAL, "method");
}

static void test_network_update_rechecks_vendors(void **state) {
        Fixture *f = *state;
        StoreNetwork n = network_base("open");
        StoreVendor v = vendor_base("plain", "open"), v2 = vendor_base("other", "open");
        StoreError e;

        n.allow_unsecured = true;
        put_network_ok(f->s, &n);
        v.enroll_kind = STORE_ENROLL_UID_PREFIX;
        v.enroll_prefix_len = 2;
        v.enroll_method = 0;
        put_vendor_ok(f->s, &v);

        /* switching unsecured off is allowed even while a vendor enrolls method-0 devices onto it ... */
        n.allow_unsecured = false;
        assert_int_equal(net_put(f->s, &n, &e), 0);
        /* ... which can still be changed otherwise (here: disabled) */
        v.enabled = false;
        assert_int_equal(vendor_put(f->s, &v, &e), 0);
        /* but unsecured enrollment cannot be newly configured there */
        v2.enroll_kind = STORE_ENROLL_UID_PREFIX;
        v2.enroll_prefix_len = 3;
        put_vendor_ok(f->s, &v2);
        v2.enroll_method = 0;
        assert_put_error(vendor_put(f->s, &v2, &e), e, -EINVAL, "enroll_method");
        snprintf(v2.name, sizeof(v2.name), "third");
        assert_put_error(vendor_put(f->s, &v2, &e), e, -EINVAL, "enroll_method");
}

static void test_network_delete_rules(void **state) {
        Fixture *f = *state;
        StoreNetwork n = network_base("used"), got;
        StoreVendor v = vendor_base("acme", "used");
        StoreDevice d = device_base(0x05, "used");
        StoreError e = {};

        put_network_ok(f->s, &n);
        put_vendor_ok(f->s, &v);
        put_device_ok(f->s, &d);
        assert_put_error(store_network_delete(f->s, "nope", &e), e, -ENOENT, "name");
        assert_put_error(store_network_delete(f->s, "used", &e), e, -EBUSY, "name");
        assert_int_equal(store_device_delete(f->s, d.uid, d.uid_len, NULL), 0);
        assert_put_error(store_network_delete(f->s, "used", &e), e, -EBUSY,
                         "name"); /* the vendor's default */
        assert_int_equal(store_vendor_delete(f->s, "acme", NULL), 0);
        assert_int_equal(store_network_delete(f->s, "used", &e), 0);
        assert_int_equal(store_network_get(f->s, "used", &got), -ENOENT);
}

/* ---- vendors ---- */

static void test_vendor_field_rules(void **state) {
        Fixture *f = *state;
        StoreNetwork n = network_base("net"), open = network_base("open");
        StoreVendor v, got;
        StoreError e;

        put_network_ok(f->s, &n);
        open.allow_unsecured = true;
        put_network_ok(f->s, &open);

        v = vendor_base("bad/name", "net");
        assert_put_error(vendor_put(f->s, &v, &e), e, -EINVAL, "name");
        v = vendor_base("v1", "net");
        assert_int_equal(vendor_put(f->s, &v, &e), 1);

        v = vendor_base("v2", "net");
        v.key_kind = STORE_VENDOR_KEY_NONE; /* SET needs a kind */
        assert_put_error(vendor_put(f->s, &v, &e), e, -EINVAL, "key_kind");
        v.key_kind = 7;
        assert_put_error(vendor_put(f->s, &v, &e), e, -EINVAL, "key_kind");
        v.key_kind = STORE_VENDOR_KEY_MASTER;
        memset(v.key + 16, 0xff, 16);
        assert_put_error(vendor_put(f->s, &v, &e), e, -EINVAL, "key");
        v = vendor_base("v2", "net");
        v.key_update = STORE_KEY_KEEP; /* a new vendor with a factory key, but no key given */
        assert_put_error(vendor_put(f->s, &v, &e), e, -EINVAL, "key");
        v.key_kind = STORE_VENDOR_KEY_NONE;
        assert_int_equal(vendor_put(f->s, &v, &e), 1); /* a vendor without key (devices bring their own) */
        assert_int_equal(store_vendor_get(f->s, "v2", &got), 0);
        assert_int_equal(got.key_kind, STORE_VENDOR_KEY_NONE);

        v = vendor_base("v3", "");
        v.enroll_kind = 3;
        assert_put_error(vendor_put(f->s, &v, &e), e, -EINVAL, "enroll_kind");
        v.enroll_kind = STORE_ENROLL_NONE;
        v.enroll_method = 2;
        assert_put_error(vendor_put(f->s, &v, &e), e, -EINVAL, "enroll_method");
        v.enroll_method = 3;
        assert_int_equal(vendor_put(f->s, &v, &e), 1); /* no enrollment: no default network needed */

        v = vendor_base("v4", "");
        v.default_network[0] = '\0';
        v.enroll_kind = STORE_ENROLL_UID_PREFIX;
        v.enroll_prefix_len = 3;
        assert_put_error(vendor_put(f->s, &v, &e), e, -EINVAL, "default_network");
        assert_false(e.missing); /* a rule broken, not a missing network */
        snprintf(v.default_network, sizeof(v.default_network), "missing");
        assert_put_error(vendor_put(f->s, &v, &e), e, -EINVAL, "default_network");
        assert_true(e.missing); /* the API answers NOT_FOUND */
        snprintf(v.default_network, sizeof(v.default_network), "net");
        v.enroll_prefix_len = 0;
        assert_put_error(vendor_put(f->s, &v, &e), e, -EINVAL, "enroll_prefix");
        v.enroll_prefix_len = PROV_UID_MAX + 1;
        assert_put_error(vendor_put(f->s, &v, &e), e, -EINVAL, "enroll_prefix");
        v.enroll_prefix_len = PROV_UID_MAX;
        v.key_update = STORE_KEY_CLEAR; /* enrollment needs a key */
        assert_put_error(vendor_put(f->s, &v, &e), e, -EINVAL, "key");
        v.key_update = STORE_KEY_SET;
        v.enroll_method = 0; /* unsecured enrollment onto a network that does not allow it */
        assert_put_error(vendor_put(f->s, &v, &e), e, -EINVAL, "enroll_method");
        snprintf(v.default_network, sizeof(v.default_network), "open");
        assert_int_equal(vendor_put(f->s, &v, &e), 1);

        v = vendor_base("v5", "net");
        v.enroll_kind = STORE_ENROLL_AUTHENTICATOR;
        v.enroll_prefix_len = 17;
        v.enroll_method = 3;
        assert_put_error(vendor_put(f->s, &v, &e), e, -EINVAL, "enroll_prefix");
        v.enroll_prefix_len = 16;
        v.enroll_method = 1; /* authenticator rules are for method 3 */
        assert_put_error(vendor_put(f->s, &v, &e), e, -EINVAL, "enroll_method");
        v.enroll_method = 3;
        assert_int_equal(vendor_put(f->s, &v, &e), 1);
}

static void test_vendor_prefix_unique(void **state) {
        Fixture *f = *state;
        StoreNetwork n = network_base("net");
        StoreVendor a = vendor_base("a", "net"), b = vendor_base("b", "net");
        StoreError e;

        put_network_ok(f->s, &n);
        a.enroll_kind = b.enroll_kind = STORE_ENROLL_UID_PREFIX;
        a.enroll_prefix_len = b.enroll_prefix_len = 2;
        a.enroll_prefix[0] = b.enroll_prefix[0] = 0xab;
        a.enroll_prefix[1] = b.enroll_prefix[1] = 0xcd;
        put_vendor_ok(f->s, &a);
        assert_put_error(vendor_put(f->s, &b, &e), e, -EEXIST, "enroll_prefix");
        assert_non_null(strstr(e.message, "'a'"));
        /* a longer prefix is a different rule (the longest match wins at lookup) */
        b.enroll_prefix_len = 3;
        assert_int_equal(vendor_put(f->s, &b, &e), 1);
        /* the same bytes as an authenticator prefix are a different rule too */
        a.enroll_kind = STORE_ENROLL_AUTHENTICATOR;
        a.enroll_method = 3;
        b.enroll_prefix_len = 2;
        b.enroll_kind = STORE_ENROLL_UID_PREFIX;
        put_vendor_ok(f->s, &a);
        assert_int_equal(vendor_put(f->s, &b, &e), 0);
        /* updating a vendor does not conflict with itself */
        b.enabled = false;
        assert_int_equal(vendor_put(f->s, &b, &e), 0);
}

static void test_vendor_update_rechecks_devices(void **state) {
        Fixture *f = *state;
        StoreNetwork n = network_base("net"), small = network_base("small");
        StoreVendor v = vendor_base("acme", "net"), got;
        StoreDevice d = device_base(0x01, ""), own = device_base(0x02, ""),
                    other = device_base(0x03, "small");
        StoreError e;

        n.profile = PROV_PROFILE_5GMESH;
        put_network_ok(f->s, &n);
        put_network_ok(f->s, &small);
        put_vendor_ok(f->s, &v);
        /* d relies on the vendor for its key and its network */
        snprintf(d.vendor, sizeof(d.vendor), "acme");
        d.factory_key_update = STORE_KEY_KEEP;
        d.has_factory_key = false;
        put_device_ok(f->s, &d);
        snprintf(own.vendor, sizeof(own.vendor), "acme");
        put_device_ok(f->s, &own);

        v.key_update = STORE_KEY_CLEAR;
        assert_put_error(vendor_put(f->s, &v, &e), e, -EINVAL, "devices.factory_key");
        assert_non_null(strstr(e.message, "0x0101010101010101"));
        assert_int_equal(store_vendor_get(f->s, "acme", &got), 0);
        assert_int_equal(got.key_kind, STORE_VENDOR_KEY_FACTORY);

        v.key_update = STORE_KEY_KEEP;
        v.default_network[0] = '\0';
        assert_put_error(vendor_put(f->s, &v, &e), e, -EINVAL, "devices.network");

        /* a new default network moves both devices that name none; d must fit and keep its address there */
        d.n_user_items = 1;
        d.user_items[0] = (ProvUserItem){ .id = 130, .type = PROV_USER_BYTES, .len = 60 };
        d.has_node_address = true;
        d.node_address = 77;
        put_device_ok(f->s, &d);
        snprintf(v.default_network, sizeof(v.default_network), "small");
        assert_put_error(vendor_put(f->s, &v, &e), e, -EMSGSIZE,
                         "devices.size"); /* 60 bytes do not fit 2.4G */
        d.n_user_items = 0;
        put_device_ok(f->s, &d);
        other.has_node_address = true;
        other.node_address = 77;
        put_device_ok(f->s, &other);
        assert_put_error(vendor_put(f->s, &v, &e), e, -EEXIST, "devices.node_address");
        other.node_address = 78;
        put_device_ok(f->s, &other);
        assert_int_equal(vendor_put(f->s, &v, &e), 0);

        {
                StoreDeviceFilter fl = { .network = "small", .state = -1 };
                assert_int_equal(count_devices(f->s, &fl), 3);
                fl.network = "net";
                assert_int_equal(count_devices(f->s, &fl), 0);
        }
}

static void test_vendor_put_modes_and_delete(void **state) {
        Fixture *f = *state;
        StoreNetwork n = network_base("net");
        StoreVendor v = vendor_base("acme", "net"), got;
        StoreDevice d = device_base(0x01, "");
        StoreError e = {};

        put_network_ok(f->s, &n);
        assert_put_error(store_vendor_put(f->s, &v, STORE_PUT_UPDATE, T0, &e), e, -ENOENT, "name");
        assert_int_equal(store_vendor_put(f->s, &v, STORE_PUT_CREATE, T0, &e), 1);
        assert_put_error(store_vendor_put(f->s, &v, STORE_PUT_CREATE, T0, &e), e, -EEXIST, "name");
        v.key_update = STORE_KEY_KEEP;
        v.enabled = false;
        memset(v.key, 0, sizeof(v.key));
        assert_int_equal(store_vendor_put(f->s, &v, STORE_PUT_UPDATE, T0 + 9, &e), 0);
        assert_int_equal(store_vendor_get(f->s, "acme", &got), 0);
        assert_false(got.enabled);
        assert_int_equal(got.updated, T0 + 9);
        assert_int_equal(got.created, T0);
        v = vendor_base("acme", "net");
        assert_memory_equal(got.key, v.key, sizeof(v.key)); /* kept */
        assert_string_equal(got.default_network, "net");

        snprintf(d.vendor, sizeof(d.vendor), "acme");
        put_device_ok(f->s, &d);
        assert_put_error(store_vendor_delete(f->s, "acme", &e), e, -EBUSY, "name");
        assert_int_equal(store_device_delete(f->s, d.uid, d.uid_len, NULL), 0);
        assert_int_equal(store_vendor_delete(f->s, "acme", &e), 0);
        assert_put_error(store_vendor_delete(f->s, "acme", &e), e, -ENOENT, "name");
}

/* ---- devices ---- */

static void test_device_identity_rules(void **state) {
        Fixture *f = *state;
        StoreNetwork n = network_base("net"), open = network_base("open");
        StoreVendor keyed = vendor_base("keyed", "net"), nodefault = vendor_base("nodefault", "");
        StoreDevice d;
        StoreError e;

        put_network_ok(f->s, &n);
        open.allow_unsecured = true;
        put_network_ok(f->s, &open);
        put_vendor_ok(f->s, &keyed);
        put_vendor_ok(f->s, &nodefault);

        d = device_base(0x01, "net");
        d.uid_len = 0;
        assert_put_error(dev_put(f->s, &d, &e), e, -EINVAL, "uid");
        d.uid_len = PROV_UID_MAX + 1;
        assert_put_error(dev_put(f->s, &d, &e), e, -EINVAL, "uid");
        d.uid_len = PROV_UID_MAX;
        assert_int_equal(dev_put(f->s, &d, &e), 1);

        d = device_base(0x02, "net");
        d.method = 2;
        assert_put_error(dev_put(f->s, &d, &e), e, -EINVAL, "method");
        d.method = 7;
        assert_put_error(dev_put(f->s, &d, &e), e, -EINVAL, "method");
        d.method = 3; /* needs the extended UID layout */
        assert_put_error(dev_put(f->s, &d, &e), e, -EINVAL, "uid");
        extended_uid(&d, 0xaa, 0x02);
        d.uid[17] = 0x02; /* node UID type must be 0x01 */
        assert_put_error(dev_put(f->s, &d, &e), e, -EINVAL, "uid");
        extended_uid(&d, 0xaa, 0x02);
        assert_int_equal(dev_put(f->s, &d, &e), 1);

        d = device_base(0x03, "net");
        d.method = 0;
        d.factory_key_update = STORE_KEY_KEEP;
        d.has_factory_key = false;
        assert_put_error(dev_put(f->s, &d, &e), e, -EINVAL, "method");
        snprintf(d.network, sizeof(d.network), "open");
        assert_int_equal(dev_put(f->s, &d, &e), 1);

        d = device_base(0x04, "net");
        d.factory_key_update = STORE_KEY_KEEP;
        d.has_factory_key = false;
        assert_put_error(dev_put(f->s, &d, &e), e, -EINVAL, "factory_key"); /* no own key, no vendor */
        snprintf(d.vendor, sizeof(d.vendor), "keyed");
        assert_int_equal(dev_put(f->s, &d, &e), 1);

        d = device_base(0x05, "net");
        memset(d.factory_key, 0xff, 16); /* the auth half */
        assert_put_error(dev_put(f->s, &d, &e), e, -EINVAL, "factory_key");
        d = device_base(0x05, "net");
        memset(d.factory_key + 16, 0x00, 16); /* the enc half */
        assert_put_error(dev_put(f->s, &d, &e), e, -EINVAL, "factory_key");
        d = device_base(0x05, "net"); /* a new device's key comes with SET */
        d.factory_key_update = STORE_KEY_KEEP;
        assert_put_error(dev_put(f->s, &d, &e), e, -EINVAL, "factory_key");

        d = device_base(0x06, "");
        snprintf(d.vendor, sizeof(d.vendor), "nobody");
        assert_put_error(dev_put(f->s, &d, &e), e, -EINVAL, "vendor");
        snprintf(d.vendor, sizeof(d.vendor), "no such");
        assert_put_error(dev_put(f->s, &d, &e), e, -EINVAL, "vendor");
        snprintf(d.vendor, sizeof(d.vendor),
                 "nodefault"); /* neither the device nor its vendor name a network */
        assert_put_error(dev_put(f->s, &d, &e), e, -EINVAL, "network");
        d.vendor[0] = '\0';
        assert_put_error(dev_put(f->s, &d, &e), e, -EINVAL, "network");
        assert_false(e.missing);
        snprintf(d.network, sizeof(d.network), "missing");
        assert_put_error(dev_put(f->s, &d, &e), e, -EINVAL, "network");
        assert_true(e.missing);
        snprintf(d.vendor, sizeof(d.vendor), "keyed");
        d.network[0] = '\0'; /* the vendor's default */
        assert_int_equal(dev_put(f->s, &d, &e), 1);

        d = device_base(0x07, "net");
        snprintf(d.label, sizeof(d.label), "bad\nlabel");
        assert_put_error(dev_put(f->s, &d, &e), e, -EINVAL, "label");
        snprintf(d.label, sizeof(d.label), "Node 7 (hall)");
        assert_int_equal(dev_put(f->s, &d, &e), 1);

        assert_int_equal(count_devices(f->s, NULL), 6);
}

static void test_device_parameter_rules(void **state) {
        Fixture *f = *state;
        StoreNetwork n = network_base("net"), other = network_base("other");
        StoreDevice d, got;
        StoreError e;

        put_network_ok(f->s, &n);
        put_network_ok(f->s, &other);

        d = device_base(0x11, "net");
        d.has_node_address = true;
        d.node_address = 0;
        assert_put_error(dev_put(f->s, &d, &e), e, -EINVAL, "node_address");
        d.node_address = 0xFFFFFFFE;
        assert_put_error(dev_put(f->s, &d, &e), e, -EINVAL, "node_address");
        d.node_address = 0x80000001; /* multicast */
        assert_put_error(dev_put(f->s, &d, &e), e, -EINVAL, "node_address");
        d.node_address = 0x81000000;
        assert_int_equal(dev_put(f->s, &d, &e), 1);
        /* unique within a network, not across networks */
        d = device_base(0x12, "net");
        d.has_node_address = true;
        d.node_address = 0x81000000;
        assert_put_error(dev_put(f->s, &d, &e), e, -EEXIST, "node_address");
        assert_non_null(strstr(e.message, "0x1111111111111111"));
        snprintf(d.network, sizeof(d.network), "other");
        assert_int_equal(dev_put(f->s, &d, &e), 1);
        /* and a device may keep its own address on update */
        d.has_role = true;
        d.role = 0x52;
        assert_int_equal(dev_put(f->s, &d, &e), 0);

        d = device_base(0x13, "net");
        d.has_role = true;
        d.role = 0x03;
        assert_put_error(dev_put(f->s, &d, &e), e, -EINVAL, "role");
        d.role = 0x11;
        assert_int_equal(dev_put(f->s, &d, &e), 1);

        d = device_base(0x14, "net");
        d.n_user_items = 1;
        d.user_items[0] = (ProvUserItem){ .id = 127, .type = PROV_USER_INT, .integer = 1 };
        assert_put_error(dev_put(f->s, &d, &e), e, -EINVAL, "user_items");
        d.user_items[0] =
                (ProvUserItem){ .id = 128, .type = PROV_USER_TEXT, .len = 2, .data = { 0xc3, 0x28 } };
        assert_put_error(dev_put(f->s, &d, &e), e, -EINVAL, "user_items"); /* not UTF-8 */
        d.user_items[0] = (ProvUserItem){ .id = 128, .type = 9 };
        assert_put_error(dev_put(f->s, &d, &e), e, -EINVAL, "user_items");
        d.n_user_items = 3;
        d.user_items[0] = (ProvUserItem){ .id = 255, .type = PROV_USER_BOOL, .boolean = true };
        d.user_items[1] = (ProvUserItem){ .id = 130, .type = PROV_USER_INT, .integer = -5 };
        d.user_items[2] = (ProvUserItem){ .id = 255, .type = PROV_USER_INT, .integer = 9 };
        assert_put_error(dev_put(f->s, &d, &e), e, -EINVAL, "user_items"); /* 255 twice */
        d.user_items[2] = (ProvUserItem){ .id = 129, .type = PROV_USER_TEXT, .len = 3, .data = "h\xc3\xa9" };
        assert_int_equal(dev_put(f->s, &d, &e), 1);
        /* stored ascending by id, values intact */
        assert_int_equal(store_device_get(f->s, d.uid, d.uid_len, &got), 0);
        assert_int_equal(got.n_user_items, 3);
        assert_int_equal(got.user_items[0].id, 129);
        assert_int_equal(got.user_items[0].len, 3);
        assert_memory_equal(got.user_items[0].data, "h\xc3\xa9", 3);
        assert_int_equal(got.user_items[1].id, 130);
        assert_int_equal(got.user_items[1].integer, -5);
        assert_int_equal(got.user_items[2].id, 255);
        assert_true(got.user_items[2].boolean);
}

/* Largest byte-string user item that a method-`method` device on network `net` accepts (-1: none). */
static int largest_item(Store *s, const char *net, uint8_t method, uint8_t uid_byte) {
        int best = -1;

        for (int len = 0; len <= (int)PROV_USER_STRING_MAX; len++) {
                StoreDevice d = device_base(uid_byte, net);
                StoreError e = {};
                int r;

                d.method = method;
                d.n_user_items = 1;
                d.user_items[0] = (ProvUserItem){ .id = 200, .type = PROV_USER_BYTES, .len = (uint8_t)len };
                r = store_device_put(s, &d, STORE_PUT_UPSERT, T0, &e);
                if (r >= 0)
                        best = len;
                else if (r != -EMSGSIZE || !streq(e.field, "size"))
                        fail_msg("len %d: %d %s %s", len, r, e.field, e.message);
        }
        return best;
}

static void test_device_must_fit_a_data(void **state) {
        Fixture *f = *state;
        StoreNetwork plain = network_base("plain"), pooled = network_base("pooled"),
                     open = network_base("open");
        int l_plain, l_pooled, l_open, l_5g;
        StoreNetwork g5 = network_base("g5");

        put_network_ok(f->s, &plain);
        pooled.has_pool = true;
        pooled.pool_first = 0x1000000; /* a 4-byte address */
        pooled.pool_last = 0x1000100;
        put_network_ok(f->s, &pooled);
        open.allow_unsecured = true;
        put_network_ok(f->s, &open);
        g5.profile = PROV_PROFILE_5GMESH;
        put_network_ok(f->s, &g5);

        l_plain = largest_item(f->s, "plain", 1, 0x21);
        l_pooled = largest_item(f->s, "pooled", 1, 0x22);
        l_open = largest_item(f->s, "open", 0, 0x23);
        l_5g = largest_item(f->s, "g5", 1, 0x24);

        /* the limits differ exactly as the packet sizes do */
        assert_true(l_plain > 0 && l_plain < (int)PROV_USER_STRING_MAX);
        assert_int_equal(l_plain - l_pooled, 6); /* key 4 + uint32 head + 4 bytes of a pool address */
        assert_int_equal(l_open - l_plain, 5);   /* no MIC: 93 instead of 88 */
        assert_int_equal(l_5g - l_plain, 33);    /* 121 instead of 88 */

        /* an explicit 1-byte address costs less than the 4-byte pool address assumed on a pool network */
        {
                StoreDevice d = device_base(0x25, "pooled");
                StoreError e = {};

                d.has_node_address = true;
                d.node_address = 5;
                d.n_user_items = 1;
                d.user_items[0] =
                        (ProvUserItem){ .id = 200, .type = PROV_USER_BYTES, .len = (uint8_t)(l_pooled + 1) };
                assert_int_equal(store_device_put(f->s, &d, STORE_PUT_UPSERT, T0, &e), 1);
        }
}

static void test_device_put_modes(void **state) {
        Fixture *f = *state;
        StoreNetwork n = network_base("net");
        StoreVendor v = vendor_base("acme", "net");
        StoreDevice d = device_base(0x31, "net"), got;
        StoreError e = {};

        put_network_ok(f->s, &n);
        put_vendor_ok(f->s, &v);
        assert_put_error(store_device_put(f->s, &d, STORE_PUT_UPDATE, T0, &e), e, -ENOENT, "uid");
        assert_int_equal(store_device_put(f->s, &d, STORE_PUT_CREATE, T0, &e), 1);
        assert_put_error(store_device_put(f->s, &d, STORE_PUT_CREATE, T0, &e), e, -EEXIST, "uid");

        assert_int_equal(store_device_note_start(f->s, d.uid, d.uid_len, T0 + 1), 1);
        assert_int_equal(store_device_note_sent(f->s, d.uid, d.uid_len, T0 + 2), 1);

        /* an update replaces what people set and keeps what the store maintains */
        snprintf(d.vendor, sizeof(d.vendor), "acme");
        snprintf(d.label, sizeof(d.label), "renamed");
        d.factory_key_update = STORE_KEY_KEEP;
        memset(d.factory_key, 0, sizeof(d.factory_key));
        assert_int_equal(store_device_put(f->s, &d, STORE_PUT_UPDATE, T0 + 3, &e), 0);
        assert_int_equal(store_device_get(f->s, d.uid, d.uid_len, &got), 0);
        assert_string_equal(got.label, "renamed");
        assert_string_equal(got.vendor, "acme");
        assert_true(got.has_factory_key);
        d = device_base(0x31, "net");
        assert_memory_equal(got.factory_key, d.factory_key, sizeof(d.factory_key));
        assert_int_equal(got.state, STORE_DEVICE_SENT);
        assert_int_equal(got.n_starts, 1);
        assert_int_equal(got.last_start, T0 + 1);
        assert_int_equal(got.created, T0);
        assert_int_equal(got.updated, T0 + 3);

        /* CLEAR removes the own key (the vendor's is then used); SET replaces it */
        got.factory_key_update = STORE_KEY_CLEAR;
        assert_int_equal(store_device_put(f->s, &got, STORE_PUT_UPDATE, T0 + 4, &e), 0);
        assert_int_equal(store_device_get(f->s, d.uid, d.uid_len, &got), 0);
        assert_false(got.has_factory_key);
        got.factory_key_update = STORE_KEY_SET;
        fill(got.factory_key, sizeof(got.factory_key), 0x99);
        assert_int_equal(store_device_put(f->s, &got, STORE_PUT_UPSERT, T0 + 5, &e), 0);
        assert_int_equal(store_device_get(f->s, d.uid, d.uid_len, &got), 0);
        assert_true(got.has_factory_key);
        assert_int_equal(got.factory_key[0], 0x99);

        assert_put_error(store_device_delete(f->s, (const uint8_t *)"\x01", 1, &e), e, -ENOENT, "uid");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                FIXTURE_TEST(test_network_field_rules),
                FIXTURE_TEST(test_network_pool_rules),
                FIXTURE_TEST(test_network_put_modes),
                FIXTURE_TEST(test_network_update_rechecks_devices),
                FIXTURE_TEST(test_network_update_rechecks_vendors),
                FIXTURE_TEST(test_network_delete_rules),
                FIXTURE_TEST(test_vendor_field_rules),
                FIXTURE_TEST(test_vendor_prefix_unique),
                FIXTURE_TEST(test_vendor_update_rechecks_devices),
                FIXTURE_TEST(test_vendor_put_modes_and_delete),
                FIXTURE_TEST(test_device_identity_rules),
                FIXTURE_TEST(test_device_parameter_rules),
                FIXTURE_TEST(test_device_must_fit_a_data),
                FIXTURE_TEST(test_device_put_modes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
