import t from 'tap'
import { startUpstream, chatChunk, streamFrames, sleep } from '../helpers/upstream.js'
import { startRelay, waitFor } from '../helpers/relay.js'
import { createStream } from '../helpers/streams.js'

// SPEC §6: POST /v1/streams with a chat-completions body and the bearer token → 201
// {id, url, expires_at}; the id has ≥128 random bits; the upstream call starts at once;
// auth and body checks are those of /v1/chat/completions; stream is forced on.
const KEY = 'sk-web-0123456789'
const auth = { authorization: `Bearer ${KEY}` }
const messages = [{ role: 'user', content: 'hi' }]

t.test('201 with id, url, expires_at; the upstream is called at once, streaming', async (t) => {
  const up = await startUpstream(t)
  up.handler = (_req, res) => streamFrames(res, [chatChunk('Hi'), chatChunk(null, { finish: 'stop' })])
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }], keys: [{ name: 'web', key: KEY }], streams: { ttlMs: 60_000 } })
  const before = Date.now()
  // No "stream" in the body, and even `stream: false`: the flow always streams.
  const a = await createStream(relay.url, { model: 'gpt-test', messages }, auth)
  const b = await createStream(relay.url, { model: 'gpt-test', messages, stream: false, temperature: 0.2 }, auth)
  t.equal(a.status, 201)
  t.same(Object.keys(a.json).sort(), ['expires_at', 'id', 'url'])
  t.match(a.json.id, /^[A-Za-z0-9_-]{22}$/, 'base64url of 16 random bytes')
  t.equal(Buffer.from(a.json.id, 'base64url').length, 16, '128 bits')
  t.not(a.json.id, b.json.id)
  t.equal(a.json.url, `/v1/streams/${a.json.id}`)
  const expires = Date.parse(a.json.expires_at)
  t.equal(new Date(expires).toISOString(), a.json.expires_at, 'an ISO time')
  t.ok(expires >= before + 60_000 && expires <= Date.now() + 60_000, 'creation + ttlMs')

  await waitFor('both upstream calls', () => up.requests.length === 2)
  t.equal(up.requests[0]?.json.stream, true)
  t.equal(up.requests[1]?.json.stream, true, 'stream forced on')
  t.equal(up.requests[1]?.json.temperature, 0.2, 'the rest of the body passes')
  t.equal(up.requests[0]?.headers.authorization, undefined, 'the client token never goes upstream')
})

t.test('the upstream call runs before any reader attaches', async (t) => {
  const up = await startUpstream(t)
  let sent = 0
  up.handler = async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    for (const f of ['A', 'B', 'C']) { res.write(`data: ${chatChunk(f)}\n\n`); sent++; await sleep(10) }
    res.end('data: [DONE]\n\n')
  }
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const { json } = await createStream(relay.url, { model: 'gpt-test', messages })
  await waitFor('the upstream to finish on its own', () => sent === 3)
  const res = await fetch(`${relay.url}${json.url}?format=content`)
  t.equal(await res.text(), 'id: 1\ndata: {"content":"A"}\n\nid: 2\ndata: {"content":"B"}\n\nid: 3\ndata: {"content":"C"}\n\nid: 4\nevent: stop\ndata: {"finish_reason":null,"usage":null}\n\n')
})

t.test('auth and body are checked like chat completions; GET needs no token', async (t) => {
  const up = await startUpstream(t)
  up.handler = (_req, res) => streamFrames(res, [chatChunk('Hi')])
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }], keys: [{ name: 'web', key: KEY, models: ['gpt-test'] }] })
  t.same(await createStream(relay.url, { model: 'gpt-test', messages }), { status: 401, json: { error: { message: 'Missing API key: send "Authorization: Bearer <token>"', type: 'authentication_error', param: null, code: 'invalid_api_key' } } })
  t.same(await createStream(relay.url, { model: 'gpt-test', messages }, { authorization: 'Bearer nope' }), { status: 401, json: { error: { message: 'Invalid API key', type: 'authentication_error', param: null, code: 'invalid_api_key' } } })
  t.same(await createStream(relay.url, { model: 'gpt-test' }, auth), { status: 400, json: { error: { message: 'You must provide a messages parameter', type: 'invalid_request_error', param: 'messages', code: 'invalid_request' } } })
  t.same(await createStream(relay.url, { model: 'other', messages }, auth), { status: 403, json: { error: { message: 'The model "other" is not allowed for this API key', type: 'permission_error', param: 'model', code: 'model_not_allowed' } } })
  t.same(await createStream(relay.url, { model: 'gpt-test', messages }, auth, '?format=text'), { status: 400, json: { error: { message: 'Format "text" cannot be read as an event stream: use openai or content', type: 'invalid_request_error', param: 'format', code: 'invalid_request' } } })
  t.equal(up.requests.length, 0, 'no refused request reached the upstream')

  const ok = await createStream(relay.url, { model: 'gpt-test', messages }, auth)
  t.equal(ok.status, 201)
  const res = await fetch(`${relay.url}${ok.json.url}?format=content`)
  t.equal(res.status, 200, 'the id is the capability')
  t.equal(await res.text(), 'id: 1\ndata: {"content":"Hi"}\n\nid: 2\nevent: stop\ndata: {"finish_reason":null,"usage":null}\n\n')
})
