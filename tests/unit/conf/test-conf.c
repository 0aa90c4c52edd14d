/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "test-helpers.h"

#include "conf.h"
#include "config.h"
#include "fileio.h"
#include "log.h"
#include "string-util.h"

#if !defined(CONF_CASES_DIR) || !defined(CONF_EXAMPLE_FILE)
#error "CONF_CASES_DIR and CONF_EXAMPLE_FILE must point at tests/unit/conf/cases and etc/meshprovd.conf"
#endif

/* ---- helpers ---- */

/* A fake environment: NULL-terminated "NAME=value" strings. */
static const char *fake_getenv(const char *name, void *userdata) {
        size_t l = strlen(name);
        for (const char *const *e = userdata; e && *e; e++)
                if (strncmp(*e, name, l) == 0 && (*e)[l] == '=')
                        return *e + l + 1;
        return NULL;
}

/* OPTIONS("NAME=value", ...) or OPTIONS(NULL) for an empty environment; the host is "gw1". */
#define OPTIONS(...)                                                       \
        ((ConfOptions){ .getenv = fake_getenv,                             \
                        .userdata = (const char *[]){ __VA_ARGS__, NULL }, \
                        .hostname = "gw1" })

static const ConfOptions no_env = { .getenv = fake_getenv, .hostname = "gw1" };

static Config *load_text_env(const char *text, const ConfOptions *o) {
        Config *c = NULL;
        assert_int_equal(conf_load_buffer("test.conf", text, strlen(text), o, &c), 0);
        assert_non_null(c);
        return c;
}

static Config *load_text(const char *text) {
        ConfOptions o = OPTIONS(NULL);
        return load_text_env(text, &o);
}

/* Number of warnings (not validation errors) whose location and message match. */
static size_t count_warnings(const Config *c, const char *file, unsigned line, const char *needle) {
        size_t n = 0;
        for (size_t i = 0; i < c->n_warnings; i++) {
                const ConfWarning *w = c->warnings + i;
                if (file ? !streq_ptr(w->file, file) || w->line != line : w->file != NULL)
                        continue;
                if (strstr(w->message, needle))
                        n++;
        }
        return n;
}

static size_t count_errors(const Config *c) {
        size_t n = 0;
        for (size_t i = 0; i < c->n_warnings; i++)
                n += c->warnings[i].error;
        return n;
}

static bool is_default(const ConfSource *s) {
        return s && !s->file && !s->env;
}

static char *dump(const Config *c) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        assert_non_null(f);
        assert_int_equal(conf_dump(c, f), 0);
        assert_int_equal(fclose(f), 0);
        return buf;
}

static char tmpdir[] = "/tmp/test-conf-XXXXXX";

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f) {
        return remove(p);
}

static int setup_tmp(void **state) {
        strcpy(tmpdir, "/tmp/test-conf-XXXXXX");
        assert_non_null(mkdtemp(tmpdir));
        return 0;
}

static int teardown_tmp(void **state) {
        (void)nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
        return 0;
}

static const char *path_in(const char *name) {
        static char buf[4][512];
        static unsigned i;
        char *p = buf[i++ % 4];
        snprintf(p, 512, "%s/%s", tmpdir, name);
        return p;
}

static void write_file(const char *path, const char *text, mode_t mode) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        assert_int_equal(fchmod(fd, mode), 0);
        close(fd);
}

/* ---- defaults and syntax ---- */

static void test_defaults(void **state) {
        Config *c = load_text("");

        assert_string_equal(c->store.database, MESHPROV_DEFAULT_DB);
        assert_null(c->store.master_key_file);
        assert_true(c->store.audit_retention == 90 * USEC_PER_DAY);
        assert_true(c->store.busy_timeout == 5 * USEC_PER_SEC);
        assert_true(c->store.address_hold == 7 * USEC_PER_DAY);
        assert_int_equal(c->provisioning.max_sessions, SESSIONS_DEFAULT);
        assert_true(c->provisioning.session_timeout == 30 * USEC_PER_MINUTE);
        assert_true(c->provisioning.route_window == 200 * USEC_PER_MSEC);
        assert_true(c->provisioning.duplicate_hold == 5 * USEC_PER_SEC);
        assert_int_equal(c->provisioning.profiles, CONF_PROFILES_ALL);
        assert_null(c->mqtt.host);
        assert_false(conf_mqtt_enabled(c));
        assert_int_equal(c->mqtt.port, 0);
        assert_int_equal(conf_mqtt_port(c), 8883);
        assert_true(c->mqtt.tls);
        assert_false(c->mqtt.tls_insecure);
        assert_null(c->mqtt.username);
        assert_null(c->mqtt.password);
        assert_string_equal(c->mqtt.client_id, "meshprovd-gw1");
        assert_true(c->mqtt.keepalive == 20 * USEC_PER_SEC);
        assert_true(c->mqtt.reconnect_min == USEC_PER_SEC);
        assert_true(c->mqtt.reconnect_max == 60 * USEC_PER_SEC);
        assert_int_equal(c->mqtt.qos, 1);
        assert_true(c->mqtt.send_timeout == 10 * USEC_PER_SEC);
        assert_int_equal(c->mqtt.send_retries, 5);
        assert_true(c->mqtt.gateway_api);
        assert_int_equal(c->n_sinks, 0);
        assert_false(c->api.enabled);
        assert_string_equal(c->api.instance_id, "gw1");
        assert_true(c->api.events);
        assert_true(c->api.status_interval == 60 * USEC_PER_SEC);
        assert_int_equal(c->log.level, LOG_INFO);

        assert_int_equal(c->n_warnings, 0);
        assert_true(is_default(conf_source(c, "Store", "Database")));
        assert_true(is_default(conf_source(c, "Log", "Level")));
        assert_null(conf_source(c, "Store", "Nope"));
        assert_null(conf_source(c, "Sink", "Device")); /* per sink: conf_sink_source() */

        /* Valid, with one warning: nothing to serve. */
        assert_int_equal(conf_validate(c), 0);
        assert_int_equal(c->n_warnings, 1);
        assert_int_equal(count_errors(c), 0);
        assert_int_equal(count_warnings(c, NULL, 0, "Nothing to serve"), 1);
        config_free(c);
}

