//! Content-masking throughput per corpus, next to the practical limits, in one run.
//!
//! ```sh
//! cargo run --release -p writ-benches --example throughput
//! cargo run --release -p writ-benches --example throughput -- --mib 8 --write-corpus target/corpus
//! ```
//!
//! For each corpus of `writ_benches::corpus` (default 16 MiB each, cut into ~4 KiB pieces at
//! line ends, one reused `ScanCache`), prints MiB/s of:
//! - `memchr`: `memchr::memchr` for a byte the text never holds (memory bandwidth);
//! - `aho-corasick`: the SIMD (Teddy, `aho_corasick::packed`) searches for writ's secret
//!   anchors (`AKIA`, `ghp_`, `eyJ`, ...) and the AWS secret context words, counting every
//!   match (the cost of writ's multi-literal prefilter alone);
//! - `writ`: `Detectors::mask_text` with every built-in detector;
//! - `writ presidio`: only the types Presidio's pattern recognizers have (e-mail, phone,
//!   card, IBAN, US SSN, IP), and the same without phone.
//!
//! `--breakdown` adds, per corpus, `Detectors::scan` alone (finding without replacing) and
//! `mask_text` with one detector type at a time, to see where the time goes.
//!
//! `--hostile` instead times one `mask_text` call (every built-in detector, `redact`) on
//! crafted text whose values come free one per rescan, at 64 KiB, 256 KiB and 1 MiB (or the
//! sizes given with `--hostile-kib 64,256`): a chain of IPv6 candidates (`1:2::3::4::5...`),
//! a chain of phones glued by `:` ending in a card (`200-555-0200:201-555-0201:...`) and
//! 4 KiB pieces of PII-dense logs with such a chain of 40 phones every 32 KiB.
//!
//! `--corpus NAME` (repeatable) runs only the named corpora (`rows_pii`, ...), and
//! `--writ-only` skips the `memchr` and aho-corasick columns (printed as 0): both for
//! profiling writ alone.
//!
//! Each figure is the best of several passes. `--write-corpus DIR` also writes every corpus to
//! `DIR/<name>.txt` and the figures to `DIR/writ.tsv` (read by `benches/presidio/run`).

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use writ::mask::{Detectors, EntityType, Method};
use writ_benches::corpus::{AnchorSearch, KINDS, SEED, chunks};

const PIECE: usize = 4096;

fn main() {
    if let Err(message) = run() {
        eprintln!("error: {message}");
        std::process::exit(2);
    }
}

fn detectors(types: Option<&[&str]>) -> Result<Detectors, String> {
    let mut b = Detectors::builder().default_method(Method::Redact { token: None });
    if let Some(types) = types {
        let types: Result<Vec<EntityType>, _> = types.iter().map(|t| t.parse()).collect();
        b = b.only(types.map_err(|e| format!("{e:?}"))?);
    }
    b.build().map_err(|e| e.to_string())
}

/// Best MiB/s of `pass` over `bytes` bytes: at least 3 passes and about a second.
fn measure(bytes: usize, mut pass: impl FnMut() -> usize) -> (f64, usize) {
    let mut best = Duration::MAX;
    let mut result = 0;
    let started = Instant::now();
    let mut passes = 0;
    while passes < 3 || started.elapsed() < Duration::from_millis(1000) {
        let t = Instant::now();
        result = black_box(pass());
        best = best.min(t.elapsed());
        passes += 1;
    }
    (bytes as f64 / (1024.0 * 1024.0) / best.as_secs_f64(), result)
}

