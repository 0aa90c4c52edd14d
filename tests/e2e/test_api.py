"""The fleet-manager management API end to end: meshprovd with [Api] Enabled=yes on a real mosquitto.

A Python client speaks the protobuf API (proto/mgmt.proto, compiled at test time) and checks every operation,
refusals with their codes and fields, live events against what the engine did (a START driven through the
gateway API as in test_cloud.py), the retained status and its last will, and meshprovctl's remote mode
(including a 10,000-device import). The ACL scenario runs the broker with a password file and the shipped
etc/mosquitto-acl.example. Results are checked in the real SQLite file too.
"""

import json
import os
import pty
import signal
import sqlite3
import subprocess
import threading
import time

import pytest

from meshprov_e2e import (SOURCE_DIR, ApiClient, Broker, Daemon, JoiningNode, EmulatedGateway, binary, cleanup,
                          mgmt_pb, wait_for, workdir)

INSTANCE = "e2e-site"
NET_ENC = bytes(range(0x31, 0x41))
NET_AUTH = bytes(range(0x51, 0x61))
NET_ADDR = 0x2233AA
API_CONF = f"[Api]\nEnabled=yes\nInstanceId={INSTANCE}\nStatusIntervalSec=1s\n"


@pytest.fixture(scope="module")
def env():
    d = workdir("api")
    broker = Broker(d).start()
    daemon = Daemon(d, broker_port=broker.port, extra_conf=API_CONF)
    daemon.start()
    api = ApiClient(broker.port, INSTANCE)
    state = {"dir": d, "broker": broker, "daemon": daemon, "api": api, "pb": mgmt_pb()}
    yield state
    api.close()
    rc = daemon.stop()
    broker.stop()
    assert rc == 0, "meshprovd did not exit cleanly on SIGTERM"
    cleanup(d)


def db_count(daemon, sql, *args):
    con = sqlite3.connect(f"file:{daemon.db}?mode=ro", uri=True, timeout=5)
    try:
        return con.execute(sql, args).fetchone()[0]
    finally:
        con.close()


def put_network(pb, req, name, address=NET_ADDR, channel=5, mode=None):
    n = req.network_put.network
    n.name = name
    n.network_address = address
    n.channel = channel
    n.keys_update = pb.SET
    n.enc_key = NET_ENC
    n.auth_key = NET_AUTH
    if mode is not None:
        req.network_put.mode = mode


def ctl_remote(env, *args, check=True, timeout=120, input=None):
    p = subprocess.run([binary("meshprovctl"), "--mqtt", f"127.0.0.1:{env['broker'].port}", "--instance",
                        INSTANCE, *args], capture_output=True, text=True, timeout=timeout, input=input)
    if check and p.returncode != 0:
        raise AssertionError(f"meshprovctl {' '.join(args)} failed ({p.returncode}): {p.stderr}")
    return p


# ---------------------------------------------------------------- operations ----

def test_networks_and_vendors(env):
    api, pb, daemon = env["api"], env["pb"], env["daemon"]

    r = api.ok("network_put", lambda q: put_network(pb, q, "apinet"))
    assert r.created and r.network.name == "apinet" and r.network.channel == 5
    assert r.network.enc_key_fingerprint.startswith("sha256:") and len(r.network.enc_key_fingerprint) == 23
    assert not r.network.HasField("enc_key") and not r.network.HasField("auth_key")
    api.fails("network_put", lambda q: put_network(pb, q, "apinet"), pb.EXISTS, "network.name")

    # update without keys keeps them; the fingerprint stays
    def update(q):
        n = q.network_put.network
        n.name, n.network_address, n.channel, n.keys_update = "apinet", NET_ADDR, 9, pb.KEEP
        n.pool_first, n.pool_last = 1000, 1999
        q.network_put.mode = pb.UPDATE
    u = api.ok("network_put", update)
    assert not u.created and u.network.channel == 9 and u.network.pool_last == 1999
    assert u.network.enc_key_fingerprint == r.network.enc_key_fingerprint
    g = api.ok("network_get", lambda q: setattr(q.network_get, "name", "apinet"))
    assert g.network.channel == 9
    api.fails("network_get", lambda q: setattr(q.network_get, "name", "nope"), pb.NOT_FOUND, "name")

    for i in range(3):
        api.ok("network_put", lambda q, i=i: put_network(pb, q, f"pagenet{i}", NET_ADDR + 1 + i))
    page = api.ok("network_list", lambda q: setattr(q.network_list, "limit", 2))
    assert len(page.networks.networks) == 2 and page.networks.more
    rest = api.ok("network_list", lambda q: setattr(q.network_list, "after", page.networks.networks[-1].name))
    names = [n.name for n in page.networks.networks] + [n.name for n in rest.networks.networks]
    assert names == sorted(names) and {"apinet", "pagenet0", "pagenet1", "pagenet2"} <= set(names)
    assert not rest.networks.more

    def vendor(q):
        v = q.vendor_put.vendor
        v.name = "apivendor"
        v.key_update, v.key_kind, v.key = pb.SET, pb.VENDOR_KEY_MASTER, os.urandom(32)
        v.enroll_kind, v.enroll_prefix, v.enroll_method = pb.ENROLL_UID_PREFIX, bytes.fromhex("c0ffee01"), 1
        v.default_network = "apinet"
    v = api.ok("vendor_put", vendor)
    assert v.created and v.vendor.key_fingerprint.startswith("sha256:") and not v.vendor.HasField("key")
    assert api.ok("vendor_get", lambda q: setattr(q.vendor_get, "name", "apivendor")).vendor.enroll_prefix == \
        bytes.fromhex("c0ffee01")
    assert "apivendor" in [x.name for x in api.ok("vendor_list").vendors.vendors]

    # still referred to by the vendor: IN_USE, nothing deleted
    api.fails("network_delete", lambda q: setattr(q.network_delete, "name", "apinet"), pb.IN_USE, "name")
    api.ok("vendor_delete", lambda q: setattr(q.vendor_delete, "name", "apivendor"))
    api.fails("vendor_get", lambda q: setattr(q.vendor_get, "name", "apivendor"), pb.NOT_FOUND)
    api.ok("network_delete", lambda q: setattr(q.network_delete, "name", "pagenet2"))
    assert db_count(daemon, "SELECT COUNT(*) FROM networks WHERE name = 'pagenet2'") == 0
    assert db_count(daemon, "SELECT COUNT(*) FROM networks WHERE name = 'apinet'") == 1


