import type { Keyring } from './auth/keyring.js'
import type { RelayConfig } from './config/resolve.js'
import type { Limits } from './limits/index.js'
import type { RelayMetrics } from './observability/metrics.js'
import type { RedisConnection } from './redis/connection.js'
import type { Generations } from './stream-log/generations.js'
import type { ResponseOwners } from './responses/owners.js'
import type { Router } from './upstream/router.js'

/** What the routes share: built once when the plugin registers, closed in its onClose hook. */
export interface RelayContext {
  config: RelayConfig
  keyring: Keyring
  router: Router
  /** Per-key rate and stream limits, the global stream cap, load shedding. */
  limits: Limits
  /** This relay's own Prometheus registry and metrics. */
  metrics: RelayMetrics
  /** Which upstream created each response id (SPEC §5.1): in memory, or shared through Redis. */
  responseOwners: ResponseOwners
  /** True once shutdown began: /readyz answers 503 and new work is refused. */
  draining: boolean
  /** The kept, resumable generations (EventSource flow, Idempotency-Key) and their stream log. */
  generations: Generations
  /** The shared-state connection when REDIS_URL is set (SPEC §9.1); /readyz answers 503 while it is down. */
  redis: RedisConnection | undefined
  /** The Prometheus text GET /metrics answers: this relay's registry, or every worker's (cluster/metrics.ts). */
  scrapeMetrics: () => Promise<string>
}
