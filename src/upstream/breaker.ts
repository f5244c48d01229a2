/**
 * The failing-upstream breaker (SPEC §9: "an upstream that keeps failing is
 * skipped for a while"). Per upstream:
 *
 * - `closed`: requests go through; consecutive failures are counted and any
 *   answer resets the count.
 * - `open`: after `failureThreshold` consecutive failures the upstream is
 *   skipped for `cooldownMs`.
 * - `half_open`: once the cool-down is over, exactly one trial request is let
 *   through; its success closes the breaker, its failure opens it again for
 *   another cool-down. Other requests keep skipping it while the trial runs.
 *
 * Failures before the first byte reached the client count (connect errors,
 * resets, 429, 5xx, first-byte timeouts), and so do streams that broke after
 * it (reset, malformed or in-band error frame, truncated, idle timeout): the
 * router cannot save those requests, but can spare the next ones. A stream's
 * success is recorded when it ends properly, not at its first byte, so an
 * upstream that breaks every stream never looks healthy (upstream/failover.ts
 * StreamVerdict). A half-open trial that is a stream holds its slot until then.
 */
export type BreakerState = 'closed' | 'open' | 'half_open'

export interface HealthOptions {
  failureThreshold: number
  cooldownMs: number
  /** Clock in ms; tests and the real thing both use performance.now(). */
  now?: () => number
  /** Called on every state change (closed → open, open → half_open, …). */
  onChange?: (upstream: string, state: BreakerState) => void
}

export interface UpstreamHealth {
  /**
   * May a request go to this upstream now? True when closed; when the
   * cool-down is over and no trial is running, it starts the half-open trial
   * (so the caller MUST later report success, failure or release).
   */
  acquire (name: string): boolean
  /** Sends a request even though the breaker is open: the last resort when every candidate is skipped. */
  force (name: string): void
  success (name: string): void
  failure (name: string): void
  /** The request ended without telling anything about the upstream (client gone, a 4xx): frees a trial slot. */
  release (name: string): void
  /** When this upstream last failed (ms on the health clock), or -Infinity if never. */
  lastFailureAt (name: string): number
  state (name: string): BreakerState
}

interface Entry {
  state: BreakerState
  failures: number
  openedAt: number
  lastFailureAt: number
  /** A half-open trial request is running. */
  trial: boolean
}

export function createUpstreamHealth (options: HealthOptions): UpstreamHealth {
  const now = options.now ?? (() => performance.now())
  const entries = new Map<string, Entry>()

  function entry (name: string): Entry {
    let e = entries.get(name)
    if (!e) {
      e = { state: 'closed', failures: 0, openedAt: 0, lastFailureAt: -Infinity, trial: false }
      entries.set(name, e)
    }
    return e
  }

  function set (name: string, e: Entry, state: BreakerState): void {
    if (e.state === state) return
    e.state = state
    options.onChange?.(name, state)
  }

  return {
    acquire (name) {
      const e = entry(name)
      if (e.state === 'closed') return true
      if (e.trial) return false
      if (e.state === 'open' && now() - e.openedAt < options.cooldownMs) return false
      set(name, e, 'half_open')
      e.trial = true
      return true
    },
    force (name) {
      const e = entry(name)
      // A forced request is a trial too: its answer decides the breaker's state.
      if (e.state !== 'closed') e.trial = true
    },
    success (name) {
      const e = entry(name)
      e.failures = 0
      e.trial = false
      set(name, e, 'closed')
    },
    failure (name) {
      const e = entry(name)
      e.failures++
      e.lastFailureAt = now()
      const wasTrial = e.trial
      e.trial = false
      if (e.state !== 'closed' || wasTrial || e.failures >= options.failureThreshold) {
        // A failed trial (or forced last-resort request) starts a new cool-down.
        e.openedAt = e.lastFailureAt
        set(name, e, 'open')
      }
    },
    release (name) {
      entry(name).trial = false
    },
    lastFailureAt: (name) => entry(name).lastFailureAt,
    state: (name) => entry(name).state,
  }
}
