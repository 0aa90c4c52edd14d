/* SPDX-License-Identifier: Apache-2.0 */
/* Gateway-API topics: strict parsing of the four topics meshprov reads, building the ones it (or an emulated
 * gateway) publishes, and the subscription filters. */
#include <stdio.h>

#include "gwapi.h"
#include "test-helpers.h"

static void test_parse_received_data(void **state) {
        GwapiTopic t;

        assert_int_equal(gwapi_topic_parse("gw-event/received_data/gw-test-01/sink0/1193046/246/255", &t),
                         0);
        assert_int_equal(t.kind, GWAPI_TOPIC_RECEIVED_DATA);
        assert_string_equal(t.gw_id, "gw-test-01");
        assert_string_equal(t.sink_id, "sink0");
        assert_true(t.network_address == 1193046);
        assert_int_equal(t.src_ep, 246);
        assert_int_equal(t.dst_ep, 255);

        /* Zero is written "0"; the largest values fit. */
        assert_int_equal(gwapi_topic_parse("gw-event/received_data/g/s/0/0/0", &t), 0);
        assert_true(t.network_address == 0);
        assert_int_equal(t.src_ep, 0);
        assert_int_equal(gwapi_topic_parse("gw-event/received_data/g/s/18446744073709551615/160/39", &t), 0);
        assert_true(t.network_address == UINT64_MAX);
        assert_int_equal(t.src_ep, 160);
        assert_int_equal(t.dst_ep, 39);
}

static void test_parse_other_kinds(void **state) {
        GwapiTopic t;

        assert_int_equal(gwapi_topic_parse("gw-response/send_data/gw-test-01/sink0", &t), 0);
        assert_int_equal(t.kind, GWAPI_TOPIC_SEND_DATA_RESPONSE);
        assert_string_equal(t.gw_id, "gw-test-01");
        assert_string_equal(t.sink_id, "sink0");

        assert_int_equal(gwapi_topic_parse("gw-request/send_data/gw-test-01/sink9", &t), 0);
        assert_int_equal(t.kind, GWAPI_TOPIC_SEND_DATA_REQUEST);
        assert_string_equal(t.sink_id, "sink9");

        /* MAC-derived decimal ids are ordinary ids. */
        assert_int_equal(gwapi_topic_parse("gw-event/status/185276290573377", &t), 0);
        assert_int_equal(t.kind, GWAPI_TOPIC_STATUS);
        assert_string_equal(t.gw_id, "185276290573377");
        assert_string_equal(t.sink_id, "");
}

static void test_parse_refuses(void **state) {
        static const char *const bad[] = {
                /* wrong number of levels */
                "gw-event/received_data/gw/sink0/1193046/246/255/extra",
                "gw-event/received_data/gw/sink0/1193046/246/255/",
                "gw-event/received_data/gw/sink0/1193046/246",
                "gw-response/send_data/gw",
                "gw-response/send_data/gw/sink0/more",
                "gw-event/status",
                "gw-event/status/gw/sink0",
                "/gw-event/status/gw",
                "",
                "/",
                /* empty ids */
                "gw-event/status/",
                "gw-event/received_data//sink0/1/246/255",
                "gw-event/received_data/gw//1/246/255",
                "gw-response/send_data//sink0",
                "gw-response/send_data/gw/",
                /* wildcards or control characters inside ids */
                "gw-event/received_data/+/+/+/246/255",
                "gw-event/received_data/gw+1/sink0/1/246/255",
                "gw-event/received_data/gw/sink#/1/246/255",
                "gw-event/status/#",
                "gw-event/status/g\tw",
                "gw-event/status/caf\xc3\xa9",
                "gw-response/send_data/gw/si+nk",
                /* non-decimal or non-canonical numbers */
                "gw-event/received_data/gw/sink0/None/246/255",
                "gw-event/received_data/gw/sink0/0x10/246/255",
                "gw-event/received_data/gw/sink0/-1/246/255",
                "gw-event/received_data/gw/sink0/+1/246/255",
                "gw-event/received_data/gw/sink0/ 1/246/255",
                "gw-event/received_data/gw/sink0/1 /246/255",
                "gw-event/received_data/gw/sink0/12a/246/255",
                "gw-event/received_data/gw/sink0/01193046/246/255",
                "gw-event/received_data/gw/sink0//246/255",
                "gw-event/received_data/gw/sink0/18446744073709551616/246/255",
                "gw-event/received_data/gw/sink0/99999999999999999999999/246/255",
                "gw-event/received_data/gw/sink0/1/0246/255",
                "gw-event/received_data/gw/sink0/1/246/00",
                "gw-event/received_data/gw/sink0/1/256/255",
                "gw-event/received_data/gw/sink0/1/246/1000",
                "gw-event/received_data/gw/sink0/1/246/-0",
                "gw-event/received_data/gw/sink0/1/2.5/255",
                /* other or misspelt commands */
                "gw-response/get_configs/gw",
                "gw-request/get_gw_info/gw",
                "gw-event/received_data2/gw/sink0/1/246/255",
                "GW-EVENT/status/gw",
                "gw-event/Status/gw",
                "gw-event/send_data/gw/sink0",
                "gw-request/status/gw",
        };
        GwapiTopic t = { .gw_id = "untouched" };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                int r = gwapi_topic_parse(bad[i], &t);
                if (r != -EBADMSG)
                        print_error("'%s' gave %d\n", bad[i], r);
                assert_int_equal(r, -EBADMSG);
        }
        assert_string_equal(t.gw_id, "untouched");
        assert_int_equal(gwapi_topic_parse(NULL, &t), -EINVAL);
}

