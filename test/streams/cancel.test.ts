import t from 'tap'
import { startUpstream, chatChunk, streamFrames, SSE_HEADERS, sleep } from '../helpers/upstream.js'
import { startRelay, waitFor } from '../helpers/relay.js'
import { createStream, parseEvents } from '../helpers/streams.js'

// DELETE /v1/streams/:id stops the generation (the playground's Stop button in EventSource
// mode): 204, the upstream request aborted at once, readers get an error event and the end.
t.test('DELETE aborts the upstream and ends the readers with an error event', async (t) => {
  const up = await startUpstream(t)
  up.handler = async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    for (let i = 0; i < 400 && !res.destroyed; i++) {
      res.write(`data: ${chatChunk(`w${i} `)}\n\n`)
      await sleep(25)
    }
    res.end('data: [DONE]\n\n')
  }
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const { json } = await createStream(relay.url, { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] })
  const reading = fetch(`${relay.url}${json.url}?format=content`).then((r) => r.text())
  await waitFor('a few tokens', () => up.requests.length === 1)
  await sleep(150)

  const cancelledAt = performance.now()
  const del = await fetch(`${relay.url}${json.url}`, { method: 'DELETE' })
  t.equal(del.status, 204)
  t.equal(await del.text(), '')
  await up.requests[0]!.socketClosed
  t.ok(performance.now() - cancelledAt < 1000, 'the upstream socket closed within a second')

  const events = parseEvents(await reading)
  const last = events.at(-1)
  t.ok(events.length > 2, `tokens before the stop (${events.length - 1})`)
  t.same(last, { id: String(Number(events.at(-2)?.id) + 1), event: 'error', data: '{"error":{"message":"The stream was cancelled","type":"api_error","param":null,"code":"stream_cancelled"}}' })
  t.notOk(events.some((e) => e.event === 'stop'), 'never looks complete')

  t.equal((await fetch(`${relay.url}${json.url}`, { method: 'DELETE' })).status, 204, 'DELETE again: still 204')
  await waitFor('the stream log line', () => relay.logs.some((l) => l.msg === 'stream finished'))
  t.equal(relay.logs.find((l) => l.msg === 'stream finished')?.outcome, 'client_aborted')
})

t.test('DELETE of a finished stream changes nothing; of an unknown one is 404', async (t) => {
  const up = await startUpstream(t)
  up.handler = (_req, res) => streamFrames(res, [chatChunk('Hi'), chatChunk(null, { finish: 'stop' })])
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const { json } = await createStream(relay.url, { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] })
  await waitFor('the stream to finish', () => relay.logs.some((l) => l.msg === 'stream finished'))
  t.equal((await fetch(`${relay.url}${json.url}`, { method: 'DELETE' })).status, 204)
  t.equal(await (await fetch(`${relay.url}${json.url}?format=content`)).text(), 'id: 1\ndata: {"content":"Hi"}\n\nid: 2\nevent: stop\ndata: {"finish_reason":"stop","usage":null}\n\n')
  const unknown = await fetch(`${relay.url}/v1/streams/AAAAAAAAAAAAAAAAAAAAAA`, { method: 'DELETE' })
  t.equal(unknown.status, 404)
  t.same(await unknown.json(), { error: { message: 'Unknown or expired stream id', type: 'invalid_request_error', param: 'id', code: 'not_found' } })
})
