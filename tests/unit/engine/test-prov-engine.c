/* SPDX-License-Identifier: Apache-2.0 */
/* Engine policy, one rule per test: events in, actions out, a fake clock and a fake lookup. What comes back
 * is checked the way a node would: DATA is decrypted and its CBOR decoded. */
#include <stdio.h>
#include <string.h>

#include "cursor.h"
#include "prov-engine.h"
#include "provcrypto.h"
#include "test-helpers.h"

#define NET_ADDR 0x123456u
#define WINDOW   (200 * USEC_PER_MSEC)

typedef struct FakeDevice {
        uint8_t uid[PROV_UID_MAX];
        size_t uid_len;
        ProvIdentity id;
} FakeDevice;

static FakeDevice devices[8];
static size_t n_devices;
static int lookup_error; /* forced lookup result, 0 = normal */
static unsigned lookups;
static int alloc_error;
static uint32_t next_pool_address;
static unsigned allocations;

static const uint8_t KEY_A[32] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
                                   0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
                                   0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f };

static int fake_identity(void *userdata, const uint8_t *uid, size_t uid_len, ProvIdentity *ret) {
        lookups++;
        if (lookup_error)
                return lookup_error;
        for (size_t i = 0; i < n_devices; i++)
                if (devices[i].uid_len == uid_len && memcmp(devices[i].uid, uid, uid_len) == 0) {
                        *ret = devices[i].id;
                        return 0;
                }
        return -ENOENT;
}

static int fake_allocate(void *userdata, const ProvIdentity *identity, const uint8_t *uid, size_t uid_len,
                         uint32_t *ret) {
        allocations++;
        if (alloc_error)
                return alloc_error;
        *ret = next_pool_address;
        return 0;
}

static const ProvLookup fake_lookup = { .identity = fake_identity, .allocate_address = fake_allocate };

static FakeDevice *add_device(uint8_t uid_byte, uint8_t method) {
        FakeDevice *d = &devices[n_devices++];
        memset(d, 0, sizeof(*d));
        memset(d->uid, uid_byte, 16);
        d->uid_len = 16;
        d->id.from_device = true;
        d->id.enabled = true;
        d->id.method = method;
        snprintf(d->id.vendor, sizeof(d->id.vendor), "acme");
        snprintf(d->id.network, sizeof(d->id.network), "net1");
        d->id.has_factory_key = method != PROV_METHOD_UNSECURED;
        memcpy(d->id.factory_key, KEY_A, 32);
        d->id.profile = PROV_PROFILE_24G;
        for (int i = 0; i < 16; i++) {
                d->id.params.enc_key[i] = (uint8_t)(0x10 + i);
                d->id.params.auth_key[i] = (uint8_t)(0x20 + i);
        }
        d->id.params.network_address = NET_ADDR;
        d->id.params.channel = 7;
        return d;
}

typedef struct Harness {
        ProvEngine *e;
        ProvActionList actions;
        usec_t now;
        usec_t deadline;
        int r;
} Harness;

static Harness *harness_new(usec_t window) {
        ProvEngineConfig c;
        Harness *h = calloc(1, sizeof(Harness));
        assert_non_null(h);
        prov_engine_config_defaults(&c);
        c.max_sessions = 64;
        c.route_window = window;
        for (int i = 0; i < 16; i++)
                c.hash_key[i] = (uint8_t)(i * 7 + 1);
        assert_int_equal(prov_engine_new(&c, &fake_lookup, &h->e), 0);
        h->now = 1000 * USEC_PER_SEC;
        n_devices = 0;
        lookup_error = alloc_error = 0;
        lookups = allocations = 0;
        next_pool_address = 0x1000;
        return h;
}

static void harness_free(Harness *h) {
        prov_engine_free(h->e);
        free(h);
}

static void start_packet(uint8_t *buf, size_t *len, const FakeDevice *d, uint8_t method, uint8_t sid,
                         uint8_t iv_byte) {
        ProvHeader hdr = { .type = PROV_MSG_START,
                           .address = { 0xee, 0xff, 0xc0, 0x00 },
                           .session_id = sid };
        uint8_t iv[16];
        memset(iv, iv_byte, sizeof(iv));
        int n = provmsg_build_start(&hdr, method, iv, d->uid, d->uid_len, buf, 128);
        assert_true(n > 0);
        *len = (size_t)n;
}

