/* SPDX-License-Identifier: Apache-2.0 */
#include "sinkdev.h"

#include "cursor.h"
#include "simrand.h"

#define DEV_OUTPUT_MAX       (64u * 1024u)
#define DEV_TX_TRACK_MAX     16u /* DATA_TX indications outstanding at once */
#define DEV_SCRATCHPAD_BLOCK 112u
#define DEV_ACCESS_CYCLE_MIN 2000u
#define DEV_ACCESS_CYCLE_MAX 8000u

typedef struct SinkInd {
        uint8_t primitive;
        uint8_t len;
        uint8_t payload[SINK_FRAME_PAYLOAD_MAX]; /* [0] = indication status, set when sent */
        uint64_t tag;                            /* the caller's, reported when popped; 0: none */
} SinkInd;

struct SinkDev {
        SinkDevConfig cfg;

        /* persistent settings (survive a reboot) */
        bool has_node_address, has_network_address, has_channel;
        uint32_t node_address, network_address;
        uint8_t channel, role;
        bool autostart;
        bool cipher_key_set, auth_key_set;
        bool app_config_set;
        uint8_t app_config_seq;
        uint16_t app_config_interval;
        uint8_t app_config[SINK_APP_CONFIG_SIZE];
        uint8_t sink_cost;
        uint32_t access_cycle_range;

        /* run-time state (lost on reboot) */
        bool running;
        usec_t boot_time;
        usec_t off_until;  /* rebooting: deaf and mute until then */
        bool boot_pending; /* queue STACK_STATE when off_until passes */
        usec_t stall_until;
        SinkFrameDecoder dec;
        SinkInd *queue;
        size_t q_head, q_len;
        uint8_t prot_seq;
        unsigned tx_tracked; /* DATA_TX indications queued and not yet popped */
        unsigned oom_left;
        bool hangup;

        uint8_t *out;
        size_t out_len;

        SimRand rng;
        SinkDevDownlinkFn downlink;
        void *downlink_userdata;
        SinkDevPoppedFn popped;
        void *popped_userdata;
        SinkDevStats stats;
};

void sink_dev_config_default(SinkDevConfig *c) {
        *c = (SinkDevConfig){
                .has_node_address = true,
                .node_address = 1,
                .has_network_address = true,
                .network_address = 0x1012EE,
                .has_channel = true,
                .channel = 2,
                .role = 0x11, /* low-latency sink */
                .running = true,
                .autostart = true,
                .api_version = 18,
                .firmware = { 5, 4, 0, 54 },
                .mtu = SINK_MTU_DEFAULT,
                .pdu_buffers = 16,
                .channel_min = 1,
                .channel_max = 40,
                .reboot_time = 300 * USEC_PER_MSEC,
                .queue_max = 64,
                .faults = { .stall_time = 2 * USEC_PER_SEC, .oom_burst = 5 },
        };
}

static uint8_t missing_settings(const SinkDev *d) {
        uint8_t m = 0;

        if (!d->has_network_address)
                m |= SINK_STACK_NO_NETWORK_ADDRESS;
        if (!d->has_node_address)
                m |= SINK_STACK_NO_NODE_ADDRESS;
        if (!d->has_channel)
                m |= SINK_STACK_NO_CHANNEL;
        if (d->role == 0)
                m |= SINK_STACK_NO_ROLE;
        return m;
}

static uint8_t stack_status(const SinkDev *d) {
        return d->running ? 0 : (uint8_t)(SINK_STACK_STOPPED | missing_settings(d));
}

static bool is_sink_role(uint8_t role) {
        return (role & 0x0F) == 0x01;
}

int sink_dev_new(const SinkDevConfig *cfg, usec_t now, SinkDev **ret) {
        _cleanup_(sink_dev_freep) SinkDev *d = NULL;

        assert(cfg);
        assert(ret);

        if (cfg->queue_max == 0 || cfg->mtu == 0)
                return -EINVAL;
        d = new0(SinkDev, 1);
        if (!d)
                return -ENOMEM;
        d->cfg = *cfg;
        d->queue = new0(SinkInd, cfg->queue_max);
        d->out = new (uint8_t, DEV_OUTPUT_MAX);
        if (!d->queue || !d->out)
                return -ENOMEM;

        d->has_node_address = cfg->has_node_address;
        d->node_address = cfg->node_address;
        d->has_network_address = cfg->has_network_address;
        d->network_address = cfg->network_address;
        d->has_channel = cfg->has_channel;
        d->channel = cfg->channel;
        d->role = cfg->role;
        d->autostart = cfg->autostart;
        d->access_cycle_range = DEV_ACCESS_CYCLE_MIN | (DEV_ACCESS_CYCLE_MAX << 16);
        d->running = cfg->running && missing_settings(d) == 0;
        d->boot_time = now;
        sim_rand_seed(&d->rng, cfg->seed ^ 0x51DE5EEDULL);
        sink_frame_decoder_init(&d->dec, SINK_DEVICE_FRAME_MAX); /* ref-dualmcu.md §2 */

        *ret = TAKE_PTR(d);
        return 0;
}

