import t from 'tap'
import OpenAI from 'openai'
import { startUpstream } from '../helpers/upstream.js'
import { startRelay } from '../helpers/relay.js'
import { pyJson, xChatChunk, xCompletionChunk, xFrame, xPing, xStream } from '../helpers/xinference.js'

// The official SDK as a client of the relay, the relay in front of a scripted Xinference
// (CRLF frames, ping comments, Python JSON spacing, [DONE] on chat only; see
// test/helpers/xinference.ts for the source lines).

t.test('chat: the SDK gets every chunk, parsed, and a clean end', async (t) => {
  const up = await startUpstream(t)
  up.handler = (_req, res) => xStream(res, [
    xFrame(pyJson(xChatChunk({ role: 'assistant', content: '' }))), xPing(),
    xFrame(pyJson(xChatChunk({ content: '你好' }))),
    xFrame(pyJson(xChatChunk({ content: ', world', reasoning_content: null }))), xPing(),
    xFrame(pyJson(xChatChunk({ content: '' }, { finish: 'stop', usage: { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 } }))),
    xFrame('[DONE]'),
  ])
  const relay = await startRelay(t, { upstreams: [{ name: 'xi', kind: 'xinference', baseUrl: up.baseUrl }] })
  const client = new OpenAI({ baseURL: `${relay.url}/v1`, apiKey: 'unused', maxRetries: 0 })
  const stream = await client.chat.completions.create({ model: 'qwen2.5-instruct', stream: true, messages: [{ role: 'user', content: 'hi' }] })
  const chunks = []
  for await (const chunk of stream) chunks.push(chunk)
  t.equal(chunks.length, 4, 'four chunks, no ping, no [DONE] as a chunk')
  t.same(chunks.map((c) => c.choices[0]?.delta.content), ['', '你好', ', world', ''])
  t.same(chunks.map((c) => c.object), Array(4).fill('chat.completion.chunk'))
  t.same(chunks.map((c) => c.id), Array(4).fill('chatcmpl-7f1c'))
  t.equal(chunks[0]?.choices[0]?.delta.role, 'assistant')
  t.equal(chunks[3]?.choices[0]?.finish_reason, 'stop')
  t.same(chunks[3]?.usage, { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 })
})

t.test('completions: the SDK stream ends cleanly although Xinference sent no [DONE]', async (t) => {
  const up = await startUpstream(t)
  up.handler = (_req, res) => xStream(res, [
    xFrame(pyJson(xCompletionChunk('Once'))), xPing(),
    xFrame(pyJson(xCompletionChunk(' upon a time', { finish: 'stop' }))),
  ])
  const relay = await startRelay(t, { upstreams: [{ name: 'xi', kind: 'xinference', baseUrl: up.baseUrl }] })
  const client = new OpenAI({ baseURL: `${relay.url}/v1`, apiKey: 'unused', maxRetries: 0 })
  const stream = await client.completions.create({ model: 'qwen2.5-instruct', stream: true, prompt: 'Tell me a story' })
  const texts: string[] = []
  for await (const chunk of stream) texts.push(chunk.choices[0]?.text ?? '')
  t.same(texts, ['Once', ' upon a time'])
  t.equal(relay.summaries().at(-1)?.outcome, 'completed')
})
