import t from 'tap'
import OpenAI, { APIError, BadRequestError } from 'openai'
import { startClientRig, scriptFrames, scriptEndless, answerFrames, toolCallFrames, cancelMidStream, checkCancelled, WEB_TOKEN, UPSTREAM_KEY, MODEL } from '../helpers/clients.js'

// The official `openai` SDK (v7) pointed at the relay with only a base URL and a relay token:
// chat streaming, usage on request, the stream() helper with a tool call, an upstream 4xx,
// and cancelling through the SDK's signal.

const messages = [{ role: 'user' as const, content: 'hi' }]
const PIECES = ['Bonjour', ', ', 'ça ', 'va', ' 🙂?']

function client (baseURL: string): OpenAI {
  return new OpenAI({ apiKey: WEB_TOKEN, baseURL, maxRetries: 0, timeout: 10_000 })
}

t.test('create({stream: true}): exactly the upstream deltas; no usage chunk unless asked, then exactly the upstream usage', async (t) => {
  const { up, baseURL } = await startClientRig(t)
  scriptFrames(up, answerFrames(PIECES), { usage: [11, 5], gapMs: 5 })
  const openai = client(baseURL)

  const plain = await openai.chat.completions.create({ model: MODEL, messages, stream: true })
  const deltas: string[] = []
  const chunks: OpenAI.ChatCompletionChunk[] = []
  for await (const chunk of plain) {
    chunks.push(chunk)
    const content = chunk.choices[0]?.delta.content
    if (content) deltas.push(content)
  }
  t.same(deltas, PIECES, 'every delta, in order, unsplit and unmerged')
  t.equal(chunks.length, PIECES.length + 2, 'role chunk, one per piece, finish chunk: the usage the relay asked for itself was not passed on')
  t.equal(chunks.at(-1)?.choices[0]?.finish_reason, 'stop')
  t.ok(chunks.every((c) => c.usage == null), 'no usage without stream_options')
  t.equal(up.requests[0]?.headers.authorization, `Bearer ${UPSTREAM_KEY}`, 'the upstream got the relay\'s own key')
  t.equal(up.requests[0]?.json.stream_options?.include_usage, true, 'the relay asked the upstream for usage on its own behalf')

  const asked = await openai.chat.completions.create({ model: MODEL, messages, stream: true, stream_options: { include_usage: true } })
  let text = ''
  let usage: OpenAI.CompletionUsage | null | undefined
  let usageChoices: number | undefined
  for await (const chunk of asked) {
    text += chunk.choices[0]?.delta.content ?? ''
    if (chunk.usage) { usage = chunk.usage; usageChoices = chunk.choices.length }
  }
  t.equal(text, PIECES.join(''))
  t.strictSame(usage, { prompt_tokens: 11, completion_tokens: 5, total_tokens: 16 }, 'the usage chunk, as the upstream sent it')
  t.equal(usageChoices, 0, 'on its own chunk with no choices, as OpenAI sends it')
})

