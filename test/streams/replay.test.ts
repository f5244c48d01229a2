import t from 'tap'
import { startUpstream, chatChunk, usageChunk, streamFrames, SSE_HEADERS } from '../helpers/upstream.js'
import { startRelay, waitFor, startRelayOver } from '../helpers/relay.js'
import { createStream, gate, parseEvents } from '../helpers/streams.js'

// SPEC §5–6: every event has an `id:`, and in each format the ids a reader sees are 1, 2, 3, …
// with no gap, although the formats show different events of the same stream (`content` shows
// neither the role-only first chunk, nor an empty delta, nor the finish chunk). `Last-Event-ID`
// (or `?lastEventId=`) n replays exactly the events after n in that format; once the final
// event went out, a GET answers 204 — unless it names an earlier event.
const frames = [
  JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'gpt-test', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }),
  chatChunk('One'), chatChunk(' two'), chatChunk(''), chatChunk(' three'), chatChunk(null, { finish: 'stop' }),
]

async function setup (t: Parameters<typeof startUpstream>[0]) {
  const { up, relay } = await startRelayOver(t, (_req, res, received) => streamFrames(res, [...frames, ...(received.json.stream_options?.include_usage ? [usageChunk(4, 3)] : [])]))
  const { json } = await createStream(relay.url, { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] })
  const url = `${relay.url}${json.url}`
  await waitFor('the stream to finish', () => relay.logs.some((l) => l.msg === 'stream finished'))
  return { up, relay, url }
}

const get = async (url: string, headers: Record<string, string> = {}) => {
  const res = await fetch(url, { headers })
  return { status: res.status, body: await res.text() }
}

const STOP = '{"finish_reason":"stop","usage":{"prompt_tokens":4,"completion_tokens":3,"total_tokens":7}}'
const CONTENT = [
  'id: 1\ndata: {"content":"One"}\n\n',
  'id: 2\ndata: {"content":" two"}\n\n',
  'id: 3\ndata: {"content":" three"}\n\n',
  `id: 4\nevent: stop\ndata: ${STOP}\n\n`,
]
// The usage chunk the relay asked for itself is not shown.
const OPENAI = [...frames.map((f, i) => `id: ${i + 1}\ndata: ${f}\n\n`), 'id: 7\ndata: [DONE]\n\n']

t.test('one stream, ids 1..N in each format; every resume point gives exactly the rest', async (t) => {
  const { up, url } = await setup(t)
  for (const [format, expected] of [['content', CONTENT], ['openai', OPENAI]] as const) {
    // lastEventId=0 asks for everything, even after the final event was delivered.
    const all = await get(`${url}?format=${format}&lastEventId=0`)
    t.same(all, { status: 200, body: expected.join('') }, `${format}: every event, ids 1..${expected.length}`)
    t.same(parseEvents(all.body).map((e) => Number(e.id)), expected.map((_, i) => i + 1))
    for (let n = 0; n < expected.length; n++) {
      const rest = { status: 200, body: expected.slice(n).join('') }
      t.same(await get(`${url}?format=${format}`, { 'last-event-id': String(n) }), rest, `${format}: Last-Event-ID ${n}`)
      t.same(await get(`${url}?format=${format}&lastEventId=${n}`), rest, `${format}: ?lastEventId=${n}`)
    }
    t.same(await get(`${url}?format=${format}`, { 'last-event-id': String(expected.length) }), { status: 204, body: '' }, `${format}: nothing after the final event: 204`)
    t.same(await get(`${url}?format=${format}&lastEventId=99`), { status: 204, body: '' }, `${format}: past the end: 204`)
  }
  t.same(await get(`${url}?format=content`), { status: 204, body: '' }, 'delivered: a plain GET gets 204')
  t.equal(up.requests.length, 1, 'replays never call the upstream again')
})

t.test('readers of both formats at once, while it is generated, each count from 1', async (t) => {
  const up = await startUpstream(t)
  const readersIn = gate()
  up.handler = async (_req, res, received) => {
    res.writeHead(200, SSE_HEADERS)
    for (const f of frames.slice(0, 3)) res.write(`data: ${f}\n\n`)
    await readersIn.opened
    await streamFrames(res, [...frames.slice(3), ...(received.json.stream_options?.include_usage ? [usageChunk(4, 3)] : [])], { gapMs: 10 })
  }
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const { json } = await createStream(relay.url, { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] })
  const responses = await Promise.all([
    fetch(`${relay.url}${json.url}?format=content`),
    fetch(`${relay.url}${json.url}?format=openai`),
    fetch(`${relay.url}${json.url}?format=content`, { headers: { 'last-event-id': '2' } }),
    fetch(`${relay.url}${json.url}?format=openai&lastEventId=5`),
  ])
  // Every reader is attached (its headers came) while the generation is still held back.
  readersIn.open()
  const [content, openai, resumed, ahead] = await Promise.all(responses.map((r) => r.text()))
  t.equal(content, CONTENT.join(''))
  t.equal(openai, OPENAI.join(''))
  t.equal(resumed, CONTENT.slice(2).join(''), 'a resume while live: the rest, then the live events')
  t.equal(ahead, OPENAI.slice(5).join(''), 'an id not generated yet: what comes after it, once it exists')
  t.equal(up.requests.length, 1)
})

t.test('the POST\'s format is the stream\'s default; a bad Last-Event-ID or format is a 400', async (t) => {
  const { relay, url } = await setup(t)
  const { json } = await createStream(relay.url, { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }, { 'x-relay-format': 'content' })
  await waitFor('the stream to finish', () => relay.logs.filter((l) => l.msg === 'stream finished').length === 2)
  t.equal((await get(`${relay.url}${json.url}`)).body, CONTENT.join(''), 'content, as the POST asked')
  t.equal((await get(url)).body, OPENAI.join(''), 'openai, the server default')
  t.same(JSON.parse((await get(`${url}?lastEventId=abc`)).body), { error: { message: 'Last-Event-ID must be an event number (got "abc")', type: 'invalid_request_error', param: 'lastEventId', code: 'invalid_request' } })
  const text = await get(`${url}?format=text`)
  t.equal(text.status, 400)
  t.equal(JSON.parse(text.body).error.message, 'Format "text" cannot be read as an event stream: use openai or content')
})
