/* SPDX-License-Identifier: Apache-2.0 */
/* YAML typing (PyYAML SafeLoader rules), the reference server's value conversions and the streaming walker.
 */
#include <stdio.h>

#include "test-helpers.h"

#include "import-values.h"
#include "yaml-tree.h"

static YNode mk(const char *value, bool plain, const char *tag) {
        return (YNode){
                .n_ref = 1,
                .kind = YNODE_SCALAR,
                .plain = plain,
                .value = (char *)value,
                .len = strlen(value),
                .tag = (char *)tag,
                .line = 1,
                .column = 1,
        };
}
#define PLAIN(v)  mk((v), true, NULL)
#define QUOTED(v) mk((v), false, NULL)
#define BINARY    "tag:yaml.org,2002:binary"

static void test_typing(void **state) {
        static const struct {
                const char *v;
                YType t;
        } plain[] = {
                { "0x1012EE", YTYPE_INT },
                { "0X10", YTYPE_STR },
                { "010", YTYPE_INT },
                { "08", YTYPE_STR },
                { "0", YTYPE_INT },
                { "-0x10", YTYPE_INT },
                { "+12", YTYPE_INT },
                { "1_000", YTYPE_INT },
                { "0b101", YTYPE_INT },
                { "1:30", YTYPE_INT },
                { "1:60", YTYPE_STR },
                { "0x", YTYPE_STR },
                { "0x41 0xb1", YTYPE_STR },
                { "yes", YTYPE_BOOL },
                { "Yes", YTYPE_BOOL },
                { "OFF", YTYPE_BOOL },
                { "yEs", YTYPE_STR },
                { "y", YTYPE_STR },
                { "~", YTYPE_NULL },
                { "", YTYPE_NULL },
                { "Null", YTYPE_NULL },
                { "1.5", YTYPE_FLOAT },
                { "1.", YTYPE_FLOAT },
                { ".5", YTYPE_FLOAT },
                { "-.inf", YTYPE_FLOAT },
                { ".NaN", YTYPE_FLOAT },
                { "1.0e+3", YTYPE_FLOAT },
                { "1e3", YTYPE_STR },
                { "2024-01-02", YTYPE_TIMESTAMP },
                { "2024-1-2T10:00:00Z", YTYPE_TIMESTAMP },
                { "test_node", YTYPE_STR },
                { "12:34:56:78", YTYPE_STR },
        };
        for (size_t i = 0; i < ELEMENTSOF(plain); i++) {
                YNode n = PLAIN(plain[i].v);
                if (ynode_type(&n) != plain[i].t)
                        fail_msg("'%s': expected type %d, got %d", plain[i].v, plain[i].t, ynode_type(&n));
        }

        /* quoted scalars are strings, whatever they look like */
        YNode q = QUOTED("yes");
        assert_int_equal(ynode_type(&q), YTYPE_STR);
        q = QUOTED("0x10");
        assert_int_equal(ynode_type(&q), YTYPE_STR);

        /* explicit tags */
        YNode t = mk("AAEC", true, BINARY);
        assert_int_equal(ynode_type(&t), YTYPE_BINARY);
        t = mk("12", true, "tag:yaml.org,2002:str");
        assert_int_equal(ynode_type(&t), YTYPE_STR);
        t = mk("12", false, "tag:yaml.org,2002:int");
        assert_int_equal(ynode_type(&t), YTYPE_INT);
        t = mk("abc", true, "tag:yaml.org,2002:int");
        assert_int_equal(ynode_type(&t), -EBADMSG);
        t = mk("x", true, "!local");
        assert_int_equal(ynode_type(&t), -EBADMSG);
        t = mk("yes", true, "!");
        assert_int_equal(ynode_type(&t), YTYPE_STR);
}

static void check_yint(const char *s, int want_r, bool want_neg, const char *want_hex) {
        uint8_t buf[64];
        size_t len = 99;
        bool neg = false;
        int r = yint_parse(s, strlen(s), &neg, buf, sizeof(buf), &len);

        if (r != want_r)
                fail_msg("'%s': expected %d, got %d", s, want_r, r);
        if (r < 0)
                return;
        assert_int_equal(neg, want_neg);
        assert_memory_equal_hex(buf, len, want_hex);
}

