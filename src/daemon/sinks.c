/* SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "manager.h"
#include "sinks.h"
#include "string-util.h"

struct Sinks {
        Manager *manager;
        SinkLink *links[SINKS_MAX];
        size_t n;
};

static void on_sink_uplink(SinkLink *l, const SinkLinkUplink *su, void *userdata) {
        Sinks *s = userdata;
        ProvUplink up = {
                .route.bearer = PROV_BEARER_UART,
                .network_address = su->network_address,
                .source_address = su->source_address,
                .src_ep = su->src_ep,
                .dst_ep = su->dst_ep,
                .travel_time_ms = su->travel_time_ms,
                .payload = su->payload,
                .payload_len = su->payload_len,
        };
        snprintf(up.route.sink, sizeof(up.route.sink), "%s", sink_link_name(l));
        manager_uplink(s->manager, &up);
}

static void on_sink_send_result(SinkLink *l, uint64_t cookie, int error, const char *detail,
                                void *userdata) {
        Sinks *s = userdata;
        manager_send_result(s->manager, cookie, error, detail);
}

static void on_sink_state(SinkLink *l, SinkLinkState state, void *userdata) {
        Sinks *s = userdata;
        char buf[256];

        /* the status line changes with a sink's state: say so now rather than at the next status tick */
        if (state == SINK_LINK_UP || state == SINK_LINK_DOWN) {
                manager_format_status(s->manager, buf, sizeof(buf));
                (void)sd_notifyf(false, "STATUS=%s", buf);
        }
}

int sinks_new(Manager *m, Sinks **ret) {
        _cleanup_(sinks_freep) Sinks *s = NULL;
        const Config *c = m->config;
        int r;

        s = new0(Sinks, 1);
        if (!s)
                return log_oom();
        s->manager = m;

        for (size_t i = 0; i < c->n_sinks && i < SINKS_MAX; i++) {
                const ConfSink *cs = &c->sinks[i];
                SinkLinkOptions o;
                SinkLinkCallbacks cb = {
                        .on_uplink = on_sink_uplink,
                        .on_send_result = on_sink_send_result,
                        .on_state_change = on_sink_state,
                };
                char dev[256], rate[32] = "auto-detected bit rate";

                sink_link_options_default(&o);
                o.name = cs->name;
                o.device = cs->device;
                o.baud = cs->baud;
                o.start_stack = cs->start_stack;
                o.max_in_flight = cs->max_in_flight;
                r = sink_link_new(m->event, &o, &cb, s, &s->links[s->n]);
                if (r < 0)
                        return log_error_errno(r, "Failed to set up sink '%s': %m", strna(cs->name));
                s->n++;
                if (cs->baud)
                        snprintf(rate, sizeof(rate), "%" PRIu32 " bit/s", cs->baud);
                log_info("Sink %s on '%s', %s, up to %u downlink(s) in flight.", cs->name,
                         cescape_str(cs->device, dev, sizeof(dev)), rate, cs->max_in_flight);
        }
        for (size_t i = 0; i < s->n; i++) {
                r = sink_link_start(s->links[i]);
                if (r < 0)
                        return log_error_errno(r, "Failed to start sink '%s': %m",
                                               sink_link_name(s->links[i]));
        }

        *ret = TAKE_PTR(s);
        return 0;
}

Sinks *sinks_free(Sinks *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n; i++)
                sink_link_free(s->links[i]);
        free(s);
        return NULL;
}

int sinks_send(Sinks *s, const char *sink, uint32_t destination, uint8_t src_ep, uint8_t dst_ep,
               const uint8_t *payload, size_t len, uint64_t downlink_id) {
        for (size_t i = 0; i < s->n; i++)
                if (streq(sink_link_name(s->links[i]), sink))
                        return sink_link_send(s->links[i], destination, src_ep, dst_ep, payload, len,
                                              downlink_id);
        return -ENOENT;
}

size_t sinks_count(const Sinks *s) {
        return s ? s->n : 0;
}

size_t sinks_up(const Sinks *s) {
        size_t n = 0;
        for (size_t i = 0; s && i < s->n; i++)
                n += sink_link_state(s->links[i]) == SINK_LINK_UP;
        return n;
}

SinkLink *sinks_get(const Sinks *s, size_t i) {
        return s && i < s->n ? s->links[i] : NULL;
}

void sinks_format_status(const Sinks *s, char *buf, size_t size) {
        char items[SINKS_MAX][SINK_ID_MAX_LEN + 16];
        const char *list[SINKS_MAX];
        size_t n = 0;

        if (size == 0)
                return;
        for (size_t i = 0; s && i < s->n && i < SINKS_MAX; i++) {
                snprintf(items[n], sizeof(items[n]), "%s %s", sink_link_name(s->links[i]),
                         strna(sink_link_state_to_string(sink_link_state(s->links[i]))));
                list[n] = items[n];
                n++;
        }
        (void)strlist_format_bounded(list, n, buf, size);
}
