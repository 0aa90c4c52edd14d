/* SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "config.h"

#include "api.h"
#include "event-util.h"
#include "fileio.h"
#include "hex.h"
#include "meshprov-limits.h"
#include "log.h"
#include "manager.h"
#include "masterkey.h"
#include "string-util.h"

#define STATUS_INTERVAL      (5 * USEC_PER_SEC)
#define PRUNE_INTERVAL       USEC_PER_HOUR
#define PRUNE_BATCH          5000u
#define AUDIT_RETRY_MIN      (250 * USEC_PER_MSEC)
#define AUDIT_RETRY_MAX      (30 * USEC_PER_SEC)
#define DEFERRED_RESULTS_MAX (1u << 20)

/* ---- engine ---- */

static void manager_arm_engine_timer(Manager *m, usec_t deadline);
static void manager_audit_flush(Manager *m);

static void log_record(Manager *m, const ProvRecord *rec) {
        char uid[2 * PROV_UID_MAX + 1], f_uid[2 * PROV_UID_MAX + 8], f_res[48], f_route[GW_ID_MAX_LEN + 16];
        usec_t t = now(CLOCK_MONOTONIC);

        hex_encode(rec->uid, rec->uid_len, uid, sizeof(uid));
        snprintf(f_uid, sizeof(f_uid), "UID=%s", uid);
        snprintf(f_res, sizeof(f_res), "RESULT=%s", rec->result);
        snprintf(f_route, sizeof(f_route), "GATEWAY=%s", rec->route.gateway);

        switch (rec->kind) {
        case PROV_RECORD_ACK:
                if (streq(rec->result, "ok"))
                        log_struct(LOG_INFO, LOG_FIELDS(MESHPROV_MESSAGE_PROVISIONED, f_uid, f_res, f_route),
                                   "Node %s provisioned into network '%s' (DATA_ACK via %s%s%s).", uid,
                                   rec->network, rec->route.gateway, rec->route.gateway[0] ? "/" : "",
                                   rec->route.sink);
                else
                        log_debug("DATA_ACK for an unknown session (address %08x, session %u).",
                                  rec->node_address, rec->session_id);
                break;
        case PROV_RECORD_NACK:
                if (ratelimit_below(&m->nack_log_rl, t))
                        log_struct(LOG_INFO, LOG_FIELDS(f_uid, f_res, f_route), "Refused node %s: %s.", uid,
                                   rec->result);
                break;
        case PROV_RECORD_SEND_FAILED:
        case PROV_RECORD_ERROR:
                if (ratelimit_below(&m->warn_log_rl, t))
                        log_struct(LOG_WARNING, LOG_FIELDS(MESHPROV_MESSAGE_SESSION_FAILED, f_uid, f_res),
                                   "Provisioning of %s: %s (%s).", uid, rec->result, rec->detail);
                break;
        case PROV_RECORD_START:
        case PROV_RECORD_DATA:
        case PROV_RECORD_EXPIRED:
                log_debug("%s %s: %s %s", prov_record_kind_to_string(rec->kind), uid, rec->result,
                          rec->detail);
                break;
        case _PROV_RECORD_KIND_MAX:
        case _PROV_RECORD_KIND_INVALID:
                assert_not_reached();
        }
}

static void manager_queue_result(Manager *m, uint64_t id, int error, const char *detail) {
        /* Usually at most one round's downlinks; more while due work keeps the engine busy (-EAGAIN) with
         * a bearer that refuses everything. Bounded only to survive a bug. */
        if (m->n_deferred_results >= m->cap_deferred_results) {
                size_t cap = MAX(m->cap_deferred_results * 2, (size_t)64);
                struct DeferredResult *p = cap <= DEFERRED_RESULTS_MAX
                                                   ? reallocarray(m->deferred_results, cap, sizeof(*p))
                                                   : NULL;
                if (!p) {
                        log_warning(
                                "Too many downlink results at once; one is dropped (the node will retry).");
                        return;
                }
                m->deferred_results = p;
                m->cap_deferred_results = cap;
        }
        m->deferred_results[m->n_deferred_results] = (struct DeferredResult){ .id = id, .error = error };
        snprintf(m->deferred_results[m->n_deferred_results].detail, sizeof(m->deferred_results[0].detail),
                 "%s", strempty(detail));
        m->n_deferred_results++;
}