SinkDev *sink_dev_free(SinkDev *d) {
        if (!d)
                return NULL;
        free(d->queue);
        free(d->out);
        free(d);
        return NULL;
}

void sink_dev_set_downlink(SinkDev *d, SinkDevDownlinkFn fn, void *userdata) {
        d->downlink = fn;
        d->downlink_userdata = userdata;
}

void sink_dev_set_popped(SinkDev *d, SinkDevPoppedFn fn, void *userdata) {
        d->popped = fn;
        d->popped_userdata = userdata;
}

/* ---- output ---- */

static void out_append(SinkDev *d, const uint8_t *p, size_t n) {
        if (n > DEV_OUTPUT_MAX - d->out_len) {
                d->stats.output_overflow++;
                return;
        }
        memcpy(d->out + d->out_len, p, n);
        d->out_len += n;
        d->stats.bytes_out += n;
}

/* Corrupts the CRC of an encoded frame without touching its framing: flips a bit of the last CRC byte (or,
 * if that byte is part of an escape, of the primitive id) so that no END or ESC appears or disappears. */
static void corrupt_crc(uint8_t *wire, size_t len) {
        static const uint8_t masks[] = { 0x01, 0x02, 0x04, 0x08 };
        size_t candidates[] = { len - 2, 1 };

        for (size_t c = 0; c < ELEMENTSOF(candidates); c++) {
                size_t i = candidates[c];
                uint8_t b = wire[i];
                if (b == SINK_SLIP_END || b == SINK_SLIP_ESC || b == SINK_SLIP_ESC_END ||
                    b == SINK_SLIP_ESC_ESC)
                        continue;
                for (size_t k = 0; k < ELEMENTSOF(masks); k++) {
                        uint8_t x = b ^ masks[k];
                        if (x != SINK_SLIP_END && x != SINK_SLIP_ESC) {
                                wire[i] = x;
                                return;
                        }
                }
        }
}

static void emit_wire(SinkDev *d, uint8_t *wire, size_t len) {
        const SinkDevFaults *f = &d->cfg.faults;

        if (sim_rand_chance(&d->rng, f->garbage)) {
                uint8_t junk[8];
                size_t n = 1 + sim_rand_below(&d->rng, sizeof(junk));
                sim_rand_bytes(&d->rng, junk, n);
                out_append(d, junk, n);
                d->stats.fault_garbage++;
        }
        if (sim_rand_chance(&d->rng, f->crc)) {
                corrupt_crc(wire, len);
                d->stats.fault_crc++;
        }
        if (len > 2 && sim_rand_chance(&d->rng, f->truncate)) {
                len = 1 + sim_rand_below(&d->rng, len - 2);
                d->stats.fault_truncate++;
        }
        out_append(d, wire, len);
}

static void emit_raw(SinkDev *d, const uint8_t *raw, size_t len) {
        uint8_t wire[SINK_SLIP_WIRE_MAX(SINK_FRAME_MAX)];
        int r = sink_slip_encode(SINK_TO_HOST, raw, len, wire, sizeof(wire));
        assert(r > 0);
        emit_wire(d, wire, (size_t)r);
}

static void emit(SinkDev *d, const SinkMsg *m) {
        uint8_t raw[SINK_FRAME_MAX];
        int r = sinkmsg_encode(m, raw, sizeof(raw));
        assert(r > 0); /* we only build well-formed confirms */
        if (sinkmsg_type_kind(m->type) == SINK_KIND_CONFIRM)
                d->stats.confirms++;
        emit_raw(d, raw, (size_t)r);
}

const uint8_t *sink_dev_output(const SinkDev *d, size_t *ret_len) {
        *ret_len = d->out_len;
        return d->out;
}

void sink_dev_output_consume(SinkDev *d, size_t n) {
        n = MIN(n, d->out_len);
        memmove(d->out, d->out + n, d->out_len - n);
        d->out_len -= n;
}

void sink_dev_output_clear(SinkDev *d) {
        d->out_len = 0;
}

/* ---- indications ---- */

size_t sink_dev_queued(const SinkDev *d) {
        return d->q_len;
}

static SinkInd *queue_head(SinkDev *d) {
        return d->q_len > 0 ? &d->queue[d->q_head] : NULL;
}

static SinkInd *queue_push(SinkDev *d) {
        SinkInd *e;

        if (d->q_len >= d->cfg.queue_max)
                return NULL;
        e = &d->queue[(d->q_head + d->q_len) % d->cfg.queue_max];
        d->q_len++;
        return e;
}