fn run() -> Result<(), String> {
    let mut mib = 16usize;
    let mut write: Option<PathBuf> = None;
    let mut breakdown = false;
    let mut hostile: Option<Vec<usize>> = None;
    let mut only: Vec<String> = Vec::new();
    let mut writ_only = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--mib" => {
                mib = args.next().and_then(|v| v.parse().ok()).ok_or("`--mib` needs a number")?;
            }
            "--write-corpus" => {
                write = Some(args.next().ok_or("`--write-corpus` needs a directory")?.into())
            }
            "--breakdown" => breakdown = true,
            "--writ-only" => writ_only = true,
            "--corpus" => {
                let name = args.next().ok_or("`--corpus` needs a corpus name")?;
                if !KINDS.iter().any(|k| k.name() == name) {
                    let names: Vec<&str> = KINDS.iter().map(|k| k.name()).collect();
                    return Err(format!(
                        "unknown corpus `{name}` (expected one of {})",
                        names.join(", ")
                    ));
                }
                only.push(name);
            }
            "--hostile" => hostile = Some(hostile.unwrap_or_else(|| vec![64, 256, 1024])),
            "--hostile-kib" => {
                let sizes = args.next().ok_or("`--hostile-kib` needs sizes")?;
                let sizes: Result<Vec<usize>, _> = sizes.split(',').map(str::parse).collect();
                hostile = Some(sizes.map_err(|_| "`--hostile-kib` needs numbers like 64,256")?);
            }
            other => {
                return Err(format!(
                    "unknown argument `{other}` (expected --mib N, --write-corpus DIR, --breakdown, \
                     --corpus NAME, --writ-only, --hostile, --hostile-kib K,K)"
                ));
            }
        }
    }
    let all = detectors(None)?;
    if let Some(sizes) = hostile {
        return run_hostile(&all, &sizes);
    }
    let presidio_types = ["email", "phone", "credit_card", "iban", "us_ssn", "ipv4", "ipv6"];
    let presidio = detectors(Some(&presidio_types))?;
    let no_phone = detectors(
        Some(&presidio_types[..])
            .map(|t| t.iter().copied().filter(|t| *t != "phone").collect::<Vec<_>>())
            .as_deref(),
    )?;
    // The SIMD (Teddy) searchers of the aho-corasick crate, as writ's own anchor search uses.
    let ac = AnchorSearch::new()
        .ok_or("the packed aho-corasick searcher is not available on this CPU")?;
    if let Some(dir) = &write {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    }
    let mut tsv = String::from(
        "corpus\tbytes\tmemchr\taho_corasick\twrit\twrit_presidio\twrit_presidio_no_phone\tfindings\n",
    );
    println!(
        "{:<14} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}   (MiB/s; {PIECE}-byte pieces)",
        "corpus", "MiB", "memchr", "aho-cor.", "writ", "presidio", "no phone", "findings"
    );
    for kind in KINDS {
        if !only.is_empty() && !only.iter().any(|n| n == kind.name()) {
            continue;
        }
        let text = kind.generate(mib * 1024 * 1024, SEED);
        if let Some(dir) = &write {
            let path = dir.join(format!("{}.txt", kind.name()));
            std::fs::write(&path, &text)
                .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
        }
        let pieces = chunks(&text, PIECE);
        let (memchr, aho) = if writ_only {
            (0.0, 0.0)
        } else {
            let (memchr, _) = measure(text.len(), || {
                pieces.iter().filter(|p| memchr::memchr(0x01, p.as_bytes()).is_some()).count()
            });
            (memchr, measure(text.len(), || pieces.iter().map(|p| ac.count(p)).sum()).0)
        };
        let mask = |d: &Detectors| {
            let mut cache = d.create_cache();
            measure(text.len(), || {
                pieces
                    .iter()
                    .map(|p| {
                        d.mask_text(p, Some(&mut cache))
                            .counts
                            .iter()
                            .map(|(_, n)| n)
                            .sum::<usize>()
                    })
                    .sum()
            })
        };
        let (w, findings) = mask(&all);
        let (wp, _) = mask(&presidio);
        let (wn, _) = mask(&no_phone);
        let mb = text.len() as f64 / (1024.0 * 1024.0);
        println!(
            "{:<14} {mb:>8.1} {memchr:>9.0} {aho:>9.0} {w:>9.0} {wp:>9.0} {wn:>9.0} {findings:>9}",
            kind.name()
        );
        if breakdown {
            let mut cache = all.create_cache();
            let mut found = Vec::new();
            let (scan, _) = measure(text.len(), || {
                pieces
                    .iter()
                    .map(|p| {
                        all.scan_into(p, Some(&mut cache), &mut found);
                        found.len()
                    })
                    .sum()
            });
            let mut parts = vec![format!("scan only {scan:.0}")];
            for t in EntityType::BUILTIN {
                let one = detectors(Some(&[t.as_str()]))?;
                let (speed, n) = mask(&one);
                parts.push(format!("{t} {speed:.0} ({n})"));
            }
            println!("    {}", parts.join(", "));
        }
        if kind.clean() && findings > 0 {
            eprintln!(
                "warning: {} is meant to be clean but {findings} values were masked",
                kind.name()
            );
        }
        tsv.push_str(&format!(
            "{}\t{}\t{memchr:.1}\t{aho:.1}\t{w:.1}\t{wp:.1}\t{wn:.1}\t{findings}\n",
            kind.name(),
            text.len()
        ));
    }
    if let Some(dir) = &write {
        let path = dir.join("writ.tsv");
        std::fs::write(&path, tsv)
            .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
    }
    Ok(())
}

