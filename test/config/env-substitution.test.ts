/* eslint-disable no-template-curly-in-string -- the config's `${NAME}` references are what these tests write */
import t from 'tap'
import { loadConfig } from '../../src/config/load.js'

// SPEC §3: a string value of the form `${NAME}` is read from the environment,
// so a config file never holds a secret; an unset variable is an error that
// names the path of the value.

const file = (cfg: unknown) => ({ 'relay.json': JSON.stringify(cfg) })

t.test('${NAME} strings are replaced, anywhere in the file', async (t) => {
  const cwd = t.testdir(file({
    host: '${RELAY_HOST}',
    upstreams: [{ name: 'up', baseUrl: '${UP_URL}', apiKey: '${UP_KEY}', headers: { 'OpenAI-Organization': '${ORG}' } }],
    keys: [{ name: 'web', key: '${WEB_KEY}' }],
    aliases: { fast: 'gpt-x' },
  }))
  const env = { RELAY_CONFIG: 'relay.json', RELAY_HOST: '127.0.0.9', UP_URL: 'http://127.0.0.1:7/v1', UP_KEY: 'sk-up', ORG: 'org-1', WEB_KEY: 'sk-web' }
  const c = loadConfig({ env, argv: [], cwd })
  t.equal(c.host, '127.0.0.9')
  t.equal(c.upstreams[0]?.baseUrl, 'http://127.0.0.1:7/v1')
  t.equal(c.upstreams[0]?.apiKey, 'sk-up')
  t.strictSame(c.upstreams[0]?.headers, { 'OpenAI-Organization': 'org-1' })
  t.equal(c.keys.length, 1)
  t.notOk(JSON.stringify(c).includes('sk-web'), 'the client token is kept as a digest only')
})

t.test('only a whole-string ${NAME} is a reference; other text is kept as written', async (t) => {
  const cwd = t.testdir(file({ upstreams: [{ name: 'up', baseUrl: 'http://127.0.0.1:7/v1', apiKey: 'prefix-${UP_KEY}', models: ['$MODEL', '${not a name}'] }] }))
  const c = loadConfig({ env: { RELAY_CONFIG: 'relay.json', UP_KEY: 'x', MODEL: 'y' }, argv: [], cwd })
  t.equal(c.upstreams[0]?.apiKey, 'prefix-${UP_KEY}')
  t.strictSame(c.upstreams[0]?.models, ['$MODEL', '${not a name}'])
})

t.test('an unset (or empty) variable is an error naming the path and the variable', async (t) => {
  const cwd = t.testdir(file({
    upstreams: [
      { name: 'a', baseUrl: 'http://127.0.0.1:7/v1', apiKey: '${SET_KEY}' },
      { name: 'b', baseUrl: 'http://127.0.0.1:8/v1', apiKey: '${X}' },
    ],
  }))
  const load = (env: Record<string, string>) => () => loadConfig({ env: { RELAY_CONFIG: 'relay.json', SET_KEY: 'k', ...env }, argv: [], cwd })
  t.throws(load({}), { name: 'ConfigError', path: 'upstreams[1].apiKey', message: /^upstreams\[1\]\.apiKey: environment variable X is not set$/ })
  t.throws(load({ X: '' }), { name: 'ConfigError', message: /^upstreams\[1\]\.apiKey: environment variable X is not set$/ })
  t.equal(load({ X: 'sk-x' })().upstreams[1]?.apiKey, 'sk-x')

  const first = t.testdir(file({ upstreams: [{ name: 'a', baseUrl: 'http://127.0.0.1:7/v1', apiKey: '${X}' }] }))
  t.throws(() => loadConfig({ env: { RELAY_CONFIG: 'relay.json' }, argv: [], cwd: first }), { message: /^upstreams\[0\]\.apiKey: environment variable X is not set$/ })
  const nested = t.testdir(file({ keys: [{ name: 'k', key: '${RELAY_KEY_WEB}' }], cors: { origins: ['${ORIGIN}'] } }))
  t.throws(() => loadConfig({ env: { RELAY_CONFIG: 'relay.json', ORIGIN: 'http://a' }, argv: [], cwd: nested }), { message: /^keys\[0\]\.key: environment variable RELAY_KEY_WEB is not set$/ })
  t.throws(() => loadConfig({ env: { RELAY_CONFIG: 'relay.json', RELAY_KEY_WEB: 'w' }, argv: [], cwd: nested }), { message: /^cors\.origins\[0\]: environment variable ORIGIN is not set$/ })
})

t.test('a substituted value is still validated', async (t) => {
  const cwd = t.testdir(file({ upstreams: [{ name: 'up', baseUrl: '${UP_URL}' }] }))
  t.throws(() => loadConfig({ env: { RELAY_CONFIG: 'relay.json', UP_URL: 'gopher://x' }, argv: [], cwd }), { message: /^upstreams\[0\]\.baseUrl: must be an http\(s\) URL \(got "gopher:\/\/x"\)$/ })
})
