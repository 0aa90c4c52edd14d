/* SPDX-License-Identifier: Apache-2.0 */
/* The wm-provisioning YAML import (and export) on real SQLite files in a temporary directory. */
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "test-helpers.h"

#include "ctl-backend.h"
#include "export.h"
#include "import.h"
#include "store.h"

static const uint8_t test_master[32] = {
        0x6d, 0x61, 0x73, 0x74, 0x65, 0x72, 0x2d, 0x6b, 0x65, 0x79, 0x2d, 0x66, 0x6f, 0x72, 0x2d, 0x74,
        0x65, 0x73, 0x74, 0x73, 0x2d, 0x6f, 0x6e, 0x6c, 0x79, 0x2d, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35,
};

typedef struct Fixture {
        char dir[64];
        char db[128];
        Store *store;
        CtlBackend *b;
        char warnings[4096];
        unsigned n_warnings;
        uint64_t progress_calls, progress_last, progress_total;
} Fixture;

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f) {
        return remove(p);
}

static void open_db(Fixture *f, const char *name) {
        StoreOptions o = { .master_key = test_master };

        snprintf(f->db, sizeof(f->db), "%s/%s", f->dir, name);
        assert_true(store_open(f->db, &o, &f->store) >= 0);
        assert_int_equal(ctl_backend_local_new(f->store, true, &f->b), 0);
}

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(Fixture));
        assert_non_null(f);
        strcpy(f->dir, "/tmp/test-ctl-import-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        open_db(f, "a.db");
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        ctl_backend_free(f->b);
        (void)nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
        free(f);
        return 0;
}

static void on_warning(const char *message, void *userdata) {
        Fixture *f = userdata;
        size_t l = strlen(f->warnings);
        snprintf(f->warnings + l, sizeof(f->warnings) - l, "%s\n", message);
        f->n_warnings++;
}

static void on_progress(uint64_t done, uint64_t total, void *userdata) {
        Fixture *f = userdata;
        assert_true(done > f->progress_last);
        f->progress_calls++;
        f->progress_last = done;
        f->progress_total = total;
}

static int import_full(Fixture *f, const char *yaml, bool allow_unsecured, bool dry_run, ImportResult *res,
                       ImportError *err) {
        ImportOptions o = {
                .allow_unsecured = allow_unsecured,
                .dry_run = dry_run,
                .warning = on_warning,
                .progress = on_progress,
                .userdata = f,
        };
        ImportResult dummy;
        ImportError e;

        f->progress_last = 0;
        return ctl_import_yaml(f->b, yaml, strlen(yaml), &o, res ?: &dummy, err ?: &e);
}

static int import(Fixture *f, const char *yaml, ImportResult *res, ImportError *err) {
        return import_full(f, yaml, false, false, res, err);
}

static uint64_t n_devices(Fixture *f) {
        StoreDeviceFilter df = { .state = -1 };
        uint64_t n = 0;
        assert_int_equal(store_device_count(f->store, &df, &n), 0);
        return n;
}

static int count_network(const StoreNetwork *n, void *userdata) {
        (*(unsigned *)userdata)++;
        return 0;
}

static unsigned n_networks(Fixture *f) {
        unsigned n = 0;
        assert_int_equal(store_network_list(f->store, count_network, &n), 0);
        return n;
}

static void get_device(Fixture *f, const char *uid_hex, StoreDevice *d) {
        uint8_t uid[PROV_UID_MAX];
        size_t n = test_unhex(uid_hex, uid, sizeof(uid));
        int r = store_device_get(f->store, uid, n, d);
        if (r < 0)
                fail_msg("device %s: %d", uid_hex, r);
}

#define NET_TEST                                                                                         \
        "networks:\n"                                                                                    \
        "    test_network:\n"                                                                            \
        "        address: 0x1012EE\n"                                                                    \
        "        channel: 2\n"                                                                           \
        "        authentication_key: 0x01 0x02 0x03 0x04 0x05 0x06 0x07 0x08 0x09 0x0A 0x0B 0x0C 0x0D "  \
        "0x0E "                                                                                          \
        "0x0F 0x10\n"                                                                                    \
        "        encryption_key: 0x10 0x0F 0x0E 0x0D 0x0C 0x0B 0x0A 0x09 0x08 0x07 0x06 0x05 0x04 0x03 " \
        "0x02 "                                                                                          \
        "0x01\n"

#define FACTORY_KEY                                                                                       \
        "0x00 0x01 0x02 0x03 0x04 0x05 0x06 0x07 0x08 0X09 0X0A 0X0B 0X0C 0X0D 0X0E 0X0F 0x00 0x01 0x02 " \
        "0x03 "                                                                                           \
        "0x04 0x05 0x06 0x07 0x08 0X09 0X0A 0X0B 0X0C 0X0D 0X0E 0X0F"

