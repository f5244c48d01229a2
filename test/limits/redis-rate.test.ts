import t from 'tap'
import { rateLimited, startLimitedReplicas } from '../helpers/limits.js'
import { redisSkip } from '../helpers/redis.js'
import { chat } from '../helpers/relay.js'
import { PREFIX } from '../helpers/replicas.js'

t.test('requestsPerMinute is one window shared by the replicas: a limit of 6 admits exactly 6 across two, the 7th gets 429 with Retry-After', { skip: redisSkip() }, async (t) => {
  const { redis, up, a, b } = await startLimitedReplicas(t, [{ name: 'six', key: 'sk-six', requestsPerMinute: 6 }, { name: 'free', key: 'sk-free' }])

  // Alternating replicas, as a load balancer would: each sees only half of them.
  const admitted: Array<[string, number, string | null]> = []
  for (let i = 0; i < 6; i++) {
    const replica = i % 2 === 0 ? a : b
    const res = await chat(replica, 'sk-six', { stream: false })
    await res.text()
    admitted.push([i % 2 === 0 ? 'a' : 'b', res.status, res.headers.get('x-ratelimit-remaining-requests')])
  }
  t.same(admitted, [['a', 200, '5'], ['b', 200, '4'], ['a', 200, '3'], ['b', 200, '2'], ['a', 200, '1'], ['b', 200, '0']], 'the remaining count runs down across both replicas')

  for (const [name, replica] of [['a', a], ['b', b]] as const) {
    const over = await chat(replica, 'sk-six', { stream: false })
    t.equal(over.status, 429, `replica ${name} refuses the 7th`)
    const retryAfter = Number(over.headers.get('retry-after'))
    t.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After is whole seconds within the window (${over.headers.get('retry-after')})`)
    t.same(await over.json(), rateLimited(`Rate limit of 6 requests per minute reached for this API key; retry after ${retryAfter} s`))
    t.same(replica.summaries().filter((l) => l.status === 429).map((l) => [l.keyName, l.outcome]), [['six', 'rejected']], `replica ${name} logs the refusal as rejected`)
  }
  t.equal(up.requests.length, 6, 'only the 6 admitted reached the upstream')

  // The window lives in Redis under the relay's prefix, with a TTL of at most a minute.
  t.equal(await redis.client.get(`${PREFIX}rate:six`), '8', 'every counted request, refused ones included')
  const ttl = await redis.client.pttl(`${PREFIX}rate:six`)
  t.ok(ttl > 0 && ttl <= 60_000, `the window expires (${ttl} ms left)`)
  // A key without a limit is never counted: no round trip, no key.
  t.equal((await chat(a, 'sk-free', { stream: false })).status, 200)
  t.same(await redis.client.keys(`${PREFIX}rate:*`), [`${PREFIX}rate:six`])
})
