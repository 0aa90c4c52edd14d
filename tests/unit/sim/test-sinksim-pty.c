/* SPDX-License-Identifier: Apache-2.0 */
/* The simulator on a real pty, with the test as the host: a poll through the slave, a whole provisioning
 * exchange with three kinds of nodes, unplug/replug with the symlink re-pointed, and the baud gate. Every
 * wait is for a condition, with a deadline. */
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cursor.h"
#include "fd-util.h"
#include "provcrypto.h"
#include "provdata.h"
#include "provmsg.h"
#include "ptybaud.h"
#include "sim-test-host.h"
#include "sinksim.h"

#define DEADLINE (10 * USEC_PER_SEC)

typedef struct PtyHost {
        TestHost h;
        int fd;
        uint8_t fid;
} PtyHost;

static char tmpdir[] = "/tmp/test-sinksim-XXXXXX";
static char link_path[256];

static int setup(void **state) {
        assert_non_null(mkdtemp(tmpdir));
        snprintf(link_path, sizeof(link_path), "%s/ttySINK", tmpdir);
        return 0;
}

static int teardown(void **state) {
        (void)unlink(link_path);
        (void)rmdir(tmpdir);
        return 0;
}

static void host_open(PtyHost *p, const char *path) {
        host_init(&p->h);
        p->fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        assert_true(p->fd >= 0);
}

static void host_write(PtyHost *p, const SinkMsg *m) {
        uint8_t wire[SINK_SLIP_WIRE_MAX(SINK_FRAME_MAX)];
        int r = sinkmsg_to_wire(m, wire, sizeof(wire));
        assert_true(r > 0);
        assert_int_equal(write(p->fd, wire, (size_t)r), r);
}

/* Runs the simulator and reads the slave until `want` frames arrived or the deadline passes. */
static size_t pump(SinkSim *s, PtyHost *p, size_t want) {
        usec_t end = usec_add(now(CLOCK_MONOTONIC), DEADLINE);

        p->h.n = 0;
        while (p->h.n < want && now(CLOCK_MONOTONIC) < end) {
                uint8_t buf[1024];
                struct pollfd pfd = { .fd = p->fd, .events = POLLIN };

                assert_int_equal(sink_sim_process(s, now(CLOCK_MONOTONIC)), 0);
                if (poll(&pfd, 1, 5) > 0) {
                        ssize_t k = read(p->fd, buf, sizeof(buf));
                        if (k > 0)
                                host_feed(&p->h, buf, (size_t)k);
                }
        }
        return p->h.n;
}

static SinkSim *sim_new(SinkSimConfig *c) {
        SinkSim *s = NULL;
        c->link_path = link_path;
        assert_int_equal(sink_sim_new(c, now(CLOCK_MONOTONIC), &s), 0);
        assert_int_equal(sink_sim_open_pty(s), 0);
        return s;
}

static void test_poll_over_pty(void **state) {
        SinkSimConfig c;
        char target[256] = {};
        PtyHost p;

        sink_sim_config_default(&c);
        c.n_nodes = 0;
        _cleanup_(sink_sim_freep) SinkSim *s = sim_new(&c);

        /* the link points at the slave */
        assert_true(readlink(link_path, target, sizeof(target) - 1) > 0);
        assert_string_equal(target, sink_sim_pty_path(s));

        host_open(&p, link_path);
        host_write(&p, &(SinkMsg){ .type = SINK_MSG_POLL_REQ, .frame_id = 0x42 });
        assert_int_equal(pump(s, &p, 1), 1);
        assert_int_equal(p.h.msg[0].type, SINK_MSG_POLL_CNF);
        assert_int_equal(p.h.msg[0].frame_id, 0x42);
        assert_int_equal(p.h.msg[0].result, SINK_POLL_NOTHING);

        host_write(&p, &(SinkMsg){ .type = SINK_MSG_CSAP_ATTR_READ_REQ,
                                   .frame_id = 0x43,
                                   .attr_id = SINK_CSAP_MESH_API_VERSION });
        assert_int_equal(pump(s, &p, 1), 1);
        assert_int_equal(p.h.msg[0].attr_read_cnf.result, SINK_ATTR_OK);
        assert_int_equal(unaligned_read_le16(p.h.msg[0].attr_read_cnf.value), 18);
        safe_close(p.fd);
}

