import { failureKind, isRelayError } from '../errors.js'
import type { BreakerState, UpstreamHealth } from './breaker.js'
import type { Route, Upstream } from './types.js'

/** One upstream a request left for the next one, for the request's log line. */
export interface RetryRecord {
  upstream: string
  reason: string
}

/**
 * An upstream failed: before the first byte reached the client (a retry may
 * follow or not), or after it (a stream that broke: never retried).
 */
export interface UpstreamErrorEvent {
  upstream: string
  /** The model as the upstream knows it. */
  model: string
  /** e.g. `HTTP 503`, `connect error (ECONNREFUSED)`, `timeout`. */
  reason: string
  /** True when the request moves on to another upstream. */
  retried: boolean
}

/** A request moves from one upstream to the next. */
export interface RetryEvent {
  from: string
  to: string
  model: string
  reason: string
}

/**
 * Hooks for metrics (SPEC §8): `router.observe(observer)`. Called
 * synchronously on the request path, so keep them cheap (a counter inc).
 */
export interface UpstreamObserver {
  onUpstreamError? (event: UpstreamErrorEvent): void
  onRetry? (event: RetryEvent): void
  onBreakerChange? (event: { upstream: string, state: BreakerState }): void
}

/** One request's walk over its route's upstreams. */
export interface Attempts {
  /** Filled in as the request moves on; the same array for the whole request. */
  readonly retried: RetryRecord[]
  /** The upstream to try first: a healthy one, else the one that failed least recently. */
  first (): Upstream
  /** The current upstream answered a request that is not a stream (2xx, body read). */
  succeeded (): void
  /**
   * The current upstream's verdict, for a stream to give when it ends. Until
   * its first byte went out the attempt is still `failed()`'s to judge (and
   * maybe retry); from then on only the stream knows how it went.
   */
  verdict (): StreamVerdict
  /** The current upstream failed: returns the next one to try, or undefined to give up with `err`. */
  failed (err: unknown): Upstream | undefined
}

/**
 * How a stream that reached its client ended, for its upstream's breaker
 * (SPEC §9: an upstream that answers 200 and then breaks every stream keeps
 * failing too). Exactly one call, once the stream is over; later calls are
 * ignored. Called on a stream's end paths, never per frame.
 */
export interface StreamVerdict {
  /** The stream ended properly (`[DONE]`, or a clean end where the upstream kind ends that way). */
  completed (): void
  /**
   * The stream failed (reset, malformed or in-band error frame, truncated, idle
   * timeout). Counts against the upstream unless the request's signal aborted
   * first: then the client, the relay's total timeout or shutdown ended it, and
   * that says nothing about the upstream. So call it BEFORE aborting the
   * request's controller over this very failure.
   */
  broke (err: unknown): void
  /** The stream ended for a reason that is not the upstream's (client gone, cancelled, a relay limit). */
  released (): void
}

const RETRY_REASON = Symbol('relay.retryReason')

/** A 429 or a 5xx is worth another upstream; any other 4xx is the request's fault and would fail there too. */
export function retryableStatus (status: number): boolean {
  return status === 429 || status >= 500
}

/** Marks an error as a retryable upstream failure (e.g. `HTTP 503`); returns it, for `throw markRetryable(…)`. */
export function markRetryable<E> (err: E, reason: string): E {
  if (err && typeof err === 'object') (err as Record<symbol, string>)[RETRY_REASON] = reason
  return err
}

interface Verdict {
  /** Counts against the upstream's health. */
  failure: boolean
  retry: boolean
  reason: string
}

/** What a failure before the first byte says about the upstream. */
function classifyFailure (err: unknown): Verdict {
  const marked = err && typeof err === 'object' ? (err as Record<symbol, unknown>)[RETRY_REASON] : undefined
  if (typeof marked === 'string') return { failure: true, retry: true, reason: marked }
  // Not reached, or reset before any byte went to the client: this upstream did not take the
  // request (the client cannot tell a retry happened), so it is safe to send it elsewhere.
  const code = causeCode(err)
  const kind = failureKind(code)
  if (kind === 'unreachable' || kind === 'connect_timeout') return { failure: true, retry: true, reason: `connect error (${code})` }
  if (kind === 'reset') return { failure: true, retry: true, reason: `connection reset (${code})` }
  // A slow upstream is unhealthy, but trying another would make the client wait a second first-byte timeout.
  if (isRelayError(err) && err.relayCode === 'upstream_timeout') return { failure: true, retry: false, reason: 'timeout' }
  return { failure: false, retry: false, reason: isRelayError(err) ? err.relayCode : 'error' }
}

/**
 * A stream that failed before its first byte reached the client (upstream
 * closed or reset it right after the headers): the client cannot tell, so it
 * may go elsewhere. A first-byte timeout stays a timeout (see classifyFailure).
 */
export function beforeFirstByte<E> (err: E): E {
  const verdict = classifyFailure(err)
  if (verdict.retry || verdict.failure) return err
  return markRetryable(err, 'stream failed before its first byte')
}

function causeCode (err: unknown): string | undefined {
  const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause
  const code = cause?.code ?? (err as { code?: unknown } | undefined)?.code
  return typeof code === 'string' ? code : undefined
}

