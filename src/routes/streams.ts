import { randomBytes } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { DEFAULT_RETRY_AFTER_S } from '../config/defaults.js'
import type { RelayContext } from '../context.js'
import { InvalidRequestError, NotFoundError, StreamCancelledError, UnavailableError } from '../errors.js'
import { FORMATS, isFormatName } from '../formats/index.js'
import { streamHeaders } from '../sse/headers.js'
import { createMemoryStore } from '../stream-log/memory-store.js'
import { EVENT_FORMAT_NAMES as EVENT_FORMATS } from '../stream-log/numbering.js'
import { startProducer, type Producer } from '../stream-log/producer.js'
import { serveReader } from '../stream-log/reader.js'
import type { StreamInfo, StreamStore } from '../stream-log/store.js'
import { planForward, retarget, type ForwardPlan } from '../relay/plan.js'
import { callUpstream } from '../upstream/call.js'
import { withFailover, type StreamVerdict } from '../upstream/failover.js'
import type { UpstreamResponse } from '../upstream/types.js'

/** 16 random bytes: the id is the only capability a reader needs, so ≥128 bits (SPEC §6). */
const ID_BYTES = 16
const ID_PATTERN = /^[\w-]{22,64}$/
const LAST_EVENT_ID = /^\d{1,15}$/

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
export async function streamRoutes (app: FastifyInstance, ctx: RelayContext, store: StreamStore = createMemoryStore()): Promise<void> {
  const { streams, timeouts, heartbeatMs, bodyLimitBytes } = ctx.config
  const producers = new Map<string, Producer>()

  // preClose, not onClose: Fastify's own onClose (server.close()) runs first and waits for the
  // open readers, which only end once their generation does. (The CLI's drain gives them
  // shutdownGraceMs before this; a plain app.close() ends them at once.)
  app.addHook('preClose', async () => {
    for (const producer of producers.values()) producer.cancel(UnavailableError({ retryAfter: DEFAULT_RETRY_AFTER_S }, 'The relay is shutting down'), 'upstream_error')
    await Promise.all([...producers.values()].map((p) => p.done))
  })
  app.addHook('onClose', async () => {
    await store.close()
  })

  app.post('/v1/streams', { bodyLimit: bodyLimitBytes }, async (request, reply) => {
    const state = request.relayState
    const plan = planForward(ctx, 'chat', request, { forceStream: true })
    const format = defaultFormat(request, plan.format)
    // Per-key and global limits (SPEC §9). The stream slot belongs to the generation, which outlives
    // this POST: the producer gives it back when it ends; until it has started, this reply's close does.
    await ctx.limits.checkRate(plan.identity, request, reply)
    const release = await ctx.limits.acquireStream(plan.identity)
    let producing = false
    reply.raw.once('close', () => { if (!producing) release() })
    const controller = new AbortController()
    const res = reply.raw
    let clientGone = false
    const onClose = (): void => {
      if (res.writableFinished) return
      clientGone = true
      controller.abort(new Error('client disconnected'))
    }
    res.once('close', onClose)
    // The same failover as a plain request (SPEC §9), up to the upstream's answer headers (the POST
    // does not wait for a token): a refusal there moves on to the route's next upstream; after it,
    // a failure is the stream's error event.
    let answered: { planned: ForwardPlan, response: UpstreamResponse, verdict: StreamVerdict | undefined }
    try {
      answered = await withFailover(ctx.router.attempts(plan.route, controller.signal), plan, retarget, state,
        async (planned, verdict) => ({ planned, response: await callUpstream(planned, 'chat', request, controller), verdict }))
    } catch (err) {
      // Not `signal.aborted`: graceful shutdown aborts the same controller, and that caller gets its 503.
      if (clientGone) { state.clientGone = true; reply.hijack(); return }
      const headers = (err as { headers?: Record<string, string> }).headers
      if (headers) reply.headers(headers)
      throw err
    }
    res.off('close', onClose)
    const { planned, response, verdict } = answered

    const id = randomBytes(ID_BYTES).toString('base64url')
    let info: StreamInfo
    try {
      info = await store.create(id, { ttlMs: streams.ttlMs, format })
    } catch (err) {
      // No generation will run: give the upstream call and its breaker verdict back (a trial slot),
      // and the body (an upstream that already answered whole is past the abort's reach).
      verdict?.released()
      controller.abort(err)
      response.body.destroy()
      throw err
    }
    const producer = startProducer({
      store,
      id,
      upstream: planned.upstream,
      response,
      endpoint: 'chat',
      alias: planned.route.aliased ? planned.route.publicModel : undefined,
      dropUsageChunk: planned.askUsage,
      controller,
      verdict,
      totalMs: timeouts.totalMs,
      detachTimeoutMs: streams.detachTimeoutMs,
      maxBufferBytes: streams.maxBufferBytes,
      log: app.log,
      logFields: { requestId: request.id, keyName: state.keyName, model: state.model, upstream: state.upstream },
    })
    producers.set(id, producer)
    producing = true
    void producer.done.then(({ outcome, usage }) => {
      release()
      ctx.metrics.observeGeneration({ keyName: state.keyName, model: state.model, upstream: planned.upstream.name, outcome, usage })
    })
    void producer.done.then(() => producers.delete(id))
    reply.code(201)
    return { id, url: `${app.prefix}/v1/streams/${id}`, expires_at: new Date(info.expiresAt).toISOString() }
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
    producers.get(id)?.cancel(StreamCancelledError({}, 'The stream was cancelled'), 'client_aborted')
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

function hasLastEventId (request: FastifyRequest): boolean {
  return request.headers['last-event-id'] !== undefined || (request.query as Record<string, unknown>).lastEventId !== undefined
}

/** `Last-Event-ID` header (what EventSource sends on reconnect) or `?lastEventId=`; 0 when neither. */
function lastEventId (request: FastifyRequest): number {
  const raw = request.headers['last-event-id'] ?? (request.query as Record<string, unknown>).lastEventId
  if (raw === undefined || raw === '') return 0
  if (typeof raw !== 'string' || !LAST_EVENT_ID.test(raw.trim())) {
    throw InvalidRequestError({ param: 'lastEventId' }, `Last-Event-ID must be an event number (got ${JSON.stringify(raw)})`)
  }
  return Number(raw.trim())
}
