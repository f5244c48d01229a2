import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { Usage } from '../formats/types.js'
import type { Outcome } from './request-state.js'
import type { UpstreamObserver } from '../upstream/failover.js'
import type { RequestSummary } from './request-log.js'
import type { RedisObserver } from '../redis/connection.js'

/** Every metric of the relay starts with this, the process metrics too, so they never clash with the host's. */
export const METRIC_PREFIX = 'llm_relay_'

/**
 * Latency buckets for LLM traffic: a cached or tiny answer returns in tens of
 * milliseconds, a long generation streams for minutes; the default
 * prom-client buckets (5 ms … 10 s) would put every long stream in +Inf.
 */
export const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120]

export interface MetricsOptions {
  /** Export Node's process metrics too (prefixed). */
  processMetrics: boolean
  /** The relay's route prefix: only requests under `${prefix}/v1/` are API requests. */
  prefix: string
  /** Names of the configured upstreams: their breaker gauges start at 0, so every upstream has a series. */
  upstreams: string[]
  /** A shared-state Redis is configured: its up/down gauge is exported (without one it would only say 0). */
  redis?: boolean
}

export interface RelayMetrics {
  /** This relay's own registry, never prom-client's global one: two relays in one process do not clash. */
  readonly registry: Registry
  /** One finished request, from the one place that sees every request end (the log line's close event). */
  observeRequest (summary: RequestSummary): void
  /**
   * The end of an EventSource generation (POST /v1/streams), which outlives
   * its HTTP requests: its tokens, and its failure as an upstream error.
   */
  observeGeneration (generation: FinishedGeneration): void
  streamOpened (): void
  streamClosed (): void
  /** A kept generation (POST /v1/streams, Idempotency-Key) started / ended in this process. */
  streamLogOpened (): void
  streamLogClosed (): void
  /** A generation of this process was stopped because its lease on the shared stream log lapsed (SPEC §9.1). */
  leaseLost (): void
  /** For the Redis connection (SPEC §9.1): up/down and each operation's latency. */
  readonly redisObserver: RedisObserver
  /**
   * For `router.observe()`: each time a request leaves an upstream for the
   * next one (failover, before the first byte), a retry and an upstream error
   * count against the upstream that failed. The request's final failure, if
   * any, is counted from its summary, so no failure is counted twice.
   */
  readonly upstreamObserver: UpstreamObserver
}

export interface FinishedGeneration {
  keyName: string | undefined
  model: string | undefined
  upstream: string
  outcome: Outcome
  usage: Usage | null
}

/**
 * The relay's Prometheus metrics (SPEC §8). Label values come from the
 * config (key and upstream names) or from the request's model once it was
 * routed to an upstream; before that the model label is empty, so a client
 * cannot grow the label space with made-up model names that get a 404.
 */
