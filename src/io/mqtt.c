/* SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>
#include <mosquitto.h>
#include <poll.h>
#include <sys/epoll.h>

#include "event-util.h"
#include "fileio.h"
#include "log.h"
#include "mqtt.h"
#include "ratelimit.h"
#include "string-util.h"

struct Mqtt {
        sd_event *event;
        struct mosquitto *mosq;
        MqttCallbacks cb;
        void *userdata;

        char *host;
        uint16_t port;
        unsigned keepalive_sec;
        usec_t reconnect_min, reconnect_max;
        size_t max_payload;

        sd_event_source *io;
        sd_event_source *misc_timer;
        sd_event_source *reconnect_timer;
        sd_event_source *post;
        int io_fd;

        bool connected;  /* CONNACK received */
        bool connecting; /* socket open, waiting for CONNACK */
        bool started;    /* mosquitto_connect_async() done once: later attempts use reconnect_async */
        bool shutting_down;
        unsigned failures; /* consecutive, for the backoff */
        RateLimit log_rl;
        RateLimit drop_rl;

        MqttStats stats;
};

static int mqtt_lib_refs;

int mqtt_errno(int e) {
        switch (e) {
        case MOSQ_ERR_SUCCESS:
                return 0;
        case MOSQ_ERR_NOMEM:
                return -ENOMEM;
        case MOSQ_ERR_INVAL:
        case MOSQ_ERR_MALFORMED_UTF8:
                return -EINVAL;
        case MOSQ_ERR_NO_CONN:
        case MOSQ_ERR_CONN_LOST:
                return -ENOTCONN;
        case MOSQ_ERR_CONN_REFUSED:
                return -ECONNREFUSED;
        case MOSQ_ERR_PROTOCOL:
        case MOSQ_ERR_MALFORMED_PACKET:
                return -EPROTO;
        case MOSQ_ERR_PAYLOAD_SIZE:
        case MOSQ_ERR_OVERSIZE_PACKET:
                return -EMSGSIZE;
        case MOSQ_ERR_NOT_SUPPORTED:
                return -EOPNOTSUPP;
        case MOSQ_ERR_AUTH:
        case MOSQ_ERR_ACL_DENIED:
                return -EACCES;
        case MOSQ_ERR_TLS:
        case MOSQ_ERR_TLS_HANDSHAKE:
                return -EPROTO;
        case MOSQ_ERR_EAI:
                return -EADDRNOTAVAIL;
        case MOSQ_ERR_KEEPALIVE:
                return -ETIMEDOUT;
        case MOSQ_ERR_ERRNO:
                return errno > 0 ? -errno : -EIO;
        default:
                return -EIO;
        }
}

static void mqtt_schedule_reconnect(Mqtt *m);
static int mqtt_watch_socket(Mqtt *m);

static void mqtt_drop_socket_source(Mqtt *m) {
        m->io = sd_event_source_disable_unref(m->io);
        m->io_fd = -EBADF;
}

/* The connection is gone (lost, refused or failed to open): tidy up, tell the owner, try again later. */
static void mqtt_connection_lost(Mqtt *m, int error) {
        bool was_connected = m->connected;

        mqtt_drop_socket_source(m);
        m->connected = m->connecting = false;
        if (was_connected)
                m->stats.disconnects++;
        else
                m->stats.connect_failures++;
        m->failures++;

        if (m->shutting_down)
                return;
        if (was_connected || ratelimit_below(&m->log_rl, now(CLOCK_MONOTONIC)))
                log_struct_errno(was_connected ? LOG_WARNING : LOG_INFO, error,
                                 LOG_FIELDS(MESHPROV_MESSAGE_BROKER_LOST),
                                 was_connected ? "MQTT connection to '%s:%u' lost, reconnecting: %m"
                                               : "Cannot connect to MQTT broker '%s:%u', retrying: %m",
                                 m->host, m->port);
        mqtt_schedule_reconnect(m);
        if (m->cb.on_disconnect)
                m->cb.on_disconnect(m, error, m->userdata);
}

static void on_connect(struct mosquitto *mosq, void *userdata, int rc) {
        Mqtt *m = userdata;

        if (rc != 0) {
                /* CONNACK with a refusal: bad credentials, not authorised, ... */
                log_warning("MQTT broker '%s:%u' refused the connection: %s", m->host, m->port,
                            mosquitto_connack_string(rc));
                (void)mosquitto_disconnect(mosq);
                return; /* on_disconnect follows */
        }
        m->connected = true;
        m->connecting = false;
        m->failures = 0;
        m->stats.connects++;
        log_struct(LOG_INFO, LOG_FIELDS(MESHPROV_MESSAGE_BROKER_UP), "Connected to MQTT broker '%s:%u'.",
                   m->host, m->port);
        if (m->cb.on_connect)
                m->cb.on_connect(m, m->userdata);
}

