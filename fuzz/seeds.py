#!/usr/bin/env python3
"""Write seed corpora for mask_scan, decision_roundtrip and c_abi_json into corpus/<target>/.

Seeds come from the policy packs' test files (`../policies/*/policy.test.yaml`) and from the
string literals of the masking tests (`../core/tests/mask_*.rs`). Run from `fuzz/`.
"""

import glob
import hashlib
import json
import os
import re

import yaml

# The order the targets' first byte picks a policy pack in (sorted directory names).
PACKS = sorted(os.path.basename(os.path.dirname(p)) for p in glob.glob("../policies/*/policy.yaml"))
KINDS = {"sql": 0, "command": 1, "argv": 2, "http": 3, "tool": 4}


def write(target, data):
    os.makedirs(f"corpus/{target}", exist_ok=True)
    with open(f"corpus/{target}/{hashlib.sha1(data).hexdigest()}", "wb") as f:
        f.write(data)


def requests():
    for i, pack in enumerate(PACKS):
        doc = yaml.safe_load(open(f"../policies/{pack}/policy.test.yaml"))
        for case in doc.get("cases", []):
            if "request" in case:
                yield i, case["request"]


def as_fields(request):
    """The decision_roundtrip layout: kind byte, then U+001F-separated fields."""
    (kind, body), = request["action"].items()
    if kind == "argv":
        text = "\0".join(body)
    elif kind == "http":
        text = f"{body['method']} {body['url']}"
    elif kind == "tool":
        text = body["name"] + "\n" + json.dumps(body.get("arguments", {}))
    else:
        text = body
    principal = request.get("principal", {})
    fields = [principal.get("id", ""), ",".join(principal.get("groups", [])),
              request["resource"], text]
    return KINDS[kind], "\x1f".join(fields).encode()


def rust_strings(path):
    for m in re.finditer(r'"((?:[^"\\]|\\.)*)"', open(path).read()):
        try:
            yield json.loads('"' + m.group(1).replace("\\'", "'") + '"')
        except json.JSONDecodeError:
            pass


def main():
    count = {"c_abi_json": 0, "decision_roundtrip": 0, "mask_scan": 0}
    for i, request in requests():
        write("c_abi_json", bytes([i]) + json.dumps(request).encode())
        kind, fields = as_fields(request)
        write("decision_roundtrip", bytes([i, kind]) + fields)
        count["c_abi_json"] += 1
        count["decision_roundtrip"] += 1
    # decision JSON read as such (kind byte 0xf0 and up)
    for decision in [
        {"effect": "deny", "rules": ["no-destructive"], "reason": "destructive statements are denied",
         "digest": "sha256:00", "policy": "sha256:11",
         "parts": [{"effect": "deny", "rules": ["no-destructive"], "reason": "x"}],
         "view": {"sql": {"read_only": False, "statements": [], "error": None}}},
        {"effect": "allow", "rules": [], "reason": "", "digest": "", "policy": "", "parts": [],
         "view": None},
        {"effect": "approval_required", "rules": ["r"], "reason": "r", "digest": "d", "policy": "p",
         "parts": [], "view": {"tool": {"name": "t", "routed": None}}},
    ]:
        write("decision_roundtrip", bytes([0, 0xf0]) + json.dumps(decision).encode())
    texts = set()
    for path in glob.glob("../core/tests/mask_*.rs"):
        texts.update(s for s in rust_strings(path) if len(s) >= 6)
    for text in sorted(texts):
        data = text.encode()
        # text with every detector configuration, then rows, JSON and the masker
        for selector in [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0xa0, 0xc0, 0xf0]:
            write("mask_scan", bytes([selector]) + data)
        write("mask_scan", bytes([0xc0]) + json.dumps({text: [text, 42]}).encode())
        count["mask_scan"] += 11
    print(count)


if __name__ == "__main__":
    main()