static void test_syntax(void **state) {
        /* BOM, CRLF, comments with # and ;, blanks around '=' and at both ends, tabs, a later assignment
         * winning, an empty value resetting to the default, a value containing '=' and '#'. */
        Config *c = load_text("\xef\xbb\xbf# comment\r\n"
                              "; another\n"
                              "   [Store]  \r\n"
                              "\tDatabase\t =  /srv/a b.db \r\n"
                              "BusyTimeoutSec=1s\n"
                              "BusyTimeoutSec=2min 30s\n"
                              "AuditRetentionSec=1d\n"
                              "AuditRetentionSec=\n"
                              "   # indented comment\n"
                              "[Mqtt]\n"
                              "Username=a=b#c ;d\n"
                              "Profiles=2.4G\n"
                              "[Provisioning]\n"
                              "Profiles= subg,5gmesh ,, \n"
                              "\n");

        assert_string_equal(c->store.database, "/srv/a b.db");
        assert_true(c->store.busy_timeout == 150 * USEC_PER_SEC);
        assert_int_equal(conf_source(c, "Store", "BusyTimeoutSec")->line, 6);
        assert_true(c->store.audit_retention == 90 * USEC_PER_DAY);
        /* A reset records where it happened. */
        assert_string_equal(conf_source(c, "Store", "AuditRetentionSec")->file, "test.conf");
        assert_int_equal(conf_source(c, "Store", "AuditRetentionSec")->line, 8);
        assert_string_equal(c->mqtt.username, "a=b#c ;d");
        assert_int_equal(c->provisioning.profiles, CONF_PROFILE_SUBG | CONF_PROFILE_5GMESH);
        /* Profiles= in [Mqtt] is unknown there, with a hint. */
        assert_int_equal(count_warnings(c, "test.conf", 12,
                                        "Unknown key Profiles= in [Mqtt] (it belongs in "
                                        "[Provisioning])"),
                         1);
        assert_int_equal(c->n_warnings, 1);
        config_free(c);
}

static void test_bad_values_with_file_line(void **state) {
        Config *c = load_text("[Provisioning]\n"             /* 1 */
                              "MaxSessions=15\n"             /* 2: below 16 */
                              "MaxSessions=1000001\n"        /* 3: above 1000000 */
                              "MaxSessions=12x\n"            /* 4 */
                              "SessionTimeoutSec=0\n"        /* 5: below 1s */
                              "RouteWindowSec=2min\n"        /* 6: above 1min */
                              "Profiles=2.4G LoRa\n"         /* 7 */
                              "[Mqtt]\n"                     /* 8 */
                              "Port=0\n"                     /* 9 */
                              "TLS=maybe\n"                  /* 10 */
                              "Qos=3\n"                      /* 11 */
                              "KeepAliveSec=7500ms\n"        /* 12: not whole seconds */
                              "CAFile=relative/ca.pem\n"     /* 13 */
                              "Host=bro ker\n"               /* 14 */
                              "host=x\n"                     /* 15: case matters */
                              "[Log]\n"                      /* 16 */
                              "Level=crit\n"                 /* 17: below err */
                              "[Sink]\n"                     /* 18 */
                              "Name=a/b\n"                   /* 19 */
                              "Baud=0\n"                     /* 20 */
                              "Device=/dev/ttyUSB0\n"        /* 21 */
                              "Speed=9600\n"                 /* 22 */
                              "[Api]\n"                      /* 23 */
                              "StatusIntervalSec=infinity\n" /* 24 */
                              "Key Without Equals\n"         /* 25 */
                              "=value\n"                     /* 26 */
                              "[Bogus]\n"                    /* 27 */
                              "Anything=at all\n"            /* 28: silently skipped */
                              "[Store\n"                     /* 29 */
                              "Database=/never/used\n"       /* 30: skipped, header invalid */
                              "[Store]\n"                    /* 31 */
                              "Database=/with\x01"
                              "control\n"); /* 32 */

        /* Every bad value left the default in place. */
        assert_int_equal(c->provisioning.max_sessions, SESSIONS_DEFAULT);
        assert_true(c->provisioning.session_timeout == 30 * USEC_PER_MINUTE);
        assert_true(c->provisioning.route_window == 200 * USEC_PER_MSEC);
        assert_int_equal(c->provisioning.profiles, CONF_PROFILES_ALL);
        assert_int_equal(c->mqtt.port, 0);
        assert_true(c->mqtt.tls);
        assert_int_equal(c->mqtt.qos, 1);
        assert_true(c->mqtt.keepalive == 20 * USEC_PER_SEC);
        assert_null(c->mqtt.ca_file);
        assert_null(c->mqtt.host);
        assert_int_equal(c->log.level, LOG_INFO);
        assert_int_equal(c->n_sinks, 1);
        assert_string_equal(c->sinks[0].name, "sink0");
        assert_int_equal(c->sinks[0].baud, 0);
        assert_string_equal(c->sinks[0].device, "/dev/ttyUSB0");
        assert_true(is_default(conf_sink_source(c, 0, "Name")));
        assert_int_equal(conf_sink_source(c, 0, "Device")->line, 21);
        assert_true(c->api.status_interval == 60 * USEC_PER_SEC);
        assert_string_equal(c->store.database, MESHPROV_DEFAULT_DB);
        assert_true(is_default(conf_source(c, "Store", "Database")));

        assert_int_equal(count_warnings(c, "test.conf", 2,
                                        "Invalid MaxSessions=15 (expected a number in "
                                        "16..1000000)"),
                         1);
        assert_int_equal(count_warnings(c, "test.conf", 3, "Invalid MaxSessions=1000001"), 1);
        assert_int_equal(count_warnings(c, "test.conf", 4, "Invalid MaxSessions=12x"), 1);
        assert_int_equal(count_warnings(c, "test.conf", 5, "expected a time span in 1s..7d"), 1);
        assert_int_equal(count_warnings(c, "test.conf", 6, "expected a time span in 0..1min"), 1);
        assert_int_equal(count_warnings(c, "test.conf", 7, "Invalid Profiles=2.4G LoRa"), 1);
        assert_int_equal(count_warnings(c, "test.conf", 9, "Invalid Port=0 (expected a number in 1..65535)"),
                         1);
        assert_int_equal(count_warnings(c, "test.conf", 10, "Invalid TLS=maybe (expected yes or no)"), 1);
        assert_int_equal(count_warnings(c, "test.conf", 11, "Invalid Qos=3"), 1);
        assert_int_equal(count_warnings(c, "test.conf", 12, "whole seconds"), 1);
        assert_int_equal(count_warnings(c, "test.conf", 13, "expected an absolute path"), 1);
        assert_int_equal(count_warnings(c, "test.conf", 14, "Invalid Host=bro ker"), 1);
        assert_int_equal(
                count_warnings(c, "test.conf", 15, "Unknown key host= in [Mqtt] (did you mean Host=?)"), 1);
        assert_int_equal(count_warnings(c, "test.conf", 17,
                                        "Invalid Level=crit (expected one of debug, info, "
                                        "notice, warning, err)"),
                         1);
        assert_int_equal(count_warnings(c, "test.conf", 19, "Invalid Name=a/b"), 1);
        assert_int_equal(count_warnings(c, "test.conf", 20, "Invalid Baud=0"), 1);
        assert_int_equal(count_warnings(c, "test.conf", 22, "Unknown key Speed= in [Sink]"), 1);
        assert_int_equal(count_warnings(c, "test.conf", 24, "Invalid StatusIntervalSec=infinity"), 1);
        assert_int_equal(count_warnings(c, "test.conf", 25, "Missing '='"), 1);
        assert_int_equal(count_warnings(c, "test.conf", 26, "Missing key name"), 1);
        assert_int_equal(count_warnings(c, "test.conf", 27, "Unknown section [Bogus]"), 1);
        assert_int_equal(count_warnings(c, "test.conf", 29, "Invalid section header '[Store'"), 1);
        assert_int_equal(count_warnings(c, "test.conf", 32, "control characters"), 1);
        assert_int_equal(c->n_warnings, 23);
        config_free(c);
}

