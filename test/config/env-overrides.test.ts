import t from 'tap'
import { createHash } from 'node:crypto'
import { loadConfig } from '../../src/config/load.js'

// SPEC §3: UPSTREAM_URL defines (or replaces) the upstream named `default`;
// UPSTREAM_KIND / UPSTREAM_API_KEY / UPSTREAM_MODELS describe it;
// RELAY_API_KEYS adds keys allowed every model; CORS_ORIGINS sets the origins.

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')

t.test('UPSTREAM_* with no file: one upstream "default", the demo is off', async (t) => {
  const cwd = t.testdir({})
  const c = loadConfig({ env: { UPSTREAM_URL: 'http://127.0.0.1:9997/v1/', UPSTREAM_KIND: 'xinference', UPSTREAM_API_KEY: 'sk-up', UPSTREAM_MODELS: 'qwen2, llama3 ,' }, argv: [], cwd })
  t.equal(c.demo, false)
  t.strictSame(c.upstreams, [{ name: 'default', kind: 'xinference', baseUrl: 'http://127.0.0.1:9997/v1', apiKey: 'sk-up', models: ['qwen2', 'llama3'], headers: {}, includeUsage: false, responses: 'chat' }])
})

t.test('defaults of the UPSTREAM_* family: kind openai, models *, no key', async (t) => {
  const c = loadConfig({ env: { UPSTREAM_URL: 'https://api.example.com/v1' }, argv: [], cwd: t.testdir({}) })
  t.strictSame(c.upstreams, [{ name: 'default', kind: 'openai', baseUrl: 'https://api.example.com/v1', apiKey: undefined, models: ['*'], headers: {}, includeUsage: true, responses: 'native' }])
})

t.test('UPSTREAM_URL replaces a file upstream named "default" and keeps the others', async (t) => {
  const cwd = t.testdir({
    'c.json': JSON.stringify({
      upstreams: [
        { name: 'other', baseUrl: 'http://127.0.0.1:1/v1', models: ['a'] },
        { name: 'default', baseUrl: 'http://127.0.0.1:2/v1', apiKey: 'old' },
      ]
    }),
  })
  const fileOnly = loadConfig({ env: { RELAY_CONFIG: 'c.json' }, argv: [], cwd })
  t.strictSame(fileOnly.upstreams.map((u) => [u.name, u.baseUrl, u.apiKey]), [['other', 'http://127.0.0.1:1/v1', undefined], ['default', 'http://127.0.0.1:2/v1', 'old']])
  const replaced = loadConfig({ env: { RELAY_CONFIG: 'c.json', UPSTREAM_URL: 'http://127.0.0.1:3/v1' }, argv: [], cwd })
  t.strictSame(replaced.upstreams.map((u) => [u.name, u.baseUrl, u.apiKey, u.models]), [['other', 'http://127.0.0.1:1/v1', undefined, ['a']], ['default', 'http://127.0.0.1:3/v1', undefined, ['*']]])
  // UPSTREAM_KIND etc. without UPSTREAM_URL change nothing.
  const noUrl = loadConfig({ env: { RELAY_CONFIG: 'c.json', UPSTREAM_KIND: 'xinference', UPSTREAM_API_KEY: 'k' }, argv: [], cwd })
  t.strictSame(noUrl.upstreams, fileOnly.upstreams)
})

t.test('RELAY_API_KEYS adds keys allowed every model, after the file keys', async (t) => {
  const cwd = t.testdir({ 'c.json': JSON.stringify({ keys: [{ name: 'web', key: 'sk-web', models: ['a'] }] }) })
  const c = loadConfig({ env: { RELAY_CONFIG: 'c.json', RELAY_API_KEYS: 'sk-one, sk-two' }, argv: [], cwd })
  t.strictSame(c.keys.map((k) => [k.name, k.sha256, k.models]), [
    ['web', sha256('sk-web'), ['a']],
    ['env-1', sha256('sk-one'), ['*']],
    ['env-2', sha256('sk-two'), ['*']],
  ])
})

t.test('CORS_ORIGINS and RELAY_ALLOW_ANONYMOUS', async (t) => {
  const cwd = t.testdir({ 'c.json': JSON.stringify({ cors: { origins: ['http://file.example'] }, allowAnonymous: true }) })
  const file = loadConfig({ env: { RELAY_CONFIG: 'c.json' }, argv: [], cwd })
  t.strictSame([file.cors, file.allowAnonymous], [{ origins: ['http://file.example'] }, true])
  const env = loadConfig({ env: { RELAY_CONFIG: 'c.json', CORS_ORIGINS: 'http://localhost:5173,https://app.example', RELAY_ALLOW_ANONYMOUS: 'false' }, argv: [], cwd })
  t.strictSame([env.cors, env.allowAnonymous], [{ origins: ['http://localhost:5173', 'https://app.example'] }, false])
  t.strictSame(loadConfig({ env: { CORS_ORIGINS: '*' }, argv: [], cwd: t.testdir({}) }).cors, { origins: ['*'] })
  t.equal(loadConfig({ env: { RELAY_ALLOW_ANONYMOUS: 'true' }, argv: [], cwd: t.testdir({}) }).allowAnonymous, true)
  t.equal(loadConfig({ env: { RELAY_ALLOW_ANONYMOUS: 'yes' }, argv: [], cwd: t.testdir({}) }).allowAnonymous, false, 'only "true" allows')
})
