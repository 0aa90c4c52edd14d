/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "parse-util.h"
#include "time-util.h"

usec_t now(clockid_t clock) {
        struct timespec ts;
        assert(clock_gettime(clock, &ts) == 0);
        return (usec_t)ts.tv_sec * USEC_PER_SEC + (usec_t)ts.tv_nsec / 1000;
}

char *format_timestamp_utc(char *buf, size_t bufsz, usec_t t) {
        time_t sec = (time_t)(t / USEC_PER_SEC);
        struct tm tm;
        if (t == USEC_INFINITY || !gmtime_r(&sec, &tm)) {
                snprintf(buf, bufsz, "n/a");
                return buf;
        }
        snprintf(buf, bufsz, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)((t % USEC_PER_SEC) / 1000));
        return buf;
}

char *format_timespan(char *buf, size_t bufsz, usec_t t) {
        if (t == USEC_INFINITY) {
                snprintf(buf, bufsz, "infinity");
                return buf;
        }
        uint64_t d = t / USEC_PER_DAY, h = (t / USEC_PER_HOUR) % 24, m = (t / USEC_PER_MINUTE) % 60;
        uint64_t s = (t / USEC_PER_SEC) % 60, ms = (t / USEC_PER_MSEC) % 1000;
        if (d > 0)
                snprintf(buf, bufsz, "%" PRIu64 "d %" PRIu64 "h %" PRIu64 "min", d, h, m);
        else if (h > 0)
                snprintf(buf, bufsz, "%" PRIu64 "h %" PRIu64 "min %" PRIu64 "s", h, m, s);
        else if (m > 0)
                snprintf(buf, bufsz, "%" PRIu64 "min %" PRIu64 "s", m, s);
        else if (s > 0)
                snprintf(buf, bufsz, "%" PRIu64 ".%03" PRIu64 "s", s, ms);
        else
                snprintf(buf, bufsz, "%" PRIu64 "ms", ms);
        return buf;
}

int parse_timestamp_utc(const char *s, usec_t *ret) {
        struct tm tm = {};
        int n = 0;
        uint64_t secs;

        if (!s)
                return -EINVAL;
        if (safe_atou64(s, &secs) >= 0) {
                if (secs > UINT64_MAX / USEC_PER_SEC)
                        return -ERANGE;
                *ret = secs * USEC_PER_SEC;
                return 0;
        }
        if (sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n) != 3)
                return -EINVAL;
        const char *rest = s + n;
        if (*rest == 'T' || *rest == ' ') {
                int m = 0;
                if (sscanf(rest + 1, "%2d:%2d:%2d%n", &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &m) != 3)
                        return -EINVAL;
                rest += 1 + m;
                if (*rest == 'Z')
                        rest++;
        }
        if (*rest != '\0')
                return -EINVAL;
        if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
            tm.tm_min > 59 || tm.tm_sec > 60 || tm.tm_year < 1970)
                return -EINVAL;
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        time_t t = timegm(&tm);
        if (t < 0)
                return -EINVAL;
        *ret = (usec_t)t * USEC_PER_SEC;
        return 0;
}
