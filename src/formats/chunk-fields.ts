import type { Endpoint } from '../upstream/endpoint.js'
import type { StreamSummary, Usage } from './types.js'

/** The parts of an OpenAI stream chunk the formats read. */
export interface Chunk {
  model?: unknown
  choices?: Array<{ delta?: Delta, text?: unknown, finish_reason?: unknown }>
  usage?: unknown
}

/** A chat delta: the answer, the reasoning (two spellings in the wild), tool-call fragments. */
export interface Delta {
  content?: unknown
  /** DeepSeek, vLLM, SGLang, Xinference. */
  reasoning_content?: unknown
  /** vLLM's newer name, OpenRouter, Ollama. */
  reasoning?: unknown
  tool_calls?: unknown
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

/**
 * The reasoning delta of the first choice of a chat chunk ('' when none).
 * `reasoning_content` wins when both are there: servers that send both send the same text.
 */
export function reasoningText (chunk: Chunk, endpoint: Endpoint): string {
  if (endpoint !== 'chat') return ''
  const delta = chunk.choices?.[0]?.delta
  if (!delta) return ''
  const text = typeof delta.reasoning_content === 'string' && delta.reasoning_content !== '' ? delta.reasoning_content : delta.reasoning
  return typeof text === 'string' ? text : ''
}
