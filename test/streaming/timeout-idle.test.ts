import t from 'tap'
import { once } from 'node:events'
import { startUpstream, chatChunk, SSE_HEADERS } from '../helpers/upstream.js'
import { startRelay, chatBody, readAll, sseBlocks } from '../helpers/relay.js'

// undici runs its header, body and connect timers on a ~1 s clock, so a 300 ms timeout fires within about 1 s.
// SPEC §5 timeouts: an upstream silent between frames for longer than timeouts.idleMs ends the
// stream with one error frame (code upstream_timeout), never [DONE]; the log says `timeout`.

t.test('idle timeout mid-stream: error frame, no [DONE], upstream aborted', async (t) => {
  const up = await startUpstream(t)
  up.handler = async (req, res) => {
    res.writeHead(200, SSE_HEADERS)
    res.write(`data: ${chatChunk('one')}\n\ndata: ${chatChunk('two')}\n\n`)
    await once(req.socket, 'close', { signal: AbortSignal.timeout(10_000) }).catch(() => {})
    if (!res.destroyed) res.end('data: [DONE]\n\n')
  }
  const relay = await startRelay(t, { heartbeatMs: 60_000, timeouts: { idleMs: 300 }, upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const started = performance.now()
  const res = await fetch(`${relay.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true, stream_options: { include_usage: false } }),
  })
  t.equal(res.status, 200)
  const { text } = await readAll(res)
  const took = performance.now() - started
  const error = { message: 'Upstream "up" sent nothing for longer than the idle timeout', type: 'timeout_error', param: null, code: 'upstream_timeout' }
  t.same(sseBlocks(text), [`data: ${chatChunk('one')}`, `data: ${chatChunk('two')}`, `data: ${JSON.stringify({ error })}`])
  t.ok(took >= 250 && took < 5000, `ended after the idle timeout (${Math.round(took)} ms)`)
  const closed = await Promise.race([up.requests[0]!.socketClosed.then(() => true), new Promise<boolean>((resolve) => setTimeout(resolve, 1000, false).unref())])
  t.ok(closed, 'the upstream\'s socket was closed')
  t.equal(relay.summaries()[0]?.outcome, 'timeout')
  t.equal(relay.summaries()[0]?.error, error.message)
})

t.test('idle timeout in the content format: event: error, no event: stop', async (t) => {
  const up = await startUpstream(t)
  up.handler = async (req, res) => {
    res.writeHead(200, SSE_HEADERS)
    res.write(`data: ${chatChunk('one')}\n\n`)
    await once(req.socket, 'close', { signal: AbortSignal.timeout(10_000) }).catch(() => {})
  }
  const relay = await startRelay(t, { heartbeatMs: 60_000, timeouts: { idleMs: 300 }, upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const res = await fetch(`${relay.url}/v1/chat/completions?format=content`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true }),
  })
  const error = { message: 'Upstream "up" sent nothing for longer than the idle timeout', type: 'timeout_error', param: null, code: 'upstream_timeout' }
  t.same(sseBlocks((await readAll(res)).text), ['id: 1\ndata: {"content":"one"}', `id: 2\nevent: error\ndata: ${JSON.stringify({ error })}`])
})
