/* SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>
#include <signal.h>
#include <time.h>

#include "ctl-backend-remote.h"
#include "ctl-common.h"
#include "provmsg.h"
#include "table.h"
#include "text-util.h"

#define EVENTS_DEFAULT_LIMIT 50u
#define EVENTS_FOLLOW_BATCH  1000u

static const char events_help[] =
        "Usage: meshprovctl events [OPTIONS]\n"
        "\n"
        "Show recent audit log entries, newest first.\n"
        "\n"
        "  --uid HEX         only this device\n"
        "  --since TIME      only entries at or after TIME\n"
        "  --until TIME      only entries before TIME\n"
        "  --kind K          start, nack, data, ack, expired, send_failed or error\n"
        "  --result R        e.g. ok, not_authorized, method_not_supported, unconfirmed\n"
        "  --limit N         at most N entries (default 50; 0: all)\n"
        "  -f --follow       show the last entries oldest first, then new ones until interrupted; with\n"
        "                    --json one JSON object per line. With --db the database is polled every\n"
        "                    second; with --mqtt the daemon's live events are shown as it publishes them\n"
        "                    (id 0: not in the audit log yet), with what they carry besides: the bearer,\n"
        "                    the sink's network address, and a START's copies and attempt\n"
        "\n"
        "TIME: 2026-11-21, 2026-11-21T15:42:07Z, seconds since the epoch, or how long ago (30min, 2h, "
        "1d).\n";

static const char stats_help[] =
        "Usage: meshprovctl stats [--since TIME] [--until TIME]\n"
        "\n"
        "Counts from the audit log (per event kind, result and NACK reason) and devices "
        "per state.\n";

static volatile sig_atomic_t interrupted;

static void on_signal(int sig) {
        interrupted = 1;
}

typedef struct EventsCtx {
        Ctl *c;
        Table *t;
        JsonOut *j;
        bool lines;           /* --follow: print each event as it comes */
        StoreAuditEvent *buf; /* --follow: the first batch, to print oldest first */
        size_t n_buf;
        int64_t last_id;
        unsigned n;
        const StoreAuditFilter *filter; /* --follow in remote mode: live events are filtered here */
        const StoreAuditEvent
                *printed;     /* --follow in remote mode: the log entries printed before the live */
        size_t n_printed;     /* events, which may hold some of those (dropped, not printed twice) */
        usec_t printed_until; /* the latest time among them */
} EventsCtx;

static const char *method_str(int m, char *buf, size_t bufsz) {
        if (m < 0)
                return "-";
        snprintf(buf, bufsz, "%d", m);
        return buf;
}

static void route_str(const StoreAuditEvent *e, char *buf, size_t bufsz) {
        if (isempty(e->gateway) && isempty(e->sink))
                snprintf(buf, bufsz, "-");
        else if (isempty(e->gateway))
                snprintf(buf, bufsz, "%s", e->sink);
        else
                snprintf(buf, bufsz, "%s/%s", e->gateway, e->sink);
}

/* live: what a live event carries besides an audit row (NULL for audit rows) */
static void json_event(JsonOut *j, const StoreAuditEvent *e, const MgmtEvent *live) {
        json_begin_object(j);
        json_kv_int(j, "id", e->id);
        json_kv_timestamp(j, "time", e->time);
        json_kv_string(j, "kind", store_event_kind_to_string(e->kind));
        json_key(j, "uid");
        if (e->uid_len > 0)
                json_hex(j, e->uid, e->uid_len);
        else
                json_null(j);
        json_key(j, "method");
        if (e->method >= 0)
                json_int(j, e->method);
        else
                json_null(j);
        json_kv_string(j, "vendor", isempty(e->vendor) ? NULL : e->vendor);
        json_kv_string(j, "network", isempty(e->network) ? NULL : e->network);
        json_kv_string(j, "gateway", isempty(e->gateway) ? NULL : e->gateway);
        json_kv_string(j, "sink", isempty(e->sink) ? NULL : e->sink);
        json_kv_uint(j, "source_address", e->source_address);
        json_kv_uint(j, "node_address", e->node_address);
        json_kv_uint(j, "session_id", e->session_id);
        json_kv_string(j, "result", e->result);
        json_key(j, "nack_reason");
        if (e->nack_reason >= 0)
                json_string(j, prov_nack_reason_to_string(e->nack_reason) ?: "unknown");
        else
                json_null(j);
        json_kv_string(j, "detail", isempty(e->detail) ? NULL : e->detail);
        if (live) {
                json_kv_string(j, "bearer", isempty(live->bearer) ? NULL : live->bearer);
                json_key(j, "network_address");
                if (live->network_address > 0)
                        json_uint(j, live->network_address);
                else
                        json_null(j);
                json_key(j, "copies");
                if (live->copies > 0)
                        json_uint(j, live->copies);
                else
                        json_null(j);
                json_key(j, "attempt");
                if (live->attempt > 0)
                        json_uint(j, live->attempt);
                else
                        json_null(j);
        }
        json_end_object(j);
}

