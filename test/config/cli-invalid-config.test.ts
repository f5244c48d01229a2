/* eslint-disable no-template-curly-in-string -- the config's `${NAME}` references are what these tests write */
import t from 'tap'
import { spawnCli } from '../helpers/cli.js'

// SPEC §3: an invalid config stops the process before it listens, with a
// non-zero exit code and a message naming the offending path.

const BAD_URL = { upstreams: [{ name: 'a', baseUrl: 'http://127.0.0.1:1/v1' }, { name: 'b', baseUrl: 'ftp://example.com/v1' }] }

t.test('a bad baseUrl in the file: exit 2, stderr names upstreams[1].baseUrl, never listens', async (t) => {
  const cwd = t.testdir({ config: { 'default.json': JSON.stringify(BAD_URL) } })
  const cli = spawnCli(t, { PORT: '0' }, { cwd })
  t.equal(await cli.exited, 2)
  t.equal(cli.stderr(), 'llm-relay: invalid configuration: upstreams[1].baseUrl: must be an http(s) URL (got "ftp://example.com/v1")\n')
  t.notMatch(cli.stdout(), /Server listening/)
})

t.test('an unset ${NAME}, named by --config: the path and the variable', async (t) => {
  const cwd = t.testdir({ 'relay.json': JSON.stringify({ upstreams: [{ name: 'a', baseUrl: 'http://127.0.0.1:1/v1', apiKey: '${MY_UPSTREAM_KEY}' }] }) })
  const cli = spawnCli(t, { PORT: '0' }, { cwd, args: ['--config', 'relay.json'] })
  t.equal(await cli.exited, 2)
  t.equal(cli.stderr(), 'llm-relay: invalid configuration: upstreams[0].apiKey: environment variable MY_UPSTREAM_KEY is not set\n')
  t.notMatch(cli.stdout(), /Server listening/)
})

t.test('an unknown key via RELAY_CONFIG, and a bad PORT', async (t) => {
  const cwd = t.testdir({ 'relay.json': JSON.stringify({ timeouts: { firstByte: 5 } }) })
  const unknown = spawnCli(t, { PORT: '0', RELAY_CONFIG: 'relay.json' }, { cwd })
  t.equal(await unknown.exited, 2)
  t.equal(unknown.stderr(), 'llm-relay: invalid configuration: timeouts.firstByte: unknown key\n')

  const port = spawnCli(t, { PORT: 'eighty' }, { cwd: t.testdir({}) })
  t.equal(await port.exited, 2)
  t.equal(port.stderr(), 'llm-relay: invalid configuration: PORT: must be a port number 0-65535 (got "eighty")\n')
})

t.test('a named config file that does not exist', async (t) => {
  const cli = spawnCli(t, { PORT: '0', RELAY_CONFIG: 'missing.json' }, { cwd: t.testdir({}) })
  t.equal(await cli.exited, 2)
  t.match(cli.stderr(), /^llm-relay: invalid configuration: cannot read config file .*missing\.json: ENOENT/)
})
