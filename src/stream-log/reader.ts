import type { OutgoingHttpHeaders } from 'node:http'
import type { FastifyReply } from 'fastify'
import { UpstreamError, errorEnvelope } from '../errors.js'
import type { FrameFormat, StreamEvent } from '../formats/types.js'
import type { Outcome, RequestState } from '../observability/request-state.js'
import { streamHeaders } from '../sse/headers.js'
import { isFinal, type StreamStore } from './store.js'

/** How soon a reader looks again after the store failed it (a shared store whose Redis is away). */
const STORE_RETRY_MS = 500

export interface ReaderOptions {
  store: StreamStore
  id: string
  /** A format with `renderEvent` (an event-stream format). */
  format: FrameFormat
  /** Send the events this format numbers above this (Last-Event-ID; 0 for all). */
  lastEventId: number
  reply: FastifyReply
  heartbeatMs: number
  state: RequestState
}

/**
 * One EventSource reader of a stored stream (SPEC §6): the events after
 * `lastEventId` from the store, then each new one as it is appended, every
 * one with its `id:` in this format (1, 2, 3, …: stream-log/numbering.ts); the
 * response ends after the final event. Headers go out at
 * once (EventSource fires `open`), with whatever the hooks set, CORS
 * included: the reply is hijacked, so `reply.getHeaders()` goes into `writeHead`.
 *
 * One loop reads from the store and writes, and it never runs twice at once:
 * an append while it awaits the store just makes it go round again. So the
 * events leave in order, each once, whether they came from the replay or live.
 * A full socket stops the loop until 'drain'; the store holds the rest.
 */
export async function serveReader (o: ReaderOptions): Promise<void> {
  const { store, id, format, reply, state } = o
  const render = format.renderEvent as NonNullable<FrameFormat['renderEvent']>
  const res = reply.raw
  const name = format.name
  // Events this format numbers at most `floor` were seen: the cursor starts after them, and the
  // check below also holds for a Last-Event-ID beyond what exists yet.
  const floor = o.lastEventId
  let sent = (await store.positionAfter(id, name, floor)) ?? 0
  let running = false
  let again = false
  let waitingDrain = false
  let closed = false
  /** The id (in this format) of the last event written, for the error event of a stream that vanished. */
  let lastShown = floor
  let retry: NodeJS.Timeout | undefined

  reply.hijack()
  res.writeHead(200, streamHeaders(format.contentType, reply.getHeaders() as OutgoingHttpHeaders))
  res.flushHeaders()
  state.ttfbMs = performance.now() - state.startedAt

  const heartbeat = format.heartbeat
  const timer = setTimeout(function beat () {
    if (heartbeat !== undefined && !closed) res.write(heartbeat)
    timer.refresh()
  }, o.heartbeatMs)
  timer.unref()

  const unsubscribe = store.subscribe(id, () => { void pump() })
  // A store that cannot count this reader (Redis away) must not fail it: the count only feeds the
  // producer's no-reader watchdog. Never rejects, and says whether there is a count to give back.
  const attached = store.attach(id).then(() => true, () => false)
  res.once('close', () => {
    closed = true
    clearTimeout(timer)
    clearTimeout(retry)
    unsubscribe()
    // After the attach, whatever the store's latency: a detach first would leave a reader counted
    // forever. A detach the store cannot take leaves it counted until the stream ends.
    void attached.then((counted) => counted ? store.detach(id) : undefined).catch(() => {})
  })
  await attached
  await pump()

  async function pump (): Promise<void> {
    if (running) { again = true; return }
    running = true
    try {
      do {
        again = false
        if (closed || waitingDrain) return
        const events = await store.eventsAfter(id, sent)
        if (closed) return
        // Removed under the reader before its final event (a Redis that restarted empty or evicted
        // it, a start that failed after a repeat attached): nothing more will come, and a silent
        // end would pass for a finished answer. One error event says it did not finish.
        if (events === undefined) {
          const vanished: StreamEvent = { type: 'error', error: errorEnvelope(UpstreamError({}, 'The stream was removed from the stream log before its end (e.g. a shared Redis restarted without its data); the answer is incomplete')).error }
          res.end(render(vanished, lastShown + 1))
          state.outcome = 'upstream_error'
          state.frames++
          closed = true
          return
        }
        for (const { seq, event, ids } of events) {
          if (seq <= sent) continue
          sent = seq
          const n = ids[name] ?? 0
          // The numbering asked this same render whether the event shows: n went up exactly when it does.
          const out = n > floor ? render(event, n) : undefined
          if (out !== undefined) lastShown = n
          if (isFinal(event)) {
            // Delivered once it is flushed to the socket, not merely queued. Not recorded (Redis
            // away): a later GET without Last-Event-ID replays the stream instead of its 204.
            res.end(out, () => { if (out !== undefined) store.markDelivered(id).catch(() => {}) })
            state.outcome = outcomeOf(event)
            if (out !== undefined) state.frames++
            closed = true
            return
          }
          if (out === undefined) continue
          state.frames++
          timer.refresh()
          if (!res.write(out)) {
            waitingDrain = true
            res.once('drain', () => { waitingDrain = false; void pump() })
            return
          }
        }
      } while (again)
    } catch {
      // The store failed (Redis away or too slow): keep the connection, heartbeats going, and look
      // again shortly; the events are still there when it is back, or their end is.
      if (!closed) {
        clearTimeout(retry)
        retry = setTimeout(() => { void pump() }, STORE_RETRY_MS)
        retry.unref()
      }
    } finally {
      running = false
    }
  }
}

/**
 * The reader's outcome (SPEC §8) from the stream's final event. Only the stored
 * event reaches a reader (maybe on another replica than the producer), so its
 * error code says who ended the generation: a DELETE (or nobody reading) is the
 * client's doing, not the upstream's.
 */
function outcomeOf (event: StreamEvent): Outcome {
  if (event.type !== 'error') return 'completed'
  switch (event.error.code) {
    case 'stream_cancelled':
    case 'stream_detached':
      return 'client_aborted'
    case 'upstream_timeout':
      return 'timeout'
    default:
      return 'upstream_error'
  }
}
