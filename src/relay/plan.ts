import type { FastifyRequest } from 'fastify'
import { authenticate } from '../auth/authenticate.js'
import { modelAllowed, type ClientIdentity } from '../auth/keyring.js'
import { DEFAULT_RETRY_AFTER_S } from '../config/defaults.js'
import type { FormatName } from '../config/schema.js'
import type { RelayContext } from '../context.js'
import { InvalidRequestError, ModelNotAllowedError, UnavailableError } from '../errors.js'
import { FORMAT_NAMES, isFormatName } from '../formats/index.js'
import { validateBody, type ApiBody } from './validate-body.js'
import { forwardableText } from './body-text.js'
import type { Endpoint } from '../upstream/endpoint.js'
import type { Route, Upstream } from '../upstream/types.js'
import { responsesUpstreamRequest } from '../responses/upstream-request.js'

/** What a request resolved to before its upstream call; POST /v1/streams plans the same way. */
export interface ForwardPlan {
  /** What the client asked for. */
  endpoint: Endpoint
  /**
   * What the upstream is asked: `endpoint`, except that a Responses request to an upstream
   * with `"responses": "chat"` goes to its chat completions (the facade, SPEC §5.1).
   */
  call: Endpoint
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
  // Taken off the state at once: the state lives as long as the stream, the body text need not.
  const bodyText = options.forceStream === true ? undefined : state.bodyText
  state.bodyText = undefined
  if (ctx.draining) throw UnavailableError({ retryAfter: DEFAULT_RETRY_AFTER_S }, 'The relay is shutting down; retry on another instance')
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
  return { endpoint, identity, body, route, upstream, stream, format, ...upstreamRequest(endpoint, body, bodyText, route, upstream, stream) }
}

/** The plan for another upstream of the same route (failover): the upstream may differ in asking for usage, so its body may too. */
export function retarget (plan: ForwardPlan, upstream: Upstream): ForwardPlan {
  if (upstream === plan.upstream) return plan
  // The other upstream may serve the Responses API the other way (native or through chat).
  if (plan.endpoint === 'responses') return { ...plan, upstream, ...responsesUpstreamRequest(plan.body, plan.route, upstream, plan.stream) }
  const askUsage = asksUsage(upstream, plan.stream, plan.body)
  const outgoing = askUsage === plan.askUsage ? plan.outgoing : JSON.stringify(rewriteBody(plan.body, plan.route, askUsage))
  return { ...plan, upstream, askUsage, outgoing }
}

/** What the upstream is sent, and at which endpoint. */
function upstreamRequest (endpoint: Endpoint, body: ApiBody, bodyText: string | undefined, route: Route, upstream: Upstream, stream: boolean): Pick<ForwardPlan, 'call' | 'askUsage' | 'outgoing'> {
  if (endpoint === 'responses') return responsesUpstreamRequest(body, route, upstream, stream)
  const askUsage = asksUsage(upstream, stream, body)
  return { call: endpoint, askUsage, outgoing: outgoingBody(body, bodyText, route, askUsage) }
}

/**
 * The upstream's body. When the relay changes nothing but the usage option, it is the client's own
 * text (`bodyText`, what was parsed into `body`), with `"stream_options":{"include_usage":true}` put
 * before its closing brace when the client sent no stream_options: no second serialisation of what
 * may be tens of KB of chat history, and the upstream sees the client's JSON as it was written.
 * Any other change (an alias's model name, options to merge) serialises the rewritten body.
 */
function outgoingBody (body: ApiBody, bodyText: string | undefined, route: Route, askUsage: boolean): string {
  // Checked only here: a Responses request or an aliased model never sends the text, so never scans it.
  const text = route.aliased ? undefined : forwardableText(bodyText)
  if (text !== undefined) {
    if (!askUsage) return text
    if (body.stream_options === undefined) {
      // The text parsed into an object, so its last non-blank character is its closing brace.
      const end = text.lastIndexOf('}')
      return `${text.slice(0, end)},"stream_options":{"include_usage":true}${text.slice(end)}`
    }
  }
  return JSON.stringify(rewriteBody(body, route, askUsage))
}

/** The relay asks for usage on the client's behalf when the upstream supports it and the client did not ask itself. */
function asksUsage (upstream: Upstream, stream: boolean, body: ApiBody): boolean {
  return stream && upstream.config.includeUsage && upstream.kind.supportsIncludeUsage && body.stream_options?.include_usage !== true
}

/** `?format=` beats `X-Relay-Format`, which beats the key's default, which beats the server's. */
export function pickFormat (request: FastifyRequest, identity: ClientIdentity, serverDefault: FormatName): FormatName {
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
