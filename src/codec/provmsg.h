/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Provisioning packets: START, DATA, DATA_ACK, NACK (ref-provisioning.md §3-§7).
 *
 * Pure: no I/O, no clock, no logging. Parsers are total (any input gives 0 or a negative errno), read
 * through the bounded Cursor, reject unknown types and methods, and check exact (ACK, NACK) or bounded
 * (START, DATA) lengths. Parsed byte fields are views into the caller's buffer. */

#include "meshprov-limits.h"
#include "macro.h"

typedef enum ProvMsgType {
        PROV_MSG_START = 1,
        PROV_MSG_DATA = 2,
        PROV_MSG_DATA_ACK = 3,
        PROV_MSG_NACK = 4,
} ProvMsgType;

typedef enum ProvMethod {
        PROV_METHOD_UNSECURED = 0,
        PROV_METHOD_SECURED = 1,
        PROV_METHOD_EXTENDED_UID = 3,
        PROV_METHOD_EXTENDED_UID_KEY_MGMT = 7, /* 5G Mesh SDK only; parsed, never granted */
} ProvMethod;

typedef enum ProvNackReason {
        PROV_NACK_NOT_AUTHORIZED = 0,
        PROV_NACK_METHOD_NOT_SUPPORTED = 1,
        PROV_NACK_INVALID_DATA = 2,
        PROV_NACK_INVALID_KEY = 3,
        _PROV_NACK_MAX,
        _PROV_NACK_INVALID = -EINVAL,
} ProvNackReason;

typedef enum ProvKeyIndex {
        PROV_KEY_INDEX_PLAINTEXT = 0,
        PROV_KEY_INDEX_FACTORY = 1,
} ProvKeyIndex;

/* Common 6-byte header. The address is kept as the 4 raw bytes the node sent: it is echoed, never
 * interpreted (use unaligned_read_le32() to show it). */
typedef struct ProvHeader {
        uint8_t type;
        uint8_t address[4];
        uint8_t session_id;
} ProvHeader;

typedef struct ProvMsg {
        ProvHeader hdr;
        union {
                struct {
                        uint8_t method; /* a ProvMethod value */
                        uint8_t iv[PROV_IV_SIZE];
                        const uint8_t *uid; /* view, 1..PROV_UID_MAX bytes */
                        size_t uid_len;
                } start;
                struct {
                        uint8_t key_index; /* a ProvKeyIndex value */
                        uint16_t counter;
                        const uint8_t *payload; /* view: CBOR (key index 0) or ciphertext of CBOR||MIC */
                        size_t payload_len;
                } data;
                struct {
                        uint8_t reason; /* a ProvNackReason value */
                } nack;
        };
} ProvMsg;

/* Parses one packet. pdu_max is the node buffer size for the profile the packet came in on
 * (PROV_PDU_MAX_24G or PROV_PDU_MAX_5G); longer packets are -EMSGSIZE (checked first). Malformed: -EBADMSG.
 * Lengths: START 23 + uid (uid 1..PROV_UID_MAX) and a known method; DATA at least PROV_DATA_HEADER_SIZE with
 * key index 0 or 1 (the payload may be empty here: prov_data_open() and provdata_decode() judge it);
 * DATA_ACK exactly 6; NACK exactly 7 with a known reason. Unknown types are -EBADMSG. *ret is written only
 * on success; its byte fields are views into buf. */
int provmsg_parse(const uint8_t *buf, size_t len, size_t pdu_max, ProvMsg *ret);

/* Builders write into buf and return the length, or -EMSGSIZE if bufsz is too small / -EINVAL for values
 * out of range (unknown method or NACK reason, UID length outside 1..PROV_UID_MAX, key index not 0/1).
 * hdr->type is ignored: each builder writes its own type, so the header of a parsed START can be passed as
 * it is to answer it. Nothing is written on failure. */
int provmsg_build_start(const ProvHeader *hdr, uint8_t method, const uint8_t iv[static PROV_IV_SIZE],
                        const uint8_t *uid, size_t uid_len, uint8_t *buf, size_t bufsz);
int provmsg_build_data_ack(const ProvHeader *hdr, uint8_t *buf, size_t bufsz);
int provmsg_build_nack(const ProvHeader *hdr, ProvNackReason reason, uint8_t *buf, size_t bufsz);
/* Writes the 9-byte clear prefix of a DATA packet (type 2, address, session id, key index, counter LE). */
int provmsg_build_data_prefix(const ProvHeader *hdr, ProvKeyIndex key_index, uint16_t counter,
                              uint8_t prefix[static PROV_DATA_HEADER_SIZE]);

/* String tables. Names are lower case: "start", "data", "data_ack", "nack"; "unsecured", "secured",
 * "extended_uid", "extended_uid_key_mgmt"; "not_authorized", "method_not_supported", "invalid_data",
 * "invalid_key". *_to_string() returns NULL for unknown values. *_from_string() is case-insensitive, also
 * takes the decimal wire value ("1"), and returns -EINVAL for anything else. */
const char *prov_msg_type_to_string(int t);
const char *prov_method_to_string(int m);
int prov_method_from_string(const char *s);
const char *prov_nack_reason_to_string(int r);
int prov_nack_reason_from_string(const char *s);
/* 0, 1, 3, 7 */
bool prov_method_is_known(int m);
/* 1, 3, 7: DATA is encrypted with the factory key (key index 1) */
bool prov_method_is_secured(int m);
