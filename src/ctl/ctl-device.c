/* SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>

#include "ctl-common.h"
#include "ctl-parse.h"
#include "hex.h"
#include "parse-util.h"
#include "provcrypto.h"
#include "table.h"

static const char add_help[] =
        "Usage: meshprovctl device add UID [OPTIONS]\n"
        "       meshprovctl device add --method 3 --authenticator-uid HEX --node-uid HEX [OPTIONS]\n"
        "\n"
        "Whitelist a device. UID: hex, 0x optional (1..79 bytes).\n"
        "\n"
        "  --method N                 0 unsecured (needs a network that allows it), 1 secured (default),\n"
        "                             3 extended UID\n"
        "  --authenticator-uid HEX    method 3: the 16-byte authenticator UID\n"
        "  --node-uid HEX             method 3: the 16-byte node UID\n"
        "  --authenticator-uid-type N, --node-uid-type N   type bytes (default 0x01, UUID v4)\n"
        "  --network NAME             the device's network (default: its vendor's default network)\n"
        "  --vendor NAME              the device's vendor (its key is used when the device has none)\n"
        "  --factory-key KEY          the device's own 32-byte factory key: HEX, @FILE or - (stdin)\n"
        "  --node-address N           fixed node address (else one from the network's pool, if any)\n"
        "  --role 0xNN                node role: 0x00/0x10 sink, 0x01/0x11 head node, 0x02/0x12 subnode,\n"
        "                             0x42/0x52 autorole, 0x04 advertiser\n"
        "  --user ID=int:N|text:S|bytes:HEX|bool:yes   user-specific item 128..255 (repeatable)\n"
        "  --label TEXT               a name for people\n"
        "  --disabled                 add it disabled (answered with NACK until enabled)\n";

static const char set_help[] =
        "Usage: meshprovctl device set UID [OPTIONS]\n"
        "\n"
        "Change a device; what is not given stays as it is.\n"
        "\n"
        "  --method, --network, --vendor, --factory-key, --node-address, --role, --label: as for 'device "
        "add'\n"
        "  --user ID=TYPE:VALUE       add or replace a user item (repeatable)\n"
        "  --remove-user ID           remove a user item (repeatable)\n"
        "  --clear-user               remove all user items (before --user is applied)\n"
        "  --no-network, --no-vendor, --no-factory-key, --no-node-address, --no-role   remove the setting\n";

static const char list_help[] =
        "Usage: meshprovctl device list [OPTIONS]\n"
        "\n"
        "List devices, ordered by UID.\n"
        "\n"
        "  --vendor NAME       only this vendor's devices\n"
        "  --network NAME      only devices of this network\n"
        "  --state S           new, sent or provisioned\n"
        "  --limit N           at most N devices\n"
        "  --after UID         start after this UID (paging: pass the last UID shown)\n";

static const char show_help[] = "Usage: meshprovctl device show UID\n\nShow one device.\n";
static const char remove_help[] =
        "Usage: meshprovctl device remove UID\n\nRemove a device from the whitelist.\n";
static const char enable_help[] = "Usage: meshprovctl device enable UID\n\nAdmit the device again.\n";
static const char disable_help[] =
        "Usage: meshprovctl device disable UID\n\nRefuse the device (NACK NOT_AUTHORIZED) until enabled.\n";

typedef struct DeviceArgs {
        uint8_t uid[PROV_UID_MAX];
        size_t uid_len;
        const char *auth_uid, *node_uid;
        uint8_t auth_type, node_type;
        bool method_set;
        uint8_t method;
        const char *network, *vendor, *factory_arg, *label;
        bool no_network, no_vendor, no_factory_key, no_node_address, no_role, clear_user, disabled;
        bool node_address_set, role_set;
        uint32_t node_address;
        uint8_t role;
        ProvUserItem user[PROV_PARAMS_USER_MAX];
        size_t n_user;
        uint8_t remove_user[PROV_PARAMS_USER_MAX];
        size_t n_remove_user;
} DeviceArgs;

static int parse_byte(Ctl *c, const char *option, const char *arg, uint8_t *ret) {
        if (safe_atou8(arg, ret) < 0)
                return ctl_usage_error(c, "--%s: expected a byte (0..255 or 0x00..0xff), got '%s'", option,
                                       arg);
        return 0;
}

static int parse_device_args(Ctl *c, int argc, char **argv, bool is_set, DeviceArgs *a) {
        enum {
                ARG_METHOD = ARG_FIRST_COMMAND_OPTION,
                ARG_AUTH_UID,
                ARG_NODE_UID,
                ARG_AUTH_TYPE,
                ARG_NODE_TYPE,
                ARG_NETWORK,
                ARG_VENDOR,
                ARG_FACTORY,
                ARG_NODE_ADDRESS,
                ARG_ROLE,
                ARG_USER,
                ARG_LABEL,
                ARG_DISABLED,
                ARG_REMOVE_USER,
                ARG_CLEAR_USER,
                ARG_NO_NETWORK,
                ARG_NO_VENDOR,
                ARG_NO_FACTORY,
                ARG_NO_NODE_ADDRESS,
                ARG_NO_ROLE,
        };
        static const struct option options[] = {
                CTL_COMMON_OPTIONS,
                { "method", required_argument, NULL, ARG_METHOD },
                { "authenticator-uid", required_argument, NULL, ARG_AUTH_UID },
                { "node-uid", required_argument, NULL, ARG_NODE_UID },
                { "authenticator-uid-type", required_argument, NULL, ARG_AUTH_TYPE },
                { "node-uid-type", required_argument, NULL, ARG_NODE_TYPE },
                { "network", required_argument, NULL, ARG_NETWORK },
                { "vendor", required_argument, NULL, ARG_VENDOR },
                { "factory-key", required_argument, NULL, ARG_FACTORY },
                { "node-address", required_argument, NULL, ARG_NODE_ADDRESS },
                { "role", required_argument, NULL, ARG_ROLE },
                { "user", required_argument, NULL, ARG_USER },
                { "label", required_argument, NULL, ARG_LABEL },
                { "disabled", no_argument, NULL, ARG_DISABLED },
                { "remove-user", required_argument, NULL, ARG_REMOVE_USER },
                { "clear-user", no_argument, NULL, ARG_CLEAR_USER },
                { "no-network", no_argument, NULL, ARG_NO_NETWORK },
                { "no-vendor", no_argument, NULL, ARG_NO_VENDOR },
                { "no-factory-key", no_argument, NULL, ARG_NO_FACTORY },
                { "no-node-address", no_argument, NULL, ARG_NO_NODE_ADDRESS },
                { "no-role", no_argument, NULL, ARG_NO_ROLE },
                {},
        };
        const char *help = is_set ? set_help : add_help;
        int opt, r;

        *a = (DeviceArgs){ .auth_type = 0x01, .node_type = 0x01 };
        while ((opt = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                r = ctl_common_option(c, opt, help);
                if (r == 2)
                        return 1;
                if (r < 0)
                        return r;
                if (r == 1)
                        continue;
                if (!is_set && opt >= ARG_REMOVE_USER) {
                        const char *name = "?";
                        for (const struct option *o = options; o->name; o++)
                                if (o->val == opt)
                                        name = o->name;
                        return ctl_usage_error(c, "--%s is only for 'device set'", name);
                }
                if (is_set && opt == ARG_DISABLED)
                        return ctl_usage_error(c, "use 'device disable' to disable a device");
                switch (opt) {
                case ARG_METHOD:
                        if (safe_atou8(optarg, &a->method) < 0 ||
                            (a->method != 0 && a->method != 1 && a->method != 3))
                                return ctl_usage_error(c, "--method: must be 0, 1 or 3");
                        a->method_set = true;
                        break;
                case ARG_AUTH_UID:
                        a->auth_uid = optarg;
                        break;
                case ARG_NODE_UID:
                        a->node_uid = optarg;
                        break;
                case ARG_AUTH_TYPE:
                        r = parse_byte(c, "authenticator-uid-type", optarg, &a->auth_type);
                        if (r < 0)
                                return r;
                        break;
                case ARG_NODE_TYPE:
                        r = parse_byte(c, "node-uid-type", optarg, &a->node_type);
                        if (r < 0)
                                return r;
                        break;
                case ARG_NETWORK:
                        if (!store_name_valid(optarg))
                                return ctl_usage_error(c, "--network: not a valid network name");
                        a->network = optarg;
                        break;
                case ARG_VENDOR:
                        if (!store_name_valid(optarg))
                                return ctl_usage_error(c, "--vendor: not a valid vendor name");
                        a->vendor = optarg;
                        break;
                case ARG_FACTORY:
                        a->factory_arg = optarg;
                        break;
                case ARG_NODE_ADDRESS:
                        r = ctl_parse_u32(c, "node-address", optarg, &a->node_address);
                        if (r < 0)
                                return r;
                        if (!prov_node_address_valid(a->node_address))
                                return ctl_usage_error(c,
                                                       "--node-address: %s is not a unicast node address "
                                                       "(1..0x7FFFFFFF or 0x81000000..0xFFFFFFFD)",
                                                       optarg);
                        a->node_address_set = true;
                        break;
                case ARG_ROLE:
                        r = parse_byte(c, "role", optarg, &a->role);
                        if (r < 0)
                                return r;
                        if (!prov_role_valid(a->role))
                                return ctl_usage_error(
                                        c,
                                        "--role: 0x%02x is not a role the node accepts (0x00, "
                                        "0x10, 0x01, 0x11, 0x02, 0x12, 0x42, 0x52, 0x04)",
                                        a->role);
                        a->role_set = true;
                        break;
                case ARG_USER:
                        if (a->n_user >= PROV_PARAMS_USER_MAX)
                                return ctl_usage_error(c, "too many --user items");
                        r = parse_user_item(optarg, &a->user[a->n_user]);
                        if (r == -EMSGSIZE)
                                return ctl_usage_error(c, "--user: value longer than %u bytes",
                                                       PROV_USER_STRING_MAX);
                        if (r < 0)
                                return ctl_usage_error(
                                        c,
                                        "--user: expected ID=int:N, ID=text:S, ID=bytes:HEX or "
                                        "ID=bool:yes with ID 128..255, got '%s'",
                                        optarg);
                        a->n_user++;
                        break;
                case ARG_LABEL:
                        if (strlen(optarg) > NAME_MAX_LEN)
                                return ctl_usage_error(c, "--label: at most %u bytes", NAME_MAX_LEN);
                        a->label = optarg;
                        break;
                case ARG_DISABLED:
                        a->disabled = true;
                        break;
                case ARG_REMOVE_USER: {
                        uint8_t id;
                        if (safe_atou8(optarg, &id) < 0 || id < 128)
                                return ctl_usage_error(c, "--remove-user: expected an id 128..255");
                        if (a->n_remove_user >= PROV_PARAMS_USER_MAX)
                                return ctl_usage_error(c, "too many --remove-user");
                        a->remove_user[a->n_remove_user++] = id;
                        break;
                }
                case ARG_CLEAR_USER:
                        a->clear_user = true;
                        break;
                case ARG_NO_NETWORK:
                        a->no_network = true;
                        break;
                case ARG_NO_VENDOR:
                        a->no_vendor = true;
                        break;
                case ARG_NO_FACTORY:
                        a->no_factory_key = true;
                        break;
                case ARG_NO_NODE_ADDRESS:
                        a->no_node_address = true;
                        break;
                case ARG_NO_ROLE:
                        a->no_role = true;
                        break;
                default:
                        return CTL_ERR_USAGE;
                }
        }

        if ((a->network && a->no_network) || (a->vendor && a->no_vendor) ||
            (a->factory_arg && a->no_factory_key) || (a->node_address_set && a->no_node_address) ||
            (a->role_set && a->no_role))
                return ctl_usage_error(c, "an option and its --no- form contradict each other");

        /* the UID: positional, or made of the method-3 parts */
        if (a->auth_uid || a->node_uid) {
                if (!a->auth_uid || !a->node_uid)
                        return ctl_usage_error(c, "--authenticator-uid and --node-uid go together");
                if (optind != argc)
                        return ctl_usage_error(c, "give the UID either as an argument or as "
                                                  "--authenticator-uid/--node-uid");
                if (a->method_set && a->method != 3)
                        return ctl_usage_error(c, "--authenticator-uid/--node-uid are for method 3");
                a->method = 3;
                a->method_set = a->method_set || !is_set;
                a->uid[0] = a->auth_type;
                r = parse_hex_exact(a->auth_uid, a->uid + 1, 16, NULL);
                if (r < 0)
                        return ctl_usage_error(c, "--authenticator-uid: expected 16 bytes of hex");
                a->uid[17] = a->node_type;
                r = parse_hex_exact(a->node_uid, a->uid + 18, 16, NULL);
                if (r < 0)
                        return ctl_usage_error(c, "--node-uid: expected 16 bytes of hex");
                a->uid_len = PROV_EXTENDED_UID_SIZE;
        } else {
                if (optind + 1 != argc)
                        return ctl_usage_error(c, optind >= argc ? "missing UID" : "too many arguments");
                r = ctl_parse_uid_arg(c, argv[optind], a->uid, &a->uid_len);
                if (r < 0)
                        return r;
        }
        if (!is_set && !a->method_set)
                a->method = 1;
        return 0;
}

