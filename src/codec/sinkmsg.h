/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Dual-MCU API primitives (ref-dualmcu.md §4-§6) in both directions: the host encodes requests and responses
 * and decodes confirms and indications; the sink simulator does the reverse.
 *
 * Every primitive has an exact payload length (or an exact one derived from its own length byte); a frame of
 * the wrong size is -EBADMSG. Unknown request and confirm ids are -EOPNOTSUPP (a device gives no reply to
 * them); an unknown indication id decodes as SINK_MSG_GENERIC_IND so the host can still answer it. Nothing
 * is defaulted. Variable parts (APDUs, attribute values, app config data) are views into the frame.
 *
 * Pure: no I/O, no clock, no logging. */

#include "macro.h"
#include "sinkframe.h"

/* Primitive ids. A confirm is its request | 0x80; a response is its indication | 0x80. */
#define SINK_PRIM_REPLY_BIT 0x80u
enum {
        SINK_PRIM_DATA_TX = 0x01,
        SINK_PRIM_DATA_TX_IND = 0x02,
        SINK_PRIM_DATA_RX_IND = 0x03,
        SINK_PRIM_POLL = 0x04,
        SINK_PRIM_STACK_START = 0x05,
        SINK_PRIM_STACK_STOP = 0x06,
        SINK_PRIM_STACK_STATE_IND = 0x07,
        SINK_PRIM_MSAP_ATTR_WRITE = 0x0B,
        SINK_PRIM_MSAP_ATTR_READ = 0x0C,
        SINK_PRIM_CSAP_ATTR_WRITE = 0x0D,
        SINK_PRIM_CSAP_ATTR_READ = 0x0E,
        SINK_PRIM_DATA_RX_FRAG_IND = 0x10, /* not decoded: arrives as SINK_MSG_GENERIC_IND */
        SINK_PRIM_FACTORY_RESET = 0x16,
        SINK_PRIM_SCRATCHPAD_STATUS = 0x19,
        SINK_PRIM_DATA_TX_TT = 0x1F,
        SINK_PRIM_SINK_COST_WRITE = 0x38,
        SINK_PRIM_SINK_COST_READ = 0x39,
        SINK_PRIM_APP_CONFIG_WRITE = 0x3A,
        SINK_PRIM_APP_CONFIG_READ = 0x3B,
        SINK_PRIM_APP_CONFIG_RX_IND = 0x3F,
};

typedef enum SinkMsgKind {
        SINK_KIND_REQUEST,    /* host -> device */
        SINK_KIND_RESPONSE,   /* host -> device, answers an indication */
        SINK_KIND_CONFIRM,    /* device -> host, answers a request */
        SINK_KIND_INDICATION, /* device -> host, only after a poll */
        _SINK_KIND_MAX,
        _SINK_KIND_INVALID = -EINVAL,
} SinkMsgKind;

typedef enum SinkMsgType {
        /* requests */
        SINK_MSG_DATA_TX_REQ,
        SINK_MSG_DATA_TX_TT_REQ,
        SINK_MSG_POLL_REQ,
        SINK_MSG_STACK_START_REQ,
        SINK_MSG_STACK_STOP_REQ,
        SINK_MSG_MSAP_ATTR_WRITE_REQ,
        SINK_MSG_MSAP_ATTR_READ_REQ,
        SINK_MSG_CSAP_ATTR_WRITE_REQ,
        SINK_MSG_CSAP_ATTR_READ_REQ,
        SINK_MSG_FACTORY_RESET_REQ,
        SINK_MSG_SCRATCHPAD_STATUS_REQ,
        SINK_MSG_SINK_COST_WRITE_REQ,
        SINK_MSG_SINK_COST_READ_REQ,
        SINK_MSG_APP_CONFIG_WRITE_REQ,
        SINK_MSG_APP_CONFIG_READ_REQ,
        /* confirms */
        SINK_MSG_DATA_TX_CNF,
        SINK_MSG_DATA_TX_TT_CNF,
        SINK_MSG_POLL_CNF,
        SINK_MSG_STACK_START_CNF,
        SINK_MSG_STACK_STOP_CNF,
        SINK_MSG_MSAP_ATTR_WRITE_CNF,
        SINK_MSG_MSAP_ATTR_READ_CNF,
        SINK_MSG_CSAP_ATTR_WRITE_CNF,
        SINK_MSG_CSAP_ATTR_READ_CNF,
        SINK_MSG_FACTORY_RESET_CNF,
        SINK_MSG_SCRATCHPAD_STATUS_CNF,
        SINK_MSG_SINK_COST_WRITE_CNF,
        SINK_MSG_SINK_COST_READ_CNF,
        SINK_MSG_APP_CONFIG_WRITE_CNF,
        SINK_MSG_APP_CONFIG_READ_CNF,
        /* indications */
        SINK_MSG_DATA_TX_IND,
        SINK_MSG_DATA_RX_IND,
        SINK_MSG_STACK_STATE_IND,
        SINK_MSG_APP_CONFIG_RX_IND,
        SINK_MSG_GENERIC_IND, /* any other indication id: payload kept as is */
        /* responses to indications (any indication id | 0x80) */
        SINK_MSG_RESPONSE,
        _SINK_MSG_TYPE_MAX,
        _SINK_MSG_TYPE_INVALID = -EINVAL,
} SinkMsgType;

