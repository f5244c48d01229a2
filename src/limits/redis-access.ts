import type { Redis } from 'ioredis'

/** SPEC §3 `streams.leaseMs`: a dead replica's stream slots are given back within this. */
export const DEFAULT_LEASE_MS = 10_000
/** How long a limits command may take before the request is counted locally instead. */
export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 500
/** After a command timed out, Redis is left alone this long, so not every request pays the timeout. */
export const REDIS_COOL_OFF_MS = 1_000

/**
 * What the limits need of the relay's Redis connection (SPEC §9.1). The
 * connection itself (connect, reconnect, quit, the up/down log lines) belongs
 * to the relay's Redis module; the limits only borrow its client.
 */
export interface LimitsRedis {
  /** The relay's ioredis client. The limits never connect, quit or reconfigure it. */
  client: Redis
  /** Config `redis.prefix` (e.g. `llm-relay:`); the limits' keys are `<prefix>rate:…` and `<prefix>slots:…`. */
  prefix: string
  /** True while Redis is reachable. Default: the client's own status is `ready`. */
  isUp?: () => boolean
  /** Config `streams.leaseMs`: how long a stream slot lives without renewal. Default 10 000. */
  leaseMs?: number
  /** Bound on one limits command (ms); over it the request is counted per replica. Default 500. */
  commandTimeoutMs?: number
}

/** What `RedisAccess.run` resolves to when Redis could not answer in time. */
export const UNAVAILABLE: unique symbol = Symbol('redis unavailable')

/** The limits' way into Redis: every command bounded, and a verdict on whether to try at all. */
export interface RedisAccess {
  client: Redis
  prefix: string
  leaseMs: number
  /** False while the connection is down or since a command hung (for REDIS_COOL_OFF_MS). */
  usable (): boolean
  /**
   * Runs `command` if Redis is usable, bounded by the command timeout. Resolves
   * UNAVAILABLE when Redis is down, the command failed or it took too long; the
   * caller then counts locally (SPEC §9.1: limits per replica meanwhile).
   */
  run<T> (command: () => Promise<T>): Promise<T | typeof UNAVAILABLE>
}

export function createRedisAccess (redis: LimitsRedis): RedisAccess {
  const { client, prefix } = redis
  const isUp = redis.isUp ?? (() => client.status === 'ready')
  const timeoutMs = redis.commandTimeoutMs ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS
  let coolOffUntil = 0

  function usable (): boolean {
    return isUp() && Date.now() >= coolOffUntil
  }

  return {
    client,
    prefix,
    leaseMs: redis.leaseMs ?? DEFAULT_LEASE_MS,
    usable,
    async run (command) {
      // Down: answer at once. ioredis would queue the command until it reconnects, which is a hang.
      if (!usable()) return UNAVAILABLE
      let timer: NodeJS.Timeout | undefined
      // A stopped (SIGSTOP) or cut-off server keeps its TCP connection "ready" and never answers:
      // only a timer tells. One timer per command; ioredis's own commandTimeout is the client
      // owner's to set, and the limits must be bounded whatever it is.
      const late = new Promise<typeof UNAVAILABLE>((resolve) => {
        timer = setTimeout(() => {
          coolOffUntil = Date.now() + REDIS_COOL_OFF_MS
          resolve(UNAVAILABLE)
        }, timeoutMs)
      })
      try {
        return await Promise.race([command(), late])
      } catch {
        return UNAVAILABLE
      } finally {
        clearTimeout(timer)
      }
    },
  }
}
