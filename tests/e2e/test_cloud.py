"""Cloud mode end to end: meshprovd answering Wirepas gateways on a real mosquitto broker.

One broker and one daemon serve the whole module; every test uses its own UIDs, so tests don't see each
other's sessions. Each test plays one or more gateways and joining nodes and checks, as the node would,
what comes back, then checks the audit log in the real SQLite file.
"""

import os
import random
import subprocess
import time

import pytest

from meshprov_e2e import (Broker, Daemon, JoiningNode, EmulatedGateway, binary, cleanup, free_port, wait_for,
                          workdir)

NET_KEY_ENC = bytes(range(0x10, 0x20))
NET_KEY_AUTH = bytes(range(0x20, 0x30))
NET_ADDR = 0x123456
CHANNEL = 7
OPEN_ADDR = 0x223344


def hexs(b):
    return b.hex()


def rand_uid(n=16):
    return os.urandom(n)


def rand_key():
    return os.urandom(32)


@pytest.fixture(scope="module")
def env():
    d = workdir("cloud")
    broker = Broker(d).start()
    daemon = Daemon(d, broker_port=broker.port)
    daemon.ctl("network", "add", "net1", "--address", hex(NET_ADDR), "--channel", str(CHANNEL),
               "--enc-key", hexs(NET_KEY_ENC), "--auth-key", hexs(NET_KEY_AUTH))
    daemon.ctl("network", "add", "open", "--address", hex(OPEN_ADDR), "--channel", "5",
               "--enc-key", hexs(os.urandom(16)), "--auth-key", hexs(os.urandom(16)), "--allow-unsecured")
    daemon.start()
    gw = EmulatedGateway(broker.port, "gw-a")
    state = {"dir": d, "broker": broker, "daemon": daemon, "gw": gw}
    yield state
    state["gw"].close()
    rc = daemon.stop()
    broker.stop()
    assert rc == 0, "meshprovd did not exit cleanly on SIGTERM"
    cleanup(d)


def add_device(daemon, uid, method=1, key=None, network="net1", *extra):
    args = ["device", "add", hexs(uid), "--method", str(method), "--network", network]
    if key is not None:
        args += ["--factory-key", hexs(key)]
    daemon.ctl(*args, *extra)


def answer(gw, node, source, since, timeout=10):
    """Waits for the one downlink to `source` after index `since` and checks it as the node would."""
    dl = wait_for(lambda: gw.downlinks_to(source, since), timeout, f"an answer to {source:#x}")
    sink, req = dl[0]
    assert (req.source_endpoint, req.destination_endpoint) in ((255, 246), (160, 40))
    return node.check(req.payload, 135 if req.source_endpoint == 160 else 102), req


def test_secured_node_provisioned_and_acked(env):
    daemon, gw = env["daemon"], env["gw"]
    uid, key = rand_uid(), rand_key()
    add_device(daemon, uid, 1, key)
    node = JoiningNode(uid, 1, key)
    src = 0x10001
    since = gw.count()
    gw.uplink(node.start(), source=src)
    res, req = answer(gw, node, src, since)
    assert res[0] == "data"
    params = res[1]
    assert params[0] == NET_KEY_ENC and params[1] == NET_KEY_AUTH
    assert params[2] == NET_ADDR and params[3] == CHANNEL
    assert req.destination_address == src
    assert (req.source_endpoint, req.destination_endpoint) == (255, 246)

    gw.uplink(node.ack(), source=src)
    wait_for(lambda: daemon.events("ack", uid), 10, "the ACK in the audit log")
    kinds = [e["_kind"] for e in daemon.events(uid=uid)]
    assert kinds == ["start", "data", "ack"], kinds
    show = daemon.ctl("device", "show", hexs(uid), "--json").stdout
    assert "provisioned" in show


def test_extended_uid(env):
    daemon, gw = env["daemon"], env["gw"]
    uid = bytes([1]) + os.urandom(16) + bytes([1]) + os.urandom(16)
    key = rand_key()
    add_device(daemon, uid, 3, key)
    node = JoiningNode(uid, 3, key)
    since = gw.count()
    gw.uplink(node.start(), source=0x10002)
    res, _ = answer(gw, node, 0x10002, since)
    assert res[0] == "data" and res[1][2] == NET_ADDR


