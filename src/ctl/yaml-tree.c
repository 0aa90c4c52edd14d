/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>
#include <yaml.h>

#include "cursor.h"
#include "meshprov-limits.h"
#include "yaml-tree.h"

#define TAG_PREFIX "tag:yaml.org,2002:"

/* ---- nodes ---- */

YNode *ynode_ref(YNode *n) {
        if (n)
                n->n_ref++;
        return n;
}

YNode *ynode_unref(YNode *n) {
        if (!n)
                return NULL;
        assert(n->n_ref > 0);
        if (--n->n_ref > 0)
                return NULL;
        size_t total = n->kind == YNODE_MAPPING ? 2 * n->n_items : n->n_items;
        for (size_t i = 0; i < total; i++)
                ynode_unref(n->items[i]);
        free(n->items);
        free(n->tag);
        free(n->value);
        free(n);
        return NULL;
}

/* ---- scalar typing (PyYAML SafeLoader, YAML 1.1) ---- */

static bool is_digit(uint8_t c) {
        return c >= '0' && c <= '9';
}

static int digit_value(uint8_t c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return 99;
}

/* magnitude = magnitude * mul + add, big-endian in buf[0..*len). -ERANGE when it would exceed bufsz. */
static int mag_muladd(uint8_t *buf, size_t bufsz, size_t *len, unsigned mul, unsigned add) {
        unsigned carry = add;

        for (size_t i = *len; i > 0; i--) {
                unsigned v = buf[i - 1] * mul + carry;
                buf[i - 1] = (uint8_t)v;
                carry = v >> 8;
        }
        while (carry > 0) {
                if (*len >= bufsz)
                        return -ERANGE;
                memmove(buf + 1, buf, *len);
                buf[0] = (uint8_t)carry;
                (*len)++;
                carry >>= 8;
        }
        return 0;
}

static bool is_sexagesimal_part(const uint8_t *p, size_t n) {
        /* [0-5]?[0-9] */
        if (n == 1)
                return is_digit(p[0]);
        if (n == 2)
                return p[0] >= '0' && p[0] <= '5' && is_digit(p[1]);
        return false;
}

int yint_parse(const char *s, size_t len, bool *ret_negative, uint8_t *buf, size_t bufsz, size_t *ret_len) {
        Cursor c = CURSOR_INIT(s, len);
        const uint8_t *rest;
        size_t n, mlen = 0, ndigits = 0;
        bool neg = false, sexagesimal = false;
        unsigned base = 10;
        uint8_t ch;
        int r;

        if (cursor_peek_u8(&c, &ch) < 0)
                return -EBADMSG;
        if (ch == '-' || ch == '+') {
                neg = ch == '-';
                (void)cursor_skip(&c, 1);
        }
        cursor_get_rest(&c, &rest, &n);
        if (n == 0)
                return -EBADMSG;

        /* Which form? (only lower-case 0x / 0b prefixes are ints in YAML 1.1) */
        if (n >= 2 && rest[0] == '0' && rest[1] == 'x') {
                base = 16;
                rest += 2;
                n -= 2;
        } else if (n >= 2 && rest[0] == '0' && rest[1] == 'b') {
                base = 2;
                rest += 2;
                n -= 2;
        } else if (n >= 2 && rest[0] == '0')
                base = 8; /* 0[0-7_]+ */
        else if (rest[0] >= '1' && rest[0] <= '9' && memchr(rest, ':', n))
                sexagesimal = true;
        else if (n == 1 && rest[0] == '0')
                base = 10;
        else if (!(rest[0] >= '1' && rest[0] <= '9'))
                return -EBADMSG;

        if (sexagesimal) {
                /* [1-9][0-9_]*(:[0-5]?[0-9])+ : the first part decimal, then base-60 digits */
                size_t i = 0;

                for (; i < n && rest[i] != ':'; i++) {
                        if (rest[i] == '_')
                                continue;
                        if (!is_digit(rest[i]))
                                return -EBADMSG;
                        r = mag_muladd(buf, bufsz, &mlen, 10, (unsigned)(rest[i] - '0'));
                        if (r < 0)
                                return r;
                }
                while (i < n) {
                        size_t start = ++i, end = i;
                        unsigned v = 0;

                        while (end < n && rest[end] != ':')
                                end++;
                        if (!is_sexagesimal_part(rest + start, end - start))
                                return -EBADMSG;
                        for (size_t k = start; k < end; k++)
                                v = v * 10 + (unsigned)(rest[k] - '0');
                        r = mag_muladd(buf, bufsz, &mlen, 60, v);
                        if (r < 0)
                                return r;
                        i = end;
                }
        } else {
                for (size_t i = 0; i < n; i++) {
                        int d;

                        if (rest[i] == '_')
                                continue;
                        d = digit_value(rest[i]);
                        if (d >= (int)base)
                                return -EBADMSG;
                        r = mag_muladd(buf, bufsz, &mlen, base, (unsigned)d);
                        if (r < 0)
                                return r;
                        ndigits++;
                }
                if (ndigits == 0)
                        return -EBADMSG; /* "0x", "0b_" */
        }

        /* minimal: mag_muladd never creates leading zero bytes, except a value of 0 leaves mlen == 0 */
        *ret_negative = neg && mlen > 0;
        *ret_len = mlen;
        return 0;
}

