import { UpstreamError, withoutSecret, type RelayError } from '../errors.js'
import type { Upstream } from './types.js'

/**
 * An error the upstream reported inside a stream (OpenAI's object, Xinference's
 * string) as a relay error, or undefined when the frame is not an error. Shared
 * by the direct stream and the EventSource producer. Throws on malformed JSON.
 * Callers only ask when the data contains an unescaped `"error"`, which cannot
 * occur inside a JSON string value, so ordinary frames never pay for this.
 */
export function inBandError (upstream: Upstream, data: string): RelayError | undefined {
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
