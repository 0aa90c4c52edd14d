/* SPDX-License-Identifier: Apache-2.0 */
#include <strings.h>

#include "cursor.h"
#include "provdata.h"

/* CBOR major types (RFC 8949 §3.1) and the few additional-information values we care about. */
enum {
        CBOR_UINT = 0,
        CBOR_NEGINT = 1,
        CBOR_BYTES = 2,
        CBOR_TEXT = 3,
        CBOR_ARRAY = 4,
        CBOR_MAP = 5,
        CBOR_TAG = 6,
        CBOR_SIMPLE = 7,
};

#define CBOR_INFO_U8         24u
#define CBOR_INFO_INDEFINITE 31u
#define CBOR_FALSE           20u
#define CBOR_TRUE            21u
#define CBOR_NULL            22u
#define CBOR_UNDEFINED       23u
#define CBOR_BREAK           0xffu

/* Parameter ids (ref-provisioning.md §11). */
enum {
        PROV_ID_ENC_KEY = 0,
        PROV_ID_AUTH_KEY = 1,
        PROV_ID_NETWORK_ADDRESS = 2,
        PROV_ID_CHANNEL = 3,
        PROV_ID_NODE_ADDRESS = 4,
        PROV_ID_ROLE = 5,
        PROV_ID_USER_MIN = 128,
        PROV_ID_USER_MAX = 255,
};

#define PROV_CHANNEL_MAX_24G 40u
#define PROV_CHANNEL_MAX     255u /* SubG, 5G Mesh, and the profile-independent (strict node) check */

/* ---- validity rules ---- */

size_t prov_pdu_max(ProvProfile profile) {
        switch (profile) {
        case PROV_PROFILE_24G:
        case PROV_PROFILE_SUBG:
                return PROV_PDU_MAX_24G;
        case PROV_PROFILE_5GMESH:
                return PROV_PDU_MAX_5G;
        case _PROV_PROFILE_MAX:
        case _PROV_PROFILE_INVALID:
                break;
        }
        return 0;
}

size_t prov_cbor_max(ProvProfile profile, bool secured) {
        size_t pdu = prov_pdu_max(profile);
        if (pdu == 0)
                return 0;
        return pdu - PROV_DATA_HEADER_SIZE - (secured ? PROV_MIC_SIZE : 0);
}

bool prov_network_address_valid(uint32_t a) {
        return a >= 1 && a <= 0xfffffe && a != 0xaaaaaa && a != 0x555555;
}

bool prov_channel_valid(ProvProfile profile, uint32_t channel) {
        switch (profile) {
        case PROV_PROFILE_24G:
                return channel >= 1 && channel <= PROV_CHANNEL_MAX_24G;
        case PROV_PROFILE_SUBG:
        case PROV_PROFILE_5GMESH:
                return channel >= 1 && channel <= PROV_CHANNEL_MAX;
        case _PROV_PROFILE_MAX:
        case _PROV_PROFILE_INVALID:
                break;
        }
        return false;
}

/* Whatever the profile: what the strict decoder and the encoder check. */
static bool channel_valid_any(uint32_t channel) {
        return channel >= 1 && channel <= PROV_CHANNEL_MAX;
}

bool prov_node_address_valid(uint32_t a) {
        return (a >= 1 && a <= 0x7fffffff) || (a >= 0x81000000 && a <= 0xfffffffd);
}

bool prov_role_valid(uint8_t role) {
        switch (role) {
        case 0x00: /* sink, low energy */
        case 0x10: /* sink, low latency */
        case 0x01: /* headnode LE */
        case 0x11: /* headnode LL */
        case 0x02: /* subnode LE */
        case 0x12: /* subnode LL */
        case 0x42: /* autorole LE */
        case 0x52: /* autorole LL */
        case 0x04: /* advertiser */
                return true;
        }
        return false;
}

bool prov_key_valid(const uint8_t key[static PROV_KEY_SIZE]) {
        uint8_t or = 0, and = 0xff;

        if (!key)
                return false;
        for (size_t i = 0; i < PROV_KEY_SIZE; i++) {
                or |= key[i];
                and &= key[i];
        }
        return or != 0x00 && and != 0xff;
}