/* The oldest deferred result as an event; it stays queued until the engine has taken it. */
static void manager_peek_result(Manager *m, ProvEvent *ret) {
        assert(m->n_deferred_results > 0);
        *ret = (ProvEvent){ .type = PROV_EVENT_SEND_RESULT };
        ret->send_result.downlink_id = m->deferred_results[0].id;
        ret->send_result.error = m->deferred_results[0].error;
        snprintf(ret->send_result.detail, sizeof(ret->send_result.detail), "%s",
                 m->deferred_results[0].detail);
}

static void manager_drop_result(Manager *m) {
        assert(m->n_deferred_results > 0);
        m->n_deferred_results--;
        memmove(m->deferred_results, m->deferred_results + 1,
                m->n_deferred_results * sizeof(m->deferred_results[0]));
}

static void manager_send(Manager *m, const ProvDownlink *d) {
        int r = -EOPNOTSUPP;

        switch (d->route.bearer) {
        case PROV_BEARER_MQTT:
                if (m->gw)
                        r = gwbearer_send(m->gw, d->route.gateway, d->route.sink, d->destination_address,
                                          d->src_ep, d->dst_ep, d->payload, d->payload_len, d->id);
                else
                        r = -ENOTCONN;
                break;
        case PROV_BEARER_UART:
                if (m->sinks)
                        r = sinks_send(m->sinks, d->route.sink, d->destination_address, d->src_ep, d->dst_ep,
                                       d->payload, d->payload_len, d->id);
                else
                        r = -ENOTCONN;
                break;
        case _PROV_BEARER_MAX:
        case _PROV_BEARER_INVALID:
                assert_not_reached();
        }
        if (r < 0) {
                m->counters.send_rejected++;
                manager_queue_result(m, d->id, r, "bearer refused the downlink");
        }
}

static void manager_execute(Manager *m, const ProvActionList *actions) {
        usec_t realtime = now(CLOCK_REALTIME);

        for (size_t i = 0; i < actions->n; i++) {
                const ProvAction *a = &actions->a[i];
                switch (a->type) {
                case PROV_ACTION_SEND:
                        manager_send(m, &a->send);
                        break;
                case PROV_ACTION_RECORD: {
                        StoreAuditEvent ev;
                        m->counters.records++;
                        log_record(m, &a->record);
                        audit_event_from_record(&a->record, realtime, &ev);
                        /* a full queue is written at once, unless writing is failing (then the timer
                         * retries and the oldest row gives way) */
                        if (audit_queue_full(&m->audit) && m->audit_backoff == 0)
                                manager_audit_flush(m);
                        audit_queue_push(&m->audit, &ev);
                        /* management API: the live event (best effort, never blocks) */
                        if (m->api)
                                api_on_record(m->api, &a->record, realtime);
                        break;
                }
                case _PROV_ACTION_TYPE_MAX:
                case _PROV_ACTION_TYPE_INVALID:
                        assert_not_reached();
                }
        }
        /* after a failed write the retry timer owns flushing, so a locked database is not hammered */
        if (audit_queue_pending(&m->audit) && m->audit_backoff == 0)
                (void)sd_event_source_set_enabled(m->audit_flush, SD_EVENT_ONESHOT);
}

/* Feeds one event to the engine and carries out everything it asks for, including work that falls due.
 * Downlink results that arrive while the actions are carried out (a bearer refusing a downlink
 * synchronously) go in first, in order, so at most one round's downlinks are ever queued. */
static void manager_engine_feed(Manager *m, const ProvEvent *ev_in) {
        ProvActionList actions;
        ProvEvent ev;
        bool have_input = true; /* ev_in not yet taken by the engine (it may answer -EAGAIN) */
        usec_t deadline = USEC_INFINITY, t = now(CLOCK_MONOTONIC);
        int r;

        assert(!m->in_engine);
        m->in_engine = true;
        for (unsigned rounds = 0; rounds < 10000; rounds++) {
                bool is_input = false, is_deferred = false;

                if (m->n_deferred_results > 0) {
                        manager_peek_result(m, &ev);
                        is_deferred = true;
                } else if (have_input) {
                        ev = *ev_in;
                        is_input = true;
                } else if (deadline <= t)
                        ev = (ProvEvent){ .type = PROV_EVENT_TIMER };
                else
                        break;

                t = now(CLOCK_MONOTONIC);
                if (random_bytes(ev.entropy, sizeof(ev.entropy)) < 0)
                        memset(ev.entropy, 0, sizeof(ev.entropy)); /* counters then come from the hash key */
                actions.n = 0;
                r = prov_engine_handle(m->engine, &ev, t, &actions, &deadline);
                manager_execute(m, &actions);
                if (r == -EAGAIN)
                        continue; /* due work came first: the same event again */
                if (is_deferred)
                        manager_drop_result(m);
                if (is_input)
                        have_input = false;
                if (r < 0 && ev.type == PROV_EVENT_UPLINK) {
                        m->counters.malformed++;
                        if (ratelimit_below(&m->malformed_log_rl, t)) {
                                char g[64];
                                log_warning_errno(r,
                                                  "Ignoring malformed provisioning packet from %s '%s' sink "
                                                  "'%s', source %08x (%" PRIu64 " so far): %m",
                                                  prov_bearer_to_string(ev.uplink.route.bearer),
                                                  cescape_str(ev.uplink.route.gateway, g, sizeof(g)),
                                                  ev.uplink.route.sink, ev.uplink.source_address,
                                                  m->counters.malformed);
                        }
                }
        }
        m->in_engine = false;
        if (have_input)
                log_warning("The provisioning engine stayed busy for 10000 rounds; one %s event is dropped.",
                            prov_event_type_to_string(ev_in->type));
        /* (after 10000 rounds in one go the rest waits for the next loop iteration) */
        manager_arm_engine_timer(m, m->n_deferred_results > 0 ? t : deadline);
}

