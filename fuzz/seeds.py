#!/usr/bin/env python3
"""Write seed corpora into corpus/<target>/ for mask_scan, decision_roundtrip, c_abi_json,
sql_classify, engine_check and command_parse.

Seeds come from the policy packs' test files (`../policies/*/policy.test.yaml`), the string
literals of the masking tests (`../core/tests/mask_*.rs`), a fixed sample of 1,500 statements of
the PostgreSQL regression corpus (`../../shared/corpora/postgres-regress`, read in place) plus
`../e2e/corpus/hidden_writes.sql`, and the kept crash inputs of `regressions/`. Run from `fuzz/`.
"""

import glob
import hashlib
import json
import os
import random
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


def statements():
    """1,500 statements of the PostgreSQL regression corpus (a fixed sample) and the hidden
    writes corpus, split on `;` at line ends (rough, which is fine for seeds)."""
    corpus = sorted(glob.glob("../../shared/corpora/postgres-regress/*.sql"))
    found = []
    for path in corpus:
        text = open(path, encoding="utf-8", errors="replace").read()
        found.extend(s.strip() + ";" for s in re.split(r";\s*\n", text) if s.strip())
    sample = random.Random(12).sample(found, min(1500, len(found)))
    hidden = open("../e2e/corpus/hidden_writes.sql").read()
    sample.extend(s.strip() + ";" for s in re.split(r";\s*\n", hidden) if s.strip())
    return sample


def commands():
    """The command lines and argvs of the policy packs' examples and test files."""
    lines = set()
    for path in glob.glob("../policies/*/policy.yaml") + glob.glob("../policies/*/policy.test.yaml"):
        doc = yaml.safe_load(open(path))

        def walk(node):
            if isinstance(node, dict):
                for key, value in node.items():
                    if key == "command" and isinstance(value, str):
                        lines.add(value)
                    elif key == "argv" and isinstance(value, list):
                        lines.add("\0".join(map(str, value)) + "\0argv")
                    else:
                        walk(value)
            elif isinstance(node, list):
                for item in node:
                    if isinstance(item, str) and (" " in item or item.isalpha()):
                        lines.add(item)
                    walk(item)
        walk(doc)
    return sorted(lines)


def main():
    count = {"c_abi_json": 0, "decision_roundtrip": 0, "mask_scan": 0, "sql_classify": 0,
             "engine_check": 0, "command_parse": 0}
    for statement in statements():
        data = statement.encode()
        # two dialect bytes: PostgreSQL (0) and another picked by the statement
        for selector in sorted({0, len(data) % 7 + 1}):
            write("sql_classify", bytes([selector]) + data)
            count["sql_classify"] += 1
        write("engine_check", data)
        count["engine_check"] += 1
    for line in commands():
        if line.endswith("\0argv"):
            write("command_parse", bytes([0]) + line.removesuffix("\0argv").encode())
        else:
            write("command_parse", bytes([1]) + line.encode())
        count["command_parse"] += 1
    for target in ["command_parse", "mask_scan"]:
        for path in glob.glob(f"regressions/{target}/*"):
            write(target, open(path, "rb").read())
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
