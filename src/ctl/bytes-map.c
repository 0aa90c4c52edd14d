/* SPDX-License-Identifier: Apache-2.0 */
#include "bytes-map.h"
#include "fileio.h"
#include "siphash24.h"

typedef struct Entry {
        uint64_t hash;
        uint8_t *key; /* NULL: empty slot */
        size_t len;
        char *value;
} Entry;

struct BytesMap {
        uint8_t hash_key[16];
        Entry *slots;
        size_t n_slots; /* power of two */
        size_t n_used;
};

BytesMap *bytes_map_new(void) {
        BytesMap *m = new0(BytesMap, 1);

        if (!m)
                return NULL;
        if (random_bytes(m->hash_key, sizeof(m->hash_key)) < 0)
                memset(m->hash_key, 0x5a, sizeof(m->hash_key)); /* still correct, just predictable */
        return m;
}

BytesMap *bytes_map_free(BytesMap *m) {
        if (!m)
                return NULL;
        for (size_t i = 0; i < m->n_slots; i++) {
                free(m->slots[i].key);
                free(m->slots[i].value);
        }
        free(m->slots);
        free(m);
        return NULL;
}

static Entry *find_slot(Entry *slots, size_t n_slots, uint64_t hash, const void *key, size_t len) {
        for (size_t i = hash & (n_slots - 1);; i = (i + 1) & (n_slots - 1)) {
                Entry *e = &slots[i];
                if (!e->key)
                        return e;
                if (e->hash == hash && e->len == len && memcmp(e->key, key, len) == 0)
                        return e;
        }
}

static int grow(BytesMap *m) {
        size_t n = m->n_slots ? m->n_slots * 2 : 64;
        Entry *slots;

        if (n > SIZE_MAX / sizeof(Entry) / 2)
                return -ENOMEM;
        slots = new0(Entry, n);
        if (!slots)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_slots; i++) {
                Entry *e = &m->slots[i];
                if (e->key)
                        *find_slot(slots, n, e->hash, e->key, e->len) = *e;
        }
        free(m->slots);
        m->slots = slots;
        m->n_slots = n;
        return 0;
}

int bytes_map_add(BytesMap *m, const void *key, size_t len, const char *value, const char **ret_existing) {
        uint64_t hash = siphash24(key, len, m->hash_key);
        Entry *e;
        int r;

        if ((m->n_used + 1) * 2 > m->n_slots) {
                r = grow(m);
                if (r < 0)
                        return r;
        }
        e = find_slot(m->slots, m->n_slots, hash, key, len);
        if (e->key) {
                if (ret_existing)
                        *ret_existing = e->value;
                return -EEXIST;
        }
        e->key = malloc(len ? len : 1);
        if (!e->key)
                return -ENOMEM;
        memcpy(e->key, key, len);
        if (value) {
                e->value = strdup(value);
                if (!e->value) {
                        e->key = (free(e->key), NULL);
                        return -ENOMEM;
                }
        }
        e->hash = hash;
        e->len = len;
        m->n_used++;
        return 0;
}

bool bytes_map_contains(const BytesMap *m, const void *key, size_t len) {
        if (m->n_slots == 0)
                return false;
        return find_slot(m->slots, m->n_slots, siphash24(key, len, m->hash_key), key, len)->key != NULL;
}

int bytes_map_get(const BytesMap *m, const void *key, size_t len, const char **ret_value) {
        const Entry *e;

        if (m->n_slots == 0)
                return -ENOENT;
        e = find_slot(m->slots, m->n_slots, siphash24(key, len, m->hash_key), key, len);
        if (!e->key)
                return -ENOENT;
        if (ret_value)
                *ret_value = e->value;
        return 0;
}

size_t bytes_map_size(const BytesMap *m) {
        return m->n_used;
}
