/* SPDX-License-Identifier: Apache-2.0 */
/* Management API codec: every operation survives encode -> decode; every validation rule refuses with the
 * right code and names the field; caps (request size, counts, page sizes, string lengths) hold; answers
 * carry fingerprints and never key bytes; events, status and topics.
 *
 * Valid and most invalid requests are built as plain structs and encoded with mgmt_request_encode() (which
 * does not validate). What the structs cannot express (absent fields, wrong key lengths, unknown enum
 * values) is written with the small protobuf writer below, independent of the generated code. */
#include <stdio.h>

#include "mgmtapi.h"
#include "test-helpers.h"

/* ---- a minimal protobuf writer ---- */

typedef struct Pb {
        uint8_t b[8192];
        size_t n;
} Pb;

static void pb_raw(Pb *p, const void *d, size_t n) {
        assert_true(n <= sizeof(p->b) - p->n);
        if (n > 0)
                memcpy(p->b + p->n, d, n);
        p->n += n;
}

static void pb_varint(Pb *p, uint64_t v) {
        do {
                uint8_t byte = (uint8_t)(v & 0x7f);
                v >>= 7;
                if (v)
                        byte |= 0x80;
                pb_raw(p, &byte, 1);
        } while (v);
}

static void pb_uint(Pb *p, unsigned field, uint64_t v) {
        pb_varint(p, (uint64_t)field << 3);
        pb_varint(p, v);
}

static void pb_bytes(Pb *p, unsigned field, const void *d, size_t n) {
        pb_varint(p, ((uint64_t)field << 3) | 2);
        pb_varint(p, n);
        pb_raw(p, d, n);
}

static void pb_str(Pb *p, unsigned field, const char *s) {
        pb_bytes(p, field, s, strlen(s));
}

static void pb_msg(Pb *p, unsigned field, const Pb *m) {
        pb_bytes(p, field, m->b, m->n);
}

static uint8_t *mfree_u8(uint8_t *p) {
        free(p);
        return NULL;
}

/* ---- fixtures ---- */

static const uint8_t UID[] = { 0x58, 0xc8, 0x12, 0xad, 0x37, 0xe8, 0x36, 0x4a,
                               0xa1, 0x1f, 0x1c, 0xbc, 0x63, 0x3e, 0x8e, 0x34 };

static void fill_key(uint8_t *k, size_t n, uint8_t start) {
        for (size_t i = 0; i < n; i++)
                k[i] = (uint8_t)(start + i);
}

static void good_network(MgmtNetwork *n) {
        *n = (MgmtNetwork){ .profile = PROV_PROFILE_24G,
                            .network_address = 0x1012EE,
                            .channel = 7,
                            .keys_update = MGMT_KEY_SET };
        strcpy(n->name, "plant1");
        fill_key(n->enc_key, sizeof(n->enc_key), 1);
        fill_key(n->auth_key, sizeof(n->auth_key), 0x40);
}

static void good_vendor(MgmtVendor *v) {
        *v = (MgmtVendor){ .key_update = MGMT_KEY_SET,
                           .key_kind = MGMT_VENDOR_KEY_MASTER,
                           .enroll_kind = MGMT_ENROLL_UID_PREFIX,
                           .enroll_prefix = { 0xa1, 0xb2, 0xc3 },
                           .enroll_prefix_len = 3,
                           .enroll_method = 1,
                           .enabled = true };
        strcpy(v->name, "acme");
        strcpy(v->default_network, "plant1");
        fill_key(v->key, sizeof(v->key), 7);
}

static void good_device(MgmtDevice *d) {
        *d = (MgmtDevice){ .method = 1, .factory_key_update = MGMT_KEY_SET, .enabled = true };
        memcpy(d->uid, UID, sizeof(UID));
        d->uid_len = sizeof(UID);
        strcpy(d->network, "plant1");
        strcpy(d->label, "node-1");
        fill_key(d->factory_key, sizeof(d->factory_key), 0x10);
}

static MgmtRequest *new_request(MgmtOp op) {
        MgmtRequest *q = new0(MgmtRequest, 1);
        assert_non_null(q);
        q->op = op;
        strcpy(q->id, "req-1");
        switch (op) {
        case MGMT_OP_NETWORK_PUT:
                good_network(&q->network_put.network);
                q->network_put.mode = MGMT_PUT_CREATE;
                break;
        case MGMT_OP_VENDOR_PUT:
                good_vendor(&q->vendor_put.vendor);
                break;
        case MGMT_OP_DEVICE_PUT:
                good_device(&q->device_put.device);
                break;
        case MGMT_OP_NETWORK_GET:
        case MGMT_OP_NETWORK_DELETE:
        case MGMT_OP_VENDOR_GET:
        case MGMT_OP_VENDOR_DELETE:
                strcpy(q->name, "plant1");
                break;
        case MGMT_OP_DEVICE_GET:
        case MGMT_OP_DEVICE_DELETE:
        case MGMT_OP_DEVICE_ENABLE:
        case MGMT_OP_DEVICE_DISABLE:
        case MGMT_OP_DEVICE_HISTORY:
                memcpy(q->device.uid, UID, sizeof(UID));
                q->device.uid_len = sizeof(UID);
                break;
        case MGMT_OP_DEVICE_LIST:
        case MGMT_OP_DEVICE_COUNT:
                q->filter.state = -1;
                break;
        case MGMT_OP_AUDIT_QUERY:
                q->audit.kind = -1;
                break;
        case MGMT_OP_DEVICE_BULK_PUT:
                q->bulk.last = true;
                break;
        case MGMT_OP_NETWORK_LIST:
        case MGMT_OP_VENDOR_LIST:
        case MGMT_OP_STATS:
        case MGMT_OP_STATUS:
                break;
        case _MGMT_OP_MAX:
        case _MGMT_OP_INVALID:
                fail();
        }
        return q;
}

/* Encodes q and decodes it again; returns the decoder's result, with err and *ret filled. */
static int roundtrip(const MgmtRequest *q, MgmtRequest **ret, MgmtError *err) {
        _cleanup_free_ uint8_t *buf = NULL;
        MgmtRequest *d = NULL;
        size_t n;
        int r;

        assert_int_equal(mgmt_request_encode(q, &buf, &n), 0);
        r = mgmt_request_decode(buf, n, q->op, &d, err);
        if (ret)
                *ret = d;
        else
                mgmt_request_free(d);
        return r;
}

/* Expects the request to be refused with code and field. */
#define assert_refused(q, code_, field_)                     \
        do {                                                 \
                MgmtError _e;                                \
                int _r = roundtrip((q), NULL, &_e);          \
                assert_true(_r < 0);                         \
                assert_int_equal(_e.code, (code_));          \
                assert_string_equal(_e.field, (field_));     \
                assert_true(_e.message[0] != '\0');          \
                assert_string_equal(_e.request_id, (q)->id); \
        } while (0)

/* Raw bytes on request/<op>: expects code and field. */
static void assert_raw_refused(const Pb *p, MgmtOp op, MgmtCode code, const char *field) {
        _cleanup_(mgmt_request_freep) MgmtRequest *q = NULL;
        MgmtError e;

        assert_true(mgmt_request_decode(p->b, p->n, op, &q, &e) < 0);
        assert_null(q);
        assert_int_equal(e.code, code);
        assert_string_equal(e.field, field);
}

/* ---- round trips ---- */

