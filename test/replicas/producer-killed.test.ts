import t from 'tap'
import { redisSkip, startRedis } from '../helpers/redis.js'
import { startUpstream } from '../helpers/upstream.js'
import { createStream } from '../helpers/streams.js'
import { waitFor } from '../helpers/relay.js'
import { firstAdmitted } from '../helpers/replicas.js'
import { scriptEndless } from '../helpers/clients.js'
import { KEYS, auth, chatRequest, idsOf, openStream, range, readSse, spawnReplica, startSharedReplicas } from '../helpers/shared-replicas.js'

// SPEC §9.1: a producing replica that dies loses its lease; within streams.leaseMs every reader
// of its streams, on any replica, gets one error event (`upstream_error`, "the producing instance
// was lost") and the end. Never a stop, never a hang. The producer here is the real process,
// killed with SIGKILL: no shutdown hook runs, its lease is not given back, it has to lapse.

const skip = redisSkip()
const LEASE_MS = 1000
/** What the lease allows (leaseMs) plus a round trip and a loaded machine's scheduling. */
const MARGIN_MS = 1000

t.test('replica A (a CLI process) killed with SIGKILL mid-stream: readers on B get one upstream_error event and the end within leaseMs', { skip }, async (t) => {
  const redis = await startRedis(t)
  const up = await startUpstream(t)
  const endless = scriptEndless(up, { gapMs: 20, max: 5000 })
  // One stream at a time for the key, across the deployment: the dead replica's slot must come back too.
  const config = { keys: KEYS.map((k) => ({ ...k, maxConcurrentStreams: 1 })), upstreams: [{ name: 'up', baseUrl: up.baseUrl }], streams: { leaseMs: LEASE_MS } }
  const a = await spawnReplica(t, t.testdir({}), 'a', redis.url, config)
  const [b] = await startSharedReplicas(t, redis, config)
  if (!b) throw new Error('replica b')

  const created = await createStream(a.url, chatRequest(), auth(), '?format=content')
  t.equal(created.status, 201, 'created on A (the CLI process)')
  const url = created.json.url as string
  const [content, openai] = await Promise.all([openStream(b, url), openStream(b, `${url}?format=openai`)])
  const reads = Promise.all([readSse(content, { timeoutMs: 15_000 }), readSse(openai, { timeoutMs: 15_000 })])
  await waitFor('a few tokens', () => endless.sent >= 5)

  const refused = await createStream(b.url, chatRequest(), auth(), '?format=content')
  t.equal(refused.status, 429, 'B: the key\'s one stream slot is held by A\'s generation')

  a.cli.child.kill('SIGKILL')
  const killedAt = performance.now()
  t.equal(await a.cli.exited, 'SIGKILL', 'A is dead')
  const [c, o] = await reads
  const endedAfter = performance.now() - killedAt
  t.ok(endedAfter <= LEASE_MS + MARGIN_MS, `the readers on B ended ${Math.round(endedAfter)} ms after the kill (leaseMs ${LEASE_MS})`)

  t.ok(c.ended && o.ended, 'both responses ended (no hang)')
  t.same(idsOf(c.events), range(1, c.events.length), 'content: ids without a gap')
  t.same(idsOf(o.events), range(1, o.events.length), 'openai: ids without a gap')
  const lost = { error: { code: 'upstream_error', type: 'api_error', message: /instance producing this stream was lost/ } }
  t.same(c.events.filter((e) => e.event === 'error').length, 1, 'content: one error event')
  t.equal(c.events.at(-1)?.event, 'error', 'content: as the last event')
  t.match(JSON.parse(c.events.at(-1)!.data), lost)
  t.notOk(c.events.some((e) => e.event === 'stop'), 'content: never a stop')
  t.equal(o.events.filter((e) => e.data.startsWith('{"error"')).length, 1, 'openai: one error frame')
  t.match(JSON.parse(o.events.at(-1)!.data), lost, 'openai: as the last frame')
  t.notOk(o.events.some((e) => e.data === '[DONE]'), 'openai: never [DONE]')
  t.ok(c.events.length >= 5, 'the tokens before the death were delivered')

  // The end is stored: a reader that comes later, on B, gets the same end at once.
  const later = await readSse(await openStream(b, url, { 'last-event-id': String(c.events.length - 1) }), { timeoutMs: 2000 })
  t.same(later.events, [c.events.at(-1)], 'a later resume on B: the one error event, then the end')
  t.equal(up.requests.length, 1, 'nobody restarted the generation')

  // The dead replica's slot lapses with its lease: B admits the key's next stream.
  const { res: admitted, afterMs } = await firstAdmitted(() => fetch(`${b.url}/v1/streams`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth() }, body: JSON.stringify(chatRequest()) }), LEASE_MS + MARGIN_MS)
  t.equal(admitted.status, 201, `B admits a new stream of the key ${Math.round(afterMs + endedAfter)} ms after the kill`)
  await admitted.text()
})
