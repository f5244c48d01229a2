import { errorEnvelope } from '../errors.js'
import { deltaText, recordSummary, type Chunk } from './chunk-fields.js'
import type { FrameFormat } from './types.js'

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
  create (ctx) {
    let id = 0
    return {
      frame (data) {
        const chunk = JSON.parse(data) as Chunk
        recordSummary(chunk, ctx.summary)
        const text = deltaText(chunk, ctx.endpoint)
        if (text === '') return undefined
        return `id: ${++id}\ndata: {"content":${JSON.stringify(text)}}\n\n`
      },
      end () {
        const { finishReason, usage } = ctx.summary
        return `id: ${++id}\nevent: stop\ndata: ${JSON.stringify({ finish_reason: finishReason, usage })}\n\n`
      },
      error: (err) => `id: ${++id}\nevent: error\ndata: ${JSON.stringify(errorEnvelope(err))}\n\n`,
    }
  },
}