static void user_items_set(StoreDevice *d, const ProvUserItem *item) {
        size_t i;

        for (i = 0; i < d->n_user_items; i++)
                if (d->user_items[i].id == item->id) {
                        d->user_items[i] = *item;
                        return;
                }
        /* keep them sorted by id */
        for (i = d->n_user_items; i > 0 && d->user_items[i - 1].id > item->id; i--)
                d->user_items[i] = d->user_items[i - 1];
        d->user_items[i] = *item;
        d->n_user_items++;
}

static void user_items_remove(StoreDevice *d, uint8_t id) {
        for (size_t i = 0; i < d->n_user_items; i++)
                if (d->user_items[i].id == id) {
                        memmove(&d->user_items[i], &d->user_items[i + 1],
                                (d->n_user_items - i - 1) * sizeof(ProvUserItem));
                        d->n_user_items--;
                        return;
                }
}

static int apply_device_args(Ctl *c, const DeviceArgs *a, StoreDevice *d) {
        int r;

        if (a->method_set)
                d->method = a->method;
        if (a->network)
                strcpy(d->network, a->network);
        else if (a->no_network)
                d->network[0] = '\0';
        if (a->vendor)
                strcpy(d->vendor, a->vendor);
        else if (a->no_vendor)
                d->vendor[0] = '\0';
        if (a->label)
                strcpy(d->label, a->label);

        d->factory_key_update = STORE_KEY_KEEP;
        if (a->factory_arg) {
                r = ctl_parse_key_arg(c, "factory-key", a->factory_arg, d->factory_key,
                                      PROV_FACTORY_KEY_SIZE);
                if (r < 0)
                        return r;
                if (!prov_key_valid(d->factory_key) || !prov_key_valid(d->factory_key + PROV_KEY_SIZE))
                        return ctl_usage_error(c, "--factory-key: neither half may be all 0x00 or all 0xFF");
                d->has_factory_key = true;
                d->factory_key_update = STORE_KEY_SET;
        } else if (a->no_factory_key) {
                d->has_factory_key = false;
                memset(d->factory_key, 0, sizeof(d->factory_key));
                d->factory_key_update = STORE_KEY_CLEAR;
        }

        if (a->node_address_set) {
                d->has_node_address = true;
                d->node_address = a->node_address;
        } else if (a->no_node_address)
                d->has_node_address = false;
        if (a->role_set) {
                d->has_role = true;
                d->role = a->role;
        } else if (a->no_role)
                d->has_role = false;

        if (a->clear_user)
                d->n_user_items = 0;
        for (size_t i = 0; i < a->n_remove_user; i++)
                user_items_remove(d, a->remove_user[i]);
        for (size_t i = 0; i < a->n_user; i++)
                user_items_set(d, &a->user[i]);
        return 0;
}

