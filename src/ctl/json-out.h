/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A small streaming JSON writer for meshprovctl --json. The caller opens and closes objects and arrays; the
 * writer places commas, colons and (optionally) indentation. Strings may hold any bytes: quotes, backslashes
 * and control characters are escaped, valid UTF-8 is kept, U+2028/U+2029 are escaped, and every byte that is
 * not part of a valid UTF-8 sequence becomes U+FFFD, so the output is always valid JSON (RFC 8259).
 * Misuse (a value where a key is due, unbalanced ends, too deep) is recorded and reported by
 * json_out_finish(); write errors are reported there too. */

#include <stdio.h>

#include "macro.h"
#include "time-util.h"

#define JSON_OUT_DEPTH_MAX 32u

typedef struct JsonOut {
        FILE *f;
        bool pretty;
        unsigned depth;
        bool in_object[JSON_OUT_DEPTH_MAX + 1]; /* per level: object (true) or array */
        bool has_items[JSON_OUT_DEPTH_MAX + 1];
        bool key_pending; /* a key was written, its value is due */
        bool done;        /* a complete top-level value was written */
        int error;
} JsonOut;

/* pretty: two-space indentation and a newline per item; otherwise one line. */
void json_out_init(JsonOut *j, FILE *f, bool pretty);
/* Ends the document with a newline and flushes. 0, or -EINVAL (misuse / incomplete), -EIO (write error). */
int json_out_finish(JsonOut *j);

void json_begin_object(JsonOut *j);
void json_end_object(JsonOut *j);
void json_begin_array(JsonOut *j);
void json_end_array(JsonOut *j);
void json_key(JsonOut *j, const char *key);

void json_string(JsonOut *j, const char *s); /* NULL -> null */
void json_string_len(JsonOut *j, const void *p, size_t n);
void json_hex(JsonOut *j, const void *p, size_t n); /* lower-case hex string */
void json_int(JsonOut *j, int64_t v);
void json_uint(JsonOut *j, uint64_t v);
void json_bool(JsonOut *j, bool b);
void json_null(JsonOut *j);
/* "2026-11-21T15:42:07.123Z" (UTC), or null for 0 / USEC_INFINITY */
void json_timestamp(JsonOut *j, usec_t t);

/* key + value in one call */
void json_kv_string(JsonOut *j, const char *key, const char *s);
void json_kv_hex(JsonOut *j, const char *key, const void *p, size_t n);
void json_kv_int(JsonOut *j, const char *key, int64_t v);
void json_kv_uint(JsonOut *j, const char *key, uint64_t v);
void json_kv_bool(JsonOut *j, const char *key, bool b);
void json_kv_null(JsonOut *j, const char *key);
void json_kv_timestamp(JsonOut *j, const char *key, usec_t t);

/* Writes s (n bytes) as a quoted, escaped JSON string to f. Exposed for tests. */
void json_write_string(FILE *f, const void *s, size_t n);
