import t from 'tap'
import { redisSkip, startRedis } from '../helpers/redis.js'
import { startUpstream, sleep } from '../helpers/upstream.js'
import { createStream } from '../helpers/streams.js'
import { auth, chatRequest, contentText, idsOf, openaiFrames, range, readStream, scriptAnswer, startPair, tokens } from '../helpers/shared-replicas.js'

// SPEC §6 and §9.1 after a stream's end, across replicas: once its final event was delivered
// (on whichever replica), a GET on any replica answers 204, so EventSource stops reconnecting; a
// Last-Event-ID still replays the rest there; streams.ttlMs after the end it is gone (404) on all.

const skip = redisSkip()
const TTL_MS = 2000

t.test('delivered on B: 204 on both; Last-Event-ID replays the rest on B; 404 on both once streams.ttlMs has passed', { skip }, async (t) => {
  const redis = await startRedis(t)
  const up = await startUpstream(t)
  const [a, b] = await startPair(t, redis, up, { streams: { ttlMs: TTL_MS } })
  const pieces = tokens(6)
  scriptAnswer(up, pieces)
  const created = await createStream(a.url, chatRequest(), auth(), '?format=content')
  const url = created.json.url as string

  const whole = await readStream(b, url)
  const endedAt = Date.now()
  t.same(idsOf(whole.events), range(1, pieces.length + 1), 'read whole on B')
  t.equal(contentText(whole.events), pieces.join(''))
  t.equal(whole.events.at(-1)?.event, 'stop')

  // The final event went out on B: from now on a plain GET, on either replica, is a 204.
  const statuses = async (): Promise<number[]> => [(await readStream(a, url)).status, (await readStream(b, url)).status]
  for (let i = 0; i < 100 && (await statuses()).some((s) => s !== 204); i++) await sleep(20)
  t.same(await statuses(), [204, 204], 'delivered: 204 on A and on B')

  const rest = await readStream(b, url, { headers: { 'last-event-id': '4' } })
  t.same(idsOf(rest.events), range(5, pieces.length + 1), 'Last-Event-ID: 4 on B: the rest')
  t.equal(contentText(rest.events), pieces.slice(4).join(''))
  const openai = await readStream(a, `${url}?format=openai&lastEventId=0`)
  t.same(openai.events.map((e) => e.data), openaiFrames(pieces), 'all of it in openai on A, after the end')
  t.equal(up.requests.length, 1, 'replays never call the upstream')

  // Expiry: bounded poll until both answer 404; never before ttlMs after the end.
  let goneAt: number | undefined
  const before = new Set<string>()
  for (let waited = 0; waited < TTL_MS + 5000; waited += 50) {
    const now = await statuses()
    if (now.every((s) => s === 404)) { goneAt = Date.now(); break }
    before.add(now.join(','))
    await sleep(50)
  }
  // (One poll may fall on the expiry itself: A still answers 204, B already 404.)
  t.ok([...before].every((s) => /^204,(204|404)$/.test(s)), `until then: 204 (${[...before].join(' ')})`)
  t.ok(goneAt !== undefined, '404 on A and on B after the ttl')
  t.ok(goneAt !== undefined && goneAt - endedAt >= TTL_MS - 250, `gone ${goneAt! - endedAt} ms after the end (ttl ${TTL_MS} ms)`)
  const gone = await fetch(`${b.url}${url}`, { headers: { 'last-event-id': '1' } })
  t.equal(gone.status, 404, 'a resume after the ttl: 404')
  t.match(await gone.json(), { error: { code: 'not_found' } })
})
