import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import { UNAVAILABLE, type RedisAccess } from './redis-access.js'
import type { SlotLease, SlotStore } from './slots.js'

/*
 * A slot is a lease: a member of a sorted set per slot key, scored with the
 * time (ms) it expires. Both scripts read the clock with TIME, so every
 * replica measures against Redis's one clock, never its own.
 */

/** Prunes expired leases, then adds one if fewer than the limit remain. 1 = taken, 0 = full. */
const ACQUIRE = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local key, limit, leaseMs = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
if redis.call('ZCARD', key) >= limit then return 0 end
redis.call('ZADD', key, now + leaseMs, ARGV[3])
-- The set goes away by itself once its last lease has lapsed.
if redis.call('PTTL', key) < leaseMs then redis.call('PEXPIRE', key, leaseMs) end
return 1
`

/** Pushes the given leases' expiry to now + leaseMs. XX: a lease already pruned or released is not brought back. */
const RENEW = `
local t = redis.call('TIME')
local expiry = t[1] * 1000 + math.floor(t[2] / 1000) + tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', expiry, ARGV[i]) end
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 0
`

// Names of our own, as the client is shared with the relay's other Redis users.
interface LeaseCommands {
  relayLeaseAcquire (key: string, limit: number, leaseMs: number, id: string): Promise<number>
  relayLeaseRenew (key: string, leaseMs: number, ...ids: string[]): Promise<number>
}

function leaseCommands (client: Redis): LeaseCommands {
  client.defineCommand('relayLeaseAcquire', { numberOfKeys: 1, lua: ACQUIRE })
  client.defineCommand('relayLeaseRenew', { numberOfKeys: 1, lua: RENEW })
  return client as unknown as LeaseCommands
}

const noop = (): void => {}

/**
 * Slots shared by every replica (SPEC §9.1 `maxConcurrentStreams` per key).
 * This replica renews all the leases it holds on one timer, every leaseMs/3,
 * with one script call per slot key, all in one pipeline; a replica that dies
 * stops renewing, so its slots come back within leaseMs. While Redis is down
 * or hangs, slots are taken from `fallback` (this replica's own count), and
 * given back there.
 */
export function createRedisSlotStore (redis: RedisAccess, fallback: SlotStore): SlotStore {
  const { client, leaseMs } = redis
  const commands = leaseCommands(client)
  const replica = randomUUID()
  let sequence = 0
  /** Redis key → ids of the leases this replica holds under it: what the timer renews. */
  const held = new Map<string, Set<string>>()
  let renewal: NodeJS.Timeout | undefined
  let renewing = false

  function hold (key: string, id: string): void {
    let ids = held.get(key)
    if (!ids) held.set(key, ids = new Set())
    ids.add(id)
    // unref: a lease must never keep the process alive.
    renewal ??= setInterval(renew, Math.max(100, Math.floor(leaseMs / 3))).unref()
  }

  function drop (key: string, id: string): void {
    const ids = held.get(key)
    if (!ids?.delete(id)) return
    if (ids.size === 0) held.delete(key)
    if (held.size === 0) { clearInterval(renewal); renewal = undefined }
  }

  function renew (): void {
    // One renewal at a time: ticks of a hung Redis must not pile up behind each other.
    if (renewing || !redis.usable()) return
    const batch = client.pipeline() as unknown as LeaseCommands & { exec (): Promise<unknown> }
    for (const [key, ids] of held) batch.relayLeaseRenew(key, leaseMs, ...ids)
    renewing = true
    void redis.run(() => batch.exec()).finally(() => { renewing = false })
  }

  function redisLease (key: string, id: string): SlotLease {
    hold(key, id)
    let released = false
    return {
      release () {
        if (released) return
        released = true
        drop(key, id)
        // Not awaited: the stream is over either way. If Redis cannot hear it, the lease lapses.
        client.zrem(key, id).catch(noop)
      },
    }
  }

  return {
    async acquire (slot, limit) {
      const key = `${redis.prefix}slots:${slot}`
      const id = `${replica}:${(sequence++).toString(36)}`
      let attempt: Promise<number> | undefined
      const taken = await redis.run(() => (attempt = commands.relayLeaseAcquire(key, limit, leaseMs, id)))
      if (taken === UNAVAILABLE) {
        // Too late for this request; should the script still run, hand its lease straight back.
        attempt?.then((late) => { if (late === 1) client.zrem(key, id).catch(noop) }, noop)
        return fallback.acquire(slot, limit)
      }
      return taken === 1 ? redisLease(key, id) : undefined
    },
    async close () {
      clearInterval(renewal)
      renewal = undefined
      // Streams still open at close are cut by the shutdown; free their slots now rather than in leaseMs.
      const pending = [...held].map(([key, ids]) => redis.run(() => client.zrem(key, ...ids)))
      held.clear()
      await Promise.all(pending)
      await fallback.close()
    },
  }
}
