import t, { type Test } from 'tap'
import { startRelay, chatBody, readAll, waitFor } from '../helpers/relay.js'
import { chatChunk, startUpstream, streamFrames, SSE_HEADERS, sleep } from '../helpers/upstream.js'
import { parseEvents } from '../helpers/streams.js'

// Resumable POST streams in one process (SPEC §6): a streamed POST with an Idempotency-Key keeps its
// generation, and a repeat (same client key, same key, same body) attaches to it instead of calling
// the upstream again. Across replicas the same happens through Redis (test/replicas/).

const PIECES = ['One ', 'two ', 'three ', 'four ', 'five.']
const KEYS = [{ name: 'web', key: 'sk-web' }, { name: 'other', key: 'sk-other' }]

async function rig (t: Test, gapMs = 0) {
  const up = await startUpstream(t, async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    await streamFrames(res, [...PIECES.map((p) => chatChunk(p)), chatChunk(null, { finish: 'stop' })], { gapMs })
  })
  const relay = await startRelay(t, { keys: KEYS, upstreams: [{ name: 'up', baseUrl: up.baseUrl, models: ['m'] }] })
  const post = (o: { key?: string, token?: string, body?: string, format?: string, lastEventId?: string, signal?: AbortSignal } = {}) => fetch(`${relay.url}/v1/chat/completions?format=${o.format ?? 'content'}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${o.token ?? 'sk-web'}`,
      ...(o.key !== undefined && { 'idempotency-key': o.key }),
      ...(o.lastEventId !== undefined && { 'last-event-id': o.lastEventId }),
    },
    body: o.body ?? chatBody('m', { stream: true }),
    ...(o.signal && { signal: o.signal }),
  })
  return { up, relay, post }
}

const contentText = (text: string) => parseEvents(text).filter((e) => e.event === undefined).map((e) => JSON.parse(e.data).content).join('')

t.test('a repeat after the end replays the whole stream, without a second upstream call', async (t) => {
  const { up, post } = await rig(t)
  const first = await readAll(await post({ key: 'req-1' }))
  t.equal(contentText(first.text), PIECES.join(''))
  const again = await post({ key: 'req-1' })
  t.equal(again.status, 200)
  const second = await readAll(again)
  t.equal(second.text, first.text, 'the same events, byte for byte, ids included')
  t.equal(up.requests.length, 1, 'one upstream call for both')
})

t.test('a repeat with Last-Event-ID gets exactly the events after it, in the format it asks for', async (t) => {
  const { up, post } = await rig(t)
  const first = parseEvents((await readAll(await post({ key: 'req-2' }))).text)
  t.same(first.map((e) => e.id), ['1', '2', '3', '4', '5', '6'], 'five answer events and the stop')
  const rest = parseEvents((await readAll(await post({ key: 'req-2', lastEventId: '3' }))).text)
  t.same(rest.map((e) => [e.id, e.event]), [['4', undefined], ['5', undefined], ['6', 'stop']])
  t.equal(rest.slice(0, 2).map((e) => JSON.parse(e.data).content).join(''), 'four five.')
  const asOpenai = parseEvents((await readAll(await post({ key: 'req-2', format: 'openai' }))).text)
  t.equal(asOpenai.at(-1)?.data, '[DONE]', 'the openai form of the same generation ends with [DONE]')
  t.equal(asOpenai.filter((e) => e.data !== '[DONE]').map((e) => JSON.parse(e.data).choices[0].delta.content ?? '').join(''), PIECES.join(''))
  t.equal(up.requests.length, 1)
})

t.test('a client cut mid-stream retries with Last-Event-ID and follows the same generation live to the end', async (t) => {
  const { up, post } = await rig(t, 150)
  const controller = new AbortController()
  const res = await post({ key: 'req-3', signal: controller.signal })
  const reader = res.body!.getReader()
  let seen = ''
  while (parseEvents(seen).length < 2) seen += new TextDecoder().decode((await reader.read()).value)
  controller.abort()
  const got = parseEvents(seen)
  const last = got.at(-1)!.id!
  const resumed = await readAll(await post({ key: 'req-3', lastEventId: last }))
  const all = [...got, ...parseEvents(resumed.text)]
  t.same(all.map((e) => e.id), ['1', '2', '3', '4', '5', '6'], 'no event lost, none twice')
  t.equal(all.filter((e) => e.event === undefined).map((e) => JSON.parse(e.data).content).join(''), PIECES.join(''))
  t.equal(up.requests.length, 1, 'the generation went on while the client was away; no second call')
})

t.test('the same key with another body is 422 idempotency_key_reused', async (t) => {
  const { up, post } = await rig(t)
  await readAll(await post({ key: 'req-4' }))
  const other = await post({ key: 'req-4', body: chatBody('m', { stream: true, temperature: 0.1 }) })
  t.equal(other.status, 422)
  t.match(await other.json(), { error: { code: 'idempotency_key_reused', param: 'Idempotency-Key' } })
  t.equal(up.requests.length, 1)
})

t.test('another client key never sees it: the same Idempotency-Key is its own generation', async (t) => {
  const { up, post } = await rig(t)
  await readAll(await post({ key: 'shared-key' }))
  const theirs = await readAll(await post({ key: 'shared-key', token: 'sk-other' }))
  t.equal(contentText(theirs.text), PIECES.join(''))
  t.equal(up.requests.length, 2, 'a second upstream call, for the other key')
})

