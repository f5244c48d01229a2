import { UpstreamError, upstreamClientError, withoutSecret, type RelayError } from '../errors.js'
import { inboundHeaders } from './headers.js'
import type { Upstream, UpstreamResponse } from './types.js'

/** An error body larger than this is cut: only its message matters. */
const MAX_ERROR_BODY_BYTES = 64 * 1024

/**
 * A non-2xx upstream answer as a relay error (SPEC §10): a 4xx keeps its
 * status and message; a 5xx becomes 502 with the upstream's message, since
 * the client's request may be fine and the fault is past the relay.
 * Retry hints (Retry-After, x-ratelimit-*) ride along.
 */
export async function upstreamHttpError (upstream: Upstream, response: UpstreamResponse): Promise<RelayError & { headers: Record<string, string> }> {
  const text = await readText(response, MAX_ERROR_BODY_BYTES)
  const contentType = headerValue(response.headers['content-type'])
  const parsed = upstream.kind.parseError(response.statusCode, contentType, withoutSecret(text, upstream.config.apiKey))
  const status = response.statusCode
  const err = status >= 400 && status < 500
    ? upstreamClientError(status, parsed.message, parsed.type, parsed.code, parsed.param)
    : UpstreamError({}, `Upstream "${upstream.name}" answered HTTP ${status}: ${parsed.message}`)
  return Object.assign(err, { headers: inboundHeaders(response.headers) })
}

/** Reads a body as UTF-8 up to `limit` bytes, then stops reading (and closes the upstream body). */
export function readText (response: UpstreamResponse, limit: number): Promise<string> {
  const body = response.body
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const text = (): string => Buffer.concat(chunks).subarray(0, limit).toString('utf8')
    body.read({
      onData (chunk) {
        if (size >= limit) return
        chunks.push(chunk)
        size += chunk.length
        if (size < limit) return
        body.destroy()
        resolve(text())
      },
      onEnd: () => resolve(text()),
      onError: reject,
    })
  })
}

export function headerValue (value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}
