import type { OutgoingHttpHeaders } from 'node:http'
import type { FastifyReply } from 'fastify'
import { createSseParser, type SseEvent } from '../sse/parser.js'
import { UpstreamError, mapUpstreamFailure, withoutSecret, type RelayError } from '../errors.js'
import type { FrameFormat, FrameWriter, Out } from '../formats/types.js'
import type { Endpoint, Upstream, UpstreamResponse } from '../upstream/types.js'
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
 * hijacked, headers written); rejects with a RelayError when the upstream
 * fails before that, so the route's error handler still answers with a
 * normal HTTP error (SPEC §5). After that point nothing throws: a failure
 * becomes the format's error frame and the end of the response, never a
 * `[DONE]`.
 *
 * Per upstream chunk: one cork/uncork pair so the frames of one read leave
 * in one write, and backpressure (pause the upstream while the client's
 * socket buffer is full). Per frame: the parser and the writer, nothing else.
 */
export function relayStream (o: RelayStreamOptions): Promise<void> {
  const { reply, response, format, writer, state, upstream } = o
  const res = reply.raw
  const body = response.body
  let started = false
  let finished = false
  let paused = false
  let wrote = false
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
      wrote = false
      res.cork()
      parser.push(chunk)
      res.uncork()
      if (wrote) heartbeat?.refresh()
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
      res.writeHead(200, streamHeaders(format.contentType, reply.getHeaders() as OutgoingHttpHeaders))
      state.ttfbMs = performance.now() - state.startedAt
      if (format.heartbeat !== undefined) {
        const comment = format.heartbeat
        heartbeat = setTimeout(function beat () {
          res.write(comment)
          heartbeat?.refresh()
        }, o.heartbeatMs)
        heartbeat.unref()
      }
      resolve()
    }

    function onEvent (event: SseEvent, raw: Buffer): void {
      if (finished) return
      const data = event.data
      if (data === '[DONE]') { complete(); return }
      let out: Out
      try {
        // An unescaped `"error"` cannot occur inside a JSON string value (quotes are
        // escaped there), so this test only matches frames that really carry an error key.
        const inBand = data.includes('"error"') ? streamError(data) : undefined
        if (inBand) { fail(inBand, 'upstream_error'); return }
        out = writer.frame(data, raw)
      } catch (err) {
        fail(UpstreamError({ cause: err }, `Upstream "${upstream.name}" sent a malformed stream frame`), 'upstream_error')
        return
      }
      if (out !== undefined) write(out)
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

    function write (out: string | Buffer): void {
      state.frames++
      wrote = true
      if (!res.write(out) && !paused) {
        paused = true
        body.pause()
        res.once('drain', () => {
          paused = false
          if (!finished) body.resume()
        })
      }
    }

    function complete (): void {
      const out = writer.end()
      finish('completed')
      if (out !== undefined) res.end(out)
      else res.end()
    }

    function fail (err: RelayError, outcome: Outcome): void {
      state.error = err.message
      const out = writer.error(err)
      finish(outcome)
      // Stop the upstream: after an error nothing it sends may reach the client (vLLM sends [DONE] next).
      o.abortUpstream(err)
      if (out === undefined) res.destroy()
      else res.end(out)
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
