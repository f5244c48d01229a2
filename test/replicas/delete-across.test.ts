import t from 'tap'
import { redisSkip, startRedis } from '../helpers/redis.js'
import { startUpstream } from '../helpers/upstream.js'
import { createStream } from '../helpers/streams.js'
import { waitFor } from '../helpers/relay.js'
import { scriptEndless, upstreamClosedAfter } from '../helpers/clients.js'
import { auth, chatRequest, idsOf, openStream, range, readSse, startPair } from '../helpers/shared-replicas.js'

// SPEC §9.1: DELETE /v1/streams/:id on any replica stops the generation where it runs: the
// producing replica aborts the upstream within 1 s, and every reader, on either replica, gets one
// error event and the end; never a stop, never [DONE].

const skip = redisSkip()

t.test('DELETE on B of a stream produced by A: A aborts the upstream within 1 s; readers on A and B get one error event, no stop', { skip }, async (t) => {
  const redis = await startRedis(t)
  const up = await startUpstream(t)
  const [a, b] = await startPair(t, redis, up)
  const endless = scriptEndless(up, { gapMs: 20 })
  const created = await createStream(a.url, chatRequest(), auth(), '?format=content')
  t.equal(created.status, 201)
  const url = created.json.url as string
  const [onA, onB] = await Promise.all([openStream(a, url), openStream(b, `${url}?format=openai`)])
  const readers = Promise.all([readSse(onA), readSse(onB)])
  await waitFor('a few tokens', () => endless.sent >= 5)

  const received = up.requests[0]!
  let deleted = 0
  const closedAfter = await upstreamClosedAfter(received, async () => {
    const res = await fetch(`${b.url}${url}`, { method: 'DELETE' })
    deleted = res.status
  })
  t.equal(deleted, 204, 'DELETE on B: 204')
  t.ok(closedAfter < 1000, `the upstream socket closed ${Math.round(closedAfter)} ms after the DELETE`)

  const [content, openai] = await readers
  for (const [name, read] of [['content on A', content], ['openai on B', openai]] as const) {
    t.ok(read.ended, `${name}: the response ended`)
    t.same(idsOf(read.events), range(1, read.events.length), `${name}: ids without a gap`)
  }
  const contentErrors = content.events.filter((e) => e.event === 'error')
  t.equal(contentErrors.length, 1, 'content: one error event')
  t.equal(content.events.at(-1)?.event, 'error', 'content: the error is the last event')
  t.match(JSON.parse(contentErrors[0]!.data), { error: { code: 'stream_cancelled', message: 'The stream was cancelled' } })
  t.notOk(content.events.some((e) => e.event === 'stop'), 'content: no stop')
  const openaiErrors = openai.events.filter((e) => e.data.startsWith('{"error"'))
  t.equal(openaiErrors.length, 1, 'openai: one error frame')
  t.equal(openai.events.at(-1), openaiErrors[0], 'openai: the error is the last frame')
  t.match(JSON.parse(openaiErrors[0]!.data), { error: { code: 'stream_cancelled' } })
  t.notOk(openai.events.some((e) => e.data === '[DONE]'), 'openai: no [DONE]')
  t.ok(content.events.length >= 5, 'the readers had the tokens before the cancel')

  const finished = a.logs.find((l) => l.msg === 'stream finished')
  t.match(finished, { outcome: 'client_aborted' }, 'A logs its generation as cancelled')
  t.equal(up.requests.length, 1)
  t.equal((await fetch(`${a.url}${url}`, { method: 'DELETE' })).status, 204, 'a second DELETE (on A, finished stream): 204 too')
})
