/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "conf.h"
#include "config.h"
#include "cursor.h"
#include "fileio.h"
#include "log.h"
#include "parse-util.h"
#include "string-util.h"

/* ---- the key table ---- */

typedef struct ConfItem ConfItem;

typedef enum ConfItemFlags {
        CONF_SECRET = 1 << 0,        /* never print, log or echo the value */
        CONF_WHOLE_SECONDS = 1 << 1, /* time span that must be a whole number of seconds */
        CONF_ASCII = 1 << 2,         /* text: printable ASCII only */
} ConfItemFlags;

typedef struct ConfType {
        /* value is non-empty and free of control characters. Writes *field only on success; -EINVAL or
         * -ERANGE for a bad value, -ENOMEM. */
        int (*parse)(const ConfItem *it, const char *value, void *field);
        /* The value as text, "" when unset. */
        void (*format)(const ConfItem *it, const void *field, char *buf, size_t size);
        /* What a valid value looks like, for warnings: "a number in 1..65535". */
        void (*expect)(const ConfItem *it, char *buf, size_t size);
        bool (*is_set)(const void *field);
        /* Releases what the field owns and zeroes it. */
        void (*clear)(void *field);
} ConfType;

struct ConfItem {
        const char *section;
        const char *key;
        const ConfType *type;
        size_t offset;          /* in Config, or in ConfSink for [Sink] keys */
        uint64_t min, max;      /* numbers; time spans in usec; text: max length in bytes */
        const char *def;        /* the default as text for the parser; NULL: unset/zero */
        const char *unset_note; /* shown by conf_dump() next to an unset value */
        ConfItemFlags flags;
};

/* Time spans and their text form. The output is exact, so it parses back with parse_sec(). */
static char *format_span(usec_t u, char *buf, size_t size) {
        static const struct {
                const char *suffix;
                usec_t usec;
        } units[] = {
                { "d", USEC_PER_DAY }, { "h", USEC_PER_HOUR },  { "min", USEC_PER_MINUTE },
                { "s", USEC_PER_SEC }, { "ms", USEC_PER_MSEC }, { "us", 1 },
        };
        size_t o = 0;

        assert(size >= 2);
        if (u == USEC_INFINITY) {
                snprintf(buf, size, "infinity");
                return buf;
        }
        buf[0] = '\0';
        if (u == 0) {
                snprintf(buf, size, "0");
                return buf;
        }
        for (size_t i = 0; i < ELEMENTSOF(units) && u > 0; i++) {
                if (u < units[i].usec)
                        continue;
                int n = snprintf(buf + o, size - o, "%s%" PRIu64 "%s", o > 0 ? " " : "", u / units[i].usec,
                                 units[i].suffix);
                if (n < 0 || (size_t)n >= size - o)
                        break;
                o += (size_t)n;
                u %= units[i].usec;
        }
        return buf;
}

/* Text. */
static bool text_valid(const ConfItem *it, const char *v) {
        size_t n = strlen(v);
        if (n == 0 || n > it->max)
                return false;
        if (it->flags & CONF_ASCII)
                for (const char *p = v; *p; p++)
                        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
                                return false;
        return true;
}

static int text_set(void *field, const char *v) {
        char **s = field, *t = strdup(v);
        if (!t)
                return -ENOMEM;
        if (*s) {
                explicit_bzero_safe(*s, strlen(*s)); /* may be a password */
                free(*s);
        }
        *s = t;
        return 0;
}

static int text_parse(const ConfItem *it, const char *v, void *field) {
        return text_valid(it, v) ? text_set(field, v) : -EINVAL;
}

static void text_format(const ConfItem *it, const void *field, char *buf, size_t size) {
        snprintf(buf, size, "%s", strempty(*(char *const *)field));
}

static void text_expect(const ConfItem *it, char *buf, size_t size) {
        snprintf(buf, size, "%stext of at most %" PRIu64 " bytes", it->flags & CONF_ASCII ? "ASCII " : "",
                 it->max);
}

static bool text_is_set(const void *field) {
        return *(char *const *)field != NULL;
}

static void text_clear(void *field) {
        char **s = field;
        if (*s) {
                explicit_bzero_safe(*s, strlen(*s));
                free(*s);
                *s = NULL;
        }
}

static const ConfType type_text = {
        .parse = text_parse,
        .format = text_format,
        .expect = text_expect,
        .is_set = text_is_set,
        .clear = text_clear,
};

/* Absolute paths. */
static int path_parse(const ConfItem *it, const char *v, void *field) {
        if (v[0] != '/' || strlen(v) > it->max)
                return -EINVAL;
        return text_set(field, v);
}

static void path_expect(const ConfItem *it, char *buf, size_t size) {
        snprintf(buf, size, "an absolute path");
}

static const ConfType type_path = {
        .parse = path_parse,
        .format = text_format,
        .expect = path_expect,
        .is_set = text_is_set,
        .clear = text_clear,
};

/* Broker host: a DNS name or an IPv4/IPv6 address (with an optional %scope). */
static int host_parse(const ConfItem *it, const char *v, void *field) {
        size_t n = strlen(v);
        if (n == 0 || n > it->max)
                return -EINVAL;
        for (const char *p = v; *p; p++) {
                char ch = *p;
                if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                      strchr(".-_:%", ch)))
                        return -EINVAL;
        }
        return text_set(field, v);
}

static void host_expect(const ConfItem *it, char *buf, size_t size) {
        snprintf(buf, size, "a host name or an IP address");
}

static const ConfType type_host = {
        .parse = host_parse,
        .format = text_format,
        .expect = host_expect,
        .is_set = text_is_set,
        .clear = text_clear,
};

/* Names that end up as one MQTT topic level: sink names, the instance id. */
static int name_parse(const ConfItem *it, const char *v, void *field) {
        size_t n = strlen(v);
        if (n > it->max || !topic_level_valid(v, n))
                return -EINVAL;
        return text_set(field, v);
}

static void name_expect(const ConfItem *it, char *buf, size_t size) {
        snprintf(buf, size, "at most %" PRIu64 " printable ASCII characters other than '/', '+' and '#'",
                 it->max);
}

static const ConfType type_name = {
        .parse = name_parse,
        .format = text_format,
        .expect = name_expect,
        .is_set = text_is_set,
        .clear = text_clear,
};

/* Booleans. */
static int bool_parse(const ConfItem *it, const char *v, void *field) {
        int b = parse_boolean(v);
        if (b < 0)
                return b;
        *(bool *)field = b;
        return 0;
}

static void bool_format(const ConfItem *it, const void *field, char *buf, size_t size) {
        snprintf(buf, size, "%s", yes_no(*(const bool *)field));
}