static void queue_pop(SinkDev *d) {
        if (d->q_len == 0)
                return;
        if (d->queue[d->q_head].primitive == SINK_PRIM_DATA_TX_IND && d->tx_tracked > 0)
                d->tx_tracked--;
        d->q_head = (d->q_head + 1) % d->cfg.queue_max;
        d->q_len--;
}

static void queue_clear(SinkDev *d) {
        d->q_head = d->q_len = 0;
        d->tx_tracked = 0;
}

int sink_dev_queue_indication(SinkDev *d, uint8_t primitive, const uint8_t *payload, size_t len) {
        SinkInd *e;

        if (primitive & SINK_PRIM_REPLY_BIT || len == 0 || len > SINK_FRAME_PAYLOAD_MAX)
                return -EINVAL;
        e = queue_push(d);
        if (!e)
                return -ENOBUFS;
        e->primitive = primitive;
        e->tag = 0;
        e->len = (uint8_t)len;
        memcpy(e->payload, payload, len);
        return 0;
}

static int queue_msg(SinkDev *d, const SinkMsg *m) {
        uint8_t raw[SINK_FRAME_MAX];
        int r = sinkmsg_encode(m, raw, sizeof(raw));
        if (r < 0)
                return r;
        return sink_dev_queue_indication(d, raw[0], raw + SINK_FRAME_HEADER_SIZE, raw[2]);
}

int sink_dev_queue_data_rx(SinkDev *d, usec_t now, uint32_t src_addr, uint8_t src_ep, uint8_t dst_ep,
                           uint8_t qos_hop, uint32_t travel_time, const uint8_t *apdu, size_t apdu_len) {
        return sink_dev_queue_data_rx_tagged(d, now, src_addr, src_ep, dst_ep, qos_hop, travel_time, apdu,
                                             apdu_len, 0);
}

int sink_dev_queue_data_rx_tagged(SinkDev *d, usec_t now, uint32_t src_addr, uint8_t src_ep, uint8_t dst_ep,
                                  uint8_t qos_hop, uint32_t travel_time, const uint8_t *apdu,
                                  size_t apdu_len, uint64_t tag) {
        int r;

        sink_dev_tick(d, now);
        if (sink_dev_is_off(d, now) || !d->running) {
                d->stats.rx_dropped_stopped++;
                return -ENETDOWN;
        }
        if (apdu_len == 0 || apdu_len > UINT8_MAX - 17)
                return -EINVAL;
        SinkMsg m = { .type = SINK_MSG_DATA_RX_IND,
                      .data_rx = { .src_addr = src_addr,
                                   .src_ep = src_ep,
                                   .dst_addr = d->node_address,
                                   .dst_ep = dst_ep,
                                   .qos_hop = qos_hop,
                                   .travel_time = travel_time,
                                   .apdu = apdu,
                                   .apdu_len = (uint8_t)apdu_len } };
        r = queue_msg(d, &m);
        if (r == -ENOBUFS)
                d->stats.rx_dropped_full++;
        else if (r >= 0) {
                d->stats.rx_queued++;
                d->queue[(d->q_head + d->q_len - 1) % d->cfg.queue_max].tag = tag;
        }
        return r;
}

/* Sends the head indication with frame id prot_seq and status "more queued after this one". */
static void send_head(SinkDev *d, bool resend) {
        uint8_t raw[SINK_FRAME_MAX];
        SinkInd *e = queue_head(d);

        if (!e)
                return;
        e->payload[0] = d->q_len > 1;
        raw[0] = e->primitive;
        raw[1] = d->prot_seq;
        raw[2] = e->len;
        memcpy(raw + SINK_FRAME_HEADER_SIZE, e->payload, e->len);
        emit_raw(d, raw, SINK_FRAME_HEADER_SIZE + e->len);
        d->stats.indications_sent++;
        if (resend)
                d->stats.indications_resent++;
}

/* ---- lifecycle ---- */

void sink_dev_reboot(SinkDev *d, usec_t now) {
        queue_clear(d);
        d->prot_seq = 0;
        d->oom_left = 0;
        d->stall_until = 0;
        d->running = false;
        d->off_until = usec_add(now, d->cfg.reboot_time);
        d->boot_pending = true;
        sink_frame_decoder_reset(&d->dec);
        d->stats.reboots++;
        sink_dev_tick(d, now); /* a zero reboot time boots at once */
}

void sink_dev_tick(SinkDev *d, usec_t now) {
        if (!d->boot_pending || now < d->off_until)
                return;
        d->boot_pending = false;
        d->boot_time = now;
        d->running = d->autostart && missing_settings(d) == 0;
        /* after boot the device has exactly one indication queued: its stack state */
        SinkMsg m = { .type = SINK_MSG_STACK_STATE_IND, .stack_state = { .stack_status = stack_status(d) } };
        (void)queue_msg(d, &m);
}

