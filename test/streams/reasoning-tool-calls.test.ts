import t from 'tap'
import { EventSource } from 'eventsource'
import { startUpstream, usageChunk, streamFrames, SSE_HEADERS, sleep, type ScriptedUpstream } from '../helpers/upstream.js'
import { startRelay } from '../helpers/relay.js'
import { createStream, gate, parseEvents, startTcpProxy } from '../helpers/streams.js'
import { waitFor } from '../helpers/relay.js'
import { callArgs, callStart, deltaChunk, postChat, toolCallsFinish, toolChunk } from '../helpers/deltas.js'

// SPEC §5–6: the EventSource flow stores reasoning deltas and completed tool calls, so a
// `content` reader of GET /v1/streams/:id, live or replaying after any Last-Event-ID (also one in
// the middle of the reasoning), gets exactly the events and ids a direct POST stream gets; the
// `openai` reader's ids stay one per upstream frame.
const FRAMES = [
  deltaChunk({ role: 'assistant', content: null, reasoning_content: '' }),
  deltaChunk({ content: null, reasoning_content: 'Weather' }),
  deltaChunk({ content: null, reasoning_content: ' and time' }),
  deltaChunk({ content: null, reasoning_content: ' in Paris;' }),
  deltaChunk({ content: null, reasoning_content: ' two tools.' }),
  deltaChunk({ content: 'Checking.', reasoning_content: null }),
  toolChunk(callStart(0, 'call_w1', 'get_weather')),
  toolChunk(callArgs(0, '{"city":')),
  toolChunk(callArgs(0, '"Paris"}')),
  toolChunk(callStart(1, 'call_t2', 'get_time')),
  toolChunk(callArgs(1, '{"tz":"CET"}')),
  toolCallsFinish,
]
/** The frames up to here come before the hold (the cut, the late reader): four of them are reasoning. */
const HOLD_AT = 3
const USAGE = usageChunk(11, 7)
const CONTENT = [
  'id: 1\nevent: reasoning\ndata: {"content":"Weather"}\n\n',
  'id: 2\nevent: reasoning\ndata: {"content":" and time"}\n\n',
  'id: 3\nevent: reasoning\ndata: {"content":" in Paris;"}\n\n',
  'id: 4\nevent: reasoning\ndata: {"content":" two tools."}\n\n',
  'id: 5\ndata: {"content":"Checking."}\n\n',
  'id: 6\nevent: tool_call\ndata: {"index":0,"id":"call_w1","name":"get_weather","arguments":"{\\"city\\":\\"Paris\\"}"}\n\n',
  'id: 7\nevent: tool_call\ndata: {"index":1,"id":"call_t2","name":"get_time","arguments":"{\\"tz\\":\\"CET\\"}"}\n\n',
  'id: 8\nevent: stop\ndata: {"finish_reason":"tool_calls","usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}\n\n',
]
// One id per upstream frame (the usage chunk the relay asked for itself is not shown), then [DONE].
const OPENAI = [...FRAMES.map((f, i) => `id: ${i + 1}\ndata: ${f}\n\n`), `id: ${FRAMES.length + 1}\ndata: [DONE]\n\n`]

/** The upstream streams FRAMES (and the usage it was asked for), holding before HOLD_AT until `held` opens. */
function script (up: ScriptedUpstream, held?: Promise<void>): void {
  up.handler = async (_req, res, received) => {
    res.writeHead(200, SSE_HEADERS)
    for (const f of FRAMES.slice(0, HOLD_AT)) res.write(`data: ${f}\n\n`)
    if (held) await held
    const usage = received.json.stream_options?.include_usage ? [USAGE] : []
    await streamFrames(res, [...FRAMES.slice(HOLD_AT), ...usage], { gapMs: held ? 5 : 0 })
  }
}

const get = async (url: string, headers: Record<string, string> = {}) => {
  const res = await fetch(url, { headers })
  return { status: res.status, body: await res.text() }
}

t.test('live: a content reader gets what a direct POST stream gets, event for event, id for id', async (t) => {
  const up = await startUpstream(t)
  script(up)
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const direct = await (await postChat(relay.url, 'content')).text()
  t.equal(direct, CONTENT.join(''), 'the direct POST stream')

  const readerIn = gate()
  script(up, readerIn.opened)
  const { json } = await createStream(relay.url, { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }, {}, '?format=content')
  const live = await fetch(`${relay.url}${json.url}`)
  // The reader is attached (its headers came) while the upstream still holds most of the stream.
  readerIn.open()
  t.equal(await live.text(), direct, 'GET /v1/streams/:id, read while it was generated')
  t.equal(up.requests.length, 2)
})

