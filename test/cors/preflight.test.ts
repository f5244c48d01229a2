import t from 'tap'
import { startUpstream, chatChunk, streamFrames } from '../helpers/upstream.js'
import { startRelay } from '../helpers/relay.js'

// SPEC §3 CORS_ORIGINS / cors.origins (@fastify/cors): a browser page on an allowed origin may
// POST with Authorization (the preflight says so); another origin's preflight gets no
// Access-Control-Allow-Origin, so the browser refuses the request.
const ALLOWED = 'http://127.0.0.1:5173'
const OTHER = 'http://127.0.0.1:6666'

function preflight (url: string, origin: string, method: string, headers: string) {
  return fetch(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers } })
}

t.test('preflight for POST with Authorization: allowed origin yes, other origin no', async (t) => {
  const relay = await startRelay(t, { cors: { origins: [ALLOWED] }, keys: [{ name: 'web', key: 'sk-web-0123456789' }] })
  const ok = await preflight(`${relay.url}/v1/chat/completions`, ALLOWED, 'POST', 'authorization,content-type')
  t.equal(ok.status, 204)
  t.equal(ok.headers.get('access-control-allow-origin'), ALLOWED)
  t.match(ok.headers.get('access-control-allow-methods'), /\bPOST\b/)
  t.match(ok.headers.get('access-control-allow-headers'), /\bauthorization\b/)
  t.match(ok.headers.get('access-control-allow-headers'), /\bcontent-type\b/)
  t.equal(ok.headers.get('access-control-max-age'), '600')
  t.match(ok.headers.get('vary'), /Origin/)
  t.equal(ok.headers.get('access-control-allow-credentials'), null, 'no cookies: tokens travel in Authorization')

  const refused = await preflight(`${relay.url}/v1/chat/completions`, OTHER, 'POST', 'authorization,content-type')
  t.equal(refused.headers.get('access-control-allow-origin'), null, 'no Access-Control-Allow-Origin for another origin')
})

t.test('preflights of the EventSource flow: POST /v1/streams, DELETE /v1/streams/:id', async (t) => {
  const relay = await startRelay(t, { cors: { origins: [ALLOWED] } })
  const post = await preflight(`${relay.url}/v1/streams`, ALLOWED, 'POST', 'authorization,content-type,x-relay-format')
  t.equal(post.status, 204)
  t.equal(post.headers.get('access-control-allow-origin'), ALLOWED)
  t.match(post.headers.get('access-control-allow-headers'), /\bx-relay-format\b/)
  const del = await preflight(`${relay.url}/v1/streams/AAAAAAAAAAAAAAAAAAAAAA`, ALLOWED, 'DELETE', '')
  t.equal(del.status, 204)
  t.match(del.headers.get('access-control-allow-methods'), /\bDELETE\b/)
})

t.test('the actual request carries the header for the allowed origin only, errors included', async (t) => {
  const up = await startUpstream(t)
  up.handler = (_req, res) => streamFrames(res, [chatChunk('Hi')])
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }], cors: { origins: [ALLOWED] }, keys: [{ name: 'web', key: 'sk-web-0123456789' }] })
  const ask = (origin: string, auth: string) => fetch(`${relay.url}/v1/models`, { headers: { origin, authorization: auth } })
  const ok = await ask(ALLOWED, 'Bearer sk-web-0123456789')
  t.equal(ok.status, 200)
  t.equal(ok.headers.get('access-control-allow-origin'), ALLOWED)
  t.match(ok.headers.get('access-control-expose-headers'), /x-request-id/)
  const denied = await ask(ALLOWED, 'Bearer wrong')
  t.equal(denied.status, 401)
  t.equal(denied.headers.get('access-control-allow-origin'), ALLOWED, 'a 401 the page can read')
  const other = await ask(OTHER, 'Bearer sk-web-0123456789')
  t.equal(other.headers.get('access-control-allow-origin'), null)
})

t.test('"*" allows any origin', async (t) => {
  const relay = await startRelay(t, { cors: { origins: ['*'] } })
  const res = await preflight(`${relay.url}/v1/chat/completions`, OTHER, 'POST', 'authorization,content-type')
  t.equal(res.status, 204)
  t.equal(res.headers.get('access-control-allow-origin'), '*')
})
