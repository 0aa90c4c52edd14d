/* SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>

#include "ctl-common.h"
#include "ctl-parse.h"
#include "hex.h"
#include "parse-util.h"
#include "provcrypto.h"
#include "table.h"

static const char add_help[] =
        "Usage: meshprovctl vendor add NAME [OPTIONS]\n"
        "\n"
        "Create a vendor: a key shared by (or derived for) its devices, and optionally an enrollment rule "
        "that\n"
        "admits devices without a device row.\n"
        "\n"
        "  --factory-key KEY         32-byte factory key ([auth 16][enc 16]) shared by the vendor's "
        "devices\n"
        "  --master-key KEY          32-byte master key: each device's key is derived from it and its UID\n"
        "  --generate-master-key     generate a random master key (see 'vendor derive-key')\n"
        "  --enroll-prefix HEX       admit any UID starting with these bytes\n"
        "  --enroll-authenticator HEX  admit method-3 UIDs whose authenticator UID starts with these bytes\n"
        "  --enroll-method N         method enrolled devices use: 1 (default) or 3 (default with\n"
        "                            --enroll-authenticator), 0 only on a network that allows it\n"
        "  --network NAME            default network of the vendor's devices (required for enrollment)\n"
        "  --disabled                create it disabled\n"
        "\n"
        "KEY: HEX, @FILE (hex in a file) or - (hex on standard input).\n";

static const char set_help[] =
        "Usage: meshprovctl vendor set NAME [OPTIONS]\n"
        "\n"
        "Change a vendor; what is not given stays as it is.\n"
        "\n"
        "  --factory-key KEY, --master-key KEY, --generate-master-key, --enroll-prefix HEX,\n"
        "  --enroll-authenticator HEX, --enroll-method N, --network NAME: as for 'vendor add'\n"
        "  --no-key                  remove the vendor's key\n"
        "  --no-enroll               admit only devices with a device row\n"
        "  --no-network              no default network\n";

static const char list_help[] = "Usage: meshprovctl vendor list\n\nList vendors (keys as fingerprints).\n";
static const char show_help[] = "Usage: meshprovctl vendor show NAME\n\nShow one vendor.\n";
static const char remove_help[] =
        "Usage: meshprovctl vendor remove NAME\n\nRemove a vendor no device refers to.\n";
static const char enable_help[] =
        "Usage: meshprovctl vendor enable NAME\n\nAdmit the vendor's devices again.\n";
static const char disable_help[] =
        "Usage: meshprovctl vendor disable NAME\n\nRefuse (NACK) all devices of the vendor until enabled.\n";
static const char derive_help[] =
        "Usage: meshprovctl vendor derive-key VENDOR UID\n"
        "\n"
        "Print the 32-byte factory key ([auth 16][enc 16], hex) a device with this UID must be programmed\n"
        "with: derived from the vendor's master key, or the vendor's shared factory key. This is the only\n"
        "command that prints a key; it goes to standard output only.\n";

typedef struct VendorArgs {
        const char *name;
        const char *factory_arg, *master_arg;
        bool generate, no_key;
        const char *prefix_arg, *auth_arg;
        bool no_enroll;
        bool method_set;
        uint8_t method;
        const char *network;
        bool no_network;
        bool disabled;
} VendorArgs;

static int parse_vendor_args(Ctl *c, int argc, char **argv, bool is_set, VendorArgs *a) {
        enum {
                ARG_FACTORY = ARG_FIRST_COMMAND_OPTION,
                ARG_MASTER,
                ARG_GENERATE,
                ARG_NO_KEY,
                ARG_PREFIX,
                ARG_AUTHENTICATOR,
                ARG_NO_ENROLL,
                ARG_METHOD,
                ARG_NETWORK,
                ARG_NO_NETWORK,
                ARG_DISABLED,
        };
        static const struct option options[] = {
                CTL_COMMON_OPTIONS,
                { "factory-key", required_argument, NULL, ARG_FACTORY },
                { "master-key", required_argument, NULL, ARG_MASTER },
                { "generate-master-key", no_argument, NULL, ARG_GENERATE },
                { "no-key", no_argument, NULL, ARG_NO_KEY },
                { "enroll-prefix", required_argument, NULL, ARG_PREFIX },
                { "enroll-authenticator", required_argument, NULL, ARG_AUTHENTICATOR },
                { "no-enroll", no_argument, NULL, ARG_NO_ENROLL },
                { "enroll-method", required_argument, NULL, ARG_METHOD },
                { "network", required_argument, NULL, ARG_NETWORK },
                { "no-network", no_argument, NULL, ARG_NO_NETWORK },
                { "disabled", no_argument, NULL, ARG_DISABLED },
                {},
        };
        const char *help = is_set ? set_help : add_help;
        unsigned n_key = 0, n_enroll = 0;
        int opt, r;

        *a = (VendorArgs){};
        while ((opt = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                r = ctl_common_option(c, opt, help);
                if (r == 2)
                        return 1;
                if (r < 0)
                        return r;
                if (r == 1)
                        continue;
                switch (opt) {
                case ARG_FACTORY:
                        a->factory_arg = optarg;
                        n_key++;
                        break;
                case ARG_MASTER:
                        a->master_arg = optarg;
                        n_key++;
                        break;
                case ARG_GENERATE:
                        a->generate = true;
                        n_key++;
                        break;
                case ARG_NO_KEY:
                case ARG_NO_ENROLL:
                case ARG_NO_NETWORK:
                        if (!is_set)
                                return ctl_usage_error(c, "--%s is only for 'vendor set'",
                                                       opt == ARG_NO_KEY      ? "no-key"
                                                       : opt == ARG_NO_ENROLL ? "no-enroll"
                                                                              : "no-network");
                        if (opt == ARG_NO_KEY) {
                                a->no_key = true;
                                n_key++;
                        } else if (opt == ARG_NO_ENROLL) {
                                a->no_enroll = true;
                                n_enroll++;
                        } else
                                a->no_network = true;
                        break;
                case ARG_PREFIX:
                        a->prefix_arg = optarg;
                        n_enroll++;
                        break;
                case ARG_AUTHENTICATOR:
                        a->auth_arg = optarg;
                        n_enroll++;
                        break;
                case ARG_METHOD:
                        if (safe_atou8(optarg, &a->method) < 0 ||
                            (a->method != 0 && a->method != 1 && a->method != 3))
                                return ctl_usage_error(c, "--enroll-method: must be 0, 1 or 3");
                        a->method_set = true;
                        break;
                case ARG_NETWORK:
                        a->network = optarg;
                        if (!store_name_valid(optarg))
                                return ctl_usage_error(c, "--network: not a valid network name");
                        break;
                case ARG_DISABLED:
                        if (is_set)
                                return ctl_usage_error(c, "use 'vendor disable' to disable a vendor");
                        a->disabled = true;
                        break;
                default:
                        return CTL_ERR_USAGE;
                }
        }
        if (optind + 1 != argc)
                return ctl_usage_error(c, optind >= argc ? "missing vendor NAME" : "too many arguments");
        a->name = argv[optind];
        if (!store_name_valid(a->name))
                return ctl_usage_error(c, "not a valid vendor name (1..%u characters of A-Z a-z 0-9 . _ -)",
                                       NAME_MAX_LEN);
        if (n_key > 1)
                return ctl_usage_error(
                        c, "give only one of --factory-key, --master-key, --generate-master-key%s",
                        is_set ? ", --no-key" : "");
        if (n_enroll > 1)
                return ctl_usage_error(c, "give only one of --enroll-prefix, --enroll-authenticator%s",
                                       is_set ? ", --no-enroll" : "");
        if (a->network && a->no_network)
                return ctl_usage_error(c, "--network and --no-network contradict each other");
        return 0;
}

static int apply_vendor_args(Ctl *c, const VendorArgs *a, StoreVendor *v, bool *ret_generated) {
        int r;

        *ret_generated = false;
        v->key_update = STORE_KEY_KEEP;
        if (a->factory_arg || a->master_arg) {
                r = ctl_parse_key_arg(c, a->factory_arg ? "factory-key" : "master-key",
                                      a->factory_arg ?: a->master_arg, v->key, sizeof(v->key));
                if (r < 0)
                        return r;
                if (a->factory_arg && (!prov_key_valid(v->key) || !prov_key_valid(v->key + PROV_KEY_SIZE)))
                        return ctl_usage_error(c, "--factory-key: neither half may be all 0x00 or all 0xFF");
                v->key_kind = a->factory_arg ? STORE_VENDOR_KEY_FACTORY : STORE_VENDOR_KEY_MASTER;
                v->key_update = STORE_KEY_SET;
        } else if (a->generate) {
                r = ctl_random_key(v->key, sizeof(v->key));
                if (r < 0)
                        return ctl_error(c, r, "Failed to generate a master key");
                v->key_kind = STORE_VENDOR_KEY_MASTER;
                v->key_update = STORE_KEY_SET;
                *ret_generated = true;
        } else if (a->no_key) {
                v->key_kind = STORE_VENDOR_KEY_NONE;
                v->key_update = STORE_KEY_CLEAR;
                memset(v->key, 0, sizeof(v->key));
        }

        if (a->prefix_arg || a->auth_arg) {
                size_t len;
                size_t max = a->auth_arg ? 16 : PROV_UID_MAX;

                r = parse_uid(a->prefix_arg ?: a->auth_arg, v->enroll_prefix, &len);
                if (r < 0 || len > max)
                        return ctl_usage_error(c, "--%s: expected 1..%zu bytes of hex",
                                               a->prefix_arg ? "enroll-prefix" : "enroll-authenticator",
                                               max);
                v->enroll_prefix_len = len;
                v->enroll_kind = a->prefix_arg ? STORE_ENROLL_UID_PREFIX : STORE_ENROLL_AUTHENTICATOR;
                if (!a->method_set)
                        v->enroll_method = a->auth_arg ? 3 : 1;
        } else if (a->no_enroll) {
                v->enroll_kind = STORE_ENROLL_NONE;
                v->enroll_prefix_len = 0;
        }
        if (a->method_set)
                v->enroll_method = a->method;
        if (a->network)
                strcpy(v->default_network, a->network);
        else if (a->no_network)
                v->default_network[0] = '\0';
        return 0;
}

static int print_vendor(Ctl *c, CtlBackend *b, const char *name) {
        StoreDeviceFilter f = { .vendor = name, .state = -1 };
        char fp[KEY_FINGERPRINT_MAX], t[64], hex[2 * PROV_UID_MAX + 1];
        uint64_t devices = 0;
        StoreVendor v;
        int r;

        r = b->vendor_get(b, name, &v);
        if (r == -ENOENT)
                return ctl_error(c, r, "No vendor '%s'", name);
        if (r < 0)
                return ctl_error(c, r, "Failed to read vendor '%s'", name);
        if (c->json) {
                JsonOut j;
                json_begin(c, &j);
                json_vendor(&j, &v);
                explicit_bzero_safe(&v, sizeof(v));
                return json_finish(c, &j);
        }
        (void)b->device_count(b, &f, &devices);
        print_field("Vendor", "%s", v.name);
        if (v.key_kind == STORE_VENDOR_KEY_NONE)
                print_field("Key", "none");
        else
                print_field("Key", "%s %s", store_vendor_key_kind_to_string(v.key_kind),
                            fingerprint(v.key, sizeof(v.key), fp, sizeof(fp)));
        if (v.enroll_kind == STORE_ENROLL_NONE)
                print_field("Enrollment", "none (device rows only)");
        else
                print_field("Enrollment", "%s %s, method %u", store_enroll_kind_to_string(v.enroll_kind),
                            hex_encode(v.enroll_prefix, v.enroll_prefix_len, hex, sizeof(hex)),
                            v.enroll_method);
        print_field("Default network", "%s", isempty(v.default_network) ? "-" : v.default_network);
        print_field("Enabled", "%s", yes_no(v.enabled));
        print_field("Devices", "%" PRIu64, devices);
        print_field("Created", "%s", format_time(v.created, t, sizeof(t)));
        print_field("Updated", "%s", format_time(v.updated, t, sizeof(t)));
        explicit_bzero_safe(&v, sizeof(v));
        return 0;
}

static int vendor_add(Ctl *c, int argc, char **argv) {
        StoreVendor v = { .enabled = true, .enroll_method = 1 };
        StoreError err = {};
        VendorArgs a;
        CtlBackend *b;
        bool generated;
        int r;

        r = parse_vendor_args(c, argc, argv, false, &a);
        if (r != 0)
                return r > 0 ? 0 : r;
        strcpy(v.name, a.name);
        v.enabled = !a.disabled;
        r = apply_vendor_args(c, &a, &v, &generated);
        if (r < 0)
                goto out;
        if (v.key_update == STORE_KEY_KEEP)
                v.key_update = STORE_KEY_CLEAR; /* no key */

        r = ctl_backend(c, CTL_WRITE, &b);
        if (r < 0)
                goto out;
        r = b->vendor_put(b, &v, STORE_PUT_CREATE, &err);
        if (r == -EEXIST) {
                r = ctl_error(c, r, "Vendor '%s' exists already (use 'vendor set')", a.name);
                goto out;
        }
        if (r < 0) {
                r = ctl_store_error(c, r, "Cannot add vendor", &err);
                goto out;
        }
        if (!c->json) {
                printf("Vendor '%s' created.\n", a.name);
                if (generated)
                        printf("A master key was generated; program devices with the keys printed by "
                               "'meshprovctl vendor derive-key %s UID'.\n",
                               a.name);
        }
        r = print_vendor(c, b, a.name);
