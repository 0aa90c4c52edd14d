/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Shared by meshprovctl's command handlers: the invocation context, argument helpers and output helpers.
 * Handlers return 0, a negative errno after reporting the error on stderr (exit status 1), or
 * CTL_ERR_USAGE after reporting a usage error (exit status 2), or CTL_EXIT_OFFLINE (status, exit status 3).
 */

#include <getopt.h>
#include <stdio.h>

#include "ctl-backend.h"
#include "json-out.h"
#include "macro.h"
#include "provdata.h"

#define CTL_ERR_USAGE (-4096)
/* status: the daemon is offline (exit status 3, as `systemctl is-active`); the status was printed */
#define CTL_EXIT_OFFLINE (-4097)

typedef struct Ctl {
        const char *db_path;  /* --db, $MESHPROV_DB, or MESHPROV_DEFAULT_DB */
        const char *key_file; /* --key-file */
        bool json;
        bool stdin_used;     /* a key was already read from "-" */
        CtlBackend *backend; /* opened on first use */
        const char *command; /* "network add": for messages */
        char **argv;         /* the command's arguments, for messages about bad options */
        /* remote mode (ctl-backend-remote.h): a running daemon through the MQTT management API */
        struct {
                const char *mqtt;     /* --mqtt HOST[:PORT]; NULL: local mode */
                const char *instance; /* --instance */
                bool tls;
                const char *ca_file, *cert_file; /* the TLS client key is --key-file in remote mode */
                const char *username;
                const char *password; /* --password PASSWORD|@FILE */
                usec_t timeout;
        } remote;
} Ctl;

typedef enum CtlAccess {
        CTL_READ,    /* the database must exist; opened read-only */
        CTL_WRITE,   /* created (with its master key) if missing */
        CTL_DRY_RUN, /* writable; a missing database is an empty one in memory (nothing is created) */
} CtlAccess;

/* Opens the database (and finds the master key) on first use; with --mqtt, sets up the remote backend. */
int ctl_backend(Ctl *c, CtlAccess access, CtlBackend **ret);

/* Options every command accepts besides its own: --db, --key-file, --json, --help, and the remote mode's. */
enum {
        ARG_DB = 0x1000,
        ARG_KEY_FILE,
        ARG_JSON,
        ARG_HELP,
        ARG_MQTT,
        ARG_INSTANCE,
        ARG_TLS,
        ARG_CA_FILE,
        ARG_CERT_FILE,
        ARG_USERNAME,
        ARG_PASSWORD,
        ARG_TIMEOUT,
        ARG_FIRST_COMMAND_OPTION, /* commands number their own options from here */
};
#define CTL_COMMON_OPTIONS                                                                                  \
        { "db", required_argument, NULL, ARG_DB }, { "key-file", required_argument, NULL, ARG_KEY_FILE },   \
                { "json", no_argument, NULL, ARG_JSON }, { "mqtt", required_argument, NULL, ARG_MQTT },     \
                { "instance", required_argument, NULL, ARG_INSTANCE },                                      \
                { "tls", no_argument, NULL, ARG_TLS }, { "ca-file", required_argument, NULL, ARG_CA_FILE }, \
                { "cert-file", required_argument, NULL, ARG_CERT_FILE },                                    \
                { "username", required_argument, NULL, ARG_USERNAME },                                      \
                { "password", required_argument, NULL, ARG_PASSWORD },                                      \
                { "timeout", required_argument, NULL, ARG_TIMEOUT }, {                                      \
                "help", no_argument, NULL, 'h'                                                              \
        }

/* Handles a common option; returns 1 if it was one (0 if not). For 'h' prints help and returns 2. For an
 * unknown option or a missing argument ('?', getopt's own message is off) reports it and returns
 * CTL_ERR_USAGE. */
int ctl_common_option(Ctl *c, int opt, const char *help);

/* For commands with only the common options and n_args positional arguments: returns the index of the first
 * positional argument, 0 if help was shown, or CTL_ERR_USAGE (reported; `what` names the missing argument).
 */
