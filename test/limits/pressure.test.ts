import t from 'tap'
import { startUpstream } from '../helpers/upstream.js'
import { startRelay, chatBody } from '../helpers/relay.js'
import { parsePrometheus, valueOf } from '../helpers/prometheus.js'

/**
 * A memory threshold of 1 byte puts the process under pressure as soon as
 * @fastify/under-pressure has taken its first sample: a deterministic way to
 * see how the relay sheds load (the event-loop threshold has its own test).
 */
t.test('under pressure: API requests get 503 unavailable with Retry-After in the envelope; probes and /metrics still answer', async (t) => {
  const up = await startUpstream(t, (_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{}') })
  const relay = await startRelay(t, {
    upstreams: [{ name: 'up', baseUrl: up.baseUrl }],
    keys: [{ name: 'k', key: 'sk-k' }],
    // The event-loop threshold off: a loaded machine (module loading, other test files) can lag past
    // its default, and then that reason, not memory's, is the one reported.
    pressure: { maxRssBytes: 1, maxEventLoopDelayMs: 0, sampleIntervalMs: 100, retryAfterSeconds: 7 },
  })
  const chat = () => fetch(`${relay.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-k' },
    body: chatBody('gpt-test'),
  })
  // Until the first sample the plugin knows no memory figure; wait for it (bounded).
  let res = await chat()
  for (let i = 0; i < 40 && res.status !== 503; i++) {
    await res.text()
    await new Promise((resolve) => setTimeout(resolve, 25))
    res = await chat()
  }
  t.equal(res.status, 503)
  const reachedBefore = up.requests.length
  t.equal(res.headers.get('retry-after'), '7')
  t.match(res.headers.get('content-type'), /^application\/json/)
  t.same(await res.json(), {
    error: { message: 'The relay is overloaded (its memory is over the limit); retry after 7 s', type: 'api_error', param: null, code: 'unavailable' },
  })

  const models = await fetch(`${relay.url}/v1/models`, { headers: { authorization: 'Bearer sk-k' } })
  t.equal(models.status, 503, 'every API route is shed')
  await models.text()
  const unknown = await fetch(`${relay.url}/v1/nope`)
  t.equal(unknown.status, 503, 'an unknown route too: shedding comes before routing work')
  await unknown.text()

  const health = await fetch(`${relay.url}/healthz`)
  t.equal(health.status, 200)
  t.same(await health.json(), { status: 'ok' })
  const ready = await fetch(`${relay.url}/readyz`)
  t.equal(ready.status, 200)
  t.same(await ready.json(), { status: 'ready' })
  const metrics = await fetch(`${relay.url}/metrics`)
  t.equal(metrics.status, 200)
  const samples = parsePrometheus(await metrics.text())

  t.equal(up.requests.length, reachedBefore, 'nothing shed reached the upstream')
  const refused = relay.summaries().filter((l) => l.status === 503)
  t.ok(refused.length >= 3)
  t.ok(refused.every((l) => l.outcome === 'rejected'), 'logged as rejected, not as an upstream error')
  t.ok((valueOf(samples, 'llm_relay_requests_total', { key: '', model: '', upstream: '', status: '503', outcome: 'rejected' }) ?? 0) >= 3, 'counted as rejected 503s')
})

t.test('pressure checks can all be turned off', async (t) => {
  const up = await startUpstream(t, (_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"ok":true}') })
  const relay = await startRelay(t, {
    upstreams: [{ name: 'up', baseUrl: up.baseUrl }],
    pressure: { maxEventLoopDelayMs: 0, sampleIntervalMs: 100 },
  })
  await new Promise((resolve) => setTimeout(resolve, 250))
  const res = await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test') })
  t.equal(res.status, 200)
  t.equal(await res.text(), '{"ok":true}')
})
