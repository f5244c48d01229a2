import { Readable } from 'node:stream'
import type { FastifyReply } from 'fastify'
import { mapUpstreamFailure } from '../errors.js'
import type { RequestState } from '../observability/request-state.js'
import { inboundHeaders } from '../upstream/headers.js'
import { headerValue } from '../upstream/read-body.js'
import type { UpstreamBody, UpstreamResponse } from '../upstream/types.js'

/** The upstream headers that describe the answer's bytes, passed back with them (the relay does not read them). */
const ENTITY_HEADERS = ['content-type', 'content-length', 'content-disposition', 'content-encoding', 'content-language'] as const

/**
 * An upstream answer the relay does not read (SPEC §4: other POST paths;
 * stored responses): its status, the headers that describe its bytes, then
 * the bytes as they arrive, handed to `reply.send()` as a stream so Fastify's
 * hooks (CORS) and the request's log still apply. Nothing is buffered: each
 * chunk is written when it arrives, and the upstream is paused while the
 * client's socket is full. A client that goes away destroys the stream, and
 * with it the upstream call; an upstream that breaks mid-way cuts the
 * client's connection (the bytes so far cannot be taken back).
 */
export function sendBody (reply: FastifyReply, response: UpstreamResponse, state: RequestState, upstreamName: string): void {
  const headers: Record<string, string> = inboundHeaders(response.headers)
  for (const name of ENTITY_HEADERS) {
    const value = headerValue(response.headers[name])
    if (value !== undefined) headers[name] = value
  }
  // An event stream passed through gets the same anti-buffering headers as the relay's own (SPEC §5).
  if (headers['content-type']?.startsWith('text/event-stream') === true) {
    headers['cache-control'] = 'no-cache, no-transform'
    headers['x-accel-buffering'] = 'no'
  }
  const body = new BodyReadable(response.body, (err) => {
    const mapped = mapUpstreamFailure(err, upstreamName)
    state.outcome ??= mapped.relayCode === 'upstream_timeout' ? 'timeout' : 'upstream_error'
    state.error = mapped.message
  })
  reply.code(response.statusCode).headers(headers).send(body)
}

/** An UpstreamBody as a Readable, with its backpressure: a full Readable pauses the upstream, a read resumes it. */
class BodyReadable extends Readable {
  readonly #body: UpstreamBody
  readonly #onFailure: (err: Error) => void

  constructor (body: UpstreamBody, onFailure: (err: Error) => void) {
    super()
    this.#body = body
    this.#onFailure = onFailure
    body.read({
      onData: (chunk) => { if (!this.push(chunk)) body.pause() },
      onEnd: () => { this.push(null) },
      onError: (err) => {
        if (this.destroyed) return
        this.#onFailure(err)
        this.destroy(err)
      },
    })
  }

  override _read (): void {
    if (this.#body.paused) this.#body.resume()
  }

  override _destroy (err: Error | null, callback: (err?: Error | null) => void): void {
    this.#body.destroy()
    callback(err)
  }
}
