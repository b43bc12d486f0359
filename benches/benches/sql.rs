//! SQL checks next to a bare sqlparser parse of the same text (the peer), in one run.
#![expect(clippy::panic, reason = "a bench whose setup fails must stop loudly")]
#![allow(missing_docs, reason = "criterion_group! generates undocumented functions")]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use std::hint::black_box;
use writ::sql::{Dialect, classify};
use writ::{Engine, Principal, Request};
use writ_benches::{JOIN_QUERY, POLICY, SHORT_SELECT, script_20};

fn sql(c: &mut Criterion) {
    // Without the decision cache, every check classifies the text again: the cost of a new
    // statement. `cached` serves repeated statements from its cache.
    let engine = Engine::from_yaml(POLICY).unwrap_or_else(|e| panic!("{e}")).with_decision_cache(0);
    let cached = Engine::from_yaml(POLICY).unwrap_or_else(|e| panic!("{e}"));
    let principal = Principal::new("agent:bench", ["writers"]);
    let script = script_20();
    for (name, text) in
        [("short_select", SHORT_SELECT), ("join", JOIN_QUERY), ("script_20", script.as_str())]
    {
        let mut group = c.benchmark_group(format!("sql/{name}"));
        // The text's size goes into criterion's records, for cost per byte across inputs.
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function("sqlparser_parse", |b| {
            b.iter(|| Parser::parse_sql(&PostgreSqlDialect {}, black_box(text)))
        });
        group.bench_function("writ_classify", |b| {
            b.iter(|| classify(black_box(text), Dialect::Postgres))
        });
        let request = Request::sql(principal.clone(), "db", text);
        group.bench_function("writ_check", |b| b.iter(|| engine.check(black_box(&request))));
        group.bench_function("writ_check_repeated_shared", |b| {
            b.iter(|| cached.check_shared(black_box(&request)))
        });
        group.bench_function("writ_check_repeated", |b| {
            b.iter(|| cached.check(black_box(&request)))
        });
        group.finish();
    }
}

criterion_group!(benches, sql);
criterion_main!(benches);