export function createMetrics (options: MetricsOptions): RelayMetrics {
  const registry = new Registry()
  const registers = [registry]
  const api = `${options.prefix}/v1/`
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX })

  const requests = new Counter({
    name: `${METRIC_PREFIX}requests_total`,
    help: 'API requests finished, by key, model, upstream, HTTP status and outcome (completed, client_aborted, upstream_error, timeout, rejected).',
    labelNames: ['key', 'model', 'upstream', 'status', 'outcome'] as const,
    registers,
  })
  const activeStreams = new Gauge({
    name: `${METRIC_PREFIX}active_streams`,
    help: 'Streamed requests holding a stream slot in this process right now.',
    registers,
  })
  const ttft = new Histogram({
    name: `${METRIC_PREFIX}time_to_first_token_seconds`,
    help: 'Seconds from the request\'s arrival to the first upstream frame relayed to the client (streamed requests).',
    labelNames: ['model', 'upstream'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  })
  const duration = new Histogram({
    name: `${METRIC_PREFIX}request_duration_seconds`,
    help: 'Seconds from the request\'s arrival to the end of its response.',
    labelNames: ['model', 'upstream'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  })
  const promptTokens = new Counter({
    name: `${METRIC_PREFIX}prompt_tokens_total`,
    help: 'Prompt (input) tokens as reported by the upstream\'s usage; requests without usage add nothing.',
    labelNames: ['key', 'model'] as const,
    registers,
  })
  const completionTokens = new Counter({
    name: `${METRIC_PREFIX}completion_tokens_total`,
    help: 'Completion (output) tokens as reported by the upstream\'s usage; requests without usage add nothing.',
    labelNames: ['key', 'model'] as const,
    registers,
  })
  const upstreamErrors = new Counter({
    name: `${METRIC_PREFIX}upstream_errors_total`,
    help: 'Failed upstream attempts (unreachable, reset, timed out, 5xx, broken stream), by upstream and reason.',
    labelNames: ['upstream', 'reason'] as const,
    registers,
  })
  const breakerOpen = new Gauge({
    name: `${METRIC_PREFIX}upstream_breaker_open`,
    help: '1 while the upstream is being skipped after repeated failures (its breaker is open or half-open), else 0.',
    labelNames: ['upstream'] as const,
    registers,
  })
  for (const upstream of options.upstreams) breakerOpen.set({ upstream }, 0)
  const retries = new Counter({
    name: `${METRIC_PREFIX}upstream_retries_total`,
    help: 'Requests moved on to another upstream after this one failed before the first byte.',
    labelNames: ['upstream', 'reason'] as const,
    registers,
  })

  const streamLogs = new Gauge({
    name: `${METRIC_PREFIX}stream_logs_open`,
    help: 'Kept generations (EventSource streams, Idempotency-Key requests) this process is producing into the stream log right now.',
    registers,
  })
  const leasesLost = new Counter({
    name: `${METRIC_PREFIX}stream_leases_lost_total`,
    help: 'Generations of this process stopped because its lease on the shared stream log (Redis) lapsed.',
    registers,
  })
  const redisUp = new Gauge({
    name: `${METRIC_PREFIX}redis_up`,
    help: '1 while the shared-state Redis (REDIS_URL) is reachable, 0 while it is not.',
    registers: options.redis === true ? registers : [],
  })
  const redisCommands = new Histogram({
    name: `${METRIC_PREFIX}redis_command_seconds`,
    help: 'Seconds per Redis operation of the shared stream log and limits, by operation and result.',
    labelNames: ['operation', 'result'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers,
  })

  // Counted only when the upstream said so: a missing count is unknown, never zero or a guess.
  function countTokens (key: string, model: string, prompt: number | null | undefined, completion: number | null | undefined): void {
    if (isCount(prompt)) promptTokens.inc({ key, model }, prompt)
    if (isCount(completion)) completionTokens.inc({ key, model }, completion)
  }

  function countFailure (upstream: string, outcome: Outcome): void {
    if (outcome === 'upstream_error' || outcome === 'timeout') upstreamErrors.inc({ upstream, reason: outcome })
  }

  return {
    registry,
    observeRequest (s) {
      if (!s.url.startsWith(api)) return
      const upstream = s.upstream ?? ''
      const model = s.upstream !== undefined ? s.model ?? '' : ''
      const key = s.keyName ?? ''
      requests.inc({ key, model, upstream, status: String(s.status), outcome: s.outcome })
      duration.observe({ model, upstream }, s.durationMs / 1000)
      if (s.ttfbMs !== undefined) ttft.observe({ model, upstream }, s.ttfbMs / 1000)
      countTokens(key, model, s.promptTokens, s.completionTokens)
      if (s.upstream !== undefined) countFailure(upstream, s.outcome)
    },
    observeGeneration (g) {
      countTokens(g.keyName ?? '', g.model ?? '', g.usage?.prompt_tokens, g.usage?.completion_tokens)
      countFailure(g.upstream, g.outcome)
    },
    streamOpened: () => activeStreams.inc(),
    streamClosed: () => activeStreams.dec(),
    streamLogOpened: () => streamLogs.inc(),
    streamLogClosed: () => streamLogs.dec(),
    leaseLost: () => leasesLost.inc(),
    redisObserver: {
      status: (up) => redisUp.set(up ? 1 : 0),
      command: (operation, seconds, ok) => redisCommands.observe({ operation, result: ok ? 'ok' : 'error' }, seconds),
    },
    upstreamObserver: {
      onRetry (e) {
        const reason = reasonLabel(e.reason)
        retries.inc({ upstream: e.from, reason })
        upstreamErrors.inc({ upstream: e.from, reason })
      },
      onBreakerChange: (e) => breakerOpen.set({ upstream: e.upstream }, e.state === 'closed' ? 0 : 1),
    },
  }
}

/** The failover's reasons (`HTTP 503`, `connect error (ECONNREFUSED)`, …) as a small fixed set of label values. */
function reasonLabel (reason: string): string {
  if (reason.startsWith('connect error')) return 'connect_error'
  if (reason.startsWith('connection reset')) return 'connection_reset'
  if (reason === 'timeout') return 'timeout'
  const status = /^HTTP (\d)(\d\d)$/.exec(reason)
  if (status) return status[1] === '4' ? `http_4${status[2]}` : `http_${status[1]}xx`
  return 'upstream_error'
}

function isCount (n: number | null | undefined): n is number {
  return typeof n === 'number' && Number.isFinite(n) && n >= 0
}
