import { UpstreamError, mapUpstreamFailure, type RelayError } from '../errors.js'
import type { Outcome } from '../observability/request-state.js'
import { inBandError } from '../upstream/in-band-error.js'
import type { Endpoint } from '../upstream/endpoint.js'
import type { Upstream } from '../upstream/types.js'

/**
 * A stream fed by an upstream SSE body: the direct relay (relay-stream.ts) and
 * the EventSource producer (stream-log/producer.ts) are both one, so the two
 * cannot disagree on how a stream ends (SPEC §5: a broken stream never looks complete).
 */
export interface StreamSink {
  /** An upstream data frame (not `[DONE]`, not an error); throws when it cannot be read (malformed JSON). */
  frame (data: string, raw: Buffer): void
  /** The stream ended properly. */
  complete (): void
  /** The upstream broke the stream (its error frame, a malformed frame, a truncated or reset stream, the idle timeout). */
  fail (err: RelayError, outcome: Outcome): void
}

/**
 * One upstream event: `[DONE]` completes the stream, an in-band error fails
 * it, anything else is a frame; a frame that cannot be read fails it too.
 * Per frame this costs one `includes()`: an unescaped `"error"` cannot occur
 * inside a JSON string value, so only frames with an error key are parsed here.
 */
export function classifyEvent (upstream: Upstream, data: string, raw: Buffer, sink: StreamSink): void {
  if (data === '[DONE]') {
    sink.complete()
    return
  }
  let inBand: RelayError | undefined
  try {
    inBand = data.includes('"error"') ? inBandError(upstream, data) : undefined
    if (inBand === undefined) {
      sink.frame(data, raw)
      return
    }
  } catch (err) {
    sink.fail(UpstreamError({ cause: err }, `Upstream "${upstream.name}" sent a malformed stream frame`), 'upstream_error')
    return
  }
  sink.fail(inBand, 'upstream_error')
}

/**
 * The upstream body ended without `[DONE]` (`truncated`: with an unfinished
 * event pending). Complete only for the kinds whose streams end that way
 * (Xinference completions); anything else is a truncated stream (Ollama and
 * broken proxies end streams early without an error frame), and that must
 * never look complete to the client.
 */
export function endOfStream (upstream: Upstream, endpoint: Endpoint, truncated: boolean, sink: StreamSink): void {
  if (!truncated && upstream.kind.endsWithoutDone(endpoint)) sink.complete()
  else sink.fail(UpstreamError({}, `Upstream "${upstream.name}" ended the stream before it was complete`), 'upstream_error')
}

/** The upstream body failed (reset, idle timeout, an abort): the relay's error for it, and a `timeout` outcome for a timeout. */
export function upstreamFailed (upstream: Upstream, err: unknown, sink: StreamSink): void {
  const mapped = mapUpstreamFailure(err, upstream.name)
  sink.fail(mapped, mapped.relayCode === 'upstream_timeout' ? 'timeout' : 'upstream_error')
}
