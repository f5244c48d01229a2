import t from 'tap'
import { startUpstream, chatChunk, streamFrames, SSE_HEADERS } from '../helpers/upstream.js'
import { startRelay, chatBody, readAll } from '../helpers/relay.js'
import { scrape, scrapeUntil, valueOf } from '../helpers/prometheus.js'

// The EventSource flow (SPEC §6) is under the same per-key limits (SPEC §9): its generation
// holds a stream slot from POST /v1/streams until it ends, though the POST itself answered at once.

t.test('POST /v1/streams: the generation holds the key\'s stream slot until it ends; requests per minute count too', async (t) => {
  const up = await startUpstream(t)
  const hold: { letGo?: () => void } = {}
  const finishUpstream = async (): Promise<void> => {
    while (hold.letGo === undefined) await new Promise((resolve) => setTimeout(resolve, 5))
    hold.letGo()
  }
  up.handler = async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    res.write(`data: ${chatChunk('a')}\n\n`)
    await new Promise<void>((resolve) => { hold.letGo = resolve })
    await streamFrames(res, [chatChunk('b', { finish: 'stop' })])
  }
  const relay = await startRelay(t, {
    upstreams: [{ name: 'up', baseUrl: up.baseUrl }],
    keys: [{ name: 'one', key: 'sk-one', maxConcurrentStreams: 1, requestsPerMinute: 3 }],
  })
  const post = () => fetch(`${relay.url}/v1/streams`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-one' },
    body: chatBody('gpt-test'),
  })

  const created = await post()
  t.equal(created.status, 201)
  const { url } = await created.json() as { url: string }
  t.equal(valueOf(await scrape(relay.url), 'llm_relay_active_streams'), 1, 'the slot outlives the POST')

  const second = await post()
  t.equal(second.status, 429)
  t.equal(second.headers.get('retry-after'), '2')
  t.strictSame(await second.json(), {
    error: { message: 'This API key already has 1 streams open, its limit; retry when one has finished', type: 'rate_limit_error', param: null, code: 'rate_limited' },
  })
  t.equal(up.requests.length, 1, 'the refused generation never reached the upstream')

  // The generation ends: its slot comes back.
  await finishUpstream()
  const events = await fetch(`${relay.url}${url}?format=content`)
  t.equal(events.status, 200)
  t.match((await readAll(events)).text, /event: stop\n/)
  const samples = await scrapeUntil(relay.url, (s) => valueOf(s, 'llm_relay_active_streams') === 0)
  t.equal(valueOf(samples, 'llm_relay_active_streams'), 0)

  // Third request of the minute: admitted, and it takes the slot again.
  delete hold.letGo
  const third = await post()
  t.equal(third.status, 201)
  await third.text()
  // Fourth: over requestsPerMinute (3), whatever the stream slots say.
  const fourth = await post()
  t.equal(fourth.status, 429)
  t.match(((await fourth.json()) as { error: { message: string } }).error.message, /^Rate limit of 3 requests per minute reached/)
  await finishUpstream()
  await scrapeUntil(relay.url, (s) => valueOf(s, 'llm_relay_active_streams') === 0)
})

t.test('POST /v1/streams refused by the upstream gives its slot back at once', async (t) => {
  const up = await startUpstream(t, (_req, res) => { res.writeHead(500, { 'content-type': 'text/plain' }); res.end('down') })
  const relay = await startRelay(t, {
    upstreams: [{ name: 'up', baseUrl: up.baseUrl }],
    keys: [{ name: 'one', key: 'sk-one', maxConcurrentStreams: 1 }],
  })
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${relay.url}/v1/streams`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-one' }, body: chatBody('gpt-test') })
    t.equal(res.status, 502, `attempt ${i + 1}: the upstream's failure, not a leaked slot's 429`)
    await res.text()
    await scrapeUntil(relay.url, (s) => valueOf(s, 'llm_relay_active_streams') === 0)
  }
})
