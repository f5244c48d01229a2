import t from 'tap'
import { join } from 'node:path'
import { loadConfig } from '../../src/config/load.js'

// SPEC §3: defaults < config file < environment. The file is
// `config/default.json` relative to the working directory, or the path given
// by `--config` or RELAY_CONFIG.

const json = (v: unknown) => JSON.stringify(v)

t.test('config/default.json under cwd is read; the environment wins over it', async (t) => {
  const cwd = t.testdir({ config: { 'default.json': json({ port: 9000, host: '127.0.0.2', heartbeatMs: 500, format: 'content' }) } })
  const fromFile = loadConfig({ env: {}, argv: [], cwd })
  t.strictSame([fromFile.port, fromFile.host, fromFile.heartbeatMs, fromFile.format], [9000, '127.0.0.2', 500, 'content'])

  const withEnv = loadConfig({ env: { PORT: '9100', HOST: '127.0.0.3', LOG_LEVEL: 'debug' }, argv: [], cwd })
  t.strictSame([withEnv.port, withEnv.host, withEnv.heartbeatMs, withEnv.logLevel], [9100, '127.0.0.3', 500, 'debug'], 'env beats file; file beats defaults')
})

t.test('--config and RELAY_CONFIG choose the file; --config wins; relative to cwd', async (t) => {
  const cwd = t.testdir({
    config: { 'default.json': json({ port: 1 }) },
    'a.json': json({ port: 2 }),
    sub: { 'b.json': json({ port: 3 }) },
  })
  t.equal(loadConfig({ env: {}, argv: [], cwd }).port, 1)
  t.equal(loadConfig({ env: { RELAY_CONFIG: 'a.json' }, argv: [], cwd }).port, 2)
  t.equal(loadConfig({ env: {}, argv: ['--config', 'sub/b.json'], cwd }).port, 3)
  t.equal(loadConfig({ env: {}, argv: ['--config=a.json'], cwd }).port, 2)
  t.equal(loadConfig({ env: { RELAY_CONFIG: 'a.json' }, argv: ['--config', 'sub/b.json'], cwd }).port, 3, '--config beats RELAY_CONFIG')
  t.equal(loadConfig({ env: { RELAY_CONFIG: join(cwd, 'sub/b.json') }, argv: [], cwd: '/' }).port, 3, 'an absolute path')
})

t.test('a missing default file is fine; a missing named file is an error', async (t) => {
  const cwd = t.testdir({})
  t.equal(loadConfig({ env: {}, argv: [], cwd }).port, 8080)
  t.throws(() => loadConfig({ env: { RELAY_CONFIG: 'nope.json' }, argv: [], cwd }), { name: 'ConfigError', message: /^cannot read config file .*nope\.json: / })
  t.throws(() => loadConfig({ env: {}, argv: ['--config'], cwd }), { name: 'ConfigError', path: '--config', message: /^--config: needs a file path$/ })
})

t.test('a file that is not JSON names the file', async (t) => {
  const cwd = t.testdir({ 'bad.json': '{ "port": 8080, }' })
  t.throws(() => loadConfig({ env: { RELAY_CONFIG: 'bad.json' }, argv: [], cwd }), { name: 'ConfigError', message: /^config file .*bad\.json is not valid JSON: / })
})

t.test('env values are trimmed and empty ones ignored', async (t) => {
  const cwd = t.testdir({ config: { 'default.json': json({ port: 7000 }) } })
  const c = loadConfig({ env: { PORT: '', HOST: '  ', LOG_LEVEL: ' warn ', RELAY_API_KEYS: ' , ', UPSTREAM_URL: '' }, argv: [], cwd })
  t.strictSame([c.port, c.host, c.logLevel, c.keys, c.demo], [7000, '127.0.0.1', 'warn', [], true])
})
