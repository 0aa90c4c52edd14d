/* SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>
#include <stdio.h>

#include "cursor.h"
#include "gwapi.h"
#include "gwapi.pb-c.h"
#include "string-util.h"

/* Short names for the generated types. */
typedef Meshprov__Gwapi__GenericMessage PbGeneric;
typedef Meshprov__Gwapi__WirepasMessage PbWirepas;
typedef Meshprov__Gwapi__RequestHeader PbRequestHeader;
typedef Meshprov__Gwapi__ResponseHeader PbResponseHeader;
typedef Meshprov__Gwapi__EventHeader PbEventHeader;
typedef Meshprov__Gwapi__SendPacketReq PbSendPacketReq;
typedef Meshprov__Gwapi__SendPacketResp PbSendPacketResp;
typedef Meshprov__Gwapi__PacketReceivedEvent PbPacketReceivedEvent;
typedef Meshprov__Gwapi__StatusEvent PbStatusEvent;
typedef Meshprov__Gwapi__SinkReadConfig PbSinkReadConfig;
typedef Meshprov__Gwapi__NodeRole PbNodeRole;
typedef Meshprov__Gwapi__FirmwareVersion PbFirmwareVersion;

/* Our enums carry the wire values. */
#define ASSERT_WIRE_VALUE(ours, generated) _Static_assert((int)(ours) == (int)(generated), #ours)
ASSERT_WIRE_VALUE(GWAPI_ERROR_OK, MESHPROV__GWAPI__ERROR_CODE__OK);
ASSERT_WIRE_VALUE(GWAPI_ERROR_INTERNAL_ERROR, MESHPROV__GWAPI__ERROR_CODE__INTERNAL_ERROR);
ASSERT_WIRE_VALUE(GWAPI_ERROR_INVALID_SEQUENCE_NUMBER, MESHPROV__GWAPI__ERROR_CODE__INVLAID_SEQUENCE_NUMBER);
ASSERT_WIRE_VALUE(GWAPI_ERROR_ACCESS_DENIED, MESHPROV__GWAPI__ERROR_CODE__ACCESS_DENIED);
ASSERT_WIRE_VALUE(GWAPI_ERROR_SINK_OUT_OF_MEMORY, MESHPROV__GWAPI__ERROR_CODE__SINK_OUT_OF_MEMORY);
ASSERT_WIRE_VALUE(GWAPI_ERROR_SINK_TIMEOUT, MESHPROV__GWAPI__ERROR_CODE__SINK_TIMEOUT);
ASSERT_WIRE_VALUE(_GWAPI_ERROR_MAX - 1, MESHPROV__GWAPI__ERROR_CODE__INVALID_SCRATCHPAD_CHUNK_SIZE);
ASSERT_WIRE_VALUE(GWAPI_ON, MESHPROV__GWAPI__ON_OFF_STATE__STATE_ON);
ASSERT_WIRE_VALUE(GWAPI_OFF, MESHPROV__GWAPI__ON_OFF_STATE__STATE_OFF);
ASSERT_WIRE_VALUE(GWAPI_ROLE_SINK, MESHPROV__GWAPI__BASE_ROLE__ROLE_SINK);
ASSERT_WIRE_VALUE(_GWAPI_ROLE_MAX - 1, MESHPROV__GWAPI__BASE_ROLE__ROLE_NON_ROUTER);
ASSERT_WIRE_VALUE(GWAPI_ROLE_FLAG_LOW_LATENCY,
                  1u << (MESHPROV__GWAPI__ROLE_FLAGS__ROLE_FLAG_LOW_LATENCY - 1));
ASSERT_WIRE_VALUE(GWAPI_ROLE_FLAG_AUTOROLE, 1u << (MESHPROV__GWAPI__ROLE_FLAGS__ROLE_FLAG_AUTOROLE - 1));
ASSERT_WIRE_VALUE(_GWAPI_FEATURE_MAX - 1, MESHPROV__GWAPI__GATEWAY_FEATURE__GW_FEATURE_VIRTUAL_NODE_V1);
/* Encoded messages must stay decodable by ourselves, and their lengths fit an int. */
_Static_assert(GWAPI_PAYLOAD_MAX <= INT32_MAX, "GWAPI_PAYLOAD_MAX");
_Static_assert(GWAPI_APP_PAYLOAD_MAX + 512u <= GWAPI_PAYLOAD_MAX, "room for the envelope around a payload");

/* ---------------------------------------------------------------------------------------------------------
 * Error codes */

