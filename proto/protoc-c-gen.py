#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Runs protoc-c for one .proto file and makes the generated header independent of our include path.

usage: protoc-c-gen.py PROTOC_C PROTO_DIR OUT_DIR FILE.proto

The generated enums expand PROTOBUF_C__FORCE_ENUM_TO_BE_INT_SIZE() to INT_MAX, which protobuf-c.h expects
from <limits.h>. On our include path src/basic/limits.h (meshprov's caps) is found first for <limits.h>, so
INT_MAX would be missing. The generated header therefore defines it (as <limits.h> would) when it is not
defined yet.
"""
import os
import subprocess
import sys

GUARD = """
/* meshprov: src/basic/limits.h shadows the C library's <limits.h> on our include path (proto/protoc-c-gen.py). */
#ifndef INT_MAX
#define INT_MAX __INT_MAX__
#endif
"""
ANCHOR = "#include <protobuf-c/protobuf-c.h>\n"


def main(argv):
    if len(argv) != 5:
        sys.exit(__doc__)
    protoc_c, proto_dir, out_dir, proto = argv[1:]
    subprocess.run([protoc_c, "--proto_path=" + proto_dir, "--c_out=" + out_dir, proto], check=True)

    base = os.path.splitext(os.path.basename(proto))[0]
    header = os.path.join(out_dir, base + ".pb-c.h")
    with open(header, encoding="utf-8") as f:
        text = f.read()
    if ANCHOR not in text:
        sys.exit(f"{header}: no '{ANCHOR.strip()}' line to anchor the INT_MAX guard")
    text = text.replace(ANCHOR, ANCHOR + GUARD, 1)
    with open(header, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main(sys.argv)
