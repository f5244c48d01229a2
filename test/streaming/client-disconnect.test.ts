import t, { type Test } from 'tap'
import { connect } from 'node:net'
import { once } from 'node:events'
import { chatChunk, SSE_HEADERS, sleep, type ScriptedUpstream } from '../helpers/upstream.js'
import { chatBody, startRelayOver, waitFor, type RunningRelay } from '../helpers/relay.js'

// SPEC §5: when the client goes away the upstream request is aborted at once (the upstream sees its
// socket close within a second) and the log line says `client_aborted`.

const BODY = chatBody('gpt-test', { stream: true })

/** An upstream that would stream for 20 s: a frame every 50 ms. */
function endless (up: ScriptedUpstream): void {
  up.handler = async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    for (let i = 0; i < 400 && !res.destroyed; i++) {
      res.write(`data: ${chatChunk(`t${i} `)}\n\n`)
      await sleep(50)
    }
    res.end('data: [DONE]\n\n')
  }
}

/** How long after `since` the upstream's socket closed; fails the test if not within 1 s. */
async function closedWithin (t: Test, up: ScriptedUpstream, since: number): Promise<void> {
  const request = up.requests[0]
  if (!request) { t.fail('the upstream got no request'); return }
  const closed = await Promise.race([request.socketClosed.then(() => performance.now() - since), new Promise<number>((resolve) => setTimeout(resolve, 1000, -1).unref())])
  t.ok(closed >= 0, `the upstream's socket closed within 1000 ms of the disconnect (${Math.round(closed)} ms)`)
}

async function summaryOf (relay: RunningRelay): Promise<Record<string, any> | undefined> {
  return (await relay.waitForSummaries())[0]
}

function setUp (t: Test): Promise<{ up: ScriptedUpstream, relay: RunningRelay }> {
  return startRelayOver(t)
}

t.test('fetch aborted mid-stream with an AbortController', async (t) => {
  const { up, relay } = await setUp(t)
  endless(up)
  const controller = new AbortController()
  const res = await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY, signal: controller.signal })
  t.equal(res.status, 200)
  const reader = res.body!.getReader()
  let seen = ''
  while (!seen.includes('t2 ')) seen += new TextDecoder().decode((await reader.read()).value)
  const at = performance.now()
  controller.abort()
  await t.rejects(reader.read(), { name: 'AbortError' }, 'the reader sees the abort')
  await closedWithin(t, up, at)
  const summary = await summaryOf(relay)
  t.equal(summary?.outcome, 'client_aborted')
  t.equal(summary?.status, 200)
  t.ok(summary?.frames >= 3, `the frames sent before the abort are counted (${summary?.frames})`)
})

t.test('raw socket destroyed mid-stream', async (t) => {
  const { up, relay } = await setUp(t)
  endless(up)
  const socket = connect(relay.port, '127.0.0.1')
  await once(socket, 'connect')
  socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(BODY)}\r\n\r\n${BODY}`)
  let seen = ''
  for await (const chunk of socket) {
    seen += (chunk as Buffer).toString('utf8')
    if (seen.includes('t2 ')) break // leaving the loop destroys the socket
  }
  const at = performance.now()
  socket.destroy()
  t.match(seen, /^HTTP\/1\.1 200 OK\r\n/)
  await closedWithin(t, up, at)
  t.equal((await summaryOf(relay))?.outcome, 'client_aborted')
})

t.test('client gone before the upstream answered its headers', async (t) => {
  const { up, relay } = await setUp(t)
  let answered = false
  up.handler = async (req, res) => {
    // Hold the answer until the relay gives up on it (or 5 s, so the test cannot hang).
    await once(req.socket, 'close', { signal: AbortSignal.timeout(5000) }).catch(() => {})
    answered = !res.destroyed
    if (answered) await new Promise<void>((resolve) => res.end('data: [DONE]\n\n', () => resolve()))
  }
  const controller = new AbortController()
  const pending = fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY, signal: controller.signal })
  await waitFor('the upstream to get the request', () => up.requests.length > 0)
  t.equal(up.requests.length, 1, 'the upstream got the request')
  const at = performance.now()
  controller.abort()
  await t.rejects(pending, { name: 'AbortError' })
  await closedWithin(t, up, at)
  t.notOk(answered, 'the upstream\'s socket was gone before it answered')
  const summary = await summaryOf(relay)
  t.equal(summary?.outcome, 'client_aborted')
  t.equal(summary?.ttfbMs, undefined, 'nothing was sent to the client')
  // The relay is still healthy afterwards.
  t.equal((await fetch(`${relay.url}/healthz`)).status, 200)
})

t.test('client gone after the upstream\'s headers, before its first body byte', async (t) => {
  const { up, relay } = await setUp(t)
  up.handler = async (req, res) => {
    res.writeHead(200, SSE_HEADERS)
    res.flushHeaders()
    await once(req.socket, 'close', { signal: AbortSignal.timeout(5000) }).catch(() => {})
  }
  const controller = new AbortController()
  const pending = fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY, signal: controller.signal })
  await waitFor('the upstream to get the request', () => up.requests.length > 0)
  await sleep(100) // the headers reach the relay; the client still has nothing
  const at = performance.now()
  controller.abort()
  await t.rejects(pending, { name: 'AbortError' })
  await closedWithin(t, up, at)
  const summary = await summaryOf(relay)
  t.equal(summary?.outcome, 'client_aborted')
  t.same(relay.logs.filter((l) => l.level >= 40 && !/no client API keys/.test(l.msg)).map((l) => l.msg), [], 'no warning or error logged')
})