out:
        explicit_bzero_safe(&v, sizeof(v));
        return r;
}

static int vendor_set(Ctl *c, int argc, char **argv) {
        StoreError err = {};
        StoreVendor v;
        VendorArgs a;
        CtlBackend *b;
        bool generated;
        int r;

        r = parse_vendor_args(c, argc, argv, true, &a);
        if (r != 0)
                return r > 0 ? 0 : r;
        r = ctl_backend(c, CTL_WRITE, &b);
        if (r < 0)
                return r;
        r = b->vendor_get(b, a.name, &v);
        if (r == -ENOENT)
                return ctl_error(c, r, "No vendor '%s'", a.name);
        if (r < 0)
                return ctl_error(c, r, "Failed to read vendor '%s'", a.name);
        r = apply_vendor_args(c, &a, &v, &generated);
        if (r < 0)
                goto out;
        r = b->vendor_put(b, &v, STORE_PUT_UPDATE, &err);
        if (r < 0) {
                r = ctl_store_error(c, r, "Cannot change vendor", &err);
                goto out;
        }
        if (!c->json)
                printf("Vendor '%s' updated.\n", a.name);
        r = print_vendor(c, b, a.name);
out:
        explicit_bzero_safe(&v, sizeof(v));
        return r;
}

typedef struct ListCtx {
        Table *t;
        JsonOut *j;
} ListCtx;