t.test('chat.completions.stream(): content events and finalContent; a tool call assembled from split fragments', async (t) => {
  const { up, baseURL } = await startClientRig(t)
  const openai = client(baseURL)

  scriptFrames(up, answerFrames(PIECES), { gapMs: 5 })
  const runner = openai.chat.completions.stream({ model: MODEL, messages })
  const seen: string[] = []
  runner.on('content', (delta) => { seen.push(delta) })
  t.equal(await runner.finalContent(), PIECES.join(''), 'finalContent')
  t.same(seen, PIECES, 'one content event per delta')

  const args = '{"city": "Paris", "unit": "celsius"}'
  scriptFrames(up, toolCallFrames([
    { id: 'call_weather_1', name: 'get_weather', pieces: [args.slice(0, 5), args.slice(5, 19), args.slice(19)] },
    { id: 'call_time_2', name: 'get_time', pieces: ['{"tz":', '"Europe/Paris"}'] },
  ]), { gapMs: 5 })
  const tools: OpenAI.ChatCompletionTool[] = [
    { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' }, unit: { type: 'string' } }, required: ['city', 'unit'] } } },
    { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: { tz: { type: 'string' } }, required: ['tz'] } } },
  ]
  const withTools = openai.chat.completions.stream({ model: MODEL, messages, tools })
  const done: Array<{ name: string, index: number, arguments: string }> = []
  const argDeltas: string[] = []
  withTools.on('tool_calls.function.arguments.delta', (e) => { argDeltas.push(e.arguments_delta) })
  withTools.on('tool_calls.function.arguments.done', (e) => { done.push({ name: e.name, index: e.index, arguments: e.arguments }) })
  const final = await withTools.finalChatCompletion()
  t.same(done, [
    { name: 'get_weather', index: 0, arguments: args },
    { name: 'get_time', index: 1, arguments: '{"tz":"Europe/Paris"}' },
  ], 'each call\'s arguments.done event, with the whole arguments')
  t.equal(argDeltas.join(''), `${args}{"tz":"Europe/Paris"}`, 'the argument fragments, in order')
  t.equal(final.choices[0]?.finish_reason, 'tool_calls')
  t.strictSame(final.choices[0]?.message.tool_calls?.map((c) => c.type === 'function' ? [c.id, c.function.name, c.function.arguments] : [c.id]), [
    ['call_weather_1', 'get_weather', args],
    ['call_time_2', 'get_time', '{"tz":"Europe/Paris"}'],
  ])
  t.same(up.requests[1]?.json.tools, tools, 'the tools went upstream as the client sent them')
})

t.test('an upstream 400 surfaces as the SDK\'s APIError with its status, message and code', async (t) => {
  const { up, relay, baseURL } = await startClientRig(t)
  const message = "This model's maximum context length is 8192 tokens. However, your messages resulted in 9001 tokens."
  up.handler = (_req, res) => {
    res.writeHead(400, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ error: { message, type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } }))
  }
  const openai = client(baseURL)
  for (const stream of [true, false]) {
    const err = await openai.chat.completions.create({ model: MODEL, messages, stream }).then(() => undefined, (e: unknown) => e)
    t.ok(err instanceof BadRequestError && err instanceof APIError, `stream ${stream}: BadRequestError, an APIError`)
    const apiError = err as APIError
    t.equal(apiError.status, 400, `stream ${stream}: status`)
    t.equal(apiError.message, `400 ${message}`, `stream ${stream}: the upstream's message`)
    t.equal(apiError.code, 'context_length_exceeded', `stream ${stream}: code`)
    t.equal(apiError.param, 'messages', `stream ${stream}: param`)
    t.equal(apiError.type, 'invalid_request_error', `stream ${stream}: type`)
  }
  t.equal(up.requests.length, 2, 'one upstream call per request: a 4xx is not retried')
  t.same(relay.summaries().map((s) => [s.status, s.outcome]), [[400, 'rejected'], [400, 'rejected']])
})

t.test('aborting through the SDK\'s signal cancels the upstream generation within 1 s', async (t) => {
  const rig = await startClientRig(t)
  const reply = scriptEndless(rig.up)
  const controller = new AbortController()
  const stream = await client(rig.baseURL).chat.completions.create({ model: MODEL, messages, stream: true }, { signal: controller.signal })
  const read = await cancelMidStream(rig.up, stream, (chunk) => chunk.choices[0]?.delta.content ?? '', () => controller.abort())
  await checkCancelled(t, rig, reply, read)
  // openai v7 ends the iteration quietly when its own signal aborted it (core/streaming: "exit without throwing").
  t.equal(read.thrown, undefined, 'the iteration ended without an error')
  t.ok(stream.controller.signal.aborted, 'the SDK\'s request was aborted')
  t.notOk(read.items.some((c) => c.choices[0]?.finish_reason), 'no finish chunk')
})
