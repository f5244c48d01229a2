import type { ClientIdentity } from '../auth/keyring.js'
import type { StreamSummary } from '../formats/types.js'

/** How a request ended, for the log line and metrics (SPEC §8). */
export type Outcome = 'completed' | 'client_aborted' | 'upstream_error' | 'timeout' | 'rejected'

/**
 * What one request did, filled in as it goes and written as one log line
 * when its response closes (observability/request-log.ts).
 */
export interface RequestState {
  startedAt: number
  /** The caller once its token was checked (onRequest), so the route does not hash the token a second time. */
  identity: ClientIdentity | undefined
  keyName: string | undefined
  model: string | undefined
  upstream: string | undefined
  /** Upstreams this request left before one served it, and why (failover, upstream/failover.ts). */
  retried: Array<{ upstream: string, reason: string }>
  stream: boolean
  format: string | undefined
  outcome: Outcome | undefined
  /** ms from request start to the first byte written to the client. */
  ttfbMs: number | undefined
  frames: number
  summary: StreamSummary | undefined
  /** Set when the client went away before the response finished. */
  clientGone: boolean
  /** Error message for the log, never a secret. */
  error: string | undefined
  /** The JSON body's text as read, until the plan has made the upstream's body from it (relay/plan.ts). */
  bodyText: string | undefined
}

export function createRequestState (): RequestState {
  return {
    startedAt: performance.now(),
    identity: undefined,
    keyName: undefined,
    model: undefined,
    upstream: undefined,
    retried: [],
    stream: false,
    format: undefined,
    outcome: undefined,
    ttfbMs: undefined,
    frames: 0,
    summary: undefined,
    clientGone: false,
    error: undefined,
    bodyText: undefined,
  }
}
