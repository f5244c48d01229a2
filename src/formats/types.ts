import type { RelayError, errorEnvelope } from '../errors.js'
import type { Endpoint } from '../upstream/endpoint.js'
import type { ToolCall } from './tool-calls.js'

/** Token counts as OpenAI reports them; null when the upstream did not say (never guessed). */
export interface Usage {
  prompt_tokens?: number
  completion_tokens?: number
  total_tokens?: number
  [more: string]: unknown
}

/** What the formats learn while a stream passes; read by the logs and metrics. */
export interface StreamSummary {
  finishReason: string | null
  usage: Usage | null
}

export interface FormatContext {
  endpoint: Endpoint
  /** The alias the client used, when it used one: `openai` frames get `model` rewritten to it. */
  alias: string | undefined
  /** The relay asked for usage on the client's behalf: drop the usage-only chunk. */
  dropUsageChunk: boolean
  /** Filled in by the writer as frames pass. */
  summary: StreamSummary
  /** The upstream's frame bytes are not OpenAI's (UpstreamKind.reframe): write `openai` frames anew from their data. */
  reframe?: boolean
  /** Set when the client speaks the Responses API (SPEC §5.1): `POST /v1/responses`, or a resumed Responses stream. */
  responses?: ResponsesContext
}

/**
 * A Responses API stream: native when `endpoint` is `responses` (the upstream's typed events), else
 * the facade (`facade` set, the upstream streams chat completions, translated back for `openai`).
 */
export interface ResponsesContext {
  /** The facade: the client's Responses request, echoed in the Response object the `openai` writer builds. */
  facade?: Record<string, unknown> | undefined
  /** Told the response id once the stream says it (native: `response.created`; facade: its first event), to remember its upstream. */
  onResponseId?: ((id: string) => void) | undefined
}

/** Bytes for the client, or undefined for "send nothing". */
export type Out = string | Buffer | undefined

/**
 * One stream's writer. The shared pipeline (relay/relay-stream.ts) has
 * already sorted upstream events into frames, the end, and errors; a writer
 * only says how each looks in its format.
 */
export interface FrameWriter {
  /**
   * An upstream data frame (JSON text; not `[DONE]`, not an error). `raw` is the upstream bytes of the event;
   * `type` a Responses API event's type (undefined for chat and completions). May throw on malformed JSON.
   */
  frame (data: string, raw: Buffer, type?: string): Out
  /** The upstream finished properly. */
  end (): Out
  /** A failure after the response began; undefined means the format cannot say it in-band, so the connection is destroyed. */
  error (err: RelayError): Out
}

/** The body of the OpenAI error envelope: `{message, type, param, code}`. */
export type ErrorBody = ReturnType<typeof errorEnvelope>['error']

/**
 * One event of a stored stream (SPEC §6), format-neutral: the producer keeps
 * each event once, and every reader renders it in its own format on delivery.
 * `chunk.data` is the chunk JSON as an `openai` reader gets it (model alias
 * already applied); `chunk.text` is its delta text ('' when it has none).
 * `reasoning` (a chunk's reasoning delta, never '') and `tool_call` (a call
 * whose arguments are complete) come from the same upstream chunks
 * (formats/chunk-events.ts); `openai` shows them inside its chunk frames and
 * skips them, `content` shows them as events of their own.
 */
export type StreamEvent =
  | { type: 'chunk', data: string, text: string }
  | { type: 'reasoning', text: string }
  | { type: 'tool_call', call: ToolCall }
  | { type: 'stop', finishReason: string | null, usage: Usage | null }
  | { type: 'error', error: ErrorBody }

/**
 * One stream's upstream frames as format-neutral events, its summary noted on
 * the way: chat and completions chunks (formats/chunk-events.ts), or a native
 * Responses stream's typed events (formats/responses-events.ts). One per stream.
 */
export interface FrameEvents {
  /** The events of one upstream frame's data; throws on malformed JSON. */
  of (data: string): StreamEvent[]
  /** The stream ended cleanly: what was still open. */
  end (): StreamEvent[]
}

export interface FrameFormat {
  /** The key of this format in `FORMATS` (what `?format=` names). */
  readonly name: string
  readonly contentType: string
  /** Written after `heartbeatMs` of silence; undefined when the format has no comment syntax. */
  readonly heartbeat: string | undefined
  create (ctx: FormatContext): FrameWriter
  /**
   * Renders one stored event with its `id:` for an EventSource reader
   * (GET /v1/streams/:id), or undefined to skip it. Absent when the format
   * is not an event stream (`text`): such a format cannot be read that way.
   */
  readonly renderEvent?: (event: StreamEvent, id: number) => string | undefined
}