static void test_roundtrip_puts(void **state) {
        _cleanup_(mgmt_request_freep) MgmtRequest *n = new_request(MGMT_OP_NETWORK_PUT), *v = NULL,
                                                  *d = NULL;
        _cleanup_(mgmt_request_freep) MgmtRequest *q = NULL;
        MgmtError e;

        n->network_put.network.has_pool = true;
        n->network_put.network.pool_first = 100;
        n->network_put.network.pool_last = 200;
        n->network_put.network.allow_unsecured = true;
        n->network_put.mode = MGMT_PUT_UPSERT;
        assert_int_equal(roundtrip(n, &q, &e), 0);
        assert_string_equal(q->id, "req-1");
        assert_int_equal(q->network_put.mode, MGMT_PUT_UPSERT);
        assert_string_equal(q->network_put.network.name, "plant1");
        assert_int_equal(q->network_put.network.network_address, 0x1012EE);
        assert_int_equal(q->network_put.network.channel, 7);
        assert_int_equal(q->network_put.network.keys_update, MGMT_KEY_SET);
        assert_memory_equal(q->network_put.network.enc_key, n->network_put.network.enc_key, PROV_KEY_SIZE);
        assert_memory_equal(q->network_put.network.auth_key, n->network_put.network.auth_key, PROV_KEY_SIZE);
        assert_true(q->network_put.network.allow_unsecured);
        assert_true(q->network_put.network.has_pool);
        assert_int_equal(q->network_put.network.pool_last, 200);
        q = mgmt_request_free(q);

        v = new_request(MGMT_OP_VENDOR_PUT);
        assert_int_equal(roundtrip(v, &q, &e), 0);
        assert_int_equal(q->vendor_put.vendor.key_kind, MGMT_VENDOR_KEY_MASTER);
        assert_memory_equal(q->vendor_put.vendor.key, v->vendor_put.vendor.key, 32);
        assert_int_equal(q->vendor_put.vendor.enroll_prefix_len, 3);
        assert_string_equal(q->vendor_put.vendor.default_network, "plant1");
        assert_true(q->vendor_put.vendor.enabled);
        q = mgmt_request_free(q);

        d = new_request(MGMT_OP_DEVICE_PUT);
        d->device_put.device.has_node_address = true;
        d->device_put.device.node_address = 0x81000000;
        d->device_put.device.has_role = true;
        d->device_put.device.role = 0x52;
        d->device_put.device.n_user_items = 4;
        d->device_put.device.user_items[0] =
                (ProvUserItem){ .id = 200, .type = PROV_USER_INT, .integer = -7 };
        d->device_put.device.user_items[1] =
                (ProvUserItem){ .id = 128, .type = PROV_USER_TEXT, .len = 2, .data = "hi" };
        d->device_put.device.user_items[2] =
                (ProvUserItem){ .id = 255, .type = PROV_USER_BYTES, .len = 3, .data = { 0, 1, 0 } };
        d->device_put.device.user_items[3] =
                (ProvUserItem){ .id = 130, .type = PROV_USER_BOOL, .boolean = true };
        d->device_put.device.enabled = false;
        assert_int_equal(roundtrip(d, &q, &e), 0);
        assert_int_equal(q->device_put.device.uid_len, sizeof(UID));
        assert_memory_equal(q->device_put.device.uid, UID, sizeof(UID));
        assert_string_equal(q->device_put.device.label, "node-1");
        assert_memory_equal(q->device_put.device.factory_key, d->device_put.device.factory_key, 32);
        assert_int_equal(q->device_put.device.node_address, 0x81000000);
        assert_int_equal(q->device_put.device.role, 0x52);
        assert_false(q->device_put.device.enabled);
        assert_int_equal(q->device_put.device.n_user_items, 4);
        assert_int_equal(q->device_put.device.user_items[0].integer, -7);
        assert_int_equal(q->device_put.device.user_items[1].type, PROV_USER_TEXT);
        assert_memory_equal(q->device_put.device.user_items[1].data, "hi", 2);
        assert_int_equal(q->device_put.device.user_items[2].len, 3);
        assert_true(q->device_put.device.user_items[3].boolean);
}

static void test_roundtrip_queries(void **state) {
        _cleanup_(mgmt_request_freep) MgmtRequest *q = NULL;
        MgmtError e;

        for (MgmtOp op = 0; op < _MGMT_OP_MAX; op++) {
                _cleanup_(mgmt_request_freep) MgmtRequest *a = new_request(op);
                assert_int_equal(roundtrip(a, &q, &e), 0);
                assert_int_equal(q->op, op);
                assert_string_equal(q->id, "req-1");
                q = mgmt_request_free(q);
        }

        _cleanup_(mgmt_request_freep) MgmtRequest *a = new_request(MGMT_OP_AUDIT_QUERY);
        a->audit.uid_len = 2;
        a->audit.uid[0] = 0xab;
        a->audit.since = 1000;
        a->audit.until = 2000;
        a->audit.kind = MGMT_EVENT_NACK;
        strcpy(a->audit.result, "not_authorized");
        a->audit.after_id = 99;
        a->audit.descending = true;
        a->audit.limit = 10;
        assert_int_equal(roundtrip(a, &q, &e), 0);
        assert_int_equal(q->audit.uid_len, 2);
        assert_int_equal(q->audit.since, 1000);
        assert_int_equal(q->audit.until, 2000);
        assert_int_equal(q->audit.kind, MGMT_EVENT_NACK);
        assert_string_equal(q->audit.result, "not_authorized");
        assert_int_equal(q->audit.after_id, 99);
        assert_true(q->audit.descending);
        assert_int_equal(q->audit.limit, 10);
        q = mgmt_request_free(q);

        /* device_history pages by id, like audit_query */
        _cleanup_(mgmt_request_freep) MgmtRequest *h = new_request(MGMT_OP_DEVICE_HISTORY);
        h->device.uid_len = 1;
        h->device.uid[0] = 0x42;
        h->device.limit = 3;
        h->device.after_id = 12345;
        assert_int_equal(roundtrip(h, &q, &e), 0);
        assert_int_equal(q->device.uid_len, 1);
        assert_int_equal(q->device.limit, 3);
        assert_int_equal(q->device.after_id, 12345);
        q = mgmt_request_free(q);
        h->device.after_id = 0; /* absent on the wire: from the newest */
        assert_int_equal(roundtrip(h, &q, &e), 0);
        assert_int_equal(q->device.after_id, 0);
        q = mgmt_request_free(q);

        /* limit 0 means a full page; no state filter is -1 */
        _cleanup_(mgmt_request_freep) MgmtRequest *f = new_request(MGMT_OP_DEVICE_LIST);
        assert_int_equal(roundtrip(f, &q, &e), 0);
        assert_int_equal(q->filter.limit, MGMT_PAGE_MAX);
        assert_int_equal(q->filter.state, -1);
        q = mgmt_request_free(q);
        f->filter.state = MGMT_DEVICE_PROVISIONED;
        strcpy(f->filter.vendor, "acme");
        f->filter.after_uid_len = 1;
        f->filter.limit = 5;
        assert_int_equal(roundtrip(f, &q, &e), 0);
        assert_int_equal(q->filter.state, MGMT_DEVICE_PROVISIONED);
        assert_string_equal(q->filter.vendor, "acme");
        assert_int_equal(q->filter.after_uid_len, 1);
        assert_int_equal(q->filter.limit, 5);
}

