import t from 'tap'
import { get, type IncomingMessage } from 'node:http'
import { once } from 'node:events'
import { startUpstream, chatChunk, SSE_HEADERS, sleep } from '../helpers/upstream.js'
import { waitFor, startRelayOver } from '../helpers/relay.js'
import { createStream } from '../helpers/streams.js'

// SPEC §6: with no reader attached for streams.detachTimeoutMs during generation, the upstream
// call is aborted; what was generated stays readable, ending with the reason as an error event.
const DETACH_MS = 300

async function setup (t: Parameters<typeof startUpstream>[0]) {
  // A generation that would go on for 20 s: only an abort ends it early.
  const { up, relay } = await startRelayOver(t, async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    for (let i = 0; i < 400 && !res.destroyed; i++) {
      res.write(`data: ${chatChunk(`w${i} `)}\n\n`)
      await sleep(50)
    }
    res.end('data: [DONE]\n\n')
  }, { streams: { detachTimeoutMs: DETACH_MS } })
  const { json } = await createStream(relay.url, { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] })
  return { up, relay, url: `${relay.url}${json.url}?format=content` }
}

t.test('nobody ever attaches: the upstream is aborted after detachTimeoutMs', async (t) => {
  const { up, relay, url } = await setup(t)
  await waitFor('the upstream request', () => up.requests.length === 1)
  const closedAfter = await up.requests[0]!.socketClosed
  t.ok(closedAfter >= DETACH_MS - 50 && closedAfter < DETACH_MS + 1000, `the upstream socket closed after ${Math.round(closedAfter)} ms`)
  const text = await (await fetch(url)).text()
  t.match(text, /^id: 1\ndata: \{"content":"w0 "\}\n\n/, 'what was generated is still there')
  t.match(text, /id: \d+\nevent: error\ndata: \{"error":\{"message":"No reader was attached for 300 ms; the generation was stopped","type":"timeout_error","param":null,"code":"stream_detached"\}\}\n\n$/)
  await waitFor('the stream log line', () => relay.logs.some((l) => l.msg === 'stream finished'))
  t.equal(relay.logs.find((l) => l.msg === 'stream finished')?.outcome, 'client_aborted')
})

t.test('a reader that stays keeps it going; one that leaves for longer than detachTimeoutMs stops it', async (t) => {
  const { up, url } = await setup(t)
  // node:http rather than fetch: an aborted fetch makes undici open a spare connection that
  // would hold the relay's close() for Node's headersTimeout.
  const req = get(url)
  const [res] = await once(req, 'response') as [IncomingMessage]
  res.resume()
  // Attached for three times the detach timeout: the generation must go on.
  await sleep(3 * DETACH_MS)
  const closed = await Promise.race([up.requests[0]!.socketClosed.then(() => true), sleep(0).then(() => false)])
  t.notOk(closed, 'still generating while a reader is attached')
  req.destroy()
  const left = performance.now()
  await up.requests[0]!.socketClosed
  const after = performance.now() - left
  t.ok(after >= DETACH_MS - 50 && after < DETACH_MS + 1000, `aborted ${Math.round(after)} ms after the reader left`)
})
