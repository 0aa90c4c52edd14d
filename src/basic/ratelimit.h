/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Allows `burst` events per `interval`; the caller passes the time, so this is usable anywhere. */

#include "time-util.h"

typedef struct RateLimit {
        usec_t interval;
        unsigned burst;
        unsigned num;
        usec_t begin;
        unsigned suppressed; /* events refused in the current window */
} RateLimit;

#define RATELIMIT_INIT(i, b) ((RateLimit){ .interval = (i), .burst = (b) })

/* true if the event may go ahead. */
bool ratelimit_below(RateLimit *rl, usec_t now);
/* Number of events refused since the last call; resets the count. */
unsigned ratelimit_take_suppressed(RateLimit *rl);
