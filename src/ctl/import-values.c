/* SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "cursor.h"
#include "import-values.h"

_printf_(4, 5) static int fail(int r, char *msg, size_t msgsz, const char *format, ...) {
        va_list ap;

        if (msg && msgsz > 0) {
                va_start(ap, format);
                (void)vsnprintf(msg, msgsz, format, ap);
                va_end(ap);
        }
        return r;
}

static int hexval(uint8_t c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

static bool py_space(uint8_t c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int parse_hex_string(const char *s, size_t len, uint8_t *buf, size_t bufsz, size_t *ret_len) {
        Cursor c = CURSOR_INIT(s, len);
        size_t n = 0;
        int hi = -1;

        /* One pass: drop each "0x"/"0X" (left to right, not re-scanned, like str.replace), and read hex
         * digit pairs with blanks allowed only between pairs (like bytes.fromhex). */
        while (cursor_left(&c) > 0) {
                uint8_t ch, next;

                (void)cursor_get_u8(&c, &ch);
                if (ch == '0' && cursor_peek_u8(&c, &next) >= 0 && (next == 'x' || next == 'X')) {
                        (void)cursor_skip(&c, 1);
                        continue;
                }
                if (py_space(ch)) {
                        if (hi >= 0)
                                return -EINVAL; /* a blank inside a pair */
                        continue;
                }
                int v = hexval(ch);
                if (v < 0)
                        return -EINVAL;
                if (hi < 0) {
                        hi = v;
                        continue;
                }
                if (n >= bufsz)
                        return -EMSGSIZE;
                buf[n++] = (uint8_t)((hi << 4) | v);
                hi = -1;
        }
        if (hi >= 0)
                return -EINVAL; /* odd number of digits */
        *ret_len = n;
        return 0;
}

int parse_python_int(const char *s, size_t len, int64_t *ret) {
        Cursor c = CURSOR_INIT(s, len);
        const uint8_t *p;
        size_t n, i = 0, digits = 0;
        unsigned base = 10;
        uint64_t v = 0, limit;
        bool neg = false, last_us = false;

        cursor_get_rest(&c, &p, &n);
        while (n > 0 && py_space(p[0])) {
                p++;
                n--;
        }
        while (n > 0 && py_space(p[n - 1]))
                n--;
        if (n > 0 && (p[0] == '+' || p[0] == '-')) {
                neg = p[0] == '-';
                i = 1;
        }
        if (n - i >= 2 && p[i] == '0' && strchr("xXoObB", p[i + 1]) && p[i + 1] != '\0') {
                base = (p[i + 1] == 'x' || p[i + 1] == 'X')   ? 16
                       : (p[i + 1] == 'o' || p[i + 1] == 'O') ? 8
                                                              : 2;
                i += 2;
                if (i < n && p[i] == '_')
                        i++; /* "0x_1f" */
        } else if (n - i >= 2 && p[i] == '0') {
                /* decimal with a leading zero: only zeros allowed */
                for (size_t k = i; k < n; k++)
                        if (p[k] != '0' && p[k] != '_')
                                return -EINVAL;
        }

        limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        for (; i < n; i++) {
                int d;

                if (p[i] == '_') {
                        if (last_us || digits == 0)
                                return -EINVAL;
                        last_us = true;
                        continue;
                }
                d = hexval(p[i]);
                if (d < 0 || (unsigned)d >= base)
                        return -EINVAL;
                if (v > (limit - (unsigned)d) / base)
                        return -ERANGE;
                v = v * base + (unsigned)d;
                digits++;
                last_us = false;
        }
        if (digits == 0 || last_us)
                return -EINVAL;
        *ret = neg ? (int64_t)(0 - v) : (int64_t)v;
        return 0;
}

static int b64val(uint8_t c) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        return -1;
}

int parse_base64(const char *s, size_t len, uint8_t *buf, size_t bufsz, size_t *ret_len) {
        Cursor c = CURSOR_INIT(s, len);
        unsigned acc = 0, bits = 0, pad = 0, chars = 0;
        size_t n = 0;

        while (cursor_left(&c) > 0) {
                uint8_t ch;
                int v;

                (void)cursor_get_u8(&c, &ch);
                if (py_space(ch))
                        continue;
                if (ch == '=') {
                        pad++;
                        chars++;
                        continue;
                }
                if (pad > 0)
                        return -EINVAL; /* data after padding */
                v = b64val(ch);
                if (v < 0)
                        return -EINVAL;
                chars++;
                acc = (acc << 6) | (unsigned)v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        if (n >= bufsz)
                                return -EMSGSIZE;
                        buf[n++] = (uint8_t)(acc >> bits);
                        acc &= (1u << bits) - 1;
                }
        }
        if (chars % 4 != 0 || pad > 2)
                return -EINVAL;
        *ret_len = n;
        return 0;
}

