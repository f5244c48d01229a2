import t from 'tap'
import type { Redis } from 'ioredis'
import { redisSkip, startRedis } from '../helpers/redis.js'
import { redisReplica } from '../helpers/redis-store.js'
import { sleep } from '../helpers/upstream.js'

// SPEC §9.1: each log expires (streams.ttlMs after its end) and Redis memory does not grow with
// traffic that has ended: after the TTL the keys are gone and used_memory is back where it was,
// for finished streams and for streams whose producer never finished them.
const skip = redisSkip()
const TTL_MS = 400
const MAX_GENERATION_MS = 600

async function usedMemory (client: Redis): Promise<number> {
  const info = await client.info('memory')
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1])
}

/** Polls until only `baseline` keys are left; the number of keys in the end. */
async function settle (client: Redis, baseline: number, timeoutMs: number): Promise<number> {
  let keys = await client.dbsize()
  for (let waited = 0; keys > baseline && waited < timeoutMs; waited += 50) {
    await sleep(50)
    keys = await client.dbsize()
  }
  return keys
}

t.test('after the TTL: the key count and used_memory are back to the baseline', { skip }, async (t) => {
  const redis = await startRedis(t)
  const { store } = await redisReplica(t, redis.url, { maxGenerationMs: MAX_GENERATION_MS })
  const data = JSON.stringify({ choices: [{ delta: { content: 'x'.repeat(1000) } }] })
  async function traffic (prefix: string, finished: number, abandoned: number): Promise<void> {
    const run = async (id: string, finish: boolean): Promise<void> => {
      await store.create(id, { ttlMs: TTL_MS, format: 'content' })
      for (let i = 1; i <= 20; i++) await store.append(id, { type: 'chunk', data, text: 'x'.repeat(1000) }, { openai: i, content: i })
      await store.attach(id)
      await store.detach(id)
      if (finish) {
        await store.append(id, { type: 'stop', finishReason: 'stop', usage: null }, { openai: 21, content: 21 })
        await store.markDelivered(id)
      }
    }
    await Promise.all([
      ...Array.from({ length: finished }, (_, i) => run(`${prefix}done${i}`, true)),
      // A producer that crashed before the end: the keys still go, after maxGenerationMs + ttl.
      ...Array.from({ length: abandoned }, (_, i) => run(`${prefix}lost${i}`, false)),
    ])
  }

  // Warm up once (scripts cached, the replica's lease key set), so the baseline is the steady state.
  await traffic('warm', 2, 1)
  const baselineKeys = 1
  t.equal(await settle(redis.client, baselineKeys, 5000), baselineKeys, 'warm-up gone; the lease key stays')
  t.match(await redis.client.keys('*'), [/^test:instance:/])
  const baseline = await usedMemory(redis.client)

  await traffic('load', 150, 50)
  const loaded = await usedMemory(redis.client)
  t.ok(loaded - baseline > 4_000_000, `200 streams of ~40 KB took ${Math.round((loaded - baseline) / 1e6)} MB`)
  t.ok(await redis.client.dbsize() >= 400, 'two keys a stream')

  t.equal(await settle(redis.client, baselineKeys, 10_000), baselineKeys, 'every stream key expired')
  const after = await usedMemory(redis.client)
  t.ok(after - baseline < 100_000, `used_memory back to the baseline (${after - baseline} bytes above it)`)
})

t.test('a key is never recreated without an expiry by a late write to an expired stream', { skip }, async (t) => {
  const redis = await startRedis(t)
  const { store } = await redisReplica(t, redis.url)
  await store.create('s1', { ttlMs: 100, format: 'content' })
  await store.append('s1', { type: 'stop', finishReason: 'stop', usage: null }, { openai: 1 })
  for (let i = 0; i < 100 && await store.info('s1'); i++) await sleep(20)
  t.equal(await store.info('s1'), undefined, 'expired')
  await store.attach('s1')
  await store.detach('s1')
  await store.markDelivered('s1')
  await t.rejects(store.append('s1', { type: 'chunk', data: '{}', text: '' }, { openai: 2 }), /unknown stream/)
  const keys = await redis.client.keys('test:stream:*')
  t.strictSame(keys, [], 'nothing written back')
  const ttl = await Promise.all((await redis.client.keys('*')).map((k) => redis.client.pttl(k)))
  t.ok(ttl.every((ms) => ms > 0), 'every key left has an expiry')
})