/**
 * Builds a request's attempt plan. Candidates come in the route's
 * (round-robin) order; an upstream whose breaker is open is skipped; when
 * every candidate is skipped the one that failed least recently is tried
 * anyway, since failing without trying helps nobody. Each upstream is tried
 * at most once per request. Nothing is retried once `signal` aborted (client
 * gone, total timeout, shutdown).
 */
export function createAttempts (route: Route, health: UpstreamHealth, signal: AbortSignal, observer: UpstreamObserver): Attempts {
  const tried = new Set<Upstream>()
  const retried: RetryRecord[] = []
  let current: Upstream | undefined
  // No abort listener: a request that ends without a verdict (client gone before the first byte)
  // still reaches failed() (its attempt rejects at once on abort: upstream/http-upstream.ts), which
  // frees a half-open trial slot. Listening as well cost an EventTarget entry per request.

  function pick (): Upstream | undefined {
    for (const u of route.upstreams) {
      if (!tried.has(u) && health.acquire(u.name)) return take(u)
    }
    return undefined
  }

  function take (u: Upstream): Upstream {
    tried.add(u)
    current = u
    return u
  }

  function done (): void {
    current = undefined
  }

  return {
    retried,
    first () {
      const healthy = pick()
      if (healthy) return healthy
      let oldest = route.upstreams[0] as Upstream
      for (const u of route.upstreams) if (health.lastFailureAt(u.name) < health.lastFailureAt(oldest.name)) oldest = u
      health.force(oldest.name)
      return take(oldest)
    },
    succeeded () {
      if (current) health.success(current.name)
      done()
    },
    verdict () {
      return new PendingVerdict((current as Upstream).name, route.upstreamModel, health, signal, observer)
    },
    failed (err) {
      const failedOne = current
      if (!failedOne) return undefined
      if (signal.aborted) {
        health.release(failedOne.name)
        done()
        return undefined
      }
      const verdict = classifyFailure(err)
      if (verdict.failure) health.failure(failedOne.name)
      else health.release(failedOne.name)
      const next = verdict.retry ? pick() : undefined
      if (verdict.failure) observer.onUpstreamError?.({ upstream: failedOne.name, model: route.upstreamModel, reason: verdict.reason, retried: next !== undefined })
      if (!next) {
        done()
        return undefined
      }
      retried.push({ upstream: failedOne.name, reason: verdict.reason })
      observer.onRetry?.({ from: failedOne.name, to: next.name, model: route.upstreamModel, reason: verdict.reason })
      return next
    },
  }
}

/** The part of a request's log line that failover fills in (observability/request-state.ts). */
export interface FailoverLog {
  /** The upstream being tried, then the one that served or failed last. */
  upstream: string | undefined
  /** The upstreams the request left, and why. */
  retried: RetryRecord[]
}

/**
 * Failover (SPEC §9), for a direct request and POST /v1/streams alike: runs
 * `attempt` with the plan for each upstream of `attempts` in turn (`retarget`
 * gives the plan for another upstream of the same route) until one succeeds.
 * A connect error, reset, 429 or 5xx before anything reached the client moves
 * to the next upstream (`attempts.failed` decides); otherwise, or once the
 * request's signal aborted, or when none is left, it rejects with the last
 * error. A stream may still break after that, so a streamed attempt gets the
 * upstream's `verdict` to hand to the stream, which gives it when it ends.
 */
export async function withFailover<P extends { readonly stream: boolean }, T> (
  attempts: Attempts,
  plan: P,
  retarget: (plan: P, upstream: Upstream) => P,
  log: FailoverLog,
  attempt: (plan: P, verdict: StreamVerdict | undefined) => Promise<T>
): Promise<T> {
  log.retried = attempts.retried
  for (let upstream = attempts.first(); ;) {
    log.upstream = upstream.name
    try {
      const result = await attempt(retarget(plan, upstream), plan.stream ? attempts.verdict() : undefined)
      if (!plan.stream) attempts.succeeded()
      return result
    } catch (err) {
      const next = attempts.failed(err)
      if (next === undefined) throw err
      upstream = next
    }
  }
}

/**
 * One stream's verdict on its upstream. A class: an open stream holds this
 * one small object (five fields) until it ends, not the request's attempts.
 */
class PendingVerdict implements StreamVerdict {
  readonly #upstream: string
  readonly #model: string
  readonly #health: UpstreamHealth
  readonly #signal: AbortSignal
  readonly #observer: UpstreamObserver
  #given = false

  constructor (upstream: string, model: string, health: UpstreamHealth, signal: AbortSignal, observer: UpstreamObserver) {
    this.#upstream = upstream
    this.#model = model
    this.#health = health
    this.#signal = signal
    this.#observer = observer
  }

  #give (): boolean {
    if (this.#given) return false
    this.#given = true
    return true
  }

  completed (): void {
    if (this.#give()) this.#health.success(this.#upstream)
  }

  broke (err: unknown): void {
    if (!this.#give()) return
    if (this.#signal.aborted) {
      this.#health.release(this.#upstream)
      return
    }
    this.#health.failure(this.#upstream)
    // The metrics count this failure from the request's summary (or the generation's end), whose
    // outcome is upstream_error or timeout: observers that count must not count it again.
    this.#observer.onUpstreamError?.({ upstream: this.#upstream, model: this.#model, reason: classifyFailure(err).reason, retried: false })
  }

  released (): void {
    if (this.#give()) this.#health.release(this.#upstream)
  }
}
