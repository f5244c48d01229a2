import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../../src/config/load.js'

// SPEC §3: the files in config/ load, given the environment variables they reference.

const repo = fileURLToPath(new URL('../../', import.meta.url))

const SECRETS = {
  OPENAI_API_KEY: 'sk-openai-test',
  XINFERENCE_API_KEY: 'sk-xinference-test',
  RELAY_KEY_WEB: 'sk-relay-web',
  RELAY_KEY_BACKEND: 'sk-relay-backend',
}

t.test('config/openai.example.json', async (t) => {
  const c = loadConfig({ env: { ...SECRETS }, argv: ['--config', 'config/openai.example.json'], cwd: repo })
  t.equal(c.demo, false)
  t.strictSame(c.upstreams.map((u) => [u.name, u.kind, u.baseUrl, u.apiKey]), [['openai', 'openai', 'https://api.openai.com/v1', 'sk-openai-test']])
  t.ok(c.keys.length > 0, 'it configures client keys')
  t.throws(() => loadConfig({ env: { ...SECRETS, OPENAI_API_KEY: '' }, argv: ['--config', 'config/openai.example.json'], cwd: repo }), { message: /^upstreams\[0\]\.apiKey: environment variable OPENAI_API_KEY is not set$/ })
})

t.test('config/xinference.example.json', async (t) => {
  const c = loadConfig({ env: { ...SECRETS, RELAY_CONFIG: 'config/xinference.example.json' }, argv: [], cwd: repo })
  t.equal(c.demo, false)
  t.strictSame(c.upstreams.map((u) => [u.kind, u.baseUrl, u.apiKey]), [['xinference', 'http://127.0.0.1:9997/v1', 'sk-xinference-test']])
})

t.test('config/default.json: no upstream, no key, the demo model', async (t) => {
  const c = loadConfig({ env: {}, argv: [], cwd: repo })
  t.strictSame([c.demo, c.keys, c.upstreams.map((u) => u.name)], [true, [], ['demo']])
  t.equal(c.host, '127.0.0.1')
  t.equal(c.port, 8080)
})

t.test('every JSON file in config/ loads with all secrets set', async (t) => {
  const files = readdirSync(new URL('../../config/', import.meta.url)).filter((f) => f.endsWith('.json'))
  t.ok(files.includes('default.json') && files.includes('openai.example.json') && files.includes('xinference.example.json'))
  for (const f of files) {
    // Other examples may reference other variables: give every ${NAME} they use a value.
    const env: Record<string, string> = { ...SECRETS }
    const text = readFileSync(new URL(`../../config/${f}`, import.meta.url), 'utf8')
    for (const m of text.matchAll(/"\$\{([A-Za-z_][A-Za-z0-9_]*)\}"/g)) env[m[1]!] ??= `value-of-${m[1]}`
    t.doesNotThrow(() => loadConfig({ env, argv: ['--config', `config/${f}`], cwd: repo }), f)
  }
})