/// `1:2::3::4::5...`: each `::x` comes free only once the address before it is masked.
fn ipv6_chain(len: usize) -> String {
    let mut s = String::from("1:2::3");
    let mut i = 4u32;
    while s.len() < len {
        s.push_str(&format!("::{}", i % 9999 + 1));
        i += 1;
    }
    s
}

/// `200-555-0200:201-555-0201:...4000000000000002`: a phone followed by `:` and a digit is
/// not one, so each pass frees the phone before the last one masked.
fn phone_chain(len: usize) -> String {
    let mut s = String::new();
    let mut i = 0u32;
    while s.len() < len {
        s.push_str(&format!("{}-555-{:04}:", 200 + i % 700, i % 10_000));
        i += 1;
    }
    s.push_str("4000000000000002");
    s
}

fn run_hostile(d: &Detectors, sizes: &[usize]) -> Result<(), String> {
    println!("{:<28} {:>8} {:>12} {:>10}", "hostile text", "KiB", "ms per call", "masked");
    for &kib in sizes {
        let len = kib * 1024;
        let mut dense = String::new();
        let logs = KINDS.iter().find(|k| k.name() == "logs_pii").ok_or("no logs_pii corpus")?;
        let base = logs.generate(len, SEED);
        for (i, line) in base.lines().enumerate() {
            dense.push_str(line);
            dense.push('\n');
            if i % 256 == 0 {
                dense.push_str(&phone_chain(40 * 13));
                dense.push('\n');
            }
        }
        let texts = [("ipv6 chain", ipv6_chain(len)), ("phone/card chain", phone_chain(len))];
        let mut cache = d.create_cache();
        for (name, text) in &texts {
            let (ms, masked) = time_call(|| {
                d.mask_text(text, Some(&mut cache)).counts.iter().map(|(_, n)| n).sum()
            });
            println!("{name:<28} {kib:>8} {ms:>12.1} {masked:>10}");
        }
        let pieces = chunks(&dense, PIECE);
        let (ms, masked) = time_call(|| {
            pieces
                .iter()
                .map(|p| {
                    d.mask_text(p, Some(&mut cache)).counts.iter().map(|(_, n)| n).sum::<usize>()
                })
                .sum()
        });
        println!(
            "{:<28} {:>8} {ms:>12.1} {masked:>10}",
            "PII-dense logs + chains",
            dense.len() / 1024
        );
    }
    Ok(())
}

/// Best wall time of `call` in milliseconds: at least one call, up to 5 within 3 seconds.
fn time_call(mut call: impl FnMut() -> usize) -> (f64, usize) {
    let started = Instant::now();
    let mut best = Duration::MAX;
    let mut result = 0;
    let mut calls = 0;
    while calls < 1 || (calls < 5 && started.elapsed() < Duration::from_secs(3)) {
        let t = Instant::now();
        result = black_box(call());
        best = best.min(t.elapsed());
        calls += 1;
    }
    (best.as_secs_f64() * 1000.0, result)
}