static void test_malformed_lines(void **state) {
        char *big = malloc(CONF_LINE_MAX + 64);
        assert_non_null(big);
        /* Line 2 is one byte over the limit, line 3 exactly at it. */
        int n = snprintf(big, CONF_LINE_MAX + 64, "[Store]\nDatabase=/");
        memset(big + n, 'a', CONF_LINE_MAX - 9);
        n += CONF_LINE_MAX - 9;
        n += snprintf(big + n, 64, "\nUser=x\n");
        big[n] = '\0';

        Config *c = load_text(big);
        assert_int_equal(count_warnings(c, "test.conf", 2, "Line longer than 4096 bytes"), 1);
        assert_string_equal(c->store.database, MESHPROV_DEFAULT_DB);
        assert_int_equal(count_warnings(c, "test.conf", 3, "Unknown key User="), 1);
        config_free(c);

        /* Exactly CONF_LINE_MAX bytes is accepted. */
        n = snprintf(big, CONF_LINE_MAX + 64, "[Store]\nDatabase=/");
        memset(big + n, 'b', CONF_LINE_MAX - 10);
        big[n + CONF_LINE_MAX - 10] = '\0';
        c = load_text(big);
        assert_int_equal(c->n_warnings, 0);
        assert_int_equal(strlen(c->store.database), CONF_LINE_MAX - 9);
        config_free(c);
        free(big);

        /* NUL bytes, a key before any section, a lone '['. */
        static const char text[] = "Database=/x\n[Store]\nData\0base=/y\n[\n";
        assert_int_equal(conf_load_buffer("nul.conf", text, sizeof(text) - 1, &no_env, &c), 0);
        assert_int_equal(count_warnings(c, "nul.conf", 1, "outside of a section"), 1);
        assert_int_equal(count_warnings(c, "nul.conf", 3, "control characters"), 1);
        assert_int_equal(count_warnings(c, "nul.conf", 4, "Invalid section header"), 1);
        assert_string_equal(c->store.database, MESHPROV_DEFAULT_DB);
        config_free(c);
}

static void test_buffer_limits(void **state) {
        Config *c = NULL;
        char *text;
        size_t len = 0;

        assert_int_equal(conf_load_buffer("big.conf", "", CONFIG_FILE_MAX + 1, &no_env, &c), -EFBIG);
        assert_null(c);

        /* Warnings are capped; validation errors are still recorded past the cap. */
        FILE *f = open_memstream(&text, &len);
        assert_non_null(f);
        fprintf(f, "[Api]\nEnabled=yes\n");
        for (unsigned i = 0; i < CONF_WARNINGS_MAX + 100; i++)
                fprintf(f, "Bogus%u=1\n", i);
        assert_int_equal(fclose(f), 0);
        c = load_text(text);
        free(text);
        assert_int_equal(c->n_warnings, CONF_WARNINGS_MAX);
        assert_int_equal(c->n_warnings_dropped, 100);
        assert_int_equal(conf_validate(c), -EINVAL);
        assert_true(count_errors(c) >= 1);
        assert_true(c->n_warnings > CONF_WARNINGS_MAX);
        config_free(c);
}

/* ---- files and drop-ins ---- */

static void test_missing_explicit_file(void **state) {
        Config *c = NULL;

        assert_int_equal(conf_load(path_in("nope.conf"), &no_env, &c), -ENOENT);
        assert_null(c);
        /* Drop-ins alone do not make a missing explicit main file acceptable. */
        assert_int_equal(mkdir(path_in("nope.conf.d"), 0755), 0);
        write_file(path_in("nope.conf.d/a.conf"), "[Log]\nLevel=debug\n", 0600);
        assert_int_equal(conf_load(path_in("nope.conf"), &no_env, &c), -ENOENT);
        assert_null(c);
        /* A directory is not a file. */
        assert_int_equal(conf_load(tmpdir, &no_env, &c), -EISDIR);
        assert_null(c);
}