static void test_bulk(void **state) {
        _cleanup_(mgmt_request_freep) MgmtRequest *b = new_request(MGMT_OP_DEVICE_BULK_PUT), *q = NULL;
        _cleanup_free_ MgmtDevicePut *devs = new0(MgmtDevicePut, 5);
        MgmtNetworkPut net = { .mode = MGMT_PUT_UPSERT };
        MgmtDevicePut got;
        MgmtError e = {};

        assert_non_null(devs);
        good_network(&net.network);
        for (unsigned i = 0; i < 5; i++) {
                good_device(&devs[i].device);
                devs[i].device.uid[0] = (uint8_t)i;
                devs[i].mode = MGMT_PUT_UPSERT;
        }
        b->bulk.networks = &net;
        b->bulk.n_networks = 1;
        b->bulk.devices = devs;
        b->bulk.n_devices = 5;
        strcpy(b->bulk.batch, "import-7");
        b->bulk.seq = 3;
        b->bulk.last = false;
        b->bulk.dry_run = true;
        assert_int_equal(roundtrip(b, &q, &e), 0);
        assert_int_equal(q->bulk.n_networks, 1);
        assert_int_equal(q->bulk.n_devices, 5);
        assert_string_equal(q->bulk.batch, "import-7");
        assert_int_equal(q->bulk.seq, 3);
        assert_false(q->bulk.last);
        assert_true(q->bulk.dry_run);
        assert_int_equal(mgmt_request_bulk_check(q, 0, 0, &e), 0);
        assert_int_equal(mgmt_request_bulk_device(q, 4, &got), 0);
        assert_int_equal(got.device.uid[0], 4);
        assert_memory_equal(got.device.factory_key, devs[4].device.factory_key, 32);
        assert_int_equal(mgmt_request_bulk_device(q, 5, &got), -EINVAL);
        q = mgmt_request_free(q);

        /* Bad items: each is listed by its index in the whole batch (here chunk bases 7 and 1000) and the
         * first one names the error. */
        devs[1].device.has_node_address = true;
        devs[1].device.node_address = 0;
        devs[3].device.method = 2;
        net.network.channel = 99;
        assert_int_equal(roundtrip(b, &q, &e), 0);
        e = (MgmtError){};
        assert_int_equal(mgmt_request_bulk_check(q, 7, 1000, &e), -EINVAL);
        assert_int_equal(e.code, MGMT_INVALID);
        assert_string_equal(e.field, "networks[7].channel");
        assert_int_equal(e.n_items, 3);
        assert_int_equal(e.items[0].index, 7);
        assert_int_equal(e.items[1].index, 1001);
        assert_string_equal(e.items[1].field, "devices[1001].node_address");
        assert_int_equal(e.items[2].index, 1003);
        assert_string_equal(e.items[2].field, "devices[1003].method");
        q = mgmt_request_free(q);

        /* a chunk without a batch name */
        net.network.channel = 7;
        b->bulk.batch[0] = '\0';
        assert_refused(b, MGMT_INVALID, "batch");

        /* abort names the batch it drops */
        b->bulk.abort = true;
        b->bulk.last = true;
        b->bulk.seq = 0;
        assert_refused(b, MGMT_INVALID, "batch");
        strcpy(b->bulk.batch, "import-7");
        assert_int_equal(roundtrip(b, &q, &e), 0);
        assert_true(q->bulk.abort);
        assert_string_equal(q->bulk.batch, "import-7");
}

static void test_bulk_caps(void **state) {
        _cleanup_(mgmt_request_freep) MgmtRequest *b = new_request(MGMT_OP_DEVICE_BULK_PUT), *q = NULL;
        _cleanup_free_ MgmtDevicePut *devs = new0(MgmtDevicePut, MGMT_BULK_ITEMS_MAX + 1);
        MgmtError e = {};

        assert_non_null(devs);
        for (unsigned i = 0; i <= MGMT_BULK_ITEMS_MAX; i++) {
                devs[i].device.uid_len = 4;
                memcpy(devs[i].device.uid, &i, 4);
                devs[i].device.method = 1;
                strcpy(devs[i].device.vendor, "acme");
                devs[i].mode = MGMT_PUT_UPSERT;
        }
        b->bulk.devices = devs;
        b->bulk.n_devices = MGMT_BULK_ITEMS_MAX + 1;
        assert_refused(b, MGMT_TOO_LARGE, "devices");

        b->bulk.n_devices = MGMT_BULK_ITEMS_MAX;
        assert_int_equal(roundtrip(b, &q, &e), 0);
        assert_int_equal(mgmt_request_bulk_check(q, 0, 0, &e), 0);
        q = mgmt_request_free(q);

        /* more bad items than are listed: the first MGMT_ITEM_ERRORS_MAX */
        for (unsigned i = 0; i < 100; i++)
                devs[i].device.method = 9;
        assert_int_equal(roundtrip(b, &q, &e), 0);
        e = (MgmtError){};
        assert_int_equal(mgmt_request_bulk_check(q, 0, 0, &e), -EINVAL);
        assert_int_equal(e.n_items, MGMT_ITEM_ERRORS_MAX);
        assert_int_equal(e.items[MGMT_ITEM_ERRORS_MAX - 1].index, MGMT_ITEM_ERRORS_MAX - 1);
}

/* ---- validation: every rule names its field ---- */

static void test_network_rules(void **state) {
        _cleanup_(mgmt_request_freep) MgmtRequest *q = new_request(MGMT_OP_NETWORK_PUT);
        MgmtNetwork *n = &q->network_put.network;

#define RESET() good_network(n)
        RESET();
        n->name[0] = '\0';
        assert_refused(q, MGMT_INVALID, "network.name");
        RESET();
        strcpy(n->name, "bad name");
        assert_refused(q, MGMT_INVALID, "network.name");
        RESET();
        memset(n->name, 'a', NAME_MAX_LEN);
        n->name[NAME_MAX_LEN] = '\0';
        q->id[0] = '\0';
        /* 64 is fine */
        {
                MgmtError e;
                assert_int_equal(roundtrip(q, NULL, &e), 0);
        }
        strcpy(q->id, "req-1");
        RESET();
        n->network_address = 0;
        assert_refused(q, MGMT_INVALID, "network.network_address");
        RESET();
        n->network_address = 0xAAAAAA;
        assert_refused(q, MGMT_INVALID, "network.network_address");
        RESET();
        n->network_address = 0x1000000;
        assert_refused(q, MGMT_INVALID, "network.network_address");
        RESET();
        n->channel = 41;
        assert_refused(q, MGMT_INVALID, "network.channel");
        RESET();
        n->channel = 0;
        assert_refused(q, MGMT_INVALID, "network.channel");
        RESET();
        n->profile = PROV_PROFILE_SUBG;
        n->channel = 200;
        {
                MgmtError e;
                assert_int_equal(roundtrip(q, NULL, &e), 0);
        }
        n->channel = 256;
        assert_refused(q, MGMT_INVALID, "network.channel");
        RESET();
        n->keys_update = MGMT_KEY_CLEAR;
        assert_refused(q, MGMT_INVALID, "network.keys_update");
        RESET();
        memset(n->enc_key, 0, sizeof(n->enc_key));
        assert_refused(q, MGMT_INVALID, "network.enc_key");
        RESET();
        memset(n->auth_key, 0xff, sizeof(n->auth_key));
        assert_refused(q, MGMT_INVALID, "network.auth_key");
        RESET();
        n->has_pool = true;
        n->pool_first = 0;
        n->pool_last = 10;
        assert_refused(q, MGMT_INVALID, "network.pool_first");
        n->pool_first = 10;
        n->pool_last = 0xFFFFFFFF;
        assert_refused(q, MGMT_INVALID, "network.pool_last");
        n->pool_first = 20;
        n->pool_last = 10;
        assert_refused(q, MGMT_INVALID, "network.pool_first");
        n->pool_first = 0x7FFFFFF0;
        n->pool_last = 0x81000010;
        assert_refused(q, MGMT_INVALID, "network.pool_last");
#undef RESET
}

