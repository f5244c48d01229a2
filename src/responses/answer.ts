import type { FastifyReply, FastifyRequest } from 'fastify'
import type { RelayContext } from '../context.js'
import { UpstreamError } from '../errors.js'
import { ResponsesEvents, type ResponsesEvent } from '../formats/responses-events.js'
import type { ResponsesContext, StreamSummary } from '../formats/types.js'
import type { ForwardPlan } from '../relay/plan.js'
import { inboundHeaders } from '../upstream/headers.js'
import { headerValue, readText } from '../upstream/read-body.js'
import type { UpstreamResponse } from '../upstream/types.js'
import { chatToResponse } from './chat-response.js'

/** Non-streamed answers above this size are refused rather than held in memory (as relay/json-reply.ts). */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024

/**
 * What the stream writers of a `POST /v1/responses` need (formats/types.ts):
 * the client's request for the facade, and where the response id goes once
 * the stream tells it.
 */
export function responsesContext (ctx: RelayContext, plan: ForwardPlan, request: FastifyRequest): ResponsesContext {
  const upstream = plan.upstream.name
  return {
    facade: plan.call === 'chat' ? plan.body : undefined,
    onResponseId: (id) => { void remember(ctx, request, id, upstream) },
  }
}

/** Notes the response's upstream (SPEC §5.1); a store that fails is logged, the answer still goes out. */
async function remember (ctx: RelayContext, request: FastifyRequest, id: string, upstream: string): Promise<void> {
  try {
    await ctx.responseOwners.remember(id, upstream)
  } catch (err) {
    request.log.warn({ responseId: id, upstream, err: (err as Error).message }, 'could not remember which upstream created a response')
  }
}

/**
 * A non-streamed `POST /v1/responses` (SPEC §5.1): the upstream's own
 * Response object (the model given back as the alias the client used), or
 * the facade's, built from the chat completion. Its id is remembered before
 * the client has it, so a GET right after finds its upstream.
 */
export async function sendResponse (ctx: RelayContext, request: FastifyRequest, reply: FastifyReply, response: UpstreamResponse, plan: ForwardPlan): Promise<void> {
  const state = request.relayState
  const text = await readText(response, MAX_RESPONSE_BYTES)
  let json: Record<string, unknown>
  try {
    json = JSON.parse(text) as Record<string, unknown>
    if (!json || typeof json !== 'object') throw new TypeError('not an object')
  } catch {
    throw UpstreamError({}, `Upstream "${plan.upstream.name}" answered with malformed JSON`)
  }
  const summary: StreamSummary = { finishReason: null, usage: null }
  let answer: Record<string, unknown>
  if (plan.call === 'chat') {
    const choice = (json.choices as Array<{ finish_reason?: unknown }> | undefined)?.[0]
    summary.finishReason = typeof choice?.finish_reason === 'string' ? choice.finish_reason : null
    summary.usage = json.usage && typeof json.usage === 'object' ? json.usage as StreamSummary['usage'] : null
    answer = chatToResponse(json, plan.body)
  } else {
    // The final event's reading of status and usage, on the whole object.
    new ResponsesEvents().record({ type: 'response.completed', response: json } as ResponsesEvent, summary)
    answer = json
    if (plan.route.aliased && 'model' in answer) answer.model = plan.route.publicModel
  }
  state.summary = summary
  if (typeof answer.id === 'string') await remember(ctx, request, answer.id, plan.upstream.name)
  state.outcome = 'completed'
  const contentType = plan.call === 'chat' ? 'application/json; charset=utf-8' : headerValue(response.headers['content-type']) ?? 'application/json'
  reply.code(response.statusCode).headers(inboundHeaders(response.headers)).type(contentType).send(JSON.stringify(answer))
}