static void test_dropin_order(void **state) {
        ConfOptions o = OPTIONS(NULL);
        Config *c = NULL;
        char dir[600];

        write_file(
                path_in("m.conf"),
                "[Log]\nLevel=err\n[Store]\nBusyTimeoutSec=1s\nAddressHoldSec=1h\n[Sink]\nDevice=/dev/a\n",
                0600);
        snprintf(dir, sizeof(dir), "%s/m.conf.d", tmpdir);
        assert_int_equal(mkdir(dir, 0755), 0);
        /* Lexical order: 10-b before 2-a before a; "B" sorts before "a" (bytes, not locale). */
        write_file(path_in("m.conf.d/2-a.conf"), "[Log]\nLevel=notice\n[Store]\nBusyTimeoutSec=2s\n", 0600);
        write_file(path_in("m.conf.d/10-b.conf"), "[Log]\nLevel=warning\n[Store]\nAddressHoldSec=\n", 0600);
        write_file(path_in("m.conf.d/a.conf"), "[Log]\nLevel=debug\n[Sink]\nDevice=/dev/b\n", 0600);
        write_file(path_in("m.conf.d/B.conf"), "[Store]\nBusyTimeoutSec=3s\n", 0600);
        /* Not drop-ins: wrong suffix, hidden, a directory. */
        write_file(path_in("m.conf.d/z.conf.bak"), "[Log]\nLevel=err\n", 0600);
        write_file(path_in("m.conf.d/.hidden.conf"), "[Log]\nLevel=err\n", 0600);
        write_file(path_in("m.conf.d/.conf"), "[Log]\nLevel=err\n", 0600);
        assert_int_equal(mkdir(path_in("m.conf.d/zz.conf"), 0755), 0);

        assert_int_equal(conf_load(path_in("m.conf"), &o, &c), 0);
        assert_int_equal(c->n_files, 5);
        assert_string_equal(c->files[0], path_in("m.conf"));
        assert_string_equal(c->files[1], path_in("m.conf.d/10-b.conf"));
        assert_string_equal(c->files[2], path_in("m.conf.d/2-a.conf"));
        assert_string_equal(c->files[3], path_in("m.conf.d/B.conf"));
        assert_string_equal(c->files[4], path_in("m.conf.d/a.conf"));

        assert_int_equal(c->log.level, LOG_DEBUG);
        assert_string_equal(conf_source(c, "Log", "Level")->file, c->files[4]);
        assert_true(c->store.busy_timeout == 3 * USEC_PER_SEC);
        assert_string_equal(conf_source(c, "Store", "BusyTimeoutSec")->file, c->files[3]);
        /* Reset to the default by the drop-in. */
        assert_true(c->store.address_hold == 7 * USEC_PER_DAY);
        assert_string_equal(conf_source(c, "Store", "AddressHoldSec")->file, c->files[1]);
        /* A [Sink] in a drop-in adds a sink. */
        assert_int_equal(c->n_sinks, 2);
        assert_string_equal(c->sinks[0].device, "/dev/a");
        assert_string_equal(c->sinks[1].device, "/dev/b");
        assert_string_equal(c->sinks[1].name, "sink1");
        assert_string_equal(c->sinks[1].where.file, c->files[4]);
        /* The directory named *.conf could not be read: a warning, not a failure. */
        assert_int_equal(count_warnings(c, NULL, 0, "zz.conf"), 1);
        assert_int_equal(c->n_warnings, 1);
        config_free(c);

        /* Drop-ins count even when the main file is empty. */
        write_file(path_in("m.conf"), "", 0600);
        assert_int_equal(conf_load(path_in("m.conf"), &o, &c), 0);
        assert_int_equal(c->log.level, LOG_DEBUG);
        config_free(c);
}

static void test_dropin_cap(void **state) {
        ConfOptions o = OPTIONS(NULL);
        Config *c = NULL;
        char name[64];

        write_file(path_in("m.conf"), "", 0600);
        assert_int_equal(mkdir(path_in("m.conf.d"), 0755), 0);
        /* Files 000..CONF_DROPINS_MAX+1; each sets Level to something, the last one read wins. */
        for (unsigned i = 0; i < CONF_DROPINS_MAX + 2; i++) {
                snprintf(name, sizeof(name), "m.conf.d/%03u.conf", i);
                write_file(path_in(name),
                           i == CONF_DROPINS_MAX - 1 ? "[Log]\nLevel=notice\n" : "[Log]\nLevel=debug\n",
                           0600);
        }
        assert_int_equal(conf_load(path_in("m.conf"), &o, &c), 0);
        assert_int_equal(c->n_files, 1 + CONF_DROPINS_MAX);
        /* The first CONF_DROPINS_MAX in order were read: the notice one is last. */
        assert_int_equal(c->log.level, LOG_NOTICE);
        assert_int_equal(count_warnings(c, NULL, 0, "ignoring the last 2"), 1);
        config_free(c);
}

static void test_password_file_mode(void **state) {
        ConfOptions o = OPTIONS(NULL);
        Config *c = NULL;

        write_file(path_in("p.conf"), "[Mqtt]\nUsername=u\nPassword=hunter2-secret\n", 0644);
        assert_int_equal(conf_load(path_in("p.conf"), &o, &c), 0);
        assert_string_equal(c->mqtt.password, "hunter2-secret");
        assert_int_equal(count_warnings(c, path_in("p.conf"), 3, "other users can read"), 1);
        for (size_t i = 0; i < c->n_warnings; i++)
                assert_null(strstr(c->warnings[i].message, "hunter2"));
        config_free(c);

        write_file(path_in("p.conf"), "[Mqtt]\nUsername=u\nPassword=hunter2-secret\n", 0640);
        assert_int_equal(conf_load(path_in("p.conf"), &o, &c), 0);
        assert_int_equal(c->n_warnings, 0);
        config_free(c);
}

/* ---- environment ---- */

