import t from 'tap'
import { startUpstream } from '../helpers/upstream.js'
import { startRelay, chatBody } from '../helpers/relay.js'

// SPEC §10, 404: an unknown route is `not_found`; a model no upstream serves is `model_not_found`.

t.test('an unknown route is a 404 not_found envelope, whatever the method', async (t) => {
  const relay = await startRelay(t)
  const cases: Array<[string, string, string]> = [
    ['GET', '/v1/nope', 'Unknown route: GET /v1/nope'],
    ['POST', '/v2/chat/completions?x=1', 'Unknown route: POST /v2/chat/completions'],
    ['GET', '/v1/chat/completions', 'Unknown route: GET /v1/chat/completions'],
    ['DELETE', '/healthz', 'Unknown route: DELETE /healthz'],
  ]
  for (const [method, path, message] of cases) {
    const res = await fetch(relay.url + path, { method, ...(method === 'POST' ? { headers: { 'content-type': 'application/json' }, body: '{}' } : {}) })
    t.equal(res.status, 404, `${method} ${path}: status`)
    t.equal(res.headers.get('content-type'), 'application/json; charset=utf-8')
    t.strictSame(await res.json(), { error: { message, type: 'invalid_request_error', param: null, code: 'not_found' } }, `${method} ${path}: envelope`)
  }
})

t.test('a model that no upstream lists is a 404 model_not_found, not forwarded', async (t) => {
  const up = await startUpstream(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end('{"object":"chat.completion","choices":[]}')
  })
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl, models: ['gpt-a', 'gpt-b'] }] })
  const ask = (model: string, stream: boolean) => fetch(`${relay.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody(model, { stream }),
  })
  for (const stream of [false, true]) {
    const res = await ask('gpt-c', stream)
    t.equal(res.status, 404, `stream ${stream}: status`)
    t.strictSame(await res.json(), {
      error: { message: 'The model "gpt-c" does not exist or is not served by this relay', type: 'invalid_request_error', param: 'model', code: 'model_not_found' },
    }, `stream ${stream}: envelope`)
  }
  t.equal(up.requests.length, 0, 'nothing forwarded')

  const served = await ask('gpt-b', false)
  t.equal(served.status, 200)
  await served.text()
  t.equal(up.requests.length, 1)

  t.strictSame(relay.summaries().map((l) => [l.status, l.outcome, l.model]), [
    [404, 'rejected', 'gpt-c'], [404, 'rejected', 'gpt-c'], [200, 'completed', 'gpt-b'],
  ])
})

t.test('with no upstream configured only "demo" exists', async (t) => {
  const relay = await startRelay(t)
  const res = await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-4o') })
  t.equal(res.status, 404)
  t.equal(((await res.json()) as { error: { code: string } }).error.code, 'model_not_found')
})
