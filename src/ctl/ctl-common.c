/* SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>

#include "ctl-backend-remote.h"
#include "ctl-common.h"
#include "ctl-parse.h"
#include "fileio.h"
#include "hex.h"
#include "log.h"
#include "masterkey.h"
#include "parse-util.h"
#include "provcrypto.h"
#include "string-util.h"
#include "text-util.h"

/* The master key lives here for the whole run (the store may keep a pointer to it); wiped at exit. */
static uint8_t master_key[MASTER_KEY_SIZE];

static void wipe_master_key(void) {
        explicit_bzero_safe(master_key, sizeof(master_key));
}

/* remote mode: --password @FILE is read once and kept here for the run; wiped at exit */
static char remote_password[KEY_FILE_MAX + 1];

static void wipe_remote_password(void) {
        explicit_bzero_safe(remote_password, sizeof(remote_password));
}

/* HOST, HOST:PORT, [V6], [V6]:PORT */
static int parse_host_port(const char *arg, char *host, size_t size, uint16_t *ret_port) {
        const char *colon, *end = arg + strlen(arg);
        uint16_t port = 0;

        if (arg[0] == '[') {
                const char *close = strchr(arg, ']');
                if (!close || (close[1] != '\0' && close[1] != ':'))
                        return -EINVAL;
                colon = close[1] == ':' ? close + 1 : NULL;
                if ((size_t)(close - arg - 1) >= size || close == arg + 1)
                        return -EINVAL;
                memcpy(host, arg + 1, (size_t)(close - arg - 1));
                host[close - arg - 1] = '\0';
        } else {
                colon = strchr(arg, ':');
                if (colon && strchr(colon + 1, ':'))
                        colon = NULL; /* a bare IPv6 address */
                size_t n = colon ? (size_t)(colon - arg) : (size_t)(end - arg);
                if (n == 0 || n >= size)
                        return -EINVAL;
                memcpy(host, arg, n);
                host[n] = '\0';
        }
        if (colon && (safe_atou16(colon + 1, &port) < 0 || port == 0))
                return -EINVAL;
        *ret_port = port;
        return 0;
}

static int ctl_backend_remote(Ctl *c, CtlAccess access, CtlBackend **ret) {
        static char host[CONF_HOST_MAX_LEN + 1];
        CtlRemoteOptions o = {};
        char esc[256];
        int r;

        if (parse_host_port(c->remote.mqtt, host, sizeof(host), &o.port) < 0)
                return ctl_usage_error(c, "--mqtt: expected HOST or HOST:PORT, got '%s'",
                                       cescape_str(c->remote.mqtt, esc, sizeof(esc)));
        if (!c->remote.instance)
                return ctl_usage_error(c, "--mqtt needs --instance ID (the daemon's [Api] InstanceId=)");
        if (!mgmt_name_valid(c->remote.instance))
                return ctl_usage_error(c, "--instance: 1..%u characters of A-Z a-z 0-9 . _ -", NAME_MAX_LEN);
        if ((c->remote.ca_file || c->remote.cert_file) && !c->remote.tls)
                return ctl_usage_error(c, "--ca-file and --cert-file need --tls");
        if (!!c->remote.cert_file != !!c->key_file && c->remote.tls)
                return ctl_usage_error(c, "a client certificate needs both --cert-file and --key-file");

        o.host = host;
        o.instance = c->remote.instance;
        o.tls = c->remote.tls;
        o.ca_file = c->remote.ca_file;
        o.cert_file = c->remote.cert_file;
        o.key_file = c->remote.tls ? c->key_file : NULL;
        o.username = c->remote.username;
        o.timeout = c->remote.timeout;
        if (c->remote.password) {
                const char *p = c->remote.password;
                if (p[0] == '@') {
                        _cleanup_free_ char *content = NULL;
                        size_t n = 0;

                        r = read_full_file(p + 1, KEY_FILE_MAX, &content, &n);
                        if (r < 0)
                                return ctl_error(c, r, "--password: cannot read '%s'",
                                                 cescape_str(p + 1, esc, sizeof(esc)));
                        while (n > 0 && strchr("\r\n", content[n - 1]))
                                content[--n] = '\0';
                        atexit(wipe_remote_password);
                        snprintf(remote_password, sizeof(remote_password), "%s", content);
                        explicit_bzero_safe(content, n);
                        o.password = remote_password;
                } else
                        o.password = p;
        }
        if (!getenv("MESHPROV_LOG_LEVEL"))
                log_set_max_level(LOG_NOTICE); /* the MQTT client's connection chatter is for the daemon */

        r = ctl_backend_remote_new(&o, access == CTL_DRY_RUN, &c->backend);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the remote backend: %m");
        *ret = c->backend;
        return 0;
}

