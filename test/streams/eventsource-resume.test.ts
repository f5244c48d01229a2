import t from 'tap'
import { EventSource } from 'eventsource'
import { startUpstream, chatChunk, SSE_HEADERS, sleep } from '../helpers/upstream.js'
import { startRelay, waitFor } from '../helpers/relay.js'
import { createStream, gate, startTcpProxy } from '../helpers/streams.js'

// SPEC §6 with a real EventSource client (eventsource v4): the connection is dropped
// mid-stream by a TCP proxy; the client reconnects on its own with Last-Event-ID; the relay
// replays what was missed and continues live; no token is lost or repeated; the upstream is
// called once; after the final event, the reconnect gets 204 and the client stops for good.
// The ids the page saw, across the reconnect, are exactly 1..N in its format.
const tokens = Array.from({ length: 20 }, (_, i) => `t${i + 1} `)

for (const format of ['content', 'openai'] as const) {
  t.test(`${format}: drop, reconnect, resume without loss or repetition`, async (t) => {
    const up = await startUpstream(t)
    const beforeCut = gate()
    const afterReconnect = gate()
    up.handler = async (_req, res) => {
      res.writeHead(200, SSE_HEADERS)
      res.write(`data: ${chatChunk('')}\n\n`)
      for (const [i, token] of tokens.entries()) {
        // Tokens 11-15 are generated while the client is away, 16-20 after it came back.
        if (i === 10) await beforeCut.opened
        if (i === 15) await afterReconnect.opened
        res.write(`data: ${chatChunk(token)}\n\n`)
        await sleep(5)
      }
      res.end(`data: ${chatChunk(null, { finish: 'stop' })}\n\ndata: [DONE]\n\n`)
    }
    const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
    const proxy = await startTcpProxy(t, relay.port)
    const { json } = await createStream(relay.url, { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] })

    const es = new EventSource(`${proxy.url}${json.url}?format=${format}`)
    t.teardown(() => es.close())
    const received: Array<{ id: string, text: string }> = []
    // Every event's id, whether it carries text or not (role chunk, finish chunk, the end).
    const seenIds: number[] = []
    let opens = 0
    let stopped = false
    let sawError = false
    es.addEventListener('open', () => { opens++ })
    es.addEventListener('error', () => { sawError = true })
    es.addEventListener('stop', (e) => { seenIds.push(Number(e.lastEventId)); stopped = true })
    es.addEventListener('message', (e) => {
      seenIds.push(Number(e.lastEventId))
      if (e.data === '[DONE]') { stopped = true; return }
      const text = format === 'content' ? JSON.parse(e.data).content : JSON.parse(e.data).choices[0].delta.content
      if (text) received.push({ id: e.lastEventId, text })
    })

    await waitFor('the first ten tokens', () => received.length === 10)
    proxy.cutAll()
    beforeCut.open()
    await waitFor('the reconnect and the replay of what was missed', () => opens === 2 && received.length === 15)
    afterReconnect.open()
    await waitFor('the end of the stream', () => stopped && received.length === 20)
    // The clean end makes EventSource reconnect with the final id: 204 closes it for good.
    await waitFor('the client to give up after 204', () => es.readyState === EventSource.CLOSED, 15_000)

    t.same(received.map((r) => r.text), tokens, 'every token exactly once, in order')
    // content: 20 tokens and the stop; openai: the role-only chunk, 20 tokens, the finish chunk and [DONE].
    const total = format === 'content' ? tokens.length + 1 : tokens.length + 3
    t.same(seenIds, Array.from({ length: total }, (_, i) => i + 1), 'ids 1..N, none skipped or repeated across the reconnect')
    t.same(received.map((r) => Number(r.id)), Array.from({ length: tokens.length }, (_, i) => format === 'content' ? i + 1 : i + 2))
    t.equal(up.requests.length, 1, 'the upstream was called once')
    t.ok(sawError, 'the drop and the 204 were reported to the page')
    t.ok(proxy.accepted >= 2, `the resume came over a new connection (${proxy.accepted})`)
    const gets = relay.summaries().filter((s) => s.method === 'GET')
    t.same(gets.map((s) => s.status), [200, 200, 204])
    t.equal(gets[0]?.outcome, 'client_aborted', 'the dropped connection')
    t.equal(gets[1]?.outcome, 'completed')
  })
}
