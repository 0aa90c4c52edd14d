/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "hex.h"
#include "ratelimit.h"
#include "siphash24.h"
#include "string-util.h"
#include "test-helpers.h"

static void test_hex_roundtrip(void **state) {
        uint8_t buf[4];
        char s[9];

        assert_int_equal(hex_decode("0xDEADbeef", buf, sizeof(buf)), 4);
        assert_string_equal(hex_encode(buf, 4, s, sizeof(s)), "deadbeef");
        assert_int_equal(hex_decode("abc", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(hex_decode("zz", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(hex_decode("0011223344", buf, sizeof(buf)), -EMSGSIZE);
        assert_int_equal(hex_decode("", buf, sizeof(buf)), 0);
}

/* Reference output from the SipHash paper's appendix: key 00..0f, message 00..0e. */
static void test_siphash_paper_vector(void **state) {
        uint8_t key[16], msg[15];
        for (unsigned i = 0; i < 16; i++)
                key[i] = (uint8_t)i;
        for (unsigned i = 0; i < 15; i++)
                msg[i] = (uint8_t)i;
        assert_true(siphash24(msg, sizeof(msg), key) == 0xa129ca6149be45e5ULL);
        /* the empty message, from the reference implementation's vector table */
        assert_true(siphash24(msg, 0, key) == 0x726fdb47dd0e0e31ULL);
}

static void test_ratelimit(void **state) {
        RateLimit rl = RATELIMIT_INIT(10 * USEC_PER_SEC, 2);
        usec_t t = 1000;

        assert_true(ratelimit_below(&rl, t));
        assert_true(ratelimit_below(&rl, t + 1));
        assert_false(ratelimit_below(&rl, t + 2));
        assert_false(ratelimit_below(&rl, t + 3));
        assert_int_equal(ratelimit_take_suppressed(&rl), 2);
        assert_int_equal(ratelimit_take_suppressed(&rl), 0);
        assert_true(ratelimit_below(&rl, t + 10 * USEC_PER_SEC));
}

static void test_cescape_and_topics(void **state) {
        char buf[16];

        assert_string_equal(cescape_buf("a\nb'", 4, buf, sizeof(buf)), "a\\x0ab\\x27");
        assert_string_equal(cescape_str("0123456789abcdefgh", buf, sizeof(buf)), "0123456789ab...");
        assert_true(topic_level_valid("gw-test-01", 10));
        assert_false(topic_level_valid("a/b", 3));
        assert_false(topic_level_valid("a+", 2));
        assert_false(topic_level_valid("", 0));
}

static void test_strlist_format_bounded(void **state) {
        const char *items[] = { "sink0 up", "sink1 down", "sink2 probing", "sink3 up" };
        char buf[64];

        /* everything fits */
        assert_int_equal(strlist_format_bounded(items, 4, buf, sizeof(buf)), 4);
        assert_string_equal(buf, "sink0 up, sink1 down, sink2 probing, sink3 up");
        assert_int_equal(strlist_format_bounded(items, 0, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "");

        /* exactly enough for all: no suffix */
        assert_int_equal(strlist_format_bounded(items, 4, buf,
                                                strlen("sink0 up, sink1 down, sink2 probing, sink3 up") + 1),
                         4);
        assert_string_equal(buf, "sink0 up, sink1 down, sink2 probing, sink3 up");

        /* one byte short: what does not fit is counted, never cut in the middle */
        assert_int_equal(strlist_format_bounded(items, 4, buf,
                                                strlen("sink0 up, sink1 down, sink2 probing, sink3 up")),
                         2);
        assert_string_equal(buf, "sink0 up, sink1 down, ... and 2 more");
        assert_int_equal(strlist_format_bounded(items, 4, buf, 30), 1);
        assert_string_equal(buf, "sink0 up, ... and 3 more");
        assert_int_equal(strlist_format_bounded(items, 4, buf, 20), 0);
        assert_string_equal(buf, "... and 4 more");

        /* many: the suffix always fits */
        const char *many[16];
        for (size_t i = 0; i < 16; i++)
                many[i] = "a-sink-with-a-rather-long-name-of-forty-chars down";
        for (size_t size = 20; size <= 256; size++) {
                char b[256];
                size_t shown = strlist_format_bounded(many, 16, b, size);
                assert_true(shown < 16);
                assert_true(strlen(b) < size);
                char want[32];
                snprintf(want, sizeof(want), "... and %zu more", 16 - shown);
                assert_non_null(strstr(b, want));
        }
}

static void test_mkdir_parent(void **state) {
        char dir[64] = "/tmp/meshprov-basic-XXXXXX", db[128], sub[96];
        struct stat st;

        assert_non_null(mkdtemp(dir));
        snprintf(sub, sizeof(sub), "%s/state", dir);
        snprintf(db, sizeof(db), "%s/meshprov.db", sub);
        assert_int_equal(mkdir_parent(db, 0700), 0);
        assert_int_equal(stat(sub, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(st.st_mode & 0777, 0700);
        assert_int_equal(mkdir_parent(db, 0700), 0);         /* there already */
        assert_int_equal(mkdir_parent("plain.db", 0700), 0); /* no directory part */
        snprintf(db, sizeof(db), "%s/a/b/meshprov.db", dir);
        assert_int_equal(mkdir_parent(db, 0700), -ENOENT); /* one level only */
        assert_int_equal(rmdir(sub), 0);
        assert_int_equal(rmdir(dir), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hex_roundtrip),
                cmocka_unit_test(test_siphash_paper_vector),
                cmocka_unit_test(test_ratelimit),
                cmocka_unit_test(test_cescape_and_topics),
                cmocka_unit_test(test_strlist_format_bounded),
                cmocka_unit_test(test_mkdir_parent),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