static void uplink(Harness *h, const char *gw, uint32_t source, uint32_t travel_ms, const uint8_t *payload,
                   size_t len, uint8_t src_ep, uint8_t dst_ep) {
        ProvEvent ev = { .type = PROV_EVENT_UPLINK };
        ev.uplink.route.bearer = PROV_BEARER_MQTT;
        snprintf(ev.uplink.route.gateway, sizeof(ev.uplink.route.gateway), "%s", gw);
        snprintf(ev.uplink.route.sink, sizeof(ev.uplink.route.sink), "sink0");
        ev.uplink.network_address = NET_ADDR;
        ev.uplink.source_address = source;
        ev.uplink.src_ep = src_ep;
        ev.uplink.dst_ep = dst_ep;
        ev.uplink.travel_time_ms = travel_ms;
        ev.uplink.payload = payload;
        ev.uplink.payload_len = len;
        memset(ev.entropy, 0x5a, sizeof(ev.entropy));
        h->actions.n = 0;
        h->r = prov_engine_handle(h->e, &ev, h->now, &h->actions, &h->deadline);
}

static void send_start(Harness *h, const FakeDevice *d, uint8_t method, const char *gw, uint32_t travel) {
        uint8_t buf[128];
        size_t len;
        start_packet(buf, &len, d, method, 7, 0x42);
        uplink(h, gw, 0x12345, travel, buf, len, 246, 255);
}

static void timer(Harness *h, usec_t at) {
        ProvEvent ev = { .type = PROV_EVENT_TIMER };
        h->now = at;
        h->actions.n = 0;
        h->r = prov_engine_handle(h->e, &ev, h->now, &h->actions, &h->deadline);
        assert_int_equal(h->r, 0);
}

static size_t count(const Harness *h, ProvActionType type, int kind) {
        size_t n = 0;
        for (size_t i = 0; i < h->actions.n; i++)
                if (h->actions.a[i].type == type &&
                    (kind < 0 || type != PROV_ACTION_RECORD || (int)h->actions.a[i].record.kind == kind))
                        n++;
        return n;
}

static const ProvRecord *find_record(const Harness *h, ProvRecordKind kind) {
        for (size_t i = 0; i < h->actions.n; i++)
                if (h->actions.a[i].type == PROV_ACTION_RECORD && h->actions.a[i].record.kind == kind)
                        return &h->actions.a[i].record;
        return NULL;
}

static const ProvDownlink *find_send(const Harness *h) {
        for (size_t i = 0; i < h->actions.n; i++)
                if (h->actions.a[i].type == PROV_ACTION_SEND)
                        return &h->actions.a[i].send;
        return NULL;
}

/* Opens a DATA the way the node does and returns its parameters. */
static void open_data(const ProvDownlink *d, const uint8_t key[32], uint8_t iv_byte, ProvParams *ret,
                      uint16_t *ret_counter) {
        ProvMsg m;
        uint8_t iv[16], plain[PROV_PDU_MAX];

        assert_int_equal(provmsg_parse(d->payload, d->payload_len, PROV_PDU_MAX_5G, &m), 0);
        assert_int_equal(m.hdr.type, PROV_MSG_DATA);
        memset(iv, iv_byte, sizeof(iv));
        if (ret_counter)
                *ret_counter = m.data.counter;
        if (m.data.key_index == PROV_KEY_INDEX_PLAINTEXT) {
                assert_int_equal(provdata_decode(m.data.payload, m.data.payload_len, ret), 0);
                return;
        }
        assert_int_equal(m.data.key_index, PROV_KEY_INDEX_FACTORY);
        assert_true(prov_data_open(key, iv, d->payload, m.data.payload, m.data.payload_len, plain,
                                   sizeof(plain)) >= 0);
        assert_int_equal(provdata_decode(plain, m.data.payload_len - PROV_MIC_SIZE, ret), 0);
}

static void test_secured_start_answered_after_route_window(void **state) {
        Harness *h = harness_new(WINDOW);
        FakeDevice *d = add_device(0xa1, PROV_METHOD_SECURED);
        ProvParams p;

        send_start(h, d, PROV_METHOD_SECURED, "gw1", 100);
        assert_int_equal(h->r, 0);
        assert_int_equal(h->actions.n, 0); /* collecting copies */
        assert_true(h->deadline == h->now + WINDOW);
        assert_int_equal(lookups, 0);

        timer(h, h->now + WINDOW);
        assert_int_equal(count(h, PROV_ACTION_SEND, -1), 1);
        assert_non_null(find_record(h, PROV_RECORD_START));
        const ProvRecord *rec = find_record(h, PROV_RECORD_DATA);
        assert_non_null(rec);
        assert_string_equal(rec->result, "ok");
        assert_string_equal(rec->vendor, "acme");
        assert_int_equal(rec->session_id, 7);
        assert_int_equal(rec->node_address, 0x00c0ffee);

        const ProvDownlink *dl = find_send(h);
        assert_int_equal(dl->destination_address, 0x12345);
        assert_int_equal(dl->src_ep, 255);
        assert_int_equal(dl->dst_ep, 246);
        assert_string_equal(dl->route.gateway, "gw1");
        open_data(dl, KEY_A, 0x42, &p, NULL);
        assert_int_equal(p.network_address, NET_ADDR);
        assert_int_equal(p.channel, 7);
        assert_memory_equal(p.enc_key, d->id.params.enc_key, 16);
        assert_false(p.has_node_address);
        /* the next timer is the session timeout */
        assert_true(h->deadline == h->now + 30 * USEC_PER_MINUTE);
        harness_free(h);
}