int ctl_parse_simple(Ctl *c, int argc, char **argv, const char *help, int n_args, const char *what);

/* Reports a usage error ("meshprovctl network add: ...", plus a hint to --help) and returns CTL_ERR_USAGE.
 */
int ctl_usage_error(Ctl *c, const char *format, ...) _printf_(2, 3);
/* Reports an error with the errno text appended when r is not 0; returns r (or -EINVAL if r is 0). */
int ctl_error(Ctl *c, int r, const char *format, ...) _printf_(3, 4);
/* Reports a StoreError ("field: message") from a put or delete. */
int ctl_store_error(Ctl *c, int r, const char *what, const StoreError *err);

/* A key argument: hex, "@FILE" (hex in a file, blanks ignored) or "-" (hex on stdin). Exactly n bytes. */
int ctl_parse_key_arg(Ctl *c, const char *option, const char *arg, uint8_t *ret, size_t n);
/* A valid random network key (not all 0x00 / 0xFF). */
int ctl_random_key(uint8_t *ret, size_t n);
/* Number arguments (decimal or 0x). */
int ctl_parse_u32(Ctl *c, const char *option, const char *arg, uint32_t *ret);
int ctl_parse_uid_arg(Ctl *c, const char *arg, uint8_t ret[static PROV_UID_MAX], size_t *ret_len);
/* Command-line timestamps: "2026-11-21", "2026-11-21T15:42:07Z", seconds since the epoch, or a time span
 * meaning "that long ago" ("1h", "30min"). */
int ctl_parse_time(Ctl *c, const char *option, const char *arg, usec_t *ret);

/* Remote backends never see keys: they fill key fields with a placeholder standing for the fingerprint the
 * daemon sent ("sha256:<16 hex>"), and fingerprint() shows that fingerprint for it. The placeholder carries
 * a random per-process marker, so a real key is never mistaken for one. */
void ctl_key_placeholder(const char *fingerprint, uint8_t *key, size_t len);

/* Output helpers */
char *uid_to_hex(const uint8_t *uid, size_t len, char *buf, size_t bufsz);  /* buf >= 2*PROV_UID_MAX+1 */
char *fingerprint(const uint8_t *key, size_t len, char *buf, size_t bufsz); /* buf >= KEY_FINGERPRINT_MAX */
char *format_time(usec_t t, char *buf, size_t bufsz);                       /* "-" for 0 */
/* "  Label: value" lines for `show`, names right-aligned to width 20; value escaped for the terminal. */
void print_field(const char *name, const char *format, ...) _printf_(2, 3);

void json_begin(Ctl *c, JsonOut *j);
int json_finish(Ctl *c, JsonOut *j);

/* Command groups. */
typedef struct Verb {
        const char *name;
        int (*run)(Ctl *c, int argc, char **argv);
        const char *summary;
} Verb;

int ctl_run_verbs(Ctl *c, const char *group, const Verb *verbs, const char *help, int argc, char **argv);

int ctl_network(Ctl *c, int argc, char **argv);
int ctl_vendor(Ctl *c, int argc, char **argv);
int ctl_device(Ctl *c, int argc, char **argv);
int ctl_events(Ctl *c, int argc, char **argv);
int ctl_stats(Ctl *c, int argc, char **argv);
int ctl_import(Ctl *c, int argc, char **argv);
int ctl_export(Ctl *c, int argc, char **argv);
/* ctl-status.c: the daemon's status (remote mode only); `stats` fetched from the daemon (with its live
 * counters), and printed for either mode. */
int ctl_status(Ctl *c, int argc, char **argv);
int ctl_stats_remote(Ctl *c, CtlBackend *b, usec_t since, usec_t until);
int ctl_stats_print(Ctl *c, const MgmtStats *s);

/* JSON objects shared by several commands */
void json_network(JsonOut *j, const StoreNetwork *n);
void json_vendor(JsonOut *j, const StoreVendor *v);
void json_device(JsonOut *j, const StoreDevice *d);
