/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl-common.h"
#include "export.h"
#include "fd-util.h"
#include "fileio.h"
#include "import.h"
#include "log.h"
#include "string-util.h"

static const char import_help[] =
        "Usage: meshprovctl import FILE [OPTIONS]\n"
        "\n"
        "Import a wm-provisioning v1 YAML file (version: 1, networks:, nodes:); FILE - reads standard "
        "input.\n"
        "Networks are created or updated by name, nodes become devices created or updated by UID. "
        "Everything is\n"
        "one transaction: if anything in the file is wrong, nothing changes and the error names the node "
        "or\n"
        "network and the field.\n"
        "\n"
        "  --allow-unsecured   accept method-0 (unsecured) nodes; their networks are set to allow it\n"
        "  --dry-run           check everything against the database, change nothing\n"
        "\n"
        "Extensions to the reference format: networks may have profile (2.4G, SubG, 5GMesh), "
        "allow_unsecured and\n"
        "pool (\"FIRST-LAST\"); nodes may have vendor and enabled.\n";

static const char export_help[] =
        "Usage: meshprovctl export FILE [--include-keys]\n"
        "\n"
        "Export networks and devices as wm-provisioning v1 YAML; FILE - writes to standard output.\n"
        "\n"
        "  --include-keys   also write network keys and device factory keys (the file is then created with\n"
        "                   mode 0600; keep it safe). Without keys the file cannot create networks.\n";

static void on_warning(const char *message, void *userdata) {
        log_warning("Warning: %s", message);
}

static void on_progress(uint64_t done, uint64_t total, void *userdata) {
        fprintf(stderr, "\rImporting nodes: %" PRIu64 "/%" PRIu64, done, total);
        if (done >= total)
                fputc('\n', stderr);
        fflush(stderr);
}

int ctl_import(Ctl *c, int argc, char **argv) {
        enum { ARG_ALLOW = ARG_FIRST_COMMAND_OPTION, ARG_DRY_RUN };
        static const struct option options[] = {
                CTL_COMMON_OPTIONS,
                { "allow-unsecured", no_argument, NULL, ARG_ALLOW },
                { "dry-run", no_argument, NULL, ARG_DRY_RUN },
                {},
        };
        ImportOptions o = { .warning = on_warning };
        _cleanup_free_ char *buf = NULL;
        ImportResult res = {};
        ImportError err;
        char esc[256], msg[1024];
        const char *path;
        CtlBackend *b;
        size_t size;
        int opt, r;

        while ((opt = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                r = ctl_common_option(c, opt, import_help);
                if (r == 2)
                        return 0;
                if (r < 0)
                        return r;
                if (r == 1)
                        continue;
                switch (opt) {
                case ARG_ALLOW:
                        o.allow_unsecured = true;
                        break;
                case ARG_DRY_RUN:
                        o.dry_run = true;
                        break;
                default:
                        return CTL_ERR_USAGE;
                }
        }
        if (optind + 1 != argc)
                return ctl_usage_error(c, optind >= argc ? "missing FILE" : "too many arguments");
        path = argv[optind];
        cescape_str(path, esc, sizeof(esc));

        r = read_full_file(path, IMPORT_FILE_MAX, &buf, &size);
        if (r == -EFBIG)
                return ctl_error(c, 0, "%s: larger than %u MiB", esc, IMPORT_FILE_MAX >> 20);
        if (r < 0)
                return ctl_error(c, r, "Cannot read '%s'", esc);

        if (isatty(STDERR_FILENO))
                o.progress = on_progress;
        r = ctl_backend(c, o.dry_run ? CTL_DRY_RUN : CTL_WRITE, &b);
        if (r < 0)
                return r;
        r = ctl_import_yaml(b, buf, size, &o, &res, &err);
        if (r < 0) {
                import_error_format(&err, msg, sizeof(msg));
                log_error("%s:%s%s", esc, err.line > 0 ? "" : " ", msg);
                return r;
        }

        if (c->json) {
                JsonOut j;
                json_begin(c, &j);
                json_begin_object(&j);
                json_kv_bool(&j, "dry_run", o.dry_run);
                json_kv_uint(&j, "networks_created", res.networks_created);
                json_kv_uint(&j, "networks_updated", res.networks_updated);
                json_kv_uint(&j, "networks_made_unsecured", res.networks_made_unsecured);
                json_kv_uint(&j, "devices_created", res.devices_created);
                json_kv_uint(&j, "devices_updated", res.devices_updated);
                json_end_object(&j);
                return json_finish(c, &j);
        }
        printf("%s: networks: %u created, %u updated; devices: %" PRIu64 " created, %" PRIu64
               " updated.%s\n",
               esc, res.networks_created, res.networks_updated, res.devices_created, res.devices_updated,
               o.dry_run ? " (dry run: nothing was changed)" : "");
        return 0;
}

static int export_to_file(Ctl *c, CtlBackend *b, const char *path, bool include_keys, ExportResult *res) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        FILE *f;
        int r;

        if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fchmod(fd, include_keys ? 0600 : 0644) < 0) {
                r = -errno;
                goto fail;
        }
        f = fdopen(fd, "w");
        if (!f) {
                r = -errno;
                goto fail;
        }
        fd = -EBADF; /* owned by f now */
        r = ctl_export_yaml(b, f, include_keys, res);
        if (r >= 0 && (fflush(f) != 0 || fsync(fileno(f)) < 0))
                r = -errno;
        if (fclose(f) != 0 && r >= 0)
                r = -errno;
        if (r < 0)
                goto fail;
        if (rename(tmp, path) < 0) {
                r = -errno;
                goto fail;
        }
        return 0;

