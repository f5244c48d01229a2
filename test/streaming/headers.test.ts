import t from 'tap'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { once } from 'node:events'
import { startUpstream, chatChunk, streamFrames } from '../helpers/upstream.js'
import { startRelay, chatBody } from '../helpers/relay.js'

// SPEC §5: the anti-buffering headers, chunked, never compressed — even when the client offers gzip.

async function post (url: string, body: string, headers: Record<string, string>): Promise<{ res: IncomingMessage, body: Buffer }> {
  const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } })
  req.end(body)
  const [res] = await once(req, 'response') as [IncomingMessage]
  const chunks: Buffer[] = []
  for await (const c of res) chunks.push(c as Buffer)
  return { res, body: Buffer.concat(chunks) }
}

t.test('stream headers: event-stream, no-cache no-transform, no buffering, chunked, uncompressed', async (t) => {
  const up = await startUpstream(t)
  up.handler = async (_req, res) => {
    // An upstream that says its own things about caching and length must not leak them to the client.
    res.setHeader('x-upstream-private', 'secret-ish')
    await streamFrames(res, [chatChunk('Hi'), chatChunk(null, { finish: 'stop' })])
  }
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const { res, body } = await post(`${relay.url}/v1/chat/completions`, chatBody('gpt-test', { stream: true, stream_options: { include_usage: false } }), {
    'accept-encoding': 'gzip, deflate, br',
    'x-request-id': 'req-headers-1',
  })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'text/event-stream; charset=utf-8')
  t.equal(res.headers['cache-control'], 'no-cache, no-transform')
  t.equal(res.headers['x-accel-buffering'], 'no')
  t.equal(res.headers['content-length'], undefined, 'no Content-Length')
  t.equal(res.headers['transfer-encoding'], 'chunked')
  t.equal(res.headers['content-encoding'], undefined, 'no Content-Encoding although gzip was offered')
  t.equal(res.headers['x-request-id'], 'req-headers-1', 'the request id is returned')
  t.equal(res.headers['x-upstream-private'], undefined, 'upstream headers are not copied wholesale')
  t.equal(body.toString('utf8'), `data: ${chatChunk('Hi')}\n\ndata: ${chatChunk(null, { finish: 'stop' })}\n\ndata: [DONE]\n\n`, 'the body is plain SSE text')
  t.equal(up.requests[0]?.headers['accept-encoding'], undefined, 'the client\'s Accept-Encoding is not passed upstream (the relay parses the bytes)')
  t.equal(up.requests[0]?.headers['x-request-id'], 'req-headers-1', 'and the request id goes upstream')
})

t.test('content and text formats: their own content types, same anti-buffering headers', async (t) => {
  const up = await startUpstream(t)
  up.handler = (_req, res) => streamFrames(res, [chatChunk('Hi'), chatChunk(null, { finish: 'stop' })])
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const expected = {
    content: ['text/event-stream; charset=utf-8', 'id: 1\ndata: {"content":"Hi"}\n\nid: 2\nevent: stop\ndata: {"finish_reason":"stop","usage":null}\n\n'],
    text: ['text/plain; charset=utf-8', 'Hi'],
  }
  for (const [format, [type, text]] of Object.entries(expected)) {
    const { res, body } = await post(`${relay.url}/v1/chat/completions?format=${format}`, chatBody('gpt-test', { stream: true }), { 'accept-encoding': 'gzip' })
    t.equal(res.statusCode, 200, format)
    t.equal(res.headers['content-type'], type, `${format} content type`)
    t.equal(res.headers['cache-control'], 'no-cache, no-transform', `${format} cache-control`)
    t.equal(res.headers['x-accel-buffering'], 'no', `${format} x-accel-buffering`)
    t.equal(res.headers['content-length'], undefined, `${format} no content-length`)
    t.equal(res.headers['content-encoding'], undefined, `${format} no content-encoding`)
    t.equal(body.toString('utf8'), text, `${format} body`)
  }
})