static int table_event(Table *t, const StoreAuditEvent *e) {
        char time[64], uid[2 * PROV_UID_MAX + 1], m[16], route[GW_ID_MAX_LEN + SINK_ID_MAX_LEN + 2];

        route_str(e, route, sizeof(route));
        if (table_add_cell(t, format_time(e->time, time, sizeof(time))) < 0 ||
            table_add_cell(t, store_event_kind_to_string(e->kind)) < 0 ||
            table_add_cell(t, e->uid_len ? uid_to_hex(e->uid, e->uid_len, uid, sizeof(uid)) : "-") < 0 ||
            table_add_cell(t, method_str(e->method, m, sizeof(m))) < 0 || table_add_cell(t, e->result) < 0 ||
            table_add_cell(t, isempty(e->network) ? "-" : e->network) < 0 || table_add_cell(t, route) < 0 ||
            table_add_cell(t, isempty(e->detail) ? "-" : e->detail) < 0)
                return -ENOMEM;
        return 0;
}

/* --follow without --json: one line per event, fixed columns. A live event's extras follow the detail, a
 * START's as the audit log words them. */
static void print_event_line(const StoreAuditEvent *e, const MgmtEvent *live) {
        char time[64], uid[2 * PROV_UID_MAX + 1], m[16], route[GW_ID_MAX_LEN + SINK_ID_MAX_LEN + 2];
        char extra[128] = "";
        _cleanup_free_ char *line = NULL, *esc = NULL;

        route_str(e, route, sizeof(route));
        if (live) {
                size_t k = 0;
                if (live->attempt > 0 || live->copies > 0)
                        k += (size_t)snprintf(extra + k, sizeof(extra) - k, "%sattempt %u, %u cop%s heard",
                                              isempty(e->detail) ? "" : "; ", live->attempt, live->copies,
                                              live->copies == 1 ? "y" : "ies");
                if (k < sizeof(extra) && !isempty(live->bearer))
                        k += (size_t)snprintf(extra + k, sizeof(extra) - k, "%s[%s",
                                              k > 0 || !isempty(e->detail) ? " " : "", live->bearer);
                if (k < sizeof(extra) && !isempty(live->bearer) && live->network_address > 0)
                        k += (size_t)snprintf(extra + k, sizeof(extra) - k, ", network 0x%06" PRIX32,
                                              live->network_address);
                if (k < sizeof(extra) && !isempty(live->bearer))
                        (void)snprintf(extra + k, sizeof(extra) - k, "]");
        }
        if (asprintf(&line, "%-24s %-11s %-32s %-2s %-20s %-12s %s %s%s",
                     format_time(e->time, time, sizeof(time)), store_event_kind_to_string(e->kind),
                     e->uid_len ? uid_to_hex(e->uid, e->uid_len, uid, sizeof(uid)) : "-",
                     method_str(e->method, m, sizeof(m)), e->result, isempty(e->network) ? "-" : e->network,
                     route, e->detail, extra) < 0)
                return;
        esc = terminal_escape(line, strlen(line), NULL);
        if (esc)
                printf("%s\n", esc);
}

static void emit_event(EventsCtx *x, const StoreAuditEvent *e, const MgmtEvent *live) {
        if (x->c->json) {
                JsonOut j;
                json_out_init(&j, stdout, false);
                json_event(&j, e, live);
                (void)json_out_finish(&j);
        } else
                print_event_line(e, live);
}

static int events_cb(const StoreAuditEvent *e, void *userdata) {
        EventsCtx *x = userdata;

        x->n++;
        if (e->id > x->last_id)
                x->last_id = e->id;
        if (x->buf) {
                x->buf[x->n_buf++] = *e;
                return 0;
        }
        if (x->lines) {
                emit_event(x, e, NULL);
                return 0;
        }
        if (x->j) {
                json_event(x->j, e, NULL);
                return 0;
        }
        return table_event(x->t, e);
}

/* The same engine decision: live events have no id, but the audit row has the event's time. */
static bool printed_already(const EventsCtx *x, const StoreAuditEvent *e) {
        if (e->time > x->printed_until)
                return false;
        for (size_t i = x->n_printed; i > 0; i--) {
                const StoreAuditEvent *p = &x->printed[i - 1];
                if (p->time == e->time && p->kind == e->kind && p->uid_len == e->uid_len &&
                    memcmp(p->uid, e->uid, e->uid_len) == 0 && streq(p->result, e->result))
                        return true;
        }
        return false;
}

