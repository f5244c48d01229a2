import t from 'tap'
import { startHoldingUpstream } from '../helpers/holding-upstream.js'
import { rateLimited } from '../helpers/limits.js'
import { startRelay, chat, readAll } from '../helpers/relay.js'
import { scrapeUntil, valueOf } from '../helpers/prometheus.js'

t.test('maxConcurrentStreams per key: one stream too many gets 429 with Retry-After; slots come back when streams end', async (t) => {
  // Each streamed request holds its upstream response open until the test lets it go.
  const up = await startHoldingUpstream(t)
  const relay = await startRelay(t, {
    upstreams: [{ name: 'up', baseUrl: up.baseUrl }],
    keys: [
      { name: 'two', key: 'sk-two', maxConcurrentStreams: 2 },
      { name: 'free', key: 'sk-free' },
    ],
  })

  const a = await chat(relay, 'sk-two')
  const b = await chat(relay, 'sk-two')
  t.equal(a.status, 200)
  t.equal(b.status, 200)

  const third = await chat(relay, 'sk-two')
  t.equal(third.status, 429)
  t.equal(third.headers.get('retry-after'), '2')
  t.same(await third.json(), rateLimited('This API key already has 2 streams open, its limit; retry when one has finished'))
  t.equal(up.requests.length, 2, 'the refused stream never reached the upstream')

  // Not a stream: not counted against the stream limit.
  const plain = await chat(relay, 'sk-two', { stream: false })
  t.equal(plain.status, 200)
  await plain.text()
  // Another key has its own count (and no limit).
  const other = await chat(relay, 'sk-free')
  t.equal(other.status, 200)

  // Let all held streams finish; both of the key's slots are free again.
  while (up.held() < 3) await new Promise((resolve) => setTimeout(resolve, 5))
  up.finishAll()
  for (const res of [a, b, other]) t.match((await readAll(res)).text, /data: \[DONE\]\n\n$/)
  // The server lets go of a slot on its own 'close', which may trail the client's last read by a tick.
  const open = await scrapeUntil(relay.url, (s) => valueOf(s, 'llm_relay_active_streams') === 0)
  t.equal(valueOf(open, 'llm_relay_active_streams'), 0)

  const again = [await chat(relay, 'sk-two'), await chat(relay, 'sk-two')]
  t.same(again.map((r) => r.status), [200, 200], 'two new streams are admitted')
  while (up.held() < 2) await new Promise((resolve) => setTimeout(resolve, 5))
  up.finishAll()
  for (const res of again) await readAll(res)
})