static void test_zero_window_answers_at_once(void **state) {
        Harness *h = harness_new(0);
        FakeDevice *d = add_device(0xa2, PROV_METHOD_SECURED);

        send_start(h, d, PROV_METHOD_SECURED, "gw1", 100);
        assert_int_equal(count(h, PROV_ACTION_SEND, -1), 1);
        assert_non_null(find_record(h, PROV_RECORD_DATA));
        harness_free(h);
}

static void expect_nack(Harness *h, ProvNackReason reason, const char *result) {
        const ProvDownlink *dl = find_send(h);
        const ProvRecord *rec = find_record(h, PROV_RECORD_NACK);
        ProvMsg m;

        assert_non_null(dl);
        assert_non_null(rec);
        assert_int_equal(rec->nack_reason, reason);
        assert_string_equal(rec->result, result);
        assert_int_equal(provmsg_parse(dl->payload, dl->payload_len, PROV_PDU_MAX_24G, &m), 0);
        assert_int_equal(m.hdr.type, PROV_MSG_NACK);
        assert_int_equal(m.nack.reason, reason);
        assert_int_equal(m.hdr.session_id, 7);
        assert_memory_equal(m.hdr.address, "\xee\xff\xc0\x00", 4);
        assert_null(find_record(h, PROV_RECORD_DATA));
}

static void test_unknown_uid_not_authorized(void **state) {
        Harness *h = harness_new(0);
        FakeDevice d = { .uid_len = 16 };
        memset(d.uid, 0x77, 16);

        send_start(h, &d, PROV_METHOD_SECURED, "gw1", 100);
        expect_nack(h, PROV_NACK_NOT_AUTHORIZED, "not_authorized");
        assert_string_equal(find_record(h, PROV_RECORD_START)->result, "unknown");
        harness_free(h);
}

static void test_disabled_device_not_authorized(void **state) {
        Harness *h = harness_new(0);
        FakeDevice *d = add_device(0xa3, PROV_METHOD_SECURED);
        d->id.enabled = false;

        send_start(h, d, PROV_METHOD_SECURED, "gw1", 100);
        expect_nack(h, PROV_NACK_NOT_AUTHORIZED, "disabled");
        harness_free(h);
}

static void test_method_mismatch(void **state) {
        Harness *h = harness_new(0);
        FakeDevice *d = add_device(0xa4, PROV_METHOD_EXTENDED_UID);

        send_start(h, d, PROV_METHOD_SECURED, "gw1", 100);
        expect_nack(h, PROV_NACK_METHOD_NOT_SUPPORTED, "method_mismatch");
        harness_free(h);
}

static void test_unsecured_refused_unless_network_allows(void **state) {
        Harness *h = harness_new(0);
        FakeDevice *d = add_device(0xa5, PROV_METHOD_UNSECURED);
        ProvParams p;
        ProvMsg m;

        send_start(h, d, PROV_METHOD_UNSECURED, "gw1", 100);
        expect_nack(h, PROV_NACK_METHOD_NOT_SUPPORTED, "unsecured_not_allowed");
        harness_free(h);

        h = harness_new(0);
        d = add_device(0xa5, PROV_METHOD_UNSECURED);
        d->id.allow_unsecured = true;
        send_start(h, d, PROV_METHOD_UNSECURED, "gw1", 100);
        const ProvDownlink *dl = find_send(h);
        assert_non_null(dl);
        assert_int_equal(provmsg_parse(dl->payload, dl->payload_len, PROV_PDU_MAX_24G, &m), 0);
        assert_int_equal(m.data.key_index, PROV_KEY_INDEX_PLAINTEXT);
        open_data(dl, KEY_A, 0, &p, NULL);
        assert_memory_equal(p.auth_key, d->id.params.auth_key, 16);
        harness_free(h);
}

static void test_no_key_refused(void **state) {
        Harness *h = harness_new(0);
        FakeDevice *d = add_device(0xa6, PROV_METHOD_SECURED);
        d->id.has_factory_key = false;

        send_start(h, d, PROV_METHOD_SECURED, "gw1", 100);
        expect_nack(h, PROV_NACK_NOT_AUTHORIZED, "no_key");
        harness_free(h);
}

