import t, { type Test } from 'tap'
import OpenAI, { APIError, AuthenticationError } from 'openai'
import { chatChunk, SSE_HEADERS, sleep, type ScriptedUpstream } from '../helpers/upstream.js'
import { type RunningRelay, startRelayOver } from '../helpers/relay.js'

// The official `openai` SDK (v6) pointed at the relay: what clients actually run (SPEC §1, §5).

const RELAY_TOKEN = 'sk-relay-client-token'
const UPSTREAM_KEY = 'sk-upstream-secret-key'
const messages = [{ role: 'user' as const, content: 'hi' }]

async function setUp (t: Test): Promise<{ up: ScriptedUpstream, relay: RunningRelay, client: OpenAI }> {
  const { up, relay } = await startRelayOver(t, undefined, { heartbeatMs: 100, keys: [{ name: 'sdk', key: RELAY_TOKEN }] }, { apiKey: UPSTREAM_KEY })
  const client = new OpenAI({ apiKey: RELAY_TOKEN, baseURL: `${relay.url}/v1`, maxRetries: 0, timeout: 10_000 })
  return { up, relay, client }
}

t.test('stream: the concatenated deltas are exactly the upstream text; the upstream got the relay\'s key', async (t) => {
  const { up, client } = await setUp(t)
  const pieces = ['你', '好', ' 😀', ' fine,', ' thanks.']
  up.handler = async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    res.write(`data: ${JSON.stringify({ ...JSON.parse(chatChunk('')), choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] })}\n\n`)
    for (const piece of pieces) {
      const bytes = Buffer.from(`data: ${chatChunk(piece)}\n\n`)
      // Cut inside the last characters' UTF-8 bytes (😀 is 4 bytes), with a pause between the halves.
      const cut = bytes.length - 8
      res.write(bytes.subarray(0, cut))
      await sleep(20)
      res.write(bytes.subarray(cut))
    }
    await sleep(250) // long enough for `: keep-alive` comments, which the SDK must ignore
    res.end(`data: ${chatChunk(null, { finish: 'stop' })}\n\ndata: [DONE]\n\n`)
  }
  const stream = await client.chat.completions.create({ model: 'gpt-test', messages, stream: true })
  let text = ''
  const finish: Array<string | null> = []
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? ''
    finish.push(chunk.choices[0]?.finish_reason ?? null)
  }
  t.equal(text, '你好 😀 fine, thanks.')
  t.equal(finish.at(-1), 'stop')
  t.equal(finish.length, pieces.length + 2, 'one chunk per upstream frame')
  const seen = up.requests[0]
  t.equal(seen?.headers.authorization, `Bearer ${UPSTREAM_KEY}`, 'the upstream saw the relay\'s upstream key')
  t.notMatch(JSON.stringify(seen?.headers), RELAY_TOKEN, 'and never the client\'s token')
  t.equal(seen?.json.stream, true)
})

t.test('stream: false returns the upstream\'s chat.completion', async (t) => {
  const { up, client } = await setUp(t)
  up.handler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({
      id: 'chatcmpl-2',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'gpt-test',
      choices: [{ index: 0, message: { role: 'assistant', content: '你好 😀' }, finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
    }))
  }
  const completion = await client.chat.completions.create({ model: 'gpt-test', messages })
  t.equal(completion.choices[0]?.message.content, '你好 😀')
  t.same(completion.usage, { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 })
  t.equal(up.requests[0]?.headers.authorization, `Bearer ${UPSTREAM_KEY}`)
})

t.test('a mid-stream error frame makes the SDK iterator throw an APIError with the message', async (t) => {
  const { up, client } = await setUp(t)
  const cases: Array<[string, string, string]> = [
    ['data: {"error":{"message":"model overloaded","type":"server_error","param":null,"code":null}}\n\ndata: [DONE]\n\n', 'model overloaded', 'upstream_error'],
    ['', 'Upstream "up" ended the stream before it was complete', 'upstream_error'],
  ]
  for (const [tail, message, code] of cases) {
    up.handler = async (_req, res) => {
      res.writeHead(200, SSE_HEADERS)
      res.write(`data: ${chatChunk('partial')}\n\n`)
      await sleep(30)
      res.end(tail)
    }
    const stream = await client.chat.completions.create({ model: 'gpt-test', messages, stream: true })
    let text = ''
    let thrown: unknown
    try {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
    } catch (err) {
      thrown = err
    }
    t.equal(text, 'partial', 'the good delta came first')
    t.ok(thrown instanceof APIError, `an APIError was thrown for "${message}"`)
    t.equal((thrown as APIError).message, message)
    t.equal((thrown as APIError).code, code)
  }
})

t.test('a relay 401 surfaces as AuthenticationError', async (t) => {
  const { up, relay } = await setUp(t)
  const wrong = new OpenAI({ apiKey: 'sk-not-a-relay-token', baseURL: `${relay.url}/v1`, maxRetries: 0 })
  const err = await wrong.chat.completions.create({ model: 'gpt-test', messages, stream: true }).then(() => undefined, (e: unknown) => e)
  t.ok(err instanceof AuthenticationError, 'AuthenticationError')
  t.equal((err as AuthenticationError).status, 401)
  t.equal((err as AuthenticationError).code, 'invalid_api_key')
  t.equal((err as AuthenticationError).message, '401 Invalid API key')
  t.equal(up.requests.length, 0, 'nothing went upstream')
})
