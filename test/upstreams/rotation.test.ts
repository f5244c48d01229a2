import t, { type Test } from 'tap'
import { startUpstream, chatChunk, streamFrames, type ScriptedUpstream } from '../helpers/upstream.js'
import { startRelay, chatBody, readAll, type RunningRelay } from '../helpers/relay.js'
import type { RelayConfigInput } from '../../src/config/schema.js'

// SPEC §9: several upstreams for one model are balanced (round-robin per model); an alias routes to
// the upstreams of its target, and each upstream sees the model name it knows.

function answerAs (up: ScriptedUpstream, name: string): void {
  up.handler = async (_req, res, received) => {
    await streamFrames(res, [chatChunk(`from ${name}`, { model: received.json.model }), chatChunk(null, { finish: 'stop', model: received.json.model })])
  }
}

/** Upstreams `a` and `b` serving these models, each answering with its name, and a relay in front. */
async function twoUpstreams (t: Test, modelsA: string[], modelsB: string[], more: Omit<RelayConfigInput, 'upstreams'> = {}): Promise<{ a: ScriptedUpstream, b: ScriptedUpstream, relay: RunningRelay }> {
  const a = await startUpstream(t)
  const b = await startUpstream(t)
  answerAs(a, 'a')
  answerAs(b, 'b')
  const relay = await startRelay(t, { upstreams: [{ name: 'a', baseUrl: a.baseUrl, models: modelsA }, { name: 'b', baseUrl: b.baseUrl, models: modelsB }], ...more })
  return { a, b, relay }
}

/** Which upstream ('a', 'b') streamed the answer to one request for `model`. */
async function servedBy (relayUrl: string, model: string): Promise<string> {
  const res = await fetch(`${relayUrl}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody(model, { stream: true }) })
  if (res.status !== 200) return `HTTP ${res.status}`
  const { text } = await readAll(res)
  return /from (\w)/.exec(text)?.[1] ?? '?'
}

t.test('two upstreams for one model take turns; a model only one serves always goes there', async (t) => {
  const { a, b, relay } = await twoUpstreams(t, ['shared', 'only-a'], ['shared'])
  const served: string[] = []
  for (let i = 0; i < 6; i++) served.push(await servedBy(relay.url, 'shared'))
  t.same(served, ['a', 'b', 'a', 'b', 'a', 'b'], 'strict alternation')

  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('only-a', { stream: true }) })
    t.match((await readAll(res)).text, /from a/)
  }
  t.equal(a.requests.length, 6, 'a: 3 shared + 3 only-a')
  t.equal(b.requests.length, 3, 'b: 3 shared')
  t.same(relay.summaries().map((s) => s.upstream), ['a', 'b', 'a', 'b', 'a', 'b', 'a', 'a', 'a'], 'the log line names the upstream that served')
  t.ok(relay.summaries().every((s) => s.retries === 0 && s.retried === undefined), 'no retries logged')
})

t.test('an alias reaches its target on every upstream that serves it, with the real model name upstream', async (t) => {
  const { a, b, relay } = await twoUpstreams(t, ['big-model-v2'], ['big-model-v2'], { aliases: { smart: 'big-model-v2' } })
  const texts: string[] = []
  for (let i = 0; i < 2; i++) {
    const res = await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('smart', { stream: true }) })
    texts.push((await readAll(res)).text)
  }
  t.same([...a.requests, ...b.requests].map((r) => r.json.model), ['big-model-v2', 'big-model-v2'], 'upstreams see the real name')
  t.equal(a.requests.length, 1)
  t.equal(b.requests.length, 1)
  for (const text of texts) {
    t.notMatch(text, /big-model-v2/, 'the client never sees the real name')
    t.match(text, /"model":"smart"/, 'frames carry the alias')
  }
})

t.test('models only wildcard upstreams serve share one rotation, whatever names clients send', async (t) => {
  const { a, b, relay } = await twoUpstreams(t, ['*'], ['*'])
  // Six different names: each request goes on where the last one left off.
  const served: string[] = []
  for (let i = 0; i < 6; i++) served.push(await servedBy(relay.url, `made-up-${i}`))
  t.same(served, ['a', 'b', 'a', 'b', 'a', 'b'], 'alternation across model names')
  t.same([...a.requests, ...b.requests].map((r) => r.json.model).sort(), ['made-up-0', 'made-up-1', 'made-up-2', 'made-up-3', 'made-up-4', 'made-up-5'], 'each upstream got the name the client sent')
})
