//! Rough single-thread throughput of `Detectors::mask_text`.
//!
//! `cargo run --release --example throughput` — builds ~50 MB each of clean
//! prose (no digits, no anchors), clean log lines (digits everywhere but no
//! PII) and PII-dense text, then masks them in ~4 KiB chunks (cut at line
//! ends) with one reused cache, and once as per-line calls.

use std::time::Instant;

use writ::mask::{Detectors, Method};

const TARGET: usize = 50 * 1024 * 1024;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        let i = usize::try_from(self.below(xs.len() as u64)).unwrap_or(0);
        xs.get(i).copied().unwrap_or("")
    }
}

const WORDS: &[&str] = &[
    "the",
    "customer",
    "asked",
    "about",
    "order",
    "status",
    "and",
    "refund",
    "request",
    "was",
    "handled",
    "by",
    "support",
    "team",
    "after",
    "review",
    "shipping",
    "delayed",
    "because",
    "warehouse",
    "inventory",
    "é",
    "naïve",
];

fn prose(rng: &mut Rng) -> String {
    let mut s = String::with_capacity(TARGET + 256);
    while s.len() < TARGET {
        for _ in 0..12 {
            s.push_str(rng.pick(WORDS));
            s.push(' ');
        }
        s.push_str("done.\n");
    }
    s
}

fn logs(rng: &mut Rng) -> String {
    let mut s = String::with_capacity(TARGET + 256);
    while s.len() < TARGET {
        let line = format!(
            "2026-11-{:02}T{:02}:{:02}:{:02}.{:03}Z INFO req={} {} {} {} took {} ms v1.{}.{}\n",
            1 + rng.below(28),
            rng.below(24),
            rng.below(60),
            rng.below(60),
            rng.below(1000),
            rng.below(1_000_000),
            rng.pick(WORDS),
            rng.pick(WORDS),
            rng.pick(WORDS),
            rng.below(5000),
            rng.below(20),
            rng.below(50),
        );
        s.push_str(&line);
    }
    s
}

fn dense(rng: &mut Rng) -> String {
    let mut s = String::with_capacity(TARGET + 256);
    while s.len() < TARGET {
        let line = format!(
            "user=u{}@example.com card=4111 1111 1111 1111 ip=10.{}.{}.{} phone=+1 415 555 {:04} ssn=078-05-1120 key=AKIAIOSFODNN7EXAMPLE {}\n",
            rng.below(100_000),
            rng.below(256),
            rng.below(256),
            rng.below(256),
            rng.below(10_000),
            rng.pick(WORDS),
        );
        s.push_str(&line);
    }
    s
}

fn chunks(text: &str, size: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut cut = size.min(rest.len());
        while cut < rest.len() && !rest.is_char_boundary(cut) {
            cut += 1;
        }
        if let Some(nl) = rest.get(cut..).and_then(|r| r.find('\n')) {
            cut += nl + 1;
        } else {
            cut = rest.len();
        }
        let (a, b) = rest.split_at(cut);
        out.push(a);
        rest = b;
    }
    out
}

fn run(d: &Detectors, name: &str, text: &str, pieces: &[&str]) {
    let mut cache = d.create_cache();
    // Warm up caches.
    for p in pieces.iter().take(64) {
        std::hint::black_box(d.mask_text(p, Some(&mut cache)));
    }
    let t = Instant::now();
    let mut masked = 0usize;
    for p in pieces {
        let m = d.mask_text(p, Some(&mut cache));
        masked += m.counts.iter().map(|(_, n)| n).sum::<usize>();
        std::hint::black_box(&m);
    }
    let secs = t.elapsed().as_secs_f64();
    let mb = text.len() as f64 / (1024.0 * 1024.0);
    println!(
        "{name:<34} {mb:7.1} MiB in {:7.3} s = {:8.1} MiB/s  ({} calls, {masked} values masked)",
        secs,
        mb / secs,
        pieces.len()
    );
}

fn main() {
    let d = match Detectors::builder()
        .hmac_key(b"benchmark-key-0123456789".to_vec())
        .default_method(Method::Redact { token: None })
        .build()
    {
        Ok(d) => d,
        Err(e) => {
            eprintln!("build failed: {e}");
            return;
        }
    };
    let mut rng = Rng(0x1234_5678_9ABC_DEF1);
    let clean = prose(&mut rng);
    let log = logs(&mut rng);
    let pii = dense(&mut rng);

    run(&d, "clean prose, 4 KiB chunks", &clean, &chunks(&clean, 4096));
    run(&d, "clean prose, one 50 MiB call", &clean, &[clean.as_str()]);
    run(
        &d,
        "clean prose, per line (~100 B)",
        &clean,
        &clean.split_inclusive('\n').collect::<Vec<_>>(),
    );
    run(&d, "clean logs (digits), 4 KiB chunks", &log, &chunks(&log, 4096));
    run(&d, "PII-dense, 4 KiB chunks", &pii, &chunks(&pii, 4096));
    run(&d, "PII-dense, per line", &pii, &pii.split_inclusive('\n').collect::<Vec<_>>());
}