usec_t sink_dev_deadline(const SinkDev *d) {
        return d->boot_pending ? d->off_until : USEC_INFINITY;
}

bool sink_dev_is_off(const SinkDev *d, usec_t now) {
        return d->boot_pending && now < d->off_until;
}

bool sink_dev_take_hangup(SinkDev *d) {
        bool h = d->hangup;
        d->hangup = false;
        return h;
}

/* ---- requests ---- */

static void confirm_result(SinkDev *d, const SinkMsg *req, uint8_t result) {
        SinkMsg c = { .type = sinkmsg_confirm_type(req->type), .frame_id = req->frame_id, .result = result };
        emit(d, &c);
}

static void confirm_read(SinkDev *d, const SinkMsg *req, uint8_t result, const uint8_t *value, size_t len) {
        SinkMsg c = { .type = sinkmsg_confirm_type(req->type),
                      .frame_id = req->frame_id,
                      .attr_read_cnf = { .result = result,
                                         .attr_id = req->attr_id,
                                         .value = result == SINK_ATTR_OK ? value : NULL,
                                         .value_len = result == SINK_ATTR_OK ? (uint8_t)len : 0 } };
        emit(d, &c);
}

static void handle_poll(SinkDev *d, const SinkMsg *req) {
        d->stats.polls++;
        confirm_result(d, req, d->q_len > 0 ? SINK_POLL_PENDING : SINK_POLL_NOTHING);
        /* the oldest indication follows at once, unprompted: a re-send if its response never came */
        send_head(d, false);
}

static void handle_response(SinkDev *d, const SinkMsg *m) {
        SinkInd *e = queue_head(d);

        d->stats.responses++;
        if (e && m->frame_id == d->prot_seq && m->primitive == (e->primitive | SINK_PRIM_REPLY_BIT)) {
                uint64_t tag = e->tag;
                queue_pop(d);
                if (tag != 0 && d->popped)
                        d->popped(d, tag, d->popped_userdata);
                d->prot_seq++;
                d->stats.indications_popped++;
        }
        if (m->result == SINK_RESPONSE_NEXT && d->q_len > 0)
                send_head(d, false);
}

static void handle_data_tx(SinkDev *d, usec_t now, const SinkMsg *req) {
        const SinkDataTx *tx = &req->data_tx;
        bool want_ind = tx->tx_options & SINK_TX_OPT_INDICATION;
        uint8_t result = SINK_TX_OK;

        d->stats.data_tx++;
        if (!d->running)
                result = SINK_TX_STACK_STOPPED;
        else if (tx->qos > 1)
                result = SINK_TX_INVALID_QOS;
        else if (tx->tx_options & 0xC0)
                result = SINK_TX_INVALID_OPTIONS;
        else if (tx->apdu_len == 0 || tx->apdu_len > d->cfg.mtu)
                result = SINK_TX_INVALID_LENGTH;
        else if (want_ind && d->tx_tracked >= DEV_TX_TRACK_MAX)
                result = SINK_TX_INDICATION_FULL;
        else if (d->oom_left > 0) {
                d->oom_left--;
                result = SINK_TX_OUT_OF_MEMORY;
        } else if (sim_rand_chance(&d->rng, d->cfg.faults.oom)) {
                d->oom_left = d->cfg.faults.oom_burst > 0 ? d->cfg.faults.oom_burst - 1 : 0;
                result = SINK_TX_OUT_OF_MEMORY;
        }
        if (result == SINK_TX_OUT_OF_MEMORY)
                d->stats.fault_oom++;

        SinkMsg c = { .type = sinkmsg_confirm_type(req->type),
                      .frame_id = req->frame_id,
                      .data_tx_cnf = { .pdu_id = tx->pdu_id,
                                       .result = result,
                                       .capacity =
                                               result == SINK_TX_OUT_OF_MEMORY ? 0 : d->cfg.pdu_buffers } };
        emit(d, &c);
        if (result != SINK_TX_OK) {
                d->stats.data_tx_failed++;
                return;
        }
        d->stats.data_tx_ok++;
        if (d->downlink)
                d->downlink(d, now, tx, d->downlink_userdata);
        if (want_ind) {
                SinkMsg ind = { .type = SINK_MSG_DATA_TX_IND,
                                .data_tx_ind = { .pdu_id = tx->pdu_id,
                                                 .src_ep = tx->src_ep,
                                                 .dst_addr = tx->dst_addr,
                                                 .dst_ep = tx->dst_ep,
                                                 .buffering_delay =
                                                         1 + (uint32_t)sim_rand_below(&d->rng, 64),
                                                 .result = 0 } };
                if (queue_msg(d, &ind) >= 0)
                        d->tx_tracked++;
        }
}

