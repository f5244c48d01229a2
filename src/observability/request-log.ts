import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import type { Outcome, RequestState } from './request-state.js'

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
  const url = request.url
  const query = url.indexOf('?')
  const summary: RequestSummary = {
    url: query === -1 ? url : url.slice(0, query),
    keyName: state.keyName,
    model: state.model,
    upstream: state.upstream,
    status,
    outcome,
    ttfbMs: state.ttfbMs === undefined ? undefined : round(state.ttfbMs),
    durationMs: round(performance.now() - state.startedAt),
    promptTokens: usage ? (usage.prompt_tokens ?? null) : null,
    completionTokens: usage ? (usage.completion_tokens ?? null) : null,
  }
  // The metrics need the summary on every request; the line itself only when it will be written
  // (a relay at LOG_LEVEL=warn, the bench's setting, skips building a 20-field object per request).
  const log = request.log as FastifyBaseLogger & { isLevelEnabled?: (level: string) => boolean }
  if (log.isLevelEnabled === undefined || log.isLevelEnabled('info')) {
    log.info({
      requestId: request.id,
      method: request.method,
      url: summary.url,
      keyName: state.keyName,
      model: state.model,
      upstream: state.upstream,
      retries: state.retried.length,
      retried: state.retried.length > 0 ? state.retried : undefined,
      stream: state.stream,
      format: state.format,
      status,
      outcome,
      ttfbMs: summary.ttfbMs,
      durationMs: summary.durationMs,
      frames: state.stream ? state.frames : undefined,
      bytes,
      finishReason: state.summary?.finishReason ?? undefined,
      promptTokens: summary.promptTokens,
      completionTokens: summary.completionTokens,
      error: state.error,
    }, 'request finished')
  }
  return summary
}

function round (ms: number): number {
  return Math.round(ms * 100) / 100
}
