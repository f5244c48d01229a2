import type { FastifyReply, FastifyRequest } from 'fastify'
import { authenticate } from '../auth/authenticate.js'
import { modelAllowed } from '../auth/keyring.js'
import type { ClientIdentity } from '../auth/keyring.js'
import type { FormatName } from '../config/schema.js'
import type { RelayContext } from '../context.js'
import { InvalidRequestError, ModelNotAllowedError, UnavailableError, UpstreamError, UpstreamTimeoutError, withoutSecret } from '../errors.js'
import { FORMATS, FORMAT_NAMES, isFormatName } from '../formats/index.js'
import type { StreamSummary } from '../formats/types.js'
import { relayStream } from '../relay/relay-stream.js'
import { headerValue, readText, upstreamHttpError } from '../upstream/read-body.js'
import { inboundHeaders } from '../upstream/headers.js'
import { beforeFirstByte, markRetryable, retryableStatus, type StreamVerdict } from '../upstream/failover.js'
import type { Route } from '../upstream/router.js'
import type { Endpoint, Upstream, UpstreamResponse } from '../upstream/types.js'
import { validateBody, type ApiBody } from './validate-body.js'

/** Non-streamed answers above this size are refused rather than held in memory. */
const MAX_JSON_RESPONSE_BYTES = 64 * 1024 * 1024

/**
 * One client request → one upstream request (SPEC §4–5): authenticate,
 * validate, route the model, rewrite the body, call the upstream with the
 * relay's timeouts, then either relay the stream or return the JSON answer.
 */
export async function forward (ctx: RelayContext, endpoint: Endpoint, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const state = request.relayState
  const plan = planForward(ctx, endpoint, request)
  const { stream } = plan
  // The plan holds what is needed of the body; a stream stays open for minutes, and Fastify's
  // request would keep the parsed prompt (often tens of KB) alive with it.
  request.body = undefined

  // One controller per request: the client going away, the total timeout and a
  // mid-stream failure all end the upstream request through it.
  const controller = new AbortController()
  const res = reply.raw
  const totalMs = ctx.config.timeouts.totalMs
  const total = setTimeout(() => controller.abort(UpstreamTimeoutError({}, `Request took longer than the total timeout of ${totalMs} ms`)), totalMs)
  let releaseSlot: (() => void) | undefined
  // The request's one 'close' listener (a response closes once: no once() wrapper needed): the
  // timer, the stream slot and the upstream call all end here, whatever ended the response.
  res.on('close', () => {
    clearTimeout(total)
    releaseSlot?.()
    if (!res.writableFinished) {
      state.clientGone = true
      state.outcome ??= 'client_aborted'
      controller.abort(new Error('client disconnected'))
    }
  })
  const slot = await ctx.limits.admit({ identity: plan.identity, request, reply, stream })
  // The slot store may be async: a client that left meanwhile has had its 'close' already.
  if (res.closed) slot?.()
  else releaseSlot = slot

  try {
    await withFailover(ctx, plan, state, controller.signal, (planned, verdict) => deliver(ctx, endpoint, request, reply, planned, controller, verdict))
  } catch (err) {
    // The client is gone: there is nobody to answer; tell Fastify the reply is handled.
    if (state.clientGone) { reply.hijack(); return }
    const headers = (err as { headers?: Record<string, string> }).headers
    if (headers) reply.headers(headers)
    throw err
  }
}

/**
 * Failover (SPEC §9), shared by forward() and POST /v1/streams: runs `attempt`
 * with the plan for each of the route's upstreams in turn until one succeeds.
 * A connect error, reset, 429 or 5xx before anything reached the client moves
 * to the next upstream (upstream/failover.ts decides); otherwise, or when
 * `signal` aborted, or when none is left, it rejects with the last error.
 * A stream may still break after that, so its attempt gets the upstream's
 * `verdict` to hand to the stream, which gives it when it ends (SPEC §9).
 */
