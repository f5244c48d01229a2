import t from 'tap'
import { redisSkip, startRedis } from '../helpers/redis.js'

// The harness the Redis tests stand on: a real redis-server of the test's own, stopped and restarted.
t.test('a test Redis starts on a free port, stops and restarts empty', { skip: redisSkip() }, async (t) => {
  const redis = await startRedis(t)
  t.not(redis.port, 6379, 'never the default port')
  await redis.client.set('k', 'v')
  t.equal(await redis.client.get('k'), 'v')
  await redis.stop()
  await t.rejects(redis.client.get('k'), 'no answer while stopped')
  await redis.restart()
  let value: string | null = 'unset'
  for (let i = 0; i < 100 && value === 'unset'; i++) {
    try { value = await redis.client.get('k') } catch { await new Promise((resolve) => setTimeout(resolve, 50)) }
  }
  t.equal(value, null, 'restarted without the old data (no persistence)')
})