static const char *uid_hex(const uint8_t *uid, size_t len, char *buf, size_t bufsz) {
        return uid_to_hex(uid, len, buf, bufsz);
}

static int print_device(Ctl *c, CtlBackend *b, const uint8_t *uid, size_t uid_len) {
        char hex[2 * PROV_UID_MAX + 1], fp[KEY_FINGERPRINT_MAX], t[64], item[256];
        StoreDevice d;
        int r;

        r = b->device_get(b, uid, uid_len, &d);
        if (r == -ENOENT)
                return ctl_error(c, r, "No device %s", uid_hex(uid, uid_len, hex, sizeof(hex)));
        if (r < 0)
                return ctl_error(c, r, "Failed to read device");
        if (c->json) {
                JsonOut j;
                json_begin(c, &j);
                json_device(&j, &d);
                explicit_bzero_safe(&d, sizeof(d));
                return json_finish(c, &j);
        }

        print_field("UID", "%s", uid_hex(d.uid, d.uid_len, hex, sizeof(hex)));
        if (!isempty(d.label))
                print_field("Label", "%s", d.label);
        print_field("Vendor", "%s", isempty(d.vendor) ? "-" : d.vendor);
        print_field("Network", "%s", isempty(d.network) ? "(the vendor's default network)" : d.network);
        print_field("Method", "%u (%s)", d.method,
                    d.method == 0   ? "unsecured"
                    : d.method == 1 ? "secured"
                    : d.method == 3 ? "extended UID"
                                    : "?");
        if (d.has_factory_key)
                print_field("Factory key", "%s",
                            fingerprint(d.factory_key, sizeof(d.factory_key), fp, sizeof(fp)));
        else
                print_field("Factory key", "%s", isempty(d.vendor) ? "none" : "the vendor's");
        if (d.has_node_address)
                print_field("Node address", "%" PRIu32 " (fixed)", d.node_address);
        else if (d.has_allocated_address)
                print_field("Node address", "%" PRIu32 " (from the pool)", d.allocated_address);
        else
                print_field("Node address", "none");
        if (d.has_role)
                print_field("Role", "0x%02x", d.role);
        for (size_t i = 0; i < d.n_user_items; i++)
                print_field(i == 0 ? "User items" : "", "%s",
                            format_user_item(&d.user_items[i], item, sizeof(item)));
        print_field("Enabled", "%s", yes_no(d.enabled));
        print_field("State", "%s", store_device_state_to_string(d.state));
        print_field("STARTs", "%" PRIu32, d.n_starts);
        print_field("Provisioned", "%" PRIu32 " times, last %s", d.n_provisioned,
                    format_time(d.provisioned_at, t, sizeof(t)));
        print_field("Last START", "%s", format_time(d.last_start, t, sizeof(t)));
        print_field("Created", "%s", format_time(d.created, t, sizeof(t)));
        print_field("Updated", "%s", format_time(d.updated, t, sizeof(t)));
        explicit_bzero_safe(&d, sizeof(d));
        return 0;
}

