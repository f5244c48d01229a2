import type { Test } from 'tap'
import type { KeyInput } from '../../src/config/schema.js'
import { startHoldingUpstream, type HoldingUpstream } from './holding-upstream.js'
import { startRedis, type RunningRedis } from './redis.js'
import { startReplicas, type Replica } from './replicas.js'

/**
 * Set-up and expectations shared by the tests of per-key limits (SPEC §9.1),
 * so that each test file reads as the behaviour it checks.
 */

/** The 429 body of a refused request: the OpenAI envelope with this message. */
export function rateLimited (message: string): { error: Record<string, unknown> } {
  return { error: { message, type: 'rate_limit_error', param: null, code: 'rate_limited' } }
}

export interface LimitedReplicas {
  redis: RunningRedis
  /** Holds every stream open until the test finishes it, so a stream's slot stays taken. */
  up: HoldingUpstream
  a: Replica
  b: Replica
  replicas: Replica[]
}

/**
 * Two replicas of one deployment, sharing a test Redis for their limits,
 * in front of one holding upstream, with these keys (and startReplicas'
 * options: leaseMs, the Redis client's, …).
 */
export async function startLimitedReplicas (t: Test, keys: KeyInput[], options: Parameters<typeof startReplicas>[3] = {}): Promise<LimitedReplicas> {
  const redis = await startRedis(t)
  const up = await startHoldingUpstream(t)
  const replicas = await startReplicas(t, redis, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }], keys }, { ...options, count: 2 })
  const [a, b] = replicas
  if (!a || !b) throw new Error('two replicas')
  return { redis, up, a, b, replicas }
}