static void bool_expect(const ConfItem *it, char *buf, size_t size) {
        snprintf(buf, size, "yes or no");
}

static bool bool_is_set(const void *field) {
        return *(const bool *)field;
}

static void bool_clear(void *field) {
        *(bool *)field = false;
}

static const ConfType type_bool = {
        .parse = bool_parse,
        .format = bool_format,
        .expect = bool_expect,
        .is_set = bool_is_set,
        .clear = bool_clear,
};

/* Unsigned numbers of three widths. */
static int number_parse(const ConfItem *it, const char *v, uint64_t *ret) {
        uint64_t n;
        int r = safe_atou64(v, &n);
        if (r < 0)
                return r;
        if (n < it->min || n > it->max)
                return -ERANGE;
        *ret = n;
        return 0;
}

static void number_expect(const ConfItem *it, char *buf, size_t size) {
        snprintf(buf, size, "a number in %" PRIu64 "..%" PRIu64, it->min, it->max);
}

#define DEFINE_NUMBER_TYPE(name, type)                                                             \
        static int name##_parse(const ConfItem *it, const char *v, void *field) {                  \
                uint64_t n;                                                                        \
                int r = number_parse(it, v, &n);                                                   \
                if (r < 0)                                                                         \
                        return r;                                                                  \
                *(type *)field = (type)n;                                                          \
                return 0;                                                                          \
        }                                                                                          \
        static void name##_format(const ConfItem *it, const void *field, char *buf, size_t size) { \
                if (*(const type *)field == 0 && it->min > 0) /* unset */                          \
                        buf[0] = '\0';                                                             \
                else                                                                               \
                        snprintf(buf, size, "%" PRIu64, (uint64_t) * (const type *)field);         \
        }                                                                                          \
        static bool name##_is_set(const void *field) {                                             \
                return *(const type *)field != 0;                                                  \
        }                                                                                          \
        static void name##_clear(void *field) {                                                    \
                *(type *)field = 0;                                                                \
        }                                                                                          \
        static const ConfType type_##name = {                                                      \
                .parse = name##_parse,                                                             \
                .format = name##_format,                                                           \
                .expect = number_expect,                                                           \
                .is_set = name##_is_set,                                                           \
                .clear = name##_clear,                                                             \
        };

DEFINE_NUMBER_TYPE(unsigned, unsigned)
DEFINE_NUMBER_TYPE(u16, uint16_t)
DEFINE_NUMBER_TYPE(u32, uint32_t)

/* Time spans: "30", "500ms", "5min", "1d 2h"; stored in usec. */
static int span_parse(const ConfItem *it, const char *v, void *field) {
        usec_t u;
        int r = parse_sec(v, &u);
        if (r < 0)
                return r;
        if (u < it->min || u > it->max)
                return -ERANGE;
        if ((it->flags & CONF_WHOLE_SECONDS) && u % USEC_PER_SEC != 0)
                return -EINVAL;
        *(usec_t *)field = u;
        return 0;
}

static void span_format(const ConfItem *it, const void *field, char *buf, size_t size) {
        format_span(*(const usec_t *)field, buf, size);
}

static void span_expect(const ConfItem *it, char *buf, size_t size) {
        char a[64], b[64];
        snprintf(buf, size, "a time span in %s..%s%s", format_span(it->min, a, sizeof(a)),
                 format_span(it->max, b, sizeof(b)),
                 it->flags & CONF_WHOLE_SECONDS ? ", whole seconds" : "");
}

static bool span_is_set(const void *field) {
        return *(const usec_t *)field != 0;
}

static void span_clear(void *field) {
        *(usec_t *)field = 0;
}

static const ConfType type_span = {
        .parse = span_parse,
        .format = span_format,
        .expect = span_expect,
        .is_set = span_is_set,
        .clear = span_clear,
};

/* Log level: a syslog level name within min..max. */
static int level_parse(const ConfItem *it, const char *v, void *field) {
        int l = log_level_from_string(v);
        if (l < 0)
                return l;
        if ((uint64_t)l < it->min || (uint64_t)l > it->max)
                return -ERANGE;
        *(int *)field = l;
        return 0;
}

static void level_format(const ConfItem *it, const void *field, char *buf, size_t size) {
        snprintf(buf, size, "%s", strempty(log_level_to_string(*(const int *)field)));
}

static void level_expect(const ConfItem *it, char *buf, size_t size) {
        size_t o = 0;
        buf[0] = '\0';
        for (uint64_t l = it->max; l >= it->min && l <= it->max; l--) {
                int n = snprintf(buf + o, size - o, "%s%s", o > 0 ? ", " : "one of ",
                                 strempty(log_level_to_string((int)l)));
                if (n < 0 || (size_t)n >= size - o || l == 0)
                        break;
                o += (size_t)n;
        }
}

static bool level_is_set(const void *field) {
        return true;
}

static void level_clear(void *field) {
        *(int *)field = 0;
}

static const ConfType type_level = {
        .parse = level_parse,
        .format = level_format,
        .expect = level_expect,
        .is_set = level_is_set,
        .clear = level_clear,
};

/* Profiles: a list of names separated by spaces or commas. */
static const struct {
        const char *name;
        ConfProfile bit;
} profile_names[] = {
        { "2.4G", CONF_PROFILE_24G },
        { "SubG", CONF_PROFILE_SUBG },
        { "5GMesh", CONF_PROFILE_5GMESH },
};

char *conf_profiles_format(unsigned profiles, char *buf, size_t size) {
        size_t o = 0;

        assert(size > 0);
        buf[0] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(profile_names); i++) {
                if (!(profiles & profile_names[i].bit))
                        continue;
                int n = snprintf(buf + o, size - o, "%s%s", o > 0 ? " " : "", profile_names[i].name);
                if (n < 0 || (size_t)n >= size - o)
                        break;
                o += (size_t)n;
        }
        return buf;
}

static int profiles_parse(const ConfItem *it, const char *v, void *field) {
        unsigned mask = 0;

        for (const char *p = v; *p;) {
                size_t n;
                bool found = false;

                p += strspn(p, " \t,");
                n = strcspn(p, " \t,");
                if (n == 0)
                        break;
                for (size_t i = 0; i < ELEMENTSOF(profile_names); i++)
                        if (strlen(profile_names[i].name) == n &&
                            strncasecmp(p, profile_names[i].name, n) == 0) {
                                mask |= profile_names[i].bit;
                                found = true;
                        }
                if (!found)
                        return -EINVAL;
                p += n;
        }
        if (mask == 0)
                return -EINVAL;
        *(unsigned *)field = mask;
        return 0;
}