static int device_add(Ctl *c, int argc, char **argv) {
        StoreDevice d = { .enabled = true };
        StoreError err = {};
        DeviceArgs a;
        CtlBackend *b;
        char hex[2 * PROV_UID_MAX + 1];
        int r;

        r = parse_device_args(c, argc, argv, false, &a);
        if (r != 0)
                return r > 0 ? 0 : r;
        memcpy(d.uid, a.uid, a.uid_len);
        d.uid_len = a.uid_len;
        d.enabled = !a.disabled;
        d.method = a.method; /* 1 unless given */
        r = apply_device_args(c, &a, &d);
        if (r < 0)
                goto out;

        r = ctl_backend(c, CTL_WRITE, &b);
        if (r < 0)
                goto out;
        r = b->device_put(b, &d, STORE_PUT_CREATE, &err);
        if (r == -EEXIST) {
                r = ctl_error(c, r, "Device %s exists already (use 'device set')",
                              uid_hex(a.uid, a.uid_len, hex, sizeof(hex)));
                goto out;
        }
        if (r < 0) {
                r = ctl_store_error(c, r, "Cannot add device", &err);
                goto out;
        }
        if (!c->json)
                printf("Device %s added.\n", uid_hex(a.uid, a.uid_len, hex, sizeof(hex)));
        r = print_device(c, b, a.uid, a.uid_len);
out:
        explicit_bzero_safe(&d, sizeof(d));
        return r;
}