bool prov_uid_len_valid(size_t len) {
        return len >= 1 && len <= PROV_UID_MAX;
}

/* Well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF), and no NUL, so
 * that a stored text item is also a valid C string. */
static bool utf8_valid(const uint8_t *s, size_t n) {
        size_t i = 0;

        while (i < n) {
                uint8_t b = s[i];
                size_t k;
                uint32_t cp, min;

                if (b == 0)
                        return false;
                if (b < 0x80) {
                        i++;
                        continue;
                }
                if ((b & 0xe0) == 0xc0) {
                        k = 1, cp = b & 0x1f, min = 0x80;
                } else if ((b & 0xf0) == 0xe0) {
                        k = 2, cp = b & 0x0f, min = 0x800;
                } else if ((b & 0xf8) == 0xf0) {
                        k = 3, cp = b & 0x07, min = 0x10000;
                } else
                        return false;
                if (n - i - 1 < k)
                        return false;
                for (size_t j = 1; j <= k; j++) {
                        if ((s[i + j] & 0xc0) != 0x80)
                                return false;
                        cp = (cp << 6) | (s[i + j] & 0x3f);
                }
                if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                i += k + 1;
        }
        return true;
}

bool prov_user_item_valid(const ProvUserItem *item) {
        if (!item || item->id < PROV_ID_USER_MIN)
                return false;
        switch (item->type) {
        case PROV_USER_INT:
        case PROV_USER_BOOL:
                return true;
        case PROV_USER_BYTES:
                return item->len <= PROV_USER_STRING_MAX;
        case PROV_USER_TEXT:
                return item->len <= PROV_USER_STRING_MAX && utf8_valid(item->data, item->len);
        case _PROV_USER_TYPE_MAX:
        case _PROV_USER_TYPE_INVALID:
                break;
        }
        return false;
}

/* ---- sizes ---- */

static size_t head_size(uint64_t v) {
        if (v < CBOR_INFO_U8)
                return 1;
        if (v <= UINT8_MAX)
                return 2;
        if (v <= UINT16_MAX)
                return 3;
        if (v <= UINT32_MAX)
                return 5;
        return 9;
}

/* The argument of a CBOR integer head: n for n >= 0, -1-n for n < 0 (no overflow for INT64_MIN). */
static uint64_t int_argument(int64_t v) {
        return v >= 0 ? (uint64_t)v : (uint64_t)(-(v + 1));
}

static size_t user_item_size(const ProvUserItem *it) {
        size_t n = head_size(it->id);

        switch (it->type) {
        case PROV_USER_INT:
                return n + head_size(int_argument(it->integer));
        case PROV_USER_BYTES:
        case PROV_USER_TEXT:
                return n + head_size(it->len) + it->len;
        case PROV_USER_BOOL:
                return n + 1;
        case _PROV_USER_TYPE_MAX:
        case _PROV_USER_TYPE_INVALID:
                break;
        }
        return n;
}

#define PROV_NODE_ADDRESS_MAX_ENCODED (1u + 5u) /* id, then 0x1a + 4 bytes */

/* Length of the canonical encoding; with extra_node_address, a node address at its largest is counted too.
 */
static size_t params_encoded_size(const ProvParams *p, bool extra_node_address) {
        size_t count = 4, n = 0;

        n += 2 * (1 + head_size(PROV_KEY_SIZE) + PROV_KEY_SIZE);
        n += 1 + head_size(p->network_address);
        n += 1 + head_size(p->channel);
        if (p->has_node_address) {
                n += 1 + head_size(p->node_address);
                count++;
        } else if (extra_node_address) {
                n += PROV_NODE_ADDRESS_MAX_ENCODED;
                count++;
        }
        if (p->has_role) {
                n += 1 + head_size(1) + 1;
                count++;
        }
        for (size_t i = 0; i < p->n_user_items; i++)
                n += user_item_size(&p->user_items[i]);
        count += p->n_user_items;
        return n + head_size(count);
}

