import t from 'tap'
import { startUpstream } from '../helpers/upstream.js'
import { startRelay } from '../helpers/relay.js'
import { createStream } from '../helpers/streams.js'

// POST /v1/streams waits for the upstream's answer headers: a refusal there is a normal HTTP
// error for the page to show (an EventSource could only fail on it, without a word).
t.test('an upstream 4xx/5xx or an unreachable upstream answers the POST; no stream is created', async (t) => {
  const up = await startUpstream(t)
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const body = { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }

  up.handler = (_req, res) => {
    res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' })
    res.end(JSON.stringify({ error: { message: 'Rate limit reached for gpt-test', type: 'requests', param: null, code: 'rate_limit_exceeded' } }))
  }
  const limited = await fetch(`${relay.url}/v1/streams`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  t.equal(limited.status, 429)
  t.equal(limited.headers.get('retry-after'), '7')
  t.same(await limited.json(), { error: { message: 'Rate limit reached for gpt-test', type: 'requests', param: null, code: 'rate_limit_exceeded' } })

  up.handler = (_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"not":"a stream"}') }
  const notSse = await createStream(relay.url, body)
  t.equal(notSse.status, 502)
  t.equal(notSse.json.error.code, 'upstream_error')

  await up.close()
  const down = await createStream(relay.url, body)
  t.equal(down.status, 502)
  t.equal(down.json.error.code, 'upstream_error')
  t.notOk(relay.logs.some((l) => l.msg === 'stream finished'), 'no generation was started')
})
