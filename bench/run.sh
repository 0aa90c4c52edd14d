#!/bin/sh
# Runs every benchmark against a build directory and prints the results (copied into docs/performance.md).
#   bench/run.sh [BUILD_DIR]
set -eu
B=${1:-build}
ninja -C "$B" bench >/dev/null
echo "== engine"; "$B/bench/bench-engine"
echo "== store"; "$B/bench/bench-store" --devices 100000 --lookups 50000
echo "== cloud"; /usr/bin/python3 "$(dirname "$0")/bench_cloud.py" --build-dir "$B" --devices 4000 --rate 200
/usr/bin/python3 "$(dirname "$0")/bench_cloud.py" --build-dir "$B" --devices 4000 --rate 200 \
        --broker-conf "max_inflight_messages 0"
echo "== api"; /usr/bin/python3 "$(dirname "$0")/bench_api.py" --build-dir "$B" --devices 20000