static void handle_stack_start(SinkDev *d, const SinkMsg *req) {
        uint8_t missing;

        d->autostart = req->start_options & 0x01;
        if (d->running) {
                confirm_result(d, req, 0); /* reports the current state: running */
                return;
        }
        missing = missing_settings(d);
        if (missing != 0) {
                confirm_result(d, req, SINK_STACK_STOPPED | missing);
                return;
        }
        d->running = true;
        confirm_result(d, req, 0);
}

static bool valid_role(uint8_t role) {
        uint8_t base = role & 0x0F;
        return role != 0 && (role & 0x60) == 0 && base >= 1 && base <= 3;
}

static void handle_csap_write(SinkDev *d, const SinkMsg *req) {
        const SinkAttrWrite *w = &req->attr_write;
        Cursor c = CURSOR_INIT(w->value, w->value_len);
        size_t want;
        uint32_t v32 = 0;
        uint8_t v8 = 0;

        switch (w->attr_id) {
        case SINK_CSAP_NODE_ADDRESS:
                want = 4;
                break;
        case SINK_CSAP_NETWORK_ADDRESS:
                want = 3;
                break;
        case SINK_CSAP_NETWORK_CHANNEL:
        case SINK_CSAP_NODE_ROLE:
                want = 1;
                break;
        case SINK_CSAP_CIPHER_KEY:
        case SINK_CSAP_AUTHENTICATION_KEY:
                want = 16;
                break;
        default:
                confirm_result(d, req, SINK_ATTR_UNSUPPORTED); /* unknown or read-only */
                return;
        }
        if (d->running) {
                confirm_result(d, req, SINK_ATTR_WRONG_STATE);
                return;
        }
        if (w->value_len != want) {
                confirm_result(d, req, SINK_ATTR_WRONG_LENGTH);
                return;
        }

        switch (w->attr_id) {
        case SINK_CSAP_NODE_ADDRESS:
                (void)cursor_get_le32(&c, &v32);
                if (v32 == 0 || v32 >= 0xFFFFFFFEu || (v32 & 0xFF000000u) == 0x80000000u) {
                        confirm_result(d, req, SINK_ATTR_INVALID_VALUE);
                        return;
                }
                d->node_address = v32;
                d->has_node_address = true;
                break;
        case SINK_CSAP_NETWORK_ADDRESS: {
                uint16_t lo = 0;
                (void)cursor_get_le16(&c, &lo);
                (void)cursor_get_u8(&c, &v8);
                v32 = lo | ((uint32_t)v8 << 16);
                if (v32 == 0 || v32 == 0xFFFFFF) {
                        confirm_result(d, req, SINK_ATTR_INVALID_VALUE);
                        return;
                }
                d->network_address = v32;
                d->has_network_address = true;
                break;
        }
        case SINK_CSAP_NETWORK_CHANNEL:
                (void)cursor_get_u8(&c, &v8);
                if (v8 < d->cfg.channel_min || v8 > d->cfg.channel_max) {
                        confirm_result(d, req, SINK_ATTR_INVALID_VALUE);
                        return;
                }
                d->channel = v8;
                d->has_channel = true;
                break;
        case SINK_CSAP_NODE_ROLE:
                (void)cursor_get_u8(&c, &v8);
                if (!valid_role(v8)) {
                        confirm_result(d, req, SINK_ATTR_INVALID_VALUE);
                        return;
                }
                d->role = v8;
                break;
        case SINK_CSAP_CIPHER_KEY:
        case SINK_CSAP_AUTHENTICATION_KEY: {
                /* the key itself is not kept: only whether one is set (all 0xFF clears it) */
                bool all_ff = true;
                for (size_t i = 0; i < 16 && cursor_get_u8(&c, &v8) >= 0; i++)
                        all_ff = all_ff && v8 == 0xFF;
                if (w->attr_id == SINK_CSAP_CIPHER_KEY)
                        d->cipher_key_set = !all_ff;
                else
                        d->auth_key_set = !all_ff;
                break;
        }
        default:
                assert_not_reached();
        }
        confirm_result(d, req, SINK_ATTR_OK);
}