static int type_of(const YNode *n, YType *ret, char *msg, size_t msgsz) {
        YType t = ynode_type(n);
        if (t < 0)
                return fail(-EINVAL, msg, msgsz, "unsupported tag '%.60s'", n->tag ?: "?");
        *ret = t;
        return 0;
}

int yvalue_bytes(const YNode *n, uint8_t *buf, size_t bufsz, size_t *ret_len, char *msg, size_t msgsz) {
        YType t = _YTYPE_INVALID;
        size_t len;
        bool neg;
        int r;

        r = type_of(n, &t, msg, msgsz);
        if (r < 0)
                return r;

        switch (t) {
        case YTYPE_STR:
                if (n->len >= 2 && n->value[0] == '0' && (n->value[1] == 'x' || n->value[1] == 'X')) {
                        r = parse_hex_string(n->value, n->len, buf, bufsz, &len);
                        if (r == -EMSGSIZE)
                                return fail(r, msg, msgsz, "longer than %zu bytes", bufsz);
                        if (r < 0)
                                return fail(r, msg, msgsz,
                                            "not valid hex: a value starting with 0x must be pairs of hex "
                                            "digits (\"0x00 0x01\" or \"0x0001\")");
                } else {
                        if (n->len > bufsz)
                                return fail(-EMSGSIZE, msg, msgsz, "longer than %zu bytes", bufsz);
                        memcpy(buf, n->value, n->len);
                        len = n->len;
                }
                break;

        case YTYPE_INT:
                r = yint_parse(n->value, n->len, &neg, buf, bufsz, &len);
                if (r == -ERANGE)
                        return fail(-EMSGSIZE, msg, msgsz, "longer than %zu bytes", bufsz);
                if (r < 0)
                        return fail(-EINVAL, msg, msgsz, "not a valid integer");
                if (neg)
                        return fail(-EINVAL, msg, msgsz, "a negative integer cannot be converted to bytes");
                break;

        case YTYPE_BINARY:
                r = parse_base64(n->value, n->len, buf, bufsz, &len);
                if (r == -EMSGSIZE)
                        return fail(r, msg, msgsz, "longer than %zu bytes", bufsz);
                if (r < 0)
                        return fail(r, msg, msgsz, "!!binary value is not valid base64");
                break;

        case YTYPE_BOOL:
        case YTYPE_NULL:
        case YTYPE_FLOAT:
        case YTYPE_TIMESTAMP:
        case YTYPE_SEQUENCE:
        case YTYPE_MAPPING:
                return fail(-EINVAL, msg, msgsz,
                            "expected bytes (a 0x hex string, text or an integer), got %s",
                            ytype_to_string(t));
        case _YTYPE_MAX:
        case _YTYPE_INVALID:
                return fail(-EINVAL, msg, msgsz, "unsupported value");
        }

        *ret_len = len;
        return 0;
}

int yvalue_int(const YNode *n, int64_t *ret, char *msg, size_t msgsz) {
        uint8_t mag[16];
        size_t len;
        uint64_t v = 0;
        bool neg;
        YType t = _YTYPE_INVALID;
        int r;

        r = type_of(n, &t, msg, msgsz);
        if (r < 0)
                return r;

        switch (t) {
        case YTYPE_INT:
                r = yint_parse(n->value, n->len, &neg, mag, sizeof(mag), &len);
                if (r < 0 || len > 8)
                        return fail(-ERANGE, msg, msgsz, "integer out of range");
                for (size_t i = 0; i < len; i++)
                        v = (v << 8) | mag[i];
                if ((!neg && v > (uint64_t)INT64_MAX) || (neg && v > (uint64_t)INT64_MAX + 1))
                        return fail(-ERANGE, msg, msgsz, "integer out of range");
                *ret = neg ? (int64_t)(0 - v) : (int64_t)v;
                return 0;

        case YTYPE_STR:
                r = parse_python_int(n->value, n->len, ret);
                if (r == -ERANGE)
                        return fail(r, msg, msgsz, "integer out of range");
                if (r < 0)
                        return fail(-EINVAL, msg, msgsz, "expected an integer, got the string '%.40s'",
                                    n->value);
                return 0;

        case YTYPE_BOOL:
        case YTYPE_NULL:
        case YTYPE_FLOAT:
        case YTYPE_BINARY:
        case YTYPE_TIMESTAMP:
        case YTYPE_SEQUENCE:
        case YTYPE_MAPPING:
                return fail(-EINVAL, msg, msgsz, "expected an integer, got %s", ytype_to_string(t));
        case _YTYPE_MAX:
        case _YTYPE_INVALID:
                break;
        }
        return fail(-EINVAL, msg, msgsz, "unsupported value");
}

