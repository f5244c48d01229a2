import t from 'tap'
import type { ServerResponse } from 'node:http'
import { startUpstream, chatChunk, SSE_HEADERS, sleep } from '../helpers/upstream.js'
import { startRelay, chatBody, readUntilEnd } from '../helpers/relay.js'

// SPEC §5: plain text cannot say "error", so a mid-stream failure destroys the connection and a
// fetch() reader sees an error instead of a clean end that would look like a complete answer.

const failures: Array<[string, (res: ServerResponse) => void]> = [
  ['socket reset', (res) => res.socket?.destroy()],
  ['end without [DONE]', (res) => res.end()],
  ['in-band error then [DONE]', (res) => res.end('data: {"error":{"message":"boom","type":"server_error","param":null,"code":null}}\n\ndata: [DONE]\n\n')],
]

for (const [name, fail] of failures) {
  t.test(`text format, ${name}: the reader rejects after the good text`, async (t) => {
    const up = await startUpstream(t)
    up.handler = async (_req, res) => {
      res.writeHead(200, SSE_HEADERS)
      res.write(`data: ${chatChunk('你好')}\n\ndata: ${chatChunk(' 😀')}\n\n`)
      await sleep(50)
      fail(res)
    }
    const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
    const res = await fetch(`${relay.url}/v1/chat/completions?format=text`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true }),
    })
    t.equal(res.status, 200)
    t.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8')
    const { text, error: failure } = await readUntilEnd(res)
    t.equal(text, '你好 😀', 'the text before the failure arrived')
    t.ok(failure instanceof Error, `the reader rejected (${String(failure)}) instead of ending cleanly`)
    t.equal((await relay.waitForSummaries())[0]?.outcome, 'upstream_error')
  })
}

t.test('text format, a stream that completes: a clean end', async (t) => {
  const up = await startUpstream(t)
  up.handler = (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    res.end(`data: ${chatChunk('你好')}\n\ndata: ${chatChunk(null, { finish: 'stop' })}\n\ndata: [DONE]\n\n`)
  }
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const res = await fetch(`${relay.url}/v1/chat/completions?format=text`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true }),
  })
  t.equal(await res.text(), '你好')
  t.equal((await relay.waitForSummaries())[0]?.outcome, 'completed')
})
