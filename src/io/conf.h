/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The daemon's configuration: systemd-style INI files, environment overrides, validation and printing.
 *
 * Files: the main file (default MESHPROV_DEFAULT_CONFIG) and then the `*.conf` files in `<main>.d/` in
 * lexical (byte) order; a later assignment overrides an earlier one. Syntax: `[Section]`, `Key=Value`
 * (whitespace around both trimmed, the value taken literally: no quotes, no escapes, no line continuation),
 * comments start with `#` or `;` at the beginning of a line. An empty value resets the key to its default.
 * Each `[Sink]` section adds one sink (at most SINKS_MAX), also from drop-ins.
 *
 * Problems never make loading fail: an unknown section or key, a bad value or a malformed line becomes a
 * warning with file:line and is ignored (the key keeps the value it had: its default or an earlier file's).
 * Only I/O failure on the main file (or a missing explicitly named main file) and -ENOMEM fail conf_load().
 * Afterwards the environment overrides (see conf.c, env_table), then conf_validate() checks combinations.
 *
 * The Config is plain data: read its fields directly. Strings are heap-allocated and owned by the Config;
 * NULL means "not set". Nothing here is global, so SIGHUP can load a second Config and swap it in only if
 * conf_validate() accepts it. */

#include <stdio.h>

#include "meshprov-limits.h"
#include "macro.h"
#include "time-util.h"

/* Room for the per-key source records; conf.c checks at compile time that its tables fit. */
#define CONF_ITEMS_MAX      40u
#define CONF_SINK_ITEMS_MAX 8u

/* Where a value came from. Neither file nor env set: the default. */
typedef struct ConfSource {
        const char *file; /* borrowed from Config.files */
        unsigned line;
        const char *env; /* name of the environment variable (static string) */
} ConfSource;

typedef enum ConfProfile {
        CONF_PROFILE_24G = 1 << 0,    /* "2.4G": endpoints 246/255 */
        CONF_PROFILE_SUBG = 1 << 1,   /* "SubG": endpoints 246/255 */
        CONF_PROFILE_5GMESH = 1 << 2, /* "5GMesh": endpoints 160/39 */
        CONF_PROFILES_ALL = CONF_PROFILE_24G | CONF_PROFILE_SUBG | CONF_PROFILE_5GMESH,
} ConfProfile;

typedef struct ConfWarning {
        /* Borrowed from Config.files; NULL when not tied to a file (environment, validation). */
        const char *file;
        unsigned line;
        char *message; /* ready to log: user strings are quoted and escaped, secrets are never included */
        bool error;    /* from conf_validate(): the configuration must not be used */
} ConfWarning;

typedef struct ConfSink {
        char *name;    /* "sinkN" (N = position from 0) unless set */
        char *device;  /* required */
        uint32_t baud; /* 0: auto-detect (125000, 115200, 1000000) */
        bool start_stack;
        unsigned max_in_flight; /* downlinks awaiting their confirm/indication */

        ConfSource where; /* the [Sink] line */
        ConfSource source[CONF_SINK_ITEMS_MAX];
} ConfSink;

typedef struct Config {
        struct {
                char *database;
                char *master_key_file;  /* NULL: credential, else <database dir>/master.key (caller) */
                usec_t audit_retention; /* 0: keep forever */
                usec_t busy_timeout;
                usec_t address_hold;
        } store;
        struct {
                unsigned max_sessions;
                usec_t session_timeout;
                usec_t route_window; /* 0: answer the first copy */
                usec_t duplicate_hold;
                unsigned profiles; /* ConfProfile mask, never 0 */
        } provisioning;
        struct {
                char *host;    /* NULL: cloud bearer off */
                uint16_t port; /* 0: 8883 with TLS, 1883 without (conf_mqtt_port()) */
                bool tls;
                char *ca_file; /* NULL: the system's CA store */
                char *cert_file;
                char *key_file;
                bool tls_insecure;
                char *username;
                char *password;      /* secret: never log or print it */
                char *password_file; /* NULL: the credential "mqtt-password" if present (caller) */
                char *client_id;     /* "meshprovd-<hostname>" unless set */
                usec_t keepalive;    /* whole seconds */
                usec_t reconnect_min;
                usec_t reconnect_max;
                unsigned qos;
                usec_t send_timeout;
                unsigned send_retries;
                bool gateway_api;
        } mqtt;
        ConfSink sinks[SINKS_MAX];
        size_t n_sinks;
        struct {
                bool enabled;
                char *instance_id; /* the host name unless set */
                bool events;
                usec_t status_interval;
        } api;
        struct {
                int level; /* LOG_ERR..LOG_DEBUG */
        } log;

        /* Bookkeeping. */
        ConfSource source[CONF_ITEMS_MAX];
        char **files; /* files read, in order */
        size_t n_files;
        ConfWarning *warnings;
        size_t n_warnings;
        size_t n_warnings_dropped; /* beyond CONF_WARNINGS_MAX */
        size_t n_load_warnings;    /* the first ones; the rest are conf_validate()'s */
} Config;

typedef struct ConfOptions {
        /* Environment lookup; NULL: getenv(). Return NULL for "not set". */
        const char *(*getenv)(const char *name, void *userdata);
        void *userdata;
        /* For the ClientId= and InstanceId= defaults; NULL: gethostname(). */
        const char *hostname;
} ConfOptions;

Config *config_free(Config *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Config *, config_free);

/* Loads path (NULL: MESHPROV_DEFAULT_CONFIG, which may be missing) and its drop-ins, then the environment.
 * options may be NULL. -ENOENT if an explicit path is missing; -errno if the main file cannot be read;
 * -EFBIG if it is larger than CONFIG_FILE_MAX. Unreadable drop-ins are warnings. */
int conf_load(const char *path, const ConfOptions *options, Config **ret);

/* Like conf_load() on a single file held in memory (no drop-ins); name is used in warnings. For tests and
 * fuzzing. -EFBIG if len > CONFIG_FILE_MAX. */
int conf_load_buffer(const char *name, const void *buf, size_t len, const ConfOptions *options,
                     Config **ret);

/* Checks combinations of settings. Appends its findings to the warnings (with .error set for problems that
 * make the configuration unusable) and returns -EINVAL if there was any such error, else 0. May be called
 * again: it replaces its earlier findings. */
int conf_validate(Config *c);

/* Logs each warning (LOG_WARNING) and error (LOG_ERR), prefixed with file:line where known. */
void conf_log_warnings(const Config *c);

/* Prints the effective configuration as INI: every key with its value and, as a trailing comment, where it
 * came from ("# default", "# /etc/meshprovd/meshprovd.conf:12", "# $MESHPROV_DB"). Password= shows only
 * "(set)" or "(unset)". For people: the trailing comments make it unsuitable as input. */
int conf_dump(const Config *c, FILE *f);

/* Where section/key got its value; NULL for an unknown key. For a [Sink] key use conf_sink_source(). */
const ConfSource *conf_source(const Config *c, const char *section, const char *key);
const ConfSource *conf_sink_source(const Config *c, size_t sink, const char *key);
/* "default", "file:line" or "$VAR" into buf; returns buf. */
char *conf_source_format(const ConfSource *s, char *buf, size_t size);

/* The cloud bearer (MQTT) is on when a broker host is configured. */
static inline bool conf_mqtt_enabled(const Config *c) {
        return !isempty(c->mqtt.host);
}
/* The configured port, or the default for the TLS setting. */
static inline uint16_t conf_mqtt_port(const Config *c) {
        return c->mqtt.port != 0 ? c->mqtt.port : c->mqtt.tls ? 8883 : 1883;
}

/* "2.4G SubG 5GMesh" style, in this order; buf >= 32. */
char *conf_profiles_format(unsigned profiles, char *buf, size_t size);