t.test('POST /v1/streams with an Idempotency-Key: 201, then the same id with 200', async (t) => {
  const { up, relay } = await rig(t)
  const create = () => fetch(`${relay.url}/v1/streams`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-web', 'idempotency-key': 'es-1' }, body: chatBody('m') })
  const first = await create()
  t.equal(first.status, 201)
  const a = await first.json() as { id: string }
  const second = await create()
  t.equal(second.status, 200)
  const b = await second.json() as { id: string }
  t.equal(b.id, a.id, 'the same stream')
  t.match(a.id, /^[\w-]{43}$/)
  t.equal(contentText((await readAll(await fetch(`${relay.url}/v1/streams/${a.id}?format=content`))).text), PIECES.join(''))
  t.equal(up.requests.length, 1)
})

t.test('bad keys and what cannot be kept are clear 400s; nothing goes upstream', async (t) => {
  const { up, post } = await rig(t)
  for (const key of ['', 'a b', 'x'.repeat(256), 'naïve']) {
    const res = await post({ key })
    t.equal(res.status, 400, `${JSON.stringify(key.slice(0, 20))}: 400`)
    t.match(await res.json(), { error: { code: 'invalid_request', param: 'Idempotency-Key' } })
  }
  const text = await post({ key: 'as-text', format: 'text' })
  t.equal(text.status, 400, 'the text format cannot be resumed')
  t.match(await text.json(), { error: { param: 'format' } })
  t.equal(up.requests.length, 0)
})

t.test('a non-streamed request with an Idempotency-Key is simply forwarded', async (t) => {
  const up = await startUpstream(t, (_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"id":"x","choices":[]}') })
  const relay = await startRelay(t, { keys: KEYS, upstreams: [{ name: 'up', baseUrl: up.baseUrl, models: ['m'] }] })
  const ask = () => fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-web', 'idempotency-key': 'json-1' }, body: chatBody('m') })
  t.equal((await ask()).status, 200)
  t.equal((await ask()).status, 200)
  t.equal(up.requests.length, 2, 'not kept: a JSON answer is not a stream to resume')
})

t.test('an upstream refusal before the first byte is the HTTP error, and the key may be used again', async (t) => {
  let refuse = true
  const up = await startUpstream(t, async (_req, res) => {
    if (refuse) { res.writeHead(400, { 'content-type': 'application/json' }); res.end('{"error":{"message":"bad temperature","type":"invalid_request_error","code":null}}'); return }
    res.writeHead(200, SSE_HEADERS)
    await streamFrames(res, [chatChunk('ok'), chatChunk(null, { finish: 'stop' })])
  })
  const relay = await startRelay(t, { keys: KEYS, upstreams: [{ name: 'up', baseUrl: up.baseUrl, models: ['m'] }] })
  const ask = () => fetch(`${relay.url}/v1/chat/completions?format=content`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-web', 'idempotency-key': 'retry-me' }, body: chatBody('m', { stream: true }) })
  const refused = await ask()
  t.equal(refused.status, 400)
  t.match(await refused.json(), { error: { message: /bad temperature/ } })
  refuse = false
  const ok = await ask()
  t.equal(ok.status, 200)
  t.equal(contentText((await readAll(ok)).text), 'ok')
  t.equal(up.requests.length, 2, 'the refused attempt left no generation behind')
})

t.test('two identical first requests at once: one generation, both read it', async (t) => {
  const { up, post } = await rig(t, 20)
  const [a, b] = await Promise.all([post({ key: 'twin' }), post({ key: 'twin' })])
  const [ta, tb] = await Promise.all([readAll(a), readAll(b)])
  t.equal(contentText(ta.text), PIECES.join(''))
  t.equal(contentText(tb.text), PIECES.join(''))
  await sleep(50)
  t.equal(up.requests.length, 1)
})

t.test('summary lines: the repeat is logged as a completed stream of the same key', async (t) => {
  const { relay, post } = await rig(t)
  await readAll(await post({ key: 'logged' }))
  await readAll(await post({ key: 'logged', lastEventId: '5' }))
  await waitFor('two summaries', () => relay.summaries().filter((s) => s.url?.startsWith('/v1/chat')).length >= 2)
  const lines = relay.summaries().filter((s) => s.url?.startsWith('/v1/chat'))
  t.same(lines.map((s) => [s.keyName, s.status, s.outcome]), [['web', 200, 'completed'], ['web', 200, 'completed']])
})

t.test('a repeat counts against its key\'s requests per minute like any request', async (t) => {
  const up = await startUpstream(t, async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    await streamFrames(res, [chatChunk('hi'), chatChunk(null, { finish: 'stop' })])
  })
  const relay = await startRelay(t, { keys: [{ name: 'web', key: 'sk-web', requestsPerMinute: 2 }], upstreams: [{ name: 'up', baseUrl: up.baseUrl, models: ['m'] }] })
  const ask = () => fetch(`${relay.url}/v1/chat/completions?format=content`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-web', 'idempotency-key': 'rated' }, body: chatBody('m', { stream: true }) })
  t.equal((await ask()).status, 200)
  const repeat = await ask()
  t.equal(repeat.status, 200)
  await repeat.text()
  const third = await ask()
  t.equal(third.status, 429, 'the third request of the minute is refused, repeat or not')
  t.ok(third.headers.get('retry-after'))
  t.equal(up.requests.length, 1)
})

t.test('/v1/responses with an Idempotency-Key: a clear 400 (not kept yet), nothing goes upstream', async (t) => {
  const { up, relay } = await rig(t)
  const res = await fetch(`${relay.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-web', 'idempotency-key': 'resp-1' }, body: JSON.stringify({ model: 'm', input: 'hi', stream: true }) })
  t.equal(res.status, 400)
  t.match(await res.json(), { error: { code: 'invalid_request', param: 'Idempotency-Key', message: /not available on \/v1\/responses/ } })
  t.equal(up.requests.length, 0)
})
