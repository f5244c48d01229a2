import t from 'tap'
import { startUpstream, chatChunk, usageChunk, streamFrames, SSE_HEADERS } from '../helpers/upstream.js'
import { startRelay, chatBody } from '../helpers/relay.js'

// SPEC §5 `content`: `id: n` on every event; `data: {"content":…}` per non-empty delta
// (the role chunk and the finish chunk carry none); `event: stop` with finish_reason and
// usage (null when the upstream sent none); `event: error` with the envelope on failure.
const post = (url: string) => fetch(`${url}/v1/chat/completions?format=content`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true }) })
const frames = [
  JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'gpt-test', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }),
  chatChunk('Say "hi"\n'),
  chatChunk(''),
  chatChunk('— 你好 🎉'),
  chatChunk(null, { finish: 'length' }),
]

t.test('deltas with ids, then stop with the usage the upstream reported', async (t) => {
  const up = await startUpstream(t)
  up.handler = (_req, res) => streamFrames(res, [...frames, usageChunk(9, 3)])
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const res = await post(relay.url)
  t.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8')
  t.equal(await res.text(),
    'id: 1\ndata: {"content":"Say \\"hi\\"\\n"}\n\n' +
    'id: 2\ndata: {"content":"— 你好 🎉"}\n\n' +
    'id: 3\nevent: stop\ndata: {"finish_reason":"length","usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}\n\n')
  t.equal(up.requests[0]?.json.stream_options?.include_usage, true, 'the relay asked for usage for the stop event')
})

t.test('usage is null when the upstream sent none', async (t) => {
  const up = await startUpstream(t)
  up.handler = (_req, res) => streamFrames(res, frames)
  // includeUsage: false — an upstream that cannot report usage in a stream.
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl, includeUsage: false }] })
  const res = await post(relay.url)
  t.equal(await res.text(),
    'id: 1\ndata: {"content":"Say \\"hi\\"\\n"}\n\n' +
    'id: 2\ndata: {"content":"— 你好 🎉"}\n\n' +
    'id: 3\nevent: stop\ndata: {"finish_reason":"length","usage":null}\n\n')
  t.equal(up.requests[0]?.json.stream_options, undefined)
})

t.test('an upstream error mid-stream: event: error with the envelope, no stop', async (t) => {
  const up = await startUpstream(t)
  up.handler = async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    res.write(`data: ${chatChunk('Hel')}\n\n`)
    res.write('data: {"error":{"message":"The server is overloaded","type":"server_error","param":null,"code":"overloaded"}}\n\n')
    res.end()
  }
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const res = await post(relay.url)
  t.equal(await res.text(),
    'id: 1\ndata: {"content":"Hel"}\n\n' +
    'id: 2\nevent: error\ndata: {"error":{"message":"The server is overloaded","type":"server_error","param":null,"code":"overloaded"}}\n\n')
  t.equal(relay.summaries().at(-1)?.outcome, 'upstream_error')
})

t.test('a reset mid-stream: event: error, no stop', async (t) => {
  const up = await startUpstream(t)
  up.handler = async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    res.write(`data: ${chatChunk('Hel')}\n\n`)
    setTimeout(() => res.socket?.destroy(), 30)
  }
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const text = await (await post(relay.url)).text()
  t.equal(text, 'id: 1\ndata: {"content":"Hel"}\n\n' +
    'id: 2\nevent: error\ndata: {"error":{"message":"Connection to upstream \\"up\\" was reset","type":"api_error","param":null,"code":"upstream_error"}}\n\n')
})