static void test_repeated_start_resends_same_data(void **state) {
        Harness *h = harness_new(0);
        FakeDevice *d = add_device(0xa7, PROV_METHOD_SECURED);
        uint8_t first[PROV_PDU_MAX];
        size_t first_len;
        ProvEngineStats st;

        send_start(h, d, PROV_METHOD_SECURED, "gw1", 100);
        memcpy(first, find_send(h)->payload, find_send(h)->payload_len);
        first_len = find_send(h)->payload_len;

        /* a copy within the duplicate hold: nothing */
        h->now += USEC_PER_SEC;
        send_start(h, d, PROV_METHOD_SECURED, "gw2", 50);
        assert_int_equal(h->actions.n, 0);

        /* the node's retry two minutes later: the identical packet, no new key stream */
        h->now += 2 * USEC_PER_MINUTE;
        send_start(h, d, PROV_METHOD_SECURED, "gw1", 100);
        const ProvDownlink *dl = find_send(h);
        assert_non_null(dl);
        assert_int_equal(dl->payload_len, first_len);
        assert_memory_equal(dl->payload, first, first_len);
        assert_int_equal(find_record(h, PROV_RECORD_START)->attempt, 2);
        assert_non_null(strstr(find_record(h, PROV_RECORD_DATA)->detail, "resent"));
        prov_engine_get_stats(h->e, &st);
        assert_int_equal(st.data_sent, 1);
        assert_int_equal(st.data_resent, 1);
        assert_int_equal(st.copies, 1);
        harness_free(h);
}

static void test_changed_parameters_rebuild_with_counter_stride(void **state) {
        Harness *h = harness_new(0);
        FakeDevice *d = add_device(0xa8, PROV_METHOD_SECURED);
        uint16_t c1, c2;
        ProvParams p;

        send_start(h, d, PROV_METHOD_SECURED, "gw1", 100);
        open_data(find_send(h), KEY_A, 0x42, &p, &c1);
        assert_int_equal(p.channel, 7);

        d->id.params.channel = 9; /* the whitelist changed while the node waited */
        h->now += 2 * USEC_PER_MINUTE;
        send_start(h, d, PROV_METHOD_SECURED, "gw1", 100);
        open_data(find_send(h), KEY_A, 0x42, &p, &c2);
        assert_int_equal(p.channel, 9);
        assert_int_equal((uint16_t)(c1 + PROV_COUNTER_STRIDE), c2);
        assert_non_null(strstr(find_record(h, PROV_RECORD_DATA)->detail, "rebuilt"));
        harness_free(h);
}

static void test_retry_after_nack_sees_whitelist_change(void **state) {
        Harness *h = harness_new(0);
        FakeDevice *d = add_device(0xa9, PROV_METHOD_SECURED);
        d->id.enabled = false;

        send_start(h, d, PROV_METHOD_SECURED, "gw1", 100);
        expect_nack(h, PROV_NACK_NOT_AUTHORIZED, "disabled");

        d->id.enabled = true;
        h->now += 20 * USEC_PER_SEC;
        send_start(h, d, PROV_METHOD_SECURED, "gw1", 100);
        assert_non_null(find_record(h, PROV_RECORD_DATA));
        harness_free(h);
}

static void test_best_route_lowest_travel_time(void **state) {
        Harness *h = harness_new(WINDOW);
        FakeDevice *d = add_device(0xaa, PROV_METHOD_SECURED);
        ProvEngineStats st;

        send_start(h, d, PROV_METHOD_SECURED, "gw-far", 900);
        h->now += 10 * USEC_PER_MSEC;
        send_start(h, d, PROV_METHOD_SECURED, "gw-near", 120);
        h->now += 10 * USEC_PER_MSEC;
        send_start(h, d, PROV_METHOD_SECURED, "gw-mid", 400);
        assert_int_equal(h->actions.n, 0);

        timer(h, h->now + WINDOW);
        assert_int_equal(count(h, PROV_ACTION_SEND, -1), 1);
        assert_string_equal(find_send(h)->route.gateway, "gw-near");
        assert_int_equal(find_record(h, PROV_RECORD_START)->copies, 3);
        assert_int_equal(lookups, 1);
        prov_engine_get_stats(h->e, &st);
        assert_int_equal(st.copies, 2);
        harness_free(h);
}

static void test_equal_travel_time_prefers_most_recent(void **state) {
        Harness *h = harness_new(WINDOW);
        FakeDevice *d = add_device(0xab, PROV_METHOD_SECURED);

        send_start(h, d, PROV_METHOD_SECURED, "gw-first", 300);
        h->now += 10 * USEC_PER_MSEC;
        send_start(h, d, PROV_METHOD_SECURED, "gw-second", 300);
        timer(h, h->now + WINDOW);
        assert_string_equal(find_send(h)->route.gateway, "gw-second");
        harness_free(h);
}