static void network_pb(Pb *n, bool keys) {
        uint8_t k[16];

        pb_str(n, 1, "plant1");
        pb_uint(n, 3, 0x1012EE);
        pb_uint(n, 4, 7);
        if (keys) {
                fill_key(k, sizeof(k), 1);
                pb_uint(n, 5, 1 /* SET */);
                pb_bytes(n, 6, k, 16);
                pb_bytes(n, 7, k, 16);
        }
}

static void put_request(Pb *out, unsigned body_field, const Pb *obj, int mode) {
        Pb put = {};
        pb_msg(&put, 1, obj);
        if (mode >= 0)
                pb_uint(&put, 2, (unsigned)mode);
        pb_str(out, 1, "raw");
        pb_msg(out, body_field, &put);
}

static void test_network_rules_raw(void **state) {
        uint8_t k15[15] = { 1, 2, 3 }, k16[16] = { 1, 2, 3 };

        {
                /* missing address and channel */
                Pb n = {}, r = {};
                pb_str(&n, 1, "plant1");
                put_request(&r, 10, &n, -1);
                assert_raw_refused(&r, MGMT_OP_NETWORK_PUT, MGMT_INVALID, "network.network_address");
        }
        {
                Pb n = {}, r = {};
                pb_str(&n, 1, "plant1");
                pb_uint(&n, 3, 0x1012EE);
                put_request(&r, 10, &n, -1);
                assert_raw_refused(&r, MGMT_OP_NETWORK_PUT, MGMT_INVALID, "network.channel");
        }
        {
                /* unknown profile: refused, never defaulted */
                Pb n = {}, r = {};
                network_pb(&n, true);
                pb_uint(&n, 2, 7);
                put_request(&r, 10, &n, -1);
                assert_raw_refused(&r, MGMT_OP_NETWORK_PUT, MGMT_INVALID, "network.profile");
        }
        {
                /* a 15-byte key */
                Pb n = {}, r = {};
                network_pb(&n, false);
                pb_uint(&n, 5, 1);
                pb_bytes(&n, 6, k15, sizeof(k15));
                pb_bytes(&n, 7, k16, sizeof(k16));
                put_request(&r, 10, &n, -1);
                assert_raw_refused(&r, MGMT_OP_NETWORK_PUT, MGMT_INVALID, "network.enc_key");
        }
        {
                /* SET without the authentication key */
                Pb n = {}, r = {};
                network_pb(&n, false);
                pb_uint(&n, 5, 1);
                pb_bytes(&n, 6, k16, sizeof(k16));
                put_request(&r, 10, &n, -1);
                assert_raw_refused(&r, MGMT_OP_NETWORK_PUT, MGMT_INVALID, "network.auth_key");
        }
        {
                /* a key without SET is not silently ignored */
                Pb n = {}, r = {};
                network_pb(&n, false);
                pb_bytes(&n, 7, k16, sizeof(k16));
                put_request(&r, 10, &n, -1);
                assert_raw_refused(&r, MGMT_OP_NETWORK_PUT, MGMT_INVALID, "network.auth_key");
        }
        {
                /* half a pool */
                Pb n = {}, r = {};
                network_pb(&n, true);
                pb_uint(&n, 9, 100);
                put_request(&r, 10, &n, -1);
                assert_raw_refused(&r, MGMT_OP_NETWORK_PUT, MGMT_INVALID, "network.pool_last");
        }
        {
                /* unknown put mode */
                Pb n = {}, r = {};
                network_pb(&n, true);
                put_request(&r, 10, &n, 5);
                assert_raw_refused(&r, MGMT_OP_NETWORK_PUT, MGMT_INVALID, "mode");
        }
        {
                /* no network at all */
                Pb put = {}, r = {};
                pb_uint(&put, 2, 0);
                pb_msg(&r, 10, &put);
                assert_raw_refused(&r, MGMT_OP_NETWORK_PUT, MGMT_INVALID, "network");
        }
}

static void test_vendor_rules(void **state) {
        _cleanup_(mgmt_request_freep) MgmtRequest *q = new_request(MGMT_OP_VENDOR_PUT);
        MgmtVendor *v = &q->vendor_put.vendor;

#define RESET() good_vendor(v)
        RESET();
        strcpy(v->name, "a/b");
        assert_refused(q, MGMT_INVALID, "vendor.name");
        RESET();
        v->key_kind = MGMT_VENDOR_KEY_NONE;
        assert_refused(q, MGMT_INVALID, "vendor.key_kind");
        RESET();
        memset(v->key + 16, 0xff, 16);
        assert_refused(q, MGMT_INVALID, "vendor.key");
        RESET();
        v->enroll_kind = MGMT_ENROLL_NONE;
        assert_refused(q, MGMT_INVALID, "vendor.enroll_prefix");
        RESET();
        v->enroll_prefix_len = 0;
        assert_refused(q, MGMT_INVALID, "vendor.enroll_prefix");
        RESET();
        v->enroll_kind = MGMT_ENROLL_AUTHENTICATOR;
        v->enroll_method = 3;
        v->enroll_prefix_len = 17;
        assert_refused(q, MGMT_INVALID, "vendor.enroll_prefix");
        v->enroll_prefix_len = 16;
        v->enroll_method = 1;
        assert_refused(q, MGMT_INVALID, "vendor.enroll_method");
        RESET();
        v->enroll_method = 2;
        assert_refused(q, MGMT_INVALID, "vendor.enroll_method");
        RESET();
        v->default_network[0] = '\0';
        assert_refused(q, MGMT_INVALID, "vendor.default_network");
        RESET();
        strcpy(v->default_network, "no spaces");
        assert_refused(q, MGMT_INVALID, "vendor.default_network");
        RESET();
        v->enroll_prefix_len = PROV_UID_MAX;
        {
                MgmtError e;
                assert_int_equal(roundtrip(q, NULL, &e), 0);
        }
#undef RESET
        {
                /* a key with KEEP, and an unknown key kind */
                uint8_t k[32];
                Pb o = {}, r = {};
                fill_key(k, sizeof(k), 3);
                pb_str(&o, 1, "acme");
                pb_bytes(&o, 4, k, sizeof(k));
                put_request(&r, 20, &o, -1);
                assert_raw_refused(&r, MGMT_OP_VENDOR_PUT, MGMT_INVALID, "vendor.key");
                o = (Pb){};
                r = (Pb){};
                pb_str(&o, 1, "acme");
                pb_uint(&o, 3, 9);
                put_request(&r, 20, &o, -1);
                assert_raw_refused(&r, MGMT_OP_VENDOR_PUT, MGMT_INVALID, "vendor.key_kind");
                /* a prefix longer than any UID */
                uint8_t big[PROV_UID_MAX + 1] = {};
                o = (Pb){};
                r = (Pb){};
                pb_str(&o, 1, "acme");
                pb_uint(&o, 5, 1);
                pb_bytes(&o, 6, big, sizeof(big));
                pb_str(&o, 8, "plant1");
                put_request(&r, 20, &o, -1);
                assert_raw_refused(&r, MGMT_OP_VENDOR_PUT, MGMT_TOO_LARGE, "vendor.enroll_prefix");
        }
}

