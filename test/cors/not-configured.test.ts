import t from 'tap'
import { startUpstream, chatChunk, streamFrames } from '../helpers/upstream.js'
import { startRelay, chatBody } from '../helpers/relay.js'
import { createStream } from '../helpers/streams.js'

// SPEC §3: no CORS_ORIGINS, no cors.origins → no CORS headers at all, on any answer.
t.test('without cors.origins no response has any Access-Control-* header', async (t) => {
  const up = await startUpstream(t)
  up.handler = (_req, res) => streamFrames(res, [chatChunk('Hi')])
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const origin = 'http://127.0.0.1:5173'
  const responses = [
    await fetch(`${relay.url}/v1/chat/completions`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } }),
    await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { origin, 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true }) }),
    await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { origin, 'content-type': 'application/json' }, body: '{' }),
    await fetch(`${relay.url}/v1/models`, { headers: { origin } }),
  ]
  const { json } = await createStream(relay.url, { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }, { origin })
  responses.push(await fetch(`${relay.url}${json.url}`, { headers: { origin } }))
  t.same(responses.map((r) => r.status), [404, 200, 400, 200, 200])
  for (const res of responses) {
    t.same([...res.headers.keys()].filter((name) => name.startsWith('access-control-')), [], `${res.status}: no CORS headers`)
    await res.text()
  }
})
