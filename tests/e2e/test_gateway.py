"""Gateway mode end to end: meshprovd talking to meshprov-sinksim over a pty with the dual-MCU API.

Each scenario has its own directory, database, simulator(s) and daemon: the simulator writes the whitelist
(wm-provisioning YAML) that `meshprovctl import` loads, then plays the sink and at least 100 joining nodes of
mixed kinds, which really decrypt and check what they get. Afterwards the simulator's per-node summary and
the daemon's audit log (the SQLite file) must agree: every whitelisted node provisioned exactly once, every
refused node refused with the right reason, nothing provisioned that should not be. The fault scenarios
check that the fault really happened (the simulator counts it) and that the daemon noticed it.
"""

import os
import re

import pytest

from meshprov_e2e import ApiClient, Broker, Daemon, SinkSim, cleanup, wait_for, workdir

# Every kind: the fault-free fleet and every fault scenario (the nodes with the wrong key, disabled or
# unsecured must end right under faults too). MIX_FAULTS only where the point is elsewhere (two sinks, 5G).
MIX_ALL = "whitelisted=70,unknown=12,wrong-method=12,wrong-key=8,disabled=8,unsecured=10"
MIX_FAULTS = "whitelisted=80,unknown=10,wrong-method=10"
# A node's first wait for an answer to its START, doubled on each retry. Wrong-key nodes use every retry, so
# this sets how long a scenario with the full mix runs.
NT = "500ms"


def full_mix(**kw):
    """A simulator with 100 nodes of every kind (for the fault scenarios)."""
    return dict(nodes=100, mix=MIX_ALL, allow_unsecured=True, node_timeout=NT, **kw)

# What the whitelist makes of each kind (tests/sim/README.md): nack reason 0 = not authorized, 1 = method
# not supported; wrong-key nodes reject every DATA and give up. Unsecured (method 0) nodes are imported with
# --allow-unsecured, which lets their network accept them.
EXPECTED = {
    "whitelisted": ("provisioned", None),
    "unsecured": ("provisioned", None),
    "unknown": ("nacked", 0),
    "disabled": ("nacked", 0),
    "wrong-method": ("nacked", 1),
    "wrong-key": ("gave-up", None),
}


class Scenario:
    def __init__(self, name, sims, sink_conf=None, api=False, extra_conf=""):
        self.dir = workdir(f"gw-{name}")
        self.sims = [SinkSim(self.dir, **kw) for kw in sims]
        conf = "".join(s.conf(**(sink_conf or {})) for s in self.sims) + extra_conf
        # with api=True: a broker and the management API, whose status has the engine's counters and the
        # state of each sink
        self.broker = Broker(self.dir).start() if api else None
        self.instance = f"gw-{name}"
        if api:
            conf += f"[Api]\nEnabled=yes\nInstanceId={self.instance}\nStatusIntervalSec=1s\n"
        self.daemon = Daemon(self.dir, broker_port=self.broker.port if api else None, extra_conf=conf)
        self.api = None

    def start(self):
        for s in self.sims:
            self.daemon.ctl("import", s.whitelist(), *(["--allow-unsecured"] if s.allow_unsecured else []))
        for s in self.sims:
            s.start()
        self.daemon.start(wait_ready=False)
        wait_for(lambda: self.daemon.alive() and all(self.up_count(s) >= 1 for s in self.sims), 20,
                 "every sink to come up")
        if self.broker:
            self.api = ApiClient(self.broker.port, self.instance)
        return self

    def status(self, cond=lambda st: True, what="a status"):
        """The first management API status from now on for which cond(status) holds."""
        seen = len(self.api.status)
        def found():
            return next((st for _, st in self.api.status[seen:] if st.online and cond(st)), None)
        return wait_for(found, 15, what)

    def up_count(self, sim):
        return len(re.findall(rf"Sink {sim.name} up at \d+ bit/s", self.daemon.read_log()))

    def log(self):
        return self.daemon.read_log()

    def finish(self, timeout=90):
        for s in self.sims:
            s.wait(timeout)

    def close(self):
        for s in self.sims:
            s.stop()
        if self.api:
            self.api.close()
        rc = self.daemon.stop() if self.daemon.proc else 0
        if self.broker:
            self.broker.stop()
        cleanup(self.dir)
        assert rc == 0, "meshprovd did not exit cleanly on SIGTERM"


