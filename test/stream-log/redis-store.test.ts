import t from 'tap'
import { redisSkip, startRedis } from '../helpers/redis.js'
import { redisReplica } from '../helpers/redis-store.js'
import { waitFor } from '../helpers/relay.js'
import { storeContract } from './store-contract.js'

// SPEC §9.1: the stream logs of §6 shared through Redis. First the same contract as the memory
// store, then what only a shared store does: replicas see each other's streams and wake-ups.
const skip = redisSkip()

t.test('the StreamStore contract, in Redis', { skip }, async (t) => {
  const redis = await startRedis(t)
  let n = 0
  // One Redis for all subtests, a prefix each: they cannot see each other's keys.
  storeContract(t, async (t) => (await redisReplica(t, redis.url, { prefix: `contract${++n}:` })).store)
})

t.test('two replicas on one Redis: each reads, follows and resumes the other\'s streams', { skip }, async (t) => {
  const redis = await startRedis(t)
  const a = await redisReplica(t, redis.url)
  const b = await redisReplica(t, redis.url)
  t.not(a.store.instance, b.store.instance)
  await a.store.create('s1', { ttlMs: 60_000, format: 'content' })
  t.equal((await b.store.info('s1'))?.format, 'content', 'B sees the stream A created')
  let wakes = 0
  const unsubscribe = b.store.subscribe('s1', () => { wakes++ })
  await b.store.attach('s1')
  t.equal((await a.store.info('s1'))?.readers, 1, 'A sees B\'s reader')
  await b.store.eventsAfter('s1', 0)
  const seen = wakes
  await a.store.append('s1', { type: 'chunk', data: '{"x":1}', text: 'x' }, { openai: 1, content: 1 })
  await waitFor('B woken by A\'s append', () => wakes > seen, 5000)
  t.strictSame(await b.store.eventsAfter('s1', 0), [{ seq: 1, event: { type: 'chunk', data: '{"x":1}', text: 'x' }, ids: { openai: 1, content: 1 } }])
  await a.store.append('s1', { type: 'stop', finishReason: 'stop', usage: null }, { openai: 2, content: 2 })
  t.equal(await b.store.positionAfter('s1', 'content', 1), 1, 'B resumes after A\'s first event')
  t.equal((await b.store.info('s1'))?.finished, true)
  await b.store.markDelivered('s1')
  t.equal((await a.store.info('s1'))?.delivered, true, 'A sees B\'s delivery')
  await t.rejects(b.store.create('s1', { ttlMs: 1000, format: 'openai' }), /exists/, 'one id, one stream, whoever creates it')
  unsubscribe()
})

t.test('two prefixes on one Redis do not see each other', { skip }, async (t) => {
  const redis = await startRedis(t)
  const one = await redisReplica(t, redis.url, { prefix: 'one:' })
  const two = await redisReplica(t, redis.url, { prefix: 'two:' })
  await one.store.create('same', { ttlMs: 60_000, format: 'openai' })
  await two.store.create('same', { ttlMs: 60_000, format: 'content' })
  let twoWakes = 0
  const unsubscribe = two.store.subscribe('same', () => { twoWakes++ })
  await two.store.eventsAfter('same', 0)
  await new Promise((resolve) => setTimeout(resolve, 100))
  const seen = twoWakes
  await one.store.append('same', { type: 'chunk', data: '{}', text: '' }, { openai: 1 })
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(twoWakes, seen, 'no wake-up across prefixes')
  t.equal((await two.store.info('same'))?.format, 'content')
  t.strictSame(await two.store.eventsAfter('same', 0), [])
  t.equal((await one.store.eventsAfter('same', 0))?.length, 1)
  await two.store.delete('same')
  t.ok(await one.store.info('same'), 'a delete under one prefix leaves the other')
  const keys = (await redis.client.keys('*')).sort()
  t.ok(keys.every((k) => k.startsWith('one:') || k.startsWith('two:')), `every key is under a prefix: ${keys.join(' ')}`)
  unsubscribe()
})
