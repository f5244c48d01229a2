import { availableParallelism } from 'node:os'
import { Value } from '@sinclair/typebox/value'
import { ConfigSchema, type FormatName, type RelayConfigInput, type UpstreamKindName } from './schema.js'
import { ConfigError, pointerToPath } from './config-error.js'
import { tokenDigest } from '../auth/bearer.js'
import * as D from './defaults.js'
import { KINDS } from '../upstream/kinds/index.js'

export interface UpstreamConfig {
  name: string
  kind: UpstreamKindName | 'demo'
  /** Without a trailing slash. */
  baseUrl: string
  apiKey: string | undefined
  models: string[]
  headers: Record<string, string>
  includeUsage: boolean
  /** `native`: POST /v1/responses goes to the upstream's own /responses; `chat`: through its chat completions (SPEC §5.1). */
  responses: 'native' | 'chat'
}

export interface KeyConfig {
  name: string
  /** Hex SHA-256 of the token: the relay never keeps the token itself after start-up. */
  sha256: string
  models: string[]
  requestsPerMinute: number | undefined
  maxConcurrentStreams: number | undefined
  format: FormatName | undefined
}

/** The validated config with every default filled in: what the plugin runs on. */
export interface RelayConfig {
  host: string
  port: number
  upstreams: UpstreamConfig[]
  aliases: Record<string, string>
  /** Failover and the failing-upstream breaker (upstream/failover.ts, upstream/breaker.ts). */
  failover: { failureThreshold: number, cooldownMs: number }
  /** Outbound proxy for upstream calls; undefined: connect directly. `noProxy` is '' when none. */
  proxy: { httpProxy: string | undefined, httpsProxy: string | undefined, noProxy: string } | undefined
  keys: KeyConfig[]
  allowAnonymous: boolean
  cors: { origins: string[] }
  format: FormatName
  heartbeatMs: number
  timeouts: { connectMs: number, firstByteMs: number, idleMs: number, totalMs: number }
  streams: { ttlMs: number, detachTimeoutMs: number, maxBufferBytes: number, leaseMs: number }
  /** Shared state for several replicas; undefined: everything in memory. `url` holds the password: never log it. */
  redis: { url: string, prefix: string } | undefined
  maxConcurrentStreams: number
  /** Load-shedding thresholds; 0 turns a check off. */
  pressure: { maxEventLoopDelayMs: number, maxHeapUsedBytes: number, maxRssBytes: number, sampleIntervalMs: number, retryAfterSeconds: number }
  metrics: { token: string | undefined, processMetrics: boolean }
  shutdownGraceMs: number
  /** Processes the CLI runs on the one port (`auto` resolved to the cores this process may use). */
  workers: number
  bodyLimitBytes: number
  logLevel: string
  /** True when no upstream was configured and the built-in `demo` model is served. */
  demo: boolean
}

/** Checks `input` against the schema and fills the defaults; throws a ConfigError naming the bad path. */
export function resolveConfig (input: RelayConfigInput = {}): RelayConfig {
  assertShape(input)
  const upstreams = (input.upstreams ?? []).map((u, i) => resolveUpstream(u, i))
  assertUnique(upstreams.map((u) => u.name), 'upstreams', 'name')
  const keys = (input.keys ?? []).map((k, i) => resolveKey(k, i))
  assertUnique(keys.map((k) => k.name), 'keys', 'name')
  const demo = upstreams.length === 0
  if (demo) upstreams.push(demoUpstream())

  const t = input.timeouts ?? {}
  const s = input.streams ?? {}
  return {
    host: input.host ?? D.DEFAULT_HOST,
    port: input.port ?? D.DEFAULT_PORT,
    upstreams,
    aliases: { ...input.aliases },
    failover: {
      failureThreshold: input.failover?.failureThreshold ?? D.DEFAULT_FAILURE_THRESHOLD,
      cooldownMs: input.failover?.cooldownMs ?? D.DEFAULT_FAILURE_COOLDOWN_MS,
    },
    proxy: resolveProxy(input.proxy),
    keys,
    allowAnonymous: input.allowAnonymous ?? false,
    cors: { origins: input.cors?.origins ?? [] },
    format: input.format ?? D.DEFAULT_FORMAT,
    heartbeatMs: input.heartbeatMs ?? D.DEFAULT_HEARTBEAT_MS,
    timeouts: {
      connectMs: t.connectMs ?? D.DEFAULT_CONNECT_TIMEOUT_MS,
      firstByteMs: t.firstByteMs ?? D.DEFAULT_FIRST_BYTE_TIMEOUT_MS,
      idleMs: t.idleMs ?? D.DEFAULT_IDLE_TIMEOUT_MS,
      totalMs: t.totalMs ?? D.DEFAULT_TOTAL_TIMEOUT_MS,
    },
    streams: {
      ttlMs: s.ttlMs ?? D.DEFAULT_STREAM_TTL_MS,
      detachTimeoutMs: s.detachTimeoutMs ?? D.DEFAULT_DETACH_TIMEOUT_MS,
      maxBufferBytes: s.maxBufferBytes ?? D.DEFAULT_STREAM_MAX_BUFFER_BYTES,
      leaseMs: s.leaseMs ?? D.DEFAULT_STREAM_LEASE_MS,
    },
    redis: input.redis === undefined ? undefined : { url: redisUrl(input.redis.url, 'redis.url'), prefix: input.redis.prefix ?? D.DEFAULT_REDIS_PREFIX },
    maxConcurrentStreams: input.maxConcurrentStreams ?? D.DEFAULT_MAX_CONCURRENT_STREAMS,
    pressure: {
      maxEventLoopDelayMs: input.pressure?.maxEventLoopDelayMs ?? D.DEFAULT_MAX_EVENT_LOOP_DELAY_MS,
      maxHeapUsedBytes: input.pressure?.maxHeapUsedBytes ?? 0,
      maxRssBytes: input.pressure?.maxRssBytes ?? 0,
      sampleIntervalMs: input.pressure?.sampleIntervalMs ?? D.DEFAULT_PRESSURE_SAMPLE_INTERVAL_MS,
      retryAfterSeconds: input.pressure?.retryAfterSeconds ?? D.DEFAULT_PRESSURE_RETRY_AFTER_S,
    },
    metrics: { token: input.metrics?.token, processMetrics: input.metrics?.processMetrics ?? true },
    shutdownGraceMs: input.shutdownGraceMs ?? D.DEFAULT_SHUTDOWN_GRACE_MS,
    workers: input.workers === 'auto' ? availableParallelism() : input.workers ?? 1,
    bodyLimitBytes: input.bodyLimitBytes ?? D.DEFAULT_BODY_LIMIT_BYTES,
    logLevel: input.logLevel ?? D.DEFAULT_LOG_LEVEL,
    demo,
  }
}

