import t, { type Test } from 'tap'
import { chatChunk, streamFrames } from '../helpers/upstream.js'
import { chatBody, readAll, sseBlocks, startRelayOver } from '../helpers/relay.js'

// SPEC §3/§5: an alias maps a public model name to an upstream's model; openai frames come back with
// only `model` rewritten to the alias, every other field as the upstream sent it.

const frames = [
  JSON.stringify({ id: 'chatcmpl-9', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-test', system_fingerprint: 'fp_1', service_tier: 'default', usage: null, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] }),
  JSON.stringify({ id: 'chatcmpl-9', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-test', choices: [{ index: 0, delta: { content: '你好 "quoted" \\ 😀' }, logprobs: { content: [{ token: 'x', logprob: -0.25, bytes: [120], top_logprobs: [] }] }, finish_reason: null }], x_vendor: { nested: [1, 2.5, null, true] } }),
  chatChunk(null, { finish: 'stop' }),
]

function setUp (t: Test) {
  return startRelayOver(t, (req, res, received) => {
    if (req.url !== '/v1/chat/completions') { res.writeHead(404); res.end(); return }
    if (received.json?.stream !== true) {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ id: 'chatcmpl-9', object: 'chat.completion', created: 1, model: 'gpt-test', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }] }))
      return
    }
    return streamFrames(res, frames)
  }, { aliases: { fast: 'gpt-test' } }, { models: ['gpt-test'] })
}

const post = (url: string, body: string, format = 'openai') =>
  fetch(`${url}/v1/chat/completions?format=${format}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })

t.test('an aliased stream: upstream gets the real model, client gets the alias and nothing else changed', async (t) => {
  const { up, relay } = await setUp(t)
  const res = await post(relay.url, chatBody('fast', { stream: true, stream_options: { include_usage: false } }))
  t.equal(res.status, 200)
  t.equal(up.requests[0]?.json.model, 'gpt-test', 'the upstream received its own model name')
  const blocks = sseBlocks((await readAll(res)).text)
  t.equal(blocks.length, frames.length + 1)
  t.equal(blocks.at(-1), 'data: [DONE]')
  frames.forEach((f, i) => {
    // The frames are compact JSON, so "only model rewritten" can be checked on the exact text.
    t.equal(blocks[i], `data: ${f.replace('"model":"gpt-test"', '"model":"fast"')}`, `frame ${i}: only the model differs`)
    t.same(JSON.parse(blocks[i]!.slice(6)), { ...JSON.parse(f), model: 'fast' })
  })
})

t.test('the real name is not rewritten, and other formats carry no model', async (t) => {
  const { relay } = await setUp(t)
  const direct = await post(relay.url, chatBody('gpt-test', { stream: true, stream_options: { include_usage: false } }))
  t.equal((await readAll(direct)).text, frames.map((f) => `data: ${f}\n\n`).join('') + 'data: [DONE]\n\n', 'byte for byte without an alias')
  const content = await post(relay.url, chatBody('fast', { stream: true }), 'content')
  t.same(sseBlocks((await readAll(content)).text), [
    'id: 1\ndata: {"content":"你好 \\"quoted\\" \\\\ 😀"}',
    'id: 2\nevent: stop\ndata: {"finish_reason":"stop","usage":null}',
  ])
})

t.test('an aliased non-streamed answer names the alias', async (t) => {
  const { up, relay } = await setUp(t)
  const res = await post(relay.url, chatBody('fast'))
  t.equal(res.status, 200)
  t.equal(up.requests[0]?.json.model, 'gpt-test')
  const json = await res.json() as { model: string, choices: Array<{ message: { content: string } }> }
  t.equal(json.model, 'fast')
  t.equal(json.choices[0]?.message.content, 'ok')
})

t.test('/v1/models lists the alias beside the real model', async (t) => {
  const { relay } = await setUp(t)
  const res = await fetch(`${relay.url}/v1/models`)
  t.equal(res.status, 200)
  const json = await res.json() as { object: string, data: Array<{ id: string, object: string, owned_by: string }> }
  t.equal(json.object, 'list')
  t.same(json.data.map((m) => [m.id, m.object, m.owned_by]).sort(), [['fast', 'model', 'up'], ['gpt-test', 'model', 'up']])
})