static bool is_int(const char *s, size_t len) {
        uint8_t buf[64];
        size_t l;
        bool neg;
        int r = yint_parse(s, len, &neg, buf, sizeof(buf), &l);
        return r >= 0 || r == -ERANGE;
}

static bool str_in(const char *s, const char *const *list) {
        for (; *list; list++)
                if (streq(s, *list))
                        return true;
        return false;
}

static bool is_bool(const char *s) {
        static const char *const words[] = { "yes",  "Yes",  "YES",   "no",    "No",    "NO", "true",
                                             "True", "TRUE", "false", "False", "FALSE", "on", "On",
                                             "ON",   "off",  "Off",   "OFF",   NULL };
        return str_in(s, words);
}

static bool is_null(const char *s) {
        static const char *const words[] = { "", "~", "null", "Null", "NULL", NULL };
        return str_in(s, words);
}

/* [0-9][0-9_]* */
static size_t span_digits_(const char *s, size_t i, size_t n) {
        size_t k = i;
        if (k < n && is_digit((uint8_t)s[k]))
                for (k++; k < n && (is_digit((uint8_t)s[k]) || s[k] == '_'); k++)
                        ;
        return k - i;
}

/* [eE][-+][0-9]+ at i, or nothing */
static bool exponent_ok(const char *s, size_t i, size_t n) {
        if (i == n)
                return true;
        if (s[i] != 'e' && s[i] != 'E')
                return false;
        if (i + 2 >= n || (s[i + 1] != '-' && s[i + 1] != '+'))
                return false;
        for (size_t k = i + 2; k < n; k++)
                if (!is_digit((uint8_t)s[k]))
                        return false;
        return true;
}

