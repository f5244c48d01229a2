/**
 * Every default of the relay in one place (SPEC §3). Numeric separators keep the
 * units readable; all durations are milliseconds.
 */
export const DEFAULT_HOST = '127.0.0.1'
export const DEFAULT_PORT = 8080
export const DEFAULT_CONFIG_PATH = 'config/default.json'

export const DEFAULT_FORMAT = 'openai'
export const DEFAULT_UPSTREAM_KIND = 'openai'
export const DEFAULT_HEARTBEAT_MS = 15_000

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000
export const DEFAULT_FIRST_BYTE_TIMEOUT_MS = 120_000
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000
export const DEFAULT_TOTAL_TIMEOUT_MS = 900_000

/** Consecutive failures before an upstream is skipped, and for how long (SPEC §9). */
export const DEFAULT_FAILURE_THRESHOLD = 3
export const DEFAULT_FAILURE_COOLDOWN_MS = 30_000

export const DEFAULT_STREAM_TTL_MS = 300_000
export const DEFAULT_DETACH_TIMEOUT_MS = 30_000
export const DEFAULT_STREAM_MAX_BUFFER_BYTES = 1_048_576
/** A dead producing replica is noticed within this (SPEC §9.1). */
export const DEFAULT_STREAM_LEASE_MS = 10_000

export const DEFAULT_REDIS_PREFIX = 'llm-relay:'

/**
 * What one process was measured to hold (bench/README.md, open10k). Every stream needs two file
 * descriptors, so the process's `ulimit -n` must allow twice this; a smaller machine sets it lower.
 */
export const DEFAULT_MAX_CONCURRENT_STREAMS = 10_000
/** A loop lagging a whole second on average is already failing its streams' heartbeats and deadlines. */
export const DEFAULT_MAX_EVENT_LOOP_DELAY_MS = 1000
export const DEFAULT_PRESSURE_SAMPLE_INTERVAL_MS = 1000
export const DEFAULT_PRESSURE_RETRY_AFTER_S = 10
/**
 * Retry-After (seconds) when the relay itself turns work away for a short while: draining on
 * shutdown (/readyz, new requests, streams ended by it) and the global stream cap.
 */
export const DEFAULT_RETRY_AFTER_S = 5
export const DEFAULT_SHUTDOWN_GRACE_MS = 30_000
export const DEFAULT_BODY_LIMIT_BYTES = 4_194_304

export const DEFAULT_LOG_LEVEL = 'info'

/** Name of the upstream that `UPSTREAM_URL` defines or replaces. */
export const ENV_UPSTREAM_NAME = 'default'
/** Name of the built-in simulated model served when no upstream is configured. */
export const DEMO_MODEL = 'demo'
