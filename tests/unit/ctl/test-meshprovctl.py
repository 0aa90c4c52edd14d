#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""End-to-end test of the meshprovctl binary on a temporary database: exit codes, table and JSON output,
keys kept out of every output, key input from files and stdin, vendor key derivation checked against an
independent HMAC, import/export, events (including --follow) and stats.

Usage: test-meshprovctl.py MESHPROVCTL CTL_TEST_AUDIT
"""

import hashlib
import hmac
import json
import os
import select
import signal
import stat
import subprocess
import sys
import tempfile
import time

CTL, AUDIT = sys.argv[1], sys.argv[2]
TMP = tempfile.mkdtemp(prefix="test-meshprovctl-")
DB = os.path.join(TMP, "db", "meshprov.db")
os.mkdir(os.path.dirname(DB))

ENC = "00112233445566778899aabbccddeeff"
AUTH = "ffeeddccbbaa99887766554433221100"
ENC2 = "0123456789abcdef0123456789abcdef"
MASTER = "a5" * 16 + "5a" * 16
FACTORY = "000102030405060708090a0b0c0d0e0f" * 2
SECRETS = [ENC, AUTH, ENC2, MASTER, FACTORY]

failures = 0
outputs = []  # every stdout/stderr seen, to check that no key leaks


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what, file=sys.stderr)


def run(*args, db=DB, input=None, env=None):
    e = dict(os.environ)
    e.pop("MESHPROV_DB", None)
    e.pop("CREDENTIALS_DIRECTORY", None)
    if env:
        e.update(env)
    argv = [CTL] + (["--db", db] if db else []) + list(args)
    p = subprocess.run(argv, input=input, capture_output=True, text=True, env=e, timeout=60)
    outputs.append((argv, p.stdout, p.stderr))
    return p.returncode, p.stdout, p.stderr


def run_json(*args, **kw):
    rc, out, err = run("--json", *args, **kw)
    check(rc == 0, f"{args}: rc {rc}, stderr {err!r}")
    try:
        return json.loads(out)
    except ValueError:
        check(False, f"{args}: not one JSON document: {out!r}")
        return None


def fingerprint(hexkey):
    return "sha256:" + hashlib.sha256(bytes.fromhex(hexkey)).hexdigest()[:16]


def write(name, content, mode=0o600):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(content)
    os.chmod(path, mode)
    return path


# ---- usage and help ----
rc, out, _ = run("--help", db=None)
check(rc == 0 and "network add" in out, "--help")
for cmd in (["network", "--help"], ["vendor", "--help"], ["device", "--help"]):
    rc, out, _ = run(*cmd, db=None)
    check(rc == 0 and "Commands:" in out, f"{cmd}")
for cmd in (["network", "add", "--help"], ["device", "list", "--help"], ["events", "--help"],
            ["import", "--help"], ["export", "--help"], ["stats", "--help"], ["vendor", "derive-key", "--help"]):
    rc, out, _ = run(*cmd)
    check(rc == 0 and "Usage:" in out, f"{cmd} --help")
for cmd in (["bogus"], ["network", "bogus"], ["network", "add"], ["network", "add", "n", "--address", "x"],
            ["network", "add", "n", "--bogus"], ["device", "show"], ["device", "show", "zz"], ["network"],
            ["network", "add", "n", "--address", "1", "--channel", "2", "--enc-key", ENC],
            ["network", "add", "bad name", "--address", "1", "--channel", "2", "--generate-keys"],
            ["device", "add", "01", "--user", "5=int:1"], ["device", "add", "01", "--role", "0x41"],
            ["events", "--since", "yesterday-ish"], ["vendor", "add", "v", "--factory-key", "00"]):
    rc, _, err = run(*cmd)
    check(rc == 2, f"{cmd}: usage error expected, rc {rc}")
    check("meshprovctl" in err, f"{cmd}: message on stderr")
check(not os.path.exists(DB), "usage errors create nothing")

# ---- reading a database that does not exist ----
rc, _, err = run("network", "list")
check(rc == 1 and "does not exist" in err, f"list on a missing database: {rc} {err!r}")
check(not os.path.exists(DB) and not os.path.exists(os.path.join(TMP, "db", "master.key")),
      "a read creates neither database nor key")

# ---- networks ----
authfile = write("auth.key", AUTH + "\n")
rc, out, err = run("network", "add", "net1", "--address", "0x1012EE", "--channel", "2", "--enc-key", ENC,
                   "--auth-key", "@" + authfile, "--pool", "1000-1999")
check(rc == 0, f"network add: {rc} {err!r}")
check("created" in out and fingerprint(ENC) in out and fingerprint(AUTH) in out, "network add output")
keyfile = os.path.join(TMP, "db", "master.key")
check(os.path.exists(keyfile) and stat.S_IMODE(os.stat(keyfile).st_mode) == 0o600, "master.key created 0600")

rc, _, err = run("network", "add", "net1", "--address", "1", "--channel", "2", "--generate-keys")
check(rc == 1 and "exists" in err, "duplicate network")
rc, _, err = run("network", "add", "n2", "--address", "0xAAAAAA", "--channel", "2", "--generate-keys")
check(rc == 1 and "address" in err.lower(), f"bad network address: {err!r}")
rc, _, err = run("network", "add", "n2", "--address", "5", "--channel", "41", "--generate-keys")
check(rc == 1 and "channel" in err.lower(), f"channel 41 on 2.4G: {err!r}")
rc, _, err = run("network", "add", "n2", "--address", "5", "--channel", "41", "--profile", "SubG", "--generate-keys")
check(rc == 0, f"channel 41 on SubG: {err!r}")

nets = run_json("network", "list")
check(isinstance(nets, list) and [n["name"] for n in nets] == ["n2", "net1"] or
      sorted(n["name"] for n in nets) == ["n2", "net1"], f"network list: {nets}")
net1 = run_json("network", "show", "net1")
check(net1["address"] == 0x1012EE and net1["channel"] == 2 and net1["profile"] == "2.4G", "network show")
check(net1["pool"] == {"first": 1000, "last": 1999}, "pool")
check(net1["encryption_key_fingerprint"] == fingerprint(ENC), "enc fingerprint")
check(net1["authentication_key_fingerprint"] == fingerprint(AUTH), "auth fingerprint")

# a key on stdin
rc, out, err = run("network", "set", "net1", "--enc-key", "-", "--auth-key", "@" + authfile,
                   "--allow-unsecured", input=ENC2 + "\n")
check(rc == 0, f"network set with a key on stdin: {err!r}")
net1 = run_json("network", "show", "net1")
check(net1["encryption_key_fingerprint"] == fingerprint(ENC2) and net1["allow_unsecured"] is True, "set applied")
rc, _, _ = run("network", "set", "net1", "--enc-key", "-", "--auth-key", "-", input=ENC + "\n")
check(rc == 2, "only one key from stdin")
rc, _, err = run("network", "set", "nope", "--channel", "3")
check(rc == 1 and "No network" in err, "set on a missing network")

rc, out, _ = run("network", "list")
lines = out.splitlines()
check(lines[0].split() == ["NAME", "PROFILE", "ADDRESS", "CHANNEL", "UNSECURED", "POOL"], f"table header {lines}")
check(all(not l.endswith(" ") for l in lines), "no trailing blanks")
check(lines[0].index("PROFILE") == lines[1].index(lines[1].split()[1]), "aligned columns")

# ---- vendors ----
masterfile = write("vendor-master.key", MASTER)
rc, out, err = run("vendor", "add", "acme", "--master-key", "@" + masterfile, "--network", "net1",
                   "--enroll-prefix", "0a0b")
check(rc == 0, f"vendor add: {err!r}")
v = run_json("vendor", "show", "acme")
check(v["key_kind"] == "master" and v["key_fingerprint"] == fingerprint(MASTER), f"vendor show {v}")
check(v["enroll_kind"] == "uid-prefix" and v["enroll_prefix"] == "0a0b" and v["default_network"] == "net1", "enroll")

rc, out, err = run("vendor", "derive-key", "acme", "0x0a0b0c0d")
expected = hmac.new(bytes.fromhex(MASTER), b"meshprov factory key v1\0" + bytes.fromhex("0a0b0c0d"),
                    hashlib.sha256).hexdigest()
check(rc == 0 and out.strip() == expected, f"derive-key matches HMAC-SHA256: {out!r} vs {expected}")
d = run_json("vendor", "derive-key", "acme", "0a0b0c0e")
check(d["derived"] is True and d["factory_key"] != expected and len(d["factory_key"]) == 64, "derive-key json")
rc, _, err = run("vendor", "derive-key", "nobody", "01")
check(rc == 1 and "nobody" in err, "derive-key for a missing vendor")

rc, out, _ = run("vendor", "disable", "acme")
check(rc == 0 and run_json("vendor", "show", "acme")["enabled"] is False, "vendor disable")
rc, out, _ = run("vendor", "enable", "acme")
check(rc == 0 and run_json("vendor", "show", "acme")["enabled"] is True, "vendor enable")
check(run_json("vendor", "show", "acme")["key_fingerprint"] == fingerprint(MASTER), "enable kept the key")

# ---- devices ----
rc, _, err = run("device", "add", "0x0a0b0c0d", "--vendor", "acme", "--label", "lbl\x01x")
check(rc == 1 and "label" in err, f"a label with a control character is refused: {err!r}")
rc, out, err = run("device", "add", "0x0a0b0c0d", "--vendor", "acme", "--label", "Z\u00e4hler \"1\"",
                   "--user", "128=int:5", "--user", "200=text:hi there", "--role", "0x02")
check(rc == 0, f"device add: {err!r}")
check("Z\u00e4hler \"1\"" in out, "UTF-8 label shown as is")
dev = run_json("device", "show", "0a0b0c0d")
check(dev["label"] == "Z\u00e4hler \"1\"" and dev["vendor"] == "acme" and dev["network"] is None, f"device show {dev}")
check(dev["user_items"] == [{"id": 128, "type": "int", "value": 5}, {"id": 200, "type": "text", "value": "hi there"}],
      f"user items {dev['user_items']}")
check(dev["role"] == 2 and dev["method"] == 1 and dev["enabled"] is True and dev["state"] == "new", "device fields")
check(dev["factory_key_fingerprint"] is None, "no own key")

rc, out, err = run("device", "add", "--method", "3", "--authenticator-uid", "b34333009381084a8db3aa9e53d22a1e",
                   "--node-uid", "7e71e5d722ef0f4ba87d44d4e0e5b57d", "--network", "net1", "--factory-key", "-",
                   input=FACTORY)
check(rc == 0, f"method-3 device: {err!r}")
ext = "01b34333009381084a8db3aa9e53d22a1e017e71e5d722ef0f4ba87d44d4e0e5b57d"
dev = run_json("device", "show", ext)
check(dev["method"] == 3 and dev["factory_key_fingerprint"] == fingerprint(FACTORY), "extended UID from parts")

rc, _, err = run("device", "add", "0x0a0b0c0d", "--vendor", "acme")
check(rc == 1 and "exists" in err, "duplicate device")
rc, _, err = run("device", "add", "0x99", "--network", "nope", "--factory-key", FACTORY)
check(rc == 1 and "nope" in err, f"device on a missing network: {err!r}")
rc, _, err = run("device", "add", "0x99", "--method", "0", "--network", "n2")
check(rc == 1, "method 0 on a network that refuses it")

rc, _, _ = run("device", "set", "0a0b0c0d", "--node-address", "5", "--remove-user", "128", "--user", "129=bool:yes")
dev = run_json("device", "show", "0a0b0c0d")
check(dev["node_address"] == 5 and [u["id"] for u in dev["user_items"]] == [129, 200], f"device set {dev}")
rc, _, _ = run("device", "disable", "0a0b0c0d")
check(run_json("device", "show", "0a0b0c0d")["enabled"] is False, "device disable")
rc, _, _ = run("device", "enable", "0a0b0c0d")
check(run_json("device", "show", "0a0b0c0d")["enabled"] is True, "device enable")

for uid in ("01", "02", "03"):
    rc, _, err = run("device", "add", uid, "--network", "net1", "--factory-key", FACTORY)
    check(rc == 0, f"device add {uid}: {err!r}")
all_devs = run_json("device", "list")
check(len(all_devs) == 5, f"5 devices, got {len(all_devs)}")
page1 = run_json("device", "list", "--limit", "2")
page2 = run_json("device", "list", "--limit", "2", "--after", page1[-1]["uid"])
check([d["uid"] for d in page1 + page2] == [d["uid"] for d in all_devs[:4]], "paging")
check(len(run_json("device", "list", "--vendor", "acme")) == 1, "filter by vendor")
check(len(run_json("device", "list", "--state", "provisioned")) == 0, "filter by state")

rc, _, err = run("network", "remove", "net1")
check(rc == 1, "a network in use is not removed")
rc, _, _ = run("device", "remove", "03")
check(rc == 0, "device remove")
rc, _, err = run("device", "show", "03")
check(rc == 1 and "No device 03" in err, "removed device is gone")

# ---- events and stats ----
check(run_json("events") == [], "no events yet")
rc = subprocess.run([AUDIT, DB, keyfile, "seed"]).returncode
check(rc == 0, "seeding audit events")
ev = run_json("events")
check([e["kind"] for e in ev] == ["ack", "nack", "nack", "data", "start"], f"newest first: {ev}")
check(ev[1]["nack_reason"] == "method_not_supported" and ev[2]["nack_reason"] == "not_authorized", "nack reasons")
check(ev[2]["detail"] == "unknown\x1b[31m uid", "detail in JSON")
check([e["kind"] for e in run_json("events", "--kind", "nack")] == ["nack", "nack"], "--kind")
check(len(run_json("events", "--uid", "0a0b0c0d")) == 3, "--uid")
check(len(run_json("events", "--limit", "2")) == 2, "--limit")
check(len(run_json("events", "--result", "not_authorized")) == 1, "--result")
check(len(run_json("events", "--since", "2023-11-14T22:13:20Z")) == 5, "--since")
check(len(run_json("events", "--until", "2000-01-01")) == 0, "--until")
rc, out, _ = run("events")
check(rc == 0 and "\\x1b[31m" in out and "\x1b" not in out, "escape sequences in tables are escaped")

st = run_json("stats")
check(st["events"]["total"] == 5 and st["events"]["by_kind"]["nack"] == 2 and st["events"]["by_kind"]["ack"] == 1,
      f"stats by kind {st}")
check(st["events"]["by_result"] == {"ok": 3, "not_authorized": 1, "method_not_supported": 1}, "stats by result")
check(st["events"]["by_nack_reason"]["not_authorized"] == 1 and
      st["events"]["by_nack_reason"]["method_not_supported"] == 1, "stats by nack reason")
check(st["devices"]["total"] == 4 and st["devices"]["by_state"]["new"] == 4, "stats devices")
gw1 = [r for r in st["events"]["by_route"] if r["gateway"] == "gw1" and r["sink"] == "sink0"]
check(len(gw1) == 1 and gw1[0]["starts"] == 1 and gw1[0]["data"] == 1 and gw1[0]["events"] == 2,
      f"stats per route {st['events']['by_route']}")
check(st["live"] is None and not st["events"]["routes_truncated"], "no live counters without a daemon")
check(run_json("stats", "--since", "2000-01-01", "--until", "2000-01-02")["events"]["total"] == 0, "stats range")

# --follow: the new event shows up; wait for it with a deadline, then interrupt
p = subprocess.Popen([CTL, "--db", DB, "--json", "events", "--follow", "--limit", "1"], stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, text=True)


def read_line(deadline):
    while time.monotonic() < deadline:
        r, _, _ = select.select([p.stdout], [], [], max(0.0, deadline - time.monotonic()))
        if r:
            return p.stdout.readline()
    return None


first = read_line(time.monotonic() + 20)
check(first is not None and json.loads(first)["kind"] == "ack", f"follow shows the last event first: {first!r}")
subprocess.run([AUDIT, DB, keyfile, "one", "followed"], check=True)
line = read_line(time.monotonic() + 20)
check(line is not None and json.loads(line)["detail"] == "followed", f"follow shows the new event: {line!r}")
p.send_signal(signal.SIGINT)
check(p.wait(timeout=20) == 0, "follow ends cleanly on SIGINT")

# ---- import / export ----
reference = """version: 1
networks:
    test_network:
        address: 0x1012EE
        channel: 2
        authentication_key: 0x01 0x02 0x03 0x04 0x05 0x06 0x07 0x08 0x09 0x0A 0x0B 0x0C 0x0D 0x0E 0x0F 0x10
        encryption_key: 0x10 0x0F 0x0E 0x0D 0x0C 0x0B 0x0A 0x09 0x08 0x07 0x06 0x05 0x04 0x03 0x02 0x01
