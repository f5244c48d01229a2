import { deltaText, recordSummary, type Chunk } from './chunk-fields.js'
import { ResponsesStreamReader } from './responses-events.js'
import type { FormatContext, FrameFormat, FrameWriter } from './types.js'

/**
 * `text`: only the delta text, as plain UTF-8, for the simplest `fetch()`
 * reader (SPEC §5). Plain text has no way to say "error", so a failure
 * destroys the connection and the reader sees an error, not a clean end.
 */
export const textFormat: FrameFormat = {
  name: 'text',
  contentType: 'text/plain; charset=utf-8',
  heartbeat: undefined,
  create (ctx) {
    if (ctx.endpoint === 'responses') return responsesText(ctx)
    return {
      frame (data) {
        const chunk = JSON.parse(data) as Chunk
        recordSummary(chunk, ctx.summary)
        const text = deltaText(chunk, ctx.endpoint)
        return text === '' ? undefined : text
      },
      end: () => undefined,
      error: () => undefined,
    }
  },
}

/** Over a native Responses stream (SPEC §5.1): the answer's `response.output_text.delta` text only. */
function responsesText (ctx: FormatContext): FrameWriter {
  const reader = new ResponsesStreamReader(ctx.summary, ctx.responses?.onResponseId)
  return {
    frame (data) {
      let text = ''
      for (const event of reader.of(data)) if (event.type === 'chunk') text += event.text
      return text === '' ? undefined : text
    },
    end: () => undefined,
    error: () => undefined,
  }
}