/* What a provisioning backend would answer; the test plays it with the project's own codec and crypto. */
static void answer_start(SinkSim *s, PtyHost *p, const SinkDataRx *rx, const ProvMsg *start) {
        const SimNode *node = NULL;
        uint8_t pkt[PROV_PDU_MAX];
        size_t len = 0;

        for (size_t i = 0; i < sink_sim_n_nodes(s); i++) {
                const SimNode *n = sink_sim_node(s, i);
                if (n->cfg.uid_len == start->start.uid_len &&
                    memcmp(n->cfg.uid, start->start.uid, n->cfg.uid_len) == 0)
                        node = n;
        }
        assert_non_null(node);
        assert_int_equal(rx->src_addr, node->cfg.proxy);

        if (node->cfg.kind == SIM_NODE_UNKNOWN) {
                int r = provmsg_build_nack(&start->hdr, PROV_NACK_NOT_AUTHORIZED, pkt, sizeof(pkt));
                assert_true(r > 0);
                len = (size_t)r;
        } else {
                ProvParams prm = { .network_address = 0x1012EE,
                                   .channel = 2,
                                   .has_node_address = true,
                                   .node_address = 0x77 };
                uint8_t cbor[PROV_PDU_MAX], key[32];
                memset(prm.enc_key, 0x11, sizeof(prm.enc_key));
                memset(prm.auth_key, 0x22, sizeof(prm.auth_key));
                int n = provdata_encode(&prm, cbor, sizeof(cbor));

                assert_true(n > 0);
                memcpy(key, node->cfg.factory_key, 32);
                if (node->cfg.kind == SIM_NODE_WRONG_KEY)
                        key[0] ^= 0xFF; /* the backend holds another key for it */
                ProvHeader h = start->hdr;
                h.type = PROV_MSG_DATA;
                assert_true(provmsg_build_data_prefix(&h, PROV_KEY_INDEX_FACTORY, 0x1234, pkt) >= 0);
                assert_true(prov_data_seal(key, start->start.iv, pkt, cbor, (size_t)n,
                                           pkt + PROV_DATA_HEADER_SIZE,
                                           sizeof(pkt) - PROV_DATA_HEADER_SIZE) >= 0);
                len = PROV_DATA_HEADER_SIZE + (size_t)n + PROV_MIC_SIZE;
        }

        SinkMsg tx = { .type = SINK_MSG_DATA_TX_TT_REQ,
                       .frame_id = p->fid++,
                       .data_tx = { .pdu_id = p->fid,
                                    .src_ep = 255,
                                    .dst_addr = rx->src_addr,
                                    .dst_ep = 246,
                                    .qos = 1,
                                    .apdu = pkt,
                                    .apdu_len = (uint8_t)len } };
        host_write(p, &tx);
        assert_int_equal(pump(s, p, 1), 1);
        assert_int_equal(p->h.msg[0].type, SINK_MSG_DATA_TX_TT_CNF);
        assert_int_equal(p->h.msg[0].data_tx_cnf.result, SINK_TX_OK);
}

