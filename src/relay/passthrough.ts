import type { FastifyReply, FastifyRequest } from 'fastify'
import { authenticate } from '../auth/authenticate.js'
import { modelAllowed } from '../auth/keyring.js'
import { DEFAULT_RETRY_AFTER_S } from '../config/defaults.js'
import type { RelayContext } from '../context.js'
import { InvalidRequestError, ModelNotAllowedError, UnavailableError } from '../errors.js'
import { callUpstream, type PlannedCall } from '../upstream/call.js'
import { withFailover } from '../upstream/failover.js'
import type { Upstream } from '../upstream/types.js'
import { sendBody } from './pass-body.js'
import { runUpstreamRequest } from './request-shell.js'
import { forwardableText } from './body-text.js'

/**
 * A path segment the relay forwards: letters, digits and `-_.~`. Nothing that
 * a server on the way could read as another path: no `.` or `..`, no empty
 * segment, no backslash, no percent-encoding at all (`%2e`, `%2f`, `%5c` and
 * friends decode differently from one server to the next).
 */
const SEGMENT = /^[\w.~-]+$/
const MAX_PATH_LENGTH = 256

/**
 * Any other `POST /v1/<path>` with a JSON body naming a `model` (SPEC §4:
 * rerank, moderations, audio/speech, images/generations, …): routed by the
 * model like chat, with the same auth, header, limit, timeout and failover
 * rules, to `<baseUrl>/<path>`, and the answer (JSON, binary or SSE) passed
 * back as it comes, unread (pass-body.ts).
 */
export async function passThrough (ctx: RelayContext, request: FastifyRequest, reply: FastifyReply, prefix: string): Promise<void> {
  const state = request.relayState
  // As relay/plan.ts: the client's text goes upstream when the model is not an alias; off the
  // state at once, which lives as long as the answer streams.
  const bodyText = state.bodyText
  state.bodyText = undefined
  const path = forwardedPath(request.url, prefix)
  if (ctx.draining) throw UnavailableError({ retryAfter: DEFAULT_RETRY_AFTER_S }, 'The relay is shutting down; retry on another instance')
  const identity = state.identity ?? authenticate(request, ctx.keyring)
  state.keyName = identity.name
  const body = jsonWithModel(request.body)
  state.model = body.model
  if (!modelAllowed(identity.models, body.model)) throw ModelNotAllowedError({ param: 'model' }, body.model)
  const route = ctx.router.route(body.model)
  const outgoing = route.aliased ? JSON.stringify({ ...body, model: route.upstreamModel }) : forwardableText(bodyText) ?? JSON.stringify(body)
  request.body = undefined
  // A slot for what the client asked to stream: the answer may be an event stream held open for minutes.
  const stream = body.stream === true
  state.stream = stream
  const accept = request.headers.accept ?? '*/*'
  const plan: PlannedCall = { upstream: route.upstreams[0] as Upstream, outgoing, stream: false, accept }
  await runUpstreamRequest(ctx, request, reply, { identity, stream }, (controller) =>
    withFailover(ctx.router.attempts(route, controller.signal), plan, (p, upstream) => ({ ...p, upstream }), state, async (planned) => {
      const response = await callUpstream(planned, { method: 'POST', path }, request, controller)
      sendBody(reply, response, state, planned.upstream.name)
    }))
}

/** The path after `/v1` (`/audio/speech`, with the query), or a 400 naming the rule it broke. */
export function forwardedPath (url: string, prefix: string): string {
  const start = `${prefix}/v1/`
  const query = url.indexOf('?')
  const path = query === -1 ? url : url.slice(0, query)
  const rest = path.slice(start.length)
  const plain = path.startsWith(start) && path.length <= MAX_PATH_LENGTH &&
    rest.split('/').every((segment) => SEGMENT.test(segment) && segment !== '.' && segment !== '..')
  if (!plain) {
    throw InvalidRequestError({}, `The path ${JSON.stringify(path.slice(0, MAX_PATH_LENGTH))} is not forwarded: only plain segments (letters, digits, - _ . ~) are, with no "." or ".." segment, no empty segment, no backslash and no percent-encoding`)
  }
  return `/${rest}${query === -1 ? '' : url.slice(query)}`
}

/** A JSON object naming its model; what else it holds is the upstream's to judge. */
function jsonWithModel (body: unknown): { model: string, stream?: unknown, [field: string]: unknown } {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw InvalidRequestError({}, 'Request body must be a JSON object')
  }
  const model = (body as { model?: unknown }).model
  if (model === undefined) throw InvalidRequestError({ param: 'model' }, 'You must provide a model parameter: it chooses the upstream')
  if (typeof model !== 'string' || model.trim() === '') throw InvalidRequestError({ param: 'model' }, '"model" must be a non-empty string')
  return body as { model: string }
}
