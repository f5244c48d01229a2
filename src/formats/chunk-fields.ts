import type { Endpoint } from '../upstream/endpoint.js'
import type { StreamSummary, Usage } from './types.js'

/** The parts of an OpenAI stream chunk the formats read. */
export interface Chunk {
  model?: unknown
  choices?: Array<{ delta?: { content?: unknown }, text?: unknown, finish_reason?: unknown }>
  usage?: unknown
}

/** Records finish_reason and usage from a parsed chunk into the stream's summary. */
export function recordSummary (chunk: Chunk, summary: StreamSummary): void {
  const choice = chunk.choices?.[0]
  if (choice && typeof choice.finish_reason === 'string') summary.finishReason = choice.finish_reason
  if (chunk.usage && typeof chunk.usage === 'object') summary.usage = chunk.usage as Usage
}

/** The delta text of the first choice: `delta.content` for chat, `text` for legacy completions. */
export function deltaText (chunk: Chunk, endpoint: Endpoint): string {
  const choice = chunk.choices?.[0]
  if (!choice) return ''
  const text = endpoint === 'chat' ? choice.delta?.content : choice.text
  return typeof text === 'string' ? text : ''
}

/** The usage-only chunk that `stream_options.include_usage` adds: `choices: []` and a usage object. */
export function isUsageOnly (chunk: Chunk): boolean {
  return Array.isArray(chunk.choices) && chunk.choices.length === 0 && !!chunk.usage
}
