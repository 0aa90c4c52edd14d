/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The Wirepas gateway API (protobuf over MQTT, ref-gateway-api.md) mapped to plain C structs.
 *
 * This is the only file set that sees protobuf-c (proto/gwapi.proto). Everything here is pure: no I/O, no
 * clock, no logging. Every message travels inside the GenericMessage/WirepasMessage envelope; the
 * decoders below take the whole MQTT payload.
 *
 * Decoders are total: any input gives 0 or a negative errno, and the unpacked protobuf-c message is freed
 * on every path. MQTT payloads longer than GWAPI_PAYLOAD_MAX are refused with -EMSGSIZE before protobuf-c
 * sees them, and protobuf-c's heap use per message is capped at GWAPI_UNPACK_MEMORY_MAX (-EMSGSIZE beyond).
 * Malformed protobuf, a missing required field or an envelope carrying a different inner message is
 * -EBADMSG. Gateway and sink ids must be topic-safe (printable ASCII without '/', '+', '#', non-empty) and
 * fit GW_ID_MAX_LEN / SINK_ID_MAX_LEN, else -EBADMSG / -EMSGSIZE. `*ret` is written only on success.
 *
 * Encoders write into a caller buffer and return the number of bytes written, -EMSGSIZE when it does not
 * fit (or would exceed GWAPI_PAYLOAD_MAX), -EINVAL for a value that the matching decoder would refuse.
 * Fields are written in ascending field-number order and optional fields only when their has_ flag is set,
 * which reproduces the encodings of the reference implementations byte for byte (ref §6). */

#include "meshprov-limits.h"
#include "macro.h"

/* Provisioning endpoint pairs of uplink packets (ref §4): 2.4 GHz and Sub-GHz, and 5G Mesh. */
#define GWAPI_PROV_24G_SRC_EP 246u
#define GWAPI_PROV_24G_DST_EP 255u
#define GWAPI_PROV_5G_SRC_EP  160u
#define GWAPI_PROV_5G_DST_EP  39u

/* What a provisioning backend subscribes to. gwapi_topic_received_data_filter() builds the first two from
 * the endpoint numbers; the unit tests check they agree. */
#define GWAPI_SUBSCRIBE_PROV_24G            "gw-event/received_data/+/+/+/246/255"
#define GWAPI_SUBSCRIBE_PROV_5G             "gw-event/received_data/+/+/+/160/39"
#define GWAPI_SUBSCRIBE_SEND_DATA_RESPONSES "gw-response/send_data/+/+"
#define GWAPI_SUBSCRIBE_STATUS              "gw-event/status/+"

/* The only StatusEvent version defined (ref §2.4). */
#define GWAPI_STATUS_VERSION 1u

/* Size of a buffer that holds any topic this module builds, including the NUL. */
#define GWAPI_TOPIC_BUFFER_SIZE (MQTT_TOPIC_MAX_LEN + 1u)

/* ErrorCode of the gateway API (ref §2.7). Response decoders keep the value the gateway sent, so a code
 * newer than this table (>= _GWAPI_ERROR_MAX) can show up: it has no name and is not retryable. */