void manager_uplink(Manager *m, const ProvUplink *up) {
        ProvEvent ev = { .type = PROV_EVENT_UPLINK, .uplink = *up };
        manager_engine_feed(m, &ev);
}

void manager_send_result(Manager *m, uint64_t downlink_id, int error, const char *detail) {
        if (m->in_engine) {
                manager_queue_result(m, downlink_id, error, detail);
                return;
        }
        ProvEvent ev = { .type = PROV_EVENT_SEND_RESULT };
        ev.send_result.downlink_id = downlink_id;
        ev.send_result.error = error;
        snprintf(ev.send_result.detail, sizeof(ev.send_result.detail), "%s", strempty(detail));
        manager_engine_feed(m, &ev);
}

static int on_engine_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        ProvEvent ev = { .type = PROV_EVENT_TIMER };
        manager_engine_feed(m, &ev);
        return 0;
}

static void manager_arm_engine_timer(Manager *m, usec_t deadline) {
        if (deadline == USEC_INFINITY) {
                (void)sd_event_source_set_enabled(m->engine_timer, SD_EVENT_OFF);
                return;
        }
        (void)sd_event_source_set_time(m->engine_timer, deadline);
        (void)sd_event_source_set_enabled(m->engine_timer, SD_EVENT_ONESHOT);
}

/* ---- audit ---- */

static void manager_audit_flush(Manager *m) {
        char ts[64];
        int r;

        /* Audit rows can wait, the event loop cannot: a write waits only STORE_PATH_BUSY for another
         * writer's lock (a long meshprovctl import), not BusyTimeoutSec, and is retried from a timer. */
        (void)store_busy_short(m->store, STORE_PATH_BUSY);
        r = audit_queue_flush(&m->audit);
        (void)store_busy_restore(m->store);

        if (r >= 0) {
                if (m->audit_backoff > 0)
                        log_info("Audit log writable again (%" PRIu64 " event(s) dropped meanwhile).",
                                 m->audit.dropped - m->audit_dropped_before);
                m->audit_backoff = 0;
                (void)sd_event_source_set_enabled(m->audit_retry, SD_EVENT_OFF);
                return;
        }
        /* Another writer holds the lock (a long import), or the disk is full: keep the rows (the queue is
         * bounded) and try again later, backing off up to AUDIT_RETRY_MAX. */
        if (m->audit_backoff == 0)
                m->audit_dropped_before = m->audit.dropped;
        m->audit_backoff = CLAMP(m->audit_backoff * 2, AUDIT_RETRY_MIN, AUDIT_RETRY_MAX);
        if (ratelimit_below(&m->warn_log_rl, now(CLOCK_MONOTONIC)))
                log_warning_errno(r, "Failed to write %zu audit event(s), retrying in %s: %m", m->audit.n,
                                  format_timespan(ts, sizeof(ts), m->audit_backoff));
        (void)event_source_rearm(m->audit_retry, m->audit_backoff);
}

void manager_audit_sync(Manager *m) {
        if (m->audit.n == 0 || m->audit_backoff > 0)
                return;
        manager_audit_flush(m);
}

static int on_audit_flush(sd_event_source *s, void *userdata) {
        manager_audit_flush(userdata);
        return 0;
}

static int on_audit_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        manager_audit_flush(userdata);
        return 0;
}

