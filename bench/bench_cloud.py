#!/usr/bin/python3
"""Cloud-mode benchmark: meshprovd answering STARTs from emulated gateways through a real mosquitto.

Measures, for N whitelisted secured devices:
  - latency: a START published at a steady rate -> its DATA arriving on gw-request/send_data (p50/p90/p99),
    with RouteWindowSec=0 (raw path) and with the default 200 ms window;
  - throughput: every START published as fast as the client can, until every DATA has arrived;
  - the daemon's resident memory before and after.
The client is Python (paho), so at the top end it measures the client as much as the daemon; the numbers in
docs/performance.md say which. Nothing is asserted.

    bench/bench_cloud.py --build-dir build [--devices 5000] [--rate 200]
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "e2e"))
import meshprov_e2e as h  # noqa: E402


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def write_yaml(path, devices, key):
    with open(path, "w") as f:
        f.write("version: 1\nnetworks:\n  bench:\n    address: 0x123456\n    channel: 7\n")
        f.write(f"    authentication_key: 0x{os.urandom(16).hex()}\n    encryption_key: 0x{os.urandom(16).hex()}\n")
        f.write("nodes:\n")
        for i, uid in enumerate(devices):
            f.write(f"  n{i}:\n    network: bench\n    method: 1\n    uid: 0x{uid.hex()}\n"
                    f"    factory_key: 0x{key.hex()}\n")


class Gateway:
    def __init__(self, port, gw_id):
        import paho.mqtt.client as mqtt
        self.gw_id = gw_id
        self.pb = h.generic_message_class()
        self.arrivals = {}
        self.cond = threading.Condition()
        self.c = mqtt.Client(client_id=f"bench-{gw_id}-{os.getpid()}")
        self.c.max_inflight_messages_set(1000)
        self.c.max_queued_messages_set(0)
        ok = threading.Event()
        self.c.on_connect = lambda c, u, fl, rc: (c.subscribe(f"gw-request/send_data/{gw_id}/+", 1), ok.set())
        self.c.on_message = self._on_message
        self.c.connect("127.0.0.1", port, 60)
        self.c.loop_start()
        ok.wait(10)
        self.c.publish("bench/ping", b"", 1).wait_for_publish()

    def _on_message(self, c, u, msg):
        t = time.monotonic()
        gm = self.pb.GenericMessage()
        gm.ParseFromString(msg.payload)
        req = gm.wirepas.send_packet_req
        with self.cond:
            self.arrivals.setdefault(req.destination_address, t)
            self.cond.notify_all()
        resp = self.pb.GenericMessage()
        hd = resp.wirepas.send_packet_resp.header
        hd.req_id = req.header.req_id
        hd.gw_id = self.gw_id
        hd.res = 0
        c.publish(msg.topic.replace("gw-request", "gw-response"), resp.SerializeToString(), 1)

    def start_packet(self, payload, source):
        gm = self.pb.GenericMessage()
        ev = gm.wirepas.packet_received_event
        ev.header.gw_id = self.gw_id
        ev.header.sink_id = "sink0"
        ev.header.event_id = random.getrandbits(64)
        ev.source_address = source
        ev.destination_address = 1
        ev.source_endpoint = 246
        ev.destination_endpoint = 255
        ev.travel_time_ms = 100
        ev.rx_time_ms_epoch = int(time.time() * 1000)
        ev.qos = 1
        ev.payload = payload
        return gm.SerializeToString()

    def publish(self, raw):
        self.c.publish(f"gw-event/received_data/{self.gw_id}/sink0/{0x123456}/246/255", raw, 1)

    def wait_count(self, n, timeout):
        end = time.monotonic() + timeout
        with self.cond:
            while len(self.arrivals) < n and time.monotonic() < end:
                self.cond.wait(0.5)
            return len(self.arrivals)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))]


def run(build, n_devices, rate, window):
    wd = h.workdir("bench")
    broker = h.Broker(wd, extra_conf=os.environ.get("BENCH_BROKER_CONF", "")).start()
    d = h.Daemon(wd, broker_port=broker.port)
    d.extra_conf = f"[Provisioning]\nRouteWindowSec={window}\n[Log]\nLevel=info\n"
    key = os.urandom(32)
    devices = [os.urandom(16) for _ in range(n_devices)]
    yaml = os.path.join(wd, "devices.yml")
    write_yaml(yaml, devices, key)
    t0 = time.monotonic()
    d.ctl("import", yaml)
    import_s = time.monotonic() - t0
    d.start()
    gw = Gateway(broker.port, "gw-bench")
    rss0 = rss_kib(d.proc.pid)

    # latency at a steady rate, on the first half of the devices
    half = n_devices // 2
    sent = {}
    period = 1.0 / rate
    nxt = time.monotonic()
    for i in range(half):
        node = h.JoiningNode(devices[i], 1, key)
        raw = gw.start_packet(node.start(), 0x100000 + i)
        delay = nxt - time.monotonic()
        if delay > 0:
            time.sleep(delay)  # not a busy wait: paho's network thread needs the GIL
        sent[0x100000 + i] = time.monotonic()
        gw.publish(raw)
        nxt += period
    got = gw.wait_count(half, 60)
    lat = [1000 * (gw.arrivals[a] - t) for a, t in sent.items() if a in gw.arrivals]

    # throughput: the other half, as fast as possible
    raws = [gw.start_packet(h.JoiningNode(devices[i], 1, key).start(), 0x100000 + i) for i in range(half, n_devices)]
    t0 = time.monotonic()
    for raw in raws:
        gw.publish(raw)
    t_pub = time.monotonic() - t0
    got2 = gw.wait_count(n_devices, 120)
    t_all = max(gw.arrivals.values()) - t0
    rss1 = rss_kib(d.proc.pid)

    d.stop()
    broker.stop()
    h.cleanup(wd)
    return {
        "window": window, "devices": n_devices, "import_s": import_s, "rate": rate,
        "answered_steady": got, "p50": pct(lat, 50), "p90": pct(lat, 90), "p99": pct(lat, 99),
        "max": max(lat), "burst": n_devices - half, "answered_burst": got2 - got,
        "burst_publish_s": t_pub, "burst_s": t_all, "rss0": rss0, "rss1": rss1,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default="build")
    ap.add_argument("--devices", type=int, default=5000)
    ap.add_argument("--rate", type=int, default=200)
    ap.add_argument("--broker-conf", default="",
                    help='extra mosquitto.conf lines, e.g. "max_inflight_messages 0" (default: broker defaults)')
    a = ap.parse_args()
    os.environ["BENCH_BROKER_CONF"] = a.broker_conf.replace("\\n", "\n") + ("\n" if a.broker_conf else "")
    os.environ["MESHPROV_BUILD_DIR"] = os.path.abspath(a.build_dir)
    h.BUILD_DIR = os.environ["MESHPROV_BUILD_DIR"]
    for window in ("0", "200ms"):
        r = run(a.build_dir, a.devices, a.rate, window)
        print(f"cloud (RouteWindowSec={r['window']}, broker: {a.broker_conf or 'defaults'}): {r['devices']} devices "
              f"imported in {r['import_s']:.1f} s")
        print(f"  steady {r['rate']}/s: {r['answered_steady']} answered; START->DATA latency p50 "
              f"{r['p50']:.1f} ms, p90 {r['p90']:.1f} ms, p99 {r['p99']:.1f} ms, max {r['max']:.1f} ms")
        print(f"  burst: {r['answered_burst']}/{r['burst']} answered in {r['burst_s']:.2f} s "
              f"({r['answered_burst'] / r['burst_s']:.0f}/s; the client needed {r['burst_publish_s']:.2f} s "
              f"to publish)")
        print(f"  meshprovd RSS {r['rss0']} KiB after start, {r['rss1']} KiB after the run")


if __name__ == "__main__":
    main()
