import { randomBytes } from 'node:crypto'
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import { DEFAULT_RETRY_AFTER_S } from '../config/defaults.js'
import type { RelayContext } from '../context.js'
import { StreamCancelledError, UnavailableError, UpstreamError, type RelayError } from '../errors.js'
import type { Outcome } from '../observability/request-state.js'
import { retarget, type ForwardPlan } from '../relay/plan.js'
import type { RedisConnection } from '../redis/connection.js'
import { callUpstream } from '../upstream/call.js'
import type { Endpoint } from '../upstream/endpoint.js'
import { withFailover, type StreamVerdict } from '../upstream/failover.js'
import type { UpstreamResponse } from '../upstream/types.js'
import { startProducer, type Producer } from './producer.js'
import type { CancelReason, StreamInfo, StreamStore } from './store.js'

/** 16 random bytes: the id is the only capability a reader needs, so ≥128 bits (SPEC §6). */
const ID_BYTES = 16
/** Retry-After of the 503 a request that needs the shared stream log gets while Redis is away. */
const STORE_RETRY_AFTER_S = 1

export interface StartOptions {
  endpoint: Endpoint
  plan: ForwardPlan
  /** The format a reader that names none gets. */
  format: string
  /** A fixed id (an Idempotency-Key's); default a random one. Throws StreamExistsError when taken. */
  id?: string | undefined
  fingerprint?: string | undefined
}

/**
 * The kept generations (SPEC §6): an upstream stream run into the stream log
 * by this process, read by any number of readers on any replica. Used by
 * `POST /v1/streams` and by streamed POSTs that carry an `Idempotency-Key`.
 */
export interface Generations {
  readonly store: StreamStore
  /** Throws 503 `unavailable` when the stream log is shared (Redis) and Redis is unreachable. */
  assertAvailable (): void
  /**
   * Admits the request (rate, stream slot), claims the stream id, calls the
   * upstream with failover, starts the producer. A failure before the upstream
   * answered is the request's HTTP error, and leaves no stream behind.
   * Resolves with the stream's info, or undefined when the client left first.
   */
  start (request: FastifyRequest, reply: FastifyReply, o: StartOptions): Promise<StreamInfo | undefined>
  /** Counts a request that reads a kept generation (an idempotent repeat) against its key's rate, as any request. */
  checkRate (request: FastifyRequest, reply: FastifyReply, plan: ForwardPlan): Promise<void>
  /** Stops a generation, wherever it runs (DELETE /v1/streams/:id): here at once, elsewhere through the store. */
  cancel (id: string): Promise<void>
  /** Generations running in this process. */
  readonly producing: number
  /** Ends every generation of this process with a shutdown error and waits for their final events. */
  shutdown (): Promise<void>
}

export function createGenerations (ctx: RelayContext, store: StreamStore, log: FastifyBaseLogger, redis: RedisConnection | undefined): Generations {
  const { streams, timeouts } = ctx.config
  const producers = new Map<string, Producer>()

  function assertAvailable (): void {
    if (redis !== undefined && redis.status === 'down') {
      throw UnavailableError({ retryAfter: STORE_RETRY_AFTER_S }, 'The shared stream log (Redis) is unreachable; retry shortly')
    }
  }

  async function start (request: FastifyRequest, reply: FastifyReply, o: StartOptions): Promise<StreamInfo | undefined> {
    const state = request.relayState
    const { plan } = o
    assertAvailable()
    // Per-key and global limits (SPEC §9). The stream slot belongs to the generation, which outlives
    // this request: the producer gives it back when it ends; until it has started, this reply's close does.
    await ctx.limits.checkRate(plan.identity, request, reply)
    const release = await ctx.limits.acquireStream(plan.identity)
    let producing = false
    reply.raw.once('close', () => { if (!producing) release() })

    const id = o.id ?? randomBytes(ID_BYTES).toString('base64url')
    let info: StreamInfo
    try {
      info = await store.create(id, { ttlMs: streams.ttlMs, format: o.format, fingerprint: o.fingerprint })
    } catch (err) {
      release()
      throw err
    }

    const controller = new AbortController()
    const res = reply.raw
    let clientGone = false
    const onClose = (): void => {
      if (res.writableFinished) return
      clientGone = true
      controller.abort(new Error('client disconnected'))
    }
    res.once('close', onClose)
    // The same failover as a plain request (SPEC §9), up to the upstream's answer headers: a refusal
    // there moves on to the route's next upstream; after it, a failure is the stream's error event.
    let answered: { planned: ForwardPlan, response: UpstreamResponse, verdict: StreamVerdict | undefined }
    try {
      answered = await withFailover(ctx.router.attempts(plan.route, controller.signal), plan, retarget, state,
        async (planned, verdict) => ({ planned, response: await callUpstream(planned, o.endpoint, request, controller), verdict }))
    } catch (err) {
      // No generation: the id is free again, so a repeat of an idempotent request may try anew.
      await store.delete(id).catch(() => {})
      // Not `signal.aborted`: graceful shutdown aborts the same controller, and that caller gets its 503.
      if (clientGone) { state.clientGone = true; reply.hijack(); return undefined }
      // The upstream's retry hints (Retry-After of its 429) go to the client with the error.
      const headers = (err as { headers?: Record<string, string> }).headers
      if (headers) reply.headers(headers)
      throw err
    } finally {
      res.off('close', onClose)
    }
    const { planned, response, verdict } = answered

    const producer = startProducer({
      store,
      id,
      upstream: planned.upstream,
      response,
      endpoint: o.endpoint,
      alias: planned.route.aliased ? planned.route.publicModel : undefined,
      dropUsageChunk: planned.askUsage,
      controller,
      verdict,
      totalMs: timeouts.totalMs,
      detachTimeoutMs: streams.detachTimeoutMs,
      maxBufferBytes: streams.maxBufferBytes,
      log,
      logFields: { requestId: request.id, keyName: state.keyName, model: state.model, upstream: state.upstream },
    })
    producers.set(id, producer)
    producing = true
    ctx.metrics.streamLogOpened()
    // DELETE on another replica, or this replica's lease on the shared log lost (SPEC §9.1).
    const unsubscribe = store.onCancel?.(id, (reason) => {
      const [err, outcome] = cancelled(reason)
      if (reason === 'lost') ctx.metrics.leaseLost()
      producer.cancel(err, outcome)
    })
    void producer.done.then(({ outcome, usage }) => {
      release()
      unsubscribe?.()
      producers.delete(id)
      ctx.metrics.streamLogClosed()
      ctx.metrics.observeGeneration({ keyName: state.keyName, model: state.model, upstream: planned.upstream.name, outcome, usage })
    })
    return info
  }

  return {
    store,
    assertAvailable,
    start,
    checkRate: (request, reply, plan) => ctx.limits.checkRate(plan.identity, request, reply),
    async cancel (id) {
      const local = producers.get(id)
      if (local) local.cancel(...cancelled('cancelled'))
      else await store.requestCancel?.(id)
    },
    get producing () { return producers.size },
    async shutdown () {
      for (const producer of producers.values()) producer.cancel(UnavailableError({ retryAfter: DEFAULT_RETRY_AFTER_S }, 'The relay is shutting down'), 'upstream_error')
      await Promise.all([...producers.values()].map((p) => p.done))
    },
  }
}

function cancelled (reason: CancelReason): [RelayError, Outcome] {
  return reason === 'cancelled'
    ? [StreamCancelledError({}, 'The stream was cancelled'), 'client_aborted']
    : [UpstreamError({}, 'The relay instance producing this stream lost its place in the shared stream log'), 'upstream_error']
}
