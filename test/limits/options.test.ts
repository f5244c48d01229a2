import t from 'tap'
import { resolveConfig } from '../../src/config/resolve.js'
import type { RelayConfigInput } from '../../src/config/schema.js'

// The limit, load-shedding and metrics options: their defaults, and errors that name the path.

t.test('defaults', async (t) => {
  const c = resolveConfig({})
  t.equal(c.maxConcurrentStreams, 10_000)
  t.strictSame(c.pressure, { maxEventLoopDelayMs: 1000, maxHeapUsedBytes: 0, maxRssBytes: 0, sampleIntervalMs: 1000, retryAfterSeconds: 10 })
  t.strictSame(c.metrics, { token: undefined, processMetrics: true })
  const k = resolveConfig({ keys: [{ name: 'a', key: 'sk-a' }] }).keys[0]
  t.same([k?.requestsPerMinute, k?.maxConcurrentStreams], [undefined, undefined], 'keys are unlimited unless told')
})

t.test('given values are kept', async (t) => {
  const c = resolveConfig({
    maxConcurrentStreams: 7,
    pressure: { maxEventLoopDelayMs: 0, maxHeapUsedBytes: 1e9, maxRssBytes: 2e9, sampleIntervalMs: 250, retryAfterSeconds: 3 },
    metrics: { token: 't', processMetrics: false },
    keys: [{ name: 'a', key: 'sk-a', requestsPerMinute: 60, maxConcurrentStreams: 2 }],
  })
  t.equal(c.maxConcurrentStreams, 7)
  t.strictSame(c.pressure, { maxEventLoopDelayMs: 0, maxHeapUsedBytes: 1e9, maxRssBytes: 2e9, sampleIntervalMs: 250, retryAfterSeconds: 3 })
  t.strictSame(c.metrics, { token: 't', processMetrics: false })
  t.same([c.keys[0]?.requestsPerMinute, c.keys[0]?.maxConcurrentStreams], [60, 2])
})

t.test('bad values name their path', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [{ pressure: { maxEventLoopDelay: 5 } }, /^pressure\.maxEventLoopDelay: unknown key$/],
    [{ pressure: { sampleIntervalMs: 10 } }, /^pressure\.sampleIntervalMs: /],
    [{ pressure: { retryAfterSeconds: 0 } }, /^pressure\.retryAfterSeconds: /],
    [{ metrics: { token: '' } }, /^metrics\.token: /],
    [{ metrics: { path: '/m' } }, /^metrics\.path: unknown key$/],
    [{ maxConcurrentStreams: 0 }, /^maxConcurrentStreams: /],
    [{ keys: [{ name: 'a', key: 'sk-a', requestsPerMinute: 0 }] }, /^keys\[0\]\.requestsPerMinute: /],
    [{ keys: [{ name: 'a', key: 'sk-a', maxConcurrentStreams: 1.5 }] }, /^keys\[0\]\.maxConcurrentStreams: /],
  ]
  for (const [input, message] of cases) {
    t.throws(() => resolveConfig(input as RelayConfigInput), { message }, JSON.stringify(input))
  }
})
