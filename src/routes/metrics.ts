import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { RelayContext } from '../context.js'
import { InvalidApiKeyError } from '../errors.js'

const BEARER = /^Bearer\s+(.+)$/i

/**
 * `GET /metrics` (SPEC §4, §8): the relay's registry in Prometheus text
 * format. With `metrics.token` set it needs that bearer token (compared as
 * SHA-256 digests in constant time, like the client keys); the client API
 * keys do not open it, so a scraper's secret is not a client's and back.
 */
export function metricsRoutes (app: FastifyInstance, ctx: RelayContext): void {
  const token = ctx.config.metrics.token
  const expected = token === undefined ? undefined : digest(token)

  app.get('/metrics', async (request, reply) => {
    if (expected !== undefined) {
      const match = BEARER.exec(request.headers.authorization ?? '')
      if (!match) throw InvalidApiKeyError({}, 'Missing metrics token: send "Authorization: Bearer <token>"')
      if (!timingSafeEqual(digest((match[1] as string).trim()), expected)) throw InvalidApiKeyError({}, 'Invalid metrics token')
    }
    const registry = ctx.metrics.registry
    reply.header('cache-control', 'no-store').type(registry.contentType)
    return registry.metrics()
  })
}

function digest (text: string): Buffer {
  return createHash('sha256').update(text).digest()
}
