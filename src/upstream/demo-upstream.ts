import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import type { UpstreamConfig } from '../config/resolve.js'
import { DEMO_MODEL } from '../config/defaults.js'
import { openaiKind } from './kinds/openai.js'
import type { ModelEntry } from './kinds/types.js'
import type { BodySink, Upstream, UpstreamBody, UpstreamCall, UpstreamResponse } from './types.js'

/** Pace of the demo's tokens: slow enough to watch, fast enough for a test. */
const TOKEN_DELAY_MS = 30
const CREATED = Math.floor(Date.now() / 1000)

/**
 * The built-in `demo` model (SPEC §2): a local, simulated OpenAI upstream so
 * that `npm start`, curl and the playground work with no network and no key.
 * It answers through the same pipeline as a real upstream (its body is an
 * OpenAI SSE byte stream), so the demo shows the relay's real behaviour.
 */
export function createDemoUpstream (config: UpstreamConfig): Upstream {
  return {
    name: config.name,
    config,
    kind: openaiKind,
    async call (call: UpstreamCall): Promise<UpstreamResponse> {
      // The demo only simulates the three forwarded endpoints and chat (which the Responses API uses through the facade).
      if (typeof call.endpoint !== 'string' || call.endpoint === 'responses') return notFound()
      const body = JSON.parse(call.body ?? '{}') as Record<string, unknown>
      const tokens = replyTokens(body)
      if (call.endpoint === 'embeddings') return json(embeddings(body))
      if (!call.stream) return json(completion(call.endpoint, tokens))
      const wantUsage = (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true
      return {
        statusCode: 200,
        headers: { 'content-type': 'text/event-stream' },
        body: new ReadableBody(Readable.from(frames(call, tokens, wantUsage), { objectMode: false })),
      }
    },
    async listModels (): Promise<ModelEntry[]> {
      return [{ id: DEMO_MODEL, owned_by: 'llm-relay-demo', created: CREATED }]
    },
    async close () {},
  }
}

function replyTokens (body: Record<string, unknown>): string[] {
  const said = lastUserText(body).slice(0, 80)
  const text = 'Hello! I am the llm-relay demo model: a local simulation, no real LLM behind me. ' +
    'I stream this reply token by token through the relay, so you can try the playground, curl and the SDKs ' +
    'before you configure an upstream with UPSTREAM_URL.' + (said ? ` You said: "${said}"` : '')
  return text.match(/\S+\s*/g) ?? []
}

function lastUserText (body: Record<string, unknown>): string {
  if (typeof body.prompt === 'string') return body.prompt
  const messages = Array.isArray(body.messages) ? body.messages : []
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as { role?: unknown, content?: unknown }
    if (m?.role === 'user' && typeof m.content === 'string') return m.content
  }
  return ''
}

async function * frames (call: UpstreamCall, tokens: string[], wantUsage: boolean): AsyncGenerator<Buffer> {
  const id = `demo-${call.requestId}`
  const chat = call.endpoint === 'chat'
  const chunk = (fields: Record<string, unknown>) => Buffer.from(`data: ${JSON.stringify({
    id, object: chat ? 'chat.completion.chunk' : 'text_completion', created: CREATED, model: DEMO_MODEL, ...fields,
  })}\n\n`)
  if (chat) yield chunk({ choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] })
  for (const token of tokens) {
    await sleep(TOKEN_DELAY_MS, undefined, { signal: call.controller.signal })
    yield chunk({ choices: [chat ? { index: 0, delta: { content: token }, finish_reason: null } : { index: 0, text: token, finish_reason: null }] })
  }
  yield chunk({ choices: [chat ? { index: 0, delta: {}, finish_reason: 'stop' } : { index: 0, text: '', finish_reason: 'stop' }] })
  if (wantUsage) yield chunk({ choices: [], usage: usage(tokens) })
  yield Buffer.from('data: [DONE]\n\n')
}

function usage (tokens: string[]) {
  return { prompt_tokens: 12, completion_tokens: tokens.length, total_tokens: 12 + tokens.length }
}

function completion (endpoint: string, tokens: string[]) {
  const text = tokens.join('')
  const chat = endpoint === 'chat'
  return {
    id: 'demo-completion',
    object: chat ? 'chat.completion' : 'text_completion',
    created: CREATED,
    model: DEMO_MODEL,
    choices: [chat ? { index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' } : { index: 0, text, finish_reason: 'stop' }],
    usage: usage(tokens),
  }
}

/** Deterministic 8-dimensional vectors: enough to show the shape of the answer. */
function embeddings (body: Record<string, unknown>) {
  const inputs = Array.isArray(body.input) ? body.input : [body.input]
  return {
    object: 'list',
    model: DEMO_MODEL,
    data: inputs.map((input, index) => ({ object: 'embedding', index, embedding: vector(String(input)) })),
    usage: { prompt_tokens: inputs.length, total_tokens: inputs.length },
  }
}

function vector (text: string): number[] {
  const v = new Array<number>(8).fill(0)
  for (let i = 0; i < text.length; i++) v[i % 8] = ((v[i % 8] as number) + text.charCodeAt(i) / 1000) % 1
  return v.map((x) => Math.round(x * 1e6) / 1e6)
}

function notFound (): UpstreamResponse {
  return json({ error: { message: 'The demo model only answers chat, completions and embeddings', type: 'invalid_request_error', param: null, code: 'not_found' } }, 404)
}

function json (value: unknown, statusCode = 200): UpstreamResponse {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: new ReadableBody(Readable.from([Buffer.from(JSON.stringify(value))])) }
}

/** The demo's bodies are Readables (an async generator, a Buffer): this gives one the UpstreamBody shape. */
class ReadableBody implements UpstreamBody {
  readonly #stream: Readable

  constructor (stream: Readable) {
    this.#stream = stream
  }

  get paused (): boolean {
    return this.#stream.isPaused()
  }

  read (sink: BodySink): void {
    this.#stream
      .on('data', (chunk: Buffer) => sink.onData(chunk))
      .on('end', () => sink.onEnd())
      .on('error', (err) => sink.onError(err))
  }

  pause (): void {
    this.#stream.pause()
  }

  resume (): void {
    this.#stream.resume()
  }

  destroy (): void {
    this.#stream.destroy()
  }

  onClose (fn: () => void): void {
    if (this.#stream.closed) fn()
    else this.#stream.once('close', fn)
  }
}
