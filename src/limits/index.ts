import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ClientIdentity } from '../auth/keyring.js'
import { DEFAULT_RETRY_AFTER_S } from '../config/defaults.js'
import type { RelayConfig } from '../config/resolve.js'
import { RateLimitedError, UnavailableError } from '../errors.js'
import type { RelayMetrics } from '../observability/metrics.js'
import { registerPressure } from './pressure.js'
import { registerRequestRate, type RateCheck } from './rate.js'
import { createRedisAccess, type LimitsRedis } from './redis-access.js'
import { createRedisSlotStore } from './redis-slots.js'
import { createMemorySlotStore, type SlotLease } from './slots.js'

export type { LimitsRedis } from './redis-access.js'

/** A key's own streams end soon enough that a short wait is worth it. */
export const KEY_STREAMS_RETRY_AFTER_S = 2
/** The whole relay is full: back off a little longer (or go to another replica). */
export const GLOBAL_STREAMS_RETRY_AFTER_S = DEFAULT_RETRY_AFTER_S

/** What admission hands back: the stream slot's release, or undefined for a request that takes none. */
export type Admitted = (() => void) | undefined

export interface Admission {
  identity: ClientIdentity
  request: FastifyRequest
  reply: FastifyReply
  /** Streamed requests also take a stream slot, held until the response closes. */
  stream: boolean
}

/**
 * The relay's admission control (SPEC §9): per-key requests per minute and
 * concurrent streams (429), the global stream cap and load shedding (503).
 */
export interface Limits {
  /** Registers @fastify/rate-limit and @fastify/under-pressure in the relay's scope. Call once, before the routes. */
  register (scope: FastifyInstance, prefix: string): Promise<void>
  /** Counts one request against its key's requests per minute; throws RateLimitedError (429) over it. */
  checkRate (identity: ClientIdentity, request: FastifyRequest, reply: FastifyReply): Promise<void>
  /**
   * Takes a stream slot for the key and one of the relay's; throws
   * RateLimitedError (429) or UnavailableError (503) when either is full.
   * Returns the release function (a second call does nothing). For a stream
   * that outlives its HTTP response (the EventSource flow), call it when the
   * generation ends. A slot shared through Redis is renewed by the store for
   * as long as it is held; the caller has nothing else to do.
   */
  acquireStream (identity: ClientIdentity): Promise<() => void>
  /**
   * checkRate, then for a streamed request acquireStream. Returns the slot's
   * release (undefined for a request that takes none); the caller gives it
   * back when the response closes, which Node emits on every path: completed,
   * failed, timed out, rejected later on, or cut by the client. (The caller's
   * own 'close' listener does it, so a stream carries one listener, not two.)
   * Synchronous for a key with no limit of its own, which has nothing to count
   * in a store: only then is the answer not a promise.
   */
  admit (admission: Admission): Admitted | Promise<Admitted>
  close (): Promise<void>
}

/**
 * The relay's limits. With `redis` (the relay's Redis connection, SPEC §9.1),
 * each key's requests per minute and concurrent streams are shared by every
 * replica, and counted per replica while Redis is unreachable; the global
 * stream cap and load shedding stay per process either way.
 */
export function createLimits (config: RelayConfig, metrics: RelayMetrics, redis?: LimitsRedis): Limits {
  let rate: RateCheck | undefined
  const shared = redis && createRedisAccess(redis)
  const keySlots = shared ? createRedisSlotStore(shared, createMemorySlotStore()) : createMemorySlotStore()
  // The global cap guards this process's own sockets and memory: never shared, and a plain count
  // (taken synchronously, so a request of a key without limits of its own admits without a promise).
  let globalOpen = 0

  /** One of the relay's own stream slots (the key's, if any, is held already), or the 503. */
  function takeGlobalSlot (own: SlotLease | undefined): () => void {
    if (globalOpen >= config.maxConcurrentStreams) {
      own?.release()
      throw UnavailableError({ retryAfter: GLOBAL_STREAMS_RETRY_AFTER_S }, 'The relay has as many streams open as it is allowed; retry shortly')
    }
    globalOpen++
    metrics.streamOpened()
    let released = false
    return () => {
      if (released) return
      released = true
      own?.release()
      globalOpen--
      metrics.streamClosed()
    }
  }

  async function acquireStream (identity: ClientIdentity): Promise<() => void> {
    let own: SlotLease | undefined
    if (identity.maxConcurrentStreams !== undefined) {
      own = await keySlots.acquire(`streams:key:${identity.name}`, identity.maxConcurrentStreams)
      if (!own) throw RateLimitedError({ retryAfter: KEY_STREAMS_RETRY_AFTER_S }, `This API key already has ${identity.maxConcurrentStreams} streams open, its limit; retry when one has finished`)
    }
    return takeGlobalSlot(own)
  }

  async function checkRate (identity: ClientIdentity, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (rate === undefined) throw new Error('limits used before register()')
    await rate(identity, request, reply)
  }

  async function admitCounted (identity: ClientIdentity, request: FastifyRequest, reply: FastifyReply, stream: boolean): Promise<Admitted> {
    await checkRate(identity, request, reply)
    return stream ? await acquireStream(identity) : undefined
  }

  return {
    async register (scope, prefix) {
      rate = await registerRequestRate(scope, config.keys, shared)
      await registerPressure(scope, config.pressure, prefix)
    },
    checkRate,
    acquireStream,
    admit ({ identity, request, reply, stream }) {
      // Nothing of this key's own to count: no store, no promise (the common case: most keys have no limits).
      if (identity.requestsPerMinute === undefined && (!stream || identity.maxConcurrentStreams === undefined)) {
        return stream ? takeGlobalSlot(undefined) : undefined
      }
      return admitCounted(identity, request, reply, stream)
    },
    async close () {
      await keySlots.close()
    },
  }
}
