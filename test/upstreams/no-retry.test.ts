import t from 'tap'
import { startUpstream, chatChunk, streamFrames, SSE_HEADERS, sleep } from '../helpers/upstream.js'
import { startRelay, chatBody, readAll, waitFor } from '../helpers/relay.js'

// SPEC §9: what must NOT move to another upstream: a 4xx other than 429 (the request's own fault),
// and any failure after a byte reached the client (the client already has part of one answer).

t.test('a 400 from the upstream is the answer; the other upstream is never asked', async (t) => {
  const a = await startUpstream(t)
  const b = await startUpstream(t)
  a.handler = (_req, res) => { res.writeHead(400, { 'content-type': 'application/json' }); res.end('{"error":{"message":"bad temperature","type":"invalid_request_error","param":"temperature","code":null}}') }
  b.handler = async (_req, res) => streamFrames(res, [chatChunk('never')])
  const relay = await startRelay(t, { upstreams: [{ name: 'a', baseUrl: a.baseUrl }, { name: 'b', baseUrl: b.baseUrl }] })
  const res = await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true }) })
  t.equal(res.status, 400)
  t.same(await res.json(), { error: { message: 'bad temperature', type: 'invalid_request_error', param: 'temperature', code: 'invalid_request' } })
  t.equal(b.requests.length, 0)
  t.match((await relay.waitForSummaries())[0], { upstream: 'a', status: 400, retries: 0 })
  t.equal(relay.app.relay.router.breakerState('a'), 'closed', 'a 400 says nothing bad about the upstream')
})

t.test('a failure after the first byte is an error frame, never a retry', async (t) => {
  const a = await startUpstream(t)
  const b = await startUpstream(t)
  a.handler = async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    res.write(`data: ${chatChunk('partial')}\n\n`)
    await sleep(50)
    res.socket?.destroy()
  }
  b.handler = async (_req, res) => streamFrames(res, [chatChunk('never')])
  const relay = await startRelay(t, { upstreams: [{ name: 'a', baseUrl: a.baseUrl }, { name: 'b', baseUrl: b.baseUrl }] })
  const res = await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true }) })
  t.equal(res.status, 200)
  const { text } = await readAll(res)
  t.equal(text, `data: ${chatChunk('partial')}\n\ndata: {"error":{"message":"Connection to upstream \\"a\\" was reset","type":"api_error","param":null,"code":"upstream_error"}}\n\n`)
  t.equal(b.requests.length, 0, 'the other upstream is never asked')
  t.match((await relay.waitForSummaries())[0], { upstream: 'a', outcome: 'upstream_error', retries: 0 })
})

t.test('a request whose client went away is not retried and does not count against the upstream', async (t) => {
  const a = await startUpstream(t)
  const b = await startUpstream(t)
  a.handler = async () => { await sleep(2_000) } // never answers in time
  b.handler = async (_req, res) => streamFrames(res, [chatChunk('never')])
  const relay = await startRelay(t, {
    upstreams: [{ name: 'a', baseUrl: a.baseUrl }, { name: 'b', baseUrl: b.baseUrl }],
    failover: { failureThreshold: 1, cooldownMs: 60_000 },
  })
  const controller = new AbortController()
  const pending = fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true }), signal: controller.signal })
  await waitFor('the request to reach a', () => a.requests.length > 0)
  controller.abort()
  await t.rejects(pending)
  await a.requests[0]?.socketClosed
  const [line] = await relay.waitForSummaries()
  t.equal(b.requests.length, 0, 'no retry for a client that left')
  t.equal(relay.app.relay.router.breakerState('a'), 'closed', 'not a failure of the upstream')
  t.match(line, { upstream: 'a', outcome: 'client_aborted', retries: 0 })
})
