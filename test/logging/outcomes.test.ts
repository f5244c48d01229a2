import t from 'tap'
import { Agent, fetch } from 'undici'
import { startUpstream, chatChunk, SSE_HEADERS, sleep, closedPort } from '../helpers/upstream.js'
import { startRelay, readAll } from '../helpers/relay.js'

// SPEC §8: the log line's outcome says how the request ended: completed,
// rejected, client_aborted, upstream_error or timeout.

t.test('each way a request can end has its outcome', async (t) => {
  const up = await startUpstream(t, async (req, res, received) => {
    const mode = received.json?.messages?.[0]?.content
    if (mode === 'ok') {
      res.writeHead(200, SSE_HEADERS)
      res.end(`data: ${chatChunk('hi', { finish: 'stop' })}\n\ndata: [DONE]\n\n`)
    } else if (mode === 'slow') {
      res.writeHead(200, SSE_HEADERS)
      for (let i = 0; i < 200 && !res.destroyed; i++) { res.write(`data: ${chatChunk(`t${i}`)}\n\n`); await sleep(20) }
      res.end()
    } else if (mode === 'reset') {
      res.writeHead(200, SSE_HEADERS)
      res.write(`data: ${chatChunk('partial')}\n\n`)
      await sleep(50)
      req.socket.destroy()
    } else if (mode === 'never') {
      await new Promise(() => {})
    }
  })
  const gone = await closedPort()
  const relay = await startRelay(t, {
    upstreams: [{ name: 'up', baseUrl: up.baseUrl, models: ['m'] }, { name: 'gone', baseUrl: `http://127.0.0.1:${gone}/v1`, models: ['dead'] }],
    keys: [{ name: 'web', key: 'sk-web' }],
    timeouts: { firstByteMs: 200 },
  })
  // An own client, destroyed first in teardown: after the abort, fetch's pool may hold a fresh
  // connection that never sends a request, which Node counts as busy, so app.close() would wait for it.
  const client = new Agent()
  t.teardown(() => client.destroy())
  const ask = (content: string, init: { model?: string, token?: string, signal?: AbortSignal } = {}) => fetch(`${relay.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${init.token ?? 'sk-web'}`, 'x-request-id': content },
    body: JSON.stringify({ model: init.model ?? 'm', stream: true, messages: [{ role: 'user', content }] }),
    dispatcher: client,
    ...(init.signal ? { signal: init.signal } : {}),
  })

  await readAll(await ask('ok'))
  await (await ask('bad-token', { token: 'sk-wrong' })).text()
  await (await ask('unreachable', { model: 'dead' })).text()
  await readAll(await ask('reset'))
  await (await ask('never')).text()

  const controller = new AbortController()
  const slow = await ask('slow', { signal: controller.signal })
  const reader = slow.body!.getReader()
  await reader.read()
  controller.abort()
  await reader.read().catch(() => {})

  // The aborted request's line is written when its response closes: wait for it, bounded.
  const byId = new Map((await relay.waitForSummaries(6)).map((l) => [l.requestId, l]))
  t.equal(relay.summaries().length, 6, 'one line per request')
  const row = (id: string) => { const l = byId.get(id); return [l?.status, l?.outcome, l?.keyName ?? null, l?.upstream ?? null] }
  t.strictSame(row('ok'), [200, 'completed', 'web', 'up'])
  t.strictSame(row('bad-token'), [401, 'rejected', null, null])
  t.strictSame(row('unreachable'), [502, 'upstream_error', 'web', 'gone'])
  t.strictSame(row('reset'), [200, 'upstream_error', 'web', 'up'], 'a stream that broke after it began')
  t.strictSame(row('never'), [504, 'timeout', 'web', 'up'])
  t.strictSame(row('slow'), [200, 'client_aborted', 'web', 'up'])
  t.equal(byId.get('reset')?.error, 'Connection to upstream "up" was reset', 'the line says what went wrong')
  t.equal(byId.get('ok')?.error, undefined)
})
