import type { Test } from 'tap'
import { startUpstream, chatChunk, usageChunk, streamFrames, SSE_HEADERS, sleep, type ScriptedUpstream, type ReceivedRequest } from './upstream.js'
import { startRelay, type RunningRelay } from './relay.js'
import { waitFor } from './relay.js'
import { callArgs, callStart, deltaChunk, toolChunk, toolCallsFinish } from './deltas.js'
import type { RelayConfigInput, UpstreamInput } from '../../src/config/schema.js'

/**
 * Set-up shared by the tests that drive the relay with real client libraries (test/clients/):
 * a scripted upstream, the relay in front of it with one client key, and upstream scripts that
 * answer as OpenAI does. A client is given only `baseURL` and WEB_TOKEN, as a user would.
 */

/** The relay token the clients use (key `web`). */
export const WEB_TOKEN = 'sk-web'
/** The key the relay sends upstream; a client never sees it. */
export const UPSTREAM_KEY = 'sk-upstream-secret-for-clients'
export const MODEL = 'gpt-test'

export interface ClientRig {
  up: ScriptedUpstream
  relay: RunningRelay
  /** What a client library is configured with: the relay's URL with `/v1`. */
  baseURL: string
}

/** A scripted upstream (its entry's fields in `upstream`, e.g. its kind) and a relay in front of it (127.0.0.1:0), key `web` = WEB_TOKEN, plus `extra` config. */
export async function startClientRig (t: Test, extra: RelayConfigInput = {}, upstream: Partial<UpstreamInput> = {}): Promise<ClientRig> {
  const up = await startUpstream(t)
  const relay = await startRelay(t, {
    keys: [{ name: 'web', key: WEB_TOKEN }],
    upstreams: [{ name: 'up', baseUrl: up.baseUrl, apiKey: UPSTREAM_KEY, ...upstream }],
    ...extra,
  })
  return { up, relay, baseURL: `${relay.url}/v1` }
}

/** The role-only chunk OpenAI sends first (`delta: {role: "assistant", content: ""}`). */
export function roleChunk (): string {
  return JSON.stringify({ ...JSON.parse(chatChunk('')), choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] })
}

/** An answer as OpenAI streams it: the role chunk, one chunk per piece, the finish chunk. */
export function answerFrames (pieces: string[], finish = 'stop'): string[] {
  return [roleChunk(), ...pieces.map((p) => chatChunk(p)), chatChunk(null, { finish })]
}

/**
 * A reasoning model's answer as DeepSeek and vLLM stream it: the role chunk, the `thinking` as
 * `reasoning_content` deltas (content null), then the `answer` deltas, then the finish chunk.
 */
export function reasoningFrames (thinking: string[], answer: string[]): string[] {
  return [
    deltaChunk({ role: 'assistant', content: null, reasoning_content: '' }),
    ...thinking.map((r) => deltaChunk({ content: null, reasoning_content: r })),
    ...answer.map((c) => deltaChunk({ content: c, reasoning_content: null })),
    deltaChunk({}, { finish: 'stop' }),
  ]
}

/** One streamed tool call: its arguments come in `pieces`, one chunk each. */
export interface StreamedCall { id: string, name: string, pieces: string[] }

/**
 * A tool-calling answer as OpenAI streams it: the role chunk; for each call (index 0, 1, …) its
 * first fragment (id, name, empty arguments), then one chunk per arguments piece; the finish
 * chunk with `tool_calls`.
 */
export function toolCallFrames (calls: StreamedCall[]): string[] {
  return [
    roleChunk(),
    ...calls.flatMap((call, index) => [toolChunk(callStart(index, call.id, call.name)), ...call.pieces.map((p) => toolChunk(callArgs(index, p)))]),
    toolCallsFinish,
  ]
}

/**
 * Scripts `up` to stream `frames` then `[DONE]`, with OpenAI's usage chunk before `[DONE]`
 * exactly when the request asked for it (`stream_options.include_usage`), as OpenAI does.
 */
export function scriptFrames (up: ScriptedUpstream, frames: string[], options: { usage?: [prompt: number, completion: number], gapMs?: number } = {}): void {
  up.handler = (_req, res, received) => {
    const usage = options.usage !== undefined && received.json?.stream_options?.include_usage === true ? [usageChunk(...options.usage)] : []
    return streamFrames(res, [...frames, ...usage], { gapMs: options.gapMs })
  }
}

