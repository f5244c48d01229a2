import t from 'tap'
import { EventSource } from 'eventsource'
import { startUpstream, chatChunk, streamFrames } from '../helpers/upstream.js'
import { chatBody, waitFor, startRelayOver } from '../helpers/relay.js'
import { createStream } from '../helpers/streams.js'

// The streamed answers are written on a hijacked reply, past Fastify's send path: the CORS
// headers set by @fastify/cors must still reach the client (reply.getHeaders()
// goes into writeHead). A browser reading a stream without them sees a network error.
const ALLOWED = 'http://127.0.0.1:5173'
const OTHER = 'http://127.0.0.1:6666'

async function setup (t: Parameters<typeof startUpstream>[0]) {
  const { relay } = await startRelayOver(t, (_req, res) => streamFrames(res, [chatChunk('Hi'), chatChunk(null, { finish: 'stop' })]), { cors: { origins: [ALLOWED] } })
  return relay
}

t.test('POST stream (hijacked) carries Access-Control-Allow-Origin for an allowed origin', async (t) => {
  const relay = await setup(t)
  for (const format of ['openai', 'content', 'text']) {
    const res = await fetch(`${relay.url}/v1/chat/completions?format=${format}`, { method: 'POST', headers: { origin: ALLOWED, 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true }) })
    t.equal(res.status, 200)
    t.equal(res.headers.get('access-control-allow-origin'), ALLOWED, `${format}: allowed origin`)
    t.match(res.headers.get('access-control-expose-headers'), /x-request-id/, `${format}: exposed headers`)
    t.match(res.headers.get('vary'), /Origin/)
    t.ok(res.headers.get('x-request-id'), 'the other hook-set headers too')
    await res.text()
    const other = await fetch(`${relay.url}/v1/chat/completions?format=${format}`, { method: 'POST', headers: { origin: OTHER, 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true }) })
    t.equal(other.headers.get('access-control-allow-origin'), null, `${format}: not for another origin`)
    await other.text()
  }
})

t.test('EventSource from an allowed origin: the stream, its 204 and its 404 all carry the header', async (t) => {
  const relay = await setup(t)
  const { json } = await createStream(relay.url, { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }, { origin: ALLOWED })
  const seen: Array<{ status: number, acao: string | null }> = []
  // What a browser does cross-origin: the same GET with an Origin header, and it gives up
  // (and would retry forever on a 204) unless the answer allows the page's origin.
  const es = new EventSource(`${relay.url}${json.url}?format=content`, {
    fetch: async (input, init) => {
      const res = await fetch(input, { ...init, headers: { ...init?.headers, origin: ALLOWED } })
      seen.push({ status: res.status, acao: res.headers.get('access-control-allow-origin') })
      return res
    },
  })
  t.teardown(() => es.close())
  const messages: string[] = []
  es.addEventListener('message', (e) => { messages.push(JSON.parse(e.data).content) })
  await waitFor('the client to finish and stop reconnecting', () => es.readyState === EventSource.CLOSED, 15_000)
  t.same(messages, ['Hi'])
  t.same(seen, [{ status: 200, acao: ALLOWED }, { status: 204, acao: ALLOWED }])

  const gone = await fetch(`${relay.url}/v1/streams/AAAAAAAAAAAAAAAAAAAAAA`, { headers: { origin: ALLOWED } })
  t.equal(gone.status, 404)
  t.equal(gone.headers.get('access-control-allow-origin'), ALLOWED)
  const other = await fetch(`${relay.url}${json.url}?lastEventId=0`, { headers: { origin: OTHER } })
  t.equal(other.headers.get('access-control-allow-origin'), null)
  await other.text()
})