int ctl_backend(Ctl *c, CtlAccess access, CtlBackend **ret) {
        _cleanup_(store_freep) Store *s = NULL;
        StoreOptions o = {};
        char esc[256];
        struct stat st;
        bool exists;
        int r;

        if (c->backend) {
                *ret = c->backend;
                return 0;
        }
        if (c->remote.mqtt)
                return ctl_backend_remote(c, access, ret);

        cescape_str(c->db_path, esc, sizeof(esc));
        exists = stat(c->db_path, &st) >= 0;
        if (!exists && errno != ENOENT)
                return log_error_errno(errno, "Cannot access database '%s': %m", esc);
        if (!exists && access == CTL_READ)
                return log_error_errno(
                        -ENOENT,
                        "Database '%s' does not exist (give --db PATH or set $MESHPROV_DB; it is "
                        "created by the first command that adds something).",
                        esc);

        if (!exists && access != CTL_DRY_RUN) {
                r = mkdir_parent(c->db_path, 0700);
                if (r < 0)
                        return log_error_errno(r, "Cannot create the directory of database '%s': %m", esc);
        }

        atexit(wipe_master_key);
        if (!exists && access == CTL_DRY_RUN) {
                /* checking against an empty database: a throw-away one in memory */
                r = random_bytes(master_key, sizeof(master_key));
                if (r < 0)
                        return log_error_errno(r, "Failed to get random bytes: %m");
        } else {
                /* A new master key only for a new database: for an existing one a fresh key could not read
                 * its secrets. */
                r = master_key_load(c->key_file, c->db_path, exists ? 0 : MASTER_KEY_CREATE, master_key,
                                    NULL, NULL);
                if (r < 0)
                        return r; /* logged */
        }

        o.master_key = master_key;
        o.read_only = access == CTL_READ;
        r = store_open(!exists && access == CTL_DRY_RUN ? ":memory:" : c->db_path, &o, &s);
        if (r == -EKEYREJECTED)
                return log_error_errno(
                        r,
                        "The master key does not match database '%s': its secrets were written "
                        "with another key (check --key-file or the key next to the database).",
                        esc);
        if (r < 0)
                return log_error_errno(r, "Failed to open database '%s': %m", esc);

        r = ctl_backend_local_new(s, true, &c->backend);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the database backend: %m");
        TAKE_PTR(s);
        *ret = c->backend;
        return 0;
}

int ctl_common_option(Ctl *c, int opt, const char *help) {
        switch (opt) {
        case ARG_DB:
                c->db_path = optarg;
                return 1;
        case ARG_KEY_FILE:
                c->key_file = optarg;
                return 1;
        case ARG_JSON:
                c->json = true;
                return 1;
        case ARG_MQTT:
                c->remote.mqtt = optarg;
                return 1;
        case ARG_INSTANCE:
                c->remote.instance = optarg;
                return 1;
        case ARG_TLS:
                c->remote.tls = true;
                return 1;
        case ARG_CA_FILE:
                c->remote.ca_file = optarg;
                return 1;
        case ARG_CERT_FILE:
                c->remote.cert_file = optarg;
                return 1;
        case ARG_USERNAME:
                c->remote.username = optarg;
                return 1;
        case ARG_PASSWORD:
                c->remote.password = optarg;
                return 1;
        case ARG_TIMEOUT:
                if (parse_sec(optarg, &c->remote.timeout) < 0 || c->remote.timeout == 0)
                        return ctl_usage_error(c, "--timeout: expected a time span (10s, 2min), got '%s'",
                                               optarg);
                return 1;
        case 'h':
                fputs(help, stdout);
                return 2;
        case '?':
        case ':':
                if (optopt > 0 && optopt < ARG_DB)
                        return ctl_usage_error(c, "unknown option or missing argument: -%c", optopt);
                if (c->argv && optind > 0)
                        return ctl_usage_error(c, "unknown option or missing argument: %s",
                                               c->argv[optind - 1]);
                return ctl_usage_error(c, "unknown option or missing argument");
        }
        return 0;
}

