import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Outcome, RequestState } from '../streaming/request-state.js'

/** The fields of a request's log line that the metrics read too (observability/metrics.ts). */
export interface RequestSummary {
  /** Path without the query. */
  url: string
  keyName: string | undefined
  model: string | undefined
  upstream: string | undefined
  status: number
  outcome: Outcome
  ttfbMs: number | undefined
  durationMs: number
  /** As the upstream reported them; null when it did not (never guessed). */
  promptTokens: number | null
  completionTokens: number | null
}

/**
 * One line per finished request (SPEC §8), written when the response closes
 * whatever way it ended: sent, streamed, hijacked or cut by the client.
 * It names the key, never the token.
 */
export function logRequestSummary (request: FastifyRequest, reply: FastifyReply, state: RequestState, bytes: number): RequestSummary {
  const res = reply.raw
  const status = res.statusCode
  // A response that closed before it finished was cut by the client, whatever else was under way.
  const outcome = state.outcome ?? (!res.writableFinished || state.clientGone ? 'client_aborted' : status >= 400 ? 'rejected' : 'completed')
  const usage = state.summary?.usage
  const line = {
    requestId: request.id,
    method: request.method,
    url: request.url.split('?')[0] ?? '',
    keyName: state.keyName,
    model: state.model,
    upstream: state.upstream,
    retries: state.retried.length,
    retried: state.retried.length > 0 ? state.retried : undefined,
    stream: state.stream,
    format: state.format,
    status,
    outcome,
    ttfbMs: state.ttfbMs === undefined ? undefined : round(state.ttfbMs),
    durationMs: round(performance.now() - state.startedAt),
    frames: state.stream ? state.frames : undefined,
    bytes,
    finishReason: state.summary?.finishReason ?? undefined,
    promptTokens: usage ? (usage.prompt_tokens ?? null) : null,
    completionTokens: usage ? (usage.completion_tokens ?? null) : null,
    error: state.error,
  }
  request.log.info(line, 'request finished')
  return line
}

function round (ms: number): number {
  return Math.round(ms * 100) / 100
}

