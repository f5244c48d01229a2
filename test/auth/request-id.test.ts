import t from 'tap'
import { startUpstream } from '../helpers/upstream.js'
import { startRelay, chatBody } from '../helpers/relay.js'

// SPEC §8: X-Request-Id is taken from the request (when sane) or generated,
// returned to the client, sent upstream, and is the id in the log line.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

t.test('request ids: kept when sane, generated otherwise, the same at the client, upstream and in the log', async (t) => {
  const up = await startUpstream(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end('{"object":"chat.completion","choices":[]}')
  })
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const send = async (requestId?: string) => {
    const res = await fetch(`${relay.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(requestId === undefined ? {} : { 'x-request-id': requestId }) },
      body: chatBody('gpt-test'),
    })
    t.equal(res.status, 200)
    await res.text()
    return res.headers.get('x-request-id')
  }

  const sane = 'req_01HZX-abc.def:42/x+y=z@host'
  t.equal(await send(sane), sane, 'a sane client id is returned')
  t.equal(up.requests[0]?.headers['x-request-id'], sane, 'and sent upstream')

  const generated = await send()
  t.match(generated, UUID, 'without one, a UUID is generated')
  t.equal(up.requests[1]?.headers['x-request-id'], generated, 'and sent upstream')

  const insane = ['a'.repeat(300), 'has spaces in it', 'semi;colon', 'quote"d', '']
  const replaced: Array<string | null> = []
  for (const [i, bad] of insane.entries()) {
    const id = await send(bad)
    replaced.push(id)
    t.match(id, UUID, `${JSON.stringify(bad.slice(0, 20))} is replaced by a generated id`)
    t.equal(up.requests[2 + i]?.headers['x-request-id'], id, 'the replacement is what goes upstream')
  }
  t.equal(new Set([generated, ...replaced]).size, insane.length + 1, 'generated ids are unique')

  const lines = relay.summaries()
  t.strictSame(lines.map((l) => l.requestId), [sane, generated, ...replaced], 'the log line carries the same id')
  t.strictSame(lines.map((l) => l.reqId), [sane, generated, ...replaced], "and so does pino's reqId")
})

t.test('errors answered by the relay itself carry the id too', async (t) => {
  const relay = await startRelay(t)
  const res = await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'abc-123' }, body: '{' })
  t.equal(res.status, 400)
  t.equal(res.headers.get('x-request-id'), 'abc-123')
  await res.text()
  const notFound = await fetch(`${relay.url}/nope`, { headers: { 'x-request-id': 'abc-404' } })
  t.equal(notFound.status, 404)
  t.equal(notFound.headers.get('x-request-id'), 'abc-404')
  await notFound.text()
  t.strictSame(relay.summaries().map((l) => [l.requestId, l.status]), [['abc-123', 400], ['abc-404', 404]])
})

t.test('a streamed answer returns the id in its headers', async (t) => {
  const relay = await startRelay(t)
  const res = await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'stream-1' }, body: chatBody('demo', { stream: true }) })
  t.equal(res.status, 200)
  t.equal(res.headers.get('x-request-id'), 'stream-1')
  await res.text()
  t.equal(relay.summaries()[0]?.requestId, 'stream-1')
})
