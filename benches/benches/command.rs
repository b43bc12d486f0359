//! Command checks next to a bare brush-parser parse of the same line (the peer), in one run.
#![expect(clippy::panic, reason = "a bench whose setup fails must stop loudly")]
#![allow(missing_docs, reason = "criterion_group! generates undocumented functions")]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use writ::command::{Limits, parse_line};
use writ::{Engine, Principal, Request};

/// About 100 bytes: a pipeline, a list and a wrapper, as agents write them.
const LINE: &str = "cd core && timeout 600 cargo test --workspace 2>&1 | tee build.log | grep -E 'FAILED|panicked'";

const POLICY: &str = "version: 1
resources:
  - {name: box, kind: shell}
rules:
  - id: no-rm-r
    effect: deny
    when: {command: {programs: [rm], flags: [r, R, recursive]}}
  - id: tools
    effect: allow
    when: {command: {programs: [cd, timeout, cargo, tee, grep]}}
";

fn command(c: &mut Criterion) {
    // Without the decision cache, every check parses the line again: the cost of a new line.
    let engine = Engine::from_yaml(POLICY).unwrap_or_else(|e| panic!("{e}")).with_decision_cache(0);
    let cached = Engine::from_yaml(POLICY).unwrap_or_else(|e| panic!("{e}"));
    let request = Request::command(Principal::new("agent:bench", ["dev"]), "box", LINE);
    assert!(engine.check(&request).is_allowed(), "the bench line must be allowed");
    assert!(cached.check(&request).is_allowed(), "the bench line must be allowed");
    let on_caller = Limits { stack_bytes: 0, ..Limits::default() };
    let mut group = c.benchmark_group("command/100_bytes");
    group.throughput(Throughput::Bytes(LINE.len() as u64));
    group.bench_function("brush_parser_parse", |b| {
        b.iter(|| {
            let options = brush_parser::ParserOptions::default();
            brush_parser::Parser::new(black_box(LINE).as_bytes(), &options).parse_program()
        })
    });
    group.bench_function("writ_parse_line", |b| {
        b.iter(|| parse_line(black_box(LINE), &Limits::default()))
    });
    group.bench_function("writ_parse_line_caller_stack", |b| {
        b.iter(|| parse_line(black_box(LINE), &on_caller))
    });
    group.bench_function("writ_check", |b| b.iter(|| engine.check(black_box(&request))));
    // The same line again: served by the decision cache.
    group.bench_function("writ_check_repeated_shared", |b| {
        b.iter(|| cached.check_shared(black_box(&request)))
    });
    group.bench_function("writ_check_repeated", |b| b.iter(|| cached.check(black_box(&request))));
    group.finish();
}

criterion_group!(benches, command);
criterion_main!(benches);
