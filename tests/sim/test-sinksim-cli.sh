#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# meshprov-sinksim as a program: the whitelist is a function of the seed, bad options fail, SIGTERM stops it
# cleanly with its reports written, SIGUSR1 unplugs the UART.
#   test-sinksim-cli.sh PATH-TO-meshprov-sinksim
set -euo pipefail
sim=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$sim" --nodes 50 --mix whitelisted=80,unknown=10,wrong-method=5,wrong-key=5 --seed 9 \
        --whitelist-yaml "$dir/a.yaml" --whitelist-only
"$sim" --nodes 50 --mix whitelisted=80,unknown=10,wrong-method=5,wrong-key=5 --seed 9 \
        --whitelist-yaml "$dir/b.yaml" --whitelist-only
"$sim" --nodes 50 --mix whitelisted=80,unknown=10,wrong-method=5,wrong-key=5 --seed 10 \
        --whitelist-yaml "$dir/c.yaml" --whitelist-only
cmp -s "$dir/a.yaml" "$dir/b.yaml" || fail "same seed, different whitelist"
cmp -s "$dir/a.yaml" "$dir/c.yaml" && fail "different seeds, same whitelist"
# 50 nodes, 5 of them unknown (absent): 45 entries; exactly 40 + 5 + 5 mix by largest remainder
[ "$(grep -c '^  sim-[0-9]' "$dir/a.yaml")" = 45 ] || fail "wrong number of whitelist entries"
[ "$(stat -c %a "$dir/a.yaml")" = 600 ] || fail "whitelist readable by others"
grep -q '^version: 1$' "$dir/a.yaml" || fail "no version"
# with --summary-json the nodes as they will be: the real count of each kind, every one pending
"$sim" --nodes 50 --mix whitelisted=80,unknown=10,wrong-method=5,wrong-key=5 --seed 9 \
        --whitelist-yaml "$dir/d.yaml" --whitelist-only --summary-json "$dir/kinds.json"
python3 -c 'import json,sys,collections as c; d=json.load(open(sys.argv[1]));
k=c.Counter(n["kind"] for n in d["nodes"]); assert k == {"whitelisted": 40, "unknown": 5, "wrong-method": 3, "wrong-key": 2}, k
assert d["outcomes"]["pending"] == 50, d["outcomes"]' "$dir/kinds.json" || fail "whitelist-only summary JSON"

# bad values are refused, and a key never shows up in the message
if "$sim" --nodes -1 2>/dev/null; then fail "negative node count accepted"; fi
if "$sim" --mix whitelisted=x 2>/dev/null; then fail "bad mix accepted"; fi
if "$sim" --faults crc=2 2>/dev/null; then fail "probability > 1 accepted"; fi
msg=$("$sim" --enc-key 00112233445566778899aabbccddeeffAA 2>&1 >/dev/null || true)
[[ "$msg" == *"--enc-key"* ]] || fail "no error for a bad key"
[[ "$msg" != *"00112233"* ]] || fail "the key was printed"

# SIGUSR1 unplugs (the link goes away), SIGTERM stops cleanly and the JSON is written
coproc SIM { exec "$sim" --nodes 0 --link "$dir/tty" --summary-json "$dir/s.json" --faults replug=never; }
read -r -t 10 line <&"${SIM[0]}" || fail "no start line"
[[ "$line" == "sinksim: pty /dev/pts/"* ]] || fail "unexpected start line: $line"
[ -L "$dir/tty" ] || fail "no link"
kill -USR1 "$SIM_PID"
for _ in $(seq 1 200); do [ -L "$dir/tty" ] || break; read -r -t 0.05 _ <&"${SIM[0]}" || true; done
[ -L "$dir/tty" ] && fail "link still there after SIGUSR1"
pid=$SIM_PID
kill -TERM "$pid"
wait "$pid" || fail "exit status $? after SIGTERM"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["mesh"]["hangups"] == 1, d' "$dir/s.json" ||
        fail "summary JSON"
echo "ok"
