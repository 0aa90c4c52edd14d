/* SPDX-License-Identifier: Apache-2.0 */
/* Test helper for test-meshprovctl.py: appends audit events to a database, as the daemon would, so that
 * `meshprovctl events` and `stats` have something to show.
 *   ctl-test-audit DB KEYFILE seed      five fixed events
 *   ctl-test-audit DB KEYFILE one TEXT  one "start" event whose detail is TEXT */
#include <stdio.h>

#include "masterkey.h"
#include "store.h"

int main(int argc, char **argv) {
        uint8_t key[MASTER_KEY_SIZE];
        StoreOptions o = { .master_key = key };
        Store *s = NULL;
        const usec_t t0 = 1700000000ULL * USEC_PER_SEC;
        int r;

        if (argc < 4)
                return 2;
        if (master_key_read_file(argv[2], key) < 0)
                return 1;
        if (store_open(argv[1], &o, &s) < 0)
                return 1;

        if (strcmp(argv[3], "seed") == 0) {
                StoreAuditEvent e[5] = {
                        { .time = t0 + 1,
                          .kind = STORE_EVENT_START,
                          .uid = { 0x0a, 0x0b, 0x0c, 0x0d },
                          .uid_len = 4,
                          .method = 1,
                          .network = "net1",
                          .gateway = "gw1",
                          .sink = "sink0",
                          .result = "ok",
                          .nack_reason = -1 },
                        { .time = t0 + 2,
                          .kind = STORE_EVENT_DATA,
                          .uid = { 0x0a, 0x0b, 0x0c, 0x0d },
                          .uid_len = 4,
                          .method = 1,
                          .network = "net1",
                          .gateway = "gw1",
                          .sink = "sink0",
                          .result = "ok",
                          .nack_reason = -1 },
                        { .time = t0 + 3,
                          .kind = STORE_EVENT_NACK,
                          .uid = { 0x01 },
                          .uid_len = 1,
                          .method = 1,
                          .result = "not_authorized",
                          .nack_reason = 0,
                          .detail = "unknown\x1b[31m uid" },
                        { .time = t0 + 4,
                          .kind = STORE_EVENT_NACK,
                          .uid = { 0x02 },
                          .uid_len = 1,
                          .method = 0,
                          .result = "method_not_supported",
                          .nack_reason = 1 },
                        { .time = t0 + 5,
                          .kind = STORE_EVENT_ACK,
                          .uid = { 0x0a, 0x0b, 0x0c, 0x0d },
                          .uid_len = 4,
                          .method = 1,
                          .network = "net1",
                          .result = "ok",
                          .nack_reason = -1 },
                };
                r = store_audit_append(s, e, 5);
        } else {
                StoreAuditEvent e = { .time = t0 + 100,
                                      .kind = STORE_EVENT_START,
                                      .uid = { 0x03 },
                                      .uid_len = 1,
                                      .method = 1,
                                      .result = "ok",
                                      .nack_reason = -1 };
                snprintf(e.detail, sizeof(e.detail), "%s", argc > 4 ? argv[4] : "");
                r = store_audit_append(s, &e, 1);
        }
        store_free(s);
        explicit_bzero_safe(key, sizeof(key));
        return r < 0 ? 1 : 0;
}
