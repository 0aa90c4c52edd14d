/* SPDX-License-Identifier: Apache-2.0 */
/* The CBOR parameter map: every vector encoded byte for byte and decoded back; each node rule of the decoder
 * (ref-provisioning §11-§12) in both directions; validity rules; the exact size limits. */
#include <stdio.h>

#include "prov-vectors.h"
#include "provdata.h"
#include "test-helpers.h"

/* A valid map body (ids 0-3) from the vectors: 4 pairs. */
#define K0   "0050100f0e0d0c0b0a090807060504030201"
#define K1   "01500102030405060708090a0b0c0d0e0f10"
#define NA   "021a00223bad"
#define CH   "0307"
#define BASE K0 K1 NA CH

static void params_from_vector(const ProvVector *v, ProvParams *p) {
        memset(p, 0, sizeof(*p));
        for (size_t i = 0; i < v->n_items; i++) {
                const ProvVectorItem *it = &v->items[i];
                ProvUserItem *u;

                switch (it->id) {
                case 0:
                        assert_int_equal(test_unhex(it->hex, p->enc_key, sizeof(p->enc_key)), 16);
                        continue;
                case 1:
                        assert_int_equal(test_unhex(it->hex, p->auth_key, sizeof(p->auth_key)), 16);
                        continue;
                case 2:
                        p->network_address = (uint32_t)it->integer;
                        continue;
                case 3:
                        p->channel = (uint32_t)it->integer;
                        continue;
                case 4:
                        p->has_node_address = true;
                        p->node_address = (uint32_t)it->integer;
                        continue;
                case 5:
                        p->has_role = true;
                        assert_int_equal(test_unhex(it->hex, &p->role, 1), 1);
                        continue;
                }
                assert_true(it->id >= 128 && it->id <= 255);
                assert_true(p->n_user_items < PROV_PARAMS_USER_MAX);
                u = &p->user_items[p->n_user_items++];
                u->id = (uint8_t)it->id;
                switch (it->kind) {
                case PROV_VECTOR_INT:
                        u->type = PROV_USER_INT;
                        u->integer = it->integer;
                        break;
                case PROV_VECTOR_BOOL:
                        u->type = PROV_USER_BOOL;
                        u->boolean = it->integer != 0;
                        break;
                case PROV_VECTOR_BYTES:
                        u->type = PROV_USER_BYTES;
                        u->len = (uint8_t)test_unhex(it->hex, u->data, sizeof(u->data));
                        break;
                case PROV_VECTOR_TEXT:
                        u->type = PROV_USER_TEXT;
                        assert_true(it->text_len <= sizeof(u->data));
                        memcpy(u->data, it->text, it->text_len);
                        u->len = (uint8_t)it->text_len;
                        break;
                }
        }
}

static void assert_params_equal(const ProvParams *a, const ProvParams *b) {
        assert_memory_equal(a->enc_key, b->enc_key, 16);
        assert_memory_equal(a->auth_key, b->auth_key, 16);
        assert_int_equal(a->network_address, b->network_address);
        assert_int_equal(a->channel, b->channel);
        assert_int_equal(a->has_node_address, b->has_node_address);
        if (a->has_node_address)
                assert_int_equal(a->node_address, b->node_address);
        assert_int_equal(a->has_role, b->has_role);
        if (a->has_role)
                assert_int_equal(a->role, b->role);
        assert_int_equal(a->n_user_items, b->n_user_items);
        for (size_t i = 0; i < a->n_user_items; i++) {
                const ProvUserItem *x = &a->user_items[i], *y = &b->user_items[i];
                assert_int_equal(x->id, y->id);
                assert_int_equal(x->type, y->type);
                switch (x->type) {
                case PROV_USER_INT:
                        assert_int_equal(x->integer, y->integer);
                        break;
                case PROV_USER_BOOL:
                        assert_int_equal(x->boolean, y->boolean);
                        break;
                case PROV_USER_BYTES:
                case PROV_USER_TEXT:
                        assert_int_equal(x->len, y->len);
                        assert_memory_equal(x->data, y->data, x->len);
                        break;
                case _PROV_USER_TYPE_MAX:
                case _PROV_USER_TYPE_INVALID:
                        fail();
                }
        }
}

/* Hex literals may contain spaces for readability. */
static int decode_hex(const char *hex, ProvParams *p) {
        static uint8_t buf[1024];
        static char clean[2048];
        size_t k = 0, n = 0;

        for (const char *s = hex; *s; s++)
                if (*s != ' ') {
                        assert_true(k < sizeof(clean) - 1);
                        clean[k++] = *s;
                }
        clean[k] = '\0';
        if (k > 0)
                n = test_unhex(clean, buf, sizeof(buf));
        return provdata_decode(buf, n, p);
}

