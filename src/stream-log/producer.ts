import type { FastifyBaseLogger } from 'fastify'
import { createSseParser } from '../sse/parser.js'
import { StreamBufferFullError, StreamDetachedError, UpstreamTimeoutError, errorEnvelope, type RelayError } from '../errors.js'
import { withModel } from '../formats/alias.js'
import { isUsageOnly, recordSummary, type Chunk } from '../formats/chunk-fields.js'
import { ChunkEvents, eventBytes } from '../formats/chunk-events.js'
import type { StreamEvent, StreamSummary, Usage } from '../formats/types.js'
import type { Outcome } from '../observability/request-state.js'
import { classifyEvent, endOfStream, upstreamFailed, type StreamSink } from '../relay/stream-end.js'
import type { StreamVerdict } from '../upstream/failover.js'
import type { Endpoint } from '../upstream/endpoint.js'
import type { Upstream, UpstreamResponse } from '../upstream/types.js'
import { createNumbering } from './numbering.js'
import type { StreamStore } from './store.js'

/** Appends in flight before the producer stops reading upstream (only a slow, shared store gets there). */
const MAX_PENDING_APPENDS = 64

export interface ProducerOptions {
  store: StreamStore
  id: string
  upstream: Upstream
  response: UpstreamResponse
  endpoint: Endpoint
  /** The alias the client used, if any: the stored chunks carry it as `model`. */
  alias: string | undefined
  /** The relay asked for usage on the client's behalf: the usage-only chunk is not stored (its usage still is). */
  dropUsageChunk: boolean
  /** Aborts the upstream request. */
  controller: AbortController
  /** Told how the generation ended, for the upstream's breaker (SPEC §9). */
  verdict?: StreamVerdict | undefined
  totalMs: number
  detachTimeoutMs: number
  maxBufferBytes: number
  log: FastifyBaseLogger
  /** Fields for the stream's one log line (request id, key, model, …). */
  logFields: Record<string, unknown>
}

export interface Producer {
  /**
   * Ends the generation with this error as the stream's last event, and aborts the upstream. No-op
   * once finished. A cancel (DELETE, shutdown) is never the upstream's failure.
   */
  cancel (err: RelayError, outcome: Outcome): void
  /** Resolves when the final event is stored, with how the generation ended (for the metrics). */
  readonly done: Promise<ProducerResult>
}

export interface ProducerResult {
  outcome: Outcome
  /** As the upstream reported it; null when it did not. */
  usage: Usage | null
}

/**
 * Runs one upstream stream into the store (SPEC §6): the same event-stream
 * parser as the hot path, each upstream frame turned into one format-neutral
 * event (kept once; readers render it in their own format), and the same
 * rules for how a stream may end: `[DONE]` or a clean end where the upstream
 * kind ends that way → `stop`; an in-band error, a truncated or broken
 * stream, a timeout, a cancel, nobody reading, a full buffer → `error`.
 */
