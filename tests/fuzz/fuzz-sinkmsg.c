/* SPDX-License-Identifier: Apache-2.0 */
/* Dual-MCU primitives on arbitrary frames. Input: one direction byte, then primitive, frame id and payload.
 * Every frame the decoder accepts must re-encode to exactly the same bytes, and the re-encoded message must
 * survive SLIP framing and decode to the same message again. */
#include <stdlib.h>

#include "sinkframe.h"
#include "sinkmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(x)                 \
        do {                     \
                if (!(x))        \
                        abort(); \
        } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        uint8_t raw[SINK_FRAME_MAX], raw2[SINK_FRAME_MAX], wire[SINK_SLIP_WIRE_MAX(SINK_FRAME_MAX)];
        SinkDirection dir;
        SinkFrame f;
        SinkMsg m, m2;
        int n, w, r;

        if (size < 3 || size - 3 > SINK_FRAME_PAYLOAD_MAX)
                return 0;
        dir = data[0] & 1 ? SINK_TO_HOST : SINK_TO_DEVICE;

        /* hand the payload over in an exactly sized copy so that over-reads are caught */
        uint8_t *payload = malloc(size - 3 ? size - 3 : 1);
        if (!payload)
                return 0;
        memcpy(payload, data + 3, size - 3);
        f = (SinkFrame){
                .primitive = data[1],
                .frame_id = data[2],
                .payload = payload,
                .payload_len = size - 3,
        };

        r = sinkmsg_decode(dir, &f, &m);
        if (r < 0) {
                check(r == -EBADMSG || r == -EOPNOTSUPP);
                goto out;
        }
        SinkMsgKind kind = sinkmsg_type_kind(m.type);
        check(kind >= 0);
        check((dir == SINK_TO_DEVICE) == (kind == SINK_KIND_REQUEST || kind == SINK_KIND_RESPONSE));
        check(m.primitive == f.primitive && m.frame_id == f.frame_id);

        n = sinkmsg_encode(&m, raw, sizeof(raw));
        check(n == (int)(size - 3 + SINK_FRAME_HEADER_SIZE));
        check(raw[0] == f.primitive && raw[1] == f.frame_id && raw[2] == f.payload_len);
        check(memcmp(raw + SINK_FRAME_HEADER_SIZE, payload, f.payload_len) == 0);

        w = sinkmsg_to_wire(&m, wire, sizeof(wire));
        check(w > n);
        SinkFrameDecoder d;
        SinkFrame g;
        const uint8_t *p = wire;
        size_t left = (size_t)w;
        sink_frame_decoder_init(&d, 0);
        check(sink_frame_decoder_feed(&d, &p, &left, &g, NULL) == SINK_FEED_FRAME);
        check(sinkmsg_decode(dir, &g, &m2) == 0);
        check(m2.type == m.type);
        check(sinkmsg_encode(&m2, raw2, sizeof(raw2)) == n);
        check(memcmp(raw, raw2, (size_t)n) == 0);
out:
        free(payload);
        return 0;
}