/* A valid base parameter set (ids 0-3, as in BASE). */
static void base_params(ProvParams *p) {
        assert_int_equal(decode_hex("a4" BASE, p), 0);
}

static ProvUserItem *add_user(ProvParams *p, uint8_t id, ProvUserType type) {
        ProvUserItem *u = &p->user_items[p->n_user_items++];
        memset(u, 0, sizeof(*u));
        u->id = id;
        u->type = type;
        return u;
}

static void test_encode_vectors(void **state) {
        for (size_t i = 0; i < PROV_VECTORS_N; i++) {
                const ProvVector *v = &prov_vectors[i];
                uint8_t buf[256];
                ProvParams p;
                int n;

                params_from_vector(v, &p);
                n = provdata_encode(&p, buf, sizeof(buf));
                assert_int_equal(n, v->cbor_len);
                assert_memory_equal_hex(buf, (size_t)n, v->cbor_hex);
                /* exactly the length is enough, one byte less is not */
                assert_int_equal(provdata_encode(&p, buf, (size_t)n), n);
                assert_int_equal(provdata_encode(&p, buf, (size_t)n - 1), -EMSGSIZE);
        }
}

/* The encoder sorts user ids itself. */
static void test_encode_unsorted_user_items(void **state) {
        const ProvVector *v = NULL;
        uint8_t buf[256];
        ProvParams p;

        for (size_t i = 0; i < PROV_VECTORS_N; i++)
                if (streq(prov_vectors[i].name, "secured_user_specific"))
                        v = &prov_vectors[i];
        assert_non_null(v);
        params_from_vector(v, &p);
        assert_true(p.n_user_items >= 3);
        /* reverse them */
        for (size_t i = 0; i < p.n_user_items / 2; i++) {
                ProvUserItem t = p.user_items[i];
                p.user_items[i] = p.user_items[p.n_user_items - 1 - i];
                p.user_items[p.n_user_items - 1 - i] = t;
        }
        assert_int_equal(provdata_encode(&p, buf, sizeof(buf)), v->cbor_len);
        assert_memory_equal_hex(buf, v->cbor_len, v->cbor_hex);
}

static void test_decode_vectors(void **state) {
        for (size_t i = 0; i < PROV_VECTORS_N; i++) {
                const ProvVector *v = &prov_vectors[i];
                uint8_t buf[256];
                ProvParams expect, p;

                params_from_vector(v, &expect);
                prov_params_normalize(&expect);
                assert_int_equal(decode_hex(v->cbor_hex, &p), 0);
                assert_params_equal(&p, &expect);
                assert_int_equal(provdata_encode(&p, buf, sizeof(buf)), v->cbor_len);
                assert_memory_equal_hex(buf, v->cbor_len, v->cbor_hex);
        }
}

/* The method-3 node decodes CBOR || MIC at apply time: bytes after the map are ignored. */
static void test_decode_trailing_bytes(void **state) {
        ProvParams p;

        assert_int_equal(decode_hex("a4" BASE "2da783889d", &p), 0);
        assert_int_equal(p.channel, 7);
        assert_int_equal(decode_hex("a4" BASE "ff", &p), 0);
        assert_int_equal(decode_hex("a4" BASE "a4", &p), 0);
}

