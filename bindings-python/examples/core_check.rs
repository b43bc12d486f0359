//! The core side of the binding-overhead measurement (`bench/overhead.py`): the same checks
//! through `writ::Host` directly, in ns per call. Run with
//! `cargo run --release -p writ-python --example core_check -- POLICY_DIR`.

use std::time::Instant;

use writ::{Engine, Host, Principal, Request};

const SQL: &str = "SELECT id, total FROM orders WHERE total > 100";

fn main() -> std::process::ExitCode {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: core_check POLICY_DIR");
        return std::process::ExitCode::from(2);
    };
    let engine = match Engine::from_path(&dir) {
        Ok(engine) => engine,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    let host = Host::new(engine);
    let iterations = 200_000u32;
    let mut best = f64::MAX;
    for _ in 0..5 {
        let started = Instant::now();
        for _ in 0..iterations {
            // The binding builds the request from its arguments on every call: so does this.
            let request = Request::sql(
                Principal::new("agent:analytics", ["analysts"]),
                "warehouse",
                SQL.to_owned(),
            );
            let checked = host.check(&request);
            std::hint::black_box(&checked);
        }
        best = best.min(started.elapsed().as_nanos() as f64 / f64::from(iterations));
    }
    println!("{{\"core_check_sql_ns\": {best:.1}}}");
    std::process::ExitCode::SUCCESS
}
