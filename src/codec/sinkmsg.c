/* SPDX-License-Identifier: Apache-2.0 */
#include "sinkmsg.h"

#include "cursor.h"

typedef struct SinkMsgInfo {
        const char *name;
        int primitive; /* -1: none of its own (generic indication, response) */
        SinkMsgKind kind;
} SinkMsgInfo;

#define REQ(t, n, p) [t] = { n, p, SINK_KIND_REQUEST }
#define CNF(t, n, p) [t] = { n, (p) | SINK_PRIM_REPLY_BIT, SINK_KIND_CONFIRM }
#define IND(t, n, p) [t] = { n, p, SINK_KIND_INDICATION }

static const SinkMsgInfo msg_info[_SINK_MSG_TYPE_MAX] = {
        REQ(SINK_MSG_DATA_TX_REQ, "data-tx-req", SINK_PRIM_DATA_TX),
        REQ(SINK_MSG_DATA_TX_TT_REQ, "data-tx-tt-req", SINK_PRIM_DATA_TX_TT),
        REQ(SINK_MSG_POLL_REQ, "poll-req", SINK_PRIM_POLL),
        REQ(SINK_MSG_STACK_START_REQ, "stack-start-req", SINK_PRIM_STACK_START),
        REQ(SINK_MSG_STACK_STOP_REQ, "stack-stop-req", SINK_PRIM_STACK_STOP),
        REQ(SINK_MSG_MSAP_ATTR_WRITE_REQ, "msap-attr-write-req", SINK_PRIM_MSAP_ATTR_WRITE),
        REQ(SINK_MSG_MSAP_ATTR_READ_REQ, "msap-attr-read-req", SINK_PRIM_MSAP_ATTR_READ),
        REQ(SINK_MSG_CSAP_ATTR_WRITE_REQ, "csap-attr-write-req", SINK_PRIM_CSAP_ATTR_WRITE),
        REQ(SINK_MSG_CSAP_ATTR_READ_REQ, "csap-attr-read-req", SINK_PRIM_CSAP_ATTR_READ),
        REQ(SINK_MSG_FACTORY_RESET_REQ, "factory-reset-req", SINK_PRIM_FACTORY_RESET),
        REQ(SINK_MSG_SCRATCHPAD_STATUS_REQ, "scratchpad-status-req", SINK_PRIM_SCRATCHPAD_STATUS),
        REQ(SINK_MSG_SINK_COST_WRITE_REQ, "sink-cost-write-req", SINK_PRIM_SINK_COST_WRITE),
        REQ(SINK_MSG_SINK_COST_READ_REQ, "sink-cost-read-req", SINK_PRIM_SINK_COST_READ),
        REQ(SINK_MSG_APP_CONFIG_WRITE_REQ, "app-config-write-req", SINK_PRIM_APP_CONFIG_WRITE),
        REQ(SINK_MSG_APP_CONFIG_READ_REQ, "app-config-read-req", SINK_PRIM_APP_CONFIG_READ),
        CNF(SINK_MSG_DATA_TX_CNF, "data-tx-cnf", SINK_PRIM_DATA_TX),
        CNF(SINK_MSG_DATA_TX_TT_CNF, "data-tx-tt-cnf", SINK_PRIM_DATA_TX_TT),
        CNF(SINK_MSG_POLL_CNF, "poll-cnf", SINK_PRIM_POLL),
        CNF(SINK_MSG_STACK_START_CNF, "stack-start-cnf", SINK_PRIM_STACK_START),
        CNF(SINK_MSG_STACK_STOP_CNF, "stack-stop-cnf", SINK_PRIM_STACK_STOP),
        CNF(SINK_MSG_MSAP_ATTR_WRITE_CNF, "msap-attr-write-cnf", SINK_PRIM_MSAP_ATTR_WRITE),
        CNF(SINK_MSG_MSAP_ATTR_READ_CNF, "msap-attr-read-cnf", SINK_PRIM_MSAP_ATTR_READ),
        CNF(SINK_MSG_CSAP_ATTR_WRITE_CNF, "csap-attr-write-cnf", SINK_PRIM_CSAP_ATTR_WRITE),
        CNF(SINK_MSG_CSAP_ATTR_READ_CNF, "csap-attr-read-cnf", SINK_PRIM_CSAP_ATTR_READ),
        CNF(SINK_MSG_FACTORY_RESET_CNF, "factory-reset-cnf", SINK_PRIM_FACTORY_RESET),
        CNF(SINK_MSG_SCRATCHPAD_STATUS_CNF, "scratchpad-status-cnf", SINK_PRIM_SCRATCHPAD_STATUS),
        CNF(SINK_MSG_SINK_COST_WRITE_CNF, "sink-cost-write-cnf", SINK_PRIM_SINK_COST_WRITE),
        CNF(SINK_MSG_SINK_COST_READ_CNF, "sink-cost-read-cnf", SINK_PRIM_SINK_COST_READ),
        CNF(SINK_MSG_APP_CONFIG_WRITE_CNF, "app-config-write-cnf", SINK_PRIM_APP_CONFIG_WRITE),
        CNF(SINK_MSG_APP_CONFIG_READ_CNF, "app-config-read-cnf", SINK_PRIM_APP_CONFIG_READ),
        IND(SINK_MSG_DATA_TX_IND, "data-tx-ind", SINK_PRIM_DATA_TX_IND),
        IND(SINK_MSG_DATA_RX_IND, "data-rx-ind", SINK_PRIM_DATA_RX_IND),
        IND(SINK_MSG_STACK_STATE_IND, "stack-state-ind", SINK_PRIM_STACK_STATE_IND),
        IND(SINK_MSG_APP_CONFIG_RX_IND, "app-config-rx-ind", SINK_PRIM_APP_CONFIG_RX_IND),
        [SINK_MSG_GENERIC_IND] = { "generic-ind", -1, SINK_KIND_INDICATION },
        [SINK_MSG_RESPONSE] = { "response", -1, SINK_KIND_RESPONSE },
};

