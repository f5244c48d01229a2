import t from 'tap'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { once } from 'node:events'
import { request } from 'undici'
import { ConnectionPool } from '../../src/upstream/connection-pool.js'

// The relay's own pool of upstream connections (src/upstream/connection-pool.ts): one request per
// connection, no cap, idle connections reused most recently freed first, closed ones dropped.
// A real node:http server on 127.0.0.1; the server's sockets tell which connection served what.

interface Upstream {
  origin: string
  /** Every connection the server accepted, in order. */
  sockets: Socket[]
  /** Requests waiting for release(), in arrival order. */
  held: Array<{ res: ServerResponse, socket: Socket }>
  hold: boolean
  close: () => Promise<void>
}

async function startUpstream (): Promise<Upstream> {
  const up: Upstream = { origin: '', sockets: [], held: [], hold: false, close: async () => {} }
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume()
    const port = String(req.socket.remotePort)
    if (up.hold) up.held.push({ res, socket: req.socket })
    else res.setHeader('keep-alive', 'timeout=3').end(port)
  })
  server.on('connection', (s: Socket) => up.sockets.push(s))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  up.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  up.close = async () => {
    server.closeAllConnections()
    server.close()
    await once(server, 'close')
  }
  return up
}

/** The body is the client port the server saw: which connection served the request. */
async function get (pool: ConnectionPool, origin: string): Promise<string> {
  const res = await request(`${origin}/x`, { dispatcher: pool })
  return await res.body.text()
}

t.test('sequential requests share one keep-alive connection', async (t) => {
  const up = await startUpstream()
  const pool = new ConnectionPool(up.origin, { connectTimeoutMs: 1000 })
  t.teardown(async () => { await pool.destroy(); await up.close() })
  const ports = []
  for (let i = 0; i < 5; i++) {
    ports.push(await get(pool, up.origin))
    // undici's Client says it is free ('drain') a microtask after its response ended; a request
    // sent in the same tick gets a second connection, with undici's Pool as here.
    await new Promise((resolve) => setImmediate(resolve))
  }
  t.equal(new Set(ports).size, 1, 'one client port for all five')
  t.equal(up.sockets.length, 1, 'the upstream accepted one connection')
  t.equal(pool.size, 1)
})

t.test('concurrent requests each get a connection; the most recently freed is reused first', async (t) => {
  const up = await startUpstream()
  const pool = new ConnectionPool(up.origin, { connectTimeoutMs: 1000 })
  t.teardown(async () => { await pool.destroy(); await up.close() })
  up.hold = true
  const answers = Array.from({ length: 4 }, () => get(pool, up.origin))
  while (up.held.length < 4) await new Promise((resolve) => setTimeout(resolve, 5))
  t.equal(up.sockets.length, 4, 'four requests at once: four connections')
  t.equal(pool.size, 4)
  // Free them in the order 2, 0, 3, 1: connection 1 is the last freed.
  up.hold = false
  const order = [2, 0, 3, 1]
  for (const i of order) {
    const { res, socket } = up.held[i] as { res: ServerResponse, socket: Socket }
    res.end(String(socket.remotePort))
    await answers[i]
  }
  // Each 'drain' reaches the pool in a microtask after its response ended; one tick is plenty.
  await new Promise((resolve) => setImmediate(resolve))
  const lastFreed = String(up.held[1]?.socket.remotePort)
  t.equal(await get(pool, up.origin), lastFreed, 'the next request goes out on the last freed connection')
  t.equal(up.sockets.length, 4, 'no new connection while idle ones are there')
})

t.test('a connection whose socket the upstream closed is dropped, and the next request opens a new one', async (t) => {
  const up = await startUpstream()
  const pool = new ConnectionPool(up.origin, { connectTimeoutMs: 1000 })
  t.teardown(async () => { await pool.destroy(); await up.close() })
  const first = await get(pool, up.origin)
  t.equal(pool.size, 1)
  for (const s of up.sockets) s.destroy()
  for (let i = 0; i < 200 && pool.size > 0; i++) await new Promise((resolve) => setTimeout(resolve, 5))
  t.equal(pool.size, 0, 'the closed connection left the pool')
  const second = await get(pool, up.origin)
  t.not(second, first, 'served on a new connection')
  t.equal(up.sockets.length, 2)
  t.equal(pool.size, 1)
})

