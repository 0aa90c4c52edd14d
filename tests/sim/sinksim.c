/* SPDX-License-Identifier: Apache-2.0 */
#include "sinksim.h"

#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <pty.h>
#include <termios.h>
#include <unistd.h>

#include "fd-util.h"
#include "hex.h"
#include "parse-util.h"
#include "ptybaud.h"
#include "simrand.h"

#define SIM_READ_CHUNK     4096u
#define SIM_AUTHENTICATORS 4u

typedef struct SimNodeExtra {
        SimRand rng;
        usec_t start_at;
        uint8_t hops;        /* via its proxy */
        uint8_t yaml_method; /* what the whitelist says */
        uint8_t yaml_key[PROV_FACTORY_KEY_SIZE];
        uint32_t node_id; /* 0: none */
        bool counted;     /* its outcome was counted */
        bool ack_sent;    /* it sent its DATA_ACK (once: then it is done) */
        bool ack_taken;   /* the sink handed that DATA_ACK to the host, which answered it */
} SimNodeExtra;

typedef struct ProxyEntry {
        uint32_t proxy;
        uint32_t node;
} ProxyEntry;

struct SinkSim {
        SinkSimConfig cfg;
        SinkDev *dev;

        SimNode *nodes;
        SimNodeExtra *extra;
        size_t n_nodes;
        ProxyEntry *by_proxy; /* sorted by proxy address */

        int master_fd, slave_fd;
        char pty_path[128];
        bool unplugged;
        usec_t replug_at;

        bool started;
        size_t next_to_start;
        usec_t next_node_deadline;
        size_t n_done;
        usec_t all_done_at;

        SimRand rng;
        SinkSimStats stats;
};

void sink_sim_config_default(SinkSimConfig *c) {
        *c = (SinkSimConfig){
                .n_nodes = 10,
                .mix = { [SIM_NODE_WHITELISTED] = 1 },
                .seed = 1,
                .node_timeout = 2 * USEC_PER_SEC,
                .retries = SIM_NODE_RETRIES_DEFAULT,
                .linger = 2 * USEC_PER_SEC,
                .replug_time = USEC_PER_SEC,
                .node_ids = true,
                .node_id_base = 0x1000,
        };
        sink_dev_config_default(&c->dev);
        snprintf(c->net.name, sizeof(c->net.name), "sim-net");
        c->net.address = c->dev.network_address;
        c->net.channel = c->dev.channel;
        /* network keys: fixed defaults, overridden by options; never printed except into the whitelist */
        for (size_t i = 0; i < PROV_KEY_SIZE; i++) {
                c->net.enc_key[i] = (uint8_t)(0xA0 + i);
                c->net.auth_key[i] = (uint8_t)(0x50 + i);
        }
}

/* ---- option parsing ---- */

static int parse_probability(const char *s, double *ret) {
        char *end;
        double v;

        errno = 0;
        v = strtod(s, &end);
        if (errno != 0 || end == s || *end != '\0' || !(v >= 0.0 && v <= 1.0))
                return -EINVAL;
        *ret = v;
        return 0;
}