static void test_provisioning_over_pty(void **state) {
        SinkSimConfig c;
        PtyHost p;
        size_t acks = 0;

        sink_sim_config_default(&c);
        c.n_nodes = 3;
        c.seed = 7;
        memset(c.mix, 0, sizeof(c.mix));
        c.mix[SIM_NODE_WHITELISTED] = c.mix[SIM_NODE_UNKNOWN] = c.mix[SIM_NODE_WRONG_KEY] = 1;
        c.node_timeout = 60 * USEC_PER_SEC; /* nothing here may depend on a node timing out */
        c.retries = 1;
        c.linger = DEADLINE; /* finished only once the last ACK has been handed over */
        memset(c.net.enc_key, 0x11, sizeof(c.net.enc_key)); /* what answer_start() sends */
        memset(c.net.auth_key, 0x22, sizeof(c.net.auth_key));
        _cleanup_(sink_sim_freep) SinkSim *s = sim_new(&c);

        host_open(&p, link_path);
        usec_t end = usec_add(now(CLOCK_MONOTONIC), DEADLINE);
        while (!sink_sim_finished(s, now(CLOCK_MONOTONIC)) && now(CLOCK_MONOTONIC) < end) {
                SinkMsg poll = { .type = SINK_MSG_POLL_REQ, .frame_id = p.fid++ };
                host_write(&p, &poll);
                assert_true(pump(s, &p, 1) >= 1);
                assert_int_equal(p.h.msg[0].type, SINK_MSG_POLL_CNF);
                assert_int_equal(p.h.msg[0].frame_id, poll.frame_id);
                if (p.h.msg[0].result == SINK_POLL_NOTHING)
                        continue;
                if (p.h.n < 2)
                        assert_int_equal(pump(s, &p, 1), 1);
                SinkMsg ind = p.h.msg[p.h.n - 1];
                uint8_t apdu[PROV_PDU_MAX];
                assert_int_equal(ind.type, SINK_MSG_DATA_RX_IND);
                assert_int_equal(ind.data_rx.src_ep, 246);
                assert_int_equal(ind.data_rx.dst_ep, 255);
                SinkDataRx rx = ind.data_rx;
                memcpy(apdu, rx.apdu, rx.apdu_len);
                rx.apdu = apdu;

                /* answer the indication before acting on it, as the reference host does */
                SinkMsg resp = { .type = SINK_MSG_RESPONSE,
                                 .primitive = ind.primitive | SINK_PRIM_REPLY_BIT,
                                 .frame_id = ind.frame_id,
                                 .result = SINK_RESPONSE_STOP };
                host_write(&p, &resp);

                ProvMsg m;
                assert_int_equal(provmsg_parse(apdu, rx.apdu_len, PROV_PDU_MAX_24G, &m), 0);
                if (m.hdr.type == PROV_MSG_START)
                        answer_start(s, &p, &rx, &m);
                else if (m.hdr.type == PROV_MSG_DATA_ACK)
                        acks++;
        }

        assert_true(sink_sim_finished(s, now(CLOCK_MONOTONIC)));
        for (size_t i = 0; i < sink_sim_n_nodes(s); i++) {
                const SimNode *n = sink_sim_node(s, i);
                switch (n->cfg.kind) {
                case SIM_NODE_WHITELISTED:
                        assert_int_equal(n->outcome, SIM_NODE_PROVISIONED);
                        assert_int_equal(n->params.node_address, 0x77);
                        assert_int_equal(n->params.network_address, 0x1012EE);
                        break;
                case SIM_NODE_UNKNOWN:
                        assert_int_equal(n->outcome, SIM_NODE_NACKED);
                        assert_int_equal(n->nack_reason, PROV_NACK_NOT_AUTHORIZED);
                        break;
                case SIM_NODE_WRONG_KEY:
                        assert_int_equal(n->outcome, SIM_NODE_GAVE_UP);
                        assert_int_equal(n->n_rejects[SIM_NODE_REJECT_MIC], 2); /* first try + 1 retry */
                        assert_int_equal(n->n_starts, 2);
                        break;
                default:
                        fail();
                }
        }
        assert_int_equal(acks, 1);

        /* the reports are well-formed enough to find things in */
        char *buf = NULL;
        size_t sz = 0;
        FILE *f = open_memstream(&buf, &sz);
        assert_int_equal(sink_sim_write_summary_json(s, f), 0);
        fclose(f);
        assert_non_null(strstr(buf, "\"as_expected\": 3"));
        assert_non_null(strstr(buf, "\"outcome\": \"gave-up\""));
        assert_non_null(strstr(buf, "\"keys_match\": true"));
        free(buf);
        f = open_memstream(&buf, &sz);
        assert_int_equal(sink_sim_write_whitelist_yaml(s, f), 0);
        fclose(f);
        assert_non_null(strstr(buf, "version: 1\n"));
        /* two of the three nodes are whitelisted (the unknown one is not) */
        size_t count = 0;
        for (const char *q = buf; (q = strstr(q, "    factory_key: '0x")); q++)
                count++;
        assert_int_equal(count, 2);
        free(buf);
        safe_close(p.fd);
}

