import type { OutgoingHttpHeaders } from 'node:http'
import type { FastifyReply } from 'fastify'
import type { FrameFormat, StreamEvent } from '../formats/types.js'
import type { Outcome, RequestState } from '../observability/request-state.js'
import { streamHeaders } from '../sse/headers.js'
import { isFinal, type StreamStore } from './store.js'

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
  const attached = store.attach(id)
  res.once('close', () => {
    closed = true
    clearTimeout(timer)
    unsubscribe()
    // After the attach, whatever the store's latency: a detach first would leave a reader counted forever.
    void attached.then(() => store.detach(id))
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
        // Expired or removed under the reader: nothing more will come.
        if (events === undefined) { res.end(); return }
        for (const { seq, event, ids } of events) {
          if (seq <= sent) continue
          sent = seq
          const n = ids[name] ?? 0
          // The numbering asked this same render whether the event shows: n went up exactly when it does.
          const out = n > floor ? render(event, n) : undefined
          if (isFinal(event)) {
            // Delivered once it is flushed to the socket, not merely queued.
            res.end(out, () => { if (out !== undefined) void store.markDelivered(id) })
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
