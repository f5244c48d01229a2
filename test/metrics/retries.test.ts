import t from 'tap'
import { startUpstream, chatChunk, streamFrames, type ScriptedUpstream } from '../helpers/upstream.js'
import { startRelay, chatBody, readAll } from '../helpers/relay.js'
import { samplesOf, scrapeUntil, valueOf } from '../helpers/prometheus.js'

// Failover (SPEC §9) in /metrics: each attempt left for the next upstream is a retry and an
// upstream error of the upstream that failed; a request's final failure is one more error of the
// upstream it ended on. Nothing is counted twice.

const good = (up: ScriptedUpstream) => { up.handler = (_req, res) => streamFrames(res, [chatChunk('fine'), chatChunk(null, { finish: 'stop' })]) }
const busy = (up: ScriptedUpstream) => { up.handler = (_req, res) => { res.writeHead(503, { 'content-type': 'application/json' }); res.end('{"error":{"message":"busy","type":"server_error","param":null,"code":null}}') } }
const sum = (s: ReturnType<typeof samplesOf>) => s.reduce((n, x) => n + x.value, 0)

t.test('retries and upstream errors by upstream, exactly as the requests went', async (t) => {
  const a = await startUpstream(t)
  const b = await startUpstream(t)
  busy(a)
  good(b)
  const relay = await startRelay(t, {
    upstreams: [{ name: 'a', baseUrl: a.baseUrl }, { name: 'b', baseUrl: b.baseUrl }],
    // Keep "a" in rotation however often it fails: this test counts, the breaker has its own.
    failover: { failureThreshold: 100 },
  })
  const chat = () => fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true }) })

  // Round-robin: requests 1 and 3 start on "a" (fails, moves to "b"), 2 and 4 start on "b".
  for (let i = 0; i < 4; i++) {
    const res = await chat()
    t.equal(res.status, 200)
    t.match((await readAll(res)).text, /data: \[DONE\]\n\n$/)
  }
  // Request 5 starts on "a" again; now "b" fails too: the client gets the 502.
  b.handler = (_req, res) => { res.writeHead(500, { 'content-type': 'text/plain' }); res.end('down') }
  const failed = await chat()
  t.equal(failed.status, 502)
  await failed.text()
  t.same([a.requests.length, b.requests.length], [3, 5])

  const s = await scrapeUntil(relay.url, (x) => sum(samplesOf(x, 'llm_relay_requests_total')) === 5)
  t.strictSame(samplesOf(s, 'llm_relay_upstream_retries_total').map((x) => [x.labels.upstream, x.labels.reason, x.value]), [['a', 'http_5xx', 3]])
  t.strictSame(samplesOf(s, 'llm_relay_upstream_errors_total').map((x) => [x.labels.upstream, x.labels.reason, x.value]).sort(), [
    ['a', 'http_5xx', 3],
    ['b', 'upstream_error', 1],
  ])
  const base = { key: 'anonymous', model: 'gpt-test' }
  t.equal(valueOf(s, 'llm_relay_requests_total', { ...base, upstream: 'b', status: '200', outcome: 'completed' }), 4, 'served by "b", whatever upstream they started on')
  t.equal(valueOf(s, 'llm_relay_requests_total', { ...base, upstream: 'b', status: '502', outcome: 'upstream_error' }), 1)
  t.equal(sum(samplesOf(s, 'llm_relay_requests_total')), 5)
  t.same(relay.summaries().filter((l) => l.url === '/v1/chat/completions').map((l) => l.retries), [1, 0, 1, 0, 1], 'the log lines agree')
})

t.test('an upstream skipped after repeated failures shows as breaker_open 1', async (t) => {
  const a = await startUpstream(t)
  const b = await startUpstream(t)
  busy(a)
  good(b)
  const relay = await startRelay(t, {
    upstreams: [{ name: 'a', baseUrl: a.baseUrl }, { name: 'b', baseUrl: b.baseUrl }],
    failover: { failureThreshold: 1, cooldownMs: 60_000 },
  })
  const res = await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true }) })
  t.equal(res.status, 200)
  await readAll(res)
  const s = await scrapeUntil(relay.url, (x) => valueOf(x, 'llm_relay_upstream_breaker_open', { upstream: 'a' }) === 1)
  t.equal(valueOf(s, 'llm_relay_upstream_breaker_open', { upstream: 'a' }), 1)
  t.equal(valueOf(s, 'llm_relay_upstream_breaker_open', { upstream: 'b' }), 0, '"b" is in service')
})