/* Everything the node rejects (ref-provisioning §11-§12), and what the strict node adds. */
static void test_decode_rejects(void **state) {
        static const char *const bad[] = {
                /* not a map / empty / truncated */
                "",
                "84"
                "00"
                "01"
                "02"
                "03",
                "50"
                "100f0e0d0c0b0a090807060504030201",
                "f6",
                "a5" BASE,                /* a pair short */
                "a4" K0 K1 NA "03",       /* value missing */
                "bf" BASE,                /* indefinite map without break */
                "a4" K0 K1 NA "031a0000", /* head cut short */
                /* mandatory ids */
                "a3" K0 K1 NA,
                "a3" K0 K1 CH,
                "a3" K1 NA CH,
                "a3" K0 NA CH,
                "a0",
                "bfff",
                /* reserved and out-of-range ids */
                "a5" BASE "0600",
                "a5" BASE "187f00",
                "a5" BASE "1901000000",
                "a5" BASE "1a0001000000",
                /* keys not unsigned */
                "a5" BASE "2000",
                "a5" BASE "616100",
                "a5" BASE "416100",
                "a5" BASE "f500",
                "a5" BASE "f93c0000",
                "a5" BASE "c10400",
                "a5" BASE "1f00",
                /* key values */
                "a4"
                "004f0f0e0d0c0b0a0908070605040302" K1 NA CH, /* 15 bytes */
                "a4"
                "0051100f0e0d0c0b0a09080706050403020100" K1 NA CH, /* 17 bytes */
                "a4"
                "0070100f0e0d0c0b0a090807060504030201" K1 NA CH, /* text */
                "a4" K0 "0110" NA CH,                            /* integer */
                "a4"
                "005f 48100f0e0d0c0b0a09 680807060504030201 ff" K1 NA CH, /* chunk of another type */
                "a4"
                "005f 5f48100f0e0d0c0b0a09ff 480807060504030201 ff" K1 NA CH, /* nested chunks */
                "a4"
                "005f 48100f0e0d0c0b0a09 49080706050403020100 ff" K1 NA CH, /* 17 in chunks */
                "a4"
                "005f 48100f0e0d0c0b0a09" K1 NA CH, /* unterminated */
                /* network address: bytes, and outside the validity rules (strict node) */
                "a4" K0 K1 "0243112233" CH,
                "a4" K0 K1 "0200" CH,
                "a4" K0 K1 "021a00ffffff" CH,
                "a4" K0 K1 "021a00aaaaaa" CH,
                "a4" K0 K1 "021a00555555" CH,
                "a4" K0 K1 "021b0000000100223bad" CH, /* the node would keep the low 32 bits */
                "a4" K0 K1 "0220" CH,
                /* channel: 512 (node too), 258 and 256 (node keeps the low byte; strict node refuses), 0 */
                "a4" K0 K1 NA "03190200",
                "a4" K0 K1 NA "03190102",
                "a4" K0 K1 NA "03190100",
                "a4" K0 K1 NA "0300",
                "a4" K0 K1 NA "0341 07",
                /* node address */
                "a5" BASE "0400",
                "a5" BASE "041a80000000",
                "a5" BASE "041a80ffffff",
                "a5" BASE "041afffffffe",
                "a5" BASE "041affffffff",
                "a5" BASE "041b0000000100000001", /* the node would keep the low 32 bits */
                "a5" BASE "0441aa",
                /* role: integer, 2 bytes, 0 bytes, text, not in the role list */
                "a5" BASE "0512",
                "a5" BASE "05421212",
                "a5" BASE "0540",
                "a5" BASE "056112",
                "a5" BASE "0541aa",
                "a5" BASE "054141",
                /* user values: null, undefined, array, map, tags, too long, out of int64 */
                "a5" BASE "1880f6",
                "a5" BASE "1880f7",
                "a5" BASE "188080",
                "a5" BASE "18808101",
                "a5" BASE "1880a0",
                "a5" BASE "1880c100",
                "a5" BASE "1880d84040",
                "a5" BASE "18809f01ff",
                "a5" BASE "1880bfff",
                "a5" BASE "18801b8000000000000000",
                "a5" BASE "18803b8000000000000000",
                "a5" BASE "1880f81f",
                "a5" BASE "18801c",
                "a5" BASE "1880ff",
                "a5" BASE "1880fc",
                /* a break where a key belongs in a definite map, or where a value belongs */
                "a5" BASE "ff",
                "bf" BASE "1880ff",
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                ProvParams p;

                memset(&p, 0x5a, sizeof(p));
                int r = decode_hex(bad[i], &p);
                if (r != -EBADMSG)
                        fail_msg("case %zu (%s): expected -EBADMSG, got %d", i, bad[i], r);
                assert_int_equal(((uint8_t *)&p)[0], 0x5a); /* untouched */
        }
}

static void test_decode_long_strings(void **state) {
        char hex[512];
        ProvParams p;

        /* 94 bytes: accepted; 95: refused, byte and text strings alike */
        for (unsigned major = 0x58; major <= 0x78; major += 0x20)
                for (unsigned len = 93; len <= 95; len++) {
                        int k = snprintf(hex, sizeof(hex), "a5" BASE "1880%02x%02x", major, len);
                        for (unsigned j = 0; j < len; j++)
                                k += snprintf(hex + k, sizeof(hex) - (size_t)k, "41");
                        int r = decode_hex(hex, &p);
                        if (len <= PROV_USER_STRING_MAX) {
                                assert_int_equal(r, 0);
                                assert_int_equal(p.n_user_items, 1);
                                assert_int_equal(p.user_items[0].len, len);
                                assert_int_equal(p.user_items[0].type,
                                                 major == 0x58 ? PROV_USER_BYTES : PROV_USER_TEXT);
                        } else
                                assert_int_equal(r, -EBADMSG);
                }
}