@pytest.fixture
def scenario(request):
    made = []

    def make(name, sims, **kw):
        s = Scenario(name, sims, **kw)
        made.append(s)
        return s.start()

    yield make
    for s in made:
        s.close()


def acks_ok(daemon):
    return sum(1 for r in daemon.events("ack") if r["result"] == "ok")


def check_fleet(sc, sim):
    """The simulator's nodes against the audit log; returns the summary.

    Every whitelisted node is provisioned exactly once in the audit log, except the nodes whose DATA_ACK the
    simulator reports lost (`ack_lost`: the sink refused it, lost it in a reboot or hang-up, or the daemon
    never answered that indication): those provisioned themselves, got their DATA, and have at most one ACK
    row (the daemon may have seen the ACK while the sink lost the daemon's response)."""
    summary = sim.summary()
    nodes = summary["nodes"]
    assert len(nodes) >= 100 or len(sc.sims) > 1
    wrong = [(n["kind"], n["outcome"], n["nack_reason"]) for n in nodes if not n["as_expected"]]
    assert not wrong, f"nodes that did not end as their kind predicts: {wrong[:10]}"
    ack_lost = {n["uid"] for n in nodes if n["ack_lost"]}
    assert len(ack_lost) == summary["mesh"]["acks_lost"]
    assert all(n["outcome"] == "provisioned" for n in nodes if n["uid"] in ack_lost), \
        "only a node that provisioned itself sends a DATA_ACK"

    provisioned = [n for n in nodes if EXPECTED[n["kind"]][0] == "provisioned"]
    # the last DATA_ACKs may still be on their way into the database
    wait_for(lambda: acks_ok(sc.daemon) >= len(provisioned) - len(ack_lost), 15,
             "the DATA_ACKs in the audit log")

    by_uid = {}
    for r in sc.daemon.events():
        if r["uid"] is not None:
            by_uid.setdefault(bytes(r["uid"]), []).append(r)

    for n in nodes:
        uid = bytes.fromhex(n["uid"])
        rows = by_uid.get(uid, [])
        kinds = [r["_kind"] for r in rows]
        outcome, reason = EXPECTED[n["kind"]]
        oks = [r for r in rows if r["_kind"] == "ack" and r["result"] == "ok"]
        assert all(r["sink"] == sim.name for r in rows), f"{n['uid']}: rows from another route"
        assert "start" in kinds, f"{n['uid']}: no START recorded"
        if outcome == "provisioned":
            assert n["outcome"] == "provisioned"
            assert "data" in kinds, f"{n['uid']}: provisioned without a DATA"
            assert "nack" not in kinds, f"{n['uid']}: whitelisted but refused"
            if n["uid"] in ack_lost:
                # the node has its parameters and acked them; the ACK never made it through the sink
                assert n["params"] and n["params"]["keys_match"], f"{n['uid']}: provisioned with wrong keys"
                assert len(oks) <= 1, f"{n['uid']}: provisioned {len(oks)} times in the audit log: {kinds}"
                continue
            assert len(oks) == 1, f"{n['uid']}: provisioned {len(oks)} times in the audit log: {kinds}"
        elif outcome == "nacked":
            nacks = [r for r in rows if r["_kind"] == "nack"]
            assert nacks, f"{n['uid']} ({n['kind']}): no NACK recorded"
            assert all(r["nack_reason"] == reason for r in nacks), \
                f"{n['uid']} ({n['kind']}): NACK reasons {[r['nack_reason'] for r in nacks]}, want {reason}"
            assert n["nack_reason"] == reason
            assert not oks and "data" not in kinds, f"{n['uid']} ({n['kind']}): refused node got a DATA"
        else:
            assert outcome == "gave-up"
            assert not oks, f"{n['uid']}: a node with the wrong key cannot be provisioned"
            assert "data" in kinds
    return summary


# ---------------------------------------------------------------- scenarios ----

