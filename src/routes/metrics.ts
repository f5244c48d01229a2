import { timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { bearerToken, tokenDigest } from '../auth/bearer.js'
import type { RelayContext } from '../context.js'
import { InvalidApiKeyError } from '../errors.js'

/**
 * `GET /metrics` (SPEC §4, §8): the relay's registry in Prometheus text
 * format. With `metrics.token` set it needs that bearer token (compared as
 * SHA-256 digests in constant time, like the client keys); the client API
 * keys do not open it, so a scraper's secret is not a client's and back.
 */
export function metricsRoutes (app: FastifyInstance, ctx: RelayContext): void {
  const token = ctx.config.metrics.token
  const expected = token === undefined ? undefined : tokenDigest(token)

  app.get('/metrics', async (request, reply) => {
    if (expected !== undefined) {
      const presented = bearerToken(request.headers.authorization)
      if (presented === undefined) throw InvalidApiKeyError({}, 'Missing metrics token: send "Authorization: Bearer <token>"')
      if (!timingSafeEqual(tokenDigest(presented), expected)) throw InvalidApiKeyError({}, 'Invalid metrics token')
    }
    reply.header('cache-control', 'no-store').type(ctx.metrics.registry.contentType)
    return await ctx.scrapeMetrics()
  })
}