static void send_ack(Harness *h, uint32_t source, const char *gw) {
        ProvHeader hdr = { .type = PROV_MSG_DATA_ACK,
                           .address = { 0xee, 0xff, 0xc0, 0x00 },
                           .session_id = 7 };
        uint8_t buf[8];
        int n = provmsg_build_data_ack(&hdr, buf, sizeof(buf));
        assert_int_equal(n, 6);
        uplink(h, gw, source, 100, buf, (size_t)n, 246, 255);
}

static void test_ack_marks_provisioned_once(void **state) {
        Harness *h = harness_new(0);
        FakeDevice *d = add_device(0xac, PROV_METHOD_SECURED);
        ProvEngineStats st;

        send_start(h, d, PROV_METHOD_SECURED, "gw1", 100);
        h->now += USEC_PER_SEC;
        send_ack(h, 0x12345, "gw1");
        const ProvRecord *r = find_record(h, PROV_RECORD_ACK);
        assert_non_null(r);
        assert_string_equal(r->result, "ok");
        assert_memory_equal(r->uid, d->uid, 16);
        assert_true(r->from_device);

        /* the same ACK heard by a second gateway */
        send_ack(h, 0x12345, "gw2");
        assert_int_equal(h->actions.n, 0);
        /* and a late copy of the START changes nothing */
        h->now += 3 * USEC_PER_MINUTE / 2;
        send_start(h, d, PROV_METHOD_SECURED, "gw1", 100);
        assert_int_equal(h->actions.n, 0);
        prov_engine_get_stats(h->e, &st);
        assert_int_equal(st.acks, 1);
        assert_int_equal(st.acks_duplicate, 1);
        assert_int_equal(st.sessions_live, 0);
        harness_free(h);
}

static void test_ack_through_another_source(void **state) {
        Harness *h = harness_new(0);
        FakeDevice *d = add_device(0xad, PROV_METHOD_SECURED);

        send_start(h, d, PROV_METHOD_SECURED, "gw1", 100);
        send_ack(h, 0x99999, "gw1"); /* the node's route changed between START and ACK */
        const ProvRecord *r = find_record(h, PROV_RECORD_ACK);
        assert_non_null(r);
        assert_string_equal(r->result, "ok");
        assert_memory_equal(r->uid, d->uid, 16);
        harness_free(h);
}

static void test_unknown_ack_recorded(void **state) {
        Harness *h = harness_new(0);
        send_ack(h, 0x12345, "gw1");
        const ProvRecord *r = find_record(h, PROV_RECORD_ACK);
        assert_non_null(r);
        assert_string_equal(r->result, "unknown_session");
        assert_int_equal(r->uid_len, 0);
        harness_free(h);
}

static void test_session_expires_unconfirmed(void **state) {
        Harness *h = harness_new(0);
        FakeDevice *d = add_device(0xae, PROV_METHOD_SECURED);
        usec_t sent = h->now;

        send_start(h, d, PROV_METHOD_SECURED, "gw1", 100);
        timer(h, sent + 30 * USEC_PER_MINUTE - 1);
        assert_int_equal(h->actions.n, 0);
        timer(h, sent + 30 * USEC_PER_MINUTE);
        const ProvRecord *r = find_record(h, PROV_RECORD_EXPIRED);
        assert_non_null(r);
        assert_string_equal(r->result, "unconfirmed");
        assert_true(h->deadline == USEC_INFINITY);
        harness_free(h);
}

static void test_bounded_session_table(void **state) {
        Harness *h = harness_new(0);
        ProvEngineStats st;

        for (unsigned i = 0; i < 500; i++) {
                FakeDevice d = { .uid_len = 4 };
                uint8_t buf[64];
                size_t len;
                unaligned_write_le32(d.uid, i);
                start_packet(buf, &len, &d, PROV_METHOD_SECURED, (uint8_t)i, (uint8_t)i);
                uplink(h, "gw1", 0x1000 + i, 10, buf, len, 246, 255);
                assert_int_equal(h->r, 0);
                h->now += USEC_PER_MSEC;
        }
        prov_engine_get_stats(h->e, &st);
        assert_true(st.sessions_used <= 64);
        assert_int_equal(st.sessions_max, 64);
        assert_int_equal(st.evicted, 500 - 64);
        assert_int_equal(st.nacks[PROV_NACK_NOT_AUTHORIZED], 500);
        harness_free(h);
}

