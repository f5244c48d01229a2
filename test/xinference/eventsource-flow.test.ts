import t from 'tap'
import { startUpstream } from '../helpers/upstream.js'
import { startRelay, waitFor } from '../helpers/relay.js'
import { createStream } from '../helpers/streams.js'
import { pyJson, xChatChunk, xFrame, xPing, xStream } from '../helpers/xinference.js'

// The EventSource flow (SPEC §6) in front of Xinference: its CRLF frames, ping comments and
// string in-stream errors (see test/helpers/xinference.ts) come out as proper events with ids.
t.test('openai and content readers of a Xinference generation that fails mid-way', async (t) => {
  const up = await startUpstream(t)
  const chunks = [xChatChunk({ role: 'assistant', content: '' }), xChatChunk({ content: '你好' })]
  up.handler = (_req, res) => xStream(res, [xFrame(pyJson(chunks[0])), xPing(), xFrame(pyJson(chunks[1])), xFrame(pyJson({ error: 'Model actor is out of memory' }))])
  const relay = await startRelay(t, { upstreams: [{ name: 'xi', kind: 'xinference', baseUrl: up.baseUrl }] })
  const { json } = await createStream(relay.url, { model: 'qwen2.5-instruct', messages: [{ role: 'user', content: 'hi' }] })
  await waitFor('the generation to end', () => relay.logs.some((l) => l.msg === 'stream finished'))
  const error = '{"error":{"message":"Model actor is out of memory","type":"api_error","param":null,"code":"upstream_error"}}'
  t.equal(await (await fetch(`${relay.url}${json.url}?format=openai`)).text(),
    `id: 1\ndata: ${pyJson(chunks[0])}\n\nid: 2\ndata: ${pyJson(chunks[1])}\n\nid: 3\ndata: ${error}\n\n`)
  t.equal(await (await fetch(`${relay.url}${json.url}?format=content&lastEventId=0`)).text(),
    `id: 1\ndata: {"content":"你好"}\n\nid: 2\nevent: error\ndata: ${error}\n\n`)
  t.equal(relay.logs.find((l) => l.msg === 'stream finished')?.outcome, 'upstream_error')
})
