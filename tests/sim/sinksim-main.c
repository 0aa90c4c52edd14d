/* SPDX-License-Identifier: Apache-2.0 */
/* meshprov-sinksim: a Wirepas sink on a pty, with emulated joining nodes. See --help. */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "fd-util.h"
#include "hex.h"
#include "parse-util.h"
#include "sinksim.h"

static const char *arg_summary_json = NULL;
static const char *arg_whitelist_yaml = NULL;
static usec_t arg_duration = USEC_INFINITY;
static bool arg_whitelist_only = false;
static bool arg_quiet = false;
static bool arg_check = false;

static void help(void) {
        printf("meshprov-sinksim [OPTIONS]\n\n"
               "A Wirepas sink speaking the dual-MCU API on a pty, with emulated joining nodes.\n\n"
               "  --link PATH              keep a symlink to the pty slave at PATH\n"
               "  --nodes N                number of joining nodes (default 10; 0: serve the link only)\n"
               "  --mix KIND=W,...         weights of whitelisted, unknown, wrong-method, wrong-key,\n"
               "                           disabled, unsecured (default whitelisted=1)\n"
               "  --seed S                 everything random derives from S (default 1)\n"
               "  --node-timeout T         node's first wait after START, doubled per retry (default 2s)\n"
               "  --retries N              node START retries (default 3)\n"
               "  --ramp T                 spread node starts over T (default 0)\n"
               "  --start-now              start nodes at once, not at the first poll\n"
               "  --proxies N              number of proxy nodes (default: one per node)\n"
               "  --5g                     5G Mesh endpoints and packet sizes\n"
               "  --faults SPEC            "
               "crc=P,garbage=P,truncate=P,stall=P,stall-at=N,stall-time=T,reboot=P,\n"
               "                           "
               "reboot-time=T,dup=P,oom=P,oom-burst=N,hangup=P,replug=T|never,echo\n"
               "  --baud N                 answer only when the port is configured at N bit/s\n"
               "  --api-version N          cMeshAPIVersion (default 18)\n"
               "  --stack running|stopped|unconfigured   sink state at power-up (default running)\n"
               "  --sink-address N         the sink's node address (default 1)\n"
               "  --queue N                indications the sink can hold (default 64)\n"
               "  --network-name NAME      network name in the whitelist (default sim-net)\n"
               "  --network-address N      network address (default 0x1012EE)\n"
               "  --channel N              network channel (default 2)\n"
               "  --enc-key HEX --auth-key HEX   network keys (default: derived from the seed)\n"
               "  --allow-unsecured        expect unsecured nodes to be provisioned\n"
               "  --no-node-ids            no node_id in the whitelist (the daemon allocates)\n"
               "  --summary-json FILE      write the per-node summary as JSON\n"
               "  --whitelist-yaml FILE    write the wm-provisioning v1 YAML the daemon should import\n"
               "  --whitelist-only         write the YAML (and --summary-json: the nodes, all pending) and "
               "exit\n"
               "  --duration T             stop after T even if nodes are pending\n"
               "  --linger T               after the last outcome, serve up to T for the last ACKs (default "
               "2s)\n"
               "  --check                  exit with 3 unless every node ended as its kind predicts\n"
               "  --quiet                  no summary on stdout\n\n"
               "SIGTERM/SIGINT stop it cleanly (summary and JSON are still written); SIGUSR1 unplugs the "
               "UART\n"
               "(the pty closes and the link disappears; a new pty appears after the replug time).\n");
}

static int parse_u32_opt(const char *s, uint32_t max, uint32_t *ret) {
        int64_t v;
        int r = safe_atoi64(s, &v);
        if (r < 0) {
                char *end;
                errno = 0;
                unsigned long long u = strtoull(s, &end, 0);
                if (errno != 0 || end == s || *end != '\0')
                        return -EINVAL;
                v = (int64_t)MIN(u, (unsigned long long)INT64_MAX);
        }
        if (v < 0 || (uint64_t)v > max)
                return -ERANGE;
        *ret = (uint32_t)v;
        return 0;
}

static int parse_key(const char *s, uint8_t key[static PROV_KEY_SIZE]) {
        uint8_t buf[PROV_KEY_SIZE];
        int n = hex_decode(s, buf, sizeof(buf));
        if (n != (int)PROV_KEY_SIZE)
                return -EINVAL;
        memcpy(key, buf, PROV_KEY_SIZE);
        explicit_bzero_safe(buf, sizeof(buf));
        return 0;
}

