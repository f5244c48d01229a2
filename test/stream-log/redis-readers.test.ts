import t from 'tap'
import { redisSkip, startRedis } from '../helpers/redis.js'
import { redisReplica } from '../helpers/redis-store.js'
import { waitFor } from '../helpers/relay.js'

// 3,000 readers on one replica share its one subscribed connection: the connections Redis sees
// do not grow with readers, every reader still gets its wake-up, and nothing stays subscribed
// after they leave.
const skip = redisSkip()
const STREAMS = 300
const READERS_EACH = 10

t.test('3,000 subscribed readers: a constant number of Redis connections, each woken', { skip }, async (t) => {
  const redis = await startRedis(t)
  const { connection, store } = await redisReplica(t, redis.url)
  const clients = async () => (await redis.client.client('LIST') as string).trim().split('\n').length
  const ids = Array.from({ length: STREAMS }, (_, i) => `s${i}`)
  await Promise.all(ids.map((id) => store.create(id, { ttlMs: 60_000, format: 'openai' })))
  const before = await clients()

  const wakes = new Map<string, number>()
  const unsubscribes: Array<() => void> = []
  for (const id of ids) {
    for (let r = 0; r < READERS_EACH; r++) {
      const reader = `${id}/${r}`
      wakes.set(reader, 0)
      unsubscribes.push(store.subscribe(id, () => wakes.set(reader, (wakes.get(reader) ?? 0) + 1)))
    }
  }
  // Each reader's first call comes once its channel is confirmed: then every append reaches it.
  await waitFor('every subscription confirmed', () => [...wakes.values()].every((n) => n > 0), 20_000)
  t.equal(await clients(), before, `${STREAMS * READERS_EACH} readers, no new connection`)
  // Plus one: the replica's own cancel channel.
  t.equal(connection.channels.size, STREAMS + 1, 'one channel per stream, not per reader')

  const confirmed = new Map(wakes)
  await Promise.all(ids.map((id) => store.append(id, { type: 'chunk', data: '{}', text: '' }, { openai: 1 })))
  await waitFor('every reader woken by its stream\'s append', () => [...wakes].every(([reader, n]) => n > (confirmed.get(reader) ?? 0)), 20_000)
  t.equal(await clients(), before, 'still no new connection')

  for (const unsubscribe of unsubscribes) unsubscribe()
  t.equal(connection.channels.size, 1, 'only the cancel channel left')
  let left = -1
  for (let i = 0; i < 100 && left !== 0; i++) {
    left = (await redis.client.pubsub('CHANNELS', 'test:wake:*') as string[]).length
    if (left !== 0) await new Promise((resolve) => setTimeout(resolve, 20))
  }
  t.equal(left, 0, 'every wake-up channel unsubscribed')
})
