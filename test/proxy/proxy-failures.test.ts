import t from 'tap'
import { startBlackhole } from '../helpers/blackhole.js'
import { startUpstream, chatChunk, streamFrames, closedPort } from '../helpers/upstream.js'
import { startRelay, chatBody } from '../helpers/relay.js'

// SPEC §3/§5 through an outbound proxy: an unreachable proxy is an unreachable upstream (502), the
// relay's connect timeout still bounds the connection to the proxy (504), and failover still
// works behind it.

const post = (url: string) => fetch(`${url}/v1/chat/completions`, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true }), signal: AbortSignal.timeout(10_000),
})

t.test('proxy unreachable: 502 upstream_error, as for an unreachable upstream', async (t) => {
  const up = await startUpstream(t)
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }], proxy: { httpProxy: `http://127.0.0.1:${await closedPort()}` } })
  const res = await post(relay.url)
  t.equal(res.status, 502)
  t.same(await res.json(), { error: { message: 'Upstream "up" is unreachable (ECONNREFUSED)', type: 'api_error', param: null, code: 'upstream_error' } })
  t.equal(up.requests.length, 0)
})

t.test('the connect timeout bounds the connection to the proxy: 504 upstream_timeout', async (t) => {
  const port = await startBlackhole(t)
  const up = await startUpstream(t)
  const relay = await startRelay(t, { timeouts: { connectMs: 300 }, upstreams: [{ name: 'up', baseUrl: up.baseUrl }], proxy: { httpProxy: `http://127.0.0.1:${port}` } })
  const started = performance.now()
  const res = await post(relay.url)
  const took = performance.now() - started
  t.equal(res.status, 504)
  t.same(await res.json(), { error: { message: 'Timed out connecting to upstream "up"', type: 'timeout_error', param: null, code: 'upstream_timeout' } })
  // undici's timers tick about once a second; the kernel's own SYN retries would take minutes.
  t.ok(took >= 250 && took < 5000, `answered after the relay's connect timeout (${Math.round(took)} ms)`)
})

t.test('one upstream behind a dead proxy, one excluded by noProxy: failover reaches the direct one', async (t) => {
  const behind = await startUpstream(t)
  const direct = await startUpstream(t)
  direct.handler = async (_req, res) => streamFrames(res, [chatChunk('direct')])
  const relay = await startRelay(t, {
    upstreams: [{ name: 'proxied', baseUrl: behind.baseUrl }, { name: 'direct', baseUrl: direct.baseUrl }],
    // NO_PROXY's host:port form: only the second upstream bypasses the (dead) proxy.
    proxy: { httpProxy: `http://127.0.0.1:${await closedPort()}`, noProxy: `127.0.0.1:${direct.port}` },
  })
  const res = await post(relay.url)
  t.equal(res.status, 200)
  t.equal(await res.text(), `data: ${chatChunk('direct')}\n\ndata: [DONE]\n\n`)
  t.equal(behind.requests.length, 0)
  t.match((await relay.waitForSummaries())[0], { upstream: 'direct', retries: 1, retried: [{ upstream: 'proxied', reason: 'connect error (ECONNREFUSED)' }] })
})