static void profiles_format(const ConfItem *it, const void *field, char *buf, size_t size) {
        conf_profiles_format(*(const unsigned *)field, buf, size);
}

static void profiles_expect(const ConfItem *it, char *buf, size_t size) {
        snprintf(buf, size, "a list of 2.4G, SubG and 5GMesh");
}

static const ConfType type_profiles = {
        .parse = profiles_parse,
        .format = profiles_format,
        .expect = profiles_expect,
        .is_set = unsigned_is_set,
        .clear = unsigned_clear,
};

#define SEC(n)   ((uint64_t)(n)*USEC_PER_SEC)
#define SPAN_MAX ((uint64_t)CONF_TIMESPAN_MAX_SEC * USEC_PER_SEC)
#define TEXT_MAX ((uint64_t)CONF_LINE_MAX)

#define ITEM(sec, k, t, field, lo, hi, d, ...)                                                          \
        {                                                                                               \
                .section = sec, .key = k, .type = &(t), .offset = offsetof(Config, field), .min = (lo), \
                .max = (hi), .def = (d), __VA_ARGS__                                                    \
        }
#define SINK_ITEM(k, t, field, lo, hi, d, ...)                                                  \
        {                                                                                       \
                .section = "Sink", .key = k, .type = &(t), .offset = offsetof(ConfSink, field), \
                .min = (lo), .max = (hi), .def = (d), __VA_ARGS__                               \
        }

/* Every key, in the order conf_dump() prints them. Keep etc/meshprovd.conf in step. */
static const ConfItem items[] = {
        ITEM("Store", "Database", type_path, store.database, 0, TEXT_MAX, MESHPROV_DEFAULT_DB),
        ITEM("Store", "MasterKeyFile", type_path, store.master_key_file, 0, TEXT_MAX, NULL,
             .unset_note = "credential meshprov-master-key, else master.key next to the database"),
        ITEM("Store", "AuditRetentionSec", type_span, store.audit_retention, 0, SPAN_MAX, "90d",
             .unset_note = "keep forever"),
        ITEM("Store", "BusyTimeoutSec", type_span, store.busy_timeout, 0, SEC(3600), "5s"),
        ITEM("Store", "AddressHoldSec", type_span, store.address_hold, 0, SPAN_MAX, "7d"),

        ITEM("Provisioning", "MaxSessions", type_unsigned, provisioning.max_sessions, 16, SESSIONS_MAX,
             "20000"),
        ITEM("Provisioning", "SessionTimeoutSec", type_span, provisioning.session_timeout, SEC(1),
             SEC(7 * 24 * 3600), "30min"),
        ITEM("Provisioning", "RouteWindowSec", type_span, provisioning.route_window, 0, SEC(60), "200ms",
             .unset_note = "answer the first copy"),
        ITEM("Provisioning", "DuplicateHoldSec", type_span, provisioning.duplicate_hold, 0, SEC(3600), "5s"),
        ITEM("Provisioning", "Profiles", type_profiles, provisioning.profiles, 0, 0, "2.4G SubG 5GMesh"),

        ITEM("Mqtt", "Host", type_host, mqtt.host, 0, CONF_HOST_MAX_LEN, NULL,
             .unset_note = "cloud bearer off"),
        ITEM("Mqtt", "Port", type_u16, mqtt.port, 1, 65535, NULL),
        ITEM("Mqtt", "TLS", type_bool, mqtt.tls, 0, 0, "yes"),
        ITEM("Mqtt", "CAFile", type_path, mqtt.ca_file, 0, TEXT_MAX, NULL, .unset_note = "system CA store"),
        ITEM("Mqtt", "CertFile", type_path, mqtt.cert_file, 0, TEXT_MAX, NULL),
        ITEM("Mqtt", "KeyFile", type_path, mqtt.key_file, 0, TEXT_MAX, NULL),
        ITEM("Mqtt", "TLSInsecure", type_bool, mqtt.tls_insecure, 0, 0, "no"),
        ITEM("Mqtt", "Username", type_text, mqtt.username, 0, TEXT_MAX, NULL),
        ITEM("Mqtt", "Password", type_text, mqtt.password, 0, TEXT_MAX, NULL, .flags = CONF_SECRET),
        ITEM("Mqtt", "PasswordFile", type_path, mqtt.password_file, 0, TEXT_MAX, NULL,
             .unset_note = "credential mqtt-password if present"),
        ITEM("Mqtt", "ClientId", type_text, mqtt.client_id, 0, MQTT_CLIENT_ID_MAX_LEN, NULL,
             .flags = CONF_ASCII),
        ITEM("Mqtt", "KeepAliveSec", type_span, mqtt.keepalive, SEC(5), SEC(65535), "20s",
             .flags = CONF_WHOLE_SECONDS),
        ITEM("Mqtt", "ReconnectMinSec", type_span, mqtt.reconnect_min, SEC(1) / 10, SEC(24 * 3600), "1s"),
        ITEM("Mqtt", "ReconnectMaxSec", type_span, mqtt.reconnect_max, SEC(1) / 10, SEC(24 * 3600), "60s"),
        ITEM("Mqtt", "Qos", type_unsigned, mqtt.qos, 0, 2, "1"),
        ITEM("Mqtt", "SendTimeoutSec", type_span, mqtt.send_timeout, SEC(1), SEC(600), "10s"),
        ITEM("Mqtt", "SendRetries", type_unsigned, mqtt.send_retries, 0, MQTT_SEND_RETRIES_MAX, "5"),
        ITEM("Mqtt", "GatewayApi", type_bool, mqtt.gateway_api, 0, 0, "yes"),

        ITEM("Api", "Enabled", type_bool, api.enabled, 0, 0, "no"),
        ITEM("Api", "InstanceId", type_name, api.instance_id, 0, NAME_MAX_LEN, NULL),
        ITEM("Api", "Events", type_bool, api.events, 0, 0, "yes"),
        ITEM("Api", "StatusIntervalSec", type_span, api.status_interval, SEC(1), SEC(24 * 3600), "60s"),

        ITEM("Log", "Level", type_level, log.level, LOG_ERR, LOG_DEBUG, "info"),
};

static const ConfItem sink_items[] = {
        SINK_ITEM("Name", type_name, name, 0, SINK_ID_MAX_LEN, NULL),
        SINK_ITEM("Device", type_path, device, 0, TEXT_MAX, NULL),
        SINK_ITEM("Baud", type_u32, baud, 1, UINT32_MAX, NULL,
                  .unset_note = "auto-detect 125000, 115200, 1000000"),
        SINK_ITEM("StartStack", type_bool, start_stack, 0, 0, "no"),
        SINK_ITEM("MaxInFlight", type_unsigned, max_in_flight, 1, SINK_IN_FLIGHT_MAX, "4"),
};

