import t from 'tap'
import OpenAI, { APIError } from 'openai'
import { startClientRig, WEB_TOKEN, UPSTREAM_KEY } from '../helpers/clients.js'
import { writeNativeStream } from '../helpers/responses-upstream.js'
import { completedResponse, writeNativeCut } from '../helpers/responses-relay.js'
import { pyJson, xChatChunk, xFrame, xStream } from '../helpers/xinference.js'

// The official `openai` SDK (v7) on the Responses API through the relay, given only a base URL
// and a relay token: `responses.stream()` and `responses.create()` against an OpenAI-kind
// upstream (its own /responses) and a Xinference-kind one (the relay's facade over chat), the
// stored-response calls, a mid-stream failure, and `models.retrieve()`.

function client (baseURL: string): OpenAI {
  return new OpenAI({ apiKey: WEB_TOKEN, baseURL, maxRetries: 0, timeout: 10_000 })
}

const XINFERENCE_STREAM = [
  xChatChunk({ role: 'assistant', content: null, reasoning_content: 'Short.' }),
  xChatChunk({ content: 'Hello' }),
  xChatChunk({ content: ' from ' }),
  xChatChunk({ content: 'Zürich' }),
  xChatChunk({}, { finish: 'stop', usage: { prompt_tokens: 8, completion_tokens: 4, total_tokens: 12 } }),
].map((chunk) => xFrame(pyJson(chunk)))

t.test('native: responses.stream() gets every text delta, the reasoning, the call and the final response', async (t) => {
  const { up, baseURL } = await startClientRig(t)
  up.handler = (_req, res) => writeNativeStream(res)
  const stream = client(baseURL).responses.stream({ model: 'gpt-5-mini', input: 'hi' })
  const deltas: string[] = []
  const reasoning: string[] = []
  stream.on('response.output_text.delta', (e) => deltas.push(e.delta))
  stream.on('response.reasoning_summary_text.delta', (e) => reasoning.push(e.delta))
  const final = await stream.finalResponse()
  t.same(deltas, ['Hello', ' from ', 'Zürich'])
  t.same(reasoning, ['Greeting ', 'back.'])
  t.equal(final.output_text, 'Hello from Zürich')
  t.match(final.output.find((o) => o.type === 'function_call'), { name: 'get_weather', arguments: '{"city":"Paris"}', call_id: 'call_Paris1' })
  t.match(final.usage, { input_tokens: 12, output_tokens: 9, total_tokens: 21 })
  t.equal(up.requests[0]?.url, '/v1/responses')
  t.equal(up.requests[0]?.headers.authorization, `Bearer ${UPSTREAM_KEY}`)
})

t.test('native: create(), then retrieve() and cancel() at the upstream that made it', async (t) => {
  const { up, baseURL } = await startClientRig(t)
  up.handler = (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ ...completedResponse(), id: 'resp_sdk_1', ...(req.url?.endsWith('/cancel') ? { status: 'cancelled' } : {}) }))
  }
  const openai = client(baseURL)
  const created = await openai.responses.create({ model: 'gpt-5-mini', input: 'hi' })
  t.equal(created.output_text, 'Hello from Zürich')
  const again = await openai.responses.retrieve('resp_sdk_1')
  t.equal(again.id, 'resp_sdk_1')
  const cancelled = await openai.responses.cancel('resp_sdk_1')
  t.equal(cancelled.status, 'cancelled')
  t.strictSame(up.requests.map((r) => [r.method, r.url.split('?')[0]]), [['POST', '/v1/responses'], ['GET', '/v1/responses/resp_sdk_1'], ['POST', '/v1/responses/resp_sdk_1/cancel']])
})

t.test('native: a stream that breaks mid-way is an APIError carrying the relay\'s message, never a final response', async (t) => {
  const { up, baseURL } = await startClientRig(t)
  up.handler = (_req, res) => writeNativeCut(res, 13, 'reset')
  const stream = client(baseURL).responses.stream({ model: 'gpt-5-mini', input: 'hi' })
  const deltas: string[] = []
  stream.on('response.output_text.delta', (e) => deltas.push(e.delta))
  const err = await stream.finalResponse().then(() => undefined, (e: unknown) => e)
  t.ok(err instanceof APIError, 'an APIError')
  t.match((err as Error).message, /Connection to upstream "up" was reset/)
  t.same(deltas, ['Hello', ' from '], 'the deltas before the break')
})

t.test('through chat (Xinference): responses.stream() and create() work unchanged', async (t) => {
  const { up, baseURL } = await startClientRig(t, {}, { kind: 'xinference' })
  up.handler = (_req, res, received) => {
    if (received.json?.stream === true) return xStream(res, [...XINFERENCE_STREAM, xFrame('[DONE]')])
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(pyJson({ id: 'chatcmpl-2', object: 'chat.completion', created: 1, model: 'qwen3', choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from Zürich' }, finish_reason: 'stop' }], usage: { prompt_tokens: 8, completion_tokens: 4, total_tokens: 12 } }))
  }
  const openai = client(baseURL)
  const stream = openai.responses.stream({ model: 'qwen3', input: 'hi', instructions: 'Be brief' })
  const deltas: string[] = []
  stream.on('response.output_text.delta', (e) => deltas.push(e.delta))
  const final = await stream.finalResponse()
  t.same(deltas, ['Hello', ' from ', 'Zürich'])
  t.equal(final.output_text, 'Hello from Zürich')
  t.equal(final.status, 'completed')
  t.match(final.usage, { input_tokens: 8, output_tokens: 4, total_tokens: 12 })
  t.equal(up.requests[0]?.url, '/v1/chat/completions')
  t.same(up.requests[0]?.json.messages, [{ role: 'system', content: 'Be brief' }, { role: 'user', content: 'hi' }])

  const created = await openai.responses.create({ model: 'qwen3', input: 'hi' })
  t.equal(created.output_text, 'Hello from Zürich')
  t.match(created.usage, { input_tokens: 8, output_tokens: 4 })
})

t.test('models.retrieve(): one model of the list', async (t) => {
  const { baseURL } = await startClientRig(t, {}, { models: ['gpt-5-mini', 'Qwen/Qwen3-8B'] })
  const openai = client(baseURL)
  t.strictSame(await openai.models.retrieve('Qwen/Qwen3-8B'), { id: 'Qwen/Qwen3-8B', object: 'model', created: 0, owned_by: 'up' })
  const err = await openai.models.retrieve('gpt-nope').then(() => undefined, (e: unknown) => e)
  t.match(err, { status: 404, code: 'model_not_found' })
})