static bool type_valid(SinkMsgType t) {
        return t >= 0 && t < _SINK_MSG_TYPE_MAX;
}

SinkMsgKind sinkmsg_type_kind(SinkMsgType t) {
        return type_valid(t) ? msg_info[t].kind : _SINK_KIND_INVALID;
}

int sinkmsg_type_primitive(SinkMsgType t) {
        if (!type_valid(t) || msg_info[t].primitive < 0)
                return -EINVAL;
        return msg_info[t].primitive;
}

const char *sinkmsg_type_to_string(SinkMsgType t) {
        return type_valid(t) ? msg_info[t].name : NULL;
}

const char *sinkmsg_kind_to_string(SinkMsgKind k) {
        static const char *const names[_SINK_KIND_MAX] = {
                [SINK_KIND_REQUEST] = "request",
                [SINK_KIND_RESPONSE] = "response",
                [SINK_KIND_CONFIRM] = "confirm",
                [SINK_KIND_INDICATION] = "indication",
        };
        return k >= 0 && k < _SINK_KIND_MAX ? names[k] : NULL;
}

SinkMsgType sinkmsg_confirm_type(SinkMsgType request) {
        if (sinkmsg_type_kind(request) != SINK_KIND_REQUEST)
                return _SINK_MSG_TYPE_INVALID;
        for (SinkMsgType t = 0; t < _SINK_MSG_TYPE_MAX; t++)
                if (msg_info[t].kind == SINK_KIND_CONFIRM &&
                    msg_info[t].primitive == (msg_info[request].primitive | (int)SINK_PRIM_REPLY_BIT))
                        return t;
        return _SINK_MSG_TYPE_INVALID;
}

static SinkMsgType lookup(SinkMsgKind kind, uint8_t primitive) {
        for (SinkMsgType t = 0; t < _SINK_MSG_TYPE_MAX; t++)
                if (msg_info[t].kind == kind && msg_info[t].primitive == primitive)
                        return t;
        return _SINK_MSG_TYPE_INVALID;
}

