import t from 'tap'
import { redisSkip, startRedis } from '../helpers/redis.js'
import { startUpstream } from '../helpers/upstream.js'
import { createStream } from '../helpers/streams.js'
import { startRelay, waitFor } from '../helpers/relay.js'
import { samplesOf, scrape, scrapeUntil, valueOf, type Sample } from '../helpers/prometheus.js'
import { auth, contentText, chatRequest, readSse, readStream, redisUp, scriptAnswer, startPair, tokens } from '../helpers/shared-replicas.js'

// SPEC §8 and §9.1: a Redis-backed replica says on /metrics whether it reaches Redis
// (llm_relay_redis_up), how long its Redis operations take (llm_relay_redis_command_seconds, by
// operation and result) and how many kept generations it is producing (llm_relay_stream_logs_open:
// this replica's own, not the deployment's).

const skip = redisSkip()

const count = (samples: Sample[], operation: string, result: string): number =>
  valueOf(samples, 'llm_relay_redis_command_seconds_count', { operation, result }) ?? 0

t.test('redis_up 1, 0 while Redis is stopped, 1 again; redis_command_seconds by operation and result; stream_logs_open counts the producing replica\'s generations', { skip }, async (t) => {
  const redis = await startRedis(t)
  const up = await startUpstream(t)
  const [a, b] = await startPair(t, redis, up)
  const pieces = tokens(6)
  const hold = scriptAnswer(up, pieces, { holdAfter: 2 })

  let [onA, onB] = await Promise.all([scrape(a.url), scrape(b.url)])
  t.equal(valueOf(onA, 'llm_relay_redis_up'), 1, 'A: redis_up 1')
  t.equal(valueOf(onB, 'llm_relay_redis_up'), 1, 'B: redis_up 1')
  t.equal(valueOf(onA, 'llm_relay_stream_logs_open'), 0)

  const created = await createStream(a.url, chatRequest(), auth(), '?format=content')
  const reading = readSse(await fetch(`${b.url}${created.json.url}`))
  // The appends and B's reads follow the 201 and the reader's headers: wait for them to be counted (bounded).
  onA = await scrapeUntil(a.url, (s) => count(s, 'append', 'ok') >= 1)
  onB = await scrapeUntil(b.url, (s) => count(s, 'eventsAfter', 'ok') >= 1)
  t.equal(valueOf(onA, 'llm_relay_stream_logs_open'), 1, 'A produces one generation')
  t.equal(valueOf(onB, 'llm_relay_stream_logs_open'), 0, 'B produces none (it only reads)')
  t.ok(count(onA, 'create', 'ok') >= 1, 'A timed its create')
  t.ok(count(onA, 'append', 'ok') >= 1, 'and its appends')
  t.ok(count(onB, 'eventsAfter', 'ok') >= 1, 'B timed its reads')
  t.equal(count(onB, 'create', 'ok'), 0, 'B created nothing')
  const buckets = samplesOf(onA, 'llm_relay_redis_command_seconds_bucket', { operation: 'create', result: 'ok' })
  t.ok(buckets.length > 5 && buckets.at(-1)?.labels.le === '+Inf', 'a histogram with buckets')

  hold.release()
  t.equal(contentText((await reading).events), pieces.join(''))
  await waitFor('A\'s generation to be counted closed', () => a.logs.some((l) => l.msg === 'stream finished'))
  t.equal(valueOf(await scrape(a.url), 'llm_relay_stream_logs_open'), 0, 'the generation ended: 0')

  await redis.stop()
  await waitFor('both replicas to see Redis gone', () => !redisUp(a) && !redisUp(b))
  ;[onA, onB] = await Promise.all([scrape(a.url), scrape(b.url)])
  t.equal(valueOf(onA, 'llm_relay_redis_up'), 0, 'A: redis_up 0 while stopped')
  t.equal(valueOf(onB, 'llm_relay_redis_up'), 0, 'B: redis_up 0 while stopped')
  const errorsBefore = count(onB, 'info', 'error')
  t.equal((await readStream(b, created.json.url)).status, 503, 'a read that needs Redis fails')
  t.equal(count(await scrape(b.url), 'info', 'error'), errorsBefore + 1, 'and is counted with result="error"')

  await redis.restart()
  await waitFor('both replicas to find Redis again', () => redisUp(a) && redisUp(b), 15_000)
  t.equal(valueOf(await scrape(a.url), 'llm_relay_redis_up'), 1, 'A: redis_up 1 again')
  t.equal(valueOf(await scrape(b.url), 'llm_relay_redis_up'), 1, 'B: redis_up 1 again')
})

t.test('a relay without Redis has no redis_up gauge', async (t) => {
  const relay = await startRelay(t)
  t.same(samplesOf(await scrape(relay.url), 'llm_relay_redis_up'), [], 'in memory: nothing to report')
})