static void test_parse_lengths(void **state) {
        char topic[2 * MQTT_TOPIC_MAX_LEN];
        char id[GW_ID_MAX_LEN + 2];
        GwapiTopic t;

        /* Gateway id at its cap and one over. */
        memset(id, 'g', GW_ID_MAX_LEN);
        id[GW_ID_MAX_LEN] = '\0';
        snprintf(topic, sizeof(topic), "gw-event/status/%s", id);
        assert_int_equal(gwapi_topic_parse(topic, &t), 0);
        assert_int_equal(strlen(t.gw_id), GW_ID_MAX_LEN);
        snprintf(topic, sizeof(topic), "gw-event/status/%sg", id);
        assert_int_equal(gwapi_topic_parse(topic, &t), -EMSGSIZE);

        /* Sink id at its cap and one over. */
        memset(id, 's', SINK_ID_MAX_LEN);
        id[SINK_ID_MAX_LEN] = '\0';
        snprintf(topic, sizeof(topic), "gw-response/send_data/gw/%s", id);
        assert_int_equal(gwapi_topic_parse(topic, &t), 0);
        snprintf(topic, sizeof(topic), "gw-response/send_data/gw/%ss", id);
        assert_int_equal(gwapi_topic_parse(topic, &t), -EMSGSIZE);

        /* The whole topic over MQTT_TOPIC_MAX_LEN, even with a bad shape. */
        memset(topic, 'x', sizeof(topic));
        topic[MQTT_TOPIC_MAX_LEN + 1] = '\0';
        assert_int_equal(gwapi_topic_parse(topic, &t), -EMSGSIZE);
        topic[MQTT_TOPIC_MAX_LEN] = '\0';
        assert_int_equal(gwapi_topic_parse(topic, &t), -EBADMSG);
}

static void test_format_round_trip(void **state) {
        static const char *const topics[] = {
                "gw-event/received_data/gw-test-01/sink0/1193046/246/255",
                "gw-event/received_data/a/b/18446744073709551615/0/39",
                "gw-request/send_data/gw-test-01/sink0",
                "gw-response/send_data/gw-test-01/sink1",
                "gw-event/status/gw-test-01",
        };
        char buf[GWAPI_TOPIC_BUFFER_SIZE];

        for (size_t i = 0; i < ELEMENTSOF(topics); i++) {
                GwapiTopic t, again;

                assert_int_equal(gwapi_topic_parse(topics[i], &t), 0);
                assert_int_equal(gwapi_topic_format(&t, buf, sizeof(buf)), (int)strlen(topics[i]));
                assert_string_equal(buf, topics[i]);
                assert_int_equal(gwapi_topic_parse(buf, &again), 0);
                assert_int_equal(again.kind, t.kind);
        }
}