export interface EndlessReply {
  /** Tokens written so far. */
  sent: number
}

/**
 * Scripts `up` to stream `tick1 tick2 …` every `gapMs` until the relay goes away (bounded: it
 * gives up after `max` tokens and then ends the stream), for tests that cancel mid-stream.
 */
export function scriptEndless (up: ScriptedUpstream, options: { gapMs?: number, max?: number } = {}): EndlessReply {
  const reply: EndlessReply = { sent: 0 }
  up.handler = async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    res.write(`data: ${roleChunk()}\n\n`)
    for (let i = 1; i <= (options.max ?? 1000); i++) {
      if (res.destroyed) return
      res.write(`data: ${chatChunk(`tick${i} `)}\n\n`)
      reply.sent = i
      await sleep(options.gapMs ?? 20)
    }
    if (!res.destroyed) res.end(`data: ${chatChunk(null, { finish: 'length' })}\n\ndata: [DONE]\n\n`)
  }
  return reply
}

/**
 * Runs `cancel` (the client's own way of stopping), then waits (bounded) until the upstream
 * request's socket closed; returns the ms between the two. A completed request keeps its
 * keep-alive socket open, so only a real abort by the relay resolves this.
 */
export async function upstreamClosedAfter (received: ReceivedRequest, cancel: () => void | Promise<void>, timeoutMs = 5_000): Promise<number> {
  let closedAt: number | undefined
  void received.socketClosed.then(() => { closedAt = performance.now() })
  const cancelledAt = performance.now()
  await cancel()
  await waitFor('the upstream socket to close', () => closedAt !== undefined, timeoutMs)
  return (closedAt as number) - cancelledAt
}

export interface CancelledRead<T> {
  /** Everything the client's iterator gave, in order. */
  items: T[]
  /** Their text, concatenated. */
  text: string
  /** What the iteration threw; undefined when it ended quietly. */
  thrown: unknown
  /** Ms between the cancel and the upstream socket's close. */
  closedMs: number
}

/**
 * Reads a client's stream (`source`, scripted by scriptEndless) in the background; once three
 * ticks came through, runs `cancel` and times the upstream socket's close; resolves once the
 * iteration ended.
 */
export async function cancelMidStream<T> (up: ScriptedUpstream, source: AsyncIterable<T>, textOf: (item: T) => string, cancel: () => void): Promise<CancelledRead<T>> {
  const read: CancelledRead<T> = { items: [], text: '', thrown: undefined, closedMs: NaN }
  const reading = (async () => {
    try {
      for await (const item of source) {
        read.items.push(item)
        read.text += textOf(item)
      }
    } catch (err) { read.thrown = err }
  })()
  await waitFor('three ticks through the client', () => read.text.startsWith('tick1 tick2 tick3 '))
  read.closedMs = await upstreamClosedAfter(up.requests[0]!, cancel)
  await reading
  return read
}

/** What every client's cancel must have done: the upstream closed within 1 s, mid-generation, logged as `client_aborted`. */
export async function checkCancelled (t: Test, rig: ClientRig, reply: EndlessReply, read: CancelledRead<unknown>): Promise<void> {
  t.ok(read.closedMs < 1000, `the upstream socket closed ${Math.round(read.closedMs)} ms after the cancel`)
  t.match(read.text, /^tick1 tick2 tick3 (tick\d+ )*$/, 'whole ticks only, nothing after the cancel')
  t.ok(reply.sent < 1000, `the generation was cut short (${reply.sent} ticks)`)
  await waitFor('the relay\'s summary line', () => rig.relay.summaries().length === 1)
  t.equal(rig.relay.summaries()[0]?.outcome, 'client_aborted')
}

/** A non-streamed `chat.completion` answer as OpenAI sends it. */
export function completionJson (content: string, usage: [prompt: number, completion: number]): string {
  return JSON.stringify({
    id: 'chatcmpl-9',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: MODEL,
    system_fingerprint: 'fp_test',
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: usage[0], completion_tokens: usage[1], total_tokens: usage[0] + usage[1] },
  })
}