/* Sizes (ref-dualmcu.md §5). */
#define SINK_MTU_DEFAULT            102u /* cMTU on current stacks */
#define SINK_APP_CONFIG_SIZE        80u
#define SINK_SCRATCHPAD_STATUS_SIZE 24u
#define SINK_FACTORY_RESET_KEY      0x74496F44u /* "DoIt" as u32 LE */

/* Addresses. */
#define SINK_ADDR_ANYSINK     0x00000000u
#define SINK_ADDR_ANYSINK_ALT 0xFFFFFFFEu
#define SINK_ADDR_BROADCAST   0xFFFFFFFFu

/* DATA_TX TX options byte. */
#define SINK_TX_OPT_INDICATION      0x01u /* ask for a DATA_TX indication */
#define SINK_TX_OPT_UNACK_CSMA      0x02u
#define SINK_TX_OPT_HOP_LIMIT_SHIFT 2
#define SINK_TX_OPT_HOP_LIMIT_MASK  0x3Cu

/* CSAP attributes (ref-dualmcu.md §5.4). */
enum {
        SINK_CSAP_NODE_ADDRESS = 1,
        SINK_CSAP_NETWORK_ADDRESS = 2,
        SINK_CSAP_NETWORK_CHANNEL = 3,
        SINK_CSAP_NODE_ROLE = 4,
        SINK_CSAP_MTU = 5,
        SINK_CSAP_PDU_BUFFER_SIZE = 6,
        SINK_CSAP_SCRATCHPAD_SEQUENCE = 7,
        SINK_CSAP_MESH_API_VERSION = 8,
        SINK_CSAP_FIRMWARE_MAJOR = 9,
        SINK_CSAP_FIRMWARE_MINOR = 10,
        SINK_CSAP_FIRMWARE_MAINTENANCE = 11,
        SINK_CSAP_FIRMWARE_DEVELOPMENT = 12,
        SINK_CSAP_CIPHER_KEY = 13,
        SINK_CSAP_AUTHENTICATION_KEY = 14,
        SINK_CSAP_CHANNEL_LIMITS = 15,
        SINK_CSAP_APP_CONFIG_DATA_SIZE = 16,
        SINK_CSAP_HW_MAGIC = 17,
        SINK_CSAP_STACK_PROFILE = 18,
        SINK_CSAP_OFFLINE_SCAN = 20,
};

/* MSAP attributes. */
enum {
        SINK_MSAP_STACK_STATUS = 1,
        SINK_MSAP_PDU_BUFFER_USAGE = 2,
        SINK_MSAP_PDU_BUFFER_CAPACITY = 3,
        SINK_MSAP_AUTOSTART = 6,
        SINK_MSAP_ROUTE_COUNT = 7,
        SINK_MSAP_SYSTEM_TIME = 8,
        SINK_MSAP_ACCESS_CYCLE_RANGE = 9,
        SINK_MSAP_ACCESS_CYCLE_LIMITS = 10,
        SINK_MSAP_CURRENT_ACCESS_CYCLE = 11,
        SINK_MSAP_SCRATCHPAD_BLOCK_MAX = 12,
};

/* Attribute read/write confirm results. */
enum {
        SINK_ATTR_OK = 0,
        SINK_ATTR_UNSUPPORTED = 1,
        SINK_ATTR_WRONG_STATE = 2, /* CSAP write while the stack runs */
        SINK_ATTR_WRONG_LENGTH = 3,
        SINK_ATTR_INVALID_VALUE = 4,  /* also: read of a value not set yet */
        SINK_ATTR_WRITE_ONLY_SET = 5, /* read of a key that is set */
        SINK_ATTR_ACCESS_DENIED = 6,
};

