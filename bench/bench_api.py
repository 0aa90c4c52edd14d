#!/usr/bin/python3
"""Management-API benchmark: a fleet import through the API while the daemon keeps answering STARTs.

Measures, with a real mosquitto and meshprovd (cloud mode, [Api] Enabled=yes):
  - `meshprovctl --mqtt ... import` of N devices (staged bulk chunks, applied in one transaction): wall time;
  - START -> DATA latency of a steady 50/s stream from an emulated gateway, before and during the import:
    the daemon applies a bulk chunk, and the final transaction, on its one event loop, so this is what an
    import costs the nodes that join meanwhile;
  - the daemon's resident memory before and after.
With --via db the import is done with `meshprovctl --db` next to the running daemon instead: one long
write transaction that the daemon's audit writes must wait out.
Nothing is asserted; the results go to docs/performance.md.

    bench/bench_api.py --build-dir build [--devices 20000]
"""

import argparse
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "e2e"))
sys.path.insert(0, os.path.dirname(__file__))
import meshprov_e2e as h  # noqa: E402
from bench_cloud import Gateway, pct, rss_kib, write_yaml  # noqa: E402

INSTANCE = "bench-api"


class StartStream(threading.Thread):
    """STARTs at a steady rate for pre-whitelisted devices; latency per START, tagged with a phase."""

    def __init__(self, gw, devices, key, rate):
        super().__init__(daemon=True)
        self.gw, self.devices, self.key, self.period = gw, devices, key, 1.0 / rate
        self.phase = "idle"
        self.sent = {}  # source -> (time, phase)
        self.stop = threading.Event()

    def run(self):
        nxt = time.monotonic()
        for i, uid in enumerate(self.devices):
            if self.stop.is_set():
                break
            src = 0x200000 + i
            raw = self.gw.start_packet(h.JoiningNode(uid, 1, self.key).start(), src)
            delay = nxt - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self.sent[src] = (time.monotonic(), self.phase)
            self.gw.publish(raw)
            nxt += self.period

    def latencies(self, phase):
        return [1000 * (self.gw.arrivals[s] - t) for s, (t, p) in self.sent.items()
                if p == phase and s in self.gw.arrivals]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default="build")
    ap.add_argument("--devices", type=int, default=20000)
    ap.add_argument("--rate", type=int, default=50)
    ap.add_argument("--via", choices=("api", "db"), default="api",
                    help="import through the management API, or with meshprovctl --db next to the daemon")
    a = ap.parse_args()
    os.environ["MESHPROV_BUILD_DIR"] = h.BUILD_DIR = os.path.abspath(a.build_dir)

    wd = h.workdir("bench-api")
    broker = h.Broker(wd).start()
    d = h.Daemon(wd, broker_port=broker.port,
                 extra_conf=f"[Provisioning]\nRouteWindowSec=0\n[Api]\nEnabled=yes\nInstanceId={INSTANCE}\n"
                            "[Log]\nLevel=info\n")
    key = os.urandom(32)
    joiners = [os.urandom(16) for _ in range(3000)]
    seed_yaml = os.path.join(wd, "joiners.yml")
    write_yaml(seed_yaml, joiners, key)
    d.ctl("import", seed_yaml)
    fleet_yaml = os.path.join(wd, "fleet.yml")
    write_yaml(fleet_yaml, [os.urandom(16) for _ in range(a.devices)], os.urandom(32))
    with open(fleet_yaml) as f:  # the same network as the joiners: only the nodes are new
        text = f.read()
    with open(fleet_yaml, "w") as f:
        f.write(text.replace("  bench:\n", "  bench2:\n", 1).replace("network: bench\n", "network: bench2\n"))

    d.start()
    gw = Gateway(broker.port, "gw-bench")
    rss0 = rss_kib(d.proc.pid)
    stream = StartStream(gw, joiners, key, a.rate)
    stream.start()
    time.sleep(5)
    stream.phase = "import"
    t0 = time.monotonic()
    where = ["--mqtt", f"127.0.0.1:{broker.port}", "--instance", INSTANCE] if a.via == "api" else ["--db", d.db]
    p = subprocess.run([h.binary("meshprovctl"), *where, "import", fleet_yaml], capture_output=True, text=True)
    log = d.read_log()
    import_s = time.monotonic() - t0
    stream.phase = "after"
    time.sleep(3)
    stream.stop.set()
    stream.join()
    gw.wait_count(len(stream.sent), 30)
    rss1 = rss_kib(d.proc.pid)
    d.stop()
    broker.stop()
    h.cleanup(wd)

    if p.returncode != 0:
        sys.exit(f"import failed: {p.stderr[-2000:]}")
    via = "through the API" if a.via == "api" else "with meshprovctl --db while the daemon runs"
    print(f"{a.via}: {a.devices} devices imported {via} in {import_s:.1f} s "
          f"({a.devices / import_s:.0f}/s)")
    for phase in ("idle", "import"):
        lat = stream.latencies(phase)
        sent = sum(1 for _, ph in stream.sent.values() if ph == phase)
        if lat:
            print(f"  {phase:6}: {len(lat)}/{sent} STARTs answered; START->DATA p50 {pct(lat, 50):.1f} ms, "
                  f"p99 {pct(lat, 99):.1f} ms, max {max(lat):.1f} ms")
    print(f"  meshprovd RSS {rss0} KiB after start, {rss1} KiB after the import; audit write retries: "
          f"{log.count('Failed to write')} logged")


if __name__ == "__main__":
    main()
