import t from 'tap'
import { startUpstream } from '../helpers/upstream.js'
import { startRelay, chatBody } from '../helpers/relay.js'

// SPEC §3: on loopback with no client keys, requests are served without auth
// and a warning is logged once (not once per request).

t.test('no keys on loopback: served anonymously, one warning', async (t) => {
  const up = await startUpstream(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end('{"object":"chat.completion","choices":[]}')
  })
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl, apiKey: 'sk-up' }] })
  const variants: Array<Record<string, string>> = [{}, { authorization: 'Bearer anything-goes' }, { authorization: 'garbage' }]
  for (const headers of variants) {
    const res = await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: chatBody('gpt-test') })
    t.equal(res.status, 200, JSON.stringify(headers))
    await res.text()
  }
  const models = await fetch(`${relay.url}/v1/models`)
  t.equal(models.status, 200)
  await models.text()

  // Three chats, and the model list's GET /v1/models (the upstream serves "*").
  t.strictSame(up.requests.map((r) => `${r.method} ${r.url}`), ['POST /v1/chat/completions', 'POST /v1/chat/completions', 'POST /v1/chat/completions', 'GET /v1/models'])
  t.ok(up.requests.every((r) => r.headers.authorization === 'Bearer sk-up'), "the client's Authorization is never passed on, even anonymous")
  t.strictSame(relay.summaries().map((l) => l.keyName), ['anonymous', 'anonymous', 'anonymous', 'anonymous'])

  const warnings = relay.logs.filter((l) => l.level === 40 && /no client API keys configured/.test(l.msg))
  t.equal(warnings.length, 1, 'warned once')
  t.equal(warnings[0]?.msg, 'no client API keys configured: requests are served without authentication (set RELAY_API_KEYS)')
})

t.test('with keys configured there is no such warning', async (t) => {
  const relay = await startRelay(t, { keys: [{ name: 'web', key: 'sk-web' }] })
  const res = await fetch(`${relay.url}/healthz`)
  await res.text()
  t.equal(relay.logs.filter((l) => /no client API keys/.test(String(l.msg))).length, 0)
})