static void test_5g_endpoints_and_size_limits(void **state) {
        Harness *h = harness_new(0);
        FakeDevice *d = add_device(0xaf, PROV_METHOD_SECURED);
        uint8_t buf[128];
        size_t len;

        /* 40 bytes of user data: too much for a 2.4 GHz DATA (88), fine for 5G Mesh (121) */
        d->id.params.n_user_items = 1;
        d->id.params.user_items[0] = (ProvUserItem){ .id = 200, .type = PROV_USER_BYTES, .len = 40 };
        memset(d->id.params.user_items[0].data, 0x33, 40);

        send_start(h, d, PROV_METHOD_SECURED, "gw1", 100);
        expect_nack(h, PROV_NACK_INVALID_DATA, "too_large");

        h->now += USEC_PER_SEC;
        start_packet(buf, &len, d, PROV_METHOD_SECURED, 9, 0x42);
        uplink(h, "gw1", 0x12345, 100, buf, len, 160, 39);
        const ProvDownlink *dl = find_send(h);
        assert_non_null(dl);
        assert_int_equal(dl->src_ep, 160);
        assert_int_equal(dl->dst_ep, 40);
        assert_true(dl->payload_len > PROV_PDU_MAX_24G);
        harness_free(h);
}

static void test_wrong_endpoints_and_garbage(void **state) {
        Harness *h = harness_new(0);
        FakeDevice *d = add_device(0xb0, PROV_METHOD_SECURED);
        uint8_t buf[128];
        size_t len;
        ProvEngineStats st;

        start_packet(buf, &len, d, PROV_METHOD_SECURED, 7, 0x42);
        uplink(h, "gw1", 0x12345, 100, buf, len, 10, 20);
        assert_int_equal(h->r, 0);
        assert_int_equal(h->actions.n, 0);

        uplink(h, "gw1", 0x12345, 100, (const uint8_t *)"\x01\x02\x03", 3, 246, 255);
        assert_true(h->r < 0);
        assert_int_equal(h->actions.n, 0);
        uplink(h, "gw1", 0x12345, 100, buf, len - 17, 246, 255); /* truncated into the IV */
        assert_true(h->r < 0);
        prov_engine_get_stats(h->e, &st);
        assert_int_equal(st.ignored, 1);
        assert_int_equal(st.malformed, 2);
        assert_int_equal(lookups, 0);
        harness_free(h);
}

static void test_send_failure_lets_next_start_through(void **state) {
        Harness *h = harness_new(0);
        FakeDevice *d = add_device(0xb1, PROV_METHOD_SECURED);
        ProvEvent ev = { .type = PROV_EVENT_SEND_RESULT };

        send_start(h, d, PROV_METHOD_SECURED, "gw1", 100);
        ev.send_result.downlink_id = find_send(h)->id;
        ev.send_result.error = -EIO;
        snprintf(ev.send_result.detail, sizeof(ev.send_result.detail), "SINK_OUT_OF_MEMORY");
        h->actions.n = 0;
        assert_int_equal(prov_engine_handle(h->e, &ev, h->now, &h->actions, &h->deadline), 0);
        const ProvRecord *r = find_record(h, PROV_RECORD_SEND_FAILED);
        assert_non_null(r);
        assert_non_null(strstr(r->detail, "SINK_OUT_OF_MEMORY"));

        /* within what would have been the duplicate hold: answered again */
        h->now += USEC_PER_SEC;
        send_start(h, d, PROV_METHOD_SECURED, "gw2", 100);
        assert_non_null(find_send(h));

        /* a stale result for an old downlink id is ignored */
        h->actions.n = 0;
        assert_int_equal(prov_engine_handle(h->e, &ev, h->now, &h->actions, &h->deadline), 0);
        assert_int_equal(h->actions.n, 0);
        harness_free(h);
}

static void test_lookup_failure_answers_nothing(void **state) {
        Harness *h = harness_new(0);
        FakeDevice *d = add_device(0xb2, PROV_METHOD_SECURED);

        lookup_error = -EIO;
        send_start(h, d, PROV_METHOD_SECURED, "gw1", 100);
        assert_int_equal(count(h, PROV_ACTION_SEND, -1), 0);
        assert_non_null(find_record(h, PROV_RECORD_ERROR));

        lookup_error = 0;
        h->now += USEC_PER_SEC;
        send_start(h, d, PROV_METHOD_SECURED, "gw1", 100);
        assert_non_null(find_record(h, PROV_RECORD_DATA));
        assert_int_equal(lookups, 2);
        harness_free(h);
}

