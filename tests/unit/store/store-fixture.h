/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Shared by the store tests: a real database file in a fresh temporary directory per test, and builders
 * for valid networks, vendors and devices that each test then breaks in one way. */

#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "provcrypto.h"
#include "store-test.h"
#include "store.h"
#include "test-helpers.h"

#define T0        ((usec_t)1700000000 * USEC_PER_SEC)
#define TEST_HOLD USEC_PER_HOUR

typedef struct Fixture {
        char dir[64];
        char path[128];
        uint8_t master[KEYWRAP_MASTER_KEY_SIZE];
        Store *s;
} Fixture;

static inline int fixture_open(Fixture *f, const uint8_t *master, Store **ret) {
        StoreOptions o = {
                .master_key = master ?: f->master,
                .address_hold = TEST_HOLD,
        };
        return store_open(f->path, &o, ret);
}

static inline int fixture_setup(void **state) {
        Fixture *f = calloc(1, sizeof(Fixture));
        assert_non_null(f);
        snprintf(f->dir, sizeof(f->dir), "/tmp/meshprov-store-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->path, sizeof(f->path), "%s/store.db", f->dir);
        for (size_t i = 0; i < sizeof(f->master); i++)
                f->master[i] = (uint8_t)(0xc0 + i);
        assert_true(fixture_open(f, NULL, &f->s) >= 0);
        *state = f;
        return 0;
}

static inline int fixture_teardown(void **state) {
        Fixture *f = *state;
        DIR *d;
        struct dirent *de;

        f->s = store_free(f->s);
        d = opendir(f->dir);
        assert_non_null(d);
        while ((de = readdir(d))) {
                char p[512];
                if (de->d_name[0] == '.')
                        continue;
                snprintf(p, sizeof(p), "%s/%s", f->dir, de->d_name);
                (void)unlink(p);
        }
        closedir(d);
        assert_int_equal(rmdir(f->dir), 0);
        free(f);
        return 0;
}

#define FIXTURE_TEST(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)

/* ---- builders: each returns a valid object ---- */

static inline void fill(uint8_t *p, size_t n, uint8_t start) {
        for (size_t i = 0; i < n; i++)
                p[i] = (uint8_t)(start + 7 * i);
}

static inline StoreNetwork network_base(const char *name) {
        StoreNetwork n = {
                .profile = PROV_PROFILE_24G,
                .network_address = 0x123456,
                .channel = 5,
                .keys_update = STORE_KEY_SET,
        };
        snprintf(n.name, sizeof(n.name), "%s", name);
        fill(n.enc_key, sizeof(n.enc_key), 0x10);
        fill(n.auth_key, sizeof(n.auth_key), 0x30);
        return n;
}

static inline StoreVendor vendor_base(const char *name, const char *network) {
        StoreVendor v = {
                .key_update = STORE_KEY_SET,
                .key_kind = STORE_VENDOR_KEY_FACTORY,
                .enroll_method = 1,
                .enabled = true,
        };
        snprintf(v.name, sizeof(v.name), "%s", name);
        snprintf(v.default_network, sizeof(v.default_network), "%s", strempty(network));
        fill(v.key, sizeof(v.key), 0x50);
        return v;
}

static inline StoreDevice device_base(uint8_t uid_byte, const char *network) {
        StoreDevice d = {
                .uid_len = 8,
                .method = 1,
                .factory_key_update = STORE_KEY_SET,
                .has_factory_key = true,
                .enabled = true,
        };
        memset(d.uid, uid_byte, d.uid_len);
        snprintf(d.network, sizeof(d.network), "%s", strempty(network));
        fill(d.factory_key, sizeof(d.factory_key), 0x70);
        return d;
}

/* A method-3 UID: type 0x01, authenticator (16 bytes of auth), type 0x01, node UID (16 bytes of node). */
static inline void extended_uid(StoreDevice *d, uint8_t auth, uint8_t node) {
        d->uid_len = PROV_EXTENDED_UID_SIZE;
        d->uid[0] = 0x01;
        memset(d->uid + 1, auth, 16);
        d->uid[17] = 0x01;
        memset(d->uid + 18, node, 16);
}

static inline void put_network_ok(Store *s, const StoreNetwork *n) {
        StoreError e = {};
        int r = store_network_put(s, n, STORE_PUT_UPSERT, T0, &e);
        if (r < 0)
                fail_msg("network put: %d %s: %s", r, e.field, e.message);
}

static inline void put_vendor_ok(Store *s, const StoreVendor *v) {
        StoreError e = {};
        int r = store_vendor_put(s, v, STORE_PUT_UPSERT, T0, &e);
        if (r < 0)
                fail_msg("vendor put: %d %s: %s", r, e.field, e.message);
}

static inline void put_device_ok(Store *s, const StoreDevice *d) {
        StoreError e = {};
        int r = store_device_put(s, d, STORE_PUT_UPSERT, T0, &e);
        if (r < 0)
                fail_msg("device put: %d %s: %s", r, e.field, e.message);
}

/* Asserts that a put failed with r and named field (and said something). */
#define assert_put_error(expr, e, r_expected, field_expected)                                     \
        do {                                                                                      \
                int _r = (expr);                                                                  \
                if (_r != (r_expected) || strcmp((e).field, (field_expected)) != 0)               \
                        fail_msg("%s: got %d field '%s' (%s), expected %d field '%s'", #expr, _r, \
                                 (e).field, (e).message, (r_expected), (field_expected));         \
                assert_true((e).message[0] != '\0');                                              \
        } while (0)

/* Reads a whole file (empty if it does not exist). */
static inline uint8_t *read_file_bytes(const char *path, size_t *ret_len) {
        FILE *fp = fopen(path, "rbe");
        uint8_t *buf = NULL;
        size_t len = 0, cap = 0, n;

        if (!fp) {
                *ret_len = 0;
                return calloc(1, 1);
        }
        for (;;) {
                if (len == cap) {
                        cap = cap ? cap * 2 : 65536;
                        buf = realloc(buf, cap);
                        assert_non_null(buf);
                }
                n = fread(buf + len, 1, cap - len, fp);
                if (n == 0)
                        break;
                len += n;
        }
        fclose(fp);
        *ret_len = len;
        return buf;
}

static inline bool file_contains(const char *path, const void *needle, size_t n) {
        size_t len;
        uint8_t *buf = read_file_bytes(path, &len);
        bool found = memmem(buf, len, needle, n) != NULL;
        free(buf);
        return found;
}

static inline uint64_t count_devices(Store *s, const StoreDeviceFilter *f) {
        uint64_t n = UINT64_MAX;
        assert_int_equal(store_device_count(s, f, &n), 0);
        return n;
}