def test_devices(env):
    api, pb, daemon = env["api"], env["pb"], env["daemon"]
    api.ok("network_put", lambda q: put_network(pb, q, "devnet", NET_ADDR + 10, mode=pb.UPSERT))
    uid, key = os.urandom(16), os.urandom(32)

    def device(q):
        d = q.device_put.device
        d.uid, d.network, d.method, d.label = uid, "devnet", 1, "dev-1"
        d.factory_key_update, d.factory_key = pb.SET, key
        d.node_address, d.role = 4242, 0x11
        d.user_items.add(id=130, text_value="hello")
        d.user_items.add(id=131, int_value=-3)
    r = api.ok("device_put", device)
    assert r.created and r.device.uid == uid and r.device.state == pb.DEVICE_NEW
    assert r.device.factory_key_fingerprint.startswith("sha256:") and not r.device.HasField("factory_key")
    assert [i.id for i in r.device.user_items] == [130, 131] and r.device.user_items[0].text_value == "hello"
    # the key is stored only wrapped: the plain bytes are nowhere in the database file
    with open(daemon.db, "rb") as f:
        assert key not in f.read()

    g = api.ok("device_get", lambda q: setattr(q.device_get, "uid", uid))
    assert g.device.label == "dev-1" and g.device.node_address == 4242 and g.device.enabled
    assert not api.ok("device_disable", lambda q: setattr(q.device_disable, "uid", uid)).device.enabled
    assert db_count(daemon, "SELECT enabled FROM devices WHERE uid = ?", uid) == 0
    assert api.ok("device_enable", lambda q: setattr(q.device_enable, "uid", uid)).device.enabled

    def listing(q):
        q.device_list.network = "devnet"
        q.device_list.limit = 10
    lst = api.ok("device_list", listing)
    assert [d.uid for d in lst.devices.devices] == [uid] and not lst.devices.more
    assert api.ok("device_count", lambda q: setattr(q.device_count, "network", "devnet")).device_count.count == 1
    api.fails("device_count", lambda q: setattr(q.device_count, "network", "nonet"), pb.NOT_FOUND, "network")

    h = api.ok("device_history", lambda q: setattr(q.device_history, "uid", uid))
    assert h.history.device.uid == uid and len(h.history.events) == 0

    # another device cannot take the same node address: the store's rule, named
    def clash(q):
        d = q.device_put.device
        d.uid, d.network, d.method, d.factory_key_update, d.factory_key = os.urandom(8), "devnet", 1, pb.SET, key
        d.node_address = 4242
    e = api.fails("device_put", clash, pb.EXISTS, "device.node_address")
    assert uid.hex() in e.message

    # a put naming a network or vendor that does not exist: NOT_FOUND, the field named
    def orphan(q, network="nonet", vendor=""):
        d = q.device_put.device
        d.uid, d.network, d.vendor, d.method = os.urandom(8), network, vendor, 1
        d.factory_key_update, d.factory_key = pb.SET, key
    e = api.fails("device_put", orphan, pb.NOT_FOUND, "device.network")
    assert "nonet" in e.message
    api.fails("device_put", lambda q: orphan(q, "devnet", "novendor"), pb.NOT_FOUND, "device.vendor")
    def vendor_orphan(q):
        v = q.vendor_put.vendor
        v.name, v.key_update, v.key_kind, v.key = "orphanvendor", pb.SET, pb.VENDOR_KEY_MASTER, os.urandom(32)
        v.enroll_kind, v.enroll_prefix, v.default_network = pb.ENROLL_UID_PREFIX, b"\x01\x02", "nonet"
    api.fails("vendor_put", vendor_orphan, pb.NOT_FOUND, "vendor.default_network")
    def bulk_orphan(q):
        item = q.device_bulk_put.devices.add(mode=pb.CREATE)
        orphan_dev = item.device
        orphan_dev.uid, orphan_dev.network, orphan_dev.method = os.urandom(8), "nonet", 1
        orphan_dev.factory_key_update, orphan_dev.factory_key = pb.SET, key
    e = api.fails("device_bulk_put", bulk_orphan, pb.NOT_FOUND, "devices[0].network")
    assert [(it.index, it.code) for it in e.items] == [(0, pb.NOT_FOUND)]

    api.ok("device_delete", lambda q: setattr(q.device_delete, "uid", uid))
    api.fails("device_get", lambda q: setattr(q.device_get, "uid", uid), pb.NOT_FOUND, "uid")
    assert db_count(daemon, "SELECT COUNT(*) FROM devices WHERE uid = ?", uid) == 0


def test_bulk_put_all_or_nothing(env):
    api, pb, daemon = env["api"], env["pb"], env["daemon"]
    api.ok("network_put", lambda q: put_network(pb, q, "bulknet", NET_ADDR + 20, mode=pb.UPSERT))
    uids = [os.urandom(12) for _ in range(50)]

    def bulk(q, bad_index=None):
        b = q.device_bulk_put
        for i, u in enumerate(uids):
            item = b.devices.add(mode=pb.CREATE)
            item.device.uid, item.device.network = u, "bulknet"
            item.device.factory_key_update, item.device.factory_key = pb.SET, os.urandom(32)
            item.device.node_address = 5000 + i
            if i == bad_index:
                item.device.node_address = 5000  # taken by item 0: only the database can tell
    e = api.fails("device_bulk_put", lambda q: bulk(q, 17), pb.EXISTS, "devices[17].node_address")
    assert any(it.index == 17 for it in e.items)
    assert db_count(daemon, "SELECT COUNT(*) FROM devices WHERE network_id = "
                            "(SELECT id FROM networks WHERE name = 'bulknet')") == 0

    # a rule the request itself breaks is named before anything is tried
    def bad_channel(q):
        bulk(q)
        n = q.device_bulk_put.networks.add(mode=pb.UPSERT)
        n.network.name, n.network.network_address, n.network.channel = "bulknet2", NET_ADDR + 21, 77
        n.network.keys_update, n.network.enc_key, n.network.auth_key = pb.SET, NET_ENC, NET_AUTH
    api.fails("device_bulk_put", bad_channel, pb.INVALID, "networks[0].channel")

    dry = api.ok("device_bulk_put", lambda q: (bulk(q), setattr(q.device_bulk_put, "dry_run", True)))
    assert dry.bulk.devices_created == 50 and dry.bulk.dry_run and not dry.bulk.committed
    assert db_count(daemon, "SELECT COUNT(*) FROM devices WHERE node_address BETWEEN 5000 AND 5049") == 0

    ok = api.ok("device_bulk_put", bulk)
    assert ok.bulk.devices_created == 50 and ok.bulk.committed
    assert db_count(daemon, "SELECT COUNT(*) FROM devices WHERE node_address BETWEEN 5000 AND 5049") == 50


