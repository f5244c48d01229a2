import t from 'tap'
import { startLimitedReplicas } from '../helpers/limits.js'
import { redisSkip } from '../helpers/redis.js'
import { chat, readAll } from '../helpers/relay.js'
import { PREFIX, firstAdmitted } from '../helpers/replicas.js'
import { sleep } from '../helpers/upstream.js'

const LEASE_MS = 1_000

t.test('stream leases are renewed while the streams run; a replica that stops renewing (it died) gives its slots back within leaseMs', { skip: redisSkip() }, async (t) => {
  const { redis, up, a, b } = await startLimitedReplicas(t, [{ name: 'two', key: 'sk-two', maxConcurrentStreams: 2 }], { leaseMs: LEASE_MS })
  const slotKey = `${PREFIX}slots:streams:key:two`

  const onA = [await chat(a, 'sk-two'), await chat(a, 'sk-two')]
  t.same(onA.map((r) => r.status), [200, 200], 'replica a holds both slots')
  // Well past one lease: only renewal keeps a's slots taken. MONITOR shows each renewal on the wire.
  const monitor = await redis.client.monitor()
  const renewals: string[][] = []
  monitor.on('monitor', (_time: string, args: string[]) => { if (/^eval/i.test(args[0] ?? '') && args.includes(slotKey)) renewals.push(args) })
  await sleep(LEASE_MS * 2.5)
  monitor.disconnect()
  t.equal((await chat(b, 'sk-two')).status, 429, 'after 2.5 leases the running streams still hold their slots')
  t.ok(renewals.length >= 2, `renewed again and again (${renewals.length} renewals)`)
  t.ok(renewals.every((args) => args.length === 7), 'each renewal is one script call carrying both of the key\'s leases (eval[sha], script, 1, key, leaseMs, id, id)')
  const [seconds, micros] = await redis.client.time()
  const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
  const expiries = (await redis.client.zrange(slotKey, 0, -1, 'WITHSCORES')).filter((_v, i) => i % 2 === 1).map(Number)
  t.equal(expiries.length, 2)
  t.ok(expiries.every((e) => e > now && e <= now + LEASE_MS), `each lease expires within one leaseMs of Redis's clock (in ${expiries.map((e) => e - now).join(', ')} ms)`)

  // Replica a "dies": its Redis connection is cut, so its renewals (and releases) never arrive.
  // Its streams are still running, as a crashed process's would be from Redis's point of view.
  a.client.disconnect()
  const { res, afterMs } = await firstAdmitted(() => chat(b, 'sk-two'), LEASE_MS + 2_000)
  t.equal(res.status, 200, `replica b admits a stream once a's leases lapsed (after ${Math.round(afterMs)} ms; bound: leaseMs ${LEASE_MS} + margin)`)
  const next = await chat(b, 'sk-two')
  t.equal(next.status, 200, 'both of the dead replica\'s slots came back')
  t.equal((await chat(b, 'sk-two')).status, 429, 'and b\'s own leases hold the key full')
  t.equal(await redis.client.zcard(slotKey), 2)

  // Every stream, the dead replica's too, runs to its end (the relays' shutdown would wait for them).
  up.finishAll()
  for (const stream of [...onA, res, next]) t.match((await readAll(stream)).text, /data: \[DONE\]\n\n$/)
})
