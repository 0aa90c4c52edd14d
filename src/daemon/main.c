/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <stdio.h>

#include "conf.h"
#include "config.h"
#include "journal.h"
#include "log.h"
#include "manager.h"

static const char *arg_config;
static bool arg_check_config;

static void help(void) {
        printf("meshprovd %s: remote-provisioning backend for Wirepas Massive mesh networks\n\n"
               "Usage: meshprovd [OPTIONS]\n\n"
               "  -c --config FILE     Configuration file (default %s, plus FILE.d/ drop-ins);\n"
               "                       without a file the built-in defaults apply\n"
               "     --check-config    Print the effective configuration and any problems, then exit\n"
               "                       (exit status 1 if the configuration has errors)\n"
               "  -h --help            Show this help\n"
               "     --version         Show the version\n\n"
               "Environment: MESHPROV_DB, MESHPROV_MQTT_HOST, MESHPROV_MQTT_PORT, MESHPROV_MQTT_TLS,\n"
               "MESHPROV_MQTT_USERNAME, MESHPROV_MQTT_PASSWORD, MESHPROV_MQTT_CA_FILE, MESHPROV_LOG_LEVEL,\n"
               "MESHPROV_API_ENABLED, MESHPROV_INSTANCE_ID, and the reference server's\n"
               "WM_SERVICES_MQTT_{HOSTNAME,PORT,USERNAME,PASSWORD,INSECURE}. See meshprovd.conf for all "
               "keys.\n",
               PACKAGE_VERSION, MESHPROV_DEFAULT_CONFIG);
}

static int parse_argv(int argc, char **argv) {
        enum { ARG_CHECK_CONFIG = 0x100, ARG_VERSION };
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "check-config", no_argument, NULL, ARG_CHECK_CONFIG },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "c:h", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        arg_config = optarg;
                        break;
                case ARG_CHECK_CONFIG:
                        arg_check_config = true;
                        break;
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("meshprovd %s\n", PACKAGE_VERSION);
                        return 0;
                case '?':
                        return -EINVAL;
                default:
                        assert_not_reached();
                }
        if (optind < argc) {
                log_error("Unexpected argument '%s'. See --help.", argv[optind]);
                return -EINVAL;
        }
        return 1;
}

int main(int argc, char **argv) {
        _cleanup_(config_freep) Config *config = NULL;
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        (void)journal_log_setup(false);
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? 2 : 0;

        r = conf_load(arg_config, NULL, &config);
        if (r < 0) {
                log_error_errno(r, "Failed to load configuration '%s': %m",
                                arg_config ?: MESHPROV_DEFAULT_CONFIG);
                return 1;
        }
        int valid = conf_validate(config);

        if (arg_check_config) {
                (void)conf_dump(config, stdout);
                conf_log_warnings(config);
                return valid < 0 ? 1 : 0;
        }

        conf_log_warnings(config);
        if (valid < 0) {
                log_error("Configuration has errors, refusing to start (see meshprovd --check-config).");
                return 1;
        }
        if (!getenv("MESHPROV_LOG_LEVEL"))
                log_set_max_level(config->log.level);

        r = manager_new(arg_config, TAKE_PTR(config), &m);
        if (r < 0)
                return 1;
        r = manager_run(m);
        return r < 0 ? 1 : 0;
}
