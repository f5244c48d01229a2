import t from 'tap'
import { startUpstream, chatChunk, streamFrames, closedPort } from '../helpers/upstream.js'
import { startRelay, waitFor } from '../helpers/relay.js'
import { createStream } from '../helpers/streams.js'

// SPEC §9 for the EventSource flow: POST /v1/streams fails over like a plain request. A connect
// error, 429 or 5xx of the model's first upstream moves the call to the next one, and the POST
// still answers 201 with a stream the next upstream serves; when every upstream fails, the POST
// is a normal HTTP error (the 502 envelope), not a 201 with a stream that can only fail.
const body = { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }

t.test('the first upstream refuses connections: 201, served by the second', async (t) => {
  const b = await startUpstream(t)
  b.handler = (_req, res) => streamFrames(res, [chatChunk('from b'), chatChunk(null, { finish: 'stop' })])
  const relay = await startRelay(t, { upstreams: [{ name: 'a', baseUrl: `http://127.0.0.1:${await closedPort()}/v1` }, { name: 'b', baseUrl: b.baseUrl }] })

  const created = await createStream(relay.url, body)
  t.equal(created.status, 201)
  t.equal(created.json.url, `/v1/streams/${created.json.id}`)
  const res = await fetch(`${relay.url}${created.json.url}?format=content`)
  t.equal(res.status, 200)
  t.equal(await res.text(), 'id: 1\ndata: {"content":"from b"}\n\nid: 2\nevent: stop\ndata: {"finish_reason":"stop","usage":null}\n\n')
  t.equal(b.requests.length, 1, 'the second upstream was called once')
  t.equal(b.requests[0]?.json.stream, true)

  await waitFor('the stream log line', () => relay.logs.some((l) => l.msg === 'stream finished'))
  t.match(relay.logs.find((l) => l.msg === 'stream finished'), { upstream: 'b', outcome: 'completed' })
  await waitFor('the POST\'s summary line', () => relay.summaries().some((s) => s.method === 'POST'))
  t.match(relay.summaries().find((s) => s.method === 'POST'), { status: 201, upstream: 'b', retries: 1, retried: [{ upstream: 'a', reason: 'connect error (ECONNREFUSED)' }] })
})

t.test('a 503 of the first upstream moves on too; a 400 does not', async (t) => {
  const a = await startUpstream(t)
  const b = await startUpstream(t)
  const relay = await startRelay(t, { upstreams: [{ name: 'a', baseUrl: a.baseUrl }, { name: 'b', baseUrl: b.baseUrl }] })
  b.handler = (_req, res) => streamFrames(res, [chatChunk('b'), chatChunk(null, { finish: 'stop' })])

  a.handler = (_req, res) => { res.writeHead(503, { 'content-type': 'application/json' }); res.end('{"error":{"message":"overloaded","type":"server_error","param":null,"code":null}}') }
  const moved = await createStream(relay.url, body)
  t.equal(moved.status, 201)
  t.equal(await (await fetch(`${relay.url}${moved.json.url}?format=content`)).text(), 'id: 1\ndata: {"content":"b"}\n\nid: 2\nevent: stop\ndata: {"finish_reason":"stop","usage":null}\n\n')
  t.same([a.requests.length, b.requests.length], [1, 1])

  // The route rotates: the next request starts on b; make b refuse it with a 400, the request's own fault.
  b.handler = (_req, res) => { res.writeHead(400, { 'content-type': 'application/json' }); res.end('{"error":{"message":"bad temperature","type":"invalid_request_error","param":"temperature","code":null}}') }
  const refused = await createStream(relay.url, body)
  t.equal(refused.status, 400)
  t.same(refused.json, { error: { message: 'bad temperature', type: 'invalid_request_error', param: 'temperature', code: 'invalid_request' } })
  t.same([a.requests.length, b.requests.length], [1, 2], 'not retried elsewhere')
})

t.test('every upstream down: a 502 envelope, no stream', async (t) => {
  const relay = await startRelay(t, { upstreams: [{ name: 'a', baseUrl: `http://127.0.0.1:${await closedPort()}/v1` }, { name: 'b', baseUrl: `http://127.0.0.1:${await closedPort()}/v1` }] })
  const res = await fetch(`${relay.url}/v1/streams`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  t.equal(res.status, 502)
  t.equal(res.headers.get('content-type'), 'application/json; charset=utf-8')
  const json = await res.json() as { error: Record<string, unknown> }
  t.same(Object.keys(json.error).sort(), ['code', 'message', 'param', 'type'])
  t.match(json.error, { type: 'api_error', code: 'upstream_error', param: null })
  t.match(json.error.message, /^Upstream "b"/, 'the last failure is the answer')
  await waitFor('the POST\'s summary line', () => relay.summaries().some((s) => s.method === 'POST'))
  t.match(relay.summaries().find((s) => s.method === 'POST'), { status: 502, retries: 1, retried: [{ upstream: 'a', reason: 'connect error (ECONNREFUSED)' }] })
  t.notOk(relay.logs.some((l) => l.msg === 'stream finished'), 'no generation was started')
})