/* Edge cases the node accepts. */
static void test_decode_accepts(void **state) {
        ProvParams p;

        /* duplicated id 3: last wins */
        assert_int_equal(decode_hex("a5" BASE "0309", &p), 0);
        assert_int_equal(p.channel, 9);
        /* indefinite-length map */
        assert_int_equal(decode_hex("bf" BASE "ff", &p), 0);
        assert_int_equal(p.network_address, 0x223bad);
        /* non-shortest heads for the map count, an id and a value */
        assert_int_equal(decode_hex("b80400"
                                    "50100f0e0d0c0b0a090807060504030201" K1 NA "18031a00000007",
                                    &p),
                         0);
        assert_int_equal(p.channel, 7);
        assert_int_equal(p.enc_key[0], 0x10);
        /* key in chunks */
        assert_int_equal(decode_hex("a4"
                                    "005f 48100f0e0d0c0b0a09 40 480807060504030201 ff" K1 NA CH,
                                    &p),
                         0);
        assert_memory_equal_hex(p.enc_key, 16, "100f0e0d0c0b0a090807060504030201");
        /* range ends */
        assert_int_equal(decode_hex("a6" K0 K1 "021a00fffffe"
                                    "0318ff"
                                    "041afffffffd"
                                    "054152",
                                    &p),
                         0);
        assert_int_equal(p.network_address, 0xfffffe);
        assert_int_equal(p.channel, 255);
        assert_int_equal(p.node_address, 0xfffffffd);
        assert_int_equal(p.role, 0x52);
        assert_int_equal(decode_hex("a5" K0 K1 "0201"
                                    "0301"
                                    "041a81000000",
                                    &p),
                         0);
        assert_int_equal(p.node_address, 0x81000000);
        assert_int_equal(decode_hex("a5" BASE "041a7fffffff", &p), 0);
        assert_int_equal(p.node_address, 0x7fffffff);
        assert_true(p.has_node_address);
        assert_false(p.has_role);
        /* the full role list */
        static const uint8_t roles[] = { 0x00, 0x10, 0x01, 0x11, 0x02, 0x12, 0x42, 0x52, 0x04 };
        for (size_t i = 0; i < ELEMENTSOF(roles); i++) {
                char hex[128];
                snprintf(hex, sizeof(hex), "a5" BASE "0541%02x", roles[i]);
                assert_int_equal(decode_hex(hex, &p), 0);
                assert_true(p.has_role);
                assert_int_equal(p.role, roles[i]);
        }
}

static void test_decode_user_values(void **state) {
        ProvParams p;

        /* int64 ends, bool false, empty strings */
        assert_int_equal(decode_hex("a9" BASE "18803b7fffffffffffffff"
                                    "18811b7fffffffffffffff"
                                    "1882f4"
                                    "188340"
                                    "188460",
                                    &p),
                         0);
        assert_int_equal(p.n_user_items, 5);
        assert_int_equal(p.user_items[0].type, PROV_USER_INT);
        assert_true(p.user_items[0].integer == INT64_MIN);
        assert_true(p.user_items[1].integer == INT64_MAX);
        assert_int_equal(p.user_items[2].type, PROV_USER_BOOL);
        assert_false(p.user_items[2].boolean);
        assert_int_equal(p.user_items[3].type, PROV_USER_BYTES);
        assert_int_equal(p.user_items[3].len, 0);
        assert_int_equal(p.user_items[4].type, PROV_USER_TEXT);

        /* floats (half, single, double) and simple values: accepted, not kept */
        assert_int_equal(decode_hex("a9" BASE "1880f93c00"
                                    "1881fa3f800000"
                                    "1882fb3ff0000000000000"
                                    "1883e0"
                                    "1884f820",
                                    &p),
                         0);
        assert_int_equal(p.n_user_items, 0);

        /* duplicate user ids: the last one wins, the output is sorted */
        assert_int_equal(decode_hex("a7" BASE "18ff01"
                                    "188001"
                                    "188063616263",
                                    &p),
                         0);
        assert_int_equal(p.n_user_items, 2);
        assert_int_equal(p.user_items[0].id, 128);
        assert_int_equal(p.user_items[0].type, PROV_USER_TEXT);
        assert_memory_equal(p.user_items[0].data, "abc", 3);
        assert_int_equal(p.user_items[1].id, 255);
        /* a skipped value as the last one removes the earlier one, and the other way round */
        assert_int_equal(decode_hex("a6" BASE "188001"
                                    "1880f90000",
                                    &p),
                         0);
        assert_int_equal(p.n_user_items, 0);
        assert_int_equal(decode_hex("a6" BASE "1880f90000"
                                    "188020",
                                    &p),
                         0);
        assert_int_equal(p.n_user_items, 1);
        assert_int_equal(p.user_items[0].integer, -1);

        /* text is not checked for UTF-8 by the node; storing it is refused by the validity rules */
        assert_int_equal(decode_hex("a5" BASE "188062c080", &p), 0);
        const char *field = NULL;
        assert_int_equal(prov_params_validate(&p, PROV_PROFILE_24G, true, false, &field), -EINVAL);
        assert_string_equal(field, "user_items");
}

