import type { Dispatcher } from 'undici'
import type { BodySink, UpstreamBody } from './types.js'

/**
 * An HTTP upstream's response body, fed straight by the call's undici
 * dispatch handler (http-upstream.ts): each chunk undici's parser hands over
 * goes to the sink's `onData`, synchronously, and `pause()` is undici's own
 * controller (pausing stops its parser, so the socket stops being read and
 * TCP holds the upstream back).
 *
 * Why not undici's `request()` and its Readable body: per chunk that body runs
 * `push()` → `readableAddChunk` → `'data'` plus a `process.nextTick(maybeReadMore)`,
 * and per response an AsyncResource and a Readable's state; here a chunk is
 * one call (bench/README.md, "Figures behind the code's comments").
 *
 * Chunks that arrive before `read()` or while paused are held (and undici
 * paused), then delivered in order on the next tick, and so are a failure and
 * the resumption of undici: never from inside undici's own callbacks, whose
 * parser cannot be re-entered.
 */
export class ResponseBody implements UpstreamBody {
  readonly #controller: Dispatcher.DispatchController
  #sink: BodySink | undefined = undefined
  /** Chunks not delivered yet: they came before read(), or while paused. */
  #held: Buffer[] | undefined = undefined
  #paused = false
  /** undici ended the response; the sink hears it after the held chunks. */
  #ended = false
  /** Nothing more goes to the sink: the end was delivered, or the body failed or was destroyed. */
  #done = false
  /** A failure the sink has not heard yet. */
  #error: Error | undefined = undefined
  #closed = false
  #onClose: (() => void) | undefined = undefined
  #scheduled = false

  constructor (controller: Dispatcher.DispatchController) {
    this.#controller = controller
  }

  get paused (): boolean {
    return this.#paused
  }

  read (sink: BodySink): void {
    this.#sink = sink
    if (this.#held !== undefined || this.#ended || this.#done) this.#schedule()
  }

  pause (): void {
    this.#paused = true
    if (!this.#ended && !this.#done) this.#controller.pause()
  }

  resume (): void {
    if (!this.#paused) return
    this.#paused = false
    if (!this.#done) this.#schedule()
  }

  destroy (): void {
    if (this.#done) return
    this.#done = true
    this.#held = undefined
    // Aborting a finished request does nothing in undici; an unfinished one has its socket destroyed.
    if (!this.#ended) this.#controller.abort(new Error('upstream body destroyed'))
    this.#schedule()
  }

  onClose (fn: () => void): void {
    if (this.#closed) fn()
    else this.#onClose = fn
  }

  // -- fed by the dispatch handler --

  /** A chunk from undici; the hot path (reading, not paused, nothing held) is one call. */
  push (chunk: Buffer): void {
    if (this.#done) return
    const sink = this.#sink
    if (sink !== undefined && !this.#paused && this.#held === undefined) {
      sink.onData(chunk)
      return
    }
    (this.#held ??= []).push(chunk)
    this.#controller.pause()
  }

  end (): void {
    if (this.#done) return
    this.#ended = true
    if (this.#sink !== undefined && !this.#paused && this.#held === undefined) this.#deliverEnd()
  }

  fail (err: Error): void {
    if (this.#done) return
    this.#done = true
    this.#held = undefined
    this.#error = err
    this.#schedule()
  }

  // -- internals --

  #deliverEnd (): void {
    this.#done = true
    this.#sink?.onEnd()
    this.#close()
  }

  #close (): void {
    if (this.#closed) return
    this.#closed = true
    const fn = this.#onClose
    this.#onClose = undefined
    fn?.()
  }

  #schedule (): void {
    if (this.#scheduled) return
    this.#scheduled = true
    process.nextTick(ResponseBody.#drainLater, this)
  }

  static #drainLater (body: ResponseBody): void {
    body.#scheduled = false
    body.#drain()
  }

  /** Delivers a failure (once there is a sink), or the held chunks then the end, or resumes undici. */
  #drain (): void {
    const sink = this.#sink
    if (this.#done) {
      const err = this.#error
      if (err !== undefined && sink !== undefined) {
        this.#error = undefined
        sink.onError(err)
      }
      this.#close()
      return
    }
    if (sink === undefined) return
    while (!this.#paused && this.#held !== undefined) {
      const held = this.#held
      const chunk = held.shift() as Buffer
      if (held.length === 0) this.#held = undefined
      sink.onData(chunk)
      if (this.#done) return
    }
    if (this.#paused) return
    if (this.#ended) this.#deliverEnd()
    else if (this.#controller.paused) this.#controller.resume()
  }
}