static bool is_float(const char *s, size_t n) {
        size_t i = 0, d;

        if (n > 0 && (s[0] == '-' || s[0] == '+'))
                i = 1;
        if (streq(s + i, ".inf") || streq(s + i, ".Inf") || streq(s + i, ".INF"))
                return true;
        if (streq(s, ".nan") || streq(s, ".NaN") || streq(s, ".NAN"))
                return true;
        if (i == 0 && n > 1 && s[0] == '.') {
                /* \.[0-9_]+ exponent */
                size_t k = 1;
                while (k < n && (is_digit((uint8_t)s[k]) || s[k] == '_'))
                        k++;
                return k > 1 && exponent_ok(s, k, n);
        }
        d = span_digits_(s, i, n);
        if (d == 0)
                return false;
        i += d;
        /* [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]* */
        if (i < n && s[i] == ':') {
                while (i < n && s[i] == ':') {
                        size_t start = ++i;
                        while (i < n && is_digit((uint8_t)s[i]))
                                i++;
                        if (!is_sexagesimal_part((const uint8_t *)s + start, i - start))
                                return false;
                }
                if (i >= n || s[i] != '.')
                        return false;
                for (i++; i < n; i++)
                        if (!is_digit((uint8_t)s[i]) && s[i] != '_')
                                return false;
                return true;
        }
        /* [-+]?[0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)? */
        if (i >= n || s[i] != '.')
                return false;
        for (i++; i < n && (is_digit((uint8_t)s[i]) || s[i] == '_'); i++)
                ;
        return exponent_ok(s, i, n);
}

static bool is_timestamp(const char *s, size_t n) {
        /* [0-9]{4}-[0-9]{1,2}-[0-9]{1,2}, alone or followed by [Tt] or blanks and a time */
        size_t i = 0, k;

        for (k = 0; k < 4; k++)
                if (i + k >= n || !is_digit((uint8_t)s[i + k]))
                        return false;
        i += 4;
        for (int part = 0; part < 2; part++) {
                if (i >= n || s[i] != '-')
                        return false;
                i++;
                k = 0;
                while (i < n && is_digit((uint8_t)s[i]) && k < 2) {
                        i++;
                        k++;
                }
                if (k == 0)
                        return false;
        }
        return i == n || s[i] == 'T' || s[i] == 't' || s[i] == ' ' || s[i] == '\t';
}

YType ynode_type(const YNode *n) {
        switch (n->kind) {
        case YNODE_SEQUENCE:
                return YTYPE_SEQUENCE;
        case YNODE_MAPPING:
                return YTYPE_MAPPING;
        case YNODE_SCALAR:
                break;
        case _YNODE_KIND_MAX:
        case _YNODE_KIND_INVALID:
                return _YTYPE_INVALID;
        }

        if (n->tag && !streq(n->tag, "!")) {
                const char *t = startswith(n->tag, TAG_PREFIX);
                if (!t)
                        return -EBADMSG; /* local or unknown tags */
                if (streq(t, "str"))
                        return YTYPE_STR;
                if (streq(t, "binary"))
                        return YTYPE_BINARY;
                if (streq(t, "int"))
                        return is_int(n->value, n->len) ? YTYPE_INT : -EBADMSG;
                if (streq(t, "bool"))
                        return is_bool(n->value) ? YTYPE_BOOL : -EBADMSG;
                if (streq(t, "null"))
                        return is_null(n->value) ? YTYPE_NULL : -EBADMSG;
                if (streq(t, "float"))
                        return YTYPE_FLOAT;
                if (streq(t, "timestamp"))
                        return YTYPE_TIMESTAMP;
                return -EBADMSG;
        }
        if (!n->plain || (n->tag && streq(n->tag, "!")))
                return YTYPE_STR;
        if (strlen(n->value) != n->len)
                return YTYPE_STR; /* cannot happen for plain scalars; be safe */
        if (is_null(n->value))
                return YTYPE_NULL;
        if (is_bool(n->value))
                return YTYPE_BOOL;
        if (is_int(n->value, n->len))
                return YTYPE_INT;
        if (is_float(n->value, n->len))
                return YTYPE_FLOAT;
        if (is_timestamp(n->value, n->len))
                return YTYPE_TIMESTAMP;
        return YTYPE_STR;
}

const char *ytype_to_string(YType t) {
        static const char *const table[_YTYPE_MAX] = {
                [YTYPE_STR] = "a string",        [YTYPE_INT] = "an integer",  [YTYPE_BOOL] = "a boolean",
                [YTYPE_NULL] = "null (nothing)", [YTYPE_FLOAT] = "a float",   [YTYPE_BINARY] = "!!binary",
                [YTYPE_TIMESTAMP] = "a date",    [YTYPE_SEQUENCE] = "a list", [YTYPE_MAPPING] = "a mapping",
        };
        if (t < 0 || t >= _YTYPE_MAX)
                return "a value with an unsupported tag";
        return table[t];
}