static void test_decode_too_many_user_items(void **state) {
        char hex[1024];
        ProvParams p;
        int k;

        /* 40 distinct user ids decode; 41 cannot be represented (and never fit a packet) */
        for (unsigned n = 40; n <= 41; n++) {
                k = snprintf(hex, sizeof(hex), "bf" BASE);
                for (unsigned i = 0; i < n; i++)
                        k += snprintf(hex + k, sizeof(hex) - (size_t)k, "18%02xf5", 128 + i);
                snprintf(hex + k, sizeof(hex) - (size_t)k, "ff");
                assert_int_equal(decode_hex(hex, &p), n <= PROV_PARAMS_USER_MAX ? 0 : -EMSGSIZE);
        }
        assert_int_equal(p.n_user_items, 40);
}

/* Encoding a map with 24 or more pairs needs the 2-byte map head. */
static void test_map_head_sizes(void **state) {
        uint8_t buf[256];
        ProvParams p, q;

        for (unsigned n = 19; n <= 21; n++) {
                base_params(&p);
                for (unsigned i = 0; i < n; i++)
                        add_user(&p, (uint8_t)(128 + i), PROV_USER_BOOL)->boolean = i & 1;
                int len = provdata_encode(&p, buf, sizeof(buf));
                assert_int_equal(len, (n + 4 < 24 ? 1 : 2) + 44 + 3 * n);
                if (n + 4 < 24)
                        assert_int_equal(buf[0], 0xa0 + n + 4);
                else {
                        assert_int_equal(buf[0], 0xb8);
                        assert_int_equal(buf[1], n + 4);
                }
                assert_int_equal(provdata_decode(buf, (size_t)len, &q), 0);
                assert_params_equal(&p, &q);
        }
}

static void test_encode_ints(void **state) {
        static const struct {
                int64_t v;
                const char *hex;
        } cases[] = {
                { 0, "00" },
                { 23, "17" },
                { 24, "1818" },
                { 255, "18ff" },
                { 256, "190100" },
                { 65535, "19ffff" },
                { 65536, "1a00010000" },
                { 4294967295, "1affffffff" },
                { 4294967296, "1b0000000100000000" },
                { -1, "20" },
                { -24, "37" },
                { -25, "3818" },
                { -256, "38ff" },
                { -257, "390100" },
                { INT64_MAX, "1b7fffffffffffffff" },
                { INT64_MIN, "3b7fffffffffffffff" },
        };
        uint8_t buf[128];
        ProvParams p;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char expect[128];
                base_params(&p);
                add_user(&p, 200, PROV_USER_INT)->integer = cases[i].v;
                int n = provdata_encode(&p, buf, sizeof(buf));
                snprintf(expect, sizeof(expect), "a5" BASE "18c8%s", cases[i].hex);
                assert_memory_equal_hex(buf, (size_t)n, expect);
        }
}

