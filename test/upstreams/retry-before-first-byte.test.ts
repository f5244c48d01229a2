import t from 'tap'
import { startUpstream, chatChunk, usageChunk, streamFrames, SSE_HEADERS, type ScriptedUpstream, closedPort } from '../helpers/upstream.js'
import { startRelay, chatBody, readAll } from '../helpers/relay.js'
import type { RetryEvent, UpstreamErrorEvent } from '../../src/upstream/failover.js'

// SPEC §9: a connect error, a reset, a 429 or a 5xx before the first byte reached the client is
// retried on the next upstream of the model; the log line says which upstream served and why the
// others were left; the router's observer sees each failure and retry (for metrics).

const good = (up: ScriptedUpstream) => {
  up.handler = async (_req, res) => streamFrames(res, [chatChunk('fine'), chatChunk(null, { finish: 'stop' })])
}

const failures: Array<[string, (up: ScriptedUpstream) => void, string]> = [
  ['503 with a JSON error', (up) => { up.handler = (_req, res) => { res.writeHead(503, { 'content-type': 'application/json' }); res.end('{"error":{"message":"busy","type":"server_error","param":null,"code":null}}') } }, 'HTTP 503'],
  ['429 with Retry-After', (up) => { up.handler = (_req, res) => { res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' }); res.end('{"error":{"message":"slow down","type":"rate_limit_error","param":null,"code":null}}') } }, 'HTTP 429'],
  ['socket destroyed before any answer', (up) => { up.handler = (_req, res) => { res.socket?.destroy() } }, 'connection reset (UND_ERR_SOCKET)'],
  ['200 headers, then closed with no byte', (up) => { up.handler = (_req, res) => { res.writeHead(200, SSE_HEADERS); res.end() } }, 'stream failed before its first byte'],
]

for (const [name, breakFirst, reason] of failures) {
  t.test(`${name}: served by the other upstream`, async (t) => {
    const a = await startUpstream(t)
    const b = await startUpstream(t)
    breakFirst(a)
    good(b)
    const relay = await startRelay(t, { upstreams: [{ name: 'a', baseUrl: a.baseUrl }, { name: 'b', baseUrl: b.baseUrl }] })
    const events: Array<UpstreamErrorEvent | RetryEvent> = []
    relay.app.relay.router.observe({ onUpstreamError: (e) => events.push(e), onRetry: (e) => events.push(e) })
    // Round-robin starts at "a", the broken one.
    const res = await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true }) })
    t.equal(res.status, 200)
    t.equal(res.headers.get('retry-after'), null, 'the left upstream\'s retry hints do not leak into the answer')
    const { text } = await readAll(res)
    t.equal(text, `data: ${chatChunk('fine')}\n\ndata: ${chatChunk(null, { finish: 'stop' })}\n\ndata: [DONE]\n\n`)
    t.equal(a.requests.length, 1)
    t.equal(b.requests.length, 1)
    t.equal(b.requests[0]?.body, a.requests[0]?.body, 'the same body goes to the next upstream')
    const [line] = await relay.waitForSummaries()
    t.match(line, { upstream: 'b', status: 200, outcome: 'completed', retries: 1, retried: [{ upstream: 'a', reason }] })
    t.same(events, [
      { upstream: 'a', model: 'gpt-test', reason, retried: true },
      { from: 'a', to: 'b', model: 'gpt-test', reason },
    ])
  })
}

t.test('connection refused: served by the other upstream, also for a non-streamed request', async (t) => {
  const b = await startUpstream(t)
  b.handler = (_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"id":"x","object":"chat.completion","choices":[]}') }
  const relay = await startRelay(t, { upstreams: [{ name: 'a', baseUrl: `http://127.0.0.1:${await closedPort()}/v1` }, { name: 'b', baseUrl: b.baseUrl }] })
  const res = await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test') })
  t.equal(res.status, 200)
  t.same(await res.json(), { id: 'x', object: 'chat.completion', choices: [] })
  t.match((await relay.waitForSummaries())[0], { upstream: 'b', retries: 1, retried: [{ upstream: 'a', reason: 'connect error (ECONNREFUSED)' }] })
})

t.test('when every upstream fails, the last failure is the answer (a 429 keeps its status and Retry-After)', async (t) => {
  const a = await startUpstream(t)
  const b = await startUpstream(t)
  a.handler = (_req, res) => { res.writeHead(500, { 'content-type': 'application/json' }); res.end('{"error":{"message":"boom","type":"server_error","param":null,"code":null}}') }
  b.handler = (_req, res) => { res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' }); res.end('{"error":{"message":"slow down","type":"rate_limit_error","param":null,"code":null}}') }
  const relay = await startRelay(t, { upstreams: [{ name: 'a', baseUrl: a.baseUrl }, { name: 'b', baseUrl: b.baseUrl }] })
  const res = await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true }) })
  t.equal(res.status, 429)
  t.equal(res.headers.get('retry-after'), '7')
  t.same(await res.json(), { error: { message: 'slow down', type: 'rate_limit_error', param: null, code: 'rate_limited' } })
  t.equal(a.requests.length + b.requests.length, 2, 'each upstream tried exactly once')
  t.match((await relay.waitForSummaries())[0], { upstream: 'b', status: 429, retries: 1, retried: [{ upstream: 'a', reason: 'HTTP 500' }] })
})

t.test('the next upstream gets the body its own kind wants (usage asked of openai, not of xinference)', async (t) => {
  const x = await startUpstream(t)
  const o = await startUpstream(t)
  x.handler = (_req, res) => { res.writeHead(503, { 'content-type': 'application/json' }); res.end('{"detail":"Model is loading"}') }
  o.handler = async (_req, res) => streamFrames(res, [chatChunk('hi'), chatChunk(null, { finish: 'stop' }), usageChunk(3, 1)])
  const relay = await startRelay(t, { upstreams: [{ name: 'x', kind: 'xinference', baseUrl: x.baseUrl }, { name: 'o', kind: 'openai', baseUrl: o.baseUrl }] })
  const res = await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true }) })
  t.equal((await readAll(res)).text, `data: ${chatChunk('hi')}\n\ndata: ${chatChunk(null, { finish: 'stop' })}\n\ndata: [DONE]\n\n`, 'the usage chunk the relay asked for is not passed on')
  t.equal(x.requests[0]?.json.stream_options, undefined, 'xinference is not asked for usage')
  t.same(o.requests[0]?.json.stream_options, { include_usage: true }, 'openai is')
  t.match((await relay.waitForSummaries())[0], { upstream: 'o', retries: 1, retried: [{ upstream: 'x', reason: 'HTTP 503' }], promptTokens: 3, completionTokens: 1 })
})
