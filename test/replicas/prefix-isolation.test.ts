import t from 'tap'
import { redisSkip, startRedis } from '../helpers/redis.js'
import { startUpstream } from '../helpers/upstream.js'
import { createStream } from '../helpers/streams.js'
import { KEYS, auth, chatRequest, contentText, readSse, readStream, scriptAnswer, startSharedReplicas, tokens } from '../helpers/shared-replicas.js'

// SPEC §9.1: everything lives under `redis.prefix`, so two deployments (or an app beside the
// relay) share one Redis without seeing each other: a stream of one is unknown to the other (404,
// GET and DELETE), and the same client key with the same Idempotency-Key is two generations.

const skip = redisSkip()

t.test('two relays on one Redis with different prefixes: neither sees the other\'s streams or Idempotency-Key generations', { skip }, async (t) => {
  const redis = await startRedis(t)
  const up = await startUpstream(t)
  const pieces = tokens(4)
  scriptAnswer(up, pieces)
  const config = { keys: KEYS, upstreams: [{ name: 'up', baseUrl: up.baseUrl }] }
  const [blue] = await startSharedReplicas(t, redis, config, { count: 1, prefix: 'blue:' })
  const [green] = await startSharedReplicas(t, redis, config, { count: 1, prefix: 'green:' })
  if (!blue || !green) throw new Error('two relays')

  for (const [owner, stranger] of [[blue, green], [green, blue]] as const) {
    const created = await createStream(owner.url, chatRequest(), auth(), '?format=content')
    t.equal(created.status, 201)
    const url = created.json.url as string
    t.equal(contentText((await readStream(owner, url, { headers: { 'last-event-id': '0' } })).events), pieces.join(''), 'its own relay reads it')
    const get = await fetch(`${stranger.url}${url}`)
    t.equal(get.status, 404, 'the other prefix: GET 404')
    t.match(await get.json(), { error: { code: 'not_found' } })
    t.equal((await fetch(`${stranger.url}${url}`, { method: 'DELETE' })).status, 404, 'the other prefix: DELETE 404')
    t.equal((await readStream(owner, url, { headers: { 'last-event-id': '0' } })).events.length, pieces.length + 1, 'untouched by it')
  }

  const kept = (relay: typeof blue) => fetch(`${relay.url}/v1/chat/completions?format=content`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': 'same-key', ...auth() },
    body: JSON.stringify({ ...chatRequest(), stream: true }),
  })
  const callsBefore = up.requests.length
  t.equal(contentText((await readSse(await kept(blue))).events), pieces.join(''))
  t.equal(contentText((await readSse(await kept(green))).events), pieces.join(''))
  t.equal(up.requests.length, callsBefore + 2, 'one generation per prefix')
  const keys = (await redis.client.keys('*')).filter((k) => k.includes('stream:'))
  t.ok(keys.length > 0 && keys.every((k) => k.startsWith('blue:') || k.startsWith('green:')), 'every stream key under a prefix')
})