export async function withFailover<T> (ctx: RelayContext, plan: ForwardPlan, state: FastifyRequest['relayState'], signal: AbortSignal, attempt: (plan: ForwardPlan, verdict: StreamVerdict | undefined) => Promise<T>): Promise<T> {
  const attempts = ctx.router.attempts(plan.route, signal)
  state.retried = attempts.retried
  for (let upstream = attempts.first(); ;) {
    try {
      const result = await attempt(retarget(plan, upstream, state), plan.stream ? attempts.verdict() : undefined)
      if (!plan.stream) attempts.succeeded()
      return result
    } catch (err) {
      const next = attempts.failed(err)
      if (next === undefined) throw err
      upstream = next
    }
  }
}

/**
 * One attempt on one upstream: the call, then the JSON answer, or the stream
 * up to its first byte (relayStream resolves then). Every failure it rejects
 * with happened before anything reached the client, with the upstream body
 * already consumed or destroyed, so the caller may try the next upstream.
 */
async function deliver (ctx: RelayContext, endpoint: Endpoint, request: FastifyRequest, reply: FastifyReply, plan: ForwardPlan, controller: AbortController, verdict: StreamVerdict | undefined): Promise<void> {
  const state = request.relayState
  const { route, upstream, askUsage } = plan
  const response = await callUpstream(plan, endpoint, request, controller)
  if (!plan.stream) {
    await sendJson(reply, response, route, state)
    return
  }
  const format = FORMATS[plan.format as FormatName]
  const summary: StreamSummary = { finishReason: null, usage: null }
  state.summary = summary
  const writer = format.create({ endpoint, alias: route.aliased ? route.publicModel : undefined, dropUsageChunk: askUsage, summary, reframe: upstream.kind.reframe })
  await relayStream({
    reply,
    upstream,
    response,
    format,
    writer,
    endpoint,
    heartbeatMs: ctx.config.heartbeatMs,
    state,
    controller,
    verdict,
  }).catch((err: unknown) => { throw beforeFirstByte(err) })
}

/** The plan for another upstream of the same route: the upstream may differ in asking for usage, so its body may too. */
function retarget (plan: ForwardPlan, upstream: Upstream, state: FastifyRequest['relayState']): ForwardPlan {
  state.upstream = upstream.name
  if (upstream === plan.upstream) return plan
  const askUsage = asksUsage(upstream, plan.stream, plan.body)
  const outgoing = askUsage === plan.askUsage ? plan.outgoing : JSON.stringify(rewriteBody(plan.body, plan.route, askUsage))
  return { ...plan, upstream, askUsage, outgoing }
}

/** The relay asks for usage on the client's behalf when the upstream supports it and the client did not ask itself. */
function asksUsage (upstream: Upstream, stream: boolean, body: ApiBody): boolean {
  return stream && upstream.config.includeUsage && upstream.kind.supportsIncludeUsage && body.stream_options?.include_usage !== true
}

/** What a request resolved to before its upstream call; POST /v1/streams plans the same way. */
export interface ForwardPlan {
  identity: ClientIdentity
  body: ApiBody
  route: Route
  upstream: Upstream
  stream: boolean
  /** The frame format, for a streamed request. */
  format: FormatName | undefined
  /** The relay asks for usage on the client's behalf (and drops that chunk again). */
  askUsage: boolean
  /** The JSON body for the upstream. */
  outgoing: string
}

/** Authenticate, validate, route the model, pick the format and rewrite the body; throws the relay error to answer with. */
export function planForward (ctx: RelayContext, endpoint: Endpoint, request: FastifyRequest, options: { forceStream?: boolean } = {}): ForwardPlan {
  const state = request.relayState
  if (ctx.draining) throw UnavailableError({ retryAfter: 5 }, 'The relay is shutting down; retry on another instance')
  const identity = state.identity ?? authenticate(request, ctx.keyring)
  state.keyName = identity.name
  const body = validateBody(request.body, endpoint)
  // POST /v1/streams always streams, whatever the body said.
  if (options.forceStream === true) body.stream = true
  state.model = body.model
  if (!modelAllowed(identity.models, body.model)) throw ModelNotAllowedError({ param: 'model' }, body.model)
  const route = ctx.router.route(body.model)
  const stream = endpoint !== 'embeddings' && body.stream === true
  const format = stream ? pickFormat(request, identity, ctx.config.format) : undefined
  state.stream = stream
  state.format = format

  const upstream = route.upstreams[0] as Upstream
  state.upstream = upstream.name
  const askUsage = asksUsage(upstream, stream, body)
  const outgoing = JSON.stringify(rewriteBody(body, route, askUsage))
  return { identity, body, route, upstream, stream, format, askUsage, outgoing }
}