int ctl_parse_simple(Ctl *c, int argc, char **argv, const char *help, int n_args, const char *what) {
        static const struct option options[] = { CTL_COMMON_OPTIONS, {} };
        int opt, r;

        while ((opt = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                r = ctl_common_option(c, opt, help);
                if (r == 2)
                        return 0;
                if (r < 0)
                        return r;
                if (r != 1)
                        return CTL_ERR_USAGE;
        }
        if (argc - optind < n_args)
                return ctl_usage_error(c, "missing %s", what);
        if (argc - optind > n_args)
                return ctl_usage_error(c, "too many arguments");
        return optind;
}

int ctl_usage_error(Ctl *c, const char *format, ...) {
        va_list ap;

        fprintf(stderr, "meshprovctl%s%s: ", c->command ? " " : "", strempty(c->command));
        va_start(ap, format);
        vfprintf(stderr, format, ap);
        va_end(ap);
        fprintf(stderr, "\nSee 'meshprovctl%s%s --help'.\n", c->command ? " " : "", strempty(c->command));
        return CTL_ERR_USAGE;
}

int ctl_error(Ctl *c, int r, const char *format, ...) {
        char buf[1024];
        va_list ap;

        va_start(ap, format);
        (void)vsnprintf(buf, sizeof(buf), format, ap);
        va_end(ap);
        if (r < 0)
                log_error("%s: %s", buf, strerror(-r));
        else
                log_error("%s", buf);
        return r < 0 ? r : -EINVAL;
}

int ctl_store_error(Ctl *c, int r, const char *what, const StoreError *err) {
        if (err && err->message[0]) {
                if (err->field[0])
                        log_error("%s: %s: %s", what, err->field, err->message);
                else
                        log_error("%s: %s", what, err->message);
        } else
                log_error("%s: %s", what, strerror(-r));
        return r;
}

int ctl_parse_key_arg(Ctl *c, const char *option, const char *arg, uint8_t *ret, size_t n) {
        _cleanup_free_ char *content = NULL;
        size_t size = 0, len = 0;
        const char *hex = arg;
        int r;

        if (streq(arg, "-") || arg[0] == '@') {
                const char *path = arg[0] == '@' ? arg + 1 : "-";

                if (streq(path, "-")) {
                        if (c->stdin_used)
                                return ctl_usage_error(c, "only one key can be read from standard input");
                        c->stdin_used = true;
                }
                r = read_full_file(path, KEY_FILE_MAX, &content, &size);
                if (r < 0) {
                        char esc[256];
                        cescape_str(path, esc, sizeof(esc));
                        return ctl_error(c, r, "--%s: cannot read the key from '%s'", option, esc);
                }
                /* trim blanks around the hex */
                while (size > 0 && strchr(" \t\r\n", content[size - 1]))
                        content[--size] = '\0';
                hex = content;
                while (*hex && strchr(" \t\r\n", *hex))
                        hex++;
        }

        r = parse_hex_exact(hex, ret, n, &len);
        if (content)
                explicit_bzero_safe(content, size);
        if (r == -EMSGSIZE)
                return ctl_usage_error(c, "--%s: must be %zu bytes (%zu hex digits), got %zu bytes", option,
                                       n, 2 * n, len);
        if (r < 0)
                return ctl_usage_error(c, "--%s: not valid hex (give HEX, @FILE or - for standard input)",
                                       option);
        return 0;
}

int ctl_random_key(uint8_t *ret, size_t n) {
        for (;;) {
                bool ok = true;
                int r = random_bytes(ret, n);
                if (r < 0)
                        return r;
                for (size_t off = 0; off + PROV_KEY_SIZE <= n; off += PROV_KEY_SIZE)
                        ok = ok && prov_key_valid(ret + off);
                if (ok)
                        return 0;
        }
}

int ctl_parse_u32(Ctl *c, const char *option, const char *arg, uint32_t *ret) {
        if (safe_atou32(arg, ret) < 0)
                return ctl_usage_error(c, "--%s: expected a number (decimal or 0x hex), got '%s'", option,
                                       arg);
        return 0;
}

int ctl_parse_uid_arg(Ctl *c, const char *arg, uint8_t ret[static PROV_UID_MAX], size_t *ret_len) {
        int r = parse_uid(arg, ret, ret_len);
        if (r == -EMSGSIZE)
                return ctl_usage_error(c, "UID longer than %u bytes", PROV_UID_MAX);
        if (r < 0)
                return ctl_usage_error(c, "UID must be hex (0x optional, e.g. 0x0a1b2c3d), got '%s'", arg);
        return 0;
}

int ctl_parse_time(Ctl *c, const char *option, const char *arg, usec_t *ret) {
        usec_t span;

        if (parse_timestamp_utc(arg, ret) >= 0)
                return 0;
        if (parse_sec(arg, &span) >= 0) {
                *ret = usec_sub(now(CLOCK_REALTIME), span);
                return 0;
        }
        return ctl_usage_error(
                c,
                "--%s: expected a time (2026-11-21, 2026-11-21T15:42:07Z, seconds since the epoch) "
                "or how long ago (30min, 2h, 1d), got '%s'",
                option, arg);
}

char *uid_to_hex(const uint8_t *uid, size_t len, char *buf, size_t bufsz) {
        return hex_encode(uid, len, buf, bufsz);
}

/* ---- key placeholders of the remote backend ---- */

#define PLACEHOLDER_MARKER_SIZE 8u
static uint8_t placeholder_marker[PLACEHOLDER_MARKER_SIZE];
static bool placeholder_marker_set;

/* [8 bytes of the fingerprint][8-byte marker][zeros] */
void ctl_key_placeholder(const char *fp, uint8_t *key, size_t len) {
        uint8_t bytes[8];
        const char *hex;

        assert(len >= 16);
        if (!placeholder_marker_set) {
                if (random_bytes(placeholder_marker, sizeof(placeholder_marker)) < 0)
                        memset(placeholder_marker, 0xa5, sizeof(placeholder_marker));
                placeholder_marker_set = true;
        }
        hex = startswith(strempty(fp), "sha256:");
        if (!hex || strlen(hex) != 2 * sizeof(bytes) ||
            hex_decode(hex, bytes, sizeof(bytes)) != (int)sizeof(bytes))
                memset(bytes, 0xff, sizeof(bytes)); /* shown as "sha256:ffffffffffffffff" */
        memset(key, 0, len);
        memcpy(key, bytes, sizeof(bytes));
        memcpy(key + sizeof(bytes), placeholder_marker, sizeof(placeholder_marker));
}

static bool is_placeholder(const uint8_t *key, size_t len) {
        if (!placeholder_marker_set || len < 16)
                return false;
        if (memcmp(key + 8, placeholder_marker, sizeof(placeholder_marker)) != 0)
                return false;
        for (size_t i = 16; i < len; i++)
                if (key[i] != 0)
                        return false;
        return true;
}

char *fingerprint(const uint8_t *key, size_t len, char *buf, size_t bufsz) {
        if (is_placeholder(key, len)) {
                char hex[17];
                snprintf(buf, bufsz, "sha256:%s", hex_encode(key, 8, hex, sizeof(hex)));
                return buf;
        }
        if (!key_fingerprint(key, len, buf, bufsz))
                snprintf(buf, bufsz, "?");
        return buf;
}

char *format_time(usec_t t, char *buf, size_t bufsz) {
        if (t == 0 || t == USEC_INFINITY) {
                snprintf(buf, bufsz, "-");
                return buf;
        }
        return format_timestamp_utc(buf, bufsz, t);
}

void print_field(const char *name, const char *format, ...) {
        _cleanup_free_ char *v = NULL, *e = NULL;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&v, format, ap);
        va_end(ap);
        if (r < 0)
                return;
        e = terminal_escape(v, strlen(v), NULL);
        printf("%20s%s %s\n", name, name[0] ? ":" : " ", e ?: "?");
}