/* The exact size rule: 88 bytes fit a secured 2.4G DATA, 89 do not; likewise 93 unsecured, 121/126 on 5G. */
static void test_size_limits(void **state) {
        static const struct {
                ProvProfile profile;
                bool secured;
                size_t max;
        } cases[] = {
                { PROV_PROFILE_24G, true, 88 },     { PROV_PROFILE_24G, false, 93 },
                { PROV_PROFILE_SUBG, true, 88 },    { PROV_PROFILE_SUBG, false, 93 },
                { PROV_PROFILE_5GMESH, true, 121 }, { PROV_PROFILE_5GMESH, false, 126 },
        };
        uint8_t buf[256];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *field;
                ProvParams p;
                /* base map: 45 bytes; a byte string of L (>= 24) bytes under id 128 adds 4 + L */
                size_t fit = cases[i].max - 45 - 4;

                assert_int_equal(prov_cbor_max(cases[i].profile, cases[i].secured), cases[i].max);

                base_params(&p);
                add_user(&p, 128, PROV_USER_BYTES)->len = (uint8_t)fit;
                assert_int_equal(provdata_encode(&p, buf, sizeof(buf)), cases[i].max);
                field = "untouched";
                assert_int_equal(prov_params_validate(&p, cases[i].profile, cases[i].secured, false, &field),
                                 0);
                assert_string_equal(field, "untouched");

                /* a node address from a pool would not fit any more */
                assert_int_equal(prov_params_validate(&p, cases[i].profile, cases[i].secured, true, &field),
                                 -EMSGSIZE);
                assert_string_equal(field, "size");

                p.user_items[0].len = (uint8_t)(fit + 1);
                assert_int_equal(provdata_encode(&p, buf, sizeof(buf)), cases[i].max + 1);
                assert_int_equal(prov_params_validate(&p, cases[i].profile, cases[i].secured, false, &field),
                                 -EMSGSIZE);
                assert_string_equal(field, "size");

                /* room for the largest node address (6 bytes) exactly */
                p.user_items[0].len = (uint8_t)(fit - 6);
                assert_int_equal(prov_params_validate(&p, cases[i].profile, cases[i].secured, true, NULL),
                                 0);
                p.user_items[0].len = (uint8_t)(fit - 5);
                assert_int_equal(prov_params_validate(&p, cases[i].profile, cases[i].secured, true, NULL),
                                 -EMSGSIZE);
                /* an actual small node address counts at its real size */
                p.has_node_address = true;
                p.node_address = 17;
                p.user_items[0].len = (uint8_t)(fit - 2);
                assert_int_equal(provdata_encode(&p, buf, sizeof(buf)), cases[i].max);
                assert_int_equal(prov_params_validate(&p, cases[i].profile, cases[i].secured, true, NULL),
                                 0);
        }
        assert_int_equal(prov_pdu_max(PROV_PROFILE_24G), 102);
        assert_int_equal(prov_pdu_max(PROV_PROFILE_SUBG), 102);
        assert_int_equal(prov_pdu_max(PROV_PROFILE_5GMESH), 135);
        assert_int_equal(prov_pdu_max(_PROV_PROFILE_INVALID), 0);
        assert_int_equal(prov_cbor_max(_PROV_PROFILE_MAX, true), 0);
}

static void expect_invalid(const ProvParams *p, ProvProfile profile, const char *field) {
        const char *f = NULL;
        uint8_t buf[256];

        assert_int_equal(prov_params_validate(p, profile, true, false, &f), -EINVAL);
        assert_non_null(f);
        assert_string_equal(f, field);
        /* the encoder refuses it too, unless only the profile-specific channel rule is broken */
        if (!streq(field, "channel") || p->channel == 0 || p->channel > 255)
                assert_int_equal(provdata_encode(p, buf, sizeof(buf)), -EINVAL);
}

static void test_validate_fields(void **state) {
        ProvParams p;

        base_params(&p);
        assert_int_equal(prov_params_validate(&p, PROV_PROFILE_24G, true, true, NULL), 0);

        memset(p.enc_key, 0, 16);
        expect_invalid(&p, PROV_PROFILE_24G, "enc_key");
        base_params(&p);
        memset(p.auth_key, 0xff, 16);
        expect_invalid(&p, PROV_PROFILE_24G, "auth_key");
        base_params(&p);
        memset(p.enc_key, 0, 16); /* the first offending field is named */
        memset(p.auth_key, 0, 16);
        expect_invalid(&p, PROV_PROFILE_24G, "enc_key");

        static const uint32_t bad_net[] = { 0, 0xffffff, 0xaaaaaa, 0x555555, 0x1000000, 0xffffffff };
        for (size_t i = 0; i < ELEMENTSOF(bad_net); i++) {
                base_params(&p);
                p.network_address = bad_net[i];
                expect_invalid(&p, PROV_PROFILE_24G, "network_address");
        }

        base_params(&p);
        p.channel = 41;
        expect_invalid(&p, PROV_PROFILE_24G, "channel");
        assert_int_equal(prov_params_validate(&p, PROV_PROFILE_SUBG, true, false, NULL), 0);
        assert_int_equal(prov_params_validate(&p, PROV_PROFILE_5GMESH, true, false, NULL), 0);
        p.channel = 256;
        expect_invalid(&p, PROV_PROFILE_SUBG, "channel");
        p.channel = 0;
        expect_invalid(&p, PROV_PROFILE_5GMESH, "channel");

        static const uint32_t bad_node[] = { 0, 0x80000000, 0x80ffffff, 0xfffffffe, 0xffffffff };
        for (size_t i = 0; i < ELEMENTSOF(bad_node); i++) {
                base_params(&p);
                p.has_node_address = true;
                p.node_address = bad_node[i];
                expect_invalid(&p, PROV_PROFILE_24G, "node_address");
        }
        base_params(&p);
        p.node_address = 0; /* not set: not checked */
        assert_int_equal(prov_params_validate(&p, PROV_PROFILE_24G, true, false, NULL), 0);

        base_params(&p);
        p.has_role = true;
        p.role = 0x41; /* the reference YAML's example, not a real role */
        expect_invalid(&p, PROV_PROFILE_24G, "role");

        base_params(&p);
        add_user(&p, 127, PROV_USER_INT);
        expect_invalid(&p, PROV_PROFILE_24G, "user_items");
        base_params(&p);
        add_user(&p, 130, PROV_USER_INT);
        add_user(&p, 130, PROV_USER_BOOL);
        expect_invalid(&p, PROV_PROFILE_24G, "user_items"); /* duplicates: normalize first */
        prov_params_normalize(&p);
        assert_int_equal(prov_params_validate(&p, PROV_PROFILE_24G, true, false, NULL), 0);
        base_params(&p);
        add_user(&p, 130, PROV_USER_BYTES)->len = PROV_USER_STRING_MAX + 1;
        expect_invalid(&p, PROV_PROFILE_5GMESH, "user_items");
        base_params(&p);
        add_user(&p, 130, (ProvUserType)17);
        expect_invalid(&p, PROV_PROFILE_24G, "user_items");
        base_params(&p);
        p.n_user_items = PROV_PARAMS_USER_MAX + 1;
        for (size_t i = 0; i < p.n_user_items && i < PROV_PARAMS_USER_MAX; i++)
                p.user_items[i] = (ProvUserItem){ .id = (uint8_t)(128 + i), .type = PROV_USER_BOOL };
        expect_invalid(&p, PROV_PROFILE_24G, "user_items");

        base_params(&p);
        const char *f = NULL;
        assert_int_equal(prov_params_validate(&p, _PROV_PROFILE_INVALID, true, false, &f), -EINVAL);
        assert_string_equal(f, "profile");
        assert_int_equal(prov_params_validate(NULL, PROV_PROFILE_24G, true, false, NULL), -EINVAL);
}

