/* SPDX-License-Identifier: Apache-2.0 */
/* Store speed on a real SQLite file: bulk insert of N devices in one transaction, store_resolve() for known
 * UIDs (device row) and unknown ones (vendor prefix search), audit appends in batches, file size.
 * Results go to docs/performance.md; nothing here is asserted.
 *
 *   bench-store [--devices N] [--lookups N] [--dir DIR]
 */
#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cursor.h"
#include "parse-util.h"
#include "store.h"
#include "time-util.h"

static double secs(usec_t a, usec_t b) {
        return (double)(b - a) / 1e6;
}

static void uid_of(uint32_t i, uint8_t uid[16]) {
        memset(uid, 0x5c, 16);
        unaligned_write_le32(uid + 4, i);
}

int main(int argc, char **argv) {
        uint32_t n_devices = 100000, n_lookups = 100000;
        const char *dir = "/tmp";
        static const struct option opts[] = {
                { "devices", required_argument, NULL, 'd' },
                { "lookups", required_argument, NULL, 'l' },
                { "dir", required_argument, NULL, 'D' },
                {},
        };
        char path[512], tmpl[256];
        uint8_t master[32];
        Store *s;
        StoreError err;
        int c, r;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0)
                switch (c) {
                case 'd':
                        (void)safe_atou32(optarg, &n_devices);
                        break;
                case 'l':
                        (void)safe_atou32(optarg, &n_lookups);
                        break;
                case 'D':
                        dir = optarg;
                        break;
                default:
                        return 2;
                }

        snprintf(tmpl, sizeof(tmpl), "%s/meshprov-bench-XXXXXX", dir);
        if (!mkdtemp(tmpl))
                return 1;
        snprintf(path, sizeof(path), "%s/bench.db", tmpl);
        memset(master, 0x42, sizeof(master));
        StoreOptions so = { .master_key = master };
        r = store_open(path, &so, &s);
        if (r < 0) {
                fprintf(stderr, "store_open: %d\n", r);
                return 1;
        }

        StoreNetwork n = { .profile = PROV_PROFILE_24G,
                           .network_address = 0x123456,
                           .channel = 7,
                           .keys_update = STORE_KEY_SET };
        snprintf(n.name, sizeof(n.name), "bench");
        memset(n.enc_key, 0x11, 16);
        memset(n.auth_key, 0x22, 16);
        if (store_network_put(s, &n, STORE_PUT_CREATE, 1, &err) < 0) {
                fprintf(stderr, "network: %s: %s\n", err.field, err.message);
                return 1;
        }
        StoreVendor v = { .key_update = STORE_KEY_SET,
                          .key_kind = STORE_VENDOR_KEY_MASTER,
                          .enroll_kind = STORE_ENROLL_UID_PREFIX,
                          .enroll_prefix_len = 3,
                          .enroll_method = 1,
                          .enabled = true };
        snprintf(v.name, sizeof(v.name), "acme");
        snprintf(v.default_network, sizeof(v.default_network), "bench");
        memset(v.key, 0x33, 32);
        memcpy(v.enroll_prefix, "\xa1\xb2\xc3", 3);
        if (store_vendor_put(s, &v, STORE_PUT_CREATE, 1, &err) < 0) {
                fprintf(stderr, "vendor: %s: %s\n", err.field, err.message);
                return 1;
        }

        /* bulk insert */
        StoreDevice *d = calloc(1, sizeof(StoreDevice));
        usec_t t0 = now(CLOCK_MONOTONIC);
        store_begin(s);
        for (uint32_t i = 0; i < n_devices; i++) {
                memset(d, 0, sizeof(*d));
                uid_of(i, d->uid);
                d->uid_len = 16;
                snprintf(d->network, sizeof(d->network), "bench");
                d->method = 1;
                d->factory_key_update = STORE_KEY_SET;
                d->has_factory_key = true;
                for (int j = 0; j < 32; j++)
                        d->factory_key[j] = (uint8_t)(i + j + 1);
                d->enabled = true;
                if (store_device_put(s, d, STORE_PUT_CREATE, 1, &err) < 0) {
                        fprintf(stderr, "device %u: %s: %s\n", i, err.field, err.message);
                        return 1;
                }
        }
        store_commit(s);
        usec_t t1 = now(CLOCK_MONOTONIC);
        printf("store: %u devices inserted in one transaction in %.2f s (%.0f/s)\n", n_devices, secs(t0, t1),
               n_devices / secs(t0, t1));

        /* resolve: known UIDs */
        StoreIdentity *id = calloc(1, sizeof(StoreIdentity));
        uint32_t x = 12345;
        t0 = now(CLOCK_MONOTONIC);
        for (uint32_t i = 0; i < n_lookups; i++) {
                uint8_t uid[16];
                x = x * 1103515245u + 12345u;
                uid_of(x % n_devices, uid);
                if (store_resolve(s, uid, 16, id) < 0) {
                        fprintf(stderr, "resolve failed\n");
                        return 1;
                }
        }
        t1 = now(CLOCK_MONOTONIC);
        printf("store: store_resolve() of known UIDs: %.1f us each (%.0f/s)\n",
               1e6 * secs(t0, t1) / n_lookups, n_lookups / secs(t0, t1));

        /* resolve: unknown UIDs (no device row, vendor prefix search over every prefix length) */
        t0 = now(CLOCK_MONOTONIC);
        unsigned enrolled = 0;
        for (uint32_t i = 0; i < n_lookups; i++) {
                uint8_t uid[79];
                memset(uid, 0x77, sizeof(uid));
                unaligned_write_le32(uid + 8, i);
                if (i % 2 == 0)
                        memcpy(uid, "\xa1\xb2\xc3", 3);
                r = store_resolve(s, uid, sizeof(uid), id);
                enrolled += r >= 0;
        }
        t1 = now(CLOCK_MONOTONIC);
        printf("store: store_resolve() of 79-byte UIDs without a device row (half match a vendor prefix): "
               "%.1f us each (%u enrolled)\n",
               1e6 * secs(t0, t1) / n_lookups, enrolled);

        /* audit appends */
        StoreAuditEvent *ev = calloc(64, sizeof(StoreAuditEvent));
        for (int i = 0; i < 64; i++) {
                ev[i].kind = STORE_EVENT_DATA;
                ev[i].uid_len = 16;
                memset(ev[i].uid, i, 16);
                ev[i].method = 1;
                ev[i].nack_reason = -1;
                snprintf(ev[i].result, sizeof(ev[i].result), "ok");
                snprintf(ev[i].gateway, sizeof(ev[i].gateway), "gw-%d", i % 8);
                snprintf(ev[i].sink, sizeof(ev[i].sink), "sink0");
        }
        unsigned batches = n_lookups / 64;
        t0 = now(CLOCK_MONOTONIC);
        for (unsigned b = 0; b < batches; b++) {
                for (int i = 0; i < 64; i++)
                        ev[i].time = (usec_t)(b * 64 + i) * 1000;
                if (store_audit_append(s, ev, 64) < 0) {
                        fprintf(stderr, "audit append failed\n");
                        return 1;
                }
        }
        t1 = now(CLOCK_MONOTONIC);
        printf("store: audit events appended in batches of 64: %.1f us per event (%.0f/s)\n",
               1e6 * secs(t0, t1) / (batches * 64.0), batches * 64.0 / secs(t0, t1));

        store_free(s);
        struct stat st;
        if (stat(path, &st) == 0)
                printf("store: database file %.1f MiB for %u devices and %u audit events\n",
                       st.st_size / 1048576.0, n_devices, batches * 64);
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
        (void)system(cmd);
        free(d);
        free(id);
        free(ev);
        return 0;
}
