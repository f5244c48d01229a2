import { UpstreamError, mapUpstreamFailure, withoutSecret, type RelayError } from '../errors.js'
import { RESPONSES_FINAL } from '../formats/responses-events.js'
import type { Outcome } from '../observability/request-state.js'
import type { SseEvent } from '../sse/parser.js'
import { inBandError } from '../upstream/in-band-error.js'
import type { Endpoint } from '../upstream/endpoint.js'
import type { Upstream } from '../upstream/types.js'

/**
 * A stream fed by an upstream SSE body: the direct relay (relay-stream.ts) and
 * the EventSource producer (stream-log/producer.ts) are both one, so the two
 * cannot disagree on how a stream ends (SPEC §5: a broken stream never looks complete).
 */
export interface StreamSink {
  /**
   * An upstream data frame (not `[DONE]`, not an error); throws when it cannot be read (malformed JSON).
   * `type`: a Responses API event's type (`response.output_text.delta`, …); undefined for chat and completions.
   */
  frame (data: string, raw: Buffer, type?: string): void
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
 * How one upstream event is judged, chosen once per stream by what the
 * upstream streams: chat and completions end with `[DONE]` (classifyEvent),
 * the Responses API with a final typed event (classifyResponsesEvent).
 */
export type EventRule = (upstream: Upstream, event: SseEvent, raw: Buffer, sink: StreamSink) => void

export function eventRule (endpoint: Endpoint): EventRule {
  return endpoint === 'responses' ? classifyResponsesEvent : classifyChatEvent
}

function classifyChatEvent (upstream: Upstream, event: SseEvent, raw: Buffer, sink: StreamSink): void {
  classifyEvent(upstream, event.data, raw, sink)
}

/**
 * One event of a Responses API stream (SPEC §5.1): typed events, no `[DONE]`.
 * `response.completed` or `response.incomplete` is passed on and completes
 * the stream (whatever follows is not read); an `error` or `response.failed`
 * event fails it (the client gets the relay's one error event instead, never
 * the upstream's final event); anything else is a frame. The type is the
 * `event:` line, which OpenAI sends with every event; only an upstream that
 * leaves it out costs a parse here.
 */
export function classifyResponsesEvent (upstream: Upstream, event: SseEvent, raw: Buffer, sink: StreamSink): void {
  const data = event.data
  // `[DONE]` is chat's end, not this API's: before a final event it is a stream cut short.
  if (data === '[DONE]') {
    sink.fail(cutShort(upstream), 'upstream_error')
    return
  }
  let failure: RelayError | undefined
  let final = false
  try {
    const type = event.event !== '' ? event.event : typeOf(data)
    if (type === 'error' || type === 'response.failed') {
      failure = responsesFailure(upstream, data)
    } else {
      sink.frame(data, raw, type)
      final = RESPONSES_FINAL.has(type)
    }
  } catch (err) {
    failure = UpstreamError({ cause: err }, `Upstream "${upstream.name}" sent a malformed stream event`)
  }
  if (failure !== undefined) sink.fail(failure, 'upstream_error')
  else if (final) sink.complete()
}

function typeOf (data: string): string {
  const type = (JSON.parse(data) as { type?: unknown } | null)?.type
  return typeof type === 'string' ? type : ''
}

/** The message of an `error` event (`{type, code, message}`) or of a `response.failed` one (`{response: {error: {code, message}}}`). */
function responsesFailure (upstream: Upstream, data: string): RelayError {
  const event = JSON.parse(data) as { message?: unknown, code?: unknown, response?: { error?: { message?: unknown, code?: unknown } | null } } | null
  const said = event?.response?.error ?? event
  const message = typeof said?.message === 'string' && said.message !== '' ? said.message : 'the response failed'
  const code = typeof said?.code === 'string' ? ` (${said.code})` : ''
  return UpstreamError({}, `Upstream "${upstream.name}" reported an error${code}: ${withoutSecret(message, upstream.config.apiKey)}`)
}

function cutShort (upstream: Upstream): RelayError {
  return UpstreamError({}, `Upstream "${upstream.name}" ended the stream before it was complete`)
}

/**
 * The upstream body ended without `[DONE]` (`truncated`: with an unfinished
 * event pending). Complete only for the kinds whose streams end that way
 * (Xinference completions); anything else is a truncated stream (Ollama and
 * broken proxies end streams early without an error frame), and that must
 * never look complete to the client.
 */
export function endOfStream (upstream: Upstream, endpoint: Endpoint, truncated: boolean, sink: StreamSink): void {
  // A Responses stream completes at its final event (classifyResponsesEvent): an end before one is a cut.
  if (!truncated && endpoint !== 'responses' && upstream.kind.endsWithoutDone(endpoint)) sink.complete()
  else sink.fail(cutShort(upstream), 'upstream_error')
}

/** The upstream body failed (reset, idle timeout, an abort): the relay's error for it, and a `timeout` outcome for a timeout. */
export function upstreamFailed (upstream: Upstream, err: unknown, sink: StreamSink): void {
  const mapped = mapUpstreamFailure(err, upstream.name)
  sink.fail(mapped, mapped.relayCode === 'upstream_timeout' ? 'timeout' : 'upstream_error')
}
