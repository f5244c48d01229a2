import t, { type Test } from 'tap'
import { startRelay } from '../helpers/relay.js'
import { startUpstream } from '../helpers/upstream.js'

// SPEC §4: GET /v1/models/:model is one object of the /v1/models list, under the same visibility
// rules per key (aliases included, the key's allow-list applied), else 404 model_not_found.

async function rig (t: Test) {
  const up = await startUpstream(t)
  return startRelay(t, {
    keys: [{ name: 'all', key: 'sk-all' }, { name: 'narrow', key: 'sk-narrow', models: ['fast'] }],
    aliases: { fast: 'gpt-a' },
    upstreams: [{ name: 'up', baseUrl: up.baseUrl, models: ['gpt-a', 'Qwen/Qwen2.5-7B-Instruct'] }],
  })
}

function get (relay: { url: string }, path: string, token: string): Promise<Response> {
  return fetch(`${relay.url}${path}`, { headers: { authorization: `Bearer ${token}` } })
}

t.test('one model object of the list, ids with a slash too (encoded or not)', async (t) => {
  const relay = await rig(t)
  const list = await (await get(relay, '/v1/models', 'sk-all')).json() as { data: unknown[] }
  for (const [path, id] of <Array<[string, string]>>[['/v1/models/gpt-a', 'gpt-a'], ['/v1/models/fast', 'fast'], ['/v1/models/Qwen%2FQwen2.5-7B-Instruct', 'Qwen/Qwen2.5-7B-Instruct'], ['/v1/models/Qwen/Qwen2.5-7B-Instruct', 'Qwen/Qwen2.5-7B-Instruct']]) {
    const res = await get(relay, path, 'sk-all')
    t.equal(res.status, 200, `${path}: status`)
    const model = await res.json()
    t.strictSame(model, { id, object: 'model', created: 0, owned_by: 'up' }, `${path}: the object`)
    t.ok(list.data.some((m) => JSON.stringify(m) === JSON.stringify(model)), `${path}: the same as in the list`)
  }
})

t.test('unknown, or not allowed for the key: 404 model_not_found; no token: 401', async (t) => {
  const relay = await rig(t)
  const unknown = await get(relay, '/v1/models/gpt-nope', 'sk-all')
  t.equal(unknown.status, 404)
  t.strictSame(await unknown.json(), { error: { message: 'The model "gpt-nope" does not exist or is not served by this relay', type: 'invalid_request_error', param: 'model', code: 'model_not_found' } })
  t.equal((await get(relay, '/v1/models/fast', 'sk-narrow')).status, 200, 'the narrow key sees its alias')
  const hidden = await get(relay, '/v1/models/gpt-a', 'sk-narrow')
  t.equal(hidden.status, 404, 'a model outside the key\'s allow-list is not there for it')
  t.match(await hidden.json(), { error: { code: 'model_not_found' } })
  t.equal((await fetch(`${relay.url}/v1/models/gpt-a`)).status, 401)
})