static int list_cb(const StoreVendor *v, void *userdata) {
        ListCtx *l = userdata;
        char hex[2 * PROV_UID_MAX + 1];

        if (l->j) {
                json_vendor(l->j, v);
                return 0;
        }
        if (table_add_cell(l->t, v->name) < 0 ||
            table_add_cell(l->t, store_vendor_key_kind_to_string(v->key_kind)) < 0)
                return -ENOMEM;
        if (v->enroll_kind == STORE_ENROLL_NONE) {
                if (table_add_cell(l->t, "-") < 0 || table_add_cell(l->t, "-") < 0)
                        return -ENOMEM;
        } else if (table_add_cellf(l->t, "%s %s", store_enroll_kind_to_string(v->enroll_kind),
                                   hex_encode(v->enroll_prefix, v->enroll_prefix_len, hex, sizeof(hex))) <
                           0 ||
                   table_add_cellf(l->t, "%u", v->enroll_method) < 0)
                return -ENOMEM;
        if (table_add_cell(l->t, isempty(v->default_network) ? "-" : v->default_network) < 0 ||
            table_add_cell(l->t, yes_no(v->enabled)) < 0)
                return -ENOMEM;
        return 0;
}

static int vendor_list(Ctl *c, int argc, char **argv) {
        _cleanup_(table_freep) Table *t = NULL;
        ListCtx l = {};
        CtlBackend *b;
        JsonOut j;
        int r;

        r = ctl_parse_simple(c, argc, argv, list_help, 0, "");
        if (r <= 0)
                return r;
        r = ctl_backend(c, CTL_READ, &b);
        if (r < 0)
                return r;
        if (c->json) {
                json_begin(c, &j);
                json_begin_array(&j);
                l.j = &j;
        } else {
                t = table_new("NAME", "KEY", "ENROLLMENT", "METHOD", "NETWORK", "ENABLED", NULL);
                if (!t)
                        return ctl_error(c, -ENOMEM, "Failed to list vendors");
                l.t = t;
        }
        r = b->vendor_list(b, list_cb, &l);
        if (r < 0)
                return ctl_error(c, r, "Failed to list vendors");
        if (c->json) {
                json_end_array(&j);
                return json_finish(c, &j);
        }
        if (table_rows(t) == 0) {
                printf("No vendors.\n");
                return 0;
        }
        return table_print(t, stdout) < 0 ? ctl_error(c, -EIO, "Failed to write output") : 0;
}

