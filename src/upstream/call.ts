import type { IncomingHttpHeaders } from 'node:http'
import { UpstreamError, withoutSecret } from '../errors.js'
import { markRetryable, retryableStatus } from './failover.js'
import { headerValue, readText, upstreamHttpError } from './read-body.js'
import type { Endpoint } from './endpoint.js'
import type { Upstream, UpstreamResponse, UpstreamTarget } from './types.js'

/** A non-SSE answer to a streaming request is read this far, for the error message. */
const MAX_WRONG_TYPE_BODY_BYTES = 64 * 1024

/** What a call needs of a request's plan (relay/plan.ts ForwardPlan is one). */
export interface PlannedCall {
  readonly upstream: Upstream
  /** The JSON body for the upstream; undefined for none (a GET). */
  readonly outgoing: string | undefined
  readonly stream: boolean
  /** The Accept header to send; default: SSE for a stream, else JSON. */
  readonly accept?: string | undefined
}

/**
 * Sends the planned request upstream. Rejects with the relay error to answer
 * with when no response came, on a non-2xx answer (its retry hints in
 * `headers`, and marked retryable for failover when another upstream may
 * serve it), or when a streaming request was not answered with SSE.
 */
export async function callUpstream (plan: PlannedCall, endpoint: Endpoint | UpstreamTarget, request: { id: string, headers: IncomingHttpHeaders }, controller: AbortController): Promise<UpstreamResponse> {
  const { upstream } = plan
  const response = await upstream.call({ endpoint, body: plan.outgoing, stream: plan.stream, accept: plan.accept, requestId: request.id, clientHeaders: request.headers, controller })
  if (response.statusCode >= 300) {
    const err = await upstreamHttpError(upstream, response)
    throw retryableStatus(response.statusCode) ? markRetryable(err, `HTTP ${response.statusCode}`) : err
  }
  if (plan.stream) {
    const contentType = headerValue(response.headers['content-type']) ?? ''
    if (!contentType.startsWith('text/event-stream')) {
      const text = await readText(response, MAX_WRONG_TYPE_BODY_BYTES)
      throw UpstreamError({}, `Upstream "${upstream.name}" answered a streaming request with ${contentType || 'no content type'}: ${withoutSecret(text, upstream.config.apiKey).slice(0, 200)}`)
    }
  }
  return response
}
