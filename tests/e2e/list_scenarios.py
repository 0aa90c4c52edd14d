#!/usr/bin/env python3
"""Prints 'file::function' for every top-level test_* function in the given e2e test files, so meson
declares one test per scenario and a new scenario cannot be forgotten."""
import ast
import os
import sys

for path in sys.argv[1:]:
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            print(f"{os.path.basename(path)}::{node.name}")
