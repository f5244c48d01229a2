import { EventEmitter } from 'node:events'
import { Redis, type RedisOptions } from 'ioredis'
import { UnavailableError, type RelayError } from '../errors.js'
import { createChannelHub, type ChannelHub } from './channels.js'
import { parseRedisUrl, redact, type RedisTarget } from './url.js'

/** A bound on every command: a Redis that stops answering fails a request, it never hangs it. */
export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 1000
/** The longest wait between two reconnection attempts (the first ones come sooner). */
export const DEFAULT_REDIS_RECONNECT_MAX_MS = 2000
export const DEFAULT_REDIS_CONNECT_TIMEOUT_MS = 5000
/** How often both connections are pinged, so a server that froze (or a cut network) is noticed while idle too. */
export const DEFAULT_REDIS_HEALTH_CHECK_MS = 1000
/** Retry-After (seconds) of the 503 that a request needing Redis gets while it is down. */
export const REDIS_RETRY_AFTER_S = 1

/** What the relay logs through: a pino logger (or Fastify's) fits. */
export interface RedisLogger {
  warn (fields: Record<string, unknown>, message: string): void
}

/**
 * Metrics hooks (the integrator wires them to prom-client). Both optional; they must not throw.
 */
export interface RedisObserver {
  /** Redis became reachable (`true`) or was lost (`false`); called once at creation with `false`. */
  status? (up: boolean): void
  /** One timed operation (a command, script or pipeline) settled after `seconds`. */
  command? (name: string, seconds: number, ok: boolean): void
}

export interface RedisConnectionOptions {
  /** `redis://` or `rediss://`, user and password allowed (config `redis.url`). */
  url: string
  /** Put before every key and channel (config `redis.prefix`). */
  prefix: string
  log: RedisLogger
  observer?: RedisObserver | undefined
  /** Default DEFAULT_REDIS_COMMAND_TIMEOUT_MS. */
  commandTimeoutMs?: number | undefined
  /** Default DEFAULT_REDIS_RECONNECT_MAX_MS. */
  reconnectMaxMs?: number | undefined
  /** Default DEFAULT_REDIS_CONNECT_TIMEOUT_MS. */
  connectTimeoutMs?: number | undefined
  /** Default DEFAULT_REDIS_HEALTH_CHECK_MS. */
  healthCheckMs?: number | undefined
  /** Shown by `CLIENT LIST` (`<name>:cmd`, `<name>:sub`). Default `llm-relay`. */
  name?: string | undefined
}

export type RedisStatus = 'up' | 'down'

/**
 * The relay's two connections to Redis: `client` for commands (never subscribed, never
 * blocking) and `channels`, the one subscribed connection of the process. `status` is `up` while
 * both are ready; `'up'` and `'down'` are emitted on each change.
 */
export interface RedisConnection {
  readonly prefix: string
  /** For commands. Offline queue off: while down, a command rejects at once. */
  readonly client: Redis
  readonly channels: ChannelHub
  readonly status: RedisStatus
  on (event: 'up' | 'down', listener: () => void): this
  off (event: 'up' | 'down', listener: () => void): this
  /**
   * Runs one operation against Redis, timed for the observer. Any failure becomes an
   * `UnavailableError` (503, Retry-After) whose message and cause never show a secret.
   */
  run<T> (name: string, operation: (client: Redis) => Promise<T>): Promise<T>
  /** Quits both connections; nothing is logged or emitted afterwards. */
  close (): Promise<void>
}

/**
 * Connects in the background and returns at once: the relay starts and serves without Redis
 * (SPEC §9.1), and reconnects forever with a capped backoff. One warning line when Redis is
 * lost (at start or later), one when it is back; never the password.
 */
export function createRedisConnection (options: RedisConnectionOptions): RedisConnection {
  return new Connection(options)
}

class Connection extends EventEmitter implements RedisConnection {
  readonly prefix: string
  readonly client: Redis
  readonly channels: ChannelHub
  #status: RedisStatus = 'down'
  readonly #subscriber: Redis
  readonly #target: RedisTarget
  readonly #log: RedisLogger
  readonly #observer: RedisObserver
  readonly #secrets: string[]
  readonly #health: NodeJS.Timeout
  /** A "Redis is unreachable" line was written and its "reachable again" line is due. */
  #lostLogged = false
  #lastError = 'connection closed'
  #closed = false