static int vendor_show(Ctl *c, int argc, char **argv) {
        CtlBackend *b;
        int r, i;

        i = ctl_parse_simple(c, argc, argv, show_help, 1, "vendor NAME");
        if (i <= 0)
                return i;
        r = ctl_backend(c, CTL_READ, &b);
        if (r < 0)
                return r;
        return print_vendor(c, b, argv[i]);
}

static int vendor_remove(Ctl *c, int argc, char **argv) {
        StoreError err = {};
        CtlBackend *b;
        int r, i;

        i = ctl_parse_simple(c, argc, argv, remove_help, 1, "vendor NAME");
        if (i <= 0)
                return i;
        r = ctl_backend(c, CTL_WRITE, &b);
        if (r < 0)
                return r;
        r = b->vendor_delete(b, argv[i], &err);
        if (r == -ENOENT)
                return ctl_error(c, r, "No vendor '%s'", argv[i]);
        if (r < 0)
                return ctl_store_error(c, r, "Cannot remove vendor", &err);
        if (c->json) {
                JsonOut j;
                json_begin(c, &j);
                json_begin_object(&j);
                json_kv_string(&j, "removed", argv[i]);
                json_end_object(&j);
                return json_finish(c, &j);
        }
        printf("Vendor '%s' removed.\n", argv[i]);
        return 0;
}

