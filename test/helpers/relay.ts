import type { Test } from 'tap'
import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { buildServer, type BuildServerOptions } from '../../src/server.js'
import type { RelayConfigInput } from '../../src/config/schema.js'

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
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    port,
    logs,
    logText: () => text,
    summaries: () => logs.filter((l) => l.msg === 'request finished'),
  }
}

/** Chat request body. */
export function chatBody (model: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], ...extra })
}

/** Reads a fetch() body to the end, returning the raw text and when each read arrived. */
export async function readAll (res: { body: ReadableStream<Uint8Array> | null }): Promise<{ text: string, reads: Array<{ at: number, text: string }> }> {
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  const reads: Array<{ at: number, text: string }> = []
  let text = ''
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    const piece = decoder.decode(value, { stream: true })
    reads.push({ at: performance.now(), text: piece })
    text += piece
  }
  return { text, reads }
}

/** Splits an SSE text into its event blocks (without the blank line). */
export function sseBlocks (text: string): string[] {
  return text.split(/\r\n\r\n|\n\n|\r\r/).filter((b) => b.length > 0)
}
