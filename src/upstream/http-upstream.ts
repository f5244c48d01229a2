import type { IncomingHttpHeaders } from 'node:http'
import type { Readable } from 'node:stream'
import { request, type Dispatcher } from 'undici'
import { bearer } from '../auth/bearer.js'
import type { UpstreamConfig, RelayConfig } from '../config/resolve.js'
import { mapUpstreamFailure } from '../errors.js'
import { createDispatcher } from './dispatcher.js'
import { outboundHeaders } from './headers.js'
import { ResponseBody } from './response-body.js'
import { OneShotBody } from './request-body.js'
import { ENDPOINT_PATHS, type Endpoint } from './endpoint.js'
import type { ModelEntry, UpstreamKind } from './kinds/types.js'
import type { Upstream, UpstreamCall, UpstreamResponse } from './types.js'

/** How long a `GET /models` answer may take before the model list goes on without it. */
const MODELS_TIMEOUT_MS = 5_000

/**
 * An upstream reached over HTTP through its own undici dispatcher (the relay's pool,
 * or the outbound proxy's agent: upstream/dispatcher.ts): pooled keep-alive
 * connections, so a stream does not pay a TCP (and TLS) handshake. The
 * dispatcher's connect timeout is the relay's connect timeout; the first-byte
 * and idle timeouts are undici's headersTimeout and bodyTimeout per request.
 *
 * Calls go through `dispatcher.dispatch()` with a handler of our own rather
 * than `request()`: the body's chunks reach the SSE parser as undici's parser
 * produces them (response-body.ts), with no Readable in between, and the URL is
 * split into origin and path once here instead of parsed on every request.
 */
export function createHttpUpstream (config: UpstreamConfig, kind: UpstreamKind, relay: RelayConfig, dispatcher?: Dispatcher): Upstream {
  const { firstByteMs, idleMs } = relay.timeouts
  const base = new URL(config.baseUrl)
  const origin = base.origin
  const agent = dispatcher ?? createDispatcher(relay, origin)
  const prefix = base.pathname.replace(/\/$/, '')
  const paths = Object.fromEntries(Object.entries(ENDPOINT_PATHS).map(([endpoint, path]) => [endpoint, prefix + path + base.search])) as Record<Endpoint, string>

  return {
    name: config.name,
    config,
    kind,
    call (call: UpstreamCall): Promise<UpstreamResponse> {
      return new Promise<UpstreamResponse>((resolve, reject) => {
        const { signal } = call.controller
        if (signal.aborted) {
          reject(signal.reason ?? new Error('aborted'))
          return
        }
        const handler = new CallHandler(signal, config.name, resolve, reject)
        const body = call.body === undefined ? undefined : new OneShotBody(Buffer.from(call.body))
        const headers = outboundHeaders(call.clientHeaders, {
          apiKey: config.apiKey,
          requestId: call.requestId,
          extra: config.headers,
          accept: call.accept ?? (call.stream ? 'text/event-stream' : 'application/json'),
        })
        if (body === undefined) delete headers['content-type']
        else headers['content-length'] = String(body.length)
        const target = call.endpoint
        agent.dispatch({
          origin,
          path: typeof target === 'string' ? paths[target] : prefix + target.path,
          method: typeof target === 'string' ? 'POST' : target.method,
          headers,
          // Not the string: undici would keep it (as a Buffer) until the response ends (request-body.ts).
          // undici's docs (Dispatcher.md, DispatchOptions.body) accept an Iterable; its .d.ts lags behind.
          body: body as unknown as Readable,
          headersTimeout: firstByteMs,
          bodyTimeout: idleMs,
        }, handler)
      })
    },
    async listModels (signal: AbortSignal): Promise<ModelEntry[]> {
      const res = await request(`${config.baseUrl}/models`, {
        method: 'GET',
        dispatcher: agent,
        headers: config.apiKey ? { ...config.headers, authorization: bearer(config.apiKey) } : { ...config.headers },
        signal: AbortSignal.any([signal, AbortSignal.timeout(MODELS_TIMEOUT_MS)]),
        headersTimeout: MODELS_TIMEOUT_MS,
        bodyTimeout: MODELS_TIMEOUT_MS,
      })
      if (res.statusCode !== 200) {
        await res.body.dump()
        throw new Error(`GET /models answered ${res.statusCode}`)
      }
      return kind.parseModels(await res.body.json())
    },
    async close () {
      if (!dispatcher) await agent.close()
    },
  }
}

/**
 * undici's handler for one call: the response (status, headers, a ResponseBody)
 * resolves the call; an error before it rejects the call with the relay's
 * error (or the abort reason when the caller aborted); an error after it
 * destroys the body with it. The caller's signal aborts the request: before
 * undici started it, the call rejects at once and the request is aborted as
 * soon as undici hands it a connection.
 *
 * A class that is also its own abort listener (`handleEvent`): per call one
 * object, where closures would be seven functions and a context held for the
 * whole stream.
 */
class CallHandler implements Dispatcher.DispatchHandler {
  readonly #signal: AbortSignal
  readonly #upstreamName: string
  /**
   * The call's promise callbacks until it settles, then undefined: they hold the promise, and a
   * settled promise holds its result (status, headers, body) for as long as it is reachable. This
   * handler lives as long as the stream does, so keeping them kept every stream's upstream
   * headers alive.
   */
  #settle: { resolve: (response: UpstreamResponse) => void, reject: (err: unknown) => void } | undefined
  #controller: Dispatcher.DispatchController | undefined
  #body: ResponseBody | undefined

  constructor (signal: AbortSignal, upstreamName: string, resolve: (response: UpstreamResponse) => void, reject: (err: unknown) => void) {
    this.#signal = signal
    this.#upstreamName = upstreamName
    this.#settle = { resolve, reject }
    signal.addEventListener('abort', this, { once: true })
  }

  #reject (err: unknown): void {
    const settle = this.#settle
    this.#settle = undefined
    settle?.reject(err)
  }

  /** The caller's signal aborted. */
  handleEvent (): void {
    const reason = (this.#signal.reason ?? new Error('aborted')) as Error
    this.#reject(reason)
    // The body sees the abort as its error (onResponseError below), as undici's request() body does.
    this.#controller?.abort(reason)
  }

  onRequestStart (controller: Dispatcher.DispatchController): void {
    this.#controller = controller
    if (this.#signal.aborted) controller.abort((this.#signal.reason ?? new Error('aborted')) as Error)
  }

  onResponseStart (controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    // undici's controller keeps the raw header Buffers (views into the socket's read chunk) for
    // the whole response; the parsed `headers` are all the relay reads (bench/README.md, memory).
    controller.rawHeaders = null
    if (statusCode < 200) return // 1xx: the real answer follows
    const body = this.#body = new ResponseBody(controller)
    const settle = this.#settle
    this.#settle = undefined
    // Aborted meanwhile: nobody will read this body.
    if (settle === undefined) controller.abort(new Error('aborted'))
    else settle.resolve({ statusCode, headers, body })
  }

  onResponseData (_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#body?.push(chunk)
  }

  onResponseEnd (): void {
    this.#signal.removeEventListener('abort', this)
    this.#body?.end()
  }

  onResponseError (_controller: Dispatcher.DispatchController, err: Error): void {
    this.#signal.removeEventListener('abort', this)
    if (this.#body !== undefined) this.#body.fail(err)
    else this.#reject(this.#signal.aborted ? (this.#signal.reason ?? err) : mapUpstreamFailure(err, this.#upstreamName))
  }
}
