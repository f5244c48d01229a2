import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import cors from '@fastify/cors'
import fastifyStatic from '@fastify/static'
import { authenticate } from './auth/authenticate.js'
import { createKeyring } from './auth/keyring.js'
import { createLimits, type LimitsRedis } from './limits/index.js'
import { createMetrics } from './observability/metrics.js'
import { resolveConfig, type RelayConfig } from './config/resolve.js'
import type { RelayConfigInput } from './config/schema.js'
import type { RelayContext } from './context.js'
import { NotFoundError } from './errors.js'
import { logRequestSummary } from './observability/request-log.js'
import { completionRoutes } from './routes/completions.js'
import { createErrorHandler } from './routes/error-handler.js'
import { healthRoutes } from './routes/health.js'
import { metricsRoutes } from './routes/metrics.js'
import { modelsRoutes } from './routes/models.js'
import { responsesRoutes } from './routes/responses.js'
import { passthroughRoutes } from './routes/passthrough.js'
import { streamRoutes } from './routes/streams.js'
import { createRequestState, type RequestState } from './observability/request-state.js'
import { createRouter } from './upstream/router.js'
import { createRedisConnection } from './redis/connection.js'
import { createGenerations } from './stream-log/generations.js'
import { createMemoryStore } from './stream-log/memory-store.js'
import { createRedisStreamStore } from './stream-log/redis-store.js'
import { createMemoryResponseOwners, type ResponseOwners } from './responses/owners.js'
import { createRedisResponseOwners } from './responses/redis-owners.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** What this request did so far; written as the request's log line. */
    relayState: RequestState
  }
  interface FastifyInstance {
    /** The relay's shared state; `draining` is set on shutdown. */
    relay: RelayContext
  }
}

/** Options of the plugin: the config file's shape, or an already resolved config. */
export type RelayPluginOptions = RelayConfigInput & {
  /** A config from `loadConfig()`/`resolveConfig()`; when given, the other options are ignored. */
  config?: RelayConfig
  /** Mount the relay's routes under this prefix (e.g. `/llm`). */
  prefix?: string
  /** Serve the playground at the prefix's `/`. Default true. */
  playground?: boolean
  /** A Redis connection for the per-key limits shared by replicas (SPEC §9.1); without it they count per process. */
  limitsRedis?: LimitsRedis
  /** What GET /metrics answers; default this relay's own registry. The CLI's workers answer for all of them. */
  scrapeMetrics?: () => Promise<string>
  /**
   * Where the relay notes which upstream created each response id (SPEC §5.1); without it, in this
   * process's memory for `streams.ttlMs`. Give `createRedisResponseOwners()` to share it between replicas.
   */
  responseOwners?: ResponseOwners
}

const PUBLIC_DIR = fileURLToPath(new URL('../public/', import.meta.url))
const REQUEST_ID = /^[\w.:@/+=-]{1,128}$/

/**
 * The relay as a Fastify plugin: `app.register(relay, options)`. Its routes,
 * hooks and error handler live in their own encapsulated context, so it does
 * not change how the host application's other routes behave.
 */
