import t from 'tap'
import { spawnCli } from '../helpers/cli.js'
import { redisSkip, startRedis } from '../helpers/redis.js'
import { waitFor } from '../helpers/relay.js'

// `workers` (RELAY_WORKERS): one port served by N processes of the real CLI, sharing state through
// Redis as replicas do; one scrape of /metrics sees all of them; SIGTERM drains every worker, exit 0.

const chat = JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] })

t.test('two workers on one port: requests spread over both, one scrape counts them all, SIGTERM exits 0', { skip: redisSkip() }, async (t) => {
  const redis = await startRedis(t)
  const cli = spawnCli(t, { RELAY_WORKERS: '2', REDIS_URL: redis.url, PORT: '0', LOG_LEVEL: 'info' }, { timeoutMs: 60_000 })
  await cli.waitForLog(/serving from 2 worker processes/)
  const listening = await cli.waitForLog(/Server listening/)
  const url = /http:\/\/127\.0\.0\.1:\d+/.exec(String(listening.msg))![0]
  const lines = () => cli.stdout().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>)
  await waitFor('both workers listening', () => lines().filter((l) => /Server listening/.test(l.msg) && l.msg.includes(url)).length === 2, 30_000)

  const N = 12
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
