import t from 'tap'
import { startUpstream, chatChunk, usageChunk, streamFrames } from '../helpers/upstream.js'
import { chatBody, startRelayOver } from '../helpers/relay.js'

// SPEC §5: `?format=` beats `X-Relay-Format`, which beats the key's `format`, which beats the
// server's `format` (default openai). Each format is recognised by its exact body.
const OPENAI = `data: ${chatChunk('Hi')}\n\ndata: ${chatChunk(null, { finish: 'stop' })}\n\ndata: [DONE]\n\n`
const CONTENT = 'id: 1\ndata: {"content":"Hi"}\n\nid: 2\nevent: stop\ndata: {"finish_reason":"stop","usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}\n\n'
const TEXT = 'Hi'

async function setup (t: Parameters<typeof startUpstream>[0], config: Record<string, unknown> = {}) {
  const { relay } = await startRelayOver(t, (_req, res, received) => streamFrames(res, [
    chatChunk('Hi'), chatChunk(null, { finish: 'stop' }),
    // The relay asks for usage on the client's behalf; the openai format drops that chunk again.
    ...(received.json.stream_options?.include_usage === true ? [usageChunk(3, 1)] : []),
  ]), config)
  return relay
}

async function ask (url: string, query: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/v1/chat/completions${query}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: chatBody('gpt-test', { stream: true }) })
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() }
}

t.test('?format= and X-Relay-Format select; the query wins', async (t) => {
  const relay = await setup(t)
  t.same(await ask(relay.url, ''), { status: 200, type: 'text/event-stream; charset=utf-8', body: OPENAI }, 'server default: openai')
  t.same(await ask(relay.url, '?format=content'), { status: 200, type: 'text/event-stream; charset=utf-8', body: CONTENT })
  t.same(await ask(relay.url, '', { 'x-relay-format': 'content' }), { status: 200, type: 'text/event-stream; charset=utf-8', body: CONTENT })
  t.same(await ask(relay.url, '', { 'x-relay-format': 'text' }), { status: 200, type: 'text/plain; charset=utf-8', body: TEXT })
  t.same(await ask(relay.url, '?format=text', { 'x-relay-format': 'content' }), { status: 200, type: 'text/plain; charset=utf-8', body: TEXT })
  t.same(await ask(relay.url, '?format=openai', { 'x-relay-format': 'text' }), { status: 200, type: 'text/event-stream; charset=utf-8', body: OPENAI })
})

t.test('an unknown format is a 400 that names the known ones', async (t) => {
  const relay = await setup(t)
  for (const [query, headers, asked] of [['?format=xml', {}, 'xml'], ['', { 'x-relay-format': 'ndjson' }, 'ndjson']] as const) {
    const res = await ask(relay.url, query, headers)
    t.equal(res.status, 400)
    t.same(JSON.parse(res.body), { error: { message: `Unknown format "${asked}": use openai, content, text`, type: 'invalid_request_error', param: 'format', code: 'invalid_request' } })
  }
})

t.test('the key\'s format beats the server\'s; an explicit choice beats both', async (t) => {
  const relay = await setup(t, {
    format: 'text',
    keys: [{ name: 'web', key: 'sk-web-0123456789', format: 'content' }, { name: 'cli', key: 'sk-cli-0123456789' }],
  })
  const web = { authorization: 'Bearer sk-web-0123456789' }
  const cli = { authorization: 'Bearer sk-cli-0123456789' }
  t.equal((await ask(relay.url, '', web)).body, CONTENT, 'key default: content')
  t.equal((await ask(relay.url, '', cli)).body, TEXT, 'no key default: the server\'s text')
  t.equal((await ask(relay.url, '?format=openai', web)).body, OPENAI, '?format= over the key')
  t.equal((await ask(relay.url, '', { ...cli, 'x-relay-format': 'content' })).body, CONTENT, 'header over the server')
  t.same(relay.summaries().map((s) => [s.keyName, s.format]), [['web', 'content'], ['cli', 'text'], ['web', 'openai'], ['cli', 'content']], 'the log names the format')
})
