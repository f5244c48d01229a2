import t, { type Test } from 'tap'
import { startUpstream, chatChunk, SSE_HEADERS, sleep, type ScriptedUpstream } from '../helpers/upstream.js'
import { startRelay, type RunningRelay, waitFor } from '../helpers/relay.js'
import { createStream, parseEvents } from '../helpers/streams.js'

// SPEC §8: each request's log line says how it ended. A GET /v1/streams/:id reader whose stream was
// cancelled with DELETE ended because the client asked for it: `client_aborted`, not
// `upstream_error` (which is for an upstream that broke the stream, as in the second test).

/** Frames every 20 ms until the relay hangs up (bounded); `breakAfter` frames, then a socket reset. */
function trickle (up: ScriptedUpstream, breakAfter = Infinity): void {
  up.handler = async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    for (let i = 0; i < 400 && !res.destroyed; i++) {
      if (i === breakAfter) { res.socket?.destroy(); return }
      res.write(`data: ${chatChunk(`w${i} `)}\n\n`)
      await sleep(20)
    }
    res.end('data: [DONE]\n\n')
  }
}

async function startReading (t: Test, relay: RunningRelay): Promise<{ url: string, reading: Promise<string> }> {
  const { status, json } = await createStream(relay.url, { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] })
  t.equal(status, 201)
  const res = await fetch(`${relay.url}${json.url}?format=content`)
  t.equal(res.status, 200)
  return { url: json.url, reading: res.text() }
}

t.test('a reader of a stream cancelled with DELETE logs client_aborted', async (t) => {
  const up = await startUpstream(t)
  trickle(up)
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const { url, reading } = await startReading(t, relay)
  await sleep(150) // a few tokens reach the reader

  t.equal((await fetch(`${relay.url}${url}`, { method: 'DELETE' })).status, 204)
  const events = parseEvents(await reading)
  t.ok(events.length > 2, `tokens before the cancel (${events.length - 1})`)
  t.match(events.at(-1), { event: 'error', data: /"code":"stream_cancelled"/ }, 'the reader got the cancel as its last event')

  await waitFor('the GET and DELETE log lines', () => relay.summaries().filter((s) => s.url === url).length === 2)
  const lines = relay.summaries().filter((s) => s.url === url)
  t.match(lines.find((s) => s.method === 'GET'), { status: 200, stream: true, format: 'content', outcome: 'client_aborted', frames: events.length })
  t.match(lines.find((s) => s.method === 'DELETE'), { status: 204, outcome: 'completed' })
  await waitFor('the stream log line', () => relay.logs.some((l) => l.msg === 'stream finished'))
  t.match(relay.logs.find((l) => l.msg === 'stream finished'), { outcome: 'client_aborted', error: 'The stream was cancelled' })
})

t.test('a reader of a stream its upstream broke still logs upstream_error', async (t) => {
  const up = await startUpstream(t)
  trickle(up, 3)
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const { url, reading } = await startReading(t, relay)

  const events = parseEvents(await reading)
  t.same(events.map((e) => e.event ?? 'chunk'), ['chunk', 'chunk', 'chunk', 'error'])
  t.match(events.at(-1)?.data, /"code":"upstream_error"/)
  await waitFor('the GET log line', () => relay.summaries().some((s) => s.url === url))
  t.match(relay.summaries().find((s) => s.url === url), { method: 'GET', status: 200, outcome: 'upstream_error', frames: 4 })
})