static void test_text_utf8(void **state) {
        static const struct {
                const char *hex;
                bool valid;
        } cases[] = {
                { "", true },
                { "616263", true },
                { "c3a9", true },     /* é */
                { "e282ac", true },   /* € */
                { "f09f9880", true }, /* U+1F600 */
                { "f48fbfbf", true }, /* U+10FFFF */
                { "00", false },      /* NUL */
                { "61006263", false },
                { "80", false }, /* lone continuation */
                { "c3", false }, /* cut short */
                { "e282", false },
                { "c080", false },        /* overlong NUL */
                { "c1bf", false },        /* overlong */
                { "e080af", false },      /* overlong */
                { "f08282ac", false },    /* overlong */
                { "eda080", false },      /* surrogate U+D800 */
                { "edbfbf", false },      /* surrogate U+DFFF */
                { "f4908080", false },    /* above U+10FFFF */
                { "f8888080 80", false }, /* 5-byte form */
                { "ff", false },
                { "c361", false }, /* bad continuation */
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char hex[64];
                size_t k = 0;
                ProvUserItem it = { .id = 128, .type = PROV_USER_TEXT };

                for (const char *s = cases[i].hex; *s; s++)
                        if (*s != ' ')
                                hex[k++] = *s;
                hex[k] = '\0';
                it.len = (uint8_t)(k > 0 ? test_unhex(hex, it.data, sizeof(it.data)) : 0);
                if (prov_user_item_valid(&it) != cases[i].valid)
                        fail_msg("case %zu (%s): expected %s", i, cases[i].hex,
                                 cases[i].valid ? "valid" : "invalid");
                /* the same bytes as a byte string are always fine */
                it.type = PROV_USER_BYTES;
                assert_true(prov_user_item_valid(&it));
        }
}