/* DATA_TX confirm results. */
enum {
        SINK_TX_OK = 0,
        SINK_TX_STACK_STOPPED = 1,
        SINK_TX_INVALID_QOS = 2,
        SINK_TX_INVALID_OPTIONS = 3,
        SINK_TX_OUT_OF_MEMORY = 4,
        SINK_TX_UNKNOWN_DESTINATION = 5,
        SINK_TX_INVALID_LENGTH = 6,
        SINK_TX_INDICATION_FULL = 7,
        SINK_TX_PDU_ID_IN_USE = 8,
        SINK_TX_INVALID_ENDPOINT = 9,
        SINK_TX_ACCESS_DENIED = 10,
};

/* STACK_START confirm, mStackStatus and STACK_STATE stack status bits (0 = running). */
enum {
        SINK_STACK_STOPPED = 0x01,
        SINK_STACK_NO_NETWORK_ADDRESS = 0x02,
        SINK_STACK_NO_NODE_ADDRESS = 0x04,
        SINK_STACK_NO_CHANNEL = 0x08,
        SINK_STACK_NO_ROLE = 0x10,
        SINK_STACK_NO_APP_CONFIG = 0x20,
        SINK_STACK_ACCESS_DENIED = 0x80,
};

/* Poll confirm: whether indications follow. Response: whether to send the next one. */
enum {
        SINK_POLL_NOTHING = 0,
        SINK_POLL_PENDING = 1,
        SINK_RESPONSE_STOP = 0,
        SINK_RESPONSE_NEXT = 1,
};

typedef struct SinkDataTx { /* DATA_TX and DATA_TX_TT requests */
        uint16_t pdu_id;
        uint8_t src_ep;
        uint32_t dst_addr;
        uint8_t dst_ep;
        uint8_t qos;
        uint8_t tx_options;
        uint32_t buffering_delay; /* 1/128 s; DATA_TX_TT only */
        const uint8_t *apdu;
        uint8_t apdu_len;
} SinkDataTx;

typedef struct SinkDataTxCnf {
        uint16_t pdu_id;
        uint8_t result;
        uint8_t capacity; /* free PDU buffers */
} SinkDataTxCnf;

typedef struct SinkDataTxInd {
        uint8_t status; /* 1 = more indications queued */
        uint16_t pdu_id;
        uint8_t src_ep;
        uint32_t dst_addr;
        uint8_t dst_ep;
        uint32_t buffering_delay; /* 1/128 s */
        uint8_t result;           /* 0 sent, 1 discarded */
} SinkDataTxInd;

typedef struct SinkDataRx {
        uint8_t status;
        uint32_t src_addr;
        uint8_t src_ep;
        uint32_t dst_addr;
        uint8_t dst_ep;
        uint8_t qos_hop;      /* see sink_qos_hop_*() */
        uint32_t travel_time; /* 1/128 s, see sink_travel_time_to_ms() */
        const uint8_t *apdu;
        uint8_t apdu_len;
} SinkDataRx;

typedef struct SinkAttrWrite {
        uint16_t attr_id;
        const uint8_t *value;
        uint8_t value_len;
} SinkAttrWrite;

typedef struct SinkAttrReadCnf {
        uint8_t result;
        uint16_t attr_id;
        const uint8_t *value; /* value_len is 0 unless result is SINK_ATTR_OK */
        uint8_t value_len;
} SinkAttrReadCnf;

typedef struct SinkStackState {
        uint8_t status;
        uint8_t stack_status; /* SINK_STACK_* bits, 0 = running */
} SinkStackState;

/* APP_CONFIG_WRITE request (status unused), APP_CONFIG_READ confirm (status = result), APP_CONFIG_RX
 * indication (status = indication status). */
typedef struct SinkAppConfig {
        uint8_t status;
        uint8_t sequence;
        uint16_t interval;   /* diagnostic interval, s */
        const uint8_t *data; /* SINK_APP_CONFIG_SIZE bytes */
} SinkAppConfig;

typedef struct SinkScratchpadStatus {
        uint32_t length;
        uint16_t crc;
        uint8_t sequence;
        uint8_t type;
        uint8_t status;
        uint32_t processed_length;
        uint16_t processed_crc;
        uint8_t processed_sequence;
        uint32_t area_id;
        uint8_t fw_major, fw_minor, fw_maintenance, fw_development;
} SinkScratchpadStatus;

typedef struct SinkGenericInd {
        const uint8_t *payload; /* byte 0, if present, is the indication status */
        uint8_t payload_len;
} SinkGenericInd;