static void test_lookup_failure_on_retry_keeps_the_sent_data(void **state) {
        Harness *h = harness_new(0);
        FakeDevice *d = add_device(0xb5, PROV_METHOD_SECURED);
        uint8_t first[PROV_PDU_MAX];
        size_t first_len;
        const ProvRecord *r;

        send_start(h, d, PROV_METHOD_SECURED, "gw1", 100);
        assert_non_null(find_send(h));
        memcpy(first, find_send(h)->payload, find_send(h)->payload_len);
        first_len = find_send(h)->payload_len;

        /* the node retries while the database fails: nothing is answered, the START says why */
        lookup_error = -EIO;
        h->now += USEC_PER_MINUTE;
        send_start(h, d, PROV_METHOD_SECURED, "gw1", 100);
        assert_null(find_send(h));
        assert_string_equal(find_record(h, PROV_RECORD_START)->result, "lookup_failed");
        assert_string_equal(find_record(h, PROV_RECORD_ERROR)->result, "lookup_failed");

        /* the next retry, at once (no duplicate hold after an unanswered START): the same DATA again, not a
         * new session with a new counter */
        lookup_error = 0;
        h->now += USEC_PER_SEC;
        send_start(h, d, PROV_METHOD_SECURED, "gw1", 100);
        assert_non_null(find_send(h));
        assert_int_equal(find_send(h)->payload_len, first_len);
        assert_memory_equal(find_send(h)->payload, first, first_len);
        assert_non_null(strstr(find_record(h, PROV_RECORD_DATA)->detail, "resent"));
        assert_int_equal(find_record(h, PROV_RECORD_START)->attempt, 3);

        /* and an ACK for the DATA sent before the failure still counts */
        h->now += USEC_PER_SEC;
        send_ack(h, 0x12345, "gw1");
        r = find_record(h, PROV_RECORD_ACK);
        assert_non_null(r);
        assert_string_equal(r->result, "ok");
        harness_free(h);
}

static void test_reconfigured_timeout_applies_to_waiting_sessions(void **state) {
        Harness *h = harness_new(0);
        FakeDevice *a = add_device(0xb6, PROV_METHOD_SECURED), *b = add_device(0xb7, PROV_METHOD_SECURED);
        usec_t t0 = h->now;
        ProvEngineConfig c;
        uint8_t buf[128];
        size_t len;

        send_start(h, a, PROV_METHOD_SECURED, "gw1", 100); /* waits for its ACK for 30 min */
        assert_int_equal(h->deadline, t0 + 30 * USEC_PER_MINUTE);

        /* SIGHUP with a shorter session timeout: it applies to the session already waiting too */
        prov_engine_config_defaults(&c);
        c.max_sessions = 64;
        c.route_window = 0;
        for (int i = 0; i < 16; i++)
                c.hash_key[i] = (uint8_t)(i * 7 + 1);
        c.session_timeout = USEC_PER_MINUTE;
        assert_int_equal(prov_engine_reconfigure(h->e, &c), 0);

        h->now = t0 + 10 * USEC_PER_SEC;
        start_packet(buf, &len, b, PROV_METHOD_SECURED, 9, 0x43);
        uplink(h, "gw1", 0x23456, 100, buf, len, 246, 255);
        assert_non_null(find_send(h));
        assert_int_equal(h->deadline, t0 + USEC_PER_MINUTE); /* a's, then b's */

        timer(h, t0 + USEC_PER_MINUTE);
        assert_int_equal(count(h, PROV_ACTION_RECORD, PROV_RECORD_EXPIRED), 1);
        assert_memory_equal(find_record(h, PROV_RECORD_EXPIRED)->uid, a->uid, a->uid_len);
        assert_int_equal(h->deadline, t0 + 10 * USEC_PER_SEC + USEC_PER_MINUTE);
        timer(h, t0 + 10 * USEC_PER_SEC + USEC_PER_MINUTE);
        assert_int_equal(count(h, PROV_ACTION_RECORD, PROV_RECORD_EXPIRED), 1);
        assert_memory_equal(find_record(h, PROV_RECORD_EXPIRED)->uid, b->uid, b->uid_len);
        harness_free(h);
}

static void test_pool_address(void **state) {
        Harness *h = harness_new(0);
        FakeDevice *d = add_device(0xb3, PROV_METHOD_SECURED);
        ProvParams p;

        d->id.has_pool = true;
        next_pool_address = 0x4242;
        send_start(h, d, PROV_METHOD_SECURED, "gw1", 100);
        open_data(find_send(h), KEY_A, 0x42, &p, NULL);
        assert_true(p.has_node_address);
        assert_int_equal(p.node_address, 0x4242);
        assert_int_equal(allocations, 1);
        harness_free(h);

        h = harness_new(0);
        d = add_device(0xb3, PROV_METHOD_SECURED);
        d->id.has_pool = true;
        alloc_error = -ENOSPC;
        send_start(h, d, PROV_METHOD_SECURED, "gw1", 100);
        assert_null(find_send(h));
        assert_string_equal(find_record(h, PROV_RECORD_ERROR)->result, "address_pool_exhausted");
        harness_free(h);
}

