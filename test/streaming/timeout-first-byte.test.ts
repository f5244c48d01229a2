import t from 'tap'
import { once } from 'node:events'
import { startUpstream, SSE_HEADERS } from '../helpers/upstream.js'
import { startRelay, chatBody } from '../helpers/relay.js'

// undici runs its header, body and connect timers on a ~1 s clock, so a 300 ms timeout fires within about 1 s.
// SPEC §5 timeouts: no upstream answer within timeouts.firstByteMs → 504 upstream_timeout, a normal
// HTTP error, and the upstream request is ended.

t.test('first-byte timeout: an upstream that never answers', async (t) => {
  const up = await startUpstream(t)
  up.handler = async (req) => {
    await once(req.socket, 'close', { signal: AbortSignal.timeout(10_000) }).catch(() => {})
  }
  const relay = await startRelay(t, { timeouts: { firstByteMs: 300 }, upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const started = performance.now()
  const res = await fetch(`${relay.url}/v1/chat/completions?format=content`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true }),
  })
  const took = performance.now() - started
  t.equal(res.status, 504)
  t.equal(res.headers.get('content-type'), 'application/json; charset=utf-8')
  t.same(await res.json(), { error: { message: 'Upstream "up" sent no response before the first-byte timeout', type: 'timeout_error', param: null, code: 'upstream_timeout' } })
  t.ok(took >= 250 && took < 5000, `answered after the first-byte timeout (${Math.round(took)} ms)`)
  const closed = await Promise.race([up.requests[0]!.socketClosed.then(() => true), new Promise<boolean>((resolve) => setTimeout(resolve, 1000, false).unref())])
  t.ok(closed, 'the upstream\'s socket was closed')
  t.equal(relay.summaries()[0]?.outcome, 'timeout')
})

t.test('headers came but no body byte within the idle timeout: still a 504, not a stream', async (t) => {
  const up = await startUpstream(t)
  up.handler = async (req, res) => {
    res.writeHead(200, SSE_HEADERS)
    res.flushHeaders()
    await once(req.socket, 'close', { signal: AbortSignal.timeout(10_000) }).catch(() => {})
  }
  const relay = await startRelay(t, { timeouts: { idleMs: 300 }, upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const res = await fetch(`${relay.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true }),
  })
  t.equal(res.status, 504)
  t.same(await res.json(), { error: { message: 'Upstream "up" sent nothing for longer than the idle timeout', type: 'timeout_error', param: null, code: 'upstream_timeout' } })
})