/* ---- the walker ---- */

typedef struct Anchor {
        char *name;
        YNode *node;
} Anchor;

typedef struct Walker {
        yaml_parser_t parser;
        YamlError *err;
        Anchor *anchors;
        size_t n_anchors;
        size_t n_anchor_defs;
        size_t anchored_nodes;
        size_t entry_nodes; /* nodes created for the current entry */
} Walker;

_printf_(5, 6) static int walk_error(Walker *w, int r, size_t line0, size_t col0, const char *format, ...) {
        va_list ap;

        w->err->line = (unsigned)MIN(line0 + 1, (size_t)UINT32_MAX);
        w->err->column = (unsigned)MIN(col0 + 1, (size_t)UINT32_MAX);
        va_start(ap, format);
        (void)vsnprintf(w->err->message, sizeof(w->err->message), format, ap);
        va_end(ap);
        return r;
}

static int next_event(Walker *w, yaml_event_t *ev) {
        if (yaml_parser_parse(&w->parser, ev))
                return 0;

        const yaml_mark_t *m = &w->parser.problem_mark;
        if (w->parser.error == YAML_MEMORY_ERROR)
                return walk_error(w, -ENOMEM, 0, 0, "out of memory");
        if (w->parser.context)
                return walk_error(w, -EBADMSG, m->line, m->column, "YAML syntax error: %s %s",
                                  w->parser.problem ?: "error", w->parser.context);
        return walk_error(w, -EBADMSG, m->line, m->column, "YAML syntax error: %s",
                          w->parser.problem ?: "error");
}

static YNode *anchor_find(Walker *w, const char *name) {
        for (size_t i = w->n_anchors; i > 0; i--)
                if (streq(w->anchors[i - 1].name, name))
                        return w->anchors[i - 1].node;
        return NULL;
}

static int anchor_add(Walker *w, const yaml_event_t *ev, const char *name, YNode *node, size_t n_nodes) {
        if (w->n_anchor_defs >= IMPORT_ANCHORS_MAX)
                return walk_error(w, -E2BIG, ev->start_mark.line, ev->start_mark.column,
                                  "more than %u anchors", IMPORT_ANCHORS_MAX);
        if (w->anchored_nodes + n_nodes > IMPORT_ANCHORED_NODES_MAX)
                return walk_error(w, -E2BIG, ev->start_mark.line, ev->start_mark.column,
                                  "anchors hold more than %u YAML nodes", IMPORT_ANCHORED_NODES_MAX);
        w->n_anchor_defs++;
        w->anchored_nodes += n_nodes;

        for (size_t i = 0; i < w->n_anchors; i++)
                if (streq(w->anchors[i].name, name)) { /* redefined: later aliases see the new node */
                        ynode_unref(w->anchors[i].node);
                        w->anchors[i].node = ynode_ref(node);
                        return 0;
                }

        Anchor *a = reallocarray(w->anchors, w->n_anchors + 1, sizeof(Anchor));
        if (!a)
                return walk_error(w, -ENOMEM, 0, 0, "out of memory");
        w->anchors = a;
        a[w->n_anchors].name = strdup(name);
        if (!a[w->n_anchors].name)
                return walk_error(w, -ENOMEM, 0, 0, "out of memory");
        a[w->n_anchors].node = ynode_ref(node);
        w->n_anchors++;
        return 0;
}