t.test('replay: every Last-Event-ID, in the middle of the reasoning too, gives exactly the rest; openai ids unaffected', async (t) => {
  const up = await startUpstream(t)
  script(up)
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const { json } = await createStream(relay.url, { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] })
  const url = `${relay.url}${json.url}`
  await waitFor('the stream to finish', () => relay.logs.some((l) => l.msg === 'stream finished'))
  for (const [format, expected] of [['content', CONTENT], ['openai', OPENAI]] as const) {
    t.same(await get(`${url}?format=${format}&lastEventId=0`), { status: 200, body: expected.join('') }, `${format}: every event`)
    for (let n = 1; n < expected.length; n++) {
      t.same(await get(`${url}?format=${format}`, { 'last-event-id': String(n) }), { status: 200, body: expected.slice(n).join('') }, `${format}: Last-Event-ID ${n}`)
    }
    t.same(await get(`${url}?format=${format}`, { 'last-event-id': String(expected.length) }), { status: 204, body: '' }, `${format}: after the final event`)
  }
  // Stored: one chunk per frame, the 4 reasoning deltas, the 2 calls, the stop.
  t.match(relay.logs.find((l) => l.msg === 'stream finished'), { outcome: 'completed', finishReason: 'tool_calls', events: FRAMES.length + 4 + 2 + 1 })
  t.equal(up.requests.length, 1)
})

t.test('EventSource: the connection drops in the middle of the reasoning; the resume misses and repeats nothing', async (t) => {
  const up = await startUpstream(t)
  const afterCut = gate()
  script(up, afterCut.opened)
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const proxy = await startTcpProxy(t, relay.port)
  const { json } = await createStream(relay.url, { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] })
  const es = new EventSource(`${proxy.url}${json.url}?format=content`)
  t.teardown(() => es.close())
  const seen: Array<{ id: string, type: string, data: string }> = []
  const answer: string[] = []
  let opens = 0
  es.addEventListener('open', () => { opens++ })
  for (const type of ['reasoning', 'tool_call', 'stop'] as const) {
    es.addEventListener(type, (e) => { seen.push({ id: e.lastEventId, type, data: e.data }) })
  }
  es.addEventListener('message', (e) => {
    seen.push({ id: e.lastEventId, type: 'message', data: e.data })
    answer.push(JSON.parse(e.data).content)
  })

  await waitFor('the first two reasoning events', () => seen.length === 2)
  proxy.cutAll()
  afterCut.open()
  await waitFor('the reconnect and the rest of the stream', () => opens === 2 && seen.at(-1)?.type === 'stop')
  await waitFor('the client to give up after 204', () => es.readyState === EventSource.CLOSED, 15_000)

  t.same(seen, parseEvents(CONTENT.join('')).map((e) => ({ id: e.id, type: e.event ?? 'message', data: e.data })), 'every event once, in order, ids 1..8')
  t.same(answer, ['Checking.'], 'a page listening to `message` alone sees the answer alone')
  const gets = relay.summaries().filter((s) => s.method === 'GET')
  t.same(gets.map((s) => s.status), [200, 200, 204])
  t.equal(up.requests.length, 1)
})

t.test('a failure while a call is half-assembled: the stored stream ends with the error, no tool_call for it, no stop', async (t) => {
  const up = await startUpstream(t)
  up.handler = async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    for (const f of FRAMES.slice(0, 10)) res.write(`data: ${f}\n\n`)
    res.write(`data: ${toolChunk(callArgs(1, '{"tz":'))}\n\n`)
    await sleep(30)
    res.socket?.destroy()
  }
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const { json } = await createStream(relay.url, { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }, {}, '?format=content')
  const error = 'id: 7\nevent: error\ndata: {"error":{"message":"Connection to upstream \\"up\\" was reset","type":"api_error","param":null,"code":"upstream_error"}}\n\n'
  t.equal((await get(`${relay.url}${json.url}`)).body, CONTENT.slice(0, 6).join('') + error)
  t.equal((await get(`${relay.url}${json.url}`, { 'last-event-id': '3' })).body, CONTENT.slice(3, 6).join('') + error, 'the same on replay')
  // The direct POST stream of the same upstream: the same events.
  const direct = await (await postChat(relay.url, 'content')).text()
  t.equal(direct, CONTENT.slice(0, 6).join('') + error)
})
