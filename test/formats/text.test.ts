import t from 'tap'
import { startUpstream, chatChunk, streamFrames, SSE_HEADERS, sleep } from '../helpers/upstream.js'
import { startRelay, chatBody, readAll } from '../helpers/relay.js'

// SPEC §5 `text`: text/plain; charset=utf-8, only the delta text, each delta as it comes;
// a failure destroys the connection so a fetch() reader sees an error, not a clean end.
const post = (url: string) => fetch(`${url}/v1/chat/completions?format=text`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true }) })

t.test('plain UTF-8 deltas, nothing else', async (t) => {
  const up = await startUpstream(t)
  up.handler = (_req, res) => streamFrames(res, [chatChunk(''), chatChunk('Hello'), chatChunk(', 世界'), chatChunk('!\n'), chatChunk(null, { finish: 'stop' })], { gapMs: 40 })
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const res = await post(relay.url)
  t.equal(res.status, 200)
  t.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8')
  t.equal(res.headers.get('content-length'), null)
  const { text, reads } = await readAll(res)
  t.equal(text, 'Hello, 世界!\n')
  t.ok(reads.length >= 3, `the deltas arrived one by one (${reads.length} reads)`)
  t.equal(relay.summaries().at(-1)?.outcome, 'completed')
})

t.test('a failure mid-stream destroys the connection', async (t) => {
  const up = await startUpstream(t)
  up.handler = async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    res.write(`data: ${chatChunk('Hel')}\n\n`)
    await sleep(30)
    res.write('data: {"error":{"message":"boom","type":"server_error","param":null,"code":null}}\n\n')
    res.end()
  }
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const res = await post(relay.url)
  const reader = res.body!.getReader()
  const first = await reader.read()
  t.equal(new TextDecoder().decode(first.value), 'Hel')
  await t.rejects(reader.read(), 'the reader sees an error, not a clean end')
  t.equal(relay.summaries().at(-1)?.outcome, 'upstream_error')
})