const relayPlugin: FastifyPluginAsync<RelayPluginOptions> = async function llmRelay (app, opts) {
  const { config: given, prefix, playground, limitsRedis, scrapeMetrics, responseOwners, ...input } = opts as RelayPluginOptions & Record<string, unknown>
  delete (input as Record<string, unknown>).logLevel
  const config = given ?? resolveConfig(stripFastifyOptions(input))
  const metrics = createMetrics({ processMetrics: config.metrics.processMetrics, prefix: prefix ?? '', upstreams: config.upstreams.map((u) => u.name), redis: config.redis !== undefined })
  // SPEC §9.1: with REDIS_URL the stream log and the per-key limits are shared by every replica.
  const redis = config.redis === undefined
    ? undefined
    : createRedisConnection({ url: config.redis.url, prefix: config.redis.prefix, log: app.log, observer: metrics.redisObserver })
  const limits = createLimits(config, metrics, limitsRedis ?? (redis && { client: redis.client, prefix: redis.prefix, isUp: () => redis.status === 'up', leaseMs: config.streams.leaseMs }))
  const store = redis === undefined
    ? createMemoryStore()
    : createRedisStreamStore({ connection: redis, maxBufferBytes: config.streams.maxBufferBytes, leaseMs: config.streams.leaseMs, maxGenerationMs: config.timeouts.totalMs })
  // Which upstream created each response id (SPEC §5.1): the caller's, else Redis when shared, else memory.
  const owners = responseOwners ?? (redis === undefined
    ? createMemoryResponseOwners({ ttlMs: config.streams.ttlMs })
    : createRedisResponseOwners({ client: redis.client, prefix: redis.prefix, ttlMs: config.streams.ttlMs }))
  const ctx = { config, keyring: createKeyring(config.keys), router: createRouter(config), limits, metrics, responseOwners: owners, draining: false, redis, scrapeMetrics: scrapeMetrics ?? (() => metrics.registry.metrics()) } as Omit<RelayContext, 'generations'> as RelayContext
  ctx.generations = createGenerations(ctx, store, app.log, redis)
  app.decorate('relay', ctx)
  ctx.router.observe(metrics.upstreamObserver)

  if (config.demo) {
    app.log.info({ model: 'demo' }, 'no upstream configured: serving the built-in DEMO model "demo" (a local simulation, not an LLM); set UPSTREAM_URL to relay a real one')
  }
  if (!ctx.keyring.required) {
    app.log.warn('no client API keys configured: requests are served without authentication (set RELAY_API_KEYS)')
  }

  app.addHook('onClose', async () => {
    await ctx.router.close()
    await ctx.limits.close()
    // The store before its connection: it may still write a final event or give a lease back.
    await store.close()
    await redis?.close()
  })

  await app.register(async function relayRoutes (scope: FastifyInstance) {
    scope.decorateRequest('relayState', null as unknown as RequestState)
    // A callback hook, not an async one: no promise and no extra microtask per request.
    scope.addHook('onRequest', (request, reply, done) => {
      const state = createRequestState()
      request.relayState = state
      reply.header('x-request-id', request.id)
      const socket = request.raw.socket
      const bytesAtStart = socket.bytesWritten
      // The one place that sees every request end: its log line and its metrics come from the same summary.
      // `on`, not `once`: a response closes once, and once() costs a wrapper per request.
      reply.raw.on('close', () => ctx.metrics.observeRequest(logRequestSummary(request, reply, state, socket.bytesWritten - bytesAtStart)))
      done()
    })
    // Every POST route of the API needs a token: check it before the body is read, so an unknown
    // caller cannot make the relay parse a 4 MiB body, and gets 401 whatever it sent. preParsing,
    // not onRequest: after every onRequest hook, CORS's included, so a page on an allowed origin
    // can read its 401 (fetch-event-source's onopen sees it as fatal instead of retrying forever).
    if (ctx.keyring.required) {
      scope.addHook('preParsing', (request, _reply, payload, done) => {
        if (request.method === 'POST' && request.is404 !== true) {
          try {
            request.relayState.identity = authenticate(request, ctx.keyring)
          } catch (err) {
            done(err as Error)
            return
          }
        }
        done(null, payload)
      })
    }
    scope.setErrorHandler(createErrorHandler(config.bodyLimitBytes))
    // Fastify parses text/plain by default; the API takes JSON only, so such a body is a 415 (SPEC §10).
    scope.removeContentTypeParser('text/plain')
    keepJsonText(scope)
    scope.setNotFoundHandler(async (request) => {
      throw NotFoundError({}, `Unknown route: ${request.method} ${request.url.split('?')[0]}`)
    })

    if (config.cors.origins.length > 0) {
      await scope.register(cors, {
        origin: config.cors.origins.includes('*') ? '*' : config.cors.origins,
        methods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
        allowedHeaders: ['authorization', 'content-type', 'x-relay-format', 'x-request-id', 'last-event-id', 'idempotency-key'],
        exposedHeaders: ['x-request-id', 'retry-after'],
        maxAge: 600,
      })
    }

    // After the hook above: the limits' refusals need the request's state for their log line.
    await ctx.limits.register(scope, prefix ?? '')
    healthRoutes(scope, ctx)
    metricsRoutes(scope, ctx)
    modelsRoutes(scope, ctx)
    completionRoutes(scope, ctx)
    responsesRoutes(scope, ctx)
    passthroughRoutes(scope, ctx)
    await streamRoutes(scope, ctx, ctx.generations)
    if (playground !== false && existsSync(PUBLIC_DIR)) {
      await scope.register(fastifyStatic, { root: PUBLIC_DIR, prefix: '/', index: 'index.html', wildcard: false })
    }
  }, { prefix: prefix ?? '' })
}

/**
 * Fastify's own JSON parser (with the host's proto-poisoning settings), which
 * also leaves the text it parsed on the request's state: a body the relay
 * does not change goes upstream as that text (relay/plan.ts, body-text.ts).
 * Only when parsing removes nothing: with a `remove` setting the text may
 * hold what the parsed body does not. In the relay's own routes it takes the
 * place of any application/json parser the host registered (the relay needs
 * plain JSON objects there); the host's other routes keep theirs.
 */
function keepJsonText (scope: FastifyInstance): void {
  const { onProtoPoisoning = 'error', onConstructorPoisoning = 'error' } = scope.initialConfig
  if (onProtoPoisoning === 'remove' || onConstructorPoisoning === 'remove') return
  const parseJson = scope.getDefaultJsonParser(onProtoPoisoning, onConstructorPoisoning)
  scope.removeContentTypeParser('application/json')
  scope.addContentTypeParser('application/json', { parseAs: 'string' }, (request, text, done) => {
    if (request.relayState !== null) request.relayState.bodyText = text as string
    parseJson(request, text as string, done)
  })
}

/** Fastify passes its own register options (e.g. `logLevel`) along with ours; the schema rejects unknown keys. */
function stripFastifyOptions (input: Record<string, unknown>): RelayConfigInput {
  const { logSerializers, ...rest } = input
  void logSerializers
  return rest as RelayConfigInput
}

/** Lets `buildServer()` and the CLI give the relay a request-id policy: take a sane X-Request-Id, else make one. */
export function requestIdFrom (header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header
  return value !== undefined && REQUEST_ID.test(value) ? value : randomUUID()
}

export default fp(relayPlugin, { name: 'llm-relay', fastify: '5.x' })
export { relayPlugin }
