import t from 'tap'
import { startUpstream } from '../helpers/upstream.js'
import { startRelay, chatBody } from '../helpers/relay.js'

// SPEC §10, 401 invalid_api_key: with keys configured, a request with no
// token or an unknown one is refused before anything reaches the upstream.

t.test('missing and unknown tokens are 401 invalid_api_key; the upstream never hears of them', async (t) => {
  const up = await startUpstream(t)
  const relay = await startRelay(t, {
    upstreams: [{ name: 'up', baseUrl: up.baseUrl }],
    keys: [{ name: 'web', key: 'sk-relay-good' }],
  })
  const send = (headers: Record<string, string>) => fetch(`${relay.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: chatBody('gpt-test'),
  })

  const missing = await send({})
  t.equal(missing.status, 401)
  t.strictSame(await missing.json(), {
    error: { message: 'Missing API key: send "Authorization: Bearer <token>"', type: 'authentication_error', param: null, code: 'invalid_api_key' },
  })

  const invalid = { error: { message: 'Invalid API key', type: 'authentication_error', param: null, code: 'invalid_api_key' } }
  for (const authorization of ['Bearer sk-relay-bad', 'Bearer sk-relay-good-but-longer', 'Basic c2stcmVsYXktZ29vZA==', 'sk-relay-good', 'Bearer ']) {
    const res = await send({ authorization })
    t.equal(res.status, 401, `${authorization}: status`)
    t.strictSame(await res.json(), invalid, `${authorization}: envelope`)
  }

  // /v1/models is behind the same check.
  const models = await fetch(`${relay.url}/v1/models`)
  t.equal(models.status, 401)
  t.equal(((await models.json()) as { error: { code: string } }).error.code, 'invalid_api_key')

  t.equal(up.requests.length, 0, 'nothing was forwarded')
  const lines = relay.summaries()
  t.equal(lines.length, 7)
  t.ok(lines.every((l) => l.status === 401 && l.outcome === 'rejected' && l.keyName === undefined), 'rejected, no key name')
})

t.test('the right token is accepted, case-insensitive "bearer" and all', async (t) => {
  const up = await startUpstream(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end('{"object":"chat.completion","choices":[]}')
  })
  const relay = await startRelay(t, {
    upstreams: [{ name: 'up', baseUrl: up.baseUrl }],
    keys: [{ name: 'web', key: 'sk-relay-good' }],
  })
  for (const authorization of ['Bearer sk-relay-good', 'bearer sk-relay-good']) {
    const res = await fetch(`${relay.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: chatBody('gpt-test'),
    })
    t.equal(res.status, 200, authorization)
    t.equal(await res.text(), '{"object":"chat.completion","choices":[]}')
  }
  t.equal(up.requests.length, 2)
})
