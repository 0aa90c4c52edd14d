/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <systemd/sd-event.h>

#include "time-util.h"

/* Arms a time source again, relative to now, for one more shot. A one-shot time source is switched off
 * before its callback runs, and sd_event_source_set_time_relative() does not switch it back on: a
 * repeating timer needs both calls. Errors are returned but seldom actionable (ENOMEM, or the loop is
 * finishing). */
static inline int event_source_rearm(sd_event_source *s, usec_t usec) {
        int r = sd_event_source_set_time_relative(s, usec);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}