static void test_new_run_supersedes_old_session(void **state) {
        Harness *h = harness_new(0);
        FakeDevice *d = add_device(0xb4, PROV_METHOD_SECURED);
        uint8_t buf[128];
        size_t len;

        send_start(h, d, PROV_METHOD_SECURED, "gw1", 100);
        h->now += USEC_PER_SEC;
        start_packet(buf, &len, d, PROV_METHOD_SECURED, 7, 0x43); /* same key, new IV */
        uplink(h, "gw1", 0x12345, 100, buf, len, 246, 255);
        const ProvRecord *r = find_record(h, PROV_RECORD_EXPIRED);
        assert_non_null(r);
        assert_non_null(strstr(r->detail, "superseded"));
        assert_non_null(find_record(h, PROV_RECORD_DATA));
        harness_free(h);
}

static void test_many_due_sessions_need_several_calls(void **state) {
        Harness *h = harness_new(WINDOW);
        size_t sends = 0;
        unsigned calls = 0;

        for (unsigned i = 0; i < 10; i++) {
                FakeDevice d = { .uid_len = 4 };
                uint8_t buf[64];
                size_t len;
                unaligned_write_le32(d.uid, i);
                start_packet(buf, &len, &d, PROV_METHOD_SECURED, (uint8_t)i, 1);
                uplink(h, "gw1", 0x2000 + i, 10, buf, len, 246, 255);
        }
        h->now += WINDOW;
        do {
                timer(h, h->now);
                sends += count(h, PROV_ACTION_SEND, -1);
                calls++;
                assert_true(h->actions.n <= PROV_ACTIONS_MAX);
        } while (h->deadline == h->now);
        assert_int_equal(sends, 10);
        assert_true(calls >= 4);
        harness_free(h);
}

static void test_records_carry_no_key_material(void **state) {
        Harness *h = harness_new(0);
        FakeDevice *d = add_device(0xb5, PROV_METHOD_SECURED);

        send_start(h, d, PROV_METHOD_SECURED, "gw1", 100);
        for (size_t i = 0; i < h->actions.n; i++) {
                const ProvAction *a = &h->actions.a[i];
                if (a->type != PROV_ACTION_RECORD)
                        continue;
                assert_null(memmem(&a->record, sizeof(a->record), KEY_A, 16));
                assert_null(memmem(&a->record, sizeof(a->record), KEY_A + 16, 16));
                assert_null(memmem(&a->record, sizeof(a->record), d->id.params.enc_key, 16));
                assert_null(memmem(&a->record, sizeof(a->record), d->id.params.auth_key, 16));
        }
        harness_free(h);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_secured_start_answered_after_route_window),
                cmocka_unit_test(test_zero_window_answers_at_once),
                cmocka_unit_test(test_unknown_uid_not_authorized),
                cmocka_unit_test(test_disabled_device_not_authorized),
                cmocka_unit_test(test_method_mismatch),
                cmocka_unit_test(test_unsecured_refused_unless_network_allows),
                cmocka_unit_test(test_no_key_refused),
                cmocka_unit_test(test_repeated_start_resends_same_data),
                cmocka_unit_test(test_changed_parameters_rebuild_with_counter_stride),
                cmocka_unit_test(test_retry_after_nack_sees_whitelist_change),
                cmocka_unit_test(test_best_route_lowest_travel_time),
                cmocka_unit_test(test_equal_travel_time_prefers_most_recent),
                cmocka_unit_test(test_ack_marks_provisioned_once),
                cmocka_unit_test(test_ack_through_another_source),
                cmocka_unit_test(test_unknown_ack_recorded),
                cmocka_unit_test(test_session_expires_unconfirmed),
                cmocka_unit_test(test_bounded_session_table),
                cmocka_unit_test(test_5g_endpoints_and_size_limits),
                cmocka_unit_test(test_wrong_endpoints_and_garbage),
                cmocka_unit_test(test_send_failure_lets_next_start_through),
                cmocka_unit_test(test_lookup_failure_answers_nothing),
                cmocka_unit_test(test_lookup_failure_on_retry_keeps_the_sent_data),
                cmocka_unit_test(test_reconfigured_timeout_applies_to_waiting_sessions),
                cmocka_unit_test(test_pool_address),
                cmocka_unit_test(test_new_run_supersedes_old_session),
                cmocka_unit_test(test_many_due_sessions_need_several_calls),
                cmocka_unit_test(test_records_carry_no_key_material),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
