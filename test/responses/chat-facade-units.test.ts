import t from 'tap'
import { createServer } from 'node:http'
import { once } from 'node:events'
import OpenAI from 'openai'
import { ChatStreamEvents, type ChatChunk } from '../../src/responses/chat-stream-events.js'
import { chatToResponse } from '../../src/responses/chat-response.js'
import { responsesToChat } from '../../src/responses/chat-request.js'
import { FACADE_CALLS, FACADE_DELTAS, FACADE_EVENTS, FACADE_FINISH, FACADE_USAGE } from '../helpers/facade-chat.js'

/** The facade's chat stream (helpers/facade-chat.ts) as chunk objects, its usage in a last chunk with no choices (OpenAI's include_usage). */
const CHUNKS: ChatChunk[] = [
  ...FACADE_DELTAS.map((delta, i) => ({ choices: [{ delta, finish_reason: i === FACADE_DELTAS.length - 1 ? FACADE_FINISH : null }] }) as ChatChunk),
  { choices: [], usage: FACADE_USAGE },
]

function parse (text: string): Array<{ event: string, data: any }> {
  return text.split('\n\n').filter(Boolean).map((block) => {
    const [eventLine, dataLine] = block.split('\n')
    return { event: eventLine!.slice('event: '.length), data: JSON.parse(dataLine!.slice('data: '.length)) }
  })
}

function translate (chunks: ChatChunk[], request: Record<string, unknown> = { model: 'm' }): string {
  const events = new ChatStreamEvents(request)
  return events.start() + chunks.map((c) => events.chunk(c)).join('') + events.finish()
}

t.test('a chat stream becomes the Responses events in order, sequence numbers 0, 1, 2, …', async (t) => {
  const events = parse(translate(CHUNKS))
  t.same(events.map((e) => e.event), FACADE_EVENTS)
  t.same(events.map((e) => e.data.sequence_number), events.map((_, i) => i), 'strictly increasing from 0')
  for (const e of events) t.equal(e.data.type, e.event, `data.type is the event name (${e.event})`)
  const done = events.filter((e) => e.event === 'response.function_call_arguments.done').map((e) => [e.data.name, e.data.arguments])
  t.same(done, FACADE_CALLS.map(([, name, args]) => [name, args]), 'Ollama-style calls (index 0 each) told apart by id')
  const completed = events.at(-1)!.data.response
  t.equal(completed.status, 'completed')
  t.same(completed.usage, { input_tokens: 20, input_tokens_details: { cached_tokens: 0 }, output_tokens: 11, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 31 })
  t.same(completed.output.map((o: any) => o.type), ['reasoning', 'message', 'function_call', 'function_call'])
  t.equal(completed.output[1].content[0].text, 'Hello from Zürich')
  t.same(completed.output.slice(2).map((o: any) => o.call_id), FACADE_CALLS.map(([id]) => id))
})

t.test('finish_reason length ends with response.incomplete (max_output_tokens)', async (t) => {
  const events = parse(translate([{ choices: [{ delta: { content: 'cut' }, finish_reason: 'length' }] }]))
  const last = events.at(-1)!
  t.equal(last.event, 'response.incomplete')
  t.same(last.data.response.incomplete_details, { reason: 'max_output_tokens' })
  t.notOk(events.some((e) => e.event === 'response.completed'))
})

t.test('a failure is one error event with the next sequence number', async (t) => {
  const events = new ChatStreamEvents({ model: 'm' })
  const text = events.start() + events.chunk({ choices: [{ delta: { content: 'partial' } }] })
  const next = events.nextSequence
  // Byte for byte what the native path writes (SPEC §5.1's member order), not just the same members.
  t.equal(events.fail('upstream reset'), `event: error\ndata: {"type":"error","code":"upstream_error","message":"upstream reset","param":null,"sequence_number":${next}}\n\n`)
  t.notMatch(text, /response\.completed/)
})

