import t, { type Test } from 'tap'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { readAll, startRelay } from '../helpers/relay.js'
import { NATIVE_EVENTS, RESPONSE_ID, responsesFrame, writeNativeStream } from '../helpers/responses-upstream.js'
import { completedResponse, postResponses, responsesBody } from '../helpers/responses-relay.js'
import { startUpstream, type ReceivedRequest } from '../helpers/upstream.js'

// SPEC §5.1: the relay remembers which upstream created a response id, so GET and DELETE
// /v1/responses/:id, POST /v1/responses/:id/cancel and GET …?stream=true&starting_after=n reach
// it (with its key), among two upstreams of the same model; an id never seen is 404 not_found.

/** A native upstream whose creates answer `id`, and which answers the stored-response calls as OpenAI does. */
function nativeUpstream (id: string) {
  return async (req: IncomingMessage, res: ServerResponse, received: ReceivedRequest) => {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    if (req.method === 'POST' && req.url === '/v1/responses') {
      if (received.json?.stream === true) return writeNativeStream(res)
      return json(200, { ...completedResponse(), id })
    }
    if (req.method === 'GET' && req.url?.includes('stream=true')) {
      // The events after starting_after=20: the last two.
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' })
      res.end(NATIVE_EVENTS.slice(21).map(([name, fields], i) => responsesFrame(name, fields, 21 + i)).join(''))
      return
    }
    if (req.method === 'GET') return json(200, { ...completedResponse(), id })
    if (req.method === 'DELETE') return json(200, { id, object: 'response', deleted: true })
    if (req.method === 'POST' && req.url?.endsWith('/cancel')) return json(200, { ...completedResponse(), id, status: 'cancelled' })
    json(404, { error: { message: 'no such route', type: 'invalid_request_error', param: null, code: null } })
  }
}

async function twoUpstreams (t: Test) {
  const a = await startUpstream(t, nativeUpstream('resp_from_a'))
  const b = await startUpstream(t, nativeUpstream('resp_from_b'))
  const relay = await startRelay(t, {
    keys: [{ name: 'web', key: 'sk-web' }],
    upstreams: [{ name: 'a', baseUrl: a.baseUrl, apiKey: 'sk-key-a' }, { name: 'b', baseUrl: b.baseUrl, apiKey: 'sk-key-b' }],
  })
  // Round robin: the first create goes to a, the second to b.
  for (let i = 0; i < 2; i++) t.equal((await postResponses(relay, responsesBody('gpt-5-mini', { stream: false }), { token: 'sk-web' })).status, 200)
  return { a, b, relay }
}

function call (relay: { url: string }, method: string, path: string): Promise<Response> {
  return fetch(`${relay.url}${path}`, { method, headers: { authorization: 'Bearer sk-web' } })
}

t.test('GET, DELETE and cancel reach the upstream that created the response, with its key', async (t) => {
  const { a, b, relay } = await twoUpstreams(t)
  const got = await call(relay, 'GET', '/v1/responses/resp_from_b?include[]=reasoning.encrypted_content')
  t.equal(got.status, 200)
  t.match(await got.json(), { id: 'resp_from_b', object: 'response' })
  const deleted = await call(relay, 'DELETE', '/v1/responses/resp_from_a')
  t.strictSame(await deleted.json(), { id: 'resp_from_a', object: 'response', deleted: true })
  const cancelled = await call(relay, 'POST', '/v1/responses/resp_from_b/cancel')
  t.match(await cancelled.json(), { id: 'resp_from_b', status: 'cancelled' })
  t.strictSame(a.requests.slice(1).map((r) => [r.method, r.url, r.headers.authorization]), [['DELETE', '/v1/responses/resp_from_a', 'Bearer sk-key-a']])
  t.strictSame(b.requests.slice(1).map((r) => [r.method, r.url, r.headers.authorization]), [
    ['GET', '/v1/responses/resp_from_b?include%5B%5D=reasoning.encrypted_content', 'Bearer sk-key-b'],
    ['POST', '/v1/responses/resp_from_b/cancel', 'Bearer sk-key-b'],
  ])
})

t.test('a streamed create remembers the id from response.created; GET ?stream=true&starting_after=n resumes there', async (t) => {
  const { a, b, relay } = await twoUpstreams(t)
  // The third create goes to a again, streamed: its id is the fixture's.
  await readAll(await postResponses(relay, responsesBody('gpt-5-mini'), { token: 'sk-web' }))
  const res = await call(relay, 'GET', `/v1/responses/${RESPONSE_ID}?stream=true&starting_after=20`)
  t.equal(res.status, 200)
  t.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8')
  const expected = NATIVE_EVENTS.slice(21).map(([name, fields], i) => responsesFrame(name, fields, 21 + i)).join('')
  t.equal((await readAll(res)).text, expected, 'the rest of the stream, byte for byte, ending after response.completed')
  t.strictSame(a.requests.at(-1)?.url, `/v1/responses/${RESPONSE_ID}?stream=true&starting_after=20`)
  t.equal(a.requests.at(-1)?.method, 'GET')
  t.equal(b.requests.length, 1, 'the other upstream never asked')
  const lines = await relay.waitForSummaries(4)
  t.match(lines.at(-1), { url: `/v1/responses/${RESPONSE_ID}`, upstream: 'a', stream: true, outcome: 'completed', promptTokens: 12, completionTokens: 9 })
})

t.test('an id the relay never saw: 404 not_found, and no upstream is asked', async (t) => {
  const { a, b, relay } = await twoUpstreams(t)
  for (const [method, path] of [['GET', '/v1/responses/resp_unknown'], ['DELETE', '/v1/responses/resp_unknown'], ['POST', '/v1/responses/resp_unknown/cancel'], ['GET', '/v1/responses/resp_unknown?stream=true']]) {
    const res = await call(relay, method!, path!)
    t.equal(res.status, 404, `${method} ${path}`)
    t.strictSame(await res.json(), { error: { message: 'No response with id "resp_unknown" was created through this relay (or it is older than streams.ttlMs)', type: 'invalid_request_error', param: 'response_id', code: 'not_found' } })
  }
  t.equal(a.requests.length + b.requests.length, 2, 'only the two creates')
})

t.test('a response made through chat: 404, saying nothing is stored upstream', async (t) => {
  const x = await startUpstream(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ id: 'c1', object: 'chat.completion', created: 1, model: 'qwen3', choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }] }))
  })
  const relay = await startRelay(t, { upstreams: [{ name: 'x', kind: 'xinference', baseUrl: x.baseUrl }] })
  const created = await (await postResponses(relay, responsesBody('qwen3', { stream: false }))).json() as { id: string }
  const res = await fetch(`${relay.url}/v1/responses/${created.id}`)
  t.equal(res.status, 404)
  t.strictSame(await res.json(), { error: { message: `Response ${created.id} was served by upstream "x" through its chat completions (the relay's Responses facade): nothing is stored upstream, so it cannot be retrieved, resumed, cancelled or deleted`, type: 'invalid_request_error', param: 'response_id', code: 'not_found' } })
  t.equal(x.requests.length, 1)
})
