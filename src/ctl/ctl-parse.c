/* SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>
#include <stdio.h>

#include "ctl-parse.h"
#include "parse-util.h"
#include "text-util.h"

int parse_pool(const char *s, uint32_t *ret_first, uint32_t *ret_last) {
        _cleanup_free_ char *a = NULL;
        const char *dash;
        uint32_t first, last;

        if (!s || s[0] == '\0')
                return -EINVAL;
        dash = strchr(s + 1, '-');
        if (!dash)
                return -EINVAL;
        a = strndup(s, (size_t)(dash - s));
        if (!a)
                return -ENOMEM;
        if (safe_atou32(a, &first) < 0 || safe_atou32(dash + 1, &last) < 0)
                return -EINVAL;
        *ret_first = first;
        *ret_last = last;
        return 0;
}

static int hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* hex pairs, "0x" prefix optional, separators (blank, ':') only between pairs; up to bufsz bytes */
static int parse_hex_flexible(const char *s, uint8_t *buf, size_t bufsz, size_t *ret_len) {
        size_t n = 0;
        int hi = -1;

        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
                s += 2;
        for (; *s; s++) {
                if (*s == ' ' || *s == ':' || *s == '\t') {
                        if (hi >= 0)
                                return -EINVAL;
                        continue;
                }
                int v = hexval(*s);
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
                return -EINVAL;
        *ret_len = n;
        return 0;
}

int parse_uid(const char *s, uint8_t ret[static PROV_UID_MAX], size_t *ret_len) {
        uint8_t buf[PROV_UID_MAX];
        size_t n;
        int r;

        if (!s)
                return -EINVAL;
        r = parse_hex_flexible(s, buf, sizeof(buf), &n);
        if (r < 0)
                return r;
        if (n == 0)
                return -EINVAL;
        memcpy(ret, buf, n);
        *ret_len = n;
        return 0;
}

int parse_hex_exact(const char *s, uint8_t *buf, size_t n, size_t *ret_len) {
        uint8_t tmp[255];
        size_t len;
        int r;

        if (!s || n > sizeof(tmp))
                return -EINVAL;
        r = parse_hex_flexible(s, tmp, sizeof(tmp), &len);
        if (r == -EMSGSIZE)
                len = sizeof(tmp);
        else if (r < 0)
                goto out;
        if (ret_len)
                *ret_len = len;
        if (r == -EMSGSIZE || len != n) {
                r = -EMSGSIZE;
                goto out;
        }
        memcpy(buf, tmp, n);
        r = 0;
out:
        explicit_bzero_safe(tmp, sizeof(tmp));
        return r;
}

int parse_user_item(const char *s, ProvUserItem *ret) {
        ProvUserItem item = {};
        _cleanup_free_ char *id = NULL;
        const char *eq, *colon, *v;
        uint8_t idv;
        int r;

        if (!s)
                return -EINVAL;
        eq = strchr(s, '=');
        if (!eq)
                return -EINVAL;
        id = strndup(s, (size_t)(eq - s));
        if (!id)
                return -ENOMEM;
        if (safe_atou8(id, &idv) < 0 || idv < 128)
                return -EINVAL;
        item.id = idv;
        colon = strchr(eq + 1, ':');
        if (!colon)
                return -EINVAL;
        v = colon + 1;

        if (strncmp(eq + 1, "int:", 4) == 0) {
                item.type = PROV_USER_INT;
                r = safe_atoi64(v, &item.integer);
                if (r < 0)
                        return -EINVAL;
        } else if (strncmp(eq + 1, "text:", 5) == 0) {
                size_t l = strlen(v);
                if (l > PROV_USER_STRING_MAX)
                        return -EMSGSIZE;
                if (!utf8_valid(v, l))
                        return -EINVAL;
                item.type = PROV_USER_TEXT;
                memcpy(item.data, v, l);
                item.len = (uint8_t)l;
        } else if (strncmp(eq + 1, "bytes:", 6) == 0) {
                size_t l;
                r = parse_hex_flexible(v, item.data, sizeof(item.data), &l);
                if (r < 0)
                        return r;
                item.type = PROV_USER_BYTES;
                item.len = (uint8_t)l;
        } else if (strncmp(eq + 1, "bool:", 5) == 0) {
                r = parse_boolean(v);
                if (r < 0)
                        return -EINVAL;
                item.type = PROV_USER_BOOL;
                item.boolean = r;
        } else
                return -EINVAL;

        *ret = item;
        return 0;
}

char *format_user_item(const ProvUserItem *item, char *buf, size_t bufsz) {
        switch (item->type) {
        case PROV_USER_INT:
                snprintf(buf, bufsz, "%u=int:%" PRIi64, item->id, item->integer);
                break;
        case PROV_USER_BOOL:
                snprintf(buf, bufsz, "%u=bool:%s", item->id, yes_no(item->boolean));
                break;
        case PROV_USER_TEXT:
                snprintf(buf, bufsz, "%u=text:%.*s", item->id, (int)item->len, (const char *)item->data);
                break;
        case PROV_USER_BYTES: {
                int o = snprintf(buf, bufsz, "%u=bytes:", item->id);
                for (size_t i = 0; i < item->len && o >= 0 && (size_t)o + 3 <= bufsz; i++)
                        o += snprintf(buf + o, bufsz - (size_t)o, "%02x", item->data[i]);
                break;
        }
        case _PROV_USER_TYPE_MAX:
        case _PROV_USER_TYPE_INVALID:
                snprintf(buf, bufsz, "%u=?", item->id);
                break;
        }
        return buf;
}
