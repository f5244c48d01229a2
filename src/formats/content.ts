import { errorEnvelope, type RelayError } from '../errors.js'
import { ChatFrameEvents } from './chunk-events.js'
import { ResponsesStreamReader } from './responses-events.js'
import type { FormatContext, FrameEvents, FrameFormat, FrameWriter, StreamEvent } from './types.js'

/**
 * One `content` event with its id, or undefined when the event shows nothing
 * here. The POST stream's writer and the EventSource reader (GET
 * /v1/streams/:id) both render through here, so the two paths cannot drift
 * apart.
 */
function render (event: StreamEvent, id: number): string | undefined {
  switch (event.type) {
    case 'chunk':
      return event.text === '' ? undefined : `id: ${id}\ndata: {"content":${JSON.stringify(event.text)}}\n\n`
    case 'reasoning':
      return event.text === '' ? undefined : `id: ${id}\nevent: reasoning\ndata: {"content":${JSON.stringify(event.text)}}\n\n`
    case 'tool_call':
      return `id: ${id}\nevent: tool_call\ndata: ${JSON.stringify(event.call)}\n\n`
    case 'stop':
      return `id: ${id}\nevent: stop\ndata: ${JSON.stringify({ finish_reason: event.finishReason, usage: event.usage })}\n\n`
    case 'error':
      return `id: ${id}\nevent: error\ndata: ${JSON.stringify({ error: event.error })}\n\n`
  }
}

/**
 * `content`: what the seeds' chat pages consume (SPEC §5):
 * `data: {"content":"<delta>"}` per non-empty answer delta (the default
 * `message` event), `event: reasoning` per reasoning delta, `event: tool_call`
 * per completed tool call, then `event: stop` with the finish reason and
 * usage, or `event: error`. Every event has `id: n`, one sequence for all of
 * them, so an EventSource can resume with Last-Event-ID.
 */
export const contentFormat: FrameFormat = {
  name: 'content',
  contentType: 'text/event-stream; charset=utf-8',
  heartbeat: ': keep-alive\n\n',
  // A native Responses stream shows the same events, read from its typed events (SPEC §5.1).
  create: (ctx) => new ContentWriter(ctx, ctx.endpoint === 'responses'
    ? new ResponsesStreamReader(ctx.summary, ctx.responses?.onResponseId)
    : new ChatFrameEvents(ctx.endpoint, ctx.summary)),
  renderEvent: render,
}

/** One per stream: the event ids count here. A class, so an open stream holds one small object. */
class ContentWriter implements FrameWriter {
  #id = 0
  constructor (private readonly ctx: FormatContext, private readonly events: FrameEvents) {}

  frame (data: string): string | undefined {
    return this.#renderAll(this.events.of(data))
  }

  /** The tool call still open (if any), then the stop. */
  end (): string | undefined {
    const { finishReason, usage } = this.ctx.summary
    return this.#renderAll([...this.events.end(), { type: 'stop', finishReason, usage }])
  }

  /** A call still being put together is dropped: only the error follows what was sent. */
  error (err: RelayError): string | undefined {
    return render({ type: 'error', error: errorEnvelope(err).error }, ++this.#id)
  }

  /** The events that show, each with the next id, as one string for one write. */
  #renderAll (events: StreamEvent[]): string | undefined {
    let out: string | undefined
    for (const event of events) {
      const one = render(event, this.#id + 1)
      if (one === undefined) continue
      this.#id++
      out = out === undefined ? one : out + one
    }
    return out
  }
}