typedef enum GwapiError {
        GWAPI_ERROR_OK = 0,
        GWAPI_ERROR_INTERNAL_ERROR = 1,
        GWAPI_ERROR_INVALID_SINK_ID = 2,
        GWAPI_ERROR_INVALID_ROLE = 3,
        GWAPI_ERROR_INVALID_NETWORK_ADDRESS = 4,
        GWAPI_ERROR_INVALID_NETWORK_CHANNEL = 5,
        GWAPI_ERROR_INVALID_CHANNEL_MAP = 6,
        GWAPI_ERROR_INVALID_NETWORK_KEYS = 7,
        GWAPI_ERROR_INVALID_AC_RANGE = 8,
        GWAPI_ERROR_INVALID_SINK_STATE = 9,
        GWAPI_ERROR_INVALID_DEST_ADDRESS = 10,
        GWAPI_ERROR_INVALID_DEST_ENDPOINT = 11,
        GWAPI_ERROR_INVALID_SRC_ENDPOINT = 12,
        GWAPI_ERROR_INVALID_QOS = 13,
        GWAPI_ERROR_INVALID_DATA_PAYLOAD = 14,
        GWAPI_ERROR_INVALID_SCRATCHPAD = 15,
        GWAPI_ERROR_INVALID_SCRATCHPAD_SIZE = 16,
        GWAPI_ERROR_INVALID_SEQUENCE_NUMBER = 17,
        GWAPI_ERROR_INVALID_REBOOT_DELAY = 18,
        GWAPI_ERROR_INVALID_DIAG_INTERVAL = 19,
        GWAPI_ERROR_INVALID_APP_CONFIG = 20,
        GWAPI_ERROR_INVALID_PARAM = 21,
        GWAPI_ERROR_NO_SCRATCHPAD_PRESENT = 22,
        GWAPI_ERROR_ACCESS_DENIED = 23,
        GWAPI_ERROR_REQUEST_NEEDS_SINK_ID = 24,
        GWAPI_ERROR_INVALID_MAX_HOP_COUNT = 25,
        GWAPI_ERROR_SINK_OUT_OF_MEMORY = 26,
        GWAPI_ERROR_SINK_TIMEOUT = 27,
        GWAPI_ERROR_INVALID_SCRATCHPAD_CHUNK_OFFSET = 28,
        GWAPI_ERROR_INVALID_SCRATCHPAD_CHUNK_SIZE = 29,
        _GWAPI_ERROR_MAX,
        _GWAPI_ERROR_INVALID = -EINVAL,
} GwapiError;

/* The upstream name ("SINK_TIMEOUT"), or NULL for a value outside the table. */
const char *gwapi_error_to_string(GwapiError e) _pure_;
/* Also accepts the upstream misspelling "INVLAID_SEQUENCE_NUMBER". _GWAPI_ERROR_INVALID if unknown. */
GwapiError gwapi_error_from_string(const char *s) _pure_;
/* Worth sending the same request again later: the sink was busy (SINK_OUT_OF_MEMORY), slow (SINK_TIMEOUT)
 * or the gateway failed internally (INTERNAL_ERROR). INVALID_*, ACCESS_DENIED, OK and unknown codes: no. */
bool gwapi_error_retryable(GwapiError e) _pure_;

typedef enum GwapiOnOff {
        GWAPI_ON = 1,
        GWAPI_OFF = 2,
        _GWAPI_ON_OFF_MAX,
        _GWAPI_ON_OFF_INVALID = -EINVAL,
} GwapiOnOff;

typedef enum GwapiRole {
        GWAPI_ROLE_SINK = 1,
        GWAPI_ROLE_ROUTER = 2,
        GWAPI_ROLE_NON_ROUTER = 3,
        _GWAPI_ROLE_MAX,
        _GWAPI_ROLE_INVALID = -EINVAL,
} GwapiRole;

/* NodeRole.flags as a bit mask (bit n-1 for flag value n); encoded in ascending order. */
#define GWAPI_ROLE_FLAG_LOW_LATENCY (1u << 0)
#define GWAPI_ROLE_FLAG_AUTOROLE    (1u << 1)
#define GWAPI_ROLE_FLAGS_ALL        (GWAPI_ROLE_FLAG_LOW_LATENCY | GWAPI_ROLE_FLAG_AUTOROLE)

/* GatewayFeature values (ref §2.4). Status decoders keep the values as sent, including unknown ones. */
typedef enum GwapiFeature {
        GWAPI_FEATURE_UNKNOWN = 0,
        GWAPI_FEATURE_SCRATCHPAD_CHUNK_V1 = 1,
        GWAPI_FEATURE_CONFIGURATION_DATA_V1 = 2,
        GWAPI_FEATURE_SINK_KEY_MANAGEMENT_V1 = 3,
        GWAPI_FEATURE_VIRTUAL_NODE_V1 = 4,
        _GWAPI_FEATURE_MAX,
        _GWAPI_FEATURE_INVALID = -EINVAL,
} GwapiFeature;

