// Call overhead of the Node binding: `engine.checkSql` from JS against the same check made
// from Rust (`examples/core_check.rs`), same policy, statement and host (no audit sink).
// A timing script, not a test. Build both in release first:
//
//   npm run build:release
//   cargo build --release --example core_check -p writ-node --target <host triple>
//   node bench/overhead.mjs [path/to/core_check]
//
// Prints wall-clock ns per call for: the core alone, guard(sql) and guard(sql, slot) (the
// function `checker.sqlGuard()` returns: no method call), checker.checkSqlInto (a Checker bound
// to the principal and resource: only the statement is converted), checkSqlInto (the effect,
// the decision kept in a reused DecisionSlot: no object made per call), checkSql, checkSql
// reading `effect`, checkSql then `toJSON()` (every field converted: what each call built
// before decisions were native objects), check(request object), and checkSql on an engine
// made with `{views: false}`: the best of ROUNDS (5) rounds of ITERATIONS (100,000) calls
// each, the rounds interleaving the paths and the core's runs. On a loaded machine, compare CPU
// too (`perf stat`, or run it twice).
import { execFileSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { Engine, DecisionSlot } = require('../index.js')
const here = dirname(fileURLToPath(import.meta.url))
const policy = join(here, '..', '..', 'policies', 'data-agents')
const resource = 'warehouse'
const principal = 'agent:analytics'
const sql = 'SELECT o.id, o.total, c.region FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.total > 100 ORDER BY o.total DESC LIMIT 50'
const N = Number(process.env.ITERATIONS ?? 100000)
const ROUNDS = Number(process.env.ROUNDS ?? 5)

// ns per call of one round of N calls. The event loop turns every 1,000 calls, as it does
// between requests in a server: Node runs the finalizers of native objects (the decisions)
// from the loop, so a loop that never yields keeps every decision's memory and slows down.
async function round(fn) {
  const start = process.hrtime.bigint()
  for (let i = 0; i < N; i += 1000) {
    for (let j = 0; j < 1000; j++) fn()
    await new Promise(setImmediate)
  }
  return Number(process.hrtime.bigint() - start) / N
}

const engine = Engine.fromPath(policy)
const groups = []
const first = engine.checkSql(principal, resource, sql, groups)
const request = { principal: { id: principal, groups }, resource, action: { sql } }
const lean = Engine.fromPath(policy, { views: false })
const slot = new DecisionSlot()
const checker = engine.checker(principal, resource, groups)
const guard = checker.sqlGuard()
const paths = [
  ['guard(sql)', () => guard(sql)],
  ['guard(sql, slot)', () => guard(sql, slot)],
  ['checker.checkSqlInto(slot, sql)', () => checker.checkSqlInto(slot, sql)],
  ['checkSqlInto(slot, ...)', () => engine.checkSqlInto(slot, principal, resource, sql, groups)],
  ['checkSql', () => engine.checkSql(principal, resource, sql, groups)],
  ['checkSql(...).effect', () => engine.checkSql(principal, resource, sql, groups).effect],
  ['checkSql(...).toJSON()', () => engine.checkSql(principal, resource, sql, groups).toJSON()],
  ['check(request)', () => engine.check(request)],
  ['checkSql, views: false', () => lean.checkSql(principal, resource, sql, groups)],
]
for (const [, fn] of paths) await round(fn)

// Rounds interleave the paths (and the core's process) so that a change of load between
// them shows in all; each path keeps its best round.
const coreBin = process.argv[2]
const best = new Map()
const keep = (label, ns) => best.set(label, Math.min(best.get(label) ?? Infinity, ns))
for (let r = 0; r < ROUNDS; r++) {
  if (coreBin) {
    const out = execFileSync(coreBin, [policy, resource, principal, sql, String(N)], { encoding: 'utf8' })
    keep('core', JSON.parse(out).core_ns_per_check)
  }
  for (const [label, fn] of paths) keep(label, await round(fn))
}
const core = best.get('core') ?? null
console.log(`decision: ${first.effect} (${first.rules.join(', ')}); best of ${ROUNDS} rounds of ${N} calls`)
if (core !== null) console.log(`core (Rust, Host::check)      ${core.toFixed(0).padStart(7)} ns`)
for (const [label] of paths) {
  const ns = best.get(label)
  const over = core !== null ? `  (${ns - core >= 0 ? '+' : ''}${(ns - core).toFixed(0)} ns over the core)` : ''
  console.log(`${label.padEnd(30)}${ns.toFixed(0).padStart(7)} ns${over}`)
}
