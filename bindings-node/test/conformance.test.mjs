// The shared conformance corpus: every case of every `policies/<pack>/*.test.yaml`, checked
// through the Node binding (request built from the YAML, decided by Engine.check) and compared
// with the expected effect, rules (a subset of the deciding rules) and masked columns (exact).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import YAML from 'yaml'

const require = createRequire(import.meta.url)
const { Engine } = require('../index.js')

const policies = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'policies')
const testFile = /\.test\.(ya?ml|json)$/

const files = readdirSync(policies)
  .map((pack) => join(policies, pack))
  .filter((dir) => statSync(dir).isDirectory())
  .flatMap((dir) =>
    readdirSync(dir)
      .filter((name) => testFile.test(name))
      .map((name) => join(dir, name)),
  )
  .sort()

// The number of cases, counted from the raw text independently of the YAML parser (every case
// starts with `- name:` at the list's indentation), so a parser that drops cases is caught.
function countCases(text) {
  return text.split('\n').filter((line) => /^\s*- name:/.test(line)).length
}

let ran = 0
let expected = 0

for (const file of files) {
  const text = readFileSync(file, 'utf8')
  const doc = file.endsWith('.json') ? JSON.parse(text) : YAML.parse(text)
  const engine = Engine.fromPath(dirname(file))
  expected += countCases(text)
  const pack = file.slice(policies.length + 1)

  test(pack, async (t) => {
    assert.ok(Array.isArray(doc.cases) && doc.cases.length > 0, `${pack} has cases`)
    for (const c of doc.cases) {
      await t.test(c.name, () => {
        ran += 1
        const decision = engine.check(c.request)
        assert.equal(
          decision.effect,
          c.expect,
          `expected ${c.expect}, got ${decision.effect} (${decision.reason})`,
        )
        for (const rule of c.rules ?? []) {
          assert.ok(
            decision.rules.includes(rule),
            `expected rule ${rule} among the deciding rules, got [${decision.rules.join(', ')}]`,
          )
        }
        if (c.masked !== undefined && c.masked !== null) {
          assert.deepEqual(decision.maskedColumns, c.masked, 'masked columns')
        }
      })
    }
  })
}

test('every conformance case ran', () => {
  assert.ok(files.length >= 7, `found ${files.length} test files`)
  assert.ok(ran > 0, 'no case ran')
  assert.equal(ran, expected, `ran ${ran} cases, the files hold ${expected}`)
})