static int node_new(Walker *w, const yaml_event_t *ev, YNodeKind kind, const yaml_char_t *tag, YNode **ret) {
        YNode *n;

        if (w->entry_nodes >= IMPORT_ENTRY_NODES_MAX)
                return walk_error(w, -E2BIG, ev->start_mark.line, ev->start_mark.column,
                                  "more than %u YAML nodes in one entry", IMPORT_ENTRY_NODES_MAX);
        n = new0(YNode, 1);
        if (!n)
                return walk_error(w, -ENOMEM, 0, 0, "out of memory");
        n->n_ref = 1;
        n->kind = kind;
        n->line = (unsigned)MIN(ev->start_mark.line + 1, (size_t)UINT32_MAX);
        n->column = (unsigned)MIN(ev->start_mark.column + 1, (size_t)UINT32_MAX);
        if (tag) {
                n->tag = strdup((const char *)tag);
                if (!n->tag) {
                        free(n);
                        return walk_error(w, -ENOMEM, 0, 0, "out of memory");
                }
        }
        w->entry_nodes++;
        *ret = n;
        return 0;
}

static int node_append(Walker *w, YNode *seq, YNode *child) {
        YNode **items = reallocarray(seq->items, seq->n_items + 1, sizeof(YNode *));

        if (!items)
                return walk_error(w, -ENOMEM, 0, 0, "out of memory");
        seq->items = items;
        items[seq->n_items++] = child;
        return 0;
}

static int build(Walker *w, yaml_event_t *ev, unsigned depth, YNode **ret);

/* Builds the children of a collection whose start event has been consumed. */
static int build_children(Walker *w, YNode *n, yaml_event_type_t end_type, unsigned depth) {
        bool pending = false; /* mapping: a key waits for its value (it is not counted in n_items yet) */
        int r;

        for (;;) {
                yaml_event_t child_ev;
                YNode *child = NULL;

                r = next_event(w, &child_ev);
                if (r < 0)
                        goto fail;
                if (child_ev.type == end_type) {
                        yaml_event_delete(&child_ev);
                        return 0;
                }
                r = build(w, &child_ev, depth + 1, &child);
                yaml_event_delete(&child_ev);
                if (r < 0)
                        goto fail;

                if (n->kind == YNODE_MAPPING) {
                        size_t total = 2 * n->n_items + pending;
                        YNode **items = reallocarray(n->items, total + 1, sizeof(YNode *));
                        if (!items) {
                                ynode_unref(child);
                                r = walk_error(w, -ENOMEM, 0, 0, "out of memory");
                                goto fail;
                        }
                        n->items = items;
                        items[total] = child;
                        if (pending)
                                n->n_items++;
                        pending = !pending;
                } else {
                        r = node_append(w, n, child);
                        if (r < 0) {
                                ynode_unref(child);
                                goto fail;
                        }
                }
        }

fail:
        if (pending)
                ynode_unref(n->items[2 * n->n_items]);
        return r;
}