static const char *const gwapi_error_table[_GWAPI_ERROR_MAX] = {
        [GWAPI_ERROR_OK] = "OK",
        [GWAPI_ERROR_INTERNAL_ERROR] = "INTERNAL_ERROR",
        [GWAPI_ERROR_INVALID_SINK_ID] = "INVALID_SINK_ID",
        [GWAPI_ERROR_INVALID_ROLE] = "INVALID_ROLE",
        [GWAPI_ERROR_INVALID_NETWORK_ADDRESS] = "INVALID_NETWORK_ADDRESS",
        [GWAPI_ERROR_INVALID_NETWORK_CHANNEL] = "INVALID_NETWORK_CHANNEL",
        [GWAPI_ERROR_INVALID_CHANNEL_MAP] = "INVALID_CHANNEL_MAP",
        [GWAPI_ERROR_INVALID_NETWORK_KEYS] = "INVALID_NETWORK_KEYS",
        [GWAPI_ERROR_INVALID_AC_RANGE] = "INVALID_AC_RANGE",
        [GWAPI_ERROR_INVALID_SINK_STATE] = "INVALID_SINK_STATE",
        [GWAPI_ERROR_INVALID_DEST_ADDRESS] = "INVALID_DEST_ADDRESS",
        [GWAPI_ERROR_INVALID_DEST_ENDPOINT] = "INVALID_DEST_ENDPOINT",
        [GWAPI_ERROR_INVALID_SRC_ENDPOINT] = "INVALID_SRC_ENDPOINT",
        [GWAPI_ERROR_INVALID_QOS] = "INVALID_QOS",
        [GWAPI_ERROR_INVALID_DATA_PAYLOAD] = "INVALID_DATA_PAYLOAD",
        [GWAPI_ERROR_INVALID_SCRATCHPAD] = "INVALID_SCRATCHPAD",
        [GWAPI_ERROR_INVALID_SCRATCHPAD_SIZE] = "INVALID_SCRATCHPAD_SIZE",
        [GWAPI_ERROR_INVALID_SEQUENCE_NUMBER] = "INVALID_SEQUENCE_NUMBER",
        [GWAPI_ERROR_INVALID_REBOOT_DELAY] = "INVALID_REBOOT_DELAY",
        [GWAPI_ERROR_INVALID_DIAG_INTERVAL] = "INVALID_DIAG_INTERVAL",
        [GWAPI_ERROR_INVALID_APP_CONFIG] = "INVALID_APP_CONFIG",
        [GWAPI_ERROR_INVALID_PARAM] = "INVALID_PARAM",
        [GWAPI_ERROR_NO_SCRATCHPAD_PRESENT] = "NO_SCRATCHPAD_PRESENT",
        [GWAPI_ERROR_ACCESS_DENIED] = "ACCESS_DENIED",
        [GWAPI_ERROR_REQUEST_NEEDS_SINK_ID] = "REQUEST_NEEDS_SINK_ID",
        [GWAPI_ERROR_INVALID_MAX_HOP_COUNT] = "INVALID_MAX_HOP_COUNT",
        [GWAPI_ERROR_SINK_OUT_OF_MEMORY] = "SINK_OUT_OF_MEMORY",
        [GWAPI_ERROR_SINK_TIMEOUT] = "SINK_TIMEOUT",
        [GWAPI_ERROR_INVALID_SCRATCHPAD_CHUNK_OFFSET] = "INVALID_SCRATCHPAD_CHUNK_OFFSET",
        [GWAPI_ERROR_INVALID_SCRATCHPAD_CHUNK_SIZE] = "INVALID_SCRATCHPAD_CHUNK_SIZE",
};

const char *gwapi_error_to_string(GwapiError e) {
        if (e < 0 || e >= _GWAPI_ERROR_MAX)
                return NULL;
        return gwapi_error_table[e];
}

GwapiError gwapi_error_from_string(const char *s) {
        if (!s)
                return _GWAPI_ERROR_INVALID;
        for (size_t i = 0; i < ELEMENTSOF(gwapi_error_table); i++)
                if (streq(s, gwapi_error_table[i]))
                        return (GwapiError)i;
        if (streq(s, "INVLAID_SEQUENCE_NUMBER"))
                return GWAPI_ERROR_INVALID_SEQUENCE_NUMBER;
        return _GWAPI_ERROR_INVALID;
}

bool gwapi_error_retryable(GwapiError e) {
        switch (e) {
        case GWAPI_ERROR_INTERNAL_ERROR:
        case GWAPI_ERROR_SINK_OUT_OF_MEMORY:
        case GWAPI_ERROR_SINK_TIMEOUT:
                return true;
        case GWAPI_ERROR_OK:
        case GWAPI_ERROR_INVALID_SINK_ID:
        case GWAPI_ERROR_INVALID_ROLE:
        case GWAPI_ERROR_INVALID_NETWORK_ADDRESS:
        case GWAPI_ERROR_INVALID_NETWORK_CHANNEL:
        case GWAPI_ERROR_INVALID_CHANNEL_MAP:
        case GWAPI_ERROR_INVALID_NETWORK_KEYS:
        case GWAPI_ERROR_INVALID_AC_RANGE:
        case GWAPI_ERROR_INVALID_SINK_STATE:
        case GWAPI_ERROR_INVALID_DEST_ADDRESS:
        case GWAPI_ERROR_INVALID_DEST_ENDPOINT:
        case GWAPI_ERROR_INVALID_SRC_ENDPOINT:
        case GWAPI_ERROR_INVALID_QOS:
        case GWAPI_ERROR_INVALID_DATA_PAYLOAD:
        case GWAPI_ERROR_INVALID_SCRATCHPAD:
        case GWAPI_ERROR_INVALID_SCRATCHPAD_SIZE:
        case GWAPI_ERROR_INVALID_SEQUENCE_NUMBER:
        case GWAPI_ERROR_INVALID_REBOOT_DELAY:
        case GWAPI_ERROR_INVALID_DIAG_INTERVAL:
        case GWAPI_ERROR_INVALID_APP_CONFIG:
        case GWAPI_ERROR_INVALID_PARAM:
        case GWAPI_ERROR_NO_SCRATCHPAD_PRESENT:
        case GWAPI_ERROR_ACCESS_DENIED:
        case GWAPI_ERROR_REQUEST_NEEDS_SINK_ID:
        case GWAPI_ERROR_INVALID_MAX_HOP_COUNT:
        case GWAPI_ERROR_INVALID_SCRATCHPAD_CHUNK_OFFSET:
        case GWAPI_ERROR_INVALID_SCRATCHPAD_CHUNK_SIZE:
        case _GWAPI_ERROR_MAX:
        case _GWAPI_ERROR_INVALID:
                return false;
        }
        return false; /* a code newer than our table */
}