def test_unsecured_allowed_and_refused(env):
    daemon, gw = env["daemon"], env["gw"]
    uid = rand_uid()
    add_device(daemon, uid, 0, None, "open")
    node = JoiningNode(uid, 0)
    since = gw.count()
    gw.uplink(node.start(), source=0x10003)
    res, req = answer(gw, node, 0x10003, since)
    assert res[0] == "data" and res[1][2] == OPEN_ADDR
    assert req.payload[6] == 0  # key index 0: plaintext

    # The operator stops unsecured provisioning on that network: the next START is refused.
    daemon.ctl("network", "set", "open", "--no-allow-unsecured")
    node2 = JoiningNode(uid, 0, session_id=(node.session_id + 1) % 256)
    since = gw.count()
    gw.uplink(node2.start(), source=0x10003)
    res, _ = answer(gw, node2, 0x10003, since)
    assert res == ("nack", 1)
    daemon.ctl("network", "set", "open", "--allow-unsecured")


def test_unknown_uid_not_authorized(env):
    gw = env["gw"]
    node = JoiningNode(rand_uid(), 1, rand_key())
    since = gw.count()
    gw.uplink(node.start(), source=0x10004)
    res, _ = answer(gw, node, 0x10004, since)
    assert res == ("nack", 0)


def test_method_mismatch(env):
    daemon, gw = env["daemon"], env["gw"]
    uid, key = rand_uid(), rand_key()
    add_device(daemon, uid, 1, key)
    node = JoiningNode(uid, 0)  # claims unsecured
    since = gw.count()
    gw.uplink(node.start(), source=0x10005)
    res, _ = answer(gw, node, 0x10005, since)
    assert res == ("nack", 1)


def test_vendor_prefix_enrollment(env):
    daemon, gw = env["daemon"], env["gw"]
    prefix = os.urandom(4)
    vkey = rand_key()
    daemon.ctl("vendor", "add", "v" + prefix.hex(), "--factory-key", hexs(vkey), "--enroll-prefix",
               hexs(prefix), "--enroll-method", "1", "--network", "net1")
    uid = prefix + os.urandom(12)
    node = JoiningNode(uid, 1, vkey)
    since = gw.count()
    gw.uplink(node.start(), source=0x10006)
    res, _ = answer(gw, node, 0x10006, since)
    assert res[0] == "data" and res[1][0] == NET_KEY_ENC

    # Another vendor's prefix does not match.
    other = JoiningNode(os.urandom(16), 1, vkey)
    since = gw.count()
    gw.uplink(other.start(), source=0x10007)
    res, _ = answer(gw, other, 0x10007, since)
    assert res == ("nack", 0)


def test_disabled_device(env):
    daemon, gw = env["daemon"], env["gw"]
    uid, key = rand_uid(), rand_key()
    add_device(daemon, uid, 1, key)
    daemon.ctl("device", "disable", hexs(uid))
    node = JoiningNode(uid, 1, key)
    since = gw.count()
    gw.uplink(node.start(), source=0x10008)
    res, _ = answer(gw, node, 0x10008, since)
    assert res == ("nack", 0)
    assert daemon.events("nack", uid)[0]["result"] == "disabled"


def test_repeated_start_same_answer(env):
    daemon, gw = env["daemon"], env["gw"]
    uid, key = rand_uid(), rand_key()
    add_device(daemon, uid, 1, key)
    node = JoiningNode(uid, 1, key)
    since = gw.count()
    gw.uplink(node.start(), source=0x10009)
    first = wait_for(lambda: gw.downlinks_to(0x10009, since), 10, "first DATA")[0][1].payload

    # A copy right away (QoS 1 duplicate or another path) is not answered again ...
    gw.uplink(node.start(), source=0x10009)
    # ... the node's real retry comes after its timeout (DuplicateHoldSec=2s in this test config).
    time.sleep(2.2)
    since2 = gw.count()
    gw.uplink(node.start(), source=0x10009)
    again = wait_for(lambda: gw.downlinks_to(0x10009, since2), 10, "re-sent DATA")[0][1].payload
    assert again == first, "a repeated START must get the same DATA (no new key stream)"
    assert len(gw.downlinks_to(0x10009, since)) == 2
    assert node.check(again)[0] == "data"
    starts = daemon.events("start", uid)
    assert len(starts) == 2


