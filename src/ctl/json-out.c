/* SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>

#include "json-out.h"
#include "text-util.h"

void json_out_init(JsonOut *j, FILE *f, bool pretty) {
        *j = (JsonOut){ .f = f, .pretty = pretty };
}

static void indent(JsonOut *j) {
        if (!j->pretty)
                return;
        fputc('\n', j->f);
        for (unsigned i = 0; i < j->depth; i++)
                fputs("  ", j->f);
}

/* Before any value (scalar or container): a comma and indentation inside arrays; nothing after a key. */
static bool value_prefix(JsonOut *j) {
        if (j->error)
                return false;
        if (j->depth == 0) {
                if (j->done) {
                        j->error = -EINVAL; /* one document only */
                        return false;
                }
                return true;
        }
        if (j->in_object[j->depth]) {
                if (!j->key_pending) {
                        j->error = -EINVAL; /* a value inside an object needs a key */
                        return false;
                }
                j->key_pending = false;
                return true;
        }
        if (j->has_items[j->depth])
                fputc(',', j->f);
        j->has_items[j->depth] = true;
        indent(j);
        return true;
}

static void value_done(JsonOut *j) {
        if (j->depth == 0)
                j->done = true;
}

void json_key(JsonOut *j, const char *key) {
        if (j->error)
                return;
        if (j->depth == 0 || !j->in_object[j->depth] || j->key_pending || !key) {
                j->error = -EINVAL;
                return;
        }
        if (j->has_items[j->depth])
                fputc(',', j->f);
        j->has_items[j->depth] = true;
        indent(j);
        json_write_string(j->f, key, strlen(key));
        fputs(j->pretty ? ": " : ":", j->f);
        j->key_pending = true;
}

static void begin(JsonOut *j, bool object) {
        if (!value_prefix(j))
                return;
        if (j->depth >= JSON_OUT_DEPTH_MAX) {
                j->error = -EINVAL;
                return;
        }
        fputc(object ? '{' : '[', j->f);
        j->depth++;
        j->in_object[j->depth] = object;
        j->has_items[j->depth] = false;
}

static void end(JsonOut *j, bool object) {
        if (j->error)
                return;
        if (j->depth == 0 || j->in_object[j->depth] != object || j->key_pending) {
                j->error = -EINVAL;
                return;
        }
        bool had = j->has_items[j->depth];
        j->depth--;
        if (had)
                indent(j);
        fputc(object ? '}' : ']', j->f);
        value_done(j);
}

void json_begin_object(JsonOut *j) {
        begin(j, true);
}
void json_end_object(JsonOut *j) {
        end(j, true);
}
void json_begin_array(JsonOut *j) {
        begin(j, false);
}
void json_end_array(JsonOut *j) {
        end(j, false);
}

void json_write_string(FILE *f, const void *s, size_t n) {
        const uint8_t *p = s;

        fputc('"', f);
        for (size_t i = 0; i < n;) {
                uint8_t c = p[i];
                size_t l;

                switch (c) {
                case '"':
                        fputs("\\\"", f);
                        i++;
                        continue;
                case '\\':
                        fputs("\\\\", f);
                        i++;
                        continue;
                case '\n':
                        fputs("\\n", f);
                        i++;
                        continue;
                case '\r':
                        fputs("\\r", f);
                        i++;
                        continue;
                case '\t':
                        fputs("\\t", f);
                        i++;
                        continue;
                case '\b':
                        fputs("\\b", f);
                        i++;
                        continue;
                case '\f':
                        fputs("\\f", f);
                        i++;
                        continue;
                }
                if (c < 0x20 || c == 0x7f) {
                        fprintf(f, "\\u%04x", c);
                        i++;
                        continue;
                }
                l = utf8_sequence_len(p + i, n - i);
                if (l == 0) {
                        fputs("\\ufffd", f);
                        i++;
                        continue;
                }
                /* U+2028 / U+2029 are valid JSON but break JavaScript string literals. */
                if (l == 3 && p[i] == 0xe2 && p[i + 1] == 0x80 && (p[i + 2] == 0xa8 || p[i + 2] == 0xa9)) {
                        fprintf(f, "\\u%04x", p[i + 2] == 0xa8 ? 0x2028 : 0x2029);
                        i += 3;
                        continue;
                }
                fwrite(p + i, 1, l, f);
                i += l;
        }
        fputc('"', f);
}

void json_string_len(JsonOut *j, const void *p, size_t n) {
        if (!value_prefix(j))
                return;
        json_write_string(j->f, p, n);
        value_done(j);
}

void json_string(JsonOut *j, const char *s) {
        if (!s) {
                json_null(j);
                return;
        }
        json_string_len(j, s, strlen(s));
}

void json_hex(JsonOut *j, const void *p, size_t n) {
        const uint8_t *b = p;

        if (!value_prefix(j))
                return;
        fputc('"', j->f);
        for (size_t i = 0; i < n; i++)
                fprintf(j->f, "%02x", b[i]);
        fputc('"', j->f);
        value_done(j);
}

void json_int(JsonOut *j, int64_t v) {
        if (!value_prefix(j))
                return;
        fprintf(j->f, "%" PRIi64, v);
        value_done(j);
}

void json_uint(JsonOut *j, uint64_t v) {
        if (!value_prefix(j))
                return;
        fprintf(j->f, "%" PRIu64, v);
        value_done(j);
}

void json_bool(JsonOut *j, bool b) {
        if (!value_prefix(j))
                return;
        fputs(b ? "true" : "false", j->f);
        value_done(j);
}

void json_null(JsonOut *j) {
        if (!value_prefix(j))
                return;
        fputs("null", j->f);
        value_done(j);
}

void json_timestamp(JsonOut *j, usec_t t) {
        char buf[64];

        if (t == 0 || t == USEC_INFINITY) {
                json_null(j);
                return;
        }
        json_string(j, format_timestamp_utc(buf, sizeof(buf), t));
}

void json_kv_string(JsonOut *j, const char *key, const char *s) {
        json_key(j, key);
        json_string(j, s);
}

void json_kv_hex(JsonOut *j, const char *key, const void *p, size_t n) {
        json_key(j, key);
        json_hex(j, p, n);
}

void json_kv_int(JsonOut *j, const char *key, int64_t v) {
        json_key(j, key);
        json_int(j, v);
}

void json_kv_uint(JsonOut *j, const char *key, uint64_t v) {
        json_key(j, key);
        json_uint(j, v);
}

void json_kv_bool(JsonOut *j, const char *key, bool b) {
        json_key(j, key);
        json_bool(j, b);
}

void json_kv_null(JsonOut *j, const char *key) {
        json_key(j, key);
        json_null(j);
}

void json_kv_timestamp(JsonOut *j, const char *key, usec_t t) {
        json_key(j, key);
        json_timestamp(j, t);
}

int json_out_finish(JsonOut *j) {
        if (j->error)
                return j->error;
        if (j->depth != 0 || !j->done)
                return -EINVAL;
        fputc('\n', j->f);
        if (fflush(j->f) != 0 || ferror(j->f))
                return -EIO;
        return 0;
}