static void on_disconnect(struct mosquitto *mosq, void *userdata, int rc) {
        Mqtt *m = userdata;
        /* Called from inside mosquitto_loop_read/write; the socket is closed right after we return. */
        if (m->io || m->connected || m->connecting)
                mqtt_connection_lost(m, rc == 0 ? -ECONNRESET : mqtt_errno(rc));
}

static void on_message(struct mosquitto *mosq, void *userdata, const struct mosquitto_message *msg) {
        Mqtt *m = userdata;

        if (!msg->topic)
                return;
        if (msg->payloadlen < 0 || (size_t)msg->payloadlen > m->max_payload) {
                m->stats.messages_dropped++;
                if (ratelimit_below(&m->drop_rl, now(CLOCK_MONOTONIC))) {
                        char topic[128];
                        log_warning("Dropping a %d-byte message on '%s': larger than the %zu bytes accepted "
                                    "(%" PRIu64 " dropped so far).",
                                    msg->payloadlen, cescape_str(msg->topic, topic, sizeof(topic)),
                                    m->max_payload, m->stats.messages_dropped);
                }
                return;
        }
        m->stats.messages_in++;
        if (m->cb.on_message)
                m->cb.on_message(m, msg->topic, msg->payload, (size_t)msg->payloadlen, m->userdata);
}

static void on_publish(struct mosquitto *mosq, void *userdata, int mid) {
        Mqtt *m = userdata;
        if (m->cb.on_published)
                m->cb.on_published(m, mid, m->userdata);
}

static void on_subscribe(struct mosquitto *mosq, void *userdata, int mid, int qos_count,
                         const int *granted_qos) {
        Mqtt *m = userdata;
        if (m->cb.on_subscribed)
                m->cb.on_subscribed(m, mid, m->userdata);
}

static void on_log(struct mosquitto *mosq, void *userdata, int level, const char *str) {
        log_debug("libmosquitto: %s", str);
}

static int mqtt_on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Mqtt *m = userdata;
        int r = 0;

        if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
                r = mqtt_errno(mosquitto_loop_read(m->mosq, 1));
        if (r >= 0 && m->io && (revents & EPOLLOUT))
                r = mqtt_errno(mosquitto_loop_write(m->mosq, 1));
        if (r < 0 && m->io)
                mqtt_connection_lost(m, r);
        return 0; /* never negative: sd-event would disable the source */
}

static int mqtt_on_post(sd_event_source *s, void *userdata) {
        Mqtt *m = userdata;

        if (!m->io)
                return 0;
        /* The socket may have changed under us (libmosquitto reopened it). */
        if (mosquitto_socket(m->mosq) != m->io_fd) {
                if (mqtt_watch_socket(m) < 0)
                        mqtt_connection_lost(m, -EBADF);
                return 0;
        }
        (void)sd_event_source_set_io_events(m->io, EPOLLIN | (mosquitto_want_write(m->mosq) ? EPOLLOUT : 0));
        return 0;
}

static int mqtt_on_misc(sd_event_source *s, uint64_t usec, void *userdata) {
        Mqtt *m = userdata;

        if (m->io) {
                int r = mqtt_errno(mosquitto_loop_misc(m->mosq));
                if (r < 0 && m->io)
                        mqtt_connection_lost(m, r);
        }
        (void)event_source_rearm(s, USEC_PER_SEC);
        return 0;
}

static int mqtt_watch_socket(Mqtt *m) {
        int fd = mosquitto_socket(m->mosq);
        int r;

        mqtt_drop_socket_source(m);
        if (fd < 0)
                return -ENOTCONN;
        r = sd_event_add_io(m->event, &m->io, fd, EPOLLIN | EPOLLOUT, mqtt_on_io, m);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(m->io, "mqtt-socket");
        m->io_fd = fd;
        return 0;
}

