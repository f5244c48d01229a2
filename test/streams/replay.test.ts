import t from 'tap'
import { startUpstream, chatChunk, usageChunk, streamFrames } from '../helpers/upstream.js'
import { startRelay } from '../helpers/relay.js'
import { createStream, parseEvents, waitFor } from '../helpers/streams.js'

// SPEC §6: every event has an `id:`, in both formats (the ids are the stream's event numbers,
// the same whichever format reads it, so ids skip where a format shows nothing, e.g. the
// role-only first chunk in `content`); `Last-Event-ID` or `?lastEventId=` replays the events
// after n; once the final event went out, a GET answers 204 — unless it names an earlier event.
const frames = [
  JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'gpt-test', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }),
  chatChunk('One'), chatChunk(' two'), chatChunk(' three'), chatChunk(null, { finish: 'stop' }),
]

async function setup (t: Parameters<typeof startUpstream>[0]) {
  const up = await startUpstream(t)
  up.handler = (_req, res, received) => streamFrames(res, [...frames, ...(received.json.stream_options?.include_usage ? [usageChunk(4, 3)] : [])])
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const { json } = await createStream(relay.url, { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] })
  const url = `${relay.url}${json.url}`
  return { up, relay, url }
}

const get = async (url: string, headers: Record<string, string> = {}) => {
  const res = await fetch(url, { headers })
  return { status: res.status, body: await res.text() }
}

const STOP = '{"finish_reason":"stop","usage":{"prompt_tokens":4,"completion_tokens":3,"total_tokens":7}}'

t.test('content: ids on every event; replay after n by header or query', async (t) => {
  const { up, url } = await setup(t)
  const all = await get(`${url}?format=content`)
  t.equal(all.body,
    'id: 2\ndata: {"content":"One"}\n\n' + 'id: 3\ndata: {"content":" two"}\n\n' + 'id: 4\ndata: {"content":" three"}\n\n' +
    `id: 6\nevent: stop\ndata: ${STOP}\n\n`)
  t.same(await get(`${url}?format=content`, { 'last-event-id': '3' }), { status: 200, body: `id: 4\ndata: {"content":" three"}\n\nid: 6\nevent: stop\ndata: ${STOP}\n\n` })
  t.same(await get(`${url}?format=content&lastEventId=4`), { status: 200, body: `id: 6\nevent: stop\ndata: ${STOP}\n\n` })
  t.same(await get(`${url}?format=content&lastEventId=0`), all, 'lastEventId=0 asks for everything again')
  t.same(await get(`${url}?format=content`, { 'last-event-id': '6' }), { status: 204, body: '' }, 'nothing after the final event: 204')
  t.same(await get(`${url}?format=content`), { status: 204, body: '' }, 'delivered: a plain GET gets 204')
  t.equal(up.requests.length, 1, 'replays never call the upstream again')
})

t.test('openai: the same stream with `id:` in front of every frame', async (t) => {
  const { url } = await setup(t)
  const res = await get(`${url}?format=openai`, { 'last-event-id': '1' })
  t.equal(res.body, frames.slice(1).map((f, i) => `id: ${i + 2}\ndata: ${f}\n\n`).join('') + 'id: 6\ndata: [DONE]\n\n', 'the usage chunk the relay asked for itself is not shown')
  const events = parseEvents(res.body)
  t.ok(events.every((e) => e.id !== undefined && e.event === undefined), 'id on every event, no event: lines')
})

t.test('the POST\'s format is the stream\'s default; a bad Last-Event-ID or format is a 400', async (t) => {
  const { relay, url } = await setup(t)
  const { json } = await createStream(relay.url, { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }, { 'x-relay-format': 'content' })
  await waitFor('the stream to finish', () => relay.logs.filter((l) => l.msg === 'stream finished').length === 2)
  t.match((await get(`${relay.url}${json.url}`)).body, /^id: 2\ndata: \{"content":"One"\}\n\n/, 'content, as the POST asked')
  t.match((await get(url)).body, /^id: 1\ndata: \{"id":"c1"/, 'openai, the server default')
  t.same(JSON.parse((await get(`${url}?lastEventId=abc`)).body), { error: { message: 'Last-Event-ID must be an event number (got "abc")', type: 'invalid_request_error', param: 'lastEventId', code: 'invalid_request' } })
  const text = await get(`${url}?format=text`)
  t.equal(text.status, 400)
  t.equal(JSON.parse(text.body).error.message, 'Format "text" cannot be read as an event stream: use openai or content')
})