/* wm-provisioning's examples/provisioning_config.yml, in the v1 layout (networks + nodes). */
static const char reference_v1[] =
        "version: 1\n" NET_TEST "nodes:\n"
        "    test_node_extended:\n"
        "        network: test_network\n"
        "        method : 3\n"
        "        node_uid: 0x7e 0x71 0xe5 0xd7 0x22 0xef 0x0f 0x4b 0xa8 0x7d 0x44 0xd4 0xe0 0xe5 0xb5 0x7d\n"
        "        node_uid_type: 0x01\n"
        "        authenticator_uid: 0xb3 0x43 0x33 0x00 0x93 0x81 0x08 0x4a 0x8d 0xb3 0xaa 0x9e 0x53 0xd2 "
        "0x2a 0x1e\n"
        "        authenticator_uid_type: 0x01\n"
        "        factory_key : " FACTORY_KEY "\n"
        "        node_id : 0x11\n"
        "    test_node_secure:\n"
        "        network: test_network\n"
        "        method: 1\n"
        "        uid: 0x58 0xc8 0x12 0xad 0x37 0xe8 0x36 0x4a 0xa1 0x1f 0x1c 0xbc 0x63 0x3e 0x8e 0x34\n"
        "        factory_key: " FACTORY_KEY "\n"
        "        node_id: 0x12\n"
        "        user_specific:\n"
        "            128 : 'some_string'\n"
        "            129 : 0x34\n"
        "    test_node_insecure:\n"
        "        network: test_network\n"
        "        method: 0\n"
        "        uid: 0x41 0xb1 0x85 0x7a 0x0f 0xb6 0xb1 0x48 0xa5 0xe4 0xb9 0xb6 0x03 0x53 0x1b 0x3b\n"
        "        node_id: 0x13\n";

#define EXTENDED_UID "01b34333009381084a8db3aa9e53d22a1e017e71e5d722ef0f4ba87d44d4e0e5b57d"
#define SECURE_UID   "58c812ad37e8364aa11f1cbc633e8e34"
#define INSECURE_UID "41b1857a0fb6b148a5e4b9b603531b3b"
#define FACTORY_HEX  "000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f"

static void test_reference_example(void **state) {
        Fixture *f = *state;
        ImportResult res;
        ImportError err;
        StoreNetwork n;
        StoreDevice d;
        int r;

        r = import_full(f, reference_v1, true, false, &res, &err);
        if (r < 0)
                fail_msg("import: %s: %s", err.path, err.message);
        assert_int_equal(res.networks_created, 1);
        assert_int_equal(res.networks_updated, 0);
        assert_int_equal(res.devices_created, 3);
        assert_int_equal(res.devices_updated, 0);
        assert_int_equal(res.networks_made_unsecured, 1);
        assert_non_null(strstr(f->warnings, "'test_network'"));
        assert_non_null(strstr(f->warnings, "test_node_insecure"));

        assert_int_equal(store_network_get(f->store, "test_network", &n), 0);
        assert_int_equal(n.network_address, 0x1012ee);
        assert_int_equal(n.channel, 2);
        assert_int_equal(n.profile, PROV_PROFILE_24G);
        assert_true(n.allow_unsecured);
        assert_false(n.has_pool);
        assert_memory_equal_hex(n.auth_key, PROV_KEY_SIZE, "0102030405060708090a0b0c0d0e0f10");
        assert_memory_equal_hex(n.enc_key, PROV_KEY_SIZE, "100f0e0d0c0b0a090807060504030201");

        /* the extended UID assembled from the four fields: auth type, auth UID, node type, node UID */
        get_device(f, EXTENDED_UID, &d);
        assert_int_equal(d.method, 3);
        assert_string_equal(d.label, "test_node_extended");
        assert_string_equal(d.network, "test_network");
        assert_true(d.has_factory_key);
        assert_memory_equal_hex(d.factory_key, PROV_FACTORY_KEY_SIZE, FACTORY_HEX);
        assert_true(d.has_node_address);
        assert_int_equal(d.node_address, 0x11);
        assert_false(d.has_role);
        assert_true(d.enabled);

        get_device(f, SECURE_UID, &d);
        assert_int_equal(d.method, 1);
        assert_int_equal(d.node_address, 0x12);
        assert_int_equal(d.n_user_items, 2);
        assert_int_equal(d.user_items[0].id, 128);
        assert_int_equal(d.user_items[0].type, PROV_USER_TEXT);
        assert_memory_equal(d.user_items[0].data, "some_string", 11);
        assert_int_equal(d.user_items[0].len, 11);
        assert_int_equal(d.user_items[1].id, 129);
        assert_int_equal(d.user_items[1].type, PROV_USER_INT);
        assert_int_equal(d.user_items[1].integer, 0x34);

        get_device(f, INSECURE_UID, &d);
        assert_int_equal(d.method, 0);
        assert_false(d.has_factory_key);

        /* the same file again: everything is an update */
        f->n_warnings = 0;
        r = import_full(f, reference_v1, true, false, &res, &err);
        assert_int_equal(r, 0);
        assert_int_equal(res.networks_created, 0);
        assert_int_equal(res.networks_updated, 1);
        assert_int_equal(res.devices_created, 0);
        assert_int_equal(res.devices_updated, 3);
        assert_int_equal(res.networks_made_unsecured, 0); /* it already allows it */
        assert_int_equal(f->n_warnings, 0);
        assert_int_equal(n_devices(f), 3);
}

static void test_unsecured_refused_by_default(void **state) {
        Fixture *f = *state;
        ImportError err;

        assert_int_equal(import(f, reference_v1, NULL, &err), -EINVAL);
        assert_string_equal(err.path, "nodes.test_node_insecure.method");
        assert_non_null(strstr(err.message, "--allow-unsecured"));
        assert_int_equal(err.line, 29);
        assert_int_equal(n_networks(f), 0);
        assert_int_equal(n_devices(f), 0);
}

/* One valid network, then nodes given by the caller. */
static char *doc_with_nodes(const char *nodes) {
        char *s;
        assert_true(asprintf(&s, "version: 1\n" NET_TEST "nodes:\n%s", nodes) > 0);
        return s;
}

static void expect_error(Fixture *f, const char *yaml, const char *path, const char *message_part) {
        uint64_t before_devices = n_devices(f);
        unsigned before_networks = n_networks(f);
        ImportError err;
        int r;

        r = import(f, yaml, NULL, &err);
        if (r >= 0)
                fail_msg("expected an error at %s, the import succeeded:\n%s", path, yaml);
        if (!streq(err.path, path) || !strstr(err.message, message_part))
                fail_msg("expected '%s: ...%s...', got '%s: %s'", path, message_part, err.path, err.message);
        /* a failing file changes nothing */
        assert_int_equal(n_devices(f), before_devices);
        assert_int_equal(n_networks(f), before_networks);
}