static int device_set(Ctl *c, int argc, char **argv) {
        StoreError err = {};
        StoreDevice d;
        DeviceArgs a;
        CtlBackend *b;
        char hex[2 * PROV_UID_MAX + 1];
        int r;

        r = parse_device_args(c, argc, argv, true, &a);
        if (r != 0)
                return r > 0 ? 0 : r;
        r = ctl_backend(c, CTL_WRITE, &b);
        if (r < 0)
                return r;
        r = b->device_get(b, a.uid, a.uid_len, &d);
        if (r == -ENOENT)
                return ctl_error(c, r, "No device %s", uid_hex(a.uid, a.uid_len, hex, sizeof(hex)));
        if (r < 0)
                return ctl_error(c, r, "Failed to read device");
        r = apply_device_args(c, &a, &d);
        if (r < 0)
                goto out;
        r = b->device_put(b, &d, STORE_PUT_UPDATE, &err);
        if (r < 0) {
                r = ctl_store_error(c, r, "Cannot change device", &err);
                goto out;
        }
        if (!c->json)
                printf("Device %s updated.\n", uid_hex(a.uid, a.uid_len, hex, sizeof(hex)));
        r = print_device(c, b, a.uid, a.uid_len);
out:
        explicit_bzero_safe(&d, sizeof(d));
        return r;
}

