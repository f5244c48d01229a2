/**
 * Counted slots for concurrent streams (SPEC §9): one counter per key name,
 * one for the whole relay. The interface is async and lease-shaped so that a
 * store shared by several replicas can stand behind it: in redis-slots.ts a
 * lease is a member of a sorted set with an expiry, so the slots of a replica
 * that died are given back by time rather than never.
 */
export interface SlotStore {
  /** Takes one slot under `key` if fewer than `limit` are held; undefined when all are taken. */
  acquire (key: string, limit: number): Promise<SlotLease | undefined>
  close (): Promise<void>
}

export interface SlotLease {
  /** Gives the slot back; a second call does nothing, so every close path may call it. */
  release (): void
}

/**
 * One process's slots: a Map of counts. Keys with no slot held are deleted,
 * so the map only ever holds the keys that have a stream open right now.
 */
export function createMemorySlotStore (): SlotStore {
  const counts = new Map<string, number>()

  return {
    async acquire (key, limit) {
      const now = counts.get(key) ?? 0
      if (now >= limit) return undefined
      counts.set(key, now + 1)
      let released = false
      return {
        release () {
          if (released) return
          released = true
          const left = (counts.get(key) ?? 1) - 1
          if (left <= 0) counts.delete(key)
          else counts.set(key, left)
        },
      }
    },
    async close () {
      counts.clear()
    },
  }
}
