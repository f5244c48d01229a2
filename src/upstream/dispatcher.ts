import { EnvHttpProxyAgent, type Dispatcher } from 'undici'
import { ConnectionPool } from './connection-pool.js'
import type { RelayConfig } from '../config/resolve.js'

/**
 * The undici dispatcher an HTTP upstream's requests go through: the relay's
 * own keep-alive pool for the upstream's origin (connection-pool.ts: O(1) per
 * request however many streams are open), or — when an outbound proxy is
 * configured (SPEC §3, HTTPS_PROXY/HTTP_PROXY/NO_PROXY) — an EnvHttpProxyAgent.
 *
 * The proxy settings come from the resolved config, never from process.env
 * here: EnvHttpProxyAgent falls back to process.env for any option left
 * undefined, so all three are always passed explicitly ('' = none).
 */
export function createDispatcher (relay: RelayConfig, origin: string): Dispatcher {
  const connectMs = relay.timeouts.connectMs
  const proxy = relay.proxy
  if (!proxy) return new ConnectionPool(origin, { connectTimeoutMs: connectMs })
  const pool = {
    connect: { timeout: connectMs },
    // No cap on connections per origin: every open stream holds one.
    connections: null,
    pipelining: 1,
    // undici 8 offers HTTP/2 by ALPN by default. The relay's per-stream shape (one keep-alive
    // HTTP/1.1 connection per open stream, its timeouts and its abort) is what is measured and
    // tested; HTTP/2 multiplexing caps streams per session at the server's SETTINGS (often 100).
    allowH2: false,
  }
  return new EnvHttpProxyAgent({
    ...pool,
    httpProxy: proxy.httpProxy ?? '',
    httpsProxy: proxy.httpsProxy ?? '',
    noProxy: proxy.noProxy,
    // http:// upstreams are fetched with absolute-URI requests (`GET http://host/path`), which every
    // forward proxy accepts; many refuse CONNECT to ports other than 443. https:// still tunnels.
    proxyTunnel: false,
    // The ProxyAgent replaces `connect` with its tunnel function, so the connect timeout must be
    // given again for the TCP connection to the proxy and for the TLS handshake through it.
    proxyTls: { timeout: connectMs },
    requestTls: { timeout: connectMs },
  })
}
