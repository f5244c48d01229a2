import t from 'tap'
import { startUpstream, chatChunk, streamFrames, sleep } from '../helpers/upstream.js'
import { startRelay, waitFor } from '../helpers/relay.js'
import { createStream } from '../helpers/streams.js'

// SPEC §6: a finished stream stays replayable for streams.ttlMs, then 404 with the envelope;
// an unknown id is a 404 too. (ttlMs counts from creation, and at least from the end.)
const NOT_FOUND = { error: { message: 'Unknown or expired stream id', type: 'invalid_request_error', param: 'id', code: 'not_found' } }

t.test('replayable until the TTL, then 404', async (t) => {
  const up = await startUpstream(t)
  up.handler = (_req, res) => streamFrames(res, [chatChunk('Hi'), chatChunk(null, { finish: 'stop' })])
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }], streams: { ttlMs: 400 } })
  const { json } = await createStream(relay.url, { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] })
  const url = `${relay.url}${json.url}?format=content&lastEventId=0`
  await waitFor('the stream to finish', () => relay.logs.some((l) => l.msg === 'stream finished'))
  const early = await fetch(url)
  t.equal(early.status, 200)
  t.equal(await early.text(), 'id: 1\ndata: {"content":"Hi"}\n\nid: 2\nevent: stop\ndata: {"finish_reason":"stop","usage":null}\n\n')
  await sleep(600)
  for (const method of ['GET', 'DELETE']) {
    const late = await fetch(url, { method })
    t.equal(late.status, 404, `${method} after the TTL`)
    t.equal(late.headers.get('content-type'), 'application/json; charset=utf-8')
    t.same(await late.json(), NOT_FOUND)
  }
})

t.test('unknown and malformed ids are 404 with the envelope, for GET and DELETE', async (t) => {
  const relay = await startRelay(t, {})
  // Far over the router's maxParamLength (100): still the relay's 404, never the router's own 414 body.
  for (const id of ['AAAAAAAAAAAAAAAAAAAAAA', 'x', '..%2F..%2Fetc', 'a/b', '', 'a'.repeat(200), 'a'.repeat(4000)]) {
    for (const method of ['GET', 'DELETE']) {
      const res = await fetch(`${relay.url}/v1/streams/${id}`, { method })
      t.equal(res.status, 404, `${method} ${id.slice(0, 30)}`)
      t.equal(res.headers.get('content-type'), 'application/json; charset=utf-8')
      t.same(await res.json(), NOT_FOUND)
    }
  }
})
