import type { Test } from 'tap'
import { Redis, type RedisOptions } from 'ioredis'
import type { RelayConfigInput } from '../../src/config/schema.js'
import type { LimitsRedis } from '../../src/limits/index.js'
import { startRelay, type RunningRelay } from './relay.js'
import type { RunningRedis } from './redis.js'
import { sleep } from './upstream.js'

/** The key prefix the test replicas share (config `redis.prefix`). */
export const PREFIX = 'test-relay:'

export interface Replica extends RunningRelay {
  /** This replica's own Redis connection (as each process of a deployment has one). */
  client: Redis
}

/**
 * An ioredis client as a replica's Redis module might hold: it reconnects for
 * ever (every 100 ms, so a restarted Redis is found quickly); by default a
 * command sent while disconnected fails after one reconnect attempt.
 */
export function replicaClient (t: Test, url: string, options: RedisOptions = {}): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => 100, ...options })
  client.on('error', () => {}) // reconnects are expected in these tests; ioredis logs them otherwise
  t.teardown(() => { client.disconnect() })
  return client
}

/**
 * `count` relays on 127.0.0.1:0, each with its own Redis client to the one
 * test Redis under one prefix: the replicas of one deployment.
 */
export async function startReplicas (t: Test, redis: RunningRedis, config: RelayConfigInput, options: Omit<LimitsRedis, 'client' | 'prefix'> & { count?: number, client?: RedisOptions } = {}): Promise<Replica[]> {
  const { count = 2, client: clientOptions, ...limits } = options
  const replicas: Replica[] = []
  for (let i = 0; i < count; i++) {
    const client = replicaClient(t, redis.url, clientOptions)
    await client.ping()
    replicas.push({ ...await startRelay(t, config, { limitsRedis: { client, prefix: PREFIX, ...limits } }), client })
  }
  return replicas
}

/** Statuses of `n` requests made one after the other, each body read; `send` gets the request's number from 0. */
export async function statuses (n: number, send: (i: number) => Promise<Response>): Promise<number[]> {
  const seen: number[] = []
  for (let i = 0; i < n; i++) {
    const res = await send(i)
    await res.text()
    seen.push(res.status)
  }
  return seen
}

/**
 * Retries `send` every 50 ms while it is refused with 429, up to `withinMs`;
 * returns the first other answer (its body unread) and how long it took. A
 * bounded wait, not a timing assertion: the bound is the behaviour's own.
 */
export async function firstAdmitted (send: () => Promise<Response>, withinMs: number): Promise<{ res: Response, afterMs: number }> {
  const start = performance.now()
  for (;;) {
    const res = await send()
    const afterMs = performance.now() - start
    if (res.status !== 429 || afterMs > withinMs) return { res, afterMs }
    await res.text()
    await sleep(50)
  }
}

/** Polls `check` every 50 ms until it holds, for at most `withinMs`; false if it never did. */
export async function until (check: () => boolean | Promise<boolean>, withinMs: number): Promise<boolean> {
  const end = performance.now() + withinMs
  for (;;) {
    if (await check()) return true
    if (performance.now() > end) return false
    await sleep(50)
  }
}
