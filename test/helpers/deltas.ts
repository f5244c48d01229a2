import type { Test } from 'tap'
import { startUpstream, streamFrames } from './upstream.js'
import { chatBody, startRelay, type RunningRelay } from './relay.js'

/**
 * Chat chunks with what a model produces besides the answer, as the servers send them:
 * reasoning deltas (`reasoning_content`: DeepSeek, vLLM, SGLang, Xinference; `reasoning`:
 * vLLM's newer name, Ollama) and tool-call fragments (OpenAI's shape; Ollama's every call at
 * `index: 0`, told apart by their ids).
 */

/** A `chat.completion.chunk` frame's JSON with this `delta` (same envelope as chatChunk). */
export function deltaChunk (delta: Record<string, unknown>, extra: { finish?: string, model?: string } = {}): string {
  return JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: extra.model ?? 'gpt-test',
    system_fingerprint: 'fp_test',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: extra.finish ?? null }],
  })
}

/** The first fragment of a tool call, as OpenAI sends it: index, id, type, name, empty arguments. */
export function callStart (index: number, id: string, name: string): Record<string, unknown> {
  return { index, id, type: 'function', function: { name, arguments: '' } }
}

/** A later fragment: only the index and a piece of the arguments. */
export function callArgs (index: number, piece: string): Record<string, unknown> {
  return { index, function: { arguments: piece } }
}

/** A chunk carrying only tool-call fragments. */
export function toolChunk (...fragments: Array<Record<string, unknown>>): string {
  return deltaChunk({ tool_calls: fragments })
}

/** The finish chunk after tool calls. */
export const toolCallsFinish = deltaChunk({}, { finish: 'tool_calls' })

/** A streamed chat POST to the relay, read in `format`. */
export function postChat (relayUrl: string, format: string): Promise<Response> {
  return fetch(`${relayUrl}/v1/chat/completions?format=${format}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true }) })
}

/** A relay whose upstream streams exactly `frames`, then `[DONE]` (no usage asked on the client's behalf). */
export async function relayStreaming (t: Test, frames: string[]): Promise<RunningRelay> {
  const up = await startUpstream(t)
  up.handler = (_req, res) => streamFrames(res, frames)
  return startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl, includeUsage: false }] })
}
