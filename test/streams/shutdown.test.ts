import t from 'tap'
import { startUpstream, chatChunk, SSE_HEADERS, sleep } from '../helpers/upstream.js'
import { startRelay } from '../helpers/relay.js'
import { createStream, parseEvents } from '../helpers/streams.js'

// Closing the relay ends every generation of the EventSource flow with an error event (never a
// stop: it did not complete), aborts the upstreams, and lets the readers' responses end.
t.test('app.close(): readers get an error event, the upstream is aborted', async (t) => {
  const up = await startUpstream(t)
  up.handler = async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    for (let i = 0; i < 400 && !res.destroyed; i++) {
      res.write(`data: ${chatChunk(`w${i} `)}\n\n`)
      await sleep(25)
    }
    res.end('data: [DONE]\n\n')
  }
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }], shutdownGraceMs: 0 })
  const { json } = await createStream(relay.url, { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] })
  const reading = fetch(`${relay.url}${json.url}?format=content`).then((r) => r.text())
  await sleep(150)
  const closing = relay.app.close()
  const events = parseEvents(await reading)
  await closing
  await up.requests[0]!.socketClosed
  t.ok(events.length > 2, `the tokens before it (${events.length - 1})`)
  t.same(events.at(-1), { id: String(events.length), event: 'error', data: '{"error":{"message":"The relay is shutting down","type":"api_error","param":null,"code":"unavailable"}}' })
  t.notOk(events.some((e) => e.event === 'stop'), 'never looks complete')
})
