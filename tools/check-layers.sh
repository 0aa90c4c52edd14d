#!/bin/sh
# Layer rules (docs/architecture.md) that the link check in meson.build cannot see.
cd "$(dirname "$0")/.."
rc=0
fail() { echo "layer check: $*" >&2; rc=1; }

# Pure layers: no I/O, clock, logging or foreign libraries.
for d in src/codec src/engine; do
        grep -snE '#include <(openssl|sqlite3|mosquitto|systemd)|#include "(log|fileio|fd-util|mqtt|store)\.h"' $d/*.[ch] &&
                fail "$d includes something it must not"
        grep -snE '\b(clock_gettime|time|gettimeofday|now|random_bytes|getrandom|read|write|open|fopen|printf|fprintf|syslog)\(' $d/*.c |
                grep -vE '^\S+:\s*(/\*|\*)' | grep -vE 'snprintf' &&
                fail "$d reads a clock, does I/O or prints"
done
# OpenSSL only in src/crypto; SQL only in src/store; protobuf-c only in the gwapi/mgmtapi codecs.
grep -rlE '#include <openssl/' src | grep -v '^src/crypto/' && fail "OpenSSL outside src/crypto"
grep -rlE '#include <sqlite3\.h>|sqlite3_' src | grep -v '^src/store/' && fail "SQLite outside src/store"
grep -rlE '#include <protobuf-c/|\.pb-c\.h' src | grep -vE '^src/codec/(gwapi|mgmtapi)' && fail "protobuf-c outside its codecs"
grep -rlE '#include <mosquitto\.h>' src | grep -vE '^src/io/' && fail "libmosquitto outside src/io"
grep -rlE '#include "prov-engine\.h"' src/io src/store src/codec src/crypto 2>/dev/null && fail "the engine used below src/daemon"
[ $rc -eq 0 ] && echo "layer check: ok"
exit $rc