/* ---------------------------------------------------------------------------------------------------------
 * Unpacking with a memory budget
 *
 * protobuf-c allocates while it parses (strings, bytes, sub-messages, repeated arrays). The allocator below
 * charges every block against GWAPI_UNPACK_MEMORY_MAX, so a small but dense payload (thousands of empty
 * repeated sub-messages) cannot make one decode use megabytes. A failed allocation makes protobuf-c give up
 * and free what it had; the flags tell why. */

typedef union BlockHeader {
        max_align_t align;
        size_t size;
} BlockHeader;

typedef struct Unpacked {
        ProtobufCAllocator allocator;
        size_t used;
        bool over_budget;
        bool out_of_memory;
        PbGeneric *msg;
} Unpacked;

static void *budget_alloc(void *userdata, size_t size) {
        Unpacked *u = userdata;
        BlockHeader *h;

        if (size > GWAPI_UNPACK_MEMORY_MAX - u->used) {
                u->over_budget = true;
                return NULL;
        }
        h = malloc(sizeof(BlockHeader) + size);
        if (!h) {
                u->out_of_memory = true;
                return NULL;
        }
        h->size = size;
        u->used += size;
        return h + 1;
}

static void budget_free(void *userdata, void *p) {
        Unpacked *u = userdata;
        BlockHeader *h;

        if (!p)
                return;
        h = (BlockHeader *)p - 1;
        assert(h->size <= u->used);
        u->used -= h->size;
        free(h);
}

static void unpacked_done(Unpacked *u) {
        if (u->msg)
                meshprov__gwapi__generic_message__free_unpacked(u->msg, &u->allocator);
        u->msg = NULL;
}

/* Unpacks the envelope into *u (which the caller cleans up with unpacked_done()) and returns its
 * WirepasMessage. */
static int unpack_wirepas(const uint8_t *buf, size_t len, Unpacked *u, const PbWirepas **ret) {
        static const uint8_t empty[1];

        assert(u);
        assert(ret);

        *u = (Unpacked){
                .allocator = { .alloc = budget_alloc, .free = budget_free, .allocator_data = u },
        };

        if (!buf && len > 0)
                return -EINVAL;
        if (len > GWAPI_PAYLOAD_MAX)
                return -EMSGSIZE;

        u->msg = meshprov__gwapi__generic_message__unpack(&u->allocator, len, buf ?: empty);
        if (!u->msg) {
                if (u->out_of_memory)
                        return -ENOMEM;
                if (u->over_budget)
                        return -EMSGSIZE;
                return -EBADMSG;
        }
        if (!u->msg->wirepas)
                return -EBADMSG;

        *ret = u->msg->wirepas;
        return 0;
}

/* ---------------------------------------------------------------------------------------------------------
 * Field helpers */

/* A gateway or sink id: non-empty, topic-safe, shorter than dst_size. NULL is "absent": "" if optional. */
static int copy_id(const char *s, bool required, char *dst, size_t dst_size) {
        size_t n;

        if (!s) {
                if (required)
                        return -EBADMSG;
                dst[0] = '\0';
                return 0;
        }
        n = strnlen(s, dst_size);
        if (n >= dst_size)
                return -EMSGSIZE;
        if (!topic_level_valid(s, n))
                return -EBADMSG;
        memcpy(dst, s, n + 1);
        return 0;
}

/* Free text (gw_model, gw_version): only the length is checked; the caller escapes it for display. */
static int copy_text(const char *s, bool *ret_has, char *dst, size_t dst_size) {
        size_t n;

        if (!s) {
                *ret_has = false;
                dst[0] = '\0';
                return 0;
        }
        n = strnlen(s, dst_size);
        if (n >= dst_size)
                return -EMSGSIZE;
        memcpy(dst, s, n + 1);
        *ret_has = true;
        return 0;
}

static int copy_endpoint(uint32_t v, uint8_t *ret) {
        if (v > UINT8_MAX)
                return -EBADMSG;
        *ret = (uint8_t)v;
        return 0;
}

static int copy_payload(const ProtobufCBinaryData *b, uint8_t *dst, size_t *ret_len) {
        Cursor c;

        if (b->len > GWAPI_APP_PAYLOAD_MAX)
                return -EMSGSIZE;
        /* protobuf-c represents an empty bytes field as { 0, NULL }: nothing to copy, and no pointer
         * arithmetic on NULL. */
        if (b->len > 0) {
                c = CURSOR_INIT(b->data, b->len);
                if (cursor_copy_bytes(&c, dst, b->len) < 0)
                        return -EBADMSG;
        }
        *ret_len = b->len;
        return 0;
}

/* For encoders: a NUL-terminated id in a fixed array. Optional ids may be "", meaning absent. */
static bool id_valid(const char *s, size_t size, bool required) {
        size_t n = strnlen(s, size);

        if (n >= size)
                return false;
        if (n == 0)
                return !required;
        return topic_level_valid(s, n);
}

static bool text_valid(const char *s, size_t size) {
        return strnlen(s, size) < size;
}

static char *optional_id(const char *s) {
        return isempty(s) ? NULL : (char *)s;
}

static int pack_generic(const PbGeneric *m, uint8_t *buf, size_t size) {
        size_t n;

        assert(buf || size == 0);

        n = meshprov__gwapi__generic_message__get_packed_size(m);
        if (n > GWAPI_PAYLOAD_MAX || n > size)
                return -EMSGSIZE;
        if (meshprov__gwapi__generic_message__pack(m, buf) != n)
                return -EBADMSG; /* can't happen: the size was just computed from the same message */
        return (int)n;
}

