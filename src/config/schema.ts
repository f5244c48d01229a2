import { Type, type Static } from '@sinclair/typebox'
import { FORMAT_NAMES } from '../formats/index.js'
import { KIND_NAMES } from '../upstream/kinds/index.js'

/**
 * The config file's shape (SPEC §3). One TypeBox schema gives both the
 * TypeScript type and the validator; every object is closed
 * (`additionalProperties: false`) so a typo is an error, not a silent no-op.
 */
const closed = { additionalProperties: false } as const

// Derived from the formats registry, so a new format needs no edit here.
export const FormatNameSchema = Type.Union(FORMAT_NAMES.map((name) => Type.Literal(name)))
export type FormatName = Static<typeof FormatNameSchema>

// Derived from the kinds registry (upstream/kinds/index.ts), so a new kind needs no edit here.
const UpstreamKindNameSchema = Type.Union(KIND_NAMES.map((name) => Type.Literal(name)))
export type UpstreamKindName = Static<typeof UpstreamKindNameSchema>

const PositiveMs = Type.Integer({ minimum: 1 })

const UpstreamSchema = Type.Object({
  /** Unique name, used in logs and metrics. */
  name: Type.String({ minLength: 1 }),
  /** Wire dialect of the server; `openai` covers OpenAI, vLLM, Ollama, LM Studio. */
  kind: Type.Optional(UpstreamKindNameSchema),
  /** Base URL including the API prefix, e.g. `https://api.openai.com/v1`. */
  baseUrl: Type.String({ minLength: 1 }),
  /** Sent upstream as `Authorization: Bearer …`; use `${NAME}` to read it from the environment. */
  apiKey: Type.Optional(Type.String()),
  /** Models this upstream serves; `*` for any. Default `["*"]`. */
  models: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  /** Extra headers sent upstream on every request (e.g. `OpenAI-Organization`). */
  headers: Type.Optional(Type.Record(Type.String(), Type.String())),
  /** Ask for `stream_options.include_usage` on streamed chat. Default: true for `openai`, false for `xinference`. */
  includeUsage: Type.Optional(Type.Boolean()),
  /**
   * How `POST /v1/responses` reaches this upstream (SPEC §5.1): `native`, its own `/responses`; `chat`, its
   * chat completions, with the request and the answer translated. Default: `native` for `openai`, `chat` for `xinference`.
   */
  responses: Type.Optional(Type.Union([Type.Literal('native'), Type.Literal('chat')])),
}, closed)
export type UpstreamInput = Static<typeof UpstreamSchema>

const KeySchema = Type.Object({
  /** Shown in logs and metrics instead of the token. */
  name: Type.String({ minLength: 1 }),
  /** The bearer token clients send. */
  key: Type.Optional(Type.String({ minLength: 1 })),
  /** Hex SHA-256 of the token, so the file holds no live secret. */
  keySha256: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{64}$' })),
  /** Models this key may use; `*` for all. Default `["*"]`. */
  models: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  /**
   * Model requests (chat, completions, embeddings, POST /v1/streams) this key may make per minute, in
   * fixed one-minute windows; over it: 429 `rate_limited` with Retry-After. Requests refused before
   * routing (400, 403, 404) do not count. Default: unlimited.
   */
  requestsPerMinute: Type.Optional(Type.Integer({ minimum: 1 })),
  /** Streams this key may have open at once; over it: 429 `rate_limited` with Retry-After. Default: unlimited. */
  maxConcurrentStreams: Type.Optional(Type.Integer({ minimum: 1 })),
  /** Default frame format for this key's streams. */
  format: Type.Optional(FormatNameSchema),
}, closed)
export type KeyInput = Static<typeof KeySchema>

