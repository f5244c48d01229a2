import t from 'tap'
import { startBlackhole } from '../helpers/blackhole.js'
import { startRelay, chatBody } from '../helpers/relay.js'

// SPEC §5 timeouts: connect (config timeouts.connectMs) → 504 upstream_timeout.
// undici runs its header, body and connect timers on a ~1 s clock, so a 300 ms timeout fires within about 1 s.

t.test('connect timeout: 504 upstream_timeout, before anything was streamed', async (t) => {
  const port = await startBlackhole(t)
  t.ok(port > 0, `the black-hole listener is on port ${port}`)

  const relay = await startRelay(t, { timeouts: { connectMs: 300 }, upstreams: [{ name: 'up', baseUrl: `http://127.0.0.1:${port}/v1` }] })
  const started = performance.now()
  const res = await fetch(`${relay.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: chatBody('gpt-test', { stream: true }),
    signal: AbortSignal.timeout(10_000),
  })
  const took = performance.now() - started
  t.equal(res.status, 504)
  t.equal(res.headers.get('content-type'), 'application/json; charset=utf-8')
  t.same(await res.json(), { error: { message: 'Timed out connecting to upstream "up"', type: 'timeout_error', param: null, code: 'upstream_timeout' } })
  // Not the kernel's own SYN retry giving up (that takes minutes): the relay's 300 ms.
  t.ok(took >= 250 && took < 5000, `answered after the connect timeout (${Math.round(took)} ms)`)
  t.equal(relay.summaries()[0]?.outcome, 'timeout')
})