/* ---------------------------------------------------------------------------------------------------------
 * received_data */

int gwapi_received_data_decode(const uint8_t *buf, size_t len, GwapiReceived *ret) {
        _cleanup_(unpacked_done) Unpacked u = {};
        const PbWirepas *w;
        const PbPacketReceivedEvent *e;
        GwapiReceived m = {};
        int r;

        assert(ret);

        r = unpack_wirepas(buf, len, &u, &w);
        if (r < 0)
                return r;
        e = w->packet_received_event;
        if (!e || !e->header)
                return -EBADMSG;

        r = copy_id(e->header->gw_id, true, m.gw_id, sizeof(m.gw_id));
        if (r < 0)
                return r;
        r = copy_id(e->header->sink_id, false, m.sink_id, sizeof(m.sink_id));
        if (r < 0)
                return r;
        m.event_id = e->header->event_id;
        m.has_time_ms_epoch = e->header->has_time_ms_epoch;
        m.time_ms_epoch = e->header->time_ms_epoch;

        m.source_address = e->source_address;
        m.destination_address = e->destination_address;
        if (copy_endpoint(e->source_endpoint, &m.source_endpoint) < 0 ||
            copy_endpoint(e->destination_endpoint, &m.destination_endpoint) < 0)
                return -EBADMSG;
        m.travel_time_ms = e->travel_time_ms;
        m.rx_time_ms_epoch = e->rx_time_ms_epoch;
        m.qos = e->qos;
        if (e->has_payload) {
                r = copy_payload(&e->payload, m.payload, &m.payload_len);
                if (r < 0)
                        return r;
                m.has_payload = true;
        }
        m.has_payload_size = e->has_payload_size;
        m.payload_size = e->payload_size;
        m.has_hop_count = e->has_hop_count;
        m.hop_count = e->hop_count;
        m.has_network_address = e->has_network_address;
        m.network_address = e->network_address;

        *ret = m;
        return 0;
}

int gwapi_received_data_encode(const GwapiReceived *r, uint8_t *buf, size_t size) {
        PbEventHeader hdr = MESHPROV__GWAPI__EVENT_HEADER__INIT;
        PbPacketReceivedEvent e = MESHPROV__GWAPI__PACKET_RECEIVED_EVENT__INIT;
        PbWirepas w = MESHPROV__GWAPI__WIREPAS_MESSAGE__INIT;
        PbGeneric g = MESHPROV__GWAPI__GENERIC_MESSAGE__INIT;

        assert(r);

        if (!id_valid(r->gw_id, sizeof(r->gw_id), true) || !id_valid(r->sink_id, sizeof(r->sink_id), false))
                return -EINVAL;
        if (r->has_payload && r->payload_len > GWAPI_APP_PAYLOAD_MAX)
                return -EINVAL;

        hdr.gw_id = (char *)r->gw_id;
        hdr.sink_id = optional_id(r->sink_id);
        hdr.event_id = r->event_id;
        hdr.has_time_ms_epoch = r->has_time_ms_epoch;
        hdr.time_ms_epoch = r->time_ms_epoch;

        e.header = &hdr;
        e.source_address = r->source_address;
        e.destination_address = r->destination_address;
        e.source_endpoint = r->source_endpoint;
        e.destination_endpoint = r->destination_endpoint;
        e.travel_time_ms = r->travel_time_ms;
        e.rx_time_ms_epoch = r->rx_time_ms_epoch;
        e.qos = r->qos;
        if (r->has_payload) {
                e.has_payload = true;
                e.payload = (ProtobufCBinaryData){ .len = r->payload_len, .data = (uint8_t *)r->payload };
        }
        e.has_payload_size = r->has_payload_size;
        e.payload_size = r->payload_size;
        e.has_hop_count = r->has_hop_count;
        e.hop_count = r->hop_count;
        e.has_network_address = r->has_network_address;
        e.network_address = r->network_address;

        w.packet_received_event = &e;
        g.wirepas = &w;
        return pack_generic(&g, buf, size);
}

/* ---------------------------------------------------------------------------------------------------------
 * send_data request */

int gwapi_send_data_encode(const GwapiSendData *s, uint8_t *buf, size_t size) {
        PbRequestHeader hdr = MESHPROV__GWAPI__REQUEST_HEADER__INIT;
        PbSendPacketReq q = MESHPROV__GWAPI__SEND_PACKET_REQ__INIT;
        PbWirepas w = MESHPROV__GWAPI__WIREPAS_MESSAGE__INIT;
        PbGeneric g = MESHPROV__GWAPI__GENERIC_MESSAGE__INIT;

        assert(s);

        if (!id_valid(s->sink_id, sizeof(s->sink_id), false))
                return -EINVAL;
        if (s->payload_len > GWAPI_APP_PAYLOAD_MAX)
                return -EINVAL;

        hdr.req_id = s->req_id;
        hdr.sink_id = optional_id(s->sink_id);
        hdr.has_time_ms_epoch = s->has_time_ms_epoch;
        hdr.time_ms_epoch = s->time_ms_epoch;

        q.header = &hdr;
        q.destination_address = s->destination_address;
        q.source_endpoint = s->source_endpoint;
        q.destination_endpoint = s->destination_endpoint;
        q.qos = s->qos;
        q.payload = (ProtobufCBinaryData){ .len = s->payload_len, .data = (uint8_t *)s->payload };
        q.has_initial_delay_ms = s->has_initial_delay_ms;
        q.initial_delay_ms = s->initial_delay_ms;
        q.has_is_unack_csma_ca = s->has_is_unack_csma_ca;
        q.is_unack_csma_ca = s->is_unack_csma_ca;
        q.has_hop_limit = s->has_hop_limit;
        q.hop_limit = s->hop_limit;

        w.send_packet_req = &q;
        g.wirepas = &w;
        return pack_generic(&g, buf, size);
}