static void test_env_precedence(void **state) {
        static const char text[] = "[Mqtt]\nHost=file.example\nPort=1000\nUsername=fileuser\n"
                                   "[Store]\nDatabase=/file.db\n[Log]\nLevel=err\n";
        Config *c;

        /* Environment beats the file. */
        ConfOptions o1 = OPTIONS("MESHPROV_MQTT_HOST=env.example", "MESHPROV_DB=/env.db",
                                 "MESHPROV_LOG_LEVEL=debug", "MESHPROV_API_ENABLED=yes",
                                 "MESHPROV_INSTANCE_ID=prov-1", "MESHPROV_MQTT_CA_FILE=/ca.pem");
        c = load_text_env(text, &o1);
        assert_string_equal(c->mqtt.host, "env.example");
        assert_string_equal(conf_source(c, "Mqtt", "Host")->env, "MESHPROV_MQTT_HOST");
        assert_null(conf_source(c, "Mqtt", "Host")->file);
        assert_string_equal(c->store.database, "/env.db");
        assert_int_equal(c->log.level, LOG_DEBUG);
        assert_true(c->api.enabled);
        assert_string_equal(c->api.instance_id, "prov-1");
        assert_string_equal(c->mqtt.ca_file, "/ca.pem");
        /* Untouched keys keep the file's value and source. */
        assert_int_equal(c->mqtt.port, 1000);
        assert_int_equal(conf_source(c, "Mqtt", "Port")->line, 3);
        assert_int_equal(conf_validate(c), 0);
        config_free(c);

        /* The reference server's names work alone... */
        ConfOptions o2 = OPTIONS("WM_SERVICES_MQTT_HOSTNAME=wm.example", "WM_SERVICES_MQTT_PORT=1883",
                                 "WM_SERVICES_MQTT_USERNAME=wmuser", "WM_SERVICES_MQTT_PASSWORD=wm-secret",
                                 "WM_SERVICES_MQTT_INSECURE=true");
        c = load_text_env("", &o2);
        assert_string_equal(c->mqtt.host, "wm.example");
        assert_int_equal(c->mqtt.port, 1883);
        assert_string_equal(c->mqtt.username, "wmuser");
        assert_string_equal(c->mqtt.password, "wm-secret");
        assert_false(c->mqtt.tls);
        assert_string_equal(conf_source(c, "Mqtt", "TLS")->env, "WM_SERVICES_MQTT_INSECURE");
        assert_true(conf_mqtt_enabled(c));
        config_free(c);

        /* ...and lose against ours; a bad MESHPROV_ value leaves the WM_ value in place, with a warning
         * naming the variable; an empty variable counts as unset. */
        ConfOptions o3 = OPTIONS("WM_SERVICES_MQTT_HOSTNAME=wm.example", "MESHPROV_MQTT_HOST=mp.example",
                                 "WM_SERVICES_MQTT_PORT=1884", "MESHPROV_MQTT_PORT=http",
                                 "WM_SERVICES_MQTT_INSECURE=false", "MESHPROV_MQTT_TLS=no",
                                 "WM_SERVICES_MQTT_USERNAME=wmuser", "MESHPROV_MQTT_USERNAME=");
        c = load_text_env(text, &o3);
        assert_string_equal(c->mqtt.host, "mp.example");
        assert_int_equal(c->mqtt.port, 1884);
        assert_string_equal(conf_source(c, "Mqtt", "Port")->env, "WM_SERVICES_MQTT_PORT");
        assert_false(c->mqtt.tls);
        assert_string_equal(conf_source(c, "Mqtt", "TLS")->env, "MESHPROV_MQTT_TLS");
        assert_string_equal(c->mqtt.username, "wmuser");
        assert_int_equal(count_warnings(c, NULL, 0, "Invalid $MESHPROV_MQTT_PORT=http"), 1);
        assert_int_equal(c->n_warnings, 1);
        config_free(c);

        /* Bad values for the inverted flag and control characters. */
        ConfOptions o4 = OPTIONS("WM_SERVICES_MQTT_INSECURE=perhaps", "MESHPROV_MQTT_HOST=a\nb",
                                 "MESHPROV_MQTT_PASSWORD=pw\x01secret");
        c = load_text_env("", &o4);
        assert_true(c->mqtt.tls);
        assert_null(c->mqtt.host);
        assert_null(c->mqtt.password);
        assert_int_equal(count_warnings(c, NULL, 0,
                                        "Invalid $WM_SERVICES_MQTT_INSECURE=perhaps (expected true or "
                                        "false)"),
                         1);
        assert_int_equal(count_warnings(c, NULL, 0, "Invalid $MESHPROV_MQTT_HOST"), 1);
        assert_int_equal(count_warnings(c, NULL, 0, "Invalid $MESHPROV_MQTT_PASSWORD"), 1);
        for (size_t i = 0; i < c->n_warnings; i++)
                assert_null(strstr(c->warnings[i].message, "secret"));
        config_free(c);
}

static void test_port_follows_tls(void **state) {
        Config *c = load_text("[Mqtt]\nHost=h\nTLS=no\n");
        assert_int_equal(conf_mqtt_port(c), 1883);
        config_free(c);
        c = load_text("[Mqtt]\nHost=h\nTLS=no\nPort=8883\n");
        assert_int_equal(conf_mqtt_port(c), 8883);
        config_free(c);
}

/* ---- sinks ---- */

static void test_sink_repetition(void **state) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);

        assert_non_null(f);
        for (unsigned i = 0; i < SINKS_MAX + 1; i++)
                /* 4 lines per sink: header on lines 1, 5, 9, ... */
                fprintf(f, "[Sink]\nDevice=/dev/ttyS%u\nBaud=%u\nStartStack=%s\n", i, 100000 + i,
                        i % 2 ? "yes" : "no");
        fprintf(f, "[Sink]\nName=late\n");  /* the 18th: also ignored */
        fprintf(f, "[Log]\nLevel=debug\n"); /* parsing goes on after ignored sinks */
        assert_int_equal(fclose(f), 0);

        Config *c = load_text(text);
        free(text);
        assert_int_equal(c->n_sinks, SINKS_MAX);
        for (unsigned i = 0; i < SINKS_MAX; i++) {
                char name[16], dev[32];
                snprintf(name, sizeof(name), "sink%u", i);
                snprintf(dev, sizeof(dev), "/dev/ttyS%u", i);
                assert_string_equal(c->sinks[i].name, name);
                assert_string_equal(c->sinks[i].device, dev);
                assert_int_equal(c->sinks[i].baud, 100000 + i);
                assert_int_equal(c->sinks[i].start_stack, i % 2 == 1);
                assert_int_equal(c->sinks[i].max_in_flight, 4);
                assert_int_equal(c->sinks[i].where.line, 1 + 4 * i);
                assert_int_equal(conf_sink_source(c, i, "Baud")->line, 3 + 4 * i);
                assert_true(is_default(conf_sink_source(c, i, "MaxInFlight")));
        }
        assert_null(conf_sink_source(c, SINKS_MAX, "Baud"));
        assert_int_equal(count_warnings(c, "test.conf", 1 + 4 * SINKS_MAX, "More than 16 [Sink] sections"),
                         1);
        assert_int_equal(count_warnings(c, "test.conf", 5 + 4 * SINKS_MAX, "More than 16 [Sink] sections"),
                         1);
        assert_int_equal(c->n_warnings, 2);
        assert_int_equal(c->log.level, LOG_DEBUG);
        assert_int_equal(conf_validate(c), 0);
        config_free(c);
}