static int on_prune_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        usec_t retention = m->config->store.audit_retention;

        if (retention > 0) {
                usec_t before = usec_sub(now(CLOCK_REALTIME), retention);
                (void)store_busy_short(m->store, STORE_PATH_BUSY);
                int r = store_audit_prune(m->store, before, PRUNE_BATCH);
                (void)store_busy_restore(m->store);
                if (r < 0)
                        log_warning_errno(r, "Failed to prune the audit log: %m");
                else if (r > 0)
                        log_info("Pruned %d audit event(s) older than the retention time.", r);
                /* come back soon while there is more to prune, so the loop never stalls on a big delete */
                (void)event_source_rearm(s, r >= (int)PRUNE_BATCH ? USEC_PER_SEC : PRUNE_INTERVAL);
        } else
                (void)event_source_rearm(s, PRUNE_INTERVAL);
        return 0;
}

/* ---- MQTT ---- */

static void on_mqtt_connect(Mqtt *mq, void *userdata) {
        Manager *m = userdata;
        if (m->gw)
                gwbearer_on_connect(m->gw);
        if (m->api) /* management API: subscribe, publish the retained status */
                api_on_connect(m->api);
}

static void on_mqtt_message(Mqtt *mq, const char *topic, const uint8_t *payload, size_t len,
                            void *userdata) {
        Manager *m = userdata;
        if (m->gw && gwbearer_on_message(m->gw, topic, payload, len))
                return;
        if (m->api && api_on_message(m->api, topic, payload, len)) /* management API requests */
                return;
        log_debug("Ignoring MQTT message on an unexpected topic.");
}

static void on_gw_uplink(GwBearer *b, const GwUplink *gu, void *userdata) {
        Manager *m = userdata;
        ProvUplink up = {
                .route.bearer = PROV_BEARER_MQTT,
                .network_address = gu->network_address,
                .source_address = gu->source_address,
                .src_ep = gu->src_ep,
                .dst_ep = gu->dst_ep,
                .travel_time_ms = gu->travel_time_ms,
                .payload = gu->payload,
                .payload_len = gu->payload_len,
        };
        snprintf(up.route.gateway, sizeof(up.route.gateway), "%s", gu->gw_id);
        snprintf(up.route.sink, sizeof(up.route.sink), "%s", gu->sink_id);
        manager_uplink(m, &up);
}

static void on_gw_send_result(GwBearer *b, uint64_t cookie, int error, const char *detail, void *userdata) {
        manager_send_result(userdata, cookie, error, detail);
}

static void gw_options_from_config(const Config *c, GwBearerOptions *o) {
        *o = (GwBearerOptions){
                .qos = (int)c->mqtt.qos,
                .send_timeout = c->mqtt.send_timeout,
                .send_retries = c->mqtt.send_retries,
                .serve_24g = c->provisioning.profiles & (CONF_PROFILE_24G | CONF_PROFILE_SUBG),
                .serve_5g = c->provisioning.profiles & CONF_PROFILE_5GMESH,
        };
}

static int read_secret_file(const char *path, char **ret) {
        _cleanup_free_ char *s = NULL;
        size_t n;
        int r = read_full_file(path, KEY_FILE_MAX, &s, &n);
        if (r < 0)
                return r;
        while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
                s[--n] = '\0';
        *ret = TAKE_PTR(s);
        return 0;
}