/**
 * Sends the planned request upstream. Rejects with the relay error to answer
 * with when no response came, on a non-2xx answer (its retry hints in
 * `headers`), or when a streaming request was not answered with SSE.
 */
export async function callUpstream (plan: ForwardPlan, endpoint: Endpoint, request: FastifyRequest, controller: AbortController): Promise<UpstreamResponse> {
  const { upstream } = plan
  const response = await upstream.call({ endpoint, body: plan.outgoing, stream: plan.stream, requestId: request.id, clientHeaders: request.headers, controller })
  if (response.statusCode >= 300) {
    const err = await upstreamHttpError(upstream, response)
    throw retryableStatus(response.statusCode) ? markRetryable(err, `HTTP ${response.statusCode}`) : err
  }
  if (plan.stream) {
    const contentType = headerValue(response.headers['content-type']) ?? ''
    if (!contentType.startsWith('text/event-stream')) {
      const text = await readText(response, 64 * 1024)
      throw UpstreamError({}, `Upstream "${upstream.name}" answered a streaming request with ${contentType || 'no content type'}: ${withoutSecret(text, upstream.config.apiKey).slice(0, 200)}`)
    }
  }
  return response
}

/** `?format=` beats `X-Relay-Format`, which beats the key's default, which beats the server's. */
function pickFormat (request: FastifyRequest, identity: ClientIdentity, serverDefault: FormatName): FormatName {
  const fromQuery = (request.query as Record<string, unknown> | undefined)?.format
  const asked = fromQuery ?? request.headers['x-relay-format']
  if (asked === undefined) return identity.format ?? serverDefault
  if (!isFormatName(asked)) throw InvalidRequestError({ param: 'format' }, `Unknown format ${JSON.stringify(asked)}: use ${FORMAT_NAMES.join(', ')}`)
  return asked
}

/** The upstream sees its own model name; the relay may ask for usage on the client's behalf. */
function rewriteBody (body: ApiBody, route: Route, askUsage: boolean): ApiBody {
  if (!route.aliased && !askUsage) return body
  const out: ApiBody = { ...body, model: route.upstreamModel }
  if (askUsage) out.stream_options = { ...body.stream_options, include_usage: true }
  return out
}

async function sendJson (reply: FastifyReply, response: UpstreamResponse, route: Route, state: FastifyRequest['relayState']): Promise<void> {
  const contentType = headerValue(response.headers['content-type']) ?? 'application/json'
  let text = await readText(response, MAX_JSON_RESPONSE_BYTES)
  if (contentType.includes('json')) {
    let json: { model?: unknown, usage?: StreamSummary['usage'], choices?: Array<{ finish_reason?: unknown }> }
    try {
      json = JSON.parse(text)
    } catch {
      throw UpstreamError({}, `Upstream "${state.upstream}" answered with malformed JSON`)
    }
    state.summary = {
      finishReason: typeof json.choices?.[0]?.finish_reason === 'string' ? json.choices[0].finish_reason as string : null,
      usage: json.usage && typeof json.usage === 'object' ? json.usage : null,
    }
    if (route.aliased && json && typeof json === 'object' && 'model' in json) {
      json.model = route.publicModel
      text = JSON.stringify(json)
    }
  }
  state.outcome = 'completed'
  reply.code(response.statusCode).headers(inboundHeaders(response.headers)).type(contentType).send(text)
}