static void test_sink_validation(void **state) {
        Config *c = load_text("[Sink]\nDevice=/dev/a\n"             /* 1: sink0 */
                              "[Sink]\nName=sink0\nDevice=/dev/b\n" /* 3: name taken */
                              "[Sink]\nDevice=/dev/a\n"             /* 6: device taken */
                              "[Sink]\nName=north\n");              /* 8: no device */

        assert_int_equal(conf_validate(c), -EINVAL);
        assert_int_equal(count_errors(c), 3);
        assert_int_equal(count_warnings(c, "test.conf", 3,
                                        "name 'sink0' is already used by the [Sink] at "
                                        "test.conf:1"),
                         1);
        assert_int_equal(count_warnings(c, "test.conf", 6,
                                        "Device=/dev/a is already used by the [Sink] at "
                                        "test.conf:1"),
                         1);
        assert_int_equal(count_warnings(c, "test.conf", 8, "[Sink] 'north' has no Device="), 1);

        /* Validating again replaces the earlier findings instead of adding to them. */
        size_t n = c->n_warnings;
        assert_int_equal(conf_validate(c), -EINVAL);
        assert_int_equal(c->n_warnings, n);
        config_free(c);
}

/* ---- validation of combinations ---- */

static void test_validate_combinations(void **state) {
        static const struct {
                const char *text;
                const char *env;
                const char *needle; /* expected error, or NULL: valid */
                unsigned line;      /* of the error; 0: none */
        } cases[] = {
                { "[Mqtt]\nHost=h\n", NULL, NULL, 0 },
                { "[Mqtt]\nHost=h\nCertFile=/c.pem\n", NULL, "CertFile= and KeyFile= must be set together",
                  3 },
                { "[Mqtt]\nHost=h\nKeyFile=/k.pem\n", NULL, "CertFile= and KeyFile= must be set together",
                  3 },
                { "[Mqtt]\nHost=h\nCertFile=/c\nKeyFile=/k\n", NULL, NULL, 0 },
                { "[Mqtt]\nHost=h\nTLS=no\nCAFile=/ca\n", NULL,
                  "CAFile= is set but TLS is off (TLS=no, test.conf:3)", 4 },
                { "[Mqtt]\nHost=h\nCAFile=/ca\n", "WM_SERVICES_MQTT_INSECURE=yes",
                  "CAFile= is set but TLS is off (TLS=no, $WM_SERVICES_MQTT_INSECURE)", 3 },
                { "[Mqtt]\nHost=h\nUsername=u\nPasswordFile=/pw\n", "MESHPROV_MQTT_PASSWORD=x",
                  "Password= and PasswordFile= are both set (Password= from $MESHPROV_MQTT_PASSWORD)", 4 },
                { "[Mqtt]\nHost=h\nPasswordFile=/pw\n", NULL, "A password needs Username=", 3 },
                { "[Mqtt]\nHost=h\nUsername=u\nPasswordFile=/pw\n", NULL, NULL, 0 },
                { "[Mqtt]\nHost=h\nReconnectMinSec=2min\nReconnectMaxSec=1min\n", NULL,
                  "ReconnectMinSec=2min is larger than ReconnectMaxSec=1min (test.conf:4)", 3 },
                { "[Mqtt]\nHost=h\nReconnectMinSec=1min\nReconnectMaxSec=1min\n", NULL, NULL, 0 },
                { "[Mqtt]\nHost=h\n[Provisioning]\nSessionTimeoutSec=30s\nRouteWindowSec=30s\n", NULL,
                  "RouteWindowSec=30s must be shorter than SessionTimeoutSec=30s (test.conf:4)", 5 },
                { "[Api]\nEnabled=yes\n", NULL, "[Api] Enabled=yes needs a broker", 2 },
                { "[Api]\nEnabled=yes\n", "MESHPROV_MQTT_HOST=b", NULL, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                ConfOptions o = OPTIONS(cases[i].env);
                Config *c = load_text_env(cases[i].text, &o);
                int r = conf_validate(c);

                if (!cases[i].needle) {
                        if (r != 0)
                                print_error("case %zu: %s\n", i, c->warnings[c->n_load_warnings].message);
                        assert_int_equal(r, 0);
                        assert_int_equal(count_errors(c), 0);
                } else {
                        assert_int_equal(r, -EINVAL);
                        assert_int_equal(count_errors(c), 1);
                        assert_int_equal(count_warnings(c, "test.conf", cases[i].line, cases[i].needle), 1);
                }
                config_free(c);
        }
}

static void test_validate_derived_names(void **state) {
        /* A host name that cannot be a topic level is only a problem when MQTT is on. */
        ConfOptions o = { .getenv = fake_getenv, .hostname = "bad+host" };
        static const char text0[] = "[Sink]\nDevice=/dev/x\n";
        Config *c = NULL;

        assert_int_equal(conf_load_buffer("t.conf", text0, strlen(text0), &o, &c), 0);
        assert_string_equal(c->api.instance_id, "bad+host");
        assert_int_equal(conf_validate(c), 0);
        config_free(c);

        static const char text[] = "[Mqtt]\nHost=h\n";
        assert_int_equal(conf_load_buffer("t.conf", text, strlen(text), &o, &c), 0);
        assert_int_equal(conf_validate(c), -EINVAL);
        assert_int_equal(count_warnings(c, NULL, 0, "InstanceId=bad+host is not usable"), 1);
        config_free(c);

        static const char text2[] = "[Mqtt]\nHost=h\n[Api]\nInstanceId=good\n";
        assert_int_equal(conf_load_buffer("t.conf", text2, strlen(text2), &o, &c), 0);
        assert_int_equal(conf_validate(c), 0);
        config_free(c);
}

/* ---- logging ---- */

typedef struct Logged {
        unsigned n;
        int level[8];
        char text[8][256];
} Logged;

static void capture_log(int level, const char *const *fields, const char *message, void *userdata) {
        Logged *l = userdata;
        if (l->n < ELEMENTSOF(l->level)) {
                l->level[l->n] = level;
                snprintf(l->text[l->n], sizeof(l->text[0]), "%s", message);
        }
        l->n++;
}

static void test_log_warnings(void **state) {
        ConfOptions o = OPTIONS("MESHPROV_MQTT_PORT=x");
        Config *c = load_text_env("[Mqtt]\nQos=9\n[Api]\nEnabled=yes\n", &o);
        Logged l = {};
        int saved = log_get_max_level();

        /* Drop one more warning than is kept: its count is logged too. */
        c->n_warnings_dropped = 1;
        assert_int_equal(conf_validate(c), -EINVAL);
        log_set_max_level(LOG_DEBUG);
        log_set_backend(capture_log, &l);
        conf_log_warnings(c);
        log_set_backend(NULL, NULL);
        log_set_max_level(saved);

        assert_int_equal(l.n, 5);
        assert_int_equal(l.level[0], LOG_WARNING);
        assert_string_equal(l.text[0], "test.conf:2: Invalid Qos=9 (expected a number in 0..2), ignoring");
        assert_int_equal(l.level[1], LOG_ERR); /* a bad environment value is an error */
        assert_string_equal(l.text[1], "Invalid $MESHPROV_MQTT_PORT=x (expected a number in 1..65535)");
        assert_int_equal(l.level[2], LOG_ERR);
        assert_string_equal(l.text[2], "test.conf:4: [Api] Enabled=yes needs a broker: set [Mqtt] Host=");
        assert_int_equal(l.level[3], LOG_WARNING);
        assert_non_null(strstr(l.text[3], "Nothing to serve"));
        assert_int_equal(l.level[4], LOG_WARNING);
        assert_string_equal(l.text[4], "1 more configuration warning(s) not shown");
        config_free(c);
}

/* ---- printing ---- */

static void test_dump_hides_secrets(void **state) {
        ConfOptions o = OPTIONS("MESHPROV_MQTT_PASSWORD=t0p-s3cret");
        Config *c = load_text_env("[Mqtt]\nHost=h\nUsername=user\n", &o);
        char *out = dump(c);

        assert_null(strstr(out, "t0p-s3cret"));
        assert_non_null(strstr(out, "\nPassword=(set)  # $MESHPROV_MQTT_PASSWORD\n"));
        assert_non_null(strstr(out, "\nUsername=user  # test.conf:3\n"));
        free(out);
        config_free(c);

        c = load_text("");
        out = dump(c);
        assert_non_null(strstr(out, "\nPassword=(unset)  # default\n"));
        free(out);
        config_free(c);
}

static void test_dump_timespans_round_trip(void **state) {
        /* The printed form parses back to the same value. */
        static const char *const spans[] = {
                "1d 2h 3min 4s 5ms 6us", "90d", "0", "1500ms", "36500d", "61s"
        };
        for (size_t i = 0; i < ELEMENTSOF(spans); i++) {
                char text[256], line[128];
                snprintf(text, sizeof(text), "[Store]\nAddressHoldSec=%s\n", spans[i]);
                Config *c = load_text(text);
                assert_int_equal(c->n_warnings, 0);
                usec_t v = c->store.address_hold;
                char *out = dump(c);
                char *p = strstr(out, "\nAddressHoldSec=");
                assert_non_null(p);
                assert_int_equal(sscanf(p + 1, "AddressHoldSec=%127[^#]", line), 1);
                config_free(c);

                snprintf(text, sizeof(text), "[Store]\nAddressHoldSec=%s\n", line);
                c = load_text(text);
                assert_int_equal(c->n_warnings, 0);
                assert_true(c->store.address_hold == v);
                config_free(c);
                free(out);
        }
}

/* ---- the shipped example file ---- */

/* Strips the values' trailing "  # source" comments from a dump. */
static char *dump_values(const Config *c) {
        char *out = dump(c), *res = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&res, &len);

        assert_non_null(f);
        for (char *save = NULL, *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                char *hash = strstr(l, "  # ");
                if (l[0] == '#')
                        continue;
                if (hash)
                        *hash = '\0';
                fprintf(f, "%s\n", l);
        }
        assert_int_equal(fclose(f), 0);
        free(out);
        return res;
}

