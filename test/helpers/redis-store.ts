import type { Test } from 'tap'
import { createRedisConnection, type RedisConnection, type RedisConnectionOptions } from '../../src/redis/connection.js'
import { createRedisStreamStore, type RedisStreamStore, type RedisStreamStoreOptions } from '../../src/stream-log/redis-store.js'
import { waitFor } from './relay.js'

/** A logger that keeps what it was given, for assertions on the exact lines. */
export interface CapturedLog {
  lines: Array<{ fields: Record<string, unknown>, message: string }>
  warn (fields: Record<string, unknown>, message: string): void
}

export function captureLog (): CapturedLog {
  const lines: CapturedLog['lines'] = []
  return { lines, warn (fields, message) { lines.push({ fields, message }) } }
}

/**
 * A connection as a replica makes it (short timeouts so tests stay quick), closed at teardown;
 * resolves once it is up unless `waitUp` is false.
 */
export async function connectRedis (t: Test, url: string, options: Partial<RedisConnectionOptions> & { waitUp?: boolean } = {}): Promise<RedisConnection> {
  const { waitUp = true, ...rest } = options
  const connection = createRedisConnection({ url, prefix: 'test:', log: captureLog(), reconnectMaxMs: 200, ...rest })
  t.teardown(() => connection.close())
  if (waitUp) await waitFor('Redis to be up', () => connection.status === 'up', 10_000)
  return connection
}

/** One replica's store: its own connection and store, both closed at teardown (store first). */
export async function redisReplica (t: Test, url: string, options: Partial<RedisStreamStoreOptions> & { prefix?: string, commandTimeoutMs?: number } = {}): Promise<{ connection: RedisConnection, store: RedisStreamStore }> {
  const { prefix = 'test:', commandTimeoutMs, ...storeOptions } = options
  const connection = await connectRedis(t, url, { prefix, commandTimeoutMs })
  const store = createRedisStreamStore({ connection, maxBufferBytes: 1_048_576, leaseMs: 10_000, maxGenerationMs: 60_000, ...storeOptions })
  t.teardown(() => store.close())
  return { connection, store }
}
