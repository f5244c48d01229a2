import t from 'tap'
import { Redis } from 'ioredis'
import { createMemoryResponseOwners } from '../../src/responses/owners.js'
import { createRedisResponseOwners } from '../../src/responses/redis-owners.js'
import { redisSkip, startRedis } from '../helpers/redis.js'

// SPEC §5.1 / §9.1: which upstream created a response id is kept for streams.ttlMs, in memory
// (bounded, expiring) or in Redis (`SET <prefix>resp:<id> <upstream> PX ttl`).

t.test('memory: an id is found until its TTL, then forgotten; a newer note wins', async (t) => {
  let clock = 1_000
  const owners = createMemoryResponseOwners({ ttlMs: 100, now: () => clock })
  await owners.remember('resp_a', 'east')
  t.equal(await owners.lookup('resp_a'), 'east')
  t.equal(await owners.lookup('resp_never'), undefined)
  clock += 99
  t.equal(await owners.lookup('resp_a'), 'east', 'still there 1 ms before the TTL')
  await owners.remember('resp_a', 'west')
  clock += 50
  t.equal(await owners.lookup('resp_a'), 'west', 'remembered again: the new upstream, and a new TTL')
  clock += 50
  t.equal(await owners.lookup('resp_a'), undefined, 'gone at its TTL')
})

t.test('memory: bounded; past the bound the oldest ids go first', async (t) => {
  const owners = createMemoryResponseOwners({ ttlMs: 60_000, maxEntries: 3 })
  for (const id of ['r1', 'r2', 'r3', 'r4']) await owners.remember(id, `up-${id}`)
  t.strictSame(await Promise.all(['r1', 'r2', 'r3', 'r4'].map((id) => owners.lookup(id))), [undefined, 'up-r2', 'up-r3', 'up-r4'])
})

t.test('redis: one key per id under the prefix, expiring with the TTL', { skip: redisSkip() }, async (t) => {
  const redis = await startRedis(t)
  const client = new Redis(redis.url)
  t.teardown(() => client.disconnect())
  const owners = createRedisResponseOwners({ client, prefix: 'test:', ttlMs: 300 })
  await owners.remember('resp_b', 'east')
  t.equal(await redis.client.get('test:resp:resp_b'), 'east', 'the key and value')
  const pttl = await redis.client.pttl('test:resp:resp_b')
  t.ok(pttl > 0 && pttl <= 300, `expires within the TTL (PTTL ${pttl})`)
  t.equal(await owners.lookup('resp_b'), 'east')
  t.equal(await owners.lookup('resp_never'), undefined)
  // Another replica (another client) sees the same note.
  const other = new Redis(redis.url)
  t.teardown(() => other.disconnect())
  t.equal(await createRedisResponseOwners({ client: other, prefix: 'test:', ttlMs: 300 }).lookup('resp_b'), 'east', 'another replica finds it')
})

t.test('redis unreachable: a lookup is a 503 unavailable, never a 404', { skip: redisSkip() }, async (t) => {
  const redis = await startRedis(t)
  const client = new Redis(redis.url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 500 })
  client.on('error', () => {})
  t.teardown(() => client.disconnect())
  await client.connect()
  const owners = createRedisResponseOwners({ client, prefix: 'test:', ttlMs: 1000 })
  await owners.remember('resp_c', 'east')
  await redis.stop()
  const err = await owners.lookup('resp_c').then(() => undefined, (e: unknown) => e)
  t.match(err, { statusCode: 503, relayCode: 'unavailable' })
})