typedef struct ListCtx {
        Table *t;
        JsonOut *j;
        unsigned n;
        uint8_t last_uid[PROV_UID_MAX];
        size_t last_uid_len;
} ListCtx;

static int list_cb(const StoreDevice *d, void *userdata) {
        ListCtx *l = userdata;
        char hex[2 * PROV_UID_MAX + 1];

        l->n++;
        memcpy(l->last_uid, d->uid, d->uid_len);
        l->last_uid_len = d->uid_len;
        if (l->j) {
                json_device(l->j, d);
                return 0;
        }
        if (table_add_cell(l->t, uid_hex(d->uid, d->uid_len, hex, sizeof(hex))) < 0 ||
            table_add_cell(l->t, isempty(d->label) ? "-" : d->label) < 0 ||
            table_add_cell(l->t, isempty(d->vendor) ? "-" : d->vendor) < 0 ||
            table_add_cell(l->t, isempty(d->network) ? "(vendor)" : d->network) < 0 ||
            table_add_cellf(l->t, "%u", d->method) < 0 ||
            table_add_cell(l->t, store_device_state_to_string(d->state)) < 0 ||
            table_add_cell(l->t, yes_no(d->enabled)) < 0)
                return -ENOMEM;
        if (d->has_node_address)
                return table_add_cellf(l->t, "%" PRIu32, d->node_address);
        if (d->has_allocated_address)
                return table_add_cellf(l->t, "%" PRIu32 "*", d->allocated_address);
        return table_add_cell(l->t, "-");
}

