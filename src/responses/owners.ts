/**
 * Which upstream created each response id (SPEC §5.1), so that
 * `GET/DELETE /v1/responses/:id`, `POST /v1/responses/:id/cancel` and a
 * resumed stream reach the one upstream that holds it. Kept for
 * `streams.ttlMs`. One implementation per process (memory-owners below), or
 * one shared by every replica (redis-owners.ts); the plugin chooses which.
 */
export interface ResponseOwners {
  /** Notes that `upstream` (its name) created response `id`; replaces an older note of the same id. */
  remember (id: string, upstream: string): Promise<void>
  /** The upstream that created `id`, or undefined when the relay never saw it (or forgot it: expired). */
  lookup (id: string): Promise<string | undefined>
}

/** How many ids one process keeps at most: past it the oldest go first, so memory stays bounded whatever the traffic. */
export const DEFAULT_MAX_REMEMBERED_RESPONSES = 100_000

export interface MemoryOwnersOptions {
  /** How long an id is kept (config `streams.ttlMs`). */
  ttlMs: number
  /** Default DEFAULT_MAX_REMEMBERED_RESPONSES. */
  maxEntries?: number
  /** The clock, for tests. */
  now?: () => number
}

/**
 * The ids of this process, in a Map kept in insertion order: every entry
 * lives as long as the others, so the oldest insertion expires first and
 * expired entries are dropped from the front as new ones come; no timer.
 */
export function createMemoryResponseOwners (options: MemoryOwnersOptions): ResponseOwners {
  const { ttlMs } = options
  const max = options.maxEntries ?? DEFAULT_MAX_REMEMBERED_RESPONSES
  const now = options.now ?? Date.now
  const entries = new Map<string, { upstream: string, expiresAt: number }>()

  function dropExpired (at: number): void {
    for (const [id, entry] of entries) {
      if (entry.expiresAt > at && entries.size <= max) return
      entries.delete(id)
    }
  }

  return {
    async remember (id, upstream) {
      const at = now()
      // Delete first: a re-remembered id moves to the end, keeping the Map in expiry order.
      entries.delete(id)
      entries.set(id, { upstream, expiresAt: at + ttlMs })
      dropExpired(at)
    },
    async lookup (id) {
      const entry = entries.get(id)
      if (entry === undefined) return undefined
      if (entry.expiresAt > now()) return entry.upstream
      entries.delete(id)
      return undefined
    },
  }
}