static void test_yint(void **state) {
        check_yint("0x000102", 0, false, "0102");
        check_yint("0", 0, false, "");
        check_yint("-0", 0, false, "");
        check_yint("-5", 0, true, "05");
        check_yint("255", 0, false, "ff");
        check_yint("256", 0, false, "0100");
        check_yint("1:30", 0, false, "5a");
        check_yint("1:0:0", 0, false, "0e10");
        check_yint("0b1_0000_0000", 0, false, "0100");
        check_yint("010", 0, false, "08");
        check_yint("0x_ff", 0, false, "ff");
        check_yint("340282366920938463463374607431768211455", 0, false, "ffffffffffffffffffffffffffffffff");
        check_yint("0x0102030405060708090a0b0c0d0e0f100102030405060708090a0b0c0d0e0f", 0, false,
                   "0102030405060708090a0b0c0d0e0f100102030405060708090a0b0c0d0e0f");
        check_yint("0x", -EBADMSG, false, "");
        check_yint("09", -EBADMSG, false, "");
        check_yint("0xg", -EBADMSG, false, "");
        check_yint("abc", -EBADMSG, false, "");
        check_yint("", -EBADMSG, false, "");
        check_yint("-", -EBADMSG, false, "");

        /* too large for the buffer */
        uint8_t small[2];
        size_t len;
        bool neg;
        assert_int_equal(yint_parse("0x10000", 7, &neg, small, sizeof(small), &len), -ERANGE);
        assert_int_equal(yint_parse("0xffff", 6, &neg, small, sizeof(small), &len), 0);
        assert_int_equal(len, 2);
}

static void check_bytes(YNode n, int want_r, const char *want_hex) {
        uint8_t buf[YVALUE_BYTES_MAX];
        char msg[200] = "";
        size_t len = 0;
        int r = yvalue_bytes(&n, buf, sizeof(buf), &len, msg, sizeof(msg));

        if ((r < 0) != (want_r < 0))
                fail_msg("'%s': expected %d, got %d (%s)", n.value, want_r, r, msg);
        if (r < 0) {
                assert_true(msg[0] != '\0');
                return;
        }
        assert_memory_equal_hex(buf, len, want_hex);
}

static void test_bytes(void **state) {
        /* the reference's hex rule */
        check_bytes(PLAIN("0x00 0x01 0X02"), 0, "000102");
        check_bytes(QUOTED("0x000102"), 0, "000102");  /* a string keeps its leading zeros */
        check_bytes(PLAIN("0x000102"), 0, "0102");     /* a plain 0x... is a YAML integer */
        check_bytes(QUOTED("0x0x00 0x01"), 0, "0001"); /* repeated prefixes removed */
        check_bytes(QUOTED("0X0A 0x0b\t0x0C"), 0, "0a0b0c");
        check_bytes(QUOTED("0x0 1"), -EINVAL, ""); /* a blank inside a pair */
        check_bytes(QUOTED("0x123"), -EINVAL, ""); /* odd number of digits */
        check_bytes(QUOTED("0xzz"), -EINVAL, "");
        check_bytes(QUOTED("0x"), 0, "");
        /* other strings are UTF-8 */
        check_bytes(PLAIN("hello"), 0, "68656c6c6f");
        check_bytes(QUOTED("x0"), 0, "7830");
        check_bytes(QUOTED("é"), 0, "c3a9");
        /* integers: minimal big-endian */
        check_bytes(PLAIN("0"), 0, "");
        check_bytes(PLAIN("12345"), 0, "3039");
        check_bytes(PLAIN("0x01"), 0, "01");
        check_bytes(PLAIN("-1"), -EINVAL, "");
        /* !!binary */
        check_bytes(mk("AAEC", true, BINARY), 0, "000102");
        check_bytes(mk("AAE=", true, BINARY), 0, "0001");
        check_bytes(mk("AA\nEC", false, BINARY), 0, "000102");
        check_bytes(mk("AA=C", true, BINARY), -EINVAL, "");
        check_bytes(mk("AAE", true, BINARY), -EINVAL, "");
        /* refused types */
        check_bytes(PLAIN("1.5"), -EINVAL, "");
        check_bytes(PLAIN("true"), -EINVAL, "");
        check_bytes(PLAIN("~"), -EINVAL, "");
        check_bytes(PLAIN("2024-01-02"), -EINVAL, "");

        /* too long for the buffer */
        uint8_t small[2];
        size_t len;
        char msg[100];
        YNode n = QUOTED("0x010203");
        assert_int_equal(yvalue_bytes(&n, small, sizeof(small), &len, msg, sizeof(msg)), -EMSGSIZE);
}

