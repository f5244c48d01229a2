import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ClientIdentity } from '../auth/keyring.js'
import type { KeyConfig } from '../config/resolve.js'
import { RateLimitedError } from '../errors.js'

/** `requestsPerMinute` is counted in fixed one-minute windows, as @fastify/rate-limit does. */
const WINDOW_MS = 60_000

/** Counts one request of `identity`; throws RateLimitedError (429, Retry-After) when it is over its limit. */
export type RateCheck = (identity: ClientIdentity, request: FastifyRequest, reply: FastifyReply) => Promise<void>

/**
 * Per-key requests per minute (SPEC §9) through @fastify/rate-limit.
 *
 * The plugin's usual place is a route hook keyed by IP, but the relay's key
 * is the authenticated key name, which is only known once the handler has
 * checked the bearer token. So the plugin is registered with `global: false`
 * (it adds no hook of its own) and its `createRateLimit()` counter is called
 * from the request path; the 429 is the relay's own RateLimitedError, so the
 * client gets the OpenAI envelope rather than the plugin's default body. The
 * plugin's store (memory now; its Redis store with `redis:` later) is what
 * shares the counts between replicas.
 */
export async function registerRequestRate (scope: FastifyInstance, keys: KeyConfig[]): Promise<RateCheck> {
  await scope.register(rateLimit, { global: false })
  const perMinute = new Map(keys.filter((k) => k.requestsPerMinute !== undefined).map((k) => [k.name, k.requestsPerMinute as number]))
  const count = scope.createRateLimit({
    timeWindow: WINDOW_MS,
    // Set by the route right after authentication; never the token, never the IP.
    keyGenerator: (request) => request.relayState.keyName ?? '',
    max: (_request, key) => perMinute.get(key) ?? Number.MAX_SAFE_INTEGER,
    allowList: (_request, key) => !perMinute.has(key),
  })

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
