import t from 'tap'
import { startUpstream, chatChunk, streamFrames, SSE_HEADERS, sleep } from '../helpers/upstream.js'
import { startRelay } from '../helpers/relay.js'
import { callArgs, callStart, deltaChunk, postChat, relayStreaming, toolCallsFinish, toolChunk } from '../helpers/deltas.js'

// SPEC §5 `content`: each tool call, once its arguments are complete (the next call starts, or
// the choice finishes), is one `event: tool_call` with {index, id, name, arguments}, before the
// `stop` (finish_reason tool_calls). `text` has none of it; `openai` is the upstream's bytes.

// OpenAI's shape: two calls, arguments split anywhere: inside a key, between a backslash and the
// quote it escapes, and between the two halves of a surrogate pair (each piece is a decoded JSON
// string, so a lone half arrives as `\ud83c` and the next piece brings `\udf27`).
const OPENAI_TOOLS = [
  deltaChunk({ role: 'assistant', content: null, tool_calls: [callStart(0, 'call_w1', 'get_weather')] }),
  toolChunk(callArgs(0, '{"ci')),
  toolChunk(callArgs(0, 'ty":"Paris, \\')),
  toolChunk(callArgs(0, '"FR\\" ')),
  toolChunk(callArgs(0, '\ud83c')),
  toolChunk(callArgs(0, '\udf27"}')),
  toolChunk(callStart(1, 'call_t2', 'get_time')),
  toolChunk(callArgs(1, '{"tz":"Europe/Paris"}')),
  toolCallsFinish,
]
const WEATHER = 'id: 1\nevent: tool_call\ndata: {"index":0,"id":"call_w1","name":"get_weather","arguments":"{\\"city\\":\\"Paris, \\\\\\"FR\\\\\\" 🌧\\"}"}\n\n'
const TIME = 'id: 2\nevent: tool_call\ndata: {"index":1,"id":"call_t2","name":"get_time","arguments":"{\\"tz\\":\\"Europe/Paris\\"}"}\n\n'
const STOP = (id: number) => `id: ${id}\nevent: stop\ndata: {"finish_reason":"tool_calls","usage":null}\n\n`

t.test('OpenAI indices: two calls split across chunks, each whole once complete, stop last', async (t) => {
  const relay = await relayStreaming(t, OPENAI_TOOLS)
  const text = await (await postChat(relay.url, 'content')).text()
  t.equal(text, WEATHER + TIME + STOP(3))
  const call = JSON.parse(text.split('\n')[2]!.slice('data: '.length))
  t.same(JSON.parse(call.arguments), { city: 'Paris, "FR" 🌧' }, 'the arguments are the JSON the model wrote')
})

t.test('each call goes out when the next one starts, not at the end', async (t) => {
  const up = await startUpstream(t)
  let release!: () => void
  const held = new Promise<void>((resolve) => { release = resolve })
  up.handler = async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    for (const f of OPENAI_TOOLS.slice(0, 7)) res.write(`data: ${f}\n\n`)
    await held
    await streamFrames(res, OPENAI_TOOLS.slice(7))
  }
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl, includeUsage: false }] })
  const res = await postChat(relay.url, 'content')
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let seen = ''
  while (!seen.endsWith('\n\n')) seen += decoder.decode((await reader.read()).value, { stream: true })
  t.equal(seen, WEATHER, 'the first call, while the upstream still holds the second call\'s arguments')
  release()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    seen += decoder.decode(value, { stream: true })
  }
  t.equal(seen, WEATHER + TIME + STOP(3))
})

