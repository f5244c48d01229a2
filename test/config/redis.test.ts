/* eslint-disable no-template-curly-in-string -- the config's `${NAME}` references are what these tests write */
import t from 'tap'
import { loadConfig } from '../../src/config/load.js'
import { resolveConfig } from '../../src/config/resolve.js'
import type { RelayConfigInput } from '../../src/config/schema.js'

// SPEC §3 and §9.1: `"redis": {"url", "prefix"}` in the file, REDIS_URL in the environment (it wins),
// none of them: everything in memory. A bad URL names the path but never shows the value (a password).

const SECRET = 's3cr3t-pw'

t.test('no redis anywhere: undefined (in memory); streams.leaseMs defaults to 10000', async (t) => {
  const c = loadConfig({ env: {}, argv: [], cwd: t.testdir({}) })
  t.equal(c.redis, undefined)
  t.equal(c.streams.leaseMs, 10_000)
  t.equal(resolveConfig({ streams: { leaseMs: 500 } }).streams.leaseMs, 500)
})

t.test('the file\'s url and prefix; the prefix defaults to "llm-relay:"', async (t) => {
  t.strictSame(resolveConfig({ redis: { url: 'redis://127.0.0.1:6380/2', prefix: 'a:' } }).redis, { url: 'redis://127.0.0.1:6380/2', prefix: 'a:' })
  t.strictSame(resolveConfig({ redis: { url: 'rediss://u:p@redis.example:6380' } }).redis, { url: 'rediss://u:p@redis.example:6380', prefix: 'llm-relay:' })
})

t.test('REDIS_URL alone turns Redis on; over a file it replaces the url and keeps the prefix', async (t) => {
  const empty = t.testdir({})
  t.strictSame(loadConfig({ env: { REDIS_URL: 'redis://10.0.0.1:6379' }, argv: [], cwd: empty }).redis, { url: 'redis://10.0.0.1:6379', prefix: 'llm-relay:' })
  const cwd = t.testdir({ 'c.json': JSON.stringify({ redis: { url: 'redis://file:6379', prefix: 'mine:' } }) })
  t.strictSame(loadConfig({ env: { RELAY_CONFIG: 'c.json', REDIS_URL: 'redis://env:6379' }, argv: [], cwd }).redis, { url: 'redis://env:6379', prefix: 'mine:' })
  t.strictSame(loadConfig({ env: { RELAY_CONFIG: 'c.json', REDIS_URL: ' ' }, argv: [], cwd }).redis, { url: 'redis://file:6379', prefix: 'mine:' }, 'blank: the file\'s')
})

t.test('"${REDIS_URL}" in the file reads the environment, as every ${NAME} does', async (t) => {
  const cwd = t.testdir({ 'c.json': JSON.stringify({ redis: { url: '${REDIS_URL}' } }) })
  t.equal(loadConfig({ env: { RELAY_CONFIG: 'c.json', REDIS_URL: 'redis://h:1' }, argv: [], cwd }).redis?.url, 'redis://h:1')
  t.throws(() => loadConfig({ env: { RELAY_CONFIG: 'c.json' }, argv: [], cwd }), { message: 'redis.url: environment variable REDIS_URL is not set' })
})

t.test('a bad URL names the path and never shows the value', async (t) => {
  const message = 'must be a redis:// or rediss:// URL (the value is not shown: it may hold a password)'
  for (const url of [`http://u:${SECRET}@h:6379`, `redis//:${SECRET}@h`, `redis://:${SECRET}@h:notaport`]) {
    for (const [what, load] of [
      ['file', () => resolveConfig({ redis: { url } })],
      ['env', () => loadConfig({ env: { REDIS_URL: url }, argv: [], cwd: t.testdir({}) })],
    ] as const) {
      let err: { path?: string, message?: string } = {}
      try { load() } catch (e) { err = e as typeof err }
      t.equal(err.path, what === 'file' ? 'redis.url' : 'REDIS_URL', `${what}: path`)
      t.equal(err.message, `${err.path}: ${message}`, `${what}: message`)
      t.notMatch(JSON.stringify(err) + String(err.message), SECRET, `${what}: no secret`)
    }
  }
})

t.test('the redis block is closed: an unknown key is an error', async (t) => {
  t.throws(() => resolveConfig({ redis: { url: 'redis://h', db: 1 } } as unknown as RelayConfigInput), { path: 'redis.db', message: 'redis.db: unknown key' })
  t.throws(() => resolveConfig({ redis: {} } as unknown as RelayConfigInput), { path: 'redis.url', message: /^redis\.url: / })
})
