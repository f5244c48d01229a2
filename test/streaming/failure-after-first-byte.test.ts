import t from 'tap'
import type { ServerResponse } from 'node:http'
import { startUpstream, chatChunk, SSE_HEADERS, sleep } from '../helpers/upstream.js'
import { startRelay, chatBody, readAll, sseBlocks } from '../helpers/relay.js'

// SPEC §5: after streaming began, a failure becomes exactly one error event in the client's format,
// then the end; a broken stream never looks complete (no [DONE], no `event: stop`).

const A = chatChunk('Hel')
const B = chatChunk('lo')

interface Case {
  name: string
  /** What the upstream does after the two good frames A and B. */
  then (res: ServerResponse): void
  error: { message: string, type: string, param: string | null, code: string }
  outcome: string
}

const cases: Case[] = [
  {
    name: 'upstream socket reset mid-stream',
    then: (res) => res.socket?.destroy(),
    error: { message: 'Connection to upstream "up" was reset', type: 'api_error', param: null, code: 'upstream_error' },
    outcome: 'upstream_error',
  },
  {
    name: 'upstream ends without [DONE]',
    then: (res) => res.end(),
    error: { message: 'Upstream "up" ended the stream before it was complete', type: 'api_error', param: null, code: 'upstream_error' },
    outcome: 'upstream_error',
  },
  {
    name: 'upstream ends inside an unterminated frame',
    then: (res) => res.end(`data: ${chatChunk('never dispatched')}\n`),
    error: { message: 'Upstream "up" ended the stream before it was complete', type: 'api_error', param: null, code: 'upstream_error' },
    outcome: 'upstream_error',
  },
  {
    // vLLM's way: an error frame, then [DONE] as if all were well.
    name: 'in-band error frame followed by [DONE]',
    then: (res) => res.end('data: {"error":{"message":"CUDA out of memory","type":"InternalServerError","param":null,"code":500}}\n\ndata: [DONE]\n\n'),
    error: { message: 'CUDA out of memory', type: 'InternalServerError', param: null, code: '500' },
    outcome: 'upstream_error',
  },
]

for (const c of cases) {
  t.test(c.name, async (t) => {
    const up = await startUpstream(t)
    up.handler = async (_req, res) => {
      res.writeHead(200, SSE_HEADERS)
      res.write(`data: ${A}\n\ndata: ${B}\n\n`)
      await sleep(50) // the good frames reach the relay first
      c.then(res)
    }
    const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
    const post = (format: string) => fetch(`${relay.url}/v1/chat/completions?format=${format}`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true, stream_options: { include_usage: false } }),
    })

    const openai = await post('openai')
    t.equal(openai.status, 200)
    t.equal((await readAll(openai)).text, `data: ${A}\n\ndata: ${B}\n\ndata: ${JSON.stringify({ error: c.error })}\n\n`,
      'openai: the good frames, then one error frame with no event: line, then the end')

    const content = await post('content')
    t.equal(content.status, 200)
    t.same(sseBlocks((await readAll(content)).text), [
      'id: 1\ndata: {"content":"Hel"}',
      'id: 2\ndata: {"content":"lo"}',
      `id: 3\nevent: error\ndata: ${JSON.stringify({ error: c.error })}`,
    ], 'content: the deltas, then one `event: error`, no `event: stop`')

    t.same((await relay.waitForSummaries()).map((s) => [s.status, s.outcome, s.error]), [
      [200, c.outcome, c.error.message],
      [200, c.outcome, c.error.message],
    ], 'the log lines say how each stream ended')
  })
}

t.test('a malformed JSON frame that the format must parse (content)', async (t) => {
  const up = await startUpstream(t)
  up.handler = async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    res.write(`data: ${A}\n\ndata: {"choices":[{"delta":{"content":"x"}\n\ndata: ${B}\n\n`)
    // An upstream that would go on for 20 s: the relay must end it, not drain it.
    for (let i = 0; i < 400 && !res.destroyed; i++) {
      await sleep(50)
      res.write(`data: ${chatChunk('more')}\n\n`)
    }
    res.end('data: [DONE]\n\n')
  }
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const res = await fetch(`${relay.url}/v1/chat/completions?format=content`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true }),
  })
  t.equal(res.status, 200)
  const error = { message: 'Upstream "up" sent a malformed stream frame', type: 'api_error', param: null, code: 'upstream_error' }
  t.same(sseBlocks((await readAll(res)).text), [
    'id: 1\ndata: {"content":"Hel"}',
    `id: 2\nevent: error\ndata: ${JSON.stringify({ error })}`,
  ], 'nothing after the error: not the later good frames, not the stop event')
  const ended = performance.now()
  const closed = await Promise.race([up.requests[0]!.socketClosed.then(() => performance.now() - ended), new Promise<number>((resolve) => setTimeout(resolve, 1000, -1).unref())])
  t.ok(closed >= 0, `the upstream request was aborted at once (${Math.round(closed)} ms)`)
  t.equal((await relay.waitForSummaries())[0]?.outcome, 'upstream_error')
})
