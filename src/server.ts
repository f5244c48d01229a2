import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { resolveConfig, type RelayConfig } from './config/resolve.js'
import type { RelayConfigInput } from './config/schema.js'
import { ConfigError } from './config/config-error.js'
import relay, { requestIdFrom, type RelayPluginOptions } from './plugin.js'
import { relayClientErrorHandler } from './routes/client-error.js'

/** Where logs must never show a secret (SPEC §8). */
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
  'apiKey',
  '*.apiKey',
]

export interface BuildServerOptions {
  /** Fastify's logger option; default: pino at the config's level with secrets redacted. */
  logger?: FastifyServerOptions['logger']
  /** Where the default logger writes (default stdout); the redaction rules still apply. */
  logStream?: NodeJS.WritableStream
  /** Passed to the plugin: the Redis connection the per-key limits share between replicas. */
  limitsRedis?: RelayPluginOptions['limitsRedis']
  /** Passed to the plugin: what GET /metrics answers instead of this process's registry (the CLI's workers). */
  scrapeMetrics?: RelayPluginOptions['scrapeMetrics']
  /** Passed to the plugin: where response ids' upstreams are noted (default: memory). */
  responseOwners?: RelayPluginOptions['responseOwners']
}

/**
 * A ready-to-listen Fastify instance running the relay, configured from a
 * config file shape or a resolved config. It does not listen: the caller
 * (the CLI, a test) does. Refuses an unsafe exposure (SPEC §3) up front.
 */
export async function buildServer (config: RelayConfigInput | RelayConfig = {}, options: BuildServerOptions = {}): Promise<FastifyInstance> {
  const resolved = isResolved(config) ? config : resolveConfig(config)
  assertSafeExposure(resolved)
  const app = Fastify({
    logger: options.logger ?? { level: resolved.logLevel, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, ...(options.logStream ? { stream: options.logStream } : {}) },
    // The relay writes its own one line per request (observability/request-log.ts).
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: (req) => requestIdFrom(req.headers['x-request-id']),
    bodyLimit: resolved.bodyLimitBytes,
    // Streams can legitimately run for the whole total timeout.
    requestTimeout: 0,
    return503OnClosing: true,
    clientErrorHandler: relayClientErrorHandler,
  })
  await app.register(relay, { config: resolved, limitsRedis: options.limitsRedis, scrapeMetrics: options.scrapeMetrics, responseOwners: options.responseOwners })
  return app
}

function isResolved (config: RelayConfigInput | RelayConfig): config is RelayConfig {
  return typeof (config as RelayConfig).demo === 'boolean' && Array.isArray((config as RelayConfig).keys) && typeof (config as RelayConfig).timeouts?.connectMs === 'number'
}

/**
 * Safe by default (SPEC §3): no anonymous service on an address other
 * machines can reach unless the operator said so.
 */
export function assertSafeExposure (config: RelayConfig): void {
  if (config.keys.length > 0 || config.allowAnonymous || isLoopback(config.host)) return
  throw new ConfigError('host', `refusing to listen on ${config.host} without client API keys: set RELAY_API_KEYS=<token>[,<token>…] (or "keys" in the config file), or RELAY_ALLOW_ANONYMOUS=true to serve anyone who can reach this address`)
}

function isLoopback (host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}