t.test('a connection that cannot connect fails its request and leaves the pool', async (t) => {
  const up = await startUpstream()
  const origin = up.origin
  await up.close() // nothing listens there any more
  const pool = new ConnectionPool(origin, { connectTimeoutMs: 1000 })
  t.teardown(() => pool.destroy())
  await t.rejects(get(pool, origin), { code: 'ECONNREFUSED' })
  for (let i = 0; i < 200 && pool.size > 0; i++) await new Promise((resolve) => setTimeout(resolve, 5))
  t.equal(pool.size, 0)
})

t.test('close() lets a running request finish, then refuses new ones; destroy() cuts running ones', async (t) => {
  const up = await startUpstream()
  t.teardown(() => up.close())
  const pool = new ConnectionPool(up.origin, { connectTimeoutMs: 1000 })
  up.hold = true
  const running = get(pool, up.origin)
  while (up.held.length < 1) await new Promise((resolve) => setTimeout(resolve, 5))
  let closed = false
  const closing = pool.close().then(() => { closed = true })
  await new Promise((resolve) => setTimeout(resolve, 20))
  t.notOk(closed, 'close() waits for the running request')
  await t.rejects(get(pool, up.origin), { code: 'UND_ERR_CLOSED' }, 'no new request after close()')
  const { res, socket } = up.held[0] as { res: ServerResponse, socket: Socket }
  res.end(String(socket.remotePort))
  t.equal(await running, String(socket.remotePort), 'the running request completed')
  await closing
  t.ok(closed)

  const other = new ConnectionPool(up.origin, { connectTimeoutMs: 1000 })
  up.held.length = 0
  const cut = get(other, up.origin)
  while (up.held.length < 1) await new Promise((resolve) => setTimeout(resolve, 5))
  await other.destroy()
  await t.rejects(cut, 'destroy() fails the running request')
})

t.test('a request undici refuses at once leaves its connection in the pool, not stranded', async (t) => {
  const up = await startUpstream()
  const pool = new ConnectionPool(up.origin, { connectTimeoutMs: 1000 })
  t.teardown(async () => { await pool.destroy(); await up.close() })
  // undici refuses an Expect header before anything is queued: no 'drain' will ever follow.
  await t.rejects(request(`${up.origin}/x`, { dispatcher: pool, headers: { expect: '100-continue' } }), { code: 'UND_ERR_NOT_SUPPORTED' })
  t.equal(pool.size, 1)
  await get(pool, up.origin)
  await new Promise((resolve) => setImmediate(resolve))
  await get(pool, up.origin)
  t.equal(pool.size, 1, 'the same connection served the next requests')
  t.equal(up.sockets.length, 1)
})

t.test('a connection dropped while it still serves a request: close() waits for it, destroy() ends it', async (t) => {
  // The upstream says keep-alive timeout=3 s; undici keeps 2 s back, so the idle socket expires
  // after 1 s. With the event loop blocked past that, the next request finds the socket expired:
  // undici destroys it ('disconnect': the pool drops the connection) and serves the request on a
  // new socket of the same connection object.
  const up = await startUpstream()
  t.teardown(() => up.close())
  for (const mode of ['close', 'destroy'] as const) {
    const pool = new ConnectionPool(up.origin, { connectTimeoutMs: 1000 })
    up.hold = false
    const server = up.sockets.length
    const first = await request(`${up.origin}/x`, { dispatcher: pool })
    await first.body.text()
    t.equal(first.headers['keep-alive'], 'timeout=3')
    await new Promise((resolve) => setTimeout(resolve, 20))
    up.hold = true
    up.held.length = 0
    const until = performance.now() + 1100
    while (performance.now() < until) { /* block the loop past the socket's keep-alive */ }
    const second = get(pool, up.origin)
    while (up.held.length < 1) await new Promise((resolve) => setTimeout(resolve, 5))
    t.equal(up.sockets.length, server + 2, `${mode}: the second request came on a new socket`)
    t.equal(pool.size, 0, `${mode}: its connection left the pool when the old socket closed`)
    const { res, socket } = up.held[0] as { res: ServerResponse, socket: Socket }
    if (mode === 'close') {
      let closed = false
      const closing = pool.close().then(() => { closed = true })
      await new Promise((resolve) => setTimeout(resolve, 50))
      t.notOk(closed, 'close() waits for the request the dropped connection still serves')
      res.end(String(socket.remotePort))
      t.equal(await second, String(socket.remotePort), 'which completes')
      await closing
      t.ok(closed)
    } else {
      await pool.destroy()
      // Bounded: a request destroy() missed would run as long as the upstream holds it.
      await t.rejects(Promise.race([second, new Promise((resolve) => setTimeout(resolve, 2000, 'still running'))]), 'destroy() ended it')
      res.destroy()
    }
  }
})
