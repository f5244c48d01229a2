import type { Upstream, UpstreamCall, UpstreamResponse } from './types.js'

/**
 * Every upstream request still running, from the call until its response
 * body closed. Graceful shutdown (SPEC §9) needs two things from it: to know
 * when the last stream has finished, and to end the ones still running after
 * the grace period. Ending one aborts its upstream request with the given
 * reason; undici destroys the body with that reason, and the stream pipeline
 * turns it into the client's error frame (never a silent cut, never [DONE]).
 */
export interface Inflight {
  /** Upstream requests running now. */
  readonly size: number
  /** The same upstream, with its calls tracked. */
  track (upstream: Upstream): Upstream
  /** Resolves when no upstream request is running (at once if none is). */
  whenIdle (): Promise<void>
  /** Aborts every running upstream request with `reason` (a RelayError, so clients see its code), and every later one. */
  abortAll (reason: unknown): void
}

export function createInflight (): Inflight {
  const running = new Set<AbortController>()
  let waiters: Array<() => void> = []
  // Once everything was aborted, a call that starts later (a failover retry racing the abort) is aborted too.
  let stopped: { reason: unknown } | undefined

  function remove (controller: AbortController): void {
    if (!running.delete(controller) || running.size > 0) return
    const wake = waiters
    waiters = []
    for (const w of wake) w()
  }

  function track (upstream: Upstream): Upstream {
    return {
      name: upstream.name,
      config: upstream.config,
      kind: upstream.kind,
      listModels: (signal) => upstream.listModels(signal),
      close: () => upstream.close(),
      async call (call: UpstreamCall): Promise<UpstreamResponse> {
        // An own controller per call, so shutdown can abort it without owning the request's signal.
        const controller = new AbortController()
        const outer = call.signal
        const follow = () => controller.abort(outer.reason)
        if (outer.aborted) follow()
        else outer.addEventListener('abort', follow, { once: true })
        if (stopped) controller.abort(stopped.reason)
        running.add(controller)
        const end = () => {
          outer.removeEventListener('abort', follow)
          remove(controller)
        }
        let response: UpstreamResponse
        try {
          response = await upstream.call({ ...call, signal: controller.signal })
        } catch (err) {
          end()
          throw err
        }
        if (response.body.destroyed || response.body.closed) end()
        else response.body.once('close', end)
        return response
      },
    }
  }

  return {
    get size () { return running.size },
    track,
    whenIdle () {
      if (running.size === 0) return Promise.resolve()
      return new Promise<void>((resolve) => { waiters.push(resolve) })
    },
    abortAll (reason) {
      stopped = { reason }
      for (const controller of [...running]) controller.abort(reason)
    },
  }
}
