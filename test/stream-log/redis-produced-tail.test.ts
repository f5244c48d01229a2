import t from 'tap'
import { ProducedTails } from '../../src/stream-log/produced-tail.js'
import { createRedisStreamStore } from '../../src/stream-log/redis-store.js'
import type { StoredEvent } from '../../src/stream-log/store.js'
import { redisSkip, startRedis } from '../helpers/redis.js'
import { connectRedis, redisReplica } from '../helpers/redis-store.js'
import { waitFor } from '../helpers/relay.js'

// The producing replica's readers read the last events from memory (stream-log/produced-tail.ts),
// never anything Redis does not hold, and never "nothing new" on its own word.

const chunk = (seq: number): StoredEvent => ({ seq, event: { type: 'chunk', data: `{"n":${seq}}`, text: String(seq) }, ids: { openai: seq, content: seq } })

t.test('the tail answers only reads wholly inside it', async (t) => {
  const tails = new ProducedTails()
  t.teardown(() => tails.clear())
  for (let seq = 1; seq <= 3; seq++) tails.add('s', chunk(seq), false)
  t.strictSame(await tails.read('s', 0), [chunk(1), chunk(2), chunk(3)])
  t.strictSame(await tails.read('s', 2), [chunk(3)])
  t.equal(await tails.read('s', 3), undefined, 'at its end: Redis may hold more')
  t.equal(await tails.read('other', 0), undefined)
  // A gap (an append that failed) starts it again at the new number.
  tails.add('s', chunk(5), false)
  t.equal(await tails.read('s', 0), undefined, 'before the gap: Redis')
  t.strictSame(await tails.read('s', 4), [chunk(5)])
  // Bounded: the oldest events leave it.
  for (let seq = 6; seq <= 200; seq++) tails.add('s', chunk(seq), false)
  t.equal(await tails.read('s', 100), undefined, 'further back than it keeps: Redis')
  t.equal((await tails.read('s', 199))?.length, 1)
  t.equal((await tails.read('s', 136))?.length, 64, 'its last 64 events')
  tails.drop('s')
  t.equal(await tails.read('s', 199), undefined)
})

t.test('an event Redis announced that the tail does not hold sends every read to Redis', async (t) => {
  const tails = new ProducedTails()
  t.teardown(() => tails.clear())
  for (let seq = 1; seq <= 3; seq++) tails.add('s', chunk(seq), false)
  tails.announce('s', '3')
  t.strictSame(await tails.read('s', 1), [chunk(2), chunk(3)])
  // Another replica ended the stream (its producer's lease lapsed), or the script stored its overflow error.
  tails.announce('s', '4')
  t.equal(await tails.read('s', 1), undefined, 'not a partial answer: Redis')
  t.equal(await tails.read('s', 3), undefined)
  // A resubscription (messages may have been missed) or a deletion: the tail goes.
  tails.add('t', chunk(1), false)
  tails.announce('t', undefined)
  t.equal(await tails.read('t', 0), undefined)
})

t.test('a read woken before its APPEND answered waits for the answer, then answers from the tail', async (t) => {
  const tails = new ProducedTails()
  t.teardown(() => tails.clear())
  tails.add('s', chunk(1), false)
  let answer!: (seq: number) => void
  const pending = new Promise<number>((resolve) => { answer = resolve })
  tails.appending('s', pending)
  // As redis-store's append does: its continuation adds the event.
  const appended = pending.then((seq) => tails.add('s', chunk(seq), false))
  tails.announce('s', '2')
  const read = tails.read('s', 1)
  answer(2)
  await appended
  t.strictSame(await read, [chunk(2)])
  // The same when the APPEND failed: the store drops the tail, and the read goes to Redis.
  let fail!: (err: Error) => void
  const failing = new Promise<number>((_resolve, reject) => { fail = reject })
  tails.appending('s', failing)
  failing.catch(() => tails.drop('s'))
  tails.announce('s', '3')
  const lost = tails.read('s', 2)
  fail(new Error('overflow'))
  t.equal(await lost, undefined)
})

t.test('in Redis: the producing replica\'s reader is served from the tail, the other replica\'s from Redis, alike', { skip: redisSkip() }, async (t) => {
  const redis = await startRedis(t)
  const reads: string[] = []
  const connection = await connectRedis(t, redis.url, { observer: { command: (name) => { if (name === 'eventsAfter') reads.push(name) } } })
  const a = createRedisStreamStore({ connection, maxBufferBytes: 1_048_576, leaseMs: 10_000, maxGenerationMs: 60_000 })
  t.teardown(() => a.close())
  const b = (await redisReplica(t, redis.url)).store

  await a.create('s', { ttlMs: 60_000, format: 'content' })
  let wakes = 0
  const unsubscribe = a.subscribe('s', () => { wakes++ })
  t.teardown(unsubscribe)
  for (let seq = 1; seq <= 100; seq++) {
    const seen = wakes
    const stored = chunk(seq)
    t.equal(await a.append('s', stored.event, stored.ids), seq)
    await waitFor('the wake-up', () => wakes > seen, 5000)
    t.strictSame(await a.eventsAfter('s', seq - 1), [stored])
  }
  t.equal(reads.length, 0, 'the producing replica read no event from Redis')

  const fromB = await b.eventsAfter('s', 0)
  t.equal(fromB?.length, 100)
  t.strictSame(await a.eventsAfter('s', 90), fromB?.slice(90), 'the tail holds what Redis holds')
  t.equal(reads.length, 0)
  t.strictSame(await a.eventsAfter('s', 0), fromB, 'a replay from the start: from Redis, all of it')
  t.equal(reads.length, 1)
  t.strictSame(await a.eventsAfter('s', 100), [], 'at the end: Redis says there is nothing new')
  t.equal(reads.length, 2)

  await a.append('s', { type: 'stop', finishReason: 'stop', usage: null }, { openai: 101, content: 101 })
  t.strictSame((await a.eventsAfter('s', 100))?.map((e) => e.event.type), ['stop'], 'the final event, from the tail')
  t.equal(reads.length, 2)
  await a.delete('s')
  t.equal(await a.eventsAfter('s', 100), undefined, 'deleted: unknown, as Redis says')
})