static int mqtt_on_reconnect(sd_event_source *s, uint64_t usec, void *userdata) {
        Mqtt *m = userdata;
        int r;

        m->reconnect_timer = sd_event_source_disable_unref(m->reconnect_timer);
        if (m->io || m->shutting_down)
                return 0;

        if (!m->started) {
                r = mqtt_errno(mosquitto_connect_async(m->mosq, m->host, m->port, (int)m->keepalive_sec));
                if (r >= 0)
                        m->started = true;
        } else
                r = mqtt_errno(mosquitto_reconnect_async(m->mosq));
        if (r >= 0)
                r = mqtt_watch_socket(m);
        if (r < 0) {
                m->connecting = true; /* so that connection_lost counts a failure */
                mqtt_connection_lost(m, r);
                return 0;
        }
        m->connecting = true;
        return 0;
}

static void mqtt_schedule_reconnect(Mqtt *m) {
        usec_t delay = m->reconnect_min;
        uint32_t jitter;

        if (m->reconnect_timer || m->shutting_down)
                return;
        for (unsigned i = 1; i < m->failures && delay < m->reconnect_max; i++)
                delay *= 2;
        delay = MIN(delay, m->reconnect_max);
        /* each wait in [delay/2, delay): gateways restarting together don't reconnect in lockstep */
        if (random_bytes(&jitter, sizeof(jitter)) >= 0 && delay > 1)
                delay = delay / 2 + jitter % (delay / 2);

        if (sd_event_add_time_relative(m->event, &m->reconnect_timer, CLOCK_MONOTONIC, delay,
                                       10 * USEC_PER_MSEC, mqtt_on_reconnect, m) < 0)
                log_error("Failed to schedule MQTT reconnect; the connection stays down.");
        else
                (void)sd_event_source_set_description(m->reconnect_timer, "mqtt-reconnect");
}