/* gw-event/received_data: PacketReceivedEvent. */
typedef struct GwapiReceived {
        /* EventHeader */
        char gw_id[GW_ID_MAX_LEN + 1];
        char sink_id[SINK_ID_MAX_LEN + 1]; /* "" when absent */
        uint64_t event_id;
        bool has_time_ms_epoch;
        uint64_t time_ms_epoch;

        uint32_t source_address;
        uint32_t destination_address;
        uint8_t source_endpoint; /* the wire type is uint32: > 255 is -EBADMSG */
        uint8_t destination_endpoint;
        uint32_t travel_time_ms;
        uint64_t rx_time_ms_epoch;
        uint32_t qos;       /* mesh priority, kept as sent */
        bool has_payload;   /* a gateway may withhold it and give payload_size */
        size_t payload_len; /* > PROV_PDU_MAX: not a provisioning packet */
        uint8_t payload[GWAPI_APP_PAYLOAD_MAX];
        bool has_payload_size;
        uint32_t payload_size;
        bool has_hop_count;
        uint32_t hop_count;
        bool has_network_address;
        uint64_t network_address;
} GwapiReceived;

/* gw-request/send_data: SendPacketReq. The gateway id is in the topic only. */
typedef struct GwapiSendData {
        /* RequestHeader */
        uint64_t req_id;
        char sink_id[SINK_ID_MAX_LEN + 1]; /* "" when absent (the gateway takes the sink from the topic) */
        bool has_time_ms_epoch;
        uint64_t time_ms_epoch;

        uint32_t destination_address;
        uint8_t source_endpoint;
        uint8_t destination_endpoint;
        uint32_t qos; /* mesh priority: 0 normal, 1 high */
        size_t payload_len;
        uint8_t payload[GWAPI_APP_PAYLOAD_MAX];
        bool has_initial_delay_ms;
        uint32_t initial_delay_ms;
        bool has_is_unack_csma_ca;
        bool is_unack_csma_ca;
        bool has_hop_limit;
        uint32_t hop_limit; /* kept as sent; gateways refuse > 15 (INVALID_MAX_HOP_COUNT) */
} GwapiSendData;

/* gw-response/send_data: SendPacketResp. */
typedef struct GwapiSendDataResponse {
        uint64_t req_id;
        char gw_id[GW_ID_MAX_LEN + 1];
        char sink_id[SINK_ID_MAX_LEN + 1]; /* "" when absent */
        GwapiError result;                 /* >= 0; may lie beyond the table, see GwapiError */
        bool has_time_ms_epoch;
        uint64_t time_ms_epoch;
} GwapiSendDataResponse;

/* One SinkReadConfig of a status event: the fields meshprov and its test gateways care about. Other fields
 * on the wire are ignored by the decoder and never written by the encoder. */
typedef struct GwapiSinkConfig {
        char sink_id[SINK_ID_MAX_LEN + 1];
        bool has_role;
        GwapiRole role;
        uint32_t role_flags; /* GWAPI_ROLE_FLAG_* */
        bool has_node_address;
        uint32_t node_address;
        bool has_network_address;
        uint64_t network_address;
        bool has_network_channel;
        uint32_t network_channel;
        bool has_are_keys_set;
        bool are_keys_set;
        bool has_max_mtu;
        uint32_t max_mtu;
        bool has_firmware_version;
        uint32_t firmware_version[4]; /* major, minor, maint, dev */
        bool has_sink_state;
        GwapiOnOff sink_state;
} GwapiSinkConfig;

/* gw-event/status: StatusEvent. An empty MQTT payload on the status topic means "gateway removed" and is
 * not a StatusEvent: check for it before decoding (the decoder says -EBADMSG). */
typedef struct GwapiStatus {
        /* EventHeader (a sink id there is ignored) */
        char gw_id[GW_ID_MAX_LEN + 1];
        uint64_t event_id;
        bool has_time_ms_epoch;
        uint64_t time_ms_epoch;

        uint32_t version; /* decoder: always GWAPI_STATUS_VERSION */
        GwapiOnOff state;
        bool has_gw_model;
        char gw_model[GWAPI_GW_STRING_MAX + 1]; /* untrusted text: escape before logging */
        bool has_gw_version;
        char gw_version[GWAPI_GW_STRING_MAX + 1];
        bool has_max_scratchpad_size;
        uint32_t max_scratchpad_size;
        size_t n_features;
        int32_t features[GWAPI_FEATURES_MAX]; /* GwapiFeature values, unknown ones kept */
        size_t n_sinks;
        GwapiSinkConfig sinks[GWAPI_STATUS_SINKS_MAX];
} GwapiStatus;

