/* SPDX-License-Identifier: Apache-2.0 */
#include "parse-util.h"
#include "test-helpers.h"

static void test_safe_atou(void **state) {
        uint32_t u32;
        uint8_t u8;
        uint64_t u64;

        assert_int_equal(safe_atou32("4294967295", &u32), 0);
        assert_int_equal(u32, UINT32_MAX);
        assert_int_equal(safe_atou32("4294967296", &u32), -ERANGE);
        assert_int_equal(safe_atou32("0x123456", &u32), 0);
        assert_int_equal(u32, 0x123456);
        assert_int_equal(safe_atou32("", &u32), -EINVAL);
        assert_int_equal(safe_atou32("0x", &u32), -EINVAL);
        assert_int_equal(safe_atou32(" 1", &u32), -EINVAL);
        assert_int_equal(safe_atou32("-1", &u32), -EINVAL);
        assert_int_equal(safe_atou32("12a", &u32), -EINVAL);
        assert_int_equal(safe_atou8("256", &u8), -ERANGE);
        assert_int_equal(safe_atou64("18446744073709551616", &u64), -ERANGE);
}

static void test_safe_atoi64(void **state) {
        int64_t v;

        assert_int_equal(safe_atoi64("-9223372036854775808", &v), 0);
        assert_true(v == INT64_MIN);
        assert_int_equal(safe_atoi64("9223372036854775807", &v), 0);
        assert_true(v == INT64_MAX);
        assert_int_equal(safe_atoi64("9223372036854775808", &v), -ERANGE);
        assert_int_equal(safe_atoi64("-5", &v), 0);
        assert_int_equal(v, -5);
        assert_int_equal(safe_atoi64("--5", &v), -EINVAL);
}

static void test_parse_boolean(void **state) {
        assert_int_equal(parse_boolean("yes"), 1);
        assert_int_equal(parse_boolean("On"), 1);
        assert_int_equal(parse_boolean("0"), 0);
        assert_int_equal(parse_boolean("false"), 0);
        assert_int_equal(parse_boolean("maybe"), -EINVAL);
}

static void test_parse_sec(void **state) {
        usec_t u;

        assert_int_equal(parse_sec("30", &u), 0);
        assert_true(u == 30 * USEC_PER_SEC);
        assert_int_equal(parse_sec("500ms", &u), 0);
        assert_true(u == 500 * USEC_PER_MSEC);
        assert_int_equal(parse_sec("1min 30s", &u), 0);
        assert_true(u == 90 * USEC_PER_SEC);
        assert_int_equal(parse_sec("2h", &u), 0);
        assert_true(u == 2 * USEC_PER_HOUR);
        assert_int_equal(parse_sec("infinity", &u), 0);
        assert_true(u == USEC_INFINITY);
        assert_int_equal(parse_sec("5 parsecs", &u), -EINVAL);
        assert_int_equal(parse_sec("", &u), -EINVAL);
        assert_int_equal(parse_sec("s", &u), -EINVAL);
}

static void test_timestamps(void **state) {
        usec_t u;
        char buf[64];

        assert_int_equal(parse_timestamp_utc("2023-11-14T22:13:20Z", &u), 0);
        assert_true(u == 1700000000ULL * USEC_PER_SEC);
        assert_string_equal(format_timestamp_utc(buf, sizeof(buf), u + 123 * USEC_PER_MSEC),
                            "2023-11-14T22:13:20.123Z");
        assert_int_equal(parse_timestamp_utc("1700000000", &u), 0);
        assert_true(u == 1700000000ULL * USEC_PER_SEC);
        assert_int_equal(parse_timestamp_utc("2023-11-14", &u), 0);
        assert_true(u == 1699920000ULL * USEC_PER_SEC);
        assert_int_equal(parse_timestamp_utc("2023-13-01", &u), -EINVAL);
        assert_int_equal(parse_timestamp_utc("2023-11-14T22:13", &u), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_safe_atou),     cmocka_unit_test(test_safe_atoi64),
                cmocka_unit_test(test_parse_boolean), cmocka_unit_test(test_parse_sec),
                cmocka_unit_test(test_timestamps),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