static void test_device_rules(void **state) {
        _cleanup_(mgmt_request_freep) MgmtRequest *q = new_request(MGMT_OP_DEVICE_PUT);
        MgmtDevice *d = &q->device_put.device;
        MgmtError e;

#define RESET() good_device(d)
        RESET();
        d->uid_len = 0;
        assert_refused(q, MGMT_INVALID, "device.uid");
        RESET();
        d->uid_len = PROV_UID_MAX;
        assert_int_equal(roundtrip(q, NULL, &e), 0);
        RESET();
        d->label[0] = '\t';
        assert_refused(q, MGMT_INVALID, "device.label");
        RESET();
        strcpy(d->vendor, "ac me");
        assert_refused(q, MGMT_INVALID, "device.vendor");
        RESET();
        strcpy(d->network, "net#1");
        assert_refused(q, MGMT_INVALID, "device.network");
        RESET();
        d->method = 2;
        assert_refused(q, MGMT_INVALID, "device.method");
        RESET();
        d->method = 7;
        assert_refused(q, MGMT_INVALID, "device.method");
        RESET();
        d->method = 3; /* a 16-byte UID is not the extended layout */
        assert_refused(q, MGMT_INVALID, "device.uid");
        d->uid_len = PROV_EXTENDED_UID_SIZE;
        d->uid[0] = 0x01;
        d->uid[17] = 0x01;
        assert_int_equal(roundtrip(q, NULL, &e), 0);
        RESET();
        memset(d->factory_key, 0, 16);
        assert_refused(q, MGMT_INVALID, "device.factory_key");
        RESET();
        d->factory_key_update = MGMT_KEY_KEEP; /* create, no key, no vendor */
        assert_refused(q, MGMT_INVALID, "device.factory_key");
        strcpy(d->vendor, "acme"); /* the vendor's key will do */
        assert_int_equal(roundtrip(q, NULL, &e), 0);
        d->vendor[0] = '\0';
        q->device_put.mode = MGMT_PUT_UPDATE; /* may keep the stored key */
        assert_int_equal(roundtrip(q, NULL, &e), 0);
        d->method = 0; /* unsecured needs no key */
        q->device_put.mode = MGMT_PUT_CREATE;
        assert_int_equal(roundtrip(q, NULL, &e), 0);
        RESET();
        d->has_node_address = true;
        d->node_address = 0;
        assert_refused(q, MGMT_INVALID, "device.node_address");
        d->node_address = 0x80000000; /* multicast */
        assert_refused(q, MGMT_INVALID, "device.node_address");
        d->node_address = 0xFFFFFFFE;
        assert_refused(q, MGMT_INVALID, "device.node_address");
        RESET();
        d->has_role = true;
        d->role = 0x03;
        assert_refused(q, MGMT_INVALID, "device.role");
        RESET();
        d->n_user_items = 1;
        d->user_items[0] = (ProvUserItem){ .id = 127, .type = PROV_USER_INT };
        assert_refused(q, MGMT_INVALID, "device.user_items[0]");
        d->n_user_items = 2;
        d->user_items[0] = (ProvUserItem){ .id = 128, .type = PROV_USER_INT };
        d->user_items[1] = (ProvUserItem){ .id = 128, .type = PROV_USER_BOOL };
        assert_refused(q, MGMT_INVALID, "device.user_items[1]");
        d->n_user_items = 1;
        d->user_items[0] =
                (ProvUserItem){ .id = 129, .type = PROV_USER_TEXT, .len = 2, .data = { 0xc3, 0x28 } };
        assert_refused(q, MGMT_INVALID, "device.user_items[0]");
        d->user_items[0] = (ProvUserItem){ .id = 129, .type = PROV_USER_BYTES, .len = PROV_USER_STRING_MAX };
        assert_int_equal(roundtrip(q, NULL, &e), 0);
        d->n_user_items = PROV_PARAMS_USER_MAX;
        for (unsigned i = 0; i < PROV_PARAMS_USER_MAX; i++)
                d->user_items[i] = (ProvUserItem){ .id = (uint8_t)(128 + i), .type = PROV_USER_BOOL };
        assert_int_equal(roundtrip(q, NULL, &e), 0);
#undef RESET
}

