import t, { type Test } from 'tap'
import { chatChunk, streamFrames } from '../helpers/upstream.js'
import { readAll, startRelayOver } from '../helpers/relay.js'

// What the upstream is sent (relay/plan.ts): when the relay changes nothing in the body but the usage
// option, the client's own JSON text goes upstream (no second serialisation), with
// "stream_options":{"include_usage":true} added before its closing brace when it had none; an
// alias or options to merge make the relay serialise the rewritten body.

// Spaces, a number written as 1.0, an escaped quote, unusual key order: kept only by passing the text.
const TEXT = '{ "messages" : [ {"role":"user","content":"café \\"quoted\\""} ],\n  "temperature": 1.0, "model": "gpt-test",\n  "stream": true }\n'

function setUp (t: Test, upstream: { includeUsage?: boolean } = {}) {
  return startRelayOver(t, (req, res) => streamFrames(res, [chatChunk('ok'), chatChunk(null, { finish: 'stop' })]),
    { aliases: { fast: 'gpt-test' } }, { models: ['gpt-test'], ...upstream })
}

const post = (url: string, body: string) =>
  fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })

t.test('a stream: the client\'s text, with the usage option added before its closing brace', async (t) => {
  const { up, relay } = await setUp(t)
  const res = await post(relay.url, TEXT)
  t.equal(res.status, 200)
  await readAll(res)
  const end = TEXT.lastIndexOf('}')
  t.equal(up.requests[0]?.body, `${TEXT.slice(0, end)},"stream_options":{"include_usage":true}${TEXT.slice(end)}`)
  t.same(up.requests[0]?.json.stream_options, { include_usage: true })
})

t.test('nothing to change: the client\'s text byte for byte', async (t) => {
  const { up, relay } = await setUp(t, { includeUsage: false })
  const res = await post(relay.url, TEXT)
  t.equal(res.status, 200)
  await readAll(res)
  t.equal(up.requests[0]?.body, TEXT)
})

t.test('an alias, or stream_options of the client\'s own: the rewritten body, serialised', async (t) => {
  const { up, relay } = await setUp(t)
  await readAll(await post(relay.url, TEXT.replace('"gpt-test"', '"fast"')))
  t.same(up.requests[0]?.json, { messages: [{ role: 'user', content: 'café "quoted"' }], temperature: 1, model: 'gpt-test', stream: true, stream_options: { include_usage: true } })
  t.equal(up.requests[0]?.body, JSON.stringify(up.requests[0]?.json), 'serialised by the relay')

  const own = '{"model":"gpt-test","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"continuous_usage_stats":true}}'
  await readAll(await post(relay.url, own))
  t.same(up.requests[1]?.json.stream_options, { continuous_usage_stats: true, include_usage: true }, 'merged, not duplicated')
})

t.test('a model named like an Object method is not taken for an alias', async (t) => {
  // An upstream serving any model: the name must reach it as the client wrote it.
  const { up, relay } = await startRelayOver(t, (req, res) => streamFrames(res, [chatChunk('ok'), chatChunk(null, { finish: 'stop' })]),
    { aliases: { fast: 'gpt-test' } }, { models: ['*'] })
  for (const model of ['constructor', 'toString', '__proto__']) {
    const body = `{"model":"${model}","messages":[{"role":"user","content":"hi"}],"stream":true}`
    const res = await post(relay.url, body)
    t.equal(res.status, 200, model)
    await readAll(res)
    t.equal(up.requests.at(-1)?.json.model, model, `the upstream was asked for ${model}`)
  }
})

t.test('another POST /v1/<path>: the client\'s text as well, the alias\'s model name serialised', async (t) => {
  const { up, relay } = await startRelayOver(t, (_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"ok":true}') },
    { aliases: { fast: 'gpt-test' } }, { models: ['gpt-test'] })
  const text = '{ "query": "x",  "documents": ["a", "b"], "top_n": 1.0, "model": "gpt-test" }'
  const res = await fetch(`${relay.url}/v1/rerank`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text })
  t.equal(res.status, 200)
  await res.text()
  t.equal(up.requests[0]?.url, '/v1/rerank')
  t.equal(up.requests[0]?.body, text, 'byte for byte')
  await (await fetch(`${relay.url}/v1/rerank`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text.replace('"gpt-test"', '"fast"') })).text()
  t.same(up.requests[1]?.json, { query: 'x', documents: ['a', 'b'], top_n: 1, model: 'gpt-test' })
})

t.test('a text an upstream could read differently from the relay is serialised from what the relay checked', async (t) => {
  // Only gpt-test is allowed for this key; an upstream that kept the first "model" would serve secret-model.
  const { up, relay } = await startRelayOver(t, (_req, res) => streamFrames(res, [chatChunk('ok'), chatChunk(null, { finish: 'stop' })]),
    { keys: [{ name: 'web', key: 'sk-web', models: ['gpt-test'] }] }, { models: ['*'] })
  const send = (body: string) => fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-web' }, body })
  const texts = [
    '{"model":"secret-model","messages":[{"role":"user","content":"hi"}],"model":"gpt-test","stream":true}',
    '{"mod\\u0065l":"secret-model","messages":[{"role":"user","content":"hi"}],"model":"gpt-test","stream":true}',
    '\ufeff{"model":"gpt-test","messages":[{"role":"user","content":"hi"}],"stream":true}',
    '{"model":"gpt-test","messages":[{"role":"user","content":"hi"}],"stream":false,"stream":true}',
  ]
  for (const [i, text] of texts.entries()) {
    const res = await send(text)
    t.equal(res.status, 200, `text ${i + 1} served`)
    await readAll(res)
    const got = up.requests.at(-1)
    t.equal(got?.json.model, 'gpt-test', `text ${i + 1}: the upstream is asked for the model the relay allowed`)
    t.equal(got?.body, JSON.stringify(got?.json), `text ${i + 1}: serialised by the relay, one key each`)
  }
})