static int manager_start_mqtt(Manager *m) {
        const Config *c = m->config;
        _cleanup_free_ char *password = NULL;
        int r;

        if (!conf_mqtt_enabled(c))
                return 0;

        if (c->mqtt.password_file) {
                r = read_secret_file(c->mqtt.password_file, &password);
                if (r < 0)
                        return log_error_errno(r, "Failed to read MQTT password file '%s': %m",
                                               c->mqtt.password_file);
        } else if (!c->mqtt.password && getenv("CREDENTIALS_DIRECTORY")) {
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s/mqtt-password", getenv("CREDENTIALS_DIRECTORY")) < 0)
                        return log_oom();
                (void)read_secret_file(p, &password);
        }

        MqttOptions o = {
                .host = c->mqtt.host,
                .port = conf_mqtt_port(c),
                .tls = c->mqtt.tls,
                .ca_file = c->mqtt.ca_file,
                .cert_file = c->mqtt.cert_file,
                .key_file = c->mqtt.key_file,
                .tls_insecure = c->mqtt.tls_insecure,
                .username = c->mqtt.username,
                .password = password ?: c->mqtt.password,
                .client_id = c->mqtt.client_id,
                .keepalive_sec = (unsigned)(c->mqtt.keepalive / USEC_PER_SEC),
                .reconnect_min = c->mqtt.reconnect_min,
                .reconnect_max = c->mqtt.reconnect_max,
                .max_payload = MGMT_REQUEST_MAX,
        };
        MqttCallbacks cb = {
                .on_connect = on_mqtt_connect,
                .on_message = on_mqtt_message,
        };
        /* management API: created before the client, whose last will is the API's offline status; oversized
         * requests are let through to it so that they get a TOO_LARGE answer */
        if (c->api.enabled) {
                r = api_new(m, &m->api);
                if (r < 0) {
                        if (password)
                                explicit_bzero_safe(password, strlen(password));
                        return log_error_errno(r, "Failed to set up the management API: %m");
                }
                api_get_will(m->api, &o.will_topic, &o.will_payload, &o.will_len);
                o.will_qos = 1;
                o.will_retain = true;
                o.max_payload = MGMT_MESSAGE_IN_MAX;
        }
        r = mqtt_new(m->event, &o, &cb, m, &m->mqtt);
        if (password)
                explicit_bzero_safe(password, strlen(password));
        if (r < 0)
                return log_error_errno(r, "Failed to set up the MQTT client for '%s': %m", c->mqtt.host);

        if (c->mqtt.gateway_api) {
                GwBearerOptions go;
                GwBearerCallbacks gcb = { .on_uplink = on_gw_uplink, .on_send_result = on_gw_send_result };
                gw_options_from_config(c, &go);
                r = gwbearer_new(m->event, m->mqtt, &go, &gcb, m, &m->gw);
                if (r < 0)
                        return log_error_errno(r, "Failed to set up the gateway API bearer: %m");
        }
        r = mqtt_start(m->mqtt);
        if (r < 0)
                return log_error_errno(r, "Failed to start connecting to the MQTT broker: %m");
        log_info("Cloud bearer on: broker %s:%u (TLS %s), gateway API %s, management API %s%s%s.",
                 c->mqtt.host, conf_mqtt_port(c), yes_no(c->mqtt.tls), c->mqtt.gateway_api ? "on" : "off",
                 m->api ? "on as meshprov/v1/" : "off", m->api ? c->api.instance_id : "", m->api ? "/" : "");
        return 0;
}

static void manager_stop_mqtt(Manager *m) {
        if (m->api) /* management API: the retained offline status, before the clean disconnect */
                api_stop(m->api);
        if (m->mqtt)
                (void)mqtt_shutdown(m->mqtt, 2 * USEC_PER_SEC);
        m->gw = gwbearer_free(m->gw);
        m->api = api_free(m->api);
        m->mqtt = mqtt_free(m->mqtt);
}

/* ---- status ---- */

void manager_format_status(Manager *m, char *buf, size_t size) {
        ProvEngineStats es;
        char mq[96] = "";
        int n;

        prov_engine_get_stats(m->engine, &es);
        if (m->mqtt) {
                GwBearerStats gs = {};
                if (m->gw)
                        gwbearer_get_stats(m->gw, &gs);
                snprintf(mq, sizeof(mq), ", broker %s, %" PRIu64 " gateway(s) online",
                         mqtt_is_connected(m->mqtt) ? "connected" : "disconnected", gs.gateways_online);
        }
        n = snprintf(buf, size,
                     "%" PRIu64 " provisioned, %" PRIu64 " refused, %" PRIu64 " session(s) live%s", es.acks,
                     es.nacks[0] + es.nacks[1] + es.nacks[2] + es.nacks[3], es.sessions_live, mq);
        /* the sinks get the rest of buf; a list that does not fit ends in "... and N more" */
        if (sinks_count(m->sinks) > 0 && n >= 0 && (size_t)n + sizeof(", sinks: ") < size) {
                memcpy(buf + n, ", sinks: ", sizeof(", sinks: "));
                n += (int)strlen(", sinks: ");
                sinks_format_status(m->sinks, buf + n, size - (size_t)n);
        }
}

