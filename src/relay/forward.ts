import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FormatName } from '../config/schema.js'
import type { RelayContext } from '../context.js'
import { FORMATS } from '../formats/index.js'
import type { StreamSummary } from '../formats/types.js'
import { callUpstream } from '../upstream/call.js'
import { beforeFirstByte, withFailover, type StreamVerdict } from '../upstream/failover.js'
import type { Endpoint } from '../upstream/endpoint.js'
import { responsesContext, sendResponse } from '../responses/answer.js'
import { sendJson } from './json-reply.js'
import { planForward, retarget, type ForwardPlan } from './plan.js'
import { relayStream } from './relay-stream.js'
import { asksStream, forwardKept } from './kept-stream.js'
import { idempotencyOf } from '../stream-log/idempotency.js'
import { runUpstreamRequest } from './request-shell.js'

/**
 * One client request → one upstream request (SPEC §4–5): plan it
 * (authenticate, validate, route, rewrite the body: plan.ts), admit it
 * (limits) and call the upstream with the relay's timeouts and failover
 * (request-shell.ts), then either relay the stream or return the JSON answer.
 */
export async function forward (ctx: RelayContext, endpoint: Endpoint, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const idempotency = idempotencyOf(request)
  if (idempotency !== undefined && asksStream(request.body)) return await forwardKept(ctx, endpoint, request, reply, idempotency)
  const state = request.relayState
  const plan = planForward(ctx, endpoint, request)
  // The plan holds what is needed of the body; a stream stays open for minutes, and Fastify's
  // request would keep the parsed prompt (often tens of KB) alive with it.
  request.body = undefined

  await runUpstreamRequest(ctx, request, reply, { identity: plan.identity, stream: plan.stream }, (controller) =>
    withFailover(ctx.router.attempts(plan.route, controller.signal), plan, retarget, state,
      (planned, verdict) => deliver(ctx, endpoint, request, reply, planned, controller, verdict)))
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
  const response = await callUpstream(plan, plan.call, request, controller)
  if (!plan.stream) {
    if (endpoint === 'responses') await sendResponse(ctx, request, reply, response, plan)
    else await sendJson(reply, response, route, state)
    return
  }
  const format = FORMATS[plan.format as FormatName]
  const summary: StreamSummary = { finishReason: null, usage: null }
  state.summary = summary
  const writer = format.create({
    // What the upstream streams: a Responses request served through chat streams chat chunks.
    endpoint: plan.call,
    alias: route.aliased ? route.publicModel : undefined,
    dropUsageChunk: askUsage,
    summary,
    reframe: upstream.kind.reframe,
    responses: endpoint === 'responses' ? responsesContext(ctx, plan, request) : undefined,
  })
  await relayStream({
    reply,
    upstream,
    response,
    format,
    writer,
    endpoint: plan.call,
    heartbeatMs: ctx.config.heartbeatMs,
    state,
    controller,
    verdict,
  }).catch((err: unknown) => { throw beforeFirstByte(err) })
}
