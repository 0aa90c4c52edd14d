/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* One MQTT connection (libmosquitto) driven from our sd-event loop: no library thread.
 *
 * The socket is an sd-event io source (EPOLLOUT only while libmosquitto wants to write, re-checked in a post
 * hook once per loop iteration), mosquitto_loop_misc() runs from a 1 s timer, and (re)connection is
 * non-blocking (mosquitto_connect_async on our loop; name resolution itself is synchronous, so configure an
 * address or a name the local resolver answers quickly). Lost connections are re-established with a capped,
 * jittered doubling backoff. TCP_NODELAY is set: with Nagle on, every small reply waits for the next
 * incoming packet. Protocol MQTT 3.1.1, clean session. */

#include <systemd/sd-event.h>

#include "macro.h"
#include "time-util.h"

typedef struct Mqtt Mqtt;

typedef struct MqttOptions {
        const char *host;
        uint16_t port;
        bool tls;
        const char *ca_file;   /* NULL with tls: the system's CA store */
        const char *cert_file; /* client certificate */
        const char *key_file;
        bool tls_insecure; /* don't check the broker's host name */
        const char *username;
        const char *password;
        const char *client_id;
        unsigned keepalive_sec;
        usec_t reconnect_min, reconnect_max;
        /* last will, optional */
        const char *will_topic;
        const void *will_payload;
        size_t will_len;
        int will_qos;
        bool will_retain;
        size_t max_payload; /* incoming messages larger than this are dropped and counted */
} MqttOptions;

typedef struct MqttCallbacks {
        /* Connected (again): subscribe and publish the retained status here. */
        void (*on_connect)(Mqtt *m, void *userdata);
        /* Connection lost or refused; a reconnect is already scheduled. */
        void (*on_disconnect)(Mqtt *m, int error, void *userdata);
        void (*on_message)(Mqtt *m, const char *topic, const uint8_t *payload, size_t len, void *userdata);
        /* A QoS>0 publish was acknowledged by the broker. */
        void (*on_published)(Mqtt *m, int mid, void *userdata);
        /* The broker acknowledged a subscription (SUBACK): messages on it arrive from now on, the retained
         * ones first. */
        void (*on_subscribed)(Mqtt *m, int mid, void *userdata);
} MqttCallbacks;

typedef struct MqttStats {
        uint64_t connects;
        uint64_t connect_failures;
        uint64_t disconnects;
        uint64_t messages_in;
        uint64_t messages_dropped; /* oversize */
        uint64_t publishes;
        uint64_t publish_failures;
} MqttStats;

/* Copies everything it needs from the options. */
int mqtt_new(sd_event *event, const MqttOptions *options, const MqttCallbacks *callbacks, void *userdata,
             Mqtt **ret);
Mqtt *mqtt_free(Mqtt *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Mqtt *, mqtt_free);

/* Starts connecting (from a timer, right away). */
int mqtt_start(Mqtt *m);
/* Disconnects cleanly if connected: what is queued (e.g. an offline status published just before) and the
 * DISCONNECT are written out, waiting at most `timeout` for the socket. Runs a short private poll loop:
 * meant for shutdown and reconfiguration only. */
int mqtt_shutdown(Mqtt *m, usec_t timeout);

/* *ret_mid (optional) is the id the on_subscribed callback reports when the broker has acknowledged it. */
int mqtt_subscribe(Mqtt *m, const char *pattern, int qos, int *ret_mid);
/* -ENOTCONN when not connected (nothing is queued): the caller decides what to do. */
int mqtt_publish(Mqtt *m, const char *topic, const void *payload, size_t len, int qos, bool retain,
                 int *ret_mid);

bool mqtt_is_connected(const Mqtt *m);
const char *mqtt_host(const Mqtt *m);
void mqtt_get_stats(const Mqtt *m, MqttStats *ret);

/* libmosquitto error -> negative errno, once, at the edge. */
int mqtt_errno(int mosq_err);
