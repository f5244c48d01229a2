import t from 'tap'
import { redisSkip, startRedis } from '../helpers/redis.js'
import { startUpstream } from '../helpers/upstream.js'
import { readAll, waitFor, type RunningRelay } from '../helpers/relay.js'
import { createStream, parseEvents } from '../helpers/streams.js'
import { auth, chatRequest, contentText, idsOf, range, readStream, redisUp, scriptAnswer, startPair, tokens } from '../helpers/shared-replicas.js'

// SPEC §9.1, Redis lost and back while two replicas run: /readyz 503 on both meanwhile (a load
// balancer prefers replicas that see Redis); what needs the shared log (POST /v1/streams, reading
// a stream, Idempotency-Key requests) answers 503 `unavailable` with Retry-After; a plain streamed
// chat works. Once Redis is back, everything works again without a restart. One warning line per
// replica when it is lost, one when it is back.

const skip = redisSkip()
const LOST = /^Redis is unreachable/
const BACK = /^Redis is reachable again/

const warnings = (relay: RunningRelay, msg: RegExp) => relay.logs.filter((l) => typeof l.msg === 'string' && msg.test(l.msg))

/** POST /v1/streams, and the EventSource read of it on the other replica: the text it got. */
async function eventSourceFlow (from: RunningRelay, to: RunningRelay): Promise<{ status: number, text: string, ids: number[] }> {
  const created = await createStream(from.url, chatRequest(), auth(), '?format=content')
  if (created.status !== 201) return { status: created.status, text: '', ids: [] }
  const read = await readStream(to, created.json.url)
  return { status: created.status, text: contentText(read.events), ids: idsOf(read.events) }
}

t.test('Redis stopped: readyz 503, shared work 503 with Retry-After, plain streams served; restarted: all of it works again, no relay restart; one "lost" and one "back" line per replica', { skip }, async (t) => {
  const redis = await startRedis(t)
  const up = await startUpstream(t)
  const [a, b] = await startPair(t, redis, up)
  const pieces = tokens(5)
  scriptAnswer(up, pieces)
  const ok = { status: 201, text: pieces.join(''), ids: range(1, pieces.length + 1) }
  t.same(await eventSourceFlow(a, b), ok, 'before: the EventSource flow across replicas')
  const before = await createStream(a.url, chatRequest(), auth(), '?format=content')

  await redis.stop()
  await waitFor('both replicas to see Redis gone', () => !redisUp(a) && !redisUp(b))

  for (const [name, relay] of [['A', a], ['B', b]] as const) {
    const ready = await fetch(`${relay.url}/readyz`)
    t.equal(ready.status, 503, `${name}: /readyz 503`)
    t.same(await ready.json(), { status: 'redis_unreachable' })

    const post = await fetch(`${relay.url}/v1/streams`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth() }, body: JSON.stringify(chatRequest()) })
    t.equal(post.status, 503, `${name}: POST /v1/streams 503`)
    t.ok(Number(post.headers.get('retry-after')) >= 1, `${name}: with Retry-After`)
    t.match(await post.json(), { error: { code: 'unavailable', type: 'api_error' } })

    const kept = await fetch(`${relay.url}/v1/chat/completions?format=content`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': `k-${name}`, ...auth() },
      body: JSON.stringify({ ...chatRequest(), stream: true }),
    })
    t.equal(kept.status, 503, `${name}: an Idempotency-Key POST 503`)
    t.ok(kept.headers.get('retry-after'), `${name}: with Retry-After`)
    t.match(await kept.json(), { error: { code: 'unavailable' } })

    const read = await fetch(`${relay.url}${before.json.url}`)
    t.equal(read.status, 503, `${name}: reading a kept stream 503`)
    t.ok(read.headers.get('retry-after'))
    await read.text()

    const plain = await fetch(`${relay.url}/v1/chat/completions?format=content`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth() },
      body: JSON.stringify({ ...chatRequest(), stream: true }),
    })
    t.equal(plain.status, 200, `${name}: a plain streamed chat is served`)
    t.equal(contentText(parseEvents((await readAll(plain)).text)), pieces.join(''), `${name}: its text, exactly`)
  }
  const callsWhileDown = up.requests.length

  await redis.restart()
  await waitFor('both replicas to find Redis again', () => redisUp(a) && redisUp(b), 15_000)
  for (const relay of [a, b]) t.equal((await fetch(`${relay.url}/readyz`)).status, 200, '/readyz 200 again')
  t.same(await eventSourceFlow(b, a), ok, 'after: the EventSource flow, B to A')
  t.same(await eventSourceFlow(a, b), ok, 'and A to B')
  t.equal(up.requests.length, callsWhileDown + 2, 'each flow one upstream call')

  for (const [name, relay] of [['A', a], ['B', b]] as const) {
    t.equal(warnings(relay, LOST).length, 1, `${name}: one "lost" line`)
    t.equal(warnings(relay, BACK).length, 1, `${name}: one "back" line`)
    t.match(warnings(relay, LOST)[0], { level: 40, redis: `redis://127.0.0.1:${redis.port}/0` }, 'a warning that names the server')
  }
})
