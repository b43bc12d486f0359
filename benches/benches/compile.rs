//! Policy compile time: `Engine::from_yaml` on generated policies of 10 to 10,000 rules (SQL,
//! command and tool rules mixed, see `writ_benches::policies`), next to reading the same YAML
//! into the document model alone (`serde_norway` into `PolicyDocument`), the part of the work
//! no compiler of this format can skip.
#![expect(clippy::panic, reason = "a bench whose setup fails must stop loudly")]
#![allow(missing_docs, reason = "criterion_group! generates undocumented functions")]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use writ::Engine;
use writ::policy::PolicyDocument;
use writ_benches::measuring;
use writ_benches::policies::mixed;

fn compile(c: &mut Criterion) {
    // `cargo test` runs this once in debug: the 10,000-rule policy would take minutes there.
    let sizes: &[usize] = if measuring() { &[10, 100, 1_000, 10_000] } else { &[10, 100, 1_000] };
    for &rules in sizes {
        let text = mixed(rules);
        let engine = Engine::from_yaml(&text).unwrap_or_else(|e| panic!("{rules} rules: {e}"));
        assert_eq!(engine.rule_count(), rules);
        let mut group = c.benchmark_group(format!("compile/{rules}_rules"));
        // Per rule, so the growth with size reads directly off criterion's throughput line.
        group.throughput(Throughput::Elements(rules as u64));
        if rules >= 1_000 {
            group.sample_size(10);
        }
        group.bench_function("yaml_to_document", |b| {
            b.iter(|| serde_norway::from_str::<PolicyDocument>(black_box(&text)))
        });
        group.bench_function("writ_from_yaml", |b| b.iter(|| Engine::from_yaml(black_box(&text))));
        group.finish();
    }
}

criterion_group!(benches, compile);
criterion_main!(benches);
