import t from 'tap'
import { startUpstream } from '../helpers/upstream.js'
import { startRelay, chatBody } from '../helpers/relay.js'

// SPEC §10, 504 upstream_timeout: the upstream accepts the request but sends
// no response head within `timeouts.firstByteMs`. The relay gives up, closes
// the upstream request and answers a normal HTTP error.

t.test('no upstream answer within firstByteMs is a 504 upstream_timeout, and the upstream request is closed', async (t) => {
  const up = await startUpstream(t, () => new Promise<void>(() => {})) // never answers
  const relay = await startRelay(t, { upstreams: [{ name: 'slow', baseUrl: up.baseUrl }], timeouts: { firstByteMs: 300 } })
  for (const stream of [true, false]) {
    const started = performance.now()
    const res = await fetch(`${relay.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream }),
    })
    const took = performance.now() - started
    t.equal(res.status, 504, `stream ${stream}: status`)
    t.strictSame(await res.json(), {
      error: { message: 'Upstream "slow" sent no response before the first-byte timeout', type: 'timeout_error', param: null, code: 'upstream_timeout' },
    }, `stream ${stream}: envelope`)
    t.ok(took >= 250 && took < 5000, `answered after the timeout, not before (${Math.round(took)} ms)`)
  }
  t.equal(up.requests.length, 2)
  for (const r of up.requests) {
    const closedAfter = await Promise.race([r.socketClosed, new Promise<string>((resolve) => setTimeout(() => resolve('still open'), 2000))])
    t.type(closedAfter, 'number', 'the relay closed its upstream request')
  }
  t.strictSame(relay.summaries().map((l) => [l.status, l.outcome, l.upstream]), [[504, 'timeout', 'slow'], [504, 'timeout', 'slow']])
})
