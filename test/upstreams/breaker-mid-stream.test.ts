import t, { type Test } from 'tap'
import { startUpstream, chatChunk, streamFrames, SSE_HEADERS, sleep, type ScriptedUpstream } from '../helpers/upstream.js'
import { startRelay, chatBody, readAll, waitFor } from '../helpers/relay.js'
import { createStream } from '../helpers/streams.js'
import { scrapeUntil, samplesOf, valueOf } from '../helpers/prometheus.js'
import type { UpstreamErrorEvent } from '../../src/upstream/failover.js'

// SPEC §9: "an upstream that keeps failing is skipped for a while", also when it fails AFTER its
// first byte: one that answers 200 and then breaks every stream must open its breaker (a stream's
// success counts only when it ends properly). Never a retry: bytes already reached the client.
// What the client or the relay ends (disconnect, total timeout) says nothing about the upstream.

const RESET = JSON.stringify({ error: { message: 'Connection to upstream "a" was reset', type: 'api_error', param: null, code: 'upstream_error' } })

const good = (up: ScriptedUpstream, name: string) => {
  up.handler = async (_req, res) => streamFrames(res, [chatChunk(`from ${name}`), chatChunk(null, { finish: 'stop' })])
}
/** 200, one frame, then the socket is destroyed. */
const resets = (up: ScriptedUpstream) => {
  up.handler = async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    res.write(`data: ${chatChunk('from a')}\n\n`)
    await sleep(30) // the frame reaches the relay (and the client) first
    res.socket?.destroy()
  }
}

/** Two upstreams for gpt-test: a resets every stream after its first frame, b serves. */
async function aResetsBServes (t: Test, failureThreshold: number) {
  const a = await startUpstream(t)
  const b = await startUpstream(t)
  resets(a)
  good(b, 'b')
  const relay = await startRelay(t, {
    upstreams: [{ name: 'a', baseUrl: a.baseUrl }, { name: 'b', baseUrl: b.baseUrl }],
    failover: { failureThreshold, cooldownMs: 60_000 },
  })
  return { a, b, relay, router: relay.app.relay.router }
}

function ask (url: string, signal?: AbortSignal): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true }), signal })
}

t.test('streams reset after their first byte open the breaker; later requests all go to the other upstream', async (t) => {
  const { a, relay, router } = await aResetsBServes(t, 3)
  const errors: UpstreamErrorEvent[] = []
  const changes: string[] = []
  router.observe({ onUpstreamError: (e) => errors.push(e), onBreakerChange: (e) => changes.push(`${e.upstream}:${e.state}`) })

  // Round-robin alternates a, b, a, …: a breaks requests 0, 2 and 4, each after its first frame.
  for (let i = 0; i < 6; i++) {
    const res = await ask(relay.url)
    t.equal(res.status, 200)
    const { text } = await readAll(res)
    if (i % 2 === 0) t.equal(text, `data: ${chatChunk('from a')}\n\ndata: ${RESET}\n\n`, `request ${i}: a's frame, then the error frame`)
    else t.match(text, /from b.*data: \[DONE\]\n\n$/s, `request ${i}: served by b`)
    if (i < 4) t.equal(router.breakerState('a'), 'closed', `a still in use after ${Math.floor(i / 2) + 1} broken stream(s)`)
  }
  t.equal(a.requests.length, 3, 'never retried: one upstream request per broken stream')
  t.equal(router.breakerState('a'), 'open', 'open after failureThreshold broken streams')
  t.same(changes, ['a:open'])
  t.same(errors, [0, 1, 2].map(() => ({ upstream: 'a', model: 'gpt-test', reason: 'connection reset (UND_ERR_SOCKET)', retried: false })))

  for (let i = 0; i < 6; i++) t.match((await readAll(await ask(relay.url))).text, /from b/, `request ${6 + i} goes to b`)
  t.equal(a.requests.length, 3, 'a is skipped')
  t.equal(router.breakerState('b'), 'closed')

  // Counted once each, from the requests' summaries (outcome upstream_error), not again by the breaker.
  const s = await scrapeUntil(relay.url, (x) => samplesOf(x, 'llm_relay_requests_total').reduce((n, v) => n + v.value, 0) === 12)
  t.equal(valueOf(s, 'llm_relay_upstream_errors_total', { upstream: 'a', reason: 'upstream_error' }), 3)
  t.equal(samplesOf(s, 'llm_relay_upstream_errors_total').length, 1)
  t.equal(valueOf(s, 'llm_relay_upstream_breaker_open', { upstream: 'a' }), 1)
})