static void test_unplug_and_replug(void **state) {
        SinkSimConfig c;
        char first[256] = {}, second[256] = {};
        struct stat st;
        PtyHost p;

        sink_sim_config_default(&c);
        c.n_nodes = 0;
        c.replug_time = 0;
        c.dev.reboot_time = 0; /* boots at once when plugged in again */
        _cleanup_(sink_sim_freep) SinkSim *s = sim_new(&c);
        assert_true(readlink(link_path, first, sizeof(first) - 1) > 0);

        host_open(&p, link_path);
        host_write(&p, &(SinkMsg){ .type = SINK_MSG_POLL_REQ, .frame_id = 1 });
        assert_int_equal(pump(s, &p, 1), 1);

        sink_sim_unplug(s, now(CLOCK_MONOTONIC));
        assert_true(sink_sim_unplugged(s));
        assert_int_equal(lstat(link_path, &st), -1); /* the device node is gone */
        struct pollfd pfd = { .fd = p.fd, .events = POLLIN };
        assert_int_equal(poll(&pfd, 1, 0), 1);
        assert_true(pfd.revents & (POLLHUP | POLLERR));
        safe_close(p.fd);

        /* it comes back on a new pty behind the same link, freshly booted */
        assert_int_equal(sink_sim_process(s, now(CLOCK_MONOTONIC)), 0);
        assert_false(sink_sim_unplugged(s));
        assert_true(readlink(link_path, second, sizeof(second) - 1) > 0);
        assert_string_equal(second, sink_sim_pty_path(s));
        host_open(&p, link_path);
        host_write(&p, &(SinkMsg){ .type = SINK_MSG_POLL_REQ, .frame_id = 2 });
        assert_int_equal(pump(s, &p, 2), 2);
        assert_int_equal(p.h.msg[0].result, SINK_POLL_PENDING);
        assert_int_equal(p.h.msg[1].type, SINK_MSG_STACK_STATE_IND);
        assert_int_equal(p.h.msg[1].frame_id, 0);
        assert_int_equal(sink_sim_stats(s)->hangups, 1);
        assert_int_equal(sink_sim_stats(s)->replugs, 1);
        safe_close(p.fd);
}

static void test_baud_gate(void **state) {
        SinkSimConfig c;
        uint32_t speed;
        PtyHost p;

        sink_sim_config_default(&c);
        c.n_nodes = 0;
        c.baud = 125000;
        _cleanup_(sink_sim_freep) SinkSim *s = sim_new(&c);

        host_open(&p, link_path);
        assert_int_equal(pty_get_speed(p.fd, &speed), 0);
        assert_int_not_equal(speed, 125000);
        host_write(&p, &(SinkMsg){ .type = SINK_MSG_POLL_REQ, .frame_id = 1 });
        /* the simulator reads the bytes and ignores them: at the wrong rate there is no answer */
        usec_t end = usec_add(now(CLOCK_MONOTONIC), DEADLINE);
        while (sink_sim_stats(s)->baud_dropped == 0 && now(CLOCK_MONOTONIC) < end) {
                struct pollfd pfd = { .fd = sink_sim_fd(s), .events = POLLIN };
                (void)poll(&pfd, 1, 5);
                assert_int_equal(sink_sim_process(s, now(CLOCK_MONOTONIC)), 0);
        }
        assert_true(sink_sim_stats(s)->baud_dropped > 0);
        assert_int_equal(sink_dev_stats(sink_sim_dev(s))->polls, 0);

        /* the host sets 125000 (BOTHER, as the reference host does): answered */
        assert_int_equal(pty_set_speed(p.fd, 125000), 0);
        assert_int_equal(pty_get_speed(p.fd, &speed), 0);
        assert_int_equal(speed, 125000);
        host_write(&p, &(SinkMsg){ .type = SINK_MSG_POLL_REQ, .frame_id = 2 });
        assert_int_equal(pump(s, &p, 1), 1);
        assert_int_equal(p.h.msg[0].frame_id, 2);
        safe_close(p.fd);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_poll_over_pty),
                cmocka_unit_test(test_provisioning_over_pty),
                cmocka_unit_test(test_unplug_and_replug),
                cmocka_unit_test(test_baud_gate),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