/* remote --follow: a live event, filtered as the audit query would */
static int live_event_cb(const StoreAuditEvent *e, const MgmtEvent *live, void *userdata) {
        EventsCtx *x = userdata;
        const StoreAuditFilter *f = x->filter;

        if (f->uid && (e->uid_len != f->uid_len || memcmp(e->uid, f->uid, f->uid_len) != 0))
                return 0;
        if (f->kind >= 0 && (int)e->kind != f->kind)
                return 0;
        if (f->result && !streq(e->result, f->result))
                return 0;
        if ((f->since > 0 && e->time < f->since) || (f->until > 0 && e->time >= f->until))
                return 0;
        if (printed_already(x, e))
                return 0;
        emit_event(x, e, live);
        fflush(stdout);
        return 0;
}

static int follow(Ctl *c, CtlBackend *b, StoreAuditFilter f, unsigned limit) {
        _cleanup_free_ StoreAuditEvent *buf = NULL;
        struct sigaction sa = { .sa_handler = on_signal };
        EventsCtx x = { .c = c, .lines = true };
        bool remote = ctl_backend_is_remote(b);
        int r;

        /* remote mode: subscribe to the live events first (they are kept until the log has been printed),
         * so that none is lost between the log and the live ones */
        if (remote) {
                r = ctl_backend_remote_follow_start(b);
                if (r < 0)
                        return ctl_error(c, r, "Failed to follow events");
        }

        /* the last `limit` entries, printed oldest first */
        if (limit > 0) {
                buf = new (StoreAuditEvent, limit);
                if (!buf)
                        return ctl_error(c, -ENOMEM, "Failed to read events");
                x.buf = buf;
                f.descending = true;
                f.limit = limit;
                r = b->audit_query(b, &f, events_cb, &x);
                if (r < 0)
                        return ctl_error(c, r, "Failed to read events");
                for (size_t i = x.n_buf; i > 0; i--) {
                        emit_event(&x, &buf[i - 1], NULL);
                        x.printed_until = MAX(x.printed_until, buf[i - 1].time);
                }
                x.printed = buf;
                x.n_printed = x.n_buf;
                x.buf = NULL;
        } else {
                /* only new entries: find where the log ends now */
                StoreAuditEvent last;

                x.buf = &last;
                f.descending = true;
                f.limit = 1;
                r = b->audit_query(b, &f, events_cb, &x);
                x.buf = NULL;
                if (r < 0)
                        return ctl_error(c, r, "Failed to read events");
        }
        fflush(stdout);

        /* remote mode: the daemon's live events instead of polling its audit log */
        if (remote) {
                x.filter = &f;
                r = ctl_backend_remote_follow(b, live_event_cb, &x);
                return r < 0 ? ctl_error(c, r, "Failed to follow events") : 0;
        }

        (void)sigaction(SIGINT, &sa, NULL);
        (void)sigaction(SIGTERM, &sa, NULL);
        f.descending = false;
        f.limit = EVENTS_FOLLOW_BATCH;
        while (!interrupted) {
                unsigned before = x.n;

                f.after_id = x.last_id;
                r = b->audit_query(b, &f, events_cb, &x);
                if (r < 0 && !interrupted)
                        return ctl_error(c, r, "Failed to read events");
                fflush(stdout);
                if (x.n - before >= EVENTS_FOLLOW_BATCH)
                        continue; /* more are waiting */
                struct timespec ts = { .tv_sec = 1 };
                (void)nanosleep(&ts, NULL); /* a signal ends it early */
        }
        return 0;
}

