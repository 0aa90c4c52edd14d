/* SPDX-License-Identifier: Apache-2.0 */
#include <strings.h>

#include "cursor.h"
#include "parse-util.h"
#include "provdata.h"
#include "provmsg.h"

/* Fixed sizes of the four packets (ref-provisioning.md §3-§7). */
#define PROV_HEADER_SIZE   6u
#define PROV_START_FIXED   (PROV_HEADER_SIZE + 1u + PROV_IV_SIZE) /* 23: header, method, IV */
#define PROV_DATA_ACK_SIZE PROV_HEADER_SIZE
#define PROV_NACK_SIZE     (PROV_HEADER_SIZE + 1u)

static const char *const msg_type_table[] = {
        [PROV_MSG_START] = "start",
        [PROV_MSG_DATA] = "data",
        [PROV_MSG_DATA_ACK] = "data_ack",
        [PROV_MSG_NACK] = "nack",
};

static const char *const method_table[] = {
        [PROV_METHOD_UNSECURED] = "unsecured",
        [PROV_METHOD_SECURED] = "secured",
        [PROV_METHOD_EXTENDED_UID] = "extended_uid",
        [PROV_METHOD_EXTENDED_UID_KEY_MGMT] = "extended_uid_key_mgmt",
};

static const char *const nack_reason_table[_PROV_NACK_MAX] = {
        [PROV_NACK_NOT_AUTHORIZED] = "not_authorized",
        [PROV_NACK_METHOD_NOT_SUPPORTED] = "method_not_supported",
        [PROV_NACK_INVALID_DATA] = "invalid_data",
        [PROV_NACK_INVALID_KEY] = "invalid_key",
};

static const char *table_lookup(const char *const *table, size_t n, int v) {
        if (v < 0 || (size_t)v >= n)
                return NULL;
        return table[v];
}

/* Name (case-insensitive) or decimal wire value; only entries that have a name count. */
static int table_find(const char *const *table, size_t n, const char *s) {
        uint8_t v;

        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (table[i] && strcasecmp(table[i], s) == 0)
                        return (int)i;
        if (s[0] >= '0' && s[0] <= '9' && safe_atou8(s, &v) >= 0 && v < n && table[v])
                return v;
        return -EINVAL;
}

const char *prov_msg_type_to_string(int t) {
        return table_lookup(msg_type_table, ELEMENTSOF(msg_type_table), t);
}

const char *prov_method_to_string(int m) {
        return table_lookup(method_table, ELEMENTSOF(method_table), m);
}

int prov_method_from_string(const char *s) {
        return table_find(method_table, ELEMENTSOF(method_table), s);
}

const char *prov_nack_reason_to_string(int r) {
        return table_lookup(nack_reason_table, ELEMENTSOF(nack_reason_table), r);
}

int prov_nack_reason_from_string(const char *s) {
        return table_find(nack_reason_table, ELEMENTSOF(nack_reason_table), s);
}

bool prov_method_is_known(int m) {
        return prov_method_to_string(m) != NULL;
}

bool prov_method_is_secured(int m) {
        return prov_method_is_known(m) && m != PROV_METHOD_UNSECURED;
}

static bool key_index_is_known(int k) {
        return k == PROV_KEY_INDEX_PLAINTEXT || k == PROV_KEY_INDEX_FACTORY;
}

static int parse_start(Cursor *c, ProvMsg *m) {
        const uint8_t *uid;
        size_t uid_len;
        int r;

        r = cursor_get_u8(c, &m->start.method);
        if (r < 0)
                return r;
        if (!prov_method_is_known(m->start.method))
                return -EBADMSG;
        r = cursor_copy_bytes(c, m->start.iv, PROV_IV_SIZE);
        if (r < 0)
                return r;
        cursor_get_rest(c, &uid, &uid_len);
        if (uid_len < 1 || uid_len > PROV_UID_MAX)
                return -EBADMSG;
        m->start.uid = uid;
        m->start.uid_len = uid_len;
        return 0;
}

static int parse_data(Cursor *c, ProvMsg *m) {
        int r;

        r = cursor_get_u8(c, &m->data.key_index);
        if (r < 0)
                return r;
        if (!key_index_is_known(m->data.key_index))
                return -EBADMSG;
        r = cursor_get_le16(c, &m->data.counter);
        if (r < 0)
                return r;
        cursor_get_rest(c, &m->data.payload, &m->data.payload_len);
        return 0;
}

