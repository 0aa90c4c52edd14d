/* SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>
#include <yaml.h>

#include "bytes-map.h"
#include "export.h"
#include "hex.h"

typedef struct Exporter {
        yaml_emitter_t emitter;
        bool include_keys;
        int error;
        BytesMap *names;
        ExportResult result;
} Exporter;

static int emit(Exporter *x, yaml_event_t *ev) {
        if (x->error)
                return x->error;
        if (!yaml_emitter_emit(&x->emitter, ev))
                x->error = x->emitter.error == YAML_MEMORY_ERROR   ? -ENOMEM
                           : x->emitter.error == YAML_WRITER_ERROR ? -EIO
                                                                   : -EINVAL;
        return x->error;
}

static int emit_scalar_full(Exporter *x, const char *tag, const void *value, size_t len,
                            yaml_scalar_style_t style) {
        yaml_event_t ev;
        bool implicit = !tag;

        if (x->error)
                return x->error;
        if (len > INT32_MAX)
                return x->error = -EINVAL;
        if (!yaml_scalar_event_initialize(&ev, NULL, (const yaml_char_t *)tag, (const yaml_char_t *)value,
                                          (int)len, implicit, implicit, style))
                return x->error = -ENOMEM;
        return emit(x, &ev);
}

/* plain: numbers, booleans, names that YAML would read back as the same string */
static int emit_plain(Exporter *x, const char *s) {
        return emit_scalar_full(x, NULL, s, strlen(s), YAML_PLAIN_SCALAR_STYLE);
}

static int emit_quoted(Exporter *x, const void *s, size_t len) {
        return emit_scalar_full(x, NULL, s, len, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
}

static int emit_uint(Exporter *x, uint64_t v, bool hex) {
        char buf[32];
        snprintf(buf, sizeof(buf), hex ? "0x%" PRIx64 : "%" PRIu64, v);
        return emit_plain(x, buf);
}

static int emit_int(Exporter *x, int64_t v) {
        char buf[32];
        snprintf(buf, sizeof(buf), "%" PRIi64, v);
        return emit_plain(x, buf);
}

/* bytes as a quoted "0x..." string: read back as hex by us and by the reference */
static int emit_hex(Exporter *x, const uint8_t *p, size_t n) {
        char buf[2 + 2 * 256 + 1];

        if (n > 256)
                return x->error = -EINVAL;
        buf[0] = '0';
        buf[1] = 'x';
        hex_encode(p, n, buf + 2, sizeof(buf) - 2);
        int r = emit_quoted(x, buf, 2 + 2 * n);
        explicit_bzero_safe(buf, sizeof(buf));
        return r;
}

static int emit_base64(Exporter *x, const uint8_t *p, size_t n) {
        static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        char buf[4 * ((PROV_USER_STRING_MAX + 2) / 3) + 1];
        size_t o = 0;

        if (n > PROV_USER_STRING_MAX)
                return x->error = -EINVAL;
        for (size_t i = 0; i < n; i += 3) {
                uint32_t v = (uint32_t)p[i] << 16;
                if (i + 1 < n)
                        v |= (uint32_t)p[i + 1] << 8;
                if (i + 2 < n)
                        v |= p[i + 2];
                buf[o++] = alphabet[(v >> 18) & 63];
                buf[o++] = alphabet[(v >> 12) & 63];
                buf[o++] = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
                buf[o++] = i + 2 < n ? alphabet[v & 63] : '=';
        }
        buf[o] = '\0';
        return emit_scalar_full(x, "tag:yaml.org,2002:binary", buf, o, YAML_PLAIN_SCALAR_STYLE);
}

static int emit_key(Exporter *x, const char *key) {
        return emit_plain(x, key);
}

static int map_start(Exporter *x) {
        yaml_event_t ev;
        if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE))
                return x->error = -ENOMEM;
        return emit(x, &ev);
}

static int map_end(Exporter *x) {
        yaml_event_t ev;
        if (!yaml_mapping_end_event_initialize(&ev))
                return x->error = -ENOMEM;
        return emit(x, &ev);
}

static int network_cb(const StoreNetwork *n, void *userdata) {
        Exporter *x = userdata;
        char pool[40];

        emit_quoted(x, n->name, strlen(n->name));
        map_start(x);
        emit_key(x, "address");
        emit_uint(x, n->network_address, true);
        emit_key(x, "channel");
        emit_uint(x, n->channel, false);
        emit_key(x, "profile");
        emit_quoted(x, prov_profile_to_string(n->profile), strlen(prov_profile_to_string(n->profile)));
        emit_key(x, "allow_unsecured");
        emit_plain(x, n->allow_unsecured ? "true" : "false");
        if (n->has_pool) {
                snprintf(pool, sizeof(pool), "0x%" PRIx32 "-0x%" PRIx32, n->pool_first, n->pool_last);
                emit_key(x, "pool");
                emit_quoted(x, pool, strlen(pool));
        }
        if (x->include_keys) {
                emit_key(x, "authentication_key");
                emit_hex(x, n->auth_key, PROV_KEY_SIZE);
                emit_key(x, "encryption_key");
                emit_hex(x, n->enc_key, PROV_KEY_SIZE);
        }
        map_end(x);
        x->result.networks++;
        return x->error;
}

