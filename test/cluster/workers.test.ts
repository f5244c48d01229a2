import t from 'tap'
import { readFileSync } from 'node:fs'
import { spawnCli } from '../helpers/cli.js'
import { freePort, redisSkip, startRedis } from '../helpers/redis.js'
import { waitFor } from '../helpers/relay.js'
import { workerListenOptions } from '../../src/cluster/listen.js'

// `workers` (RELAY_WORKERS): one port served by N processes of the real CLI, sharing state through
// Redis as replicas do; one scrape of /metrics sees all of them; SIGTERM drains every worker, exit 0.

const chat = JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] })

// Two ways to share the port (cluster/listen.ts): PORT=0 through the primary's handle (round-robin),
// a fixed port with a socket of each worker's own (SO_REUSEPORT, the kernel spreads connections by
// a hash: 24 new connections all landing on one of two workers has a chance of 2^-23).
for (const fixed of [false, true]) {
  t.test(`two workers on one ${fixed ? 'fixed port (SO_REUSEPORT)' : 'port 0 (through the primary)'}: requests spread over both, one scrape counts them all, SIGTERM exits 0`, { skip: redisSkip() }, async (t) => {
    const redis = await startRedis(t)
    const port = fixed ? await freePort() : 0
    const cli = spawnCli(t, { RELAY_WORKERS: '2', REDIS_URL: redis.url, PORT: String(port), LOG_LEVEL: 'info' }, { timeoutMs: 60_000 })
    await cli.waitForLog(/serving from 2 worker processes/)
    const listening = await cli.waitForLog(/Server listening/)
    const url = /http:\/\/127\.0\.0\.1:\d+/.exec(String(listening.msg))![0]
    const lines = () => cli.stdout().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>)
    await waitFor('both workers listening', () => lines().filter((l) => /Server listening/.test(l.msg) && l.msg.includes(url)).length === 2, 30_000)

    // Who listens: each worker on its own socket (2), or the primary alone (1), which hands connections over.
    t.equal(listeningSockets(Number(new URL(url).port)), fixed ? 2 : 1, fixed ? 'a listening socket per worker' : 'one listening socket, the primary\'s')
    const N = fixed ? 24 : 12
    for (let i = 0; i < N; i++) {
      const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', connection: 'close' }, body: chat })
      t.equal(res.status, 200)
      await res.arrayBuffer()
    }
    await waitFor('every request summary', () => lines().filter((l) => l.url === '/v1/chat/completions').length === N)
    const pids = new Set(lines().filter((l) => l.url === '/v1/chat/completions').map((l) => l.pid))
    t.equal(pids.size, 2, 'the requests were served by both workers')

    const metrics = await (await fetch(`${url}/metrics`)).text()
    const served = /llm_relay_requests_total\{key="anonymous",model="demo",upstream="demo",status="200",outcome="completed"\} (\d+)/.exec(metrics)
    t.equal(Number(served?.[1]), N, 'one scrape sums every worker\'s counter')

    // The EventSource flow across the workers: whichever worker produced it, any worker reads it.
    const created = await fetch(`${url}/v1/streams`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chat })
    t.equal(created.status, 201)
    const { url: path } = await created.json() as { url: string }
    const text = await (await fetch(`${url}${path}?format=content`, { headers: { connection: 'close' } })).text()
    t.match(text, /event: stop/)

    cli.child.kill('SIGTERM')
    t.equal(await cli.exited, 0, 'the primary exits 0 once every worker drained')
    t.ok(lines().some((l) => l.msg === 'all workers have exited'))
    t.equal(lines().filter((l) => l.msg === 'closed').length, 2, 'each worker closed its server')
  })
}

/** Listening TCP sockets on 127.0.0.1:`port`, from the kernel's table (/proc/net/tcp: state 0A is LISTEN). */
function listeningSockets (port: number): number {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`
  return readFileSync('/proc/net/tcp', 'utf8').split('\n').filter((line) => {
    const fields = line.trim().split(/\s+/)
    return fields[1] === local && fields[3] === '0A'
  }).length
}

t.test('a worker listens with SO_REUSEPORT on a fixed port on Linux, through the primary otherwise', async (t) => {
  t.same(workerListenOptions(8080, 'linux'), { exclusive: true, reusePort: true })
  t.same(workerListenOptions(0, 'linux'), {})
  t.same(workerListenOptions(8080, 'darwin'), {})
})

t.test('more than one worker without REDIS_URL: one clear line, exit 2', async (t) => {
  const cli = spawnCli(t, { RELAY_WORKERS: '2', PORT: '0' })
  t.equal(await cli.exited, 2)
  t.match(cli.stderr(), /^llm-relay: invalid configuration: workers: 2 worker processes need REDIS_URL/)
  t.equal(cli.stderr().trim().split('\n').length, 1, 'one line')
})

t.test('RELAY_WORKERS that is not a number or auto: named, exit 2', async (t) => {
  const cli = spawnCli(t, { RELAY_WORKERS: 'many', PORT: '0' })
  t.equal(await cli.exited, 2)
  t.match(cli.stderr(), /RELAY_WORKERS: must be a number of processes or "auto"/)
})
