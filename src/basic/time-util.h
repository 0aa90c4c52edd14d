/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <inttypes.h>
#include <time.h>

#include "macro.h"

typedef uint64_t usec_t;

#define USEC_INFINITY   ((usec_t)UINT64_MAX)
#define USEC_PER_SEC    ((usec_t)1000000ULL)
#define USEC_PER_MSEC   ((usec_t)1000ULL)
#define MSEC_PER_SEC    1000ULL
#define USEC_PER_MINUTE (60ULL * USEC_PER_SEC)
#define USEC_PER_HOUR   (60ULL * USEC_PER_MINUTE)
#define USEC_PER_DAY    (24ULL * USEC_PER_HOUR)

/* Reads a clock. Not for src/codec or src/engine: they are handed the time. */
usec_t now(clockid_t clock);

static inline usec_t usec_add(usec_t a, usec_t b) {
        return a > USEC_INFINITY - b ? USEC_INFINITY : a + b;
}
static inline usec_t usec_sub(usec_t a, usec_t b) {
        return a < b ? 0 : a - b;
}

/* "2026-11-21T15:42:07.123Z" from microseconds since the epoch; buf >= 32. */
char *format_timestamp_utc(char *buf, size_t bufsz, usec_t realtime);
/* "1h 2min 3.5s" style; buf >= 64. */
char *format_timespan(char *buf, size_t bufsz, usec_t t);
/* Parses "1700000000" (seconds), "2026-11-21", "2026-11-21T15:42:07Z" or "2026-11-21 15:42:07" (UTC) into
 * microseconds since the epoch. */
int parse_timestamp_utc(const char *s, usec_t *ret);