static int node_name(Exporter *x, const StoreDevice *d, char *buf, size_t bufsz) {
        int r;

        if (!isempty(d->label)) {
                r = bytes_map_add(x->names, d->label, strlen(d->label), NULL, NULL);
                if (r >= 0) {
                        snprintf(buf, bufsz, "%s", d->label);
                        return 0;
                }
                if (r != -EEXIST)
                        return r;
        }
        /* the UID is unique among devices, but a label may have taken "uid-<hex>" already */
        for (unsigned k = 0;; k++) {
                char hex[2 * PROV_UID_MAX + 1];

                hex_encode(d->uid, d->uid_len, hex, sizeof(hex));
                if (k == 0)
                        snprintf(buf, bufsz, "uid-%s", hex);
                else
                        snprintf(buf, bufsz, "uid-%s-%u", hex, k);
                r = bytes_map_add(x->names, buf, strlen(buf), NULL, NULL);
                if (r != -EEXIST)
                        return r;
        }
}

static int device_cb(const StoreDevice *d, void *userdata) {
        Exporter *x = userdata;
        char name[NAME_MAX_LEN + 2 * PROV_UID_MAX + 16];
        int r;

        r = node_name(x, d, name, sizeof(name));
        if (r < 0)
                return x->error = r;

        emit_quoted(x, name, strlen(name));
        map_start(x);
        if (!isempty(d->network)) {
                emit_key(x, "network");
                emit_quoted(x, d->network, strlen(d->network));
        }
        if (!isempty(d->vendor)) {
                emit_key(x, "vendor");
                emit_quoted(x, d->vendor, strlen(d->vendor));
        }
        emit_key(x, "method");
        emit_uint(x, d->method, false);
        emit_key(x, "uid");
        emit_hex(x, d->uid, d->uid_len);
        if (x->include_keys && d->has_factory_key) {
                emit_key(x, "factory_key");
                emit_hex(x, d->factory_key, PROV_FACTORY_KEY_SIZE);
        }
        if (d->has_node_address) {
                emit_key(x, "node_id");
                emit_uint(x, d->node_address, true);
        }
        if (d->has_role) {
                emit_key(x, "node_role");
                emit_hex(x, &d->role, 1);
        }
        if (d->n_user_items > 0) {
                emit_key(x, "user_specific");
                map_start(x);
                for (size_t i = 0; i < d->n_user_items; i++) {
                        const ProvUserItem *u = &d->user_items[i];
                        emit_uint(x, u->id, false);
                        switch (u->type) {
                        case PROV_USER_INT:
                                emit_int(x, u->integer);
                                break;
                        case PROV_USER_BOOL:
                                emit_plain(x, u->boolean ? "true" : "false");
                                break;
                        case PROV_USER_TEXT:
                                emit_quoted(x, u->data, u->len);
                                break;
                        case PROV_USER_BYTES:
                                emit_base64(x, u->data, u->len);
                                break;
                        case _PROV_USER_TYPE_MAX:
                        case _PROV_USER_TYPE_INVALID:
                                return x->error = -EINVAL;
                        }
                }
                map_end(x);
        }
        if (!d->enabled) {
                emit_key(x, "enabled");
                emit_plain(x, "false");
        }
        map_end(x);
        x->result.devices++;
        return x->error;
}

static int write_file_handler(void *data, unsigned char *buffer, size_t size) {
        FILE *f = data;
        return fwrite(buffer, 1, size, f) == size;
}

int ctl_export_yaml(CtlBackend *b, FILE *f, bool include_keys, ExportResult *ret) {
        Exporter x = { .include_keys = include_keys };
        StoreDeviceFilter filter = { .state = -1 };
        yaml_event_t ev;
        int r;

        x.names = bytes_map_new();
        if (!x.names)
                return -ENOMEM;
        if (!yaml_emitter_initialize(&x.emitter)) {
                bytes_map_free(x.names);
                return -ENOMEM;
        }
        yaml_emitter_set_output(&x.emitter, write_file_handler, f);
        yaml_emitter_set_unicode(&x.emitter, 1);
        yaml_emitter_set_width(&x.emitter, -1);

        if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) || emit(&x, &ev) < 0)
                goto finish;
        if (!yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) || emit(&x, &ev) < 0)
                goto finish;
        map_start(&x);
        emit_key(&x, "version");
        emit_plain(&x, "1");

        emit_key(&x, "networks");
        map_start(&x);
        r = b->network_list(b, network_cb, &x);
        if (r < 0 && !x.error)
                x.error = r;
        map_end(&x);

        emit_key(&x, "nodes");
        map_start(&x);
        r = b->device_list(b, &filter, device_cb, &x);
        if (r < 0 && !x.error)
                x.error = r;
        map_end(&x);
        map_end(&x);

        if (x.error == 0 && (!yaml_document_end_event_initialize(&ev, 1) || emit(&x, &ev) < 0))
                goto finish;
        if (x.error == 0 && (!yaml_stream_end_event_initialize(&ev) || emit(&x, &ev) < 0))
                goto finish;
        if (x.error == 0 && !yaml_emitter_flush(&x.emitter))
                x.error = -EIO;

finish:
        if (x.error == 0 && fflush(f) != 0)
                x.error = -EIO;
        yaml_emitter_delete(&x.emitter);
        bytes_map_free(x.names);
        if (x.error < 0)
                return x.error;
        if (ret)
                *ret = x.result;
        return 0;
}
