//! The core's cost of one check, for comparison with `bench/overhead.mjs` (the same policy,
//! statement and host, called from Rust): `cargo run --release --example core_check -p
//! writ-node -- POLICY RESOURCE PRINCIPAL SQL ITERATIONS`.

use std::process::ExitCode;
use std::time::Instant;

use writ::{Host, Principal, Request};

// The addon's allocator, so the difference measured is the binding's, not the allocators'.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [policy, resource, principal, sql, iterations] = args.as_slice() else {
        eprintln!("usage: core_check POLICY RESOURCE PRINCIPAL SQL ITERATIONS");
        return ExitCode::from(2);
    };
    let Ok(iterations) = iterations.parse::<u32>() else {
        eprintln!("ITERATIONS must be a number");
        return ExitCode::from(2);
    };
    let engine = match writ::Engine::from_path(policy) {
        Ok(engine) => engine,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let host = Host::new(engine);
    let principal = Principal::new(principal.as_str(), Vec::<String>::new());
    // As `checkSql` does: build the request, check it, look at the decision.
    let run = |n: u32| {
        let started = Instant::now();
        let mut allowed = 0u32;
        for _ in 0..n {
            let request = Request::sql(principal.clone(), resource.as_str(), sql.as_str());
            let checked = host.check(&request);
            allowed += u32::from(checked.decision.is_allowed());
        }
        (started.elapsed(), allowed)
    };
    run(iterations / 10 + 1);
    let (elapsed, allowed) = run(iterations);
    let per = elapsed.as_nanos() as f64 / f64::from(iterations.max(1));
    println!("{{\"core_ns_per_check\": {per:.0}, \"allowed\": {allowed}}}");
    ExitCode::SUCCESS
}
