import t from 'tap'
import { startLimitedReplicas } from '../helpers/limits.js'
import { redisSkip } from '../helpers/redis.js'
import { chat, readAll } from '../helpers/relay.js'
import { statuses, until } from '../helpers/replicas.js'

t.test('Redis stopped: requests are still served, limits counted per replica; Redis back: shared limits again, without restarting the relays', { skip: redisSkip() }, async (t) => {
  const { redis, up, a, b, replicas } = await startLimitedReplicas(t, [
    { name: 'rate', key: 'sk-rate', requestsPerMinute: 2 },
    { name: 'one', key: 'sk-one', maxConcurrentStreams: 1 },
  ], {
    // The worst client for a request path: a command sent while disconnected waits for the
    // reconnect, and the limits' own bound is out of reach. Only the up/down status keeps them moving.
    client: { maxRetriesPerRequest: null },
    commandTimeoutMs: 600_000,
  })

  await redis.stop()
  t.ok(await until(() => replicas.every((r) => r.client.status !== 'ready'), 5_000), 'both replicas saw Redis go')

  // Each replica counts on its own: 2 requests a minute each, one stream each.
  t.same(await statuses(3, () => chat(a, 'sk-rate', { stream: false })), [200, 200, 429], 'replica a: its own window')
  t.same(await statuses(3, () => chat(b, 'sk-rate', { stream: false })), [200, 200, 429], 'replica b: its own window')
  const heldOnA = await chat(a, 'sk-one')
  const heldOnB = await chat(b, 'sk-one')
  t.same([heldOnA.status, heldOnB.status], [200, 200], 'one stream on each replica')
  t.same([(await chat(a, 'sk-one')).status, (await chat(b, 'sk-one')).status], [429, 429], 'a second stream on either is refused')
  up.finishAll()
  await Promise.all([readAll(heldOnA), readAll(heldOnB)])

  await redis.restart()
  t.ok(await until(() => replicas.every((r) => r.client.status === 'ready'), 10_000), 'both replicas reconnected on their own')

  // Shared again: 2 requests across both replicas (the restarted Redis starts a new window),
  // sent to a, b, a, b as a load balancer would.
  const shared = await statuses(4, (i) => chat(i % 2 === 0 ? a : b, 'sk-rate', { stream: false }))
  t.same(shared, [200, 200, 429, 429], 'one window for both replicas')
  const stream = await chat(a, 'sk-one')
  t.equal(stream.status, 200)
  t.equal((await chat(b, 'sk-one')).status, 429, 'a stream on a fills the key for b too')
  up.finishAll()
  await readAll(stream)
})
