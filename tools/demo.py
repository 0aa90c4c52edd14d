#!/usr/bin/python3
"""The README's main job, end to end on one machine: meshprovd in gateway mode on its default SQLite store,
a simulated Wirepas sink on a pseudo-terminal, and a crowd of simulated joining nodes of mixed kinds.

    ./dev.sh demo [--nodes N] [--seed S] [--faults SPEC] [--keep] [--mqtt HOST:PORT]

1. the simulator writes the whitelist it expects (wm-provisioning YAML) and meshprovctl imports it;
2. the simulator opens its pty and meshprovd is started with one [Sink] on it;
3. the nodes send STARTs through the sink, decrypt and check what comes back exactly as node firmware does,
   and acknowledge; the simulator exits when every node has an outcome;
4. a summary: what each kind of node got, and the daemon's audit log (meshprovctl stats / events).
"""

import argparse
import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

MIX = "whitelisted=60,unknown=10,wrong-method=6,wrong-key=6,disabled=4,unsecured=4"


def find(build, rel):
    p = os.path.join(build, rel)
    if not os.path.exists(p):
        sys.exit(f"demo: {p} is not built (run ./dev.sh build)")
    return p


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default="build")
    ap.add_argument("--nodes", type=int, default=80)
    ap.add_argument("--seed", type=int, default=int(time.time()) % 100000)
    ap.add_argument("--mix", default=MIX)
    ap.add_argument("--faults", default="crc=0.01,garbage=0.01,dup=0.02,oom=0.02",
                    help="fault injection in the simulated sink (see meshprov-sinksim --help)")
    ap.add_argument("--mqtt", help="also connect meshprovd to this broker (HOST:PORT) for events")
    ap.add_argument("--keep", action="store_true", help="keep the working directory")
    args = ap.parse_args()

    build = os.path.abspath(args.build_dir)
    daemon = find(build, "src/daemon/meshprovd")
    ctl = find(build, "src/ctl/meshprovctl")
    sim = find(build, "tests/sim/meshprov-sinksim")

    work = tempfile.mkdtemp(prefix="meshprov-demo-")
    db = os.path.join(work, "meshprov.db")
    tty = os.path.join(work, "ttySIM0")
    yaml = os.path.join(work, "whitelist.yml")
    summary = os.path.join(work, "nodes.json")
    conf = os.path.join(work, "meshprovd.conf")
    dlog = os.path.join(work, "meshprovd.log")
    common = ["--nodes", str(args.nodes), "--mix", args.mix, "--seed", str(args.seed), "--allow-unsecured",
              "--node-timeout", "3s", "--retries", "3", "--ramp", "3s", "--proxies", str(max(1, args.nodes // 4))]

    # 1. The whitelist the simulated fleet expects, imported the way an operator would. The simulator also
    # lists the nodes it will play: --mix gives weights, this gives the real number of each kind.
    kinds_json = os.path.join(work, "kinds.json")
    run([sim, *common, "--whitelist-yaml", yaml, "--whitelist-only", "--summary-json", kinds_json])
    with open(kinds_json) as f:
        counts = collections.Counter(n["kind"] for n in json.load(f)["nodes"])
    order = [kv.split("=")[0] for kv in args.mix.split(",")]
    kinds = ", ".join(f"{counts[k]} {k}" for k in order + sorted(set(counts) - set(order)) if counts[k])
    print(f"meshprov demo: {sum(counts.values())} simulated nodes ({kinds}), seed {args.seed}")
    print(f"  working directory {work}")
    out = run([ctl, "--db", db, "import", yaml, "--allow-unsecured"]).stdout.strip()
    print(f"  whitelist imported: {out.splitlines()[-1] if out else 'ok'}")

    # 2. The simulated sink on a pty, then the daemon on it.
    simproc = subprocess.Popen([sim, *common, "--link", tty, "--faults", args.faults,
                                "--summary-json", summary, "--check", "--quiet", "--duration", "240s"])
    deadline = time.monotonic() + 10
    while not os.path.exists(tty):
        if simproc.poll() is not None or time.monotonic() > deadline:
            sys.exit("demo: the simulator did not open its pty")
        time.sleep(0.02)

    with open(conf, "w") as f:
        f.write(f"[Store]\nDatabase={db}\n\n[Sink]\nName=sink0\nDevice={tty}\n\n[Log]\nLevel=info\n")
        if args.mqtt:
            host, _, port = args.mqtt.partition(":")
            f.write(f"\n[Mqtt]\nHost={host}\nPort={port or 1883}\nTLS=no\nGatewayApi=no\n\n[Api]\nEnabled=yes\n")
    env = dict(os.environ)
    env.pop("JOURNAL_STREAM", None)
    dproc = subprocess.Popen([daemon, "--config", conf], stdout=open(dlog, "w"), stderr=subprocess.STDOUT,
                             env=env)
    print(f"  meshprovd running on {tty} (log: {dlog}); nodes are joining...")

    # 3. Wait for the fleet to finish.
    try:
        sim_rc = simproc.wait(300)
    except subprocess.TimeoutExpired:
        simproc.kill()
        sim_rc = -1
    dproc.send_signal(signal.SIGTERM)
    try:
        d_rc = dproc.wait(20)
    except subprocess.TimeoutExpired:
        dproc.kill()
        d_rc = -1

    # 4. What happened.
    nodes = []
    if os.path.exists(summary):
        with open(summary) as f:
            data = json.load(f)
        nodes = data["nodes"] if isinstance(data, dict) and "nodes" in data else data
    print()
    print("What the nodes got (as checked by each simulated node):")
    table = {}
    for n in nodes:
        key = (n.get("kind", "?"), n.get("outcome", "?"), str(n.get("nack_reason", "")))
        table[key] = table.get(key, 0) + 1
    print(f"  {'kind':<14} {'outcome':<14} {'nack reason':<12} {'nodes':>5}")
    for (kind, outcome, reason), count in sorted(table.items()):
        print(f"  {kind:<14} {outcome:<14} {reason if reason not in ('None', '-1') else '':<12} {count:>5}")

    print()
    print("What the daemon recorded (meshprovctl stats):")
    st = subprocess.run([ctl, "--db", db, "stats"], text=True, capture_output=True)
    print("  " + st.stdout.strip().replace("\n", "\n  "))
    ev = subprocess.run([ctl, "--db", db, "events", "--limit", "8"], text=True, capture_output=True)
    print()
    print("Most recent audit events (meshprovctl events --limit 8):")
    print("  " + ev.stdout.strip().replace("\n", "\n  "))

    ok = sim_rc == 0 and d_rc == 0
    print()
    if ok:
        print("Every node ended as its kind predicts: whitelisted nodes provisioned, the others refused "
              "with the right NACK.")
    else:
        print(f"Not every node ended as expected (simulator exit {sim_rc}, daemon exit {d_rc}); "
              f"see {dlog} and {summary}.")
    if args.keep or not ok:
        print(f"Files kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
