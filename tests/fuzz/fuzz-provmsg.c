/* SPDX-License-Identifier: Apache-2.0 */
/* The provisioning packet parser on arbitrary bytes, for both PDU sizes. Checks: only -EBADMSG / -EMSGSIZE
 * as errors, -EMSGSIZE exactly when the input is longer than the PDU; whatever parses respects the length
 * rules, its views lie inside the input, and START, DATA_ACK and NACK rebuild to exactly the input bytes
 * (DATA: its 9-byte prefix), while one byte less of room is refused. */
#include <stdlib.h>

#include "provmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(x)                 \
        do {                     \
                if (!(x))        \
                        abort(); \
        } while (0)

/* START, DATA_ACK, NACK: build the packet again from what was parsed. */
static int rebuild(const ProvMsg *m, uint8_t *out, size_t outsz) {
        switch ((ProvMsgType)m->hdr.type) {
        case PROV_MSG_START:
                return provmsg_build_start(&m->hdr, m->start.method, m->start.iv, m->start.uid,
                                           m->start.uid_len, out, outsz);
        case PROV_MSG_DATA_ACK:
                return provmsg_build_data_ack(&m->hdr, out, outsz);
        case PROV_MSG_NACK:
                return provmsg_build_nack(&m->hdr, m->nack.reason, out, outsz);
        case PROV_MSG_DATA:
                break;
        }
        abort(); /* DATA is checked by the caller; anything else must not have parsed */
}

static void check_parsed(const uint8_t *data, size_t size, const ProvMsg *m) {
        uint8_t out[PROV_PDU_MAX + 1];

        check(prov_msg_type_to_string(m->hdr.type));
        check(memcmp(m->hdr.address, data + 1, 4) == 0 && m->hdr.session_id == data[5]);

        if (m->hdr.type == PROV_MSG_DATA) {
                uint8_t prefix[PROV_DATA_HEADER_SIZE];

                check(m->data.key_index == PROV_KEY_INDEX_PLAINTEXT ||
                      m->data.key_index == PROV_KEY_INDEX_FACTORY);
                check(m->data.payload == data + PROV_DATA_HEADER_SIZE);
                check(m->data.payload_len == size - PROV_DATA_HEADER_SIZE);
                check(provmsg_build_data_prefix(&m->hdr, m->data.key_index, m->data.counter, prefix) ==
                      PROV_DATA_HEADER_SIZE);
                check(memcmp(prefix, data, PROV_DATA_HEADER_SIZE) == 0);
                return;
        }
        if (m->hdr.type == PROV_MSG_START) {
                check(prov_method_is_known(m->start.method));
                check(m->start.uid_len >= 1 && m->start.uid_len <= PROV_UID_MAX);
                check(m->start.uid == data + 23 && m->start.uid_len == size - 23);
        }
        if (m->hdr.type == PROV_MSG_NACK)
                check(prov_nack_reason_to_string(m->nack.reason));

        int n = rebuild(m, out, sizeof(out));
        check(n >= 0 && (size_t)n == size);
        check(memcmp(out, data, size) == 0);
        check(rebuild(m, out, size - 1) == -EMSGSIZE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const size_t pdu_max[] = { PROV_PDU_MAX_24G, PROV_PDU_MAX_5G };

        for (size_t i = 0; i < sizeof(pdu_max) / sizeof(pdu_max[0]); i++) {
                ProvMsg m;
                int r = provmsg_parse(data, size, pdu_max[i], &m);

                if (r < 0) {
                        check(r == -EBADMSG || r == -EMSGSIZE);
                        check((r == -EMSGSIZE) == (size > pdu_max[i]));
                        continue;
                }
                check(size >= 6 && size <= pdu_max[i]);
                check_parsed(data, size, &m);
        }
        return 0;
}
