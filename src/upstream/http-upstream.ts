import { request, type Dispatcher } from 'undici'
import type { UpstreamConfig, RelayConfig } from '../config/resolve.js'
import { mapUpstreamFailure } from '../errors.js'
import { createDispatcher } from './dispatcher.js'
import { outboundHeaders } from './headers.js'
import type { UpstreamKind } from './kinds/types.js'
import { ENDPOINT_PATHS, type ModelEntry, type Upstream, type UpstreamCall, type UpstreamResponse } from './types.js'

/** How long a `GET /models` answer may take before the model list goes on without it. */
const MODELS_TIMEOUT_MS = 5_000

/**
 * An upstream reached over HTTP through its own undici dispatcher (an Agent,
 * or the outbound proxy's agent: upstream/dispatcher.ts): pooled keep-alive
 * connections, so a stream does not pay a TCP (and TLS) handshake. The
 * dispatcher's connect timeout is the relay's connect timeout; the first-byte
 * and idle timeouts are undici's headersTimeout and bodyTimeout per request.
 */
export function createHttpUpstream (config: UpstreamConfig, kind: UpstreamKind, relay: RelayConfig, dispatcher?: Dispatcher): Upstream {
  const agent = dispatcher ?? createDispatcher(relay)
  const { firstByteMs, idleMs } = relay.timeouts

  return {
    name: config.name,
    config,
    kind,
    async call (call: UpstreamCall): Promise<UpstreamResponse> {
      try {
        const res = await request(config.baseUrl + ENDPOINT_PATHS[call.endpoint], {
          method: 'POST',
          dispatcher: agent,
          headers: outboundHeaders(call.clientHeaders, {
            apiKey: config.apiKey,
            requestId: call.requestId,
            extra: config.headers,
            accept: call.stream ? 'text/event-stream' : 'application/json',
          }),
          body: call.body,
          signal: call.signal,
          headersTimeout: firstByteMs,
          bodyTimeout: idleMs,
        })
        return { statusCode: res.statusCode, headers: res.headers, body: res.body }
      } catch (err) {
        if (call.signal.aborted) throw call.signal.reason ?? err
        throw mapUpstreamFailure(err, config.name)
      }
    },
    async listModels (signal: AbortSignal): Promise<ModelEntry[]> {
      const res = await request(`${config.baseUrl}/models`, {
        method: 'GET',
        dispatcher: agent,
        headers: config.apiKey ? { ...config.headers, authorization: `Bearer ${config.apiKey}` } : { ...config.headers },
        signal: AbortSignal.any([signal, AbortSignal.timeout(MODELS_TIMEOUT_MS)]),
        headersTimeout: MODELS_TIMEOUT_MS,
        bodyTimeout: MODELS_TIMEOUT_MS,
      })
      if (res.statusCode !== 200) {
        await res.body.dump()
        throw new Error(`GET /models answered ${res.statusCode}`)
      }
      return kind.parseModels(await res.body.json())
    },
    async close () {
      if (!dispatcher) await agent.close()
    },
  }
}
