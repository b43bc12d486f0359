// Call overhead of the Node binding: `engine.checkSql` from JS against the same check made
// from Rust (`examples/core_check.rs`), same policy, statement and host (no audit sink).
// A timing script, not a test. Build both in release first:
//
//   npm run build:release
//   cargo build --release --example core_check -p writ-node --target <host triple>
//   node bench/overhead.mjs [path/to/core_check]
//
// Prints wall-clock ns per call for: the core alone, checkSql, check(request object), and
// checkSql on an engine made with `{views: false}` (no `view` in decisions). On a loaded
// machine, compare CPU time too (`perf stat`, or run it twice).
import { execFileSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { Engine } = require('../index.js')
const here = dirname(fileURLToPath(import.meta.url))
const policy = join(here, '..', '..', 'policies', 'data-agents')
const resource = 'warehouse'
const principal = 'agent:analytics'
const sql = 'SELECT o.id, o.total, c.region FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.total > 100 ORDER BY o.total DESC LIMIT 50'
const N = Number(process.env.ITERATIONS ?? 200000)

function time(label, fn) {
  for (let i = 0; i < N / 10; i++) fn()
  const start = process.hrtime.bigint()
  for (let i = 0; i < N; i++) fn()
  const ns = Number(process.hrtime.bigint() - start) / N
  return [label, ns]
}

const engine = Engine.fromPath(policy)
const groups = []
const first = engine.checkSql(principal, resource, sql, groups)
const request = { principal: { id: principal, groups }, resource, action: { sql } }
const lean = Engine.fromPath(policy, { views: false })
const rows = [
  time('checkSql', () => engine.checkSql(principal, resource, sql, groups)),
  time('check(request)', () => engine.check(request)),
  time('checkSql, views: false', () => lean.checkSql(principal, resource, sql, groups)),
]

const coreBin = process.argv[2]
let core = null
if (coreBin) {
  const out = execFileSync(coreBin, [policy, resource, principal, sql, String(N)], { encoding: 'utf8' })
  core = JSON.parse(out).core_ns_per_check
}
console.log(`decision: ${first.effect} (${first.rules.join(', ')}); ${N} iterations`)
if (core !== null) console.log(`core (Rust, Host::check)      ${core.toFixed(0).padStart(7)} ns`)
for (const [label, ns] of rows) {
  const over = core !== null ? `  (+${(ns - core).toFixed(0)} ns over the core)` : ''
  console.log(`${label.padEnd(30)}${ns.toFixed(0).padStart(7)} ns${over}`)
}