/* management API: the status snapshot */
void manager_get_status(Manager *m, ManagerStatus *ret) {
        *ret = (ManagerStatus){ .uptime = usec_sub(now(CLOCK_MONOTONIC), m->started),
                                .counters = m->counters };
        prov_engine_get_stats(m->engine, &ret->engine);
        if (m->mqtt) {
                snprintf(ret->broker_host, sizeof(ret->broker_host), "%s", mqtt_host(m->mqtt));
                ret->broker_connected = mqtt_is_connected(m->mqtt);
        }
        if (m->gw) {
                GwBearerStats gs;
                gwbearer_get_stats(m->gw, &gs);
                ret->gateway_api = true;
                ret->gateways_online = gs.gateways_online;
        }
        for (size_t i = 0; i < sinks_count(m->sinks) && i < ELEMENTSOF(ret->sinks); i++) {
                SinkLink *l = sinks_get(m->sinks, i);
                ManagerSinkStatus *k = &ret->sinks[ret->n_sinks];
                if (!l)
                        continue;
                snprintf(k->name, sizeof(k->name), "%s", strempty(sink_link_name(l)));
                if (i < m->config->n_sinks)
                        snprintf(k->device, sizeof(k->device), "%s", strempty(m->config->sinks[i].device));
                k->online = sink_link_state(l) == SINK_LINK_UP;
                snprintf(k->state, sizeof(k->state), "%s",
                         strempty(sink_link_state_to_string(sink_link_state(l))));
                ret->n_sinks++;
        }
}

static int on_status_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        char buf[256];
        manager_format_status(m, buf, sizeof(buf));
        (void)sd_notifyf(false, "STATUS=%s", buf);
        (void)event_source_rearm(s, STATUS_INTERVAL);
        return 0;
}

/* ---- signals and reload ---- */

static void engine_config_from(const Config *c, ProvEngineConfig *e) {
        uint8_t key[16];
        memcpy(key, e->hash_key, sizeof(key));
        prov_engine_config_defaults(e);
        memcpy(e->hash_key, key, sizeof(key));
        e->max_sessions = c->provisioning.max_sessions;
        e->session_timeout = c->provisioning.session_timeout;
        e->route_window = c->provisioning.route_window;
        e->duplicate_hold = c->provisioning.duplicate_hold;
        e->serve_24g = c->provisioning.profiles & (CONF_PROFILE_24G | CONF_PROFILE_SUBG);
        e->serve_5g = c->provisioning.profiles & CONF_PROFILE_5GMESH;
}

static bool streq_null(const char *a, const char *b) {
        return streq_ptr(a, b);
}

static bool sinks_settings_differ(const Config *a, const Config *b) {
        if (a->n_sinks != b->n_sinks)
                return true;
        for (size_t i = 0; i < a->n_sinks; i++) {
                const ConfSink *x = &a->sinks[i], *y = &b->sinks[i];
                if (!streq_null(x->name, y->name) || !streq_null(x->device, y->device) ||
                    x->baud != y->baud || x->start_stack != y->start_stack ||
                    x->max_in_flight != y->max_in_flight)
                        return true;
        }
        return false;
}

static bool mqtt_settings_differ(const Config *a, const Config *b) {
        return !streq_null(a->mqtt.host, b->mqtt.host) || conf_mqtt_port(a) != conf_mqtt_port(b) ||
               a->mqtt.tls != b->mqtt.tls || !streq_null(a->mqtt.ca_file, b->mqtt.ca_file) ||
               !streq_null(a->mqtt.cert_file, b->mqtt.cert_file) ||
               !streq_null(a->mqtt.key_file, b->mqtt.key_file) ||
               a->mqtt.tls_insecure != b->mqtt.tls_insecure ||
               !streq_null(a->mqtt.username, b->mqtt.username) ||
               !streq_null(a->mqtt.password, b->mqtt.password) ||
               !streq_null(a->mqtt.password_file, b->mqtt.password_file) ||
               !streq_null(a->mqtt.client_id, b->mqtt.client_id) || a->mqtt.keepalive != b->mqtt.keepalive ||
               a->mqtt.gateway_api != b->mqtt.gateway_api ||
               /* management API: its topics and last will belong to the connection */
               a->api.enabled != b->api.enabled || !streq_null(a->api.instance_id, b->api.instance_id) ||
               a->api.events != b->api.events || a->api.status_interval != b->api.status_interval;
}

