import { UpstreamError, withoutSecret, type RelayError } from '../errors.js'
import type { Upstream } from './types.js'

/**
 * An error the upstream reported inside a stream (OpenAI's object, Xinference's
 * string) as a relay error, or undefined when the frame is not an error; throws
 * on malformed JSON. Asked only of frames with an error key (relay/stream-end.ts).
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
