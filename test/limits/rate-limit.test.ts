import t from 'tap'
import { startUpstream } from '../helpers/upstream.js'
import { startRelay, chatBody } from '../helpers/relay.js'

const answer = JSON.stringify({ id: 'c1', object: 'chat.completion', created: 1, model: 'gpt-test', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }] })

t.test('requestsPerMinute is counted per key name: over it 429 rate_limited with Retry-After; other keys unaffected', async (t) => {
  const up = await startUpstream(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(answer)
  })
  const relay = await startRelay(t, {
    upstreams: [{ name: 'up', baseUrl: up.baseUrl }],
    keys: [
      { name: 'limited', key: 'sk-limited', requestsPerMinute: 2 },
      { name: 'other', key: 'sk-other', requestsPerMinute: 2 },
      { name: 'free', key: 'sk-free' },
    ],
  })
  const call = (token: string) => fetch(`${relay.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: chatBody('gpt-test'),
  })

  const first = await call('sk-limited')
  t.equal(first.status, 200)
  t.equal(first.headers.get('x-ratelimit-limit-requests'), '2')
  t.equal(first.headers.get('x-ratelimit-remaining-requests'), '1')
  t.equal(await first.text(), answer)
  t.equal((await call('sk-limited')).status, 200)

  const over = await call('sk-limited')
  t.equal(over.status, 429)
  const retryAfter = Number(over.headers.get('retry-after'))
  t.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After is whole seconds within the window (${over.headers.get('retry-after')})`)
  t.equal(over.headers.get('x-ratelimit-remaining-requests'), '0')
  t.match(over.headers.get('content-type'), /^application\/json/)
  t.same(await over.json(), {
    error: {
      message: `Rate limit of 2 requests per minute reached for this API key; retry after ${retryAfter} s`,
      type: 'rate_limit_error',
      param: null,
      code: 'rate_limited',
    },
  })
  t.equal(up.requests.length, 2, 'the refused request never reached the upstream')

  // Same client IP, another key: its own counter.
  t.equal((await call('sk-other')).status, 200)
  t.equal((await call('sk-other')).status, 200)
  t.equal((await call('sk-other')).status, 429)

  // A key without a limit is not limited, and gets no rate headers.
  for (let i = 0; i < 6; i++) {
    const res = await call('sk-free')
    t.equal(res.status, 200)
    t.equal(res.headers.get('x-ratelimit-limit-requests'), null)
    await res.text()
  }

  const refused = relay.summaries().filter((l) => l.status === 429)
  t.same(refused.map((l) => [l.keyName, l.outcome]), [['limited', 'rejected'], ['other', 'rejected']])
})

t.test('a key given as keySha256 is limited like any other', async (t) => {
  const up = await startUpstream(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(answer)
  })
  // sha256('sk-hashed'): the config holds no live secret.
  const { createHash } = await import('node:crypto')
  const keySha256 = createHash('sha256').update('sk-hashed').digest('hex')
  const relay = await startRelay(t, {
    upstreams: [{ name: 'up', baseUrl: up.baseUrl }],
    keys: [{ name: 'hashed', keySha256, requestsPerMinute: 1 }],
  })
  const call = (token: string) => fetch(`${relay.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: chatBody('gpt-test'),
  })
  t.equal((await call('sk-hashed')).status, 200)
  const over = await call('sk-hashed')
  t.equal(over.status, 429)
  t.ok(Number(over.headers.get('retry-after')) >= 1)
  t.equal(((await over.json()) as { error: { code: string } }).error.code, 'rate_limited')
  const wrong = await call(keySha256)
  t.equal(wrong.status, 401, 'the hash itself is not a token')
  t.equal(((await wrong.json()) as { error: { code: string } }).error.code, 'invalid_api_key')
  t.equal(up.requests.length, 1)
})
