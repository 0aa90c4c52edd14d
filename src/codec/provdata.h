/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The CBOR parameter map carried in DATA (ref-provisioning.md §11), and the validity rules for every value
 * that may end up in it. The same rules are applied when data is stored (src/store), imported (meshprovctl)
 * or received by the management API, so that a DATA the node would reject cannot be configured.
 *
 * The encoder is canonical: ids ascending (0, 1, 2, 3, then 4 and 5 if present, then user ids ascending),
 * shortest-form heads, definite lengths; its output matches the reference vectors byte for byte.
 * The decoder applies the 2.4 GHz node's rules: top-level definite or indefinite map; keys unsigned ints;
 * ids 0-3 mandatory; 6-127 and >255 rejected; key values 16-byte byte strings; role a 1-byte byte string;
 * addresses and channel unsigned ints; user values int, byte/text string (<= 94 bytes), bool (simple values
 * and floats are accepted and skipped as the node does, but not kept); null, undefined, tags, arrays and
 * maps as values rejected; duplicate ids allowed (last wins); bytes after the map ignored. Integers and
 * lengths may use any head size (the node's tinycbor does not insist on the shortest form);
 * indefinite-length strings made of definite chunks are accepted.
 *
 * "Strict node": on top of the node's own rules the decoder rejects values our store would never produce:
 * a network address, node address or role outside prov_network_address_valid() / prov_node_address_valid() /
 * prov_role_valid(), and a channel outside 1..255 (the node itself would keep the low byte of 256..511 and
 * the low 32 bits of larger addresses). It does not know the profile, so the 2.4G channel limit (40) and the
 * key rules (not all 0x00/0xFF) are left to prov_params_validate(); text items are not checked for UTF-8
 * (the node does not either). Pure: no I/O, no clock, no logging. */

#include "meshprov-limits.h"
#include "macro.h"

typedef enum ProvProfile {
        PROV_PROFILE_24G,
        PROV_PROFILE_SUBG,
        PROV_PROFILE_5GMESH,
        _PROV_PROFILE_MAX,
        _PROV_PROFILE_INVALID = -EINVAL,
} ProvProfile;

typedef enum ProvUserType {
        PROV_USER_INT,   /* int64 */
        PROV_USER_BYTES, /* byte string, <= PROV_USER_STRING_MAX */
        PROV_USER_TEXT,  /* UTF-8 text string, <= PROV_USER_STRING_MAX */
        PROV_USER_BOOL,
        _PROV_USER_TYPE_MAX,
        _PROV_USER_TYPE_INVALID = -EINVAL,
} ProvUserType;

typedef struct ProvUserItem {
        uint8_t id; /* 128..255 */
        ProvUserType type;
        int64_t integer; /* PROV_USER_INT */
        bool boolean;    /* PROV_USER_BOOL */
        uint8_t len;     /* PROV_USER_BYTES / PROV_USER_TEXT */
        uint8_t data[PROV_USER_STRING_MAX];
} ProvUserItem;

/* At most this many user items: more can never fit a DATA packet (each takes at least 3 bytes). */
#define PROV_PARAMS_USER_MAX 40u

typedef struct ProvParams {
        uint8_t enc_key[PROV_KEY_SIZE];  /* id 0: network encryption key */
        uint8_t auth_key[PROV_KEY_SIZE]; /* id 1: network authentication key */
        uint32_t network_address;        /* id 2 */
        uint32_t channel;                /* id 3 */
        bool has_node_address;
        uint32_t node_address; /* id 4 */
        bool has_role;
        uint8_t role; /* id 5 */
        size_t n_user_items;
        ProvUserItem user_items[PROV_PARAMS_USER_MAX];
} ProvParams;

/* Encodes the map. Returns the length, or -EMSGSIZE if it does not fit bufsz, -EINVAL if p breaks a rule
 * that does not depend on the profile (see prov_params_validate(); the channel is checked against 1..255,
 * user ids must be unique: call prov_params_normalize() first). User items are written in ascending id order
 * whatever their order in p. The size limit of a DATA packet is not checked here: use prov_cbor_max(). */
int provdata_encode(const ProvParams *p, uint8_t *buf, size_t bufsz);
/* Decodes as the node does, plus the strict-node checks (see above). -EBADMSG for anything the node would
 * reject, -EMSGSIZE for more than PROV_PARAMS_USER_MAX distinct user ids. On success the user items come out
 * normalized (one per id, ascending; a float or simple value as the last value of an id leaves no item). */
int provdata_decode(const uint8_t *buf, size_t len, ProvParams *ret);

/* Largest CBOR map a DATA packet can carry: PDU - 9-byte prefix (- 5-byte MIC when secured).
 * 2.4G/SubG: 93 / 88; 5G Mesh: 126 / 121. */
size_t prov_cbor_max(ProvProfile profile, bool secured);
size_t prov_pdu_max(ProvProfile profile);

/* Validity rules (also used when storing). */
bool prov_network_address_valid(uint32_t a);                    /* 1..0xFFFFFE, not 0xAAAAAA / 0x555555 */
bool prov_channel_valid(ProvProfile profile, uint32_t channel); /* 2.4G: 1..40; SubG and 5G: 1..255 */
bool prov_node_address_valid(uint32_t a); /* unicast: 1..0x7FFFFFFF, 0x81000000..0xFFFFFFFD */
bool prov_role_valid(uint8_t role);       /* 0x00 0x10 0x01 0x11 0x02 0x12 0x42 0x52 0x04 */
bool prov_key_valid(const uint8_t key[static PROV_KEY_SIZE]); /* not all 0x00, not all 0xFF */
bool prov_uid_len_valid(size_t len);                          /* 1..79 */
/* id 128..255, a known type, strings <= PROV_USER_STRING_MAX; text must be well-formed UTF-8 (no overlong
 * forms, surrogates or code points above U+10FFFF) without NUL. */
bool prov_user_item_valid(const ProvUserItem *item);

/* Checks every rule above (user ids also unique, at most PROV_PARAMS_USER_MAX items) and that the encoded
 * map fits prov_cbor_max(profile, secured) exactly (<=); when assume_node_address is set and p has no node
 * address, one is counted at its largest encoding (id + 0x1a + 4 bytes: a pool address may be added at
 * provisioning time). On failure returns -EINVAL / -EMSGSIZE and, if ret_field is given, points it at the
 * name of the offending field ("network_address", "channel", "node_address", "role", "enc_key", "auth_key",
 * "user_items", "size", or "profile" for an unknown profile). Fields are checked in the order enc_key,
 * auth_key, network_address, channel, node_address, role, user_items, then size. */
int prov_params_validate(const ProvParams *p, ProvProfile profile, bool secured, bool assume_node_address,
                         const char **ret_field);

/* Sorts user items by id and drops earlier duplicates (last wins), as the node does. More than
 * PROV_PARAMS_USER_MAX items are cut to that many first. */
void prov_params_normalize(ProvParams *p);

const char *prov_profile_to_string(ProvProfile p);
ProvProfile prov_profile_from_string(const char *s); /* "2.4G", "SubG", "5GMesh" (case-insensitive) */
const char *prov_user_type_to_string(ProvUserType t);
ProvUserType prov_user_type_from_string(const char *s); /* "int", "bytes", "text", "bool" */