int sinkmsg_indication_status(const SinkMsg *m) {
        assert(m);

        if (m->type == SINK_MSG_DATA_TX_IND)
                return m->data_tx_ind.status;
        if (m->type == SINK_MSG_DATA_RX_IND)
                return m->data_rx.status;
        if (m->type == SINK_MSG_STACK_STATE_IND)
                return m->stack_state.status;
        if (m->type == SINK_MSG_APP_CONFIG_RX_IND)
                return m->app_config.status;
        if (m->type == SINK_MSG_GENERIC_IND && m->generic.payload_len > 0 && m->generic.payload)
                return m->generic.payload[0];
        return -EINVAL;
}

/* Reads a length byte and then exactly that many bytes, which must be all that is left. */
static int get_tail(Cursor *c, const uint8_t **ret, uint8_t *ret_len) {
        uint8_t n;
        int r;

        r = cursor_get_u8(c, &n);
        if (r < 0)
                return r;
        if (cursor_left(c) != n)
                return -EBADMSG;
        r = cursor_get_bytes(c, n, ret);
        if (r < 0)
                return r;
        *ret_len = n;
        return 0;
}

static int decode_data_tx(Cursor *c, bool tt, SinkDataTx *d) {
        int r = 0;

        r = r ?: cursor_get_le16(c, &d->pdu_id);
        r = r ?: cursor_get_u8(c, &d->src_ep);
        r = r ?: cursor_get_le32(c, &d->dst_addr);
        r = r ?: cursor_get_u8(c, &d->dst_ep);
        r = r ?: cursor_get_u8(c, &d->qos);
        r = r ?: cursor_get_u8(c, &d->tx_options);
        if (tt)
                r = r ?: cursor_get_le32(c, &d->buffering_delay);
        return r ?: get_tail(c, &d->apdu, &d->apdu_len);
}

static int decode_app_config(Cursor *c, bool has_status, SinkAppConfig *a) {
        int r = 0;

        if (has_status)
                r = r ?: cursor_get_u8(c, &a->status);
        r = r ?: cursor_get_u8(c, &a->sequence);
        r = r ?: cursor_get_le16(c, &a->interval);
        return r ?: cursor_get_bytes(c, SINK_APP_CONFIG_SIZE, &a->data);
}

