import t, { type Test } from 'tap'
import { readAll, sseBlocks, startRelayOver } from '../helpers/relay.js'
import { postResponses, responsesBody } from '../helpers/responses-relay.js'
import { FACADE_CALLS, FACADE_DELTA_TEXTS, FACADE_DELTAS, FACADE_EVENTS, FACADE_FINISH, FACADE_USAGE } from '../helpers/facade-chat.js'
import { pyJson, xChatChunk, xFrame, xStream } from '../helpers/xinference.js'

// SPEC §5.1: an upstream with no /v1/responses (Xinference) serves the Responses API through its
// chat completions: the request translated, the chat stream told back as the Responses events,
// numbered from 0; content and text are the chat path's own writers over the chat chunks; a
// failure mid-stream is one `error` event numbered after the last, never a response.completed.

/** The facade's chat stream (helpers/facade-chat.ts) as Xinference frames: the usage in the finish chunk. */
const CHAT_STREAM = FACADE_DELTAS.map((delta, i) => xFrame(pyJson(xChatChunk(delta, i === FACADE_DELTAS.length - 1 ? { finish: FACADE_FINISH, usage: FACADE_USAGE } : {}))))

function facade (t: Test, pieces: string[]) {
  return startRelayOver(t, (_req, res) => xStream(res, pieces), {}, { kind: 'xinference' })
}

/** The events of a Responses stream: [event line, parsed data] per block. */
function events (text: string): Array<[string, Record<string, any>]> {
  return sseBlocks(text).map((block) => {
    const [eventLine, dataLine] = block.split('\n')
    return [eventLine!.slice('event: '.length), JSON.parse(dataLine!.slice('data: '.length))]
  })
}

t.test('openai over the facade: the Responses events, numbered from 0, with the usage at the end', async (t) => {
  const { up, relay } = await facade(t, [...CHAT_STREAM, xFrame('[DONE]')])
  const tools = [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }]
  const res = await postResponses(relay, responsesBody('qwen3', { tools, max_output_tokens: 200 }))
  t.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8')
  const got = events((await readAll(res)).text)
  t.strictSame(up.requests[0]?.json, {
    model: 'qwen3',
    stream: true,
    messages: [{ role: 'user', content: 'Say hello, then look up the weather in Paris' }],
    max_tokens: 200,
    tools: [{ type: 'function', function: { name: 'get_weather', parameters: tools[0]!.parameters } }],
  }, 'the chat request the upstream got')
  t.ok(got.every(([name, data]) => name === data.type), 'each event line names its data\'s type')
  t.strictSame(got.map(([, data]) => data.sequence_number), got.map((_, i) => i), 'sequence numbers 0, 1, 2, …')
  t.strictSame(got.map(([name]) => name), FACADE_EVENTS)
  t.strictSame(got.filter(([name]) => name.endsWith('.delta')).map(([, data]) => data.delta), FACADE_DELTA_TEXTS)
  const completed = got.at(-1)![1].response
  t.equal(completed.id, got[0]![1].response.id, 'one response id throughout')
  t.match(completed.id, /^resp_[0-9a-f]{48}$/)
  t.match(completed, { object: 'response', status: 'completed', model: 'qwen3', max_output_tokens: 200, usage: { input_tokens: 20, output_tokens: 11, total_tokens: 31 } })
  t.strictSame(completed.output.map((item: { type: string }) => item.type), ['reasoning', 'message', 'function_call', 'function_call'])
  t.strictSame(completed.output.slice(2).map((item: Record<string, string>) => [item.call_id, item.name, item.arguments, item.status]), FACADE_CALLS.map((call) => [...call, 'completed']))
  const [line] = await relay.waitForSummaries()
  t.match(line, { outcome: 'completed', finishReason: 'tool_calls', promptTokens: 20, completionTokens: 11 })
})

t.test('content over the facade: the chat path\'s events', async (t) => {
  const { relay } = await facade(t, [...CHAT_STREAM, xFrame('[DONE]')])
  const res = await postResponses(relay, responsesBody('qwen3'), { format: 'content' })
  t.equal((await readAll(res)).text, [
    'id: 1\nevent: reasoning\ndata: {"content":"Thinking "}\n\n',
    'id: 2\nevent: reasoning\ndata: {"content":"briefly."}\n\n',
    'id: 3\ndata: {"content":"Hello"}\n\n',
    'id: 4\ndata: {"content":" from Zürich"}\n\n',
    'id: 5\nevent: tool_call\ndata: {"index":0,"id":"call_a","name":"get_weather","arguments":"{\\"city\\":\\"Paris\\"}"}\n\n',
    'id: 6\nevent: tool_call\ndata: {"index":1,"id":"call_b","name":"get_time","arguments":"{}"}\n\n',
    'id: 7\nevent: stop\ndata: {"finish_reason":"tool_calls","usage":{"prompt_tokens":20,"completion_tokens":11,"total_tokens":31}}\n\n',
  ].join(''))
})

t.test('text over the facade: the answer alone', async (t) => {
  const { relay } = await facade(t, [...CHAT_STREAM, xFrame('[DONE]')])
  const res = await postResponses(relay, responsesBody('qwen3'), { format: 'text' })
  t.equal((await readAll(res)).text, 'Hello from Zürich')
})

t.test('a mid-stream error from the chat upstream: one error event after the last, no response.completed', async (t) => {
  const { relay } = await facade(t, [CHAT_STREAM[0]!, CHAT_STREAM[2]!, xFrame(pyJson({ error: 'CUDA out of memory' }))])
  const res = await postResponses(relay, responsesBody('qwen3'))
  const got = events((await readAll(res)).text)
  const last = got.at(-1)!
  t.strictSame(last, ['error', { type: 'error', sequence_number: got.length - 1, code: 'upstream_error', message: 'CUDA out of memory', param: null }])
  t.equal(got.at(-2)![1].sequence_number, got.length - 2, 'numbered right after the last event sent')
  t.notOk(got.some(([name]) => name === 'response.completed'), 'never completed')
  const [line] = await relay.waitForSummaries()
  t.match(line, { outcome: 'upstream_error' })
})

t.test('a chat stream cut short (no [DONE]): one error event, no response.completed', async (t) => {
  const { relay } = await facade(t, CHAT_STREAM.slice(0, 4))
  const got = events((await readAll(await postResponses(relay, responsesBody('qwen3')))).text)
  t.match(got.at(-1), ['error', { type: 'error', code: 'upstream_error', message: 'Upstream "up" ended the stream before it was complete', sequence_number: got.length - 1 }])
  t.notOk(got.some(([name]) => name === 'response.completed'))
})
