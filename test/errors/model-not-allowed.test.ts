import t from 'tap'
import { startUpstream } from '../helpers/upstream.js'
import { startRelay, chatBody } from '../helpers/relay.js'

// SPEC §10, 403 model_not_allowed: a key limited to some models asks for another.

t.test('a key with models ["a"] asking for "b" gets 403 model_not_allowed', async (t) => {
  const up = await startUpstream(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end('{"object":"chat.completion","choices":[]}')
  })
  const relay = await startRelay(t, {
    upstreams: [{ name: 'up', baseUrl: up.baseUrl, models: ['a', 'b'] }],
    keys: [{ name: 'limited', key: 'sk-limited', models: ['a'] }],
  })
  const ask = (model: string) => fetch(`${relay.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-limited' }, body: chatBody(model),
  })

  const denied = await ask('b')
  t.equal(denied.status, 403)
  t.strictSame(await denied.json(), {
    error: { message: 'The model "b" is not allowed for this API key', type: 'permission_error', param: 'model', code: 'model_not_allowed' },
  })
  t.equal(up.requests.length, 0, 'nothing forwarded')

  const allowed = await ask('a')
  t.equal(allowed.status, 200)
  await allowed.text()
  t.equal(up.requests.length, 1)
  t.equal(up.requests[0]?.json.model, 'a')

  // A model the relay does not serve at all is still "not allowed" for this key: the key's list is checked first.
  const unknown = await ask('zzz')
  t.equal(unknown.status, 403)
  t.equal(((await unknown.json()) as { error: { code: string } }).error.code, 'model_not_allowed')

  const lines = relay.summaries()
  t.strictSame(lines.map((l) => [l.status, l.outcome, l.keyName, l.model]), [
    [403, 'rejected', 'limited', 'b'],
    [200, 'completed', 'limited', 'a'],
    [403, 'rejected', 'limited', 'zzz'],
  ])
})

t.test('/v1/models lists only what the key may use', async (t) => {
  const up = await startUpstream(t)
  const relay = await startRelay(t, {
    upstreams: [{ name: 'up', baseUrl: up.baseUrl, models: ['a', 'b'] }],
    keys: [{ name: 'limited', key: 'sk-limited', models: ['a'] }],
  })
  const res = await fetch(`${relay.url}/v1/models`, { headers: { authorization: 'Bearer sk-limited' } })
  t.equal(res.status, 200)
  const body = await res.json() as { data: Array<{ id: string }> }
  t.strictSame(body.data.map((m) => m.id), ['a'])
})
