import type { FastifyInstance } from 'fastify'
import { DEFAULT_RETRY_AFTER_S } from '../config/defaults.js'
import type { RelayContext } from '../context.js'

/** Liveness and readiness (SPEC §4, §9): /readyz turns 503 as soon as shutdown begins, and while Redis is unreachable. */
export function healthRoutes (app: FastifyInstance, ctx: RelayContext): void {
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (_request, reply) => {
    if (ctx.draining) {
      reply.code(503).header('retry-after', String(DEFAULT_RETRY_AFTER_S))
      return { status: 'draining' }
    }
    // SPEC §9.1: a load balancer should prefer the replicas that reach the shared Redis. This one
    // still serves plain requests meanwhile; only what needs Redis answers 503.
    if (ctx.redis?.status === 'down') {
      reply.code(503).header('retry-after', String(DEFAULT_RETRY_AFTER_S))
      return { status: 'redis_unreachable' }
    }
    return { status: 'ready' }
  })
}
