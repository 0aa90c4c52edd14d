/* SPDX-License-Identifier: Apache-2.0 */
/* Remote mode: `meshprovctl --mqtt ... status`, and `stats` answered by the daemon (the audit counts as
 * in local mode, plus per gateway and sink and the daemon's live counters). */
#include <inttypes.h>

#include "ctl-backend-remote.h"
#include "ctl-common.h"
#include "log.h"
#include "table.h"

static const char status_help[] =
        "Usage: meshprovctl --mqtt HOST[:PORT] --instance ID status\n"
        "\n"
        "The daemon's status through the management API: version, uptime, broker, gateways and sinks,\n"
        "and its counters. The retained status the daemon keeps on the broker is read too: when it says\n"
        "offline (the daemon stopped, or the broker published its last will when its connection died),\n"
        "that is shown at once; when the daemon does not answer, the last retained status is shown.\n"
        "\n"
        "Exit status: 0 the daemon answered, 3 it is offline, 1 no answer (with or without a retained\n"
        "status that still says online), 2 usage error.\n";

static void json_counters(JsonOut *j, const MgmtCounters *c) {
        json_begin_object(j);
        json_kv_uint(j, "uplinks", c->uplinks);
        json_kv_uint(j, "malformed", c->malformed);
        json_kv_uint(j, "starts", c->starts);
        json_kv_uint(j, "data_sent", c->data_sent);
        json_kv_uint(j, "data_resent", c->data_resent);
        json_kv_uint(j, "acks", c->acks);
        json_kv_uint(j, "nacks", c->nacks);
        json_kv_uint(j, "expired", c->expired);
        json_kv_uint(j, "send_failed", c->send_failed);
        json_kv_uint(j, "errors", c->errors);
        json_kv_uint(j, "sessions_live", c->sessions_live);
        json_kv_uint(j, "sessions_max", c->sessions_max);
        json_kv_uint(j, "api_requests", c->api_requests);
        json_kv_uint(j, "api_errors", c->api_errors);
        json_kv_uint(j, "api_dropped", c->api_dropped);
        json_kv_uint(j, "events_published", c->events_published);
        json_kv_uint(j, "events_dropped", c->events_dropped);
        json_end_object(j);
}

static int table_counters(Table *t, const MgmtCounters *c) {
        const struct {
                const char *name;
                uint64_t v;
        } rows[] = {
                { "uplinks", c->uplinks },
                { "malformed", c->malformed },
                { "starts", c->starts },
                { "data sent", c->data_sent },
                { "data re-sent", c->data_resent },
                { "acks", c->acks },
                { "nacks", c->nacks },
                { "expired", c->expired },
                { "send failed", c->send_failed },
                { "errors", c->errors },
                { "sessions live", c->sessions_live },
                { "sessions max", c->sessions_max },
                { "api requests", c->api_requests },
                { "api errors", c->api_errors },
                { "api dropped", c->api_dropped },
                { "events published", c->events_published },
                { "events dropped", c->events_dropped },
        };
        int r = 0;

        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                r |= table_add_cell(t, "counter") | table_add_cell(t, rows[i].name) |
                     table_add_cellf(t, "%" PRIu64, rows[i].v);
        return r;
}

