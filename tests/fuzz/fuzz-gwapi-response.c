/* SPDX-License-Identifier: Apache-2.0 */
/* What gateways send back to the backend, on arbitrary bytes: the send_data response and status decoders,
 * and the topic parser on the same bytes as a NUL-terminated string. Checks: nothing crashes or leaks;
 * decoded messages re-encode and decode to the same values; a parsed topic is canonical, so formatting it
 * gives back exactly the input string. */
#include <stdlib.h>

#include "gwapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(x)                 \
        do {                     \
                if (!(x))        \
                        abort(); \
        } while (0)

static void fuzz_response(const uint8_t *data, size_t size) {
        static uint8_t wire[GWAPI_PAYLOAD_MAX];
        GwapiSendDataResponse a, b;
        int n;

        if (gwapi_send_data_response_decode(data, size, &a) < 0)
                return;
        check(a.gw_id[0] != '\0' && a.result >= 0);
        (void)gwapi_error_to_string(a.result);
        (void)gwapi_error_retryable(a.result);

        n = gwapi_send_data_response_encode(&a, wire, sizeof(wire));
        check(n > 0);
        check(gwapi_send_data_response_decode(wire, (size_t)n, &b) == 0);
        check(a.req_id == b.req_id && a.result == b.result);
        check(streq(a.gw_id, b.gw_id) && streq(a.sink_id, b.sink_id));
        check(a.has_time_ms_epoch == b.has_time_ms_epoch && a.time_ms_epoch == b.time_ms_epoch);
}

static void check_sink_equal(const GwapiSinkConfig *x, const GwapiSinkConfig *y) {
        check(streq(x->sink_id, y->sink_id));
        check(x->has_role == y->has_role && x->role == y->role && x->role_flags == y->role_flags);
        check(x->has_node_address == y->has_node_address && x->node_address == y->node_address);
        check(x->has_network_address == y->has_network_address && x->network_address == y->network_address);
        check(x->has_network_channel == y->has_network_channel && x->network_channel == y->network_channel);
        check(x->has_are_keys_set == y->has_are_keys_set && x->are_keys_set == y->are_keys_set);
        check(x->has_max_mtu == y->has_max_mtu && x->max_mtu == y->max_mtu);
        check(x->has_firmware_version == y->has_firmware_version);
        check(memcmp(x->firmware_version, y->firmware_version, sizeof(x->firmware_version)) == 0);
        check(x->has_sink_state == y->has_sink_state && x->sink_state == y->sink_state);
}

static void fuzz_status(const uint8_t *data, size_t size) {
        static GwapiStatus a, b;
        static uint8_t wire[GWAPI_PAYLOAD_MAX];
        int n;

        if (gwapi_status_decode(data, size, &a) < 0)
                return;
        check(a.version == GWAPI_STATUS_VERSION);
        check(a.state == GWAPI_ON || a.state == GWAPI_OFF);
        check(a.n_sinks <= GWAPI_STATUS_SINKS_MAX && a.n_features <= GWAPI_FEATURES_MAX);

        n = gwapi_status_encode(&a, wire, sizeof(wire));
        check(n > 0);
        check(gwapi_status_decode(wire, (size_t)n, &b) == 0);
        check(streq(a.gw_id, b.gw_id) && a.event_id == b.event_id);
        check(a.has_time_ms_epoch == b.has_time_ms_epoch && a.time_ms_epoch == b.time_ms_epoch);
        check(a.state == b.state);
        check(a.has_gw_model == b.has_gw_model && streq(a.gw_model, b.gw_model));
        check(a.has_gw_version == b.has_gw_version && streq(a.gw_version, b.gw_version));
        check(a.has_max_scratchpad_size == b.has_max_scratchpad_size);
        check(a.max_scratchpad_size == b.max_scratchpad_size);
        check(a.n_features == b.n_features);
        check(memcmp(a.features, b.features, a.n_features * sizeof(a.features[0])) == 0);
        check(a.n_sinks == b.n_sinks);
        for (size_t i = 0; i < a.n_sinks; i++)
                check_sink_equal(&a.sinks[i], &b.sinks[i]);
}

static void fuzz_topic(const uint8_t *data, size_t size) {
        char buf[GWAPI_TOPIC_BUFFER_SIZE];
        GwapiTopic t, u;
        char *s;
        int n;

        s = malloc(size + 1);
        if (!s)
                return;
        memcpy(s, data, size);
        s[size] = '\0';

        if (gwapi_topic_parse(s, &t) >= 0) {
                check(t.kind >= 0 && t.kind < _GWAPI_TOPIC_KIND_MAX);
                n = gwapi_topic_format(&t, buf, sizeof(buf));
                check(n >= 0 && streq(buf, s));
                check(gwapi_topic_parse(buf, &u) == 0 && u.kind == t.kind);
        }
        free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        fuzz_response(data, size);
        fuzz_status(data, size);
        fuzz_topic(data, size);
        return 0;
}
