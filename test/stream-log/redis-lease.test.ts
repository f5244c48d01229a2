import t from 'tap'
import type { StreamEvent } from '../../src/formats/types.js'
import type { RedisStreamStore } from '../../src/stream-log/redis-store.js'
import { redisSkip, startRedis } from '../helpers/redis.js'
import { redisReplica } from '../helpers/redis-store.js'
import { waitFor } from '../helpers/relay.js'
import { sleep } from '../helpers/upstream.js'

// SPEC §9.1: a producing replica that dies loses its lease: within streams.leaseMs every reader
// of its streams, on any replica, gets one error event (upstream_error, "the producing instance
// was lost") and the end; never a hang. While it lives, nothing of the kind happens.
const skip = redisSkip()
const LEASE_MS = 1500

/** A reader as serveReader is one: subscribed, re-reading after each wake-up; resolves with the events once the final one came. */
function follow (store: RedisStreamStore, id: string): Promise<{ events: StreamEvent[], at: number }> {
  return new Promise((resolve) => {
    const seen: StreamEvent[] = []
    let after = 0
    const unsubscribe = store.subscribe(id, () => {
      void store.eventsAfter(id, after).then((events) => {
        for (const e of events ?? []) {
          if (e.seq <= after) continue
          after = e.seq
          seen.push(e.event)
          if (e.event.type !== 'chunk') {
            unsubscribe()
            resolve({ events: seen, at: performance.now() })
          }
        }
      })
    })
  })
}

t.test('the producing replica dies: readers on two other replicas get one error event within leaseMs', { skip }, async (t) => {
  const redis = await startRedis(t)
  const a = await redisReplica(t, redis.url, { leaseMs: LEASE_MS })
  const b = await redisReplica(t, redis.url, { leaseMs: LEASE_MS })
  const c = await redisReplica(t, redis.url, { leaseMs: LEASE_MS })
  await a.store.create('s1', { ttlMs: 60_000, format: 'content' })
  await a.store.append('s1', { type: 'chunk', data: '{"r":1}', text: '' }, { openai: 1, content: 0 })
  await a.store.append('s1', { type: 'chunk', data: '{"t":1}', text: 'Hi' }, { openai: 2, content: 1 })
  const onB = follow(b.store, 's1')
  const onC = follow(c.store, 's1')
  await sleep(LEASE_MS)
  t.equal((await b.store.info('s1'))?.finished, false, 'a live producer\'s stream is left alone')

  // A crash: the connection goes without a word, the lease is not given back, it lapses.
  await a.connection.close()
  const died = performance.now()
  const [seenB, seenC] = await Promise.all([onB, onC])
  for (const [name, seen] of [['B', seenB], ['C', seenC]] as const) {
    t.ok(seen.at - died <= LEASE_MS, `${name}'s reader ended ${Math.round(seen.at - died)} ms after the death`)
    t.strictSame(seen.events.map((e) => e.type), ['chunk', 'chunk', 'error'], `${name}: the events, then one error`)
    t.match(seen.events[2], { type: 'error', error: { code: 'upstream_error', type: 'api_error', message: /instance producing this stream was lost/ } })
  }
  const info = await b.store.info('s1')
  t.equal(info?.finished, true, 'the stream is finished: a later reader gets the same end')
  t.equal(info?.lastSeq, 3, 'one error event, stored once')
  t.strictSame(info?.lastIds, { openai: 3, content: 2 }, 'numbered after the last event in every format')
  t.ok((info?.expiresAt ?? 0) >= Date.now() + 50_000, 'and it expires ttl after this end')
})

t.test('a producer that closes its store gives its lease back: readers learn without waiting for it to lapse', { skip }, async (t) => {
  const redis = await startRedis(t)
  const a = await redisReplica(t, redis.url, { leaseMs: 4000 })
  const b = await redisReplica(t, redis.url, { leaseMs: 4000 })
  await a.store.create('s1', { ttlMs: 60_000, format: 'openai' })
  const onB = follow(b.store, 's1')
  await sleep(100)
  const closed = performance.now()
  await a.store.close()
  const seen = await onB
  t.ok(seen.at - closed < 2000, `ended ${Math.round(seen.at - closed)} ms after the close (the lease lives 2000 ms)`)
  t.match(seen.events, [{ type: 'error', error: { code: 'upstream_error' } }])
})

t.test('requestCancel on another replica reaches the producer well within 1 s', { skip }, async (t) => {
  const redis = await startRedis(t)
  const a = await redisReplica(t, redis.url)
  const b = await redisReplica(t, redis.url)
  await a.store.create('s1', { ttlMs: 60_000, format: 'openai' })
  const heard: string[] = []
  let at = 0
  a.store.onCancel('s1', (reason) => { heard.push(reason); at = performance.now() })
  const asked = performance.now()
  t.equal(await b.store.requestCancel('s1'), true, 'an unfinished stream\'s producer was told')
  await waitFor('A to hear it', () => heard.length > 0, 2000)
  t.ok(at - asked < 500, `heard after ${Math.round(at - asked)} ms`)
  t.strictSame(heard, ['cancelled'])
  await b.store.requestCancel('s1')
  await sleep(100)
  t.strictSame(heard, ['cancelled'], 'told once')
  let late = ''
  a.store.onCancel('s1', (reason) => { late = reason })
  await waitFor('a stopper added afterwards to be told too', () => late === 'cancelled', 1000)
  await a.store.append('s1', { type: 'error', error: { message: 'cancelled', type: 'api_error', param: null, code: 'stream_cancelled' } }, { openai: 1 })
  t.equal(await b.store.requestCancel('s1'), false, 'a finished stream: nobody to tell')
  t.equal(await b.store.requestCancel('nope'), false, 'an unknown stream: nobody to tell')
})

t.test('a cancel sent while the producer\'s subscription was down is heard once it is back', { skip }, async (t) => {
  const redis = await startRedis(t)
  const a = await redisReplica(t, redis.url)
  const b = await redisReplica(t, redis.url)
  await a.store.create('s1', { ttlMs: 60_000, format: 'openai' })
  const heard: string[] = []
  a.store.onCancel('s1', (reason) => heard.push(reason))
  const channel = `test:cancel:${a.store.instance}`
  await waitFor('A subscribed to its cancel channel', () => a.connection.channels.size === 1, 2000)
  // Drop A's subscribed connection; it reconnects on its own (50 ms or so later).
  await redis.client.call('CLIENT', 'KILL', 'TYPE', 'pubsub')
  const [, subscribers] = await redis.client.pubsub('NUMSUB', channel) as [string, number]
  t.equal(subscribers, 0, 'nobody listens on A\'s channel right now')
  await b.store.requestCancel('s1')
  await waitFor('A to hear it after resubscribing', () => heard.length > 0, 5000)
  t.strictSame(heard, ['cancelled'])
})