def test_mixed_fleet_auto_baud(scenario):
    """120 nodes of every kind; the sink answers only at 115200, the daemon has no Baud= and must find it."""
    sc = scenario("fleet", [dict(nodes=120, mix=MIX_ALL, seed=11, retries=2, baud=115200, allow_unsecured=True)])
    assert re.search(r"Sink sink0 up at 115200 bit/s: node address \d+, role 0x11, network 0x1012ee, "
                     r"channel 2, stack running, MTU 102, firmware 5\.4\.0\.54, API version 18", sc.log())
    sc.finish()
    s = check_fleet(sc, sc.sims[0])
    assert s["outcomes"]["provisioned"] == 80  # 70 whitelisted + 10 unsecured
    assert s["mesh"]["baud_dropped"] > 0  # the probes at 125000 went unanswered
    assert s["device"]["bad_frames"] == 0
    assert sc.up_count(sc.sims[0]) == 1
    assert sc.log().count("Sink sink0 lost") <= 1  # only when the simulator exits


def test_bad_crc_garbage_truncated_frames(scenario):
    sc = scenario("noise", [full_mix(seed=12, faults="crc=0.03,garbage=0.03,truncate=0.03")])
    sc.finish()
    s = check_fleet(sc, sc.sims[0])
    dev = s["device"]
    assert dev["fault_crc"] > 0 and dev["fault_garbage"] > 0 and dev["fault_truncate"] > 0
    # the daemon saw them, said so (rate-limited), and never lost the link for it
    assert re.search(r"Sink sink0: (CRC|escape|length|.*bad frame)", sc.log(), re.I)
    assert sc.log().count("Sink sink0 lost") <= 1  # only when the simulator exits


def test_stalled_sink(scenario):
    """The sink stops answering anything for 2.5 s at its 150th request (polls included, a few seconds into
    the ramp), longer than the daemon's retries last: timeouts take the link down, it is reopened with
    backoff while the sink stays silent, comes back up once the sink answers again, and the nodes caught in
    the stall retry and end as they should."""
    sc = scenario("stall", [full_mix(seed=13, retries=4, ramp="5s",
                                              faults="stall-at=150,stall-time=2500ms")])
    sim = sc.sims[0]
    wait_for(lambda: re.search(r"Sink sink0 lost \((requests keep timing out|no indication after a poll)\)",
                               sc.log()), 30, "the stall to take the link down")
    wait_for(lambda: sc.up_count(sim) >= 2, 20, "the sink to come back up after the stall")
    sc.finish(120)
    s = check_fleet(sc, sim)
    assert s["device"]["stalls"] == 1
    assert s["device"]["requests"] > 150
    log = sc.log()
    down = re.search(r"Sink sink0 lost \((requests keep timing out|no indication after a poll)\)", log)
    assert re.search(r"Sink sink0 up at \d+ bit/s", log[down.end():]), "not up again after the stall"


def test_hangup_and_replug(scenario):
    """The UART disappears mid-run (pty closed, device path removed) and comes back a second later."""
    sc = scenario("hangup", [full_mix(seed=14, ramp="4s", faults="replug=1s")])
    sim = sc.sims[0]
    wait_for(lambda: acks_ok(sc.daemon) >= 20, 30, "some nodes provisioned before the unplug")
    sim.unplug()
    wait_for(lambda: "Sink sink0 lost" in sc.log(), 10, "the daemon to notice the hang-up")
    wait_for(lambda: sc.up_count(sim) >= 2, 20, "the sink to come back")
    sc.finish()
    s = check_fleet(sc, sim)
    assert s["mesh"]["hangups"] >= 1 and s["mesh"]["replugs"] >= 1
    assert "cannot open" in sc.log()  # it kept trying while the device was missing


def test_sink_reboots(scenario):
    # per request; a few hundred requests make "never" about one run in a thousand
    sc = scenario("reboot", [full_mix(seed=15, retries=4, ramp="5s",
                                               faults="reboot=0.02,reboot-time=100ms")])
    sim = sc.sims[0]
    sc.finish(120)
    s = check_fleet(sc, sim)
    assert s["device"]["reboots"] >= 1
    assert "Sink sink0 rebooted" in sc.log()
    assert "settings read again" in sc.log()