static void test_format_refuses(void **state) {
        GwapiTopic t = { .kind = GWAPI_TOPIC_SEND_DATA_REQUEST, .gw_id = "gw", .sink_id = "sink0" };
        char buf[GWAPI_TOPIC_BUFFER_SIZE];
        char small[sizeof("gw-request/send_data/gw/sink0")];

        /* Exactly enough room, then one byte less: refused and untouched. */
        assert_int_equal(gwapi_topic_format(&t, small, sizeof(small)), (int)sizeof(small) - 1);
        assert_string_equal(small, "gw-request/send_data/gw/sink0");
        memset(small, 'z', sizeof(small));
        assert_int_equal(gwapi_topic_format(&t, small, sizeof(small) - 1), -EMSGSIZE);
        assert_int_equal(small[0], 'z');

        strcpy(t.sink_id, "");
        assert_int_equal(gwapi_topic_format(&t, buf, sizeof(buf)), -EINVAL);
        strcpy(t.sink_id, "+");
        assert_int_equal(gwapi_topic_format(&t, buf, sizeof(buf)), -EINVAL);
        strcpy(t.sink_id, "sink0");
        strcpy(t.gw_id, "g/w");
        assert_int_equal(gwapi_topic_format(&t, buf, sizeof(buf)), -EINVAL);
        strcpy(t.gw_id, "gw");
        t.kind = _GWAPI_TOPIC_KIND_MAX;
        assert_int_equal(gwapi_topic_format(&t, buf, sizeof(buf)), -EINVAL);

        /* A status topic needs no sink. */
        t = (GwapiTopic){ .kind = GWAPI_TOPIC_STATUS, .gw_id = "gw" };
        assert_int_equal(gwapi_topic_format(&t, buf, sizeof(buf)), (int)strlen("gw-event/status/gw"));
        assert_string_equal(buf, "gw-event/status/gw");
}

static void test_send_data_request_topic(void **state) {
        char buf[GWAPI_TOPIC_BUFFER_SIZE];
        char long_id[GW_ID_MAX_LEN + 2];

        assert_int_equal(gwapi_topic_send_data_request("gw-test-01", "sink0", buf, sizeof(buf)),
                         (int)strlen("gw-request/send_data/gw-test-01/sink0"));
        assert_string_equal(buf, "gw-request/send_data/gw-test-01/sink0");

        assert_int_equal(gwapi_topic_send_data_request("gw#", "sink0", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(gwapi_topic_send_data_request("gw", "", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(gwapi_topic_send_data_request(NULL, "sink0", buf, sizeof(buf)), -EINVAL);
        memset(long_id, 'g', sizeof(long_id) - 1);
        long_id[sizeof(long_id) - 1] = '\0';
        assert_int_equal(gwapi_topic_send_data_request(long_id, "sink0", buf, sizeof(buf)), -EINVAL);
        long_id[GW_ID_MAX_LEN] = '\0';
        assert_true(gwapi_topic_send_data_request(long_id, "sink0", buf, sizeof(buf)) > 0);
}

static void test_subscription_filters(void **state) {
        char buf[GWAPI_TOPIC_BUFFER_SIZE];

        assert_true(gwapi_topic_received_data_filter(GWAPI_PROV_24G_SRC_EP, GWAPI_PROV_24G_DST_EP, buf,
                                                     sizeof(buf)) > 0);
        assert_string_equal(buf, GWAPI_SUBSCRIBE_PROV_24G);
        assert_string_equal(buf, "gw-event/received_data/+/+/+/246/255");
        assert_true(gwapi_topic_received_data_filter(GWAPI_PROV_5G_SRC_EP, GWAPI_PROV_5G_DST_EP, buf,
                                                     sizeof(buf)) > 0);
        assert_string_equal(buf, GWAPI_SUBSCRIBE_PROV_5G);
        assert_string_equal(buf, "gw-event/received_data/+/+/+/160/39");
        assert_int_equal(gwapi_topic_received_data_filter(1, 2, buf, 10), -EMSGSIZE);

        /* A filter is not a topic. */
        GwapiTopic t;
        assert_int_equal(gwapi_topic_parse(GWAPI_SUBSCRIBE_PROV_24G, &t), -EBADMSG);
        assert_int_equal(gwapi_topic_parse(GWAPI_SUBSCRIBE_SEND_DATA_RESPONSES, &t), -EBADMSG);
        assert_int_equal(gwapi_topic_parse(GWAPI_SUBSCRIBE_STATUS, &t), -EBADMSG);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_received_data),     cmocka_unit_test(test_parse_other_kinds),
                cmocka_unit_test(test_parse_refuses),           cmocka_unit_test(test_parse_lengths),
                cmocka_unit_test(test_format_round_trip),       cmocka_unit_test(test_format_refuses),
                cmocka_unit_test(test_send_data_request_topic), cmocka_unit_test(test_subscription_filters),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
