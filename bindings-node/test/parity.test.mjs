// Front-end parity: every request of e2e/parity/requests.jsonl, checked through the Node binding
// (the line's request as JSON.parse gives it, through Engine.check and Engine.checkAsync),
// gives exactly the decision of its line in e2e/parity/decisions.jsonl: the JSON that
// `writ eval` prints and the Rust, Python and C suites compare with (see e2e/parity/README.md).
//
// A Node decision is a native `Decision` whose getters convert on read; its JSON
// (`JSON.stringify`, through `toJSON()`) has the contract's fields (effect, rules, reason,
// digest, policy, parts, view, mask) plus what the host adds (maskedColumns, principal,
// resource, delegates, approval). The contract's fields of the parsed JSON are compared
// exactly with the golden decision, and so are the getters'. An absent field is left out of
// the JSON (and reads `undefined`): no `view` stands for the golden JSON's `"view": null`,
// and no `mask` for the golden JSON leaving it out.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { Decision, Engine } = require('../index.js')

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const parity = join(repo, 'e2e', 'parity')
// The fixed clock every front end is given (no request of the set depends on it).
const NOW = 1_767_225_600
const CONTRACT = ['effect', 'rules', 'reason', 'digest', 'policy', 'parts', 'view', 'mask']
const HOST_FIELDS = ['maskedColumns', 'principal', 'resource', 'delegates', 'approval']

function lines(name) {
  const text = readFileSync(join(parity, name), 'utf8')
  assert.ok(text.endsWith('\n'), `${name} ends with a newline`)
  return text.slice(0, -1).split('\n')
}

const requests = lines('requests.jsonl').map((line) => JSON.parse(line))
const golden = lines('decisions.jsonl').map((line) => JSON.parse(line))
const goldenById = new Map(golden.map((g) => [g.id, g]))

const engines = new Map()
function engineFor(pack) {
  if (!engines.has(pack)) engines.set(pack, Engine.fromPath(join(repo, 'policies', pack), { now: NOW }))
  return engines.get(pack)
}

// The JSON contract's part of a Node decision's JSON, as the golden JSON carries it.
function contract(decision) {
  assert.ok(decision instanceof Decision, 'a native Decision')
  const json = JSON.parse(JSON.stringify(decision))
  const viaGetters = contractOf(Object.fromEntries(CONTRACT.concat(HOST_FIELDS).filter((k) => decision[k] !== undefined).map((k) => [k, decision[k]])))
  const out = contractOf(json)
  assert.deepEqual(viaGetters, out, 'the getters say what the JSON says')
  return out
}

function contractOf(decision) {
  for (const key of Object.keys(decision)) {
    assert.ok(CONTRACT.includes(key) || HOST_FIELDS.includes(key), `unexpected field ${key}`)
  }
  const out = {}
  for (const key of CONTRACT) {
    const value = decision[key]
    if (key === 'view' && value === undefined) out.view = null
    else if (key === 'mask' && (value === undefined || value === null)) continue
    else {
      assert.ok(value !== undefined, `missing field ${key}`)
      out[key] = value
    }
  }
  return out
}

test('the golden file has one line per request, in order', () => {
  const requested = requests.map((r) => r.id)
  const decided = golden.map((g) => g.id)
  assert.deepEqual(
    requested.filter((id) => !goldenById.has(id)),
    [],
    'requests without a golden line',
  )
  assert.deepEqual(
    decided.filter((id) => !requested.includes(id)),
    [],
    'golden lines without a request',
  )
  assert.deepEqual(decided, requested, 'same ids in the same order')
  assert.equal(new Set(requested).size, requested.length, 'unique ids')
})

for (const { id, pack, request } of requests) {
  test(id, async () => {
    const expected = goldenById.get(id)
    assert.ok(expected, `${id} has a golden line`)
    const engine = engineFor(pack)
    if ('error' in expected) {
      assert.deepEqual(expected, { id, error: 'invalid request' })
      assert.throws(() => engine.check(request), { code: 'WRIT_REQUEST' })
      await assert.rejects(engine.checkAsync(request), { code: 'WRIT_REQUEST' })
      return
    }
    assert.deepEqual(contract(engine.check(request)), expected.decision)
    assert.deepEqual(contract(await engine.checkAsync(request)), expected.decision)
  })
}
