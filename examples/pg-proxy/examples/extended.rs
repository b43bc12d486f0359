//! Extended-protocol checks through the proxy with the `postgres` crate (Parse / Describe /
//! Bind / Execute / Sync, binary results). Used by `run-test`:
//!
//! ```text
//! cargo run -p writ-pg-proxy --example extended -- "host=127.0.0.1 port=6432 user=postgres dbname=writ_proxy"
//! ```
//!
//! Prints every comparison; exits non-zero on the first mismatch.

use std::process::ExitCode;

use postgres::{Client, NoTls};

fn main() -> ExitCode {
    let Some(conninfo) = std::env::args().nth(1) else {
        eprintln!("usage: extended CONNINFO");
        return ExitCode::from(2);
    };
    match run(&conninfo) {
        Ok(n) => {
            println!("extended protocol: {n} checks passed");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("FAIL: {e}");
            ExitCode::FAILURE
        }
    }
}

fn same<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> Result<(), String> {
    println!("  {what}: got {got:?}, want {want:?}");
    if got == want { Ok(()) } else { Err(format!("{what}: got {got:?}, want {want:?}")) }
}

fn refused(
    what: &str,
    result: Result<impl std::fmt::Debug, postgres::Error>,
    needle: &str,
) -> Result<(), String> {
    let err = match result {
        Ok(v) => return Err(format!("{what}: expected an error, got {v:?}")),
        Err(e) => e,
    };
    let db = err.as_db_error().ok_or_else(|| format!("{what}: not a server error: {err}"))?;
    println!("  {what}: {} {}", db.code().code(), db.message());
    if db.code().code() != "42501"
        || !db.message().starts_with("writ: ")
        || !db.message().contains(needle)
    {
        return Err(format!("{what}: unexpected error {} {}", db.code().code(), db.message()));
    }
    Ok(())
}

fn run(conninfo: &str) -> Result<usize, String> {
    let mut c = Client::connect(conninfo, NoTls).map_err(|e| format!("connect: {e}"))?;
    let mut checks = 0;
    let e = |e: postgres::Error| e.to_string();

    // A prepared, allowed statement: binary results; id (int4) untouched, text columns masked.
    let stmt = c.prepare("SELECT id, name, email, ssn FROM customers WHERE id = $1").map_err(e)?;
    let rows = c.query(&stmt, &[&1i32]).map_err(e)?;
    same("rows of id 1", rows.len(), 1)?;
    let row = rows.first().ok_or("no row")?;
    same("id", row.get::<_, i32>(0), 1)?;
    same("name", row.get::<_, String>(1), "Ann Lee".to_owned())?;
    same("email (masked)", row.get::<_, String>(2), "***@example.com".to_owned())?;
    same("ssn (masked)", row.get::<_, String>(3), "***-**-6789".to_owned())?;
    checks += 5;

    // The same statement again with another parameter: the plan is remembered per statement.
    let rows = c.query(&stmt, &[&2i32]).map_err(e)?;
    let row = rows.first().ok_or("no row")?;
    same("email of id 2 (masked)", row.get::<_, String>(2), "***@example.org".to_owned())?;
    checks += 1;

    // A denied Parse: the error comes back, the statement never reaches the server.
    refused("prepare DELETE", c.prepare("DELETE FROM customers WHERE id = $1"), "denied")?;
    refused(
        "prepare UPDATE",
        c.prepare("UPDATE customers SET name = $1 WHERE id = 2"),
        "approval required",
    )?;
    checks += 2;

    // A masked bigint column in binary format cannot be masked: the result is refused.
    refused("binary masked card", c.query("SELECT id, card FROM customers", &[]), "binary format")?;
    checks += 1;

    // The connection is still usable, and the unmasked columns are untouched.
    let rows = c.query("SELECT id, name FROM customers ORDER BY id", &[]).map_err(e)?;
    let names: Vec<String> = rows.iter().map(|r| r.get(1)).collect();
    same("names after refusals", names, vec!["Ann Lee".to_owned(), "Bo Chen".to_owned()])?;
    checks += 1;

    // A transaction block: the refusal keeps the block's status, later reads still work.
    let mut tx = c.transaction().map_err(e)?;
    refused(
        "DELETE in a transaction",
        tx.execute("DELETE FROM customers WHERE id = 2", &[]),
        "denied",
    )?;
    let n: i64 = tx.query_one("SELECT count(*) FROM customers", &[]).map_err(e)?.get(0);
    same("count in the same transaction", n, 2)?;
    tx.rollback().map_err(e)?;
    checks += 2;
    Ok(checks)
}