static void expect_node_error(Fixture *f, const char *node_fields, const char *path,
                              const char *message_part) {
        char *nodes, *yaml;
        assert_true(asprintf(&nodes, "    test_node:\n%s", node_fields) > 0);
        yaml = doc_with_nodes(nodes);
        expect_error(f, yaml, path, message_part);
        free(yaml);
        free(nodes);
}

#define N_OK "        network: test_network\n        method: 1\n        uid: 0x0a0b0c0d\n"
#define FK   "        factory_key: " FACTORY_KEY "\n"

static void test_node_errors(void **state) {
        Fixture *f = *state;

        /* the example of the brief: an unquoted 0x000102... is a YAML integer, leading zero bytes vanish */
        expect_node_error(
                f,
                N_OK
                "        factory_key: 0x000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f\n",
                "nodes.test_node.factory_key", "must be 32 bytes, got 31");
        expect_node_error(f, N_OK "        factory_key: 0x00 0x01 0x02 0x03\n",
                          "nodes.test_node.factory_key", "must be 32 bytes, got 4");
        expect_node_error(f, N_OK "        factory_key: \"0x\"\n", "nodes.test_node.factory_key",
                          "must be 32 bytes, got 0");
        expect_node_error(f, N_OK "        factory_key: 0x0 1\n", "nodes.test_node.factory_key",
                          "not valid hex");
        expect_node_error(f, N_OK "        factory_key: 1.5\n", "nodes.test_node.factory_key",
                          "got a float");
        expect_node_error(f, N_OK, "nodes.test_node.factory_key", "missing (method 1 needs a factory key");
        expect_node_error(f, "        network: test_network\n        method: 0\n        uid: 0x01\n",
                          "nodes.test_node.method", "--allow-unsecured");
        expect_node_error(f, "        network: test_network\n        uid: 0x01\n" FK,
                          "nodes.test_node.method", "missing");
        expect_node_error(f, "        network: test_network\n        method: 2\n        uid: 0x01\n" FK,
                          "nodes.test_node.method", "must be 0 (unsecured), 1 (secured) or 3");
        expect_node_error(f, "        network: test_network\n        method: 7\n        uid: 0x01\n" FK,
                          "nodes.test_node.method", "not supported");
        expect_node_error(f, "        network: test_network\n        method: one\n        uid: 0x01\n" FK,
                          "nodes.test_node.method", "expected an integer");
        expect_node_error(f, "        network: test_network\n        method: 1\n" FK, "nodes.test_node.uid",
                          "missing");
        expect_node_error(f, "        network: test_network\n        method: 1\n        uid: 0\n" FK,
                          "nodes.test_node.uid", "must not be empty (the integer 0 converts to no bytes)");
        expect_node_error(
                f,
                "        network: test_network\n        method: 1\n        uid: "
                "'0x0102030405060708090a0102030405060708090a0102030405060708090a0102030405060708090a"
                "0102030405060708090a0102030405060708090a0102030405060708090a0102030405060708090a'\n" FK,
                "nodes.test_node.uid", "at most 79 bytes, got 80");
        expect_node_error(f, "        method: 1\n        uid: 0x01\n" FK, "nodes.test_node.network",
                          "missing");
        expect_node_error(f, "        network: nope\n        method: 1\n        uid: 0x01\n" FK,
                          "nodes.test_node.network", "no network 'nope'");
        expect_node_error(f, "        network: 'bad name'\n        method: 1\n        uid: 0x01\n" FK,
                          "nodes.test_node.network", "not a valid name");
        expect_node_error(f, N_OK FK "        node_id: 0\n", "nodes.test_node.node_id", "not a unicast");
        expect_node_error(f, N_OK FK "        node_id: 0x80000000\n", "nodes.test_node.node_id",
                          "not a unicast");
        expect_node_error(f, N_OK FK "        node_id: -1\n", "nodes.test_node.node_id", "range");
        expect_node_error(f, N_OK FK "        node_role: 0x41\n", "nodes.test_node.node_role",
                          "0x41 is not a role the node accepts");
        expect_node_error(f, N_OK FK "        node_role: 0x41\n", "nodes.test_node.node_role",
                          "reference example's 0x41");
        expect_node_error(f, N_OK FK "        node_role: '0x0102'\n", "nodes.test_node.node_role",
                          "must be 1 bytes, got 2");
        expect_node_error(f, N_OK FK "        user_specific:\n            127: 1\n",
                          "nodes.test_node.user_specific.127", "128 to 255");
        expect_node_error(f, N_OK FK "        user_specific:\n            '130': 1\n",
                          "nodes.test_node.user_specific.130", "128 to 255");
        expect_node_error(f, N_OK FK "        user_specific:\n            130: 1.5\n",
                          "nodes.test_node.user_specific.130", "float");
        expect_node_error(f, N_OK FK "        user_specific:\n            131: ~\n",
                          "nodes.test_node.user_specific.131", "null");
        expect_node_error(f, N_OK FK "        user_specific:\n            132: [1, 2]\n",
                          "nodes.test_node.user_specific.132", "list");
        expect_node_error(f, N_OK FK "        user_specific:\n            133: 2024-01-01\n",
                          "nodes.test_node.user_specific.133", "date");
        expect_node_error(f, N_OK FK "        user_specific:\n            133: 1\n            0x85: 2\n",
                          "nodes.test_node.user_specific.133", "given twice");
        expect_node_error(f, N_OK FK "        user_specific: 5\n", "nodes.test_node.user_specific",
                          "must be a mapping");
        expect_node_error(f, N_OK FK "        colour: red\n", "nodes.test_node.colour", "unknown field");
        expect_node_error(f, N_OK FK "        network_key_sequence: 1\n",
                          "nodes.test_node.network_key_sequence", "not supported");
        expect_node_error(f, N_OK FK "        encryption_key: 0x01\n", "nodes.test_node.encryption_key",
                          "belongs to the node's network");
        expect_node_error(f, N_OK FK "        method: 1\n", "nodes.test_node.method", "given twice");
        expect_node_error(f, N_OK FK "        enabled: maybe\n", "nodes.test_node.enabled", "yes/no");
        expect_node_error(f, N_OK FK "        vendor: nobody\n", "nodes.test_node.vendor",
                          "no vendor 'nobody'");
        /* method 3 */
        expect_node_error(f, "        network: test_network\n        method: 3\n        uid: 0x01\n" FK,
                          "nodes.test_node.uid", "34-byte extended UID");
        expect_node_error(f,
                          "        network: test_network\n        method: 3\n" FK
                          "        node_uid: '0x7e71e5d722ef0f4ba87d44d4e0e5b57d'\n",
                          "nodes.test_node.authenticator_uid", "missing");
        expect_node_error(f,
                          "        network: test_network\n        method: 3\n" FK
                          "        authenticator_uid: '0xb343330093810810'\n"
                          "        node_uid: '0x7e71e5d722ef0f4ba87d44d4e0e5b57d'\n",
                          "nodes.test_node.authenticator_uid", "must be 16 bytes, got 8");
        expect_node_error(f,
                          "        network: test_network\n        method: 3\n" FK
                          "        authenticator_uid_type: 0x02\n"
                          "        authenticator_uid: '0xb34333009381084a8db3aa9e53d22a1e'\n"
                          "        node_uid: '0x7e71e5d722ef0f4ba87d44d4e0e5b57d'\n",
                          "nodes.test_node.authenticator_uid_type", "must be 0x01");
        expect_node_error(f,
                          "        network: test_network\n        method: 3\n" FK
                          "        uid: '0x" EXTENDED_UID "'\n"
                          "        authenticator_uid: '0xb34333009381084a8db3aa9e53d22a1f'\n"
                          "        node_uid: '0x7e71e5d722ef0f4ba87d44d4e0e5b57d'\n",
                          "nodes.test_node.uid", "differs");
        expect_node_error(f, N_OK FK "        node_uid: '0x7e71e5d722ef0f4ba87d44d4e0e5b57d'\n",
                          "nodes.test_node.node_uid", "only used with method 3");
        /* the node entry itself */
        expect_node_error(f, "        5\n", "nodes.test_node", "must be a mapping");
        expect_error(f, "version: 1\n" NET_TEST "nodes:\n    test_node:\n", "nodes.test_node",
                     "no settings");
        expect_error(f, "version: 1\n" NET_TEST "nodes:\n    a:\n" N_OK FK "    a:\n" N_OK FK, "nodes.a",
                     "defined twice");
        expect_error(f, "version: 1\n" NET_TEST "nodes:\n    a:\n" N_OK FK "    b:\n" N_OK FK, "nodes.b.uid",
                     "same UID as nodes.a");
        expect_error(f, "version: 1\n" NET_TEST "nodes:\n  - a\n", "nodes", "must be a mapping");
        /* the store's own rules, mapped to YAML names: 40 items of 94 bytes can never fit a DATA */
        expect_node_error(
                f,
                N_OK FK
                "        user_specific:\n"
                "            200: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'\n"
                "            201: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'\n",
                "nodes.test_node", "");
}