static int parse_argv(int argc, char **argv, SinkSimConfig *c) {
        enum {
                ARG_LINK = 0x100,
                ARG_NODES,
                ARG_MIX,
                ARG_SEED,
                ARG_NODE_TIMEOUT,
                ARG_RETRIES,
                ARG_RAMP,
                ARG_START_NOW,
                ARG_PROXIES,
                ARG_5G,
                ARG_FAULTS,
                ARG_BAUD,
                ARG_API_VERSION,
                ARG_STACK,
                ARG_SINK_ADDRESS,
                ARG_QUEUE,
                ARG_NETWORK_NAME,
                ARG_NETWORK_ADDRESS,
                ARG_CHANNEL,
                ARG_ENC_KEY,
                ARG_AUTH_KEY,
                ARG_ALLOW_UNSECURED,
                ARG_NO_NODE_IDS,
                ARG_SUMMARY_JSON,
                ARG_WHITELIST_YAML,
                ARG_WHITELIST_ONLY,
                ARG_DURATION,
                ARG_LINGER,
                ARG_CHECK,
                ARG_QUIET,
        };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "link", required_argument, NULL, ARG_LINK },
                { "nodes", required_argument, NULL, ARG_NODES },
                { "mix", required_argument, NULL, ARG_MIX },
                { "seed", required_argument, NULL, ARG_SEED },
                { "node-timeout", required_argument, NULL, ARG_NODE_TIMEOUT },
                { "retries", required_argument, NULL, ARG_RETRIES },
                { "ramp", required_argument, NULL, ARG_RAMP },
                { "start-now", no_argument, NULL, ARG_START_NOW },
                { "proxies", required_argument, NULL, ARG_PROXIES },
                { "5g", no_argument, NULL, ARG_5G },
                { "faults", required_argument, NULL, ARG_FAULTS },
                { "baud", required_argument, NULL, ARG_BAUD },
                { "api-version", required_argument, NULL, ARG_API_VERSION },
                { "stack", required_argument, NULL, ARG_STACK },
                { "sink-address", required_argument, NULL, ARG_SINK_ADDRESS },
                { "queue", required_argument, NULL, ARG_QUEUE },
                { "network-name", required_argument, NULL, ARG_NETWORK_NAME },
                { "network-address", required_argument, NULL, ARG_NETWORK_ADDRESS },
                { "channel", required_argument, NULL, ARG_CHANNEL },
                { "enc-key", required_argument, NULL, ARG_ENC_KEY },
                { "auth-key", required_argument, NULL, ARG_AUTH_KEY },
                { "allow-unsecured", no_argument, NULL, ARG_ALLOW_UNSECURED },
                { "no-node-ids", no_argument, NULL, ARG_NO_NODE_IDS },
                { "summary-json", required_argument, NULL, ARG_SUMMARY_JSON },
                { "whitelist-yaml", required_argument, NULL, ARG_WHITELIST_YAML },
                { "whitelist-only", no_argument, NULL, ARG_WHITELIST_ONLY },
                { "duration", required_argument, NULL, ARG_DURATION },
                { "linger", required_argument, NULL, ARG_LINGER },
                { "check", no_argument, NULL, ARG_CHECK },
                { "quiet", no_argument, NULL, ARG_QUIET },
                {},
        };
        bool have_enc = false, have_auth = false;
        uint32_t v;
        int o, idx, r = 0;

        while ((idx = -1, o = getopt_long(argc, argv, "h", options, &idx)) >= 0) {
                switch (o) {
                case 'h':
                        help();
                        exit(EXIT_SUCCESS);
                case ARG_LINK:
                        c->link_path = optarg;
                        break;
                case ARG_NODES:
                        r = parse_u32_opt(optarg, 1000000, &c->n_nodes);
                        break;
                case ARG_MIX:
                        r = sink_sim_parse_mix(optarg, c->mix);
                        break;
                case ARG_SEED:
                        r = safe_atou64(optarg, &c->seed);
                        break;
                case ARG_NODE_TIMEOUT:
                        r = parse_sec(optarg, &c->node_timeout);
                        if (r >= 0 && (c->node_timeout == 0 || c->node_timeout == USEC_INFINITY))
                                r = -EINVAL;
                        break;
                case ARG_RETRIES:
                        r = parse_u32_opt(optarg, 100, &c->retries);
                        break;
                case ARG_RAMP:
                        r = parse_sec(optarg, &c->ramp);
                        if (r >= 0 && c->ramp == USEC_INFINITY)
                                r = -EINVAL;
                        break;
                case ARG_START_NOW:
                        c->start_at_once = true;
                        break;
                case ARG_PROXIES:
                        r = parse_u32_opt(optarg, 1000000, &c->n_proxies);
                        break;
                case ARG_5G:
                        c->five_g = true;
                        break;
                case ARG_FAULTS:
                        r = sink_sim_parse_faults(optarg, c);
                        break;
                case ARG_BAUD:
                        r = parse_u32_opt(optarg, 100000000, &c->baud);
                        break;
                case ARG_API_VERSION:
                        r = parse_u32_opt(optarg, UINT16_MAX, &v);
                        c->dev.api_version = (uint16_t)v;
                        break;
                case ARG_STACK:
                        if (streq(optarg, "running"))
                                c->dev.running = true;
                        else if (streq(optarg, "stopped"))
                                c->dev.running = c->dev.autostart = false;
                        else if (streq(optarg, "unconfigured")) {
                                c->dev.running = c->dev.autostart = false;
                                c->dev.has_node_address = c->dev.has_network_address = c->dev.has_channel =
                                        false;
                                c->dev.role = 0x82;
                        } else
                                r = -EINVAL;
                        break;
                case ARG_SINK_ADDRESS:
                        r = parse_u32_opt(optarg, 0xFFFFFFFDu, &c->dev.node_address);
                        break;
                case ARG_QUEUE:
                        r = parse_u32_opt(optarg, 100000, &v);
                        c->dev.queue_max = v;
                        if (r >= 0 && v == 0)
                                r = -EINVAL;
                        break;
                case ARG_NETWORK_NAME:
                        if (strlen(optarg) == 0 || strlen(optarg) > NAME_MAX_LEN ||
                            strpbrk(optarg, ":#'\" \n"))
                                r = -EINVAL;
                        else
                                snprintf(c->net.name, sizeof(c->net.name), "%s", optarg);
                        break;
                case ARG_NETWORK_ADDRESS:
                        r = parse_u32_opt(optarg, 0xFFFFFE, &c->net.address);
                        c->dev.network_address = c->net.address;
                        break;
                case ARG_CHANNEL:
                        r = parse_u32_opt(optarg, 255, &v);
                        c->net.channel = c->dev.channel = (uint8_t)v;
                        break;
                case ARG_ENC_KEY:
                        r = parse_key(optarg, c->net.enc_key);
                        have_enc = true;
                        break;
                case ARG_AUTH_KEY:
                        r = parse_key(optarg, c->net.auth_key);
                        have_auth = true;
                        break;
                case ARG_ALLOW_UNSECURED:
                        c->net.allow_unsecured = true;
                        break;
                case ARG_NO_NODE_IDS:
                        c->node_ids = false;
                        break;
                case ARG_SUMMARY_JSON:
                        arg_summary_json = optarg;
                        break;
                case ARG_WHITELIST_YAML:
                        arg_whitelist_yaml = optarg;
                        break;
                case ARG_WHITELIST_ONLY:
                        arg_whitelist_only = true;
                        break;
                case ARG_DURATION:
                        r = parse_sec(optarg, &arg_duration);
                        break;
                case ARG_LINGER:
                        r = parse_sec(optarg, &c->linger);
                        break;
                case ARG_CHECK:
                        arg_check = true;
                        break;
                case ARG_QUIET:
                        arg_quiet = true;
                        break;
                case '?':
                        return -EINVAL;
                default:
                        assert_not_reached();
                }
                if (r < 0) {
                        /* never the value itself: it may be a key */
                        fprintf(stderr, "meshprov-sinksim: invalid value for --%s\n",
                                idx >= 0 ? options[idx].name : "?");
                        return r;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "meshprov-sinksim: unexpected argument '%s'\n", argv[optind]);
                return -EINVAL;
        }
        if (arg_whitelist_only && !arg_whitelist_yaml) {
                fprintf(stderr, "meshprov-sinksim: --whitelist-only needs --whitelist-yaml\n");
                return -EINVAL;
        }

        /* network keys not given: derived from the seed, so the whitelist and the nodes agree across runs */
        SimRand kr;
        sim_rand_seed(&kr, c->seed ^ 0x4E45544BULL);
        if (!have_enc)
                sim_rand_bytes(&kr, c->net.enc_key, PROV_KEY_SIZE);
        else
                sim_rand_u64(&kr);
        if (!have_auth)
                sim_rand_bytes(&kr, c->net.auth_key, PROV_KEY_SIZE);
        return 0;
}