static int parse_nack(Cursor *c, ProvMsg *m) {
        int r;

        r = cursor_get_u8(c, &m->nack.reason);
        if (r < 0)
                return r;
        if (!prov_nack_reason_to_string(m->nack.reason))
                return -EBADMSG;
        return 0;
}

int provmsg_parse(const uint8_t *buf, size_t len, size_t pdu_max, ProvMsg *ret) {
        ProvMsg m = {};
        int r;

        if (!ret || (!buf && len > 0))
                return -EINVAL;
        if (len > pdu_max)
                return -EMSGSIZE;

        Cursor c = CURSOR_INIT(buf, len);
        r = cursor_get_u8(&c, &m.hdr.type);
        if (r < 0)
                return r;
        r = cursor_copy_bytes(&c, m.hdr.address, sizeof(m.hdr.address));
        if (r < 0)
                return r;
        r = cursor_get_u8(&c, &m.hdr.session_id);
        if (r < 0)
                return r;

        /* The type byte is untrusted: compare against the known values, never switch on a cast. */
        if (m.hdr.type == PROV_MSG_START)
                r = parse_start(&c, &m);
        else if (m.hdr.type == PROV_MSG_DATA)
                r = parse_data(&c, &m);
        else if (m.hdr.type == PROV_MSG_DATA_ACK)
                r = 0;
        else if (m.hdr.type == PROV_MSG_NACK)
                r = parse_nack(&c, &m);
        else
                r = -EBADMSG;
        if (r < 0)
                return r;
        if (cursor_left(&c) != 0) /* trailing bytes */
                return -EBADMSG;

        *ret = m;
        return 0;
}

static void put_header(Writer *w, ProvMsgType type, const ProvHeader *hdr) {
        (void)writer_put_u8(w, type);
        (void)writer_put_bytes(w, hdr->address, sizeof(hdr->address));
        (void)writer_put_u8(w, hdr->session_id);
}

static int writer_finish(const Writer *w) {
        int r = writer_status(w);
        return r < 0 ? r : (int)w->len;
}

int provmsg_build_start(const ProvHeader *hdr, uint8_t method, const uint8_t iv[static PROV_IV_SIZE],
                        const uint8_t *uid, size_t uid_len, uint8_t *buf, size_t bufsz) {
        if (!hdr || !iv || !uid || !buf)
                return -EINVAL;
        if (!prov_method_is_known(method) || !prov_uid_len_valid(uid_len))
                return -EINVAL;
        if (bufsz < PROV_START_FIXED + uid_len)
                return -EMSGSIZE;

        Writer w = WRITER_INIT(buf, bufsz);
        put_header(&w, PROV_MSG_START, hdr);
        (void)writer_put_u8(&w, method);
        (void)writer_put_bytes(&w, iv, PROV_IV_SIZE);
        (void)writer_put_bytes(&w, uid, uid_len);
        return writer_finish(&w);
}

int provmsg_build_data_ack(const ProvHeader *hdr, uint8_t *buf, size_t bufsz) {
        if (!hdr || !buf)
                return -EINVAL;
        if (bufsz < PROV_DATA_ACK_SIZE)
                return -EMSGSIZE;

        Writer w = WRITER_INIT(buf, bufsz);
        put_header(&w, PROV_MSG_DATA_ACK, hdr);
        return writer_finish(&w);
}

int provmsg_build_nack(const ProvHeader *hdr, ProvNackReason reason, uint8_t *buf, size_t bufsz) {
        if (!hdr || !buf)
                return -EINVAL;
        if (!prov_nack_reason_to_string(reason))
                return -EINVAL;
        if (bufsz < PROV_NACK_SIZE)
                return -EMSGSIZE;

        Writer w = WRITER_INIT(buf, bufsz);
        put_header(&w, PROV_MSG_NACK, hdr);
        (void)writer_put_u8(&w, (uint8_t)reason);
        return writer_finish(&w);
}

int provmsg_build_data_prefix(const ProvHeader *hdr, ProvKeyIndex key_index, uint16_t counter,
                              uint8_t prefix[static PROV_DATA_HEADER_SIZE]) {
        if (!hdr || !prefix)
                return -EINVAL;
        if (!key_index_is_known(key_index))
                return -EINVAL;

        Writer w = WRITER_INIT(prefix, PROV_DATA_HEADER_SIZE);
        put_header(&w, PROV_MSG_DATA, hdr);
        (void)writer_put_u8(&w, (uint8_t)key_index);
        (void)writer_put_le16(&w, counter);
        return writer_finish(&w);
}
