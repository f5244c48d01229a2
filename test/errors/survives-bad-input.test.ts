import t from 'tap'
import { connect } from 'node:net'
import { startRelay, chatBody, type RunningRelay } from '../helpers/relay.js'
import { sleep } from '../helpers/upstream.js'

// SPEC §10: no bad input crashes the process or leaks a socket. Raw bytes
// over TCP, so the input can be broken in ways no HTTP client would send.

/** Writes `bytes`, optionally ends the write side, and collects the answer until the relay closes (bounded). */
function raw (relay: RunningRelay, bytes: string, options: { end?: boolean, waitMs?: number } = {}): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(relay.port, '127.0.0.1')
    let answer = ''
    const done = () => { clearTimeout(limit); socket.destroy(); resolve(answer) }
    const limit = setTimeout(done, options.waitMs ?? 2000)
    socket.setEncoding('utf8')
    socket.on('data', (c: string) => { answer += c })
    socket.on('close', done)
    socket.on('error', done)
    socket.write(bytes, () => { if (options.end) socket.end() })
  })
}

/** The status line and the JSON body of a raw HTTP answer. */
function parse (answer: string): [string, unknown] {
  const [head = '', body = ''] = answer.split('\r\n\r\n')
  let json: unknown
  try { json = JSON.parse(body) } catch { json = body }
  return [head.split('\r\n')[0] ?? '', json]
}

async function openConnections (relay: RunningRelay): Promise<number> {
  return new Promise((resolve, reject) => relay.app.server.getConnections((err, n) => err ? reject(err) : resolve(n)))
}

t.test('broken HTTP, cut bodies and oversized headers: clear answers, no crash, no socket left', async (t) => {
  const relay = await startRelay(t, { bodyLimitBytes: 1024 })
  const post = (extra: string) => `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}`

  const malformed = { error: { message: 'Malformed HTTP request', type: 'invalid_request_error', param: null, code: 'invalid_request' } }
  t.strictSame(parse(await raw(relay, 'this is not HTTP at all\r\n\r\n')), ['HTTP/1.1 400 Bad Request', malformed], 'garbage')
  t.strictSame(parse(await raw(relay, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)), ['HTTP/1.1 431 Request Header Fields Too Large', {
    error: { message: 'Request headers are larger than the server accepts', type: 'invalid_request_error', param: null, code: 'request_too_large' },
  }], 'huge header')
  t.strictSame(parse(await raw(relay, post('Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n'))), ['HTTP/1.1 400 Bad Request', malformed], 'bad chunk size')
  // A body cut short: the client promises 500 bytes, sends 20 and closes its side.
  t.strictSame(parse(await raw(relay, post('Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{"model":"demo","me'), { end: true })), ['HTTP/1.1 400 Bad Request', malformed], 'cut body')
  // A body that never finishes arriving, and a client that vanishes mid-stream.
  const stalled = raw(relay, post('Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{'), { waitMs: 300 })
  const vanished = raw(relay, post(`Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(chatBody('demo', { stream: true }))}\r\n\r\n${chatBody('demo', { stream: true })}`), { waitMs: 200 })
  t.match(await vanished, /^HTTP\/1\.1 200 /, 'the demo stream had started')
  t.equal(await stalled, '')

  // Fifty bad JSON bodies at once.
  const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => fetch(`${relay.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"model": "demo", "messages": [${i}`,
  }).then(async (r) => [r.status, ((await r.json()) as { error: { code: string } }).error.code])))
  t.ok(answers.every(([status, code]) => status === 400 && code === 'invalid_request'), 'all fifty: 400 invalid_request')

  const health = await fetch(`${relay.url}/healthz`, { headers: { connection: 'close' } })
  t.equal(health.status, 200)
  t.strictSame(await health.json(), { status: 'ok' })

  // Every client socket is gone: so must the relay's side be (bounded wait).
  let open = await openConnections(relay)
  for (let i = 0; i < 100 && open > 0; i++) { await sleep(50); open = await openConnections(relay) }
  t.equal(open, 0, 'no connection left open on the relay')
  t.equal(relay.logs.filter((l) => l.level >= 50).length, 0, 'nothing logged as an error')
})
