/* SPDX-License-Identifier: Apache-2.0 */
/* Engine throughput and memory: how many STARTs per second the pure decision path handles (parse, session
 * table, lookup through a fake in-memory table, CBOR, AES-CMAC + LE-CTR, actions), and what the fixed
 * session table costs. Results go to docs/performance.md; nothing here is asserted.
 *
 *   bench-engine [--starts N] [--sessions N] [--devices N]
 */
#include <getopt.h>
#include <stdio.h>
#include <sys/resource.h>

#include "cursor.h"
#include "parse-util.h"
#include "prov-engine.h"
#include "siphash24.h"
#include "time-util.h"

static unsigned n_devices = 10000;
static uint8_t key[32];

static void uid_of(unsigned i, uint8_t uid[16]) {
        memset(uid, 0, 16);
        unaligned_write_le32(uid, i);
        uid[15] = 0xbe;
}

static int fake_identity(void *userdata, const uint8_t *uid, size_t uid_len, ProvIdentity *ret) {
        uint32_t i = unaligned_read_le32(uid);
        if (uid_len != 16 || uid[15] != 0xbe || i >= n_devices)
                return -ENOENT;
        memset(ret, 0, sizeof(*ret));
        ret->from_device = true;
        ret->enabled = true;
        ret->method = PROV_METHOD_SECURED;
        ret->has_factory_key = true;
        memcpy(ret->factory_key, key, 32);
        memset(ret->params.enc_key, 0x11, 16);
        memset(ret->params.auth_key, 0x22, 16);
        ret->params.network_address = 0x123456;
        ret->params.channel = 7;
        ret->params.has_node_address = true;
        ret->params.node_address = 0x1000 + i;
        return 0;
}

static double seconds(usec_t a, usec_t b) {
        return (double)(b - a) / 1e6;
}

int main(int argc, char **argv) {
        unsigned n_starts = 200000, n_sessions = SESSIONS_DEFAULT;
        static const struct option opts[] = {
                { "starts", required_argument, NULL, 's' },
                { "sessions", required_argument, NULL, 'S' },
                { "devices", required_argument, NULL, 'd' },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0)
                switch (c) {
                case 's':
                        (void)safe_atou32(optarg, &n_starts);
                        break;
                case 'S':
                        (void)safe_atou32(optarg, &n_sessions);
                        break;
                case 'd':
                        (void)safe_atou32(optarg, &n_devices);
                        break;
                default:
                        return 2;
                }

        ProvLookup lookup = { .identity = fake_identity };
        ProvEngineConfig cfg;
        ProvEngine *e;
        struct rusage ru0, ru1;

        prov_engine_config_defaults(&cfg);
        cfg.max_sessions = n_sessions;
        cfg.route_window = 0;
        for (int i = 0; i < 16; i++)
                cfg.hash_key[i] = (uint8_t)(i * 13 + 7);
        for (int i = 0; i < 32; i++)
                key[i] = (uint8_t)i;

        getrusage(RUSAGE_SELF, &ru0);
        if (prov_engine_new(&cfg, &lookup, &e) < 0) {
                fprintf(stderr, "engine setup failed\n");
                return 1;
        }
        getrusage(RUSAGE_SELF, &ru1);

        ProvEvent ev = { .type = PROV_EVENT_UPLINK };
        ev.uplink.route.bearer = PROV_BEARER_MQTT;
        snprintf(ev.uplink.route.gateway, sizeof(ev.uplink.route.gateway), "gw-bench");
        snprintf(ev.uplink.route.sink, sizeof(ev.uplink.route.sink), "sink0");
        ev.uplink.network_address = 0x123456;
        ev.uplink.src_ep = 246;
        ev.uplink.dst_ep = 255;
        ev.uplink.travel_time_ms = 100;

        uint64_t data = 0, nacks = 0;
        usec_t t = 1000 * USEC_PER_SEC, deadline;
        usec_t w0 = now(CLOCK_MONOTONIC);
        for (unsigned i = 0; i < n_starts; i++) {
                uint8_t uid[16], pkt[64], iv[16];
                ProvHeader h = { .type = PROV_MSG_START, .session_id = (uint8_t)i };
                ProvActionList actions = {};

                /* 1 in 10 STARTs is from an unknown UID */
                uid_of(i % 10 == 9 ? n_devices + i : i % n_devices, uid);
                unaligned_write_le32(h.address, i);
                memset(iv, (uint8_t)i, sizeof(iv));
                int n = provmsg_build_start(&h, PROV_METHOD_SECURED, iv, uid, 16, pkt, sizeof(pkt));
                ev.uplink.source_address = 0x10000 + i;
                ev.uplink.payload = pkt;
                ev.uplink.payload_len = (size_t)n;
                memcpy(ev.entropy, &i, sizeof(i));
                t += 50; /* 20,000 STARTs per simulated second */
                int r = prov_engine_handle(e, &ev, t, &actions, &deadline);
                if (r < 0 && r != -EAGAIN) {
                        fprintf(stderr, "engine error %d\n", r);
                        return 1;
                }
                for (size_t k = 0; k < actions.n; k++)
                        if (actions.a[k].type == PROV_ACTION_RECORD) {
                                data += actions.a[k].record.kind == PROV_RECORD_DATA;
                                nacks += actions.a[k].record.kind == PROV_RECORD_NACK;
                        }
        }
        usec_t w1 = now(CLOCK_MONOTONIC);

        ProvEngineStats st;
        struct rusage ru2;
        prov_engine_get_stats(e, &st);
        getrusage(RUSAGE_SELF, &ru2);
        printf("engine: %u STARTs in %.3f s = %.0f STARTs/s (%.2f us each); %" PRIu64 " DATA, %" PRIu64
               " NACK, %" PRIu64 " evicted\n",
               n_starts, seconds(w0, w1), n_starts / seconds(w0, w1), 1e6 * seconds(w0, w1) / n_starts, data,
               nacks, st.evicted);
        printf("engine: session table of %u entries: max RSS %ld KiB before, %ld KiB after setup, %ld KiB "
               "after "
               "the run (every entry touched)\n",
               n_sessions, ru0.ru_maxrss, ru1.ru_maxrss, ru2.ru_maxrss);
        prov_engine_free(e);
        return 0;
}
