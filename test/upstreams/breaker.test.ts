import t from 'tap'
import { startUpstream, chatChunk, streamFrames, sleep, type ScriptedUpstream } from '../helpers/upstream.js'
import { startRelay, chatBody, readAll } from '../helpers/relay.js'

// SPEC §9: an upstream that keeps failing is skipped for a while (failover.failureThreshold
// consecutive failures → skipped for failover.cooldownMs), then ONE trial request decides whether
// it is back. When every candidate is skipped, the one that failed least recently is tried anyway.

const COOLDOWN_MS = 400

const good = (up: ScriptedUpstream, name: string) => {
  up.handler = async (_req, res) => streamFrames(res, [chatChunk(`from ${name}`), chatChunk(null, { finish: 'stop' })])
}
const broken = (up: ScriptedUpstream, delayMs = 0) => {
  up.handler = async (_req, res) => {
    if (delayMs) await sleep(delayMs)
    res.writeHead(500, { 'content-type': 'application/json' })
    res.end('{"error":{"message":"down","type":"server_error","param":null,"code":null}}')
  }
}

async function ask (url: string): Promise<{ status: number, text: string }> {
  const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true }) })
  return { status: res.status, text: res.body ? (await readAll(res)).text : '' }
}

t.test('skipped after consecutive failures, back after the cool-down through one trial', async (t) => {
  const a = await startUpstream(t)
  const b = await startUpstream(t)
  broken(a)
  good(b, 'b')
  const relay = await startRelay(t, {
    upstreams: [{ name: 'a', baseUrl: a.baseUrl }, { name: 'b', baseUrl: b.baseUrl }],
    failover: { failureThreshold: 2, cooldownMs: COOLDOWN_MS },
  })
  const router = relay.app.relay.router
  const changes: string[] = []
  router.observe({ onBreakerChange: (e) => changes.push(`${e.upstream}:${e.state}`) })

  for (let i = 0; i < 8; i++) t.match(await ask(relay.url), { status: 200, text: /from b/ }, `request ${i} served by b`)
  t.equal(a.requests.length, 2, 'a was asked until its second failure, then skipped')
  t.equal(router.breakerState('a'), 'open')

  // The trial itself fails: open again, for another cool-down. While it runs, nobody else goes to a.
  broken(a, 200)
  await sleep(COOLDOWN_MS + 50)
  const burst = await Promise.all([0, 1, 2, 3, 4, 5].map(() => ask(relay.url)))
  t.ok(burst.every((r) => r.status === 200 && r.text.includes('from b')), 'every request of the burst served by b')
  t.equal(a.requests.length, 3, 'exactly one trial request went to a')
  t.equal(router.breakerState('a'), 'open')
  for (let i = 0; i < 3; i++) await ask(relay.url)
  t.equal(a.requests.length, 3, 'skipped again right after the failed trial')

  // a recovers: the next trial closes the breaker and the turns resume.
  good(a, 'a')
  await sleep(COOLDOWN_MS + 50)
  const served: string[] = []
  for (let i = 0; i < 6; i++) served.push(/from (\w)/.exec((await ask(relay.url)).text)?.[1] ?? '?')
  t.equal(router.breakerState('a'), 'closed')
  t.equal(served.filter((s) => s === 'a').length, 3, `a serves its share again (${served.join('')})`)
  t.same(changes, ['a:open', 'a:half_open', 'a:open', 'a:half_open', 'a:closed'])
})

t.test('every candidate skipped: the least recently failed one is still tried', async (t) => {
  const a = await startUpstream(t)
  const b = await startUpstream(t)
  broken(a)
  broken(b)
  const relay = await startRelay(t, {
    upstreams: [{ name: 'a', baseUrl: a.baseUrl }, { name: 'b', baseUrl: b.baseUrl }],
    failover: { failureThreshold: 1, cooldownMs: 60_000 },
  })
  const router = relay.app.relay.router
  t.equal((await ask(relay.url)).status, 502, 'a then b failed')
  t.same([a.requests.length, b.requests.length], [1, 1])
  t.same([router.breakerState('a'), router.breakerState('b')], ['open', 'open'])

  t.equal((await ask(relay.url)).status, 502)
  t.same([a.requests.length, b.requests.length], [2, 1], 'a failed longest ago: a is tried, once')
  t.equal((await ask(relay.url)).status, 502)
  t.same([a.requests.length, b.requests.length], [2, 2], 'now b failed longest ago')

  // b is back, but its breaker is still open: the next forced try goes to a (failed longest ago),
  // and the one after to b, whose success closes its breaker.
  good(b, 'b')
  t.equal((await ask(relay.url)).status, 502, 'a, forced, fails again')
  t.same([a.requests.length, b.requests.length], [3, 2])
  t.match(await ask(relay.url), { status: 200, text: /from b/ }, 'b, forced, succeeds')
  t.same([router.breakerState('a'), router.breakerState('b')], ['open', 'closed'])
  t.match(await ask(relay.url), { status: 200, text: /from b/ }, 'b is used normally again')
  t.same([a.requests.length, b.requests.length], [3, 4], 'a stays skipped while b is healthy')
})
