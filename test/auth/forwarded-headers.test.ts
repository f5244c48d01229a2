import t from 'tap'
import { request } from 'node:http'
import { startUpstream } from '../helpers/upstream.js'
import { startRelay, chatBody } from '../helpers/relay.js'

// SPEC §4: the client's credentials, cookies and hop-by-hop headers (RFC 9110
// §7.6.1, including any header named in Connection) never reach the upstream;
// ordinary API headers such as OpenAI-Beta do.

/** node:http, not fetch: fetch refuses to send several of these headers. */
function post (url: string, headers: Record<string, string>, body: string): Promise<{ status: number, text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { text += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

t.test('credentials, cookies and hop-by-hop headers stay at the relay; OpenAI-Beta passes', async (t) => {
  const up = await startUpstream(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end('{"object":"chat.completion","choices":[]}')
  })
  const relay = await startRelay(t, {
    upstreams: [{ name: 'up', baseUrl: up.baseUrl, apiKey: 'sk-upstream-secret' }],
    keys: [{ name: 'web', key: 'sk-client-token' }],
  })
  const res = await post(`${relay.url}/v1/chat/completions`, {
    'content-type': 'application/json',
    authorization: 'Bearer sk-client-token',
    cookie: 'session=cookie-secret',
    'x-api-key': 'xapikey-secret',
    'proxy-authorization': 'Basic cHJveHk6c2VjcmV0',
    connection: 'keep-alive, x-hop-by-name',
    'keep-alive': 'timeout=5',
    te: 'trailers',
    upgrade: 'h2c',
    'x-hop-by-name': 'named-in-connection',
    'openai-beta': 'assistants=v2',
    'openai-organization': 'org-123',
    'x-custom-thing': 'kept',
  }, chatBody('gpt-test'))
  t.equal(res.status, 200)
  t.equal(up.requests.length, 1)
  const h = up.requests[0]!.headers
  t.equal(h.authorization, 'Bearer sk-upstream-secret', 'the upstream key replaces the client token')
  for (const name of ['cookie', 'x-api-key', 'proxy-authorization', 'keep-alive', 'te', 'upgrade', 'x-hop-by-name']) {
    t.equal(h[name], undefined, `${name} is not forwarded`)
  }
  // undici manages its own connection; the client's Connection value must not leak through.
  t.notMatch(String(h.connection ?? ''), /x-hop-by-name/, 'the client Connection header is not forwarded')
  t.equal(h['openai-beta'], 'assistants=v2')
  t.equal(h['openai-organization'], 'org-123')
  t.equal(h['x-custom-thing'], 'kept')
  t.equal(h['content-type'], 'application/json')
  const all = JSON.stringify(h)
  for (const secret of ['sk-client-token', 'cookie-secret', 'xapikey-secret', 'cHJveHk6c2VjcmV0']) {
    t.notOk(all.includes(secret), `${secret} appears in no upstream header`)
  }
})

t.test('Expect: 100-continue (curl sends it for bodies over 1 KB) is answered by the relay, not forwarded', async (t) => {
  const up = await startUpstream(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end('{"object":"chat.completion","choices":[]}')
  })
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const big = chatBody('gpt-test', { user: 'x'.repeat(2048) })
  for (let i = 0; i < 2; i++) {
    const res = await post(`${relay.url}/v1/chat/completions`, { 'content-type': 'application/json', expect: '100-continue' }, big)
    t.equal(res.status, 200, `request ${i + 1} answered`)
  }
  t.equal(up.requests.length, 2)
  t.equal(up.requests[0]?.headers.expect, undefined, 'no Expect upstream')
})