int mqtt_new(sd_event *event, const MqttOptions *o, const MqttCallbacks *cb, void *userdata, Mqtt **ret) {
        _cleanup_(mqtt_freep) Mqtt *m = NULL;
        int r;

        if (!event || !o || isempty(o->host) || o->port == 0 || !ret)
                return -EINVAL;

        if (mqtt_lib_refs++ == 0)
                (void)mosquitto_lib_init();

        m = new0(Mqtt, 1);
        if (!m) {
                mqtt_lib_refs--;
                return -ENOMEM;
        }
        m->event = sd_event_ref(event);
        m->io_fd = -EBADF;
        m->cb = *cb;
        m->userdata = userdata;
        m->port = o->port;
        m->keepalive_sec = MAX(o->keepalive_sec, 5u);
        m->reconnect_min = o->reconnect_min ?: USEC_PER_SEC;
        m->reconnect_max = MAX(o->reconnect_max, m->reconnect_min);
        m->max_payload = o->max_payload ?: (1u << 20);
        m->log_rl = RATELIMIT_INIT(10 * USEC_PER_MINUTE, 3);
        m->drop_rl = RATELIMIT_INIT(USEC_PER_MINUTE, 5);
        m->host = strdup(o->host);
        if (!m->host)
                return -ENOMEM;

        m->mosq = mosquitto_new(isempty(o->client_id) ? NULL : o->client_id, true, m);
        if (!m->mosq)
                return errno == EINVAL ? -EINVAL : -ENOMEM;

        (void)mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
        (void)mosquitto_int_option(m->mosq, MOSQ_OPT_TCP_NODELAY, 1);
        mosquitto_connect_callback_set(m->mosq, on_connect);
        mosquitto_disconnect_callback_set(m->mosq, on_disconnect);
        mosquitto_message_callback_set(m->mosq, on_message);
        mosquitto_publish_callback_set(m->mosq, on_publish);
        mosquitto_subscribe_callback_set(m->mosq, on_subscribe);
        mosquitto_log_callback_set(m->mosq, on_log);

        if (o->username) {
                r = mqtt_errno(mosquitto_username_pw_set(m->mosq, o->username, o->password));
                if (r < 0)
                        return r;
        }
        if (o->tls) {
                if (!o->ca_file)
                        (void)mosquitto_int_option(m->mosq, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
                r = mqtt_errno(mosquitto_tls_set(m->mosq, o->ca_file, o->ca_file ? NULL : "/etc/ssl/certs",
                                                 o->cert_file, o->key_file, NULL));
                if (r < 0)
                        return r;
                r = mqtt_errno(mosquitto_tls_opts_set(m->mosq, 1 /* SSL_VERIFY_PEER */, "tlsv1.2", NULL));
                if (r < 0)
                        return r;
                r = mqtt_errno(mosquitto_tls_insecure_set(m->mosq, o->tls_insecure));
                if (r < 0)
                        return r;
        }
        if (o->will_topic) {
                r = mqtt_errno(mosquitto_will_set(m->mosq, o->will_topic, (int)o->will_len, o->will_payload,
                                                  o->will_qos, o->will_retain));
                if (r < 0)
                        return r;
        }

        r = sd_event_add_time_relative(event, &m->misc_timer, CLOCK_MONOTONIC, USEC_PER_SEC,
                                       50 * USEC_PER_MSEC, mqtt_on_misc, m);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(m->misc_timer, "mqtt-misc");
        r = sd_event_add_post(event, &m->post, mqtt_on_post, m);
        if (r < 0)
                return r;
        /* The post source fires only in iterations that dispatched something; keep it enabled always. */
        (void)sd_event_source_set_enabled(m->post, SD_EVENT_ON);

        *ret = TAKE_PTR(m);
        return 0;
}

Mqtt *mqtt_free(Mqtt *m) {
        if (!m)
                return NULL;
        m->shutting_down = true;
        mqtt_drop_socket_source(m);
        m->misc_timer = sd_event_source_disable_unref(m->misc_timer);
        m->reconnect_timer = sd_event_source_disable_unref(m->reconnect_timer);
        m->post = sd_event_source_disable_unref(m->post);
        if (m->mosq) {
                mosquitto_destroy(m->mosq);
                if (--mqtt_lib_refs == 0)
                        (void)mosquitto_lib_cleanup();
        } else
                mqtt_lib_refs--;
        sd_event_unref(m->event);
        free(m->host);
        free(m);
        return NULL;
}

int mqtt_start(Mqtt *m) {
        if (m->reconnect_timer || m->io)
                return 0;
        m->failures = 0;
        int r = sd_event_add_time_relative(m->event, &m->reconnect_timer, CLOCK_MONOTONIC, 0, 1,
                                           mqtt_on_reconnect, m);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(m->reconnect_timer, "mqtt-connect");
        return 0;
}

int mqtt_shutdown(Mqtt *m, usec_t timeout) {
        if (!m)
                return 0;
        m->shutting_down = true;
        m->reconnect_timer = sd_event_source_disable_unref(m->reconnect_timer);
        if (!m->connected) {
                mqtt_drop_socket_source(m);
                return 0;
        }

        (void)mosquitto_disconnect(m->mosq);
        /* Flush what is queued (a DISCONNECT at least) with a small private loop: the event loop is
         * winding down and the service manager is waiting for us. */
        usec_t end = usec_add(now(CLOCK_MONOTONIC), timeout);
        while (mosquitto_want_write(m->mosq) && now(CLOCK_MONOTONIC) < end) {
                struct pollfd p = { .fd = mosquitto_socket(m->mosq), .events = POLLOUT };
                if (p.fd < 0 || poll(&p, 1, 100) < 0)
                        break;
                if (p.revents & POLLOUT && mosquitto_loop_write(m->mosq, 1) != MOSQ_ERR_SUCCESS)
                        break;
        }
        m->connected = false;
        mqtt_drop_socket_source(m);
        return 0;
}

int mqtt_subscribe(Mqtt *m, const char *pattern, int qos, int *ret_mid) {
        int mid = 0, r;

        if (!m->connected)
                return -ENOTCONN;
        r = mqtt_errno(mosquitto_subscribe(m->mosq, &mid, pattern, qos));
        if (r < 0)
                return r;
        if (m->io)
                (void)sd_event_source_set_io_events(m->io, EPOLLIN | EPOLLOUT);
        if (ret_mid)
                *ret_mid = mid;
        return 0;
}

int mqtt_publish(Mqtt *m, const char *topic, const void *payload, size_t len, int qos, bool retain,
                 int *ret_mid) {
        int mid = 0, r;

        if (!m->connected) {
                m->stats.publish_failures++;
                return -ENOTCONN;
        }
        if (len > INT32_MAX)
                return -EMSGSIZE;
        r = mqtt_errno(mosquitto_publish(m->mosq, &mid, topic, (int)len, payload, qos, retain));
        if (r < 0) {
                m->stats.publish_failures++;
                return r;
        }
        m->stats.publishes++;
        if (m->io)
                (void)sd_event_source_set_io_events(m->io, EPOLLIN | EPOLLOUT);
        if (ret_mid)
                *ret_mid = mid;
        return 0;
}

bool mqtt_is_connected(const Mqtt *m) {
        return m && m->connected;
}

const char *mqtt_host(const Mqtt *m) {
        return m->host;
}

void mqtt_get_stats(const Mqtt *m, MqttStats *ret) {
        *ret = m->stats;
}