static int vendor_enable_disable(Ctl *c, int argc, char **argv, bool enable) {
        StoreError err = {};
        StoreVendor v;
        CtlBackend *b;
        int r, i;

        i = ctl_parse_simple(c, argc, argv, enable ? enable_help : disable_help, 1, "vendor NAME");
        if (i <= 0)
                return i;
        r = ctl_backend(c, CTL_WRITE, &b);
        if (r < 0)
                return r;
        r = b->vendor_get(b, argv[i], &v);
        if (r == -ENOENT)
                return ctl_error(c, r, "No vendor '%s'", argv[i]);
        if (r < 0)
                return ctl_error(c, r, "Failed to read vendor '%s'", argv[i]);
        v.enabled = enable;
        v.key_update = STORE_KEY_KEEP;
        r = b->vendor_put(b, &v, STORE_PUT_UPDATE, &err);
        explicit_bzero_safe(&v, sizeof(v));
        if (r < 0)
                return ctl_store_error(c, r, enable ? "Cannot enable vendor" : "Cannot disable vendor",
                                       &err);
        if (!c->json)
                printf("Vendor '%s' %s.\n", argv[i], enable ? "enabled" : "disabled");
        return print_vendor(c, b, argv[i]);
}

static int vendor_enable(Ctl *c, int argc, char **argv) {
        return vendor_enable_disable(c, argc, argv, true);
}

