import rateLimit, { type RateLimitPluginOptions } from '@fastify/rate-limit'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ClientIdentity } from '../auth/keyring.js'
import type { KeyConfig } from '../config/resolve.js'
import { RateLimitedError } from '../errors.js'
import { UNAVAILABLE, type RedisAccess } from './redis-access.js'

/** `requestsPerMinute` is counted in fixed one-minute windows, as @fastify/rate-limit does. */
const WINDOW_MS = 60_000

/** Counts one request of `identity`; throws RateLimitedError (429, Retry-After) when it is over its limit. */
export type RateCheck = (identity: ClientIdentity, request: FastifyRequest, reply: FastifyReply) => Promise<void>

type Counter = ReturnType<FastifyInstance['createRateLimit']>

/**
 * Per-key requests per minute (SPEC §9) through @fastify/rate-limit.
 *
 * The plugin's usual place is a route hook keyed by IP, but the relay's key
 * is the authenticated key name, which is only known once the handler has
 * checked the bearer token. So the plugin is registered with `global: false`
 * (it adds no hook of its own) and its `createRateLimit()` counter is called
 * from the request path; the 429 is the relay's own RateLimitedError, so the
 * client gets the OpenAI envelope rather than the plugin's default body.
 *
 * With `redis`, the count is the plugin's own Redis store (`<prefix>rate:<key
 * name>`, one INCR script per request), a window shared by every replica
 * (SPEC §9.1). While Redis is down or slow, the request is counted by a
 * second, in-memory counter instead: limits per replica meanwhile, as SPEC
 * §9.1 asks. (The plugin's `skipOnError` would rather let every request
 * through uncounted.)
 */
export async function registerRequestRate (scope: FastifyInstance, keys: KeyConfig[], redis?: RedisAccess): Promise<RateCheck> {
  const perMinute = new Map(keys.filter((k) => k.requestsPerMinute !== undefined).map((k) => [k.name, k.requestsPerMinute as number]))
  const settings: RateLimitPluginOptions = {
    global: false,
    timeWindow: WINDOW_MS,
    // Set by the route right after authentication; never the token, never the IP.
    keyGenerator: (request) => request.relayState.keyName ?? '',
    max: (_request, key) => perMinute.get(key) ?? Number.MAX_SAFE_INTEGER,
    allowList: (_request, key) => !perMinute.has(key),
  }
  const local = await createCounter(scope, settings)
  const shared = redis && await createCounter(scope, { ...settings, redis: redis.client, nameSpace: `${redis.prefix}rate:` })

  async function count (request: FastifyRequest): ReturnType<Counter> {
    if (redis === undefined || shared === undefined) return local(request)
    const result = await redis.run(() => shared(request))
    return result === UNAVAILABLE ? local(request) : result
  }

  return async function checkRate (identity, request, reply) {
    // Keys without a limit are not counted at all (no store round trip).
    if (identity.requestsPerMinute === undefined) return
    const result = await count(request)
    if (result.isAllowed) return
    // OpenAI's own header names, so SDKs and dashboards that read them work unchanged.
    reply.header('x-ratelimit-limit-requests', String(result.max))
    reply.header('x-ratelimit-remaining-requests', String(result.remaining))
    if (!result.isExceeded) return
    const retryAfter = Math.max(1, result.ttlInSeconds)
    throw RateLimitedError({ retryAfter }, `Rate limit of ${result.max} requests per minute reached for this API key; retry after ${retryAfter} s`)
  }
}

/**
 * One registration of @fastify/rate-limit with its own store, in a scope of
 * its own: the plugin decorates `createRateLimit` only where it is not yet
 * defined, so a second registration in the same scope would hand back the
 * first one's store. Called without options, the counter uses the store
 * as registered, so the Redis keys are exactly `nameSpace` + key name.
 */
async function createCounter (scope: FastifyInstance, settings: RateLimitPluginOptions): Promise<Counter> {
  let counter: Counter | undefined
  await scope.register(async function rateCounter (own) {
    await own.register(rateLimit, settings)
    counter = own.createRateLimit()
  })
  if (counter === undefined) throw new Error('@fastify/rate-limit did not register')
  return counter
}