_Static_assert(ELEMENTSOF(items) <= CONF_ITEMS_MAX, "CONF_ITEMS_MAX too small");
_Static_assert(ELEMENTSOF(sink_items) <= CONF_SINK_ITEMS_MAX, "CONF_SINK_ITEMS_MAX too small");

/* Printed in this order; [Sink] sections come after [Mqtt]. */
static const char *const sections[] = { "Store", "Provisioning", "Mqtt", "Sink", "Api", "Log" };

/* Environment overrides, applied in this order after the files: the reference server's WM_SERVICES_* names
 * first, so that ours (MESHPROV_*) win when both are set. Empty variables count as unset. */
static const struct {
        const char *name;
        const char *section;
        const char *key;
        bool invert; /* a true/false flag that means the opposite of the key */
} env_table[] = {
        { "WM_SERVICES_MQTT_HOSTNAME", "Mqtt", "Host", false },
        { "WM_SERVICES_MQTT_PORT", "Mqtt", "Port", false },
        { "WM_SERVICES_MQTT_USERNAME", "Mqtt", "Username", false },
        { "WM_SERVICES_MQTT_PASSWORD", "Mqtt", "Password", false },
        { "WM_SERVICES_MQTT_INSECURE", "Mqtt", "TLS", true },
        { "MESHPROV_DB", "Store", "Database", false },
        { "MESHPROV_MQTT_HOST", "Mqtt", "Host", false },
        { "MESHPROV_MQTT_PORT", "Mqtt", "Port", false },
        { "MESHPROV_MQTT_TLS", "Mqtt", "TLS", false },
        { "MESHPROV_MQTT_USERNAME", "Mqtt", "Username", false },
        { "MESHPROV_MQTT_PASSWORD", "Mqtt", "Password", false },
        { "MESHPROV_MQTT_CA_FILE", "Mqtt", "CAFile", false },
        { "MESHPROV_LOG_LEVEL", "Log", "Level", false },
        { "MESHPROV_API_ENABLED", "Api", "Enabled", false },
        { "MESHPROV_INSTANCE_ID", "Api", "InstanceId", false },
};

static const ConfItem *item_find(const ConfItem *table, size_t n, const char *section, const char *key) {
        for (size_t i = 0; i < n; i++)
                if (streq(table[i].section, section) && streq(table[i].key, key))
                        return table + i;
        return NULL;
}

static const ConfItem *global_item(const char *section, const char *key) {
        return item_find(items, ELEMENTSOF(items), section, key);
}

static const ConfItem *sink_item(const char *key) {
        return item_find(sink_items, ELEMENTSOF(sink_items), "Sink", key);
}

static void *item_field(const ConfItem *it, void *base) {
        return (uint8_t *)base + it->offset;
}

static const void *item_field_const(const ConfItem *it, const void *base) {
        return (const uint8_t *)base + it->offset;
}

static int item_reset(const ConfItem *it, void *base) {
        void *field = item_field(it, base);

        it->type->clear(field);
        if (!it->def)
                return 0;
        /* Defaults are ours and always valid (test-conf checks); a failure here is -ENOMEM or a bad build
         * option such as a relative default database path. */
        return it->type->parse(it, it->def, field);
}

/* ---- warnings ---- */

static int warn_add(Config *c, bool error, bool capped, const char *file, unsigned line, char *message) {
        if (capped && c->n_warnings >= CONF_WARNINGS_MAX) {
                c->n_warnings_dropped++;
                free(message);
                return 0;
        }
        ConfWarning *w = reallocarray(c->warnings, c->n_warnings + 1, sizeof(ConfWarning));
        if (!w) {
                free(message);
                return -ENOMEM;
        }
        c->warnings = w;
        c->warnings[c->n_warnings++] = (ConfWarning){
                .file = file,
                .line = line,
                .message = message,
                .error = error,
        };
        return 0;
}

_printf_(6, 0) static int warn_addv(Config *c, bool error, bool capped, const char *file, unsigned line,
                                    const char *format, va_list ap) {
        char *m;

        if (vasprintf(&m, format, ap) < 0)
                return -ENOMEM;
        return warn_add(c, error, capped, file, line, m);
}

/* A bad environment value: an error (conf_validate() fails), not a warning. A container is configured only
 * through its environment, and a typo there must stop it rather than fall back to a default. Not capped. */
_printf_(2, 3) static int conf_env_error(Config *c, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        int r = warn_addv(c, true, false, NULL, 0, format, ap);
        va_end(ap);
        return r;
}

/* A warning while loading: kept up to CONF_WARNINGS_MAX, then only counted. Returns 0 or -ENOMEM. */
_printf_(4, 5) static int conf_warn(Config *c, const char *file, unsigned line, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        int r = warn_addv(c, false, true, file, line, format, ap);
        va_end(ap);
        return r;
}

/* A finding of conf_validate(), located where the value at came from. */
_printf_(4, 5) static int conf_problem(Config *c, bool error, const ConfSource *at, const char *format,
                                       ...) {
        va_list ap;
        char *m;

        va_start(ap, format);
        int n = vasprintf(&m, format, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        if (at && !at->file && at->env) {
                char *t;
                if (asprintf(&t, "%s (set by $%s)", m, at->env) < 0) {
                        free(m);
                        return -ENOMEM;
                }
                free(m);
                m = t;
        }
        return warn_add(c, error, false, at ? at->file : NULL, at ? at->line : 0, m);
}

static void warnings_truncate(Config *c, size_t n) {
        for (size_t i = n; i < c->n_warnings; i++)
                free(c->warnings[i].message);
        if (n < c->n_warnings)
                c->n_warnings = n;
}

/* ---- the Config object ---- */

static void sink_clear(ConfSink *s) {
        for (size_t i = 0; i < ELEMENTSOF(sink_items); i++)
                sink_items[i].type->clear(item_field(sink_items + i, s));
}

Config *config_free(Config *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(items); i++)
                items[i].type->clear(item_field(items + i, c));
        for (size_t i = 0; i < c->n_sinks; i++)
                sink_clear(c->sinks + i);
        for (size_t i = 0; i < c->n_files; i++)
                free(c->files[i]);
        free(c->files);
        warnings_truncate(c, 0);
        free(c->warnings);
        explicit_bzero_safe(c, sizeof(*c));
        free(c);
        return NULL;
}