/* ---- validation ---- */

/* Every rule that does not depend on the profile; channel is checked against the widest range. */
static int params_check(const ProvParams *p, const char **ret_field) {
        const char *field = NULL;

        if (!prov_key_valid(p->enc_key))
                field = "enc_key";
        else if (!prov_key_valid(p->auth_key))
                field = "auth_key";
        else if (!prov_network_address_valid(p->network_address))
                field = "network_address";
        else if (!channel_valid_any(p->channel))
                field = "channel";
        else if (p->has_node_address && !prov_node_address_valid(p->node_address))
                field = "node_address";
        else if (p->has_role && !prov_role_valid(p->role))
                field = "role";
        else if (p->n_user_items > PROV_PARAMS_USER_MAX)
                field = "user_items";
        else {
                bool seen[PROV_ID_USER_MAX + 1] = {};

                for (size_t i = 0; i < p->n_user_items; i++) {
                        const ProvUserItem *it = &p->user_items[i];

                        if (!prov_user_item_valid(it) || seen[it->id]) {
                                field = "user_items";
                                break;
                        }
                        seen[it->id] = true;
                }
        }

        if (field) {
                if (ret_field)
                        *ret_field = field;
                return -EINVAL;
        }
        return 0;
}

int prov_params_validate(const ProvParams *p, ProvProfile profile, bool secured, bool assume_node_address,
                         const char **ret_field) {
        const char *field = NULL;
        int r;

        if (!p)
                return -EINVAL;
        if (prov_pdu_max(profile) == 0)
                field = "profile";
        else {
                r = params_check(p, &field);
                if (r >= 0 && !prov_channel_valid(profile, p->channel))
                        field = "channel";
        }
        if (field) {
                if (ret_field)
                        *ret_field = field;
                return -EINVAL;
        }

        if (params_encoded_size(p, assume_node_address) > prov_cbor_max(profile, secured)) {
                if (ret_field)
                        *ret_field = "size";
                return -EMSGSIZE;
        }
        return 0;
}

static void user_items_sort(ProvUserItem *items, size_t n) {
        /* at most PROV_PARAMS_USER_MAX items: insertion sort, stable */
        for (size_t i = 1; i < n; i++) {
                ProvUserItem tmp = items[i];
                size_t j = i;

                while (j > 0 && items[j - 1].id > tmp.id) {
                        items[j] = items[j - 1];
                        j--;
                }
                items[j] = tmp;
        }
}

void prov_params_normalize(ProvParams *p) {
        bool seen[PROV_ID_USER_MAX + 1] = {}, keep[PROV_PARAMS_USER_MAX] = {};
        size_t n, k = 0;

        if (!p)
                return;
        n = MIN(p->n_user_items, (size_t)PROV_PARAMS_USER_MAX);

        /* the last occurrence of an id wins */
        for (size_t i = n; i > 0; i--) {
                uint8_t id = p->user_items[i - 1].id;

                keep[i - 1] = !seen[id];
                seen[id] = true;
        }
        for (size_t i = 0; i < n; i++)
                if (keep[i]) {
                        if (k != i)
                                p->user_items[k] = p->user_items[i];
                        k++;
                }
        p->n_user_items = k;
        user_items_sort(p->user_items, k);
}

/* ---- encoder ---- */

static void put_head(Writer *w, uint8_t major, uint64_t v) {
        uint8_t ib = (uint8_t)(major << 5);

        if (v < CBOR_INFO_U8)
                (void)writer_put_u8(w, ib | (uint8_t)v);
        else if (v <= UINT8_MAX) {
                (void)writer_put_u8(w, ib | 24);
                (void)writer_put_u8(w, (uint8_t)v);
        } else if (v <= UINT16_MAX) {
                (void)writer_put_u8(w, ib | 25);
                (void)writer_put_be16(w, (uint16_t)v);
        } else if (v <= UINT32_MAX) {
                (void)writer_put_u8(w, ib | 26);
                (void)writer_put_be32(w, (uint32_t)v);
        } else {
                (void)writer_put_u8(w, ib | 27);
                (void)writer_put_be64(w, v);
        }
}