static void test_network_and_file_errors(void **state) {
        Fixture *f = *state;

#define NET(fields) "version: 1\nnetworks:\n    net:\n" fields "nodes:\n"
#define KEYS                                                                 \
        "        authentication_key: '0x0102030405060708090a0b0c0d0e0f10'\n" \
        "        encryption_key: '0x100f0e0d0c0b0a090807060504030201'\n"

        expect_error(f, NET("        channel: 2\n" KEYS), "networks.net.address", "missing");
        expect_error(f, NET("        address: 0xAAAAAA\n        channel: 2\n" KEYS), "networks.net.address",
                     "not a valid network address");
        expect_error(f, NET("        address: 0x1000000\n        channel: 2\n" KEYS), "networks.net.address",
                     "not a valid network address");
        expect_error(f, NET("        address: 5\n" KEYS), "networks.net.channel", "missing");
        expect_error(f, NET("        address: 5\n        channel: 41\n" KEYS), "networks.net.channel",
                     "not a valid channel for profile 2.4G");
        expect_error(f, NET("        address: 5\n        channel: 0\n" KEYS), "networks.net.channel",
                     "range");
        expect_error(f, NET("        address: 5\n        channel: 2\n        profile: 6G\n" KEYS),
                     "networks.net.profile", "2.4G, SubG or 5GMesh");
        expect_error(f,
                     NET("        address: 5\n        channel: 2\n"
                         "        authentication_key: '0x0102030405060708090a0b0c0d0e0f'\n"
                         "        encryption_key: '0x100f0e0d0c0b0a090807060504030201'\n"),
                     "networks.net.authentication_key", "must be 16 bytes, got 15");
        expect_error(f,
                     NET("        address: 5\n        channel: 2\n"
                         "        authentication_key: '0x0102030405060708090a0b0c0d0e0f10'\n"
                         "        encryption_key: '0x00000000000000000000000000000000'\n"),
                     "networks.net.encryption_key", "all 0x00");
        expect_error(f,
                     NET("        address: 5\n        channel: 2\n"
                         "        authentication_key: '0x0102030405060708090a0b0c0d0e0f10'\n"),
                     "networks.net.encryption_key", "missing");
        expect_error(f, NET("        address: 5\n        channel: 2\n        pool: '5-1'\n" KEYS),
                     "networks.net.pool", "FIRST <= LAST");
        expect_error(f, NET("        address: 5\n        channel: 2\n        pool: 1000\n" KEYS),
                     "networks.net.pool", "FIRST-LAST");
        expect_error(f, NET("        address: 5\n        channel: 2\n        allow_unsecured: maybe\n" KEYS),
                     "networks.net.allow_unsecured", "yes/no");
        expect_error(f, NET("        address: 5\n        channel: 2\n        colour: red\n" KEYS),
                     "networks.net.colour", "unknown field");
        expect_error(f, "version: 1\nnetworks:\n    'bad name':\n        address: 5\n", "networks.bad name",
                     "not a valid network name");
        expect_error(f, "version: 1\nnetworks:\n    net: 5\n", "networks.net", "must be a mapping");

        /* file level */
        expect_error(f, NET_TEST "nodes:\n", "version", "missing: this reads wm-provisioning v1 files");
        expect_error(f, "version: 2\n" NET_TEST, "version", "must be 1, got 2");
        expect_error(f, "version: one\n", "version", "must be the number 1");
        expect_error(f, "test_node:\n    method: 1\n", "version", "missing");

        ImportError err;
        assert_int_equal(import(f, "version: 1\nnodes:\n  a: {method: 1\n", NULL, &err), -EBADMSG);
        assert_string_equal(err.path, "");
        assert_int_equal(err.line, 4);
        assert_non_null(strstr(err.message, "YAML syntax error"));
        char buf[512];
        import_error_format(&err, buf, sizeof(buf));
        assert_true(strncmp(buf, "4:", 2) == 0);

        assert_int_equal(import(f, "", NULL, &err), -EBADMSG);
        assert_non_null(strstr(err.message, "empty"));

        /* channel 41 is fine for Sub-GHz */
        assert_int_equal(import(f,
                                NET("        address: 5\n        channel: 41\n        profile: SubG\n" KEYS),
                                NULL, &err),
                         0);
        assert_int_equal(n_networks(f), 1);
}

