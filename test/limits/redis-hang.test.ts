import t from 'tap'
import { redisSkip, startRedis } from '../helpers/redis.js'
import { startHoldingUpstream } from '../helpers/holding-upstream.js'
import { chat, readAll } from '../helpers/relay.js'
import { PREFIX, startReplicas } from '../helpers/replicas.js'
import { REDIS_COOL_OFF_MS } from '../../src/limits/redis-access.js'
import { sleep } from '../helpers/upstream.js'

/** Far above the limits' own bound (commandTimeoutMs below): a request waiting for a frozen Redis would hit it. */
const REQUEST_BOUND_MS = 5_000

t.test('a hung Redis (SIGSTOP) does not hang a request: after the command timeout it is counted by the replica alone', { skip: redisSkip() }, async (t) => {
  const redis = await startRedis(t)
  const up = await startHoldingUpstream(t)
  const [relay] = await startReplicas(t, redis, {
    upstreams: [{ name: 'up', baseUrl: up.baseUrl }],
    keys: [{ name: 'one', key: 'sk-one', requestsPerMinute: 2, maxConcurrentStreams: 1 }],
  }, { count: 1, commandTimeoutMs: 200 })
  if (!relay) throw new Error('one replica')
  const bounded = (stream: boolean) => chat(relay, 'sk-one', { stream, signal: AbortSignal.timeout(REQUEST_BOUND_MS) })

  redis.pause()
  t.teardown(() => redis.resume())
  const first = await bounded(true)
  t.equal(first.status, 200, 'a stream is served while Redis is frozen')
  // Counted locally, not waved through: the key's one stream slot and two requests a minute hold.
  const second = await bounded(true)
  t.equal(second.status, 429, 'a second stream is refused by the replica\'s own count')
  t.match(await second.json(), { error: { code: 'rate_limited', message: /streams open/ } })
  const third = await bounded(false)
  t.equal(third.status, 429, 'a third request is over the replica\'s own window')
  t.match(await third.json(), { error: { code: 'rate_limited', message: /requests per minute/ } })
  up.finishAll()
  await readAll(first)

  // Thawed: once the cool-off has passed, the slots are in Redis again.
  redis.resume()
  await sleep(REDIS_COOL_OFF_MS + 200)
  const after = await bounded(true)
  // The replica's own window is spent (3 of 2): only the shared one can admit it.
  t.equal(after.status, 200, 'the rate is counted in Redis again')
  t.equal(await redis.client.zcard(`${PREFIX}slots:streams:key:one`), 1, 'the new stream\'s lease is in Redis')
  up.finishAll()
  await readAll(after)
})
