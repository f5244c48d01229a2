import t from 'tap'
import type { ServerResponse } from 'node:http'
import { startUpstream, chatChunk, streamFrames, SSE_HEADERS, sleep } from '../helpers/upstream.js'
import { startRelay, chat, readAll } from '../helpers/relay.js'
import { scrape, scrapeUntil, valueOf } from '../helpers/prometheus.js'

/**
 * A key allowed one stream at a time. Each way a stream can end must give the
 * slot back: after each, the gauge is 0 and the same key is admitted again.
 * While a stream is open, a second one is refused, so a slot that was never
 * taken cannot pass for one that was given back.
 */
t.test('a stream slot is released on completion, upstream error, client abort and timeout', async (t) => {
  const up = await startUpstream(t)
  const relay = await startRelay(t, {
    upstreams: [{ name: 'up', baseUrl: up.baseUrl }],
    keys: [{ name: 'one', key: 'sk-one', maxConcurrentStreams: 1 }],
    timeouts: { idleMs: 300, firstByteMs: 300 },
  })
  const open = (signal?: AbortSignal) => chat(relay, 'sk-one', { signal })
  const active = async () => valueOf(await scrape(relay.url), 'llm_relay_active_streams')
  const released = async (path: string) => {
    const samples = await scrapeUntil(relay.url, (s) => valueOf(s, 'llm_relay_active_streams') === 0)
    t.equal(valueOf(samples, 'llm_relay_active_streams'), 0, `${path}: slot released`)
  }
  const refusedWhileOpen = async (path: string) => {
    t.equal(await active(), 1, `${path}: slot held while streaming`)
    const second = await open()
    t.equal(second.status, 429, `${path}: a second stream is refused meanwhile`)
    await second.text()
  }

  // The upstream's stream for paths 1, 2, 4 and 5: one frame, then nothing until `then` (the
  // test's letGo(), or the relay closing the request), so the slot is held while the test looks.
  let letGo!: () => void
  const firstFrameThen = (then: (res: ServerResponse) => Promise<void>) => async (_req: unknown, res: ServerResponse) => {
    res.writeHead(200, SSE_HEADERS)
    res.write(`data: ${chatChunk('a')}\n\n`)
    await then(res)
  }
  const untilLetGo = () => new Promise<void>((resolve) => { letGo = resolve })
  const untilClosed = (res: ServerResponse) => new Promise<void>((resolve) => res.once('close', resolve))

  // 1. Completion.
  up.handler = firstFrameThen(async (res) => {
    await untilLetGo()
    await streamFrames(res, [chatChunk('b', { finish: 'stop' })])
  })
  const done = await open()
  t.equal(done.status, 200)
  await refusedWhileOpen('completion')
  letGo()
  t.match((await readAll(done)).text, /data: \[DONE\]\n\n$/)
  await released('completion')

  // 2. Upstream error mid-stream: the socket is cut after one frame.
  up.handler = firstFrameThen(async (res) => {
    await untilLetGo()
    res.socket?.destroy()
  })
  const cut = await open()
  t.equal(cut.status, 200)
  await refusedWhileOpen('upstream reset')
  letGo()
  t.match((await readAll(cut)).text, /"code":"upstream_error"/)
  await released('upstream reset')

  // 3. Upstream error before the first byte: a 500 becomes the client's 502.
  up.handler = (_req, res) => { res.writeHead(500, { 'content-type': 'text/plain' }); res.end('boom') }
  const failed = await open()
  t.equal(failed.status, 502)
  t.equal(((await failed.json()) as { error: { code: string } }).error.code, 'upstream_error')
  await released('upstream 500')

  // 4. Client abort mid-stream.
  up.handler = firstFrameThen(untilClosed)
  const controller = new AbortController()
  const aborted = await open(controller.signal)
  t.equal(aborted.status, 200)
  await refusedWhileOpen('client abort')
  controller.abort()
  await released('client abort')

  // 5. Idle timeout mid-stream: one frame, then silence past idleMs.
  up.handler = firstFrameThen(untilClosed)
  const idle = await open()
  t.equal(idle.status, 200)
  t.match((await readAll(idle)).text, /"code":"upstream_timeout"/)
  await released('idle timeout')

  // 6. First-byte timeout: the upstream never answers; the client gets 504.
  up.handler = async (_req, res) => { await sleep(1_000); res.destroy() }
  const slow = await open()
  t.equal(slow.status, 504)
  t.equal(((await slow.json()) as { error: { code: string } }).error.code, 'upstream_timeout')
  await released('first-byte timeout')

  // And the key is still admitted after all that.
  up.handler = (_req, res) => streamFrames(res, [chatChunk('ok', { finish: 'stop' })])
  const last = await open()
  t.equal(last.status, 200)
  t.match((await readAll(last)).text, /data: \[DONE\]\n\n$/)
  await released('final')
  const outcomes = relay.summaries().filter((l) => l.url === '/v1/chat/completions' && l.status !== 429).map((l) => l.outcome)
  t.same(outcomes, ['completed', 'upstream_error', 'upstream_error', 'client_aborted', 'timeout', 'timeout', 'completed'], 'each path ended as intended')
})
