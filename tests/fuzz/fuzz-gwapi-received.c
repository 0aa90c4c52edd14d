/* SPDX-License-Identifier: Apache-2.0 */
/* Gateway-API downlink and uplink messages on arbitrary bytes: the received_data decoder, and the send_data
 * request decoder an emulated gateway uses. Checks: decoding never crashes or leaks; whatever decodes
 * re-encodes within GWAPI_PAYLOAD_MAX, decodes back to the same values, and re-encodes to the same bytes
 * (the encoding is canonical). */
#include <stdlib.h>

#include "gwapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(x)                 \
        do {                     \
                if (!(x))        \
                        abort(); \
        } while (0)

static void check_received_equal(const GwapiReceived *a, const GwapiReceived *b) {
        check(streq(a->gw_id, b->gw_id));
        check(streq(a->sink_id, b->sink_id));
        check(a->event_id == b->event_id);
        check(a->has_time_ms_epoch == b->has_time_ms_epoch && a->time_ms_epoch == b->time_ms_epoch);
        check(a->source_address == b->source_address);
        check(a->destination_address == b->destination_address);
        check(a->source_endpoint == b->source_endpoint);
        check(a->destination_endpoint == b->destination_endpoint);
        check(a->travel_time_ms == b->travel_time_ms);
        check(a->rx_time_ms_epoch == b->rx_time_ms_epoch);
        check(a->qos == b->qos);
        check(a->has_payload == b->has_payload);
        check(a->payload_len == b->payload_len && a->payload_len <= GWAPI_APP_PAYLOAD_MAX);
        check(memcmp(a->payload, b->payload, a->payload_len) == 0);
        check(a->has_payload_size == b->has_payload_size && a->payload_size == b->payload_size);
        check(a->has_hop_count == b->has_hop_count && a->hop_count == b->hop_count);
        check(a->has_network_address == b->has_network_address && a->network_address == b->network_address);
}

static void check_send_data_equal(const GwapiSendData *a, const GwapiSendData *b) {
        check(a->req_id == b->req_id);
        check(streq(a->sink_id, b->sink_id));
        check(a->has_time_ms_epoch == b->has_time_ms_epoch && a->time_ms_epoch == b->time_ms_epoch);
        check(a->destination_address == b->destination_address);
        check(a->source_endpoint == b->source_endpoint);
        check(a->destination_endpoint == b->destination_endpoint);
        check(a->qos == b->qos);
        check(a->payload_len == b->payload_len && a->payload_len <= GWAPI_APP_PAYLOAD_MAX);
        check(memcmp(a->payload, b->payload, a->payload_len) == 0);
        check(a->has_initial_delay_ms == b->has_initial_delay_ms &&
              a->initial_delay_ms == b->initial_delay_ms);
        check(a->has_is_unack_csma_ca == b->has_is_unack_csma_ca &&
              a->is_unack_csma_ca == b->is_unack_csma_ca);
        check(a->has_hop_limit == b->has_hop_limit && a->hop_limit == b->hop_limit);
}

static void fuzz_received(const uint8_t *data, size_t size) {
        static GwapiReceived a, b;
        static uint8_t wire[GWAPI_PAYLOAD_MAX], wire2[GWAPI_PAYLOAD_MAX];
        int n, m;

        if (gwapi_received_data_decode(data, size, &a) < 0)
                return;
        check(a.gw_id[0] != '\0');

        n = gwapi_received_data_encode(&a, wire, sizeof(wire));
        check(n > 0);
        check(gwapi_received_data_decode(wire, (size_t)n, &b) == 0);
        check_received_equal(&a, &b);

        m = gwapi_received_data_encode(&b, wire2, sizeof(wire2));
        check(m == n && memcmp(wire, wire2, (size_t)n) == 0);
}

static void fuzz_send_data(const uint8_t *data, size_t size) {
        static GwapiSendData a, b;
        static uint8_t wire[GWAPI_PAYLOAD_MAX], wire2[GWAPI_PAYLOAD_MAX];
        int n, m;

        if (gwapi_send_data_decode(data, size, &a) < 0)
                return;

        n = gwapi_send_data_encode(&a, wire, sizeof(wire));
        check(n > 0);
        check(gwapi_send_data_decode(wire, (size_t)n, &b) == 0);
        check_send_data_equal(&a, &b);

        m = gwapi_send_data_encode(&b, wire2, sizeof(wire2));
        check(m == n && memcmp(wire, wire2, (size_t)n) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        fuzz_received(data, size);
        fuzz_send_data(data, size);
        return 0;
}