fail:
        (void)unlink(tmp);
        return r;
}

int ctl_export(Ctl *c, int argc, char **argv) {
        enum { ARG_INCLUDE_KEYS = ARG_FIRST_COMMAND_OPTION };
        static const struct option options[] = {
                CTL_COMMON_OPTIONS,
                { "include-keys", no_argument, NULL, ARG_INCLUDE_KEYS },
                {},
        };
        bool include_keys = false;
        ExportResult res = {};
        const char *path;
        CtlBackend *b;
        char esc[256];
        int opt, r;

        while ((opt = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                r = ctl_common_option(c, opt, export_help);
                if (r == 2)
                        return 0;
                if (r < 0)
                        return r;
                if (r == 1)
                        continue;
                if (opt != ARG_INCLUDE_KEYS)
                        return CTL_ERR_USAGE;
                include_keys = true;
        }
        if (optind + 1 != argc)
                return ctl_usage_error(c, optind >= argc ? "missing FILE" : "too many arguments");
        path = argv[optind];
        cescape_str(path, esc, sizeof(esc));

        r = ctl_backend(c, CTL_READ, &b);
        if (r < 0)
                return r;
        if (include_keys && streq(b->kind, "remote"))
                return ctl_error(c, 0,
                                 "--include-keys: the management API never sends keys; export with keys "
                                 "where the database is (--db)");
        if (streq(path, "-")) {
                r = ctl_export_yaml(b, stdout, include_keys, &res);
                if (r < 0)
                        return ctl_error(c, r, "Failed to export");
                return 0;
        }
        r = export_to_file(c, b, path, include_keys, &res);
        if (r < 0)
                return ctl_error(c, r, "Failed to export to '%s'", esc);

        if (c->json) {
                JsonOut j;
                json_begin(c, &j);
                json_begin_object(&j);
                json_kv_string(&j, "file", path);
                json_kv_uint(&j, "networks", res.networks);
                json_kv_uint(&j, "devices", res.devices);
                json_kv_bool(&j, "include_keys", include_keys);
                json_end_object(&j);
                return json_finish(c, &j);
        }
        printf("Exported %u networks and %" PRIu64 " devices to '%s'%s.\n", res.networks, res.devices, esc,
               include_keys ? " (with keys: keep the file safe)" : " (without keys)");
        return 0;
}
