// Compiled (not run) by types.test.mjs: the committed declarations (index.d.ts, mcp.d.ts)
// must describe the API as the tests and examples use it.
import { Checker, DecisionSlot, Engine, SigningKey, generateKey, mintGrant, signApproval } from '../index'
import type { Decision, DecisionJson, Effect, MaskResult, Principal, Request } from '../index'
import { guardServer, decisionOf, APPROVAL_META_KEY } from '../mcp'

const engine: Engine = Engine.fromString('version: 1', 'yaml', { now: 1, maskKey: Buffer.alloc(32) })
const request: Request = { principal: { id: 'a', groups: [] }, resource: 'db', action: { sql: 'SELECT 1' } }
const d: Decision = engine.check(request)
const e: Effect = d.effect
const allowed: boolean = e === 'allow' || e === 'approval_required' || e === 'deny'
const cols: string[] = d.maskedColumns
const m: MaskResult = engine.maskRows(d, ['a'], [[1]])
const json: DecisionJson = d.toJSON()
const view: Record<string, any> | undefined = d.view
const who: Principal | undefined = d.principal
// @ts-expect-error: a plain object is not a Decision (maskRows refuses it at run time too)
engine.maskRows(json, ['a'], [[1]])
const counts: Record<string, number> = m.counts
const slot = new DecisionSlot()
const fast: Effect = engine.checkSqlInto(slot, 'a', 'db', 'SELECT 1', ['g'])
const held: Effect | undefined = slot.effect
const taken: Decision | undefined = slot.take()
const viaRequest: Effect = engine.checkInto(slot, request)
const viaTool: Effect = engine.checkToolInto(slot, 'a', 'mcp', 'q', { query: 'SELECT 1' })
const viaCommand: Effect = engine.checkCommandInto(slot, 'a', 'ws', 'ls')
const bound: Checker = engine.checker('a', 'db', ['g'])
const boundSql: Effect = bound.checkSqlInto(slot, 'SELECT 1')
const boundCommand: Decision = engine.checker('a', 'ws').checkCommand('ls')
const boundWho: [string, string[], string] = [bound.principal, bound.groups, bound.resource]
const guard: (sql: string, slot?: DecisionSlot) => Effect = bound.sqlGuard()
const guarded: Effect = guard('SELECT 1')
const guardedInto: Effect = bound.commandGuard()('ls', slot)
void [fast, held, taken, viaRequest, viaTool, viaCommand, boundSql, boundCommand, boundWho, guarded, guardedInto]
// @ts-expect-error: a guard takes the statement, then an optional slot
guard(slot, 'SELECT 1')
// @ts-expect-error: a checker's checks take the statement only
bound.checkSql('a', 'db', 'SELECT 1')
// @ts-expect-error: a Decision is not a slot
engine.checkSqlInto(d, 'a', 'db', 'SELECT 1')
async function later(): Promise<void> {
  const a: Decision = await engine.checkAsync({ resource: 'db', action: { command: 'ls' } })
  const r: MaskResult = await engine.maskRowsAsync(a, ['a'], [{ a: 1 }])
  void r
}
engine.onAudit((event: string) => void event)
const key: SigningKey = generateKey('k')
engine.trustGrantKey(key)
engine.trustApprovalKey('{"kty":"OKP"}')
const grant: string = mintGrant(key, { from: { id: 'a', groups: [] }, to: 'b', scope: {}, ttl: 60 })
const token: string = signApproval(key, { approver: { id: 'u', groups: ['g'] }, digest: d.digest })
const version: string = engine.policyVersion
guardServer({}, engine, { principal: { id: 'a' }, resource: (params) => params.name })
const maybe: Decision | undefined = decisionOf({})
const metaKey: 'writ/approval' = APPROVAL_META_KEY

// @ts-expect-error: an effect is one of three words
const wrong: Effect = 'maybe'
// @ts-expect-error: an action has exactly the documented shapes
const badAction: Request = { resource: 'db', action: { ftp: 'x' } }

export { view, who, allowed, cols, counts, later, grant, token, version, maybe, metaKey, wrong, badAction }
