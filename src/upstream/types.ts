import type { IncomingHttpHeaders } from 'node:http'
import type { Dispatcher } from 'undici'
import type { UpstreamConfig } from '../config/resolve.js'
import type { UpstreamKind } from './kinds/types.js'

/** The OpenAI endpoints the relay forwards. */
export type Endpoint = 'chat' | 'completions' | 'embeddings'

export const ENDPOINT_PATHS: Record<Endpoint, string> = {
  chat: '/chat/completions',
  completions: '/completions',
  embeddings: '/embeddings',
}

export interface UpstreamResponse {
  statusCode: number
  headers: IncomingHttpHeaders
  /** Must be consumed or destroyed, always (undici's rule). */
  body: UpstreamBody
}

/**
 * What the relay uses of a response body: the part of a Node Readable it
 * needs. A Readable is one (the demo upstream's); an HTTP upstream's is fed
 * straight by undici's dispatch handler (upstream/response-body.ts), without the
 * stream machinery per chunk.
 */
export interface UpstreamBody extends AsyncIterable<Buffer> {
  on (event: 'data', listener: (chunk: Buffer) => void): this
  on (event: 'end' | 'close', listener: () => void): this
  on (event: 'error', listener: (err: Error) => void): this
  once (event: 'end' | 'close', listener: () => void): this
  once (event: 'error', listener: (err: Error) => void): this
  pause (): this
  resume (): this
  isPaused (): boolean
  destroy (error?: Error): this
  readonly destroyed: boolean
  readonly closed: boolean
  readonly errored: Error | null
}

export interface UpstreamCall {
  endpoint: Endpoint
  /** The JSON body to send, already rewritten (model, stream_options). */
  body: string
  stream: boolean
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

export interface ModelEntry {
  id: string
  owned_by: string
  created: number
}

export type { Dispatcher }
