import t from 'tap'
import { register as globalRegistry } from 'prom-client'
import { startUpstream } from '../helpers/upstream.js'
import { startRelay, chatBody } from '../helpers/relay.js'
import { scrape, scrapeUntil, valueOf } from '../helpers/prometheus.js'

// Each relay has its own prom-client registry: two relays in one process neither clash when they
// register their metrics nor see each other's counts, and prom-client's global registry stays empty.

t.test('two relays in one process keep separate metrics', async (t) => {
  const up = await startUpstream(t, (_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"choices":[]}') })
  const one = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const two = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }], metrics: { processMetrics: false } })
  const labels = { key: 'anonymous', model: 'gpt-test', upstream: 'up', status: '200', outcome: 'completed' }
  const chat = (url: string) => fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test') })

  for (let i = 0; i < 3; i++) await (await chat(one.url)).text()
  await (await chat(two.url)).text()

  const a = await scrapeUntil(one.url, (s) => valueOf(s, 'llm_relay_requests_total', labels) === 3)
  const b = await scrapeUntil(two.url, (s) => valueOf(s, 'llm_relay_requests_total', labels) === 1)
  t.equal(valueOf(a, 'llm_relay_requests_total', labels), 3)
  t.equal(valueOf(b, 'llm_relay_requests_total', labels), 1)
  t.ok(valueOf(a, 'llm_relay_process_resident_memory_bytes') !== undefined, 'process metrics by default')
  t.equal(valueOf(b, 'llm_relay_process_resident_memory_bytes'), undefined, 'and off when asked')
  t.equal((await globalRegistry.metrics()).trim(), '', 'nothing in prom-client\'s global registry')

  // A third relay after the others closed: a fresh registry, no counts carried over.
  await one.app.close()
  const three = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  t.equal(valueOf(await scrape(three.url), 'llm_relay_requests_total', labels), undefined)
})