/* Written to PATH.tmp and renamed, so a reader never sees half a file; mode 0600 since the whitelist holds
 * keys. */
static int write_report(const char *path, int (*f)(const SinkSim *s, FILE *out), const SinkSim *s) {
        _cleanup_free_ char *tmp = NULL;
        FILE *out;
        int fd, r;

        if (asprintf(&tmp, "%s.tmp", path) < 0)
                return -ENOMEM;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        out = fdopen(fd, "w");
        if (!out) {
                r = -errno;
                safe_close(fd);
                (void)unlink(tmp);
                return r;
        }
        r = f(s, out);
        if (fclose(out) != 0 && r >= 0)
                r = -errno;
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                (void)unlink(tmp);
        return r;
}

int main(int argc, char **argv) {
        _cleanup_(sink_sim_freep) SinkSim *s = NULL;
        _cleanup_close_ int sfd = -EBADF;
        SinkSimConfig c;
        sigset_t mask;
        int r, stopped;

        sink_sim_config_default(&c);
        r = parse_argv(argc, argv, &c);
        if (r < 0)
                return EXIT_FAILURE;

        r = sink_sim_new(&c, now(CLOCK_MONOTONIC), &s);
        if (r < 0) {
                fprintf(stderr, "meshprov-sinksim: failed to set up: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        if (arg_whitelist_yaml) {
                r = write_report(arg_whitelist_yaml, sink_sim_write_whitelist_yaml, s);
                if (r < 0) {
                        fprintf(stderr, "meshprov-sinksim: failed to write '%s': %s\n", arg_whitelist_yaml,
                                strerror(-r));
                        return EXIT_FAILURE;
                }
        }
        if (arg_whitelist_only) {
                /* the nodes as they will be (every one pending): the exact count of each kind */
                if (arg_summary_json) {
                        r = write_report(arg_summary_json, sink_sim_write_summary_json, s);
                        if (r < 0) {
                                fprintf(stderr, "meshprov-sinksim: failed to write '%s': %s\n",
                                        arg_summary_json, strerror(-r));
                                return EXIT_FAILURE;
                        }
                }
                return EXIT_SUCCESS;
        }

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGUSR1); /* unplug the UART (replugged after replug=T) */
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return EXIT_FAILURE;
        (void)signal(SIGPIPE, SIG_IGN);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sfd < 0) {
                fprintf(stderr, "meshprov-sinksim: signalfd: %m\n");
                return EXIT_FAILURE;
        }

        r = sink_sim_open_pty(s);
        if (r < 0) {
                fprintf(stderr, "meshprov-sinksim: failed to open a pty: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        if (!arg_quiet) {
                printf("sinksim: pty %s%s%s\n", sink_sim_pty_path(s), c.link_path ? " link " : "",
                       c.link_path ?: "");
                fflush(stdout);
        }

        stopped = sink_sim_run(s, arg_duration, sfd);
        if (stopped < 0)
                fprintf(stderr, "meshprov-sinksim: %s\n", strerror(-stopped));

        if (!arg_quiet)
                sink_sim_print_summary(s, stdout);
        if (arg_summary_json) {
                r = write_report(arg_summary_json, sink_sim_write_summary_json, s);
                if (r < 0) {
                        fprintf(stderr, "meshprov-sinksim: failed to write '%s': %s\n", arg_summary_json,
                                strerror(-r));
                        return EXIT_FAILURE;
                }
        }
        if (stopped < 0)
                return EXIT_FAILURE;
        if (arg_check) {
                for (size_t i = 0; i < sink_sim_n_nodes(s); i++) {
                        const SimNode *n = sink_sim_node(s, i);
                        int reason;
                        SimNodeOutcome o =
                                sim_node_expected_outcome(n->cfg.kind, c.net.allow_unsecured, &reason);
                        if (n->outcome != o || (o == SIM_NODE_NACKED && n->nack_reason != reason))
                                return 3;
                }
        }
        return EXIT_SUCCESS;
}
