import t from 'tap'
import { startUpstream, chatChunk, SSE_HEADERS, sleep } from '../helpers/upstream.js'
import { startRelay, readAll } from '../helpers/relay.js'
import { createStream, gate } from '../helpers/streams.js'

// GET /v1/streams/:id: the anti-buffering headers of SPEC §5 sent at once (EventSource fires
// `open` before the first event), and `: keep-alive` comments while nothing else is sent.
t.test('anti-buffering headers at once, heartbeat comments during silence only', async (t) => {
  const up = await startUpstream(t)
  const silence = gate()
  up.handler = async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    // The POST answers once the upstream's headers are in; then the upstream stays silent.
    res.flushHeaders()
    await silence.opened
    res.write(`data: ${chatChunk('late')}\n\n`)
    await sleep(20)
    res.end('data: [DONE]\n\n')
  }
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }], heartbeatMs: 100 })
  const { json } = await createStream(relay.url, { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] })
  const res = await fetch(`${relay.url}${json.url}?format=content`)
  t.equal(res.status, 200, 'headers before any event')
  t.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8')
  t.equal(res.headers.get('cache-control'), 'no-cache, no-transform')
  t.equal(res.headers.get('x-accel-buffering'), 'no')
  t.equal(res.headers.get('content-length'), null)
  t.equal(res.headers.get('content-encoding'), null)
  setTimeout(() => silence.open(), 600)
  const { text } = await readAll(res)
  const beats = text.split(': keep-alive\n\n').length - 1
  t.ok(beats >= 2 && beats <= 7, `${beats} heartbeats in ~600 ms of silence at 100 ms`)
  t.equal(text.replaceAll(': keep-alive\n\n', ''), 'id: 1\ndata: {"content":"late"}\n\nid: 2\nevent: stop\ndata: {"finish_reason":null,"usage":null}\n\n')
  t.match(text, /^(: keep-alive\n\n)+id: 1\n/, 'the comments came during the silence, before the first event')
})