/* Decoders: see the top of this file for the error contract. Status: a version other than
 * GWAPI_STATUS_VERSION is -EPROTONOSUPPORT; a state, role, role flag or sink state outside the enum is
 * -EBADMSG; more than GWAPI_STATUS_SINKS_MAX configs or GWAPI_FEATURES_MAX features, or a gw_model or
 * gw_version longer than GWAPI_GW_STRING_MAX, is -EMSGSIZE. An application payload longer than
 * GWAPI_APP_PAYLOAD_MAX is -EMSGSIZE. A negative ErrorCode in a response is -EBADMSG. */
int gwapi_received_data_decode(const uint8_t *buf, size_t len, GwapiReceived *ret);
int gwapi_send_data_decode(const uint8_t *buf, size_t len, GwapiSendData *ret);
int gwapi_send_data_response_decode(const uint8_t *buf, size_t len, GwapiSendDataResponse *ret);
int gwapi_status_decode(const uint8_t *buf, size_t len, GwapiStatus *ret);

/* Encoders (the backend sends send_data; the others are for emulated gateways in tests, e2e and benchmarks).
 * Return the encoded length. The status encoder writes any version, so tests can emulate a gateway that
 * speaks another one. */
int gwapi_send_data_encode(const GwapiSendData *s, uint8_t *buf, size_t size);
int gwapi_received_data_encode(const GwapiReceived *r, uint8_t *buf, size_t size);
int gwapi_send_data_response_encode(const GwapiSendDataResponse *r, uint8_t *buf, size_t size);
int gwapi_status_encode(const GwapiStatus *s, uint8_t *buf, size_t size);

/* Topics (ref §1). */
typedef enum GwapiTopicKind {
        GWAPI_TOPIC_RECEIVED_DATA,      /* gw-event/received_data/<gw>/<sink>/<net>/<src_ep>/<dst_ep> */
        GWAPI_TOPIC_SEND_DATA_REQUEST,  /* gw-request/send_data/<gw>/<sink> */
        GWAPI_TOPIC_SEND_DATA_RESPONSE, /* gw-response/send_data/<gw>/<sink> */
        GWAPI_TOPIC_STATUS,             /* gw-event/status/<gw> */
        _GWAPI_TOPIC_KIND_MAX,
        _GWAPI_TOPIC_KIND_INVALID = -EINVAL,
} GwapiTopicKind;

typedef struct GwapiTopic {
        GwapiTopicKind kind;
        char gw_id[GW_ID_MAX_LEN + 1];
        char sink_id[SINK_ID_MAX_LEN + 1]; /* "" for STATUS */
        uint64_t network_address;          /* RECEIVED_DATA only */
        uint8_t src_ep, dst_ep;            /* RECEIVED_DATA only */
} GwapiTopic;

/* Parses one of the four topics above, strictly: exactly the right number of levels, ids topic-safe and
 * within their caps, network address and endpoints in canonical decimal (digits only, no sign, no leading
 * zero, endpoints <= 255, address <= UINT64_MAX). Anything else, including other gateway-API topics, is
 * -EBADMSG; a topic longer than MQTT_TOPIC_MAX_LEN or an id over its cap is -EMSGSIZE. */
int gwapi_topic_parse(const char *topic, GwapiTopic *ret);
/* The inverse: writes the NUL-terminated topic and returns its length (without the NUL). -EINVAL for an
 * unsafe id or a bad kind, -EMSGSIZE if buf is too small (GWAPI_TOPIC_BUFFER_SIZE always suffices). */
int gwapi_topic_format(const GwapiTopic *t, char *buf, size_t size);
/* gw-request/send_data/<gw>/<sink>, the topic the backend publishes downlinks on. */
int gwapi_topic_send_data_request(const char *gw_id, const char *sink_id, char *buf, size_t size);
/* gw-event/received_data/+/+/+/<src_ep>/<dst_ep>: all gateways, sinks and networks, one endpoint pair. */
int gwapi_topic_received_data_filter(uint8_t src_ep, uint8_t dst_ep, char *buf, size_t size);
