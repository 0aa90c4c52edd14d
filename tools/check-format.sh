#!/bin/sh
# Every C file follows .clang-format. Fix with:  clang-format -i $(git ls-files '*.c' '*.h')
# Exits 77 (skipped) when clang-format is not installed.
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null 2>&1 || { echo "clang-format not installed, skipping"; exit 77; }
files=$(find src tests tools bench -name '*.[ch]' -not -path '*/build*' | sort)
out=$(clang-format --dry-run $files 2>&1 | grep -E '^[^ ].*: warning:' | cut -d: -f1 | sort -u)
if [ -n "$out" ]; then
        echo "not clang-formatted:" >&2
        echo "$out" >&2
        exit 1
fi
echo "format check: ok"
