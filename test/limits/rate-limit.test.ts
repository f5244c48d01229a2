import t, { type Test } from 'tap'
import { startUpstream } from '../helpers/upstream.js'
import { rateLimited } from '../helpers/limits.js'
import { startRelay, chat, type RunningRelay } from '../helpers/relay.js'

const answer = JSON.stringify({ id: 'c1', object: 'chat.completion', created: 1, model: 'gpt-test', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }] })

/** An upstream that answers every request at once with `answer`. */
function startAnswering (t: Test) {
  return startUpstream(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(answer)
  })
}

/** A plain (non-streamed) chat request with the token: answered at once, each one request counted. */
function call (relay: RunningRelay, token: string): Promise<Response> {
  return chat(relay, token, { stream: false })
}

t.test('requestsPerMinute is counted per key name: over it 429 rate_limited with Retry-After; other keys unaffected', async (t) => {
  const up = await startAnswering(t)
  const relay = await startRelay(t, {
    upstreams: [{ name: 'up', baseUrl: up.baseUrl }],
    keys: [
      { name: 'limited', key: 'sk-limited', requestsPerMinute: 2 },
      { name: 'other', key: 'sk-other', requestsPerMinute: 2 },
      { name: 'free', key: 'sk-free' },
    ],
  })

  const first = await call(relay, 'sk-limited')
  t.equal(first.status, 200)
  t.equal(first.headers.get('x-ratelimit-limit-requests'), '2')
  t.equal(first.headers.get('x-ratelimit-remaining-requests'), '1')
  t.equal(await first.text(), answer)
  t.equal((await call(relay, 'sk-limited')).status, 200)

  const over = await call(relay, 'sk-limited')
  t.equal(over.status, 429)
  const retryAfter = Number(over.headers.get('retry-after'))
  t.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After is whole seconds within the window (${over.headers.get('retry-after')})`)
  t.equal(over.headers.get('x-ratelimit-remaining-requests'), '0')
  t.match(over.headers.get('content-type'), /^application\/json/)
  t.same(await over.json(), rateLimited(`Rate limit of 2 requests per minute reached for this API key; retry after ${retryAfter} s`))
  t.equal(up.requests.length, 2, 'the refused request never reached the upstream')

  // Same client IP, another key: its own counter.
  t.equal((await call(relay, 'sk-other')).status, 200)
  t.equal((await call(relay, 'sk-other')).status, 200)
  t.equal((await call(relay, 'sk-other')).status, 429)

  // A key without a limit is not limited, and gets no rate headers.
  for (let i = 0; i < 6; i++) {
    const res = await call(relay, 'sk-free')
    t.equal(res.status, 200)
    t.equal(res.headers.get('x-ratelimit-limit-requests'), null)
    await res.text()
  }

  const refused = relay.summaries().filter((l) => l.status === 429)
  t.same(refused.map((l) => [l.keyName, l.outcome]), [['limited', 'rejected'], ['other', 'rejected']])
})

t.test('a key given as keySha256 is limited like any other', async (t) => {
  const up = await startAnswering(t)
  // sha256('sk-hashed'): the config holds no live secret.
  const { createHash } = await import('node:crypto')
  const keySha256 = createHash('sha256').update('sk-hashed').digest('hex')
  const relay = await startRelay(t, {
    upstreams: [{ name: 'up', baseUrl: up.baseUrl }],
    keys: [{ name: 'hashed', keySha256, requestsPerMinute: 1 }],
  })
  t.equal((await call(relay, 'sk-hashed')).status, 200)
  const over = await call(relay, 'sk-hashed')
  t.equal(over.status, 429)
  t.ok(Number(over.headers.get('retry-after')) >= 1)
  t.equal(((await over.json()) as { error: { code: string } }).error.code, 'rate_limited')
  const wrong = await call(relay, keySha256)
  t.equal(wrong.status, 401, 'the hash itself is not a token')
  t.equal(((await wrong.json()) as { error: { code: string } }).error.code, 'invalid_api_key')
  t.equal(up.requests.length, 1)
})