static void test_conversions(void **state) {
        Fixture *f = *state;
        ImportError err;
        StoreDevice d;
        char *yaml;
        int r;

        yaml = doc_with_nodes("    int_uid:\n"
                              "        network: test_network\n        method: 1\n        uid: 12345\n" FK
                              "    text_uid:\n"
                              "        network: test_network\n        method: 1\n        uid: node-a\n" FK
                              "    quoted_hex_uid:\n"
                              "        network: test_network\n        method: 1\n        uid: '0x000a0b'\n"
                              "        factory_key: !!binary AAECAwQFBgcICQoLDA0ODwABAgMEBQYHCAkKCwwNDg8=\n"
                              "        node_id: '0x20'\n"
                              "        node_role: '0x02'\n"
                              "        user_specific:\n"
                              "            128: yes\n"
                              "            130: \"text with \\\"quotes\\\"\"\n"
                              "            131: 0b101\n"
                              "    more_items:\n"
                              "        network: test_network\n        method: 1\n        uid: 0x0a0d\n" FK
                              "        user_specific:\n"
                              "            255: -9223372036854775808\n"
                              "            200: !!binary 3q2+7w==\n"
                              "    plain_role:\n"
                              "        network: test_network\n        method: 1\n        uid: 0x0a0c\n" FK
                              "        node_role: 0x12\n"
                              "        node_id: 1:30\n"
                              "        enabled: no\n");
        r = import(f, yaml, NULL, &err);
        free(yaml);
        if (r < 0)
                fail_msg("%s: %s", err.path, err.message);

        get_device(f, "3039", &d); /* 12345 -> minimal big-endian */
        assert_string_equal(d.label, "int_uid");
        get_device(f, "6e6f64652d61", &d); /* "node-a" as UTF-8 */
        assert_string_equal(d.label, "text_uid");

        get_device(f, "000a0b", &d); /* a quoted hex string keeps its leading zero */
        assert_memory_equal_hex(d.factory_key, 32, FACTORY_HEX);
        assert_int_equal(d.node_address, 0x20);
        assert_true(d.has_role);
        assert_int_equal(d.role, 0x02);
        assert_int_equal(d.n_user_items, 3);
        assert_int_equal(d.user_items[0].id, 128);
        assert_int_equal(d.user_items[0].type, PROV_USER_BOOL);
        assert_true(d.user_items[0].boolean);
        assert_int_equal(d.user_items[1].id, 130);
        assert_int_equal(d.user_items[1].type, PROV_USER_TEXT);
        assert_int_equal(d.user_items[1].len, strlen("text with \"quotes\""));
        assert_memory_equal(d.user_items[1].data, "text with \"quotes\"", d.user_items[1].len);
        assert_int_equal(d.user_items[2].id, 131);
        assert_int_equal(d.user_items[2].type, PROV_USER_INT);
        assert_int_equal(d.user_items[2].integer, 5);

        get_device(f, "0a0d", &d);
        assert_int_equal(d.n_user_items, 2);
        assert_int_equal(d.user_items[0].id, 200);
        assert_int_equal(d.user_items[0].type, PROV_USER_BYTES);
        assert_memory_equal_hex(d.user_items[0].data, d.user_items[0].len, "deadbeef");
        assert_int_equal(d.user_items[1].id, 255);
        assert_int_equal(d.user_items[1].type, PROV_USER_INT);
        assert_int_equal(d.user_items[1].integer, INT64_MIN);

        get_device(f, "0a0c", &d);
        assert_int_equal(d.role, 0x12);
        assert_int_equal(d.node_address, 90); /* sexagesimal 1:30 */
        assert_false(d.enabled);
}

