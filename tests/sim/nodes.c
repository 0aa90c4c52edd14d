/* SPDX-License-Identifier: Apache-2.0 */
#include "nodes.h"

#include "cursor.h"
#include "provcrypto.h"

enum {
        TYPE_START = 1,
        TYPE_DATA = 2,
        TYPE_DATA_ACK = 3,
        TYPE_NACK = 4,
};

void sim_node_init(SimNode *n, const SimNodeConfig *cfg) {
        assert(n);
        assert(cfg);

        *n = (SimNode){
                .cfg = *cfg,
                .state = SIM_NODE_IDLE,
                .outcome = SIM_NODE_PENDING,
                .deadline = USEC_INFINITY,
                .nack_reason = 0xFF,
        };
        if (n->cfg.uid_len > PROV_UID_MAX)
                n->cfg.uid_len = PROV_UID_MAX;
}

size_t sim_node_pdu_max(const SimNode *n) {
        return n->cfg.five_g ? PROV_PDU_MAX_5G : PROV_PDU_MAX_24G;
}

uint8_t sim_node_down_src_ep(const SimNode *n) {
        return n->cfg.five_g ? SIM_EP_DOWN_SRC_5G : SIM_EP_DOWN_SRC_24G;
}

uint8_t sim_node_down_dst_ep(const SimNode *n) {
        return n->cfg.five_g ? SIM_EP_DOWN_DST_5G : SIM_EP_DOWN_DST_24G;
}

static void packet_init(const SimNode *n, SimPacket *p) {
        *p = (SimPacket){
                .src_ep = n->cfg.five_g ? SIM_EP_UP_SRC_5G : SIM_EP_UP_SRC_24G,
                .dst_ep = n->cfg.five_g ? SIM_EP_UP_DST_5G : SIM_EP_UP_DST_24G,
        };
}

static void put_header(const SimNode *n, Writer *w, uint8_t type) {
        (void)writer_put_u8(w, type);
        (void)writer_put_le32(w, n->cfg.address);
        (void)writer_put_u8(w, n->session_id);
}

/* START: header, method, IV, UID (the node's own layout, not provmsg_build_start()). */
static void build_start(const SimNode *n, SimPacket *p) {
        Writer w;

        packet_init(n, p);
        w = WRITER_INIT(p->buf, sim_node_pdu_max(n));
        put_header(n, &w, TYPE_START);
        (void)writer_put_u8(&w, n->cfg.method);
        (void)writer_put_bytes(&w, n->iv, sizeof(n->iv));
        (void)writer_put_bytes(&w, n->cfg.uid, n->cfg.uid_len);
        assert(writer_status(&w) == 0); /* uid_len <= 79 always fits */
        p->len = w.len;
}

static void build_ack(const SimNode *n, SimPacket *p) {
        Writer w;

        packet_init(n, p);
        w = WRITER_INIT(p->buf, sizeof(p->buf));
        put_header(n, &w, TYPE_DATA_ACK);
        p->len = w.len;
}

int sim_node_start_fixed(SimNode *n, usec_t now, const uint8_t iv[static PROV_IV_SIZE], uint8_t session_id,
                         SimPacket *ret) {
        assert(n);
        assert(ret);

        if (n->state != SIM_NODE_IDLE)
                return -EBUSY;

        memset(n->iv, 0, sizeof(n->iv)); /* method 0: the node's static, zero IV */
        if (n->cfg.method != 0)
                memcpy(n->iv, iv, sizeof(n->iv));
        n->session_id = session_id;
        n->state = SIM_NODE_WAIT_DATA;
        n->retry = 0;
        n->timeout = n->cfg.timeout;
        n->deadline = usec_add(now, n->timeout);
        n->started_at = now;
        n->n_starts = 1;
        build_start(n, ret);
        return 1;
}

int sim_node_start(SimNode *n, usec_t now, SimRand *rng, SimPacket *ret) {
        uint8_t iv[PROV_IV_SIZE];
        uint8_t sid;

        assert(rng);

        /* drawn even for method 0, so that a node's stream does not depend on its method */
        sim_rand_bytes(rng, iv, sizeof(iv));
        sid = (uint8_t)sim_rand_below(rng, 256);
        if (n->cfg.session_id_set)
                sid = n->cfg.session_id;
        return sim_node_start_fixed(n, now, iv, sid, ret);
}

static int finish(SimNode *n, usec_t now, SimNodeOutcome outcome) {
        n->state = SIM_NODE_DONE;
        n->outcome = outcome;
        n->deadline = USEC_INFINITY;
        n->finished_at = now;
        return 0;
}

