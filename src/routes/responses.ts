import type { FastifyInstance } from 'fastify'
import type { RelayContext } from '../context.js'
import { forward } from '../relay/forward.js'

/**
 * OpenAI's Responses API (SPEC §5.1): `POST /v1/responses` is routed by
 * model like chat, through the same forward path (native or through chat
 * completions, as the upstream entry says).
 */
export function responsesRoutes (app: FastifyInstance, ctx: RelayContext): void {
  app.post('/v1/responses', { bodyLimit: ctx.config.bodyLimitBytes }, (request, reply) => forward(ctx, 'responses', request, reply))
}
