'use strict'
// writ for MCP servers built with @modelcontextprotocol/sdk: every `tools/call` is checked
// by a writ Engine before the tool's handler runs.
//
// How it hooks in: the SDK's `Protocol` keeps one handler per JSON-RPC method in its
// `_requestHandlers` map, and dispatches every incoming request through it. `guardServer`
// wraps the `tools/call` entry that is there now and every one set later (McpServer installs
// its handler when the first tool is registered), so the check runs on the raw request,
// before the SDK parses it for the tool and before any tool code. The map is internal to the
// SDK: when it is missing (an SDK this module does not know), `guardServer` throws instead of
// leaving the server unguarded. Tested with @modelcontextprotocol/sdk 1.32.
//
// A decision other than `allow` becomes a tool error result (`isError: true`) whose text says
// why; the handler is never called. A request writ cannot even build (a principal callback
// that throws, arguments that are not JSON) is refused the same way: fail closed.

const GUARDED = Symbol.for('writ.mcp.guarded')
/** Where an allowed call's decision rides on the SDK's `extra` (see `decisionOf`). */
const DECISION = Symbol.for('writ.mcp.decision')

/** The `_meta` key under which a client may send an approval token (`writa1.…`). */
const APPROVAL_META_KEY = 'writ/approval'
/** The `_meta` key under which a refusal carries the decision. */
const DECISION_META_KEY = 'writ/decision'

function refusal(text, decision) {
  const result = { content: [{ type: 'text', text }], isError: true }
  if (decision) {
    result._meta = {
      [DECISION_META_KEY]: {
        effect: decision.effect,
        rules: decision.rules,
        reason: decision.reason,
        digest: decision.digest,
      },
    }
  }
  return result
}

function explain(name, decision) {
  const rules = decision.rules.length ? ` (rules: ${decision.rules.join(', ')})` : ''
  if (decision.effect === 'approval_required') {
    return (
      `writ: tool \`${name}\` needs approval: ${decision.reason}${rules}. ` +
      `Ask an approver to sign digest ${decision.digest} and call again with the token in ` +
      `_meta["${APPROVAL_META_KEY}"].`
    )
  }
  return `writ: tool \`${name}\` denied: ${decision.reason}${rules}`
}

function resolve(option, params, extra) {
  return typeof option === 'function' ? option(params, extra) : option
}

/**
 * Check every `tools/call` of `server` with `engine` before its handler runs.
 *
 * @param {object} server an McpServer (its `.server` is used) or a low-level Server
 * @param {import('./index').Engine} engine
 * @param {object} options
 * @param {{id: string, groups?: string[]} | ((params, extra) => {id: string, groups?: string[]})} options.principal
 *   who calls the tools (or a function of the request's params and the SDK's `extra`, e.g.
 *   its `authInfo`)
 * @param {string | ((params, extra) => string)} options.resource the policy's `tool` resource
 * @param {(decision, params) => void} [options.onDecision] called with every decision
 * @returns the same server
 */
function guardServer(server, engine, options) {
  if (!engine || typeof engine.check !== 'function') {
    throw new TypeError('guardServer: `engine` must be a writ Engine')
  }
  if (!options || options.principal === undefined || options.resource === undefined) {
    throw new TypeError('guardServer: `options.principal` and `options.resource` are required')
  }
  const protocol = server && server.server && server.server._requestHandlers ? server.server : server
  const handlers = protocol && protocol._requestHandlers
  if (!(handlers instanceof Map)) {
    throw new Error(
      'guardServer: this object has no MCP request handler table; pass an McpServer or a ' +
        'Server from @modelcontextprotocol/sdk 1.x (the server is NOT guarded)',
    )
  }

  const wrap = (handler) => {
    if (typeof handler !== 'function' || handler[GUARDED]) return handler
    const guarded = async function writGuardedToolCall(request, extra) {
      const params = (request && request.params) || {}
      const name = typeof params.name === 'string' ? params.name : ''
      let decision
      try {
        const principal = resolve(options.principal, params, extra)
        const req = {
          principal: { id: principal.id, groups: principal.groups || [] },
          resource: resolve(options.resource, params, extra),
          action: { tool: { name, arguments: params.arguments ?? {} } },
        }
        const approval = params._meta && params._meta[APPROVAL_META_KEY]
        if (typeof approval === 'string') req.approval = approval
        decision = engine.check(req)
      } catch (err) {
        return refusal(`writ: tool \`${name}\` refused: the request could not be checked (${err.message})`)
      }
      if (options.onDecision) options.onDecision(decision, params)
      if (decision.effect !== 'allow') return refusal(explain(name, decision), decision)
      if (extra && typeof extra === 'object') extra[DECISION] = decision
      return handler(request, extra)
    }
    guarded[GUARDED] = true
    return guarded
  }

  if (handlers.has('tools/call')) handlers.set('tools/call', wrap(handlers.get('tools/call')))
  if (!handlers[GUARDED]) {
    const set = handlers.set
    handlers.set = function (method, handler) {
      return set.call(this, method, method === 'tools/call' ? wrap(handler) : handler)
    }
    handlers[GUARDED] = true
  }
  return server
}

/**
 * The writ decision that let this tool call run, from the `extra` the SDK hands a tool
 * handler: what `engine.maskRows(decision, columns, rows)` needs to mask the tool's result.
 * `undefined` outside a guarded call.
 */
function decisionOf(extra) {
  return extra && typeof extra === 'object' ? extra[DECISION] : undefined
}

module.exports = { guardServer, decisionOf, APPROVAL_META_KEY, DECISION_META_KEY }
