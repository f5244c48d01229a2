import { EventEmitter } from 'node:events'
import type { Dispatcher } from 'undici'
import type { UpstreamBody } from './types.js'

/** The one body whose `onResponseData` is running: a resume() from inside it must not re-enter undici's parser. */
let dispatching: HttpBody | undefined

/**
 * An upstream response body fed straight by an undici dispatch handler
 * (upstream/http-upstream.ts): each chunk undici's parser hands over is
 * emitted as one `'data'` event, synchronously, and `pause()`/`resume()` are
 * undici's own controller (pausing stops its parser, so the socket stops being
 * read and TCP holds the upstream back).
 *
 * Why not undici's `request()` and its Readable body: per chunk that body runs
 * `push()` → `readableAddChunk` → `'data'` plus a `process.nextTick(maybeReadMore)`,
 * and per response an AsyncResource and a Readable's state. What it bought,
 * measured together with the one-write client side (client-writer.ts):
 * throughput (many frames per read) 11.9/11.0 → 10.6/10.5 µs CPU per frame;
 * paced (one frame per read) within noise, ~31 µs either way, because there
 * the per-frame cost is the two syscalls and the socket layers of Node and
 * undici below this point (bench/README.md, "Where per-frame CPU goes").
 *
 * It is the part of a Readable the relay uses (the UpstreamBody interface):
 * `'data'`/`'end'`/`'error'`/`'close'`, pause/resume/isPaused, destroy,
 * async iteration (for error bodies). Like a Readable it starts flowing when a
 * `'data'` listener is added; chunks that arrive before that are held (and
 * undici paused), then delivered in order on the next tick.
 */
export class HttpBody extends EventEmitter implements UpstreamBody {
  destroyed = false
  closed = false
  errored: Error | null = null

  #controller: Dispatcher.DispatchController
  /** Chunks not yet delivered: there was no 'data' listener, or the body was paused. */
  #held: Buffer[] | undefined
  #flowing = false
  /** pause() was called and no resume() since. */
  #paused = false
  #ended = false
  #endEmitted = false
  /** An error that found no 'error' listener yet: emitted once one is added. */
  #pendingError: Error | undefined
  #scheduled = false
  /**
   * The one 'data' listener, called directly by push(): `emit()` looks the listener up with a
   * keyed load on `_events`, whose shapes differ from body to body, so that load is megamorphic
   * (perf: ~1.3 % of a paced run's samples). Undefined when there are none or several.
   */
  #onData: ((chunk: Buffer) => void) | undefined = undefined

  constructor (controller: Dispatcher.DispatchController) {
    super()
    this.#controller = controller
  }

  override on (event: string | symbol, listener: (...args: any[]) => void): this {
    super.on(event, listener)
    if (event === 'data') {
      this.#syncOnData()
      if (!this.#paused) this.resume()
    } else if (event === 'error' && this.#pendingError !== undefined) {
      this.#schedule()
    }
    return this
  }

  override prependListener (event: string | symbol, listener: (...args: any[]) => void): this {
    super.prependListener(event, listener)
    if (event === 'data') this.#syncOnData()
    return this
  }

  override removeListener (event: string | symbol, listener: (...args: any[]) => void): this {
    super.removeListener(event, listener)
    if (event === 'data') this.#syncOnData()
    return this
  }

  override off (event: string | symbol, listener: (...args: any[]) => void): this {
    return this.removeListener(event, listener)
  }

  override removeAllListeners (event?: string | symbol): this {
    // EventEmitter tells "all events" from "event undefined" by the argument count.
    if (event === undefined) super.removeAllListeners()
    else super.removeAllListeners(event)
    this.#syncOnData()
    return this
  }

  /** Listeners change per stream, not per chunk: look the one 'data' listener up again (a once() wrapper as registered). */
  #syncOnData (): void {
    this.#onData = this.listenerCount('data') === 1 ? this.rawListeners('data')[0] as (chunk: Buffer) => void : undefined
  }

  override addListener (event: string | symbol, listener: (...args: any[]) => void): this {
    return this.on(event, listener)
  }

  // `once` goes through `on` in EventEmitter, so it needs no override.