static void test_python_int(void **state) {
        static const struct {
                const char *s;
                int r;
                int64_t v;
        } cases[] = {
                { "0x1012EE", 0, 0x1012ee },
                { "0X10", 0, 16 },
                { " 42 ", 0, 42 },
                { "-7", 0, -7 },
                { "+7", 0, 7 },
                { "0o17", 0, 15 },
                { "0b11", 0, 3 },
                { "1_000", 0, 1000 },
                { "0x_1f", 0, 31 },
                { "00", 0, 0 },
                { "010", -EINVAL, 0 },
                { "1__0", -EINVAL, 0 },
                { "_1", -EINVAL, 0 },
                { "1_", -EINVAL, 0 },
                { "", -EINVAL, 0 },
                { "0x", -EINVAL, 0 },
                { "12a", -EINVAL, 0 },
                { "9223372036854775807", 0, INT64_MAX },
                { "9223372036854775808", -ERANGE, 0 },
                { "-9223372036854775808", 0, INT64_MIN },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int64_t v = 0;
                int r = parse_python_int(cases[i].s, strlen(cases[i].s), &v);
                if (r != cases[i].r)
                        fail_msg("'%s': expected %d, got %d", cases[i].s, cases[i].r, r);
                if (r == 0)
                        assert_int_equal(v, cases[i].v);
        }
}

static void test_int_values(void **state) {
        char msg[200];
        int64_t v;
        bool b;

        YNode n = PLAIN("0x1012EE");
        assert_int_equal(yvalue_int(&n, &v, msg, sizeof(msg)), 0);
        assert_int_equal(v, 0x1012ee);
        n = QUOTED("0x11"); /* a string is read like int(s, 0) */
        assert_int_equal(yvalue_int(&n, &v, msg, sizeof(msg)), 0);
        assert_int_equal(v, 0x11);
        n = PLAIN("010"); /* YAML 1.1 octal */
        assert_int_equal(yvalue_int(&n, &v, msg, sizeof(msg)), 0);
        assert_int_equal(v, 8);
        n = PLAIN("-9223372036854775809");
        assert_int_equal(yvalue_int(&n, &v, msg, sizeof(msg)), -ERANGE);
        n = PLAIN("yes");
        assert_true(yvalue_int(&n, &v, msg, sizeof(msg)) < 0);
        assert_non_null(strstr(msg, "boolean"));
        n = PLAIN("300");
        assert_int_equal(yvalue_int_range(&n, 1, 255, &v, msg, sizeof(msg)), -ERANGE);
        assert_non_null(strstr(msg, "1..255"));

        n = PLAIN("On");
        assert_int_equal(yvalue_bool(&n, &b, msg, sizeof(msg)), 0);
        assert_true(b);
        n = PLAIN("off");
        assert_int_equal(yvalue_bool(&n, &b, msg, sizeof(msg)), 0);
        assert_false(b);
        n = QUOTED("yes");
        assert_true(yvalue_bool(&n, &b, msg, sizeof(msg)) < 0);
}