export const ConfigSchema = Type.Object({
  host: Type.Optional(Type.String({ minLength: 1 })),
  port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65_535 })),
  upstreams: Type.Optional(Type.Array(UpstreamSchema)),
  /** Public model name → upstream model name. */
  aliases: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.String({ minLength: 1 }))),
  /**
   * Failover between the upstreams of one model (SPEC §9): a connect error, a
   * reset, a 429 or a 5xx before the first byte reached the client is retried
   * on the next upstream, and an upstream that keeps failing is skipped for a while.
   */
  failover: Type.Optional(Type.Object({
    /** Consecutive failures (connect error, reset, 429, 5xx, first-byte timeout) after which an upstream is skipped. Default 3. */
    failureThreshold: Type.Optional(Type.Integer({ minimum: 1 })),
    /** How long a failing upstream is skipped (ms); then one trial request decides whether it is back. Default 30000. */
    cooldownMs: Type.Optional(PositiveMs),
  }, closed)),
  /**
   * Outbound HTTP proxy for upstream calls (SPEC §3). The environment's
   * HTTPS_PROXY / HTTP_PROXY / NO_PROXY (or lower-case) fill it in and win over the file.
   */
  proxy: Type.Optional(Type.Object({
    /** Proxy URL for `http://` upstreams, e.g. `http://proxy.local:3128`. */
    httpProxy: Type.Optional(Type.String({ minLength: 1 })),
    /** Proxy URL for `https://` upstreams; default: `httpProxy`. */
    httpsProxy: Type.Optional(Type.String({ minLength: 1 })),
    /** Comma list of hosts (`host`, `.domain`, `host:port`, `*`) reached directly, as in NO_PROXY. */
    noProxy: Type.Optional(Type.String()),
  }, closed)),
  keys: Type.Optional(Type.Array(KeySchema)),
  /** Serve without client tokens on a non-loopback address. */
  allowAnonymous: Type.Optional(Type.Boolean()),
  cors: Type.Optional(Type.Object({ origins: Type.Array(Type.String({ minLength: 1 })) }, closed)),
  format: Type.Optional(FormatNameSchema),
  heartbeatMs: Type.Optional(PositiveMs),
  timeouts: Type.Optional(Type.Object({
    connectMs: Type.Optional(PositiveMs),
    firstByteMs: Type.Optional(PositiveMs),
    idleMs: Type.Optional(PositiveMs),
    totalMs: Type.Optional(PositiveMs),
  }, closed)),
  streams: Type.Optional(Type.Object({
    ttlMs: Type.Optional(PositiveMs),
    detachTimeoutMs: Type.Optional(PositiveMs),
    maxBufferBytes: Type.Optional(Type.Integer({ minimum: 1024 })),
    /**
     * With Redis (SPEC §9.1): how long a stream whose producing replica died may go unnoticed; within
     * it, its readers on every replica get an error event and the end. Default 10000.
     */
    leaseMs: Type.Optional(Type.Integer({ minimum: 100 })),
  }, closed)),
  /**
   * Shared state for several replicas (SPEC §9.1). `REDIS_URL` fills in `url` and wins over the file.
   */
  redis: Type.Optional(Type.Object({
    /** `redis://` or `rediss://` (TLS), with `user:password@` when needed; use `${NAME}` to read it from the environment. */
    url: Type.String({ minLength: 1 }),
    /** Put before every key and channel name, so several relays (or other apps) can share one Redis. Default `llm-relay:`. */
    prefix: Type.Optional(Type.String()),
  }, closed)),
  /** Streams open at once across all keys; over it: 503 `unavailable` with Retry-After. Default 10000. */
  maxConcurrentStreams: Type.Optional(Type.Integer({ minimum: 1 })),
  /**
   * Load shedding (SPEC §9, @fastify/under-pressure): while the process is over
   * one of these thresholds, requests get 503 `unavailable` with Retry-After.
   * /healthz, /readyz and /metrics are never shed.
   */
  pressure: Type.Optional(Type.Object({
    /** Mean event-loop delay (ms) over one sample interval above which requests are refused. Default 1000; 0 turns the check off. */
    maxEventLoopDelayMs: Type.Optional(Type.Integer({ minimum: 0 })),
    /** V8 heap in use (bytes) above which requests are refused. Default 0 (off). */
    maxHeapUsedBytes: Type.Optional(Type.Integer({ minimum: 0 })),
    /** Resident set size (bytes) above which requests are refused. Default 0 (off). */
    maxRssBytes: Type.Optional(Type.Integer({ minimum: 0 })),
    /** How often the measures are taken (ms). Default 1000. */
    sampleIntervalMs: Type.Optional(Type.Integer({ minimum: 100 })),
    /** Retry-After (seconds) sent with a shed request. Default 10. */
    retryAfterSeconds: Type.Optional(Type.Integer({ minimum: 1 })),
  }, closed)),
  /** `GET /metrics` (SPEC §8), Prometheus text format. */
  metrics: Type.Optional(Type.Object({
    /** When set, /metrics needs `Authorization: Bearer <token>`; use `${NAME}` to read it from the environment. */
    token: Type.Optional(Type.String({ minLength: 1 })),
    /** Also export the Node process metrics (CPU, memory, event loop, GC), prefixed `llm_relay_`. Default true. */
    processMetrics: Type.Optional(Type.Boolean()),
  }, closed)),
  shutdownGraceMs: Type.Optional(Type.Integer({ minimum: 0 })),
  /** Processes serving the one port (`npm start`, the CLI): a number, or `auto` for one per core. More than 1 needs `redis`. */
  workers: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 512 }), Type.Literal('auto')])),
  bodyLimitBytes: Type.Optional(Type.Integer({ minimum: 1024 })),
  logLevel: Type.Optional(Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)))),
}, closed)

/** What a config file, the plugin's options or `buildServer()` accept: every key optional. */
export type RelayConfigInput = Static<typeof ConfigSchema>
