import t, { type Test } from 'tap'
import { randomBytes } from 'node:crypto'
import { startRelay } from '../helpers/relay.js'
import { sleep, startUpstream } from '../helpers/upstream.js'

// SPEC §4: any other POST /v1/<path> with a JSON body naming a model goes to that model's upstream
// at <baseUrl>/<path>, with the upstream's key and the model it knows; the answer comes back as
// it comes: JSON with its status, binary audio byte for byte and streamed (not buffered).

const AUDIO = [randomBytes(4096), randomBytes(4096), randomBytes(1000)]

async function rig (t: Test) {
  const up = await startUpstream(t, async (req, res) => {
    if (req.url === '/v1/rerank') {
      res.writeHead(200, { 'content-type': 'application/json', 'x-ratelimit-remaining-requests': '7' })
      res.end(JSON.stringify({ results: [{ index: 1, relevance_score: 0.9 }], usage: { total_tokens: 5 } }))
    } else if (req.url === '/v1/audio/speech') {
      res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': String(AUDIO.reduce((n, b) => n + b.length, 0)) })
      for (const piece of AUDIO) {
        res.write(piece)
        await sleep(150)
      }
      res.end()
    } else {
      res.writeHead(400, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ detail: 'voice "nobody" not found' }))
    }
  })
  const relay = await startRelay(t, {
    keys: [{ name: 'web', key: 'sk-web', models: ['rerank-fast', 'tts-1', 'other'] }],
    aliases: { 'rerank-fast': 'bge-reranker-v2' },
    upstreams: [{ name: 'up', baseUrl: up.baseUrl, apiKey: 'sk-upstream' }],
  })
  return { up, relay }
}

function post (relay: { url: string }, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${relay.url}${path}`, { method: 'POST', headers: { authorization: 'Bearer sk-web', 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
}

t.test('JSON (rerank): to <baseUrl>/rerank with the upstream key and model, the answer and its hints back', async (t) => {
  const { up, relay } = await rig(t)
  const res = await post(relay, '/v1/rerank', { model: 'rerank-fast', query: 'q', documents: ['a', 'b'] })
  t.equal(res.status, 200)
  t.equal(res.headers.get('content-type'), 'application/json')
  t.equal(res.headers.get('x-ratelimit-remaining-requests'), '7')
  t.strictSame(await res.json(), { results: [{ index: 1, relevance_score: 0.9 }], usage: { total_tokens: 5 } })
  t.equal(up.requests[0]?.url, '/v1/rerank')
  t.strictSame(up.requests[0]?.json, { model: 'bge-reranker-v2', query: 'q', documents: ['a', 'b'] }, 'the alias became the upstream\'s model')
  t.equal(up.requests[0]?.headers.authorization, 'Bearer sk-upstream')
  const [line] = await relay.waitForSummaries()
  t.match(line, { url: '/v1/rerank', keyName: 'web', model: 'rerank-fast', upstream: 'up', status: 200, outcome: 'completed' })
})

t.test('binary (audio/speech): the same bytes, with type and length, the first ones before the upstream finished', async (t) => {
  const { up, relay } = await rig(t)
  const res = await post(relay, '/v1/audio/speech', { model: 'tts-1', input: 'Hello', voice: 'alloy' }, { accept: 'audio/mpeg' })
  t.equal(res.status, 200)
  t.equal(res.headers.get('content-type'), 'audio/mpeg')
  t.equal(res.headers.get('content-length'), '9192')
  const reader = res.body!.getReader()
  const chunks: Buffer[] = []
  let firstAt: number | undefined
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    firstAt ??= performance.now()
    chunks.push(Buffer.from(value))
  }
  const endedAt = performance.now()
  t.ok(Buffer.concat(chunks).equals(Buffer.concat(AUDIO)), 'byte for byte')
  t.ok(endedAt - firstAt! >= 200, `streamed: the first bytes came ${Math.round(endedAt - firstAt!)} ms before the end`)
  t.equal(up.requests[0]?.headers.accept, 'audio/mpeg', 'the client\'s Accept went upstream')
})

t.test('an upstream 4xx: its status, its message in the OpenAI envelope', async (t) => {
  const { relay } = await rig(t)
  const res = await post(relay, '/v1/audio/voices/clone', { model: 'other', voice: 'nobody' })
  t.equal(res.status, 400)
  t.strictSame(await res.json(), { error: { message: 'voice "nobody" not found', type: 'invalid_request_error', param: null, code: 'invalid_request' } })
})

t.test('the key\'s allow-list and a body without a model', async (t) => {
  const { up, relay } = await rig(t)
  const denied = await post(relay, '/v1/moderations', { model: 'gpt-4o', input: 'x' })
  t.equal(denied.status, 403)
  t.match(await denied.json(), { error: { code: 'model_not_allowed' } })
  const noModel = await post(relay, '/v1/moderations', { input: 'x' })
  t.equal(noModel.status, 400)
  t.match(await noModel.json(), { error: { code: 'invalid_request', param: 'model' } })
  const noToken = await fetch(`${relay.url}/v1/moderations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"other"}' })
  t.equal(noToken.status, 401)
  t.equal(up.requests.length, 0)
})
