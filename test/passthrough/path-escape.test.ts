import t from 'tap'
import { request } from 'node:http'
import { startRelayOver } from '../helpers/relay.js'

// SPEC §4: the client can never choose the upstream URL. A forwarded path is plain segments
// only: `..`, `.`, encoded dots, slashes and backslashes, backslashes and empty segments are
// refused, and the upstream never sees them. A multipart body (a file upload) is a clear 415.

/** A POST with this exact request target (fetch would normalise `..` away). */
function rawPost (port: number, path: string, body: string, contentType = 'application/json'): Promise<{ status: number, body: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path, headers: { 'content-type': contentType, 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { text += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

const ESCAPES = [
  '/v1/../admin',
  '/v1/rerank/../../admin',
  '/v1/./rerank',
  '/v1/%2e%2e/admin',
  '/v1/%2E%2E/admin',
  '/v1/.%2e/admin',
  '/v1/a%2fb',
  '/v1/a%2F..%2Fb',
  '/v1/a%5cb',
  '/v1/a\\..\\b',
  '/v1//rerank',
  '/v1/rerank/',
  '/v1/chat/completions/../../admin',
]

t.test('path escapes are refused before any upstream call', async (t) => {
  const { up, relay } = await startRelayOver(t, (_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{}') })
  for (const path of ESCAPES) {
    const res = await rawPost(relay.port, path, '{"model":"m"}')
    t.ok(res.status === 400 || res.status === 404, `${path}: ${res.status}`)
    t.ok(['invalid_request', 'not_found'].includes(res.body?.error?.code), `${path}: ${res.body?.error?.code}`)
  }
  t.equal(up.requests.length, 0, 'the upstream saw none of them')
  const plain = await rawPost(relay.port, '/v1/rerank', '{"model":"m"}')
  t.equal(plain.status, 200, 'a plain path still goes through')
  t.equal(up.requests[0]?.url, '/v1/rerank')
})

t.test('a multipart upload (audio/transcriptions): 415 naming the limitation', async (t) => {
  const { up, relay } = await startRelayOver(t)
  const form = new FormData()
  form.set('model', 'whisper-1')
  form.set('file', new Blob([new Uint8Array(16)]), 'a.wav')
  const res = await fetch(`${relay.url}/v1/audio/transcriptions`, { method: 'POST', body: form })
  t.equal(res.status, 415)
  t.strictSame(await res.json(), { error: { message: 'Multipart bodies (file uploads, as /v1/audio/transcriptions takes) are not supported: the relay forwards JSON bodies only, routed by their "model"', type: 'invalid_request_error', param: null, code: 'unsupported_media_type' } })
  t.equal(up.requests.length, 0)
})