static int build(Walker *w, yaml_event_t *ev, unsigned depth, YNode **ret) {
        _cleanup_(ynode_unrefp) YNode *n = NULL;
        const yaml_char_t *anchor = NULL;
        size_t before = w->entry_nodes;
        int r;

        switch (ev->type) {
        case YAML_ALIAS_EVENT: {
                YNode *a = anchor_find(w, (const char *)ev->data.alias.anchor);
                if (!a)
                        return walk_error(w, -EBADMSG, ev->start_mark.line, ev->start_mark.column,
                                          "alias '*%.64s' refers to no (complete) anchor",
                                          (const char *)ev->data.alias.anchor);
                *ret = ynode_ref(a);
                return 0;
        }

        case YAML_SCALAR_EVENT:
                if (ev->data.scalar.length > IMPORT_SCALAR_MAX)
                        return walk_error(w, -E2BIG, ev->start_mark.line, ev->start_mark.column,
                                          "scalar longer than %u bytes", IMPORT_SCALAR_MAX);
                r = node_new(w, ev, YNODE_SCALAR, ev->data.scalar.tag, &n);
                if (r < 0)
                        return r;
                n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
                n->value = malloc(ev->data.scalar.length + 1);
                if (!n->value)
                        return walk_error(w, -ENOMEM, 0, 0, "out of memory");
                memcpy(n->value, ev->data.scalar.value, ev->data.scalar.length);
                n->value[ev->data.scalar.length] = '\0';
                n->len = ev->data.scalar.length;
                anchor = ev->data.scalar.anchor;
                break;

        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
                bool map = ev->type == YAML_MAPPING_START_EVENT;

                if (depth >= IMPORT_DEPTH_MAX)
                        return walk_error(w, -E2BIG, ev->start_mark.line, ev->start_mark.column,
                                          "nested deeper than %u levels", IMPORT_DEPTH_MAX);
                r = node_new(w, ev, map ? YNODE_MAPPING : YNODE_SEQUENCE,
                             map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag, &n);
                if (r < 0)
                        return r;
                anchor = map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
                r = build_children(w, n, map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT, depth);
                if (r < 0)
                        return r;
                break;
        }

        default:
                return walk_error(w, -EBADMSG, ev->start_mark.line, ev->start_mark.column,
                                  "unexpected YAML structure");
        }

        if (anchor) {
                r = anchor_add(w, ev, (const char *)anchor, n, w->entry_nodes - before);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(n);
        return 0;
}

/* Reads the next event and builds a node from it, with a fresh per-entry node budget. */
static int build_next(Walker *w, YNode **ret, yaml_event_type_t *ret_type) {
        yaml_event_t ev;
        int r;

        r = next_event(w, &ev);
        if (r < 0)
                return r;
        *ret_type = ev.type;
        if (ev.type == YAML_MAPPING_END_EVENT) {
                yaml_event_delete(&ev);
                *ret = NULL;
                return 0;
        }
        w->entry_nodes = 0;
        r = build(w, &ev, 1, ret);
        yaml_event_delete(&ev);
        return r;
}

static int check_key(Walker *w, const YNode *key) {
        if (key->kind != YNODE_SCALAR)
                return walk_error(w, -EBADMSG, key->line - 1, key->column - 1,
                                  "keys must be plain names, not lists or mappings");
        if (strlen(key->value) != key->len)
                return walk_error(w, -EBADMSG, key->line - 1, key->column - 1, "key contains a NUL byte");
        return 0;
}

