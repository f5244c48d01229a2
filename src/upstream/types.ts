import type { Readable } from 'node:stream'
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
  body: Readable
}

export interface UpstreamCall {
  endpoint: Endpoint
  /** The JSON body to send, already rewritten (model, stream_options). */
  body: string
  stream: boolean
  requestId: string
  clientHeaders: IncomingHttpHeaders
  signal: AbortSignal
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
