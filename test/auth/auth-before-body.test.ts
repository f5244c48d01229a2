import t from 'tap'
import { startRelay, chatBody } from '../helpers/relay.js'

// SPEC §4, §10: with keys configured, a POST without a valid token is a 401
// before its body is read: whatever the body (malformed, too large, not
// JSON), an unknown caller learns nothing else and costs no parsing.

const UNAUTHORIZED = { error: { message: 'Missing API key: send "Authorization: Bearer <token>"', type: 'authentication_error', param: null, code: 'invalid_api_key' } }

t.test('no token: 401 whatever the body', async (t) => {
  const relay = await startRelay(t, { keys: [{ name: 'web', key: 'sk-web' }], bodyLimitBytes: 1024 })
  const bodies: Array<[string, string, string]> = [
    ['/v1/chat/completions', 'application/json', '{"model": '],
    ['/v1/chat/completions', 'application/json', chatBody('demo', { pad: 'x'.repeat(4096) })],
    ['/v1/completions', 'text/plain', 'hello'],
    ['/v1/embeddings', 'application/json', '[]'],
    ['/v1/streams', 'application/json', '{'],
  ]
  for (const [path, type, body] of bodies) {
    const res = await fetch(relay.url + path, { method: 'POST', headers: { 'content-type': type }, body })
    t.equal(res.status, 401, `${path} ${type} ${body.slice(0, 12)}: status`)
    t.strictSame(await res.json(), UNAUTHORIZED, `${path}: envelope`)
  }
  const wrong = await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer nope' }, body: '{' })
  t.equal(wrong.status, 401)
  t.equal(((await wrong.json()) as { error: { message: string } }).error.message, 'Invalid API key')
})

t.test('with the token the body is judged as usual; unknown routes stay 404; GETs are untouched', async (t) => {
  const relay = await startRelay(t, { keys: [{ name: 'web', key: 'sk-web' }], bodyLimitBytes: 1024 })
  const auth = { authorization: 'Bearer sk-web' }
  const malformed = await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: '{"model": ' })
  t.equal(malformed.status, 400)
  t.equal(((await malformed.json()) as { error: { code: string } }).error.code, 'invalid_request')
  const large = await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: chatBody('demo', { pad: 'x'.repeat(4096) }) })
  t.equal(large.status, 413)
  await large.text()

  // Not under /v1/: every POST /v1/<path> is a forwarded route (SPEC §4), which needs the token.
  const unknown = await fetch(`${relay.url}/v2/nope`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  t.equal(unknown.status, 404, 'an unknown route is 404 even without a token')
  await unknown.text()
  const health = await fetch(`${relay.url}/healthz`)
  t.equal(health.status, 200)
  await health.text()
  t.strictSame(relay.summaries().map((l) => [l.status, l.outcome]), [[400, 'rejected'], [413, 'rejected'], [404, 'rejected'], [200, 'completed']])
})
