import t from 'tap'
import { redisSkip, startRedis } from '../helpers/redis.js'
import { startUpstream } from '../helpers/upstream.js'
import { createStream } from '../helpers/streams.js'
import { auth, chatRequest, contentText, idsOf, openaiFrames, openStream, range, readSse, readStream, scriptAnswer, startPair, tokens, type SseRead } from '../helpers/shared-replicas.js'

// SPEC §9.1: an EventSource stream created on one replica is read on another, from its start or
// after a Last-Event-ID, in either event format, while the generation runs on the first one:
// exactly the events after the position, none lost, none twice, one upstream call.

const skip = redisSkip()

t.test('created on A, read live on B in content and openai; resumes on B with Last-Event-ID (header and ?lastEventId) get exactly the rest', { skip }, async (t) => {
  const redis = await startRedis(t)
  const up = await startUpstream(t)
  const [a, b] = await startPair(t, redis, up)
  const pieces = tokens(12)
  // Five tokens, then the upstream waits: the first reader is cut and the resumes attach while it is live.
  const hold = scriptAnswer(up, pieces, { holdAfter: 5 })

  const created = await createStream(a.url, chatRequest(), auth(), '?format=content')
  t.equal(created.status, 201, 'created on A')
  const url = created.json.url as string

  const cut = await readStream(b, url, { upTo: 3 })
  t.same(idsOf(cut.events), [1, 2, 3], 'B serves the first events; the reader hangs up after 3')
  t.equal(contentText(cut.events), pieces.slice(0, 3).join(''))

  // Readers on B attached (their headers came) while A still generates: each replays, then follows live.
  const attached = await Promise.all([
    openStream(b, `${url}?format=openai`),
    openStream(b, url, { 'last-event-id': '3' }),
    openStream(b, `${url}?format=openai&lastEventId=4`),
    openStream(b, `${url}?format=content&lastEventId=2`),
  ])
  t.same(attached.map((r) => r.status), [200, 200, 200, 200])
  t.notOk(a.logs.some((l) => l.msg === 'stream finished'), 'still generating on A when they attached')
  hold.release()
  const [openai, byHeader, byQuery, contentByQuery] = await Promise.all(attached.map((r) => readSse(r))) as [SseRead, SseRead, SseRead, SseRead]

  const frames = openaiFrames(pieces)
  t.same(openai.events.map((e) => e.data), frames, 'openai on B: every frame as the upstream sent it, then [DONE]')
  t.same(idsOf(openai.events), range(1, frames.length), 'openai ids 1..N')
  t.ok(openai.ended)

  t.same(idsOf(byHeader.events), range(4, pieces.length + 1), 'Last-Event-ID: 3 on B: the events after 3, through the stop')
  t.equal(cut.events.length + byHeader.events.length, pieces.length + 1, 'cut + resume: none lost, none twice')
  t.equal(contentText([...cut.events, ...byHeader.events]), pieces.join(''), 'the text, exactly')
  t.equal(byHeader.events.at(-1)?.event, 'stop', 'ends with the stop event')
  t.equal(byHeader.events.filter((e) => e.event === 'stop').length, 1)

  t.same(byQuery.events.map((e) => e.data), frames.slice(4), 'openai ?lastEventId=4 on B: exactly the frames after 4')
  t.same(idsOf(byQuery.events), range(5, frames.length))
  t.same(idsOf(contentByQuery.events), range(3, pieces.length + 1), 'content ?lastEventId=2 on B: the events after 2')
  t.equal(contentText(contentByQuery.events), pieces.slice(2).join(''))

  t.equal(up.requests.length, 1, 'one upstream call for every reader and resume')
  t.equal(a.logs.filter((l) => l.msg === 'stream finished').length, 1, 'the generation ran on A')
  t.equal(b.logs.filter((l) => l.msg === 'stream finished').length, 0, 'and not on B')
})