/* Splits "a=b,c=d" and calls f for each pair. */
static int parse_pairs(const char *s, int (*f)(const char *key, const char *value, void *userdata),
                       void *userdata) {
        _cleanup_free_ char *copy = strdup(s);
        char *save = NULL;
        int r;

        if (!copy)
                return -ENOMEM;
        for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                char *eq = strchr(tok, '=');
                if (eq)
                        *eq = '\0';
                r = f(tok, eq ? eq + 1 : NULL, userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int mix_pair(const char *key, const char *value, void *userdata) {
        unsigned *mix = userdata;
        SimNodeKind k = sim_node_kind_from_string(key);
        uint32_t v;

        if (k < 0 || !value || safe_atou32(value, &v) < 0 || v > 1000000)
                return -EINVAL;
        mix[k] = v;
        return 0;
}

int sink_sim_parse_mix(const char *s, unsigned mix[static _SIM_NODE_KIND_MAX]) {
        unsigned m[_SIM_NODE_KIND_MAX] = {};
        unsigned total = 0;
        int r;

        r = parse_pairs(s, mix_pair, m);
        if (r < 0)
                return r;
        for (size_t i = 0; i < _SIM_NODE_KIND_MAX; i++)
                total += m[i];
        if (total == 0)
                return -EINVAL;
        memcpy(mix, m, sizeof(m));
        return 0;
}

static int fault_pair(const char *key, const char *value, void *userdata) {
        SinkSimConfig *c = userdata;
        SinkDevFaults *f = &c->dev.faults;
        struct {
                const char *name;
                double *p;
        } rates[] = {
                { "crc", &f->crc },     { "garbage", &f->garbage }, { "truncate", &f->truncate },
                { "stall", &f->stall }, { "reboot", &f->reboot },   { "dup", &f->dup },
                { "oom", &f->oom },     { "hangup", &f->hangup },
        };

        if (streq(key, "echo")) {
                int b = value ? parse_boolean(value) : 1;
                if (b < 0)
                        return b;
                c->dev.error_echo = b;
                return 0;
        }
        if (!value)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(rates); i++)
                if (streq(key, rates[i].name))
                        return parse_probability(value, rates[i].p);
        if (streq(key, "stall-time"))
                return parse_sec(value, &f->stall_time);
        if (streq(key, "reboot-time"))
                return parse_sec(value, &c->dev.reboot_time);
        if (streq(key, "replug")) {
                if (streq(value, "never")) {
                        c->replug_time = USEC_INFINITY;
                        return 0;
                }
                return parse_sec(value, &c->replug_time);
        }
        if (streq(key, "stall-at")) {
                uint64_t v;
                int r = safe_atou64(value, &v);
                if (r < 0 || v == 0)
                        return -EINVAL;
                f->stall_at = v;
                return 0;
        }
        if (streq(key, "oom-burst")) {
                uint32_t v;
                int r = safe_atou32(value, &v);
                if (r < 0 || v == 0 || v > 1000)
                        return -EINVAL;
                f->oom_burst = v;
                return 0;
        }
        return -EINVAL;
}

int sink_sim_parse_faults(const char *s, SinkSimConfig *c) {
        SinkSimConfig copy = *c;
        int r;

        r = parse_pairs(s, fault_pair, &copy);
        if (r < 0)
                return r;
        *c = copy;
        return 0;
}

/* ---- population ---- */

SimNodeOutcome sim_node_expected_outcome(SimNodeKind kind, bool allow_unsecured, int *ret_nack_reason) {
        int reason = -1;
        SimNodeOutcome o = _SIM_NODE_OUTCOME_INVALID;

        switch (kind) {
        case SIM_NODE_WHITELISTED:
                o = SIM_NODE_PROVISIONED;
                break;
        case SIM_NODE_UNKNOWN:
        case SIM_NODE_DISABLED:
                o = SIM_NODE_NACKED;
                reason = 0; /* NOT_AUTHORIZED */
                break;
        case SIM_NODE_WRONG_METHOD:
                o = SIM_NODE_NACKED;
                reason = 1; /* METHOD_NOT_SUPPORTED */
                break;
        case SIM_NODE_WRONG_KEY:
                o = SIM_NODE_GAVE_UP; /* every DATA fails the MIC */
                break;
        case SIM_NODE_UNSECURED:
                o = allow_unsecured ? SIM_NODE_PROVISIONED : SIM_NODE_NACKED;
                reason = allow_unsecured ? -1 : 1;
                break;
        case _SIM_NODE_KIND_MAX:
        case _SIM_NODE_KIND_INVALID:
                break;
        }
        if (ret_nack_reason)
                *ret_nack_reason = reason;
        return o;
}

/* Exact counts per kind for n nodes (largest remainder), laid out and then shuffled. */
static void assign_kinds(const unsigned mix[static _SIM_NODE_KIND_MAX], size_t n, SimRand *rng,
                         SimNodeKind *kinds) {
        uint64_t total = 0, counts[_SIM_NODE_KIND_MAX], rem[_SIM_NODE_KIND_MAX], assigned = 0;
        size_t k = 0;

        for (size_t i = 0; i < _SIM_NODE_KIND_MAX; i++)
                total += mix[i];
        for (size_t i = 0; i < _SIM_NODE_KIND_MAX; i++) {
                counts[i] = total ? (uint64_t)n * mix[i] / total : 0;
                rem[i] = total ? (uint64_t)n * mix[i] % total : 0;
                assigned += counts[i];
        }
        while (assigned < n) {
                size_t best = 0;
                for (size_t i = 1; i < _SIM_NODE_KIND_MAX; i++)
                        if (rem[i] > rem[best])
                                best = i;
                counts[best]++;
                rem[best] = 0;
                assigned++;
                if (total == 0)
                        break;
        }
        for (size_t i = 0; i < _SIM_NODE_KIND_MAX; i++)
                for (uint64_t j = 0; j < counts[i] && k < n; j++)
                        kinds[k++] = (SimNodeKind)i;
        while (k < n)
                kinds[k++] = SIM_NODE_WHITELISTED;
        for (size_t i = n; i > 1; i--) {
                size_t j = sim_rand_below(rng, i);
                SimNodeKind t = kinds[i - 1];
                kinds[i - 1] = kinds[j];
                kinds[j] = t;
        }
}

static int cmp_proxy(const void *a, const void *b) {
        const ProxyEntry *x = a, *y = b;
        if (x->proxy != y->proxy)
                return x->proxy < y->proxy ? -1 : 1;
        return x->node < y->node ? -1 : x->node > y->node;
}

static void make_uuid(SimRand *rng, uint8_t out[16]) {
        sim_rand_bytes(rng, out, 16);
        out[6] = (uint8_t)((out[6] & 0x0F) | 0x40); /* UUID v4 */
        out[8] = (uint8_t)((out[8] & 0x3F) | 0x80);
}

static int build_nodes(SinkSim *s) {
        const SinkSimConfig *c = &s->cfg;
        _cleanup_free_ SimNodeKind *kinds = NULL;
        _cleanup_free_ uint8_t *proxy_hops = NULL, *proxy_sid_base = NULL;
        uint8_t authenticators[SIM_AUTHENTICATORS][16];
        size_t n = c->n_nodes, n_proxies;
        SimRand gen;

        sim_rand_seed(&gen, c->seed);
        s->n_nodes = n;
        if (n == 0)
                return 0;

        n_proxies = c->n_proxies == 0 ? n : MIN((size_t)c->n_proxies, n);
        s->nodes = new0(SimNode, n);
        s->extra = new0(SimNodeExtra, n);
        s->by_proxy = new0(ProxyEntry, n);
        kinds = new0(SimNodeKind, n);
        proxy_hops = new0(uint8_t, n_proxies);
        proxy_sid_base = new0(uint8_t, n_proxies);
        if (!s->nodes || !s->extra || !s->by_proxy || !kinds || !proxy_hops || !proxy_sid_base)
                return -ENOMEM;

        assign_kinds(c->mix, n, &gen, kinds);
        for (size_t i = 0; i < SIM_AUTHENTICATORS; i++)
                make_uuid(&gen, authenticators[i]);
        for (size_t i = 0; i < n_proxies; i++)
                proxy_hops[i] = (uint8_t)(1 + sim_rand_below(&gen, 5));
        {
                SimRand sg; /* its own stream: everything drawn from gen stays as it was */
                sim_rand_seed(&sg, c->seed ^ 0x5E5510D5u);
                for (size_t i = 0; i < n_proxies; i++)
                        proxy_sid_base[i] = (uint8_t)sim_rand_below(&sg, 256);
        }

        for (size_t i = 0; i < n; i++) {
                SimNodeExtra *x = &s->extra[i];
                SimNodeConfig nc = {
                        .kind = kinds[i],
                        .address =
                                0x00200000u + (uint32_t)i, /* the joining node's own (temporary) address */
                        .five_g = c->five_g,
                        .timeout = c->node_timeout,
                        .nb_retry = c->retries,
                };
                size_t p = i % n_proxies;
                SimRand nr;

                sim_rand_fork(&gen, i, &nr);
                nc.proxy = 0x00A00000u + (uint32_t)p * 17u + 1u;
                x->hops = proxy_hops[p];
                /* distinct session ids behind one proxy (nodes i = p, p + n_proxies, ...): see nodes.h */
                nc.session_id_set = true;
                nc.session_id = (uint8_t)(proxy_sid_base[p] + i / n_proxies);

                switch (nc.kind) {
                case SIM_NODE_UNSECURED:
                        nc.method = 0;
                        break;
                case SIM_NODE_WRONG_METHOD:
                        nc.method = 3; /* extended UID; the whitelist says method 1 */
                        break;
                case SIM_NODE_WHITELISTED:
                        nc.method = sim_rand_chance(&nr, 0.2) ? 3 : 1;
                        break;
                case SIM_NODE_UNKNOWN:
                case SIM_NODE_WRONG_KEY:
                case SIM_NODE_DISABLED:
                case _SIM_NODE_KIND_MAX:
                case _SIM_NODE_KIND_INVALID:
                        nc.method = 1;
                        break;
                }
                if (nc.method == 3) {
                        nc.uid[0] = 0x01;
                        memcpy(nc.uid + 1, authenticators[sim_rand_below(&nr, SIM_AUTHENTICATORS)], 16);
                        nc.uid[17] = 0x01;
                        make_uuid(&nr, nc.uid + 18);
                        nc.uid_len = PROV_EXTENDED_UID_SIZE;
                } else {
                        make_uuid(&nr, nc.uid);
                        nc.uid_len = 16;
                }
                if (nc.method != 0)
                        sim_rand_bytes(&nr, nc.factory_key, sizeof(nc.factory_key));

                x->yaml_method = nc.kind == SIM_NODE_WRONG_METHOD ? 1 : nc.method;
                memcpy(x->yaml_key, nc.factory_key, sizeof(x->yaml_key));
                if (nc.kind == SIM_NODE_WRONG_KEY)
                        sim_rand_bytes(&nr, x->yaml_key, sizeof(x->yaml_key));
                if (c->node_ids)
                        x->node_id = c->node_id_base + (uint32_t)i;
                sim_rand_fork(&nr, 0xC0FFEE, &x->rng);

                sim_node_init(&s->nodes[i], &nc);
                s->by_proxy[i] = (ProxyEntry){ .proxy = nc.proxy, .node = (uint32_t)i };
                explicit_bzero_safe(&nc, sizeof(nc));
        }
        qsort(s->by_proxy, n, sizeof(ProxyEntry), cmp_proxy);
        return 0;
}

/* ---- the mesh ---- */

static bool is_done(const SimNode *n) {
        return n->state == SIM_NODE_DONE;
}

static void node_account(SinkSim *s, size_t i, usec_t now) {
        SimNodeExtra *x = &s->extra[i];

        if (!x->counted && is_done(&s->nodes[i])) {
                x->counted = true;
                s->n_done++;
                if (s->n_done == s->n_nodes)
                        s->all_done_at = now;
        }
        s->next_node_deadline = MIN(s->next_node_deadline, sim_node_deadline(&s->nodes[i]));
}

/* A node transmits: the proxy relays it to the sink, which queues a DATA_RX indication. A DATA_ACK is
 * tagged with the node, so that the summary can say exactly whose DATA_ACK never reached the host. */
static void node_send(SinkSim *s, size_t i, usec_t now, const SimPacket *p, bool ack) {
        SimNodeExtra *x = &s->extra[i];
        uint32_t ms = 0;
        int r;

        for (unsigned h = 0; h < x->hops; h++)
                ms += 8 + (uint32_t)sim_rand_below(&s->rng, 33);
        if (s->unplugged)
                r = -ENETDOWN;
        else
                r = sink_dev_queue_data_rx_tagged(s->dev, now, s->nodes[i].cfg.proxy, p->src_ep, p->dst_ep,
                                                  sink_qos_hop_make(1, x->hops), sink_ms_to_travel_time(ms),
                                                  p->buf, p->len, ack ? (uint64_t)i + 1 : 0);
        if (ack)
                x->ack_sent = true;
        if (r < 0)
                s->stats.uplinks_lost++; /* the node will time out and retry, as in a real mesh */
        else
                s->stats.uplinks_sent++;
}

static void on_downlink(SinkDev *d, usec_t now, const SinkDataTx *tx, void *userdata) {
        SinkSim *s = userdata;
        uint8_t src = s->cfg.five_g ? SIM_EP_DOWN_SRC_5G : SIM_EP_DOWN_SRC_24G;
        uint8_t dst = s->cfg.five_g ? SIM_EP_DOWN_DST_5G : SIM_EP_DOWN_DST_24G;
        size_t lo = 0, hi = s->n_nodes;
        bool any = false;

        if (tx->src_ep != src || tx->dst_ep != dst)
                return; /* not provisioning traffic */
        s->stats.downlinks++;

        while (lo < hi) { /* first entry with proxy >= dst_addr */
                size_t mid = lo + (hi - lo) / 2;
                if (s->by_proxy[mid].proxy < tx->dst_addr)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        for (size_t k = lo; k < s->n_nodes && s->by_proxy[k].proxy == tx->dst_addr; k++) {
                size_t i = s->by_proxy[k].node;
                SimPacket out;
                int r;

                any = true;
                if (s->nodes[i].state == SIM_NODE_IDLE)
                        continue; /* not joined yet: nothing is listening */
                s->stats.downlink_deliveries++;
                r = sim_node_on_packet(&s->nodes[i], now, tx->apdu, tx->apdu_len, &out);
                if (r > 0) /* a DATA_ACK if that made it provisioned, else a START again */
                        node_send(s, i, now, &out, s->nodes[i].outcome == SIM_NODE_PROVISIONED);
                node_account(s, i, now);
        }
        if (!any)
                s->stats.downlinks_unrouted++;
}

static void on_popped(SinkDev *d, uint64_t tag, void *userdata) {
        SinkSim *s = userdata;

        if (tag > 0 && tag <= s->n_nodes)
                s->extra[tag - 1].ack_taken = true;
}

static bool ack_lost(const SinkSim *s, size_t i) {
        return s->extra[i].ack_sent && !s->extra[i].ack_taken;
}

static void run_nodes(SinkSim *s, usec_t now) {
        SimPacket out;

        if (!s->started) {
                if (!s->cfg.start_at_once && sink_dev_stats(s->dev)->polls == 0)
                        return; /* nodes appear once a gateway is polling the sink */
                s->started = true;
                for (size_t i = 0; i < s->n_nodes; i++)
                        s->extra[i].start_at =
                                usec_add(now, s->n_nodes > 1 ? s->cfg.ramp * i / (s->n_nodes - 1) : 0);
        }

        while (s->next_to_start < s->n_nodes && s->extra[s->next_to_start].start_at <= now) {
                size_t i = s->next_to_start++;
                if (sim_node_start(&s->nodes[i], now, &s->extra[i].rng, &out) > 0)
                        node_send(s, i, now, &out, false);
                node_account(s, i, now);
        }

        if (now < s->next_node_deadline)
                return;
        s->next_node_deadline = USEC_INFINITY;
        for (size_t i = 0; i < s->next_to_start; i++) {
                SimNode *n = &s->nodes[i];
                if (sim_node_deadline(n) <= now && sim_node_on_timer(n, now, &out) > 0)
                        node_send(s, i, now, &out, false);
                node_account(s, i, now);
        }
}

/* ---- the pty ---- */

static void hang_up(SinkSim *s, usec_t now);

static void close_pty(SinkSim *s) {
        s->master_fd = safe_close(s->master_fd);
        s->slave_fd = safe_close(s->slave_fd);
}

static int point_link(SinkSim *s) {
        char tmp[4096];

        if (!s->cfg.link_path)
                return 0;
        if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp%d", s->cfg.link_path, (int)getpid()) >= sizeof(tmp))
                return -ENAMETOOLONG;
        (void)unlink(tmp);
        if (symlink(s->pty_path, tmp) < 0)
                return -errno;
        if (rename(tmp, s->cfg.link_path) < 0) {
                int r = -errno;
                (void)unlink(tmp);
                return r;
        }
        return 0;
}

int sink_sim_open_pty(SinkSim *s) {
        _cleanup_close_ int m = -EBADF, sl = -EBADF;
        struct termios t;
        char name[128] = {};
        int r;

        if (openpty(&m, &sl, name, NULL, NULL) < 0)
                return -errno;
        if (fd_cloexec(m, true) < 0 || fd_cloexec(sl, true) < 0 || fd_nonblock(m, true) < 0)
                return -errno;
        /* raw, so that nothing is echoed or translated before the daemon configures the port itself */
        if (tcgetattr(sl, &t) < 0)
                return -errno;
        cfmakeraw(&t);
        t.c_cflag |= CLOCAL | CREAD;
        if (tcsetattr(sl, TCSANOW, &t) < 0)
                return -errno;

        close_pty(s);
        s->master_fd = TAKE_FD(m);
        s->slave_fd = TAKE_FD(sl);
        snprintf(s->pty_path, sizeof(s->pty_path), "%s", name);
        s->unplugged = false;
        r = point_link(s);
        if (r < 0)
                return r;
        return 0;
}

void sink_sim_unplug(SinkSim *s, usec_t now) {
        if (!s->unplugged)
                hang_up(s, now);
}

bool sink_sim_unplugged(const SinkSim *s) {
        return s->unplugged;
}

static void hang_up(SinkSim *s, usec_t now) {
        close_pty(s);
        if (s->cfg.link_path)
                (void)unlink(s->cfg.link_path);
        s->unplugged = true;
        s->replug_at = usec_add(now, s->cfg.replug_time);
        sink_dev_output_clear(s->dev);
        s->stats.hangups++;
}

static int replug(SinkSim *s, usec_t now) {
        int r = sink_sim_open_pty(s);
        if (r < 0)
                return r;
        sink_dev_output_clear(s->dev);
        sink_dev_reboot(s->dev, now); /* it was powered from the port */
        s->stats.replugs++;
        return 0;
}

static bool speed_ok(SinkSim *s) {
        uint32_t speed;

        if (s->cfg.baud == 0)
                return true;
        return pty_get_speed(s->slave_fd, &speed) >= 0 && speed == s->cfg.baud;
}

static void read_pty(SinkSim *s, usec_t now) {
        uint8_t buf[SIM_READ_CHUNK];

        for (unsigned rounds = 0; rounds < 16 && !s->unplugged; rounds++) {
                ssize_t k = read(s->master_fd, buf, sizeof(buf));
                if (k <= 0)
                        return; /* EAGAIN, or EIO while no slave is open */
                if (!speed_ok(s)) {
                        /* at the wrong rate the device would see only framing errors */
                        s->stats.baud_dropped += (uint64_t)k;
                        continue;
                }
                sink_dev_input(s->dev, now, buf, (size_t)k);
                if (sink_dev_take_hangup(s->dev)) {
                        hang_up(s, now);
                        return;
                }
        }
}

static void write_pty(SinkSim *s) {
        size_t len;
        const uint8_t *out = sink_dev_output(s->dev, &len);

        if (s->unplugged || len == 0)
                return;
        ssize_t k = write(s->master_fd, out, len);
        if (k > 0)
                sink_dev_output_consume(s->dev, (size_t)k);
        else if (k < 0 && errno != EAGAIN && errno != EINTR)
                s->stats.write_errors++;
}

/* ---- public ---- */

int sink_sim_new(const SinkSimConfig *cfg, usec_t now, SinkSim **ret) {
        _cleanup_(sink_sim_freep) SinkSim *s = NULL;
        int r;

        assert(cfg);
        assert(ret);

        s = new0(SinkSim, 1);
        if (!s)
                return -ENOMEM;
        s->cfg = *cfg;
        s->master_fd = s->slave_fd = -EBADF;
        s->next_node_deadline = USEC_INFINITY;
        s->replug_at = USEC_INFINITY;
        sim_rand_seed(&s->rng, cfg->seed ^ 0x6D657368ULL);

        SinkDevConfig dc = cfg->dev;
        dc.seed = cfg->seed;
        r = sink_dev_new(&dc, now, &s->dev);
        if (r < 0)
                return r;
        sink_dev_set_downlink(s->dev, on_downlink, s);
        sink_dev_set_popped(s->dev, on_popped, s);

        r = build_nodes(s);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(s);
        return 0;
}

SinkSim *sink_sim_free(SinkSim *s) {
        if (!s)
                return NULL;
        close_pty(s);
        if (s->cfg.link_path && s->pty_path[0])
                (void)unlink(s->cfg.link_path);
        sink_dev_free(s->dev);
        if (s->nodes)
                explicit_bzero_safe(s->nodes, s->n_nodes * sizeof(SimNode));
        if (s->extra)
                explicit_bzero_safe(s->extra, s->n_nodes * sizeof(SimNodeExtra));
        free(s->nodes);
        free(s->extra);
        free(s->by_proxy);
        free(s);
        return NULL;
}

const char *sink_sim_pty_path(const SinkSim *s) {
        return s->pty_path;
}

int sink_sim_fd(const SinkSim *s) {
        return s->unplugged ? -EBADF : s->master_fd;
}

bool sink_sim_want_write(const SinkSim *s) {
        size_t len;
        (void)sink_dev_output(s->dev, &len);
        return !s->unplugged && s->master_fd >= 0 && len > 0;
}

int sink_sim_process(SinkSim *s, usec_t now) {
        int r;

        if (s->unplugged) {
                if (now < s->replug_at)
                        goto nodes;
                r = replug(s, now);
                if (r < 0)
                        return r;
        }
        sink_dev_tick(s->dev, now);
        if (s->master_fd >= 0)
                read_pty(s, now);
nodes:
        run_nodes(s, now);
        if (s->master_fd >= 0)
                write_pty(s);
        return 0;
}

usec_t sink_sim_next_wakeup(const SinkSim *s) {
        usec_t t = MIN(sink_dev_deadline(s->dev), s->next_node_deadline);

        if (s->unplugged)
                t = MIN(t, s->replug_at);
        if (s->started && s->next_to_start < s->n_nodes)
                t = MIN(t, s->extra[s->next_to_start].start_at);
        if (s->n_nodes > 0 && s->n_done == s->n_nodes)
                t = MIN(t, usec_add(s->all_done_at, s->cfg.linger));
        return t;
}

bool sink_sim_finished(const SinkSim *s, usec_t now) {
        size_t pending;

        if (s->n_nodes == 0 || s->n_done < s->n_nodes)
                return false;
        /* let the last DATA_ACKs reach the host before leaving */
        (void)sink_dev_output(s->dev, &pending);
        if (sink_dev_queued(s->dev) == 0 && pending == 0)
                return true;
        return now >= usec_add(s->all_done_at, s->cfg.linger);
}

int sink_sim_run(SinkSim *s, usec_t duration, int signal_fd) {
        usec_t start = now(CLOCK_MONOTONIC), end = usec_add(start, duration);
        int r;

        for (;;) {
                usec_t t = now(CLOCK_MONOTONIC), wake;
                struct pollfd p[2];
                nfds_t n = 0;
                int timeout_ms;

                r = sink_sim_process(s, t);
                if (r < 0)
                        return r;
                if (sink_sim_finished(s, t))
                        return 0;
                if (t >= end)
                        return 1;

                wake = MIN(sink_sim_next_wakeup(s), end);
                if (wake == USEC_INFINITY)
                        timeout_ms = -1;
                else
                        timeout_ms =
                                (int)MIN(DIV_ROUND_UP(usec_sub(wake, t), USEC_PER_MSEC), (usec_t)INT32_MAX);
                if (signal_fd >= 0)
                        p[n++] = (struct pollfd){ .fd = signal_fd, .events = POLLIN };
                if (sink_sim_fd(s) >= 0)
                        p[n++] =
                                (struct pollfd){ .fd = sink_sim_fd(s),
                                                 .events = POLLIN | (sink_sim_want_write(s) ? POLLOUT : 0) };
                if (poll(p, n, timeout_ms) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (signal_fd >= 0 && (p[0].revents & POLLIN)) {
                        struct signalfd_siginfo si;
                        if (read(signal_fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
                                continue;
                        if (si.ssi_signo != SIGUSR1)
                                return 1;
                        sink_sim_unplug(s, now(CLOCK_MONOTONIC));
                }
        }
}

size_t sink_sim_n_nodes(const SinkSim *s) {
        return s->n_nodes;
}

const SimNode *sink_sim_node(const SinkSim *s, size_t i) {
        return i < s->n_nodes ? &s->nodes[i] : NULL;
}

SinkDev *sink_sim_dev(SinkSim *s) {
        return s->dev;
}

const SinkSimStats *sink_sim_stats(const SinkSim *s) {
        return &s->stats;
}

/* ---- reports ---- */

static bool as_expected(const SinkSim *s, size_t i) {
        const SimNode *n = &s->nodes[i];
        int reason;
        SimNodeOutcome o = sim_node_expected_outcome(n->cfg.kind, s->cfg.net.allow_unsecured, &reason);

        if (n->outcome != o)
                return false;
        return o != SIM_NODE_NACKED || n->nack_reason == reason;
}

static bool keys_match(const SinkSim *s, const SimNode *n) {
        return memeq_secure(n->params.enc_key, s->cfg.net.enc_key, PROV_KEY_SIZE) &&
               memeq_secure(n->params.auth_key, s->cfg.net.auth_key, PROV_KEY_SIZE);
}

void sink_sim_print_summary(const SinkSim *s, FILE *f) {
        size_t outcomes[_SIM_NODE_OUTCOME_MAX] = {}, kinds[_SIM_NODE_KIND_MAX] = {},
               ok[_SIM_NODE_KIND_MAX] = {};
        size_t total_ok = 0;
        const SinkDevStats *d = sink_dev_stats(s->dev);

        for (size_t i = 0; i < s->n_nodes; i++) {
                outcomes[s->nodes[i].outcome]++;
                kinds[s->nodes[i].cfg.kind]++;
                if (as_expected(s, i)) {
                        ok[s->nodes[i].cfg.kind]++;
                        total_ok++;
                }
        }
        fprintf(f,
                "sinksim: %zu nodes (seed %" PRIu64
                "): %zu provisioned, %zu nacked, %zu gave up, %zu pending; "
                "%zu as expected\n",
                s->n_nodes, s->cfg.seed, outcomes[SIM_NODE_PROVISIONED], outcomes[SIM_NODE_NACKED],
                outcomes[SIM_NODE_GAVE_UP], outcomes[SIM_NODE_PENDING], total_ok);
        for (size_t k = 0; k < _SIM_NODE_KIND_MAX; k++)
                if (kinds[k] > 0)
                        fprintf(f, "  %-13s %zu/%zu as expected\n", sim_node_kind_to_string((SimNodeKind)k),
                                ok[k], kinds[k]);
        fprintf(f,
                "  device: %" PRIu64 " requests, %" PRIu64 " polls, %" PRIu64 " indications (%" PRIu64
                " popped), %" PRIu64 " DATA_TX (%" PRIu64 " failed), %" PRIu64 " bad frames, %" PRIu64
                " reboots\n",
                d->requests, d->polls, d->indications_sent, d->indications_popped, d->data_tx,
                d->data_tx_failed, d->bad_frames, d->reboots);
        fprintf(f,
                "  mesh: %" PRIu64 " uplinks (%" PRIu64 " lost), %" PRIu64 " downlinks, %" PRIu64
                " hang-ups, %" PRIu64 " replugs\n",
                s->stats.uplinks_sent, s->stats.uplinks_lost, s->stats.downlinks, s->stats.hangups,
                s->stats.replugs);
}

static void json_u64(FILE *f, const char *name, uint64_t v, bool comma) {
        fprintf(f, "\"%s\": %" PRIu64 "%s", name, v, comma ? ", " : "");
}

int sink_sim_write_summary_json(const SinkSim *s, FILE *f) {
        size_t outcomes[_SIM_NODE_OUTCOME_MAX] = {}, total_ok = 0, acks_lost = 0;
        const SinkDevStats *d = sink_dev_stats(s->dev);

        for (size_t i = 0; i < s->n_nodes; i++) {
                outcomes[s->nodes[i].outcome]++;
                total_ok += as_expected(s, i);
                acks_lost += ack_lost(s, i);
        }

        fprintf(f, "{\n  \"seed\": %" PRIu64 ",\n  \"nodes_total\": %zu,\n  \"as_expected\": %zu,\n",
                s->cfg.seed, s->n_nodes, total_ok);
        fprintf(f, "  \"outcomes\": {");
        for (size_t o = 0; o < _SIM_NODE_OUTCOME_MAX; o++)
                fprintf(f, "\"%s\": %zu%s", sim_node_outcome_to_string((SimNodeOutcome)o), outcomes[o],
                        o + 1 < _SIM_NODE_OUTCOME_MAX ? ", " : "");
        fprintf(f, "},\n  \"device\": {");
        json_u64(f, "requests", d->requests, true);
        json_u64(f, "polls", d->polls, true);
        json_u64(f, "responses", d->responses, true);
        json_u64(f, "indications_sent", d->indications_sent, true);
        json_u64(f, "indications_popped", d->indications_popped, true);
        json_u64(f, "data_tx", d->data_tx, true);
        json_u64(f, "data_tx_failed", d->data_tx_failed, true);
        json_u64(f, "bad_frames", d->bad_frames, true);
        json_u64(f, "unanswered", d->unanswered, true);
        json_u64(f, "echoes", d->echoes, true);
        json_u64(f, "reboots", d->reboots, true);
        json_u64(f, "stalls", d->stalls, true);
        json_u64(f, "rx_dropped_full", d->rx_dropped_full, true);
        json_u64(f, "rx_dropped_stopped", d->rx_dropped_stopped, true);
        json_u64(f, "fault_crc", d->fault_crc, true);
        json_u64(f, "fault_garbage", d->fault_garbage, true);
        json_u64(f, "fault_truncate", d->fault_truncate, true);
        json_u64(f, "fault_dup", d->fault_dup, true);
        json_u64(f, "fault_oom", d->fault_oom, false);
        fprintf(f, "},\n  \"mesh\": {");
        json_u64(f, "uplinks_sent", s->stats.uplinks_sent, true);
        json_u64(f, "uplinks_lost", s->stats.uplinks_lost, true);
        json_u64(f, "acks_lost", acks_lost, true);
        json_u64(f, "downlinks", s->stats.downlinks, true);
        json_u64(f, "downlinks_unrouted", s->stats.downlinks_unrouted, true);
        json_u64(f, "hangups", s->stats.hangups, true);
        json_u64(f, "replugs", s->stats.replugs, true);
        json_u64(f, "baud_dropped", s->stats.baud_dropped, false);
        fprintf(f, "},\n  \"nodes\": [");

        for (size_t i = 0; i < s->n_nodes; i++) {
                const SimNode *n = &s->nodes[i];
                int reason;
                SimNodeOutcome exp =
                        sim_node_expected_outcome(n->cfg.kind, s->cfg.net.allow_unsecured, &reason);
                char uid[2 * PROV_UID_MAX + 1];

                fprintf(f, "%s\n    {\"index\": %zu, \"uid\": \"%s\", \"kind\": \"%s\", \"method\": %u, ",
                        i ? "," : "", i, hex_encode(n->cfg.uid, n->cfg.uid_len, uid, sizeof(uid)),
                        sim_node_kind_to_string(n->cfg.kind), n->cfg.method);
                fprintf(f,
                        "\"proxy\": %" PRIu32
                        ", \"outcome\": \"%s\", \"expected\": \"%s\", \"as_expected\": %s, ",
                        n->cfg.proxy, sim_node_outcome_to_string(n->outcome),
                        sim_node_outcome_to_string(exp), as_expected(s, i) ? "true" : "false");
                /* sent its DATA_ACK, which the host never answered: refused by the sink, lost in a reboot or
                 * a hang-up, or still queued at the end (the host may or may not have seen it) */
                fprintf(f, "\"ack_lost\": %s, ", ack_lost(s, i) ? "true" : "false");
                if (n->outcome == SIM_NODE_NACKED && n->nack_reason != 0xFF)
                        fprintf(f, "\"nack_reason\": %u, ", n->nack_reason);
                else
                        fprintf(f, "\"nack_reason\": null, ");
                fprintf(f, "\"attempts\": %u, \"rejects\": {", n->n_starts);
                for (size_t k = 0; k < _SIM_NODE_REJECT_MAX; k++)
                        fprintf(f, "\"%s\": %u%s", sim_node_reject_to_string((SimNodeReject)k),
                                n->n_rejects[k], k + 1 < _SIM_NODE_REJECT_MAX ? ", " : "");
                fprintf(f, "}, ");
                if (n->state == SIM_NODE_DONE)
                        fprintf(f, "\"time_ms\": %" PRIu64 ", ",
                                usec_sub(n->finished_at, n->started_at) / USEC_PER_MSEC);
                if (n->outcome == SIM_NODE_PROVISIONED) {
                        const SimNodeParams *p = &n->params;
                        fprintf(f,
                                "\"params\": {\"network_address\": %" PRIu32 ", \"channel\": %" PRIu32 ", ",
                                p->network_address, p->channel);
                        if (p->has_node_address)
                                fprintf(f, "\"node_address\": %" PRIu32 ", ", p->node_address);
                        if (p->has_role)
                                fprintf(f, "\"role\": %u, ", p->role);
                        fprintf(f, "\"user_items\": %zu, \"keys_match\": %s, \"counter\": %u}",
                                p->n_user_items, keys_match(s, n) ? "true" : "false", n->data_counter);
                } else
                        fprintf(f, "\"params\": null");
                fprintf(f, "}");
        }
        fprintf(f, "\n  ]\n}\n");
        return ferror(f) ? -EIO : 0;
}

static void yaml_hex(FILE *f, const char *key, const uint8_t *p, size_t n) {
        char buf[2 * 80 + 1];
        /* quoted: an unquoted 0x... would be read as an integer */
        fprintf(f, "    %s: '0x%s'\n", key, hex_encode(p, n, buf, sizeof(buf)));
}

int sink_sim_write_whitelist_yaml(const SinkSim *s, FILE *f) {
        const SinkSimNetwork *net = &s->cfg.net;

        fprintf(f,
                "# Written by meshprov-sinksim (seed %" PRIu64 "): the nodes the daemon should know.\n"
                "# Kinds: whitelisted as is; wrong-method with method 1 (the node uses 3); wrong-key with "
                "another\n"
                "# factory key; disabled with enabled: false; unknown nodes are absent. Unsecured nodes "
                "need\n"
                "# `meshprovctl import --allow-unsecured`.\n",
                s->cfg.seed);
        fprintf(f, "version: 1\nnetworks:\n  %s:\n    address: %" PRIu32 "\n    channel: %u\n", net->name,
                net->address, net->channel);
        yaml_hex(f, "authentication_key", net->auth_key, PROV_KEY_SIZE);
        yaml_hex(f, "encryption_key", net->enc_key, PROV_KEY_SIZE);
        if (s->cfg.five_g)
                fprintf(f, "    profile: 5GMesh\n");
        if (net->allow_unsecured)
                fprintf(f, "    allow_unsecured: true\n"); /* import with meshprovctl import
                                                              --allow-unsecured */
        fprintf(f, "nodes:\n");
        for (size_t i = 0; i < s->n_nodes; i++) {
                const SimNode *n = &s->nodes[i];
                const SimNodeExtra *x = &s->extra[i];

                if (n->cfg.kind == SIM_NODE_UNKNOWN)
                        continue;
                fprintf(f, "  sim-%05zu:\n", i);
                fprintf(f, "    method: %u\n", x->yaml_method);
                yaml_hex(f, "uid", n->cfg.uid, n->cfg.uid_len);
                if (x->yaml_method != 0)
                        yaml_hex(f, "factory_key", x->yaml_key, PROV_FACTORY_KEY_SIZE);
                fprintf(f, "    network: %s\n", net->name);
                if (x->node_id != 0)
                        fprintf(f, "    node_id: %" PRIu32 "\n", x->node_id);
                if (n->cfg.kind == SIM_NODE_DISABLED)
                        fprintf(f, "    enabled: false\n");
        }
        return ferror(f) ? -EIO : 0;
}
