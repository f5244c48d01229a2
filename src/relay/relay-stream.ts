import type { OutgoingHttpHeaders } from 'node:http'
import type { FastifyReply } from 'fastify'
import { createSseParser, type SseEvent, type SseParser, type SseParserHandlers } from '../sse/parser.js'
import { UpstreamError, mapUpstreamFailure, type RelayError } from '../errors.js'
import type { StreamVerdict } from '../upstream/failover.js'
import type { FrameFormat, FrameWriter } from '../formats/types.js'
import type { Endpoint } from '../upstream/endpoint.js'
import type { BodySink, Upstream, UpstreamBody, UpstreamResponse } from '../upstream/types.js'
import { ClientWriter } from './client-writer.js'
import { heartbeatEvery, type Beating } from './heartbeat.js'
import type { Outcome, RequestState } from '../observability/request-state.js'
import { streamHeaders } from '../sse/headers.js'
import { endOfStream, eventRule, upstreamFailed, type EventRule, type StreamSink } from './stream-end.js'

export interface RelayStreamOptions {
  reply: FastifyReply
  upstream: Upstream
  response: UpstreamResponse
  format: FrameFormat
  writer: FrameWriter
  endpoint: Endpoint
  heartbeatMs: number
  state: RequestState
  /** The request's controller: aborting it ends the upstream request (and so destroys its socket). */
  controller: AbortController
  /** Told how the stream ended once it started, for the upstream's breaker (before that, the route's failover judges). */
  verdict?: StreamVerdict | undefined
}

/**
 * The hot path: upstream SSE bytes → parser → format writer → client socket.
 *
 * Resolves once the response has begun (first upstream byte seen, reply
 * hijacked); rejects with a RelayError when the upstream fails before that,
 * so the route's error handler still answers with a normal HTTP error
 * (SPEC §5). After that point nothing throws: a failure becomes the format's
 * error frame and the end of the response, never a `[DONE]`.
 *
 * Per upstream chunk (one `onData` straight from undici's parser, see
 * upstream/response-body.ts): the parser, the format writer per complete frame,
 * then ONE write of everything that chunk completed (relay/client-writer.ts),
 * so the frames of one read leave in one syscall; backpressure pauses the
 * upstream while the client's socket buffer is full. Nothing is held back to
 * batch: the write happens before the chunk's handler returns. Per frame in
 * passthrough: no JSON parse (formats/openai.ts), no timer call (the heartbeat
 * reads the writer's last-write time: relay/heartbeat.ts).
 */
export function relayStream (o: RelayStreamOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const relay = new StreamRelay(o, resolve, reject)
    relay.attach()
  })
}

/**
 * One stream's state and handlers. A class, not closures: an open stream
 * holds this one object, with its methods shared on the prototype, and is
 * itself the body's sink, the parser's handler object and the end-of-stream
 * rules' sink (the closure form held a dozen function objects and their
 * context per stream).
 */
class StreamRelay implements BodySink, SseParserHandlers, StreamSink, Beating {
  /** The options without `response`: its headers are not needed once the stream runs, so nothing holds them. */
  readonly #o: Omit<RelayStreamOptions, 'response'>
  readonly #body: UpstreamBody
  readonly #out: ClientWriter
  readonly #parser: SseParser
  /** How each upstream event is judged (chat's `[DONE]` or the Responses API's typed events), chosen once. */
  readonly #rule: EventRule
  #resolve: (() => void) | undefined
  #reject: ((err: unknown) => void) | undefined
  #started = false
  #finished = false
  #paused = false
  /** Written by the heartbeat (relay/heartbeat.ts): this stream's place in its list, -1 when not in it. */
  heartbeatSlot = -1

  constructor (o: RelayStreamOptions, resolve: () => void, reject: (err: unknown) => void) {
    const { response, ...rest } = o
    this.#o = rest
    this.#body = response.body
    this.#out = new ClientWriter(o.reply.raw)
    this.#parser = createSseParser(this)
    this.#rule = eventRule(o.endpoint)
    this.#resolve = resolve
    this.#reject = reject
  }

  get lastWriteAt (): number {
    return this.#out.lastWriteAt
  }