static int config_new(Config **ret) {
        _cleanup_(config_freep) Config *c = NULL;
        int r;

        c = new0(Config, 1);
        if (!c)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(items); i++) {
                r = item_reset(items + i, c);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

/* Remembers a file name; sources and warnings point at the copy. */
static int config_add_file(Config *c, const char *path, const char **ret) {
        char **f = reallocarray(c->files, c->n_files + 1, sizeof(char *));
        if (!f)
                return -ENOMEM;
        c->files = f;
        c->files[c->n_files] = strdup(path);
        if (!c->files[c->n_files])
                return -ENOMEM;
        *ret = c->files[c->n_files++];
        return 0;
}

/* ---- assignments ---- */

static char *escape_value(const ConfItem *it, const char *value, char *buf, size_t size) {
        if (it->flags & CONF_SECRET) {
                snprintf(buf, size, "(secret)");
                return buf;
        }
        return cescape_str(value, buf, size);
}

/* Applies one assignment from origin (file:line or $VAR). An empty value resets the key. A bad value is a
 * warning and leaves the key alone. Returns 0 (also for a bad value) or -ENOMEM. */
static int conf_assign(Config *c, const ConfItem *it, void *base, ConfSource *slot, const char *value,
                       const ConfSource *origin) {
        int r;

        if (isempty(value))
                r = item_reset(it, base);
        else
                r = it->type->parse(it, value, item_field(it, base));
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                char expect[160], esc[96];

                it->type->expect(it, expect, sizeof(expect));
                escape_value(it, value, esc, sizeof(esc));
                if (origin->env)
                        return conf_env_error(c, "Invalid $%s=%s (expected %s)", origin->env, esc, expect);
                return conf_warn(c, origin->file, origin->line, "Invalid %s=%s (expected %s), ignoring",
                                 it->key, esc, expect);
        }
        *slot = *origin;
        return 0;
}

static bool is_blank(char ch) {
        return ch == ' ' || ch == '\t';
}

static char *strip(char *s) {
        while (is_blank(*s))
                s++;
        size_t n = strlen(s);
        while (n > 0 && is_blank(s[n - 1]))
                s[--n] = '\0';
        return s;
}

static bool has_control_chars(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++) {
                unsigned char ch = (unsigned char)s[i];
                if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
                        return true;
        }
        return false;
}

/* One line, without its '\n', as a view into the buffer. */
static void next_line(Cursor *c, const uint8_t **ret, size_t *ret_len) {
        Cursor probe = *c;
        size_t n = 0;
        uint8_t b;

        while (cursor_get_u8(&probe, &b) >= 0 && b != '\n')
                n++;
        *ret = NULL;
        (void)cursor_get_bytes(c, n, ret); /* cannot fail: n bytes are there */
        (void)cursor_skip(c, 1);           /* the '\n', if any */
        *ret_len = n;
}

typedef enum SectionState {
        SECTION_NONE, /* before the first header */
        SECTION_KNOWN,
        SECTION_IGNORED, /* unknown, malformed or one [Sink] too many: its keys are skipped silently */
} SectionState;

/* Where else the key exists, for the "unknown key" warning. */
static void key_hint(const char *section, const char *key, char *buf, size_t size) {
        buf[0] = '\0';
        for (size_t t = 0; t < 2; t++) {
                const ConfItem *table = t == 0 ? items : sink_items;
                size_t n = t == 0 ? ELEMENTSOF(items) : ELEMENTSOF(sink_items);
                for (size_t i = 0; i < n; i++) {
                        if (streq(table[i].section, section) && strcasecmp(table[i].key, key) == 0) {
                                snprintf(buf, size, " (did you mean %s=?)", table[i].key);
                                return;
                        }
                        if (!streq(table[i].section, section) && streq(table[i].key, key)) {
                                snprintf(buf, size, " (it belongs in [%s])", table[i].section);
                                return;
                        }
                }
        }
}

static int parse_section_header(Config *c, const char *file, unsigned line, char *s, SectionState *state,
                                const char **section, ConfSink **sink) {
        char esc[96];
        size_t n = strlen(s);

        *state = SECTION_IGNORED;
        *section = NULL;
        *sink = NULL;
        if (n < 3 || s[n - 1] != ']')
                return conf_warn(c, file, line, "Invalid section header '%s', ignoring it and its keys",
                                 cescape_str(s, esc, sizeof(esc)));
        s[n - 1] = '\0';
        const char *name = s + 1;
        for (size_t i = 0; i < ELEMENTSOF(sections); i++)
                if (streq(name, sections[i]))
                        *section = sections[i];
        if (!*section)
                return conf_warn(c, file, line, "Unknown section [%s], ignoring its keys",
                                 cescape_str(name, esc, sizeof(esc)));
        if (streq(*section, "Sink")) {
                if (c->n_sinks >= SINKS_MAX)
                        return conf_warn(c, file, line, "More than %u [Sink] sections, ignoring this one",
                                         SINKS_MAX);
                ConfSink *k = c->sinks + c->n_sinks;
                *k = (ConfSink){ .where = { .file = file, .line = line } };
                c->n_sinks++; /* counted first: config_free() then cleans it up whatever happens */
                for (size_t i = 0; i < ELEMENTSOF(sink_items); i++) {
                        int r = item_reset(sink_items + i, k);
                        if (r < 0)
                                return r;
                }
                *sink = k;
        }
        *state = SECTION_KNOWN;
        return 0;
}

static int parse_assignment(Config *c, const char *file, unsigned line, char *s, const char *section,
                            ConfSink *sink, bool world_readable) {
        char esc[96], hint[64];
        const ConfItem *it;
        char *eq = strchr(s, '=');
        int r;

        if (!eq)
                return conf_warn(c, file, line, "Missing '=', ignoring line");
        *eq = '\0';
        const char *key = strip(s), *value = strip(eq + 1);
        if (isempty(key))
                return conf_warn(c, file, line, "Missing key name before '=', ignoring line");
        if (!section)
                return conf_warn(c, file, line, "Assignment to %s= outside of a section, ignoring",
                                 cescape_str(key, esc, sizeof(esc)));

        it = sink ? sink_item(key) : global_item(section, key);
        if (!it) {
                key_hint(section, key, hint, sizeof(hint));
                return conf_warn(c, file, line, "Unknown key %s= in [%s]%s, ignoring",
                                 cescape_str(key, esc, sizeof(esc)), section, hint);
        }

        ConfSource origin = { .file = file, .line = line };
        if (sink)
                r = conf_assign(c, it, sink, sink->source + (it - sink_items), value, &origin);
        else
                r = conf_assign(c, it, c, c->source + (it - items), value, &origin);
        if (r < 0)
                return r;

        if ((it->flags & CONF_SECRET) && world_readable && !isempty(value))
                return conf_warn(c, file, line,
                                 "%s= is set in a file that other users can read; "
                                 "use PasswordFile= or the mqtt-password credential instead",
                                 it->key);
        return 0;
}