static int decode_body(Cursor *c, SinkMsg *m) {
        int r = 0;

        switch (m->type) {
        case SINK_MSG_DATA_TX_REQ:
        case SINK_MSG_DATA_TX_TT_REQ:
                return decode_data_tx(c, m->type == SINK_MSG_DATA_TX_TT_REQ, &m->data_tx);

        case SINK_MSG_POLL_REQ:
        case SINK_MSG_STACK_STOP_REQ:
        case SINK_MSG_SCRATCHPAD_STATUS_REQ:
        case SINK_MSG_SINK_COST_READ_REQ:
        case SINK_MSG_APP_CONFIG_READ_REQ:
                return 0;

        case SINK_MSG_STACK_START_REQ:
                return cursor_get_u8(c, &m->start_options);

        case SINK_MSG_MSAP_ATTR_WRITE_REQ:
        case SINK_MSG_CSAP_ATTR_WRITE_REQ:
                r = cursor_get_le16(c, &m->attr_write.attr_id);
                return r ?: get_tail(c, &m->attr_write.value, &m->attr_write.value_len);

        case SINK_MSG_MSAP_ATTR_READ_REQ:
        case SINK_MSG_CSAP_ATTR_READ_REQ:
                return cursor_get_le16(c, &m->attr_id);

        case SINK_MSG_FACTORY_RESET_REQ:
                return cursor_get_le32(c, &m->reset_key);

        case SINK_MSG_SINK_COST_WRITE_REQ:
                return cursor_get_u8(c, &m->cost);

        case SINK_MSG_APP_CONFIG_WRITE_REQ:
                return decode_app_config(c, false, &m->app_config);

        case SINK_MSG_DATA_TX_CNF:
        case SINK_MSG_DATA_TX_TT_CNF:
                r = r ?: cursor_get_le16(c, &m->data_tx_cnf.pdu_id);
                r = r ?: cursor_get_u8(c, &m->data_tx_cnf.result);
                return r ?: cursor_get_u8(c, &m->data_tx_cnf.capacity);

        case SINK_MSG_POLL_CNF:
        case SINK_MSG_RESPONSE:
                r = cursor_get_u8(c, &m->result);
                if (r < 0)
                        return r;
                return m->result <= 1 ? 0 : -EBADMSG; /* both are 0 or 1, nothing else */

        case SINK_MSG_STACK_START_CNF:
        case SINK_MSG_STACK_STOP_CNF:
        case SINK_MSG_MSAP_ATTR_WRITE_CNF:
        case SINK_MSG_CSAP_ATTR_WRITE_CNF:
        case SINK_MSG_FACTORY_RESET_CNF:
        case SINK_MSG_SINK_COST_WRITE_CNF:
        case SINK_MSG_APP_CONFIG_WRITE_CNF:
                return cursor_get_u8(c, &m->result);

        case SINK_MSG_MSAP_ATTR_READ_CNF:
        case SINK_MSG_CSAP_ATTR_READ_CNF:
                r = r ?: cursor_get_u8(c, &m->attr_read_cnf.result);
                r = r ?: cursor_get_le16(c, &m->attr_read_cnf.attr_id);
                return r ?: get_tail(c, &m->attr_read_cnf.value, &m->attr_read_cnf.value_len);

        case SINK_MSG_SCRATCHPAD_STATUS_CNF: {
                SinkScratchpadStatus *s = &m->scratchpad;

                r = r ?: cursor_get_le32(c, &s->length);
                r = r ?: cursor_get_le16(c, &s->crc);
                r = r ?: cursor_get_u8(c, &s->sequence);
                r = r ?: cursor_get_u8(c, &s->type);
                r = r ?: cursor_get_u8(c, &s->status);
                r = r ?: cursor_get_le32(c, &s->processed_length);
                r = r ?: cursor_get_le16(c, &s->processed_crc);
                r = r ?: cursor_get_u8(c, &s->processed_sequence);
                r = r ?: cursor_get_le32(c, &s->area_id);
                r = r ?: cursor_get_u8(c, &s->fw_major);
                r = r ?: cursor_get_u8(c, &s->fw_minor);
                r = r ?: cursor_get_u8(c, &s->fw_maintenance);
                return r ?: cursor_get_u8(c, &s->fw_development);
        }

        case SINK_MSG_SINK_COST_READ_CNF:
                r = cursor_get_u8(c, &m->cost_cnf.result);
                return r ?: cursor_get_u8(c, &m->cost_cnf.cost);

        case SINK_MSG_APP_CONFIG_READ_CNF:
        case SINK_MSG_APP_CONFIG_RX_IND:
                return decode_app_config(c, true, &m->app_config);

        case SINK_MSG_DATA_TX_IND: {
                SinkDataTxInd *d = &m->data_tx_ind;

                r = r ?: cursor_get_u8(c, &d->status);
                r = r ?: cursor_get_le16(c, &d->pdu_id);
                r = r ?: cursor_get_u8(c, &d->src_ep);
                r = r ?: cursor_get_le32(c, &d->dst_addr);
                r = r ?: cursor_get_u8(c, &d->dst_ep);
                r = r ?: cursor_get_le32(c, &d->buffering_delay);
                return r ?: cursor_get_u8(c, &d->result);
        }

        case SINK_MSG_DATA_RX_IND: {
                SinkDataRx *d = &m->data_rx;

                r = r ?: cursor_get_u8(c, &d->status);
                r = r ?: cursor_get_le32(c, &d->src_addr);
                r = r ?: cursor_get_u8(c, &d->src_ep);
                r = r ?: cursor_get_le32(c, &d->dst_addr);
                r = r ?: cursor_get_u8(c, &d->dst_ep);
                r = r ?: cursor_get_u8(c, &d->qos_hop);
                r = r ?: cursor_get_le32(c, &d->travel_time);
                return r ?: get_tail(c, &d->apdu, &d->apdu_len);
        }

        case SINK_MSG_STACK_STATE_IND:
                r = cursor_get_u8(c, &m->stack_state.status);
                return r ?: cursor_get_u8(c, &m->stack_state.stack_status);

        case SINK_MSG_GENERIC_IND: {
                size_t n;

                cursor_get_rest(c, &m->generic.payload, &n);
                m->generic.payload_len = (uint8_t)n; /* a frame payload is at most 255 bytes */
                return 0;
        }

        case _SINK_MSG_TYPE_MAX:
        case _SINK_MSG_TYPE_INVALID:
                break;
        }
        return -EINVAL;
}