// Ollama: every call at index 0, each a new id (and name); whole arguments in one piece.
const OLLAMA_SEPARATE = [
  deltaChunk({ role: 'assistant', content: '', tool_calls: [{ id: 'call_a1', index: 0, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] }),
  deltaChunk({ role: 'assistant', content: '', tool_calls: [{ id: 'call_b2', index: 0, type: 'function', function: { name: 'get_time', arguments: '{"tz":"CET"}' } }] }),
  deltaChunk({ role: 'assistant', content: '' }, { finish: 'tool_calls' }),
]
const OLLAMA_TOGETHER = [
  deltaChunk({
    role: 'assistant',
    content: '',
    tool_calls: [
      { id: 'call_a1', index: 0, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      { id: 'call_b2', index: 0, type: 'function', function: { name: 'get_time', arguments: '{"tz":"CET"}' } },
    ]
  }),
  deltaChunk({ role: 'assistant', content: '' }, { finish: 'tool_calls' }),
]
const OLLAMA_EVENTS =
  'id: 1\nevent: tool_call\ndata: {"index":0,"id":"call_a1","name":"get_weather","arguments":"{\\"city\\":\\"Paris\\"}"}\n\n' +
  'id: 2\nevent: tool_call\ndata: {"index":1,"id":"call_b2","name":"get_time","arguments":"{\\"tz\\":\\"CET\\"}"}\n\n' +
  STOP(3)

t.test('Ollama: index 0 for every call, a new id starts a new call', async (t) => {
  for (const [name, frames] of [['one chunk per call', OLLAMA_SEPARATE], ['both calls in one chunk', OLLAMA_TOGETHER]] as const) {
    const relay = await relayStreaming(t, frames)
    t.equal(await (await postChat(relay.url, 'content')).text(), OLLAMA_EVENTS, name)
  }
})

t.test('a call whose finish comes with its last fragment; text before the call; a clean [DONE] without finish_reason', async (t) => {
  const relay = await relayStreaming(t, [
    chatChunk('Let me check.'),
    toolChunk(callStart(0, 'call_x', 'lookup')),
    deltaChunk({ tool_calls: [callArgs(0, '{"q":1}')] }, { finish: 'tool_calls' }),
  ])
  t.equal(await (await postChat(relay.url, 'content')).text(),
    'id: 1\ndata: {"content":"Let me check."}\n\n' +
    'id: 2\nevent: tool_call\ndata: {"index":0,"id":"call_x","name":"lookup","arguments":"{\\"q\\":1}"}\n\n' +
    STOP(3))
  // Some servers end with [DONE] and no finish_reason: the open call is still complete, before the stop.
  const bare = await relayStreaming(t, [toolChunk(callStart(0, 'call_y', 'ping')), toolChunk(callArgs(0, '{}'))])
  t.equal(await (await postChat(bare.url, 'content')).text(),
    'id: 1\nevent: tool_call\ndata: {"index":0,"id":"call_y","name":"ping","arguments":"{}"}\n\n' +
    'id: 2\nevent: stop\ndata: {"finish_reason":null,"usage":null}\n\n')
})

t.test('text: no tool calls; openai: the upstream frames byte for byte', async (t) => {
  for (const frames of [OPENAI_TOOLS, OLLAMA_SEPARATE]) {
    const relay = await relayStreaming(t, [chatChunk('Sure.'), ...frames])
    t.equal(await (await postChat(relay.url, 'text')).text(), 'Sure.')
    t.equal(await (await postChat(relay.url, 'openai')).text(), [chatChunk('Sure.'), ...frames].map((f) => `data: ${f}\n\n`).join('') + 'data: [DONE]\n\n')
  }
})

t.test('a failure while a call is half-assembled: the error, no tool_call for it, no stop', async (t) => {
  const up = await startUpstream(t)
  up.handler = async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    // The first call is complete once the second starts; the second never gets its closing brace.
    for (const f of OPENAI_TOOLS.slice(0, 8)) res.write(`data: ${f}\n\n`)
    res.write(`data: ${toolChunk(callStart(2, 'call_z3', 'get_news'))}\n\n`)
    res.write(`data: ${toolChunk(callArgs(2, '{"topic":"wea'))}\n\n`)
    await sleep(30)
    res.socket?.destroy()
  }
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl, includeUsage: false }] })
  t.equal(await (await postChat(relay.url, 'content')).text(),
    WEATHER + TIME +
    'id: 3\nevent: error\ndata: {"error":{"message":"Connection to upstream \\"up\\" was reset","type":"api_error","param":null,"code":"upstream_error"}}\n\n')
  t.equal(relay.summaries().at(-1)?.outcome, 'upstream_error')

  // The same with an in-band error frame instead of a reset.
  up.handler = async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    res.write(`data: ${toolChunk(callStart(0, 'call_w1', 'get_weather'))}\n\n`)
    res.write(`data: ${toolChunk(callArgs(0, '{"city":'))}\n\n`)
    res.end('data: {"error":{"message":"The server is overloaded","type":"server_error","param":null,"code":"overloaded"}}\n\n')
  }
  t.equal(await (await postChat(relay.url, 'content')).text(),
    'id: 1\nevent: error\ndata: {"error":{"message":"The server is overloaded","type":"server_error","param":null,"code":"overloaded"}}\n\n')
})
