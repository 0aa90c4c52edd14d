/* SPDX-License-Identifier: Apache-2.0 */
/* The engine as a state machine: the input is a script of events (STARTs and DATA_ACKs from a small set of
 * nodes, sources and gateways, raw packets, time passing, downlink results, SIGHUP reconfigurations,
 * whitelist changes and lookup failures) against a 16-session table. Checks after every step:
 * - only the documented return values; the action list within bounds; the deadline not in the past;
 * - every downlink is a well-formed NACK or DATA for the endpoints and source it answers;
 * - no record carries key material (factory or network keys);
 * - the table never reports more live sessions than used, nor more used than it has;
 * - due work always drains (no livelock), and at the end, after a long quiet time, every session is gone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prov-engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(x)                                                                               \
        do {                                                                                   \
                if (!(x)) {                                                                    \
                        fprintf(stderr, "fuzz-engine.c:%d: check failed: %s\n", __LINE__, #x); \
                        abort();                                                               \
                }                                                                              \
        } while (0)

#define N_UIDS    8
#define N_SOURCES 4

typedef struct Script {
        const uint8_t *p;
        size_t left;
} Script;

static uint8_t next(Script *s) {
        if (s->left == 0)
                return 0;
        s->left--;
        return *s->p++;
}

typedef struct World {
        ProvEngine *e;
        ProvEngineConfig config;
        usec_t now, deadline;
        ProvIdentity ids[N_UIDS];
        bool known[N_UIDS];
        int lookup_error, alloc_error;
        uint32_t next_address;
        uint64_t downlinks[8];
        unsigned n_downlinks;
        uint8_t entropy;
        ProvActionList actions;
} World;

static const uint32_t sources[N_SOURCES] = { 0x1001, 0x1002, 0x2003, 0x7ffffff0 };
static const char *const gateways[3] = { "gw-a", "gw-b", "gw-c" };

static void uid_of(unsigned i, uint8_t *uid, size_t *len) {
        *len = i == 3 ? PROV_EXTENDED_UID_SIZE : 4 + i;
        memset(uid, 0xc0 + i, *len);
        if (i == 3) {
                uid[0] = 0x01;
                uid[17] = 0x01;
        }
}

static int fake_identity(void *userdata, const uint8_t *uid, size_t uid_len, ProvIdentity *ret) {
        World *w = userdata;
        if (w->lookup_error)
                return w->lookup_error;
        for (unsigned i = 0; i < N_UIDS; i++) {
                uint8_t u[PROV_UID_MAX];
                size_t n;
                uid_of(i, u, &n);
                if (w->known[i] && n == uid_len && memcmp(u, uid, n) == 0) {
                        *ret = w->ids[i];
                        return 0;
                }
        }
        return -ENOENT;
}

static int fake_allocate(void *userdata, const ProvIdentity *identity, const uint8_t *uid, size_t uid_len,
                         uint32_t *ret) {
        World *w = userdata;
        if (w->alloc_error)
                return w->alloc_error;
        *ret = w->next_address++;
        return 0;
}

static bool contains(const void *hay, size_t n, const uint8_t *needle, size_t m) {
        return memmem(hay, n, needle, m) != NULL;
}

static void check_actions(World *w) {
        check(w->actions.n <= PROV_ACTIONS_MAX);
        for (size_t i = 0; i < w->actions.n; i++) {
                const ProvAction *a = &w->actions.a[i];
                if (a->type == PROV_ACTION_SEND) {
                        const ProvDownlink *d = &a->send;
                        bool g5 = d->src_ep == 160;
                        ProvMsg m;
                        bool known_source = false;

                        check((d->src_ep == 255 && d->dst_ep == 246) ||
                              (d->src_ep == 160 && d->dst_ep == 40));
                        check(provmsg_parse(d->payload, d->payload_len,
                                            g5 ? PROV_PDU_MAX_5G : PROV_PDU_MAX_24G, &m) == 0);
                        check(m.hdr.type == PROV_MSG_DATA || m.hdr.type == PROV_MSG_NACK);
                        for (unsigned s = 0; s < N_SOURCES; s++)
                                known_source |= d->destination_address == sources[s];
                        check(known_source);
                        w->downlinks[w->n_downlinks++ % ELEMENTSOF(w->downlinks)] = d->id;
                } else {
                        const ProvRecord *r = &a->record;
                        check(a->type == PROV_ACTION_RECORD);
                        check(prov_record_kind_to_string(r->kind));
                        check(memchr(r->result, 0, sizeof(r->result)) &&
                              memchr(r->detail, 0, sizeof(r->detail)));
                        /* (the UID is the node's own bytes, which the input may make look like anything) */
                        ProvRecord c = *r;
                        memset(c.uid, 0, sizeof(c.uid));
                        for (unsigned k = 0; k < N_UIDS; k++) {
                                check(!contains(&c, sizeof(c), w->ids[k].factory_key, 16));
                                check(!contains(&c, sizeof(c), w->ids[k].factory_key + 16, 16));
                                check(!contains(&c, sizeof(c), w->ids[k].params.enc_key, PROV_KEY_SIZE));
                                check(!contains(&c, sizeof(c), w->ids[k].params.auth_key, PROV_KEY_SIZE));
                        }
                }
        }
}