int sinkmsg_decode(SinkDirection dir, const SinkFrame *f, SinkMsg *ret) {
        Cursor c;
        SinkMsg m = {};
        bool reply;
        int r;

        assert(f);
        assert(f->payload || f->payload_len == 0);

        if (f->payload_len > SINK_FRAME_PAYLOAD_MAX)
                return -EBADMSG;

        m.primitive = f->primitive;
        m.frame_id = f->frame_id;
        reply = f->primitive & SINK_PRIM_REPLY_BIT;
        if (dir == SINK_TO_DEVICE) {
                if (reply)
                        m.type = SINK_MSG_RESPONSE;
                else {
                        m.type = lookup(SINK_KIND_REQUEST, f->primitive);
                        if (m.type < 0)
                                return -EOPNOTSUPP;
                }
        } else if (dir == SINK_TO_HOST) {
                if (reply) {
                        m.type = lookup(SINK_KIND_CONFIRM, f->primitive);
                        if (m.type < 0)
                                return -EOPNOTSUPP;
                } else {
                        m.type = lookup(SINK_KIND_INDICATION, f->primitive);
                        if (m.type < 0)
                                m.type = SINK_MSG_GENERIC_IND;
                }
        } else
                return -EINVAL;

        c = CURSOR_INIT(f->payload, f->payload_len);
        r = decode_body(&c, &m);
        if (r < 0)
                return r;
        if (cursor_left(&c) != 0)
                return -EBADMSG; /* trailing bytes: the device drops such frames */

        if (ret)
                *ret = m;
        return 0;
}

static int put_tail(Writer *w, const uint8_t *p, size_t n) {
        if (n > 0 && !p)
                return -EINVAL;
        (void)writer_put_u8(w, (uint8_t)n);
        (void)writer_put_bytes(w, p, n);
        return 0;
}

static int encode_app_config(Writer *w, bool has_status, const SinkAppConfig *a) {
        if (!a->data)
                return -EINVAL;
        if (has_status)
                (void)writer_put_u8(w, a->status);
        (void)writer_put_u8(w, a->sequence);
        (void)writer_put_le16(w, a->interval);
        (void)writer_put_bytes(w, a->data, SINK_APP_CONFIG_SIZE);
        return 0;
}