static void test_user_items(void **state) {
        ProvUserItem it;
        char msg[200], long_text[PROV_USER_STRING_MAX + 2];

        YNode n = PLAIN("5");
        it.id = 130;
        assert_int_equal(yvalue_user_item(&n, &it, msg, sizeof(msg)), 0);
        assert_int_equal(it.id, 130);
        assert_int_equal(it.type, PROV_USER_INT);
        assert_int_equal(it.integer, 5);

        n = PLAIN("0x34"); /* the reference example's 129: 0x34 is the integer 52 */
        assert_int_equal(yvalue_user_item(&n, &it, msg, sizeof(msg)), 0);
        assert_int_equal(it.type, PROV_USER_INT);
        assert_int_equal(it.integer, 52);

        n = PLAIN("-1000");
        assert_int_equal(yvalue_user_item(&n, &it, msg, sizeof(msg)), 0);
        assert_int_equal(it.integer, -1000);

        n = QUOTED("5");
        assert_int_equal(yvalue_user_item(&n, &it, msg, sizeof(msg)), 0);
        assert_int_equal(it.type, PROV_USER_TEXT);
        assert_memory_equal_hex(it.data, it.len, "35");

        n = PLAIN("some_string");
        assert_int_equal(yvalue_user_item(&n, &it, msg, sizeof(msg)), 0);
        assert_int_equal(it.type, PROV_USER_TEXT);
        assert_int_equal(it.len, 11);

        n = PLAIN("yes");
        assert_int_equal(yvalue_user_item(&n, &it, msg, sizeof(msg)), 0);
        assert_int_equal(it.type, PROV_USER_BOOL);
        assert_true(it.boolean);

        n = mk("3q2+7w==", true, BINARY);
        assert_int_equal(yvalue_user_item(&n, &it, msg, sizeof(msg)), 0);
        assert_int_equal(it.type, PROV_USER_BYTES);
        assert_memory_equal_hex(it.data, it.len, "deadbeef");

        memset(long_text, 'a', sizeof(long_text) - 1);
        long_text[sizeof(long_text) - 1] = '\0';
        n = QUOTED(long_text);
        assert_int_equal(yvalue_user_item(&n, &it, msg, sizeof(msg)), -EMSGSIZE);
        long_text[PROV_USER_STRING_MAX] = '\0'; /* exactly the limit */
        n = QUOTED(long_text);
        assert_int_equal(yvalue_user_item(&n, &it, msg, sizeof(msg)), 0);
        assert_int_equal(it.len, PROV_USER_STRING_MAX);

        static const struct {
                const char *v;
                const char *word;
        } refused[] = {
                { "1.5", "float" },
                { "~", "null" },
                { "2024-01-01", "date" },
                { "9223372036854775808", "64-bit" },
        };
        for (size_t i = 0; i < ELEMENTSOF(refused); i++) {
                n = PLAIN(refused[i].v);
                msg[0] = '\0';
                assert_true(yvalue_user_item(&n, &it, msg, sizeof(msg)) < 0);
                if (!strstr(msg, refused[i].word))
                        fail_msg("'%s': message '%s' lacks '%s'", refused[i].v, msg, refused[i].word);
        }
        YNode seq = { .n_ref = 1, .kind = YNODE_SEQUENCE };
        assert_true(yvalue_user_item(&seq, &it, msg, sizeof(msg)) < 0);
        assert_non_null(strstr(msg, "list"));
}

/* ---- the walker ---- */

typedef struct Seen {
        char log[2048];
} Seen;

static int collect(const char *section, const YNode *key, const YNode *value, void *userdata) {
        Seen *s = userdata;
        size_t l = strlen(s->log);
        snprintf(s->log + l, sizeof(s->log) - l, "%s/%s=%s@%u:%u;", section, key ? key->value : "-",
                 value->kind == YNODE_SCALAR    ? value->value
                 : value->kind == YNODE_MAPPING ? "{}"
                                                : "[]",
                 value->line, value->column);
        return 0;
}

static int walk(const char *doc, Seen *s, YamlError *err) {
        memset(s, 0, sizeof(*s));
        return yaml_walk(doc, strlen(doc), collect, s, err);
}

