import t from 'tap'
import { startUpstream, chatChunk, streamFrames } from '../helpers/upstream.js'
import { startRelay, waitFor } from '../helpers/relay.js'
import { createStream } from '../helpers/streams.js'

// HEAD /v1/streams/:id (Fastify answers HEAD for every GET route): the status and headers a GET
// would get, and nothing else. A probe (a link preview, a monitor) is not a reader: it must not
// mark the final event delivered, or the page's own GET would get 204 and never see the answer.
t.test('HEAD answers like a GET without reading the stream', async (t) => {
  const up = await startUpstream(t)
  up.handler = (_req, res) => streamFrames(res, [chatChunk('Hi'), chatChunk(null, { finish: 'stop' })])
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const { json } = await createStream(relay.url, { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] })
  const url = `${relay.url}${json.url}?format=content`
  await waitFor('the stream to finish', () => relay.logs.some((l) => l.msg === 'stream finished'))

  for (let i = 0; i < 2; i++) {
    const head = await fetch(url, { method: 'HEAD' })
    t.equal(head.status, 200)
    t.equal(head.headers.get('content-type'), 'text/event-stream; charset=utf-8')
    t.equal(head.headers.get('cache-control'), 'no-cache, no-transform')
    t.equal(await head.text(), '')
  }
  const get = await fetch(url)
  t.equal(get.status, 200, 'the page still gets its stream after the probes')
  t.equal(await get.text(), 'id: 1\ndata: {"content":"Hi"}\n\nid: 2\nevent: stop\ndata: {"finish_reason":"stop","usage":null}\n\n')

  t.equal((await fetch(url, { method: 'HEAD' })).status, 204, 'delivered: HEAD says 204 as GET does')
  const unknown = await fetch(`${relay.url}/v1/streams/AAAAAAAAAAAAAAAAAAAAAA`, { method: 'HEAD' })
  t.equal(unknown.status, 404)
  t.equal(up.requests.length, 1)
})