static void manager_reload(Manager *m) {
        _cleanup_(config_freep) Config *c = NULL;
        ProvEngineConfig ec = m->engine_config;
        int r;

        (void)sd_notify(false, "RELOADING=1\nSTATUS=Reloading configuration...");
        r = conf_load(m->config_path, NULL, &c);
        if (r < 0) {
                log_error_errno(r, "Failed to reload the configuration, keeping the old one: %m");
                goto done;
        }
        r = conf_validate(c);
        conf_log_warnings(c);
        if (r < 0) {
                log_error("The new configuration is invalid, keeping the old one.");
                goto done;
        }
        if (!streq_null(c->store.database, m->config->store.database) ||
            !streq_null(c->store.master_key_file, m->config->store.master_key_file))
                log_warning("Database and master key changes take effect after a restart, ignoring them.");
        if (c->provisioning.max_sessions != m->config->provisioning.max_sessions)
                log_warning("MaxSessions= changes take effect after a restart, ignoring it.");
        if (sinks_settings_differ(c, m->config))
                log_warning("[Sink] changes take effect after a restart, ignoring them.");

        engine_config_from(c, &ec);
        ec.max_sessions = m->engine_config.max_sessions;
        r = prov_engine_reconfigure(m->engine, &ec);
        if (r < 0) {
                log_error_errno(r, "Failed to apply the provisioning settings, keeping the old ones: %m");
                goto done;
        }
        m->engine_config = ec;
        log_set_max_level(c->log.level);
        (void)store_set_busy_timeout(m->store, c->store.busy_timeout);

        /* (also when the client is missing: an earlier start failed, e.g. on an unreadable password file) */
        bool mqtt_changed = mqtt_settings_differ(c, m->config);
        bool restart_mqtt = mqtt_changed || (conf_mqtt_enabled(c) && !m->mqtt);
        if (m->gw && !restart_mqtt) {
                GwBearerOptions go;
                gw_options_from_config(c, &go);
                (void)gwbearer_reconfigure(m->gw, &go);
        }
        Config *old = m->config;
        m->config = TAKE_PTR(c);
        c = old; /* freed on return */
        if (restart_mqtt) {
                log_info(mqtt_changed ? "MQTT settings changed, reconnecting." : "Starting MQTT again.");
                manager_stop_mqtt(m);
                r = manager_start_mqtt(m);
                if (r < 0) {
                        manager_stop_mqtt(m);
                        log_error("MQTT stays off (no cloud bearer, no management API) until the "
                                  "configuration "
                                  "is fixed and reloaded.");
                }
        }
        log_info("Configuration reloaded.");
done:
        (void)sd_notify(false, "READY=1");
        (void)on_status_timer(m->status_timer, 0, m);
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        manager_reload(userdata);
        return 0;
}

