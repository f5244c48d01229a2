import { deltaText, recordSummary, type Chunk } from './chunk-fields.js'
import type { FrameFormat } from './types.js'

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