static int vendor_disable(Ctl *c, int argc, char **argv) {
        return vendor_enable_disable(c, argc, argv, false);
}

static int vendor_derive_key(Ctl *c, int argc, char **argv) {
        uint8_t uid[PROV_UID_MAX], key[PROV_FACTORY_KEY_SIZE];
        char hex[2 * PROV_FACTORY_KEY_SIZE + 1];
        size_t uid_len;
        bool derived;
        CtlBackend *b;
        int r, i;

        i = ctl_parse_simple(c, argc, argv, derive_help, 2, "VENDOR and UID");
        if (i <= 0)
                return i;
        r = ctl_parse_uid_arg(c, argv[i + 1], uid, &uid_len);
        if (r < 0)
                return r;
        r = ctl_backend(c, CTL_READ, &b);
        if (r < 0)
                return r;
        r = b->vendor_device_key(b, argv[i], uid, uid_len, key, &derived);
        if (r == -ENOENT)
                return ctl_error(c, r, "No vendor '%s'", argv[i]);
        if (r == -ENOKEY)
                return ctl_error(c, 0, "Vendor '%s' has no key", argv[i]);
        if (r < 0)
                return ctl_error(c, r, "Failed to get the device key");

        hex_encode(key, sizeof(key), hex, sizeof(hex));
        explicit_bzero_safe(key, sizeof(key));
        if (c->json) {
                JsonOut j;
                json_begin(c, &j);
                json_begin_object(&j);
                json_kv_string(&j, "vendor", argv[i]);
                json_kv_hex(&j, "uid", uid, uid_len);
                json_kv_bool(&j, "derived", derived);
                json_kv_string(&j, "factory_key", hex);
                json_end_object(&j);
                r = json_finish(c, &j);
        } else
                r = printf("%s\n", hex) < 0 ? -EIO : 0;
        explicit_bzero_safe(hex, sizeof(hex));
        return r;
}

static const char group_help[] =
        "Usage: meshprovctl vendor COMMAND [ARGS]\n"
        "\n"
        "Vendors: a factory key shared by their devices or a master key that per-device "
        "keys are derived from,\nand enrollment rules for devices without a device row.\n";

int ctl_vendor(Ctl *c, int argc, char **argv) {
        static const Verb verbs[] = {
                { "add", vendor_add, "create a vendor" },
                { "set", vendor_set, "change a vendor" },
                { "list", vendor_list, "list vendors" },
                { "show", vendor_show, "show one vendor" },
                { "remove", vendor_remove, "remove a vendor" },
                { "enable", vendor_enable, "admit the vendor's devices" },
                { "disable", vendor_disable, "refuse the vendor's devices" },
                { "derive-key", vendor_derive_key, "print a device's factory key for factory programming" },
                {},
        };
        return ctl_run_verbs(c, "vendor", verbs, group_help, argc, argv);
}