static void check_table(World *w) {
        ProvEngineStats st;
        prov_engine_get_stats(w->e, &st);
        check(st.sessions_live <= st.sessions_used);
        check(st.sessions_used <= st.sessions_max);
}

/* Feeds one event, re-feeding it while the engine asks for room (-EAGAIN), then runs what falls due. */
static int feed(World *w, ProvEvent *ev) {
        int r;

        for (unsigned tries = 0;; tries++) {
                check(tries < 1000);
                memset(ev->entropy, w->entropy++, sizeof(ev->entropy));
                w->actions.n = 0;
                r = prov_engine_handle(w->e, ev, w->now, &w->actions, &w->deadline);
                check(r == 0 || r == -EBADMSG || r == -EMSGSIZE || r == -EAGAIN);
                check_actions(w);
                check(w->deadline >= w->now);
                if (r != -EAGAIN)
                        break;
                check(w->actions.n > 0);
        }
        check_table(w);
        return r;
}

static void run_due(World *w) {
        for (unsigned rounds = 0; w->deadline <= w->now; rounds++) {
                ProvEvent ev = { .type = PROV_EVENT_TIMER };
                check(rounds < 1000000);
                check(feed(w, &ev) == 0);
        }
}

static void uplink(World *w, Script *s, const uint8_t *payload, size_t len) {
        static const uint8_t eps[3][2] = { { 246, 255 }, { 160, 39 }, { 246, 240 } };
        unsigned e = next(s) % 3;
        ProvEvent ev = { .type = PROV_EVENT_UPLINK };

        ev.uplink.route.bearer = next(s) & 1 ? PROV_BEARER_UART : PROV_BEARER_MQTT;
        snprintf(ev.uplink.route.gateway, sizeof(ev.uplink.route.gateway), "%s", gateways[next(s) % 3]);
        snprintf(ev.uplink.route.sink, sizeof(ev.uplink.route.sink), "sink%u", next(s) % 2);
        ev.uplink.network_address = next(s) & 1 ? 0x123456 : 0x654321;
        ev.uplink.source_address = sources[next(s) % N_SOURCES];
        ev.uplink.src_ep = eps[e][0];
        ev.uplink.dst_ep = eps[e][1];
        ev.uplink.travel_time_ms = next(s);
        ev.uplink.payload = payload;
        ev.uplink.payload_len = len;
        (void)feed(w, &ev);
}

static void op_start(World *w, Script *s) {
        ProvHeader h = { .type = PROV_MSG_START, .address = { 0xee, 0xff, 0xc0, 0x00 } };
        uint8_t uid[PROV_UID_MAX], iv[PROV_IV_SIZE], buf[PROV_PDU_MAX];
        size_t uid_len;
        unsigned method;
        int n;

        uid_of(next(s) % N_UIDS, uid, &uid_len);
        method = next(s) % 4;
        h.session_id = next(s) % 4;
        memset(iv, next(s) % 3, sizeof(iv));
        n = provmsg_build_start(&h, (uint8_t)method, iv, uid, uid_len, buf, sizeof(buf));
        if (n < 0)
                return;
        uplink(w, s, buf, (size_t)n);
}

static void op_ack(World *w, Script *s) {
        ProvHeader h = { .type = PROV_MSG_DATA_ACK, .address = { 0xee, 0xff, 0xc0, 0x00 } };
        uint8_t buf[8];

        h.session_id = next(s) % 4;
        check(provmsg_build_data_ack(&h, buf, sizeof(buf)) == 6);
        uplink(w, s, buf, 6);
}

static void op_raw(World *w, Script *s) {
        uint8_t buf[PROV_PDU_MAX + 8];
        size_t len = next(s) % sizeof(buf);

        for (size_t i = 0; i < len; i++)
                buf[i] = next(s);
        uplink(w, s, buf, len);
}

static void op_time(World *w, Script *s) {
        unsigned b = next(s);
        w->now = usec_add(w->now, (usec_t)b * b * 10 * USEC_PER_MSEC);
        run_due(w);
}

static void op_send_result(World *w, Script *s) {
        ProvEvent ev = { .type = PROV_EVENT_SEND_RESULT };
        unsigned b = next(s);

        if (w->n_downlinks == 0)
                return;
        ev.send_result.downlink_id =
                w->downlinks[b % MIN(w->n_downlinks, (unsigned)ELEMENTSOF(w->downlinks))];
        ev.send_result.error = b & 0x80 ? -EIO : 0;
        snprintf(ev.send_result.detail, sizeof(ev.send_result.detail), "%s",
                 b & 0x40 ? "SINK_OUT_OF_MEMORY" : "");
        check(feed(w, &ev) == 0);
}

