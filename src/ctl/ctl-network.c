/* SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>

#include "ctl-common.h"
#include "ctl-parse.h"
#include "provcrypto.h"
#include "table.h"

static const char add_help[] =
        "Usage: meshprovctl network add NAME --address N --channel N\n"
        "                               (--enc-key KEY --auth-key KEY | --generate-keys) [OPTIONS]\n"
        "\n"
        "Create a network. NAME: 1..64 characters of A-Z a-z 0-9 . _ -\n"
        "\n"
        "  --address N             network address (1..0xFFFFFE, not 0xAAAAAA / 0x555555)\n"
        "  --channel N             network channel (2.4G: 1..40; SubG, 5GMesh: 1..255)\n"
        "  --profile P             2.4G (default), SubG or 5GMesh\n"
        "  --enc-key KEY           network encryption key, 16 bytes: HEX, @FILE or - (stdin)\n"
        "  --auth-key KEY          network authentication key, 16 bytes: HEX, @FILE or -\n"
        "  --generate-keys         generate both keys at random\n"
        "  --allow-unsecured       allow method 0 (network keys sent in clear over the air)\n"
        "  --no-allow-unsecured    refuse method 0 (default)\n"
        "  --pool FIRST-LAST       allocate node addresses from this range\n";

static const char set_help[] =
        "Usage: meshprovctl network set NAME [OPTIONS]\n"
        "\n"
        "Change a network; what is not given stays as it is. Keys change only together.\n"
        "\n"
        "  --address N, --channel N, --profile P, --enc-key KEY --auth-key KEY, --generate-keys,\n"
        "  --allow-unsecured, --no-allow-unsecured, --pool FIRST-LAST: as for 'network add'\n"
        "  --no-pool               stop allocating node addresses\n";

static const char list_help[] = "Usage: meshprovctl network list\n\nList networks (keys as fingerprints).\n";
static const char show_help[] = "Usage: meshprovctl network show NAME\n\nShow one network.\n";
static const char remove_help[] =
        "Usage: meshprovctl network remove NAME\n\nRemove a network no device or vendor refers to.\n";

typedef struct NetworkArgs {
        const char *name;
        bool address_set, channel_set, profile_set, allow_set, pool_set, no_pool, generate;
        const char *enc_arg, *auth_arg;
        uint32_t address, channel;
        ProvProfile profile;
        bool allow_unsecured;
        uint32_t pool_first, pool_last;
} NetworkArgs;

static int parse_network_args(Ctl *c, int argc, char **argv, bool is_set, NetworkArgs *a) {
        enum {
                ARG_ADDRESS = ARG_FIRST_COMMAND_OPTION,
                ARG_CHANNEL,
                ARG_PROFILE,
                ARG_ENC_KEY,
                ARG_AUTH_KEY,
                ARG_GENERATE,
                ARG_ALLOW,
                ARG_NO_ALLOW,
                ARG_POOL,
                ARG_NO_POOL,
        };
        static const struct option options[] = {
                CTL_COMMON_OPTIONS,
                { "address", required_argument, NULL, ARG_ADDRESS },
                { "channel", required_argument, NULL, ARG_CHANNEL },
                { "profile", required_argument, NULL, ARG_PROFILE },
                { "enc-key", required_argument, NULL, ARG_ENC_KEY },
                { "auth-key", required_argument, NULL, ARG_AUTH_KEY },
                { "generate-keys", no_argument, NULL, ARG_GENERATE },
                { "allow-unsecured", no_argument, NULL, ARG_ALLOW },
                { "no-allow-unsecured", no_argument, NULL, ARG_NO_ALLOW },
                { "pool", required_argument, NULL, ARG_POOL },
                { "no-pool", no_argument, NULL, ARG_NO_POOL },
                {},
        };
        const char *help = is_set ? set_help : add_help;
        int opt, r;

        *a = (NetworkArgs){};
        while ((opt = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                r = ctl_common_option(c, opt, help);
                if (r == 2)
                        return 1;
                if (r < 0)
                        return r;
                if (r == 1)
                        continue;
                switch (opt) {
                case ARG_ADDRESS:
                        r = ctl_parse_u32(c, "address", optarg, &a->address);
                        if (r < 0)
                                return r;
                        a->address_set = true;
                        break;
                case ARG_CHANNEL:
                        r = ctl_parse_u32(c, "channel", optarg, &a->channel);
                        if (r < 0)
                                return r;
                        a->channel_set = true;
                        break;
                case ARG_PROFILE:
                        a->profile = prov_profile_from_string(optarg);
                        if (a->profile < 0)
                                return ctl_usage_error(c, "--profile: must be 2.4G, SubG or 5GMesh");
                        a->profile_set = true;
                        break;
                case ARG_ENC_KEY:
                        a->enc_arg = optarg;
                        break;
                case ARG_AUTH_KEY:
                        a->auth_arg = optarg;
                        break;
                case ARG_GENERATE:
                        a->generate = true;
                        break;
                case ARG_ALLOW:
                case ARG_NO_ALLOW:
                        a->allow_set = true;
                        a->allow_unsecured = opt == ARG_ALLOW;
                        break;
                case ARG_POOL:
                        if (parse_pool(optarg, &a->pool_first, &a->pool_last) < 0)
                                return ctl_usage_error(c, "--pool: expected FIRST-LAST, e.g. 1000-1999");
                        a->pool_set = true;
                        a->no_pool = false;
                        break;
                case ARG_NO_POOL:
                        if (!is_set)
                                return ctl_usage_error(c, "--no-pool is only for 'network set'");
                        a->no_pool = true;
                        a->pool_set = false;
                        break;
                default:
                        return CTL_ERR_USAGE;
                }
        }
        if (optind + 1 != argc)
                return ctl_usage_error(c, optind >= argc ? "missing network NAME" : "too many arguments");
        a->name = argv[optind];
        if (!store_name_valid(a->name))
                return ctl_usage_error(c, "not a valid network name (1..%u characters of A-Z a-z 0-9 . _ -)",
                                       NAME_MAX_LEN);
        if (a->generate && (a->enc_arg || a->auth_arg))
                return ctl_usage_error(c, "give either --generate-keys or --enc-key/--auth-key");
        if (!a->enc_arg != !a->auth_arg)
                return ctl_usage_error(c, "--enc-key and --auth-key go together");
        return 0;
}

static int apply_keys(Ctl *c, const NetworkArgs *a, StoreNetwork *n) {
        int r;

        if (a->generate) {
                r = ctl_random_key(n->enc_key, PROV_KEY_SIZE);
                if (r >= 0)
                        r = ctl_random_key(n->auth_key, PROV_KEY_SIZE);
                if (r < 0)
                        return ctl_error(c, r, "Failed to generate keys");
        } else if (a->enc_arg) {
                r = ctl_parse_key_arg(c, "enc-key", a->enc_arg, n->enc_key, PROV_KEY_SIZE);
                if (r < 0)
                        return r;
                r = ctl_parse_key_arg(c, "auth-key", a->auth_arg, n->auth_key, PROV_KEY_SIZE);
                if (r < 0)
                        return r;
        } else {
                n->keys_update = STORE_KEY_KEEP;
                return 0;
        }
        if (!prov_key_valid(n->enc_key) || !prov_key_valid(n->auth_key))
                return ctl_usage_error(c, "network keys must not be all 0x00 or all 0xFF");
        n->keys_update = STORE_KEY_SET;
        return 0;
}

static int print_network(Ctl *c, CtlBackend *b, const char *name) {
        StoreNetwork n;
        StoreDeviceFilter f = { .network = name, .state = -1 };
        char fp[KEY_FINGERPRINT_MAX], t[64];
        uint64_t devices = 0;
        int r;

        r = b->network_get(b, name, &n);
        if (r == -ENOENT)
                return ctl_error(c, r, "No network '%s'", name);
        if (r < 0)
                return ctl_error(c, r, "Failed to read network '%s'", name);
        if (c->json) {
                JsonOut j;
                json_begin(c, &j);
                json_network(&j, &n);
                explicit_bzero_safe(&n, sizeof(n));
                return json_finish(c, &j);
        }
        (void)b->device_count(b, &f, &devices);
        print_field("Network", "%s", n.name);
        print_field("Profile", "%s", prov_profile_to_string(n.profile));
        print_field("Address", "0x%06" PRIx32 " (%" PRIu32 ")", n.network_address, n.network_address);
        print_field("Channel", "%" PRIu32, n.channel);
        print_field("Encryption key", "%s", fingerprint(n.enc_key, PROV_KEY_SIZE, fp, sizeof(fp)));
        print_field("Authentication key", "%s", fingerprint(n.auth_key, PROV_KEY_SIZE, fp, sizeof(fp)));
        print_field("Unsecured (method 0)", "%s", n.allow_unsecured ? "allowed" : "refused");
        if (n.has_pool)
                print_field("Address pool", "%" PRIu32 "-%" PRIu32, n.pool_first, n.pool_last);
        else
                print_field("Address pool", "none");
        print_field("Devices", "%" PRIu64, devices);
        print_field("Created", "%s", format_time(n.created, t, sizeof(t)));
        print_field("Updated", "%s", format_time(n.updated, t, sizeof(t)));
        explicit_bzero_safe(&n, sizeof(n));
        return 0;
}

static int network_add(Ctl *c, int argc, char **argv) {
        NetworkArgs a;
        StoreNetwork n = {};
        StoreError err = {};
        CtlBackend *b;
        int r;

        r = parse_network_args(c, argc, argv, false, &a);
        if (r != 0)
                return r > 0 ? 0 : r;
        if (!a.address_set)
                return ctl_usage_error(c, "--address is required");
        if (!a.channel_set)
                return ctl_usage_error(c, "--channel is required");
        if (!a.generate && !a.enc_arg)
                return ctl_usage_error(c, "give --enc-key and --auth-key, or --generate-keys");

        strcpy(n.name, a.name);
        n.profile = a.profile_set ? a.profile : PROV_PROFILE_24G;
        n.network_address = a.address;
        n.channel = a.channel;
        n.allow_unsecured = a.allow_set && a.allow_unsecured;
        n.has_pool = a.pool_set;
        n.pool_first = a.pool_first;
        n.pool_last = a.pool_last;
        r = apply_keys(c, &a, &n);
        if (r < 0)
                goto out;

        r = ctl_backend(c, CTL_WRITE, &b);
        if (r < 0)
                goto out;
        r = b->network_put(b, &n, STORE_PUT_CREATE, &err);
        if (r == -EEXIST) {
                r = ctl_error(c, r, "Network '%s' exists already (use 'network set')", a.name);
                goto out;
        }
        if (r < 0) {
                r = ctl_store_error(c, r, "Cannot add network", &err);
                goto out;
        }
        if (!c->json)
                printf("Network '%s' created.\n", a.name);
        r = print_network(c, b, a.name);
out:
        explicit_bzero_safe(&n, sizeof(n));
        return r;
}

static int network_set(Ctl *c, int argc, char **argv) {
        NetworkArgs a;
        StoreNetwork n;
        StoreError err = {};
        CtlBackend *b;
        int r;

        r = parse_network_args(c, argc, argv, true, &a);
        if (r != 0)
                return r > 0 ? 0 : r;
        r = ctl_backend(c, CTL_WRITE, &b);
        if (r < 0)
                return r;
        r = b->network_get(b, a.name, &n);
        if (r == -ENOENT)
                return ctl_error(c, r, "No network '%s'", a.name);
        if (r < 0)
                return ctl_error(c, r, "Failed to read network '%s'", a.name);

        if (a.profile_set)
                n.profile = a.profile;
        if (a.address_set)
                n.network_address = a.address;
        if (a.channel_set)
                n.channel = a.channel;
        if (a.allow_set)
                n.allow_unsecured = a.allow_unsecured;
        if (a.pool_set) {
                n.has_pool = true;
                n.pool_first = a.pool_first;
                n.pool_last = a.pool_last;
        } else if (a.no_pool)
                n.has_pool = false;
        r = apply_keys(c, &a, &n);
        if (r < 0)
                goto out;

        r = b->network_put(b, &n, STORE_PUT_UPDATE, &err);
        if (r < 0) {
                r = ctl_store_error(c, r, "Cannot change network", &err);
                goto out;
        }
        if (!c->json)
                printf("Network '%s' updated.\n", a.name);
        r = print_network(c, b, a.name);
out:
        explicit_bzero_safe(&n, sizeof(n));
        return r;
}

typedef struct ListCtx {
        Ctl *c;
        Table *t;
        JsonOut *j;
} ListCtx;

static int list_cb(const StoreNetwork *n, void *userdata) {
        ListCtx *l = userdata;
        char pool[48];

        if (l->j) {
                json_network(l->j, n);
                return 0;
        }
        if (n->has_pool)
                snprintf(pool, sizeof(pool), "%" PRIu32 "-%" PRIu32, n->pool_first, n->pool_last);
        else
                snprintf(pool, sizeof(pool), "-");
        if (table_add_cell(l->t, n->name) < 0 ||
            table_add_cell(l->t, prov_profile_to_string(n->profile)) < 0 ||
            table_add_cellf(l->t, "0x%06" PRIx32, n->network_address) < 0 ||
            table_add_cellf(l->t, "%" PRIu32, n->channel) < 0 ||
            table_add_cell(l->t, n->allow_unsecured ? "allowed" : "no") < 0 ||
            table_add_cell(l->t, pool) < 0)
                return -ENOMEM;
        return 0;
}

static int network_list(Ctl *c, int argc, char **argv) {
        _cleanup_(table_freep) Table *t = NULL;
        CtlBackend *b;
        JsonOut j;
        ListCtx l = { .c = c };
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
                t = table_new("NAME", "PROFILE", "ADDRESS", "CHANNEL", "UNSECURED", "POOL", NULL);
                if (!t)
                        return ctl_error(c, -ENOMEM, "Failed to list networks");
                l.t = t;
        }
        r = b->network_list(b, list_cb, &l);
        if (r < 0)
                return ctl_error(c, r, "Failed to list networks");
        if (c->json) {
                json_end_array(&j);
                return json_finish(c, &j);
        }
        if (table_rows(t) == 0) {
                printf("No networks.\n");
                return 0;
        }
        return table_print(t, stdout) < 0 ? ctl_error(c, -EIO, "Failed to write output") : 0;
}

static int network_show(Ctl *c, int argc, char **argv) {
        CtlBackend *b;
        int r, i;

        i = ctl_parse_simple(c, argc, argv, show_help, 1, "network NAME");
        if (i <= 0)
                return i;
        r = ctl_backend(c, CTL_READ, &b);
        if (r < 0)
                return r;
        return print_network(c, b, argv[i]);
}

static int network_remove(Ctl *c, int argc, char **argv) {
        StoreError err = {};
        CtlBackend *b;
        int r, i;

        i = ctl_parse_simple(c, argc, argv, remove_help, 1, "network NAME");
        if (i <= 0)
                return i;
        r = ctl_backend(c, CTL_WRITE, &b);
        if (r < 0)
                return r;
        r = b->network_delete(b, argv[i], &err);
        if (r == -ENOENT)
                return ctl_error(c, r, "No network '%s'", argv[i]);
        if (r < 0)
                return ctl_store_error(c, r, "Cannot remove network", &err);
        if (c->json) {
                JsonOut j;
                json_begin(c, &j);
                json_begin_object(&j);
                json_kv_string(&j, "removed", argv[i]);
                json_end_object(&j);
                return json_finish(c, &j);
        }
        printf("Network '%s' removed.\n", argv[i]);
        return 0;
}

static const char group_help[] = "Usage: meshprovctl network COMMAND [ARGS]\n"
                                 "\n"
                                 "Networks: address, channel, keys, radio profile, unsecured policy, node "
                                 "address pool.\n";

int ctl_network(Ctl *c, int argc, char **argv) {
        static const Verb verbs[] = {
                { "add", network_add, "create a network" },
                { "set", network_set, "change a network" },
                { "list", network_list, "list networks" },
                { "show", network_show, "show one network" },
                { "remove", network_remove, "remove a network" },
                {},
        };
        return ctl_run_verbs(c, "network", verbs, group_help, argc, argv);
}
