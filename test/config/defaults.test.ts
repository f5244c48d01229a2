import t from 'tap'
import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../../src/config/load.js'
import { resolveConfig, type RelayConfig } from '../../src/config/resolve.js'

// SPEC §3: every key is optional; with nothing configured the relay listens on
// 127.0.0.1:8080 and serves the built-in `demo` model, with no client keys.

/** The fields SPEC §3 names, so other config additions do not break this test. */
function specFields (c: RelayConfig) {
  return {
    host: c.host,
    port: c.port,
    upstreams: c.upstreams,
    aliases: c.aliases,
    keys: c.keys,
    allowAnonymous: c.allowAnonymous,
    cors: c.cors,
    format: c.format,
    heartbeatMs: c.heartbeatMs,
    timeouts: c.timeouts,
    streams: c.streams,
    maxConcurrentStreams: c.maxConcurrentStreams,
    shutdownGraceMs: c.shutdownGraceMs,
    bodyLimitBytes: c.bodyLimitBytes,
    logLevel: c.logLevel,
    demo: c.demo,
  }
}

const DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  upstreams: [{ name: 'demo', kind: 'demo', baseUrl: 'demo:', apiKey: undefined, models: ['demo'], headers: {}, includeUsage: true, responses: 'chat' }],
  aliases: {},
  keys: [],
  allowAnonymous: false,
  cors: { origins: [] },
  format: 'openai',
  heartbeatMs: 15_000,
  timeouts: { connectMs: 10_000, firstByteMs: 120_000, idleMs: 60_000, totalMs: 900_000 },
  streams: { ttlMs: 300_000, detachTimeoutMs: 30_000, maxBufferBytes: 1_048_576, leaseMs: 10_000 },
  maxConcurrentStreams: 10000,
  shutdownGraceMs: 30_000,
  bodyLimitBytes: 4_194_304,
  logLevel: 'info',
  demo: true,
}

t.test('resolveConfig() with nothing gives the documented defaults and the demo model', async (t) => {
  t.strictSame(specFields(resolveConfig()), DEFAULTS)
  t.strictSame(specFields(resolveConfig({})), DEFAULTS)
})

t.test('loadConfig with no file and no environment gives the same defaults', async (t) => {
  const dir = t.testdir({})
  t.strictSame(specFields(loadConfig({ env: {}, argv: [], cwd: dir })), DEFAULTS)
})

t.test('the shipped config/default.json sets no upstream and no key: the demo model, the same defaults', async (t) => {
  const repo = fileURLToPath(new URL('../../', import.meta.url))
  t.strictSame(specFields(loadConfig({ env: {}, argv: [], cwd: repo })), DEFAULTS)
})

t.test('partial objects keep the defaults of the keys they leave out', async (t) => {
  const c = resolveConfig({ timeouts: { firstByteMs: 5 }, streams: { ttlMs: 10 } })
  t.strictSame(c.timeouts, { connectMs: 10_000, firstByteMs: 5, idleMs: 60_000, totalMs: 900_000 })
  t.strictSame(c.streams, { ttlMs: 10, detachTimeoutMs: 30_000, maxBufferBytes: 1_048_576, leaseMs: 10_000 })
})

t.test('an upstream fills its own defaults and turns the demo off', async (t) => {
  const c = resolveConfig({ upstreams: [{ name: 'x', baseUrl: 'http://127.0.0.1:9/v1/' }, { name: 'y', kind: 'xinference', baseUrl: 'http://127.0.0.1:9997/v1', models: ['qwen'] }] })
  t.equal(c.demo, false)
  t.strictSame(c.upstreams, [
    { name: 'x', kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1', apiKey: undefined, models: ['*'], headers: {}, includeUsage: true, responses: 'native' },
    { name: 'y', kind: 'xinference', baseUrl: 'http://127.0.0.1:9997/v1', apiKey: undefined, models: ['qwen'], headers: {}, includeUsage: false, responses: 'chat' },
  ])
})

t.test('keys are kept as SHA-256 digests, never as the token', async (t) => {
  const c = resolveConfig({ keys: [{ name: 'web', key: 'sk-abc', models: ['a'], format: 'content' }, { name: 'ops', keySha256: 'AB'.repeat(32) }] })
  t.strictSame(c.keys, [
    { name: 'web', sha256: createHash('sha256').update('sk-abc').digest('hex'), models: ['a'], requestsPerMinute: undefined, maxConcurrentStreams: undefined, format: 'content' },
    { name: 'ops', sha256: 'ab'.repeat(32), models: ['*'], requestsPerMinute: undefined, maxConcurrentStreams: undefined, format: undefined },
  ])
  t.notOk(JSON.stringify(c).includes('sk-abc'), 'the token is not in the resolved config')
})