static void put_bytes(Writer *w, uint8_t major, const uint8_t *p, size_t n) {
        put_head(w, major, n);
        (void)writer_put_bytes(w, p, n);
}

static void put_user_item(Writer *w, const ProvUserItem *it) {
        put_head(w, CBOR_UINT, it->id);
        switch (it->type) {
        case PROV_USER_INT:
                put_head(w, it->integer >= 0 ? CBOR_UINT : CBOR_NEGINT, int_argument(it->integer));
                return;
        case PROV_USER_BYTES:
                put_bytes(w, CBOR_BYTES, it->data, it->len);
                return;
        case PROV_USER_TEXT:
                put_bytes(w, CBOR_TEXT, it->data, it->len);
                return;
        case PROV_USER_BOOL:
                put_head(w, CBOR_SIMPLE, it->boolean ? CBOR_TRUE : CBOR_FALSE);
                return;
        case _PROV_USER_TYPE_MAX:
        case _PROV_USER_TYPE_INVALID:
                break;
        }
        assert_not_reached(); /* params_check() refused it */
}

int provdata_encode(const ProvParams *p, uint8_t *buf, size_t bufsz) {
        uint8_t order[PROV_PARAMS_USER_MAX];
        size_t count;
        int r;

        if (!p || (!buf && bufsz > 0))
                return -EINVAL;
        r = params_check(p, NULL);
        if (r < 0)
                return r;
        if (params_encoded_size(p, false) > bufsz)
                return -EMSGSIZE;

        /* user ids ascending, whatever order the caller keeps them in (ids are unique: checked above) */
        for (size_t i = 0; i < p->n_user_items; i++) {
                size_t j = i;

                while (j > 0 && p->user_items[order[j - 1]].id > p->user_items[i].id) {
                        order[j] = order[j - 1];
                        j--;
                }
                order[j] = (uint8_t)i;
        }

        count = 4 + p->has_node_address + p->has_role + p->n_user_items;
        Writer w = WRITER_INIT(buf, bufsz);
        put_head(&w, CBOR_MAP, count);
        put_head(&w, CBOR_UINT, PROV_ID_ENC_KEY);
        put_bytes(&w, CBOR_BYTES, p->enc_key, PROV_KEY_SIZE);
        put_head(&w, CBOR_UINT, PROV_ID_AUTH_KEY);
        put_bytes(&w, CBOR_BYTES, p->auth_key, PROV_KEY_SIZE);
        put_head(&w, CBOR_UINT, PROV_ID_NETWORK_ADDRESS);
        put_head(&w, CBOR_UINT, p->network_address);
        put_head(&w, CBOR_UINT, PROV_ID_CHANNEL);
        put_head(&w, CBOR_UINT, p->channel);
        if (p->has_node_address) {
                put_head(&w, CBOR_UINT, PROV_ID_NODE_ADDRESS);
                put_head(&w, CBOR_UINT, p->node_address);
        }
        if (p->has_role) {
                put_head(&w, CBOR_UINT, PROV_ID_ROLE);
                put_bytes(&w, CBOR_BYTES, &p->role, 1);
        }
        for (size_t i = 0; i < p->n_user_items; i++)
                put_user_item(&w, &p->user_items[order[i]]);

        r = writer_status(&w);
        if (r < 0)
                return r;
        assert(w.len == params_encoded_size(p, false));
        return (int)w.len;
}

/* ---- decoder ---- */

typedef struct CborHead {
        uint8_t major;
        uint8_t info;    /* additional information (low 5 bits of the initial byte) */
        bool indefinite; /* info 31 on a string, array or map */
        uint64_t value;  /* argument: integer, length, count, simple value or raw float bits */
} CborHead;

/* Reads one head. Malformed (reserved info 28-30, indefinite integer or tag, a break) is -EBADMSG, as is a
 * 2-byte simple value below 32 (RFC 8949 §3.3; tinycbor refuses it too). */
