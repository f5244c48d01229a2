/** A stream the heartbeat watches: it says when it last wrote, and writes a comment when told to. */
export interface Beating {
  /** performance.now() of the stream's last write to its client. */
  readonly lastWriteAt: number
  /** The stream's place in its heartbeat's list, -1 when not in one: written only by the heartbeat. */
  heartbeatSlot: number
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
 * list), on the per-frame path. Here a stream is one slot of an array; each write
 * only stores a timestamp (client-writer.ts), and a sweep every
 * `heartbeatMs / 4` sends the comment to the streams silent for at least
 * `heartbeatMs`, so a comment comes after 1 to 1.25 intervals of silence.
 * A sweep over 10,000 open streams is a loop of 10,000 comparisons.
 *
 * An array with each stream's index on the stream, not a Set: adding an
 * object to a Set gives it an identity hash (a property store of its own) and
 * the Set grows and shrinks with the streams; here add and delete are an
 * array write and a swap. The timer is stopped by the sweep that finds no
 * stream, not by the last delete: between short streams it is not cleared
 * and set again per stream (bench/README.md, "Third pass").
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
  const streams: Beating[] = []
  const every = Math.max(1, Math.floor(intervalMs / SWEEPS))
  let timer: NodeJS.Timeout | undefined

  function sweep (): void {
    if (streams.length === 0) {
      clearInterval(timer)
      timer = undefined
      return
    }
    // 1 ms of slack: a timer may fire a hair early by performance.now().
    const silentSince = performance.now() - intervalMs + 1
    // From the end: a stream that ends inside beat() swaps an already visited one into its slot.
    for (let i = streams.length - 1; i >= 0; i--) {
      const stream = streams[i] as Beating
      if (stream.lastWriteAt <= silentSince) stream.beat()
    }
  }

  return {
    add (stream) {
      if (stream.heartbeatSlot !== -1) return
      stream.heartbeatSlot = streams.length
      streams.push(stream)
      if (timer === undefined) {
        timer = setInterval(sweep, every)
        // The heartbeat never keeps a process alive on its own.
        timer.unref()
      }
    },
    delete (stream) {
      const slot = stream.heartbeatSlot
      if (slot === -1 || streams[slot] !== stream) return
      const last = streams.pop() as Beating
      if (last !== stream) {
        streams[slot] = last
        last.heartbeatSlot = slot
      }
      stream.heartbeatSlot = -1
    },
  }
}