static int on_sigterm(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;
        (void)sd_notify(false, "STOPPING=1\nSTATUS=Shutting down...");
        log_info("Received %s, shutting down.", si->ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
        (void)sd_event_exit(m->event, 0);
        return 0;
}

/* ---- lifecycle ---- */

static int manager_open_store(Manager *m) {
        const Config *c = m->config;
        _cleanup_free_ char *key_path = NULL;
        MasterKeySource src;
        bool exists;
        int r;

        /* A new master key only for a new database: for an existing one a fresh key could not read its
         * secrets (the store refuses a key that does not match). */
        exists = access(c->store.database, F_OK) >= 0;
        if (!exists) {
                /* a first start on defaults outside systemd's StateDirectory= */
                r = mkdir_parent(c->store.database, 0700);
                if (r < 0)
                        return log_error_errno(r,
                                               "Cannot create the directory of database '%s': %m. Set "
                                               "[Store] Database= or MESHPROV_DB to a writable place.",
                                               c->store.database);
        }
        r = master_key_load(c->store.master_key_file, c->store.database, exists ? 0 : MASTER_KEY_CREATE,
                            m->master_key, &key_path, &src);
        if (r < 0)
                return log_error_errno(r, "Failed to load the master key for '%s': %m", c->store.database);

        StoreOptions so = {
                .master_key = m->master_key,
                .busy_timeout = c->store.busy_timeout,
                .address_hold = c->store.address_hold,
        };
        r = store_open(c->store.database, &so, &m->store);
        if (r == -EPROTONOSUPPORT)
                return log_error_errno(
                        r, "Database '%s' was written by a newer meshprov; refusing to touch it.",
                        c->store.database);
        if (r == -EKEYREJECTED)
                return log_error_errno(r,
                                       "The master key (from %s) does not match database '%s': its secrets "
                                       "were written with another key. Check MasterKeyFile= or the "
                                       "meshprov-master-key credential.",
                                       master_key_source_to_string(src), c->store.database);
        if (r < 0)
                return log_error_errno(r, "Failed to open database '%s': %m", c->store.database);
        log_info("Database '%s' (schema %d), master key from %s.", c->store.database,
                 store_schema_version(m->store), master_key_source_to_string(src));
        return 0;
}

int manager_new(const char *config_path, Config *config, Manager **ret) {
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        m = new0(Manager, 1);
        if (!m)
                return log_oom();
        m->config = config;
        if (config_path) {
                m->config_path = strdup(config_path);
                if (!m->config_path)
                        return log_oom();
        }
        m->started = now(CLOCK_MONOTONIC);
        m->nack_log_rl = RATELIMIT_INIT(10 * USEC_PER_SEC, 20);
        m->warn_log_rl = RATELIMIT_INIT(10 * USEC_PER_SEC, 10);
        m->malformed_log_rl = RATELIMIT_INIT(10 * USEC_PER_SEC, 5);

        r = sd_event_default(&m->event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate the event loop: %m");
        (void)sd_event_set_watchdog(m->event, true);

        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        if (sd_event_add_signal(m->event, NULL, SIGTERM, on_sigterm, m) < 0 ||
            sd_event_add_signal(m->event, NULL, SIGINT, on_sigterm, m) < 0 ||
            sd_event_add_signal(m->event, NULL, SIGHUP, on_sighup, m) < 0)
                return log_error_errno(-EIO, "Failed to set up signal handling.");

        r = manager_open_store(m);
        if (r < 0)
                return r;

        r = audit_queue_init(&m->audit, m->store, AUDIT_QUEUE_MAX);
        if (r < 0)
                return log_oom();
        r = sd_event_add_defer(m->event, &m->audit_flush, on_audit_flush, m);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the audit writer: %m");
        (void)sd_event_source_set_enabled(m->audit_flush, SD_EVENT_OFF);
        /* lower priority than I/O: a burst of uplinks is handled first, then written in one transaction */
        (void)sd_event_source_set_priority(m->audit_flush, SD_EVENT_PRIORITY_IDLE);
        r = sd_event_add_time_relative(m->event, &m->audit_retry, CLOCK_MONOTONIC, AUDIT_RETRY_MIN,
                                       10 * USEC_PER_MSEC, on_audit_retry, m);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the audit writer: %m");
        (void)sd_event_source_set_enabled(m->audit_retry, SD_EVENT_OFF);

        identity_source_init(&m->identity, m->store, &m->lookup);
        if (random_bytes(m->engine_config.hash_key, sizeof(m->engine_config.hash_key)) < 0)
                return log_error_errno(-EIO, "Failed to get random bytes.");
        engine_config_from(m->config, &m->engine_config);
        r = prov_engine_new(&m->engine_config, &m->lookup, &m->engine);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the provisioning engine: %m");
        /* accuracy 1 us: 0 would mean sd-event's default of 250 ms, added to every route window */
        r = sd_event_add_time(m->event, &m->engine_timer, CLOCK_MONOTONIC, USEC_INFINITY, 1, on_engine_timer,
                              m);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the engine timer: %m");
        (void)sd_event_source_set_enabled(m->engine_timer, SD_EVENT_OFF);

        r = sd_event_add_time_relative(m->event, &m->prune_timer, CLOCK_MONOTONIC, USEC_PER_MINUTE,
                                       USEC_PER_SEC, on_prune_timer, m);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the audit pruning timer: %m");
        r = sd_event_add_time_relative(m->event, &m->status_timer, CLOCK_MONOTONIC, STATUS_INTERVAL,
                                       USEC_PER_SEC, on_status_timer, m);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the status timer: %m");

        r = manager_start_mqtt(m);
        if (r < 0)
                return r;

        /* gateway mode: the UART sinks (a sink that is not there yet is a state, not a failure) */
        r = sinks_new(m, &m->sinks);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        if (m->store)
                (void)audit_queue_flush(&m->audit);
        manager_stop_mqtt(m);
        m->sinks = sinks_free(m->sinks);
        m->engine_timer = sd_event_source_disable_unref(m->engine_timer);
        m->audit_flush = sd_event_source_disable_unref(m->audit_flush);
        m->audit_retry = sd_event_source_disable_unref(m->audit_retry);
        m->prune_timer = sd_event_source_disable_unref(m->prune_timer);
        m->status_timer = sd_event_source_disable_unref(m->status_timer);
        prov_engine_free(m->engine);
        free(m->deferred_results);
        audit_queue_done(&m->audit);
        store_free(m->store);
        explicit_bzero_safe(m->master_key, sizeof(m->master_key));
        config_free(m->config);
        free(m->config_path);
        sd_event_unref(m->event);
        free(m);
        return NULL;
}

int manager_run(Manager *m) {
        char buf[256];
        int r;

        manager_format_status(m, buf, sizeof(buf));
        (void)sd_notifyf(false, "READY=1\nSTATUS=%s", buf);
        log_struct(LOG_INFO, LOG_FIELDS(MESHPROV_MESSAGE_STARTED), "meshprovd %s running: %s.",
                   PACKAGE_VERSION, buf);

        r = sd_event_loop(m->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        r = audit_queue_flush(&m->audit);
        if (r < 0)
                log_warning_errno(r, "Failed to write the last audit events: %m");
        return 0;
}
