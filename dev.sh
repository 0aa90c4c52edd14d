#!/bin/sh
# meshprov developer entry point. See README.md.
#
#   ./dev.sh demo    install dependencies, build, run the gateway-mode demo (simulated sink and nodes)
#   ./dev.sh test    install dependencies, build, run every test; last line: "N passed, N failed"
#   ./dev.sh deps [GROUP...]   install Debian packages (groups in tools/debian-packages.txt)
#   ./dev.sh build   configure and build into build/ (warnings are errors)
set -eu

cd "$(dirname "$0")"
BUILD=${MESHPROV_BUILD_DIR:-build}

packages() {
        for g in "$@"; do
                sed -n "s/^$g: //p" tools/debian-packages.txt
        done | tr ' ' '\n' | sed '/^$/d' | sort -u
}

deps() {
        groups=${*:-build runtime test}
        # shellcheck disable=SC2086
        pkgs=$(packages $groups)
        missing=""
        for p in $pkgs; do
                dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
        done
        [ -z "$missing" ] && return 0
        SUDO=""
        [ "$(id -u)" -eq 0 ] || SUDO=sudo
        echo "Installing:$missing" >&2
        $SUDO apt-get update -qq
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

build() {
        if [ ! -f "$BUILD/build.ninja" ]; then
                meson setup "$BUILD" --werror --buildtype=debugoptimized >/dev/null
        else
                meson setup --reconfigure "$BUILD" >/dev/null
        fi
        ninja -C "$BUILD"
}

# Prints "N passed, N failed" from a meson test log and fails if anything failed.
summary() {
        /usr/bin/python3 - "$1" <<'PY'
import json, sys
passed = failed = 0
for line in open(sys.argv[1]):
    t = json.loads(line)
    if t["result"] in ("OK", "EXPECTEDFAIL", "SKIP"):
        passed += 1
    else:
        failed += 1
        print("FAILED:", t["name"], t["result"], file=sys.stderr)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
}

run_tests() {
        rc=0
        meson test -C "$BUILD" --print-errorlogs --num-processes 2 "$@" >"$BUILD/test-output.txt" 2>&1 || rc=$?
        grep -E "^ *[0-9]+/[0-9]+ " "$BUILD/test-output.txt" | sed 's/^ *//' || true
        [ $rc -eq 0 ] || grep -A40 -E "^=+ [0-9]+/[0-9]+ =+$" "$BUILD/test-output.txt" | tail -200 >&2 || true
        summary "$BUILD/meson-logs/testlog.json"
}

cmd=${1:-help}
[ $# -gt 0 ] && shift
case "$cmd" in
deps) deps "$@" ;;
build) deps build runtime test && build ;;
test)
        deps build runtime test
        build
        run_tests "$@"
        ;;
demo)
        deps build runtime test
        build
        exec /usr/bin/python3 tools/demo.py --build-dir "$BUILD" "$@"
        ;;
*)
        sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
        [ "$cmd" = help ] || exit 2
        ;;
esac