def test_staged_batch(env):
    api, pb, daemon = env["api"], env["pb"], env["daemon"]
    api.ok("network_put", lambda q: put_network(pb, q, "stagenet", NET_ADDR + 30, mode=pb.UPSERT))

    def chunk(q, seq, last, n=10, abort=False, batch="stage-1"):
        b = q.device_bulk_put
        b.batch, b.seq, b.last, b.abort = batch, seq, last, abort
        for _ in range(n):
            item = b.devices.add(mode=pb.CREATE)
            item.device.uid, item.device.network = os.urandom(10), "stagenet"
            item.device.factory_key_update, item.device.factory_key = pb.SET, os.urandom(32)

    count = "SELECT COUNT(*) FROM devices WHERE network_id = (SELECT id FROM networks WHERE name = 'stagenet')"
    r = api.ok("device_bulk_put", lambda q: chunk(q, 0, False))
    assert r.bulk.staged_devices == 10 and not r.bulk.committed
    # another batch must wait
    api.fails("device_bulk_put", lambda q: chunk(q, 0, False, batch="other"), pb.BUSY, "batch")
    req1 = pb.Request(request_id=api.next_id())
    chunk(req1, 1, False)
    _, r = api.call("device_bulk_put", request=req1)
    assert not r.HasField("error") and r.bulk.staged_devices == 20 and db_count(daemon, count) == 0
    # QoS 1 may deliver a chunk twice: the same request again gets the same answer, the batch lives on
    with api.lock:
        del api.responses[req1.request_id]
    api.send("device_bulk_put", req1.SerializeToString())
    _, r = api.answer(req1.request_id)
    assert not r.HasField("error"), r.error
    assert r.bulk.staged_devices == 20 and not r.bulk.committed
    # an item of the third chunk is named by its index in the whole batch
    def bad(q):
        chunk(q, 2, True)
        q.device_bulk_put.devices[3].device.method = 2
    api.fails("device_bulk_put", bad, pb.INVALID, "devices[23].method")
    assert db_count(daemon, count) == 0
    # the failed chunk dropped the batch: a new one from 0, then abort
    api.ok("device_bulk_put", lambda q: chunk(q, 0, False, batch="stage-2"))
    # the same seq with other content is no redelivery: refused, naming seq, and the batch is dropped
    e = api.fails("device_bulk_put", lambda q: chunk(q, 0, False, batch="stage-2"), pb.INVALID, "seq")
    assert "other content" in e.message
    e = api.fails("device_bulk_put", lambda q: chunk(q, 1, False, batch="stage-2"), pb.INVALID, "seq")
    assert "not known" in e.message
    # a chunk out of order (skipping one) too
    api.ok("device_bulk_put", lambda q: chunk(q, 0, False, batch="stage-2"))
    e = api.fails("device_bulk_put", lambda q: chunk(q, 2, False, batch="stage-2"), pb.INVALID, "seq")
    assert "expected chunk 1" in e.message and "seq 2" in e.message
    api.ok("device_bulk_put", lambda q: chunk(q, 0, False, batch="stage-2"))
    api.ok("device_bulk_put", lambda q: chunk(q, 1, True, n=0, abort=True, batch="stage-2"))
    api.fails("device_bulk_put", lambda q: chunk(q, 1, True, batch="stage-2"), pb.INVALID, "seq")
    api.ok("device_bulk_put", lambda q: chunk(q, 0, False, batch="stage-3"))
    last = pb.Request(request_id=api.next_id())
    chunk(last, 1, True, batch="stage-3")
    _, r = api.call("device_bulk_put", request=last)
    assert not r.HasField("error") and r.bulk.committed and r.bulk.devices_created == 20
    assert r.bulk.staged_devices == 20
    assert db_count(daemon, count) == 20
    # the last chunk redelivered after the batch was applied: the same answer, nothing applied twice
    with api.lock:
        del api.responses[last.request_id]
    api.send("device_bulk_put", last.SerializeToString())
    _, r = api.answer(last.request_id)
    assert not r.HasField("error"), r.error
    assert r.bulk.committed and r.bulk.devices_created == 20
    assert db_count(daemon, count) == 20
    # but another last chunk for that batch is not taken for a redelivery
    e = api.fails("device_bulk_put", lambda q: chunk(q, 1, True, batch="stage-3"), pb.INVALID, "seq")
    assert "not known" in e.message


# ---------------------------------------------------------------- events ----

