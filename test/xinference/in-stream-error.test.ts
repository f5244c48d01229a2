import t, { type Test } from 'tap'
import OpenAI from 'openai'
import { chatBody, startRelayOver } from '../helpers/relay.js'
import { pyJson, xChatChunk, xFrame, xStream } from '../helpers/xinference.js'

// restful_api.py, create_chat_completion → stream_results(): on an exception it does
// `yield dict(data=json.dumps({"error": str(ex)}))` and returns — a STRING error on
// HTTP 200, and no [DONE] after it. A rate limit inside the stream reads the same way:
// handle_request_limit_error raises HTTPException(429), whose str() is "429: Rate limit reached…".
const frames = (message: string) => [
  xFrame(pyJson(xChatChunk({ role: 'assistant', content: '' }))),
  xFrame(pyJson(xChatChunk({ content: 'Par' }))),
  xFrame(pyJson({ error: message })),
]

function setup (t: Test, message: string) {
  return startRelayOver(t, (_req, res) => xStream(res, frames(message)), {}, { name: 'xi', kind: 'xinference' })
}

const post = (url: string, format: string) => fetch(`${url}/v1/chat/completions?format=${format}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('qwen2.5-instruct', { stream: true }) })

t.test('openai format: the string error becomes OpenAI\'s error object, then the end (no [DONE])', async (t) => {
  const { relay } = await setup(t, 'CUDA out of memory. Tried to allocate 2.00 GiB')
  const text = await (await post(relay.url, 'openai')).text()
  t.equal(text,
    `data: ${pyJson(xChatChunk({ role: 'assistant', content: '' }))}\n\n` +
    `data: ${pyJson(xChatChunk({ content: 'Par' }))}\n\n` +
    'data: {"error":{"message":"CUDA out of memory. Tried to allocate 2.00 GiB","type":"api_error","param":null,"code":"upstream_error"}}\n\n')
  const line = relay.summaries().at(-1)
  t.equal(line?.outcome, 'upstream_error')
  t.equal(line?.error, 'CUDA out of memory. Tried to allocate 2.00 GiB')
})

t.test('content format: event: error with the envelope; a rate limit says so', async (t) => {
  const { relay } = await setup(t, '429: Rate limit reached for model qwen2.5-instruct')
  t.equal(await (await post(relay.url, 'content')).text(),
    'id: 1\ndata: {"content":"Par"}\n\n' +
    'id: 2\nevent: error\ndata: {"error":{"message":"429: Rate limit reached for model qwen2.5-instruct","type":"rate_limit_error","param":null,"code":"rate_limited"}}\n\n')
})

t.test('text format: the connection is destroyed, so the reader sees an error', async (t) => {
  const { relay } = await setup(t, 'boom')
  const res = await post(relay.url, 'text')
  await t.rejects(res.text())
})

t.test('the openai SDK raises an APIError carrying the upstream\'s message', async (t) => {
  const { relay } = await setup(t, 'CUDA out of memory')
  const client = new OpenAI({ baseURL: `${relay.url}/v1`, apiKey: 'unused', maxRetries: 0 })
  const stream = await client.chat.completions.create({ model: 'qwen2.5-instruct', stream: true, messages: [{ role: 'user', content: 'hi' }] })
  const seen: string[] = []
  const err = await (async () => {
    try {
      for await (const chunk of stream) seen.push(chunk.choices[0]?.delta.content ?? '')
    } catch (e) { return e }
    return undefined
  })()
  t.same(seen, ['', 'Par'])
  t.ok(err instanceof OpenAI.APIError, 'an APIError')
  t.equal((err as InstanceType<typeof OpenAI.APIError>).error && ((err as InstanceType<typeof OpenAI.APIError>).error as { message?: string }).message, 'CUDA out of memory')
})
