// The committed TypeScript declarations type-check, and describe the API as it is used
// (test/usage.ts, compiled with tsc in strict mode, not run).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const here = dirname(fileURLToPath(import.meta.url))

test('index.d.ts and mcp.d.ts type-check against their use', () => {
  const tsc = require.resolve('typescript/bin/tsc')
  const run = spawnSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.json')], { encoding: 'utf8' })
  assert.equal(run.status, 0, `tsc failed:\n${run.stdout}${run.stderr}`)
})

test('every runtime export is declared in index.d.ts', () => {
  const { readFileSync } = require('node:fs')
  const dts = readFileSync(join(here, '..', 'index.d.ts'), 'utf8')
  const exported = Object.keys(require('../index.js')).filter((k) => !k.startsWith('__'))
  assert.ok(exported.length >= 6)
  for (const name of exported) {
    assert.match(dts, new RegExp(`export (declare )?(class|function|const|type|interface) ${name}\\b`), name)
  }
})
