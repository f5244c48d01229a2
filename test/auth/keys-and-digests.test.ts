import t from 'tap'
import { createHash } from 'node:crypto'
import { startUpstream } from '../helpers/upstream.js'
import { startRelay, chatBody } from '../helpers/relay.js'

// SPEC §4: client tokens come from `keys[].key` or `keys[].keySha256`; the
// upstream gets its own configured key, never the client's token.

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')

t.test('a token from "key" and one from "keySha256" both work; the upstream sees only its own key', async (t) => {
  const up = await startUpstream(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end('{"object":"chat.completion","choices":[]}')
  })
  const relay = await startRelay(t, {
    upstreams: [{ name: 'up', baseUrl: up.baseUrl, apiKey: 'sk-upstream-secret' }],
    keys: [
      { name: 'plain', key: 'sk-client-plain' },
      // Upper-case hex is accepted too.
      { name: 'hashed', keySha256: sha256('sk-client-hashed').toUpperCase() },
    ],
  })
  for (const token of ['sk-client-plain', 'sk-client-hashed']) {
    const res = await fetch(`${relay.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: chatBody('gpt-test'),
    })
    t.equal(res.status, 200, token)
    await res.text()
  }
  // The digest itself is not a token.
  const digest = await fetch(`${relay.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${sha256('sk-client-hashed')}` }, body: chatBody('gpt-test'),
  })
  t.equal(digest.status, 401)
  await digest.text()

  t.equal(up.requests.length, 2)
  for (const r of up.requests) {
    t.equal(r.headers.authorization, 'Bearer sk-upstream-secret', 'the upstream key is injected')
    t.notMatch(JSON.stringify(r.headers), /sk-client/, 'no client token in any header')
    t.notMatch(r.body, /sk-client/, 'nor in the body')
  }
  t.strictSame(relay.summaries().map((l) => [l.keyName, l.status]), [['plain', 200], ['hashed', 200], [undefined, 401]])
})

t.test('an upstream without apiKey gets no Authorization at all', async (t) => {
  const up = await startUpstream(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end('{}')
  })
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }], keys: [{ name: 'web', key: 'sk-client' }] })
  const res = await fetch(`${relay.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-client' }, body: chatBody('gpt-test'),
  })
  t.equal(res.status, 200)
  await res.text()
  t.equal(up.requests[0]?.headers.authorization, undefined)
})
