import t from 'tap'
import { startUpstream, chatChunk, streamFrames } from '../helpers/upstream.js'
import { startRelay } from '../helpers/relay.js'
import { deltaChunk, postChat, relayStreaming } from '../helpers/deltas.js'

// SPEC §5 `content`: a reasoning delta is `event: reasoning` with `data: {"content":…}`, in the
// same id sequence as the answer's `message` events; a page listening to `message` alone sees the
// answer alone. `text` carries only the answer; `openai` is the upstream's bytes, unchanged.

// DeepSeek's shape (also vLLM, SGLang, Xinference): `reasoning_content` while thinking, `content: null`;
// then the answer with `reasoning_content: null` beside it.
const DEEPSEEK = [
  deltaChunk({ role: 'assistant', content: null, reasoning_content: '' }),
  deltaChunk({ content: null, reasoning_content: 'The user' }),
  deltaChunk({ content: null, reasoning_content: ' says "hi" — 你好 🤔\n' }),
  deltaChunk({ content: null, reasoning_content: '' }),
  deltaChunk({ content: 'Hello', reasoning_content: null }),
  deltaChunk({ content: '!', reasoning_content: null }),
  deltaChunk({ content: '', reasoning_content: null }, { finish: 'stop' }),
]

t.test('reasoning_content: reasoning events, then the answer, one id sequence, stop last', async (t) => {
  const relay = await relayStreaming(t, DEEPSEEK)
  const res = await postChat(relay.url, 'content')
  t.equal(res.status, 200)
  t.equal(await res.text(),
    'id: 1\nevent: reasoning\ndata: {"content":"The user"}\n\n' +
    'id: 2\nevent: reasoning\ndata: {"content":" says \\"hi\\" — 你好 🤔\\n"}\n\n' +
    'id: 3\ndata: {"content":"Hello"}\n\n' +
    'id: 4\ndata: {"content":"!"}\n\n' +
    'id: 5\nevent: stop\ndata: {"finish_reason":"stop","usage":null}\n\n')
})

// `reasoning` (vLLM's newer field, Ollama), interleaved with the answer; one delta carrying both
// (reasoning first, then the answer); a server sending both spellings with the same text (one event).
const INTERLEAVED = [
  chatChunk(''),
  deltaChunk({ reasoning: 'Think.' }),
  deltaChunk({ content: 'A' }),
  deltaChunk({ reasoning: ' More.', content: 'B' }),
  deltaChunk({ reasoning_content: ' Same.', reasoning: ' Same.' }),
  deltaChunk({ reasoning: '', content: 'C' }),
  deltaChunk({ reasoning: null, content: '' }),
  chatChunk(null, { finish: 'stop' }),
]

t.test('reasoning: interleaved with content, both in one delta, both spellings at once', async (t) => {
  const relay = await relayStreaming(t, INTERLEAVED)
  t.equal(await (await postChat(relay.url, 'content')).text(),
    'id: 1\nevent: reasoning\ndata: {"content":"Think."}\n\n' +
    'id: 2\ndata: {"content":"A"}\n\n' +
    'id: 3\nevent: reasoning\ndata: {"content":" More."}\n\n' +
    'id: 4\ndata: {"content":"B"}\n\n' +
    'id: 5\nevent: reasoning\ndata: {"content":" Same."}\n\n' +
    'id: 6\ndata: {"content":"C"}\n\n' +
    'id: 7\nevent: stop\ndata: {"finish_reason":"stop","usage":null}\n\n')
})

t.test('text: only the answer, no reasoning', async (t) => {
  for (const [name, frames, answer] of [['reasoning_content', DEEPSEEK, 'Hello!'], ['reasoning', INTERLEAVED, 'ABC']] as const) {
    const relay = await relayStreaming(t, frames)
    const res = await postChat(relay.url, 'text')
    t.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8')
    t.equal(await res.text(), answer, name)
  }
})

t.test('openai: the upstream frames byte for byte, reasoning included', async (t) => {
  for (const frames of [DEEPSEEK, INTERLEAVED]) {
    const relay = await relayStreaming(t, frames)
    t.equal(await (await postChat(relay.url, 'openai')).text(), frames.map((f) => `data: ${f}\n\n`).join('') + 'data: [DONE]\n\n')
  }
})

t.test('legacy completions: choices[].text, unchanged (a reasoning-looking field is not read there)', async (t) => {
  const up = await startUpstream(t)
  const chunk = (text: string, finish: string | null = null) => JSON.stringify({ id: 'cmpl-1', object: 'text_completion', created: 1, model: 'gpt-test', choices: [{ index: 0, text, reasoning_content: 'not here', finish_reason: finish }] })
  up.handler = (_req, res) => streamFrames(res, [chunk('One'), chunk(' two', 'stop')])
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl, includeUsage: false }] })
  const res = await fetch(`${relay.url}/v1/completions?format=content`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-test', prompt: 'hi', stream: true }) })
  t.equal(await res.text(),
    'id: 1\ndata: {"content":"One"}\n\n' +
    'id: 2\ndata: {"content":" two"}\n\n' +
    'id: 3\nevent: stop\ndata: {"finish_reason":"stop","usage":null}\n\n')
})