void json_begin(Ctl *c, JsonOut *j) {
        json_out_init(j, stdout, true);
}

int json_finish(Ctl *c, JsonOut *j) {
        int r = json_out_finish(j);
        if (r < 0)
                return log_error_errno(r, "Failed to write JSON output: %m");
        return 0;
}

int ctl_run_verbs(Ctl *c, const char *group, const Verb *verbs, const char *help, int argc, char **argv) {
        static char command[64];

        if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h") || streq(argv[1], "help")) {
                fputs(help, stdout);
                printf("\nCommands:\n");
                for (const Verb *v = verbs; v->name; v++)
                        printf("  %-12s %s\n", v->name, v->summary);
                printf("\nSee 'meshprovctl %s COMMAND --help'.\n", group);
                if (argc < 2) {
                        c->command = group;
                        return ctl_usage_error(c, "missing command");
                }
                return 0;
        }
        for (const Verb *v = verbs; v->name; v++)
                if (streq(v->name, argv[1])) {
                        snprintf(command, sizeof(command), "%s %s", group, v->name);
                        c->command = command;
                        c->argv = argv + 1;
                        optind = 0; /* reset getopt for the verb's own options */
                        return v->run(c, argc - 1, argv + 1);
                }
        c->command = group;
        return ctl_usage_error(c, "unknown command '%s'", argv[1]);
}

/* ---- JSON objects ---- */

