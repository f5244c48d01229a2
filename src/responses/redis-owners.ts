import type { Redis } from 'ioredis'
import { UnavailableError } from '../errors.js'
import { REDIS_RETRY_AFTER_S } from '../redis/connection.js'
import type { ResponseOwners } from './owners.js'

export interface RedisOwnersOptions {
  /** A command connection (the relay's `RedisConnection.client`): its command timeout bounds every call here. */
  client: Redis
  /** Put before every key (config `redis.prefix`). */
  prefix: string
  /** How long an id is kept (config `streams.ttlMs`). */
  ttlMs: number
}

/**
 * Response owners shared by every replica (SPEC §9.1): one key per id,
 * `<prefix>resp:<id>` = the upstream's name, expiring after `ttlMs`
 * (`SET … PX`), so Redis holds nothing past it. A replica that did not
 * serve the create still finds the upstream.
 *
 * While Redis is unreachable a lookup is a 503 (the id may well exist; a 404
 * would be a lie), and a remember rejects: its caller logs that and carries on
 * (the answer it is part of still reaches the client).
 */
export function createRedisResponseOwners (options: RedisOwnersOptions): ResponseOwners {
  const { client, prefix, ttlMs } = options
  const key = (id: string): string => `${prefix}resp:${id}`
  return {
    async remember (id, upstream) {
      await client.set(key(id), upstream, 'PX', ttlMs)
    },
    async lookup (id) {
      let upstream: string | null
      try {
        upstream = await client.get(key(id))
      } catch (err) {
        throw UnavailableError({ retryAfter: REDIS_RETRY_AFTER_S, cause: err }, 'Shared state (Redis) is unreachable: cannot tell which upstream holds this response; retry shortly')
      }
      return upstream ?? undefined
    },
  }
}