int ctl_status(Ctl *c, int argc, char **argv) {
        _cleanup_free_ MgmtStatus *s = NULL;
        char t[64], up[64];
        CtlBackend *b;
        bool answered;
        int i, r, ret;

        i = ctl_parse_simple(c, argc, argv, status_help, 0, "");
        if (i <= 0)
                return i;
        if (!c->remote.mqtt)
                return ctl_usage_error(
                        c, "status asks a running daemon: give --mqtt HOST[:PORT] --instance ID");
        r = ctl_backend(c, CTL_READ, &b);
        if (r < 0)
                return r;
        s = new0(MgmtStatus, 1);
        if (!s)
                return ctl_error(c, -ENOMEM, "Failed to read the status");
        r = ctl_backend_remote_status(b, s);
        if (r < 0)
                return r; /* logged */
        answered = r > 0;
        if (!answered && s->online)
                log_error("No answer from meshprovd instance '%s' within %" PRIu64
                          " s; its last retained status, below, still says online.",
                          c->remote.instance, (c->remote.timeout ?: REMOTE_TIMEOUT_DEFAULT) / USEC_PER_SEC);
        /* 0 answered, 3 offline (systemctl is-active style), 1 no answer */
        ret = answered ? 0 : s->online ? -ETIMEDOUT : CTL_EXIT_OFFLINE;

        if (c->json) {
                JsonOut j;
                json_begin(c, &j);
                json_begin_object(&j);
                json_kv_bool(&j, "online", s->online);
                json_kv_string(&j, "source", answered ? "answer" : "retained");
                json_kv_bool(&j, "last_will", !answered && !s->online && s->time == 0);
                json_kv_string(&j, "instance", s->instance);
                json_kv_string(&j, "version", s->version);
                json_kv_timestamp(&j, "time", s->time);
                json_kv_uint(&j, "uptime_usec", s->uptime);
                json_key(&j, "broker");
                json_begin_object(&j);
                json_kv_string(&j, "host", s->broker_host);
                json_kv_bool(&j, "connected", s->broker_connected);
                json_end_object(&j);
                json_kv_bool(&j, "gateway_api", s->gateway_api);
                json_kv_uint(&j, "gateways_online", s->gateways_online);
                json_key(&j, "sinks");
                json_begin_array(&j);
                for (size_t k = 0; k < s->n_sinks; k++) {
                        json_begin_object(&j);
                        json_kv_string(&j, "name", s->sinks[k].name);
                        json_kv_string(&j, "device", s->sinks[k].device);
                        json_kv_bool(&j, "online", s->sinks[k].online);
                        json_kv_string(&j, "state", s->sinks[k].state);
                        json_end_object(&j);
                }
                json_end_array(&j);
                json_key(&j, "counters");
                if (s->has_counters)
                        json_counters(&j, &s->counters);
                else
                        json_null(&j);
                json_end_object(&j);
                r = json_finish(c, &j);
                return r < 0 ? r : ret;
        }

        format_timespan(up, sizeof(up), s->uptime - s->uptime % USEC_PER_SEC);
        print_field("Instance", "%s", s->instance);
        print_field("State", "%s", s->online ? "online" : "offline");
        print_field("Version", "%s", s->version);
        if (!answered)
                print_field("Source", "%s",
                            s->online      ? "retained status (no answer)"
                            : s->time == 0 ? "last will (the daemon's connection to the broker died)"
                                           : "retained status (the daemon stopped)");
        print_field("Time", "%s", format_time(s->time, t, sizeof(t)));
        if (!s->online)
                return ret; /* an offline status carries nothing else */
        print_field("Uptime", "%s", up);
        print_field("Broker", "%s (%s)", s->broker_host, s->broker_connected ? "connected" : "disconnected");
        print_field("Gateway API", "%s, %" PRIu64 " gateway(s) online", s->gateway_api ? "on" : "off",
                    s->gateways_online);
        for (size_t k = 0; k < s->n_sinks; k++)
                print_field(k == 0 ? "Sinks" : "", "%s %s (%s)", s->sinks[k].name, s->sinks[k].state,
                            s->sinks[k].device);
        if (s->has_counters) {
                const MgmtCounters *n = &s->counters;
                print_field("Provisioning",
                            "%" PRIu64 " starts, %" PRIu64 " DATA, %" PRIu64 " ACK, %" PRIu64
                            " NACK, %" PRIu64 " expired, %" PRIu64 " send failed, %" PRIu64 " errors",
                            n->starts, n->data_sent, n->acks, n->nacks, n->expired, n->send_failed,
                            n->errors);
                print_field("Sessions", "%" PRIu64 " live of %" PRIu64, n->sessions_live, n->sessions_max);
                print_field("API",
                            "%" PRIu64 " requests, %" PRIu64 " errors, %" PRIu64 " dropped; %" PRIu64
                            " events published, %" PRIu64 " dropped",
                            n->api_requests, n->api_errors, n->api_dropped, n->events_published,
                            n->events_dropped);
        }
        return ret;
}

static const char *const nack_names[] = { "not_authorized", "method_not_supported", "invalid_data",
                                          "invalid_key" };
static const char *const state_names[] = { "new", "sent", "provisioned" };

int ctl_stats_remote(Ctl *c, CtlBackend *b, usec_t since, usec_t until) {
        _cleanup_(mgmt_response_freep) MgmtResponse *resp = NULL;
        int r;

        r = ctl_backend_remote_stats(b, since, until, &resp);
        if (r < 0)
                return ctl_error(c, r, "Failed to read statistics");
        return ctl_stats_print(c, &resp->stats);
}

