import type { Endpoint } from '../upstream/endpoint.js'
import { deltaText, reasoningText, recordSummary, type Chunk } from './chunk-fields.js'
import { ToolCallAssembler, type ToolCall } from './tool-calls.js'
import type { FrameEvents, StreamEvent, StreamSummary } from './types.js'

/**
 * What one stream's upstream chunks are as format-neutral events (SPEC §5–6),
 * so that nothing the model produced is dropped: per chunk, its reasoning
 * delta (a `reasoning` event), the chunk itself with its answer text (a
 * `chunk` event: the `openai` frame, and the `content` message), then the
 * tool calls this chunk completed (`tool_call` events: a new call began, or
 * the choice finished). `end()` gives the calls still open at a clean end.
 *
 * The one place this is decided: the `content` writer of a POST stream
 * renders these events as they come, and the EventSource producer stores
 * the same events, so a `content` reader gets the same events and ids live,
 * replaying, or on a direct POST. A failure never calls `end()`: a call
 * whose arguments were still arriving is not handed out.
 *
 * One per stream (the tool calls are put together across chunks).
 */
export class ChunkEvents {
  readonly #endpoint: Endpoint
  /** Created at the first tool-call fragment: most streams never have one. */
  #calls: ToolCallAssembler | undefined

  constructor (endpoint: Endpoint) {
    this.#endpoint = endpoint
  }

  /** The events of one parsed chunk; `data` is its JSON as an `openai` reader gets it. */
  of (chunk: Chunk, data: string): StreamEvent[] {
    const text = deltaText(chunk, this.#endpoint)
    const event: StreamEvent = { type: 'chunk', data, text }
    // Legacy completions (`choices[].text`) have neither reasoning nor tool calls.
    if (this.#endpoint !== 'chat') return [event]
    const reasoning = reasoningText(chunk, this.#endpoint)
    const events: StreamEvent[] = reasoning === '' ? [event] : [{ type: 'reasoning', text: reasoning }, event]
    const choice = chunk.choices?.[0]
    const fragments = choice?.delta?.tool_calls
    if (fragments === undefined || fragments === null) {
      if (this.#calls === undefined || typeof choice?.finish_reason !== 'string') return events
    } else {
      this.#calls ??= new ToolCallAssembler()
    }
    const done: ToolCall[] = []
    this.#calls.add(fragments, done)
    // The choice finished: its last call is complete (after this chunk's own fragments).
    if (typeof choice?.finish_reason === 'string') this.#calls.finish(done)
    for (const call of done) events.push({ type: 'tool_call', call })
    return events
  }

  /** The stream ended cleanly (`[DONE]`, or the end where the upstream kind ends that way): the open call, if any. */
  end (): StreamEvent[] {
    if (this.#calls === undefined) return []
    const done: ToolCall[] = []
    this.#calls.finish(done)
    return done.map((call) => ({ type: 'tool_call', call }))
  }
}

/** A chat or completions stream's frames as events (ChunkEvents), each chunk's finish reason and usage noted in `summary`. */
export class ChatFrameEvents implements FrameEvents {
  readonly #split: ChunkEvents
  readonly #summary: StreamSummary

  constructor (endpoint: Endpoint, summary: StreamSummary) {
    this.#split = new ChunkEvents(endpoint)
    this.#summary = summary
  }

  of (data: string): StreamEvent[] {
    const chunk = JSON.parse(data) as Chunk
    recordSummary(chunk, this.#summary)
    return this.#split.of(chunk, data)
  }

  end (): StreamEvent[] {
    return this.#split.end()
  }
}

/** What a stored event weighs against the stream's buffer (streams.maxBufferBytes), roughly its stored size. */
export function eventBytes (event: StreamEvent): number {
  switch (event.type) {
    case 'chunk':
      return Buffer.byteLength(event.data) + Buffer.byteLength(event.text)
    case 'reasoning':
      return Buffer.byteLength(event.text)
    case 'tool_call':
      return Buffer.byteLength(event.call.name) + Buffer.byteLength(event.call.arguments) + (event.call.id?.length ?? 0)
    default:
      return 0
  }
}