  attach (): void {
    const res = this.#o.reply.raw
    // The client may have left (and the upstream call been aborted) before the relay got here: its
    // 'close' is gone, so settle now or the route's promise would never settle. A body that failed
    // meanwhile tells its sink on read().
    if (res.closed) {
      this.#finished = true
      this.#body.destroy()
      this.#settle(clientGone())
      return
    }
    this.#body.read(this)
    res.on('close', () => this.#onClose())
  }

  onData (chunk: Buffer): void {
    if (this.#finished) return // after [DONE] or an error: let the rest drain, unread
    if (!this.#started) this.#start()
    this.#parser.push(chunk)
    if (this.#finished) return // [DONE] or an error ended the response inside push()
    if (!this.#out.flush() && !this.#paused) {
      this.#paused = true
      this.#body.pause()
      this.#out.onDrain(() => {
        this.#paused = false
        if (!this.#finished) this.#body.resume()
      })
    }
  }

  onEnd (): void {
    const truncated = this.#parser.end()
    if (this.#finished) return
    const { upstream } = this.#o
    if (this.#started) {
      endOfStream(upstream, this.#o.endpoint, truncated, this)
      return
    }
    this.#finished = true
    this.#settle(UpstreamError({}, `Upstream "${upstream.name}" closed the stream without sending anything`))
  }

  onError (err: unknown): void {
    if (this.#finished) return
    if (!this.#started) {
      this.#finished = true
      this.#settle(mapUpstreamFailure(err, this.#o.upstream.name))
    } else if (this.#o.state.clientGone) {
      this.#finish()
    } else {
      upstreamFailed(this.#o.upstream, err, this)
    }
  }

  #onClose (): void {
    if (this.#finished) return
    this.#finish()
    // Before the first byte the promise is still pending: reject it, and the route sees
    // state.clientGone and answers nobody (the upstream call was aborted on this same close).
    if (!this.#started) this.#settle(clientGone())
  }

  /** Rejects the stream's promise (before the first byte), or resolves it (undefined). Once. */
  #settle (err?: unknown): void {
    const resolve = this.#resolve
    const reject = this.#reject
    this.#resolve = this.#reject = undefined
    if (err === undefined) resolve?.()
    else reject?.(err)
  }

  #start (): void {
    const { reply, format, state } = this.#o
    this.#started = true
    reply.hijack()
    // The headers leave with the first chunk's frames (client-writer.ts).
    this.#out.start(200, streamHeaders(format.contentType, reply.getHeaders() as OutgoingHttpHeaders))
    state.ttfbMs = performance.now() - state.startedAt
    if (format.heartbeat !== undefined) {
      heartbeatEvery(this.#o.heartbeatMs).add(this)
    }
    this.#settle()
  }

  /** The heartbeat found this stream silent for heartbeatMs. */
  beat (): void {
    if (this.#finished) return
    this.#out.push(this.#o.format.heartbeat as string)
    this.#out.flush()
  }

  onEvent (event: SseEvent, raw: Buffer): void {
    if (!this.#finished) this.#rule(this.#o.upstream, event, raw, this)
  }

  frame (data: string, raw: Buffer, type?: string): void {
    const frame = this.#o.writer.frame(data, raw, type)
    if (frame !== undefined) {
      this.#o.state.frames++
      // `raw` may be a view into undici's chunk: the writer copies it before this chunk's handler returns.
      this.#out.push(frame)
    }
  }

  complete (): void {
    const last = this.#o.writer.end()
    this.#finish('completed')
    if (last !== undefined) this.#out.push(last)
    this.#out.end()
  }

  fail (err: RelayError, outcome: Outcome): void {
    this.#o.state.error = err.message
    const last = this.#o.writer.error(err)
    this.#finish(outcome, err)
    // Stop the upstream: after an error nothing it sends may reach the client (vLLM sends [DONE] next).
    this.#o.controller.abort(err)
    if (last === undefined) {
      // The format cannot say "error": what was already read goes out, then the connection is cut.
      this.#out.flush()
      this.#o.reply.raw.destroy()
    } else {
      this.#out.push(last)
      this.#out.end()
    }
  }

  /** The one end path once the stream is over (`err`: the upstream's failure that ended it). */
  #finish (outcome?: Outcome, err?: RelayError): void {
    this.#finished = true
    const { state, verdict } = this.#o
    if (outcome !== undefined && state.outcome === undefined) state.outcome = outcome
    // After the first byte only the stream's end tells whether its upstream is healthy. Called
    // before fail() aborts the controller: the verdict tells the upstream's own failure from one
    // the client, the total timeout or shutdown caused by whether that signal had aborted first.
    if (verdict !== undefined && this.#started) {
      if (err !== undefined) verdict.broke(err)
      else if (outcome === 'completed') verdict.completed()
      else verdict.released()
    }
    if (this.heartbeatSlot !== -1) heartbeatEvery(this.#o.heartbeatMs).delete(this)
    if (this.#paused) this.#body.resume()
  }
}

function clientGone (): Error {
  return new Error('client disconnected before the first byte')
}
