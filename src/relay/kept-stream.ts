import type { FastifyReply, FastifyRequest } from 'fastify'
import type { RelayContext } from '../context.js'
import { InvalidRequestError } from '../errors.js'
import { FORMATS, type FormatName } from '../formats/index.js'
import { lastEventId } from '../sse/last-event-id.js'
import { fingerprintOf, idempotentId, startOrFind } from '../stream-log/idempotency.js'
import { EVENT_FORMAT_NAMES } from '../stream-log/numbering.js'
import { serveReader } from '../stream-log/reader.js'
import type { Endpoint } from '../upstream/endpoint.js'
import { planForward } from './plan.js'

/**
 * A streamed POST with an `Idempotency-Key` (SPEC §6): the generation goes to
 * the stream log like an EventSource stream, and this response is one of its
 * readers. A repeat of the request (same client key, same Idempotency-Key,
 * same body) never calls the upstream again: it reads the same generation,
 * from its first event or after its `Last-Event-ID`, in the format it asks
 * for. What `@microsoft/fetch-event-source` needs to retry a cut stream safely.
 */
export async function forwardKept (ctx: RelayContext, endpoint: Endpoint, request: FastifyRequest, reply: FastifyReply, key: string): Promise<void> {
  // The stream log keeps chat chunks; a Responses stream (typed events, or chat translated by the
  // facade) is not kept yet. A clear refusal beats a second generation on the client's retry.
  if (endpoint === 'responses') {
    throw InvalidRequestError({ param: 'Idempotency-Key' }, 'Resumable streams (Idempotency-Key) are not available on /v1/responses yet: send it without the header, or resume a background response with GET /v1/responses/{id}?stream=true&starting_after=n')
  }
  const fingerprint = fingerprintOf(endpoint, request.body)
  const plan = planForward(ctx, endpoint, request)
  request.body = undefined
  const format = plan.format as FormatName
  if (!EVENT_FORMAT_NAMES.includes(format)) {
    throw InvalidRequestError({ param: 'format' }, `A resumable stream (Idempotency-Key) is read as an event stream: use ${EVENT_FORMAT_NAMES.join(' or ')}, not ${format}`)
  }
  const after = lastEventId(request)
  const found = await startOrFind(ctx.generations, request, reply, { endpoint, plan, format, id: idempotentId(plan.identity, key), fingerprint })
  // The client left before the upstream answered: nobody to serve.
  if (found === undefined) return
  await serveReader({ store: ctx.generations.store, id: found.info.id, format: FORMATS[format], lastEventId: after, reply, heartbeatMs: ctx.config.heartbeatMs, state: request.relayState })
}

/** Whether a body asks for a stream: only those are kept under an Idempotency-Key (a JSON answer is not resumable). */
export function asksStream (body: unknown): boolean {
  return typeof body === 'object' && body !== null && (body as { stream?: unknown }).stream === true
}
