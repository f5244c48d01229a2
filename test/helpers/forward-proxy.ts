import type { Test } from 'tap'
import { createServer, request as httpRequest, type Server } from 'node:http'
import type { Socket } from 'node:net'
import { once } from 'node:events'

/** One request as the proxy saw it: the request line's target is the absolute URI. */
export interface ProxiedRequest {
  method: string
  target: string
  headers: Record<string, string | string[] | undefined>
}

export interface ForwardProxy {
  /** e.g. http://127.0.0.1:54321 */
  url: string
  /** Absolute-URI requests it forwarded. */
  requests: ProxiedRequest[]
  /** CONNECT requests it was asked for (refused: the relay must not tunnel plain http). */
  connects: string[]
  server: Server
}

/**
 * A real HTTP forward proxy on 127.0.0.1:0, the way squid or tinyproxy
 * serve plain-http targets: `POST http://host:port/path HTTP/1.1` in, the
 * same request out to that origin, the response streamed back chunk by
 * chunk. It only forwards to 127.0.0.1 (tests never leave the machine).
 */
export async function startForwardProxy (t: Test): Promise<ForwardProxy> {
  const requests: ProxiedRequest[] = []
  const connects: string[] = []
  const sockets = new Set<Socket>()
  const server = createServer((req, res) => {
    const target = req.url ?? ''
    requests.push({ method: req.method ?? '', target, headers: req.headers })
    let url: URL
    try { url = new URL(target) } catch { res.writeHead(400).end('absolute URI required'); return }
    if (url.hostname !== '127.0.0.1') { res.writeHead(403).end('only 127.0.0.1'); return }
    const { 'proxy-connection': _pc, 'proxy-authorization': _pa, ...headers } = req.headers
    const out = httpRequest(url, { method: req.method, headers }, (upstream) => {
      res.writeHead(upstream.statusCode ?? 502, upstream.headers)
      upstream.pipe(res)
      upstream.once('error', () => res.destroy())
    })
    out.once('error', () => { if (!res.headersSent) res.writeHead(502).end('bad gateway'); else res.destroy() })
    // The client went away: so does the request to the origin.
    res.once('close', () => { if (!res.writableFinished) out.destroy() })
    req.pipe(out)
  })
  server.on('connect', (req, socket: Socket) => {
    connects.push(req.url ?? '')
    socket.end('HTTP/1.1 405 Method Not Allowed\r\n\r\n')
  })
  server.on('connection', (s) => { sockets.add(s); s.once('close', () => sockets.delete(s)) })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as { port: number }).port
  t.teardown(async () => {
    for (const s of sockets) s.destroy()
    server.close()
    await once(server, 'close').catch(() => {})
  })
  return { url: `http://127.0.0.1:${port}`, requests, connects, server }
}
