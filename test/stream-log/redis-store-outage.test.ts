import t from 'tap'
import type { StreamEvent } from '../../src/formats/types.js'
import { redisSkip, startRedis } from '../helpers/redis.js'
import { redisReplica } from '../helpers/redis-store.js'
import { waitFor } from '../helpers/relay.js'

// SPEC §9.1: Redis lost and back. While it is down every store operation fails fast (never a
// hang); a producer that could not store an event is told to stop rather than leave a hole; when
// Redis is back the same store works again, wake-ups included, without recreating anything.
const skip = redisSkip()
const chunk = (n: number): StreamEvent => ({ type: 'chunk', data: `{"n":${n}}`, text: String(n) })
const CANCELLED: StreamEvent = { type: 'error', error: { message: 'lost', type: 'api_error', param: null, code: 'upstream_error' } }

async function failsWithin (run: () => Promise<unknown>): Promise<number> {
  const started = performance.now()
  await run().then(() => { throw new Error('should fail while Redis is down') }, () => {})
  return performance.now() - started
}

t.test('Redis stopped and restarted: operations fail fast meanwhile, then the same store works again', { skip }, async (t) => {
  const redis = await startRedis(t)
  const { connection, store } = await redisReplica(t, redis.url, { leaseMs: 1200 })
  await store.create('s1', { ttlMs: 60_000, format: 'content' })
  const stops: string[] = []
  store.onCancel('s1', (reason) => stops.push(reason))
  // Another stream, untouched during the outage: only the lapsed lease can tell its producer.
  await store.create('idle', { ttlMs: 60_000, format: 'content' })
  const idleStops: string[] = []
  store.onCancel('idle', (reason) => idleStops.push(reason))
  // A reader that subscribed before the outage, to a stream created after it.
  let wakes = 0
  const unsubscribe = store.subscribe('later', () => { wakes++ })

  await redis.stop()
  await waitFor('down', () => connection.status === 'down', 5000)
  const operations: Array<[string, () => Promise<unknown>]> = [
    ['create', () => store.create('s2', { ttlMs: 60_000, format: 'content' })],
    ['append', () => store.append('s1', chunk(1), { openai: 1, content: 1 })],
    ['eventsAfter', () => store.eventsAfter('s1', 0)],
    ['positionAfter', () => store.positionAfter('s1', 'content', 0)],
    ['info', () => store.info('s1')],
    ['attach', () => store.attach('s1')],
    ['markDelivered', () => store.markDelivered('s1')],
    ['requestCancel', () => store.requestCancel('s1')],
  ]
  for (const [name, run] of operations) t.ok(await failsWithin(run) < 2000, `${name} fails within 2 s`)
  t.strictSame(stops, ['lost'], 'the producer whose event was not stored is told to stop')
  await t.rejects(store.append('s1', chunk(2), { openai: 2, content: 2 }), /lost an event/, 'and no chunk is taken after the hole')

  t.strictSame(idleStops, [], 'not yet: its events were all stored')
  await redis.restart()
  await waitFor('up', () => connection.status === 'up', 10_000)
  await waitFor('the lapsed lease to stop the other producer', () => idleStops.length > 0, 5000)
  t.strictSame(idleStops, ['lost'])
  await store.create('later', { ttlMs: 60_000, format: 'content' })
  const before = wakes
  t.equal(await store.append('later', chunk(1), { openai: 1, content: 1 }), 1, 'appends work again')
  await waitFor('the old subscription to wake again', () => wakes > before, 5000)
  t.strictSame((await store.eventsAfter('later', 0))?.map((e) => e.seq), [1])
  t.equal(await store.info('s1'), undefined, 'what the empty Redis lost is gone (no persistence here)')
  unsubscribe()
})

t.test('a frozen Redis: a producer\'s final event that timed out is stored once Redis answers, numbered after what was stored', { skip }, async (t) => {
  const redis = await startRedis(t)
  const { store } = await redisReplica(t, redis.url, { leaseMs: 60_000, commandTimeoutMs: 300 })
  await store.create('s1', { ttlMs: 60_000, format: 'content' })
  t.equal(await store.append('s1', chunk(1), { openai: 1, content: 1 }), 1)
  const stops: string[] = []
  store.onCancel('s1', (reason) => stops.push(reason))

  redis.pause()
  t.teardown(() => redis.resume())
  await t.rejects(store.append('s1', chunk(2), { openai: 2, content: 2 }), { relayCode: 'unavailable', message: /unavailable/ }, 'a chunk times out')
  t.strictSame(stops, ['lost'])
  await t.rejects(store.append('s1', CANCELLED, { openai: 3, content: 3 }), { relayCode: 'unavailable', message: /unavailable/ }, 'so does the final event, for now')
  redis.resume()

  // The retry lands; whether the timed-out chunk was applied after all or not, no number is skipped.
  let info = await store.info('s1').catch(() => undefined)
  for (let i = 0; i < 200 && !info?.finished; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    info = await store.info('s1').catch(() => undefined)
  }
  t.equal(info?.finished, true, 'finished by the retried final event')
  const events = await store.eventsAfter('s1', 0) ?? []
  t.strictSame(events.map((e) => e.seq), events.map((_, i) => i + 1), 'positions 1, 2, … without a gap')
  const last = events.at(-1)
  t.strictSame(last?.event, CANCELLED, 'the final event is the last')
  const before = events.at(-2)?.ids ?? {}
  t.strictSame(last?.ids, { openai: (before.openai ?? 0) + 1, content: (before.content ?? 0) + 1 }, 'numbered right after the event before it')
})
