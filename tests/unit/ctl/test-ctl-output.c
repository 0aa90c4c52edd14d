/* SPDX-License-Identifier: Apache-2.0 */
/* meshprovctl's output helpers (JSON writer, tables) and argument parsers. */
#include <stdio.h>

#include "test-helpers.h"

#include "bytes-map.h"
#include "ctl-parse.h"
#include "json-out.h"
#include "table.h"
#include "text-util.h"

static char *json_of(const void *s, size_t n) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        assert_non_null(f);
        json_write_string(f, s, n);
        fclose(f);
        return buf;
}

#define assert_json_string(in, n, expected)          \
        do {                                         \
                char *_s = json_of((in), (n));       \
                assert_string_equal(_s, (expected)); \
                free(_s);                            \
        } while (0)

static void test_json_escaping(void **state) {
        assert_json_string("plain", 5, "\"plain\"");
        assert_json_string("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
        assert_json_string("\n\r\t\b\f", 5, "\"\\n\\r\\t\\b\\f\"");
        assert_json_string("\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"");
        assert_json_string("a\0b", 3, "\"a\\u0000b\"");
        assert_json_string("\xc3\xa9", 2, "\"\xc3\xa9\"");                  /* é kept */
        assert_json_string("\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\"");  /* 4-byte UTF-8 kept */
        assert_json_string("\xff", 1, "\"\\ufffd\"");                       /* not UTF-8 */
        assert_json_string("\xc3", 1, "\"\\ufffd\"");                       /* truncated */
        assert_json_string("\xc0\xaf", 2, "\"\\ufffd\\ufffd\"");            /* overlong */
        assert_json_string("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate */
        assert_json_string("\xf4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* > U+10FFFF */
        assert_json_string("\xe2\x80\xa8x\xe2\x80\xa9", 7, "\"\\u2028x\\u2029\"");

        /* every byte value: the output has no raw control characters and only valid UTF-8 */
        uint8_t all[256];
        for (unsigned i = 0; i < 256; i++)
                all[i] = (uint8_t)i;
        char *s = json_of(all, sizeof(all));
        size_t l = strlen(s);
        for (size_t i = 0; i < l; i++)
                assert_true((uint8_t)s[i] >= 0x20);
        assert_true(utf8_valid(s, l));
        free(s);
}

static char *render(bool pretty, void (*fn)(JsonOut *j), int *ret) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        JsonOut j;

        assert_non_null(f);
        json_out_init(&j, f, pretty);
        fn(&j);
        *ret = json_out_finish(&j);
        fclose(f);
        return buf;
}

static void doc_nested(JsonOut *j) {
        json_begin_object(j);
        json_kv_string(j, "name", "n1");
        json_kv_int(j, "neg", -5);
        json_kv_uint(j, "big", UINT64_MAX);
        json_kv_bool(j, "ok", true);
        json_kv_null(j, "none");
        json_kv_string(j, "nul", NULL);
        json_kv_hex(j, "key", "\x01\xab", 2);
        json_kv_timestamp(j, "never", 0);
        json_kv_timestamp(j, "t", 1700000000123456ULL);
        json_key(j, "list");
        json_begin_array(j);
        json_int(j, 1);
        json_begin_object(j);
        json_end_object(j);
        json_begin_array(j);
        json_end_array(j);
        json_end_array(j);
        json_end_object(j);
}

static void doc_value_without_key(JsonOut *j) {
        json_begin_object(j);
        json_int(j, 1);
        json_end_object(j);
}

static void doc_unbalanced(JsonOut *j) {
        json_begin_array(j);
        json_begin_object(j);
        json_end_array(j);
}

static void doc_open(JsonOut *j) {
        json_begin_array(j);
}

static void doc_two(JsonOut *j) {
        json_int(j, 1);
        json_int(j, 2);
}

static void doc_key_in_array(JsonOut *j) {
        json_begin_array(j);
        json_key(j, "x");
        json_end_array(j);
}

static void test_json_structure(void **state) {
        char *s;
        int r;

        s = render(false, doc_nested, &r);
        assert_int_equal(r, 0);
        assert_string_equal(
                s, "{\"name\":\"n1\",\"neg\":-5,\"big\":18446744073709551615,\"ok\":true,\"none\":null,"
                   "\"nul\":null,\"key\":\"01ab\",\"never\":null,\"t\":\"2023-11-14T22:13:20.123Z\","
                   "\"list\":[1,{},[]]}\n");
        free(s);

        s = render(true, doc_nested, &r);
        assert_int_equal(r, 0);
        assert_non_null(strstr(s, "{\n  \"name\": \"n1\",\n  \"neg\": -5,"));
        assert_non_null(strstr(s, "\"list\": [\n    1,\n    {},\n    []\n  ]\n}\n"));
        free(s);

        free(render(false, doc_value_without_key, &r));
        assert_int_equal(r, -EINVAL);
        free(render(false, doc_unbalanced, &r));
        assert_int_equal(r, -EINVAL);
        free(render(false, doc_open, &r));
        assert_int_equal(r, -EINVAL);
        free(render(false, doc_two, &r));
        assert_int_equal(r, -EINVAL);
        free(render(false, doc_key_in_array, &r));
        assert_int_equal(r, -EINVAL);
}

static void test_table(void **state) {
        _cleanup_(table_freep) Table *t = NULL;
        const char *row[] = { "x", NULL, "last" };
        char *buf = NULL;
        size_t size = 0;
        FILE *f;

        t = table_new("NAME", "A", "LONGHEADER", NULL);
        assert_non_null(t);
        assert_int_equal(table_add_cell(t, "alpha"), 0);
        assert_int_equal(table_add_cellf(t, "%d", 42), 0);
        assert_int_equal(table_add_cell(t, "\x1b[31mred\x1b[0m"), 0);
        assert_int_equal(table_add_row(t, row), 0);
        assert_int_equal(table_add_cell(t, "\xc3\xa9t\xc3\xa9"), 0); /* 3 code points, 5 bytes */
        assert_int_equal(table_rows(t), 3);

        f = open_memstream(&buf, &size);
        assert_int_equal(table_print(t, f), 0);
        fclose(f);
        assert_string_equal(buf, "NAME   A   LONGHEADER\n"
                                 "alpha  42  \\x1b[31mred\\x1b[0m\n"
                                 "x      -   last\n"
                                 "\xc3\xa9t\xc3\xa9    -   -\n");
        free(buf);

        assert_null(table_new(NULL));
}

static void test_bytes_map(void **state) {
        _cleanup_(bytes_map_freep) BytesMap *m = bytes_map_new();
        const char *existing = NULL;
        char key[32];

        assert_non_null(m);
        assert_false(bytes_map_contains(m, "a", 1));
        assert_int_equal(bytes_map_add(m, "a", 1, "first", NULL), 0);
        assert_int_equal(bytes_map_add(m, "a", 1, "second", &existing), -EEXIST);
        assert_string_equal(existing, "first");
        assert_int_equal(bytes_map_add(m, "", 0, NULL, NULL), 0);
        assert_int_equal(bytes_map_add(m, "", 0, NULL, NULL), -EEXIST);
        assert_int_equal(bytes_map_add(m, "a\0b", 3, NULL, NULL), 0); /* binary keys */
        assert_int_equal(bytes_map_add(m, "a\0c", 3, NULL, NULL), 0);

        for (unsigned i = 0; i < 5000; i++) {
                snprintf(key, sizeof(key), "k%u", i);
                assert_int_equal(bytes_map_add(m, key, strlen(key), key, NULL), 0);
        }
        assert_int_equal(bytes_map_size(m), 5004);
        for (unsigned i = 0; i < 5000; i += 7) {
                snprintf(key, sizeof(key), "k%u", i);
                assert_int_equal(bytes_map_add(m, key, strlen(key), NULL, &existing), -EEXIST);
                assert_string_equal(existing, key);
        }
        assert_false(bytes_map_contains(m, "k5000", 5));
}

static void test_parsers(void **state) {
        uint8_t buf[PROV_UID_MAX];
        uint32_t a, b;
        size_t len;
        ProvUserItem it;
        char out[256];

        assert_int_equal(parse_pool("1000-1999", &a, &b), 0);
        assert_int_equal(a, 1000);
        assert_int_equal(b, 1999);
        assert_int_equal(parse_pool("0x10-0x20", &a, &b), 0);
        assert_int_equal(a, 16);
        assert_int_equal(b, 32);
        assert_int_equal(parse_pool("10", &a, &b), -EINVAL);
        assert_int_equal(parse_pool("-10", &a, &b), -EINVAL);
        assert_int_equal(parse_pool("1-x", &a, &b), -EINVAL);

        assert_int_equal(parse_uid("0x0a1B2c", buf, &len), 0);
        assert_memory_equal_hex(buf, len, "0a1b2c");
        assert_int_equal(parse_uid("0a:1b 2c", buf, &len), 0);
        assert_memory_equal_hex(buf, len, "0a1b2c");
        assert_int_equal(parse_uid("0x", buf, &len), -EINVAL);
        assert_int_equal(parse_uid("abc", buf, &len), -EINVAL);
        assert_int_equal(parse_uid("a b", buf, &len), -EINVAL);
        char longuid[2 * PROV_UID_MAX + 3];
        memset(longuid, 'a', sizeof(longuid) - 1);
        longuid[sizeof(longuid) - 1] = '\0';
        assert_int_equal(parse_uid(longuid, buf, &len), -EMSGSIZE);

        uint8_t k[4];
        assert_int_equal(parse_hex_exact("01020304", k, 4, &len), 0);
        assert_memory_equal_hex(k, 4, "01020304");
        assert_int_equal(parse_hex_exact("010203", k, 4, &len), -EMSGSIZE);
        assert_int_equal(len, 3);
        assert_int_equal(parse_hex_exact("0102030405", k, 4, &len), -EMSGSIZE);
        assert_int_equal(len, 5);
        assert_int_equal(parse_hex_exact("zz", k, 4, &len), -EINVAL);

        static const char *const items[] = { "128=int:-5", "200=text:hello world", "255=bytes:deadbeef",
                                             "130=bool:yes" };
        for (size_t i = 0; i < ELEMENTSOF(items); i++) {
                assert_int_equal(parse_user_item(items[i], &it), 0);
                assert_string_equal(format_user_item(&it, out, sizeof(out)), items[i]);
        }
        assert_int_equal(parse_user_item("127=int:1", &it), -EINVAL);
        assert_int_equal(parse_user_item("256=int:1", &it), -EINVAL);
        assert_int_equal(parse_user_item("128=float:1", &it), -EINVAL);
        assert_int_equal(parse_user_item("128", &it), -EINVAL);
        assert_int_equal(parse_user_item("128=int:x", &it), -EINVAL);
        assert_int_equal(parse_user_item("128=text:\xff", &it), -EINVAL);
        char big[200] = "128=text:";
        memset(big + 9, 'x', PROV_USER_STRING_MAX + 1);
        assert_int_equal(parse_user_item(big, &it), -EMSGSIZE);
}

static void test_terminal_escape(void **state) {
        size_t w;
        char *s = terminal_escape("a\x1b[2Jb\xc2\x9b\xff\xc3\xa9", 11, &w);
        assert_string_equal(s, "a\\x1b[2Jb\\xc2\\x9b\\xff\xc3\xa9");
        assert_int_equal(w, strlen("a\\x1b[2Jb\\xc2\\x9b\\xff") + 1);
        free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_json_escaping), cmocka_unit_test(test_json_structure),
                cmocka_unit_test(test_table),         cmocka_unit_test(test_bytes_map),
                cmocka_unit_test(test_parsers),       cmocka_unit_test(test_terminal_escape),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