/* Calls cb for each pair of a mapping node that is already built. */
static int walk_built_section(Walker *w, const char *section, const YNode *n, YamlEntryCb cb,
                              void *userdata) {
        int r;

        if (n->kind != YNODE_MAPPING)
                return cb(section, NULL, n, userdata);
        for (size_t i = 0; i < n->n_items; i++) {
                r = check_key(w, ynode_map_key(n, i));
                if (r < 0)
                        return r;
                r = cb(section, ynode_map_key(n, i), ynode_map_value(n, i), userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Streams the entries of a section mapping whose start event was consumed. */
static int walk_streamed_section(Walker *w, const char *section, YamlEntryCb cb, void *userdata) {
        for (;;) {
                _cleanup_(ynode_unrefp) YNode *key = NULL, *value = NULL;
                yaml_event_type_t type;
                int r;

                r = build_next(w, &key, &type);
                if (r < 0)
                        return r;
                if (type == YAML_MAPPING_END_EVENT)
                        return 0;
                r = check_key(w, key);
                if (r < 0)
                        return r;
                r = build_next(w, &value, &type);
                if (r < 0)
                        return r;
                r = cb(section, key, value, userdata);
                if (r < 0)
                        return r;
        }
}

static int walk_document(Walker *w, YamlEntryCb cb, void *userdata) {
        char *seen[IMPORT_TOP_KEYS_MAX];
        size_t n_seen = 0;
        yaml_event_t ev;
        int r;

        r = next_event(w, &ev);
        if (r < 0)
                return r;
        if (ev.type != YAML_MAPPING_START_EVENT) {
                r = walk_error(w, -EBADMSG, ev.start_mark.line, ev.start_mark.column,
                               "the top level must be a mapping (version, networks, nodes)");
                yaml_event_delete(&ev);
                return r;
        }
        yaml_event_delete(&ev);

        for (;;) {
                _cleanup_(ynode_unrefp) YNode *key = NULL;
                yaml_event_type_t type;
                yaml_event_t vev;

                r = build_next(w, &key, &type);
                if (r < 0)
                        goto out;
                if (type == YAML_MAPPING_END_EVENT)
                        break;
                r = check_key(w, key);
                if (r < 0)
                        goto out;
                for (size_t i = 0; i < n_seen; i++)
                        if (streq(seen[i], key->value)) {
                                r = walk_error(w, -EBADMSG, key->line - 1, key->column - 1,
                                               "'%.64s' appears twice at the top level", key->value);
                                goto out;
                        }
                if (n_seen >= IMPORT_TOP_KEYS_MAX) {
                        r = walk_error(w, -E2BIG, key->line - 1, key->column - 1,
                                       "more than %u top-level keys", IMPORT_TOP_KEYS_MAX);
                        goto out;
                }
                seen[n_seen] = strdup(key->value);
                if (!seen[n_seen]) {
                        r = walk_error(w, -ENOMEM, 0, 0, "out of memory");
                        goto out;
                }
                n_seen++;

                r = next_event(w, &vev);
                if (r < 0)
                        goto out;
                if (vev.type == YAML_MAPPING_START_EVENT && !vev.data.mapping_start.anchor &&
                    !vev.data.mapping_start.tag) {
                        yaml_event_delete(&vev);
                        r = walk_streamed_section(w, key->value, cb, userdata);
                } else {
                        /* a scalar, a list, an alias, or an anchored/tagged mapping: build it whole */
                        _cleanup_(ynode_unrefp) YNode *value = NULL;

                        w->entry_nodes = 0;
                        r = build(w, &vev, 1, &value);
                        yaml_event_delete(&vev);
                        if (r >= 0)
                                r = walk_built_section(w, key->value, value, cb, userdata);
                }
                if (r < 0)
                        goto out;
        }
        r = 0;
out:
        for (size_t i = 0; i < n_seen; i++)
                free(seen[i]);
        return r;
}

int yaml_walk(const void *buf, size_t len, YamlEntryCb cb, void *userdata, YamlError *err) {
        Walker w = { .err = err };
        yaml_event_t ev;
        int r;

        *err = (YamlError){};
        if (!yaml_parser_initialize(&w.parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&w.parser, buf, len);

        r = next_event(&w, &ev); /* stream start */
        if (r < 0)
                goto out;
        yaml_event_delete(&ev);

        r = next_event(&w, &ev);
        if (r < 0)
                goto out;
        if (ev.type == YAML_STREAM_END_EVENT) {
                yaml_event_delete(&ev);
                r = walk_error(&w, -EBADMSG, 0, 0, "the file is empty");
                goto out;
        }
        yaml_event_delete(&ev); /* document start */

        r = walk_document(&w, cb, userdata);
        if (r < 0)
                goto out;

        r = next_event(&w, &ev); /* document end */
        if (r < 0)
                goto out;
        yaml_event_delete(&ev);

        r = next_event(&w, &ev);
        if (r < 0)
                goto out;
        if (ev.type != YAML_STREAM_END_EVENT) {
                r = walk_error(&w, -EBADMSG, ev.start_mark.line, ev.start_mark.column,
                               "more than one YAML document in the file");
                yaml_event_delete(&ev);
                goto out;
        }
        yaml_event_delete(&ev);
        r = 0;

out:
        for (size_t i = 0; i < w.n_anchors; i++) {
                free(w.anchors[i].name);
                ynode_unref(w.anchors[i].node);
        }
        free(w.anchors);
        yaml_parser_delete(&w.parser);
        return r;
}