def test_duplicated_indications(scenario):
    """Responses lost on their way to the sink: it keeps the indication and, when the lost response asked
    for the next one, stays silent until the daemon times out and polls again. The same indication with the
    same frame id comes again, is answered again, and is acted on once: the engine sees exactly the uplinks
    the simulated mesh handed to the sink."""
    # each lost "send the next one" costs the link a poll timeout, so nodes get a little more patience
    sc = scenario("dup", [dict(full_mix(seed=16, faults="dup=0.03"), node_timeout="1s")], api=True)
    sc.finish()
    s = check_fleet(sc, sc.sims[0])
    assert s["device"]["fault_dup"] >= 5
    assert "again (its response was lost)" in sc.log()
    assert "timeout waiting for an indication" in sc.log()  # a lost "send the next one"
    sent = s["mesh"]["uplinks_sent"]
    st = sc.status(lambda st: st.counters.uplinks >= sent, f"{sent} uplinks in the engine")
    assert st.counters.uplinks == sent, f"{st.counters.uplinks} uplinks handed to the engine, {sent} sent"


def test_out_of_memory_bursts(scenario):
    """The sink refuses DATA_TX with 'out of memory' in bursts: retried with backoff, never dropped."""
    sc = scenario("oom", [full_mix(seed=17, faults="oom=0.1,oom-burst=4")])
    sc.finish()
    s = check_fleet(sc, sc.sims[0])
    assert s["device"]["fault_oom"] >= 4
    assert s["device"]["data_tx_failed"] >= 4
    assert "send_failed" not in [r["_kind"] for r in sc.daemon.events()]


def test_two_sinks(scenario):
    """Two sinks in two networks, each with its own fleet; each node answered through its own sink. Fourteen
    more sinks (SINKS_MAX in all) on devices that do not exist stay down: the management API's status
    lists every sink with its own state, and the status line, too short for sixteen long names, says how
    many it left out instead of cutting the list silently."""
    spares = [f"spare-sink-with-a-long-name-{i:02d}" for i in range(14)]
    extra = "".join(f"[Sink]\nName={n}\nDevice=/nonexistent/tty-{n}\n" for n in spares)
    sc = scenario("two", [
        dict(name="sinkA", nodes=60, mix=MIX_FAULTS, seed=18, network_name="net-a", network_address=0x0A0A0A,
             channel=3),
        dict(name="sinkB", nodes=60, mix=MIX_FAULTS, seed=19, network_name="net-b", network_address=0x0B0B0B,
             channel=5),
    ], api=True, extra_conf=extra)

    def states(st):
        return {k.name: (k.state, k.online, k.device) for k in st.sinks}

    def both_up(st):
        return all(states(st).get(n, ("",))[0] == "up" for n in ("sinkA", "sinkB"))

    st = sc.status(both_up, "both simulated sinks up in the status")
    got = states(st)
    assert [k.name for k in st.sinks] == ["sinkA", "sinkB", *spares]  # every sink, in configuration order
    for sim in sc.sims:
        assert got[sim.name] == ("up", True, sim.link)
    for n in spares:
        assert got[n] == ("down", False, f"/nonexistent/tty-{n}")

    # the status line at start-up: as many as fit, then how many more
    m = re.search(r"meshprovd \S+ running: .*, sinks: (.*)\.\n", sc.log())
    assert m, "no status line"
    line = m.group(1)
    more = re.search(r"(?:^|, )\.\.\. and (\d+) more$", line)
    assert more, f"a cut sink list that does not say so: {line!r}"
    shown = re.findall(r"(\S+) (?:up|down|probing|closed)(?:, |$)", line[:more.start()] + ", ")
    assert shown == ["sinkA", "sinkB", *spares][:len(shown)] and len(shown) >= 2
    assert len(shown) + int(more.group(1)) == 16

    sc.finish()
    for sim in sc.sims:
        s = check_fleet(sc, sim)
        want = 0x0A0A0A if sim.name == "sinkA" else 0x0B0B0B
        assert all(n["params"]["network_address"] == want for n in s["nodes"] if n["outcome"] == "provisioned")


def test_5g_mesh_endpoints(scenario):
    """5G Mesh nodes: STARTs on 160 -> 39, answers on 160 -> 40, 135-byte node buffers."""
    sc = scenario("5g", [dict(nodes=100, mix=MIX_FAULTS, seed=20, five_g=True)])
    sc.finish()
    s = check_fleet(sc, sc.sims[0])
    assert s["outcomes"]["provisioned"] == 80
    assert s["mesh"]["downlinks"] >= 100  # the simulator counts only 160 -> 40 here
    assert s["mesh"]["downlinks_unrouted"] == 0