static int cbor_get_head(Cursor *c, CborHead *ret) {
        CborHead h = {};
        uint8_t ib;
        int r;

        r = cursor_get_u8(c, &ib);
        if (r < 0)
                return r;
        h.major = ib >> 5;
        h.info = ib & 0x1f;

        if (h.info < CBOR_INFO_U8)
                h.value = h.info;
        else if (h.info == 24) {
                uint8_t v;
                r = cursor_get_u8(c, &v);
                h.value = v;
                if (r >= 0 && h.major == CBOR_SIMPLE && v < 32)
                        return -EBADMSG;
        } else if (h.info == 25) {
                uint16_t v;
                r = cursor_get_be16(c, &v);
                h.value = v;
        } else if (h.info == 26) {
                uint32_t v;
                r = cursor_get_be32(c, &v);
                h.value = v;
        } else if (h.info == 27)
                r = cursor_get_be64(c, &h.value);
        else if (h.info == CBOR_INFO_INDEFINITE) {
                /* indefinite strings, arrays and maps; a break is handled by the callers before this */
                if (h.major != CBOR_BYTES && h.major != CBOR_TEXT && h.major != CBOR_ARRAY &&
                    h.major != CBOR_MAP)
                        return -EBADMSG;
                h.indefinite = true;
        } else
                return -EBADMSG;
        if (r < 0)
                return r;

        *ret = h;
        return 0;
}

static bool cbor_at_break(const Cursor *c) {
        uint8_t b;
        return cursor_peek_u8(c, &b) >= 0 && b == CBOR_BREAK;
}

/* A byte or text string of at most max bytes, definite or indefinite (chunks of the same major type, each
 * definite). Copies into dst when it is not NULL. */
static int cbor_get_string(Cursor *c, uint8_t major, size_t max, uint8_t *dst, size_t *ret_len) {
        CborHead h;
        size_t total = 0;
        int r;

        r = cbor_get_head(c, &h);
        if (r < 0)
                return r;
        if (h.major != major)
                return -EBADMSG;

        for (;;) {
                CborHead chunk = h;
                const uint8_t *p;

                if (h.indefinite) {
                        if (cbor_at_break(c)) {
                                (void)cursor_skip(c, 1);
                                break;
                        }
                        r = cbor_get_head(c, &chunk);
                        if (r < 0)
                                return r;
                        if (chunk.major != major || chunk.indefinite)
                                return -EBADMSG;
                }
                if (chunk.value > max - total)
                        return -EBADMSG;
                r = cursor_get_bytes(c, (size_t)chunk.value, &p);
                if (r < 0)
                        return r;
                if (dst && chunk.value > 0)
                        memcpy(dst + total, p, (size_t)chunk.value);
                total += (size_t)chunk.value;
                if (!h.indefinite)
                        break;
        }

        *ret_len = total;
        return 0;
}

static int cbor_get_uint(Cursor *c, uint64_t *ret) {
        CborHead h;
        int r;

        r = cbor_get_head(c, &h);
        if (r < 0)
                return r;
        if (h.major != CBOR_UINT)
                return -EBADMSG;
        *ret = h.value;
        return 0;
}

static int decode_key(Cursor *c, uint8_t *ret) {
        uint8_t key[PROV_KEY_SIZE];
        size_t n;
        int r;

        r = cbor_get_string(c, CBOR_BYTES, sizeof(key), key, &n);
        if (r < 0)
                return r;
        if (n != PROV_KEY_SIZE)
                return -EBADMSG;
        memcpy(ret, key, sizeof(key));
        explicit_bzero_safe(key, sizeof(key));
        return 0;
}

/* One user value (ids 128..255). *ret_kept is false for values the node accepts and skips (simple values,
 * floats). */
