import t from 'tap'
import { EventSource, type FetchLike } from 'eventsource'
import { redisSkip, startRedis } from '../helpers/redis.js'
import { startUpstream } from '../helpers/upstream.js'
import { createStream } from '../helpers/streams.js'
import { waitFor } from '../helpers/relay.js'
import { scrape, valueOf } from '../helpers/prometheus.js'
import { nginxSkip, startNginx } from '../helpers/nginx.js'
import { KEYS, auth, chatRequest, scriptAnswer, spawnReplica, tokens, type CliReplica } from '../helpers/shared-replicas.js'

// The deployment of examples/replicas/ for real: nginx running that very nginx.conf (only its
// placeholders filled) in front of two llm-relay processes that share one Redis, and a real
// EventSource (the `eventsource` package) talking to nginx only. Its connection is cut by the
// replica that serves it dying; it reconnects through nginx, which hands it to the other replica,
// with Last-Event-ID: the text is exact and complete, and the upstream was called once.

const skip = redisSkip() || nginxSkip()

/** Readers this replica attached so far (its Redis `attach` operations): tells which replica serves a GET that came through nginx. */
async function attaches (replica: CliReplica): Promise<number> {
  return valueOf(await scrape(replica.url), 'llm_relay_redis_command_seconds_count', { operation: 'attach', result: 'ok' }) ?? 0
}

interface Seen { type: string, id: string, data: string }

t.test('EventSource through nginx: the replica serving it dies; it reconnects through nginx to the other with Last-Event-ID; exact, complete text; one upstream call', { skip }, async (t) => {
  const dir = t.testdir({})
  const redis = await startRedis(t)
  const up = await startUpstream(t)
  const config = { keys: KEYS, upstreams: [{ name: 'up', baseUrl: up.baseUrl }] }
  const replicas = [await spawnReplica(t, dir, 'relay-1', redis.url, config), await spawnReplica(t, dir, 'relay-2', redis.url, config)]
  const nginx = await startNginx(t, dir, replicas.map((r) => `127.0.0.1:${r.port}`))
  const pieces = tokens(12)
  const HELD = 4
  const hold = scriptAnswer(up, pieces, { holdAfter: HELD })

  // The POST through nginx; the replica it landed on produces the stream and stays up.
  const created = await createStream(nginx.url, chatRequest(), auth(), '?format=content')
  t.equal(created.status, 201, 'POST /v1/streams through nginx')
  const producing = await Promise.all(replicas.map(async (r) => valueOf(await scrape(r.url), 'llm_relay_stream_logs_open')))
  t.same([...producing].sort(), [0, 1], 'one replica produces it')
  const producer = replicas[producing.indexOf(1)]!
  const other = replicas[producing.indexOf(0)]!

  // Open the EventSource through nginx until nginx hands it to the replica that does not produce
  // (round robin: the first or the second try). Each try is a new EventSource from the start.
  const lastEventIds: Array<string | null> = []
  const recording: FetchLike = (url, init) => {
    lastEventIds.push(init.headers['Last-Event-ID'] ?? null)
    return fetch(url, init)
  }
  let es: EventSource | undefined
  let seen: Seen[] = []
  for (let attempt = 0; attempt < 10 && es === undefined; attempt++) {
    const before = await Promise.all(replicas.map(attaches))
    lastEventIds.length = 0
    const source = new EventSource(`${nginx.url}${created.json.url}`, { fetch: recording })
    const events: Seen[] = []
    for (const type of ['message', 'stop', 'error']) {
      source.addEventListener(type, (e) => { if (e instanceof MessageEvent) events.push({ type, id: e.lastEventId, data: String(e.data) }) })
    }
    let after = before
    for (let i = 0; i < 200 && after.every((n, j) => n === before[j]); i++) {
      await new Promise((resolve) => setTimeout(resolve, 25))
      after = await Promise.all(replicas.map(attaches))
    }
    const serving = replicas[after.findIndex((n, j) => n !== before[j])]
    if (serving === other) { es = source; seen = events } else source.close()
  }
  if (!es) throw new Error('nginx never sent the EventSource to the non-producing replica')
  t.teardown(() => es.close())
  await waitFor('the events before the hold', () => seen.length >= HELD)
  t.same(seen.map((e) => e.id), ['1', '2', '3', '4'], 'the first events, from the replica that is about to die')

  const attachesOnProducer = await attaches(producer)
  other.cli.child.kill('SIGKILL')
  t.equal(await other.cli.exited, 'SIGKILL', 'the serving replica is dead')
  await waitFor('the reconnect through nginx', () => lastEventIds.length >= 2, 15_000)
  t.equal(lastEventIds[1], String(HELD), 'it reconnected with Last-Event-ID of its last event')
  hold.release()
  await waitFor('the stop event', () => seen.some((e) => e.type === 'stop'), 15_000)
  // The stop was the final event: the next reconnect gets 204 and the EventSource stops for good.
  await waitFor('the EventSource to give up after 204', () => es.readyState === EventSource.CLOSED, 15_000)

  t.equal(seen.filter((e) => e.type === 'message').map((e) => JSON.parse(e.data).content).join(''), pieces.join(''), 'exactly the text')
  t.same(seen.map((e) => e.id), Array.from({ length: pieces.length + 1 }, (_v, i) => String(i + 1)), 'ids 1..N: none lost, none twice')
  t.same(seen.map((e) => e.type), [...pieces.map(() => 'message'), 'stop'], 'every token, then the stop, no error')
  t.same(lastEventIds, [null, String(HELD), String(pieces.length + 1)], 'from the start, then after the cut, then once more after the end')
  t.ok(await attaches(producer) > attachesOnProducer, 'the reconnect was served by the surviving replica')
  t.equal(up.requests.length, 1, 'one upstream call')
  t.notMatch(nginx.errorLog(), /\[(emerg|alert|crit)\]/, 'nginx had nothing worse than the dead replica to report')
})