static int encode_body(Writer *w, const SinkMsg *m) {
        switch (m->type) {
        case SINK_MSG_DATA_TX_REQ:
        case SINK_MSG_DATA_TX_TT_REQ: {
                const SinkDataTx *d = &m->data_tx;

                (void)writer_put_le16(w, d->pdu_id);
                (void)writer_put_u8(w, d->src_ep);
                (void)writer_put_le32(w, d->dst_addr);
                (void)writer_put_u8(w, d->dst_ep);
                (void)writer_put_u8(w, d->qos);
                (void)writer_put_u8(w, d->tx_options);
                if (m->type == SINK_MSG_DATA_TX_TT_REQ)
                        (void)writer_put_le32(w, d->buffering_delay);
                return put_tail(w, d->apdu, d->apdu_len);
        }

        case SINK_MSG_POLL_REQ:
        case SINK_MSG_STACK_STOP_REQ:
        case SINK_MSG_SCRATCHPAD_STATUS_REQ:
        case SINK_MSG_SINK_COST_READ_REQ:
        case SINK_MSG_APP_CONFIG_READ_REQ:
                return 0;

        case SINK_MSG_STACK_START_REQ:
                return writer_put_u8(w, m->start_options);

        case SINK_MSG_MSAP_ATTR_WRITE_REQ:
        case SINK_MSG_CSAP_ATTR_WRITE_REQ:
                (void)writer_put_le16(w, m->attr_write.attr_id);
                return put_tail(w, m->attr_write.value, m->attr_write.value_len);

        case SINK_MSG_MSAP_ATTR_READ_REQ:
        case SINK_MSG_CSAP_ATTR_READ_REQ:
                return writer_put_le16(w, m->attr_id);

        case SINK_MSG_FACTORY_RESET_REQ:
                return writer_put_le32(w, m->reset_key);

        case SINK_MSG_SINK_COST_WRITE_REQ:
                return writer_put_u8(w, m->cost);

        case SINK_MSG_APP_CONFIG_WRITE_REQ:
                return encode_app_config(w, false, &m->app_config);

        case SINK_MSG_DATA_TX_CNF:
        case SINK_MSG_DATA_TX_TT_CNF:
                (void)writer_put_le16(w, m->data_tx_cnf.pdu_id);
                (void)writer_put_u8(w, m->data_tx_cnf.result);
                return writer_put_u8(w, m->data_tx_cnf.capacity);

        case SINK_MSG_POLL_CNF:
        case SINK_MSG_RESPONSE:
                if (m->result > 1)
                        return -EINVAL;
                return writer_put_u8(w, m->result);

        case SINK_MSG_STACK_START_CNF:
        case SINK_MSG_STACK_STOP_CNF:
        case SINK_MSG_MSAP_ATTR_WRITE_CNF:
        case SINK_MSG_CSAP_ATTR_WRITE_CNF:
        case SINK_MSG_FACTORY_RESET_CNF:
        case SINK_MSG_SINK_COST_WRITE_CNF:
        case SINK_MSG_APP_CONFIG_WRITE_CNF:
                return writer_put_u8(w, m->result);

        case SINK_MSG_MSAP_ATTR_READ_CNF:
        case SINK_MSG_CSAP_ATTR_READ_CNF:
                (void)writer_put_u8(w, m->attr_read_cnf.result);
                (void)writer_put_le16(w, m->attr_read_cnf.attr_id);
                return put_tail(w, m->attr_read_cnf.value, m->attr_read_cnf.value_len);

        case SINK_MSG_SCRATCHPAD_STATUS_CNF: {
                const SinkScratchpadStatus *s = &m->scratchpad;

                (void)writer_put_le32(w, s->length);
                (void)writer_put_le16(w, s->crc);
                (void)writer_put_u8(w, s->sequence);
                (void)writer_put_u8(w, s->type);
                (void)writer_put_u8(w, s->status);
                (void)writer_put_le32(w, s->processed_length);
                (void)writer_put_le16(w, s->processed_crc);
                (void)writer_put_u8(w, s->processed_sequence);
                (void)writer_put_le32(w, s->area_id);
                (void)writer_put_u8(w, s->fw_major);
                (void)writer_put_u8(w, s->fw_minor);
                (void)writer_put_u8(w, s->fw_maintenance);
                return writer_put_u8(w, s->fw_development);
        }

        case SINK_MSG_SINK_COST_READ_CNF:
                (void)writer_put_u8(w, m->cost_cnf.result);
                return writer_put_u8(w, m->cost_cnf.cost);

        case SINK_MSG_APP_CONFIG_READ_CNF:
        case SINK_MSG_APP_CONFIG_RX_IND:
                return encode_app_config(w, true, &m->app_config);

        case SINK_MSG_DATA_TX_IND: {
                const SinkDataTxInd *d = &m->data_tx_ind;

                (void)writer_put_u8(w, d->status);
                (void)writer_put_le16(w, d->pdu_id);
                (void)writer_put_u8(w, d->src_ep);
                (void)writer_put_le32(w, d->dst_addr);
                (void)writer_put_u8(w, d->dst_ep);
                (void)writer_put_le32(w, d->buffering_delay);
                return writer_put_u8(w, d->result);
        }

        case SINK_MSG_DATA_RX_IND: {
                const SinkDataRx *d = &m->data_rx;

                (void)writer_put_u8(w, d->status);
                (void)writer_put_le32(w, d->src_addr);
                (void)writer_put_u8(w, d->src_ep);
                (void)writer_put_le32(w, d->dst_addr);
                (void)writer_put_u8(w, d->dst_ep);
                (void)writer_put_u8(w, d->qos_hop);
                (void)writer_put_le32(w, d->travel_time);
                return put_tail(w, d->apdu, d->apdu_len);
        }

        case SINK_MSG_STACK_STATE_IND:
                (void)writer_put_u8(w, m->stack_state.status);
                return writer_put_u8(w, m->stack_state.stack_status);

        case SINK_MSG_GENERIC_IND:
                if (m->generic.payload_len > 0 && !m->generic.payload)
                        return -EINVAL;
                return writer_put_bytes(w, m->generic.payload, m->generic.payload_len);

        case _SINK_MSG_TYPE_MAX:
        case _SINK_MSG_TYPE_INVALID:
                break;
        }
        return -EINVAL;
}