static int decode_user_value(Cursor *c, uint8_t id, ProvUserItem *ret, bool *ret_kept) {
        ProvUserItem it = { .id = id };
        Cursor peek = *c;
        CborHead h;
        size_t n;
        int r;

        r = cbor_get_head(&peek, &h);
        if (r < 0)
                return r;

        switch (h.major) {
        case CBOR_UINT:
        case CBOR_NEGINT:
                if (h.value > INT64_MAX)
                        return -EBADMSG;
                it.type = PROV_USER_INT;
                it.integer = h.major == CBOR_UINT ? (int64_t)h.value : -1 - (int64_t)h.value;
                *c = peek;
                break;
        case CBOR_BYTES:
        case CBOR_TEXT:
                r = cbor_get_string(c, h.major, PROV_USER_STRING_MAX, it.data, &n);
                if (r < 0)
                        return r;
                it.type = h.major == CBOR_BYTES ? PROV_USER_BYTES : PROV_USER_TEXT;
                it.len = (uint8_t)n;
                break;
        case CBOR_SIMPLE:
                if (h.info == CBOR_FALSE || h.info == CBOR_TRUE) {
                        it.type = PROV_USER_BOOL;
                        it.boolean = h.info == CBOR_TRUE;
                        *c = peek;
                        break;
                }
                if (h.info == CBOR_NULL || h.info == CBOR_UNDEFINED || h.info == CBOR_INFO_INDEFINITE)
                        return -EBADMSG;
                /* other simple values and half/single/double floats: accepted, not kept */
                *c = peek;
                *ret_kept = false;
                return 0;
        default: /* arrays, maps, tags */
                return -EBADMSG;
        }

        *ret = it;
        *ret_kept = true;
        return 0;
}

int provdata_decode(const uint8_t *buf, size_t len, ProvParams *ret) {
        /* Where the last value of each user id starts (NULL: absent, or last value not kept). User values
         * are decoded again from there at the end, so that the last one wins and the output is sorted. */
        const uint8_t *user_at[PROV_ID_USER_MAX - PROV_ID_USER_MIN + 1] = {};
        size_t user_left[ELEMENTSOF(user_at)] = {};
        bool seen[PROV_ID_ROLE + 1] = {};
        ProvParams p = {};
        CborHead map;
        uint64_t remaining = 0;
        int r;

        if (!ret || (!buf && len > 0))
                return -EINVAL;

        Cursor c = CURSOR_INIT(buf, len);
        r = cbor_get_head(&c, &map);
        if (r < 0)
                return r;
        if (map.major != CBOR_MAP)
                return -EBADMSG;
        if (!map.indefinite) {
                remaining = map.value;
                if (remaining > cursor_left(&c) / 2) /* every pair takes at least 2 bytes */
                        return -EBADMSG;
        }

        for (;;) {
                uint64_t id, v = 0;

                if (map.indefinite) {
                        if (cbor_at_break(&c)) {
                                (void)cursor_skip(&c, 1);
                                break;
                        }
                } else if (remaining-- == 0)
                        break;

                /* keys: unsigned ints only (a break here in a definite map is a head error) */
                r = cbor_get_uint(&c, &id);
                if (r < 0)
                        goto fail;

                switch (id) {
                case PROV_ID_ENC_KEY:
                        r = decode_key(&c, p.enc_key);
                        break;
                case PROV_ID_AUTH_KEY:
                        r = decode_key(&c, p.auth_key);
                        break;
                case PROV_ID_NETWORK_ADDRESS:
                        r = cbor_get_uint(&c, &v);
                        if (r >= 0 && (v > UINT32_MAX || !prov_network_address_valid((uint32_t)v)))
                                r = -EBADMSG; /* strict node */
                        p.network_address = (uint32_t)v;
                        break;
                case PROV_ID_CHANNEL:
                        r = cbor_get_uint(&c, &v);
                        if (r >= 0 && !channel_valid_any(v > UINT32_MAX ? 0 : (uint32_t)v))
                                r = -EBADMSG; /* strict node: the node itself would take 256..511 mod 256 */
                        p.channel = (uint32_t)v;
                        break;
                case PROV_ID_NODE_ADDRESS:
                        r = cbor_get_uint(&c, &v);
                        if (r >= 0 && (v > UINT32_MAX || !prov_node_address_valid((uint32_t)v)))
                                r = -EBADMSG; /* strict node */
                        p.node_address = (uint32_t)v;
                        p.has_node_address = true;
                        break;
                case PROV_ID_ROLE: {
                        size_t n;

                        r = cbor_get_string(&c, CBOR_BYTES, 1, &p.role, &n);
                        if (r >= 0 && (n != 1 || !prov_role_valid(p.role)))
                                r = -EBADMSG; /* the node wants exactly 1 byte; the role list is strict node
                                               */
                        p.has_role = true;
                        break;
                }
                default: {
                        ProvUserItem item;
                        bool kept = false;
                        Cursor start = c;

                        if (id < PROV_ID_USER_MIN || id > PROV_ID_USER_MAX) {
                                r = -EBADMSG; /* reserved 6..127, or beyond 255 */
                                break;
                        }
                        r = decode_user_value(&c, (uint8_t)id, &item, &kept);
                        user_at[id - PROV_ID_USER_MIN] = r >= 0 && kept ? start.p : NULL;
                        user_left[id - PROV_ID_USER_MIN] = start.left;
                        break;
                }
                }
                if (r < 0)
                        goto fail;
                if (id < ELEMENTSOF(seen))
                        seen[id] = true;
        }
        /* bytes after the map are ignored, as the node does */

        if (!seen[PROV_ID_ENC_KEY] || !seen[PROV_ID_AUTH_KEY] || !seen[PROV_ID_NETWORK_ADDRESS] ||
            !seen[PROV_ID_CHANNEL]) {
                r = -EBADMSG;
                goto fail;
        }

        for (size_t i = 0; i < ELEMENTSOF(user_at); i++) {
                bool kept;

                if (!user_at[i])
                        continue;
                if (p.n_user_items >= PROV_PARAMS_USER_MAX) {
                        r = -EMSGSIZE; /* cannot happen within one DATA packet */
                        goto fail;
                }
                Cursor at = CURSOR_INIT(user_at[i], user_left[i]);
                r = decode_user_value(&at, (uint8_t)(PROV_ID_USER_MIN + i), &p.user_items[p.n_user_items],
                                      &kept);
                assert(r >= 0 && kept); /* it decoded the first time */
                p.n_user_items++;
        }

        *ret = p;
        explicit_bzero_safe(&p, sizeof(p));
        return 0;

fail:
        explicit_bzero_safe(&p, sizeof(p));
        return r;
}

