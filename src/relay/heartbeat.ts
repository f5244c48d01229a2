/** A stream the heartbeat watches: it says when it last wrote, and writes a comment when told to. */
export interface Beating {
  /** performance.now() of the stream's last write to its client. */
  readonly lastWriteAt: number
  /** Nothing was written for the heartbeat's interval: write the keep-alive comment now. */
  beat (): void
}

/** Checks per interval: a stream's comment goes out after between 1 and 1 + 1/SWEEPS intervals of silence. */
const SWEEPS = 4

/**
 * SSE keep-alive comments (SPEC §5: `: keep-alive` when nothing was sent for
 * `heartbeatMs`) for every open stream from ONE timer per interval value,
 * rather than a timer per stream.
 *
 * Why: a per-stream timer is a Timeout object and a closure held for the
 * whole stream, and keeping it exact
 * means touching it on every write (`refresh()` re-links it in Node's timer
 * list), on the per-frame path. Here a stream is one Set entry; each write
 * only stores a timestamp (client-writer.ts), and a sweep every
 * `heartbeatMs / 4` sends the comment to the streams silent for at least
 * `heartbeatMs`, so a comment comes after 1 to 1.25 intervals of silence.
 * A sweep over 10,000 open streams is a loop of 10,000 comparisons.
 */
export interface Heartbeat {
  add (stream: Beating): void
  delete (stream: Beating): void
}

const wheels = new Map<number, Heartbeat>()

/** The process's heartbeat for this interval (relays in one process share it). */
export function heartbeatEvery (intervalMs: number): Heartbeat {
  let wheel = wheels.get(intervalMs)
  if (wheel === undefined) {
    wheel = createHeartbeat(intervalMs)
    wheels.set(intervalMs, wheel)
  }
  return wheel
}

function createHeartbeat (intervalMs: number): Heartbeat {
  const streams = new Set<Beating>()
  const every = Math.max(1, Math.floor(intervalMs / SWEEPS))
  let timer: NodeJS.Timeout | undefined

  function sweep (): void {
    // 1 ms of slack: a timer may fire a hair early by performance.now().
    const silentSince = performance.now() - intervalMs + 1
    for (const stream of streams) {
      if (stream.lastWriteAt <= silentSince) stream.beat()
    }
  }

  return {
    add (stream) {
      streams.add(stream)
      if (timer === undefined) {
        timer = setInterval(sweep, every)
        // The heartbeat never keeps a process alive on its own.
        timer.unref()
      }
    },
    delete (stream) {
      streams.delete(stream)
      if (streams.size === 0 && timer !== undefined) {
        clearInterval(timer)
        timer = undefined
      }
    },
  }
}