int sinkmsg_encode(const SinkMsg *m, uint8_t *buf, size_t bufsz) {
        uint8_t tmp[SINK_FRAME_MAX];
        Writer w = WRITER_INIT(tmp, SINK_FRAME_MAX - SINK_FRAME_CRC_SIZE);
        int primitive, r;

        assert(m);

        if (!type_valid(m->type))
                return -EINVAL;
        primitive = msg_info[m->type].primitive;
        if (m->type == SINK_MSG_RESPONSE) {
                if (!(m->primitive & SINK_PRIM_REPLY_BIT))
                        return -EINVAL;
                primitive = m->primitive;
        } else if (m->type == SINK_MSG_GENERIC_IND) {
                /* A known id would decode as its typed message: refuse what cannot round-trip. */
                if ((m->primitive & SINK_PRIM_REPLY_BIT) || lookup(SINK_KIND_INDICATION, m->primitive) >= 0)
                        return -EINVAL;
                primitive = m->primitive;
        }

        (void)writer_put_u8(&w, (uint8_t)primitive);
        (void)writer_put_u8(&w, m->frame_id);
        (void)writer_put_u8(&w, 0); /* length, patched below */
        r = encode_body(&w, m);
        if (r < 0)
                return r;
        if (writer_status(&w) < 0)
                return -EINVAL; /* payload over 255 bytes: cannot be framed at all */
        tmp[2] = (uint8_t)(w.len - SINK_FRAME_HEADER_SIZE);

        if (!buf || bufsz < w.len)
                return -EMSGSIZE;
        memcpy(buf, tmp, w.len);
        return (int)w.len;
}

int sinkmsg_to_wire(const SinkMsg *m, uint8_t *buf, size_t bufsz) {
        uint8_t raw[SINK_FRAME_MAX];
        SinkDirection dir = _SINK_DIRECTION_INVALID;
        int r;

        assert(m);

        r = sinkmsg_encode(m, raw, sizeof(raw));
        if (r < 0)
                return r;
        switch (sinkmsg_type_kind(m->type)) {
        case SINK_KIND_REQUEST:
        case SINK_KIND_RESPONSE:
                dir = SINK_TO_DEVICE;
                break;
        case SINK_KIND_CONFIRM:
        case SINK_KIND_INDICATION:
                dir = SINK_TO_HOST;
                break;
        case _SINK_KIND_MAX:
        case _SINK_KIND_INVALID:
                return -EINVAL;
        }
        return sink_slip_encode(dir, raw, (size_t)r, buf, bufsz);
}
