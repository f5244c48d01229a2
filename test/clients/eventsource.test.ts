import t from 'tap'
import { EventSource, type FetchLike } from 'eventsource'
import { chatChunk, SSE_HEADERS, sleep } from '../helpers/upstream.js'
import { deltaChunk } from '../helpers/deltas.js'
import { createStream, gate } from '../helpers/streams.js'
import { waitFor } from '../helpers/relay.js'
import { startClientRig, scriptFrames, reasoningFrames, roleChunk, WEB_TOKEN, MODEL } from '../helpers/clients.js'

// The `eventsource` package (v5), the EventSource of Node apps and of the seeds' pages, on the
// relay's EventSource flow (SPEC §6): POST /v1/streams with the relay token, then a plain
// `new EventSource(relay + url)` (no token) reading `content` events; and a dropped connection
// that the client resumes on its own with Last-Event-ID. The POST asks for the `content` format
// (`?format=content`); the stream's URL then serves it by default.

const auth = { authorization: `Bearer ${WEB_TOKEN}` }
const body = { model: MODEL, messages: [{ role: 'user', content: 'hi' }] }

interface Seen { type: string, id: string, data: string }

/** Listens to the content format's events (message, reasoning, tool_call, stop, error) in arrival order. */
function listen (es: EventSource): Seen[] {
  const seen: Seen[] = []
  for (const type of ['message', 'reasoning', 'tool_call', 'stop', 'error']) {
    es.addEventListener(type, (e) => {
      if (e instanceof MessageEvent) seen.push({ type, id: e.lastEventId, data: String(e.data) })
    })
  }
  return seen
}

const contentOf = (seen: Seen[], type: string): string[] => seen.filter((e) => e.type === type).map((e) => JSON.parse(e.data).content)

t.test('content events: reasoning, then message deltas, then stop with usage; ids 1..N; exact text', async (t) => {
  const { up, relay } = await startClientRig(t)
  const thinking = ['Greeting; ', 'reply ', 'in kind.']
  const answer = ['Salut', ' à ', 'toi ', '👋']
  scriptFrames(up, reasoningFrames(thinking, answer), { usage: [12, 7], gapMs: 5 })
  const created = await createStream(relay.url, body, auth, '?format=content')
  t.equal(created.status, 201)
  const es = new EventSource(`${relay.url}${created.json.url}`)
  t.teardown(() => es.close())
  const seen = listen(es)
  await waitFor('the stop event', () => seen.some((e) => e.type === 'stop'))
  es.close()
  t.same(contentOf(seen, 'reasoning'), thinking, 'each reasoning delta as a reasoning event')
  t.equal(contentOf(seen, 'message').join(''), answer.join(''), 'the answer, exactly')
  t.same(contentOf(seen, 'message'), answer, 'one message event per delta')
  t.same(seen.map((e) => e.type), [...thinking.map(() => 'reasoning'), ...answer.map(() => 'message'), 'stop'], 'in order, nothing else')
  t.same(seen.map((e) => e.id), seen.map((_e, i) => String(i + 1)), 'ids 1..N in one sequence')
  t.strictSame(JSON.parse(seen.at(-1)!.data), { finish_reason: 'stop', usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 } })
  t.equal(up.requests.length, 1)
})

t.test('tool_call events: Ollama\'s index 0 for every call gives one event per call, then stop', async (t) => {
  const { up, relay } = await startClientRig(t)
  const ollamaCall = (id: string, name: string, args: string) => deltaChunk({ role: 'assistant', content: '', tool_calls: [{ id, index: 0, type: 'function', function: { name, arguments: args } }] })
  scriptFrames(up, [
    ollamaCall('call_a1', 'get_weather', '{"city":"Paris"}'),
    ollamaCall('call_b2', 'get_time', '{"tz":"CET"}'),
    deltaChunk({ role: 'assistant', content: '' }, { finish: 'tool_calls' }),
  ], { gapMs: 5 })
  const created = await createStream(relay.url, body, auth, '?format=content')
  const es = new EventSource(`${relay.url}${created.json.url}`)
  t.teardown(() => es.close())
  const seen = listen(es)
  await waitFor('the stop event', () => seen.some((e) => e.type === 'stop'))
  es.close()
  t.strictSame(seen.map((e) => [e.type, e.id, JSON.parse(e.data)]), [
    ['tool_call', '1', { index: 0, id: 'call_a1', name: 'get_weather', arguments: '{"city":"Paris"}' }],
    ['tool_call', '2', { index: 1, id: 'call_b2', name: 'get_time', arguments: '{"tz":"CET"}' }],
    ['stop', '3', { finish_reason: 'tool_calls', usage: null }],
  ])
})

