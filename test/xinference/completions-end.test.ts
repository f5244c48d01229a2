import t, { type Test } from 'tap'
import { startRelayOver } from '../helpers/relay.js'
import { pyJson, xCompletionChunk, xFrame, xPing, xStream } from '../helpers/xinference.js'

// Xinference's create_completion stream_results() yields the chunks and returns: no
// `[DONE]`, the connection just closes (restful_api.py; see test/helpers/xinference.ts).
// That clean end is the complete answer, so the relay ends the stream properly itself.
const chunks = [xCompletionChunk('Once'), xCompletionChunk(' upon'), xCompletionChunk(' a time', { finish: 'length' })]
const body = JSON.stringify({ model: 'qwen2.5-instruct', prompt: 'Tell me a story', stream: true })

function setup (t: Test, pieces: string[]) {
  return startRelayOver(t, (_req, res) => xStream(res, pieces), {}, { name: 'xi', kind: 'xinference' })
}

const complete = [xFrame(pyJson(chunks[0])), xPing(), xFrame(pyJson(chunks[1])), xFrame(pyJson(chunks[2]))]

for (const [format, expected] of [
  ['openai', chunks.map((c) => `data: ${pyJson(c)}\n\n`).join('') + 'data: [DONE]\n\n'],
  ['content', 'id: 1\ndata: {"content":"Once"}\n\nid: 2\ndata: {"content":" upon"}\n\nid: 3\ndata: {"content":" a time"}\n\n' +
    'id: 4\nevent: stop\ndata: {"finish_reason":"length","usage":null}\n\n'],
  ['text', 'Once upon a time'],
] as const) {
  t.test(`${format}: a completions stream closed without [DONE] gets a proper end`, async (t) => {
    const { relay } = await setup(t, complete)
    const res = await fetch(`${relay.url}/v1/completions?format=${format}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    t.equal(res.status, 200)
    t.equal(await res.text(), expected)
    t.equal(relay.summaries().at(-1)?.outcome, 'completed')
  })
}

t.test('a completions stream cut inside a frame is still a failure, not a clean end', async (t) => {
  const cut = xFrame(pyJson(chunks[1]))
  const { relay } = await setup(t, [xFrame(pyJson(chunks[0])), cut.slice(0, 30)])
  const res = await fetch(`${relay.url}/v1/completions?format=content`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  t.equal(await res.text(), 'id: 1\ndata: {"content":"Once"}\n\n' +
    'id: 2\nevent: error\ndata: {"error":{"message":"Upstream \\"xi\\" ended the stream before it was complete","type":"api_error","param":null,"code":"upstream_error"}}\n\n')
  t.equal(relay.summaries().at(-1)?.outcome, 'upstream_error')
})

t.test('a chat stream closed without [DONE] is a failure: only completions end that way', async (t) => {
  const { relay } = await setup(t, [xFrame(pyJson({ id: 'chatcmpl-1', model: 'm', created: 1, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: null }] }))])
  const res = await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }) })
  const text = await res.text()
  t.notMatch(text, /\[DONE\]/)
  t.match(text, /data: \{"error":\{"message":"Upstream \\"xi\\" ended the stream before it was complete","type":"api_error","param":null,"code":"upstream_error"\}\}\n\n$/)
})