static int device_list(Ctl *c, int argc, char **argv) {
        enum {
                ARG_VENDOR = ARG_FIRST_COMMAND_OPTION,
                ARG_NETWORK,
                ARG_STATE,
                ARG_LIMIT,
                ARG_AFTER,
        };
        static const struct option options[] = {
                CTL_COMMON_OPTIONS,
                { "vendor", required_argument, NULL, ARG_VENDOR },
                { "network", required_argument, NULL, ARG_NETWORK },
                { "state", required_argument, NULL, ARG_STATE },
                { "limit", required_argument, NULL, ARG_LIMIT },
                { "after", required_argument, NULL, ARG_AFTER },
                {},
        };
        StoreDeviceFilter f = { .state = -1 };
        _cleanup_(table_freep) Table *t = NULL;
        uint8_t after[PROV_UID_MAX];
        ListCtx l = {};
        CtlBackend *b;
        JsonOut j;
        uint32_t limit;
        int opt, r;

        while ((opt = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                r = ctl_common_option(c, opt, list_help);
                if (r == 2)
                        return 0;
                if (r < 0)
                        return r;
                if (r == 1)
                        continue;
                switch (opt) {
                case ARG_VENDOR:
                        f.vendor = optarg;
                        break;
                case ARG_NETWORK:
                        f.network = optarg;
                        break;
                case ARG_STATE:
                        f.state = store_device_state_from_string(optarg);
                        if (f.state < 0)
                                return ctl_usage_error(c, "--state: must be new, sent or provisioned");
                        break;
                case ARG_LIMIT:
                        r = ctl_parse_u32(c, "limit", optarg, &limit);
                        if (r < 0)
                                return r;
                        f.limit = limit;
                        break;
                case ARG_AFTER:
                        r = ctl_parse_uid_arg(c, optarg, after, &f.after_uid_len);
                        if (r < 0)
                                return r;
                        f.after_uid = after;
                        break;
                default:
                        return CTL_ERR_USAGE;
                }
        }
        if (optind != argc)
                return ctl_usage_error(c, "too many arguments");

        r = ctl_backend(c, CTL_READ, &b);
        if (r < 0)
                return r;
        if (c->json) {
                json_begin(c, &j);
                json_begin_array(&j);
                l.j = &j;
        } else {
                t = table_new("UID", "LABEL", "VENDOR", "NETWORK", "METHOD", "STATE", "ENABLED", "ADDRESS",
                              NULL);
                if (!t)
                        return ctl_error(c, -ENOMEM, "Failed to list devices");
                l.t = t;
        }
        r = b->device_list(b, &f, list_cb, &l);
        if (r < 0)
                return ctl_error(c, r, "Failed to list devices");
        if (c->json) {
                json_end_array(&j);
                return json_finish(c, &j);
        }
        if (l.n == 0) {
                printf("No devices.\n");
                return 0;
        }
        r = table_print(t, stdout);
        if (r < 0)
                return ctl_error(c, r, "Failed to write output");
        if (f.limit > 0 && l.n == f.limit) {
                char hex[2 * PROV_UID_MAX + 1];
                fprintf(stderr, "(%u shown; more may follow: --after %s)\n", l.n,
                        uid_hex(l.last_uid, l.last_uid_len, hex, sizeof(hex)));
        }
        return 0;
}

static int uid_positional(Ctl *c, int argc, char **argv, const char *help, uint8_t uid[static PROV_UID_MAX],
                          size_t *uid_len) {
        int i, r;

        i = ctl_parse_simple(c, argc, argv, help, 1, "UID");
        if (i <= 0)
                return i;
        r = ctl_parse_uid_arg(c, argv[i], uid, uid_len);
        if (r < 0)
                return r;
        return 1;
}

static int device_show(Ctl *c, int argc, char **argv) {
        uint8_t uid[PROV_UID_MAX];
        size_t uid_len;
        CtlBackend *b;
        int r;

        r = uid_positional(c, argc, argv, show_help, uid, &uid_len);
        if (r <= 0)
                return r;
        r = ctl_backend(c, CTL_READ, &b);
        if (r < 0)
                return r;
        return print_device(c, b, uid, uid_len);
}

static int device_remove(Ctl *c, int argc, char **argv) {
        char hex[2 * PROV_UID_MAX + 1];
        uint8_t uid[PROV_UID_MAX];
        StoreError err = {};
        size_t uid_len;
        CtlBackend *b;
        int r;

        r = uid_positional(c, argc, argv, remove_help, uid, &uid_len);
        if (r <= 0)
                return r;
        r = ctl_backend(c, CTL_WRITE, &b);
        if (r < 0)
                return r;
        uid_hex(uid, uid_len, hex, sizeof(hex));
        r = b->device_delete(b, uid, uid_len, &err);
        if (r == -ENOENT)
                return ctl_error(c, r, "No device %s", hex);
        if (r < 0)
                return ctl_store_error(c, r, "Cannot remove device", &err);
        if (c->json) {
                JsonOut j;
                json_begin(c, &j);
                json_begin_object(&j);
                json_kv_string(&j, "removed", hex);
                json_end_object(&j);
                return json_finish(c, &j);
        }
        printf("Device %s removed.\n", hex);
        return 0;
}

static int device_enable_disable(Ctl *c, int argc, char **argv, bool enable) {
        char hex[2 * PROV_UID_MAX + 1];
        uint8_t uid[PROV_UID_MAX];
        size_t uid_len;
        CtlBackend *b;
        int r;

        r = uid_positional(c, argc, argv, enable ? enable_help : disable_help, uid, &uid_len);
        if (r <= 0)
                return r;
        r = ctl_backend(c, CTL_WRITE, &b);
        if (r < 0)
                return r;
        uid_hex(uid, uid_len, hex, sizeof(hex));
        r = b->device_set_enabled(b, uid, uid_len, enable);
        if (r == -ENOENT)
                return ctl_error(c, r, "No device %s", hex);
        if (r < 0)
                return ctl_error(c, r, "Cannot %s device %s", enable ? "enable" : "disable", hex);
        if (!c->json)
                printf("Device %s %s.\n", hex, enable ? "enabled" : "disabled");
        return print_device(c, b, uid, uid_len);
}

static int device_enable(Ctl *c, int argc, char **argv) {
        return device_enable_disable(c, argc, argv, true);
}

static int device_disable(Ctl *c, int argc, char **argv) {
        return device_enable_disable(c, argc, argv, false);
}

static const char group_help[] = "Usage: meshprovctl device COMMAND [ARGS]\n"
                                 "\n"
                                 "Devices: the whitelist entries, one per UID.\n";

int ctl_device(Ctl *c, int argc, char **argv) {
        static const Verb verbs[] = {
                { "add", device_add, "whitelist a device" },
                { "set", device_set, "change a device" },
                { "list", device_list, "list devices" },
                { "show", device_show, "show one device" },
                { "remove", device_remove, "remove a device" },
                { "enable", device_enable, "admit a device again" },
                { "disable", device_disable, "refuse a device" },
                {},
        };
        return ctl_run_verbs(c, "device", verbs, group_help, argc, argv);
}