int gwapi_send_data_decode(const uint8_t *buf, size_t len, GwapiSendData *ret) {
        _cleanup_(unpacked_done) Unpacked u = {};
        const PbWirepas *w;
        const PbSendPacketReq *q;
        GwapiSendData s = {};
        int r;

        assert(ret);

        r = unpack_wirepas(buf, len, &u, &w);
        if (r < 0)
                return r;
        q = w->send_packet_req;
        if (!q || !q->header)
                return -EBADMSG;

        s.req_id = q->header->req_id;
        r = copy_id(q->header->sink_id, false, s.sink_id, sizeof(s.sink_id));
        if (r < 0)
                return r;
        s.has_time_ms_epoch = q->header->has_time_ms_epoch;
        s.time_ms_epoch = q->header->time_ms_epoch;

        s.destination_address = q->destination_address;
        if (copy_endpoint(q->source_endpoint, &s.source_endpoint) < 0 ||
            copy_endpoint(q->destination_endpoint, &s.destination_endpoint) < 0)
                return -EBADMSG;
        s.qos = q->qos;
        r = copy_payload(&q->payload, s.payload, &s.payload_len);
        if (r < 0)
                return r;
        s.has_initial_delay_ms = q->has_initial_delay_ms;
        s.initial_delay_ms = q->initial_delay_ms;
        s.has_is_unack_csma_ca = q->has_is_unack_csma_ca;
        s.is_unack_csma_ca = q->is_unack_csma_ca;
        s.has_hop_limit = q->has_hop_limit;
        s.hop_limit = q->hop_limit;

        *ret = s;
        return 0;
}

/* ---------------------------------------------------------------------------------------------------------
 * send_data response */

int gwapi_send_data_response_decode(const uint8_t *buf, size_t len, GwapiSendDataResponse *ret) {
        _cleanup_(unpacked_done) Unpacked u = {};
        const PbWirepas *w;
        const PbResponseHeader *h;
        GwapiSendDataResponse s = {};
        int r;

        assert(ret);

        r = unpack_wirepas(buf, len, &u, &w);
        if (r < 0)
                return r;
        if (!w->send_packet_resp || !w->send_packet_resp->header)
                return -EBADMSG;
        h = w->send_packet_resp->header;

        s.req_id = h->req_id;
        r = copy_id(h->gw_id, true, s.gw_id, sizeof(s.gw_id));
        if (r < 0)
                return r;
        r = copy_id(h->sink_id, false, s.sink_id, sizeof(s.sink_id));
        if (r < 0)
                return r;
        if ((int)h->res < 0)
                return -EBADMSG;
        s.result = (GwapiError)h->res;
        s.has_time_ms_epoch = h->has_time_ms_epoch;
        s.time_ms_epoch = h->time_ms_epoch;

        *ret = s;
        return 0;
}

int gwapi_send_data_response_encode(const GwapiSendDataResponse *s, uint8_t *buf, size_t size) {
        PbResponseHeader hdr = MESHPROV__GWAPI__RESPONSE_HEADER__INIT;
        PbSendPacketResp p = MESHPROV__GWAPI__SEND_PACKET_RESP__INIT;
        PbWirepas w = MESHPROV__GWAPI__WIREPAS_MESSAGE__INIT;
        PbGeneric g = MESHPROV__GWAPI__GENERIC_MESSAGE__INIT;

        assert(s);

        if (!id_valid(s->gw_id, sizeof(s->gw_id), true) || !id_valid(s->sink_id, sizeof(s->sink_id), false))
                return -EINVAL;
        if ((int)s->result < 0)
                return -EINVAL;

        hdr.req_id = s->req_id;
        hdr.gw_id = (char *)s->gw_id;
        hdr.sink_id = optional_id(s->sink_id);
        hdr.res = (Meshprov__Gwapi__ErrorCode)s->result;
        hdr.has_time_ms_epoch = s->has_time_ms_epoch;
        hdr.time_ms_epoch = s->time_ms_epoch;

        p.header = &hdr;
        w.send_packet_resp = &p;
        g.wirepas = &w;
        return pack_generic(&g, buf, size);
}

/* ---------------------------------------------------------------------------------------------------------
 * status */

static bool on_off_valid(int v) {
        return v == GWAPI_ON || v == GWAPI_OFF;
}

static bool role_valid(int v) {
        return v >= GWAPI_ROLE_SINK && v < _GWAPI_ROLE_MAX;
}