/* ---- string tables ---- */

static const char *const profile_table[_PROV_PROFILE_MAX] = {
        [PROV_PROFILE_24G] = "2.4G",
        [PROV_PROFILE_SUBG] = "SubG",
        [PROV_PROFILE_5GMESH] = "5GMesh",
};

static const char *const user_type_table[_PROV_USER_TYPE_MAX] = {
        [PROV_USER_INT] = "int",
        [PROV_USER_BYTES] = "bytes",
        [PROV_USER_TEXT] = "text",
        [PROV_USER_BOOL] = "bool",
};

const char *prov_profile_to_string(ProvProfile p) {
        return p >= 0 && p < _PROV_PROFILE_MAX ? profile_table[p] : NULL;
}

ProvProfile prov_profile_from_string(const char *s) {
        if (!s)
                return _PROV_PROFILE_INVALID;
        for (ProvProfile p = 0; p < _PROV_PROFILE_MAX; p++)
                if (strcasecmp(profile_table[p], s) == 0)
                        return p;
        return _PROV_PROFILE_INVALID;
}

const char *prov_user_type_to_string(ProvUserType t) {
        return t >= 0 && t < _PROV_USER_TYPE_MAX ? user_type_table[t] : NULL;
}

ProvUserType prov_user_type_from_string(const char *s) {
        if (!s)
                return _PROV_USER_TYPE_INVALID;
        for (ProvUserType t = 0; t < _PROV_USER_TYPE_MAX; t++)
                if (strcasecmp(user_type_table[t], s) == 0)
                        return t;
        return _PROV_USER_TYPE_INVALID;
}