/* A timeout or an unacceptable packet: one retry with the wait doubled, or give up. */
static int failed_attempt(SimNode *n, usec_t now, SimPacket *ret) {
        n->retry++;
        if (n->retry > n->cfg.nb_retry)
                return finish(n, now, SIM_NODE_GAVE_UP);

        n->timeout = n->timeout > USEC_INFINITY / 4 ? USEC_INFINITY / 2 : n->timeout * 2;
        n->deadline = usec_add(now, n->timeout);
        n->n_starts++;
        build_start(n, ret);
        return 1;
}

int sim_node_on_timer(SimNode *n, usec_t now, SimPacket *ret) {
        assert(n);
        assert(ret);

        if (n->state != SIM_NODE_WAIT_DATA || now < n->deadline)
                return 0;
        return failed_attempt(n, now, ret);
}

static void ctr_words_add(uint32_t w[4], uint32_t add) {
        uint32_t old = w[0];

        w[0] += add;
        if (w[0] < old && ++w[1] == 0 && ++w[2] == 0)
                w[3]++;
}

int sim_node_ctr_xor(const uint8_t enc_key[static 16], const uint8_t iv[static 16], uint16_t counter,
                     uint8_t *buf, size_t len) {
        uint32_t w[4];
        int r;

        /* the MCU is little-endian: the IV bytes are four native (LE) words */
        for (size_t i = 0; i < 4; i++)
                w[i] = unaligned_read_le32(iv + 4 * i);
        ctr_words_add(w, counter);

        for (size_t off = 0; off < len; off += 16) {
                uint8_t block[16], ks[16];

                for (size_t i = 0; i < 4; i++)
                        unaligned_write_le32(block + 4 * i, w[i]);
                r = aes128_encrypt_block(enc_key, block, ks);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < 16 && off + i < len; i++)
                        buf[off + i] ^= ks[i];
                ctr_words_add(w, 1);
                explicit_bzero_safe(ks, sizeof(ks));
        }
        return 0;
}

static int reject(SimNode *n, usec_t now, SimNodeReject why, SimPacket *ret) {
        n->n_rejects[why]++;
        return failed_attempt(n, now, ret);
}

static void keep_params(SimNode *n, const ProvParams *p) {
        n->params = (SimNodeParams){
                .network_address = p->network_address,
                .channel = p->channel,
                .has_node_address = p->has_node_address,
                .node_address = p->node_address,
                .has_role = p->has_role,
                .role = p->role,
                .n_user_items = p->n_user_items,
        };
        memcpy(n->params.enc_key, p->enc_key, PROV_KEY_SIZE);
        memcpy(n->params.auth_key, p->auth_key, PROV_KEY_SIZE);
}

