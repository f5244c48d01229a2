import t from 'tap'
import { redisSkip, startRedis, type RunningRedis } from '../helpers/redis.js'
import { startUpstream } from '../helpers/upstream.js'
import { createStream } from '../helpers/streams.js'
import { waitFor } from '../helpers/relay.js'
import { scriptEndless } from '../helpers/clients.js'
import { KEYS, SHARED_PREFIX, auth, chatRequest, readSse, readStream, scriptAnswer, startPair, tokens } from '../helpers/shared-replicas.js'
import { sleep } from '../helpers/upstream.js'

// SPEC §9.1: Redis memory does not grow with traffic that has ended. Every key the relay writes
// expires: a stream's two keys streams.ttlMs after its end, a per-key stream slot set leaseMs
// after its last lease, a requestsPerMinute window after its minute, and each replica's lease key
// (`instance:<uuid>`, the only key a running replica always holds) half a leaseMs after the
// replica stops renewing it; a replica that closes deletes it at once.

const skip = redisSkip()
const TTL_MS = 1500
const LEASE_MS = 2000
const RATE_WINDOW_MS = 60_000

/** Every key under the prefix, with its remaining time to live (ms; -1: none). */
async function keysWithTtl (redis: RunningRedis): Promise<Map<string, number>> {
  const keys = await redis.client.keys(`${SHARED_PREFIX}*`)
  const ttls = await Promise.all(keys.map((k) => redis.client.pttl(k)))
  return new Map(keys.map((k, i) => [k.slice(SHARED_PREFIX.length), ttls[i] as number]))
}

const kind = (key: string): string => key.replace(/^(stream:\{[^}]*\}(:events)?|instance:|rate:|slots:).*$/, (_m, k: string) => k.startsWith('stream:') ? (k.endsWith(':events') ? 'events' : 'stream') : k.slice(0, -1))

t.test('after the streams end and streams.ttlMs passes, Redis holds only what is meant to stay, every key with an expiry; DBSIZE back to its baseline once the replicas stop', { skip }, async (t) => {
  const redis = await startRedis(t)
  t.equal(await redis.client.dbsize(), 0, 'baseline: an empty Redis')
  const up = await startUpstream(t)
  const [a, b] = await startPair(t, redis, up, {
    keys: KEYS.map((k) => ({ ...k, requestsPerMinute: 1000, maxConcurrentStreams: 10 })),
    streams: { ttlMs: TTL_MS, leaseMs: LEASE_MS },
  })
  // A replica's lease key is written by its first renewal (a sixth of leaseMs after its start).
  let idle = await keysWithTtl(redis)
  for (let i = 0; i < 100 && idle.size < 2; i++) idle = await sleep(20).then(() => keysWithTtl(redis))
  t.same([...idle.keys()].map(kind), ['instance', 'instance'], 'two idle replicas: their two lease keys')
  t.ok([...idle.values()].every((ms) => ms > 0 && ms <= LEASE_MS / 2), 'each living half a leaseMs (renewed while the replica runs)')

  // Traffic of every kind that uses Redis: EventSource streams read across replicas, an
  // Idempotency-Key chat, a stream cancelled mid-way, a plain chat (rate window, slot).
  scriptAnswer(up, tokens(20))
  for (let i = 0; i < 3; i++) {
    const created = await createStream(a.url, chatRequest(), auth(), '?format=content')
    t.equal((await readStream(b, created.json.url)).events.length, 21)
  }
  const kept = await fetch(`${b.url}/v1/chat/completions?format=openai`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'k1', ...auth() }, body: JSON.stringify({ ...chatRequest(), stream: true }) })
  t.ok((await readSse(kept)).ended)
  const plain = await fetch(`${a.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth() }, body: JSON.stringify({ ...chatRequest(), stream: true }) })
  await plain.text()
  const endless = scriptEndless(up, { gapMs: 10 })
  const cancelled = await createStream(b.url, chatRequest(), auth())
  await waitFor('tokens of the stream to cancel', () => endless.sent >= 3)

  // One generation still running: every kind of key there is at once.
  const busy = await keysWithTtl(redis)
  const kinds = new Set([...busy.keys()].map(kind))
  t.same([...kinds].sort(), ['events', 'instance', 'rate', 'slots', 'stream'], 'kept streams, the limits\' rate windows and stream slots, the leases')
  t.same([...busy].filter(([, ms]) => ms < 0), [], 'every key has an expiry')
  t.ok([...busy].filter(([k]) => kind(k) === 'rate').every(([, ms]) => ms <= RATE_WINDOW_MS), 'a rate window: at most its minute')
  t.ok([...busy].filter(([k]) => kind(k) === 'slots').every(([, ms]) => ms <= LEASE_MS), 'a slot set: at most leaseMs')

  t.equal((await fetch(`${a.url}${cancelled.json.url}`, { method: 'DELETE' })).status, 204)
  await waitFor('the cancelled generation to end', () => b.logs.some((l) => l.msg === 'stream finished' && l.outcome === 'client_aborted'))
  const endedAt = Date.now()
  const ended = await keysWithTtl(redis)
  t.same([...ended].filter(([, ms]) => ms < 0), [], 'every key has an expiry')
  t.ok([...ended].filter(([k]) => /^(stream|events)$/.test(kind(k))).every(([, ms]) => ms <= TTL_MS), 'a finished stream\'s keys: at most streams.ttlMs left')

  // Bounded wait: streams.ttlMs after the last end, and a slot set leaseMs after its last lease.
  const remaining = async () => [...(await keysWithTtl(redis)).keys()].map(kind).filter((k) => k !== 'rate').sort()
  let left = await remaining()
  for (let waited = 0; waited < TTL_MS + LEASE_MS + 5000 && left.join() !== 'instance,instance'; waited += 100) {
    await sleep(100)
    left = await remaining()
  }
  t.same(left, ['instance', 'instance'], `${Date.now() - endedAt} ms after the last end: only the two running replicas' lease keys (and the rate windows)`)
  t.ok(Date.now() - endedAt >= TTL_MS - 250, 'not before streams.ttlMs')

  // The replicas stop: each deletes its lease key. Only the rate windows stay, for their minute.
  await Promise.all([a.app.close(), b.app.close()])
  const after = await keysWithTtl(redis)
  t.same([...new Set([...after.keys()].map(kind))], ['rate'], 'after the replicas stop: only the rate windows')
  t.ok([...after.values()].every((ms) => ms > 0 && ms <= RATE_WINDOW_MS), 'which expire within their minute')
  const everything = await redis.client.keys('*')
  t.same(everything.map((k) => k.slice(SHARED_PREFIX.length)).sort(), [...after.keys()].sort(), 'nothing else, outside the prefix either')
})
