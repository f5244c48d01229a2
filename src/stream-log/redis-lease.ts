import type { RedisConnection } from '../redis/connection.js'
import { runScript } from '../redis/script.js'
import { APPEND_OWNER_ALIVE, RENEW_LEASE, instanceKey, streamKeys } from './redis-scripts.js'

/**
 * SPEC §9.1: a producing replica that dies loses its lease, and within `streams.leaseMs` every
 * reader of its streams, on any replica, gets one error event and the end.
 *
 * The lease is per replica, not per stream: one key `instance:<id>` that lives half of leaseMs
 * and is renewed every sixth of it (a replica may miss two renewals before it counts as dead),
 * one command per interval however many streams it produces. A stream names its owner. Every
 * replica checks, each quarter of leaseMs, the owners of the streams its readers follow (one
 * EXISTS per owner, not per stream) and ends a dead owner's unfinished streams with the error
 * event itself, stored once like any event: every reader everywhere gets it through the usual
 * wake-up, a reader that comes later too, and the stream then expires like any finished one.
 * Worst case from the death to the event: half + a quarter of leaseMs, plus a round trip.
 */
export function leaseTimes (leaseMs: number): { ttlMs: number, renewMs: number, sweepMs: number } {
  return { ttlMs: Math.ceil(leaseMs / 2), renewMs: Math.ceil(leaseMs / 6), sweepMs: Math.ceil(leaseMs / 4) }
}

export interface Lease {
  /** Stops renewing and removes the key, so the other replicas notice at once. */
  stop (): Promise<void>
}

/**
 * Keeps this replica's lease. `onLapse` runs when a renewal finds it had lapsed (Redis was out of
 * reach for longer than the key lives, or restarted empty): the streams produced here may have
 * been ended by other replicas meanwhile, so their producers must stop.
 */
export function startLease (connection: RedisConnection, instance: string, leaseMs: number, onLapse: () => void): Lease {
  const key = instanceKey(connection.prefix, instance)
  const { ttlMs, renewMs } = leaseTimes(leaseMs)
  let renewing = false
  async function renew (): Promise<void> {
    if (renewing) return
    renewing = true
    try {
      const renewed = await connection.run('renewLease', (c) => runScript(c, RENEW_LEASE, [key], [ttlMs]))
      if (renewed === 0) onLapse()
    } catch {
      // Down: the connection logs it; the next renewal after it is back tells whether it lapsed.
    } finally {
      renewing = false
    }
  }
  const timer = setInterval(() => { void renew() }, renewMs)
  timer.unref()
  return {
    async stop () {
      clearInterval(timer)
      await connection.run('dropLease', (c) => c.del(key)).catch(() => {})
    },
  }
}

/** Ends a dead owner's stream with the error event; resolves with APPEND's result code. */
export type FinishOrphan = (id: string, owner: string) => Promise<number>

export interface OrphanWatch {
  /** Follows `id` while a reader here does; returns the function that stops. */
  watch (id: string): () => void
  stop (): void
}

interface Watched {
  readers: number
  /** undefined: not looked up yet; null: no such stream (nothing to end). */
  owner: string | null | undefined
}

export function watchOrphans (connection: RedisConnection, leaseMs: number, finish: FinishOrphan): OrphanWatch {
  const watched = new Map<string, Watched>()
  let sweeping = false
  const timer = setInterval(() => { void sweep() }, leaseTimes(leaseMs).sweepMs)
  timer.unref()

  async function sweep (): Promise<void> {
    if (sweeping || watched.size === 0) return
    sweeping = true
    try {
      await learnOwners()
      const owners = [...new Set([...watched.values()].map((w) => w.owner).filter((o): o is string => typeof o === 'string'))]
      if (owners.length === 0) return
      const alive = await connection.run('checkLeases', (c) => {
        const p = c.pipeline()
        for (const owner of owners) p.exists(instanceKey(connection.prefix, owner))
        return p.exec()
      })
      const dead = new Set(owners.filter((_, i) => alive?.[i]?.[0] === null && alive[i]?.[1] === 0))
      for (const [id, w] of watched) {
        if (typeof w.owner !== 'string' || !dead.has(w.owner)) continue
        // Another stream may have been created under this id since (an idempotency key's): look again.
        if (await finish(id, w.owner) === APPEND_OWNER_ALIVE) w.owner = undefined
      }
    } catch {
      // Redis is down: nothing can be ended now; the next sweep tries again.
    } finally {
      sweeping = false
    }
  }

  async function learnOwners (): Promise<void> {
    const ids = [...watched].filter(([, w]) => w.owner === undefined).map(([id]) => id)
    if (ids.length === 0) return
    const replies = await connection.run('streamOwners', (c) => {
      const p = c.pipeline()
      for (const id of ids) p.hget(streamKeys(connection.prefix, id).info, 'owner')
      return p.exec()
    })
    ids.forEach((id, i) => {
      const w = watched.get(id)
      const [err, owner] = replies?.[i] ?? [new Error('no reply'), null]
      if (w && !err) w.owner = typeof owner === 'string' ? owner : null
    })
  }

  return {
    watch (id) {
      let w = watched.get(id)
      if (!w) {
        w = { readers: 0, owner: undefined }
        watched.set(id, w)
      }
      w.readers++
      let stopped = false
      return () => {
        if (stopped) return
        stopped = true
        const now = watched.get(id)
        if (now && --now.readers === 0) watched.delete(id)
      }
    },
    stop () {
      clearInterval(timer)
      watched.clear()
    },
  }
}
