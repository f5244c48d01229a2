import type { FastifyInstance } from 'fastify'
import type { RelayContext } from '../context.js'
import { forward } from '../relay/forward.js'
import { forwardStored } from '../responses/stored.js'

/**
 * OpenAI's Responses API (SPEC §5.1): `POST /v1/responses` is routed by
 * model like chat, through the same forward path (native or through chat
 * completions, as the upstream entry says); a stored response is reached at
 * the upstream that created it.
 */
export function responsesRoutes (app: FastifyInstance, ctx: RelayContext): void {
  app.post('/v1/responses', { bodyLimit: ctx.config.bodyLimitBytes }, (request, reply) => forward(ctx, 'responses', request, reply))
  // `return reply`: an answer passed through as a stream may not have written its headers when the
  // handler's promise settles, and Fastify would then send an empty reply of its own.
  app.get<{ Params: { id: string } }>('/v1/responses/:id', async (request, reply) => { await forwardStored(ctx, 'retrieve', request, reply); return reply })
  app.delete<{ Params: { id: string } }>('/v1/responses/:id', async (request, reply) => { await forwardStored(ctx, 'delete', request, reply); return reply })
  app.post<{ Params: { id: string } }>('/v1/responses/:id/cancel', async (request, reply) => { await forwardStored(ctx, 'cancel', request, reply); return reply })
}