static void test_example_file(void **state) {
        _cleanup_free_ char *text = NULL, *defaults = NULL, *example = NULL;
        ConfOptions o = OPTIONS(NULL);
        Config *c = NULL, *d;
        size_t n;

        /* As shipped (everything commented out): the defaults, without a single warning. */
        assert_int_equal(conf_load(CONF_EXAMPLE_FILE, &o, &c), 0);
        assert_int_equal(c->n_warnings, 0);
        d = load_text("");
        defaults = dump_values(d);
        example = dump_values(c);
        assert_string_equal(example, defaults);
        config_free(c);
        free(example);

        /* Uncommenting every "#Key=value" and "#[Sink]" line gives the defaults again, with every key set
         * from the file: the example lists every key, each with its real default. */
        assert_int_equal(read_full_file(CONF_EXAMPLE_FILE, 1 << 20, &text, &n), 0);
        for (char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (p[0] == '#' && (p[1] == '[' || (p[1] >= 'A' && p[1] <= 'Z')))
                        p[0] = ' ';
        c = load_text(text);
        assert_int_equal(c->n_warnings, 0);
        assert_int_equal(c->n_sinks, 1);
        assert_string_equal(c->sinks[0].name, "sink0");
        assert_null(c->sinks[0].device);
        assert_int_equal(c->sinks[0].baud, 0);
        assert_false(c->sinks[0].start_stack);
        assert_int_equal(c->sinks[0].max_in_flight, 4);
        static const char *const sink_keys[] = { "Name", "Device", "Baud", "StartStack", "MaxInFlight" };
        for (size_t i = 0; i < ELEMENTSOF(sink_keys); i++)
                assert_non_null(conf_sink_source(c, 0, sink_keys[i])->file);

        /* Same values as the defaults (the sink aside), and every key of the dump was set by the file. */
        c->n_sinks = 0;
        example = dump_values(c);
        c->n_sinks = 1;
        if (!streq(MESHPROV_DEFAULT_DB, "/var/lib/meshprov/meshprov.db")) /* a build with another default */
                assert_int_equal(free_and_strdup(&d->store.database, c->store.database), 0);
        free(defaults);
        defaults = dump_values(d);
        assert_string_equal(example, defaults);

        const char *section = NULL;
        size_t keys = 0;
        for (char *save = NULL, *l = strtok_r(example, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                if (l[0] == '[') {
                        l[strlen(l) - 1] = '\0';
                        section = l + 1;
                        continue;
                }
                char *eq = strchr(l, '=');
                assert_non_null(eq);
                *eq = '\0';
                const ConfSource *src = conf_source(c, section, l);
                assert_non_null(src);
                if (!src->file)
                        print_error("%s= in [%s] is missing from the example file\n", l, section);
                assert_non_null(src->file);
                keys++;
        }
        assert_int_equal(keys, 33);
        config_free(c);
        config_free(d);
}

/* ---- golden cases: cases/<name>.conf (+ <name>.env, <name>.conf.d/) -> cases/<name>.out ---- */

static char **read_env_file(const char *name) {
        _cleanup_free_ char *text = NULL;
        char path[512];
        size_t n = 0;

        snprintf(path, sizeof(path), "%s.env", name);
        int r = read_full_file(path, 65536, &text, NULL);
        if (r == -ENOENT)
                return NULL;
        assert_int_equal(r, 0);
        char **env = calloc(64, sizeof(char *));
        assert_non_null(env);
        for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                if (l[0] == '#' || l[0] == '\0')
                        continue;
                assert_true(n < 63);
                env[n++] = strdup(l);
        }
        return env;
}

/* The default database path is a build option: the .out files say @DEFAULT_DB@ instead. */
static char *replace_default_db(char *out) {
        const char *db = MESHPROV_DEFAULT_DB;
        char *res = NULL, *p = out, *q;
        size_t len = 0;
        FILE *f = open_memstream(&res, &len);

        assert_non_null(f);
        while ((q = strstr(p, db))) {
                fwrite(p, 1, (size_t)(q - p), f);
                fputs("@DEFAULT_DB@", f);
                p = q + strlen(db);
        }
        fputs(p, f);
        assert_int_equal(fclose(f), 0);
        free(out);
        return res;
}

static char *run_case(const char *name) {
        char path[512], *out = NULL;
        size_t len = 0;
        Config *c = NULL;
        char **env = read_env_file(name);
        ConfOptions o = { .getenv = fake_getenv, .userdata = env, .hostname = "gw-test" };

        snprintf(path, sizeof(path), "%s.conf", name);
        assert_int_equal(conf_load(path, &o, &c), 0);
        int r = conf_validate(c);

        FILE *f = open_memstream(&out, &len);
        assert_non_null(f);
        assert_int_equal(conf_dump(c, f), 0);
        fputc('\n', f);
        for (size_t i = 0; i < c->n_warnings; i++) {
                const ConfWarning *w = c->warnings + i;
                fprintf(f, "# %s: ", w->error ? "error" : "warning");
                if (w->file)
                        fprintf(f, "%s:%u: ", w->file, w->line);
                fprintf(f, "%s\n", w->message);
        }
        fprintf(f, "# %s\n", r >= 0 ? "valid" : "invalid");
        assert_int_equal(fclose(f), 0);

        config_free(c);
        for (size_t i = 0; env && env[i]; i++)
                free(env[i]);
        free(env);
        return replace_default_db(out);
}

static void test_golden(void **state) {
        char cwd[4096];
        struct dirent **ents;
        unsigned cases = 0, failed = 0;

        assert_non_null(getcwd(cwd, sizeof(cwd)));
        assert_int_equal(chdir(CONF_CASES_DIR), 0);
        int n = scandir(".", &ents, NULL, alphasort);
        assert_true(n > 0);
        for (int i = 0; i < n; i++) {
                char name[256], outpath[300];
                _cleanup_free_ char *expected = NULL;
                size_t l = strlen(ents[i]->d_name);

                if (l <= 5 || !streq(ents[i]->d_name + l - 5, ".conf") || l - 5 >= sizeof(name)) {
                        free(ents[i]);
                        continue;
                }
                memcpy(name, ents[i]->d_name, l - 5);
                name[l - 5] = '\0';
                free(ents[i]);

                _cleanup_free_ char *actual = run_case(name);
                snprintf(outpath, sizeof(outpath), "%s.out", name);
                int r = read_full_file(outpath, 1 << 20, &expected, NULL);
                cases++;
                if (r < 0 || !streq(expected, actual)) {
                        failed++;
                        print_error("golden case '%s' differs from %s; actual output:\n%s\n", name,
                                    r < 0 ? "(missing .out)" : outpath, actual);
                }
        }
        free(ents);
        assert_int_equal(chdir(cwd), 0);
        print_message("%u golden cases\n", cases);
        assert_true(cases >= 5);
        assert_int_equal(failed, 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_syntax),
                cmocka_unit_test(test_bad_values_with_file_line),
                cmocka_unit_test(test_malformed_lines),
                cmocka_unit_test(test_buffer_limits),
                cmocka_unit_test_setup_teardown(test_missing_explicit_file, setup_tmp, teardown_tmp),
                cmocka_unit_test_setup_teardown(test_dropin_order, setup_tmp, teardown_tmp),
                cmocka_unit_test_setup_teardown(test_dropin_cap, setup_tmp, teardown_tmp),
                cmocka_unit_test_setup_teardown(test_password_file_mode, setup_tmp, teardown_tmp),
                cmocka_unit_test(test_env_precedence),
                cmocka_unit_test(test_port_follows_tls),
                cmocka_unit_test(test_sink_repetition),
                cmocka_unit_test(test_sink_validation),
                cmocka_unit_test(test_validate_combinations),
                cmocka_unit_test(test_validate_derived_names),
                cmocka_unit_test(test_log_warnings),
                cmocka_unit_test(test_dump_hides_secrets),
                cmocka_unit_test(test_dump_timespans_round_trip),
                cmocka_unit_test(test_example_file),
                cmocka_unit_test(test_golden),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
