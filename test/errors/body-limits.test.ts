import t from 'tap'
import { request } from 'node:http'
import { startUpstream } from '../helpers/upstream.js'
import { startRelay, chatBody } from '../helpers/relay.js'

// SPEC §10: 413 request_too_large over `bodyLimitBytes`; 415 unsupported_media_type for a non-JSON body.

t.test('a body over bodyLimitBytes is a 413 request_too_large, not forwarded', async (t) => {
  const up = await startUpstream(t)
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }], bodyLimitBytes: 1024 })
  const big = chatBody('gpt-test', { pad: 'x'.repeat(2000) })
  const res = await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big })
  t.equal(res.status, 413)
  t.strictSame(await res.json(), {
    error: { message: 'Request body is larger than the limit of 1024 bytes', type: 'invalid_request_error', param: null, code: 'request_too_large' },
  })
  t.equal(up.requests.length, 0)
  t.strictSame(relay.summaries().map((l) => [l.status, l.outcome]), [[413, 'rejected']])
})

t.test('a chunked body (no Content-Length) that grows past the limit is also a 413', async (t) => {
  const relay = await startRelay(t, { bodyLimitBytes: 1024 })
  const { status, body } = await new Promise<{ status: number, body: string }>((resolve, reject) => {
    const req = request(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { text += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
    })
    req.on('error', reject)
    req.write(chatBody('demo').slice(0, -1))
    req.write(`, "pad": "${'y'.repeat(3000)}"}`)
    req.end()
  })
  t.equal(status, 413)
  t.strictSame(JSON.parse(body), {
    error: { message: 'Request body is larger than the limit of 1024 bytes', type: 'invalid_request_error', param: null, code: 'request_too_large' },
  })
})

t.test('a text/plain body is a 415 unsupported_media_type', async (t) => {
  const up = await startUpstream(t)
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
    const res = await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': type }, body: chatBody('gpt-test') })
    t.equal(res.status, 415, `${type}: status`)
    t.strictSame(await res.json(), {
      error: { message: `Unsupported Content-Type ${JSON.stringify(type)}: send application/json`, type: 'invalid_request_error', param: null, code: 'unsupported_media_type' },
    }, `${type}: envelope`)
  }
  t.equal(up.requests.length, 0)
  // JSON with a charset parameter is JSON.
  const ok = await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body: chatBody('gpt-test') })
  t.equal(ok.status, 404, 'reaches the upstream (which answers 404 by default)')
  await ok.text()
  t.equal(up.requests.length, 1)
})

t.test('a body with no Content-Type at all is a 415 that says so', async (t) => {
  const relay = await startRelay(t)
  const { status, body } = await new Promise<{ status: number, body: string }>((resolve, reject) => {
    const payload = chatBody('demo')
    const req = request(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-length': Buffer.byteLength(payload) } }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { text += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
    })
    req.on('error', reject)
    req.end(payload)
  })
  t.equal(status, 415)
  t.strictSame(JSON.parse(body), {
    error: { message: 'Missing Content-Type: send application/json', type: 'invalid_request_error', param: null, code: 'unsupported_media_type' },
  })
})
