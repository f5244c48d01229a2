import t from 'tap'
import { startRelayOver } from '../helpers/relay.js'
import { completedResponse, postResponses, responsesBody } from '../helpers/responses-relay.js'
import { pyJson } from '../helpers/xinference.js'

// SPEC §5.1 without `stream`: native, the upstream's Response object (with the alias the client
// used as its model); through chat, the chat completion as a Response object. Usage in the log line.

t.test('native: the upstream\'s Response object, the alias as its model, usage logged', async (t) => {
  const { up, relay } = await startRelayOver(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'x-ratelimit-remaining-requests': '99' })
    res.end(JSON.stringify(completedResponse()))
  }, { aliases: { fast: 'gpt-5-mini' } })
  const res = await postResponses(relay, responsesBody('fast', { stream: false }))
  t.equal(res.status, 200)
  t.equal(res.headers.get('x-ratelimit-remaining-requests'), '99', 'rate-limit hints pass back')
  t.strictSame(await res.json(), { ...completedResponse(), model: 'fast' })
  t.equal(up.requests[0]?.url, '/v1/responses')
  t.equal(up.requests[0]?.json.model, 'gpt-5-mini')
  const [line] = await relay.waitForSummaries()
  t.match(line, { stream: false, outcome: 'completed', finishReason: 'tool_calls', promptTokens: 12, completionTokens: 9 })
})

t.test('through chat: the chat completion as a Response object', async (t) => {
  const { up, relay } = await startRelayOver(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(pyJson({
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1_732_160_000,
      model: 'qwen3',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from Zürich', reasoning_content: 'Short.' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 7, completion_tokens: 5, total_tokens: 12 },
    }))
  }, {}, { kind: 'xinference' })
  const res = await postResponses(relay, responsesBody('qwen3', { stream: false, instructions: 'Be brief', temperature: 0.2 }))
  t.equal(res.status, 200)
  const body = await res.json() as Record<string, any>
  t.equal(up.requests[0]?.url, '/v1/chat/completions')
  t.strictSame(up.requests[0]?.json, { model: 'qwen3', stream: false, temperature: 0.2, messages: [{ role: 'system', content: 'Be brief' }, { role: 'user', content: 'Say hello, then look up the weather in Paris' }] })
  t.match(body, {
    id: /^resp_[0-9a-f]{48}$/,
    object: 'response',
    status: 'completed',
    model: 'qwen3',
    instructions: 'Be brief',
    temperature: 0.2,
    usage: { input_tokens: 7, output_tokens: 5, total_tokens: 12 },
  })
  t.strictSame(body.output.map((item: { type: string }) => item.type), ['reasoning', 'message'])
  t.strictSame(body.output[1].content, [{ type: 'output_text', text: 'Hello from Zürich', annotations: [], logprobs: [] }])
  const [line] = await relay.waitForSummaries()
  t.match(line, { outcome: 'completed', finishReason: 'stop', promptTokens: 7, completionTokens: 5 })
})

t.test('through chat: a request chat cannot express is a 400 naming the field, and never reaches the upstream', async (t) => {
  const { up, relay } = await startRelayOver(t, undefined, {}, { kind: 'xinference' })
  const res = await postResponses(relay, responsesBody('qwen3', { previous_response_id: 'resp_1' }))
  t.equal(res.status, 400)
  t.strictSame(await res.json(), { error: { message: 'This model\'s upstream serves the Responses API through chat completions, which cannot do a stored conversation (previous_response_id)', type: 'invalid_request_error', param: 'previous_response_id', code: 'invalid_request' } })
  t.equal(up.requests.length, 0)
})
