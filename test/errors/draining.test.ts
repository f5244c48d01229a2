import t from 'tap'
import { startUpstream } from '../helpers/upstream.js'
import { startRelay, chatBody } from '../helpers/relay.js'

// SPEC §10, 503 unavailable with Retry-After while the relay drains on shutdown (SPEC §9).

t.test('while draining, new work is a 503 unavailable with Retry-After, and /readyz says so', async (t) => {
  const up = await startUpstream(t)
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }], keys: [{ name: 'web', key: 'sk-web' }] })
  relay.app.relay.draining = true

  for (const path of ['/v1/chat/completions', '/v1/completions', '/v1/embeddings']) {
    const res = await fetch(relay.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-web' },
      body: chatBody('gpt-test', { stream: true }),
    })
    t.equal(res.status, 503, `${path}: status`)
    t.equal(res.headers.get('retry-after'), '5', `${path}: Retry-After`)
    t.strictSame(await res.json(), {
      error: { message: 'The relay is shutting down; retry on another instance', type: 'api_error', param: null, code: 'unavailable' },
    }, `${path}: envelope`)
  }
  t.equal(up.requests.length, 0, 'nothing forwarded')

  const ready = await fetch(`${relay.url}/readyz`)
  t.equal(ready.status, 503)
  t.equal(ready.headers.get('retry-after'), '5')
  await ready.text()
  const health = await fetch(`${relay.url}/healthz`)
  t.equal(health.status, 200, 'liveness is not readiness')
  t.strictSame(await health.json(), { status: 'ok' })

  t.strictSame(relay.summaries().slice(0, 3).map((l) => [l.status, l.outcome]), [[503, 'rejected'], [503, 'rejected'], [503, 'rejected']])
})
