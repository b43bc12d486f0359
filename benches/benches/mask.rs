//! Content masking (`Detectors::mask_text`, every built-in detector) next to the practical
//! limits on the same bytes, in one run: a `memchr` for a byte the text never holds (memory
//! bandwidth) and the aho-corasick crate's SIMD (Teddy) searches for writ's secret anchors and
//! the AWS secret context words (the multi-literal prefilter alone, as writ makes it). One generated corpus per kind (`writ_benches::corpus`), 1 MiB cut into ~4 KiB pieces
//! at line ends, one reused `ScanCache`.
#![expect(clippy::panic, reason = "a bench whose setup fails must stop loudly")]
#![allow(missing_docs, reason = "criterion_group! generates undocumented functions")]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use writ::mask::{Detectors, Method};
use writ_benches::corpus::{AnchorSearch, KINDS, SEED, chunks};

fn mask(c: &mut Criterion) {
    let detectors = Detectors::builder()
        .default_method(Method::Redact { token: None })
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    // The SIMD (Teddy) searchers of the aho-corasick crate, as writ's own anchor search uses.
    let ac = AnchorSearch::new()
        .unwrap_or_else(|| panic!("the packed aho-corasick searcher is not available"));
    let mut cache = detectors.create_cache();
    for kind in KINDS {
        let text = kind.generate(1024 * 1024, SEED);
        let pieces = chunks(&text, 4096);
        let masked: usize = pieces
            .iter()
            .map(|p| {
                detectors
                    .mask_text(p, Some(&mut cache))
                    .counts
                    .iter()
                    .map(|(_, n)| n)
                    .sum::<usize>()
            })
            .sum();
        assert_eq!(kind.clean(), masked == 0, "{}: {masked} values masked", kind.name());
        let mut group = c.benchmark_group(format!("mask/{}", kind.name()));
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function("memchr_absent_byte", |b| {
            b.iter(|| {
                pieces
                    .iter()
                    .filter(|p| memchr::memchr(0x01, black_box(p.as_bytes())).is_some())
                    .count()
            })
        });
        group.bench_function("aho_corasick_anchors", |b| {
            b.iter(|| pieces.iter().map(|p| ac.count(black_box(*p))).sum::<usize>())
        });
        group.bench_function("writ_mask_text", |b| {
            b.iter(|| {
                pieces
                    .iter()
                    .map(|p| detectors.mask_text(black_box(p), Some(&mut cache)).counts.len())
                    .sum::<usize>()
            })
        });
        group.finish();
    }
}

criterion_group!(benches, mask);
criterion_main!(benches);
