import type { RelayConfig } from '../config/resolve.js'
import { ModelNotFoundError } from '../errors.js'
import { createDemoUpstream } from './demo-upstream.js'
import { createAttempts, type Attempts, type UpstreamObserver } from './failover.js'
import { createUpstreamHealth, type BreakerState } from './breaker.js'
import { createHttpUpstream } from './http-upstream.js'
import { createInflight } from './inflight.js'
import { KINDS } from './kinds/index.js'
import type { Route, Upstream } from './types.js'

export interface Router {
  readonly upstreams: readonly Upstream[]
  /** Throws ModelNotFoundError (404) when no upstream serves the model. */
  route (model: string): Route
  /**
   * The request's walk over `route.upstreams` with failover and the
   * failing-upstream breaker (upstream/failover.ts). `signal` is the
   * request's: once it aborted, nothing is retried.
   */
  attempts (route: Route, signal: AbortSignal): Attempts
  /** Subscribes to upstream errors, retries and breaker changes (for metrics); returns the unsubscribe function. */
  observe (observer: UpstreamObserver): () => void
  /** The breaker state of an upstream: `closed` (in use), `open` (skipped) or `half_open` (one trial). */
  breakerState (name: string): BreakerState
  /** Upstream requests running now (streams until their body closed). */
  readonly active: number
  /** Resolves once no upstream request is running: graceful shutdown waits on it. */
  whenIdle (): Promise<void>
  /** Ends every running upstream request with `reason`; streams give their client an error frame with it. */
  abortAll (reason: unknown): void
  close (): Promise<void>
}

/** The upstreams that serve a model, and which of them the next request starts on. */
interface Rotation {
  readonly upstreams: Upstream[]
  next: number
}

/**
 * Model routing (SPEC §9): aliases first, then every upstream that lists the
 * model (or `*`). Several candidates are rotated round-robin per model (one rotation for all
 * the models only wildcard upstreams serve), so
 * load spreads while the order stays deterministic for retries.
 */
export function createRouter (config: RelayConfig): Router {
  const inflight = createInflight()
  const upstreams = config.upstreams.map((u) => inflight.track(u.kind === 'demo'
    ? createDemoUpstream(u)
    : createHttpUpstream(u, KINDS[u.kind], config)))
  const observers = new Set<UpstreamObserver>()
  // One observer that fans out, so the request path does not care how many subscribed.
  const fanOut: UpstreamObserver = {
    onUpstreamError: (e) => { for (const o of observers) o.onUpstreamError?.(e) },
    onRetry: (e) => { for (const o of observers) o.onRetry?.(e) },
    onBreakerChange: (e) => { for (const o of observers) o.onBreakerChange?.(e) },
  }
  const health = createUpstreamHealth({
    failureThreshold: config.failover.failureThreshold,
    cooldownMs: config.failover.cooldownMs,
    onChange: (upstream, state) => fanOut.onBreakerChange?.({ upstream, state }),
  })

  // Who serves a model never changes: found once per model that the upstreams list by name (a
  // bounded set), not by two scans of every upstream's list per request. Every model served only by
  // wildcard upstreams (whatever name a client sends) shares one rotation, so nothing here grows
  // with the names clients make up.
  const listed = new Map<string, Rotation>()
  const wildcard: Rotation = { upstreams: upstreams.filter((u) => u.config.models.includes('*')), next: 0 }
  function rotationOf (target: string): Rotation {
    const known = listed.get(target)
    if (known !== undefined) return known
    const serving = upstreams.filter((u) => u.config.models.includes(target))
    if (serving.length === 0) return wildcard
    const rotation = { upstreams: serving, next: 0 }
    listed.set(target, rotation)
    return rotation
  }

  return {
    upstreams,
    route (model) {
      // Own keys only: a model called `constructor` or `toString` is not an alias of Object's methods.
      const target = Object.hasOwn(config.aliases, model) ? config.aliases[model] as string : model
      const rotation = rotationOf(target)
      const candidates = rotation.upstreams
      if (candidates.length === 0) throw ModelNotFoundError({ param: 'model' }, model)
      if (candidates.length === 1) return { publicModel: model, upstreamModel: target, aliased: target !== model, upstreams: candidates }
      const start = rotation.next
      rotation.next = (start + 1) % candidates.length
      const ordered = [...candidates.slice(start), ...candidates.slice(0, start)]
      return { publicModel: model, upstreamModel: target, aliased: target !== model, upstreams: ordered }
    },
    attempts: (route, signal) => createAttempts(route, health, signal, fanOut),
    observe (observer) {
      observers.add(observer)
      return () => { observers.delete(observer) }
    },
    breakerState: (name) => health.state(name),
    get active () { return inflight.size },
    whenIdle: () => inflight.whenIdle(),
    abortAll: (reason) => inflight.abortAll(reason),
    async close () {
      await Promise.all(upstreams.map((u) => u.close()))
    },
  }
}