function assertShape (input: unknown): asserts input is RelayConfigInput {
  const first = Value.Errors(ConfigSchema, input).First()
  if (first) throw new ConfigError(pointerToPath(first.path), describe(first.message, first.value))
}

function describe (message: string, value: unknown): string {
  if (message === 'Unexpected property') return 'unknown key'
  const shown = typeof value === 'string' ? JSON.stringify(value) : typeof value === 'object' ? (Array.isArray(value) ? 'an array' : value === null ? 'null' : 'an object') : String(value)
  return `${message.charAt(0).toLowerCase()}${message.slice(1)} (got ${shown})`
}

function resolveUpstream (u: NonNullable<RelayConfigInput['upstreams']>[number], i: number): UpstreamConfig {
  const path = `upstreams[${i}]`
  const kind = u.kind ?? D.DEFAULT_UPSTREAM_KIND
  return {
    name: u.name,
    kind,
    baseUrl: httpUrl(u.baseUrl, `${path}.baseUrl`),
    apiKey: u.apiKey === '' ? undefined : u.apiKey,
    models: u.models?.length ? u.models : ['*'],
    headers: { ...u.headers },
    // Asked for where the kind understands it (Xinference's OpenAI layer does not document stream_options).
    includeUsage: u.includeUsage ?? KINDS[kind].supportsIncludeUsage,
    responses: u.responses ?? KINDS[kind].responses,
  }
}

function resolveKey (k: NonNullable<RelayConfigInput['keys']>[number], i: number): KeyConfig {
  const path = `keys[${i}]`
  if ((k.key === undefined) === (k.keySha256 === undefined)) {
    throw new ConfigError(path, 'give exactly one of "key" or "keySha256"')
  }
  return {
    name: k.name,
    sha256: k.keySha256 !== undefined ? k.keySha256.toLowerCase() : tokenDigest(k.key as string).toString('hex'),
    models: k.models?.length ? k.models : ['*'],
    requestsPerMinute: k.requestsPerMinute,
    maxConcurrentStreams: k.maxConcurrentStreams,
    format: k.format,
  }
}

/** No proxy URL at all means no proxy: NO_PROXY alone changes nothing. */
function resolveProxy (p: RelayConfigInput['proxy']): RelayConfig['proxy'] {
  if (!p?.httpProxy && !p?.httpsProxy) return undefined
  return {
    httpProxy: p.httpProxy === undefined ? undefined : httpUrl(p.httpProxy, 'proxy.httpProxy'),
    httpsProxy: p.httpsProxy === undefined ? undefined : httpUrl(p.httpsProxy, 'proxy.httpsProxy'),
    noProxy: p.noProxy ?? '',
  }
}

function demoUpstream (): UpstreamConfig {
  return { name: 'demo', kind: 'demo', baseUrl: 'demo:', apiKey: undefined, models: [D.DEMO_MODEL], headers: {}, includeUsage: true, responses: 'chat' }
}

/** Checks an http(s) URL and drops a trailing slash so paths can be appended with `${base}/chat/completions`. */
export function httpUrl (value: string, path: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new ConfigError(path, `must be an http(s) URL (got ${JSON.stringify(value)})`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(path, `must be an http(s) URL (got ${JSON.stringify(value)})`)
  }
  if (url.search || url.hash) throw new ConfigError(path, 'must not have a query or fragment')
  return value.replace(/\/+$/, '')
}

/**
 * Checks a redis(s) URL. Unlike httpUrl, the message never shows the value: it may hold a password.
 */
export function redisUrl (value: string, path: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1]?.toLowerCase()
  if ((scheme !== 'redis' && scheme !== 'rediss') || !URL.canParse(value)) {
    throw new ConfigError(path, 'must be a redis:// or rediss:// URL (the value is not shown: it may hold a password)')
  }
  return value
}

function assertUnique (names: string[], list: string, field: string): void {
  const seen = new Set<string>()
  names.forEach((name, i) => {
    if (seen.has(name)) throw new ConfigError(`${list}[${i}].${field}`, `duplicate ${field} ${JSON.stringify(name)}`)
    seen.add(name)
  })
}
