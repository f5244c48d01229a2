import t from 'tap'
import { rateLimited, startLimitedReplicas } from '../helpers/limits.js'
import { redisSkip } from '../helpers/redis.js'
import { chat, readAll } from '../helpers/relay.js'
import { PREFIX, firstAdmitted, until } from '../helpers/replicas.js'

t.test('maxConcurrentStreams per key is shared by the replicas: a 3rd stream on the other replica gets 429; once one ends, it is admitted', { skip: redisSkip() }, async (t) => {
  const { redis, up, a, b } = await startLimitedReplicas(t, [{ name: 'two', key: 'sk-two', maxConcurrentStreams: 2 }])
  const slotKey = `${PREFIX}slots:streams:key:two`

  const first = await chat(a, 'sk-two')
  const second = await chat(a, 'sk-two')
  t.same([first.status, second.status], [200, 200], 'two streams on replica a')
  t.equal(await redis.client.zcard(slotKey), 2, 'held as two leases in Redis')

  const third = await chat(b, 'sk-two')
  t.equal(third.status, 429, 'replica b knows the key is full')
  t.equal(third.headers.get('retry-after'), '2')
  t.same(await third.json(), rateLimited('This API key already has 2 streams open, its limit; retry when one has finished'))
  t.same(b.summaries().map((l) => [l.status, l.outcome]), [[429, 'rejected']])
  t.equal(up.requests.length, 2, 'the refused stream never reached the upstream')
  // A plain request takes no stream slot, on any replica.
  const plain = await chat(b, 'sk-two', { stream: false })
  t.equal(plain.status, 200)
  await plain.text()

  // One stream on a ends: its lease is given back, and b admits the next one.
  up.finishOldest()
  t.match((await readAll(first)).text, /data: \[DONE\]\n\n$/)
  const { res: again } = await firstAdmitted(() => chat(b, 'sk-two'), 5_000)
  t.equal(again.status, 200, 'replica b admits a stream once one has ended on a')
  t.equal(await redis.client.zcard(slotKey), 2)
  t.equal((await chat(a, 'sk-two')).status, 429, 'and the key is full again, seen from a')

  up.finishOldest()
  up.finishOldest()
  await Promise.all([readAll(second), readAll(again)])
  t.ok(await until(async () => await redis.client.exists(slotKey) === 0, 2_000), 'no lease is left once every stream has ended')
})