void json_network(JsonOut *j, const StoreNetwork *n) {
        char fp[KEY_FINGERPRINT_MAX];

        json_begin_object(j);
        json_kv_string(j, "name", n->name);
        json_kv_string(j, "profile", prov_profile_to_string(n->profile));
        json_kv_uint(j, "address", n->network_address);
        json_kv_uint(j, "channel", n->channel);
        json_kv_bool(j, "allow_unsecured", n->allow_unsecured);
        json_key(j, "pool");
        if (n->has_pool) {
                json_begin_object(j);
                json_kv_uint(j, "first", n->pool_first);
                json_kv_uint(j, "last", n->pool_last);
                json_end_object(j);
        } else
                json_null(j);
        json_kv_string(j, "encryption_key_fingerprint",
                       fingerprint(n->enc_key, PROV_KEY_SIZE, fp, sizeof(fp)));
        json_kv_string(j, "authentication_key_fingerprint",
                       fingerprint(n->auth_key, PROV_KEY_SIZE, fp, sizeof(fp)));
        json_kv_timestamp(j, "created", n->created);
        json_kv_timestamp(j, "updated", n->updated);
        json_end_object(j);
}

void json_vendor(JsonOut *j, const StoreVendor *v) {
        char fp[KEY_FINGERPRINT_MAX];

        json_begin_object(j);
        json_kv_string(j, "name", v->name);
        json_kv_string(j, "key_kind", store_vendor_key_kind_to_string(v->key_kind));
        json_key(j, "key_fingerprint");
        if (v->key_kind != STORE_VENDOR_KEY_NONE)
                json_string(j, fingerprint(v->key, sizeof(v->key), fp, sizeof(fp)));
        else
                json_null(j);
        json_kv_string(j, "enroll_kind", store_enroll_kind_to_string(v->enroll_kind));
        json_key(j, "enroll_prefix");
        if (v->enroll_kind != STORE_ENROLL_NONE)
                json_hex(j, v->enroll_prefix, v->enroll_prefix_len);
        else
                json_null(j);
        json_kv_uint(j, "enroll_method", v->enroll_method);
        json_kv_string(j, "default_network", isempty(v->default_network) ? NULL : v->default_network);
        json_kv_bool(j, "enabled", v->enabled);
        json_kv_timestamp(j, "created", v->created);
        json_kv_timestamp(j, "updated", v->updated);
        json_end_object(j);
}

void json_device(JsonOut *j, const StoreDevice *d) {
        char fp[KEY_FINGERPRINT_MAX];

        json_begin_object(j);
        json_kv_hex(j, "uid", d->uid, d->uid_len);
        json_kv_string(j, "label", isempty(d->label) ? NULL : d->label);
        json_kv_string(j, "vendor", isempty(d->vendor) ? NULL : d->vendor);
        json_kv_string(j, "network", isempty(d->network) ? NULL : d->network);
        json_kv_uint(j, "method", d->method);
        json_key(j, "factory_key_fingerprint");
        if (d->has_factory_key)
                json_string(j, fingerprint(d->factory_key, sizeof(d->factory_key), fp, sizeof(fp)));
        else
                json_null(j);
        json_key(j, "node_address");
        if (d->has_node_address)
                json_uint(j, d->node_address);
        else
                json_null(j);
        json_key(j, "allocated_address");
        if (d->has_allocated_address)
                json_uint(j, d->allocated_address);
        else
                json_null(j);
        json_key(j, "role");
        if (d->has_role)
                json_uint(j, d->role);
        else
                json_null(j);
        json_key(j, "user_items");
        json_begin_array(j);
        for (size_t i = 0; i < d->n_user_items; i++) {
                const ProvUserItem *u = &d->user_items[i];
                json_begin_object(j);
                json_kv_uint(j, "id", u->id);
                json_kv_string(j, "type", prov_user_type_to_string(u->type));
                json_key(j, "value");
                switch (u->type) {
                case PROV_USER_INT:
                        json_int(j, u->integer);
                        break;
                case PROV_USER_BOOL:
                        json_bool(j, u->boolean);
                        break;
                case PROV_USER_TEXT:
                        json_string_len(j, u->data, u->len);
                        break;
                case PROV_USER_BYTES:
                        json_hex(j, u->data, u->len);
                        break;
                case _PROV_USER_TYPE_MAX:
                case _PROV_USER_TYPE_INVALID:
                        json_null(j);
                        break;
                }
                json_end_object(j);
        }
        json_end_array(j);
        json_kv_bool(j, "enabled", d->enabled);
        json_kv_string(j, "state", store_device_state_to_string(d->state));
        json_kv_timestamp(j, "created", d->created);
        json_kv_timestamp(j, "updated", d->updated);
        json_kv_timestamp(j, "last_start", d->last_start);
        json_kv_timestamp(j, "provisioned_at", d->provisioned_at);
        json_kv_uint(j, "starts", d->n_starts);
        json_kv_uint(j, "provisioned_count", d->n_provisioned);
        json_end_object(j);
}
