import t from 'tap'
import { startUpstream, chatChunk, SSE_HEADERS, sleep } from '../helpers/upstream.js'
import { startRelay, chatBody, readAll, sseBlocks } from '../helpers/relay.js'

// SPEC §5 timeouts: a request running past timeouts.totalMs ends with one error frame, no [DONE],
// even though the upstream never stops sending (so the idle timeout never fires).

t.test('total timeout: an upstream that streams a frame every 50 ms for too long', async (t) => {
  const up = await startUpstream(t)
  up.handler = async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    for (let i = 0; i < 200 && !res.destroyed; i++) {
      res.write(`data: ${chatChunk(`t${i}`)}\n\n`)
      await sleep(50)
    }
    if (!res.destroyed) res.end('data: [DONE]\n\n')
  }
  const relay = await startRelay(t, { heartbeatMs: 60_000, timeouts: { idleMs: 300, totalMs: 600 }, upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const started = performance.now()
  const res = await fetch(`${relay.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true, stream_options: { include_usage: false } }),
  })
  t.equal(res.status, 200)
  const blocks = sseBlocks((await readAll(res)).text)
  const took = performance.now() - started
  const error = { message: 'Request took longer than the total timeout of 600 ms', type: 'timeout_error', param: null, code: 'upstream_timeout' }
  t.equal(blocks.at(-1), `data: ${JSON.stringify({ error })}`, 'ends with the timeout error frame')
  t.notOk(blocks.includes('data: [DONE]'), 'no [DONE]')
  const frames = blocks.slice(0, -1)
  t.ok(frames.length >= 5 && frames.length <= 13, `the frames of about 600 ms came first (${frames.length})`)
  t.same(frames, frames.map((_, i) => `data: ${chatChunk(`t${i}`)}`), 'in order, untouched')
  t.ok(took >= 550 && took < 3000, `ended at the total timeout (${Math.round(took)} ms)`)
  const closed = await Promise.race([up.requests[0]!.socketClosed.then(() => true), new Promise<boolean>((resolve) => setTimeout(resolve, 1000, false).unref())])
  t.ok(closed, 'the upstream\'s socket was closed')
  t.equal((await relay.waitForSummaries())[0]?.outcome, 'timeout')
})

t.test('total timeout before the first byte: 504', async (t) => {
  const up = await startUpstream(t)
  up.handler = async (_req, res) => {
    await sleep(1500)
    if (res.destroyed) return
    res.writeHead(200, SSE_HEADERS)
    res.end(`data: ${chatChunk('late')}\n\ndata: [DONE]\n\n`)
  }
  const relay = await startRelay(t, { timeouts: { totalMs: 300 }, upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const res = await fetch(`${relay.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true }),
  })
  t.equal(res.status, 504)
  t.same(await res.json(), { error: { message: 'Request took longer than the total timeout of 300 ms', type: 'timeout_error', param: null, code: 'upstream_timeout' } })
})

t.test('total timeout while a non-streamed answer trickles in: 504, upstream aborted', async (t) => {
  const up = await startUpstream(t)
  up.handler = async (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.write('{"id":"x","object":"chat.completion","choices":[')
    for (let i = 0; i < 100 && !res.destroyed; i++) {
      await sleep(50)
      res.write(' ')
    }
    if (!res.destroyed) res.end(']}')
  }
  const relay = await startRelay(t, { timeouts: { idleMs: 300, totalMs: 500 }, upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const res = await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test') })
  t.equal(res.status, 504)
  t.same(await res.json(), { error: { message: 'Request took longer than the total timeout of 500 ms', type: 'timeout_error', param: null, code: 'upstream_timeout' } })
  const closed = await Promise.race([up.requests[0]!.socketClosed.then(() => true), new Promise<boolean>((resolve) => setTimeout(resolve, 1000, false).unref())])
  t.ok(closed, 'the upstream\'s socket was closed')
  t.equal((await relay.waitForSummaries())[0]?.outcome, 'timeout')
})
