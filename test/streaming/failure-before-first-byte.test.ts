import t from 'tap'
import type { ServerResponse } from 'node:http'
import { startUpstream, SSE_HEADERS, closedPort } from '../helpers/upstream.js'
import { startRelay, chatBody } from '../helpers/relay.js'

// SPEC §5: when the upstream fails before its first body byte, the client gets a normal HTTP error
// (the OpenAI envelope, 502) — not a 200 SSE stream with an error event in it.

const cases: Array<[string, (res: ServerResponse) => void, string]> = [
  ['socket destroyed before any answer', (res) => res.socket?.destroy(), 'Connection to upstream "up" was reset'],
  ['200 event-stream headers, then the socket is destroyed', (res) => { res.writeHead(200, SSE_HEADERS); res.flushHeaders(); setTimeout(() => res.socket?.destroy(), 50) }, 'Connection to upstream "up" was reset'],
  ['200 event-stream headers and an empty body', (res) => { res.writeHead(200, SSE_HEADERS); res.end() }, 'Upstream "up" closed the stream without sending anything'],
  ['500 with an OpenAI envelope', (res) => { res.writeHead(500, { 'content-type': 'application/json' }); res.end('{"error":{"message":"overloaded","type":"server_error","param":null,"code":null}}') }, 'Upstream "up" answered HTTP 500: overloaded'],
  ['200 JSON to a streaming request', (res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"id":"x"}') }, 'Upstream "up" answered a streaming request with application/json: {"id":"x"}'],
]

for (const [name, answer, message] of cases) {
  t.test(name, async (t) => {
    const up = await startUpstream(t)
    up.handler = (_req, res) => answer(res)
    const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
    for (const format of ['openai', 'content', 'text']) {
      const res = await fetch(`${relay.url}/v1/chat/completions?format=${format}`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true }),
      })
      t.equal(res.status, 502, `${format}: 502`)
      t.equal(res.headers.get('content-type'), 'application/json; charset=utf-8', `${format}: a JSON answer, not a stream`)
      t.same(await res.json(), { error: { message, type: 'api_error', param: null, code: 'upstream_error' } }, `${format}: the envelope`)
    }
    t.same((await relay.waitForSummaries(3)).map((s) => [s.status, s.outcome]), [[502, 'upstream_error'], [502, 'upstream_error'], [502, 'upstream_error']])
  })
}

t.test('upstream unreachable (connection refused)', async (t) => {
  // A port that was just free: bind, note it, close.
  const port = await closedPort()
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: `http://127.0.0.1:${port}/v1` }] })
  const res = await fetch(`${relay.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true }),
  })
  t.equal(res.status, 502)
  t.same(await res.json(), { error: { message: 'Upstream "up" is unreachable (ECONNREFUSED)', type: 'api_error', param: null, code: 'upstream_error' } })
})
