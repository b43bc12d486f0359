// Types of mcp.js (hand-written: mcp.js is plain JavaScript, not generated).
import type { Decision, Engine } from './index'

/** Who calls the tools. */
export interface McpPrincipal {
  id: string
  groups?: string[]
}

/** The `params` of a `tools/call` request. */
export interface ToolCallParams {
  name: string
  arguments?: Record<string, unknown>
  _meta?: Record<string, unknown>
}

export interface GuardOptions {
  /** Who calls the tools, or a function of the request's params and the SDK's `extra`. */
  principal: McpPrincipal | ((params: ToolCallParams, extra: unknown) => McpPrincipal)
  /** The policy's `tool` resource, or a function of the request. */
  resource: string | ((params: ToolCallParams, extra: unknown) => string)
  /** Called with every decision, before the handler runs (or is refused). */
  onDecision?: (decision: Decision, params: ToolCallParams) => void
}

/**
 * Check every `tools/call` of an McpServer or a low-level Server with `engine` before the
 * tool's handler runs; a decision other than `allow` becomes a tool error result
 * (`isError: true`) and the handler is never called. Returns the same server.
 *
 * @throws TypeError for missing options; Error when the object is not a server of a known
 * @modelcontextprotocol/sdk version (it is then not guarded).
 */
export declare function guardServer<S>(server: S, engine: Engine, options: GuardOptions): S

/**
 * The writ decision that let this tool call run, from the `extra` the SDK hands a tool
 * handler (what `engine.maskRows` needs to mask the result); `undefined` outside a guarded call.
 */
export declare function decisionOf(extra: unknown): Decision | undefined

/** The `_meta` key under which a client may send an approval token (`writa1.…`). */
export declare const APPROVAL_META_KEY: 'writ/approval'
/** The `_meta` key under which a refusal carries the decision. */
export declare const DECISION_META_KEY: 'writ/decision'