static int sink_config_from_pb(const PbSinkReadConfig *p, GwapiSinkConfig *ret) {
        GwapiSinkConfig c = {};
        int r;

        r = copy_id(p->sink_id, true, c.sink_id, sizeof(c.sink_id));
        if (r < 0)
                return r;

        if (p->node_role) {
                if (!role_valid((int)p->node_role->role))
                        return -EBADMSG;
                c.has_role = true;
                c.role = (GwapiRole)p->node_role->role;
                for (size_t i = 0; i < p->node_role->n_flags; i++) {
                        int f = (int)p->node_role->flags[i];

                        if (f < 1 || f > 2)
                                return -EBADMSG;
                        c.role_flags |= 1u << (f - 1); /* repeated flags collapse */
                }
        }
        c.has_node_address = p->has_node_address;
        c.node_address = p->node_address;
        c.has_network_address = p->has_network_address;
        c.network_address = p->network_address;
        c.has_network_channel = p->has_network_channel;
        c.network_channel = p->network_channel;
        c.has_are_keys_set = p->has_are_keys_set;
        c.are_keys_set = p->are_keys_set;
        c.has_max_mtu = p->has_max_mtu;
        c.max_mtu = p->max_mtu;
        if (p->firmware_version) {
                c.has_firmware_version = true;
                c.firmware_version[0] = p->firmware_version->major;
                c.firmware_version[1] = p->firmware_version->minor;
                c.firmware_version[2] = p->firmware_version->maint;
                c.firmware_version[3] = p->firmware_version->dev;
        }
        if (p->has_sink_state) {
                if (!on_off_valid((int)p->sink_state))
                        return -EBADMSG;
                c.has_sink_state = true;
                c.sink_state = (GwapiOnOff)p->sink_state;
        }

        *ret = c;
        return 0;
}

int gwapi_status_decode(const uint8_t *buf, size_t len, GwapiStatus *ret) {
        _cleanup_(unpacked_done) Unpacked u = {};
        _cleanup_free_ GwapiStatus *s = NULL;
        const PbWirepas *w;
        const PbStatusEvent *e;
        int r;

        assert(ret);

        r = unpack_wirepas(buf, len, &u, &w);
        if (r < 0)
                return r;
        e = w->status_event;
        if (!e || !e->header)
                return -EBADMSG;

        /* ~3 KiB: keep it off the caller's stack until it is complete. */
        s = new0(GwapiStatus, 1);
        if (!s)
                return -ENOMEM;

        r = copy_id(e->header->gw_id, true, s->gw_id, sizeof(s->gw_id));
        if (r < 0)
                return r;
        s->event_id = e->header->event_id;
        s->has_time_ms_epoch = e->header->has_time_ms_epoch;
        s->time_ms_epoch = e->header->time_ms_epoch;

        if (e->version != GWAPI_STATUS_VERSION)
                return -EPROTONOSUPPORT;
        s->version = e->version;
        if (!on_off_valid((int)e->state))
                return -EBADMSG;
        s->state = (GwapiOnOff)e->state;

        r = copy_text(e->gw_model, &s->has_gw_model, s->gw_model, sizeof(s->gw_model));
        if (r < 0)
                return r;
        r = copy_text(e->gw_version, &s->has_gw_version, s->gw_version, sizeof(s->gw_version));
        if (r < 0)
                return r;
        s->has_max_scratchpad_size = e->has_max_scratchpad_size;
        s->max_scratchpad_size = e->max_scratchpad_size;

        if (e->n_gw_features > GWAPI_FEATURES_MAX)
                return -EMSGSIZE;
        for (size_t i = 0; i < e->n_gw_features; i++)
                s->features[i] = (int32_t)e->gw_features[i];
        s->n_features = e->n_gw_features;

        if (e->n_configs > GWAPI_STATUS_SINKS_MAX)
                return -EMSGSIZE;
        for (size_t i = 0; i < e->n_configs; i++) {
                r = sink_config_from_pb(e->configs[i], &s->sinks[i]);
                if (r < 0)
                        return r;
        }
        s->n_sinks = e->n_configs;

        *ret = *s;
        return 0;
}

/* Storage for the protobuf-c side of one sink config while encoding. */
typedef struct PbSinkStorage {
        PbSinkReadConfig config;
        PbNodeRole role;
        Meshprov__Gwapi__RoleFlags flags[2];
        PbFirmwareVersion firmware;
} PbSinkStorage;

static int sink_config_to_pb(const GwapiSinkConfig *c, PbSinkStorage *st) {
        if (!id_valid(c->sink_id, sizeof(c->sink_id), true))
                return -EINVAL;

        st->config = (PbSinkReadConfig)MESHPROV__GWAPI__SINK_READ_CONFIG__INIT;
        st->config.sink_id = (char *)c->sink_id;

        if (c->has_role) {
                if (!role_valid(c->role) || (c->role_flags & ~GWAPI_ROLE_FLAGS_ALL) != 0)
                        return -EINVAL;
                st->role = (PbNodeRole)MESHPROV__GWAPI__NODE_ROLE__INIT;
                st->role.role = (Meshprov__Gwapi__BaseRole)c->role;
                if (c->role_flags & GWAPI_ROLE_FLAG_LOW_LATENCY)
                        st->flags[st->role.n_flags++] = MESHPROV__GWAPI__ROLE_FLAGS__ROLE_FLAG_LOW_LATENCY;
                if (c->role_flags & GWAPI_ROLE_FLAG_AUTOROLE)
                        st->flags[st->role.n_flags++] = MESHPROV__GWAPI__ROLE_FLAGS__ROLE_FLAG_AUTOROLE;
                st->role.flags = st->flags;
                st->config.node_role = &st->role;
        }
        st->config.has_node_address = c->has_node_address;
        st->config.node_address = c->node_address;
        st->config.has_network_address = c->has_network_address;
        st->config.network_address = c->network_address;
        st->config.has_network_channel = c->has_network_channel;
        st->config.network_channel = c->network_channel;
        st->config.has_are_keys_set = c->has_are_keys_set;
        st->config.are_keys_set = c->are_keys_set;
        st->config.has_max_mtu = c->has_max_mtu;
        st->config.max_mtu = c->max_mtu;
        if (c->has_firmware_version) {
                st->firmware = (PbFirmwareVersion)MESHPROV__GWAPI__FIRMWARE_VERSION__INIT;
                st->firmware.major = c->firmware_version[0];
                st->firmware.minor = c->firmware_version[1];
                st->firmware.maint = c->firmware_version[2];
                st->firmware.dev = c->firmware_version[3];
                st->config.firmware_version = &st->firmware;
        }
        if (c->has_sink_state) {
                if (!on_off_valid(c->sink_state))
                        return -EINVAL;
                st->config.has_sink_state = true;
                st->config.sink_state = (Meshprov__Gwapi__OnOffState)c->sink_state;
        }
        return 0;
}

