import type { RelayError } from '../errors.js'
import { ChatStreamEvents, type ChatChunk } from '../responses/chat-stream-events.js'
import { responsesErrorEvent } from '../responses/error-event.js'
import { newId } from '../responses/response-object.js'
import { recordSummary } from './chunk-fields.js'
import { ResponsesStreamReader, type ResponsesEvent } from './responses-events.js'
import type { FormatContext, FrameWriter } from './types.js'

/**
 * The `openai` format for a client of the Responses API (SPEC §5.1): the
 * upstream's own typed events byte for byte (ResponsesEventWriter), or, from
 * an upstream served through chat completions, the chat stream told as those
 * events (ResponsesFacadeWriter). After a failure both write ONE
 * `event: error` numbered after the last event sent, and never a
 * `response.completed`.
 */

/** The events that carry the whole Response object: its `model` (an alias is rewritten there), its id, its usage. */
const SNAPSHOTS = new Set(['response.created', 'response.in_progress', 'response.queued', 'response.completed', 'response.incomplete'])

const SEQUENCE_NUMBER = /"sequence_number"\s*:\s*(\d+)/

/**
 * A native stream, passed on as it came. Only the snapshot events (a
 * handful per stream) are parsed: for the response id, the usage, and the
 * model alias. Every other event is the upstream's bytes with no parse.
 */
export class ResponsesEventWriter implements FrameWriter {
  readonly #ctx: FormatContext
  readonly #reader: ResponsesStreamReader
  /** The data of the last event sent: an error event takes its sequence_number + 1 (read only then, not per event). */
  #last: string | undefined

  constructor (ctx: FormatContext) {
    this.#ctx = ctx
    this.#reader = new ResponsesStreamReader(ctx.summary, ctx.responses?.onResponseId)
  }

  frame (data: string, raw: Buffer, type?: string): string | Buffer | undefined {
    this.#last = data
    const ctx = this.#ctx
    if (type === undefined || !SNAPSHOTS.has(type)) return ctx.reframe === true ? eventFrame(type, data) : raw
    const event = JSON.parse(data) as ResponsesEvent
    this.#reader.note(event)
    if (ctx.alias === undefined || !event.response) return ctx.reframe === true ? eventFrame(type, data) : raw
    event.response.model = ctx.alias
    return eventFrame(type, JSON.stringify(event))
  }

  /** Nothing after the final event: this API has no `[DONE]`. */
  end (): undefined {
    return undefined
  }

  error (err: RelayError): string {
    const last = this.#last === undefined ? undefined : SEQUENCE_NUMBER.exec(this.#last)?.[1]
    return responsesErrorEvent(err.message, last === undefined ? 0 : Number(last) + 1)
  }
}

function eventFrame (type: string | undefined, data: string): string {
  return `${type === undefined || type === '' ? '' : `event: ${type}\n`}data: ${data}\n\n`
}

/**
 * The facade (SPEC §5.1): chat chunks in, the Responses API's events out
 * (responses/chat-stream-events.ts). `response.created` and
 * `response.in_progress` go out with the first chunk's events; the chat
 * stream's end is `response.completed` (or `.incomplete`) with the usage.
 */
export class ResponsesFacadeWriter implements FrameWriter {
  readonly #ctx: FormatContext
  readonly #id = newId('resp')
  readonly #events: ChatStreamEvents
  #started = false

  constructor (ctx: FormatContext) {
    this.#ctx = ctx
    this.#events = new ChatStreamEvents(ctx.responses?.facade ?? {}, this.#id)
  }

  frame (data: string): string | undefined {
    const chunk = JSON.parse(data) as ChatChunk
    recordSummary(chunk, this.#ctx.summary)
    const out = this.#start() + this.#events.chunk(chunk)
    return out === '' ? undefined : out
  }

  end (): string {
    return this.#start() + this.#events.finish()
  }

  error (err: RelayError): string {
    return this.#events.fail(err.message)
  }

  #start (): string {
    if (this.#started) return ''
    this.#started = true
    this.#ctx.responses?.onResponseId?.(this.#id)
    return this.#events.start()
  }
}
