import type { Test } from 'tap'
import { createServer, connect, type Socket } from 'node:net'
import { once } from 'node:events'

export interface TcpProxy {
  /** e.g. http://127.0.0.1:54321, forwarding to the target port. */
  url: string
  /** Connections accepted so far. */
  accepted: number
  /** Destroys every open connection, both sides: what a dropped network looks like to both ends. */
  cutAll (): void
}

/**
 * A plain TCP forwarder on 127.0.0.1:0 in front of `targetPort`, so a test can
 * drop a client's connection mid-stream (EventSource then reconnects on its own).
 */
export async function startTcpProxy (t: Test, targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>()
  const proxy: TcpProxy = {
    url: '',
    accepted: 0,
    cutAll () {
      for (const [a, b] of pairs) { a.destroy(); b.destroy() }
      pairs.clear()
    },
  }
  const server = createServer((client) => {
    proxy.accepted++
    const target = connect(targetPort, '127.0.0.1')
    const pair: [Socket, Socket] = [client, target]
    pairs.add(pair)
    const drop = (): void => { client.destroy(); target.destroy(); pairs.delete(pair) }
    client.on('error', drop).on('close', drop)
    target.on('error', drop).on('close', drop)
    client.pipe(target)
    target.pipe(client)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  proxy.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  t.teardown(async () => {
    proxy.cutAll()
    server.close()
  })
  return proxy
}

/** One parsed SSE event of a relay response (the relay always writes LF line ends, one field per line). */
export interface ParsedEvent {
  id: string | undefined
  event: string | undefined
  data: string
}

/** Splits a relay SSE body into events, comments dropped. */
export function parseEvents (text: string): ParsedEvent[] {
  return text.split('\n\n').filter((block) => block.length > 0).flatMap((block): ParsedEvent[] => {
    const lines = block.split('\n').filter((l) => !l.startsWith(':'))
    if (lines.length === 0) return []
    const field = (name: string) => lines.filter((l) => l.startsWith(`${name}: `)).map((l) => l.slice(name.length + 2))
    return [{ id: field('id')[0], event: field('event')[0], data: field('data').join('\n') }]
  })
}

/** POST /v1/streams; returns the status and JSON answer. */
export async function createStream (baseUrl: string, body: Record<string, unknown>, headers: Record<string, string> = {}, query = ''): Promise<{ status: number, json: any }> {
  const res = await fetch(`${baseUrl}/v1/streams${query}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  return { status: res.status, json: await res.json() }
}

/** A promise with its resolve function: a gate an upstream handler waits on. */
export function gate (): { open: () => void, opened: Promise<void> } {
  let open!: () => void
  const opened = new Promise<void>((resolve) => { open = resolve })
  return { open, opened }
}