int gwapi_status_encode(const GwapiStatus *s, uint8_t *buf, size_t size) {
        PbEventHeader hdr = MESHPROV__GWAPI__EVENT_HEADER__INIT;
        PbStatusEvent e = MESHPROV__GWAPI__STATUS_EVENT__INIT;
        PbWirepas w = MESHPROV__GWAPI__WIREPAS_MESSAGE__INIT;
        PbGeneric g = MESHPROV__GWAPI__GENERIC_MESSAGE__INIT;
        PbSinkStorage sinks[GWAPI_STATUS_SINKS_MAX];
        PbSinkReadConfig *configs[GWAPI_STATUS_SINKS_MAX];
        Meshprov__Gwapi__GatewayFeature features[GWAPI_FEATURES_MAX];
        int r;

        assert(s);

        if (!id_valid(s->gw_id, sizeof(s->gw_id), true))
                return -EINVAL;
        if (!on_off_valid(s->state))
                return -EINVAL;
        if (s->n_sinks > GWAPI_STATUS_SINKS_MAX || s->n_features > GWAPI_FEATURES_MAX)
                return -EINVAL;
        if ((s->has_gw_model && !text_valid(s->gw_model, sizeof(s->gw_model))) ||
            (s->has_gw_version && !text_valid(s->gw_version, sizeof(s->gw_version))))
                return -EINVAL;

        hdr.gw_id = (char *)s->gw_id;
        hdr.event_id = s->event_id;
        hdr.has_time_ms_epoch = s->has_time_ms_epoch;
        hdr.time_ms_epoch = s->time_ms_epoch;

        e.header = &hdr;
        e.version = s->version;
        e.state = (Meshprov__Gwapi__OnOffState)s->state;
        for (size_t i = 0; i < s->n_sinks; i++) {
                r = sink_config_to_pb(&s->sinks[i], &sinks[i]);
                if (r < 0)
                        return r;
                configs[i] = &sinks[i].config;
        }
        e.n_configs = s->n_sinks;
        e.configs = configs;
        e.gw_model = s->has_gw_model ? (char *)s->gw_model : NULL;
        e.gw_version = s->has_gw_version ? (char *)s->gw_version : NULL;
        e.has_max_scratchpad_size = s->has_max_scratchpad_size;
        e.max_scratchpad_size = s->max_scratchpad_size;
        for (size_t i = 0; i < s->n_features; i++)
                features[i] = (Meshprov__Gwapi__GatewayFeature)s->features[i];
        e.n_gw_features = s->n_features;
        e.gw_features = features;

        w.status_event = &e;
        g.wirepas = &w;
        return pack_generic(&g, buf, size);
}

/* ---------------------------------------------------------------------------------------------------------
 * Topics */

#define TOPIC_LEVELS_MAX 7u

typedef struct TopicLevel {
        const uint8_t *p;
        size_t n;
} TopicLevel;

static bool level_is(const TopicLevel *l, const char *s) {
        size_t n = strlen(s);
        return l->n == n && memcmp(l->p, s, n) == 0;
}

/* Splits the topic at '/'. More than `max` levels is -EBADMSG. */
static int topic_split(Cursor *c, TopicLevel *levels, size_t max, size_t *ret_n) {
        size_t k = 0;

        for (;;) {
                Cursor scan = *c;
                size_t n = 0;
                bool last = true;
                uint8_t ch;

                while (cursor_get_u8(&scan, &ch) >= 0) {
                        if (ch == '/') {
                                last = false;
                                break;
                        }
                        n++;
                }
                if (k >= max)
                        return -EBADMSG;
                if (cursor_get_bytes(c, n, &levels[k].p) < 0)
                        return -EBADMSG;
                levels[k++].n = n;
                if (last)
                        break;
                if (cursor_skip(c, 1) < 0)
                        return -EBADMSG;
        }

        *ret_n = k;
        return 0;
}

static int level_to_id(const TopicLevel *l, char *dst, size_t dst_size) {
        if (l->n >= dst_size)
                return -EMSGSIZE;
        if (!topic_level_valid((const char *)l->p, l->n))
                return -EBADMSG;
        memcpy(dst, l->p, l->n);
        dst[l->n] = '\0';
        return 0;
}

/* Canonical decimal: digits only, no sign, no leading zero, <= max. */
static int level_to_u64(const TopicLevel *l, uint64_t max, uint64_t *ret) {
        Cursor c = CURSOR_INIT(l->p, l->n);
        uint64_t v = 0;
        uint8_t ch;

        if (l->n == 0)
                return -EBADMSG;
        if (cursor_peek_u8(&c, &ch) < 0 || (ch == '0' && l->n > 1))
                return -EBADMSG;
        while (cursor_get_u8(&c, &ch) >= 0) {
                unsigned d;

                if (ch < '0' || ch > '9')
                        return -EBADMSG;
                d = (unsigned)(ch - '0');
                if (v > (max - d) / 10)
                        return -EBADMSG;
                v = v * 10 + d;
        }
        *ret = v;
        return 0;
}