def test_live_events_match_the_engine(env):
    api, pb, daemon, broker = env["api"], env["pb"], env["daemon"], env["broker"]
    api.ok("network_put", lambda q: put_network(pb, q, "evnet", 0x123456, 7, mode=pb.UPSERT))
    uid, key = os.urandom(16), os.urandom(32)

    def device(q):
        d = q.device_put.device
        d.uid, d.network, d.method, d.factory_key_update, d.factory_key = uid, "evnet", 1, pb.SET, key
    api.ok("device_put", device)

    gw = EmulatedGateway(broker.port, "gw-api", network_address=0x123456)
    try:
        node = JoiningNode(uid, 1, key)
        src = 0x20001
        since = gw.count()
        gw.uplink(node.start(), source=src)
        dl = wait_for(lambda: gw.downlinks_to(src, since), 10, "the DATA")
        assert node.check(dl[0][1].payload)[0] == "data"
        gw.uplink(node.ack(), source=src)
        wait_for(lambda: [e for _, e in api.events_for(uid) if e.kind == pb.EVENT_ACK], 10, "the ACK event")
    finally:
        gw.close()

    got = api.events_for(uid)
    kinds = [e.kind for _, e in got]
    assert kinds == [pb.EVENT_START, pb.EVENT_DATA, pb.EVENT_ACK], kinds
    start, data, ack = (e for _, e in got)
    assert start.gateway == "gw-api" and start.sink == "sink0" and start.bearer == "mqtt"
    assert start.method == 1 and start.network == "evnet" and start.network_address == 0x123456
    assert start.source_address == src and start.attempt == 1 and start.copies >= 1
    assert data.result == "ok" and ack.result == "ok" and ack.time_usec >= start.time_usec > 0
    # never key material: not the factory key, not the network keys, in any event of any kind
    for raw, _ in api.events:
        for secret in (key, key[:16], key[16:], NET_ENC, NET_AUTH):
            assert secret not in raw

    # the same decisions, in the same order, in the audit log (as the API and as the file say)
    wait_for(lambda: len(daemon.events(uid=uid)) == 3, 10, "the audit rows")
    assert [e["_kind"] for e in daemon.events(uid=uid)] == ["start", "data", "ack"]
    h = api.ok("device_history", lambda q: setattr(q.device_history, "uid", uid))
    assert [e.kind for e in h.history.events] == [pb.EVENT_ACK, pb.EVENT_DATA, pb.EVENT_START]
    assert h.history.device.state == pb.DEVICE_PROVISIONED
    # paged: after_id = the last id of the previous page (newest first)
    pages, after = [], 0
    while True:
        def hist(q, after=after):
            q.device_history.uid, q.device_history.limit = uid, 1
            if after:
                q.device_history.after_id = after
        p = api.ok("device_history", hist).history
        pages.append([e.kind for e in p.events])
        if not p.more or len(pages) > 3:
            break
        after = p.events[-1].id
    assert pages == [[pb.EVENT_ACK], [pb.EVENT_DATA], [pb.EVENT_START]], pages
    api.fails("device_history", lambda q: (setattr(q.device_history, "uid", uid),
                                           setattr(q.device_history, "after_id", -1)), pb.INVALID, "after_id")

    def query(q):
        q.audit_query.uid = uid
        q.audit_query.kind = pb.EVENT_DATA
    a = api.ok("audit_query", query)
    assert [e.kind for e in a.events.events] == [pb.EVENT_DATA] and a.events.events[0].id > 0

    # an unknown UID: START and NACK with its reason
    stranger = JoiningNode(os.urandom(16), 1, os.urandom(32))
    gw = EmulatedGateway(broker.port, "gw-api2", network_address=0x123456)
    try:
        gw.uplink(stranger.start(), source=0x20002)
        nack = wait_for(lambda: [e for _, e in api.events_for(stranger.uid) if e.kind == pb.EVENT_NACK], 10,
                        "the NACK event")[0]
    finally:
        gw.close()
    assert nack.nack_reason == pb.NACK_NOT_AUTHORIZED and nack.result == "not_authorized"

    # the audit rows are written once per loop iteration, after the live events: wait for the NACK's
    def stats():
        s = api.ok("stats").stats
        return s if {c.name: c.count for c in s.by_kind}["nack"] >= 1 else None
    s = wait_for(stats, 10, "the NACK in the statistics")
    kinds = {c.name: c.count for c in s.by_kind}
    assert kinds["start"] >= 2 and kinds["ack"] >= 1 and kinds["nack"] >= 1
    reasons = {c.name: c.count for c in s.by_nack_reason}
    assert reasons["not_authorized"] >= 1
    routes = {(r.gateway, r.sink): r for r in s.by_route}
    assert routes[("gw-api", "sink0")].acks >= 1 and routes[("gw-api2", "sink0")].nacks >= 1
    assert s.counters.acks >= 1 and s.counters.sessions_max > 0


# ---------------------------------------------------------------- refusals ----