static void test_failure_leaves_db_unchanged(void **state) {
        Fixture *f = *state;
        ImportError err;
        StoreNetwork n;
        StoreDevice d;
        char *good, *bad;

        good = doc_with_nodes(
                "    a:\n" N_OK FK "        node_id: 100\n"
                "    b:\n        network: test_network\n        method: 1\n        uid: 0x0b\n" FK
                "        node_id: 101\n");
        assert_int_equal(import(f, good, NULL, &err), 0);
        assert_int_equal(n_devices(f), 2);

        /* updates a and b, adds a network and a node, then fails on the last node */
        bad = strdup("version: 1\n" NET_TEST "    other:\n        address: 77\n        channel: 3\n" KEYS
                     "nodes:\n"
                     "    a:\n" N_OK FK "        node_id: 200\n"
                     "    b:\n        network: test_network\n        method: 1\n        uid: 0x0b\n" FK
                     "        node_id: 201\n"
                     "    c:\n        network: other\n        method: 1\n        uid: 0x0c\n" FK
                     "    d:\n        network: other\n        method: 1\n        uid: 0x0d\n" FK
                     "        node_role: 0x41\n");
        assert_int_equal(import(f, bad, NULL, &err), -EINVAL);
        assert_string_equal(err.path, "nodes.d.node_role");

        assert_int_equal(n_devices(f), 2);
        get_device(f, "0a0b0c0d", &d);
        assert_int_equal(d.node_address, 100);
        get_device(f, "0b", &d);
        assert_int_equal(d.node_address, 101);
        assert_int_equal(store_network_get(f->store, "other", &n), -ENOENT);

        /* an error found only by the database (address taken) also rolls back */
        free(bad);
        bad = strdup("version: 1\n" NET_TEST "nodes:\n"
                     "    a:\n" N_OK FK "        node_id: 300\n"
                     "    c:\n        network: test_network\n        method: 1\n        uid: 0x0c\n" FK
                     "        node_id: 101\n");
        assert_true(import(f, bad, NULL, &err) < 0);
        assert_non_null(strstr(err.path, "nodes.c"));
        get_device(f, "0a0b0c0d", &d);
        assert_int_equal(d.node_address, 100);
        assert_int_equal(n_devices(f), 2);

        /* the transaction is closed: a good import still works */
        assert_int_equal(import(f, good, NULL, &err), 0);
        free(good);
        free(bad);
}

static void test_allow_unsecured(void **state) {
        Fixture *f = *state;
        ImportResult res;
        ImportError err;
        StoreNetwork n;
        const char *m0 = "        network: test_network\n        method: 0\n        uid: 0x0e\n";
        char *yaml;

        /* explicitly "no" in the file contradicts a method-0 node */
        assert_true(asprintf(&yaml,
                             "version: 1\n" NET_TEST
                             "        allow_unsecured: no\nnodes:\n    insecure:\n%s",
                             m0) > 0);
        assert_int_equal(import_full(f, yaml, true, false, NULL, &err), -EINVAL);
        assert_string_equal(err.path, "networks.test_network.allow_unsecured");
        assert_non_null(strstr(err.message, "nodes.insecure"));
        free(yaml);
        assert_int_equal(n_networks(f), 0);

        /* explicitly "yes": no warning needed */
        assert_true(asprintf(&yaml,
                             "version: 1\n" NET_TEST
                             "        allow_unsecured: yes\nnodes:\n    insecure:\n%s",
                             m0) > 0);
        assert_int_equal(import_full(f, yaml, true, false, &res, &err), 0);
        assert_int_equal(res.networks_made_unsecured, 0);
        assert_int_equal(f->n_warnings, 0);
        free(yaml);

        /* the same with the nodes before the networks in the file */
        assert_true(asprintf(&yaml,
                             "version: 1\nnodes:\n    insecure:\n%s" NET_TEST
                             "        allow_unsecured: no\n",
                             m0) > 0);
        assert_int_equal(import_full(f, yaml, true, false, NULL, &err), -EINVAL);
        assert_string_equal(err.path, "networks.test_network.allow_unsecured");
        free(yaml);

        /* a network that exists only in the database is switched, with a warning */
        assert_int_equal(
                import(f,
                       "version: 1\nnetworks:\n    db_only:\n        address: 9\n        channel: 3\n" KEYS,
                       NULL, &err),
                0);
        assert_int_equal(store_network_get(f->store, "db_only", &n), 0);
        assert_false(n.allow_unsecured);
        assert_int_equal(
                import(f, "version: 1\nnodes:\n  m0:\n    network: db_only\n    method: 0\n    uid: 0x0f\n",
                       NULL, &err),
                -EINVAL);
        assert_int_equal(
                import_full(
                        f, "version: 1\nnodes:\n  m0:\n    network: db_only\n    method: 0\n    uid: 0x0f\n",
                        true, false, &res, &err),
                0);
        assert_int_equal(res.networks_made_unsecured, 1);
        assert_int_equal(res.devices_created, 1);
        assert_non_null(strstr(f->warnings, "'db_only'"));
        assert_int_equal(store_network_get(f->store, "db_only", &n), 0);
        assert_true(n.allow_unsecured);
        /* its keys were kept */
        assert_memory_equal_hex(n.auth_key, PROV_KEY_SIZE, "0102030405060708090a0b0c0d0e0f10");
}