static int level_to_u8(const TopicLevel *l, uint8_t *ret) {
        uint64_t v;
        int r;

        r = level_to_u64(l, UINT8_MAX, &v);
        if (r < 0)
                return r;
        *ret = (uint8_t)v;
        return 0;
}

int gwapi_topic_parse(const char *topic, GwapiTopic *ret) {
        TopicLevel lv[TOPIC_LEVELS_MAX];
        GwapiTopic t = {};
        size_t len, n;
        Cursor c;
        int r;

        assert(ret);

        if (!topic)
                return -EINVAL;
        len = strnlen(topic, MQTT_TOPIC_MAX_LEN + 1);
        if (len > MQTT_TOPIC_MAX_LEN)
                return -EMSGSIZE;

        c = CURSOR_INIT(topic, len);
        r = topic_split(&c, lv, ELEMENTSOF(lv), &n);
        if (r < 0)
                return r;

        if (n == 7 && level_is(&lv[0], "gw-event") && level_is(&lv[1], "received_data"))
                t.kind = GWAPI_TOPIC_RECEIVED_DATA;
        else if (n == 4 && level_is(&lv[0], "gw-request") && level_is(&lv[1], "send_data"))
                t.kind = GWAPI_TOPIC_SEND_DATA_REQUEST;
        else if (n == 4 && level_is(&lv[0], "gw-response") && level_is(&lv[1], "send_data"))
                t.kind = GWAPI_TOPIC_SEND_DATA_RESPONSE;
        else if (n == 3 && level_is(&lv[0], "gw-event") && level_is(&lv[1], "status"))
                t.kind = GWAPI_TOPIC_STATUS;
        else
                return -EBADMSG;

        r = level_to_id(&lv[2], t.gw_id, sizeof(t.gw_id));
        if (r < 0)
                return r;
        if (n >= 4) {
                r = level_to_id(&lv[3], t.sink_id, sizeof(t.sink_id));
                if (r < 0)
                        return r;
        }
        if (n == 7) {
                r = level_to_u64(&lv[4], UINT64_MAX, &t.network_address);
                if (r < 0)
                        return r;
                r = level_to_u8(&lv[5], &t.src_ep);
                if (r < 0)
                        return r;
                r = level_to_u8(&lv[6], &t.dst_ep);
                if (r < 0)
                        return r;
        }

        *ret = t;
        return 0;
}

/* Copies a formatted topic out only if it fits, so buf is untouched on failure. */
static int topic_output(const char *s, int n, char *buf, size_t size) {
        if (n < 0)
                return -EINVAL;
        if ((size_t)n >= size)
                return -EMSGSIZE;
        memcpy(buf, s, (size_t)n + 1);
        return n;
}

int gwapi_topic_format(const GwapiTopic *t, char *buf, size_t size) {
        char s[GWAPI_TOPIC_BUFFER_SIZE];
        int n = -1;

        assert(t);
        assert(buf || size == 0);

        if (t->kind < 0 || t->kind >= _GWAPI_TOPIC_KIND_MAX)
                return -EINVAL;
        if (!id_valid(t->gw_id, sizeof(t->gw_id), true))
                return -EINVAL;
        if (t->kind != GWAPI_TOPIC_STATUS && !id_valid(t->sink_id, sizeof(t->sink_id), true))
                return -EINVAL;

        switch (t->kind) {
        case GWAPI_TOPIC_RECEIVED_DATA:
                n = snprintf(s, sizeof(s), "gw-event/received_data/%s/%s/%" PRIu64 "/%u/%u", t->gw_id,
                             t->sink_id, t->network_address, (unsigned)t->src_ep, (unsigned)t->dst_ep);
                break;
        case GWAPI_TOPIC_SEND_DATA_REQUEST:
                n = snprintf(s, sizeof(s), "gw-request/send_data/%s/%s", t->gw_id, t->sink_id);
                break;
        case GWAPI_TOPIC_SEND_DATA_RESPONSE:
                n = snprintf(s, sizeof(s), "gw-response/send_data/%s/%s", t->gw_id, t->sink_id);
                break;
        case GWAPI_TOPIC_STATUS:
                n = snprintf(s, sizeof(s), "gw-event/status/%s", t->gw_id);
                break;
        case _GWAPI_TOPIC_KIND_MAX:
        case _GWAPI_TOPIC_KIND_INVALID:
                return -EINVAL;
        }

        return topic_output(s, n, buf, size);
}

int gwapi_topic_send_data_request(const char *gw_id, const char *sink_id, char *buf, size_t size) {
        GwapiTopic t = { .kind = GWAPI_TOPIC_SEND_DATA_REQUEST };
        size_t g, k;

        if (!gw_id || !sink_id)
                return -EINVAL;
        g = strnlen(gw_id, sizeof(t.gw_id));
        k = strnlen(sink_id, sizeof(t.sink_id));
        if (g >= sizeof(t.gw_id) || k >= sizeof(t.sink_id))
                return -EINVAL;
        memcpy(t.gw_id, gw_id, g);
        memcpy(t.sink_id, sink_id, k);
        return gwapi_topic_format(&t, buf, size);
}

int gwapi_topic_received_data_filter(uint8_t src_ep, uint8_t dst_ep, char *buf, size_t size) {
        char s[GWAPI_TOPIC_BUFFER_SIZE];
        int n;

        assert(buf || size == 0);

        n = snprintf(s, sizeof(s), "gw-event/received_data/+/+/+/%u/%u", (unsigned)src_ep, (unsigned)dst_ep);
        return topic_output(s, n, buf, size);
}