/* Parses one file's bytes (untrusted: read through a cursor). Returns 0 or -ENOMEM. */
static int conf_parse(Config *c, const char *file, const void *buf, size_t len, bool world_readable) {
        _cleanup_free_ char *l = NULL;
        Cursor cur = CURSOR_INIT(buf, len);
        SectionState state = SECTION_NONE;
        const char *section = NULL;
        ConfSink *sink = NULL;
        const uint8_t *bom;
        unsigned line = 0;
        int r;

        l = malloc(CONF_LINE_MAX + 1);
        if (!l)
                return -ENOMEM;

        Cursor probe = cur;
        if (cursor_get_bytes(&probe, 3, &bom) >= 0 && memcmp(bom, "\xef\xbb\xbf", 3) == 0)
                cur = probe;

        while (cursor_left(&cur) > 0) {
                const uint8_t *p;
                size_t n;

                line++;
                next_line(&cur, &p, &n);
                if (n > CONF_LINE_MAX) {
                        r = conf_warn(c, file, line, "Line longer than %u bytes, ignoring", CONF_LINE_MAX);
                        if (r < 0)
                                return r;
                        continue;
                }
                Cursor lc = CURSOR_INIT(p, n);
                if (n > 0)
                        (void)cursor_copy_bytes(&lc, l, n);
                l[n] = '\0';
                if (n > 0 && l[n - 1] == '\r')
                        l[--n] = '\0';

                bool bad = has_control_chars(l, n);
                char *s = strip(l);
                if (*s == '#' || *s == ';')
                        continue;
                if (bad)
                        r = conf_warn(c, file, line, "Line contains control characters, ignoring");
                else if (*s == '\0')
                        continue;
                else if (*s == '[')
                        r = parse_section_header(c, file, line, s, &state, &section, &sink);
                else if (state == SECTION_IGNORED)
                        continue;
                else
                        r = parse_assignment(c, file, line, s, section, sink, world_readable);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Reads and parses one file. -errno if it cannot be read (nothing changed then). */
static int conf_read_file(Config *c, const char *path) {
        _cleanup_free_ char *buf = NULL;
        const char *name;
        struct stat st;
        size_t len;
        int r;

        r = read_full_file(path, CONFIG_FILE_MAX, &buf, &len);
        if (r < 0)
                return r;
        r = config_add_file(c, path, &name);
        if (r < 0)
                return r;
        bool world_readable = stat(path, &st) >= 0 && (st.st_mode & S_IROTH);
        r = conf_parse(c, name, buf, len, world_readable);
        explicit_bzero_safe(buf, len); /* may hold a password */
        return r;
}

static void closedirp(DIR **d) {
        if (*d)
                (void)closedir(*d);
}

static void free_names(char **names, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(names[i]);
}

/* The *.conf files in <main>.d/, in byte order. At most CONF_DROPINS_MAX (the first ones in that order);
 * problems with the directory or a file are warnings. */
static int conf_read_dropins(Config *c, const char *main_path) {
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_free_ char *dir = NULL;
        char *names[CONF_DROPINS_MAX];
        size_t n = 0, skipped = 0;
        char esc[160];
        struct dirent *de;
        int r = 0;

        if (asprintf(&dir, "%s.d", main_path) < 0)
                return -ENOMEM;
        d = opendir(dir);
        if (!d) {
                if (errno == ENOENT || errno == ENOTDIR)
                        return 0;
                return conf_warn(c, NULL, 0, "Cannot open drop-in directory '%s': %s, ignoring",
                                 cescape_str(dir, esc, sizeof(esc)), strerror(errno));
        }

        /* Keep the CONF_DROPINS_MAX smallest names, sorted, without holding a list of everything. */
        while ((errno = 0, de = readdir(d))) {
                const char *nm = de->d_name;
                size_t l = strlen(nm);

                if (nm[0] == '.' || l <= 5 || !streq(nm + l - 5, ".conf"))
                        continue;
                if (has_control_chars(nm, l)) {
                        r = conf_warn(c, NULL, 0,
                                      "Drop-in '%s' has control characters in its name, ignoring",
                                      cescape_str(nm, esc, sizeof(esc)));
                        if (r < 0)
                                break;
                        continue;
                }
                if (n == CONF_DROPINS_MAX) {
                        skipped++;
                        if (strcmp(nm, names[n - 1]) >= 0)
                                continue;
                        free(names[--n]);
                }
                char *copy = strdup(nm);
                if (!copy) {
                        r = -ENOMEM;
                        break;
                }
                size_t pos = n;
                while (pos > 0 && strcmp(names[pos - 1], copy) > 0)
                        pos--;
                memmove(names + pos + 1, names + pos, (n - pos) * sizeof(char *));
                names[pos] = copy;
                n++;
        }
        if (r >= 0 && errno != 0)
                r = conf_warn(c, NULL, 0, "Cannot read drop-in directory '%s': %s, ignoring",
                              cescape_str(dir, esc, sizeof(esc)), strerror(errno));
        if (r >= 0 && skipped > 0)
                r = conf_warn(c, NULL, 0, "More than %u drop-ins in '%s', ignoring the last %zu",
                              CONF_DROPINS_MAX, cescape_str(dir, esc, sizeof(esc)), skipped);

        for (size_t i = 0; i < n && r >= 0; i++) {
                _cleanup_free_ char *p = NULL;

                if (asprintf(&p, "%s/%s", dir, names[i]) < 0) {
                        r = -ENOMEM;
                        break;
                }
                r = conf_read_file(c, p);
                if (r == -ENOMEM)
                        break;
                if (r < 0)
                        r = conf_warn(c, NULL, 0, "Cannot read drop-in '%s': %s, ignoring",
                                      cescape_str(p, esc, sizeof(esc)), strerror(-r));
        }
        free_names(names, n);
        return r < 0 ? r : 0;
}

/* ---- environment and derived defaults ---- */

static const char *real_getenv(const char *name, void *userdata) {
        return getenv(name);
}

static int conf_apply_env(Config *c, const ConfOptions *o) {
        const char *(*get)(const char *, void *) = o && o->getenv ? o->getenv : real_getenv;
        void *userdata = o ? o->userdata : NULL;
        char esc[96];
        int r;

        for (size_t i = 0; i < ELEMENTSOF(env_table); i++) {
                const ConfItem *it = ASSERT_PTR(global_item(env_table[i].section, env_table[i].key));
                const char *v = get(env_table[i].name, userdata);
                ConfSource origin = { .env = env_table[i].name };

                if (isempty(v))
                        continue;
                size_t n = strlen(v);
                if (n > CONF_LINE_MAX || has_control_chars(v, n)) {
                        r = conf_env_error(c, "Invalid $%s (control characters or too long)",
                                           env_table[i].name);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (env_table[i].invert) {
                        int b = parse_boolean(v);
                        if (b < 0) {
                                r = conf_env_error(c, "Invalid $%s=%s (expected true or false)",
                                                   env_table[i].name, cescape_str(v, esc, sizeof(esc)));
                                if (r < 0)
                                        return r;
                                continue;
                        }
                        v = b ? "no" : "yes";
                }
                r = conf_assign(c, it, c, c->source + (it - items), v, &origin);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Defaults that depend on the host or on a sink's position. They stay marked as defaults. */
static int conf_fill_derived(Config *c, const ConfOptions *o) {
        char host[256] = "";
        const char *h = o ? o->hostname : NULL;

        if (!h) {
                if (gethostname(host, sizeof(host) - 1) < 0 || host[0] == '\0')
                        snprintf(host, sizeof(host), "localhost");
                h = host;
        }
        if (!c->mqtt.client_id && asprintf(&c->mqtt.client_id, "meshprovd-%s", h) < 0) {
                c->mqtt.client_id = NULL;
                return -ENOMEM;
        }
        if (!c->api.instance_id) {
                c->api.instance_id = strdup(h);
                if (!c->api.instance_id)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < c->n_sinks; i++)
                if (!c->sinks[i].name && asprintf(&c->sinks[i].name, "sink%zu", i) < 0) {
                        c->sinks[i].name = NULL;
                        return -ENOMEM;
                }
        return 0;
}

static int conf_finish(Config *c, const ConfOptions *o) {
        int r = conf_apply_env(c, o);
        if (r < 0)
                return r;
        r = conf_fill_derived(c, o);
        if (r < 0)
                return r;
        c->n_load_warnings = c->n_warnings;
        return 0;
}

int conf_load(const char *path, const ConfOptions *options, Config **ret) {
        _cleanup_(config_freep) Config *c = NULL;
        bool explicit = path;
        int r;

        assert(ret);
        if (!path)
                path = MESHPROV_DEFAULT_CONFIG;

        r = config_new(&c);
        if (r < 0)
                return r;
        r = conf_read_file(c, path);
        if (r < 0 && !(r == -ENOENT && !explicit))
                return r;
        r = conf_read_dropins(c, path);
        if (r < 0)
                return r;
        r = conf_finish(c, options);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

int conf_load_buffer(const char *name, const void *buf, size_t len, const ConfOptions *options,
                     Config **ret) {
        _cleanup_(config_freep) Config *c = NULL;
        const char *file;
        int r;

        assert(name);
        assert(buf || len == 0);
        assert(ret);
        if (len > CONFIG_FILE_MAX)
                return -EFBIG;

        r = config_new(&c);
        if (r < 0)
                return r;
        r = config_add_file(c, name, &file);
        if (r < 0)
                return r;
        r = conf_parse(c, file, buf, len, false);
        if (r < 0)
                return r;
        r = conf_finish(c, options);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

/* ---- sources ---- */

const ConfSource *conf_source(const Config *c, const char *section, const char *key) {
        const ConfItem *it = global_item(section, key);
        return it ? c->source + (it - items) : NULL;
}

const ConfSource *conf_sink_source(const Config *c, size_t sink, const char *key) {
        const ConfItem *it = sink_item(key);
        if (!it || sink >= c->n_sinks)
                return NULL;
        return c->sinks[sink].source + (it - sink_items);
}

char *conf_source_format(const ConfSource *s, char *buf, size_t size) {
        if (s->file)
                snprintf(buf, size, "%s:%u", s->file, s->line);
        else if (s->env)
                snprintf(buf, size, "$%s", s->env);
        else
                snprintf(buf, size, "default");
        return buf;
}

/* ---- validation ---- */

static const ConfSource *src(const Config *c, const char *section, const char *key) {
        return ASSERT_PTR(conf_source(c, section, key));
}

static int validate_sinks(Config *c, unsigned *errors) {
        char esc[96], at[512];
        int r;

        for (size_t i = 0; i < c->n_sinks; i++) {
                const ConfSink *s = c->sinks + i;

                if (!s->device) {
                        r = conf_problem(c, true, &s->where, "[Sink] '%s' has no Device=",
                                         cescape_str(s->name, esc, sizeof(esc)));
                        if (r < 0)
                                return r;
                        (*errors)++;
                }
                for (size_t j = 0; j < i; j++) {
                        const ConfSink *o = c->sinks + j;

                        if (streq_ptr(s->name, o->name)) {
                                r = conf_problem(c, true, &s->where,
                                                 "[Sink] name '%s' is already used by the [Sink] at %s",
                                                 cescape_str(s->name, esc, sizeof(esc)),
                                                 conf_source_format(&o->where, at, sizeof(at)));
                                if (r < 0)
                                        return r;
                                (*errors)++;
                        }
                        if (s->device && streq_ptr(s->device, o->device)) {
                                r = conf_problem(c, true, &s->where,
                                                 "[Sink] Device=%s is already used by the [Sink] at %s",
                                                 cescape_str(s->device, esc, sizeof(esc)),
                                                 conf_source_format(&o->where, at, sizeof(at)));
                                if (r < 0)
                                        return r;
                                (*errors)++;
                        }
                }
        }
        return 0;
}

#define PROBLEM(error, at, ...)                                       \
        do {                                                          \
                int _r = conf_problem(c, (error), (at), __VA_ARGS__); \
                if (_r < 0)                                           \
                        return _r;                                    \
                if (error)                                            \
                        errors++;                                     \
        } while (0)

int conf_validate(Config *c) {
        char a[64], b[64], at[512], esc[96];
        unsigned errors = 0;
        int r;

        assert(c);
        warnings_truncate(c, c->n_load_warnings);

        for (size_t i = 0; i < c->n_load_warnings; i++) /* bad environment values */
                errors += c->warnings[i].error;

        r = validate_sinks(c, &errors);
        if (r < 0)
                return r;

        /* [Mqtt] */
        if (!!c->mqtt.cert_file != !!c->mqtt.key_file)
                PROBLEM(true, src(c, "Mqtt", c->mqtt.cert_file ? "CertFile" : "KeyFile"),
                        "CertFile= and KeyFile= must be set together");
        if (!c->mqtt.tls) {
                static const char *const tls_files[] = { "CAFile", "CertFile", "KeyFile" };
                const char *const values[] = { c->mqtt.ca_file, c->mqtt.cert_file, c->mqtt.key_file };
                for (size_t i = 0; i < ELEMENTSOF(tls_files); i++)
                        if (values[i])
                                PROBLEM(true, src(c, "Mqtt", tls_files[i]),
                                        "%s= is set but TLS is off (TLS=no, %s)", tls_files[i],
                                        conf_source_format(src(c, "Mqtt", "TLS"), at, sizeof(at)));
        }
        if (c->mqtt.password && c->mqtt.password_file)
                PROBLEM(true, src(c, "Mqtt", "PasswordFile"),
                        "Password= and PasswordFile= are both set (Password= from %s)",
                        conf_source_format(src(c, "Mqtt", "Password"), at, sizeof(at)));
        if ((c->mqtt.password || c->mqtt.password_file) && !c->mqtt.username)
                PROBLEM(true, src(c, "Mqtt", c->mqtt.password ? "Password" : "PasswordFile"),
                        "A password needs Username=");
        if (c->mqtt.reconnect_min > c->mqtt.reconnect_max)
                PROBLEM(true, src(c, "Mqtt", "ReconnectMinSec"),
                        "ReconnectMinSec=%s is larger than ReconnectMaxSec=%s (%s)",
                        format_span(c->mqtt.reconnect_min, a, sizeof(a)),
                        format_span(c->mqtt.reconnect_max, b, sizeof(b)),
                        conf_source_format(src(c, "Mqtt", "ReconnectMaxSec"), at, sizeof(at)));
        if (conf_mqtt_enabled(c)) {
                const char *id = c->api.instance_id;
                if (!id || strlen(id) > NAME_MAX_LEN || !topic_level_valid(id, strlen(id)))
                        PROBLEM(true, src(c, "Api", "InstanceId"),
                                "InstanceId=%s is not usable in MQTT topics: set InstanceId= explicitly",
                                cescape_str(id, esc, sizeof(esc)));
                const ConfItem *cid = global_item("Mqtt", "ClientId");
                if (!c->mqtt.client_id || !text_valid(cid, c->mqtt.client_id))
                        PROBLEM(true, src(c, "Mqtt", "ClientId"),
                                "ClientId=%s is not a usable MQTT client id: set ClientId= explicitly",
                                cescape_str(c->mqtt.client_id, esc, sizeof(esc)));
                if (!c->mqtt.tls && (c->mqtt.password || c->mqtt.password_file))
                        PROBLEM(false, src(c, "Mqtt", "TLS"),
                                "TLS is off: the MQTT password is sent unencrypted");
        }

        /* [Provisioning] */
        if (c->provisioning.route_window >= c->provisioning.session_timeout)
                PROBLEM(true, src(c, "Provisioning", "RouteWindowSec"),
                        "RouteWindowSec=%s must be shorter than SessionTimeoutSec=%s (%s)",
                        format_span(c->provisioning.route_window, a, sizeof(a)),
                        format_span(c->provisioning.session_timeout, b, sizeof(b)),
                        conf_source_format(src(c, "Provisioning", "SessionTimeoutSec"), at, sizeof(at)));

        /* [Api] */
        if (c->api.enabled && !conf_mqtt_enabled(c))
                PROBLEM(true, src(c, "Api", "Enabled"),
                        "[Api] Enabled=yes needs a broker: set [Mqtt] Host=");

        /* Anything to do at all? */
        if (c->n_sinks == 0 && !(conf_mqtt_enabled(c) && (c->mqtt.gateway_api || c->api.enabled)))
                PROBLEM(false, NULL,
                        "Nothing to serve: no [Sink] section and no broker answering the gateway API "
                        "([Mqtt] Host=, GatewayApi=yes)");

        return errors > 0 ? -EINVAL : 0;
}

void conf_log_warnings(const Config *c) {
        for (size_t i = 0; i < c->n_warnings; i++) {
                const ConfWarning *w = c->warnings + i;
                int level = w->error ? LOG_ERR : LOG_WARNING;

                if (w->file)
                        log_full(level, "%s:%u: %s", w->file, w->line, w->message);
                else
                        log_full(level, "%s", w->message);
        }
        if (c->n_warnings_dropped > 0)
                log_warning("%zu more configuration warning(s) not shown", c->n_warnings_dropped);
}

/* ---- printing ---- */

static void dump_item(const Config *c, const ConfItem *it, const void *base, const ConfSource *s, FILE *f) {
        _cleanup_free_ char *value = NULL;
        char where[512];
        const void *field = item_field_const(it, base);
        bool set = it->type->is_set(field);

        value = malloc(CONF_LINE_MAX + 1);
        if (!value) {
                fprintf(f, "%s=  # (out of memory)\n", it->key);
                return;
        }
        if (it->flags & CONF_SECRET)
                snprintf(value, CONF_LINE_MAX + 1, "%s", set ? "(set)" : "(unset)");
        else if (field == &c->mqtt.port)
                snprintf(value, CONF_LINE_MAX + 1, "%u", conf_mqtt_port(c));
        else
                it->type->format(it, field, value, CONF_LINE_MAX + 1);

        conf_source_format(s, where, sizeof(where));
        if (field == &c->mqtt.port && !set)
                fprintf(f, "%s=%s  # %s (%s)\n", it->key, value, where, c->mqtt.tls ? "TLS" : "no TLS");
        else if (!set && it->unset_note)
                fprintf(f, "%s=%s  # %s (%s)\n", it->key, value, where, it->unset_note);
        else
                fprintf(f, "%s=%s  # %s\n", it->key, value, where);
}

static void dump_section(const Config *c, const char *section, FILE *f) {
        fprintf(f, "[%s]\n", section);
        for (size_t i = 0; i < ELEMENTSOF(items); i++)
                if (streq(items[i].section, section))
                        dump_item(c, items + i, c, c->source + i, f);
}

int conf_dump(const Config *c, FILE *f) {
        char where[512];

        assert(c);
        assert(f);

        if (c->n_files == 0)
                fprintf(f, "# No configuration file: defaults and environment only\n");
        for (size_t i = 0; i < c->n_files; i++)
                fprintf(f, "# Read %s\n", c->files[i]);

        for (size_t k = 0; k < ELEMENTSOF(sections); k++) {
                if (!streq(sections[k], "Sink")) {
                        fputc('\n', f);
                        dump_section(c, sections[k], f);
                        continue;
                }
                if (c->n_sinks == 0)
                        fprintf(f, "\n# No [Sink] sections\n");
                for (size_t i = 0; i < c->n_sinks; i++) {
                        const ConfSink *s = c->sinks + i;
                        fprintf(f, "\n[Sink]  # %s\n", conf_source_format(&s->where, where, sizeof(where)));
                        for (size_t j = 0; j < ELEMENTSOF(sink_items); j++)
                                dump_item(c, sink_items + j, s, s->source + j, f);
                }
        }
        if (fflush(f) != 0 || ferror(f))
                return -EIO;
        return 0;
}