static void test_validity_predicates(void **state) {
        uint8_t key[16];

        assert_false(prov_network_address_valid(0));
        assert_true(prov_network_address_valid(1));
        assert_true(prov_network_address_valid(0xfffffe));
        assert_false(prov_network_address_valid(0xffffff));
        assert_false(prov_network_address_valid(0xaaaaaa));
        assert_false(prov_network_address_valid(0x555555));
        assert_true(prov_network_address_valid(0xaaaaab));

        assert_false(prov_channel_valid(PROV_PROFILE_24G, 0));
        assert_true(prov_channel_valid(PROV_PROFILE_24G, 1));
        assert_true(prov_channel_valid(PROV_PROFILE_24G, 40));
        assert_false(prov_channel_valid(PROV_PROFILE_24G, 41));
        assert_true(prov_channel_valid(PROV_PROFILE_SUBG, 255));
        assert_false(prov_channel_valid(PROV_PROFILE_SUBG, 256));
        assert_true(prov_channel_valid(PROV_PROFILE_5GMESH, 255));
        assert_false(prov_channel_valid(PROV_PROFILE_5GMESH, 0));
        assert_false(prov_channel_valid(_PROV_PROFILE_INVALID, 1));

        assert_false(prov_node_address_valid(0));
        assert_true(prov_node_address_valid(1));
        assert_true(prov_node_address_valid(0x7fffffff));
        assert_false(prov_node_address_valid(0x80000000));
        assert_false(prov_node_address_valid(0x80ffffff));
        assert_true(prov_node_address_valid(0x81000000));
        assert_true(prov_node_address_valid(0xfffffffd));
        assert_false(prov_node_address_valid(0xfffffffe));

        unsigned roles = 0;
        for (unsigned r = 0; r < 256; r++)
                roles += prov_role_valid((uint8_t)r);
        assert_int_equal(roles, 9);
        assert_true(prov_role_valid(0x04));
        assert_false(prov_role_valid(0x41));

        memset(key, 0, sizeof(key));
        assert_false(prov_key_valid(key));
        memset(key, 0xff, sizeof(key));
        assert_false(prov_key_valid(key));
        key[7] = 0xfe;
        assert_true(prov_key_valid(key));
        memset(key, 0, sizeof(key));
        key[15] = 1;
        assert_true(prov_key_valid(key));

        assert_false(prov_uid_len_valid(0));
        assert_true(prov_uid_len_valid(1));
        assert_true(prov_uid_len_valid(79));
        assert_false(prov_uid_len_valid(80));
}

static void test_normalize(void **state) {
        ProvParams p = {};

        add_user(&p, 200, PROV_USER_INT)->integer = 1;
        add_user(&p, 130, PROV_USER_INT)->integer = 2;
        add_user(&p, 200, PROV_USER_INT)->integer = 3;
        add_user(&p, 129, PROV_USER_BOOL)->boolean = true;
        add_user(&p, 130, PROV_USER_INT)->integer = 4;
        prov_params_normalize(&p);
        assert_int_equal(p.n_user_items, 3);
        assert_int_equal(p.user_items[0].id, 129);
        assert_int_equal(p.user_items[1].id, 130);
        assert_int_equal(p.user_items[1].integer, 4);
        assert_int_equal(p.user_items[2].id, 200);
        assert_int_equal(p.user_items[2].integer, 3);
        prov_params_normalize(&p); /* idempotent */
        assert_int_equal(p.n_user_items, 3);
        assert_int_equal(p.user_items[2].integer, 3);
        prov_params_normalize(NULL);
}

static void test_string_tables(void **state) {
        for (ProvProfile pr = 0; pr < _PROV_PROFILE_MAX; pr++)
                assert_int_equal(prov_profile_from_string(prov_profile_to_string(pr)), pr);
        assert_int_equal(prov_profile_from_string("2.4g"), PROV_PROFILE_24G);
        assert_int_equal(prov_profile_from_string("subg"), PROV_PROFILE_SUBG);
        assert_int_equal(prov_profile_from_string("5gmesh"), PROV_PROFILE_5GMESH);
        assert_int_equal(prov_profile_from_string("5G"), _PROV_PROFILE_INVALID);
        assert_int_equal(prov_profile_from_string(NULL), _PROV_PROFILE_INVALID);
        assert_null(prov_profile_to_string(_PROV_PROFILE_MAX));

        for (ProvUserType t = 0; t < _PROV_USER_TYPE_MAX; t++)
                assert_int_equal(prov_user_type_from_string(prov_user_type_to_string(t)), t);
        assert_string_equal(prov_user_type_to_string(PROV_USER_TEXT), "text");
        assert_int_equal(prov_user_type_from_string("BOOL"), PROV_USER_BOOL);
        assert_int_equal(prov_user_type_from_string("string"), _PROV_USER_TYPE_INVALID);
        assert_null(prov_user_type_to_string(_PROV_USER_TYPE_INVALID));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_encode_vectors),
                cmocka_unit_test(test_encode_unsorted_user_items),
                cmocka_unit_test(test_decode_vectors),
                cmocka_unit_test(test_decode_trailing_bytes),
                cmocka_unit_test(test_decode_rejects),
                cmocka_unit_test(test_decode_long_strings),
                cmocka_unit_test(test_decode_accepts),
                cmocka_unit_test(test_decode_user_values),
                cmocka_unit_test(test_decode_too_many_user_items),
                cmocka_unit_test(test_map_head_sizes),
                cmocka_unit_test(test_encode_ints),
                cmocka_unit_test(test_size_limits),
                cmocka_unit_test(test_validate_fields),
                cmocka_unit_test(test_text_utf8),
                cmocka_unit_test(test_validity_predicates),
                cmocka_unit_test(test_normalize),
                cmocka_unit_test(test_string_tables),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
