#!/usr/bin/env node
/**
 * The process shell: the only place that reads process.env and argv, listens
 * and handles signals (close-with-grace). Everything else is the plugin.
 */
// First: refuses an unsupported Node before any dependency loads (runtime-check.ts).
import './runtime-check.js'
import cluster from 'node:cluster'
import closeWithGrace from 'close-with-grace'
import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { answerGathers, scrapeAllWorkers } from './cluster/metrics.js'
import { runPrimary } from './cluster/primary.js'
import { workerListenOptions } from './cluster/listen.js'
import { loadConfig } from './config/load.js'
import { ConfigError } from './config/config-error.js'
import { DEFAULT_RETRY_AFTER_S } from './config/defaults.js'
import { UnavailableError } from './errors.js'
import { assertSafeExposure, buildServer } from './server.js'
import { lowerTierUpThresholds } from './v8-tiering.js'

/** After the grace period, how long closing may still take before the process exits anyway. */
const CLOSE_DEADLINE_MS = 5_000
/** Pending connections the kernel may queue before the relay accepts them. */
const LISTEN_BACKLOG = 4096

async function main (): Promise<void> {
  // Before the first request runs: tiering is decided as functions are called (v8-tiering.ts).
  const tierUp = lowerTierUpThresholds()
  let app
  let config
  const worker = cluster.isWorker
  try {
    config = loadConfig({ argv: process.argv.slice(2) })
    if (config.workers > 1 && cluster.isPrimary) {
      // What the processes must share (stream logs, per-key limits) is what replicas share: Redis.
      if (config.redis === undefined) throw new ConfigError('workers', `${config.workers} worker processes need REDIS_URL (the stream logs and per-key limits they share live there); set REDIS_URL, or RELAY_WORKERS=1`)
      assertSafeExposure(config)
      runPrimary({ workers: config.workers, shutdownGraceMs: config.shutdownGraceMs, log: pino({ level: config.logLevel }) })
      return
    }
    app = await buildServer(config, worker ? { scrapeMetrics: scrapeAllWorkers } : {})
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`llm-relay: invalid configuration: ${err.message}\n`)
      process.exit(2)
    }
    throw err
  }

  if (tierUp.length > 0) app.log.debug({ v8Flags: tierUp }, 'V8 tier-up thresholds lowered for a fresh process')
  if (worker) answerGathers(app.relay.metrics.registry)
  const graceMs = config.shutdownGraceMs
  // SIGTERM, SIGINT (and the other termination signals) drain and exit 0; a second signal exits 1
  // at once. An uncaught error is logged and ends the streams without a grace, then exits 1.
  closeWithGrace({
    // Whatever happens in drain(), the process ends: a stuck close must not keep a pod alive forever.
    delay: graceMs + CLOSE_DEADLINE_MS,
    logger: app.log,
    // A worker may get a terminal's SIGINT and its primary's SIGTERM: both mean the one drain.
    ...(worker && { onSecondSignal: () => {} }),
    onTimeout () {
      app.log.warn('shutdown took too long: exiting')
      process.exit(0)
    },
  }, async ({ signal, err }) => {
    if (err !== undefined) app.log.error({ err }, 'uncaught error: shutting down')
    else app.log.info({ signal }, 'shutting down')
    // A failure to close is logged by close-with-grace, and the process exits 1.
    await drain(app, err === undefined ? graceMs : 0)
  })

  // Node's default accept backlog (511) overflows when thousands of streams open within a
  // second (the bench's open10k ramp saw resets); the kernel caps this at somaxconn.
  await app.listen({ host: config.host, port: config.port, backlog: LISTEN_BACKLOG, ...(worker && workerListenOptions(config.port)) })
}

/**
 * Graceful shutdown (SPEC §9). The listener stays open during the grace
 * period so that load balancers still get their answers: /readyz says 503
 * and new requests are refused with 503 `unavailable` + Retry-After (both
 * read `draining`). In-flight streams may finish within `graceMs`; the
 * moment the last one does, closing starts. Those still running when the
 * grace is over are ended through their upstream request, which gives each
 * client an error frame in its format (never a silent cut, never [DONE]).
 * Then Fastify closes: idle keep-alive connections are closed
 * (`forceCloseConnections: 'idle'`, Fastify 5's default), so they cannot hold
 * the exit.
 */
async function drain (app: FastifyInstance, graceMs: number): Promise<void> {
  const { relay } = app
  relay.draining = true
  const router = relay.router
  app.log.info({ inflight: router.active, graceMs }, 'draining: /readyz answers 503 and new requests are refused')

  let timer: NodeJS.Timeout | undefined
  const graceOver = await Promise.race([
    router.whenIdle().then(() => false),
    new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), graceMs) }),
  ])
  clearTimeout(timer)
  if (graceOver && router.active > 0) {
    app.log.warn({ inflight: router.active }, 'grace period over: ending the remaining streams with an error')
    router.abortAll(UnavailableError({ retryAfter: DEFAULT_RETRY_AFTER_S }, 'The relay is shutting down'))
  }
  await app.close()
  app.log.info('closed')
}

main().catch((err: unknown) => {
  process.stderr.write(`llm-relay: failed to start: ${(err as Error)?.stack ?? String(err)}\n`)
  process.exit(1)
})
