import t from 'tap'
import { startUpstream, chatChunk, streamFrames, SSE_HEADERS } from '../helpers/upstream.js'
import { startRelay, chatBody, readAll } from '../helpers/relay.js'
import { scrapeUntil, valueOf } from '../helpers/prometheus.js'

t.test('the global maxConcurrentStreams cap: one stream too many, from any key, gets 503 unavailable with Retry-After', async (t) => {
  const up = await startUpstream(t)
  const holds: Array<() => void> = []
  up.handler = async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    res.write(`data: ${chatChunk('first')}\n\n`)
    await new Promise<void>((resolve) => holds.push(resolve))
    await streamFrames(res, [chatChunk('last', { finish: 'stop' })])
  }
  const relay = await startRelay(t, {
    upstreams: [{ name: 'up', baseUrl: up.baseUrl }],
    // Each key alone is under its own limit: only the global cap can refuse.
    keys: [{ name: 'a', key: 'sk-a', maxConcurrentStreams: 2 }, { name: 'b', key: 'sk-b' }],
    maxConcurrentStreams: 2,
  })
  const open = (token: string) => fetch(`${relay.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: chatBody('gpt-test', { stream: true }),
  })

  const first = await open('sk-a')
  const second = await open('sk-b')
  t.same([first.status, second.status], [200, 200])

  for (const token of ['sk-a', 'sk-b']) {
    const over = await open(token)
    t.equal(over.status, 503, `key ${token}: refused by the global cap`)
    t.equal(over.headers.get('retry-after'), '5')
    t.same(await over.json(), {
      error: { message: 'The relay has as many streams open as it is allowed; retry shortly', type: 'api_error', param: null, code: 'unavailable' },
    })
  }
  t.equal(up.requests.length, 2, 'refused streams never reached the upstream')

  // Key a's refused attempt took a's second slot before the global cap said no; it must have been
  // given back: once b's stream ends, a (one stream open, limit 2) is admitted, not refused with 429.
  holds[1]?.()
  t.match((await readAll(second)).text, /data: \[DONE\]\n\n$/)
  await scrapeUntil(relay.url, (s) => valueOf(s, 'llm_relay_active_streams') === 1)
  const third = await open('sk-a')
  t.equal(third.status, 200, 'a is admitted: no slot leaked')
  while (holds.length < 3) await new Promise((resolve) => setTimeout(resolve, 5))
  holds[0]?.()
  holds[2]?.()
  await readAll(first)
  await readAll(third)

  const refused = relay.summaries().filter((l) => l.status === 503)
  t.same(refused.map((l) => [l.keyName, l.outcome]), [['a', 'rejected'], ['b', 'rejected']], 'logged as the relay refusing, not as upstream errors')
  const samples = await scrapeUntil(relay.url, (s) => valueOf(s, 'llm_relay_active_streams') === 0)
  t.equal(valueOf(samples, 'llm_relay_active_streams'), 0)
  t.equal(valueOf(samples, 'llm_relay_requests_total', { key: 'a', model: 'gpt-test', upstream: 'up', status: '503', outcome: 'rejected' }), 1)
  t.equal(valueOf(samples, 'llm_relay_upstream_errors_total', { upstream: 'up', reason: 'upstream_error' }), undefined, 'no upstream error counted')
})
