import type { ToolCall } from './tool-calls.js'
import type { FrameEvents, StreamEvent, StreamSummary, Usage } from './types.js'

/** The parts of a Responses API stream event (`response.*`) read here. */
export interface ResponsesEvent {
  type?: unknown
  delta?: unknown
  item?: { type?: unknown, call_id?: unknown, name?: unknown, arguments?: unknown }
  response?: { id?: unknown, model?: unknown, status?: unknown, incomplete_details?: { reason?: unknown } | null, usage?: ResponsesUsage | null, output?: Array<{ type?: unknown }> }
}

interface ResponsesUsage {
  input_tokens?: number
  output_tokens?: number
  total_tokens?: number
  [more: string]: unknown
}

/** The typed events whose `delta` is the model's reasoning (full text, or the summary OpenAI streams). */
const REASONING_DELTAS = new Set(['response.reasoning_text.delta', 'response.reasoning_summary_text.delta'])

/** The events that end a Responses stream properly (SPEC §5.1): the `content` stop, usage for logs and metrics. */
export const RESPONSES_FINAL = new Set(['response.completed', 'response.incomplete'])

/**
 * What a Responses API stream's typed events are as format-neutral events
 * (SPEC §5.1), the counterpart of chunk-events.ts for chat: every upstream
 * event is a `chunk` (what an `openai` reader gets, byte for byte), with
 * `response.output_text.delta` carrying the answer text; reasoning deltas
 * are also `reasoning` events, and each finished function call
 * (`response.output_item.done` with a `function_call` item: its arguments are
 * complete) a `tool_call`. One per stream: the calls are numbered 0, 1, ….
 */
export class ResponsesEvents {
  #calls = 0
  #calledTools = false

  of (event: ResponsesEvent, data: string): StreamEvent[] {
    const type = event.type
    if (type === 'response.output_text.delta') {
      return [{ type: 'chunk', data, text: typeof event.delta === 'string' ? event.delta : '' }]
    }
    const chunk: StreamEvent = { type: 'chunk', data, text: '' }
    if (typeof type === 'string' && REASONING_DELTAS.has(type) && typeof event.delta === 'string' && event.delta !== '') {
      return [{ type: 'reasoning', text: event.delta }, chunk]
    }
    const item = event.item
    if (type === 'response.output_item.done' && item?.type === 'function_call') {
      this.#calledTools = true
      const call: ToolCall = {
        index: this.#calls++,
        id: typeof item.call_id === 'string' ? item.call_id : null,
        name: typeof item.name === 'string' ? item.name : '',
        arguments: typeof item.arguments === 'string' ? item.arguments : '',
      }
      return [chunk, { type: 'tool_call', call }]
    }
    return [chunk]
  }

  /**
   * Records what the final event says in the stream's summary: the finish
   * reason in chat's words (so `content`'s stop and the logs read the same
   * for both APIs) and the usage under chat's names too.
   */
  record (event: ResponsesEvent, summary: StreamSummary): void {
    if (typeof event.type !== 'string' || !RESPONSES_FINAL.has(event.type)) return
    const response = event.response
    if (response?.status === 'incomplete') {
      const reason = response.incomplete_details?.reason
      summary.finishReason = reason === 'max_output_tokens' ? 'length' : typeof reason === 'string' ? reason : 'incomplete'
    } else {
      const calledTools = this.#calledTools || (response?.output ?? []).some((o) => o?.type === 'function_call')
      summary.finishReason = calledTools ? 'tool_calls' : 'stop'
    }
    summary.usage = chatUsage(response?.usage)
  }
}

/**
 * A native Responses stream read whole (the `content` and `text` writers):
 * each event's format-neutral events, with what the stream says about itself
 * noted on the way (note()). One per stream.
 */
export class ResponsesStreamReader implements FrameEvents {
  readonly #split = new ResponsesEvents()
  readonly #summary: StreamSummary
  readonly #onResponseId: ((id: string) => void) | undefined

  constructor (summary: StreamSummary, onResponseId?: (id: string) => void) {
    this.#summary = summary
    this.#onResponseId = onResponseId
  }

  of (data: string): StreamEvent[] {
    const event = JSON.parse(data) as ResponsesEvent
    this.note(event)
    return this.#split.of(event, data)
  }

  /** Nothing is left open at the end: a call is only handed out once its item is done. */
  end (): StreamEvent[] {
    return []
  }

  /** The response id from `response.created` (its owner is remembered), the finish reason and usage from the final event. */
  note (event: ResponsesEvent): void {
    if (event.type === 'response.created') {
      const id = event.response?.id
      if (typeof id === 'string' && id !== '') this.#onResponseId?.(id)
    } else {
      this.#split.record(event, this.#summary)
    }
  }
}

function chatUsage (usage: ResponsesUsage | null | undefined): Usage | null {
  if (!usage || typeof usage !== 'object') return null
  const prompt = usage.input_tokens ?? 0
  const completion = usage.output_tokens ?? 0
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: usage.total_tokens ?? prompt + completion }
}
