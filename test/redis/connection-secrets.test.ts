import t, { type Test } from 'tap'
import { redisSkip, startRedis } from '../helpers/redis.js'
import { captureLog, connectRedis } from '../helpers/redis-store.js'
import { waitFor } from '../helpers/relay.js'
import { closedPort, sleep } from '../helpers/upstream.js'

// SPEC §9.1: "No secret of the URL appears in a log or error." A wrong password and an
// unreachable host both end in a warning line and in rejected commands; neither may show it.
const skip = redisSkip()
const SECRET = 'Wr0ng-s3cret/pw'

/** Everything a failure put where someone could read it: the log lines and a command's error, cause included. */
async function failureText (t: Test, connection: Awaited<ReturnType<typeof connectRedis>>, log: ReturnType<typeof captureLog>): Promise<{ text: string, error: Error }> {
  const started = performance.now()
  const error = await connection.run('get', (c) => c.get('k')).then(() => { throw new Error('the command should fail') }, (err: Error) => err)
  t.ok(performance.now() - started < 500, 'the command failed at once')
  const cause = error.cause as Error
  const text = JSON.stringify(log.lines) + error.message + error.stack + JSON.stringify(error) + cause.message + cause.stack
  return { text, error }
}

for (const user of ['', 'default']) {
  t.test(`a wrong password${user ? ` for user "${user}"` : ''}: down, one warning, a 503 error, no secret anywhere`, { skip }, async (t) => {
    const redis = await startRedis(t, { password: 'right-password' })
    const log = captureLog()
    const url = `redis://${user}:${encodeURIComponent(SECRET)}@127.0.0.1:${redis.port}`
    const connection = await connectRedis(t, url, { log, waitUp: false })
    await waitFor('the warning', () => log.lines.length > 0, 5000)
    // Several reconnection attempts later (the cap is 200 ms), still one line.
    await sleep(800)
    t.equal(connection.status, 'down')
    t.equal(log.lines.length, 1, 'one warning line')
    t.equal(log.lines[0]?.message, 'Redis is unreachable: shared state is unavailable until it is back')
    t.match(log.lines[0]?.fields, { redis: `redis://127.0.0.1:${redis.port}/0`, reason: /WRONGPASS/ })
    const { text, error } = await failureText(t, connection, log)
    t.match(error, { statusCode: 503, relayCode: 'unavailable', retryAfter: 1, message: 'Shared state (Redis) is unavailable; retry shortly' })
    t.notMatch(text, SECRET)
    t.notMatch(text, encodeURIComponent(SECRET))
  })
}

t.test('an unreachable host: down, one warning naming the host without the password', { skip }, async (t) => {
  const port = await closedPort()
  const log = captureLog()
  const started = performance.now()
  const connection = await connectRedis(t, `redis://relay:${encodeURIComponent(SECRET)}@127.0.0.1:${port}/2`, { log, waitUp: false })
  t.ok(performance.now() - started < 100, 'creating the connection does not wait for Redis')
  await waitFor('the warning', () => log.lines.length > 0, 5000)
  await sleep(500)
  t.equal(log.lines.length, 1, 'one warning line')
  t.match(log.lines[0]?.fields, { redis: `redis://127.0.0.1:${port}/2`, reason: /ECONNREFUSED/ })
  const { text } = await failureText(t, connection, log)
  t.notMatch(text, SECRET)
  t.notMatch(text, encodeURIComponent(SECRET))
  t.notMatch(text, 'relay:', 'nor the user')
})

t.test('the right password: up', { skip }, async (t) => {
  const redis = await startRedis(t, { password: SECRET })
  const log = captureLog()
  const connection = await connectRedis(t, `redis://:${encodeURIComponent(SECRET)}@127.0.0.1:${redis.port}`, { log })
  t.equal(await connection.run('set', (c) => c.set('k', 'v')), 'OK')
  t.equal(log.lines.length, 0, 'nothing logged')
})
