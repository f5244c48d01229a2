import type { StoredEvent } from './store.js'

/** Events kept per stream: a reader that follows is a few events behind at most; one further back reads Redis. */
const TAIL_EVENTS = 64
/** How long a finished stream's tail stays at most: the readers woken by its final event read it here. */
const FINISHED_TAIL_MS = 10_000

interface Tail {
  /** The number of `events[0]`; the events are numbered on from it without a gap. */
  first: number
  events: StoredEvent[]
  /** The highest number Redis's wake-ups announced for the stream (the APPEND script publishes it). */
  announced: number
  /** The stream's latest APPEND, sent while this tail held its earlier events. */
  pending?: Promise<unknown>
  expiry?: NodeJS.Timeout
}

/**
 * The last events of each stream this replica produces, exactly as they were
 * stored in Redis (each one added once its APPEND answered, with the number
 * Redis gave it). A reader on the producing replica (one replica, or a
 * balancer that keeps a client where it started) is woken like every reader,
 * by Redis's wake-up, and then reads what it missed from here instead of
 * Redis: one round trip and one decode less per frame and reader.
 *
 * Redis may hold an event this replica did not add: the APPEND script's own
 * overflow error, or the final event another replica writes for a stream
 * whose producer lost its lease. Each wake-up carries the number of the event
 * that was stored, so the tail answers only while it holds everything
 * announced so far (waiting first for an APPEND of its own on its way, whose
 * wake-up may arrive before its answer) and the whole range asked for;
 * anything else (further back, at its end, a number it does not hold) is
 * read from Redis. A failed APPEND drops the tail.
 */
export class ProducedTails {
  readonly #tails = new Map<string, Tail>()

  /**
   * An APPEND of `id` was sent; `answer` settles with its result. Kept on the tail (no tail yet:
   * nothing to read here anyway), so it goes with it and costs no listener per frame.
   */
  appending (id: string, answer: Promise<unknown>): void {
    const tail = this.#tails.get(id)
    if (tail !== undefined) tail.pending = answer
  }

  /**
   * An event Redis stored as `stored.seq` for this replica. A final event starts the finished
   * stream's grace: half its `ttlMs` (its keys in Redis live that long after its end), 10 s at most.
   */
  add (id: string, stored: StoredEvent, final: false | { ttlMs: number }): void {
    let tail = this.#tails.get(id)
    if (tail === undefined || stored.seq !== tail.first + tail.events.length) {
      if (tail?.expiry !== undefined) clearTimeout(tail.expiry)
      tail = { first: stored.seq, events: [], announced: tail?.announced ?? 0 }
      this.#tails.set(id, tail)
    }
    tail.events.push(stored)
    if (tail.events.length > TAIL_EVENTS) {
      tail.events.shift()
      tail.first++
    }
    if (final) {
      const finished = tail
      finished.expiry = setTimeout(() => { if (this.#tails.get(id) === finished) this.#tails.delete(id) }, Math.min(FINISHED_TAIL_MS, final.ttlMs / 2))
      finished.expiry.unref()
    }
  }

  /** A wake-up's message: the number of the event just stored (or "deleted": the stream is gone). */
  announce (id: string, message: string | undefined): void {
    const tail = this.#tails.get(id)
    if (tail === undefined) return
    const seq = Number(message)
    if (!Number.isSafeInteger(seq)) this.drop(id)
    else if (seq > tail.announced) tail.announced = seq
  }

  /** The events after `after` when the tail can answer for all of them (see above); undefined: ask Redis. */
  async read (id: string, after: number): Promise<StoredEvent[] | undefined> {
    let tail = this.#tails.get(id)
    if (tail === undefined) return undefined
    const answer = tail.pending
    if (tail.announced > last(tail) && answer !== undefined) {
      // The APPEND's caller adds the event (or drops the tail) before this resumes: its await was
      // registered first. An answer already in is awaited for one microtask, harmlessly.
      await answer.catch(() => {})
      tail = this.#tails.get(id)
      if (tail === undefined) return undefined
    }
    if (tail.announced > last(tail) || after + 1 < tail.first || after >= last(tail)) return undefined
    return tail.events.slice(after + 1 - tail.first)
  }

  drop (id: string): void {
    const tail = this.#tails.get(id)
    if (tail?.expiry !== undefined) clearTimeout(tail.expiry)
    this.#tails.delete(id)
  }

  clear (): void {
    for (const id of [...this.#tails.keys()]) this.drop(id)
  }
}

function last (tail: Tail): number {
  return tail.first + tail.events.length - 1
}