t.test('a client that leaves mid-stream, or the total timeout, does not count; a truncated stream does', async (t) => {
  const a = await startUpstream(t)
  let mode: 'trickle' | 'truncate' = 'trickle'
  a.handler = async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    res.write(`data: ${chatChunk('from a')}\n\n`)
    if (mode === 'truncate') { await sleep(30); res.end(); return }
    for (let i = 0; i < 100 && !res.destroyed; i++) { await sleep(20); res.write(`data: ${chatChunk('.')}\n\n`) }
    res.end('data: [DONE]\n\n')
  }
  const relay = await startRelay(t, {
    upstreams: [{ name: 'a', baseUrl: a.baseUrl }],
    failover: { failureThreshold: 1, cooldownMs: 60_000 },
    timeouts: { totalMs: 500 },
  })
  const router = relay.app.relay.router

  for (let i = 0; i < 2; i++) {
    const controller = new AbortController()
    const res = await ask(relay.url, controller.signal)
    const reader = res.body!.getReader()
    t.match(new TextDecoder().decode((await reader.read()).value), /from a/, 'the first frame arrived')
    controller.abort()
    await reader.read().catch(() => undefined)
    await a.requests[i]!.socketClosed
  }
  await waitFor('two summaries', () => relay.summaries().length === 2)
  t.same(relay.summaries().map((l) => l.outcome), ['client_aborted', 'client_aborted'])
  t.equal(router.breakerState('a'), 'closed', 'clients leaving mid-stream do not open the breaker')

  // The relay's own total timeout ends the stream: the client gets its error frame, a is not blamed.
  const timedOut = (await readAll(await ask(relay.url))).text
  t.match(timedOut, /"code":"upstream_timeout"/)
  t.equal(router.breakerState('a'), 'closed', 'the total timeout does not open the breaker')
  t.equal(a.requests.length, 3, 'each went to a, the only upstream')

  // failureThreshold 1: a stream that ends without [DONE] is a failure of a, at once.
  mode = 'truncate'
  t.match((await readAll(await ask(relay.url))).text, /ended the stream before it was complete/)
  t.equal(router.breakerState('a'), 'open', 'a truncated stream counts')
})

t.test('POST /v1/streams: a generation that breaks counts against its upstream the same way', async (t) => {
  const { a, relay, router } = await aResetsBServes(t, 2)
  const finished = () => relay.logs.filter((l) => l.msg === 'stream finished')
  const body = { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }

  // a, b, a: both of a's generations break after their first event.
  for (let i = 0; i < 3; i++) {
    t.equal((await createStream(relay.url, body)).status, 201)
    await waitFor(`generation ${i} to end`, () => finished().length === i + 1)
  }
  t.same(finished().map((l) => [l.upstream, l.outcome]), [['a', 'upstream_error'], ['b', 'completed'], ['a', 'upstream_error']])
  t.equal(router.breakerState('a'), 'open')
  for (let i = 0; i < 3; i++) t.equal((await createStream(relay.url, body)).status, 201)
  await waitFor('the last generations to end', () => finished().length === 6)
  t.same(finished().slice(3).map((l) => l.upstream), ['b', 'b', 'b'], 'a is skipped')
  t.equal(a.requests.length, 2)
})