static void test_nodes_before_networks(void **state) {
        Fixture *f = *state;
        ImportResult res;
        ImportError err;
        StoreNetwork n;

        assert_int_equal(import_full(f,
                                     "nodes:\n    m0:\n        network: test_network\n        method: 0\n"
                                     "        uid: 0x0f\n    m1:\n" N_OK FK "version: 1\n" NET_TEST,
                                     true, false, &res, &err),
                         0);
        assert_int_equal(res.networks_created, 1);
        assert_int_equal(res.devices_created, 2);
        assert_int_equal(res.networks_made_unsecured, 1);
        assert_int_equal(store_network_get(f->store, "test_network", &n), 0);
        assert_true(n.allow_unsecured);
}

static void test_dry_run(void **state) {
        Fixture *f = *state;
        ImportResult res;
        ImportError err;

        assert_int_equal(import_full(f, reference_v1, true, true, &res, &err), 0);
        assert_int_equal(res.networks_created, 1);
        assert_int_equal(res.devices_created, 3);
        assert_int_equal(n_networks(f), 0);
        assert_int_equal(n_devices(f), 0);
        /* and a dry run still finds errors only the database knows */
        assert_int_equal(import_full(f, "version: 1\nnodes:\n    x:\n" N_OK FK, false, true, &res, &err),
                         -EINVAL);
        assert_string_equal(err.path, "nodes.x.network");
}

static void test_anchors_and_merge_keys(void **state) {
        Fixture *f = *state;
        ImportError err;
        StoreDevice d;
        int r;

        r = import(f,
                   "version: 1\n" NET_TEST "defaults: &defaults\n"
                   "    network: test_network\n"
                   "    method: 1\n"
                   "    factory_key: " FACTORY_KEY "\n"
                   "    node_role: 0x02\n"
                   "nodes:\n"
                   "    first: &first\n"
                   "        <<: *defaults\n"
                   "        uid: 0x01\n"
                   "        node_id: 10\n"
                   "        user_specific: {128: 1}\n"
                   "    second:\n"
                   "        <<: [*first, *defaults]\n"
                   "        uid: 0x02\n"
                   "        node_id: 11\n"
                   "        node_role: 0x12\n"
                   "    third: {<<: *defaults, uid: 0x03}\n",
                   NULL, &err);
        if (r < 0)
                fail_msg("%s: %s", err.path, err.message);
        assert_non_null(strstr(f->warnings, "unknown top-level key 'defaults'"));

        get_device(f, "01", &d);
        assert_int_equal(d.role, 0x02);
        assert_int_equal(d.node_address, 10);
        get_device(f, "02", &d);
        assert_int_equal(d.role, 0x12); /* explicit beats merged */
        assert_int_equal(d.node_address, 11);
        assert_int_equal(d.n_user_items, 1); /* merged from *first */
        assert_int_equal(d.user_items[0].integer, 1);
        get_device(f, "03", &d);
        assert_false(d.has_node_address);
        assert_memory_equal_hex(d.factory_key, 32, FACTORY_HEX);
}

static void test_update_keeps_vendor_and_state(void **state) {
        Fixture *f = *state;
        StoreVendor v = { .name = "acme",
                          .key_update = STORE_KEY_SET,
                          .key_kind = STORE_VENDOR_KEY_FACTORY,
                          .enabled = true,
                          .enroll_method = 1 };
        StoreDevice d = { .uid = { 0x0a, 0x0b, 0x0c, 0x0d },
                          .uid_len = 4,
                          .vendor = "acme",
                          .network = "test_network",
                          .method = 1,
                          .factory_key_update = STORE_KEY_KEEP };
        StoreError se = {};
        ImportResult res;
        ImportError err;
        char *yaml;

        assert_int_equal(import(f, "version: 1\n" NET_TEST, NULL, &err), 0);
        test_unhex(FACTORY_HEX, v.key, sizeof(v.key));
        assert_true(store_vendor_put(f->store, &v, STORE_PUT_CREATE, 1, &se) >= 0);
        assert_true(store_device_put(f->store, &d, STORE_PUT_CREATE, 1, &se) >= 0);
        assert_true(store_device_set_enabled(f->store, d.uid, d.uid_len, false, 2) >= 0);

        /* no factory key in the file: the vendor's key is enough */
        yaml = doc_with_nodes("    renamed:\n" N_OK "        node_id: 42\n");
        assert_int_equal(import(f, yaml, &res, &err), 0);
        free(yaml);
        assert_int_equal(res.devices_updated, 1);
        get_device(f, "0a0b0c0d", &d);
        assert_string_equal(d.vendor, "acme");
        assert_false(d.enabled);
        assert_string_equal(d.label, "renamed");
        assert_int_equal(d.node_address, 42);
        assert_false(d.has_factory_key);

        yaml = doc_with_nodes("    renamed:\n" N_OK "        enabled: yes\n");
        assert_int_equal(import(f, yaml, &res, &err), 0);
        free(yaml);
        get_device(f, "0a0b0c0d", &d);
        assert_true(d.enabled);
        assert_false(d.has_node_address); /* the file is the whole truth for what it can say */
}

