//! Benchmark inputs shared by the benches in `benches/benches/`.

/// A typical short statement (about 150 bytes).
pub const SHORT_SELECT: &str = "SELECT id, email, created_at FROM public.users WHERE status = 'active' AND created_at > now() - interval '7 days' ORDER BY created_at DESC LIMIT 50";

/// A join-heavy analytical query.
pub const JOIN_QUERY: &str = "SELECT c.id, c.name, sum(o.total) AS revenue, count(DISTINCT i.product_id) AS products \
FROM customers c JOIN orders o ON o.customer_id = c.id JOIN order_items i ON i.order_id = o.id \
LEFT JOIN products p ON p.id = i.product_id LEFT JOIN regions r ON r.id = c.region_id \
WHERE o.created_at >= '2026-01-01' AND p.category IN (SELECT category FROM featured_categories WHERE active) \
GROUP BY c.id, c.name HAVING sum(o.total) > 1000 ORDER BY revenue DESC LIMIT 100";

/// A 20-statement migration-style script.
pub fn script_20() -> String {
    (0..20)
        .map(|i| match i % 4 {
            0 => format!("INSERT INTO audit_log (id, note) VALUES ({i}, 'step {i}')"),
            1 => format!("UPDATE accounts SET tier = 'gold' WHERE id = {i}"),
            2 => format!("SELECT count(*) FROM orders WHERE customer_id = {i}"),
            _ => format!("DELETE FROM sessions WHERE user_id = {i} AND expires_at < now()"),
        })
        .collect::<Vec<_>>()
        .join(";\n")
}

/// The policy the engine benches check against.
pub const POLICY: &str = "version: 1
resources:
  - {name: db, kind: postgres, default_schema: public}
rules:
  - id: no-destructive
    effect: deny
    when: {sql: {kinds: [drop, truncate]}}
  - id: no-unbounded
    effect: deny
    when: {sql: {flags: [no_where]}}
  - id: reads
    effect: allow
    when: {sql: {read_only: true, tables: [\"public.*\"]}}
  - id: writes
    effect: allow
    when: {groups: [writers], sql: {kinds: [select, insert, update, delete]}}
";

/// True when the bench binary runs as a benchmark (`cargo bench`), false when `cargo test`
/// runs it once as a test: benches use it to keep their debug-mode setup short.
pub fn measuring() -> bool {
    std::env::args().any(|a| a == "--bench")
}

pub mod corpus;
pub mod groups;
pub mod policies;
