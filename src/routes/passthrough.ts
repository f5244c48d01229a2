import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { RelayContext } from '../context.js'
import { UnsupportedMediaTypeError } from '../errors.js'
import { passThrough } from '../relay/passthrough.js'

/**
 * Every other `POST /v1/<path>` (SPEC §4): forwarded by model, its answer
 * passed back unread (relay/passthrough.ts). The relay's own routes are more
 * specific and win; this one takes what is left.
 */
export function passthroughRoutes (app: FastifyInstance, ctx: RelayContext): void {
  const prefix = app.prefix
  // `return reply`: the answer goes out as a stream whose headers may not be written when the
  // handler's promise settles, and Fastify would then send an empty reply of its own.
  app.post('/v1/*', { bodyLimit: ctx.config.bodyLimitBytes, onRequest: refuseMultipart }, async (request, reply) => {
    await passThrough(ctx, request, reply, prefix)
    return reply
  })
}

/** A file upload is not JSON and names no model the relay can read: say so plainly, before its body is read. */
async function refuseMultipart (request: FastifyRequest): Promise<void> {
  if (request.headers['content-type']?.toLowerCase().startsWith('multipart/') !== true) return
  throw UnsupportedMediaTypeError({}, `Multipart bodies (file uploads, as ${request.url.split('?')[0]} takes) are not supported: the relay forwards JSON bodies only, routed by their "model"`)
}