int ctl_events(Ctl *c, int argc, char **argv) {
        enum {
                ARG_UID = ARG_FIRST_COMMAND_OPTION,
                ARG_SINCE,
                ARG_UNTIL,
                ARG_KIND,
                ARG_RESULT,
                ARG_LIMIT,
                ARG_FOLLOW,
        };
        static const struct option options[] = {
                CTL_COMMON_OPTIONS,
                { "uid", required_argument, NULL, ARG_UID },
                { "since", required_argument, NULL, ARG_SINCE },
                { "until", required_argument, NULL, ARG_UNTIL },
                { "kind", required_argument, NULL, ARG_KIND },
                { "result", required_argument, NULL, ARG_RESULT },
                { "limit", required_argument, NULL, ARG_LIMIT },
                { "follow", no_argument, NULL, 'f' },
                {},
        };
        StoreAuditFilter f = { .kind = -1, .descending = true };
        _cleanup_(table_freep) Table *t = NULL;
        uint8_t uid[PROV_UID_MAX];
        uint32_t limit = EVENTS_DEFAULT_LIMIT;
        bool follow_mode = false;
        EventsCtx x = { .c = c };
        CtlBackend *b;
        JsonOut j;
        int opt, r;

        while ((opt = getopt_long(argc, argv, "hf", options, NULL)) >= 0) {
                r = ctl_common_option(c, opt, events_help);
                if (r == 2)
                        return 0;
                if (r < 0)
                        return r;
                if (r == 1)
                        continue;
                switch (opt) {
                case ARG_UID:
                        r = ctl_parse_uid_arg(c, optarg, uid, &f.uid_len);
                        if (r < 0)
                                return r;
                        f.uid = uid;
                        break;
                case ARG_SINCE:
                        r = ctl_parse_time(c, "since", optarg, &f.since);
                        if (r < 0)
                                return r;
                        break;
                case ARG_UNTIL:
                        r = ctl_parse_time(c, "until", optarg, &f.until);
                        if (r < 0)
                                return r;
                        break;
                case ARG_KIND:
                        f.kind = store_event_kind_from_string(optarg);
                        if (f.kind < 0)
                                return ctl_usage_error(c, "--kind: must be start, nack, data, ack, expired, "
                                                          "send_failed or error");
                        break;
                case ARG_RESULT:
                        f.result = optarg;
                        break;
                case ARG_LIMIT:
                        r = ctl_parse_u32(c, "limit", optarg, &limit);
                        if (r < 0)
                                return r;
                        break;
                case 'f':
                        follow_mode = true;
                        break;
                default:
                        return CTL_ERR_USAGE;
                }
        }
        if (optind != argc)
                return ctl_usage_error(c, "too many arguments");
        if (follow_mode && limit > 100000)
                return ctl_usage_error(c, "--limit: at most 100000 with --follow");

        r = ctl_backend(c, CTL_READ, &b);
        if (r < 0)
                return r;
        if (follow_mode)
                return follow(c, b, f, limit);

        f.limit = limit;
        if (c->json) {
                json_begin(c, &j);
                json_begin_array(&j);
                x.j = &j;
        } else {
                t = table_new("TIME", "KIND", "UID", "METHOD", "RESULT", "NETWORK", "ROUTE", "DETAIL", NULL);
                if (!t)
                        return ctl_error(c, -ENOMEM, "Failed to read events");
                x.t = t;
        }
        r = b->audit_query(b, &f, events_cb, &x);
        if (r < 0)
                return ctl_error(c, r, "Failed to read events");
        if (c->json) {
                json_end_array(&j);
                return json_finish(c, &j);
        }
        if (x.n == 0) {
                printf("No events.\n");
                return 0;
        }
        return table_print(t, stdout) < 0 ? ctl_error(c, -EIO, "Failed to write output") : 0;
}

/* ---- stats ---- */

int ctl_stats(Ctl *c, int argc, char **argv) {
        enum { ARG_SINCE = ARG_FIRST_COMMAND_OPTION, ARG_UNTIL };
        static const struct option options[] = {
                CTL_COMMON_OPTIONS,
                { "since", required_argument, NULL, ARG_SINCE },
                { "until", required_argument, NULL, ARG_UNTIL },
                {},
        };
        StoreAuditFilter f = { .kind = -1 };
        MgmtStats s;
        CtlBackend *b;
        int opt, r;

        while ((opt = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                r = ctl_common_option(c, opt, stats_help);
                if (r == 2)
                        return 0;
                if (r < 0)
                        return r;
                if (r == 1)
                        continue;
                switch (opt) {
                case ARG_SINCE:
                        r = ctl_parse_time(c, "since", optarg, &f.since);
                        if (r < 0)
                                return r;
                        break;
                case ARG_UNTIL:
                        r = ctl_parse_time(c, "until", optarg, &f.until);
                        if (r < 0)
                                return r;
                        break;
                default:
                        return CTL_ERR_USAGE;
                }
        }
        if (optind != argc)
                return ctl_usage_error(c, "too many arguments");

        r = ctl_backend(c, CTL_READ, &b);
        if (r < 0)
                return r;
        if (ctl_backend_is_remote(b)) /* the daemon counts, and adds its live counters */
                return ctl_stats_remote(c, b, f.since, f.until);
        r = ctl_backend_local_stats(b, f.since, f.until, &s);
        if (r < 0)
                return ctl_error(c, r, "Failed to compute statistics");
        r = ctl_stats_print(c, &s);
        free(s.routes);
        return r;
}
