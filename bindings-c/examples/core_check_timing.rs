//! The same check as `tests/c/bench.c`, through `writ::Host::check` in Rust: the baseline the
//! C ABI's call overhead is measured against (`WRIT_C_BENCH=1 ./scripts/test-c`).
//!
//! Usage: `cargo run --release -p writ-c --example core_check_timing -- policies/data-agents`

use std::process::ExitCode;
use std::time::Instant;

use writ_core::{Effect, Engine, Host, Principal, Request};

const SQL: &str = "SELECT o.id, o.total, c.region FROM orders o JOIN customers c ON c.id = \
                   o.customer_id WHERE o.created_at > now() - interval '7 days' ORDER BY \
                   o.total DESC LIMIT 50";

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: core_check_timing POLICY_DIR");
        return ExitCode::from(2);
    };
    let engine = match Engine::from_path(&path) {
        Ok(engine) => engine,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let host = Host::new(engine);
    let principal = Principal::new("agent:analytics", ["analysts"]);
    let n = 20_000_u32;
    let mut per_call = 0.0;
    for _ in 0..2 {
        let start = Instant::now();
        for _ in 0..n {
            // Built per call, as the C ABI does from its arguments.
            let request = Request::sql(principal.clone(), "warehouse", SQL);
            if host.check(&request).decision.effect != Effect::Allow {
                eprintln!("error: the statement was not allowed");
                return ExitCode::FAILURE;
            }
        }
        per_call = start.elapsed().as_secs_f64() * 1e9 / f64::from(n);
    }
    println!("core: Host::check {per_call:.0} ns/call ({}-byte statement)", SQL.len());
    // Refused before any rule (an undeclared resource): mostly fixed per-call costs.
    let n = n * 10;
    for _ in 0..2 {
        let start = Instant::now();
        for _ in 0..n {
            let request = Request::sql(principal.clone(), "nowhere", "SELECT 1");
            if host.check(&request).decision.effect != Effect::Deny {
                eprintln!("error: an undeclared resource was not denied");
                return ExitCode::FAILURE;
            }
        }
        per_call = start.elapsed().as_secs_f64() * 1e9 / f64::from(n);
    }
    println!("core: Host::check {per_call:.0} ns/call on an undeclared resource");
    ExitCode::SUCCESS
}
