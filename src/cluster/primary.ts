import cluster from 'node:cluster'
import type { Logger } from 'pino'
import { serveScrapes } from './metrics.js'

/** After the grace period, how long the workers may still take before the primary exits anyway. */
const EXIT_DEADLINE_MS = 5_000
/** A worker that dies within this time of its start is not restarted again (a crash loop helps nobody). */
const CRASH_LOOP_MS = 5_000

export interface PrimaryOptions {
  workers: number
  shutdownGraceMs: number
  log: Logger
}

/**
 * `workers` > 1 (RELAY_WORKERS): this process forks the workers, which share
 * the one listening port (each its own SO_REUSEPORT socket on a fixed port, cluster/listen.ts; else node:cluster hands connections round-robin), and
 * serves nothing itself. It restarts a worker that dies, forwards SIGTERM
 * and SIGINT to every worker (each drains as a single process would: see
 * cli.ts) and exits 0 once they all have. One /metrics scrape sees every
 * worker through it (cluster/metrics.ts).
 */
export function runPrimary (o: PrimaryOptions): void {
  let stopping = false
  const startedAt = new Map<number, number>()
  const fork = (): void => {
    const worker = cluster.fork()
    startedAt.set(worker.id, Date.now())
  }
  for (let i = 0; i < o.workers; i++) fork()
  serveScrapes()
  o.log.info({ workers: o.workers }, `serving from ${o.workers} worker processes`)

  cluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (startedAt.get(worker.id) ?? 0)
    startedAt.delete(worker.id)
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        o.log.info('all workers have exited')
        process.exit(0)
      }
      return
    }
    o.log.error({ pid: worker.process.pid, code, signal }, 'a worker exited unexpectedly')
    if (lived < CRASH_LOOP_MS) {
      o.log.error('it died right after starting: not restarting it; fix the cause and restart the relay')
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(1)
      return
    }
    fork()
  })

  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return
    stopping = true
    o.log.info({ signal }, 'shutting down the workers')
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM')
    // Whatever the workers do, the primary ends: a stuck worker must not keep a pod alive forever.
    setTimeout(() => {
      o.log.warn('workers took too long to exit: exiting')
      process.exit(0)
    }, o.shutdownGraceMs + EXIT_DEADLINE_MS * 2).unref()
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}
