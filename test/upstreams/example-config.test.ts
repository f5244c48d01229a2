import t from 'tap'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../../src/config/load.js'
import { createRouter } from '../../src/upstream/router.js'

// config/multi-upstream.example.json (SPEC §3, §9): it loads with its variables set, and the
// routing it describes is the one a reader expects. No request leaves the process.

const repo = fileURLToPath(new URL('../../', import.meta.url))
const ENV = { OPENAI_API_KEY: 'sk-o', VLLM_API_KEY: 'sk-v', XINFERENCE_API_KEY: 'sk-x', RELAY_KEY_WEB: 'sk-web', RELAY_KEY_BACKEND: 'sk-backend' }

t.test('the several-upstreams example routes, balances and limits as it says', async (t) => {
  const config = loadConfig({ env: ENV, argv: ['--config', 'config/multi-upstream.example.json'], cwd: repo })
  t.strictSame(config.upstreams.map((u) => [u.name, u.kind, u.apiKey]), [
    ['openai', 'openai', 'sk-o'], ['vllm-gpu1', 'openai', 'sk-v'], ['xinference-gpu2', 'xinference', 'sk-x'],
  ])
  t.strictSame(config.failover, { failureThreshold: 3, cooldownMs: 30_000 })
  t.strictSame(config.keys.map((k) => [k.name, k.models, k.requestsPerMinute, k.maxConcurrentStreams]), [
    ['web', ['fast', 'local'], 120, 4],
    ['backend', ['*'], 600, 20],
    ['batch', ['local', 'text-embedding-3-small'], 60, 2],
  ])
  t.equal(config.proxy, undefined, 'no proxy unless the environment names one')

  const router = createRouter(config)
  t.teardown(() => router.close())
  const turns = [0, 1, 2, 3].map(() => router.route('local'))
  t.strictSame(turns.map((r) => r.upstreams.map((u) => u.name)), [
    ['vllm-gpu1', 'xinference-gpu2'], ['xinference-gpu2', 'vllm-gpu1'], ['vllm-gpu1', 'xinference-gpu2'], ['xinference-gpu2', 'vllm-gpu1'],
  ], 'the alias "local" is balanced over both GPU servers, the other one next in line')
  t.strictSame(turns.map((r) => [r.publicModel, r.upstreamModel, r.aliased]), Array(4).fill(['local', 'qwen2.5-7b-instruct', true]))
  t.strictSame(router.route('fast').upstreams.map((u) => u.name), ['openai'])
  let unknown: unknown
  try { router.route('llama-3') } catch (err) { unknown = err }
  t.match(unknown, { statusCode: 404, relayCode: 'model_not_found' }, 'no upstream serves "*": unknown models are 404')
})

t.test('HTTPS_PROXY from the environment applies to the example (its OpenAI upstream is https)', async (t) => {
  const config = loadConfig({ env: { ...ENV, HTTPS_PROXY: 'http://127.0.0.1:3128', NO_PROXY: '.internal' }, argv: ['--config', 'config/multi-upstream.example.json'], cwd: repo })
  t.strictSame(config.proxy, { httpProxy: undefined, httpsProxy: 'http://127.0.0.1:3128', noProxy: '.internal' })
  t.throws(() => loadConfig({ env: { ...ENV, HTTPS_PROXY: 'proxy.internal:3128' }, argv: ['--config', 'config/multi-upstream.example.json'], cwd: repo }),
    { name: 'ConfigError', message: 'HTTPS_PROXY: must be an http(s) URL (got "proxy.internal:3128")' })
})
