import t from 'tap'
import { redisSkip, startRedis } from '../helpers/redis.js'
import { startHoldingUpstream } from '../helpers/holding-upstream.js'
import { chat, readAll } from '../helpers/relay.js'
import { firstAdmitted, statuses } from '../helpers/replicas.js'
import { startSharedReplicas } from '../helpers/shared-replicas.js'

// SPEC §9.1 through REDIS_URL's own wiring (config `redis`, no separate limits client): a key's
// requestsPerMinute is one window for the deployment, and its maxConcurrentStreams one count.

const skip = redisSkip()

t.test('requestsPerMinute and maxConcurrentStreams of a key count across both replicas', { skip }, async (t) => {
  const redis = await startRedis(t)
  const up = await startHoldingUpstream(t)
  const [a, b] = await startSharedReplicas(t, redis, {
    upstreams: [{ name: 'up', baseUrl: up.baseUrl }],
    keys: [{ name: 'rate', key: 'sk-rate', requestsPerMinute: 3 }, { name: 'one', key: 'sk-one', maxConcurrentStreams: 1 }],
  })
  if (!a || !b) throw new Error('two replicas')
  // To a, b, a, b, as a load balancer would send them.
  const seen = await statuses(4, (i) => chat(i % 2 === 0 ? a : b, 'sk-rate', { stream: false }))
  t.same(seen, [200, 200, 200, 429], 'three a minute for the key, wherever they land')

  const held = await chat(a, 'sk-one')
  t.equal(held.status, 200, 'a stream on A')
  const refused = await chat(b, 'sk-one')
  t.equal(refused.status, 429, 'the key\'s second stream, on B: 429')
  t.ok(refused.headers.get('retry-after'), 'with Retry-After')
  await refused.body?.cancel()
  up.finishAll()
  await readAll(held)
  // The slot is given back as the stream closes (not awaited by the client's end): bounded retry.
  const { res: next } = await firstAdmitted(() => chat(b, 'sk-one'), 2000)
  t.equal(next.status, 200, 'once it ended, B admits one')
  up.finishAll()
  await readAll(next)
})
