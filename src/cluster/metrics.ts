import cluster, { type Worker } from 'node:cluster'
import { randomUUID } from 'node:crypto'
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, type Registry } from 'prom-client'

/**
 * One `/metrics` scrape that sees every worker (`workers` > 1): the worker
 * that got the scrape asks the primary, which gathers each worker's registry
 * over IPC and sums them with prom-client's AggregatorRegistry (counters and
 * histograms add up; gauges such as active streams too). Per-process
 * figures (memory, event-loop lag) are summed as well: read them per worker
 * from the logs' pid, or run one worker.
 */

type Metrics = Array<MetricObjectWithValues<MetricValue<string>>>

const SCRAPE = 'llm-relay:scrape'
const SCRAPED = 'llm-relay:scraped'
const GATHER = 'llm-relay:gather'
const GATHERED = 'llm-relay:gathered'
/** A worker that does not answer in time (busy, exiting) is left out of that scrape rather than failing it. */
const GATHER_TIMEOUT_MS = 2_000

interface Message { type?: unknown, id?: unknown, metrics?: unknown, text?: unknown }

/** In a worker: answers the primary's gather requests with this worker's registry. */
export function answerGathers (registry: Registry): void {
  process.on('message', (message: Message) => {
    if (message?.type !== GATHER) return
    void registry.getMetricsAsJSON().then((metrics) => process.send?.({ type: GATHERED, id: message.id, metrics }))
  })
}

/** In a worker: the scrape text of all workers, through the primary. */
export function scrapeAllWorkers (): Promise<string> {
  const id = randomUUID()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { process.off('message', onMessage); reject(new Error('the primary did not answer the metrics scrape')) }, GATHER_TIMEOUT_MS * 2)
    function onMessage (message: Message): void {
      if (message?.type !== SCRAPED || message.id !== id) return
      clearTimeout(timer)
      process.off('message', onMessage)
      resolve(String(message.text))
    }
    process.on('message', onMessage)
    process.send?.({ type: SCRAPE, id })
  })
}

/** In the primary: serves the workers' scrape requests. */
export function serveScrapes (): void {
  cluster.on('message', (worker: Worker, message: Message) => {
    if (message?.type !== SCRAPE) return
    void gather().then((text) => worker.send({ type: SCRAPED, id: message.id, text }))
  })
}

async function gather (): Promise<string> {
  const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && w.isConnected())
  const all = await Promise.all(workers.map(gatherOne))
  return await AggregatorRegistry.aggregate(all.filter((m): m is Metrics => m !== undefined)).metrics()
}

function gatherOne (worker: Worker): Promise<Metrics | undefined> {
  const id = randomUUID()
  return new Promise((resolve) => {
    const timer = setTimeout(() => { worker.off('message', onMessage); resolve(undefined) }, GATHER_TIMEOUT_MS)
    function onMessage (message: Message): void {
      if (message?.type !== GATHERED || message.id !== id) return
      clearTimeout(timer)
      worker.off('message', onMessage)
      resolve(message.metrics as Metrics)
    }
    worker.on('message', onMessage)
    worker.send({ type: GATHER, id })
  })
}