nodes:
    test_node_secure:
        network: test_network
        method: 1
        uid: 0x58 0xc8 0x12 0xad 0x37 0xe8 0x36 0x4a 0xa1 0x1f 0x1c 0xbc 0x63 0x3e 0x8e 0x34
        factory_key: 0x00 0x01 0x02 0x03 0x04 0x05 0x06 0x07 0x08 0X09 0X0A 0X0B 0X0C 0X0D 0X0E 0X0F 0x00 0x01 0x02 0x03 0x04 0x05 0x06 0x07 0x08 0X09 0X0A 0X0B 0X0C 0X0D 0X0E 0X0F
    test_node_insecure:
        network: test_network
        method: 0
        uid: 0x41 0xb1 0x85 0x7a 0x0f 0xb6 0xb1 0x48 0xa5 0xe4 0xb9 0xb6 0x03 0x53 0x1b 0x3b
"""
ref = write("ref.yml", reference, 0o644)
rc, _, err = run("import", ref)
check(rc == 1 and "ref.yml:16:17: nodes.test_node_insecure.method:" in err, f"import refuses method 0: {err!r}")
check(len(run_json("device", "list")) == 4, "failed import changed nothing")

fresh = os.path.join(TMP, "fresh", "x.db")
os.mkdir(os.path.dirname(fresh))
rc, out, err = run("import", ref, "--allow-unsecured", "--dry-run", db=fresh)
check(rc == 0 and "dry run" in out and "2 created" in out, f"dry run: {out!r} {err!r}")
check(os.listdir(os.path.dirname(fresh)) == [], "a dry run on a missing database creates nothing")

res = run_json("import", ref, "--allow-unsecured")
check(res == {"dry_run": False, "networks_created": 1, "networks_updated": 0, "networks_made_unsecured": 1,
              "devices_created": 2, "devices_updated": 0}, f"import summary {res}")
check("Warning" in outputs[-1][2] and "test_network" in outputs[-1][2], "unsecured warning on stderr")
rc, _, err = run("import", "-", input=reference.replace("factory_key: 0x00 0x01", "factory_key: 0x01"))
check(rc == 1 and "nodes.test_node_secure.factory_key: must be 32 bytes, got 31" in err, f"stdin import: {err!r}")

rc, _, _ = run("device", "remove", "0a0b0c0d")  # its vendor is not part of the export format
check(rc == 0, "device remove")
exp = os.path.join(TMP, "export.yml")
res = run_json("export", exp, "--include-keys")
check(res["devices"] == 5 and res["networks"] == 3, f"export summary {res}")
check(stat.S_IMODE(os.stat(exp).st_mode) == 0o600, "export with keys is 0600")
with open(exp) as f:
    text = f.read()
check("factory_key" in text and "version: 1" in text, "export with keys")
rc, out, _ = run("export", "-")
check(rc == 0 and "factory_key" not in out and "authentication_key" not in out and "test_node_secure" in out,
      "export without keys on stdout")
other = os.path.join(TMP, "other", "y.db")
os.mkdir(os.path.dirname(other))
res = run_json("import", exp, "--allow-unsecured", db=other,
               env={"CREDENTIALS_DIRECTORY": os.path.join(TMP, "nothing-here")})
check(res is not None and res["devices_created"] == 5 and res["networks_created"] == 3, f"re-import: {res}")
check(run_json("network", "show", "net1", db=other)["encryption_key_fingerprint"] == fingerprint(ENC2),
      "keys survive export and import")

# ---- keys never appear in any output (derive-key is the one exception) ----
for argv, out, err in outputs:
    if "derive-key" in argv:
        continue
    for s in SECRETS:
        check(s not in out.lower() and s not in err.lower(), f"key material in the output of {argv}")

if failures:
    print(f"{failures} check(s) failed", file=sys.stderr)
    sys.exit(1)
print("all checks passed")
