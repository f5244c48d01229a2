import type { FastifyReply, FastifyRequest } from 'fastify'
import { authenticate } from '../auth/authenticate.js'
import { DEFAULT_RETRY_AFTER_S } from '../config/defaults.js'
import type { RelayContext } from '../context.js'
import { NotFoundError, UnavailableError } from '../errors.js'
import { FORMATS } from '../formats/index.js'
import type { StreamSummary } from '../formats/types.js'
import { sendBody } from '../relay/pass-body.js'
import { pickFormat } from '../relay/plan.js'
import { relayStream } from '../relay/relay-stream.js'
import { runUpstreamRequest } from '../relay/request-shell.js'
import { callUpstream } from '../upstream/call.js'
import type { Upstream, UpstreamTarget } from '../upstream/types.js'

/** OpenAI's ids are `resp_` and 48 hex digits; other servers differ, but never beyond these characters. */
const RESPONSE_ID = /^[\w-]{1,200}$/

/** What a client does with a stored response (SPEC §5.1). */
export type StoredAction = 'retrieve' | 'delete' | 'cancel'

/**
 * `GET /v1/responses/:id`, `DELETE /v1/responses/:id` and
 * `POST /v1/responses/:id/cancel` (SPEC §5.1): sent to the upstream that
 * created the response (ResponseOwners), with its key, and its answer passed
 * back as it comes. `GET …?stream=true&starting_after=n` resumes the
 * response's event stream there, relayed like a POST's stream (its format,
 * heartbeats, timeouts, one error event on a failure). No failover: only
 * that upstream holds the response.
 */
export async function forwardStored (ctx: RelayContext, action: StoredAction, request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply): Promise<void> {
  const state = request.relayState
  if (ctx.draining) throw UnavailableError({ retryAfter: DEFAULT_RETRY_AFTER_S }, 'The relay is shutting down; retry on another instance')
  const identity = state.identity ?? authenticate(request, ctx.keyring)
  state.keyName = identity.name
  const id = request.params.id
  const upstream = await ownerOf(ctx, id)
  state.upstream = upstream.name
  const query = forwardedQuery(request.url)
  const stream = action === 'retrieve' && query.get('stream') === 'true'
  state.stream = stream
  const target: UpstreamTarget = {
    method: action === 'retrieve' ? 'GET' : action === 'delete' ? 'DELETE' : 'POST',
    path: `/responses/${id}${action === 'cancel' ? '/cancel' : ''}${query.size > 0 ? `?${query.toString()}` : ''}`,
  }
  const format = stream ? pickFormat(request, identity, ctx.config.format) : undefined
  state.format = format
  await runUpstreamRequest(ctx, request, reply, { identity, stream }, async (controller) => {
    const response = await callUpstream({ upstream, outgoing: undefined, stream }, target, request, controller)
    if (format === undefined) {
      sendBody(reply, response, state, upstream.name)
      return
    }
    const summary: StreamSummary = { finishReason: null, usage: null }
    state.summary = summary
    const frames = FORMATS[format]
    const writer = frames.create({ endpoint: 'responses', alias: undefined, dropUsageChunk: false, summary, reframe: upstream.kind.reframe, responses: {} })
    await relayStream({ reply, upstream, response, format: frames, writer, endpoint: 'responses', heartbeatMs: ctx.config.heartbeatMs, state, controller })
  })
}

/** The upstream that created `id`; a 404 for an id the relay never saw, or one made through chat (nothing is stored there). */
async function ownerOf (ctx: RelayContext, id: string): Promise<Upstream> {
  const name = RESPONSE_ID.test(id) ? await ctx.responseOwners.lookup(id) : undefined
  const upstream = name === undefined ? undefined : ctx.router.upstreams.find((u) => u.name === name)
  if (upstream === undefined) {
    throw NotFoundError({ param: 'response_id' }, `No response with id ${JSON.stringify(id.slice(0, 200))} was created through this relay (or it is older than streams.ttlMs)`)
  }
  if (upstream.config.responses === 'chat') {
    throw NotFoundError({ param: 'response_id' }, `Response ${id} was served by upstream "${upstream.name}" through its chat completions (the relay's Responses facade): nothing is stored upstream, so it cannot be retrieved, resumed, cancelled or deleted`)
  }
  return upstream
}

/** The client's query for the upstream (`stream`, `starting_after`, `include[]`, …), less the relay's own `format`. */
function forwardedQuery (url: string): URLSearchParams {
  const at = url.indexOf('?')
  const query = new URLSearchParams(at === -1 ? '' : url.slice(at + 1))
  query.delete('format')
  return query
}