int sim_node_on_packet(SimNode *n, usec_t now, const uint8_t *buf, size_t len, SimPacket *ret) {
        uint8_t prefix_and_plain[PROV_PDU_MAX]; /* prefix(9) || CBOR, for the MIC */
        uint8_t type, address[4], sid, key_index;
        uint16_t counter;
        const uint8_t *body;
        size_t body_len, cbor_len;
        Cursor c, whole;
        int r;

        assert(n);
        assert(buf || len == 0);
        assert(ret);

        if (n->state != SIM_NODE_WAIT_DATA) {
                n->n_ignored++; /* the node stopped listening */
                return 0;
        }

        /* the node copies at most its PDU size and silently drops the rest */
        c = CURSOR_INIT(buf, MIN(len, sim_node_pdu_max(n)));
        whole = c;
        if (cursor_get_u8(&c, &type) < 0 || cursor_copy_bytes(&c, address, 4) < 0 ||
            cursor_get_u8(&c, &sid) < 0)
                return reject(n, now, SIM_NODE_REJECT_SHORT, ret);
        if (type != TYPE_DATA && type != TYPE_NACK)
                return reject(n, now, SIM_NODE_REJECT_TYPE, ret);
        if (sid != n->session_id)
                return reject(n, now, SIM_NODE_REJECT_SESSION, ret);

        if (type == TYPE_NACK) {
                /* the reason is only logged by the node; any NACK of our session ends the run */
                if (cursor_get_u8(&c, &n->nack_reason) < 0)
                        n->nack_reason = 0xFF;
                return finish(n, now, SIM_NODE_NACKED);
        }

        if (cursor_get_u8(&c, &key_index) < 0 || cursor_get_le16(&c, &counter) < 0)
                return reject(n, now, SIM_NODE_REJECT_SHORT, ret);
        if (key_index != (n->cfg.method == 0 ? 0 : 1))
                return reject(n, now, SIM_NODE_REJECT_KEY_INDEX, ret);
        cursor_get_rest(&c, &body, &body_len);

        r = cursor_copy_bytes(&whole, prefix_and_plain, PROV_DATA_HEADER_SIZE); /* read above: cannot fail */
        if (r < 0)
                return r;
        memcpy(prefix_and_plain + PROV_DATA_HEADER_SIZE, body, body_len); /* <= pdu max - 9 */
        cbor_len = body_len;

        if (n->cfg.method != 0) {
                const uint8_t *auth = n->cfg.factory_key, *enc = n->cfg.factory_key + PROV_KEY_SIZE;
                uint8_t mac[16];

                if (body_len <= PROV_MIC_SIZE)
                        return reject(n, now, SIM_NODE_REJECT_SHORT, ret);
                r = sim_node_ctr_xor(enc, n->iv, counter, prefix_and_plain + PROV_DATA_HEADER_SIZE,
                                     body_len);
                if (r < 0)
                        return r;
                cbor_len = body_len - PROV_MIC_SIZE;
                r = aes128_cmac(auth, prefix_and_plain, PROV_DATA_HEADER_SIZE + cbor_len, mac);
                if (r < 0)
                        return r;
                bool ok = memeq_secure(mac, prefix_and_plain + PROV_DATA_HEADER_SIZE + cbor_len,
                                       PROV_MIC_SIZE);
                explicit_bzero_safe(mac, sizeof(mac));
                if (!ok) {
                        explicit_bzero_safe(prefix_and_plain, sizeof(prefix_and_plain));
                        return reject(n, now, SIM_NODE_REJECT_MIC, ret);
                }
        }

        ProvParams *params = new0(ProvParams, 1);
        if (!params)
                return -ENOMEM;
        r = provdata_decode(prefix_and_plain + PROV_DATA_HEADER_SIZE, cbor_len, params);
        explicit_bzero_safe(prefix_and_plain, sizeof(prefix_and_plain));
        if (r < 0) {
                free(params);
                return reject(n, now, SIM_NODE_REJECT_CBOR, ret);
        }
        keep_params(n, params);
        explicit_bzero_safe(params, sizeof(*params));
        free(params);

        n->data_counter = counter;
        n->data_key_index = key_index;
        finish(n, now, SIM_NODE_PROVISIONED);
        build_ack(n, ret); /* sent once, never retried */
        return 1;
}

unsigned sim_node_rejects_total(const SimNode *n) {
        unsigned t = 0;
        for (size_t i = 0; i < _SIM_NODE_REJECT_MAX; i++)
                t += n->n_rejects[i];
        return t;
}

static const char *const kind_names[_SIM_NODE_KIND_MAX] = {
        [SIM_NODE_WHITELISTED] = "whitelisted",   [SIM_NODE_UNKNOWN] = "unknown",
        [SIM_NODE_WRONG_METHOD] = "wrong-method", [SIM_NODE_WRONG_KEY] = "wrong-key",
        [SIM_NODE_DISABLED] = "disabled",         [SIM_NODE_UNSECURED] = "unsecured",
};

const char *sim_node_kind_to_string(SimNodeKind k) {
        return k >= 0 && k < _SIM_NODE_KIND_MAX ? kind_names[k] : NULL;
}

SimNodeKind sim_node_kind_from_string(const char *s) {
        if (!s)
                return _SIM_NODE_KIND_INVALID;
        for (SimNodeKind k = 0; k < _SIM_NODE_KIND_MAX; k++)
                if (streq(s, kind_names[k]))
                        return k;
        return _SIM_NODE_KIND_INVALID;
}

const char *sim_node_outcome_to_string(SimNodeOutcome o) {
        static const char *const names[_SIM_NODE_OUTCOME_MAX] = {
                [SIM_NODE_PENDING] = "pending",
                [SIM_NODE_PROVISIONED] = "provisioned",
                [SIM_NODE_NACKED] = "nacked",
                [SIM_NODE_GAVE_UP] = "gave-up",
        };
        return o >= 0 && o < _SIM_NODE_OUTCOME_MAX ? names[o] : NULL;
}

const char *sim_node_reject_to_string(SimNodeReject r) {
        static const char *const names[_SIM_NODE_REJECT_MAX] = {
                [SIM_NODE_REJECT_SHORT] = "short",     [SIM_NODE_REJECT_TYPE] = "type",
                [SIM_NODE_REJECT_SESSION] = "session", [SIM_NODE_REJECT_KEY_INDEX] = "key-index",
                [SIM_NODE_REJECT_MIC] = "mic",         [SIM_NODE_REJECT_CBOR] = "cbor",
        };
        return r >= 0 && r < _SIM_NODE_REJECT_MAX ? names[r] : NULL;
}
