import { errorEnvelope, type RelayError } from '../errors.js'
import { withModel } from './alias.js'
import { isUsageOnly, recordSummary, type Chunk } from './chunk-fields.js'
import { ResponsesEventWriter, ResponsesFacadeWriter } from './responses-openai.js'
import type { FormatContext, FrameFormat, FrameWriter, StreamEvent } from './types.js'

const DONE = Buffer.from('data: [DONE]\n\n')

/**
 * Only a chunk that carries a finish_reason or a usage object needs to be
 * parsed at all: every other frame is forwarded as the upstream's own bytes.
 * This regex is the whole per-frame cost of passthrough (no JSON.parse, no
 * copy), which is what keeps the relay near a plain byte pipe.
 */
const NEEDS_PARSE = /"finish_reason"\s*:\s*"|"usage"\s*:\s*\{/

/**
 * `openai`: OpenAI `chat.completion.chunk` frames, byte for byte from an
 * OpenAI-kind upstream, ending with `data: [DONE]` (SPEC §5). Two rewrites
 * only: the `model` field when the client used an alias, and dropping the
 * usage chunk the relay asked for on its own behalf.
 */
export const openaiFormat: FrameFormat = {
  name: 'openai',
  contentType: 'text/event-stream; charset=utf-8',
  heartbeat: ': keep-alive\n\n',
  // A Responses API client gets that API's events: the upstream's own, or the facade's (SPEC §5.1).
  create: (ctx) => ctx.endpoint === 'responses'
    ? new ResponsesEventWriter(ctx)
    : ctx.responses?.facade !== undefined ? new ResponsesFacadeWriter(ctx) : new OpenAiWriter(ctx),
  renderEvent,
}

/** A class, not an object of closures: an open stream holds one small object, its methods shared. */
class OpenAiWriter implements FrameWriter {
  constructor (private readonly ctx: FormatContext) {}

  frame (data: string, raw: Buffer): string | Buffer | undefined {
    const ctx = this.ctx
    if (NEEDS_PARSE.test(data)) {
      const chunk = JSON.parse(data) as Chunk
      recordSummary(chunk, ctx.summary)
      if (ctx.dropUsageChunk && isUsageOnly(chunk)) return undefined
    }
    if (ctx.alias === undefined) return ctx.reframe === true ? dataFrame(data) : raw
    return dataFrame(withModel(data, ctx.alias))
  }

  end (): Buffer {
    return DONE
  }

  /** What OpenAI itself sends mid-stream, with no `event:` line so every SDK version reads it (SPEC §5). */
  error (err: RelayError): string {
    return `data: ${JSON.stringify(errorEnvelope(err))}\n\n`
  }
}

/**
 * For an EventSource reader the relay puts `id: n` in front of each frame
 * (the SDKs ignore `id:` lines), so a reconnect can resume.
 * Data that spanned several `data:` lines upstream keeps doing so.
 */
function renderEvent (event: StreamEvent, id: number): string | undefined {
  switch (event.type) {
    case 'chunk':
      return `id: ${id}\n${dataFrame(event.data)}`
    case 'stop':
      return `id: ${id}\ndata: [DONE]\n\n`
    case 'error':
      return `id: ${id}\ndata: ${JSON.stringify({ error: event.error })}\n\n`
    // Already inside the chunk frames, as the upstream sent them.
    case 'reasoning':
    case 'tool_call':
      return undefined
  }
}

/** `data: …` with LF line ends; data that spanned several `data:` lines keeps doing so. */
function dataFrame (data: string): string {
  return `data: ${data.includes('\n') ? data.replaceAll('\n', '\ndata: ') : data}\n\n`
}