static void test_walker(void **state) {
        YamlError err;
        Seen s;

        assert_int_equal(walk("version: 1\nnodes:\n  a: {x: 1}\n  b: 2\nnetworks:\n", &s, &err), 0);
        assert_string_equal(s.log, "version/-=1@1:10;nodes/a={}@3:6;nodes/b=2@4:6;networks/-=@5:10;");

        /* an anchored section is built whole; aliases share the anchored tree */
        assert_int_equal(walk("d: &d {m: 1}\nnodes:\n  a: *d\n  b: {<<: *d}\n", &s, &err), 0);
        assert_string_equal(s.log, "d/m=1@1:11;nodes/a={}@1:4;nodes/b={}@4:6;");

        /* errors, with positions */
        assert_int_equal(walk("nodes:\n  a: [1, 2\n", &s, &err), -EBADMSG);
        assert_int_equal(err.line, 3);
        assert_non_null(strstr(err.message, "YAML syntax error"));

        assert_int_equal(walk("", &s, &err), -EBADMSG);
        assert_non_null(strstr(err.message, "empty"));
        assert_int_equal(walk("- 1\n- 2\n", &s, &err), -EBADMSG);
        assert_non_null(strstr(err.message, "mapping"));
        assert_int_equal(walk("a: 1\n---\nb: 2\n", &s, &err), -EBADMSG);
        assert_non_null(strstr(err.message, "more than one"));
        assert_int_equal(walk("a: 1\na: 2\n", &s, &err), -EBADMSG);
        assert_int_equal(err.line, 2);
        assert_int_equal(walk("nodes:\n  a: *nope\n", &s, &err), -EBADMSG);
        assert_non_null(strstr(err.message, "nope"));
        assert_int_equal(walk("nodes:\n  ? [1]\n  : 2\n", &s, &err), -EBADMSG);
        /* an alias to an anchor still being built (a cycle) */
        assert_int_equal(walk("nodes:\n  a: &x [1, *x]\n", &s, &err), -EBADMSG);

        /* limits */
        char deep[512] = "nodes:\n  a: ";
        for (unsigned i = 0; i < IMPORT_DEPTH_MAX + 2; i++)
                strcat(deep, "[");
        for (unsigned i = 0; i < IMPORT_DEPTH_MAX + 2; i++)
                strcat(deep, "]");
        strcat(deep, "\n");
        assert_int_equal(walk(deep, &s, &err), -E2BIG);
        assert_non_null(strstr(err.message, "nested"));

        size_t big = IMPORT_SCALAR_MAX + 16;
        char *doc = malloc(big + 32);
        assert_non_null(doc);
        strcpy(doc, "nodes:\n  a: ");
        size_t o = strlen(doc);
        memset(doc + o, 'x', IMPORT_SCALAR_MAX + 1);
        strcpy(doc + o + IMPORT_SCALAR_MAX + 1, "\n");
        assert_int_equal(walk(doc, &s, &err), -E2BIG);
        free(doc);

        /* too many nodes in one entry */
        size_t n = IMPORT_ENTRY_NODES_MAX + 10;
        doc = malloc(n * 3 + 64);
        assert_non_null(doc);
        strcpy(doc, "nodes:\n  a: [");
        o = strlen(doc);
        for (size_t i = 0; i < n; i++) {
                memcpy(doc + o, "1,", 2);
                o += 2;
        }
        strcpy(doc + o, "1]\n");
        assert_int_equal(walk(doc, &s, &err), -E2BIG);
        free(doc);

        /* a billion-laughs style file stays small: aliases share, nothing is copied */
        assert_int_equal(walk("x: &a [1,1,1,1,1,1,1,1,1,1]\n"
                              "y: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                              "z: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                              "w: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                              "v: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n",
                              &s, &err),
                         0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_typing),     cmocka_unit_test(test_yint),
                cmocka_unit_test(test_bytes),      cmocka_unit_test(test_python_int),
                cmocka_unit_test(test_int_values), cmocka_unit_test(test_user_items),
                cmocka_unit_test(test_walker),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