def test_one_start_through_two_gateways(env):
    daemon, gw = env["daemon"], env["gw"]
    gw2 = EmulatedGateway(env["broker"].port, "gw-b")
    try:
        uid, key = rand_uid(), rand_key()
        add_device(daemon, uid, 1, key)
        node = JoiningNode(uid, 1, key)
        s1, s2 = gw.count(), gw2.count()
        pkt = node.start()
        gw.uplink(pkt, source=0x1000a, travel_ms=800)
        gw2.uplink(pkt, source=0x1000a, travel_ms=120)
        wait_for(lambda: gw2.downlinks_to(0x1000a, s2), 10, "the answer via the faster gateway")
        wait_for(lambda: daemon.events("data", uid), 10, "the DATA record")
        assert gw.downlinks_to(0x1000a, s1) == [], "answered twice"
        assert len(gw2.downlinks_to(0x1000a, s2)) == 1
        assert len(daemon.events("data", uid)) == 1
        assert daemon.events("data", uid)[0]["gateway"] == "gw-b"
    finally:
        gw2.close()


def test_whitelist_change_applies_to_next_start(env):
    daemon, gw = env["daemon"], env["gw"]
    uid, key = rand_uid(), rand_key()
    node = JoiningNode(uid, 1, key)
    since = gw.count()
    gw.uplink(node.start(), source=0x1000b)
    res, _ = answer(gw, node, 0x1000b, since)
    assert res == ("nack", 0)

    add_device(daemon, uid, 1, key)  # while the daemon runs
    node2 = JoiningNode(uid, 1, key, session_id=(node.session_id + 1) % 256)
    since = gw.count()
    gw.uplink(node2.start(), source=0x1000b)
    res, _ = answer(gw, node2, 0x1000b, since)
    assert res[0] == "data"


def test_send_failure_retried_with_backoff(env):
    daemon, gw = env["daemon"], env["gw"]
    uid, key = rand_uid(), rand_key()
    add_device(daemon, uid, 1, key)
    node = JoiningNode(uid, 1, key)
    since = gw.count()
    gw.results.extend([26, 26])  # SINK_OUT_OF_MEMORY twice, then OK
    gw.uplink(node.start(), source=0x1000c)
    dls = wait_for(lambda: len(gw.downlinks_to(0x1000c, since)) >= 3 and gw.downlinks_to(0x1000c, since),
                   15, "three attempts")
    payloads = {r.payload for _, r in dls}
    assert len(payloads) == 1, "a retry re-sends the same packet"
    assert len({r.header.req_id for _, r in dls}) == 3, "each attempt is a new request"
    assert daemon.events("send_failed", uid) == []
    assert node.check(dls[-1][1].payload)[0] == "data"


def test_garbage_is_counted_and_survived(env):
    daemon, gw = env["daemon"], env["gw"]
    rnd = random.Random(7)
    for _ in range(30):
        gw.uplink(None, raw=bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, 300))))
    # A valid protobuf around a truncated START, wrong endpoints, and malformed topics.
    node = JoiningNode(rand_uid(), 1, rand_key())
    gw.uplink(node.start()[:20], source=0x1000d)
    gw.uplink(node.start(), source=0x1000d, src_ep=10, dst_ep=11)
    gw.uplink(None, raw=b"\x0a\x00", topic="gw-event/received_data/gw-a/sink0/notanumber/246/255")
    gw.uplink(None, raw=b"\x0a\x00", topic="gw-event/received_data/gw-a/sink0/1/246/255/extra")
    gw.uplink(None, raw=b"", topic="gw-response/send_data/gw-a/sink0")
    gw.uplink(None, raw=os.urandom(64), topic="gw-response/send_data/gw-a/sink0")

    # Still answering.
    uid, key = rand_uid(), rand_key()
    add_device(daemon, uid, 1, key)
    good = JoiningNode(uid, 1, key)
    since = gw.count()
    gw.uplink(good.start(), source=0x1000e)
    res, _ = answer(gw, good, 0x1000e, since)
    assert res[0] == "data"
    assert daemon.alive()
    log = daemon.read_log()
    assert "malformed" in log.lower() or "invalid" in log.lower()


def test_broker_restart_mid_run(env):
    daemon, broker = env["daemon"], env["broker"]
    connects_before = daemon.read_log().count("Connected to MQTT broker")
    env["gw"].close()
    broker.stop()
    wait_for(lambda: "lost" in daemon.read_log()[-4000:] or "Cannot connect" in daemon.read_log()[-4000:],
             10, "the daemon to notice the broker is gone")
    broker.start()
    wait_for(lambda: daemon.read_log().count("Connected to MQTT broker") > connects_before, 20,
             "the daemon to reconnect")
    gw = EmulatedGateway(broker.port, "gw-a")
    env["gw"] = gw
    uid, key = rand_uid(), rand_key()
    add_device(daemon, uid, 1, key)
    node = JoiningNode(uid, 1, key)
    since = gw.count()
    gw.uplink(node.start(), source=0x1000f)
    res, _ = answer(gw, node, 0x1000f, since)
    assert res[0] == "data"


