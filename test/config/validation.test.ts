import t from 'tap'
import { loadConfig } from '../../src/config/load.js'
import { resolveConfig } from '../../src/config/resolve.js'
import type { RelayConfigInput } from '../../src/config/schema.js'

// SPEC §3: an invalid config (unknown key, wrong type, bad URL) is an error
// whose message starts with the path of the offending value.

/** What `fn` threw, as plain fields, so messages are compared exactly (t.throws would match substrings). */
function thrown (fn: () => unknown): { name: string, path: string, message: string } | 'did not throw' {
  try { fn() } catch (err) {
    const e = err as { name: string, path: string, message: string }
    return { name: e.name, path: e.path, message: e.message }
  }
  return 'did not throw'
}
const bad = (input: unknown) => thrown(() => resolveConfig(input as RelayConfigInput))
const exactly = (path: string, message: string) => ({ name: 'ConfigError', path, message })
const UP = { name: 'a', baseUrl: 'http://127.0.0.1:1/v1' }

t.test('an unknown key names its path', async (t) => {
  t.strictSame(bad({ prot: 8080 }), exactly('prot', 'prot: unknown key'))
  t.strictSame(bad({ upstreams: [UP, { ...UP, name: 'b', apikey: 'x' }] }), exactly('upstreams[1].apikey', 'upstreams[1].apikey: unknown key'))
  t.strictSame(bad({ timeouts: { firstByte: 1 } }), exactly('timeouts.firstByte', 'timeouts.firstByte: unknown key'))
  t.strictSame(bad({ keys: [{ name: 'k', key: 'x', model: ['*'] }] }), exactly('keys[0].model', 'keys[0].model: unknown key'))
})

t.test('a wrong type names its path and says what it got', async (t) => {
  t.match(bad({ port: '8080' }), { name: 'ConfigError', path: 'port', message: /^port: expected integer \(got "8080"\)$/ })
  t.match(bad({ port: 70000 }), { name: 'ConfigError', path: 'port', message: /^port: expected integer to be less or equal to 65535 \(got 70000\)$/ })
  t.match(bad({ heartbeatMs: 0 }), { name: 'ConfigError', path: 'heartbeatMs', message: /^heartbeatMs: .*\(got 0\)$/ })
  t.match(bad({ upstreams: { name: 'a' } }), { name: 'ConfigError', path: 'upstreams', message: /^upstreams: expected array \(got an object\)$/ })
  t.match(bad({ upstreams: [{ ...UP, kind: 'ollama' }] }), { name: 'ConfigError', path: 'upstreams[0].kind', message: /^upstreams\[0\]\.kind: .*\(got "ollama"\)$/ })
  t.match(bad({ format: 'xml' }), { name: 'ConfigError', path: 'format', message: /^format: .*\(got "xml"\)$/ })
  t.match(bad({ keys: [{ name: 'k', keySha256: 'not-hex' }] }), { name: 'ConfigError', path: 'keys[0].keySha256', message: /^keys\[0\]\.keySha256: / })
  t.match(bad({ upstreams: [{ name: 'a' }] }), { name: 'ConfigError', path: 'upstreams[0].baseUrl', message: /^upstreams\[0\]\.baseUrl: / })
})

t.test('a bad upstream URL: exactly "upstreams[1].baseUrl: must be an http(s) URL …"', async (t) => {
  for (const url of ['ftp://example.com/v1', 'not a url', '127.0.0.1:8000/v1', 'file:///etc/passwd']) {
    t.strictSame(bad({ upstreams: [UP, { name: 'b', baseUrl: url }] }), exactly('upstreams[1].baseUrl', `upstreams[1].baseUrl: must be an http(s) URL (got ${JSON.stringify(url)})`), url)
  }
  t.strictSame(bad({ upstreams: [{ ...UP, baseUrl: 'http://h/v1?key=x' }] }), exactly('upstreams[0].baseUrl', 'upstreams[0].baseUrl: must not have a query or fragment'))
})

t.test('a key needs exactly one of key / keySha256; names are unique', async (t) => {
  t.strictSame(bad({ keys: [{ name: 'k' }] }), exactly('keys[0]', 'keys[0]: give exactly one of "key" or "keySha256"'))
  t.strictSame(bad({ keys: [{ name: 'k', key: 'a', keySha256: 'a'.repeat(64) }] }), exactly('keys[0]', 'keys[0]: give exactly one of "key" or "keySha256"'))
  t.strictSame(bad({ keys: [{ name: 'k', key: 'a' }, { name: 'k', key: 'b' }] }), exactly('keys[1].name', 'keys[1].name: duplicate name "k"'))
  t.strictSame(bad({ upstreams: [UP, UP] }), exactly('upstreams[1].name', 'upstreams[1].name: duplicate name "a"'))
})

t.test('the same errors come out of loadConfig for a file', async (t) => {
  const cwd = t.testdir({ 'c.json': JSON.stringify({ upstreams: [UP, { name: 'b', baseUrl: 'ftp://x/v1' }] }) })
  t.strictSame(thrown(() => loadConfig({ env: { RELAY_CONFIG: 'c.json' }, argv: [], cwd })), exactly('upstreams[1].baseUrl', 'upstreams[1].baseUrl: must be an http(s) URL (got "ftp://x/v1")'))
})

t.test('an invalid PORT / UPSTREAM_URL / UPSTREAM_KIND in the environment names the variable', async (t) => {
  const cwd = t.testdir({})
  for (const port of ['http', '-1', '65536', '80.5', '8080x']) {
    t.strictSame(thrown(() => loadConfig({ env: { PORT: port }, argv: [], cwd })), exactly('PORT', `PORT: must be a port number 0-65535 (got ${JSON.stringify(port)})`), port)
  }
  t.equal(loadConfig({ env: { PORT: '0' }, argv: [], cwd }).port, 0, 'PORT=0 (any free port) is valid')
  t.strictSame(thrown(() => loadConfig({ env: { UPSTREAM_URL: 'localhost:8000' }, argv: [], cwd })), exactly('UPSTREAM_URL', 'UPSTREAM_URL: must be an http(s) URL (got "localhost:8000")'))
  t.strictSame(thrown(() => loadConfig({ env: { UPSTREAM_URL: 'http://127.0.0.1:1/v1', UPSTREAM_KIND: 'vllm' }, argv: [], cwd })), exactly('UPSTREAM_KIND', 'UPSTREAM_KIND: must be "openai" or "xinference" (got "vllm")'))
  t.match(thrown(() => loadConfig({ env: { LOG_LEVEL: 'loud' }, argv: [], cwd })), { name: 'ConfigError', path: 'logLevel', message: /^logLevel: / })
})