static void handle_csap_read(SinkDev *d, const SinkMsg *req) {
        uint8_t v[4];
        size_t n;

        switch (req->attr_id) {
        case SINK_CSAP_NODE_ADDRESS:
                if (!d->has_node_address)
                        return confirm_read(d, req, SINK_ATTR_INVALID_VALUE, NULL, 0);
                unaligned_write_le32(v, d->node_address);
                n = 4;
                break;
        case SINK_CSAP_NETWORK_ADDRESS:
                if (!d->has_network_address)
                        return confirm_read(d, req, SINK_ATTR_INVALID_VALUE, NULL, 0);
                unaligned_write_le32(v, d->network_address);
                n = 3;
                break;
        case SINK_CSAP_NETWORK_CHANNEL:
                if (!d->has_channel)
                        return confirm_read(d, req, SINK_ATTR_INVALID_VALUE, NULL, 0);
                v[0] = d->channel;
                n = 1;
                break;
        case SINK_CSAP_NODE_ROLE:
                v[0] = d->role;
                n = 1;
                break;
        case SINK_CSAP_MTU:
                v[0] = d->cfg.mtu;
                n = 1;
                break;
        case SINK_CSAP_PDU_BUFFER_SIZE:
                v[0] = d->cfg.pdu_buffers;
                n = 1;
                break;
        case SINK_CSAP_SCRATCHPAD_SEQUENCE:
                v[0] = 0;
                n = 1;
                break;
        case SINK_CSAP_MESH_API_VERSION:
                unaligned_write_le16(v, d->cfg.api_version);
                n = 2;
                break;
        case SINK_CSAP_FIRMWARE_MAJOR:
        case SINK_CSAP_FIRMWARE_MINOR:
        case SINK_CSAP_FIRMWARE_MAINTENANCE:
        case SINK_CSAP_FIRMWARE_DEVELOPMENT:
                unaligned_write_le16(v, d->cfg.firmware[req->attr_id - SINK_CSAP_FIRMWARE_MAJOR]);
                n = 2;
                break;
        case SINK_CSAP_CIPHER_KEY:
                return confirm_read(d, req,
                                    d->cipher_key_set ? SINK_ATTR_WRITE_ONLY_SET : SINK_ATTR_INVALID_VALUE,
                                    NULL, 0);
        case SINK_CSAP_AUTHENTICATION_KEY:
                return confirm_read(d, req,
                                    d->auth_key_set ? SINK_ATTR_WRITE_ONLY_SET : SINK_ATTR_INVALID_VALUE,
                                    NULL, 0);
        case SINK_CSAP_CHANNEL_LIMITS:
                v[0] = d->cfg.channel_min;
                v[1] = d->cfg.channel_max;
                n = 2;
                break;
        case SINK_CSAP_APP_CONFIG_DATA_SIZE:
                v[0] = SINK_APP_CONFIG_SIZE;
                n = 1;
                break;
        case SINK_CSAP_HW_MAGIC:
                unaligned_write_le16(v, 0x0003);
                n = 2;
                break;
        case SINK_CSAP_STACK_PROFILE:
                unaligned_write_le16(v, 0x0001);
                n = 2;
                break;
        default:
                return confirm_read(d, req, SINK_ATTR_UNSUPPORTED, NULL, 0);
        }
        confirm_read(d, req, SINK_ATTR_OK, v, n);
}

static void handle_msap_write(SinkDev *d, const SinkMsg *req) {
        const SinkAttrWrite *w = &req->attr_write;
        Cursor c = CURSOR_INIT(w->value, w->value_len);

        switch (w->attr_id) {
        case SINK_MSAP_AUTOSTART: {
                uint8_t v = 0;
                if (w->value_len != 1)
                        return confirm_result(d, req, SINK_ATTR_WRONG_LENGTH);
                (void)cursor_get_u8(&c, &v);
                if (v > 1)
                        return confirm_result(d, req, SINK_ATTR_INVALID_VALUE);
                d->autostart = v;
                return confirm_result(d, req, SINK_ATTR_OK);
        }
        case SINK_MSAP_ACCESS_CYCLE_RANGE: {
                uint16_t lo = 0, hi = 0;
                if (w->value_len != 4)
                        return confirm_result(d, req, SINK_ATTR_WRONG_LENGTH);
                (void)cursor_get_le16(&c, &lo);
                (void)cursor_get_le16(&c, &hi);
                if (lo > hi || lo < DEV_ACCESS_CYCLE_MIN || hi > DEV_ACCESS_CYCLE_MAX)
                        return confirm_result(d, req, SINK_ATTR_INVALID_VALUE);
                d->access_cycle_range = lo | ((uint32_t)hi << 16);
                return confirm_result(d, req, SINK_ATTR_OK);
        }
        default:
                return confirm_result(d, req, SINK_ATTR_UNSUPPORTED);
        }
}

