import t from 'tap'
import { startRelay } from '../helpers/relay.js'

// SPEC §10, 400 invalid_request: the body is not JSON, or not a JSON object.
// The demo model is served (no upstream), so nothing but the body can be wrong.

async function post (url: string, body: string, path = '/v1/chat/completions') {
  const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  return { status: res.status, type: res.headers.get('content-type'), json: await res.json() as unknown }
}

t.test('malformed JSON is a 400 invalid_request envelope', async (t) => {
  const relay = await startRelay(t)
  const res = await post(relay.url, '{"model": "demo", "messages": [')
  t.equal(res.status, 400)
  t.equal(res.type, 'application/json; charset=utf-8')
  const error = (res.json as { error: Record<string, unknown> }).error
  t.strictSame(Object.keys(res.json as object), ['error'])
  t.strictSame(Object.keys(error).sort(), ['code', 'message', 'param', 'type'])
  t.match(error.message, /^Malformed JSON in request body: .+/)
  t.equal(error.type, 'invalid_request_error')
  t.equal(error.param, null)
  t.equal(error.code, 'invalid_request')
})

t.test('a body that is valid JSON but not an object is a 400 invalid_request', async (t) => {
  const relay = await startRelay(t)
  for (const body of ['[{"model":"demo"}]', '"demo"', '42', 'null', 'true']) {
    const res = await post(relay.url, body)
    t.equal(res.status, 400, `${body}: status`)
    t.strictSame(res.json, {
      error: { message: 'Request body must be a JSON object', type: 'invalid_request_error', param: null, code: 'invalid_request' },
    }, `${body}: envelope`)
  }
  // The same rule on the other two endpoints.
  for (const path of ['/v1/completions', '/v1/embeddings']) {
    const res = await post(relay.url, '[]', path)
    t.equal(res.status, 400, `${path}: status`)
    t.equal((res.json as { error: { code: string } }).error.code, 'invalid_request', `${path}: code`)
  }
})

t.test('an empty JSON body is a 400 invalid_request', async (t) => {
  const relay = await startRelay(t)
  const res = await post(relay.url, '')
  t.equal(res.status, 400)
  t.strictSame(res.json, {
    error: { message: 'Request body is empty: send a JSON object', type: 'invalid_request_error', param: null, code: 'invalid_request' },
  })
})

t.test('none of these rejections is a request the relay forwards, and the process lives on', async (t) => {
  const relay = await startRelay(t)
  await post(relay.url, '{')
  await post(relay.url, '[]')
  const health = await fetch(`${relay.url}/healthz`)
  t.equal(health.status, 200)
  t.strictSame(await health.json(), { status: 'ok' })
  const lines = relay.summaries()
  t.equal(lines.length, 3, 'one log line per request')
  t.strictSame(lines.map((l) => [l.status, l.outcome, l.upstream]), [[400, 'rejected', undefined], [400, 'rejected', undefined], [200, 'completed', undefined]])
})
