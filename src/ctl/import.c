/* SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "bytes-map.h"
#include "ctl-parse.h"
#include "import-values.h"
#include "import.h"
#include "string-util.h"
#include "text-util.h"

/* ---- fields ---- */

typedef enum Field {
        /* networks */
        F_ADDRESS,
        F_CHANNEL,
        F_AUTH_KEY,
        F_ENC_KEY,
        F_PROFILE,
        F_ALLOW_UNSECURED,
        F_POOL,
        /* nodes */
        F_NETWORK,
        F_METHOD,
        F_UID,
        F_AUTH_UID_TYPE,
        F_AUTH_UID,
        F_NODE_UID_TYPE,
        F_NODE_UID,
        F_FACTORY_KEY,
        F_NODE_ID,
        F_NODE_ROLE,
        F_USER_SPECIFIC,
        F_VENDOR,
        F_ENABLED,
        _F_MAX,
} Field;

#define F_NETWORK_FIRST F_ADDRESS
#define F_NETWORK_LAST  F_POOL
#define F_NODE_FIRST    F_NETWORK
#define F_NODE_LAST     F_ENABLED

static const char *const field_names[_F_MAX] = {
        [F_ADDRESS] = "address",
        [F_CHANNEL] = "channel",
        [F_AUTH_KEY] = "authentication_key",
        [F_ENC_KEY] = "encryption_key",
        [F_PROFILE] = "profile",
        [F_ALLOW_UNSECURED] = "allow_unsecured",
        [F_POOL] = "pool",
        [F_NETWORK] = "network",
        [F_METHOD] = "method",
        [F_UID] = "uid",
        [F_AUTH_UID_TYPE] = "authenticator_uid_type",
        [F_AUTH_UID] = "authenticator_uid",
        [F_NODE_UID_TYPE] = "node_uid_type",
        [F_NODE_UID] = "node_uid",
        [F_FACTORY_KEY] = "factory_key",
        [F_NODE_ID] = "node_id",
        [F_NODE_ROLE] = "node_role",
        [F_USER_SPECIFIC] = "user_specific",
        [F_VENDOR] = "vendor",
        [F_ENABLED] = "enabled",
};

/* One network or node entry with its fields resolved (merge keys applied). */
typedef struct Entry {
        bool is_node;
        const YNode *key;
        const char *name; /* the entry's name as written */
        char path[128];   /* "nodes.<escaped name>" */
        const YNode *fields[_F_MAX];
        const YNode *field_keys[_F_MAX];
        size_t work; /* pairs visited resolving merges */
} Entry;

typedef struct ImportNetwork {
        StoreNetwork n;
        bool has_profile, has_allow_unsecured, has_pool;
        bool needs_unsecured;    /* a method-0 node uses it */
        char unsecured_node[80]; /* escaped name of the first such node */
        const char *path_name;   /* points into n.name */
        unsigned line, column;   /* of the entry key */
        unsigned channel_line, channel_column, allow_line, allow_column;
} ImportNetwork;

typedef struct UnsecuredRef {
        char network[NAME_MAX_LEN + 1];
        char node[80];
} UnsecuredRef;

typedef struct Importer {
        CtlBackend *b;
        const ImportOptions *opts;
        ImportResult result;
        ImportError *err;
        int pass;

        bool have_version;
        int64_t version;
        unsigned version_line, version_column;
        char last_unknown_section[64];

        ImportNetwork *networks;
        size_t n_networks;
        UnsecuredRef *unsecured; /* method-0 networks not defined in the file */
        size_t n_unsecured;
        char (*db_networks)[NAME_MAX_LEN + 1]; /* networks found in the database (cache) */
        size_t n_db_networks;

        uint64_t n_nodes, n_nodes_done;
        BytesMap *node_names, *uids;
} Importer;

/* ---- errors and warnings ---- */

_printf_(6, 7) static int entry_error(Importer *im, int r, const YNode *at, const char *path,
                                      const char *field, const char *format, ...) {
        ImportError *err = im->err;
        va_list ap;

        if (field && path && path[0])
                snprintf(err->path, sizeof(err->path), "%s.%s", path, field);
        else
                snprintf(err->path, sizeof(err->path), "%s", path ? path : (field ?: ""));
        va_start(ap, format);
        (void)vsnprintf(err->message, sizeof(err->message), format, ap);
        va_end(ap);
        err->line = at ? at->line : 0;
        err->column = at ? at->column : 0;
        return r;
}

_printf_(4, 5) static int field_error(Importer *im, const Entry *e, Field f, const char *format, ...) {
        ImportError *err = im->err;
        const YNode *at = e->fields[f] ?: e->key;
        va_list ap;

        snprintf(err->path, sizeof(err->path), "%s.%s", e->path, field_names[f]);
        va_start(ap, format);
        (void)vsnprintf(err->message, sizeof(err->message), format, ap);
        va_end(ap);
        err->line = at ? at->line : 0;
        err->column = at ? at->column : 0;
        return -EINVAL;
}

_printf_(2, 3) static void warn(Importer *im, const char *format, ...) {
        _cleanup_free_ char *s = NULL;
        va_list ap;
        int r;

        if (!im->opts->warning)
                return;
        va_start(ap, format);
        r = vasprintf(&s, format, ap);
        va_end(ap);
        if (r >= 0)
                im->opts->warning(s, im->opts->userdata);
}

char *import_error_format(const ImportError *err, char *buf, size_t bufsz) {
        char pos[32] = "";

        if (err->line > 0)
                snprintf(pos, sizeof(pos), "%u:%u: ", err->line, err->column);
        if (err->path[0])
                snprintf(buf, bufsz, "%s%s: %s", pos, err->path, err->message);
        else
                snprintf(buf, bufsz, "%s%s", pos, err->message);
        return buf;
}

static void escape_name(const char *name, char *buf, size_t bufsz) {
        cescape_str(name, buf, bufsz);
}

/* ---- entries and merge keys ---- */

static int field_lookup(bool is_node, const char *name) {
        Field first = is_node ? F_NODE_FIRST : F_NETWORK_FIRST,
              last = is_node ? F_NODE_LAST : F_NETWORK_LAST;

        for (Field f = first; f <= last; f++)
                if (streq(field_names[f], name))
                        return (int)f;
        return -ENOENT;
}

