import underPressure from '@fastify/under-pressure'
import type { FastifyInstance } from 'fastify'
import type { RelayConfig } from '../config/resolve.js'
import { UnavailableError } from '../errors.js'

/** Probes and the scraper must keep answering while load is shed, or the operator goes blind exactly then. */
const NEVER_SHED = ['/healthz', '/readyz', '/metrics']

const REASONS: Record<string, string> = {
  eventLoopDelay: 'its event loop is lagging',
  heapUsedBytes: 'its heap is over the limit',
  rssBytes: 'its memory is over the limit',
  eventLoopUtilization: 'its event loop is saturated',
}

/**
 * Load shedding (SPEC §9) through @fastify/under-pressure: while the process
 * is over a threshold, each request is refused in `onRequest`, before its
 * body is read, with 503 `unavailable` and Retry-After in the OpenAI envelope
 * (the pressure handler throws the relay's own error, which the relay's
 * error handler renders). Registered inside the relay's encapsulated scope,
 * so the host application's other routes are not shed.
 */
export async function registerPressure (scope: FastifyInstance, config: RelayConfig['pressure'], prefix: string): Promise<void> {
  const { maxEventLoopDelayMs, maxHeapUsedBytes, maxRssBytes, sampleIntervalMs, retryAfterSeconds } = config
  if (maxEventLoopDelayMs === 0 && maxHeapUsedBytes === 0 && maxRssBytes === 0) return
  const exempt = new Set(NEVER_SHED.map((path) => prefix + path))

  await scope.register(underPressure, {
    maxEventLoopDelay: maxEventLoopDelayMs,
    maxHeapUsedBytes,
    maxRssBytes,
    sampleInterval: sampleIntervalMs,
    retryAfter: retryAfterSeconds,
    async pressureHandler (request, _reply, type) {
      const url = request.routeOptions.url
      if (url !== undefined && exempt.has(url)) return
      // A refusal of ours, not an upstream failure: say so before the error handler guesses from the 503.
      if (request.relayState) request.relayState.outcome = 'rejected'
      throw UnavailableError({ retryAfter: retryAfterSeconds }, `The relay is overloaded (${REASONS[type] ?? type}); retry after ${retryAfterSeconds} s`)
    },
  })
}
