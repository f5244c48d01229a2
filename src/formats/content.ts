import { errorEnvelope, type RelayError } from '../errors.js'
import { deltaText, recordSummary, type Chunk } from './chunk-fields.js'
import type { FormatContext, FrameFormat, FrameWriter, StreamEvent } from './types.js'

/**
 * One `content` event with its id. The POST stream's writer and the
 * EventSource reader (GET /v1/streams/:id) both render through here, so the
 * two paths cannot drift apart.
 */
function render (event: StreamEvent, id: number): string | undefined {
  switch (event.type) {
    case 'chunk':
      return event.text === '' ? undefined : `id: ${id}\ndata: {"content":${JSON.stringify(event.text)}}\n\n`
    case 'stop':
      return `id: ${id}\nevent: stop\ndata: ${JSON.stringify({ finish_reason: event.finishReason, usage: event.usage })}\n\n`
    case 'error':
      return `id: ${id}\nevent: error\ndata: ${JSON.stringify({ error: event.error })}\n\n`
  }
}

/**
 * `content`: what the seeds' chat pages consume (SPEC §5):
 * `data: {"content":"<delta>"}` per non-empty delta, then `event: stop` with
 * the finish reason and usage, or `event: error`. Every event has `id: n`, so
 * an EventSource can resume with Last-Event-ID.
 */
export const contentFormat: FrameFormat = {
  name: 'content',
  contentType: 'text/event-stream; charset=utf-8',
  heartbeat: ': keep-alive\n\n',
  create: (ctx) => new ContentWriter(ctx),
  renderEvent: render,
}

/** One per stream: the event ids count here. A class, so an open stream holds one small object. */
class ContentWriter implements FrameWriter {
  #id = 0
  constructor (private readonly ctx: FormatContext) {}

  frame (data: string): string | undefined {
    const chunk = JSON.parse(data) as Chunk
    recordSummary(chunk, this.ctx.summary)
    const text = deltaText(chunk, this.ctx.endpoint)
    if (text === '') return undefined
    return render({ type: 'chunk', data, text }, ++this.#id)
  }

  end (): string | undefined {
    const { finishReason, usage } = this.ctx.summary
    return render({ type: 'stop', finishReason, usage }, ++this.#id)
  }

  error (err: RelayError): string | undefined {
    return render({ type: 'error', error: errorEnvelope(err).error }, ++this.#id)
  }
}