typedef struct SinkMsg {
        SinkMsgType type;
        uint8_t primitive; /* wire id; for SINK_MSG_GENERIC_IND and SINK_MSG_RESPONSE it says which */
        uint8_t frame_id;
        union {
                SinkDataTx data_tx;        /* DATA_TX_REQ, DATA_TX_TT_REQ */
                SinkDataTxCnf data_tx_cnf; /* DATA_TX_CNF, DATA_TX_TT_CNF */
                SinkDataTxInd data_tx_ind;
                SinkDataRx data_rx;
                uint8_t start_options;    /* STACK_START_REQ: bit 0 = autostart */
                uint16_t attr_id;         /* *_ATTR_READ_REQ */
                SinkAttrWrite attr_write; /* *_ATTR_WRITE_REQ */
                SinkAttrReadCnf attr_read_cnf;
                uint32_t reset_key; /* FACTORY_RESET_REQ */
                uint8_t cost;       /* SINK_COST_WRITE_REQ */
                struct {
                        uint8_t result;
                        uint8_t cost;
                } cost_cnf;               /* SINK_COST_READ_CNF */
                SinkAppConfig app_config; /* APP_CONFIG_WRITE_REQ, APP_CONFIG_READ_CNF, APP_CONFIG_RX_IND */
                SinkScratchpadStatus scratchpad; /* SCRATCHPAD_STATUS_CNF */
                SinkStackState stack_state;
                SinkGenericInd generic;
                uint8_t result; /* the one-byte confirms; RESPONSE: SINK_RESPONSE_* */
        };
} SinkMsg;

/* Decodes a frame travelling in direction dir: SINK_TO_DEVICE gives requests and responses, SINK_TO_HOST
 * confirms and indications. -EBADMSG: wrong size or value; -EOPNOTSUPP: unknown request or confirm id.
 * Views in *ret point into the frame. */
int sinkmsg_decode(SinkDirection dir, const SinkFrame *f, SinkMsg *ret);

/* Writes header + payload (no CRC) into buf; returns its length. -EINVAL for a message that could not be
 * decoded back (wrong type/primitive combination, view missing, generic indication with a known id, response
 * value other than 0/1), -EMSGSIZE if buf is too small. */
int sinkmsg_encode(const SinkMsg *m, uint8_t *buf, size_t bufsz);
/* sinkmsg_encode() + sink_slip_encode() in the direction of the message's kind. */
int sinkmsg_to_wire(const SinkMsg *m, uint8_t *buf, size_t bufsz);

SinkMsgKind sinkmsg_type_kind(SinkMsgType t);
/* The wire id of a type; for GENERIC_IND and RESPONSE, which have none of their own, -EINVAL. */
int sinkmsg_type_primitive(SinkMsgType t);
const char *sinkmsg_type_to_string(SinkMsgType t);
const char *sinkmsg_kind_to_string(SinkMsgKind k);
/* The confirm type that answers a request type (e.g. POLL_REQ -> POLL_CNF), or -EINVAL. */
SinkMsgType sinkmsg_confirm_type(SinkMsgType request);

/* Indication status byte (1 = more queued) of any indication, -EINVAL if m is not one (or a generic one
 * with an empty payload). */
int sinkmsg_indication_status(const SinkMsg *m);

/* Travel time / buffering delay in 1/128 s to milliseconds, exact (rounded down), no overflow. */
static inline uint64_t sink_travel_time_to_ms(uint32_t t) {
        return ((uint64_t)t * 1000u) >> 7;
}
/* Milliseconds to 1/128 s, rounded down, saturating. */
static inline uint32_t sink_ms_to_travel_time(uint64_t ms) {
        uint64_t t = (ms << 7) / 1000u;
        return ms > (UINT64_MAX >> 7) || t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

/* DATA_RX QoS/hop byte: bits 0-1 QoS (bit 0 = high priority), bits 2-7 hop count (the device caps it at 63).
 */
static inline uint8_t sink_qos_hop_qos(uint8_t b) {
        return b & 0x03u;
}
static inline uint8_t sink_qos_hop_hops(uint8_t b) {
        return b >> 2;
}
static inline uint8_t sink_qos_hop_make(uint8_t qos, unsigned hops) {
        return (uint8_t)((qos & 0x03u) | (MIN(hops, 63u) << 2));
}
static inline uint8_t sink_tx_options_make(bool indication, bool unack_csma, unsigned hop_limit) {
        return (uint8_t)((indication ? SINK_TX_OPT_INDICATION : 0u) |
                         (unack_csma ? SINK_TX_OPT_UNACK_CSMA : 0u) |
                         ((MIN(hop_limit, 15u) << SINK_TX_OPT_HOP_LIMIT_SHIFT) &
                          SINK_TX_OPT_HOP_LIMIT_MASK));
}
