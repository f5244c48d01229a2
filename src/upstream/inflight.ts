import type { Upstream, UpstreamCall, UpstreamResponse } from './types.js'

/**
 * Every upstream request still running, from the call until its response
 * body closed. Graceful shutdown (SPEC §9) needs two things from it: to know
 * when the last stream has finished, and to end the ones still running after
 * the grace period. Ending one aborts the caller's controller with the given
 * reason; undici destroys the body with that reason, and the stream pipeline
 * turns it into the client's error frame (never a silent cut, never [DONE]).
 *
 * It holds the callers' controllers rather than a controller of its own per call:
 * an AbortController with its signal, two listener maps and a forwarding
 * listener per open stream (bench/README.md), only to be used on shutdown.
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

interface Running {
  readonly controller: AbortController
}

export function createInflight (): Inflight {
  // One entry per attempt (a failover retry of the same request is its own entry), holding only the
  // controller: the call itself would keep its body, the prompt, alive for as long as the stream runs.
  const running = new Set<Running>()
  let waiters: Array<() => void> = []
  // Once everything was aborted, a call that starts later (a failover retry racing the abort) is aborted too.
  let stopped: { reason: unknown } | undefined

  function remove (entry: Running): void {
    if (!running.delete(entry) || running.size > 0) return
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
        if (stopped) call.controller.abort(stopped.reason)
        const entry: Running = { controller: call.controller }
        running.add(entry)
        let response: UpstreamResponse
        try {
          response = await upstream.call(call)
        } catch (err) {
          remove(entry)
          throw err
        }
        response.body.onClose(() => remove(entry))
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
      for (const entry of [...running]) entry.controller.abort(reason)
    },
  }
}
