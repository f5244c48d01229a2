import type { FastifyInstance } from 'fastify'
import type { RelayContext } from '../context.js'
import { forward } from '../relay/forward.js'

/** The three forwarding endpoints (SPEC §4); all share one code path. */
export function completionRoutes (app: FastifyInstance, ctx: RelayContext): void {
  const bodyLimit = ctx.config.bodyLimitBytes
  app.post('/v1/chat/completions', { bodyLimit }, (request, reply) => forward(ctx, 'chat', request, reply))
  app.post('/v1/completions', { bodyLimit }, (request, reply) => forward(ctx, 'completions', request, reply))
  app.post('/v1/embeddings', { bodyLimit }, (request, reply) => forward(ctx, 'embeddings', request, reply))
}
