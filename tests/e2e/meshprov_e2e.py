"""End-to-end test harness for meshprov.

Real parts only: a mosquitto broker on 127.0.0.1 on a free port, the built meshprovd and meshprovctl, a
real SQLite file in a temporary directory. The joining-node side (START, DATA check, DATA_ACK) is an
independent implementation in Python (pycryptodome, cbor2) of the facts in the protocol notes, so that a
mistake shared by our C codec and C crypto cannot hide itself. The gateway side speaks protobuf through
Python classes that protoc generates from our .proto files at test time.

Conditions are awaited with deadlines (wait_for); nothing sleeps "to let things settle".
"""

import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time

import cbor2
from Cryptodome.Cipher import AES
from Cryptodome.Hash import CMAC

BUILD_DIR = os.environ.get("MESHPROV_BUILD_DIR") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build")
SOURCE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def binary(name):
    for sub in ("src/daemon", "src/ctl", "tests/sim", ""):
        p = os.path.join(BUILD_DIR, sub, name)
        if os.path.exists(p):
            return os.path.abspath(p)
    raise FileNotFoundError(f"{name} not built in {BUILD_DIR}")


def wait_for(cond, timeout=20.0, what="condition", interval=0.02):
    """Polls cond() until it returns a true value; fails the test with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- broker ----

class Broker:
    """A private mosquitto on 127.0.0.1."""

    def __init__(self, workdir, port=None, extra_conf=""):
        self.workdir = workdir
        self.port = port or free_port()
        self.extra_conf = extra_conf
        self.proc = None
        self.log = os.path.join(workdir, f"mosquitto-{self.port}.log")

    def start(self):
        conf = os.path.join(self.workdir, f"mosquitto-{self.port}.conf")
        with open(conf, "w") as f:
            f.write(f"listener {self.port} 127.0.0.1\n")
            f.write("persistence false\n")
            f.write("set_tcp_nodelay true\n")  # as etc/mosquitto-meshprov.conf.example recommends
            if os.geteuid() == 0:
                f.write("user root\n")  # else mosquitto drops to its own user and can't read our 0700 files
            if "allow_anonymous" not in self.extra_conf:
                f.write("allow_anonymous true\n")
            f.write(self.extra_conf)
        self.proc = subprocess.Popen(["mosquitto", "-c", conf], stdout=open(self.log, "a"),
                                     stderr=subprocess.STDOUT)
        wait_for(self._accepts, 10, f"mosquitto to listen on {self.port}")
        return self

    def _accepts(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"mosquitto exited: {open(self.log).read()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None


# ---------------------------------------------------------------- protobuf ----

_pb = None


def gwapi_pb():
    """Compiles proto/*.proto with protoc into Python classes (once per process)."""
    global _pb
    if _pb:
        return _pb
    out = tempfile.mkdtemp(prefix="meshprov-pb-")
    protos = sorted(f for f in os.listdir(os.path.join(SOURCE_DIR, "proto")) if f.endswith(".proto"))
    subprocess.run(["protoc", f"--proto_path={os.path.join(SOURCE_DIR, 'proto')}", f"--python_out={out}"]
                   + protos, check=True)
    sys.path.insert(0, out)
    import importlib
    mods = {}
    for p in protos:
        mods[p[:-6]] = importlib.import_module(p[:-6].replace("-", "_") + "_pb2")
    _pb = mods
    return mods


def generic_message_class():
    for m in gwapi_pb().values():
        if hasattr(m, "GenericMessage"):
            return m
    raise RuntimeError("no GenericMessage in proto/")


# ---------------------------------------------------------------- node side ----

def le128_add(iv, n):
    return ((int.from_bytes(iv, "little") + n) % (1 << 128)).to_bytes(16, "little")


def ctr_le(key, iv, counter, data):
    ecb = AES.new(key, AES.MODE_ECB)
    out = bytearray()
    block = le128_add(iv, counter)
    for i in range(0, len(data), 16):
        ks = ecb.encrypt(block)
        chunk = data[i:i + 16]
        out += bytes(a ^ b for a, b in zip(chunk, ks))
        block = le128_add(block, 1)
    return bytes(out)


class NodeRejected(Exception):
    pass


class JoiningNode:
    """A joining node as the firmware behaves (ref-provisioning §10-§13), on the backend side of the air."""

    def __init__(self, uid, method=1, factory_key=None, address=0x00C0FFEE, session_id=None, iv=None):
        self.uid = bytes(uid)
        self.method = method
        self.factory_key = factory_key
        self.address = address
        self.session_id = random.randrange(256) if session_id is None else session_id
        self.iv = iv if iv is not None else (os.urandom(16) if method != 0 else bytes(16))

    def start(self):
        return bytes([1]) + struct.pack("<I", self.address) + bytes([self.session_id, self.method]) \
            + self.iv + self.uid

    def ack(self):
        return bytes([3]) + struct.pack("<I", self.address) + bytes([self.session_id])

    def check(self, packet, pdu_max=102):
        """Returns ('data', params) or ('nack', reason); raises NodeRejected for what the node would drop."""
        packet = packet[:pdu_max]  # the node copies at most its buffer size
        if len(packet) < 6:
            raise NodeRejected("short")
        if packet[5] != self.session_id:
            raise NodeRejected("session id")
        if packet[0] == 4:
            if len(packet) != 7:
                raise NodeRejected("nack size")
            return ("nack", packet[6])
        if packet[0] != 2 or len(packet) < 9:
            raise NodeRejected("type")
        if packet[1:5] != struct.pack("<I", self.address):
            raise NodeRejected("address")  # not checked by the firmware, but we never want it wrong
        key_index = packet[6]
        counter = struct.unpack("<H", packet[7:9])[0]
        body = packet[9:]
        if self.method == 0:
            if key_index != 0:
                raise NodeRejected("key index for unsecured")
            plain = body
        else:
            if key_index != 1:
                raise NodeRejected("key index for secured")
            auth, enc = self.factory_key[:16], self.factory_key[16:]
            dec = ctr_le(enc, self.iv, counter, body)
            plain, mic = dec[:-5], dec[-5:]
            c = CMAC.new(auth, ciphermod=AES)
            c.update(packet[:9] + plain)
            if c.digest()[:5] != mic:
                raise NodeRejected("MIC")
        return ("data", decode_params(plain), counter)


ROLES = {0x00, 0x10, 0x01, 0x11, 0x02, 0x12, 0x42, 0x52, 0x04}


def decode_params(plain):
    """The node's CBOR rules (ref-provisioning §11)."""
    try:
        m = cbor2.loads(plain)
    except Exception as e:  # cbor2 refuses trailing bytes too; our encoder never produces them
        raise NodeRejected(f"cbor: {e}")
    if not isinstance(m, dict):
        raise NodeRejected("not a map")
    for k, v in m.items():
        if not isinstance(k, int) or k < 0 or (6 <= k <= 127) or k > 255:
            raise NodeRejected(f"key {k!r}")
        if k in (0, 1) and not (isinstance(v, bytes) and len(v) == 16):
            raise NodeRejected(f"key {k} value")
        if k in (2, 3, 4) and not (isinstance(v, int) and not isinstance(v, bool) and v >= 0):
            raise NodeRejected(f"id {k} not uint")
        if k == 5 and not (isinstance(v, bytes) and len(v) == 1 and v[0] in ROLES):
            raise NodeRejected("role")
        if k >= 128 and not isinstance(v, (int, bytes, str, bool, float)):
            raise NodeRejected(f"user {k}")
    for k in (0, 1, 2, 3):
        if k not in m:
            raise NodeRejected(f"missing {k}")
    if not (1 <= m[2] <= 0xFFFFFE) or not (1 <= m[3] <= 255):
        raise NodeRejected("network address/channel range")
    return m


# ---------------------------------------------------------------- gateway side ----

class EmulatedGateway:
    """Publishes received_data like a Wirepas gateway and answers send_data requests."""

    def __init__(self, broker_port, gw_id, sink_id="sink0", network_address=0x123456,
                 results=None, username=None, password=None):
        import paho.mqtt.client as mqtt
        self.gw_id = gw_id
        self.sink_id = sink_id
        self.network_address = network_address
        self.pb = generic_message_class()
        self.downlinks = []          # (sink, SendPacketReq) in arrival order
        self.results = results or []  # error codes to answer with, consumed one per request; then OK
        self.lock = threading.Lock()
        self.client = mqtt.Client(client_id=f"test-gw-{gw_id}-{os.getpid()}", clean_session=True)
        self.client.on_message = self._on_message
        if username:
            self.client.username_pw_set(username, password)
        self.connected = threading.Event()
        self.client.on_connect = lambda c, u, f, rc: (c.subscribe(f"gw-request/send_data/{gw_id}/+", 1),
                                                      self.connected.set())
        self.client.connect("127.0.0.1", broker_port, keepalive=20)
        self.client.loop_start()
        wait_for(self.connected.is_set, 10, f"test gateway {gw_id} to connect")
        # The subscription must be in place before anything is answered.
        time_ok = self.client.publish(f"test/ping/{gw_id}", b"x", qos=1)
        time_ok.wait_for_publish()

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()

    def _on_message(self, client, userdata, msg):
        parts = msg.topic.split("/")
        gm = self.pb.GenericMessage()
        gm.ParseFromString(msg.payload)
        req = gm.wirepas.send_packet_req
        with self.lock:
            self.downlinks.append((parts[3], req))
            res = self.results.pop(0) if self.results else 0
        resp = self.pb.GenericMessage()
        h = resp.wirepas.send_packet_resp.header
        h.req_id = req.header.req_id
        h.gw_id = self.gw_id
        h.sink_id = parts[3]
        h.res = res
        h.time_ms_epoch = int(time.time() * 1000)
        client.publish(f"gw-response/send_data/{self.gw_id}/{parts[3]}", resp.SerializeToString(), qos=1)

    def uplink(self, payload, source=0x12345, travel_ms=100, src_ep=246, dst_ep=255, event_id=None,
               sink_id=None, raw=None, topic=None):
        sink = sink_id or self.sink_id
        t = topic or (f"gw-event/received_data/{self.gw_id}/{sink}/{self.network_address}/{src_ep}/{dst_ep}")
        if raw is not None:
            self.client.publish(t, raw, qos=1).wait_for_publish()
            return
        gm = self.pb.GenericMessage()
        ev = gm.wirepas.packet_received_event
        ev.header.gw_id = self.gw_id
        ev.header.sink_id = sink
        ev.header.event_id = event_id if event_id is not None else random.getrandbits(64)
        ev.header.time_ms_epoch = int(time.time() * 1000)
        ev.source_address = source
        ev.destination_address = 1
        ev.source_endpoint = src_ep
        ev.destination_endpoint = dst_ep
        ev.travel_time_ms = travel_ms
        ev.rx_time_ms_epoch = int(time.time() * 1000)
        ev.qos = 1
        ev.payload = payload
        ev.hop_count = 1
        ev.network_address = self.network_address
        self.client.publish(t, gm.SerializeToString(), qos=1).wait_for_publish()

    def downlinks_to(self, address, since=0):
        with self.lock:
            return [(s, r) for (s, r) in self.downlinks[since:] if r.destination_address == address]

    def count(self):
        with self.lock:
            return len(self.downlinks)


# ---------------------------------------------------------------- daemon ----

class Daemon:
    """meshprovd with a private config, database and master key in `workdir`."""

    def __init__(self, workdir, broker_port=None, extra_conf="", env=None):
        self.workdir = workdir
        self.db = os.path.join(workdir, "meshprov.db")
        self.conf = os.path.join(workdir, "meshprovd.conf")
        self.log = os.path.join(workdir, "meshprovd.log")
        self.broker_port = broker_port
        self.extra_conf = extra_conf
        self.env = dict(os.environ)
        self.env.pop("JOURNAL_STREAM", None)
        self.env.update(env or {})
        self.proc = None

    def write_conf(self):
        with open(self.conf, "w") as f:
            f.write(f"[Store]\nDatabase={self.db}\n")
            f.write("[Provisioning]\nRouteWindowSec=150ms\nDuplicateHoldSec=2s\n")
            if self.broker_port:
                f.write(f"[Mqtt]\nHost=127.0.0.1\nPort={self.broker_port}\nTLS=no\n"
                        "ReconnectMinSec=200ms\nReconnectMaxSec=1s\nSendTimeoutSec=3s\n")
            f.write("[Log]\nLevel=debug\n")
            f.write(self.extra_conf)

    def ctl(self, *args, check=True, input=None):
        p = subprocess.run([binary("meshprovctl"), "--db", self.db, *args], capture_output=True, text=True,
                           env=self.env, input=input)
        if check and p.returncode != 0:
            raise AssertionError(f"meshprovctl {' '.join(args)} failed ({p.returncode}): {p.stderr}")
        return p

    def start(self, wait_ready=True):
        self.write_conf()
        self.proc = subprocess.Popen([binary("meshprovd"), "--config", self.conf],
                                     stdout=open(self.log, "a"), stderr=subprocess.STDOUT, env=self.env)
        if wait_ready and self.broker_port:
            wait_for(lambda: self.alive() and "Connected to MQTT broker" in self.read_log(), 15,
                     "meshprovd to connect to the broker")
        return self

    def alive(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"meshprovd exited with {self.proc.returncode}:\n{self.read_log()[-3000:]}")
        return True

    def read_log(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("meshprovd did not exit on SIGTERM")
        rc = self.proc.returncode if self.proc else 0
        self.proc = None
        return rc

    def events(self, kind=None, uid=None):
        """Audit rows straight from the database file (read-only, while the daemon runs)."""
        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5)
        try:
            con.row_factory = sqlite3.Row
            table = _audit_table(con)
            rows = [dict(r) for r in con.execute(f"SELECT * FROM {table} ORDER BY id")]
        finally:
            con.close()
        out = []
        for r in rows:
            k = _row_kind(r)
            if kind and k != kind:
                continue
            if uid is not None and _row_uid(r) != uid:
                continue
            r["_kind"] = k
            out.append(r)
        return out


def _audit_table(con):
    names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    for n in names:
        if "audit" in n or n == "events":
            return n
    raise AssertionError(f"no audit table in {names}")


_KINDS = ["start", "nack", "data", "ack", "expired", "send_failed", "error"]


def _row_kind(r):
    k = r.get("kind")
    if isinstance(k, int):
        return _KINDS[k] if 0 <= k < len(_KINDS) else str(k)
    return k


def _row_uid(r):
    u = r.get("uid")
    if isinstance(u, str):
        return bytes.fromhex(u)
    return u


def workdir(name):
    d = tempfile.mkdtemp(prefix=f"meshprov-e2e-{name}-")
    return d


def cleanup(d):
    if os.environ.get("MESHPROV_KEEP_TMP"):
        print(f"kept {d}", file=sys.stderr)
        return
    shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------- sink simulator ----

class SinkSim:
    """meshprov-sinksim: a sink on a pty behind the symlink `link` in `workdir`, with emulated joining nodes.

    The same arguments (seed, nodes, mix) give the same nodes, so `whitelist()` (the YAML the daemon should
    import) and `start()` agree. The summary JSON is read after the simulator exits."""

    def __init__(self, workdir, name="sink0", nodes=100, mix="whitelisted=1", seed=1, node_timeout="1s",
                 retries=3, ramp="2s", faults=None, baud=None, network_name=None, network_address=None,
                 channel=None, allow_unsecured=False, five_g=False, extra=()):
        self.workdir = workdir
        self.name = name
        self.link = os.path.join(workdir, f"tty-{name}")
        self.json = os.path.join(workdir, f"sim-{name}.json")
        self.yaml = os.path.join(workdir, f"whitelist-{name}.yaml")
        self.log = os.path.join(workdir, f"sim-{name}.log")
        self.common = ["--nodes", str(nodes), "--mix", mix, "--seed", str(seed)]
        if network_name:
            self.common += ["--network-name", network_name]
        if network_address is not None:
            self.common += ["--network-address", hex(network_address)]
        if channel is not None:
            self.common += ["--channel", str(channel)]
        self.allow_unsecured = allow_unsecured
        if allow_unsecured:
            self.common += ["--allow-unsecured"]
        if five_g:
            self.common += ["--5g"]
        self.run_args = ["--node-timeout", node_timeout, "--retries", str(retries), "--ramp", ramp,
                         "--summary-json", self.json, "--linger", "3s", *extra]
        if faults:
            self.run_args += ["--faults", faults]
        if baud:
            self.run_args += ["--baud", str(baud)]
        self.proc = None

    def whitelist(self):
        subprocess.run([binary("meshprov-sinksim"), *self.common, "--whitelist-yaml", self.yaml,
                        "--whitelist-only"], check=True, capture_output=True)
        return self.yaml

    def start(self):
        self.proc = subprocess.Popen([binary("meshprov-sinksim"), "--link", self.link, *self.common,
                                      *self.run_args], stdout=open(self.log, "w"), stderr=subprocess.STDOUT)
        wait_for(lambda: self._alive() and os.path.islink(self.link), 10, f"the simulator's link {self.link}")
        return self

    def _alive(self):
        if self.proc.poll() is not None and not os.path.exists(self.json):
            raise AssertionError(f"meshprov-sinksim exited with {self.proc.returncode}:\n{self.read_log()}")
        return True

    def read_log(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def unplug(self):
        """The UART disappears now (the pty closes, the link goes) and comes back after the replug time."""
        self.proc.send_signal(signal.SIGUSR1)

    def finished(self):
        return self.proc.poll() is not None

    def wait(self, timeout):
        wait_for(self.finished, timeout, f"simulator {self.name} to finish", interval=0.1)
        return self.proc.returncode

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def summary(self):
        if not os.path.exists(self.json):
            raise AssertionError(f"meshprov-sinksim {self.name} wrote no summary (exit status "
                                 f"{self.proc.poll()}):\n{self.read_log()[-3000:]}")
        with open(self.json) as f:
            return json.load(f)

    def conf(self, **keys):
        """A [Sink] section for meshprovd pointing at this simulator."""
        s = f"[Sink]\nName={self.name}\nDevice={self.link}\n"
        for k, v in keys.items():
            s += f"{k}={v}\n"
        return s


# ---------------------------------------------------------------- management API ----

def mgmt_pb():
    """The Python classes of proto/mgmt.proto (compiled with the others by gwapi_pb())."""
    return gwapi_pb()["mgmt"]


class ApiClient:
    """A fleet manager on the management API: requests with ids, answers matched by id, live events and the
    retained status as they arrive. Conditions are awaited with wait_for()."""

    def __init__(self, broker_port, instance, username=None, password=None, name="fleet"):
        import paho.mqtt.client as mqtt
        self.pb = mgmt_pb()
        self.instance = instance
        self.prefix = f"meshprov/v1/{instance}/"
        self.lock = threading.Lock()
        self.responses = {}      # request_id -> (topic, Response)
        self.anonymous = []      # (topic, Response) answers without a request id
        self.events = []         # (raw bytes, Event)
        self.status = []         # (raw bytes, Status), retained first
        self.seq = 0
        self.refused = threading.Event()
        self.subscribed = threading.Event()
        self.client = mqtt.Client(client_id=f"test-{name}-{os.getpid()}-{random.getrandbits(32):08x}",
                                  clean_session=True)
        if username:
            self.client.username_pw_set(username, password)
        self.client.on_message = self._on_message
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda c, u, mid, granted: self.subscribed.set()
        self.client.connect("127.0.0.1", broker_port, keepalive=30)
        self.client.loop_start()
        wait_for(lambda: self.subscribed.is_set() or self.refused.is_set(), 10, f"API client {name} to connect")

    def _on_connect(self, client, userdata, flags, rc):
        if rc != 0:
            self.refused.set()
            return
        client.subscribe([(self.prefix + "response/+", 1), (self.prefix + "event/#", 1),
                          (self.prefix + "status", 1)])

    def _on_message(self, client, userdata, msg):
        rest = msg.topic[len(self.prefix):]
        with self.lock:
            if rest.startswith("response/"):
                r = self.pb.Response()
                r.ParseFromString(msg.payload)
                if r.request_id:
                    self.responses[r.request_id] = (msg.topic, r)
                else:
                    self.anonymous.append((msg.topic, r))
            elif rest.startswith("event/"):
                e = self.pb.Event()
                e.ParseFromString(msg.payload)
                self.events.append((bytes(msg.payload), e))
            elif rest == "status":
                s = self.pb.Status()
                s.ParseFromString(msg.payload)
                self.status.append((bytes(msg.payload), s))

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()

    def next_id(self):
        self.seq += 1
        return f"t{os.getpid()}-{self.seq}"

    def send(self, op, payload, qos=1):
        self.client.publish(self.prefix + "request/" + op, payload, qos=qos).wait_for_publish()

    def answer(self, request_id, timeout=20):
        def get():
            with self.lock:
                return self.responses.get(request_id)
        return wait_for(get, timeout, f"the answer to {request_id}")

    def call(self, op, fill=None, timeout=20, request=None):
        """Sends a Request for op (fill(request) sets its body) and returns (topic, Response)."""
        req = request or self.pb.Request()
        if not req.request_id:
            req.request_id = self.next_id()
        if fill:
            fill(req)
        if not req.HasField("body"):
            getattr(req, op).SetInParent()
        self.send(op, req.SerializeToString())
        return self.answer(req.request_id, timeout)

    def ok(self, op, fill=None, timeout=20):
        topic, r = self.call(op, fill, timeout)
        assert topic == self.prefix + "response/" + op, topic
        assert not r.HasField("error"), f"{op}: {r.error}"
        return r

    def fails(self, op, fill=None, code=None, field=None, timeout=20):
        _, r = self.call(op, fill, timeout)
        assert r.HasField("error"), f"{op} should fail: {r}"
        if code is not None:
            assert r.error.code == code, f"{op}: {r.error}"
        if field is not None:
            assert r.error.field == field, f"{op}: {r.error}"
        assert r.error.message, r.error
        return r.error

    def events_for(self, uid):
        with self.lock:
            return [(raw, e) for raw, e in self.events if e.uid == uid]

    def last_status(self):
        with self.lock:
            return self.status[-1] if self.status else None