t.test('the official SDK\'s responses.stream() accumulates the translated events', async (t) => {
  const server = createServer((req, res) => {
    req.resume()
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.end(translate(CHUNKS, { model: 'qwen3', input: 'hi' }))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => server.close())
  const client = new OpenAI({ baseURL: `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`, apiKey: 'sk-test' })
  const deltas: string[] = []
  const stream = client.responses.stream({ model: 'qwen3', input: 'hi' })
  stream.on('response.output_text.delta', (e) => deltas.push(e.delta))
  const final = await stream.finalResponse()
  t.same(deltas, ['Hello', ' from Zürich'])
  t.equal(final.output_text, 'Hello from Zürich')
  const calls = final.output.filter((o) => o.type === 'function_call')
  t.same(calls.map((c) => [c.call_id, c.name, c.arguments]), FACADE_CALLS)
  t.equal(final.usage?.total_tokens, 31)
})

t.test('a non-streamed chat completion becomes a Response object', async (t) => {
  const response = chatToResponse({
    choices: [{ message: { role: 'assistant', content: 'Hi!', reasoning_content: 'brief', tool_calls: [{ id: 'call_x', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] }, finish_reason: 'tool_calls' }],
    usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
  }, { model: 'm', instructions: 'Be brief' })
  t.equal(response.object, 'response')
  t.equal(response.status, 'completed')
  t.equal(response.instructions, 'Be brief')
  t.match(response.id, /^resp_[0-9a-f]{48}$/)
  const output = response.output as any[]
  t.same(output.map((o) => o.type), ['reasoning', 'message', 'function_call'])
  t.equal(output[0].content[0].text, 'brief')
  t.equal(output[1].content[0].text, 'Hi!')
  t.same([output[2].call_id, output[2].name, output[2].arguments], ['call_x', 'f', '{"a":1}'])
  t.equal((response.usage as any).output_tokens, 2)
})

t.test('the request: input, instructions, tools, tool outputs, limits', async (t) => {
  const chat = responsesToChat({
    model: 'm',
    stream: true,
    instructions: 'Be brief',
    max_output_tokens: 50,
    temperature: 0.2,
    input: [
      { role: 'user', content: [{ type: 'input_text', text: 'Weather in ' }, { type: 'input_text', text: 'Paris?' }] },
      { type: 'function_call', call_id: 'call_a', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { type: 'function_call', call_id: 'call_b', name: 'get_time', arguments: '{}' },
      { type: 'function_call_output', call_id: 'call_a', output: '{"temp":21}' },
      { type: 'reasoning', id: 'rs_1', summary: [] },
      { role: 'developer', content: 'Answer in French' },
    ],
    tools: [{ type: 'function', name: 'get_weather', description: 'Weather', parameters: { type: 'object' }, strict: true }],
    tool_choice: { type: 'function', name: 'get_weather' },
    text: { format: { type: 'json_schema', name: 'w', schema: { type: 'object' }, strict: true } },
  })
  t.same(chat, {
    model: 'm',
    stream: true,
    temperature: 0.2,
    messages: [
      { role: 'system', content: 'Be brief' },
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }, { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'call_a', content: '{"temp":21}' },
      { role: 'system', content: 'Answer in French' },
    ],
    max_tokens: 50,
    tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object' }, strict: true } }],
    tool_choice: { type: 'function', function: { name: 'get_weather' } },
    response_format: { type: 'json_schema', json_schema: { name: 'w', schema: { type: 'object' }, strict: true } },
  })
  t.same(responsesToChat({ model: 'm', input: 'hi' }).messages, [{ role: 'user', content: 'hi' }], 'a string input is one user message')
})

t.test('what chat cannot do is a 400 naming it', async (t) => {
  const refuse = (body: Record<string, unknown>, param: string) => {
    let thrown: unknown
    try { responsesToChat({ model: 'm', input: 'hi', ...body }) } catch (err) { thrown = err }
    t.match(thrown, { statusCode: 400, relayCode: 'invalid_request', param }, param)
  }
  refuse({ previous_response_id: 'resp_1' }, 'previous_response_id')
  refuse({ background: true }, 'background')
  refuse({ tools: [{ type: 'web_search' }] }, 'tools[0].type')
  refuse({ input: 42 }, 'input')
  refuse({ input: [] }, 'input')
  refuse({ input: [{ type: 'computer_call_output' }] }, 'input[0].type')
  refuse({ input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'f' }] }] }, 'input[0].content[0].type')
})
