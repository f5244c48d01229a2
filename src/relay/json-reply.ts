import type { FastifyReply } from 'fastify'
import { UpstreamError } from '../errors.js'
import type { StreamSummary } from '../formats/types.js'
import type { RequestState } from '../observability/request-state.js'
import { inboundHeaders } from '../upstream/headers.js'
import { headerValue, readText } from '../upstream/read-body.js'
import type { Route, UpstreamResponse } from '../upstream/types.js'

/** Non-streamed answers above this size are refused rather than held in memory. */
const MAX_JSON_RESPONSE_BYTES = 64 * 1024 * 1024

/**
 * A non-streamed answer (SPEC §4): read whole, its finish reason and usage
 * noted for the log line, its `model` given back as the alias the client
 * used, then sent with the upstream's status and its retry hints.
 */
export async function sendJson (reply: FastifyReply, response: UpstreamResponse, route: Route, state: RequestState): Promise<void> {
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