static void op_reconfigure(World *w, Script *s) {
        ProvEngineConfig c = w->config;

        c.session_timeout = (usec_t)(next(s) + 1) * USEC_PER_SEC;
        c.route_window = (usec_t)next(s) * 10 * USEC_PER_MSEC;
        c.duplicate_hold = (usec_t)next(s) * 100 * USEC_PER_MSEC;
        c.finished_hold = (usec_t)next(s) * USEC_PER_SEC;
        c.serve_24g = next(s) % 8 != 0;
        c.serve_5g = next(s) % 8 != 0;
        check(prov_engine_reconfigure(w->e, &c) == 0);
        w->config = c;
        /* a shorter timeout may have made work due already */
        w->deadline = w->now;
        run_due(w);
}

static void op_whitelist(World *w, Script *s) {
        unsigned i = next(s) % N_UIDS, b = next(s);
        ProvIdentity *id = &w->ids[i];

        w->known[i] = !(b & 1);
        id->enabled = !(b & 2);
        id->method = (uint8_t)((b >> 2) % 4);
        id->allow_unsecured = b & 0x10;
        id->has_factory_key = !(b & 0x20);
        id->has_pool = b & 0x40;
        id->params.has_node_address = !id->has_pool;
        id->params.channel = 1 + next(s) % 40;
        id->profile = b & 0x80 ? PROV_PROFILE_5GMESH : PROV_PROFILE_24G;
        id->params.n_user_items = next(s) % 3;
        for (size_t k = 0; k < id->params.n_user_items; k++) {
                ProvUserItem *u = &id->params.user_items[k];
                u->id = (uint8_t)(128 + k);
                u->type = PROV_USER_BYTES;
                u->len = (uint8_t)MIN(next(s) % 64u, (unsigned)PROV_USER_STRING_MAX);
                memset(u->data, 0x3c, u->len);
        }
}

static void op_faults(World *w, Script *s) {
        unsigned b = next(s);
        static const int errors[] = { 0, -EIO, -EBUSY, -ENOSPC };
        w->lookup_error = b & 1 ? -EIO : 0;
        w->alloc_error = errors[(b >> 1) % 4];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        ProvLookup lookup = { .identity = fake_identity, .allocate_address = fake_allocate };
        World *w = calloc(1, sizeof(World));
        Script s = { data, size };
        ProvEngineStats st;

        check(w);
        lookup.userdata = w;
        prov_engine_config_defaults(&w->config);
        w->config.max_sessions = 16;
        w->config.route_window = (usec_t)next(&s) * 5 * USEC_PER_MSEC;
        for (unsigned i = 0; i < 16; i++)
                w->config.hash_key[i] = (uint8_t)i;
        check(prov_engine_new(&w->config, &lookup, &w->e) == 0);
        w->now = 1000 * USEC_PER_SEC;
        w->deadline = USEC_INFINITY;
        w->next_address = 0x10;
        for (unsigned i = 0; i < N_UIDS; i++) {
                ProvIdentity *id = &w->ids[i];
                w->known[i] = i != 7;
                id->enabled = true;
                id->method = i == 3 ? 3 : i == 5 ? 0 : 1;
                id->allow_unsecured = i == 5;
                id->has_factory_key = true;
                for (unsigned k = 0; k < sizeof(id->factory_key); k++)
                        id->factory_key[k] = (uint8_t)(0xa0 ^ (k * 13 + i * 31 + 1));
                snprintf(id->vendor, sizeof(id->vendor), "vendor%u", i % 2);
                snprintf(id->network, sizeof(id->network), "net%u", i % 3);
                id->profile = PROV_PROFILE_24G;
                for (unsigned k = 0; k < PROV_KEY_SIZE; k++) {
                        id->params.enc_key[k] = (uint8_t)(0x51 + k * 3 + i);
                        id->params.auth_key[k] = (uint8_t)(0x97 + k * 5 + i);
                }
                id->params.network_address = 0x123456;
                id->params.channel = 7;
                id->params.has_node_address = true;
                id->params.node_address = 0x100 + i;
        }

        while (s.left > 0) {
                switch (next(&s) % 9) {
                case 0:
                case 1:
                        op_start(w, &s);
                        break;
                case 2:
                        op_ack(w, &s);
                        break;
                case 3:
                        op_raw(w, &s);
                        break;
                case 4:
                        op_time(w, &s);
                        break;
                case 5:
                        op_send_result(w, &s);
                        break;
                case 6:
                        op_reconfigure(w, &s);
                        break;
                case 7:
                        op_whitelist(w, &s);
                        break;
                case 8:
                        op_faults(w, &s);
                        break;
                }
        }

        /* a long quiet time: every decision falls due, every session expires, the table empties (a decision
         * taken now holds its session a little longer: a few rounds) */
        for (unsigned round = 0; w->deadline != USEC_INFINITY; round++) {
                check(round < 8);
                w->now = usec_add(MAX(w->now, w->deadline), 24 * USEC_PER_HOUR);
                w->deadline = w->now;
                run_due(w);
        }
        prov_engine_get_stats(w->e, &st);
        check(st.sessions_live == 0 && st.sessions_used == 0);

        prov_engine_free(w->e);
        free(w);
        return 0;
}
