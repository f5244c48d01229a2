import type { OutgoingHttpHeaders } from 'node:http'
import type { FastifyReply } from 'fastify'
import { createSseParser, type SseEvent } from '../sse/parser.js'
import { UpstreamError, mapUpstreamFailure, withoutSecret, type RelayError } from '../errors.js'
import type { FrameFormat, FrameWriter } from '../formats/types.js'
import type { Endpoint, Upstream, UpstreamResponse } from '../upstream/types.js'
import { createClientWriter } from './client-writer.js'
import type { Outcome, RequestState } from './request-state.js'
import { streamHeaders } from './sse-headers.js'

export interface RelayStreamOptions {
  reply: FastifyReply
  upstream: Upstream
  response: UpstreamResponse
  format: FrameFormat
  writer: FrameWriter
  endpoint: Endpoint
  heartbeatMs: number
  state: RequestState
  /** Aborts the upstream request (and so destroys its socket). */
  abortUpstream: (reason: unknown) => void
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
 * Per upstream chunk (one `'data'` straight from undici's parser, see
 * upstream/http-body.ts): the parser, the format writer per complete frame,
 * then ONE write of everything that chunk completed (streaming/client-writer.ts),
 * so the frames of one read leave in one syscall; backpressure pauses the
 * upstream while the client's socket buffer is full. Nothing is held back to
 * batch: the write happens before the chunk's handler returns. Per frame in
 * passthrough: no JSON parse (formats/openai.ts), no timer call (the heartbeat
 * reads the writer's last-write time, below).
 */
export function relayStream (o: RelayStreamOptions): Promise<void> {
  const { reply, response, format, writer, state, upstream } = o
  const res = reply.raw
  const body = response.body
  const out = createClientWriter(res)
  let started = false
  let finished = false
  let paused = false
  let heartbeat: NodeJS.Timeout | undefined

  return new Promise<void>((resolve, reject) => {
    const parser = createSseParser({ onEvent })
    // The client may have left (and the upstream call been aborted) before these listeners were
    // attached: their events are gone, so settle now or the route's promise would never settle.
    if (res.closed || body.destroyed) {
      finished = true
      body.destroy()
      reject(res.closed ? clientGone() : mapUpstreamFailure(body.errored ?? new Error('response body closed'), upstream.name))
      return
    }

    body.on('data', (chunk: Buffer) => {
      if (finished) return // after [DONE] or an error: let the rest drain, unread
      if (!started) start()
      parser.push(chunk)
      if (finished) return // [DONE] or an error ended the response inside push()
      if (!out.flush() && !paused) {
        paused = true
        body.pause()
        out.onDrain(() => {
          paused = false
          if (!finished) body.resume()
        })
      }
    })

    body.on('end', () => {
      const truncated = parser.end()
      if (finished) return
      if (!started) {
        finished = true
        reject(UpstreamError({}, `Upstream "${upstream.name}" closed the stream without sending anything`))
      } else if (!truncated && upstream.kind.endsWithoutDone(o.endpoint)) {
        complete()
      } else {
        // Ollama and broken proxies end streams early without an error frame; a truncated
        // stream must never look complete to the client (PROTOCOLS §4).
        fail(UpstreamError({}, `Upstream "${upstream.name}" ended the stream before it was complete`), 'upstream_error')
      }
    })

    body.on('error', (err: unknown) => {
      if (finished) return
      const mapped = mapUpstreamFailure(err, upstream.name)
      if (!started) {
        finished = true
        reject(mapped)
      } else if (state.clientGone) {
        finish()
      } else {
        fail(mapped, mapped.relayCode === 'upstream_timeout' ? 'timeout' : 'upstream_error')
      }
    })

    res.on('close', () => {
      if (finished) return
      finish()
      // Before the first byte the promise is still pending: reject it, and the route sees
      // state.clientGone and answers nobody (the upstream call was aborted on this same close).
      if (!started) reject(clientGone())
    })

    function start (): void {
      started = true
      reply.hijack()
      // The headers leave with the first chunk's frames (client-writer.ts).
      out.start(200, streamHeaders(format.contentType, reply.getHeaders() as OutgoingHttpHeaders))
      state.ttfbMs = performance.now() - state.startedAt
      if (format.heartbeat !== undefined) armHeartbeat(format.heartbeat)
      resolve()
    }

    /**
     * One timer per stream that is never touched per frame: when it fires it
     * looks at the writer's last write and either sends the comment or sleeps
     * for the rest of the silence. (Refreshing a timer on every write re-links
     * it in Node's timer list: a measurable share of a frame's cost.)
     */
    function armHeartbeat (comment: string): void {
      const every = o.heartbeatMs
      const beat = () => {
        if (finished) return
        const silent = performance.now() - out.lastWriteAt
        // 1 ms of slack: a timer may fire a hair early by this clock.
        if (silent >= every - 1) {
          out.push(comment)
          out.flush()
          heartbeat = setTimeout(beat, every)
        } else {
          heartbeat = setTimeout(beat, every - silent)
        }
        heartbeat.unref()
      }
      heartbeat = setTimeout(beat, every)
      heartbeat.unref()
    }

    function onEvent (event: SseEvent, raw: Buffer): void {
      if (finished) return
      const data = event.data
      if (data === '[DONE]') { complete(); return }
      let frame: string | Buffer | undefined
      try {
        // An unescaped `"error"` cannot occur inside a JSON string value (quotes are
        // escaped there), so this test only matches frames that really carry an error key.
        const inBand = data.includes('"error"') ? streamError(data) : undefined
        if (inBand) { fail(inBand, 'upstream_error'); return }
        frame = writer.frame(data, raw)
      } catch (err) {
        fail(UpstreamError({ cause: err }, `Upstream "${upstream.name}" sent a malformed stream frame`), 'upstream_error')
        return
      }
      if (frame !== undefined) {
        state.frames++
        // `raw` may be a view into undici's chunk: the writer copies it before this chunk's handler returns.
        out.push(frame)
      }
    }

    function streamError (data: string): RelayError | undefined {
      const payload = JSON.parse(data) as unknown
      if (!payload || typeof payload !== 'object') return undefined
      const parsed = upstream.kind.parseStreamError(payload as Record<string, unknown>)
      if (!parsed) return undefined
      const err = UpstreamError({}, withoutSecret(parsed.message, upstream.config.apiKey))
      if (parsed.type) err.type = parsed.type
      if (parsed.code) err.relayCode = parsed.code
      err.param = parsed.param
      return err
    }

    function complete (): void {
      const last = writer.end()
      finish('completed')
      if (last !== undefined) out.push(last)
      out.end()
    }

    function fail (err: RelayError, outcome: Outcome): void {
      state.error = err.message
      const last = writer.error(err)
      finish(outcome)
      // Stop the upstream: after an error nothing it sends may reach the client (vLLM sends [DONE] next).
      o.abortUpstream(err)
      if (last === undefined) {
        // The format cannot say "error": what was already read goes out, then the connection is cut.
        out.flush()
        res.destroy()
      } else {
        out.push(last)
        out.end()
      }
    }

    function clientGone (): Error {
      return new Error('client disconnected before the first byte')
    }

    function finish (outcome?: Outcome): void {
      finished = true
      if (outcome !== undefined && state.outcome === undefined) state.outcome = outcome
      if (heartbeat) clearTimeout(heartbeat)
      if (paused) body.resume()
    }
  })
}
