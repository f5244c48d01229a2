import t from 'tap'
import { startUpstream } from '../helpers/upstream.js'
import { startRelay, chatBody } from '../helpers/relay.js'

t.test('per-key models: /v1/models shows each key exactly what it may call, aliases included', async (t) => {
  const up = await startUpstream(t, (_req, res, received) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ id: 'c', object: 'chat.completion', created: 1, model: received.json.model, choices: [] }))
  })
  const other = await startUpstream(t)
  const relay = await startRelay(t, {
    upstreams: [
      { name: 'up', baseUrl: up.baseUrl, models: ['gpt-a', 'gpt-b'] },
      { name: 'other', baseUrl: other.baseUrl, models: ['llama'] },
    ],
    aliases: { fast: 'gpt-a' },
    keys: [
      { name: 'narrow', key: 'sk-narrow', models: ['fast', 'llama'] },
      { name: 'wide', key: 'sk-wide', models: ['*'] },
    ],
  })
  const list = async (token: string) => {
    const res = await fetch(`${relay.url}/v1/models`, { headers: { authorization: `Bearer ${token}` } })
    t.equal(res.status, 200)
    const body = await res.json() as { object: string, data: Array<{ id: string, object: string, owned_by: string }> }
    t.equal(body.object, 'list')
    return body.data.map((m) => `${m.id}@${m.owned_by}`).sort()
  }
  t.strictSame(await list('sk-narrow'), ['fast@up', 'llama@other'])
  t.strictSame(await list('sk-wide'), ['fast@up', 'gpt-a@up', 'gpt-b@up', 'llama@other'])

  const chat = (token: string, model: string) => fetch(`${relay.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: chatBody(model),
  })
  // What the list shows can be called; what it hides cannot, not even the alias's target by its own name.
  const viaAlias = await chat('sk-narrow', 'fast')
  t.equal(viaAlias.status, 200)
  t.equal(((await viaAlias.json()) as { model: string }).model, 'fast', 'answered under the alias')
  t.equal(up.requests[0]?.json.model, 'gpt-a', 'the upstream saw its own name')
  for (const model of ['gpt-a', 'gpt-b']) {
    const denied = await chat('sk-narrow', model)
    t.equal(denied.status, 403, model)
    t.strictSame(await denied.json(), {
      error: { message: `The model "${model}" is not allowed for this API key`, type: 'permission_error', param: 'model', code: 'model_not_allowed' },
    })
  }
  t.equal(up.requests.length, 1, 'denied requests never reached the upstream')
  t.equal((await chat('sk-wide', 'gpt-b')).status, 200)
})