def test_malformed_and_oversized_requests(env):
    api, pb, daemon = env["api"], env["pb"], env["daemon"]
    before = db_count(daemon, "SELECT COUNT(*) FROM networks")

    # not protobuf: MALFORMED, without an id to echo
    n_anon = len(api.anonymous)
    api.send("network_put", b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01")
    topic, r = wait_for(lambda: api.anonymous[n_anon:], 10, "the MALFORMED answer")[0]
    assert topic.endswith("/response/network_put") and r.error.code == pb.MALFORMED

    # the body is another operation than the topic names: MALFORMED naming the body, id echoed
    req = pb.Request(request_id=api.next_id())
    req.status.SetInParent()
    api.send("network_delete", req.SerializeToString())
    _, r = api.answer(req.request_id)
    assert r.error.code == pb.MALFORMED and r.error.field == "body"

    # an operation that does not exist
    req = pb.Request(request_id=api.next_id())
    req.status.SetInParent()
    api.send("drop_everything", req.SerializeToString())
    topic, r = api.answer(req.request_id)
    assert topic.endswith("/response/drop_everything") and r.error.code == pb.UNSUPPORTED

    # more than MGMT_REQUEST_MAX (16 MiB): TOO_LARGE, answered with the id read from the front
    rid = api.next_id()
    head = pb.Request(request_id=rid).SerializeToString()
    api.send("device_bulk_put", head + b"\x00" * ((16 << 20) + 1 - len(head)))
    _, r = api.answer(rid, timeout=60)
    assert r.error.code == pb.TOO_LARGE

    # more bulk items than one request takes
    def many(q):
        for i in range(20001):
            q.device_bulk_put.devices.add(mode=pb.CREATE).device.uid = i.to_bytes(4, "big")
    api.fails("device_bulk_put", many, pb.TOO_LARGE, "devices", timeout=60)
    # a page too large, a string too long, a value out of range
    api.fails("device_list", lambda q: setattr(q.device_list, "limit", 1001), pb.TOO_LARGE, "limit")
    api.fails("network_put", lambda q: put_network(pb, q, "n" * 65), pb.TOO_LARGE, "network.name")
    api.fails("network_put", lambda q: put_network(pb, q, "chan", channel=41), pb.INVALID, "network.channel")
    api.fails("network_put", lambda q: put_network(pb, q, "addr", address=0xAAAAAA), pb.INVALID,
              "network.network_address")

    def short_key(q):
        put_network(pb, q, "keyed")
        q.network_put.network.enc_key = b"\x01" * 15
    api.fails("network_put", short_key, pb.INVALID, "network.enc_key")
    api.fails("audit_query", lambda q: (setattr(q.audit_query, "since_usec", 10),
                                        setattr(q.audit_query, "until_usec", 5)), pb.INVALID, "until_usec")

    # nothing changed, the daemon is still there and says what it refused
    assert db_count(daemon, "SELECT COUNT(*) FROM networks") == before
    assert daemon.alive()
    st = api.ok("status").status
    assert st.online and st.counters.api_errors >= 10


# ---------------------------------------------------------------- meshprovctl remote ----

def test_meshprovctl_remote_commands(env):
    daemon = env["daemon"]
    ctl_remote(env, "network", "add", "ctlnet", "--address", "0x3344AA", "--channel", "11", "--enc-key",
               NET_ENC.hex(), "--auth-key", NET_AUTH.hex())
    shown = json.loads(ctl_remote(env, "--json", "network", "show", "ctlnet").stdout)
    assert shown["channel"] == 11 and shown["encryption_key_fingerprint"].startswith("sha256:")
    # the same fingerprint as local mode computes from the key itself
    local = json.loads(daemon.ctl("--json", "network", "show", "ctlnet").stdout)
    assert local["encryption_key_fingerprint"] == shown["encryption_key_fingerprint"]

    uid, key = os.urandom(16).hex(), os.urandom(32).hex()
    ctl_remote(env, "device", "add", uid, "--network", "ctlnet", "--factory-key", "-", input=key + "\n")
    dev = json.loads(ctl_remote(env, "--json", "device", "show", uid).stdout)
    assert dev["network"] == "ctlnet" and dev["factory_key_fingerprint"] and key not in json.dumps(dev)
    ctl_remote(env, "device", "disable", uid)
    assert db_count(daemon, "SELECT enabled FROM devices WHERE uid = ?", bytes.fromhex(uid)) == 0
    lst = json.loads(ctl_remote(env, "--json", "device", "list", "--network", "ctlnet").stdout)
    assert [d["uid"] for d in lst] == [uid] and lst[0]["enabled"] is False

    bad = ctl_remote(env, "network", "add", "ctlbad", "--address", "1", "--channel", "55", "--generate-keys",
                     check=False)
    assert bad.returncode == 1 and "channel" in bad.stderr
    ex = ctl_remote(env, "export", "-", "--include-keys", check=False)
    assert ex.returncode == 1 and "never sends keys" in ex.stderr
    dk = ctl_remote(env, "vendor", "derive-key", "x", "0102", check=False)
    assert dk.returncode == 1

    status = json.loads(ctl_remote(env, "--json", "status").stdout)
    assert status["online"] and status["instance"] == INSTANCE and status["broker"]["connected"]
    stats = json.loads(ctl_remote(env, "--json", "stats").stdout)
    assert stats["devices"]["total"] >= 1 and "live" in stats and "by_route" in stats["events"]
    events = json.loads(ctl_remote(env, "--json", "events", "--limit", "5").stdout)
    assert isinstance(events, list)

    ctl_remote(env, "device", "remove", uid)
    assert db_count(daemon, "SELECT COUNT(*) FROM devices WHERE uid = ?", bytes.fromhex(uid)) == 0

    # a missing object is worded as in local mode
    for what in ("network", "vendor"):
        p = ctl_remote(env, what, "show", "nope", check=False)
        assert p.returncode == 1 and p.stderr.startswith(f"No {what} 'nope'"), p.stderr
        assert daemon.ctl(what, "show", "nope", check=False).stderr == p.stderr
    p = ctl_remote(env, "device", "add", os.urandom(8).hex(), "--network", "nope", "--factory-key", "-",
                   input=os.urandom(32).hex() + "\n", check=False)
    assert p.returncode == 1 and "There is no network 'nope'" in p.stderr, p.stderr

    # wrong instance: nobody answers, a clear error after the timeout
    p = subprocess.run([binary("meshprovctl"), "--mqtt", f"127.0.0.1:{env['broker'].port}", "--instance",
                        "nobody-here", "--timeout", "1s", "network", "list"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 1 and "No answer" in p.stderr


def test_meshprovctl_events_follow(env):
    api, pb, broker = env["api"], env["pb"], env["broker"]
    api.ok("network_put", lambda q: put_network(pb, q, "follownet", 0x123457, 7, mode=pb.UPSERT))
    p = subprocess.Popen([binary("meshprovctl"), "--mqtt", f"127.0.0.1:{broker.port}", "--instance", INSTANCE,
                          "--json", "events", "--follow", "--limit", "0", "--kind", "nack"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # it is subscribed once the daemon counts its connection's requests... wait for the broker instead:
        # keep sending STARTs of unknown nodes until a NACK line shows up
        gw = EmulatedGateway(broker.port, "gw-follow", network_address=0x123457)
        lines = []
        import threading
        t = threading.Thread(target=lambda: lines.append(p.stdout.readline()), daemon=True)
        t.start()
        deadline = time.monotonic() + 30
        uid = None
        while not lines and time.monotonic() < deadline:
            node = JoiningNode(os.urandom(16), 1, os.urandom(32))
            uid = node.uid
            gw.uplink(node.start(), source=0x30000 + int.from_bytes(os.urandom(2), "big"))
            t.join(0.5)
        gw.close()
        assert lines and lines[0], "events --follow printed the live NACK"
        ev = json.loads(lines[0])
        assert ev["kind"] == "nack" and ev["nack_reason"] == "not_authorized" and ev["gateway"] == "gw-follow"
        assert len(ev["uid"]) == 32
    finally:
        p.send_signal(signal.SIGINT)
        rc = p.wait(timeout=20)
    assert rc == 0, p.stderr.read()


def test_meshprovctl_events_follow_loses_nothing(env):
    """--follow while events keep coming: the log's last entries, then the live ones, with nothing lost in
    between (it subscribes before it reads the log) and nothing printed twice; live lines keep the bearer,
    the sink's network address and a START's copies and attempt."""
    broker, daemon = env["broker"], env["daemon"]
    gw = EmulatedGateway(broker.port, "gw-gap", network_address=0x123458)
    stop = threading.Event()
    sent = []

    def generate():
        while not stop.is_set():
            node = JoiningNode(os.urandom(16), 1, os.urandom(32))
            gw.uplink(node.start(), source=0x40000 + len(sent))
            sent.append(node.uid)
            stop.wait(0.002)  # pacing the load, not waiting for anything

    gen = threading.Thread(target=generate, daemon=True)
    gen.start()
    p = None
    lines = []
    try:
        wait_for(lambda: db_count(daemon, "SELECT COUNT(*) FROM audit_events WHERE gateway = 'gw-gap'") >= 20,
                 30, "events flowing into the log")
        p = subprocess.Popen([binary("meshprovctl"), "--mqtt", f"127.0.0.1:{broker.port}", "--instance",
                              INSTANCE, "--json", "events", "--follow", "--limit", "5"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        reader = threading.Thread(target=lambda: [lines.append(json.loads(x)) for x in p.stdout], daemon=True)
        reader.start()
        wait_for(lambda: sum(1 for e in lines if e["id"] == 0) >= 40, 60, "live events after the log")
        stop.set()
        gen.join(10)
        last = sent[-1].hex()
        wait_for(lambda: any(e["uid"] == last and e["kind"] == "nack" for e in lines), 30, "the last NACK")
    finally:
        stop.set()
        gw.close()
        if p:
            p.send_signal(signal.SIGINT)
            assert p.wait(timeout=20) == 0, p.stderr.read()

    logged = [e for e in lines if e["id"] != 0]
    assert len(logged) == 5 and logged == sorted(logged, key=lambda e: e["id"]), logged
    live = [e for e in lines if e["id"] == 0]
    assert lines[:5] == logged, "the log first, then the live events"
    printed = [(e["kind"], e["uid"], e["result"]) for e in lines]
    assert len(printed) == len(set(printed)), "an event printed twice"
    # every row from the first printed one to the last NACK, and nothing else
    first_id = logged[0]["id"]
    con = sqlite3.connect(f"file:{daemon.db}?mode=ro", uri=True, timeout=5)
    try:
        last_id = wait_for(lambda: con.execute("SELECT MAX(id) FROM audit_events WHERE uid = ? AND kind = 1",
                                               (bytes.fromhex(last),)).fetchone()[0], 10, "the last row")
        kinds = {0: "start", 1: "nack", 2: "data", 3: "ack", 4: "expired", 5: "send_failed", 6: "error"}
        rows = [(kinds[k], u.hex() if u else None, r) for k, u, r in con.execute(
            "SELECT kind, uid, result FROM audit_events WHERE id BETWEEN ? AND ? ORDER BY id", (first_id, last_id))]
    finally:
        con.close()
    assert set(printed) == set(rows), (set(rows) - set(printed), set(printed) - set(rows))
    starts = [e for e in live if e["kind"] == "start" and e["uid"] in {u.hex() for u in sent}]
    assert starts and all(e["bearer"] == "mqtt" and e["network_address"] == 0x123458 and e["attempt"] >= 1
                          and e["copies"] >= 1 and e["gateway"] == "gw-gap" for e in starts), starts[:2]


def test_meshprovctl_remote_import_10000(env):
    daemon = env["daemon"]
    d = env["dir"]
    lines = ["version: 1", "networks:", "    importnet:", "        address: 0x44AA55", "        channel: 21",
             "        authentication_key: " + " ".join(f"0x{b:02x}" for b in NET_AUTH),
             "        encryption_key: " + " ".join(f"0x{b:02x}" for b in NET_ENC), "nodes:"]
    uids = set()
    nodes = []
    for i in range(10000):
        uid = b"\xee" + i.to_bytes(3, "big") + os.urandom(8)
        uids.add(uid)
        node = [f"    node_{i}:", "        network: importnet", "        method: 1",
                "        uid: " + " ".join(f"0x{b:02x}" for b in uid),
                "        factory_key: " + " ".join(f"0x{b:02x}" for b in os.urandom(32))]
        if i == 0:
            node.append("        node_id: 77")
        nodes.append(node)
        lines += node
    path = os.path.join(d, "import10k.yml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")

    # a dry run, with standard error on a terminal: the progress display
    master, slave = pty.openpty()
    p = subprocess.Popen([binary("meshprovctl"), "--mqtt", f"127.0.0.1:{env['broker'].port}", "--instance",
                          INSTANCE, "--json", "import", path, "--dry-run"], stdout=subprocess.PIPE,
                         stderr=slave, text=True)
    os.close(slave)
    progress = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the other side is closed
            break
        if not chunk:
            break
        progress += chunk
    os.close(master)
    out, _ = p.communicate(timeout=170)
    assert p.returncode == 0, progress
    dry = json.loads(out)
    assert dry["dry_run"] and dry["devices_created"] == 10000
    assert b"Importing nodes: 5000/10000" in progress and b"Importing nodes: 10000/10000" in progress, progress
    assert b"Sent 10000 device(s) to meshprovd" in progress, progress
    assert db_count(daemon, "SELECT COUNT(*) FROM networks WHERE name = 'importnet'") == 0

    res = json.loads(ctl_remote(env, "--json", "import", path, timeout=170).stdout)
    assert res["devices_created"] == 10000 and res["networks_created"] == 1
    q = "SELECT COUNT(*) FROM devices WHERE network_id = (SELECT id FROM networks WHERE name = 'importnet')"
    assert db_count(daemon, q) == 10000
    n = int(json.loads(ctl_remote(env, "--json", "stats").stdout)["devices"]["total"])
    assert n >= 10000
    cnt = env["api"].ok("device_count", lambda r: setattr(r.device_count, "network", "importnet"))
    assert cnt.device_count.count == 10000
    got = {bytes.fromhex(x["uid"]) for x in json.loads(ctl_remote(env, "--json", "device", "list", "--network",
                                                                   "importnet", "--limit", "0").stdout)}
    assert got == uids

    # A file (two chunks: 1500 updates, then a new node) whose new node wants node_0's address: only the
    # database can tell, when the daemon applies the batch. Nothing of the file is applied; the node is named.
    bad_path = os.path.join(d, "import-bad.yml")
    lines2 = lines[:8] + [l.replace("node_", "again_") for node in nodes[1:1501] for l in node]
    lines2 += ["    clash:", "        network: importnet", "        method: 1", "        node_id: 77",
               "        uid: 0xab 0xcd", "        factory_key: " + " ".join(["0x11"] * 32)]
    with open(bad_path, "w") as f:
        f.write("\n".join(lines2) + "\n")
    p = ctl_remote(env, "import", bad_path, check=False, timeout=170)
    assert p.returncode == 1 and "nodes.clash" in p.stderr and "node_id" in p.stderr, p.stderr
    assert db_count(daemon, q) == 10000
    assert db_count(daemon, "SELECT COUNT(*) FROM devices WHERE uid = ?", bytes.fromhex("abcd")) == 0
    assert db_count(daemon, "SELECT COUNT(*) FROM devices WHERE label LIKE 'again_%'") == 0


# ---------------------------------------------------------------- status and will ----

def test_idle_connection_kept_alive_and_status_repeats():
    """Nothing to do for several keepalive periods: the daemon still pings the broker (no timeout
    disconnect, no reconnect) and keeps publishing its status on its interval."""
    d = workdir("api-idle")
    broker = Broker(d).start()
    daemon = Daemon(d, broker_port=broker.port,
                    extra_conf="[Mqtt]\nKeepAliveSec=5s\n[Api]\nEnabled=yes\nInstanceId=idle-site\n"
                               "StatusIntervalSec=1s\n")
    try:
        daemon.start()
        watcher = ApiClient(broker.port, "idle-site", name="idle-watcher")
        wait_for(lambda: watcher.last_status(), 10, "the first status")
        # 13 statuses at a 1 s interval: > 2.5 keepalive periods (the broker drops a silent client after 1.5)
        online = lambda: [s for _, s in watcher.status if s.online]  # noqa: E731
        wait_for(lambda: len(online()) >= 13, 40, "13 status updates (the status timer keeps firing)")
        log = open(broker.log).read()
        assert "exceeded timeout" not in log, "the broker dropped the idle daemon"
        assert daemon.read_log().count("Connected to MQTT broker") == 1
        ups = [s.uptime_usec for s in online()]
        assert ups == sorted(ups) and ups[-1] - ups[0] >= 2 * 5_000_000, "less than two keepalive periods"
        watcher.close()
    finally:
        daemon.stop()
        broker.stop()
        cleanup(d)


def test_status_retained_and_last_will():
    d = workdir("api-will")
    broker = Broker(d).start()
    daemon = Daemon(d, broker_port=broker.port, extra_conf="[Api]\nEnabled=yes\nInstanceId=will-site\n")
    try:
        daemon.start()
        watcher = ApiClient(broker.port, "will-site", name="watcher")
        pb = watcher.pb
        st = wait_for(lambda: watcher.last_status(), 10, "the online status")[1]
        assert st.online and st.instance == "will-site" and st.version and st.broker.connected
        watcher.close()

        # a client that connects later still gets the status: it is retained
        late = ApiClient(broker.port, "will-site", name="late")
        assert wait_for(lambda: late.last_status(), 10, "the retained status")[1].online
        late.close()

        daemon.proc.send_signal(signal.SIGKILL)
        daemon.proc.wait(10)
        daemon.proc = None
        late = ApiClient(broker.port, "will-site", name="after-kill")
        st = wait_for(lambda: (s := late.last_status()) and not s[1].online and s, 20, "the offline will")[1]
        assert st.instance == "will-site" and not st.HasField("counters")
        late.close()

        # meshprovctl status shows the will at once, exit status 3 (with a 10-minute answer timeout: waiting it
        # out would trip subprocess.run's deadline)
        base = [binary("meshprovctl"), "--mqtt", f"127.0.0.1:{broker.port}", "--instance", "will-site",
                "--timeout", "600s"]
        p = subprocess.run(base + ["--json", "status"], capture_output=True, text=True, timeout=60)
        assert p.returncode == 3, p.stderr
        js = json.loads(p.stdout)
        assert js["online"] is False and js["source"] == "retained" and js["last_will"] is True
        assert js["instance"] == "will-site" and js["version"] == st.version and js["time"] is None
        p = subprocess.run(base + ["status"], capture_output=True, text=True, timeout=60)
        assert p.returncode == 3, p.stderr
        assert "offline" in p.stdout and "last will" in p.stdout and st.version in p.stdout

        # back again: online; a clean stop says offline itself
        daemon.start()
        w = ApiClient(broker.port, "will-site", name="again")
        wait_for(lambda: (s := w.last_status()) and s[1].online, 10, "online again")
        assert daemon.stop() == 0
        wait_for(lambda: (s := w.last_status()) and not s[1].online, 10, "offline after a clean stop")
        w.close()
        p = subprocess.run(base + ["--json", "status"], capture_output=True, text=True, timeout=60)
        assert p.returncode == 3, p.stderr
        js = json.loads(p.stdout)
        assert js["online"] is False and js["last_will"] is False and js["time"]
        assert pb.Status  # (the classes were used above)
    finally:
        daemon.stop()
        broker.stop()
        cleanup(d)


def test_expired_and_send_failed_events_and_audit_queries():
    """A DATA never acknowledged expires (live EXPIRED event, "unconfirmed", and its audit row); a DATA the
    gateway refuses for good is SEND_FAILED; audit_query by time range, by result, and paged both ways."""
    d = workdir("api-expiry")
    broker = Broker(d).start()
    daemon = Daemon(d, broker_port=broker.port,
                    extra_conf=f"[Api]\nEnabled=yes\nInstanceId=exp-site\n[Provisioning]\nSessionTimeoutSec=1s\n")
    api = gw = None
    try:
        daemon.start()
        api = ApiClient(broker.port, "exp-site", name="expiry")
        pb = api.pb
        api.ok("network_put", lambda q: put_network(pb, q, "expnet", 0x5566AA, 9))
        nodes = [JoiningNode(os.urandom(16), 1, os.urandom(32)) for _ in range(2)]
        for n in nodes:
            def device(q, n=n):
                dv = q.device_put.device
                dv.uid, dv.network, dv.method, dv.factory_key_update, dv.factory_key = (n.uid, "expnet", 1,
                                                                                        pb.SET, n.factory_key)
            api.ok("device_put", device)
        gw = EmulatedGateway(broker.port, "gw-exp", network_address=0x5566AA)

        # 1. START answered with DATA, the ACK withheld: EXPIRED after SessionTimeoutSec=1s
        quiet = nodes[0]
        gw.uplink(quiet.start(), source=0x50001)
        wait_for(lambda: gw.downlinks_to(0x50001), 10, "the DATA")
        exp = wait_for(lambda: [e for _, e in api.events_for(quiet.uid) if e.kind == pb.EVENT_EXPIRED], 15,
                       "the EXPIRED event")[0]
        assert exp.result == "unconfirmed" and exp.uid == quiet.uid and exp.id == 0
        assert exp.gateway == "gw-exp" and exp.sink == "sink0" and exp.network == "expnet"
        rows = wait_for(lambda: daemon.events("expired", quiet.uid), 10, "the EXPIRED audit row")
        assert len(rows) == 1 and rows[0]["result"] == "unconfirmed" and rows[0]["gateway"] == "gw-exp"

        # 2. the gateway refuses the DATA for good (INVALID_DEST_ADDRESS is not retried): SEND_FAILED
        refused = nodes[1]
        gw.results.append(10)
        gw.uplink(refused.start(), source=0x50002)
        sf = wait_for(lambda: [e for _, e in api.events_for(refused.uid) if e.kind == pb.EVENT_SEND_FAILED], 15,
                      "the SEND_FAILED event")[0]
        assert sf.result == "send_failed" and sf.detail.startswith("DATA:") and sf.gateway == "gw-exp"
        wait_for(lambda: daemon.events("send_failed", refused.uid), 10, "the SEND_FAILED audit row")
        split = [e for _, e in api.events_for(refused.uid) if e.kind == pb.EVENT_START][0].time_usec

        # 3. audit_query: by result
        a = api.ok("audit_query", lambda q: setattr(q.audit_query, "result", "unconfirmed"))
        assert [(e.uid, e.kind) for e in a.events.events] == [(quiet.uid, pb.EVENT_EXPIRED)]
        a = api.ok("audit_query", lambda q: setattr(q.audit_query, "result", "send_failed"))
        assert [(e.uid, e.kind) for e in a.events.events] == [(refused.uid, pb.EVENT_SEND_FAILED)]
        # by time range: [split, ...) holds the second node's events only; [..., split) the first's START
        a = api.ok("audit_query", lambda q: setattr(q.audit_query, "since_usec", split))
        assert a.events.events and all(e.time_usec >= split for e in a.events.events)
        assert refused.uid in {e.uid for e in a.events.events}
        assert (quiet.uid, pb.EVENT_START) not in {(e.uid, e.kind) for e in a.events.events}
        a = api.ok("audit_query", lambda q: setattr(q.audit_query, "until_usec", split))
        assert a.events.events and all(e.time_usec < split for e in a.events.events)
        assert {e.uid for e in a.events.events} == {quiet.uid}
        def window(q):
            q.audit_query.since_usec, q.audit_query.until_usec = exp.time_usec, exp.time_usec + 1
        a = api.ok("audit_query", window)
        assert [(e.uid, e.kind) for e in a.events.events] == [(quiet.uid, pb.EVENT_EXPIRED)]

        # paging: pages of 2 with after_id and more, ascending and descending, give the whole log once
        every = [e.id for e in api.ok("audit_query").events.events]
        assert len(every) >= 6 and every == sorted(every) and len(set(every)) == len(every)
        for descending in (False, True):
            got, after = [], 0
            while True:
                def page(q, after=after):
                    q.audit_query.limit, q.audit_query.descending = 2, descending
                    if after:
                        q.audit_query.after_id = after
                r = api.ok("audit_query", page).events
                assert len(r.events) <= 2
                got += [e.id for e in r.events]
                if not r.more:
                    break
                assert len(r.events) == 2
                after = r.events[-1].id
            assert got == (sorted(every, reverse=True) if descending else every), (descending, got)
        # a page from the middle, newest first: only ids before after_id
        def middle(q):
            q.audit_query.descending, q.audit_query.after_id, q.audit_query.limit = True, every[3], 2
        r = api.ok("audit_query", middle).events
        assert [e.id for e in r.events] == [every[2], every[1]] and r.more
    finally:
        if gw:
            gw.close()
        if api:
            api.close()
        daemon.stop()
        broker.stop()
        cleanup(d)


# ---------------------------------------------------------------- broker ACL ----

def test_broker_acl_keeps_the_whitelist_safe():
    d = workdir("api-acl")
    pwfile = os.path.join(d, "passwd")
    users = {"meshprovd": "daemon-pw", "fleet-ops": "ops-pw", "monitor": "mon-pw"}
    for i, (u, pw) in enumerate(users.items()):
        subprocess.run(["mosquitto_passwd", "-b"] + (["-c"] if i == 0 else []) + [pwfile, u, pw], check=True,
                       capture_output=True)
    os.chmod(pwfile, 0o600)
    acl = os.path.join(SOURCE_DIR, "etc", "mosquitto-acl.example")  # the shipped example, as is
    broker = Broker(d, extra_conf=f"allow_anonymous false\npassword_file {pwfile}\nacl_file {acl}\n"
                                  "set_tcp_nodelay true\nmax_packet_size 67108864\n").start()
    daemon = Daemon(d, broker_port=broker.port,
                    extra_conf="[Mqtt]\nUsername=meshprovd\nPassword=daemon-pw\n"
                               "[Api]\nEnabled=yes\nInstanceId=acl-site\n")
    ops = mon = anon = None
    try:
        daemon.start()
        ops = ApiClient(broker.port, "acl-site", "fleet-ops", "ops-pw", name="ops")
        mon = ApiClient(broker.port, "acl-site", "monitor", "mon-pw", name="monitor")
        pb = ops.pb
        ops.ok("network_put", lambda q: put_network(pb, q, "aclnet"))

        # the monitor may read the status ...
        assert wait_for(lambda: mon.last_status(), 10, "the status for the monitor")[1].online
        # ... but its requests never reach the daemon: the broker drops them
        evil_uid = os.urandom(16)
        req = pb.Request(request_id="evil-1")
        d_ = req.device_put.device
        d_.uid, d_.network, d_.method, d_.factory_key_update, d_.factory_key = evil_uid, "aclnet", 1, pb.SET, \
            os.urandom(32)
        mon.send("device_put", req.SerializeToString())
        req2 = pb.Request(request_id="evil-2")
        req2.network_delete.name = "aclnet"
        mon.send("network_delete", req2.SerializeToString())
        # fleet-ops' request sent afterwards is answered: the daemon has read everything the broker passed
        ops.ok("device_count", lambda q: setattr(q.device_count, "network", "aclnet"))
        assert db_count(daemon, "SELECT COUNT(*) FROM devices WHERE uid = ?", evil_uid) == 0
        assert db_count(daemon, "SELECT COUNT(*) FROM networks WHERE name = 'aclnet'") == 1
        with ops.lock, mon.lock:
            assert "evil-1" not in ops.responses and "evil-1" not in mon.responses
        # the daemon answered exactly fleet-ops' two requests before this one (counted once answered): the
        # monitor's never arrived, not even as errors
        st = ops.ok("status").status
        assert st.counters.api_requests == 2 and st.counters.api_errors == 0 and st.counters.api_dropped == 0

        # without credentials: no connection at all
        anon = ApiClient(broker.port, "acl-site", name="anon")
        assert anon.refused.is_set()

        # meshprovctl with the fleet manager's credentials (password from a file) works; with the
        # monitor's its request is dropped and it times out, changing nothing
        pw = os.path.join(d, "ops.pw")
        with open(pw, "w") as f:
            f.write("ops-pw\n")
        base = [binary("meshprovctl"), "--mqtt", f"127.0.0.1:{broker.port}", "--instance", "acl-site"]
        uid = os.urandom(8).hex()
        subprocess.run(base + ["--username", "fleet-ops", "--password", f"@{pw}", "device", "add", uid,
                               "--network", "aclnet", "--factory-key", os.urandom(32).hex()],
                       check=True, capture_output=True, timeout=60)
        assert db_count(daemon, "SELECT COUNT(*) FROM devices WHERE uid = ?", bytes.fromhex(uid)) == 1
        p = subprocess.run(base + ["--username", "monitor", "--password", "mon-pw", "--timeout", "2s", "device",
                                   "remove", uid], capture_output=True, text=True, timeout=60)
        assert p.returncode == 1 and "No answer" in p.stderr
        assert db_count(daemon, "SELECT COUNT(*) FROM devices WHERE uid = ?", bytes.fromhex(uid)) == 1
    finally:
        for c in (ops, mon, anon):
            if c:
                c.close()
        rc = daemon.stop()
        broker.stop()
        cleanup(d)
    assert rc == 0
