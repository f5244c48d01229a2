import t from 'tap'
import { startUpstream, chatChunk, SSE_HEADERS, sleep, type Handler } from '../helpers/upstream.js'
import { startRelay, chatBody, readAll, sseBlocks } from '../helpers/relay.js'

// The issue's done-when: two upstreams for one model, one killed (server closed, sockets destroyed)
// in the middle of a series of concurrent streaming requests. No client request that had not yet
// received a byte may fail: each is served by the survivor. A request that was already streaming
// from the killed one gets an error frame: never a silent truncation, never [DONE].

const FRAMES = 20
const GAP_MS = 20
const REQUESTS = 30

/** What the upstream is doing right now, so the kill can land while both kinds of request are live. */
const live = { waiting: 0, streaming: 0 }

function streamAs (name: string): Handler {
  return async (_req, res, received) => {
    // Some requests wait at the upstream before answering, so the kill also catches requests
    // that reached the upstream but had no byte back yet.
    const counted = name === 'a'
    if (counted) live.waiting++
    await sleep(received.json.wait)
    if (counted) live.waiting--
    if (res.destroyed) return
    res.writeHead(200, SSE_HEADERS)
    if (counted) live.streaming++
    for (let i = 0; i < FRAMES && !res.destroyed; i++) {
      res.write(`data: ${chatChunk(`${name}${i} `)}\n\n`)
      await sleep(GAP_MS)
    }
    if (counted) live.streaming--
    res.end('data: [DONE]\n\n')
  }
}

const KILLED_ERROR = 'data: {"error":{"message":"Connection to upstream \\"a\\" was reset","type":"api_error","param":null,"code":"upstream_error"}}'

t.test('killing one of two upstreams mid-series: no request without a byte fails; streaming ones get an error frame', async (t) => {
  const a = await startUpstream(t, streamAs('a'))
  const b = await startUpstream(t, streamAs('b'))
  const relay = await startRelay(t, { upstreams: [{ name: 'a', baseUrl: a.baseUrl }, { name: 'b', baseUrl: b.baseUrl }] })

  let killedAt = Infinity
  const launch = async (seq: number) => {
    const startedAt = performance.now()
    const res = await fetch(`${relay.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chatBody('gpt-test', { stream: true, wait: (seq % 3) * 60 }),
      signal: AbortSignal.timeout(10_000),
    })
    const { text } = res.status === 200 ? await readAll(res) : { text: await res.text() }
    return { seq, startedAt, status: res.status, text }
  }
  const half = REQUESTS / 2
  const before = Array.from({ length: half }, (_, i) => sleep(i * 10).then(() => launch(i)))
  // Kill a while it streams to some clients and keeps others waiting for their first byte.
  for (let i = 0; i < 600 && !(live.streaming >= 2 && live.waiting >= 1); i++) await sleep(5)
  t.ok(live.streaming >= 2 && live.waiting >= 1, `at the kill, a was streaming ${live.streaming} and holding ${live.waiting} requests`)
  killedAt = performance.now()
  await a.close()
  const after = Array.from({ length: half }, (_, i) => sleep(i * 10).then(() => launch(half + i)))
  const results = await Promise.all([...before, ...after])

  let complete = 0
  let cut = 0
  let startedAfterKill = 0
  for (const r of results) {
    t.equal(r.status, 200, r.status === 200 ? `request ${r.seq} answered with a stream` : `request ${r.seq} failed: ${r.text}`)
    const blocks = sseBlocks(r.text)
    const last = blocks[blocks.length - 1]
    const frames = blocks.filter((blk) => blk.includes('chat.completion.chunk')).map((blk) => /"content":"(\w)(\d+) "/.exec(blk)?.slice(1))
    if (last === 'data: [DONE]') {
      complete++
      const from = frames[0]?.[0]
      t.same(frames.map((f) => f?.[1]), Array.from({ length: FRAMES }, (_, i) => String(i)), `request ${r.seq}: every frame, in order`)
      t.ok(frames.every((f) => f?.[0] === from), `request ${r.seq}: one upstream served it all`)
      if (r.startedAt > killedAt) {
        startedAfterKill++
        t.equal(from, 'b', `request ${r.seq}, sent after the kill, served by b`)
      }
    } else {
      cut++
      t.equal(last, KILLED_ERROR, `request ${r.seq}: cut by the kill, ends with the error frame`)
      t.ok(frames.length >= 1 && frames.every((f) => f?.[0] === 'a'), `request ${r.seq}: had received frames from a before the error`)
      t.notMatch(r.text, /\[DONE\]/, `request ${r.seq}: never [DONE] after a failure`)
      t.ok(r.startedAt < killedAt, `request ${r.seq} had started before the kill`)
    }
  }
  t.equal(complete + cut, REQUESTS)
  // The scenario really happened: streams were cut, requests were sent after the kill, and some were moved.
  t.ok(cut >= 1, `${cut} streams from a were cut mid-way`)
  t.ok(startedAfterKill >= half, `${startedAfterKill} requests were sent after the kill`)
  const summaries = await relay.waitForSummaries(REQUESTS)
  const moved = summaries.filter((s) => s.retries > 0)
  t.ok(moved.length >= 1, `${moved.length} requests were moved from a to b`)
  for (const s of moved) t.match(s, { upstream: 'b', status: 200, outcome: 'completed', retried: [{ upstream: 'a' }] })
  t.equal(summaries.filter((s) => s.outcome === 'upstream_error').length, cut, 'each cut stream logged as upstream_error')
})