static int unknown_field(Importer *im, const Entry *e, const YNode *key) {
        static const char *const mgmt[] = { "network_key_sequence", "management_encryption_key",
                                            "management_authentication_key", "management_key_sequence",
                                            NULL };
        static const char *const net_fields[] = { "authentication_key", "encryption_key", "network_address",
                                                  "network_channel", NULL };
        char esc[64];

        escape_name(key->value, esc, sizeof(esc));
        if (e->is_node) {
                for (const char *const *m = mgmt; *m; m++)
                        if (streq(key->value, *m))
                                return entry_error(im, -EINVAL, key, e->path, esc,
                                                   "5G Mesh key management parameters are not supported");
                for (const char *const *m = net_fields; *m; m++)
                        if (streq(key->value, *m))
                                return entry_error(
                                        im, -EINVAL, key, e->path, esc,
                                        "belongs to the node's network (under networks:); this looks "
                                        "like the old flat format: convert it with wm-provisioning's "
                                        "migrate_config first");
                return entry_error(im, -EINVAL, key, e->path, esc,
                                   "unknown field (known: network, method, uid, authenticator_uid_type, "
                                   "authenticator_uid, node_uid_type, node_uid, factory_key, node_id, "
                                   "node_role, user_specific, vendor, enabled)");
        }
        return entry_error(
                im, -EINVAL, key, e->path, esc,
                "unknown field (known: address, channel, authentication_key, encryption_key, profile, "
                "allow_unsecured, pool)");
}

static int collect_fields(Importer *im, Entry *e, const YNode *map, unsigned depth);

