import t, { type Test } from 'tap'
import { createServer, type Server, type Socket } from 'node:net'
import { once } from 'node:events'
import { startUpstream } from '../helpers/upstream.js'
import { startRelay, chatBody } from '../helpers/relay.js'

// SPEC §10, 502 upstream_error: the upstream is unreachable, answers
// something that is not HTTP, answers a stream request with something that is
// not a stream, or fails with a 5xx. Each is a normal HTTP error (SPEC §5,
// nothing was streamed yet), and the relay lives on.

const post = (url: string, stream: boolean) => fetch(`${url}/v1/chat/completions`, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream }),
})

/** A raw TCP server on 127.0.0.1:0 that does `onSocket` with each connection. */
async function rawServer (t: Test, onSocket: (s: Socket) => void): Promise<Server> {
  const sockets = new Set<Socket>()
  const server = createServer((s) => { sockets.add(s); s.on('error', () => {}); onSocket(s) })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { for (const s of sockets) s.destroy(); server.close() })
  return server
}

const portOf = (s: Server) => (s.address() as { port: number }).port

t.test('an unreachable upstream (a port that was listened on, then closed) is a 502', async (t) => {
  const gone = createServer()
  gone.listen(0, '127.0.0.1')
  await once(gone, 'listening')
  const port = portOf(gone)
  gone.close()
  await once(gone, 'close')
  const relay = await startRelay(t, { upstreams: [{ name: 'gone', baseUrl: `http://127.0.0.1:${port}/v1` }] })
  for (const stream of [false, true]) {
    const res = await post(relay.url, stream)
    t.equal(res.status, 502, `stream ${stream}`)
    t.equal(res.headers.get('content-type'), 'application/json; charset=utf-8')
    t.strictSame(await res.json(), {
      error: { message: 'Upstream "gone" is unreachable (ECONNREFUSED)', type: 'api_error', param: null, code: 'upstream_error' },
    })
  }
  t.strictSame(relay.summaries().map((l) => [l.status, l.outcome, l.upstream]), [[502, 'upstream_error', 'gone'], [502, 'upstream_error', 'gone']])
})

t.test('an upstream that answers with bytes that are not HTTP is a 502', async (t) => {
  const junk = await rawServer(t, (s) => {
    s.once('data', () => s.end('SSH-2.0-OpenSSH_9.6 \x00\x01\x02 this is not HTTP\r\n\r\n'))
  })
  const relay = await startRelay(t, { upstreams: [{ name: 'junk', baseUrl: `http://127.0.0.1:${portOf(junk)}/v1` }] })
  for (const stream of [false, true]) {
    const res = await post(relay.url, stream)
    t.equal(res.status, 502, `stream ${stream}`)
    t.strictSame(await res.json(), {
      error: { message: 'Upstream "junk" answered with an invalid HTTP response', type: 'api_error', param: null, code: 'upstream_error' },
    })
  }
})

t.test('an upstream that closes the connection without answering is a 502', async (t) => {
  const rude = await rawServer(t, (s) => { s.once('data', () => s.destroy()) })
  const relay = await startRelay(t, { upstreams: [{ name: 'rude', baseUrl: `http://127.0.0.1:${portOf(rude)}/v1` }] })
  const res = await post(relay.url, true)
  t.equal(res.status, 502)
  t.strictSame(await res.json(), {
    error: { message: 'Connection to upstream "rude" was reset', type: 'api_error', param: null, code: 'upstream_error' },
  })
})

t.test('a streaming request answered with a 200 that is not SSE is a 502', async (t) => {
  const up = await startUpstream(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end('{"object":"chat.completion","choices":[]}')
  })
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const res = await post(relay.url, true)
  t.equal(res.status, 502)
  t.strictSame(await res.json(), {
    error: {
      message: 'Upstream "up" answered a streaming request with application/json: {"object":"chat.completion","choices":[]}',
      type: 'api_error',
      param: null,
      code: 'upstream_error',
    },
  })
})

t.test('an upstream 5xx is a 502 that keeps the upstream message', async (t) => {
  const up = await startUpstream(t, (req, res) => {
    if (req.headers.accept === 'text/event-stream') {
      res.writeHead(500, { 'content-type': 'text/plain' })
      res.end('Internal Server Error: CUDA out of memory')
    } else {
      res.writeHead(503, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { message: 'The engine is currently overloaded', type: 'server_error', param: null, code: null } }))
    }
  })
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const streamed = await post(relay.url, true)
  t.equal(streamed.status, 502)
  t.strictSame(await streamed.json(), {
    error: { message: 'Upstream "up" answered HTTP 500: Internal Server Error: CUDA out of memory', type: 'api_error', param: null, code: 'upstream_error' },
  })
  const plain = await post(relay.url, false)
  t.equal(plain.status, 502)
  t.strictSame(await plain.json(), {
    error: { message: 'Upstream "up" answered HTTP 503: The engine is currently overloaded', type: 'api_error', param: null, code: 'upstream_error' },
  })
  t.strictSame(relay.summaries().map((l) => [l.status, l.outcome]), [[502, 'upstream_error'], [502, 'upstream_error']])

  const health = await fetch(`${relay.url}/healthz`)
  t.equal(health.status, 200, 'the relay still answers')
  t.strictSame(await health.json(), { status: 'ok' })
})
