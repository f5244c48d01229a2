import type { ApiBody } from '../relay/validate-body.js'
import type { Endpoint } from '../upstream/endpoint.js'
import type { Route, Upstream } from '../upstream/types.js'
import { responsesToChat } from './chat-request.js'

/** What a `POST /v1/responses` sends one upstream (relay/plan.ts): the endpoint, the body, and whether usage was asked for the client. */
export interface ResponsesUpstreamRequest {
  call: Endpoint
  askUsage: boolean
  outgoing: string
}

/**
 * The upstream's own `/responses` gets the client's body (with the model
 * the upstream knows); an upstream served through chat (SPEC §5.1) gets the
 * request translated to chat completions, with usage asked for where the
 * kind understands it, so `response.completed` can carry it.
 */
export function responsesUpstreamRequest (body: ApiBody, route: Route, upstream: Upstream, stream: boolean): ResponsesUpstreamRequest {
  if (upstream.config.responses === 'native') {
    return { call: 'responses', askUsage: false, outgoing: JSON.stringify(route.aliased ? { ...body, model: route.upstreamModel } : body) }
  }
  const chat = responsesToChat(body)
  chat.model = route.upstreamModel
  const askUsage = stream && upstream.config.includeUsage && upstream.kind.supportsIncludeUsage
  if (askUsage) chat.stream_options = { include_usage: true }
  return { call: 'chat', askUsage, outgoing: JSON.stringify(chat) }
}
