import type { Endpoint } from '../endpoint.js'

/** One model as OpenAI's `GET /models` lists it. */
export interface ModelEntry {
  id: string
  owned_by: string
  created: number
}

/** An upstream's error, as the relay understood it. */
export interface ParsedUpstreamError {
  message: string
  type: string | null
  code: string | null
  param: string | null
}

/**
 * What differs between upstream dialects (SPEC §1). The
 * stream plumbing is shared; a kind only says how to read its answers.
 */
export interface UpstreamKind {
  readonly name: string
  /** How `POST /v1/responses` reaches it by default: its own `/responses` (`native`), or its chat completions (`chat`, SPEC §5.1). */
  readonly responses: 'native' | 'chat'
  /** Whether the server understands `stream_options.include_usage`. */
  readonly supportsIncludeUsage: boolean
  /** Reads a non-2xx body (JSON envelope, FastAPI `{"detail":…}`, plain text) into message/type/code. */
  parseError (statusCode: number, contentType: string | undefined, text: string): ParsedUpstreamError
  /** Reads the `data:` JSON of a mid-stream error frame, or undefined when the frame is not an error. */
  parseStreamError (payload: Record<string, unknown>): ParsedUpstreamError | undefined
  /** Normalises `GET /models` into OpenAI's list entries. */
  parseModels (json: unknown): ModelEntry[]
  /** True when a stream of this endpoint legitimately ends with no `data: [DONE]` (Xinference completions). */
  endsWithoutDone (endpoint: Endpoint): boolean
  /**
   * True when the server's frame bytes are not OpenAI's own (Xinference: sse-starlette's CRLF line
   * ends), so `openai` frames are written anew as `data: <json>\n\n` instead of forwarded byte for byte.
   */
  readonly reframe?: boolean
}
