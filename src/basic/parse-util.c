/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <strings.h>

#include "parse-util.h"

static int parse_u64_base(const char *s, uint64_t *ret) {
        int base = 10;
        uint64_t v = 0;

        if (isempty(s))
                return -EINVAL;
        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
                base = 16;
                s += 2;
                if (*s == '\0')
                        return -EINVAL;
        }
        for (; *s; s++) {
                int d;
                if (*s >= '0' && *s <= '9')
                        d = *s - '0';
                else if (base == 16 && *s >= 'a' && *s <= 'f')
                        d = *s - 'a' + 10;
                else if (base == 16 && *s >= 'A' && *s <= 'F')
                        d = *s - 'A' + 10;
                else
                        return -EINVAL;
                if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
                        return -ERANGE;
                v = v * (uint64_t)base + (uint64_t)d;
        }
        *ret = v;
        return 0;
}

int safe_atou64(const char *s, uint64_t *ret) {
        return s ? parse_u64_base(s, ret) : -EINVAL;
}

#define DEFINE_SAFE_ATOU(name, type, max)    \
        int name(const char *s, type *ret) { \
                uint64_t v;                  \
                int r = safe_atou64(s, &v);  \
                if (r < 0)                   \
                        return r;            \
                if (v > (max))               \
                        return -ERANGE;      \
                *ret = (type)v;              \
                return 0;                    \
        }

DEFINE_SAFE_ATOU(safe_atou32, uint32_t, UINT32_MAX)
DEFINE_SAFE_ATOU(safe_atou16, uint16_t, UINT16_MAX)
DEFINE_SAFE_ATOU(safe_atou8, uint8_t, UINT8_MAX)

int safe_atoi64(const char *s, int64_t *ret) {
        uint64_t v;
        int r;

        if (!s)
                return -EINVAL;
        bool neg = s[0] == '-';
        r = parse_u64_base(neg ? s + 1 : s, &v);
        if (r < 0)
                return r;
        if (neg) {
                if (v > (uint64_t)INT64_MAX + 1)
                        return -ERANGE;
                *ret = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
        } else {
                if (v > (uint64_t)INT64_MAX)
                        return -ERANGE;
                *ret = (int64_t)v;
        }
        return 0;
}

int safe_atoi(const char *s, int *ret) {
        int64_t v;
        int r = safe_atoi64(s, &v);
        if (r < 0)
                return r;
        if (v < INT32_MIN || v > INT32_MAX)
                return -ERANGE;
        *ret = (int)v;
        return 0;
}

int parse_boolean(const char *s) {
        if (!s)
                return -EINVAL;
        if (streq(s, "1") || !strcasecmp(s, "yes") || !strcasecmp(s, "true") || !strcasecmp(s, "on") ||
            !strcasecmp(s, "y"))
                return 1;
        if (streq(s, "0") || !strcasecmp(s, "no") || !strcasecmp(s, "false") || !strcasecmp(s, "off") ||
            !strcasecmp(s, "n"))
                return 0;
        return -EINVAL;
}

int parse_sec(const char *s, usec_t *ret) {
        static const struct {
                const char *suffix;
                usec_t usec;
        } units[] = {
                { "ms", USEC_PER_MSEC },
                { "msec", USEC_PER_MSEC },
                { "s", USEC_PER_SEC },
                { "sec", USEC_PER_SEC },
                { "min", USEC_PER_MINUTE },
                { "m", USEC_PER_MINUTE },
                { "h", USEC_PER_HOUR },
                { "hour", USEC_PER_HOUR },
                { "d", USEC_PER_DAY },
                { "day", USEC_PER_DAY },
                { "us", 1 },
                { "usec", 1 },
        };
        usec_t total = 0;
        bool any = false;

        if (!s)
                return -EINVAL;
        if (streq(s, "infinity")) {
                *ret = USEC_INFINITY;
                return 0;
        }
        while (*s) {
                uint64_t v = 0;
                const char *start;
                char unit[8];
                size_t ul = 0;
                usec_t mul = USEC_PER_SEC;

                while (isspace((unsigned char)*s))
                        s++;
                if (*s == '\0')
                        break;
                start = s;
                while (*s >= '0' && *s <= '9') {
                        if (v > (UINT64_MAX - 9) / 10)
                                return -ERANGE;
                        v = v * 10 + (uint64_t)(*s - '0');
                        s++;
                }
                if (s == start)
                        return -EINVAL;
                while (isalpha((unsigned char)*s)) {
                        if (ul + 1 >= sizeof(unit))
                                return -EINVAL;
                        unit[ul++] = *s++;
                }
                unit[ul] = '\0';
                if (ul > 0) {
                        bool found = false;
                        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                                if (streq(unit, units[i].suffix)) {
                                        mul = units[i].usec;
                                        found = true;
                                        break;
                                }
                        if (!found)
                                return -EINVAL;
                }
                if (v > (UINT64_MAX - 1 - total) / mul)
                        return -ERANGE;
                total += v * mul;
                any = true;
        }
        if (!any)
                return -EINVAL;
        *ret = total;
        return 0;
}
