import t, { type Test } from 'tap'
import { chatBody, startRelayOver } from '../helpers/relay.js'
import { pyJson, xChatChunk, xFrame, xPing, xStream } from '../helpers/xinference.js'

// A chat stream the way Xinference sends it (see test/helpers/xinference.ts for the
// source lines): sse-starlette CRLF frames with Python JSON spacing, a `: ping - …`
// keep-alive comment between frames, a role-only first chunk, usage on the finish
// chunk, and `data: [DONE]` at the end.
const chunks = [
  xChatChunk({ role: 'assistant', content: '' }),
  xChatChunk({ content: 'Hel' }),
  xChatChunk({ content: 'lo, 世界' }),
  xChatChunk({ content: '' }, { finish: 'stop', usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 } }),
]
const pieces = [xFrame(pyJson(chunks[0])), xPing(), xFrame(pyJson(chunks[1])), xPing(), xFrame(pyJson(chunks[2])), xFrame(pyJson(chunks[3])), xPing(), xFrame('[DONE]')]

function setup (t: Test) {
  return startRelayOver(t, (_req, res) => xStream(res, pieces), {}, { name: 'xi', kind: 'xinference' })
}

t.test('openai format: proper OpenAI frames (LF line ends), no ping comments, [DONE]', async (t) => {
  const { up, relay } = await setup(t)
  const res = await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('qwen2.5-instruct', { stream: true }) })
  t.equal(res.status, 200)
  t.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8')
  const text = await res.text()
  // The frames' JSON is the upstream's, untouched; only the framing is OpenAI's own.
  t.equal(text, chunks.map((c) => `data: ${pyJson(c)}\n\n`).join('') + 'data: [DONE]\n\n')
  t.notMatch(text, /ping|\r/, 'no upstream keep-alive comment and no CR reaches the client')
  t.equal(up.requests[0]?.json.stream_options, undefined, 'Xinference is not asked for stream_options')
  t.equal(relay.summaries().at(-1)?.outcome, 'completed')
})

t.test('content format: deltas with ids, then stop with the finish chunk\'s usage', async (t) => {
  const { relay } = await setup(t)
  const res = await fetch(`${relay.url}/v1/chat/completions?format=content`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('qwen2.5-instruct', { stream: true }) })
  t.equal(await res.text(),
    'id: 1\ndata: {"content":"Hel"}\n\n' +
    'id: 2\ndata: {"content":"lo, 世界"}\n\n' +
    'id: 3\nevent: stop\ndata: {"finish_reason":"stop","usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}\n\n')
})

t.test('text format: only the delta text', async (t) => {
  const { relay } = await setup(t)
  const res = await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-relay-format': 'text' }, body: chatBody('qwen2.5-instruct', { stream: true }) })
  t.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8')
  t.equal(await res.text(), 'Hello, 世界')
})
