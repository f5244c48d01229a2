import t, { type Test } from 'tap'
import { chatChunk, usageChunk, streamFrames, type ScriptedUpstream } from '../helpers/upstream.js'
import { readAll, startRelayOver, type RunningRelay } from '../helpers/relay.js'

// SPEC §8: for streamed chat the relay asks an openai-kind upstream for usage, keeps the counts for
// its log line, and forwards the usage chunk only to clients that asked for it themselves.

const content = [chatChunk('Hi'), chatChunk(null, { finish: 'stop' })]
const usage = usageChunk(11, 7)

function setUp (t: Test, upstream: Record<string, unknown> = {}): Promise<{ up: ScriptedUpstream, relay: RunningRelay }> {
  // Like OpenAI: the usage chunk only when it was asked for.
  return startRelayOver(t, (_req, res, received) => streamFrames(res, received.json.stream_options?.include_usage === true ? [...content, usage] : content), {}, upstream)
}

function post (relay: RunningRelay, extra: Record<string, unknown>, format = 'openai'): Promise<Response> {
  return fetch(`${relay.url}/v1/chat/completions?format=${format}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], ...extra }),
  })
}

/** The summary of the relay's one request so far. */
async function lastSummary (relay: RunningRelay): Promise<Record<string, any> | undefined> {
  return (await relay.waitForSummaries()).at(-1)
}

t.test('a client that did not ask: the relay asks upstream, logs the counts, drops the chunk', async (t) => {
  const { up, relay } = await setUp(t)
  const res = await post(relay, { stream: true, stream_options: { include_obfuscation: false } })
  t.same(up.requests[0]?.json.stream_options, { include_obfuscation: false, include_usage: true }, 'include_usage added, the client\'s other options kept')
  t.equal((await readAll(res)).text, content.map((f) => `data: ${f}\n\n`).join('') + 'data: [DONE]\n\n', 'the client sees no usage chunk')
  const summary = await lastSummary(relay)
  t.same([summary?.promptTokens, summary?.completionTokens, summary?.finishReason], [11, 7, 'stop'], 'the log line has the token counts')

  const bare = await post(relay, { stream: true })
  t.same(up.requests[1]?.json.stream_options, { include_usage: true }, 'also when the client sent no stream_options')
  t.notMatch((await readAll(bare)).text, '"usage":{', 'no usage chunk')
})

t.test('a client that asked gets the usage chunk byte for byte', async (t) => {
  const { up, relay } = await setUp(t)
  const res = await post(relay, { stream: true, stream_options: { include_usage: true } })
  t.same(up.requests[0]?.json.stream_options, { include_usage: true })
  t.equal((await readAll(res)).text, [...content, usage].map((f) => `data: ${f}\n\n`).join('') + 'data: [DONE]\n\n')
  const summary = await lastSummary(relay)
  t.same([summary?.promptTokens, summary?.completionTokens], [11, 7])
})

t.test('the content format carries the usage in its stop event', async (t) => {
  const { relay } = await setUp(t)
  const res = await post(relay, { stream: true }, 'content')
  t.equal((await readAll(res)).text, 'id: 1\ndata: {"content":"Hi"}\n\nid: 2\nevent: stop\ndata: {"finish_reason":"stop","usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}\n\n')
})

t.test('no rewrite where usage is not asked for: non-streamed requests, includeUsage false, xinference', async (t) => {
  const plain = await setUp(t)
  plain.up.handler = (_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"object":"chat.completion","choices":[]}') }
  await (await post(plain.relay, {})).text()
  t.equal(plain.up.requests[0]?.json.stream_options, undefined, 'non-streamed: body untouched')

  for (const upstream of [{ includeUsage: false }, { kind: 'xinference' }]) {
    const { up, relay } = await setUp(t, upstream)
    const res = await post(relay, { stream: true })
    t.equal(up.requests[0]?.json.stream_options, undefined, `${JSON.stringify(upstream)}: not asked`)
    t.equal((await readAll(res)).text, content.map((f) => `data: ${f}\n\n`).join('') + 'data: [DONE]\n\n')
    const summary = await lastSummary(relay)
    t.same([summary?.promptTokens, summary?.completionTokens], [null, null], 'no counts invented')
  }
})