/**
 * A response body that passes `events` whole events (comments do not count), then the first half
 * of the next one, and then ends, cancelling the real body (the relay sees its reader go): what
 * a connection dropped in the middle of an event looks like to the client.
 */
function cutAfter (source: ReadableStream<Uint8Array>, events: number, onCut: () => void): ReadableStream<Uint8Array> {
  const reader = source.getReader()
  const decoder = new TextDecoder()
  const encoder = new TextEncoder()
  let pending = ''
  let whole = 0
  return new ReadableStream<Uint8Array>({
    async pull (controller) {
      const { done, value } = await reader.read()
      if (done) { controller.close(); return }
      pending += decoder.decode(value, { stream: true })
      let out = ''
      for (let end = pending.indexOf('\n\n'); end !== -1 && whole < events; end = pending.indexOf('\n\n')) {
        const block = pending.slice(0, end + 2)
        pending = pending.slice(end + 2)
        out += block
        if (!block.startsWith(':')) whole++
      }
      if (whole < events || pending === '') {
        if (out !== '') controller.enqueue(encoder.encode(out))
        return
      }
      const next = pending.includes('\n\n') ? pending.slice(0, pending.indexOf('\n\n')) : pending
      controller.enqueue(encoder.encode(out + next.slice(0, Math.ceil(next.length / 2))))
      controller.close()
      await reader.cancel()
      onCut()
    },
    cancel: (reason) => reader.cancel(reason),
  })
}

t.test('a connection dropped mid-event: eventsource resumes with Last-Event-ID, exactly the text, no event twice, one upstream call', async (t) => {
  const { up, relay } = await startClientRig(t)
  const tokens = Array.from({ length: 20 }, (_, i) => `t${i + 1} `)
  const away = gate()
  up.handler = async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    res.write(`data: ${roleChunk()}\n\n`)
    for (const [i, token] of tokens.entries()) {
      // Tokens 11-20 are generated while the client is away (after the cut, before its reconnect).
      if (i === 10) await away.opened
      res.write(`data: ${chatChunk(token)}\n\n`)
      await sleep(5)
    }
    res.end(`data: ${chatChunk(null, { finish: 'stop' })}\n\ndata: [DONE]\n\n`)
  }
  const created = await createStream(relay.url, body, auth, '?format=content')

  // eventsource v5's `fetch` option: every request the client makes goes through here.
  const requests: Array<string | null> = []
  let cut = false
  const cutting: FetchLike = async (url, init) => {
    requests.push(init.headers['Last-Event-ID'] ?? null)
    const res = await fetch(url, init)
    if (requests.length > 1 || res.body === null) return res
    return { status: res.status, url: res.url, redirected: res.redirected, headers: res.headers, body: cutAfter(res.body, 6, () => { cut = true }) }
  }
  const es = new EventSource(`${relay.url}${created.json.url}`, { fetch: cutting })
  t.teardown(() => es.close())
  const seen = listen(es)
  let opens = 0
  es.addEventListener('open', () => { opens++ })

  await waitFor('the cut after six events', () => cut)
  t.same(seen.map((e) => e.id), ['1', '2', '3', '4', '5', '6'], 'six whole events before the cut; the half one was not dispatched')
  away.open()
  await waitFor('the reconnect and the rest of the stream', () => seen.some((e) => e.type === 'stop'), 15_000)
  // The stop was the final event: the client's next reconnect gets 204 and it stops for good.
  await waitFor('the client to give up after 204', () => es.readyState === EventSource.CLOSED, 15_000)

  t.equal(contentOf(seen, 'message').join(''), tokens.join(''), 'exactly the text')
  t.same(seen.map((e) => e.id), Array.from({ length: tokens.length + 1 }, (_v, i) => String(i + 1)), 'ids 1..21: none missed, none twice')
  t.equal(seen.at(-1)?.type, 'stop')
  t.same(requests, [null, '6', '21'], 'the client resumed after the last whole event, then asked once more after the end')
  t.equal(opens, 2, 'two connections opened')
  t.equal(up.requests.length, 1, 'the generation was not restarted: one upstream call')
  const gets = relay.summaries().filter((s) => s.method === 'GET')
  t.same(gets.map((s) => [s.status, s.outcome]), [[200, 'client_aborted'], [200, 'completed'], [204, 'completed']])
})
