/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Bounded reading and writing of bytes. Every decoder of untrusted input reads through a Cursor: each getter
 * checks the remaining length first and returns -EBADMSG on underrun, leaving the output untouched. Nobody
 * indexes a raw pointer into received bytes. Writers report -EMSGSIZE instead of overrunning. */

#include "macro.h"

typedef struct Cursor {
        const uint8_t *p;
        size_t left;
} Cursor;

#define CURSOR_INIT(buf, len) ((Cursor){ .p = (const uint8_t *)(buf), .left = (len) })

static inline size_t cursor_left(const Cursor *c) {
        return c->left;
}

int cursor_get_u8(Cursor *c, uint8_t *ret);
int cursor_get_le16(Cursor *c, uint16_t *ret);
int cursor_get_le32(Cursor *c, uint32_t *ret);
int cursor_get_le64(Cursor *c, uint64_t *ret);
int cursor_get_be16(Cursor *c, uint16_t *ret);
int cursor_get_be32(Cursor *c, uint32_t *ret);
int cursor_get_be64(Cursor *c, uint64_t *ret);
/* *ret is a view into the cursor's buffer. */
int cursor_get_bytes(Cursor *c, size_t n, const uint8_t **ret);
int cursor_copy_bytes(Cursor *c, void *dst, size_t n);
int cursor_skip(Cursor *c, size_t n);
int cursor_peek_u8(const Cursor *c, uint8_t *ret);
/* Takes everything that is left. */
void cursor_get_rest(Cursor *c, const uint8_t **ret, size_t *ret_len);

typedef struct Writer {
        uint8_t *p;
        size_t size;
        size_t len;
        bool overflow; /* sticky: set once a put did not fit */
} Writer;

#define WRITER_INIT(buf, sz) ((Writer){ .p = (uint8_t *)(buf), .size = (sz) })

int writer_put_u8(Writer *w, uint8_t v);
int writer_put_le16(Writer *w, uint16_t v);
int writer_put_le32(Writer *w, uint32_t v);
int writer_put_be16(Writer *w, uint16_t v);
int writer_put_be32(Writer *w, uint32_t v);
int writer_put_be64(Writer *w, uint64_t v);
int writer_put_bytes(Writer *w, const void *p, size_t n);
/* 0 if every put fitted, else -EMSGSIZE. */
static inline int writer_status(const Writer *w) {
        return w->overflow ? -EMSGSIZE : 0;
}

static inline uint16_t unaligned_read_le16(const void *p) {
        const uint8_t *b = p;
        return (uint16_t)(b[0] | (b[1] << 8));
}
static inline uint32_t unaligned_read_le32(const void *p) {
        const uint8_t *b = p;
        return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}
static inline void unaligned_write_le16(void *p, uint16_t v) {
        uint8_t *b = p;
        b[0] = (uint8_t)v;
        b[1] = (uint8_t)(v >> 8);
}
static inline void unaligned_write_le32(void *p, uint32_t v) {
        uint8_t *b = p;
        for (int i = 0; i < 4; i++)
                b[i] = (uint8_t)(v >> (8 * i));
}
