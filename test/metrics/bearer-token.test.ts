/* eslint-disable no-template-curly-in-string -- the config's `${NAME}` references are what these tests write */
import t from 'tap'
import { loadConfig } from '../../src/config/load.js'
import { startRelay } from '../helpers/relay.js'

// /metrics may be protected by its own bearer token (config `metrics.token`, `${NAME}` allowed);
// a client API key does not open it, and its answers are the OpenAI envelope like every other error.

t.test('metrics.token: 401 envelope without it, with a wrong one or with a client key; 200 with it', async (t) => {
  const cwd = t.testdir({ 'relay.json': JSON.stringify({ metrics: { token: '${METRICS_TOKEN}' }, keys: [{ name: 'web', key: 'sk-web' }] }) })
  const config = loadConfig({ env: { RELAY_CONFIG: 'relay.json', METRICS_TOKEN: 'scrape-secret' }, argv: [], cwd })
  t.equal(config.metrics.token, 'scrape-secret', 'read from the environment')
  t.throws(() => loadConfig({ env: { RELAY_CONFIG: 'relay.json' }, argv: [], cwd }), { message: /metrics\.token: environment variable METRICS_TOKEN is not set/ })

  const relay = await startRelay(t, { metrics: { token: 'scrape-secret' }, keys: [{ name: 'web', key: 'sk-web' }] })
  const get = (authorization?: string) => fetch(`${relay.url}/metrics`, { headers: authorization === undefined ? {} : { authorization } })

  const bare = await get()
  t.equal(bare.status, 401)
  t.strictSame(await bare.json(), {
    error: { message: 'Missing metrics token: send "Authorization: Bearer <token>"', type: 'authentication_error', param: null, code: 'invalid_api_key' },
  })
  for (const header of ['Bearer scrape-secreT', 'Bearer sk-web', 'Basic scrape-secret', 'Bearer scrape-secret-and-more']) {
    const res = await get(header)
    t.equal(res.status, 401, header)
    t.equal(((await res.json()) as { error: { code: string } }).error.code, 'invalid_api_key')
  }

  const ok = await get('Bearer scrape-secret')
  t.equal(ok.status, 200)
  t.equal(ok.headers.get('cache-control'), 'no-store')
  t.match(await ok.text(), /^# TYPE llm_relay_requests_total counter$/m)
  t.notOk(relay.logText().includes('scrape-secret'), 'the token never reaches the logs')
})

t.test('without metrics.token, /metrics is open (no client key needed either)', async (t) => {
  const relay = await startRelay(t, { keys: [{ name: 'web', key: 'sk-web' }] })
  const res = await fetch(`${relay.url}/metrics`)
  t.equal(res.status, 200)
  t.match(await res.text(), /^# TYPE llm_relay_active_streams gauge$/m)
})