int ctl_stats_print(Ctl *c, const MgmtStats *s) {
        int r;

        if (c->json) {
                JsonOut j;
                json_begin(c, &j);
                json_begin_object(&j);
                json_kv_timestamp(&j, "since", s->since);
                json_kv_timestamp(&j, "until", s->until);
                json_key(&j, "events");
                json_begin_object(&j);
                json_kv_uint(&j, "total", s->events_total);
                json_key(&j, "by_kind");
                json_begin_object(&j);
                for (MgmtEventKind k = 0; k < _MGMT_EVENT_KIND_MAX; k++)
                        json_kv_uint(&j, mgmt_event_kind_to_string(k), s->by_kind[k]);
                json_end_object(&j);
                json_key(&j, "by_result");
                json_begin_object(&j);
                for (size_t i = 0; i < s->n_by_result; i++)
                        json_kv_uint(&j, s->by_result[i].name, s->by_result[i].count);
                json_end_object(&j);
                json_key(&j, "by_nack_reason");
                json_begin_object(&j);
                for (size_t k = 0; k < ELEMENTSOF(nack_names); k++)
                        json_kv_uint(&j, nack_names[k], s->by_nack_reason[k]);
                json_end_object(&j);
                json_key(&j, "by_route");
                json_begin_array(&j);
                for (size_t i = 0; i < s->n_routes; i++) {
                        const MgmtRouteCount *rc = &s->routes[i];
                        json_begin_object(&j);
                        json_kv_string(&j, "gateway", rc->gateway[0] ? rc->gateway : NULL);
                        json_kv_string(&j, "sink", rc->sink);
                        json_kv_uint(&j, "starts", rc->starts);
                        json_kv_uint(&j, "data", rc->data);
                        json_kv_uint(&j, "acks", rc->acks);
                        json_kv_uint(&j, "nacks", rc->nacks);
                        json_kv_uint(&j, "events", rc->events);
                        json_end_object(&j);
                }
                json_end_array(&j);
                json_kv_bool(&j, "routes_truncated", s->routes_truncated);
                json_end_object(&j);
                json_key(&j, "devices");
                json_begin_object(&j);
                json_kv_uint(&j, "total", s->devices_total);
                json_key(&j, "by_state");
                json_begin_object(&j);
                for (size_t k = 0; k < ELEMENTSOF(state_names); k++)
                        json_kv_uint(&j, state_names[k], s->devices_by_state[k]);
                json_end_object(&j);
                json_end_object(&j);
                json_key(&j, "live");
                if (s->has_counters)
                        json_counters(&j, &s->counters);
                else
                        json_null(&j);
                json_end_object(&j);
                return json_finish(c, &j);
        }

        _cleanup_(table_freep) Table *t = table_new("WHAT", "VALUE", "COUNT", NULL);
        if (!t)
                return ctl_error(c, -ENOMEM, "Failed to show statistics");
        r = 0;
        r |= table_add_cell(t, "events") | table_add_cell(t, "total") |
             table_add_cellf(t, "%" PRIu64, s->events_total);
        for (MgmtEventKind k = 0; k < _MGMT_EVENT_KIND_MAX; k++)
                r |= table_add_cell(t, "kind") | table_add_cell(t, mgmt_event_kind_to_string(k)) |
                     table_add_cellf(t, "%" PRIu64, s->by_kind[k]);
        for (size_t i = 0; i < s->n_by_result; i++)
                r |= table_add_cell(t, "result") | table_add_cell(t, s->by_result[i].name) |
                     table_add_cellf(t, "%" PRIu64, s->by_result[i].count);
        for (size_t k = 0; k < ELEMENTSOF(nack_names); k++)
                r |= table_add_cell(t, "nack reason") | table_add_cell(t, nack_names[k]) |
                     table_add_cellf(t, "%" PRIu64, s->by_nack_reason[k]);
        for (size_t i = 0; i < s->n_routes; i++) {
                const MgmtRouteCount *rc = &s->routes[i];
                r |= table_add_cell(t, "route") |
                     table_add_cellf(t, "%s%s%s", rc->gateway, rc->gateway[0] ? "/" : "", rc->sink) |
                     table_add_cellf(t,
                                     "%" PRIu64 " (start %" PRIu64 ", data %" PRIu64 ", ack %" PRIu64
                                     ", nack %" PRIu64 ")",
                                     rc->events, rc->starts, rc->data, rc->acks, rc->nacks);
        }
        r |= table_add_cell(t, "devices") | table_add_cell(t, "total") |
             table_add_cellf(t, "%" PRIu64, s->devices_total);
        for (size_t k = 0; k < ELEMENTSOF(state_names); k++)
                r |= table_add_cell(t, "devices") | table_add_cell(t, state_names[k]) |
                     table_add_cellf(t, "%" PRIu64, s->devices_by_state[k]);
        if (s->has_counters)
                r |= table_counters(t, &s->counters);
        if (r < 0)
                return ctl_error(c, -ENOMEM, "Failed to show statistics");
        return table_print(t, stdout) < 0 ? ctl_error(c, -EIO, "Failed to write output") : 0;
}