export function startProducer (o: ProducerOptions): Producer {
  const { store, id, upstream, response, controller } = o
  const body = response.body
  const summary: StreamSummary = { finishReason: null, usage: null }
  const startedAt = performance.now()
  let finished = false
  let bytes = 0
  let events = 0
  let pending = 0
  let chain: Promise<unknown> = Promise.resolve()
  // Each format's ids, counted here as events are produced (the one appender), in order.
  const number = createNumbering()
  // Each chunk's reasoning, the chunk, the tool calls it completed: the events a `content` POST stream shows.
  const split = new ChunkEvents(o.endpoint)
  let resolveDone!: (result: ProducerResult) => void
  const done = new Promise<ProducerResult>((resolve) => { resolveDone = resolve })

  // The same end-of-stream rules as the direct relay (relay/stream-end.ts); what they find is the upstream's fault.
  const sink: StreamSink = { frame, complete, fail: (err, outcome) => fail(err, outcome, true) }
  const parser = createSseParser({ onEvent: (event, raw) => { if (!finished) classifyEvent(upstream, event.data, raw, sink) } })
  body.read({
    onData: (chunk) => { if (!finished) parser.push(chunk) },
    onEnd: () => {
      const truncated = parser.end()
      if (!finished) endOfStream(upstream, o.endpoint, truncated, sink)
    },
    // An abort (shutdown's abortAll) fails the body too: the verdict sees the aborted signal.
    onError: (err) => { if (!finished) upstreamFailed(upstream, err, sink) },
  })

  const total = setTimeout(() => fail(UpstreamTimeoutError({}, `Stream took longer than the total timeout of ${o.totalMs} ms`), 'timeout'), o.totalMs)
  total.unref()
  let watchdog = setTimeout(checkReaders, o.detachTimeoutMs)
  watchdog.unref()

  /** One upstream chunk becomes its stored events (formats/chunk-events.ts): its reasoning, the chunk, the tool calls it completed. */
  function frame (data: string): void {
    const chunk = JSON.parse(data) as Chunk
    recordSummary(chunk, summary)
    if (o.dropUsageChunk && isUsageOnly(chunk)) return
    const stored = o.alias === undefined ? data : withModel(data, o.alias)
    const produced = split.of(chunk, stored)
    for (const event of produced) bytes += eventBytes(event)
    if (bytes > o.maxBufferBytes) {
      fail(StreamBufferFullError({}, `The stream's buffer of ${o.maxBufferBytes} bytes is full`), 'upstream_error')
      return
    }
    for (const event of produced) void append(event)
  }

  /** Appends in order; a slow store makes the producer stop reading upstream for a while (backpressure). */
  function append (event: StreamEvent): Promise<unknown> {
    events++
    pending++
    if (pending > MAX_PENDING_APPENDS) body.pause()
    const ids = number(event)
    chain = chain.then(() => store.append(id, event, ids)).catch((err: unknown) => {
      o.log.warn({ streamId: id, err: (err as Error).message }, 'could not store a stream event')
    }).finally(() => {
      pending--
      if (pending <= MAX_PENDING_APPENDS && body.paused && !finished) body.resume()
    })
    return chain
  }

  function complete (): void {
    for (const event of split.end()) void append(event)
    end({ type: 'stop', finishReason: summary.finishReason, usage: summary.usage }, 'completed')
    o.verdict?.completed()
  }

  /**
   * `upstreamFault`: the upstream failed (reset, truncated, bad frame, idle timeout), which counts
   * against its breaker; else the relay ended it (cancel, total timeout, no reader, full buffer).
   */
  function fail (err: RelayError, outcome: Outcome, upstreamFault = false): void {
    if (finished) return
    end({ type: 'error', error: errorEnvelope(err).error }, outcome, err.message)
    // Before the abort below, so the verdict can tell this failure from one an earlier abort caused.
    if (upstreamFault) o.verdict?.broke(err)
    else o.verdict?.released()
    // After an error nothing the upstream still sends may be stored; stop it.
    controller.abort(err)
  }

  function end (last: StreamEvent, outcome: Outcome, error?: string): void {
    finished = true
    clearTimeout(total)
    clearTimeout(watchdog)
    // Let whatever follows [DONE] drain unread, as the hot path does.
    body.resume()
    void append(last).then(() => {
      const usage = summary.usage
      o.log.info({
        ...o.logFields,
        streamId: id,
        outcome,
        durationMs: Math.round((performance.now() - startedAt) * 100) / 100,
        events,
        finishReason: summary.finishReason ?? undefined,
        promptTokens: usage ? (usage.prompt_tokens ?? null) : null,
        completionTokens: usage ? (usage.completion_tokens ?? null) : null,
        error,
      }, 'stream finished')
      resolveDone({ outcome, usage })
    })
  }

  /** No reader for detachTimeoutMs while generating: nobody will read this, stop paying for it. */
  async function checkReaders (): Promise<void> {
    if (finished) return
    const info = await store.info(id).catch(() => null)
    if (finished) return
    if (info === null) {
      // The store is unreachable (Redis away): look again later; this must never reject.
      watchdog = setTimeout(checkReaders, o.detachTimeoutMs)
      watchdog.unref()
      return
    }
    if (!info) return
    const idle = info.readers > 0 ? 0 : Date.now() - info.readersChangedAt
    if (idle >= o.detachTimeoutMs) {
      fail(StreamDetachedError({}, `No reader was attached for ${o.detachTimeoutMs} ms; the generation was stopped`), 'client_aborted')
      return
    }
    watchdog = setTimeout(checkReaders, o.detachTimeoutMs - idle)
    watchdog.unref()
  }

  return {
    cancel: (err, outcome) => fail(err, outcome),
    done,
  }
}
