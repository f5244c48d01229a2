import t from 'tap'
import { startUpstream, chatChunk, streamFrames, sleep, type ScriptedUpstream } from '../helpers/upstream.js'
import { startRelay, chatBody, readAll } from '../helpers/relay.js'

// SPEC §9: after the cool-down ONE trial request decides whether a skipped upstream is back. A trial
// whose client leaves before the upstream answered says nothing about the upstream: its slot must be
// given back, or the upstream would stay skipped for good (every later request sees "a trial is
// running"). The abandoned attempt reaches attempts.failed() with the request's signal aborted, which
// frees the slot (failover.ts); this fails when it does not.

const COOLDOWN_MS = 300

const good = (up: ScriptedUpstream, name: string) => {
  up.handler = async (_req, res) => streamFrames(res, [chatChunk(`from ${name}`), chatChunk(null, { finish: 'stop' })])
}

function ask (url: string, signal?: AbortSignal): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true }), signal })
}

async function servedBy (url: string): Promise<string> {
  const res = await ask(url)
  return /from (\w)/.exec((await readAll(res)).text)?.[1] ?? `status ${res.status}`
}

t.test('a half-open trial whose client leaves frees the trial slot', async (t) => {
  const a = await startUpstream(t)
  const b = await startUpstream(t)
  good(b, 'b')
  // a fails twice (breaker opens), then hangs: the trial request never gets an answer.
  a.handler = async (_req, res) => {
    res.writeHead(500, { 'content-type': 'application/json' })
    res.end('{"error":{"message":"down","type":"server_error","param":null,"code":null}}')
  }
  const relay = await startRelay(t, {
    upstreams: [{ name: 'a', baseUrl: a.baseUrl }, { name: 'b', baseUrl: b.baseUrl }],
    failover: { failureThreshold: 2, cooldownMs: COOLDOWN_MS },
  })
  const router = relay.app.relay.router
  for (let i = 0; i < 4; i++) t.equal(await servedBy(relay.url), 'b', `request ${i} served by b`)
  t.equal(router.breakerState('a'), 'open')
  t.equal(a.requests.length, 2)

  let release!: () => void
  const held = new Promise<void>((resolve) => { release = resolve })
  a.handler = async (_req, res) => {
    await held
    res.destroy()
  }
  t.teardown(() => release())
  await sleep(COOLDOWN_MS + 50)

  // Requests until one is the trial on a (round-robin may hand the first one to b).
  const controller = new AbortController()
  let trial: Promise<Response> | undefined
  const askedA = (): number => a.requests.length
  for (let i = 0; i < 4 && askedA() === 2; i++) {
    const pending = ask(relay.url, controller.signal)
    await sleep(100)
    if (askedA() === 3) trial = pending
    else t.equal(await servedBy(relay.url), 'b', 'not the trial: served by b')
  }
  t.ok(trial, 'one request went to a as its trial')
  t.equal(router.breakerState('a'), 'half_open')
  // While it runs nobody else goes to a.
  t.equal(await servedBy(relay.url), 'b')
  t.equal(a.requests.length, 3)

  // The trial's client leaves. a is healthy again: the next trial must be allowed, and closes the breaker.
  controller.abort()
  await trial?.catch(() => undefined)
  good(a, 'a')
  release()
  await sleep(100)
  const served: string[] = []
  for (let i = 0; i < 4; i++) served.push(await servedBy(relay.url))
  t.ok(served.includes('a'), `a was tried again after the abandoned trial (${served.join('')})`)
  t.equal(router.breakerState('a'), 'closed')
})