static void test_many_nodes(void **state) {
        Fixture *f = *state;
        const unsigned n = 10000;
        ImportResult res;
        ImportError err;
        char *doc = NULL;
        size_t size = 0;
        FILE *m;

        m = open_memstream(&doc, &size);
        assert_non_null(m);
        fputs("version: 1\n" NET_TEST "nodes:\n", m);
        for (unsigned i = 0; i < n; i++)
                fprintf(m,
                        "  node%05u:\n    network: test_network\n    method: 1\n    uid: '0x%08x'\n"
                        "    factory_key: " FACTORY_KEY "\n    user_specific: {128: %u}\n",
                        i, 0x10000000u + i, i);
        fclose(m);

        assert_int_equal(import(f, doc, &res, &err), 0);
        assert_int_equal(res.devices_created, n);
        assert_int_equal(res.devices_updated, 0);
        assert_int_equal(n_devices(f), n);
        assert_int_equal(f->progress_calls, n / IMPORT_PROGRESS_STEP);
        assert_int_equal(f->progress_last, n);
        assert_int_equal(f->progress_total, n);

        StoreDevice d;
        get_device(f, "10001234", &d);
        assert_string_equal(d.label, "node04660");
        assert_int_equal(d.user_items[0].integer, 0x1234);

        f->progress_last = 0;
        assert_int_equal(import(f, doc, &res, &err), 0);
        assert_int_equal(res.devices_created, 0);
        assert_int_equal(res.devices_updated, n);
        assert_int_equal(n_devices(f), n);
        free(doc);
}

static void test_export_roundtrip(void **state) {
        Fixture *f = *state;
        ExportResult xr;
        ImportResult res;
        ImportError err;
        char *out = NULL;
        size_t size = 0;
        FILE *m;
        int r;

        assert_int_equal(import_full(f, reference_v1, true, false, NULL, &err), 0);
        char *extra = doc_with_nodes(
                "    typed:\n        network: test_network\n        method: 1\n"
                "        uid: 0x77\n" FK "        node_role: 0x42\n        enabled: no\n"
                "        user_specific: {128: 'yes', 129: true, 130: -3, 131: !!binary AP8=}\n");
        assert_int_equal(import(f, extra, NULL, &err), 0);
        free(extra);

        /* without keys: no key material in the file */
        m = open_memstream(&out, &size);
        assert_int_equal(ctl_export_yaml(f->b, m, false, &xr), 0);
        fclose(m);
        assert_int_equal(xr.networks, 1);
        assert_int_equal(xr.devices, 4);
        assert_null(strstr(out, "factory_key"));
        assert_null(strstr(out, "authentication_key"));
        assert_null(strstr(out, "0102030405060708090a0b0c0d0e0f10"));
        free(out);

        /* with keys: importing into a new database gives the same devices */
        out = NULL;
        m = open_memstream(&out, &size);
        assert_int_equal(ctl_export_yaml(f->b, m, true, &xr), 0);
        fclose(m);

        Fixture g = {};
        strcpy(g.dir, f->dir);
        open_db(&g, "b.db");
        ImportOptions o = { .allow_unsecured = true };
        r = ctl_import_yaml(g.b, out, strlen(out), &o, &res, &err);
        if (r < 0)
                fail_msg("re-import: %s: %s\n%s", err.path, err.message, out);
        assert_int_equal(res.devices_created, 4);

        static const char *const uids[] = { EXTENDED_UID, SECURE_UID, INSECURE_UID, "77" };
        for (size_t i = 0; i < ELEMENTSOF(uids); i++) {
                StoreDevice a, b;
                get_device(f, uids[i], &a);
                get_device(&g, uids[i], &b);
                assert_string_equal(a.label, b.label);
                assert_string_equal(a.network, b.network);
                assert_int_equal(a.method, b.method);
                assert_int_equal(a.has_factory_key, b.has_factory_key);
                assert_memory_equal(a.factory_key, b.factory_key, sizeof(a.factory_key));
                assert_int_equal(a.has_node_address, b.has_node_address);
                assert_int_equal(a.node_address, b.node_address);
                assert_int_equal(a.has_role, b.has_role);
                assert_int_equal(a.role, b.role);
                assert_int_equal(a.enabled, b.enabled);
                assert_int_equal(a.n_user_items, b.n_user_items);
                for (size_t k = 0; k < a.n_user_items; k++) {
                        assert_int_equal(a.user_items[k].id, b.user_items[k].id);
                        assert_int_equal(a.user_items[k].type, b.user_items[k].type);
                        assert_int_equal(a.user_items[k].integer, b.user_items[k].integer);
                        assert_int_equal(a.user_items[k].boolean, b.user_items[k].boolean);
                        assert_int_equal(a.user_items[k].len, b.user_items[k].len);
                        assert_memory_equal(a.user_items[k].data, b.user_items[k].data, a.user_items[k].len);
                }
        }
        StoreNetwork na, nb;
        assert_int_equal(store_network_get(f->store, "test_network", &na), 0);
        assert_int_equal(store_network_get(g.store, "test_network", &nb), 0);
        assert_memory_equal(na.enc_key, nb.enc_key, PROV_KEY_SIZE);
        assert_memory_equal(na.auth_key, nb.auth_key, PROV_KEY_SIZE);
        assert_int_equal(na.network_address, nb.network_address);
        assert_int_equal(na.allow_unsecured, nb.allow_unsecured);
        ctl_backend_free(g.b);
        free(out);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_reference_example, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unsecured_refused_by_default, setup, teardown),
                cmocka_unit_test_setup_teardown(test_node_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_network_and_file_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_conversions, setup, teardown),
                cmocka_unit_test_setup_teardown(test_failure_leaves_db_unchanged, setup, teardown),
                cmocka_unit_test_setup_teardown(test_allow_unsecured, setup, teardown),
                cmocka_unit_test_setup_teardown(test_nodes_before_networks, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dry_run, setup, teardown),
                cmocka_unit_test_setup_teardown(test_anchors_and_merge_keys, setup, teardown),
                cmocka_unit_test_setup_teardown(test_update_keeps_vendor_and_state, setup, teardown),
                cmocka_unit_test_setup_teardown(test_many_nodes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_export_roundtrip, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
