import type { Test } from 'tap'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { once } from 'node:events'

/** One request as the scripted upstream received it. */
export interface ReceivedRequest {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
  json: any
  /** Resolves when this request's socket closes (the relay aborted or finished). */
  socketClosed: Promise<number>
}

export type Handler = (req: IncomingMessage, res: ServerResponse, received: ReceivedRequest) => void | Promise<void>

export interface ScriptedUpstream {
  /** Base URL including `/v1`, as the relay's config wants it. */
  baseUrl: string
  port: number
  server: Server
  requests: ReceivedRequest[]
  /** What the next requests get; each test sets it. */
  handler: Handler
  close (): Promise<void>
}

/**
 * A real OpenAI-compatible HTTP server on 127.0.0.1:0 whose answers each test
 * scripts. It records every request (headers and JSON body) and when each
 * request's socket closed, so tests can assert what the relay sent and that
 * it aborted.
 */
export async function startUpstream (t: Test, handler: Handler = defaultHandler): Promise<ScriptedUpstream> {
  const sockets = new Set<Socket>()
  const requests: ReceivedRequest[] = []
  const upstream: ScriptedUpstream = {
    baseUrl: '',
    port: 0,
    server: undefined as unknown as Server,
    requests,
    handler,
    async close () {
      for (const s of sockets) s.destroy()
      server.close()
      await once(server, 'close').catch(() => {})
    },
  }
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const body = Buffer.concat(chunks).toString('utf8')
    // This handler runs as long as its response: let the raw chunks go (a memory test measures the relay's Buffers).
    chunks.length = 0
    let json: any
    try { json = body ? JSON.parse(body) : undefined } catch { json = undefined }
    const opened = performance.now()
    const socketClosed = new Promise<number>((resolve) => {
      if (req.socket.destroyed) resolve(0)
      else req.socket.once('close', () => resolve(performance.now() - opened))
    })
    const received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, json, socketClosed }
    requests.push(received)
    try {
      await upstream.handler(req, res, received)
    } catch (err) {
      if (!res.headersSent) res.writeHead(500)
      res.end(String(err))
    }
  })
  server.on('connection', (s) => { sockets.add(s); s.once('close', () => sockets.delete(s)) })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as { port: number }).port
  upstream.server = server
  upstream.port = port
  upstream.baseUrl = `http://127.0.0.1:${port}/v1`
  t.teardown(() => upstream.close())
  return upstream
}

const defaultHandler: Handler = (_req, res) => {
  res.writeHead(404, { 'content-type': 'application/json' })
  res.end(JSON.stringify({ error: { message: 'no handler scripted', type: 'invalid_request_error', param: null, code: null } }))
}

/** An OpenAI `chat.completion.chunk` frame's JSON. */
export function chatChunk (content: string | null, extra: { finish?: string, model?: string, id?: string } = {}): string {
  return JSON.stringify({
    id: extra.id ?? 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: extra.model ?? 'gpt-test',
    system_fingerprint: 'fp_test',
    choices: [{ index: 0, delta: content === null ? {} : { content }, logprobs: null, finish_reason: extra.finish ?? null }],
  })
}

export function usageChunk (prompt: number, completion: number, model = 'gpt-test'): string {
  return JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1_700_000_000, model, choices: [], usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion } })
}

export const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' }

/** Writes `data: …\n\n` frames, `gapMs` apart, then `data: [DONE]` unless told not to. */
export async function streamFrames (res: ServerResponse, frames: string[], options: { gapMs?: number, done?: boolean } = {}): Promise<void> {
  if (!res.headersSent) res.writeHead(200, SSE_HEADERS)
  for (const f of frames) {
    if (res.destroyed) return
    res.write(`data: ${f}\n\n`)
    if (options.gapMs) await sleep(options.gapMs)
  }
  if (options.done !== false) res.write('data: [DONE]\n\n')
  res.end()
}

export function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** A port that was listened on and closed again: connecting to it is refused (ECONNREFUSED). */
export async function closedPort (): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1')
  await once(probe, 'listening')
  const port = (probe.address() as { port: number }).port
  probe.close()
  await once(probe, 'close')
  return port
}
