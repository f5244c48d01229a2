import t from 'tap'
import { startUpstream, chatChunk, usageChunk, streamFrames } from '../helpers/upstream.js'
import { startRelay, chatBody, readAll } from '../helpers/relay.js'

// SPEC §8: one "request finished" line per request, with the request id, the
// key's name (never its token), model, upstream, status, outcome, timings,
// frames, bytes, and token counts exactly as the upstream reported them
// (null when it did not: never guessed).

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

t.test('a streamed chat: every field of its one line', async (t) => {
  const up = await startUpstream(t, async (req, res, received) => {
    const usage = received.json?.stream_options?.include_usage === true
    await streamFrames(res, [chatChunk('Hel'), chatChunk('lo'), chatChunk(null, { finish: 'stop' }), ...(usage ? [usageChunk(11, 3)] : [])])
  })
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }], keys: [{ name: 'web', key: 'sk-web-token' }] })
  const res = await fetch(`${relay.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-web-token' }, body: chatBody('gpt-test', { stream: true }),
  })
  const { text } = await readAll(res)
  t.equal(up.requests[0]?.json.stream_options?.include_usage, true, 'the relay asked for usage')
  t.notMatch(text, /prompt_tokens/, 'and kept the usage frame from a client that did not ask')

  const lines = relay.summaries()
  t.equal(lines.length, 1, 'exactly one line')
  const l = lines[0]!
  t.match(l.requestId, UUID)
  t.equal(res.headers.get('x-request-id'), l.requestId)
  t.strictSame(
    [l.level, l.keyName, l.model, l.upstream, l.status, l.outcome, l.stream, l.format, l.frames, l.finishReason, l.promptTokens, l.completionTokens, l.url, l.method],
    [30, 'web', 'gpt-test', 'up', 200, 'completed', true, 'openai', 3, 'stop', 11, 3, '/v1/chat/completions', 'POST']
  )
  t.type(l.ttfbMs, 'number')
  t.type(l.durationMs, 'number')
  t.ok(l.ttfbMs >= 0 && l.ttfbMs <= l.durationMs, `0 <= ttfbMs (${l.ttfbMs}) <= durationMs (${l.durationMs})`)
  t.ok(l.bytes >= Buffer.byteLength(text), `bytes (${l.bytes}) counts at least the body (${Buffer.byteLength(text)})`)
  t.equal(l.error, undefined)
})

t.test('no usage from the upstream: token counts are null, not guessed', async (t) => {
  const up = await startUpstream(t, async (_req, res) => {
    await streamFrames(res, [chatChunk('one two three'), chatChunk(null, { finish: 'length' })])
  })
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl, includeUsage: false }] })
  const res = await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true }) })
  await readAll(res)
  const l = relay.summaries()[0]!
  t.equal(up.requests[0]?.json.stream_options, undefined, 'includeUsage false: not asked')
  t.strictSame([l.keyName, l.outcome, l.frames, l.finishReason, l.promptTokens, l.completionTokens], ['anonymous', 'completed', 2, 'length', null, null])
})

t.test('non-streamed answers: tokens from the JSON usage, or null', async (t) => {
  let withUsage = true
  const up = await startUpstream(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({
      id: 'x',
      object: 'chat.completion',
      model: 'gpt-test',
      choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
      ...(withUsage ? { usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 } } : {}),
    }))
  })
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  for (const usage of [true, false]) {
    withUsage = usage
    const res = await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test') })
    t.equal(res.status, 200)
    await res.text()
  }
  const lines = relay.summaries()
  t.strictSame(lines.map((l) => [l.status, l.outcome, l.stream, l.upstream, l.finishReason, l.promptTokens, l.completionTokens]), [
    [200, 'completed', false, 'up', 'stop', 5, 1],
    [200, 'completed', false, 'up', 'stop', null, null],
  ])
  t.ok(lines.every((l) => typeof l.durationMs === 'number' && typeof l.bytes === 'number' && l.bytes > 0))
})

t.test('one line per request, even for many requests on one keep-alive connection', async (t) => {
  const relay = await startRelay(t)
  const ids: string[] = []
  for (let i = 0; i < 5; i++) {
    const res = await fetch(`${relay.url}/healthz`, { headers: { 'x-request-id': `r-${i}` } })
    await res.text()
    ids.push(`r-${i}`)
  }
  const bad = await fetch(`${relay.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'r-bad' }, body: '[]' })
  await bad.text()
  t.strictSame(relay.summaries().map((l) => l.requestId), [...ids, 'r-bad'])
})
