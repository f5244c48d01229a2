import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { RelayContext } from '../context.js'
import { InvalidRequestError, NotFoundError } from '../errors.js'
import { FORMATS, isFormatName } from '../formats/index.js'
import { streamHeaders } from '../sse/headers.js'
import { hasLastEventId, lastEventId } from '../sse/last-event-id.js'
import { EVENT_FORMAT_NAMES as EVENT_FORMATS } from '../stream-log/numbering.js'
import type { Generations } from '../stream-log/generations.js'
import { fingerprintOf, idempotencyOf, idempotentId, startOrFind, type Found } from '../stream-log/idempotency.js'
import { serveReader } from '../stream-log/reader.js'
import type { StreamInfo } from '../stream-log/store.js'
import { planForward } from '../relay/plan.js'

const ID_PATTERN = /^[\w-]{22,64}$/

/**
 * The EventSource flow (SPEC §6). `POST /v1/streams` is a chat completion
 * that answers 201 with an id instead of the stream: the upstream call starts
 * at once and its events go to the store. `GET /v1/streams/:id` reads them
 * without a token (the id is the capability), resuming after Last-Event-ID;
 * `DELETE` stops the generation (the playground's Stop button).
 *
 * The POST waits for the upstream's response headers, so a refusal (bad
 * key upstream, unknown model, overload) is still a normal HTTP error the
 * page can show, rather than an event an EventSource could only fail on.
 */
export async function streamRoutes (app: FastifyInstance, ctx: RelayContext, generations: Generations): Promise<void> {
  const { heartbeatMs, bodyLimitBytes } = ctx.config
  const store = generations.store

  // preClose, not onClose: Fastify's own onClose (server.close()) runs first and waits for the
  // open readers, which only end once their generation does. (The CLI's drain gives them
  // shutdownGraceMs before this; a plain app.close() ends them at once.)
  app.addHook('preClose', () => generations.shutdown())

  app.post('/v1/streams', { bodyLimit: bodyLimitBytes }, async (request, reply) => {
    const idempotency = idempotencyOf(request)
    const fingerprint = idempotency === undefined ? undefined : fingerprintOf('chat', request.body)
    const plan = planForward(ctx, 'chat', request, { forceStream: true })
    const format = defaultFormat(request, plan.format)
    const created = idempotency === undefined
      ? await started(generations.start(request, reply, { endpoint: 'chat', plan, format }))
      : await startOrFind(generations, request, reply, { endpoint: 'chat', plan, format, id: idempotentId(plan.identity, idempotency), fingerprint })
    // The client left before the upstream answered: nobody to tell.
    if (created === undefined) return reply
    reply.code(created.fresh ? 201 : 200)
    const { info } = created
    return { id: info.id, url: `${app.prefix}/v1/streams/${info.id}`, expires_at: new Date(info.expiresAt).toISOString() }
  })

  // A wildcard, not `:id`: the router answers an over-long `:id` itself (414, not the envelope).
  app.get<{ Params: { '*': string } }>('/v1/streams/*', async (request, reply) => {
    const id = request.params['*']
    const query = request.query as Record<string, unknown>
    const info = await known(id)
    const name = query.format ?? request.headers['x-relay-format'] ?? info.format
    if (!isFormatName(name) || !EVENT_FORMATS.includes(name)) {
      throw InvalidRequestError({ param: 'format' }, `Format ${JSON.stringify(name)} cannot be read as an event stream: use ${EVENT_FORMATS.join(' or ')}`)
    }
    const after = lastEventId(request)
    const state = request.relayState
    state.stream = true
    state.format = name
    // Nothing left to send: 204 is what makes an EventSource stop reconnecting (SPEC §6).
    if (info.finished && (after >= (info.lastIds[name] ?? 0) || (info.delivered && !hasLastEventId(request)))) {
      state.outcome = 'completed'
      return reply.code(204).send()
    }
    // Fastify answers HEAD with this handler: a probe (link preview, monitor) gets the headers only.
    // Serving it a reader would count it as one and could mark the end delivered (a 204 for the page).
    if (request.method === 'HEAD') {
      state.outcome = 'completed'
      return reply.code(200).headers(streamHeaders(FORMATS[name].contentType, {})).send()
    }
    await serveReader({ store, id, format: FORMATS[name], lastEventId: after, reply, heartbeatMs, state })
  })

  app.delete<{ Params: { '*': string } }>('/v1/streams/*', async (request, reply) => {
    const id = request.params['*']
    await known(id)
    await generations.cancel(id)
    return reply.code(204).send()
  })

  async function known (id: string) {
    const info = ID_PATTERN.test(id) ? await store.info(id) : undefined
    if (!info) throw NotFoundError({ param: 'id' }, 'Unknown or expired stream id')
    return info
  }
}

/** The POST's format (?format=, X-Relay-Format, key, server) is the stream's default if an EventSource can read it. */
function defaultFormat (request: FastifyRequest, picked: string | undefined): string {
  if (picked !== undefined && EVENT_FORMATS.includes(picked)) return picked
  const asked = (request.query as Record<string, unknown> | undefined)?.format ?? request.headers['x-relay-format']
  if (asked !== undefined) {
    throw InvalidRequestError({ param: 'format' }, `Format ${JSON.stringify(asked)} cannot be read as an event stream: use ${EVENT_FORMATS.join(' or ')}`)
  }
  // A `text` default (key or server) is for fetch() readers; EventSource readers get `content`.
  return 'content'
}

async function started (starting: Promise<StreamInfo | undefined>): Promise<Found | undefined> {
  const info = await starting
  return info === undefined ? undefined : { info, fresh: true }
}