static void handle_msap_read(SinkDev *d, usec_t now, const SinkMsg *req) {
        uint8_t v[4];
        size_t n;

        switch (req->attr_id) {
        case SINK_MSAP_STACK_STATUS:
                v[0] = stack_status(d);
                n = 1;
                break;
        case SINK_MSAP_PDU_BUFFER_USAGE:
                v[0] = 0;
                n = 1;
                break;
        case SINK_MSAP_PDU_BUFFER_CAPACITY:
                v[0] = d->cfg.pdu_buffers;
                n = 1;
                break;
        case SINK_MSAP_AUTOSTART:
                v[0] = d->autostart;
                n = 1;
                break;
        case SINK_MSAP_ROUTE_COUNT:
                if (!d->running)
                        return confirm_read(d, req, SINK_ATTR_WRONG_STATE, NULL, 0);
                v[0] = 0; /* a sink has no route to a sink */
                n = 1;
                break;
        case SINK_MSAP_SYSTEM_TIME:
                unaligned_write_le32(v, sink_ms_to_travel_time(usec_sub(now, d->boot_time) / USEC_PER_MSEC));
                n = 4;
                break;
        case SINK_MSAP_ACCESS_CYCLE_RANGE:
                unaligned_write_le32(v, d->access_cycle_range);
                n = 4;
                break;
        case SINK_MSAP_ACCESS_CYCLE_LIMITS:
                unaligned_write_le32(v, DEV_ACCESS_CYCLE_MIN | (DEV_ACCESS_CYCLE_MAX << 16));
                n = 4;
                break;
        case SINK_MSAP_CURRENT_ACCESS_CYCLE:
                if (!d->running)
                        return confirm_read(d, req, SINK_ATTR_WRONG_STATE, NULL, 0);
                unaligned_write_le16(v, (uint16_t)(d->access_cycle_range & 0xFFFF));
                n = 2;
                break;
        case SINK_MSAP_SCRATCHPAD_BLOCK_MAX:
                v[0] = DEV_SCRATCHPAD_BLOCK;
                n = 1;
                break;
        default:
                return confirm_read(d, req, SINK_ATTR_UNSUPPORTED, NULL, 0);
        }
        confirm_read(d, req, SINK_ATTR_OK, v, n);
}

static void handle_app_config_write(SinkDev *d, const SinkMsg *req) {
        static const uint16_t intervals[] = { 0, 30, 60, 120, 300, 600, 1800 };
        bool ok = false;

        if (!is_sink_role(d->role))
                return confirm_result(d, req, 1);
        for (size_t i = 0; i < ELEMENTSOF(intervals); i++)
                ok = ok || intervals[i] == req->app_config.interval;
        if (!ok)
                return confirm_result(d, req, 2);
        d->app_config_seq++; /* the stack manages the sequence; the request's value is ignored */
        d->app_config_interval = req->app_config.interval;
        memcpy(d->app_config, req->app_config.data, SINK_APP_CONFIG_SIZE);
        d->app_config_set = true;
        confirm_result(d, req, 0);
}

static void handle_app_config_read(SinkDev *d, const SinkMsg *req) {
        SinkMsg c = { .type = SINK_MSG_APP_CONFIG_READ_CNF,
                      .frame_id = req->frame_id,
                      .app_config = { .status = d->app_config_set ? 0 : 1,
                                      .sequence = d->app_config_seq,
                                      .interval = d->app_config_interval,
                                      .data = d->app_config } };
        emit(d, &c);
}

static void factory_reset(SinkDev *d) {
        d->has_node_address = d->has_network_address = d->has_channel = false;
        d->role = 0x82;
        d->autostart = false;
        d->cipher_key_set = d->auth_key_set = false;
        d->app_config_set = false;
        memset(d->app_config, 0, sizeof(d->app_config));
}

static void handle_request(SinkDev *d, usec_t now, const SinkMsg *m) {
        const SinkDevFaults *f = &d->cfg.faults;

        d->stats.requests++;
        if (sim_rand_chance(&d->rng, f->hangup)) {
                d->hangup = true;
                d->stats.hangups++;
                return;
        }
        if (sim_rand_chance(&d->rng, f->reboot)) {
                sink_dev_reboot(d, now);
                return;
        }
        if (d->stats.requests == f->stall_at || sim_rand_chance(&d->rng, f->stall)) {
                d->stall_until = usec_add(now, f->stall_time);
                d->stats.stalls++;
                return;
        }

        switch (m->type) {
        case SINK_MSG_POLL_REQ:
                return handle_poll(d, m);
        case SINK_MSG_DATA_TX_REQ:
        case SINK_MSG_DATA_TX_TT_REQ:
                return handle_data_tx(d, now, m);
        case SINK_MSG_STACK_START_REQ:
                return handle_stack_start(d, m);
        case SINK_MSG_STACK_STOP_REQ:
                /* SDK: answers 0 even when already stopped, then reboots */
                confirm_result(d, m, 0);
                return sink_dev_reboot(d, now);
        case SINK_MSG_MSAP_ATTR_WRITE_REQ:
                return handle_msap_write(d, m);
        case SINK_MSG_MSAP_ATTR_READ_REQ:
                return handle_msap_read(d, now, m);
        case SINK_MSG_CSAP_ATTR_WRITE_REQ:
                return handle_csap_write(d, m);
        case SINK_MSG_CSAP_ATTR_READ_REQ:
                return handle_csap_read(d, m);
        case SINK_MSG_FACTORY_RESET_REQ:
                if (d->running)
                        return confirm_result(d, m, 1);
                if (m->reset_key != SINK_FACTORY_RESET_KEY)
                        return confirm_result(d, m, 2);
                confirm_result(d, m, 0);
                factory_reset(d);
                return sink_dev_reboot(d, now);
        case SINK_MSG_SCRATCHPAD_STATUS_REQ: {
                SinkMsg c = { .type = SINK_MSG_SCRATCHPAD_STATUS_CNF,
                              .frame_id = m->frame_id,
                              .scratchpad = { .fw_major = (uint8_t)d->cfg.firmware[0],
                                              .fw_minor = (uint8_t)d->cfg.firmware[1],
                                              .fw_maintenance = (uint8_t)d->cfg.firmware[2],
                                              .fw_development = (uint8_t)d->cfg.firmware[3] } };
                return emit(d, &c);
        }
        case SINK_MSG_SINK_COST_WRITE_REQ:
                if (!is_sink_role(d->role))
                        return confirm_result(d, m, 1);
                d->sink_cost = m->cost;
                return confirm_result(d, m, 0);
        case SINK_MSG_SINK_COST_READ_REQ: {
                SinkMsg c = { .type = SINK_MSG_SINK_COST_READ_CNF,
                              .frame_id = m->frame_id,
                              .cost_cnf = { .result = is_sink_role(d->role) ? 0 : 1,
                                            .cost = d->sink_cost } };
                return emit(d, &c);
        }
        case SINK_MSG_APP_CONFIG_WRITE_REQ:
                return handle_app_config_write(d, m);
        case SINK_MSG_APP_CONFIG_READ_REQ:
                return handle_app_config_read(d, m);
        default: /* confirms, indications, responses never reach here */
                d->stats.unanswered++;
                return;
        }
}

