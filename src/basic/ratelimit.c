/* SPDX-License-Identifier: Apache-2.0 */
#include "ratelimit.h"

bool ratelimit_below(RateLimit *rl, usec_t now) {
        if (rl->interval == 0 || rl->burst == 0)
                return true;
        if (rl->begin == 0 || now < rl->begin || now - rl->begin >= rl->interval) {
                rl->begin = now ? now : 1;
                rl->num = 0;
        }
        if (rl->num < rl->burst) {
                rl->num++;
                return true;
        }
        rl->suppressed++;
        return false;
}

unsigned ratelimit_take_suppressed(RateLimit *rl) {
        unsigned n = rl->suppressed;
        rl->suppressed = 0;
        return n;
}
