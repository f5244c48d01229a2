import t from 'tap'
import { spawnCli } from '../helpers/cli.js'
import { loadConfig } from '../../src/config/load.js'
import { buildServer } from '../../src/server.js'

// SPEC §3, safe by default: a non-loopback address with no client tokens and
// no RELAY_ALLOW_ANONYMOUS refuses to start and says how to fix it.
// Tests only ever listen on 127.0.0.1: the refusing child never binds, and
// that RELAY_ALLOW_ANONYMOUS lifts the refusal for 0.0.0.0 is checked up to
// (not including) listen().

const HOW_TO_FIX = 'host: refusing to listen on 0.0.0.0 without client API keys: set RELAY_API_KEYS=<token>[,<token>…] (or "keys" in the config file), or RELAY_ALLOW_ANONYMOUS=true to serve anyone who can reach this address'

t.test('HOST=0.0.0.0 with no keys: the CLI refuses, exit non-zero, says how to fix', async (t) => {
  const cli = spawnCli(t, { HOST: '0.0.0.0', PORT: '0' }, { cwd: t.testdir({}) })
  const code = await cli.exited
  t.not(code, 0)
  t.type(code, 'number')
  t.equal(cli.stderr(), `llm-relay: invalid configuration: ${HOW_TO_FIX}\n`)
  t.notMatch(cli.stdout(), /Server listening/)
})

t.test('the refusal and what lifts it, without listening', async (t) => {
  const cwd = t.testdir({})
  await t.rejects(buildServer(loadConfig({ env: { HOST: '0.0.0.0' }, argv: [], cwd })), { name: 'ConfigError', message: HOW_TO_FIX })
  await t.rejects(buildServer(loadConfig({ env: { HOST: '::', RELAY_ALLOW_ANONYMOUS: 'false' }, argv: [], cwd })), { name: 'ConfigError', message: /^host: refusing to listen on :: without client API keys/ })
  for (const env of [{ RELAY_ALLOW_ANONYMOUS: 'true' }, { RELAY_API_KEYS: 'sk-a' }]) {
    const app = await buildServer(loadConfig({ env: { HOST: '0.0.0.0', ...env }, argv: [], cwd }), { logger: false })
    t.ok(app, `${Object.keys(env)[0]} lifts the refusal`)
    await app.close()
  }
  for (const host of ['127.0.0.1', 'localhost', '::1']) {
    const app = await buildServer(loadConfig({ env: { HOST: host }, argv: [], cwd }), { logger: false })
    t.ok(app, `${host} is loopback: no keys needed`)
    await app.close()
  }
})

t.test('RELAY_ALLOW_ANONYMOUS=true with no keys: the CLI starts, serves /healthz and the demo, exits 0 on SIGTERM', async (t) => {
  const cli = spawnCli(t, { HOST: '127.0.0.1', PORT: '0', RELAY_ALLOW_ANONYMOUS: 'true' }, { cwd: t.testdir({}) })
  const listening = await cli.waitForLog(/^Server listening at /)
  const url = /^Server listening at (http:\/\/127\.0\.0\.1:\d+)$/.exec(listening.msg)?.[1]
  t.ok(url, `listening on 127.0.0.1: ${listening.msg}`)
  const health = await fetch(`${url}/healthz`)
  t.equal(health.status, 200)
  t.strictSame(await health.json(), { status: 'ok' })

  const models = await fetch(`${url}/v1/models`)
  t.equal(models.status, 200)
  t.strictSame(((await models.json()) as { data: Array<{ id: string }> }).data.map((m) => m.id), ['demo'])

  const warnings = cli.stdout().split('\n').filter((l) => l.includes('no client API keys configured'))
  t.equal(warnings.length, 1, 'the no-auth warning is logged once')
  t.equal(JSON.parse(warnings[0]!).level, 40, 'at warn level')

  cli.child.kill('SIGTERM')
  t.equal(await cli.exited, 0)
})
