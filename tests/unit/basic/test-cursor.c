/* SPDX-License-Identifier: Apache-2.0 */
#include "cursor.h"
#include "test-helpers.h"

static void test_reads_little_and_big_endian(void **state) {
        static const uint8_t b[] = { 0x01, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12, 0x12, 0x34 };
        Cursor c = CURSOR_INIT(b, sizeof(b));
        uint8_t u8;
        uint16_t u16;
        uint32_t u32;

        assert_int_equal(cursor_get_u8(&c, &u8), 0);
        assert_int_equal(u8, 0x01);
        assert_int_equal(cursor_get_le16(&c, &u16), 0);
        assert_int_equal(u16, 0x1234);
        assert_int_equal(cursor_get_le32(&c, &u32), 0);
        assert_int_equal(u32, 0x12345678);
        assert_int_equal(cursor_get_be16(&c, &u16), 0);
        assert_int_equal(u16, 0x1234);
        assert_int_equal(cursor_left(&c), 0);
}

static void test_underrun_leaves_output_and_position(void **state) {
        static const uint8_t b[] = { 0xaa, 0xbb, 0xcc };
        Cursor c = CURSOR_INIT(b, sizeof(b));
        uint32_t u32 = 7;
        const uint8_t *p = NULL;

        assert_int_equal(cursor_get_le32(&c, &u32), -EBADMSG);
        assert_int_equal(u32, 7);
        assert_int_equal(cursor_left(&c), 3);
        assert_int_equal(cursor_get_bytes(&c, 4, &p), -EBADMSG);
        assert_null(p);
        assert_int_equal(cursor_get_bytes(&c, 3, &p), 0);
        assert_ptr_equal(p, b);
        assert_int_equal(cursor_skip(&c, 1), -EBADMSG);
        uint8_t u8;
        assert_int_equal(cursor_peek_u8(&c, &u8), -EBADMSG);
}

static void test_writer_overflow_is_sticky(void **state) {
        uint8_t buf[5];
        Writer w = WRITER_INIT(buf, sizeof(buf));

        assert_int_equal(writer_put_le16(&w, 0x0201), 0);
        assert_int_equal(writer_put_be16(&w, 0x0304), 0);
        assert_int_equal(writer_put_le16(&w, 0xffff), -EMSGSIZE);
        assert_int_equal(w.len, 4);
        /* a later put that would fit must not hide the earlier overflow */
        assert_int_equal(writer_put_u8(&w, 0x05), -EMSGSIZE);
        assert_int_equal(writer_status(&w), -EMSGSIZE);
        assert_memory_equal(buf, "\x01\x02\x03\x04", 4);
}

static void test_writer_le32_be64(void **state) {
        uint8_t buf[12];
        Writer w = WRITER_INIT(buf, sizeof(buf));

        assert_int_equal(writer_put_le32(&w, 0xc0db0001), 0);
        assert_int_equal(writer_put_be64(&w, 0x0102030405060708ULL), 0);
        assert_int_equal(writer_status(&w), 0);
        assert_memory_equal_hex(buf, w.len, "0100dbc00102030405060708");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_reads_little_and_big_endian),
                cmocka_unit_test(test_underrun_leaves_output_and_position),
                cmocka_unit_test(test_writer_overflow_is_sticky),
                cmocka_unit_test(test_writer_le32_be64),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
