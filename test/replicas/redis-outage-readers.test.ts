import t from 'tap'
import { redisSkip, startRedis } from '../helpers/redis.js'
import { startUpstream } from '../helpers/upstream.js'
import { createStream } from '../helpers/streams.js'
import { waitFor } from '../helpers/relay.js'
import { scriptEndless } from '../helpers/clients.js'
import { KEYS, auth, chatRequest, contentText, idsOf, openStream, range, readSse, readStream, redisUp, scriptAnswer, spawnReplica, startSharedReplicas, tokens } from '../helpers/shared-replicas.js'

// SPEC §9.1, Redis lost while streams are being read: the relay goes on serving (a reader that
// goes away meanwhile, a wake-up that cannot be followed, a watchdog that cannot look: none of
// it may take the process down), and every reader still attached gets an end that cannot pass
// for a finished answer: one error event, then the end, never a stop, never a silent end.
// Producer A is the real process (an unhandled rejection there is an exit), reader B in-process.

const skip = redisSkip()
const unhandled: unknown[] = []
process.on('unhandledRejection', (err) => { unhandled.push(err) })

/** How each outage ends the generation, as the reader that stayed sees it. */
const ENDS = {
  // The producer could not store its next event, so it stopped; its error event was kept for
  // when Redis answered again, and Redis still had the stream.
  'frozen (SIGSTOP), then resumed with its data': /lost its place in the shared stream log/,
  // Redis came back without the stream: the reader says so rather than end as if finished.
  'stopped and restarted empty': /removed from the stream log before its end/,
} as const

for (const [outage, end] of Object.entries(ENDS)) {
  t.test(`Redis ${outage}: no replica crashes (a reader leaves meanwhile); the reader that stays gets one error event and the end; all works again after`, { skip }, async (t) => {
    const redis = await startRedis(t)
    const up = await startUpstream(t)
    const endless = scriptEndless(up, { gapMs: 20, max: 3000 })
    const config = { keys: KEYS, upstreams: [{ name: 'up', baseUrl: up.baseUrl }], streams: { leaseMs: 2000 } }
    const a = await spawnReplica(t, t.testdir({}), 'a', redis.url, config)
    const [b] = await startSharedReplicas(t, redis, config)
    if (!b) throw new Error('replica b')
    const readyA = async () => (await fetch(`${a.url}/readyz`)).status

    const created = await createStream(a.url, chatRequest(), auth(), '?format=content')
    const url = created.json.url as string
    const leaving = new AbortController()
    const onA = await fetch(`${a.url}${url}`, { signal: leaving.signal })
    const onB = await openStream(b, url)
    const readB = readSse(onB, { timeoutMs: 30_000 })
    const readA = onA.body!.getReader()
    await waitFor('a few tokens', () => endless.sent >= 5)

    if (outage === 'stopped and restarted empty') await redis.stop()
    else redis.pause()
    for (let i = 0; i < 200 && (redisUp(b) || await readyA() !== 503); i++) await new Promise((resolve) => setTimeout(resolve, 25))
    t.notOk(redisUp(b), 'B sees Redis gone')
    t.equal(await readyA(), 503, 'A sees Redis gone')
    // A reader on A goes away while A cannot tell Redis.
    leaving.abort()
    await readA.closed.catch(() => {})
    await new Promise((resolve) => setTimeout(resolve, 1500))
    t.equal(a.cli.child.exitCode, null, 'A is still running')
    t.equal((await fetch(`${a.url}/healthz`)).status, 200, 'and serving')

    if (outage === 'stopped and restarted empty') await redis.restart()
    else redis.resume()
    await waitFor('Redis back on B', () => redisUp(b), 15_000)
    for (let i = 0; i < 200 && await readyA() !== 200; i++) await new Promise((resolve) => setTimeout(resolve, 25))
    const read = await readB
    t.ok(read.ended, 'the reader on B ended')
    t.same(idsOf(read.events), range(1, read.events.length), 'ids without a gap')
    t.equal(read.events.filter((e) => e.event === 'error').length, 1, 'one error event')
    t.equal(read.events.at(-1)?.event, 'error', 'as the last event')
    t.match(JSON.parse(read.events.at(-1)!.data), { error: { code: 'upstream_error', message: end } })
    t.notOk(read.events.some((e) => e.event === 'stop'), 'never a stop')

    t.equal(a.cli.child.exitCode, null, 'A never exited')
    t.same(unhandled.map(String), [], 'no unhandled rejection in B')
    const pieces = tokens(4)
    scriptAnswer(up, pieces)
    const again = await createStream(a.url, chatRequest(), auth(), '?format=content')
    t.equal(again.status, 201, 'A creates streams again')
    t.equal(contentText((await readStream(b, again.json.url)).events), pieces.join(''), 'B reads them, exactly')
  })
}

t.test('a quiet generation (its upstream silent) while Redis is away longer than detachTimeoutMs: the no-reader watchdog does not take the producer down; the generation ends once Redis is back', { skip }, async (t) => {
  const redis = await startRedis(t)
  const up = await startUpstream(t)
  scriptAnswer(up, tokens(3), { holdAfter: 1 })
  const config = { keys: KEYS, upstreams: [{ name: 'up', baseUrl: up.baseUrl }], streams: { leaseMs: 1000, detachTimeoutMs: 300 } }
  const a = await spawnReplica(t, t.testdir({}), 'a', redis.url, config)
  const created = await createStream(a.url, chatRequest(), auth(), '?format=content')
  t.equal(created.status, 201)
  // A reader that stays, so the watchdog finds one and keeps watching until Redis goes.
  const reading = readSse(await fetch(`${a.url}${created.json.url}`), { timeoutMs: 20_000 })
  const received = up.requests[0]!
  let upstreamClosed = false
  void received.socketClosed.then(() => { upstreamClosed = true })
  await new Promise((resolve) => setTimeout(resolve, 600))
  t.notOk(upstreamClosed, 'watched, read: the generation runs')

  await redis.stop()
  // Several watchdog rounds (detachTimeoutMs) meet an unreachable store.
  await new Promise((resolve) => setTimeout(resolve, 1500))
  t.equal(a.cli.child.exitCode, null, 'A is still running')
  t.equal((await fetch(`${a.url}/healthz`)).status, 200, 'and serving')
  await redis.restart()
  await waitFor('the generation to end once Redis is back (its lease had lapsed)', () => upstreamClosed, 10_000)
  const read = await reading
  t.match(JSON.parse(read.events.at(-1)!.data), { error: { code: 'upstream_error' } }, 'its reader: an error event, the end')
  t.equal(a.cli.child.exitCode, null, 'A never exited')
})
