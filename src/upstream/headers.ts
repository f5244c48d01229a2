import type { IncomingHttpHeaders } from 'node:http'
import { bearer } from '../auth/bearer.js'

/**
 * Header rules at the trust boundary (SPEC §4). Towards the upstream: the
 * client's credentials, cookies and hop-by-hop headers never pass; the
 * upstream's own key is injected. Back to the client: only headers that mean
 * something about the answer itself.
 */

// RFC 9110 §7.6.1 hop-by-hop headers, plus what the relay sets itself or must not leak.
const NEVER_FORWARD = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'host', 'content-length', 'authorization', 'cookie', 'x-api-key',
  // The relay parses the body, so it must arrive uncompressed.
  'accept-encoding',
  // Node's server has answered 100-continue to the client already; undici refuses to send it.
  'expect',
  // Relay-only controls and identifiers that the relay sets itself.
  'x-relay-format', 'x-request-id', 'last-event-id',
  // Browser context that means nothing to an upstream.
  'origin', 'referer',
])

export interface OutboundHeaderOptions {
  apiKey: string | undefined
  requestId: string
  extra: Record<string, string>
  accept: string
}

export function outboundHeaders (client: IncomingHttpHeaders, options: OutboundHeaderOptions): Record<string, string> {
  const out: Record<string, string> = {}
  const connectionListed = listedInConnection(client.connection)
  for (const name in client) {
    if (NEVER_FORWARD.has(name) || connectionListed.has(name) || name.startsWith('sec-') || name.startsWith('x-forwarded-')) continue
    const value = client[name]
    if (value === undefined) continue
    out[name] = Array.isArray(value) ? value.join(', ') : value
  }
  for (const [name, value] of Object.entries(options.extra)) out[name.toLowerCase()] = value
  out['content-type'] = 'application/json'
  out.accept = options.accept
  out['x-request-id'] = options.requestId
  if (options.apiKey) out.authorization = bearer(options.apiKey)
  return out
}

const NONE = new Set<string>()

function listedInConnection (value: string | string[] | undefined): Set<string> {
  // What nearly every client sends lists no header: no Set, split and map per request.
  if (!value || value === 'keep-alive' || value === 'close') return NONE
  const text = Array.isArray(value) ? value.join(',') : value
  return new Set(text.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean))
}

const PASS_BACK = /^(retry-after|retry-after-ms|x-ratelimit-[a-z-]+|openai-processing-ms|openai-version|x-should-retry)$/

/** The upstream response headers worth returning to the client (rate-limit hints, retry hints). */
export function inboundHeaders (upstream: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name in upstream) {
    if (!PASS_BACK.test(name)) continue
    const value = upstream[name]
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return out
}
