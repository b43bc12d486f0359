#!/usr/bin/env python3
"""Turns one criterion run into the ratio tables of benches/README.md.

    benches/summarize.py [target/criterion]

Reads every `*/new/benchmark.json` and `*/new/estimates.json` under the criterion directory
(medians, nanoseconds) and prints Markdown: each writ figure next to its peer or limit from the
same run, and the budget of shared/DESIGN.md it answers to. A benchmark the tables need but the
run lacks is printed as `missing` and makes the script exit 1, so a partial run never passes for
a whole one.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

MISSING: list[str] = []


def load(root: Path) -> dict[str, tuple[float, int | None]]:
    """Benchmark id (group/function) -> (median ns, bytes or elements per iteration)."""
    out: dict[str, tuple[float, int | None]] = {}
    for bench in root.glob("**/new/benchmark.json"):
        meta = json.loads(bench.read_text())
        estimates = json.loads((bench.parent / "estimates.json").read_text())
        size = None
        throughput = meta.get("throughput") or {}
        for key in ("Bytes", "BytesDecimal", "Elements"):
            if key in throughput:
                size = int(throughput[key])
        out[meta["full_id"]] = (float(estimates["median"]["point_estimate"]), size)
    return out


def get(runs: dict[str, tuple[float, int | None]], key: str) -> float | None:
    if key not in runs:
        MISSING.append(key)
        return None
    return runs[key][0]


def table(columns: list[str], left: tuple[int, ...] = (0,)) -> None:
    """A Markdown table's header: the columns at `left` aligned left, the others right."""
    print("| " + " | ".join(columns) + " |")
    print("| " + " | ".join("---" if i in left else "---:" for i in range(len(columns))) + " |")


def t(ns: float | None) -> str:
    if ns is None:
        return "missing"
    if ns < 1_000:
        return f"{ns:.0f} ns"
    if ns < 1_000_000:
        return f"{ns / 1_000:.2f} us"
    if ns < 1_000_000_000:
        return f"{ns / 1_000_000:.2f} ms"
    return f"{ns / 1_000_000_000:.2f} s"


def ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "missing"
    r = a / b
    return f"{r:,.2f}x" if r < 10 else f"{r:,.0f}x"


def mib_s(runs: dict[str, tuple[float, int | None]], key: str) -> float | None:
    if key not in runs:
        MISSING.append(key)
        return None
    ns, size = runs[key]
    return None if size is None else size / (1024 * 1024) / (ns / 1e9)


def num(v: float | None) -> str:
    return "missing" if v is None else f"{v:,.0f}"


def sql(runs) -> None:
    print("### SQL (budget: `Engine::check` within 1.3x of a bare parse; repeated under 300 ns)\n")
    table(
        [
            "input", "bytes", "`sqlparser` parse", "`classify`", "ratio", "`Engine::check`",
            "ratio", "per KiB", "repeated (`check_shared`)", "repeated (`check`)",
        ],
        left=(0,),
    )
    for name in ("short_select", "join", "script_20"):
        g = f"sql/{name}"
        parse = get(runs, f"{g}/sqlparser_parse")
        classify = get(runs, f"{g}/writ_classify")
        check = get(runs, f"{g}/writ_check")
        size = runs.get(f"{g}/writ_check", (0.0, None))[1]
        per_kib = t(check / size * 1024) if check is not None and size else "missing"
        print(f"| {name} | {size or 'missing'} | {t(parse)} | {t(classify)} | {ratio(classify, parse)} "
              f"| {t(check)} | **{ratio(check, parse)}** | {per_kib} "
              f"| {t(get(runs, f'{g}/writ_check_repeated_shared'))} "
              f"| {t(get(runs, f'{g}/writ_check_repeated'))} |")
    print()


def command(runs) -> None:
    g = "command/100_bytes"
    print("### Shell commands (budget: a 100-byte line checked under 5 us)\n")
    table(
        [
            "`brush-parser` parse", "`parse_line`", "ratio", "`parse_line`, caller's stack",
            "`Engine::check`", "ratio", "repeated (`check_shared`)", "repeated (`check`)",
        ],
        left=(),
    )
    brush = get(runs, f"{g}/brush_parser_parse")
    line = get(runs, f"{g}/writ_parse_line")
    check = get(runs, f"{g}/writ_check")
    print(f"| {t(brush)} | {t(line)} | {ratio(line, brush)} "
          f"| {t(get(runs, f'{g}/writ_parse_line_caller_stack'))} | **{t(check)}** "
          f"| {ratio(check, brush)} | {t(get(runs, f'{g}/writ_check_repeated_shared'))} "
          f"| {t(get(runs, f'{g}/writ_check_repeated'))} |\n")


def mask(runs) -> None:
    print("### Content masking, criterion (budget: clean text over 1 GB/s = 954 MiB/s)\n")
    table(
        [
            "corpus", "`memchr` MiB/s", "aho-corasick MiB/s", "writ MiB/s", "writ / memchr",
            "writ / aho-corasick", "writ / budget",
        ],
        left=(0,),
    )
    for corpus in ("logs", "tickets", "rows"):
        for kind in ("clean", "pii"):
            g = f"mask/{corpus}_{kind}"
            m = mib_s(runs, f"{g}/memchr_absent_byte")
            a = mib_s(runs, f"{g}/aho_corasick_anchors")
            w = mib_s(runs, f"{g}/writ_mask_text")
            budget = ratio(w, 1e9 / (1024 * 1024)) if kind == "clean" else ""
            print(f"| {corpus}, {kind} | {num(m)} | {num(a)} | {num(w)} | {ratio(w, m)} "
                  f"| {ratio(w, a)} | {budget} |")
    print()


def decide(runs) -> None:
    print("### Group/resource decisions (budget: under 1 us at 1,000 rules, over 100x Cedar)\n")
    table(
        [
            "rules", "request", "writ", "Cedar", "Rego (regorus)", "Cedar / writ", "Rego / writ",
        ],
        left=(1,),
    )
    for rules in (10, 100, 1000):
        g = f"decide/{rules}_rules"
        for name in ("allowed", "denied_no_rule", "denied_by_rule"):
            w = get(runs, f"{g}/writ_check/{name}")
            c = get(runs, f"{g}/cedar_is_authorized/{name}")
            r = get(runs, f"{g}/regorus_eval_rule/{name}")
            print(f"| {rules:,} | {name.replace('_', ' ')} | **{t(w)}** | {t(c)} | {t(r)} "
                  f"| {ratio(c, w)} | {ratio(r, w)} |")
    print()


def compile_(runs) -> None:
    print("### Policy compile (budget: 1,000 rules under 50 ms)\n")
    table(
        [
            "rules", "YAML to document", "`Engine::from_yaml`", "per rule", "writ / YAML alone",
        ],
        left=(),
    )
    for rules in (10, 100, 1000, 10000):
        g = f"compile/{rules}_rules"
        y = get(runs, f"{g}/yaml_to_document")
        w = get(runs, f"{g}/writ_from_yaml")
        per = t(w / rules) if w is not None else "missing"
        print(f"| {rules:,} | {t(y)} | **{t(w)}** | {per} | {ratio(w, y)} |")
    print()


def main() -> int:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
    runs = load(root)
    if not runs:
        print(f"error: no criterion results under {root}", file=sys.stderr)
        return 1
    for section in (sql, command, mask, decide, compile_):
        section(runs)
    if MISSING:
        print(f"error: {len(MISSING)} benchmarks missing from {root}: {', '.join(MISSING)}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