static int merge_from(Importer *im, Entry *e, const YNode *src, unsigned depth) {
        if (src->kind == YNODE_MAPPING)
                return collect_fields(im, e, src, depth + 1);
        if (src->kind == YNODE_SEQUENCE) {
                for (size_t i = 0; i < src->n_items; i++) {
                        if (src->items[i]->kind != YNODE_MAPPING)
                                return entry_error(im, -EINVAL, src->items[i], e->path, "<<",
                                                   "a merge key (<<) takes a mapping or a list of mappings");
                        int r = collect_fields(im, e, src->items[i], depth + 1);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        return entry_error(im, -EINVAL, src, e->path, "<<",
                           "a merge key (<<) takes a mapping or a list of mappings");
}

/* Explicit keys first (a key seen earlier, from a map that takes precedence, wins), then merged mappings in
 * order, like YAML's merge key. */
static int collect_fields(Importer *im, Entry *e, const YNode *map, unsigned depth) {
        bool mine[_F_MAX] = {};
        int r;

        if (depth > IMPORT_DEPTH_MAX)
                return entry_error(im, -E2BIG, map, e->path, NULL, "merge keys nested too deeply");
        for (size_t i = 0; i < map->n_items; i++) {
                const YNode *k = ynode_map_key(map, i);
                int f;

                if (++e->work > IMPORT_MERGE_WORK_MAX)
                        return entry_error(im, -E2BIG, map, e->path, NULL,
                                           "merge keys (<<) expand to more than %u fields",
                                           IMPORT_MERGE_WORK_MAX);
                if (k->kind != YNODE_SCALAR || strlen(k->value) != k->len)
                        return entry_error(im, -EINVAL, k, e->path, NULL, "field names must be plain names");
                if (k->plain && streq(k->value, "<<"))
                        continue;
                f = field_lookup(e->is_node, k->value);
                if (f < 0)
                        return unknown_field(im, e, k);
                if (mine[f])
                        return entry_error(im, -EINVAL, k, e->path, field_names[f], "given twice");
                mine[f] = true;
                if (!e->fields[f]) {
                        e->fields[f] = ynode_map_value(map, i);
                        e->field_keys[f] = k;
                }
        }
        for (size_t i = 0; i < map->n_items; i++) {
                const YNode *k = ynode_map_key(map, i);
                if (k->plain && streq(k->value, "<<")) {
                        r = merge_from(im, e, ynode_map_value(map, i), depth);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int entry_init(Importer *im, Entry *e, bool is_node, const YNode *key, const YNode *value) {
        char esc[96], msg[200];
        int r;

        *e = (Entry){ .is_node = is_node, .key = key };
        escape_name(key->value, esc, sizeof(esc));
        snprintf(e->path, sizeof(e->path), "%s.%s", is_node ? "nodes" : "networks", esc);
        r = yvalue_name(key, &e->name, msg, sizeof(msg));
        if (r < 0)
                return entry_error(im, -EINVAL, key, e->path, NULL, "%s", msg);
        if (value->kind == YNODE_SCALAR && ynode_type(value) == YTYPE_NULL)
                return entry_error(im, -EINVAL, key, e->path, NULL, "has no settings");
        if (value->kind != YNODE_MAPPING)
                return entry_error(im, -EINVAL, value, e->path, NULL,
                                   "must be a mapping of settings, not %s",
                                   ytype_to_string(ynode_type(value)));
        return collect_fields(im, e, value, 0);
}

/* ---- typed field access ---- */

static int field_int(Importer *im, const Entry *e, Field f, int64_t min, int64_t max, int64_t *ret) {
        char msg[200];
        int r = yvalue_int_range(e->fields[f], min, max, ret, msg, sizeof(msg));
        if (r < 0)
                return field_error(im, e, f, "%s", msg);
        return 0;
}

/* Bytes of exactly `want` length (0: any length up to bufsz). */
static int field_bytes(Importer *im, const Entry *e, Field f, size_t want, uint8_t *out, size_t outsz,
                       size_t *ret_len) {
        uint8_t buf[YVALUE_BYTES_MAX];
        char msg[200];
        size_t len;
        int r;

        r = yvalue_bytes(e->fields[f], buf, sizeof(buf), &len, msg, sizeof(msg));
        if (r < 0) {
                explicit_bzero_safe(buf, sizeof(buf));
                return field_error(im, e, f, "%s", msg);
        }
        if (want > 0 && len != want) {
                explicit_bzero_safe(buf, sizeof(buf));
                if (len == 0 && ynode_type(e->fields[f]) == YTYPE_INT)
                        return field_error(im, e, f,
                                           "must be %zu bytes, got 0 (the integer 0 converts to no "
                                           "bytes)",
                                           want);
                return field_error(im, e, f, "must be %zu bytes, got %zu", want, len);
        }
        if (len > outsz) {
                explicit_bzero_safe(buf, sizeof(buf));
                return field_error(im, e, f, "must be at most %zu bytes, got %zu", outsz, len);
        }
        memcpy(out, buf, len);
        explicit_bzero_safe(buf, sizeof(buf));
        if (ret_len)
                *ret_len = len;
        return 0;
}

static int field_name(Importer *im, const Entry *e, Field f, char *out, size_t outsz) {
        const char *s;
        char msg[200];
        int r;

        r = yvalue_name(e->fields[f], &s, msg, sizeof(msg));
        if (r < 0)
                return field_error(im, e, f, "%s", msg);
        if (!store_name_valid(s) || strlen(s) >= outsz)
                return field_error(im, e, f, "not a valid name (1..%u characters of A-Z a-z 0-9 . _ -)",
                                   NAME_MAX_LEN);
        strcpy(out, s);
        return 0;
}

static int field_bool(Importer *im, const Entry *e, Field f, bool *ret) {
        char msg[200];
        int r = yvalue_bool(e->fields[f], ret, msg, sizeof(msg));
        if (r < 0)
                return field_error(im, e, f, "%s", msg);
        return 0;
}

static int field_key16(Importer *im, const Entry *e, Field f, uint8_t out[static PROV_KEY_SIZE]) {
        int r;

        if (!e->fields[f])
                return field_error(im, e, f, "missing (the node needs both network keys)");
        r = field_bytes(im, e, f, PROV_KEY_SIZE, out, PROV_KEY_SIZE, NULL);
        if (r < 0)
                return r;
        if (!prov_key_valid(out))
                return field_error(im, e, f, "must not be all 0x00 or all 0xFF");
        return 0;
}

/* ---- networks ---- */

static ImportNetwork *network_find(Importer *im, const char *name) {
        for (size_t i = 0; i < im->n_networks; i++)
                if (streq(im->networks[i].n.name, name))
                        return &im->networks[i];
        return NULL;
}

static int convert_network(Importer *im, const YNode *key, const YNode *value) {
        ImportNetwork net = {};
        ImportNetwork *a;
        Entry e;
        int64_t v;
        int r;

        r = entry_init(im, &e, false, key, value);
        if (r < 0)
                return r;
        if (!store_name_valid(e.name) || strlen(e.name) > NAME_MAX_LEN)
                return entry_error(im, -EINVAL, key, e.path, NULL,
                                   "not a valid network name (1..%u characters of A-Z a-z 0-9 . _ -)",
                                   NAME_MAX_LEN);
        if (network_find(im, e.name))
                return entry_error(im, -EINVAL, key, e.path, NULL, "defined twice");
        if (im->n_networks >= IMPORT_NETWORKS_MAX)
                return entry_error(im, -E2BIG, key, e.path, NULL, "more than %u networks in one file",
                                   IMPORT_NETWORKS_MAX);

        strcpy(net.n.name, e.name);
        net.line = key->line;
        net.column = key->column;

        if (!e.fields[F_ADDRESS])
                return field_error(im, &e, F_ADDRESS,
                                   "missing (the node rejects DATA without a network address)");
        r = field_int(im, &e, F_ADDRESS, 0, UINT32_MAX, &v);
        if (r < 0)
                return r;
        if (!prov_network_address_valid((uint32_t)v))
                return field_error(im, &e, F_ADDRESS,
                                   "0x%06" PRIx64
                                   " is not a valid network address (0x000001..0xFFFFFE, except "
                                   "0xAAAAAA and 0x555555)",
                                   v);
        net.n.network_address = (uint32_t)v;

        if (!e.fields[F_CHANNEL])
                return field_error(im, &e, F_CHANNEL, "missing (the node rejects DATA without a channel)");
        r = field_int(im, &e, F_CHANNEL, 1, 255, &v);
        if (r < 0)
                return r;
        net.n.channel = (uint32_t)v;
        net.channel_line = e.fields[F_CHANNEL]->line;
        net.channel_column = e.fields[F_CHANNEL]->column;

        r = field_key16(im, &e, F_AUTH_KEY, net.n.auth_key);
        if (r >= 0)
                r = field_key16(im, &e, F_ENC_KEY, net.n.enc_key);
        if (r < 0)
                goto fail;
        net.n.keys_update = STORE_KEY_SET;

        net.n.profile = PROV_PROFILE_24G;
        if (e.fields[F_PROFILE]) {
                const char *s;
                char msg[200];
                ProvProfile p;

                r = yvalue_name(e.fields[F_PROFILE], &s, msg, sizeof(msg));
                p = r < 0 ? _PROV_PROFILE_INVALID : prov_profile_from_string(s);
                if (p < 0) {
                        r = field_error(im, &e, F_PROFILE, "must be 2.4G, SubG or 5GMesh");
                        goto fail;
                }
                net.n.profile = p;
                net.has_profile = true;
        }
        if (e.fields[F_ALLOW_UNSECURED]) {
                r = field_bool(im, &e, F_ALLOW_UNSECURED, &net.n.allow_unsecured);
                if (r < 0)
                        goto fail;
                net.has_allow_unsecured = true;
                net.allow_line = e.fields[F_ALLOW_UNSECURED]->line;
                net.allow_column = e.fields[F_ALLOW_UNSECURED]->column;
        }
        if (e.fields[F_POOL]) {
                const YNode *p = e.fields[F_POOL];
                if (p->kind != YNODE_SCALAR || ynode_type(p) != YTYPE_STR ||
                    parse_pool(p->value, &net.n.pool_first, &net.n.pool_last) < 0) {
                        r = field_error(im, &e, F_POOL,
                                        "must be \"FIRST-LAST\" (node addresses, decimal or 0x)");
                        goto fail;
                }
                if (!prov_node_address_valid(net.n.pool_first) ||
                    !prov_node_address_valid(net.n.pool_last) || net.n.pool_first > net.n.pool_last) {
                        r = field_error(im, &e, F_POOL,
                                        "must be a range of unicast node addresses (1..0x7FFFFFFF or "
                                        "0x81000000..0xFFFFFFFD) with FIRST <= LAST");
                        goto fail;
                }
                net.n.has_pool = true;
                net.has_pool = true;
        }

        a = reallocarray(im->networks, im->n_networks + 1, sizeof(ImportNetwork));
        if (!a) {
                r = entry_error(im, -ENOMEM, NULL, NULL, NULL, "out of memory");
                goto fail;
        }
        im->networks = a;
        a[im->n_networks++] = net;
        explicit_bzero_safe(&net, sizeof(net));
        return 0;

fail:
        explicit_bzero_safe(&net, sizeof(net));
        return r;
}

/* ---- nodes ---- */

typedef struct NodeInfo {
        bool has_vendor, has_enabled, has_factory_key;
        char name_esc[80];
} NodeInfo;

static const char *method_hint(int64_t m) {
        if (m == 7)
                return "method 7 (extended UID with key management) is not supported";
        return "must be 0 (unsecured), 1 (secured) or 3 (extended UID)";
}

static int uid_type_byte(Importer *im, const Entry *e, Field f, uint8_t *ret) {
        uint8_t t;
        int r;

        if (!e->fields[f]) {
                *ret = 0x01; /* UUID v4, the only type defined */
                return 0;
        }
        r = field_bytes(im, e, f, 1, &t, 1, NULL);
        if (r < 0)
                return r;
        if (t != 0x01)
                return field_error(im, e, f, "must be 0x01 (UUID v4, the only UID type defined), got 0x%02x",
                                   t);
        *ret = t;
        return 0;
}

static int extended_uid_from_parts(Importer *im, const Entry *e,
                                   uint8_t out[static PROV_EXTENDED_UID_SIZE]) {
        int r;

        if (!e->fields[F_AUTH_UID])
                return field_error(im, e, F_AUTH_UID,
                                   "missing (method 3 needs uid, or authenticator_uid and "
                                   "node_uid)");
        if (!e->fields[F_NODE_UID])
                return field_error(im, e, F_NODE_UID,
                                   "missing (method 3 needs uid, or authenticator_uid and "
                                   "node_uid)");
        r = uid_type_byte(im, e, F_AUTH_UID_TYPE, &out[0]);
        if (r < 0)
                return r;
        r = field_bytes(im, e, F_AUTH_UID, 16, out + 1, 16, NULL);
        if (r < 0)
                return r;
        r = uid_type_byte(im, e, F_NODE_UID_TYPE, &out[17]);
        if (r < 0)
                return r;
        return field_bytes(im, e, F_NODE_UID, 16, out + 18, 16, NULL);
}

static bool any_uid_part(const Entry *e) {
        return e->fields[F_AUTH_UID] || e->fields[F_NODE_UID] || e->fields[F_AUTH_UID_TYPE] ||
               e->fields[F_NODE_UID_TYPE];
}

static int convert_user_specific(Importer *im, const Entry *e, StoreDevice *d) {
        const YNode *m = e->fields[F_USER_SPECIFIC];
        bool seen[256] = {};
        int r;

        if (m->kind == YNODE_SCALAR && ynode_type(m) == YTYPE_NULL)
                return 0;
        if (m->kind != YNODE_MAPPING)
                return field_error(im, e, F_USER_SPECIFIC, "must be a mapping of ids (128..255) to values");
        if (m->n_items > PROV_PARAMS_USER_MAX)
                return field_error(im, e, F_USER_SPECIFIC, "more than %u items can never fit a DATA packet",
                                   PROV_PARAMS_USER_MAX);
        for (size_t i = 0; i < m->n_items; i++) {
                const YNode *k = ynode_map_key(m, i), *v = ynode_map_value(m, i);
                char sub[160], msg[200];
                ProvUserItem item = {};
                int64_t id;

                if (k->kind != YNODE_SCALAR || ynode_type(k) != YTYPE_INT ||
                    yvalue_int(k, &id, msg, sizeof(msg)) < 0 || id < 128 || id > 255) {
                        char esc[32];
                        escape_name(k->kind == YNODE_SCALAR ? k->value : "?", esc, sizeof(esc));
                        snprintf(sub, sizeof(sub), "%s.user_specific", e->path);
                        return entry_error(
                                im, -EINVAL, k, sub, esc,
                                "ids must be integers from 128 to 255 (0..127 are reserved for the "
                                "network parameters)");
                }
                snprintf(sub, sizeof(sub), "%s.user_specific.%" PRIi64, e->path, id);
                if (seen[id])
                        return entry_error(im, -EINVAL, k, sub, NULL, "given twice");
                seen[id] = true;
                item.id = (uint8_t)id;
                r = yvalue_user_item(v, &item, msg, sizeof(msg));
                if (r < 0)
                        return entry_error(im, -EINVAL, v, sub, NULL, "%s", msg);
                d->user_items[d->n_user_items++] = item;
        }
        return 0;
}

static void label_from_name(const char *name, char *out, size_t outsz) {
        size_t n = strlen(name), o = 0;

        /* cut at a UTF-8 boundary */
        while (o < n) {
                size_t l = utf8_sequence_len((const uint8_t *)name + o, n - o);
                if (l == 0)
                        l = 1;
                if (o + l >= outsz)
                        break;
                o += l;
        }
        memcpy(out, name, o);
        out[o] = '\0';
        /* labels are for display: no control characters */
        for (size_t i = 0; i < o; i++)
                if ((uint8_t)out[i] < 0x20 || out[i] == 0x7f)
                        out[i] = '_';
}

static int unsecured_note(Importer *im, const StoreDevice *d, const NodeInfo *x) {
        ImportNetwork *n;
        UnsecuredRef *a;

        if (isempty(d->network))
                return 0; /* the vendor's default network: the store checks it */
        n = network_find(im, d->network);
        if (n) {
                if (!n->needs_unsecured) {
                        n->needs_unsecured = true;
                        snprintf(n->unsecured_node, sizeof(n->unsecured_node), "%s", x->name_esc);
                }
                return 0;
        }
        for (size_t i = 0; i < im->n_unsecured; i++)
                if (streq(im->unsecured[i].network, d->network))
                        return 0;
        if (im->n_unsecured >= IMPORT_NETWORKS_MAX)
                return entry_error(im, -E2BIG, NULL, NULL, NULL, "method-0 nodes use more than %u networks",
                                   IMPORT_NETWORKS_MAX);
        a = reallocarray(im->unsecured, im->n_unsecured + 1, sizeof(UnsecuredRef));
        if (!a)
                return entry_error(im, -ENOMEM, NULL, NULL, NULL, "out of memory");
        im->unsecured = a;
        a[im->n_unsecured] = (UnsecuredRef){};
        strcpy(a[im->n_unsecured].network, d->network);
        snprintf(a[im->n_unsecured].node, sizeof(a[im->n_unsecured].node), "%s", x->name_esc);
        im->n_unsecured++;
        return 0;
}

static int convert_node(Importer *im, const Entry *e, StoreDevice *d, NodeInfo *x) {
        int64_t method, v;
        int r;

        *d = (StoreDevice){ .enabled = true };
        *x = (NodeInfo){};
        escape_name(e->name, x->name_esc, sizeof(x->name_esc));
        label_from_name(e->name, d->label, sizeof(d->label));

        /* method */
        if (!e->fields[F_METHOD])
                return field_error(im, e, F_METHOD, "missing (0 unsecured, 1 secured, 3 extended UID)");
        r = field_int(im, e, F_METHOD, INT64_MIN, INT64_MAX, &method);
        if (r < 0)
                return r;
        if (method != 0 && method != 1 && method != 3)
                return field_error(im, e, F_METHOD, "%s", method_hint(method));
        d->method = (uint8_t)method;

        /* uid */
        if (e->fields[F_UID]) {
                r = field_bytes(im, e, F_UID, 0, d->uid, sizeof(d->uid), &d->uid_len);
                if (r < 0)
                        return r;
                if (d->uid_len == 0)
                        return field_error(im, e, F_UID, "must not be empty%s",
                                           ynode_type(e->fields[F_UID]) == YTYPE_INT
                                                   ? " (the integer 0 converts to no bytes)"
                                                   : "");
                if (method == 3 &&
                    (d->uid_len != PROV_EXTENDED_UID_SIZE || d->uid[0] != 0x01 || d->uid[17] != 0x01))
                        return field_error(
                                im, e, F_UID,
                                "method 3 needs the 34-byte extended UID (0x01, 16-byte authenticator "
                                "UID, 0x01, 16-byte node UID), got %zu bytes%s",
                                d->uid_len, d->uid_len == PROV_EXTENDED_UID_SIZE ? " with other types" : "");
                if (method == 3 && any_uid_part(e)) {
                        uint8_t parts[PROV_EXTENDED_UID_SIZE];
                        r = extended_uid_from_parts(im, e, parts);
                        if (r < 0)
                                return r;
                        if (memcmp(parts, d->uid, sizeof(parts)) != 0)
                                return field_error(
                                        im, e, F_UID,
                                        "differs from the UID made of authenticator_uid and node_uid; "
                                        "give one or the other");
                }
        } else if (method == 3) {
                r = extended_uid_from_parts(im, e, d->uid);
                if (r < 0)
                        return r;
                d->uid_len = PROV_EXTENDED_UID_SIZE;
        } else
                return field_error(im, e, F_UID, "missing");
        if (method != 3 && any_uid_part(e)) {
                Field f = e->fields[F_AUTH_UID]        ? F_AUTH_UID
                          : e->fields[F_NODE_UID]      ? F_NODE_UID
                          : e->fields[F_AUTH_UID_TYPE] ? F_AUTH_UID_TYPE
                                                       : F_NODE_UID_TYPE;
                return field_error(im, e, f, "only used with method 3 (extended UID)");
        }

        /* vendor, network */
        if (e->fields[F_VENDOR]) {
                r = field_name(im, e, F_VENDOR, d->vendor, sizeof(d->vendor));
                if (r < 0)
                        return r;
                x->has_vendor = true;
        }
        if (e->fields[F_NETWORK]) {
                r = field_name(im, e, F_NETWORK, d->network, sizeof(d->network));
                if (r < 0)
                        return r;
        } else if (!x->has_vendor)
                return field_error(im, e, F_NETWORK, "missing");

        /* factory key */
        if (e->fields[F_FACTORY_KEY]) {
                if (method == 0)
                        return field_error(im, e, F_FACTORY_KEY, "not used with method 0 (unsecured)");
                r = field_bytes(im, e, F_FACTORY_KEY, PROV_FACTORY_KEY_SIZE, d->factory_key,
                                sizeof(d->factory_key), NULL);
                if (r < 0)
                        return r;
                if (!prov_key_valid(d->factory_key) || !prov_key_valid(d->factory_key + PROV_KEY_SIZE))
                        return field_error(
                                im, e, F_FACTORY_KEY,
                                "neither half ([authentication 16][encryption 16]) may be all 0x00 or "
                                "all 0xFF");
                d->has_factory_key = true;
                x->has_factory_key = true;
        }

        /* node address, role */
        if (e->fields[F_NODE_ID]) {
                r = field_int(im, e, F_NODE_ID, 0, UINT32_MAX, &v);
                if (r < 0)
                        return r;
                if (!prov_node_address_valid((uint32_t)v))
                        return field_error(im, e, F_NODE_ID,
                                           "%" PRIi64 " is not a unicast node address (1..0x7FFFFFFF or "
                                           "0x81000000..0xFFFFFFFD)",
                                           v);
                d->has_node_address = true;
                d->node_address = (uint32_t)v;
        }
        if (e->fields[F_NODE_ROLE]) {
                r = field_bytes(im, e, F_NODE_ROLE, 1, &d->role, 1, NULL);
                if (r < 0)
                        return r;
                if (!prov_role_valid(d->role))
                        return field_error(
                                im, e, F_NODE_ROLE,
                                "0x%02x is not a role the node accepts: use 0x00/0x10 sink, 0x01/0x11 "
                                "head node, 0x02/0x12 subnode, 0x42/0x52 autorole (LE/LL), 0x04 "
                                "advertiser (the reference example's 0x41 and dual-MCU style role "
                                "values are rejected by the node)",
                                d->role);
                d->has_role = true;
        }

        if (e->fields[F_USER_SPECIFIC]) {
                r = convert_user_specific(im, e, d);
                if (r < 0)
                        return r;
        }
        if (e->fields[F_ENABLED]) {
                r = field_bool(im, e, F_ENABLED, &d->enabled);
                if (r < 0)
                        return r;
                x->has_enabled = true;
        }
        return 0;
}

/* pass 1: everything the file alone can tell */
static int node_check(Importer *im, const YNode *key, const YNode *value) {
        StoreDevice d;
        NodeInfo x;
        Entry e;
        const char *other = NULL;
        int r;

        r = entry_init(im, &e, true, key, value);
        if (r < 0)
                return r;
        if (++im->n_nodes > IMPORT_NODES_MAX)
                return entry_error(im, -E2BIG, key, e.path, NULL, "more than %u nodes in one file",
                                   IMPORT_NODES_MAX);
        r = bytes_map_add(im->node_names, key->value, key->len, NULL, NULL);
        if (r == -EEXIST)
                return entry_error(im, -EINVAL, key, e.path, NULL, "defined twice");
        if (r < 0)
                return entry_error(im, r, NULL, NULL, NULL, "out of memory");

        r = convert_node(im, &e, &d, &x);
        if (r < 0)
                goto out;

        r = bytes_map_add(im->uids, d.uid, d.uid_len, x.name_esc, &other);
        if (r == -EEXIST) {
                r = field_error(im, &e, e.fields[F_UID] ? F_UID : F_NODE_UID, "same UID as nodes.%s",
                                other ?: "?");
                goto out;
        }
        if (r < 0) {
                r = entry_error(im, r, NULL, NULL, NULL, "out of memory");
                goto out;
        }

        if (d.method == 0) {
                if (!im->opts->allow_unsecured) {
                        r = field_error(im, &e, F_METHOD,
                                        "method 0 (unsecured) sends the network keys in clear over the air; "
                                        "refused unless --allow-unsecured is given");
                        goto out;
                }
                r = unsecured_note(im, &d, &x);
        }
out:
        explicit_bzero_safe(&d, sizeof(d));
        return r;
}

static int network_known(Importer *im, const char *name) {
        StoreNetwork n;
        int r;

        if (network_find(im, name))
                return 1;
        for (size_t i = 0; i < im->n_db_networks; i++)
                if (streq(im->db_networks[i], name))
                        return 1;
        r = im->b->network_get(im->b, name, &n);
        explicit_bzero_safe(&n, sizeof(n));
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (im->n_db_networks < IMPORT_NETWORKS_MAX) {
                char(*a)[NAME_MAX_LEN + 1] =
                        reallocarray(im->db_networks, im->n_db_networks + 1, sizeof(*im->db_networks));
                if (a) {
                        im->db_networks = a;
                        strcpy(a[im->n_db_networks++], name);
                }
        }
        return 1;
}

/* StoreError field names -> YAML field names */
static const char *yaml_field_for(bool is_node, const char *store_field) {
        static const char *const node_map[][2] = {
                { "node_address", "node_id" },
                { "role", "node_role" },
                { "user_items", "user_specific" },
                { "label", NULL },
                { "size", NULL },
                { "name", NULL },
        };
        static const char *const net_map[][2] = {
                { "network_address", "address" },
                { "enc_key", "encryption_key" },
                { "auth_key", "authentication_key" },
                { "keys", NULL },
                { "name", NULL },
                { "size", NULL },
        };

        if (isempty(store_field))
                return NULL;
        if (is_node) {
                for (size_t i = 0; i < ELEMENTSOF(node_map); i++)
                        if (streq(node_map[i][0], store_field))
                                return node_map[i][1];
        } else
                for (size_t i = 0; i < ELEMENTSOF(net_map); i++)
                        if (streq(net_map[i][0], store_field))
                                return net_map[i][1];
        return store_field;
}

static int store_error(Importer *im, int r, const YNode *at, const char *path, bool is_node,
                       const StoreError *se) {
        char field[64];

        if (se->message[0] == '\0')
                return entry_error(im, r, at, path, NULL, "rejected by the database: %s", strerror(-r));
        escape_name(yaml_field_for(is_node, se->field) ?: "", field, sizeof(field));
        return entry_error(im, r, at, path, field[0] ? field : NULL, "%s", se->message);
}

/* A backend that applies the whole group at commit (remote: the daemon) names the item it refused in
 * b->commit_error; report it as if the put itself had failed. Returns true if it did. */
static bool commit_error(Importer *im, int r) {
        const CtlCommitError *ce = &im->b->commit_error;
        char path[128], esc[80];

        if (ce->error.message[0] == '\0')
                return false;
        if (ce->name[0]) {
                escape_name(ce->name, esc, sizeof(esc));
                snprintf(path, sizeof(path), "%s.%s", ce->is_network ? "networks" : "nodes", esc);
        } else
                snprintf(path, sizeof(path), "%s", ce->is_network ? "networks" : "nodes");
        (void)store_error(im, r, NULL, path, !ce->is_network, &ce->error);
        return true;
}

/* pass 2: write one node */
static int node_apply(Importer *im, const YNode *key, const YNode *value) {
        StoreDevice d, old;
        StoreError se = {};
        NodeInfo x;
        Entry e;
        bool exists;
        int r;

        r = entry_init(im, &e, true, key, value);
        if (r < 0)
                return r;
        r = convert_node(im, &e, &d, &x);
        if (r < 0)
                goto out;

        r = im->b->device_get(im->b, d.uid, d.uid_len, &old);
        if (r < 0 && r != -ENOENT) {
                r = entry_error(im, r, key, e.path, NULL, "failed to look up the device: %s", strerror(-r));
                goto out;
        }
        exists = r >= 0;

        if (exists) {
                if (!x.has_vendor)
                        strcpy(d.vendor, old.vendor);
                if (!x.has_enabled)
                        d.enabled = old.enabled;
        }
        d.factory_key_update = x.has_factory_key ? STORE_KEY_SET : STORE_KEY_KEEP;
        if (d.method != 0 && !x.has_factory_key && isempty(d.vendor) && !(exists && old.has_factory_key)) {
                r = field_error(im, &e, F_FACTORY_KEY,
                                "missing (method %u needs a factory key, or a vendor with "
                                "a key)",
                                d.method);
                goto out;
        }
        if (!isempty(d.network)) {
                r = network_known(im, d.network);
                if (r < 0) {
                        r = entry_error(im, r, key, e.path, NULL, "failed to look up the network: %s",
                                        strerror(-r));
                        goto out;
                }
                if (r == 0) {
                        char esc[80];
                        escape_name(d.network, esc, sizeof(esc));
                        r = field_error(im, &e, F_NETWORK, "no network '%s' in the file or the database",
                                        esc);
                        goto out;
                }
        }

        r = im->b->device_put(im->b, &d, exists ? STORE_PUT_UPDATE : STORE_PUT_CREATE, &se);
        if (r < 0) {
                r = store_error(im, r, key, e.path, true, &se);
                goto out;
        }
        if (exists)
                im->result.devices_updated++;
        else
                im->result.devices_created++;

        im->n_nodes_done++;
        if (im->opts->progress && im->n_nodes_done % IMPORT_PROGRESS_STEP == 0)
                im->opts->progress(im->n_nodes_done, im->n_nodes, im->opts->userdata);
        r = 0;
out:
        explicit_bzero_safe(&d, sizeof(d));
        explicit_bzero_safe(&old, sizeof(old));
        return r;
}

/* ---- the walk ---- */

static int on_entry(const char *section, const YNode *key, const YNode *value, void *userdata) {
        Importer *im = userdata;
        char msg[200];

        if (streq(section, "version")) {
                if (im->pass != 1)
                        return 0;
                if (key)
                        return entry_error(im, -EINVAL, key, "version", NULL, "must be the number 1");
                if (yvalue_int(value, &im->version, msg, sizeof(msg)) < 0)
                        return entry_error(im, -EINVAL, value, "version", NULL, "must be the number 1");
                im->have_version = true;
                im->version_line = value->line;
                im->version_column = value->column;
                return 0;
        }

        if (streq(section, "networks") || streq(section, "nodes")) {
                bool nodes = streq(section, "nodes");

                if (!key) {
                        if (value->kind == YNODE_SCALAR && ynode_type(value) == YTYPE_NULL)
                                return 0; /* "nodes:" left empty */
                        return entry_error(im, -EINVAL, value, section, NULL,
                                           "must be a mapping of %s names to their settings",
                                           nodes ? "node" : "network");
                }
                if (im->pass == 1)
                        return nodes ? node_check(im, key, value) : convert_network(im, key, value);
                return nodes ? node_apply(im, key, value) : 0;
        }

        if (im->pass == 1 && !streq(im->last_unknown_section, section)) {
                char esc[64];
                snprintf(im->last_unknown_section, sizeof(im->last_unknown_section), "%s", section);
                escape_name(section, esc, sizeof(esc));
                warn(im, "ignoring unknown top-level key '%s'", esc);
        }
        return 0;
}

static int walk(Importer *im, const void *buf, size_t len, int pass) {
        YamlError ye;
        int r;

        im->pass = pass;
        r = yaml_walk(buf, len, on_entry, im, &ye);
        if (r < 0 && ye.message[0]) {
                /* an error of the YAML layer (the callback's own errors leave ye empty) */
                im->err->path[0] = '\0';
                snprintf(im->err->message, sizeof(im->err->message), "%s", ye.message);
                im->err->line = ye.line;
                im->err->column = ye.column;
        }
        return r;
}

static int check_unsecured(Importer *im) {
        /* nodes may come before their network in the file: attach what was noted for networks found later */
        for (size_t i = 0; i < im->n_unsecured;) {
                ImportNetwork *n = network_find(im, im->unsecured[i].network);
                if (!n) {
                        i++;
                        continue;
                }
                if (!n->needs_unsecured) {
                        n->needs_unsecured = true;
                        memcpy(n->unsecured_node, im->unsecured[i].node, sizeof(n->unsecured_node));
                }
                memmove(&im->unsecured[i], &im->unsecured[i + 1],
                        (im->n_unsecured - i - 1) * sizeof(UnsecuredRef));
                im->n_unsecured--;
        }

        for (size_t i = 0; i < im->n_networks; i++) {
                ImportNetwork *n = &im->networks[i];
                if (n->needs_unsecured && n->has_allow_unsecured && !n->n.allow_unsecured) {
                        char path[128], esc[80];
                        escape_name(n->n.name, esc, sizeof(esc));
                        snprintf(path, sizeof(path), "networks.%s.allow_unsecured", esc);
                        snprintf(im->err->path, sizeof(im->err->path), "%s", path);
                        snprintf(im->err->message, sizeof(im->err->message),
                                 "is 'no' but nodes.%s uses method 0 (unsecured) on this network",
                                 n->unsecured_node);
                        im->err->line = n->allow_line;
                        im->err->column = n->allow_column;
                        return -EINVAL;
                }
        }
        return 0;
}

static int apply_networks(Importer *im) {
        for (size_t i = 0; i < im->n_networks; i++) {
                ImportNetwork *in = &im->networks[i];
                StoreNetwork n = in->n, old;
                StoreError se = {};
                char path[128], esc[80];
                bool exists;
                int r;

                escape_name(n.name, esc, sizeof(esc));
                snprintf(path, sizeof(path), "networks.%s", esc);

                r = im->b->network_get(im->b, n.name, &old);
                if (r < 0 && r != -ENOENT) {
                        explicit_bzero_safe(&n, sizeof(n));
                        im->err->line = in->line;
                        im->err->column = in->column;
                        snprintf(im->err->path, sizeof(im->err->path), "%s", path);
                        snprintf(im->err->message, sizeof(im->err->message),
                                 "failed to look up the network: %s", strerror(-r));
                        return r;
                }
                exists = r >= 0;
                if (exists) {
                        if (!in->has_profile)
                                n.profile = old.profile;
                        if (!in->has_allow_unsecured)
                                n.allow_unsecured = old.allow_unsecured;
                        if (!in->has_pool) {
                                n.has_pool = old.has_pool;
                                n.pool_first = old.pool_first;
                                n.pool_last = old.pool_last;
                        }
                }
                explicit_bzero_safe(&old, sizeof(old));
                if (in->needs_unsecured && !n.allow_unsecured) {
                        n.allow_unsecured = true;
                        im->result.networks_made_unsecured++;
                        warn(im,
                             "network '%s' now allows unsecured provisioning (method 0: network keys sent "
                             "in "
                             "clear) because nodes.%s uses it and --allow-unsecured was given",
                             esc, in->unsecured_node);
                }

                if (!prov_channel_valid(n.profile, n.channel)) {
                        explicit_bzero_safe(&n, sizeof(n));
                        snprintf(im->err->path, sizeof(im->err->path), "%s.channel", path);
                        snprintf(im->err->message, sizeof(im->err->message),
                                 "%" PRIu32 " is not a valid channel for profile %s (%s)", in->n.channel,
                                 prov_profile_to_string(n.profile),
                                 n.profile == PROV_PROFILE_24G ? "1..40" : "1..255");
                        im->err->line = in->channel_line;
                        im->err->column = in->channel_column;
                        return -EINVAL;
                }

                r = im->b->network_put(im->b, &n, exists ? STORE_PUT_UPDATE : STORE_PUT_CREATE, &se);
                explicit_bzero_safe(&n, sizeof(n));
                if (r < 0) {
                        YNode at = { .line = in->line, .column = in->column };
                        return store_error(im, r, &at, path, false, &se);
                }
                if (exists)
                        im->result.networks_updated++;
                else
                        im->result.networks_created++;
        }

        /* networks used by method-0 nodes that only exist in the database */
        for (size_t i = 0; i < im->n_unsecured; i++) {
                UnsecuredRef *u = &im->unsecured[i];
                StoreNetwork n;
                StoreError se = {};
                char esc[80];
                int r;

                r = im->b->network_get(im->b, u->network, &n);
                if (r == -ENOENT)
                        continue; /* the node will report the missing network */
                escape_name(u->network, esc, sizeof(esc));
                if (r < 0) {
                        snprintf(im->err->path, sizeof(im->err->path), "nodes.%s.network", u->node);
                        snprintf(im->err->message, sizeof(im->err->message),
                                 "failed to look up network '%s': %s", esc, strerror(-r));
                        return r;
                }
                if (!n.allow_unsecured) {
                        n.allow_unsecured = true;
                        n.keys_update = STORE_KEY_KEEP;
                        r = im->b->network_put(im->b, &n, STORE_PUT_UPDATE, &se);
                        explicit_bzero_safe(&n, sizeof(n));
                        if (r < 0) {
                                char path[128];
                                snprintf(path, sizeof(path), "networks.%s", esc);
                                return store_error(im, r, NULL, path, false, &se);
                        }
                        im->result.networks_made_unsecured++;
                        warn(im,
                             "network '%s' now allows unsecured provisioning (method 0: network keys sent "
                             "in "
                             "clear) because nodes.%s uses it and --allow-unsecured was given",
                             esc, u->node);
                }
                explicit_bzero_safe(&n, sizeof(n));
        }
        return 0;
}

int ctl_import_yaml(CtlBackend *b, const void *buf, size_t len, const ImportOptions *opts, ImportResult *ret,
                    ImportError *err) {
        static const ImportOptions no_opts = {};
        Importer im = { .b = b, .opts = opts ?: &no_opts, .err = err };
        int r, q;

        *err = (ImportError){};
        if (len > IMPORT_FILE_MAX) {
                snprintf(err->message, sizeof(err->message), "the file is larger than %u MiB",
                         IMPORT_FILE_MAX >> 20);
                return -EFBIG;
        }
        im.node_names = bytes_map_new();
        im.uids = bytes_map_new();
        if (!im.node_names || !im.uids) {
                r = -ENOMEM;
                snprintf(err->message, sizeof(err->message), "out of memory");
                goto out;
        }

        /* pass 1: read and check everything; nothing is written */
        r = walk(&im, buf, len, 1);
        if (r < 0)
                goto out;
        if (!im.have_version) {
                snprintf(err->path, sizeof(err->path), "version");
                snprintf(err->message, sizeof(err->message),
                         "missing: this reads wm-provisioning v1 files ('version: 1' with networks: and "
                         "nodes:); convert older files with wm-provisioning's migrate_config first");
                r = -EINVAL;
                goto out;
        }
        if (im.version != 1) {
                snprintf(err->path, sizeof(err->path), "version");
                snprintf(err->message, sizeof(err->message), "must be 1, got %" PRIi64, im.version);
                err->line = im.version_line;
                err->column = im.version_column;
                r = -EINVAL;
                goto out;
        }
        r = check_unsecured(&im);
        if (r < 0)
                goto out;
        /* the maps are only needed for pass 1 */
        im.node_names = bytes_map_free(im.node_names);
        im.uids = bytes_map_free(im.uids);

        /* pass 2: one transaction */
        r = b->begin(b);
        if (r < 0) {
                snprintf(err->message, sizeof(err->message), "failed to start a transaction: %s",
                         strerror(-r));
                goto out;
        }
        r = apply_networks(&im);
        if (r >= 0)
                r = walk(&im, buf, len, 2);
        if (r >= 0 && im.opts->progress && im.n_nodes_done % IMPORT_PROGRESS_STEP != 0)
                im.opts->progress(im.n_nodes_done, im.n_nodes, im.opts->userdata);
        if (r < 0 || im.opts->dry_run) {
                q = b->rollback(b);
                if (r >= 0 && q < 0) {
                        if (!commit_error(&im, q))
                                snprintf(err->message, sizeof(err->message), "failed to roll back: %s",
                                         strerror(-q));
                        r = q;
                }
        } else {
                r = b->commit(b);
                if (r < 0) {
                        if (!commit_error(&im, r))
                                snprintf(err->message, sizeof(err->message), "failed to commit: %s",
                                         strerror(-r));
                        (void)b->rollback(b);
                }
        }
        if (r >= 0 && ret)
                *ret = im.result;

out:
        bytes_map_free(im.node_names);
        bytes_map_free(im.uids);
        if (im.networks)
                explicit_bzero_safe(im.networks, im.n_networks * sizeof(ImportNetwork));
        free(im.networks);
        free(im.unsecured);
        free(im.db_networks);
        return r;
}