static void test_device_rules_raw(void **state) {
        uint8_t uid80[PROV_UID_MAX + 1] = { 1 }, s95[PROV_USER_STRING_MAX + 1] = {};
        Pb d, r, it;

        /* an 80-byte UID is over the cap */
        d = (Pb){};
        r = (Pb){};
        pb_bytes(&d, 1, uid80, sizeof(uid80));
        pb_uint(&d, 5, 0);
        pb_str(&d, 4, "plant1");
        put_request(&r, 30, &d, -1);
        assert_raw_refused(&r, MGMT_OP_DEVICE_PUT, MGMT_TOO_LARGE, "device.uid");

        /* a 65-byte label */
        d = (Pb){};
        r = (Pb){};
        pb_bytes(&d, 1, UID, sizeof(UID));
        pb_str(&d, 2, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        pb_uint(&d, 5, 0);
        put_request(&r, 30, &d, -1);
        assert_raw_refused(&r, MGMT_OP_DEVICE_PUT, MGMT_TOO_LARGE, "device.label");

        /* role beyond a byte */
        d = (Pb){};
        r = (Pb){};
        pb_bytes(&d, 1, UID, sizeof(UID));
        pb_uint(&d, 5, 0);
        pb_uint(&d, 9, 0x111);
        put_request(&r, 30, &d, -1);
        assert_raw_refused(&r, MGMT_OP_DEVICE_PUT, MGMT_INVALID, "device.role");

        /* a user item without a value, and one with 95 bytes */
        d = (Pb){};
        r = (Pb){};
        it = (Pb){};
        pb_bytes(&d, 1, UID, sizeof(UID));
        pb_uint(&d, 5, 0);
        pb_uint(&it, 1, 140);
        pb_msg(&d, 10, &it);
        put_request(&r, 30, &d, -1);
        assert_raw_refused(&r, MGMT_OP_DEVICE_PUT, MGMT_INVALID, "device.user_items[0]");
        d = (Pb){};
        r = (Pb){};
        it = (Pb){};
        pb_bytes(&d, 1, UID, sizeof(UID));
        pb_uint(&d, 5, 0);
        pb_uint(&it, 1, 140);
        pb_bytes(&it, 3, s95, sizeof(s95));
        pb_msg(&d, 10, &it);
        put_request(&r, 30, &d, -1);
        assert_raw_refused(&r, MGMT_OP_DEVICE_PUT, MGMT_TOO_LARGE, "device.user_items[0]");

        /* 41 user items */
        d = (Pb){};
        r = (Pb){};
        pb_bytes(&d, 1, UID, sizeof(UID));
        pb_uint(&d, 5, 0);
        for (unsigned i = 0; i <= PROV_PARAMS_USER_MAX; i++) {
                it = (Pb){};
                pb_uint(&it, 1, 128 + i);
                pb_uint(&it, 5, 1);
                pb_msg(&d, 10, &it);
        }
        put_request(&r, 30, &d, -1);
        assert_raw_refused(&r, MGMT_OP_DEVICE_PUT, MGMT_TOO_LARGE, "device.user_items");

        /* a factory key of 31 bytes */
        d = (Pb){};
        r = (Pb){};
        pb_bytes(&d, 1, UID, sizeof(UID));
        pb_uint(&d, 6, 1);
        pb_bytes(&d, 7, s95, 31);
        put_request(&r, 30, &d, -1);
        assert_raw_refused(&r, MGMT_OP_DEVICE_PUT, MGMT_INVALID, "device.factory_key");

        /* device_get without a uid */
        r = (Pb){};
        d = (Pb){};
        pb_msg(&r, 31, &d);
        assert_raw_refused(&r, MGMT_OP_DEVICE_GET, MGMT_INVALID, "uid");
}

static void test_query_rules(void **state) {
        _cleanup_(mgmt_request_freep) MgmtRequest *l = new_request(MGMT_OP_NETWORK_LIST);
        _cleanup_(mgmt_request_freep) MgmtRequest *f = new_request(MGMT_OP_DEVICE_COUNT);
        _cleanup_(mgmt_request_freep) MgmtRequest *a = new_request(MGMT_OP_AUDIT_QUERY);
        _cleanup_(mgmt_request_freep) MgmtRequest *h = new_request(MGMT_OP_DEVICE_HISTORY);
        _cleanup_(mgmt_request_freep) MgmtRequest *s = new_request(MGMT_OP_STATS);
        _cleanup_(mgmt_request_freep) MgmtRequest *g = new_request(MGMT_OP_VENDOR_GET);
        Pb r, b;

        l->list.limit = MGMT_PAGE_MAX + 1;
        assert_refused(l, MGMT_TOO_LARGE, "limit");
        l->list.limit = MGMT_PAGE_MAX;
        strcpy(l->list.after, "x y");
        assert_refused(l, MGMT_INVALID, "after");

        strcpy(f->filter.network, "a b");
        assert_refused(f, MGMT_INVALID, "network");
        f->filter.network[0] = '\0';
        strcpy(f->filter.vendor, "é");
        assert_refused(f, MGMT_INVALID, "vendor");

        a->audit.since = 2000;
        a->audit.until = 1000;
        assert_refused(a, MGMT_INVALID, "until_usec");
        a->audit.until = 0; /* open end */
        a->audit.after_id = -5;
        assert_refused(a, MGMT_INVALID, "after_id");
        a->audit.after_id = 0;
        strcpy(a->audit.result, "ok\n");
        assert_refused(a, MGMT_INVALID, "result");
        a->audit.result[0] = '\0';
        a->audit.limit = 100000;
        assert_refused(a, MGMT_TOO_LARGE, "limit");

        h->device.limit = MGMT_PAGE_MAX + 1;
        assert_refused(h, MGMT_TOO_LARGE, "limit");
        h->device.limit = 1;
        h->device.after_id = -1;
        assert_refused(h, MGMT_INVALID, "after_id");
        h->device.after_id = 0;
        h->device.uid_len = 0;
        assert_refused(h, MGMT_INVALID, "uid");

        s->stats.since = 10;
        s->stats.until = 5;
        assert_refused(s, MGMT_INVALID, "until_usec");

        g->name[0] = '\0';
        assert_refused(g, MGMT_INVALID, "name");

        /* unknown enum values in queries */
        r = (Pb){};
        b = (Pb){};
        pb_uint(&b, 3, 9);
        pb_msg(&r, 34, &b);
        assert_raw_refused(&r, MGMT_OP_DEVICE_COUNT, MGMT_INVALID, "state");
        r = (Pb){};
        b = (Pb){};
        pb_uint(&b, 4, 42);
        pb_msg(&r, 40, &b);
        assert_raw_refused(&r, MGMT_OP_AUDIT_QUERY, MGMT_INVALID, "kind");
        r = (Pb){};
        b = (Pb){};
        uint8_t big[PROV_UID_MAX + 1] = {};
        pb_bytes(&b, 4, big, sizeof(big));
        pb_msg(&r, 32, &b);
        assert_raw_refused(&r, MGMT_OP_DEVICE_LIST, MGMT_TOO_LARGE, "after_uid");
        r = (Pb){};
        b = (Pb){};
        pb_bytes(&b, 1, big, 4);
        pb_uint(&b, 3, UINT64_MAX); /* HistoryRequest.after_id = -1 */
        pb_msg(&r, 38, &b);
        assert_raw_refused(&r, MGMT_OP_DEVICE_HISTORY, MGMT_INVALID, "after_id");
}

static void test_envelope(void **state) {
        _cleanup_(mgmt_request_freep) MgmtRequest *q = NULL;
        _cleanup_free_ uint8_t *big = NULL;
        char id[MGMT_REQUEST_ID_MAX + 2];
        MgmtError e;
        Pb r, b;

        /* not protobuf at all */
        static const uint8_t garbage[] = {
                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01
        };
        assert_int_equal(mgmt_request_decode(garbage, sizeof(garbage), MGMT_OP_STATUS, &q, &e), -EBADMSG);
        assert_int_equal(e.code, MGMT_MALFORMED);
        assert_null(q);

        /* the body does not match the topic; the id is still echoed */
        r = (Pb){};
        b = (Pb){};
        pb_str(&r, 1, "abc-1");
        pb_msg(&r, 42, &b);
        assert_int_equal(mgmt_request_decode(r.b, r.n, MGMT_OP_NETWORK_DELETE, &q, &e), -EBADMSG);
        assert_int_equal(e.code, MGMT_MALFORMED);
        assert_string_equal(e.field, "body");
        assert_string_equal(e.request_id, "abc-1");
        assert_non_null(strstr(e.message, "status"));

        /* no body */
        r = (Pb){};
        pb_str(&r, 1, "abc-2");
        assert_int_equal(mgmt_request_decode(r.b, r.n, MGMT_OP_STATUS, &q, &e), -EBADMSG);
        assert_string_equal(e.field, "body");
        assert_string_equal(e.request_id, "abc-2");

        /* request ids: printable, at most MGMT_REQUEST_ID_MAX */
        memset(id, 'x', sizeof(id) - 1);
        id[sizeof(id) - 1] = '\0';
        r = (Pb){};
        b = (Pb){};
        pb_str(&r, 1, id);
        pb_msg(&r, 42, &b);
        assert_int_equal(mgmt_request_decode(r.b, r.n, MGMT_OP_STATUS, &q, &e), -EMSGSIZE);
        assert_int_equal(e.code, MGMT_TOO_LARGE);
        assert_string_equal(e.field, "request_id");
        assert_string_equal(e.request_id, "");
        r = (Pb){};
        pb_str(&r, 1, "a\x01");
        pb_msg(&r, 42, &b);
        assert_int_equal(mgmt_request_decode(r.b, r.n, MGMT_OP_STATUS, &q, &e), -EINVAL);
        assert_string_equal(e.field, "request_id");
        id[MGMT_REQUEST_ID_MAX] = '\0';
        r = (Pb){};
        pb_str(&r, 1, id);
        pb_msg(&r, 42, &b);
        assert_int_equal(mgmt_request_decode(r.b, r.n, MGMT_OP_STATUS, &q, &e), 0);
        assert_string_equal(q->id, id);
        q = mgmt_request_free(q);

        /* an unknown op */
        assert_int_equal(mgmt_request_decode(r.b, r.n, _MGMT_OP_MAX, &q, &e), -EOPNOTSUPP);
        assert_int_equal(e.code, MGMT_UNSUPPORTED);

        /* over MGMT_REQUEST_MAX: refused before unpacking, with the id read from the front */
        big = calloc(1, MGMT_REQUEST_MAX + 1);
        assert_non_null(big);
        big[0] = 0x0a; /* field 1, length-delimited */
        big[1] = 3;
        memcpy(big + 2, "big", 3);
        assert_int_equal(mgmt_request_decode(big, MGMT_REQUEST_MAX + 1, MGMT_OP_DEVICE_BULK_PUT, &q, &e),
                         -EMSGSIZE);
        assert_int_equal(e.code, MGMT_TOO_LARGE);
        assert_string_equal(e.request_id, "big");

        /* empty bytes: a request without a body */
        assert_int_equal(mgmt_request_decode(NULL, 0, MGMT_OP_STATUS, &q, &e), -EBADMSG);
        assert_string_equal(e.field, "body");
}

/* ---- responses ---- */

static bool contains(const uint8_t *buf, size_t n, const uint8_t *needle, size_t m) {
        for (size_t i = 0; i + m <= n; i++)
                if (memcmp(buf + i, needle, m) == 0)
                        return true;
        return false;
}

static void test_response_no_keys(void **state) {
        _cleanup_(mgmt_response_freep) MgmtResponse *d = NULL;
        _cleanup_free_ uint8_t *buf = NULL;
        MgmtResponse r;
        size_t n;

        mgmt_response_init(&r, MGMT_OP_NETWORK_GET, "q9");
        good_network(&r.network);
        strcpy(r.network.enc_key_fingerprint, "sha256:0011223344556677");
        strcpy(r.network.auth_key_fingerprint, "sha256:8899aabbccddeeff");
        r.network.created = 5;
        r.created = true;
        assert_int_equal(mgmt_response_encode(&r, &buf, &n), 0);
        /* the key bytes are in the struct but never on the wire */
        assert_false(contains(buf, n, r.network.enc_key, PROV_KEY_SIZE));
        assert_false(contains(buf, n, r.network.auth_key, PROV_KEY_SIZE));
        assert_int_equal(mgmt_response_decode(buf, n, MGMT_OP_NETWORK_GET, &d), 0);
        assert_string_equal(d->id, "q9");
        assert_int_equal(d->error.code, MGMT_OK);
        assert_true(d->created);
        assert_string_equal(d->network.name, "plant1");
        assert_string_equal(d->network.enc_key_fingerprint, "sha256:0011223344556677");
        assert_string_equal(d->network.auth_key_fingerprint, "sha256:8899aabbccddeeff");
        assert_int_equal(d->network.created, 5);
        for (size_t i = 0; i < PROV_KEY_SIZE; i++)
                assert_int_equal(d->network.enc_key[i], 0);
        d = mgmt_response_free(d);

        /* the body belongs to another op */
        assert_int_equal(mgmt_response_decode(buf, n, MGMT_OP_DEVICE_GET, &d), -EBADMSG);
        buf = mfree_u8(buf);

        MgmtResponse dr;
        mgmt_response_init(&dr, MGMT_OP_DEVICE_PUT, "q10");
        good_device(&dr.device);
        dr.device.has_factory_key = true;
        strcpy(dr.device.factory_key_fingerprint, "sha256:feedfeedfeedfeed");
        dr.device.state = MGMT_DEVICE_SENT;
        assert_int_equal(mgmt_response_encode(&dr, &buf, &n), 0);
        assert_false(contains(buf, n, dr.device.factory_key, 16));
        assert_int_equal(mgmt_response_decode(buf, n, MGMT_OP_DEVICE_PUT, &d), 0);
        assert_true(d->device.has_factory_key);
        assert_string_equal(d->device.factory_key_fingerprint, "sha256:feedfeedfeedfeed");
        assert_int_equal(d->device.state, MGMT_DEVICE_SENT);
        assert_memory_equal(d->device.uid, UID, sizeof(UID));
}

static void test_response_error_and_lists(void **state) {
        _cleanup_(mgmt_response_freep) MgmtResponse *d = NULL;
        _cleanup_free_ uint8_t *buf = NULL;
        MgmtResponse r;
        size_t n;

        mgmt_response_init(&r, MGMT_OP_DEVICE_BULK_PUT, "bulk-1");
        assert_int_equal(
                mgmt_error_set(&r.error, MGMT_INVALID, "devices[3].node_address", "taken by %s", "x"),
                -EINVAL);
        mgmt_error_add_item(&r.error, 3, MGMT_INVALID, "devices[3].node_address", "taken by x");
        mgmt_error_add_item(&r.error, 9, MGMT_EXISTS, "devices[9].uid", "exists");
        assert_int_equal(mgmt_response_encode(&r, &buf, &n), 0);
        assert_int_equal(mgmt_response_decode(buf, n, MGMT_OP_DEVICE_BULK_PUT, &d), 0);
        assert_string_equal(d->id, "bulk-1");
        assert_int_equal(d->error.code, MGMT_INVALID);
        assert_string_equal(d->error.field, "devices[3].node_address");
        assert_string_equal(d->error.message, "taken by x");
        assert_int_equal(d->error.n_items, 2);
        assert_int_equal(d->error.items[1].index, 9);
        assert_int_equal(d->error.items[1].code, MGMT_EXISTS);
        d = mgmt_response_free(d);
        buf = mfree_u8(buf);

        /* an event list */
        mgmt_response_init(&r, MGMT_OP_AUDIT_QUERY, "a");
        r.events.items = new0(MgmtEvent, 2);
        assert_non_null(r.events.items);
        r.events.n = 2;
        r.events.more = true;
        r.events.items[0] = (MgmtEvent){ .id = 5,
                                         .time = 77,
                                         .kind = MGMT_EVENT_NACK,
                                         .method = 1,
                                         .nack_reason = 0,
                                         .uid_len = 2,
                                         .uid = { 1, 2 } };
        strcpy(r.events.items[0].result, "not_authorized");
        r.events.items[1] = (MgmtEvent){ .id = 6, .kind = MGMT_EVENT_ACK, .method = -1, .nack_reason = -1 };
        assert_int_equal(mgmt_response_encode(&r, &buf, &n), 0);
        mgmt_response_done(&r);
        assert_int_equal(mgmt_response_decode(buf, n, MGMT_OP_AUDIT_QUERY, &d), 0);
        assert_int_equal(d->events.n, 2);
        assert_true(d->events.more);
        assert_int_equal(d->events.items[0].id, 5);
        assert_int_equal(d->events.items[0].nack_reason, 0);
        assert_string_equal(d->events.items[0].result, "not_authorized");
        assert_int_equal(d->events.items[1].method, -1);
        assert_int_equal(d->events.items[1].nack_reason, -1);
        d = mgmt_response_free(d);
        buf = mfree_u8(buf);

        /* stats */
        mgmt_response_init(&r, MGMT_OP_STATS, "s");
        r.stats.events_total = 10;
        r.stats.by_kind[MGMT_EVENT_ACK] = 4;
        r.stats.n_by_result = 1;
        strcpy(r.stats.by_result[0].name, "ok");
        r.stats.by_result[0].count = 4;
        r.stats.by_nack_reason[1] = 2;
        r.stats.routes = new0(MgmtRouteCount, 1);
        assert_non_null(r.stats.routes);
        r.stats.n_routes = 1;
        strcpy(r.stats.routes[0].gateway, "gw-a");
        strcpy(r.stats.routes[0].sink, "sink0");
        r.stats.routes[0].acks = 4;
        r.stats.devices_by_state[MGMT_DEVICE_PROVISIONED] = 3;
        r.stats.has_counters = true;
        r.stats.counters.sessions_live = 2;
        assert_int_equal(mgmt_response_encode(&r, &buf, &n), 0);
        mgmt_response_done(&r);
        assert_int_equal(mgmt_response_decode(buf, n, MGMT_OP_STATS, &d), 0);
        assert_int_equal(d->stats.events_total, 10);
        assert_int_equal(d->stats.by_kind[MGMT_EVENT_ACK], 4);
        assert_int_equal(d->stats.by_nack_reason[1], 2);
        assert_string_equal(d->stats.by_result[0].name, "ok");
        assert_int_equal(d->stats.n_routes, 1);
        assert_string_equal(d->stats.routes[0].gateway, "gw-a");
        assert_int_equal(d->stats.routes[0].acks, 4);
        assert_int_equal(d->stats.devices_by_state[MGMT_DEVICE_PROVISIONED], 3);
        assert_true(d->stats.has_counters);
        assert_int_equal(d->stats.counters.sessions_live, 2);
}

/* ---- events, status, topics ---- */

static void test_event_and_status(void **state) {
        uint8_t buf[MGMT_STATUS_MAX];
        static MgmtStatus s, s2;
        MgmtEvent e = { .time = 123,
                        .kind = MGMT_EVENT_DATA,
                        .method = 1,
                        .nack_reason = -1,
                        .uid_len = 3,
                        .uid = { 9, 8, 7 },
                        .network_address = 0x1012EE,
                        .source_address = 5,
                        .node_address = 6,
                        .session_id = 7,
                        .copies = 2,
                        .attempt = 1 };
        MgmtEvent e2;
        int n;

        strcpy(e.bearer, "mqtt");
        strcpy(e.gateway, "gw-a");
        strcpy(e.sink, "sink0");
        strcpy(e.network, "plant1");
        strcpy(e.result, "ok");
        n = mgmt_event_encode(&e, buf, sizeof(buf));
        assert_true(n > 0 && n <= (int)MGMT_EVENT_MAX);
        assert_int_equal(mgmt_event_encode(&e, buf, 4), -EMSGSIZE);
        assert_int_equal(mgmt_event_decode(buf, (size_t)n, &e2), 0);
        assert_int_equal(e2.kind, MGMT_EVENT_DATA);
        assert_int_equal(e2.uid_len, 3);
        assert_string_equal(e2.gateway, "gw-a");
        assert_string_equal(e2.bearer, "mqtt");
        assert_int_equal(e2.network_address, 0x1012EE);
        assert_int_equal(e2.nack_reason, -1);
        assert_int_equal(e2.copies, 2);
        assert_int_equal(e2.id, 0);

        s.online = true;
        strcpy(s.instance, "site-1");
        strcpy(s.version, "0.1.0");
        s.uptime = 42;
        strcpy(s.broker_host, "127.0.0.1");
        s.broker_connected = true;
        s.gateways_online = 3;
        s.n_sinks = 1;
        strcpy(s.sinks[0].name, "sink0");
        strcpy(s.sinks[0].device, "/dev/ttyACM0");
        s.sinks[0].online = true;
        s.has_counters = true;
        s.counters.starts = 11;
        n = mgmt_status_encode(&s, buf, sizeof(buf));
        assert_true(n > 0);
        assert_int_equal(mgmt_status_decode(buf, (size_t)n, &s2), 0);
        assert_true(s2.online);
        assert_string_equal(s2.instance, "site-1");
        assert_int_equal(s2.uptime, 42);
        assert_int_equal(s2.gateways_online, 3);
        assert_int_equal(s2.n_sinks, 1);
        assert_string_equal(s2.sinks[0].device, "/dev/ttyACM0");
        assert_int_equal(s2.counters.starts, 11);

        /* the last will: offline, just who and which version */
        MgmtStatus will = { .online = false };
        strcpy(will.instance, "site-1");
        strcpy(will.version, "0.1.0");
        n = mgmt_status_encode(&will, buf, sizeof(buf));
        assert_true(n > 0);
        assert_int_equal(mgmt_status_decode(buf, (size_t)n, &s2), 0);
        assert_false(s2.online);
        assert_false(s2.has_counters);
        assert_string_equal(s2.instance, "site-1");
}

static void test_topics(void **state) {
        char t[MGMT_TOPIC_BUFFER_SIZE];
        MgmtOp op;

        assert_int_equal(mgmt_topic_request("site-1", MGMT_OP_DEVICE_BULK_PUT, t, sizeof(t)), 0);
        assert_string_equal(t, "meshprov/v1/site-1/request/device_bulk_put");
        assert_int_equal(mgmt_topic_parse_request(t, "site-1", &op), 1);
        assert_int_equal(op, MGMT_OP_DEVICE_BULK_PUT);
        assert_int_equal(mgmt_topic_parse_request(t, "site-2", &op), 0);
        assert_int_equal(mgmt_topic_parse_request(t, "site", &op), 0);
        assert_int_equal(mgmt_topic_parse_request("meshprov/v1/site-1/request/drop_tables", "site-1", &op),
                         -EOPNOTSUPP);
        assert_int_equal(mgmt_topic_parse_request("meshprov/v1/site-1/response/status", "site-1", &op), 0);
        assert_int_equal(mgmt_topic_response("site-1", MGMT_OP_STATUS, t, sizeof(t)), 0);
        assert_string_equal(t, "meshprov/v1/site-1/response/status");
        assert_int_equal(mgmt_topic_event("site-1", t, sizeof(t)), 0);
        assert_string_equal(t, "meshprov/v1/site-1/event/provisioning");
        assert_int_equal(mgmt_topic_status("site-1", t, sizeof(t)), 0);
        assert_string_equal(t, "meshprov/v1/site-1/status");
        assert_int_equal(mgmt_topic_request_filter("site-1", t, sizeof(t)), 0);
        assert_string_equal(t, "meshprov/v1/site-1/request/+");
        assert_int_equal(mgmt_topic_status("a/+", t, sizeof(t)), -EINVAL);
        assert_int_equal(mgmt_topic_status("site-1", t, 10), -EMSGSIZE);

        for (MgmtOp o = 0; o < _MGMT_OP_MAX; o++)
                assert_int_equal(mgmt_op_from_string(mgmt_op_to_string(o)), o);
        for (MgmtCode c = 0; c < _MGMT_CODE_MAX; c++)
                assert_int_equal(mgmt_code_from_string(mgmt_code_to_string(c)), c);
        assert_null(mgmt_op_to_string(_MGMT_OP_MAX));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_roundtrip_puts),
                cmocka_unit_test(test_roundtrip_queries),
                cmocka_unit_test(test_bulk),
                cmocka_unit_test(test_bulk_caps),
                cmocka_unit_test(test_network_rules),
                cmocka_unit_test(test_network_rules_raw),
                cmocka_unit_test(test_vendor_rules),
                cmocka_unit_test(test_device_rules),
                cmocka_unit_test(test_device_rules_raw),
                cmocka_unit_test(test_query_rules),
                cmocka_unit_test(test_envelope),
                cmocka_unit_test(test_response_no_keys),
                cmocka_unit_test(test_response_error_and_lists),
                cmocka_unit_test(test_event_and_status),
                cmocka_unit_test(test_topics),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
