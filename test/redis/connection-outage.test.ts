import t from 'tap'
import { redisSkip, startRedis } from '../helpers/redis.js'
import { captureLog, connectRedis } from '../helpers/redis-store.js'
import { waitFor } from '../helpers/relay.js'
import { sleep } from '../helpers/upstream.js'

// SPEC §9.1: Redis unreachable at start or later: the relay starts and serves, what needs Redis
// fails fast, one warning line when it is lost and one when it is back, and everything works
// again without a restart.
const skip = redisSkip()
const LOST = 'Redis is unreachable: shared state is unavailable until it is back'
const BACK = 'Redis is reachable again'

/** How long a command takes to fail (it must fail). */
async function failsWithin (run: () => Promise<unknown>): Promise<number> {
  const started = performance.now()
  await run().then(() => { throw new Error('the command should fail while Redis is down') }, () => {})
  return performance.now() - started
}

t.test('stopped and restarted: down then up, one line each way, commands fail fast meanwhile, the same clients work again', { skip }, async (t) => {
  const redis = await startRedis(t)
  const log = captureLog()
  const statuses: boolean[] = []
  const commands: Array<[string, boolean]> = []
  const connection = await connectRedis(t, redis.url, { log, observer: { status: (up) => statuses.push(up), command: (name, seconds, ok) => { commands.push([name, ok]); t.ok(seconds >= 0 && seconds < 5, `${name} took ${seconds} s`) } } })
  const events: string[] = []
  connection.on('up', () => events.push('up'))
  connection.on('down', () => events.push('down'))
  const client = connection.client
  t.equal(await connection.run('set', (c) => c.set('k', 'v')), 'OK')

  await redis.stop()
  await waitFor('down', () => connection.status === 'down', 5000)
  t.ok(await failsWithin(() => connection.run('get', (c) => c.get('k'))) < 2000, 'a command fails within 2 s while down')
  // Reconnection attempts go on (capped at 200 ms here): still one line.
  await sleep(1000)
  t.ok(await failsWithin(() => connection.run('get', (c) => c.get('k'))) < 2000, 'and still fails fast later')
  t.strictSame(log.lines.map((l) => l.message), [LOST])
  t.match(log.lines[0]?.fields, { redis: `redis://127.0.0.1:${redis.port}/0` })

  await redis.restart()
  await waitFor('up again', () => connection.status === 'up', 10_000)
  t.equal(connection.client, client, 'the same client, not a new one')
  t.equal(await connection.run('set', (c) => c.set('k', 'v2')), 'OK', 'commands work again')
  t.strictSame(log.lines.map((l) => l.message), [LOST, BACK])
  t.strictSame(events, ['down', 'up'])
  t.strictSame(statuses, [false, true, false, true], 'the gauge: down at creation, up, down, up')
  t.strictSame(commands, [['set', true], ['get', false], ['get', false], ['set', true]])
})

t.test('unreachable at start: created at once, down, then up when Redis comes', { skip }, async (t) => {
  const redis = await startRedis(t)
  await redis.stop()
  const log = captureLog()
  const connection = await connectRedis(t, redis.url, { log, waitUp: false })
  t.equal(connection.status, 'down')
  await waitFor('the warning', () => log.lines.length === 1, 5000)
  t.ok(await failsWithin(() => connection.run('ping', (c) => c.ping())) < 100, 'a command fails at once')
  await redis.restart()
  await waitFor('up', () => connection.status === 'up', 10_000)
  t.strictSame(log.lines.map((l) => l.message), [LOST, BACK])
  t.equal(await connection.run('ping', (c) => c.ping()), 'PONG')
})

t.test('a frozen server (accepts, never answers): commands time out within the bound, status goes down, then up', { skip }, async (t) => {
  const redis = await startRedis(t)
  const log = captureLog()
  const connection = await connectRedis(t, redis.url, { log, commandTimeoutMs: 300, healthCheckMs: 100 })
  redis.pause()
  t.teardown(() => redis.resume())
  const took = await failsWithin(() => connection.run('get', (c) => c.get('k')))
  t.ok(took >= 250 && took < 2000, `timed out after ${Math.round(took)} ms`)
  await waitFor('down', () => connection.status === 'down', 5000)
  t.strictSame(log.lines.map((l) => l.message), [LOST])
  redis.resume()
  await waitFor('up', () => connection.status === 'up', 10_000)
  t.equal(await connection.run('ping', (c) => c.ping()), 'PONG')
})

t.test('two named connections; close() quits both and says nothing more', { skip }, async (t) => {
  const redis = await startRedis(t)
  const log = captureLog()
  const connection = await connectRedis(t, redis.url, { log, name: 'replica-a' })
  const names = async () => (await redis.client.client('LIST') as string).split('\n').map((l) => /name=(\S*)/.exec(l)?.[1]).filter((n) => n?.startsWith('replica-a')).sort()
  t.strictSame(await names(), ['replica-a:cmd', 'replica-a:sub'])
  let events = 0
  connection.on('down', () => events++)
  await connection.close()
  for (let i = 0; i < 50 && (await names()).length > 0; i++) await sleep(20)
  t.strictSame(await names(), [], 'both connections closed')
  await redis.stop()
  await sleep(300)
  t.equal(events, 0, 'no event after close')
  t.equal(log.lines.length, 0, 'no line after close')
  await connection.close()
  t.pass('closing twice is harmless')
})