def _make_tls_material(d):
    """A CA and a server certificate for 127.0.0.1, made with the openssl CLI."""
    def ossl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)
    ca_key, ca = os.path.join(d, "ca.key"), os.path.join(d, "ca.pem")
    key, csr, crt = os.path.join(d, "srv.key"), os.path.join(d, "srv.csr"), os.path.join(d, "srv.pem")
    ext = os.path.join(d, "ext.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca, "-days", "2",
         "-subj", "/CN=meshprov test CA")
    ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=localhost")
    ossl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", crt, "-days", "2",
         "-extfile", ext)
    return ca, crt, key


def test_tls_and_credentials():
    d = workdir("tls")
    try:
        ca, crt, key = _make_tls_material(d)
        pwfile = os.path.join(d, "passwd")
        open(pwfile, "w").close()
        subprocess.run(["mosquitto_passwd", "-b", pwfile, "prov", "s3cret"], check=True)
        plain_port = free_port()
        broker = Broker(d, extra_conf=(f"allow_anonymous false\npassword_file {pwfile}\n"
                                       f"certfile {crt}\nkeyfile {key}\ncafile {ca}\n"
                                       f"listener {plain_port} 127.0.0.1\n")).start()
        daemon = Daemon(d, broker_port=None)
        daemon.extra_conf = (f"[Mqtt]\nHost=127.0.0.1\nPort={broker.port}\nTLS=yes\nCAFile={ca}\n"
                             "Username=prov\nPassword=s3cret\nReconnectMinSec=200ms\nReconnectMaxSec=1s\n")
        daemon.ctl("network", "add", "net1", "--address", hex(NET_ADDR), "--channel", str(CHANNEL),
                   "--enc-key", hexs(NET_KEY_ENC), "--auth-key", hexs(NET_KEY_AUTH))
        uid, k = rand_uid(), rand_key()
        add_device(daemon, uid, 1, k)
        daemon.start(wait_ready=False)
        wait_for(lambda: daemon.alive() and "Connected to MQTT broker" in daemon.read_log(), 15,
                 "a TLS connection with credentials")
        assert "s3cret" not in daemon.read_log()
        # The gateway side uses the plain listener of the same broker (same credentials).
        gw = EmulatedGateway(plain_port, "gw-tls", username="prov", password="s3cret")
        try:
            node = JoiningNode(uid, 1, k)
            gw.uplink(node.start(), source=0x20001)
            res, _ = answer(gw, node, 0x20001, 0)
            assert res[0] == "data"
        finally:
            gw.close()
        assert daemon.stop() == 0
        broker.stop()
    finally:
        cleanup(d)


def test_container_style_environment_without_config_file():
    """No configuration file at all: defaults plus the reference server's environment variable names."""
    d = workdir("env")
    try:
        broker = Broker(d).start()
        daemon = Daemon(d, env={"MESHPROV_DB": os.path.join(d, "meshprov.db"),
                                "WM_SERVICES_MQTT_HOSTNAME": "127.0.0.1",
                                "WM_SERVICES_MQTT_PORT": str(broker.port),
                                "WM_SERVICES_MQTT_INSECURE": "true",
                                "MESHPROV_LOG_LEVEL": "info"})
        daemon.ctl("network", "add", "net1", "--address", hex(NET_ADDR), "--channel", str(CHANNEL),
                   "--enc-key", hexs(NET_KEY_ENC), "--auth-key", hexs(NET_KEY_AUTH))
        uid, k = rand_uid(), rand_key()
        add_device(daemon, uid, 1, k)
        daemon.proc = subprocess.Popen([binary("meshprovd")], stdout=open(daemon.log, "a"),
                                       stderr=subprocess.STDOUT, env=daemon.env)
        wait_for(lambda: daemon.alive() and "Connected to MQTT broker" in daemon.read_log(), 15,
                 "the daemon to connect using only environment variables")
        gw = EmulatedGateway(broker.port, "gw-env")
        try:
            node = JoiningNode(uid, 1, k)
            gw.uplink(node.start(), source=0x20002)
            res, _ = answer(gw, node, 0x20002, 0)
            assert res[0] == "data"
        finally:
            gw.close()
        assert daemon.stop() == 0
        broker.stop()
    finally:
        cleanup(d)