int yvalue_int_range(const YNode *n, int64_t min, int64_t max, int64_t *ret, char *msg, size_t msgsz) {
        int64_t v;
        int r;

        r = yvalue_int(n, &v, msg, msgsz);
        if (r < 0)
                return r;
        if (v < min || v > max)
                return fail(-ERANGE, msg, msgsz,
                            "must be in the range %" PRIi64 "..%" PRIi64 ", got %" PRIi64, min, max, v);
        *ret = v;
        return 0;
}

static const char *const true_words[] = {
        "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", NULL
};

int yvalue_bool(const YNode *n, bool *ret, char *msg, size_t msgsz) {
        YType t = _YTYPE_INVALID;
        int r;

        r = type_of(n, &t, msg, msgsz);
        if (r < 0)
                return r;
        if (t != YTYPE_BOOL)
                return fail(-EINVAL, msg, msgsz, "expected yes/no (true/false), got %s", ytype_to_string(t));
        /* YAML 1.1 true words; anything else typed as bool is false (or an explicit !!bool that is not a
         * bool word, which ynode_type() already refused) */
        *ret = false;
        for (const char *const *w = true_words; *w; w++)
                if (streq(n->value, *w))
                        *ret = true;
        return 0;
}

int yvalue_name(const YNode *n, const char **ret, char *msg, size_t msgsz) {
        YType t = _YTYPE_INVALID;
        int r;

        r = type_of(n, &t, msg, msgsz);
        if (r < 0)
                return r;
        if (t != YTYPE_STR && t != YTYPE_INT)
                return fail(-EINVAL, msg, msgsz, "expected a name, got %s", ytype_to_string(t));
        if (strlen(n->value) != n->len)
                return fail(-EINVAL, msg, msgsz, "a name cannot contain NUL bytes");
        *ret = n->value;
        return 0;
}

int yvalue_user_item(const YNode *n, ProvUserItem *ret, char *msg, size_t msgsz) {
        ProvUserItem item = { .id = ret->id };
        size_t len;
        YType t = _YTYPE_INVALID;
        int r;

        r = type_of(n, &t, msg, msgsz);
        if (r < 0)
                return r;

        switch (t) {
        case YTYPE_INT:
                item.type = PROV_USER_INT;
                r = yvalue_int(n, &item.integer, msg, msgsz);
                if (r < 0)
                        return fail(r, msg, msgsz, "integer outside the signed 64-bit range");
                break;
        case YTYPE_STR:
                if (n->len > PROV_USER_STRING_MAX)
                        return fail(-EMSGSIZE, msg, msgsz, "text must be at most %u bytes, got %zu",
                                    PROV_USER_STRING_MAX, n->len);
                item.type = PROV_USER_TEXT;
                memcpy(item.data, n->value, n->len);
                item.len = (uint8_t)n->len;
                break;
        case YTYPE_BOOL:
                item.type = PROV_USER_BOOL;
                r = yvalue_bool(n, &item.boolean, msg, msgsz);
                if (r < 0)
                        return r;
                break;
        case YTYPE_BINARY: {
                uint8_t buf[YVALUE_BYTES_MAX];

                r = parse_base64(n->value, n->len, buf, sizeof(buf), &len);
                if (r < 0 && r != -EMSGSIZE)
                        return fail(r, msg, msgsz, "!!binary value is not valid base64");
                if (r == -EMSGSIZE || len > PROV_USER_STRING_MAX)
                        return fail(-EMSGSIZE, msg, msgsz, "bytes must be at most %u bytes",
                                    PROV_USER_STRING_MAX);
                item.type = PROV_USER_BYTES;
                memcpy(item.data, buf, len);
                item.len = (uint8_t)len;
                break;
        }
        case YTYPE_FLOAT:
                return fail(-EINVAL, msg, msgsz,
                            "floats are not supported (use an integer, text, bool or "
                            "!!binary)");
        case YTYPE_NULL:
                return fail(-EINVAL, msg, msgsz, "null is not allowed (the node rejects null values)");
        case YTYPE_TIMESTAMP:
                return fail(-EINVAL, msg, msgsz, "a date is not supported; quote it to store it as text");
        case YTYPE_SEQUENCE:
        case YTYPE_MAPPING:
                return fail(-EINVAL, msg, msgsz, "%s is not allowed (the node rejects arrays and maps)",
                            ytype_to_string(t));
        case _YTYPE_MAX:
        case _YTYPE_INVALID:
                return fail(-EINVAL, msg, msgsz, "unsupported value");
        }

        *ret = item;
        return 0;
}
