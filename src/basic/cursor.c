/* SPDX-License-Identifier: Apache-2.0 */
#include "cursor.h"

int cursor_get_bytes(Cursor *c, size_t n, const uint8_t **ret) {
        if (c->left < n)
                return -EBADMSG;
        if (ret)
                *ret = c->p;
        if (n == 0)
                return 0; /* c->p may be NULL for an empty buffer: no arithmetic on it */
        c->p += n;
        c->left -= n;
        return 0;
}

int cursor_copy_bytes(Cursor *c, void *dst, size_t n) {
        const uint8_t *p;
        int r = cursor_get_bytes(c, n, &p);
        if (r < 0)
                return r;
        if (n > 0)
                memcpy(dst, p, n);
        return 0;
}

int cursor_skip(Cursor *c, size_t n) {
        return cursor_get_bytes(c, n, NULL);
}

int cursor_peek_u8(const Cursor *c, uint8_t *ret) {
        if (c->left < 1)
                return -EBADMSG;
        *ret = c->p[0];
        return 0;
}

void cursor_get_rest(Cursor *c, const uint8_t **ret, size_t *ret_len) {
        *ret = c->p;
        *ret_len = c->left;
        c->p += c->left;
        c->left = 0;
}

static int cursor_get_uint(Cursor *c, size_t n, bool big_endian, uint64_t *ret) {
        const uint8_t *p;
        uint64_t v = 0;
        int r = cursor_get_bytes(c, n, &p);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                size_t idx = big_endian ? i : n - 1 - i;
                v = (v << 8) | p[idx];
        }
        *ret = v;
        return 0;
}

int cursor_get_u8(Cursor *c, uint8_t *ret) {
        uint64_t v;
        int r = cursor_get_uint(c, 1, false, &v);
        if (r < 0)
                return r;
        *ret = (uint8_t)v;
        return 0;
}

#define DEFINE_GETTER(name, type, n, be)               \
        int name(Cursor *c, type *ret) {               \
                uint64_t v;                            \
                int r = cursor_get_uint(c, n, be, &v); \
                if (r < 0)                             \
                        return r;                      \
                *ret = (type)v;                        \
                return 0;                              \
        }

DEFINE_GETTER(cursor_get_le16, uint16_t, 2, false)
DEFINE_GETTER(cursor_get_le32, uint32_t, 4, false)
DEFINE_GETTER(cursor_get_le64, uint64_t, 8, false)
DEFINE_GETTER(cursor_get_be16, uint16_t, 2, true)
DEFINE_GETTER(cursor_get_be32, uint32_t, 4, true)
DEFINE_GETTER(cursor_get_be64, uint64_t, 8, true)

int writer_put_bytes(Writer *w, const void *p, size_t n) {
        if (w->overflow || w->size - w->len < n) {
                w->overflow = true;
                return -EMSGSIZE;
        }
        if (n > 0)
                memcpy(w->p + w->len, p, n);
        w->len += n;
        return 0;
}

static int writer_put_uint(Writer *w, uint64_t v, size_t n, bool big_endian) {
        uint8_t b[8];
        for (size_t i = 0; i < n; i++) {
                size_t idx = big_endian ? n - 1 - i : i;
                b[idx] = (uint8_t)(v >> (8 * i));
        }
        return writer_put_bytes(w, b, n);
}

int writer_put_u8(Writer *w, uint8_t v) {
        return writer_put_bytes(w, &v, 1);
}
int writer_put_le16(Writer *w, uint16_t v) {
        return writer_put_uint(w, v, 2, false);
}
int writer_put_le32(Writer *w, uint32_t v) {
        return writer_put_uint(w, v, 4, false);
}
int writer_put_be16(Writer *w, uint16_t v) {
        return writer_put_uint(w, v, 2, true);
}
int writer_put_be32(Writer *w, uint32_t v) {
        return writer_put_uint(w, v, 4, true);
}
int writer_put_be64(Writer *w, uint64_t v) {
        return writer_put_uint(w, v, 8, true);
}
