import t from 'tap'
import { startUpstream } from '../helpers/upstream.js'
import { startRelay, chatBody } from '../helpers/relay.js'

/** Holds the (shared) event loop busy for `ms`: the relay runs in this process, so it lags too. */
function busy (ms: number): void {
  const end = performance.now() + ms
  while (performance.now() < end) { /* spin */ }
}

t.test('a lagging event loop sheds API requests with 503 until it recovers; /healthz still answers', async (t) => {
  const up = await startUpstream(t, (_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"ok":true}') })
  const relay = await startRelay(t, {
    upstreams: [{ name: 'up', baseUrl: up.baseUrl }],
    pressure: { maxEventLoopDelayMs: 100, sampleIntervalMs: 100, retryAfterSeconds: 3 },
  })
  const chat = () => fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test') })

  // Start-up itself (compiling, connecting) may lag the loop: wait for a calm sample first (bounded).
  let calm = await chat()
  for (let i = 0; i < 40 && calm.status !== 200; i++) {
    await calm.text()
    await new Promise((resolve) => setTimeout(resolve, 50))
    calm = await chat()
  }
  t.equal(calm.status, 200, 'not shed while the loop is idle')
  await calm.text()

  // Lag: 250 ms blocks with short gaps in which sockets (and the relay's sampler) get their turn.
  // Bounded: at most 40 blocks (10 s); it stops as soon as the test has seen what it needs.
  let lagging = true
  const lag = (async () => {
    // eslint-disable-next-line no-unmodified-loop-condition -- `lagging` is cleared by the test below, between blocks
    for (let i = 0; i < 40 && lagging; i++) {
      busy(250)
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  })()

  let shed: Response | undefined
  for (let i = 0; i < 20 && shed === undefined; i++) {
    const res = await chat()
    if (res.status === 503) shed = res
    else await res.text()
  }
  const health = await fetch(`${relay.url}/healthz`)
  lagging = false
  await lag

  t.ok(shed, 'a request was shed while the loop lagged')
  if (shed) {
    t.equal(shed.headers.get('retry-after'), '3')
    t.same(await shed.json(), {
      error: { message: 'The relay is overloaded (its event loop is lagging); retry after 3 s', type: 'api_error', param: null, code: 'unavailable' },
    })
  }
  t.equal(health.status, 200, '/healthz is never shed')
  await health.text()

  // Once the loop is calm again, the next samples clear the pressure (bounded wait).
  let after = await chat()
  for (let i = 0; i < 40 && after.status !== 200; i++) {
    await after.text()
    await new Promise((resolve) => setTimeout(resolve, 50))
    after = await chat()
  }
  t.equal(after.status, 200, 'admitted again after the loop recovered')
  t.equal(await after.text(), '{"ok":true}')
})
