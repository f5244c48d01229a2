import type { Test } from 'tap'
import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { buildServer, type BuildServerOptions } from '../../src/server.js'
import type { RelayConfigInput, UpstreamInput } from '../../src/config/schema.js'
import { sleep, startUpstream, type Handler, type ScriptedUpstream } from './upstream.js'

export interface RunningRelay {
  app: FastifyInstance
  /** e.g. http://127.0.0.1:54321 */
  url: string
  port: number
  /** Every JSON log line the relay wrote, parsed. */
  logs: Array<Record<string, any>>
  /** The raw log text, to search for leaked secrets. */
  logText (): string
  /** The summary lines ("request finished"). */
  summaries (): Array<Record<string, any>>
  /**
   * The summary lines once there are at least `count` (bounded): a request's line is written on
   * its response's 'close', which can come after the client has read the end on a loaded machine.
   */
  waitForSummaries (count?: number): Promise<Array<Record<string, any>>>
}

/**
 * The relay on 127.0.0.1:0 with the given config, its pino output captured
 * (with the production redaction rules), closed at the end of the test.
 */
export async function startRelay (t: Test, config: RelayConfigInput = {}, options: Pick<BuildServerOptions, 'limitsRedis'> = {}): Promise<RunningRelay> {
  const logs: Array<Record<string, any>> = []
  let text = ''
  const stream = new Writable({
    write (chunk, _enc, cb) {
      text += chunk.toString()
      for (const line of chunk.toString().split('\n')) if (line.trim()) logs.push(JSON.parse(line))
      cb()
    },
  })
  const app = await buildServer({ host: '127.0.0.1', port: 0, logLevel: 'info', ...config }, { ...options, logStream: stream })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as { port: number }).port
  t.teardown(() => app.close())
  const summaries = () => logs.filter((l) => l.msg === 'request finished')
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    port,
    logs,
    logText: () => text,
    summaries,
    async waitForSummaries (count = 1) {
      await waitFor(`${count} request summary line(s)`, () => summaries().length >= count)
      return summaries()
    },
  }
}

/**
 * A scripted upstream answering with `handler` (or its 404 until a test sets one), and the relay in front of it as its one
 * upstream (named `up`, or as `upstream` says), both closed at the end of the test.
 */
export async function startRelayOver (t: Test, handler?: Handler, config: RelayConfigInput = {}, upstream: Partial<UpstreamInput> = {}): Promise<{ up: ScriptedUpstream, relay: RunningRelay }> {
  const up = await startUpstream(t, handler)
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl, ...upstream }], ...config })
  return { up, relay }
}

/** Polls `check` every 10 ms until it is true; fails after `timeoutMs` (bounded, never hangs a test). */
export async function waitFor (what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  for (let waited = 0; !check(); waited += 10) {
    if (waited >= timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(10)
  }
}

/** Chat request body. */
export function chatBody (model: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], ...extra })
}

/** POSTs a chat request to a relay with the token; streamed unless told not to. */
export function chat (relay: RunningRelay, token: string, options: { stream?: boolean, signal?: AbortSignal } = {}): Promise<Response> {
  return fetch(`${relay.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: chatBody('gpt-test', { stream: options.stream ?? true }),
    ...(options.signal ? { signal: options.signal } : {}),
  })
}

export interface BodyRead {
  text: string
  /** Each read as it arrived. */
  reads: Array<{ at: number, text: string }>
  /** performance.now() when the body ended (or failed). */
  endedAt: number
}

/** Reads a fetch() body to the end, returning the raw text and when each read arrived; rejects if the body fails. */
export async function readAll (res: { body: ReadableStream<Uint8Array> | null }): Promise<BodyRead> {
  const read = await readUntilEnd(res)
  if (read.error !== undefined) throw read.error
  return read
}

/** Like readAll, for a body that may fail mid-way: what arrived before, and the error (undefined for a clean end). */
export async function readUntilEnd (res: { body: ReadableStream<Uint8Array> | null }): Promise<BodyRead & { error: unknown }> {
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  const reads: Array<{ at: number, text: string }> = []
  let text = ''
  let error: unknown
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      const piece = decoder.decode(value, { stream: true })
      reads.push({ at: performance.now(), text: piece })
      text += piece
    }
  } catch (err) {
    error = err ?? new Error('body failed')
  }
  return { text, reads, endedAt: performance.now(), error }
}

/** Splits an SSE text into its event blocks (without the blank line). */
export function sseBlocks (text: string): string[] {
  return text.split(/\r\n\r\n|\n\n|\r\r/).filter((b) => b.length > 0)
}