  constructor (o: RedisConnectionOptions) {
    super()
    this.prefix = o.prefix
    this.#target = parseRedisUrl(o.url)
    this.#log = o.log
    this.#observer = o.observer ?? {}
    this.#secrets = [o.url, this.#target.password ?? '']
    const name = o.name ?? 'llm-relay'
    const commandTimeout = o.commandTimeoutMs ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS
    const reconnectMax = o.reconnectMaxMs ?? DEFAULT_REDIS_RECONNECT_MAX_MS
    const t = this.#target
    const base: RedisOptions = {
      host: t.host,
      port: t.port,
      username: t.username,
      password: t.password,
      db: t.db,
      ...(t.tls ? { tls: { servername: t.host } } : {}),
      // Fail fast while down: no offline queue, in-flight commands rejected when the socket
      // drops (not resent), a bound on each command, and a socket that stays silent past two
      // such bounds is dropped (a frozen server or a cut network).
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout,
      socketTimeout: commandTimeout * 2,
      connectTimeout: o.connectTimeoutMs ?? DEFAULT_REDIS_CONNECT_TIMEOUT_MS,
      // Forever, 50 ms doubling up to the cap, with jitter so replicas do not reconnect in step.
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times - 1, 16), reconnectMax) + Math.floor(Math.random() * 50),
      // The hub subscribes again itself, then makes its listeners catch up.
      autoResubscribe: false,
    }
    this.client = new Redis({ ...base, connectionName: `${name}:cmd` })
    this.#subscriber = new Redis({ ...base, connectionName: `${name}:sub` })
    this.channels = createChannelHub(this.#subscriber)
    for (const redis of [this.client, this.#subscriber]) {
      // Without an 'error' listener ioredis would print to the console; the reason goes in our line.
      redis.on('error', (err: Error) => { this.#lastError = this.#clean(err.message) })
      redis.on('ready', () => this.#update(false))
      redis.on('close', () => this.#update(true))
      redis.on('end', () => this.#update(true))
      redis.on('reconnecting', () => this.#update(true))
    }
    this.#observer.status?.(false)
    const healthMs = o.healthCheckMs ?? DEFAULT_REDIS_HEALTH_CHECK_MS
    this.#health = setInterval(() => {
      // The answer does not matter: an unanswered PING arms socketTimeout, which drops the socket.
      for (const redis of [this.client, this.#subscriber]) if (redis.status === 'ready') redis.ping().catch(() => {})
    }, healthMs)
    this.#health.unref()
  }

  get status (): RedisStatus { return this.#status }

  async run<T> (name: string, operation: (client: Redis) => Promise<T>): Promise<T> {
    const started = performance.now()
    try {
      const result = await operation(this.client)
      this.#observer.command?.(name, (performance.now() - started) / 1000, true)
      return result
    } catch (err) {
      this.#observer.command?.(name, (performance.now() - started) / 1000, false)
      throw this.#unavailable(err)
    }
  }

  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#health)
    this.channels.clear()
    await Promise.all([this.client, this.#subscriber].map(async (redis) => {
      if (redis.status === 'ready') await redis.quit().catch(() => {})
      redis.disconnect()
    }))
    this.removeAllListeners()
  }

  /**
   * Reads both connections' state; emits, logs and reports a change. Only a failure logs the
   * loss: at start one connection is ready before the other, which is not an outage.
   */
  #update (failed: boolean): void {
    if (this.#closed) return
    const up = this.client.status === 'ready' && this.#subscriber.status === 'ready'
    if (failed && !up && !this.#lostLogged) {
      this.#lostLogged = true
      this.#log.warn({ redis: this.#target.display, reason: this.#lastError }, 'Redis is unreachable: shared state is unavailable until it is back')
    }
    if (up && this.#lostLogged) {
      this.#lostLogged = false
      this.#lastError = 'connection closed'
      this.#log.warn({ redis: this.#target.display }, 'Redis is reachable again')
    }
    const status: RedisStatus = up ? 'up' : 'down'
    if (status === this.#status) return
    this.#status = status
    this.#observer.status?.(up)
    this.emit(status)
  }

  #unavailable (err: unknown): RelayError {
    const cause = new Error(this.#clean((err as Error | undefined)?.message ?? String(err)))
    cause.name = 'RedisError'
    return UnavailableError({ retryAfter: REDIS_RETRY_AFTER_S, cause }, 'Shared state (Redis) is unavailable; retry shortly')
  }

  #clean (message: string): string {
    return redact(message, this.#secrets)
  }
}
