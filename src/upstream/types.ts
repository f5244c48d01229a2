import type { IncomingHttpHeaders } from 'node:http'
import type { UpstreamConfig } from '../config/resolve.js'
import type { Endpoint } from './endpoint.js'
import type { ModelEntry, UpstreamKind } from './kinds/types.js'

export interface UpstreamResponse {
  statusCode: number
  headers: IncomingHttpHeaders
  /** Must be consumed or destroyed, always (undici's rule). */
  body: UpstreamBody
}

/** Where an upstream body goes, in undici's own handler style; one sink per body. */
export interface BodySink {
  /** The next chunk, as it arrived. */
  onData (chunk: Buffer): void
  /** The body ended; nothing follows. */
  onEnd (): void
  /** The body failed (reset, idle timeout, the call aborted); nothing follows. */
  onError (err: Error): void
}

/**
 * An upstream response body: one consumer (its sink) and explicit
 * backpressure. An HTTP upstream's is fed by undici's dispatch handler
 * (response-body.ts), the demo's by a Readable (demo-upstream.ts).
 */
export interface UpstreamBody {
  /** Starts delivering to `sink`; chunks that arrived before come first. Call once. */
  read (sink: BodySink): void
  /** Holds the next chunks back, and the upstream with them (TCP backpressure), until resume(). */
  pause (): void
  resume (): void
  readonly paused: boolean
  /** Stops the body and aborts its request if still running; the sink hears nothing more. */
  destroy (): void
  /**
   * Calls `fn` once the body is over (ended, failed or destroyed), at once if it
   * is: when a call stops running (inflight.ts). One callback per body.
   */
  onClose (fn: () => void): void
}

/** A call to a path of the upstream's API other than a forwarded endpoint (a stored response, another POST path). */
export interface UpstreamTarget {
  method: 'GET' | 'POST' | 'DELETE'
  /** Under the base URL, starting with `/`, with its query if any; built by the relay, never taken from a client as is. */
  path: string
}

export interface UpstreamCall {
  /** A forwarded endpoint (POSTed to its path), or any other target. */
  endpoint: Endpoint | UpstreamTarget
  /** The JSON body to send, already rewritten (model, stream_options); undefined for none. */
  body: string | undefined
  stream: boolean
  /** The Accept header; default: SSE for a stream, else JSON. */
  accept?: string | undefined
  requestId: string
  clientHeaders: IncomingHttpHeaders
  /**
   * The caller's controller: its signal ends the call (client gone, total timeout), and graceful
   * shutdown aborts it (upstream/inflight.ts), so one controller per request serves all three.
   */
  controller: AbortController
}

/** One configured upstream at run time: its config, its connection pool and its dialect. */
export interface Upstream {
  readonly name: string
  readonly config: UpstreamConfig
  readonly kind: UpstreamKind
  /** Sends one request; rejects with a RelayError (mapUpstreamFailure) when no response came. */
  call (call: UpstreamCall): Promise<UpstreamResponse>
  /** GET {baseUrl}/models, normalised; [] when the upstream cannot tell. */
  listModels (signal: AbortSignal): Promise<ModelEntry[]>
  close (): Promise<void>
}

/** Where a request for a model goes (router.ts). */
export interface Route {
  /** The name the client asked for (maybe an alias). */
  publicModel: string
  /** The name the upstream knows. */
  upstreamModel: string
  /** True when `publicModel` is an alias: `openai` frames then get their `model` rewritten back. */
  aliased: boolean
  /** Upstreams serving the model, in the order to try them. */
  upstreams: Upstream[]
}
