/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>

#include "config.h"
#include "ctl-common.h"
#include "log.h"

static const char help[] =
        "Usage: meshprovctl [OPTIONS] COMMAND ...\n"
        "\n"
        "Manage the meshprov provisioning whitelist: networks, vendors, devices, the audit log.\n"
        "Works on the SQLite database directly, or with --mqtt on a running meshprovd through its MQTT\n"
        "management API (the daemon's [Api] Enabled=yes).\n"
        "\n"
        "Options (also accepted after the command):\n"
        "  --db PATH        database (default: $MESHPROV_DB, else " MESHPROV_DEFAULT_DB ")\n"
        "  --key-file PATH  master key file (default: $CREDENTIALS_DIRECTORY/meshprov-master-key, else\n"
        "                   master.key next to the database, created with a new database); with --mqtt\n"
        "                   --tls: the TLS client key\n"
        "  --json           machine-readable output: one JSON document per command\n"
        "  -h --help        show help (also after any command)\n"
        "  --version        show the version\n"
        "\n"
        "Remote mode:\n"
        "  --mqtt HOST[:PORT]   the broker of the daemon (port 1883, 8883 with --tls)\n"
        "  --instance ID        the daemon's [Api] InstanceId=\n"
        "  --tls                TLS to the broker; --ca-file FILE (default: the system's CAs),\n"
        "                       --cert-file FILE with --key-file FILE for a client certificate\n"
        "  --username USER      broker credentials; --password PASSWORD or @FILE\n"
        "  --timeout TIME       how long to wait for each answer (default 10s)\n"
        "\n"
        "Commands:\n"
        "  network add|set|list|show|remove\n"
        "  vendor add|set|list|show|remove|enable|disable|derive-key\n"
        "  device add|set|list|show|remove|enable|disable\n"
        "  events           recent audit log entries (--follow to watch)\n"
        "  stats            counts from the audit log and devices per state\n"
        "  import FILE      import a wm-provisioning v1 YAML file\n"
        "  export FILE      export as wm-provisioning v1 YAML\n"
        "  status           the daemon's status (remote mode)\n"
        "\n"
        "Keys may be given as HEX, @FILE (hex in a file) or - (hex on standard input) so that they stay "
        "out\n"
        "of the process list. Keys are never printed, only their fingerprints (except vendor derive-key).\n"
        "Exit status: 0 success, 1 error, 2 usage error, 3 (status) the daemon is offline.\n";

static const struct {
        const char *name;
        int (*run)(Ctl *c, int argc, char **argv);
} groups[] = {
        { "network", ctl_network }, { "vendor", ctl_vendor }, { "device", ctl_device },
        { "events", ctl_events },   { "stats", ctl_stats },   { "import", ctl_import },
        { "export", ctl_export },   { "status", ctl_status },
};

int main(int argc, char **argv) {
        enum { ARG_VERSION = ARG_FIRST_COMMAND_OPTION };
        static const struct option options[] = {
                CTL_COMMON_OPTIONS,
                { "version", no_argument, NULL, ARG_VERSION },
                {},
        };
        const char *env;
        Ctl c = {};
        int opt, r = CTL_ERR_USAGE;

        log_setup();
        opterr = 0; /* unknown options are reported by ctl_common_option() */
        c.argv = argv;
        env = getenv("MESHPROV_DB");
        c.db_path = !isempty(env) ? env : MESHPROV_DEFAULT_DB;

        while ((opt = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
                if (opt == ARG_VERSION) {
                        printf("meshprovctl %s\n", PACKAGE_VERSION);
                        return 0;
                }
                r = ctl_common_option(&c, opt, help);
                if (r == 2)
                        return 0;
                if (r <= 0)
                        return 2;
        }
        if (optind >= argc) {
                fputs(help, stderr);
                return 2;
        }

        r = CTL_ERR_USAGE;
        for (size_t i = 0; i < ELEMENTSOF(groups); i++)
                if (streq(groups[i].name, argv[optind])) {
                        int first = optind;

                        c.command = groups[i].name;
                        c.argv = argv + first;
                        optind = 0; /* reset getopt for the command's own options */
                        r = groups[i].run(&c, argc - first, argv + first);
                        goto done;
                }
        fprintf(stderr, "meshprovctl: unknown command '%s'. See 'meshprovctl --help'.\n", argv[optind]);

done:
        ctl_backend_free(c.backend);
        if (fflush(stdout) != 0 && r >= 0) {
                log_error("Failed to write output.");
                r = -EIO;
        }
        return r == CTL_ERR_USAGE ? 2 : r == CTL_EXIT_OFFLINE ? 3 : r < 0 ? 1 : 0;
}