static void handle_frame(SinkDev *d, usec_t now, const SinkFrame *f) {
        SinkMsg m;

        if (now < d->stall_until) {
                d->stats.dropped_while_stalled++;
                return;
        }
        if (sinkmsg_decode(SINK_TO_DEVICE, f, &m) < 0) {
                d->stats.unanswered++; /* unknown primitive or wrong size: silence, even on SDK16 */
                return;
        }
        if (m.type == SINK_MSG_RESPONSE) {
                if (sim_rand_chance(&d->rng, d->cfg.faults.dup)) {
                        /* lost on the way: the device never sees it, neither its frame id nor its "send
                         * the next one", so it keeps the indication, says nothing more, and sends the same
                         * frame id again at the next poll */
                        d->stats.fault_dup++;
                        return;
                }
                handle_response(d, &m);
        } else
                handle_request(d, now, &m);
}

static void send_echo(SinkDev *d, SinkEchoError e, size_t rxlen) {
        uint8_t wire[SINK_ECHO_WIRE_SIZE];

        if (!d->cfg.error_echo)
                return;
        if (sink_echo_encode(e, (uint16_t)MIN(rxlen, UINT16_MAX), wire, sizeof(wire)) < 0)
                return;
        out_append(d, wire, sizeof(wire)); /* sent as is: the device does not escape it */
        d->stats.echoes++;
}

void sink_dev_input(SinkDev *d, usec_t now, const uint8_t *buf, size_t len) {
        assert(d);
        assert(buf || len == 0);

        sink_dev_tick(d, now);
        d->stats.bytes_in += len;
        if (sink_dev_is_off(d, now)) {
                d->stats.dropped_while_off += len;
                return;
        }

        while (len > 0) {
                SinkFrame f;
                int r = sink_frame_decoder_feed(&d->dec, &buf, &len, &f, NULL);

                if (r == SINK_FEED_MORE)
                        break;
                if (r == SINK_FEED_FRAME) {
                        handle_frame(d, now, &f);
                        /* a reboot or hang-up drops whatever else was in this read */
                        if (sink_dev_is_off(d, now) || d->hangup)
                                break;
                        continue;
                }
                d->stats.bad_frames++;
                if (now < d->stall_until)
                        continue;
                if (r == SINK_FEED_ECHO || d->dec.last_error == SINK_FRAME_ERROR_CRC)
                        send_echo(d, SINK_ECHO_BAD_CRC, d->dec.last_len);
                else if (r == -EMSGSIZE)
                        send_echo(d, SINK_ECHO_BAD_SIZE, d->dec.last_len);
        }
}

bool sink_dev_stack_running(const SinkDev *d) {
        return d->running;
}

uint8_t sink_dev_prot_seq(const SinkDev *d) {
        return d->prot_seq;
}

uint32_t sink_dev_node_address(const SinkDev *d) {
        return d->node_address;
}

uint32_t sink_dev_network_address(const SinkDev *d) {
        return d->network_address;
}

uint8_t sink_dev_channel(const SinkDev *d) {
        return d->channel;
}

const SinkDevStats *sink_dev_stats(const SinkDev *d) {
        return &d->stats;
}