  pause (): this {
    this.#paused = true
    this.#flowing = false
    if (!this.#ended && !this.destroyed) this.#controller.pause()
    return this
  }

  resume (): this {
    this.#paused = false
    if (this.destroyed) return this
    this.#flowing = true
    if (this.#held !== undefined || (this.#ended && !this.#endEmitted)) {
      // Held chunks go first, on the next tick (as a Readable delivers after resume()); undici is resumed after them.
      this.#schedule()
    } else if (!this.#ended) {
      this.#resumeUpstream()
    }
    return this
  }

  isPaused (): boolean {
    return this.#paused
  }

  destroy (error?: Error): this {
    if (this.destroyed) return this
    this.destroyed = true
    this.#held = undefined
    if (error !== undefined) this.errored = error
    // Aborting a finished request does nothing in undici; an unfinished one has its socket destroyed.
    if (!this.#ended) this.#controller.abort(error ?? new Error('upstream body destroyed'))
    if (error !== undefined) this.#pendingError = error
    this.#schedule()
    return this
  }

  // -- fed by the dispatch handler --

  /** A chunk from undici; the hot path (flowing, nothing held) is one emit. */
  push (chunk: Buffer): void {
    if (this.destroyed) return
    if (this.#flowing && this.#held === undefined) {
      dispatching = this
      try {
        const onData = this.#onData
        if (onData !== undefined) onData(chunk)
        else this.emit('data', chunk)
      } finally {
        dispatching = undefined
      }
      return
    }
    (this.#held ??= []).push(chunk)
    this.#controller.pause()
  }

  end (): void {
    if (this.destroyed) return
    this.#ended = true
    if (this.#flowing && this.#held === undefined) this.#emitEnd()
    // Otherwise 'end' follows the held chunks once the consumer reads them.
  }

  fail (err: Error): void {
    if (this.destroyed) return
    this.destroyed = true
    this.errored = err
    this.#held = undefined
    this.#pendingError = err
    this.#schedule()
  }

  // -- internals --

  #emitEnd (): void {
    this.#endEmitted = true
    this.emit('end')
    this.#close()
  }

  #close (): void {
    if (this.closed) return
    this.closed = true
    this.emit('close')
  }

  #schedule (): void {
    if (this.#scheduled) return
    this.#scheduled = true
    process.nextTick(() => {
      this.#scheduled = false
      this.#drain()
    })
  }

  /** Delivers what was held (chunks, then the end), or a destroyed body's error and close. */
  #drain (): void {
    if (this.destroyed) {
      const err = this.#pendingError
      if (err !== undefined && this.listenerCount('error') > 0) {
        this.#pendingError = undefined
        this.emit('error', err)
      }
      this.#close()
      return
    }
    while (this.#flowing && this.#held !== undefined) {
      const chunk = this.#held.shift() as Buffer
      if (this.#held.length === 0) this.#held = undefined
      this.emit('data', chunk)
      if (this.destroyed) return
    }
    if (!this.#flowing) return
    if (this.#ended) {
      if (!this.#endEmitted) this.#emitEnd()
    } else {
      this.#resumeUpstream()
    }
  }

  #resumeUpstream (): void {
    if (!this.#controller.paused) return
    // undici's parser cannot be resumed from inside another response's data callback (it runs one
    // parser at a time); that only happens when one body's consumer resumes another: defer it.
    if (dispatching !== undefined && dispatching !== this) {
      queueMicrotask(() => { if (this.#flowing && !this.destroyed) this.#controller.resume() })
      return
    }
    this.#controller.resume()
  }

  /** For error bodies (read-body.ts reads them with `for await`): chunks as they come, no backpressure needed at their size. */
  async * [Symbol.asyncIterator] (): AsyncIterator<Buffer> {
    const chunks: Buffer[] = []
    let done = false
    let failed: Error | undefined
    let wake: (() => void) | undefined
    const onData = (chunk: Buffer) => { chunks.push(chunk); wake?.() }
    const onEnd = () => { done = true; wake?.() }
    const onError = (err: Error) => { failed = err; wake?.() }
    const onClose = () => { done = true; wake?.() }
    this.on('data', onData)
    this.on('end', onEnd)
    this.on('error', onError)
    this.on('close', onClose)
    try {
      for (;;) {
        const chunk = chunks.shift()
        if (chunk !== undefined) { yield chunk; continue }
        if (failed !== undefined) throw failed
        if (done) return
        await new Promise<void>((resolve) => { wake = resolve })
        wake = undefined
      }
    } finally {
      this.off('data', onData)
      this.off('end', onEnd)
      this.off('error', onError)
      this.off('close', onClose)
      if (!this.#endEmitted) this.destroy()
    }
  }
}
