"""Reads `cargo test --no-run --message-format=json` on stdin and prints one line per test
binary: its package directory, a tab, and the executable's path."""
import json
import os
import sys

for line in sys.stdin:
    try:
        msg = json.loads(line)
    except ValueError:
        continue
    if msg.get("reason") != "compiler-artifact" or not msg.get("executable"):
        continue
    if not msg.get("profile", {}).get("test"):
        continue
    print(f"{os.path.dirname(msg['manifest_path'])}\t{msg['executable']}")
