import t from 'tap'
import { redisSkip, startRedis } from '../helpers/redis.js'
import { startUpstream } from '../helpers/upstream.js'
import type { RunningRelay } from '../helpers/relay.js'
import { OTHER_TOKEN, auth, chatRequest, contentText, idsOf, openaiFrames, range, readSse, scriptAnswer, startPair, tokens, type SseRead } from '../helpers/shared-replicas.js'

// SPEC §6 and §9.1: a streamed POST with an Idempotency-Key is kept in the shared stream log, so
// its repeat may land on any replica: the same client key, the same key and body, with
// Last-Event-ID n, gets exactly the events after n, in the format it asks for, and the upstream
// is called once. Another body under the key: 422 on either replica. Another client key with the
// same Idempotency-Key: a generation of its own.

const skip = redisSkip()
const KEY = 'order-7f3a-retry-safe'

function post (relay: RelayTarget, format: string, headers: Record<string, string> = {}, body: Record<string, unknown> = { ...chatRequest('tell me'), stream: true }): Promise<Response> {
  return fetch(`${relay.url}/v1/chat/completions?format=${format}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': KEY, ...auth(), ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  })
}
type RelayTarget = Pick<RunningRelay, 'url'>

t.test('cut on A, repeated on B with Last-Event-ID: exactly the rest in content and openai, one upstream call; 422 for another body on either; another client key: its own generation', { skip }, async (t) => {
  const redis = await startRedis(t)
  const up = await startUpstream(t)
  const [a, b] = await startPair(t, redis, up)
  const pieces = tokens(10)
  const hold = scriptAnswer(up, pieces, { holdAfter: 4 })

  const first = await post(a, 'content')
  t.equal(first.status, 200, 'the first request, on A')
  const cut = await readSse(first, { upTo: 3 })
  t.same(idsOf(cut.events), [1, 2, 3], 'the client is cut after 3 events')

  // The client retries on B (what fetch-event-source does): same key, same body, Last-Event-ID.
  const repeats = await Promise.all([
    post(b, 'content', { 'last-event-id': '3' }),
    post(b, 'openai', { 'last-event-id': '2' }),
    post(b, 'content'),
  ])
  t.same(repeats.map((r) => r.status), [200, 200, 200], 'the repeats on B attach')
  hold.release()
  const [content, openai, whole] = await Promise.all(repeats.map((r) => readSse(r))) as [SseRead, SseRead, SseRead]

  t.same(idsOf(content.events), range(4, pieces.length + 1), 'content, Last-Event-ID 3 on B: the events after 3')
  t.equal(contentText([...cut.events, ...content.events]), pieces.join(''), 'cut + repeat: the text, exactly')
  t.equal(content.events.at(-1)?.event, 'stop')
  t.same(openai.events.map((e) => e.data), openaiFrames(pieces).slice(2), 'openai, Last-Event-ID 2 on B: exactly the frames after 2')
  t.same(idsOf(openai.events), range(3, pieces.length + 3))
  t.same(idsOf(whole.events), range(1, pieces.length + 1), 'a repeat without Last-Event-ID: from the first event')
  t.equal(contentText(whole.events), pieces.join(''))
  t.equal(up.requests.length, 1, 'one upstream call for the request and its three repeats')

  for (const relay of [a, b]) {
    const other = await post(relay, 'content', {}, { ...chatRequest('something else'), stream: true })
    t.equal(other.status, 422, 'another body under the same key: 422')
    t.match(await other.json(), { error: { code: 'idempotency_key_reused', param: 'Idempotency-Key' } })
  }
  t.equal(up.requests.length, 1, 'no upstream call for them')

  // Another client key, the same Idempotency-Key and body: a new generation, with its own answer.
  const otherPieces = tokens(3, 'other')
  scriptAnswer(up, otherPieces)
  const theirs = await readSse(await post(b, 'content', auth(OTHER_TOKEN)))
  t.equal(up.requests.length, 2, 'a second upstream call')
  t.equal(contentText(theirs.events), otherPieces.join(''), 'its own text, never the first one\'s events')
  t.same(idsOf(theirs.events), range(1, otherPieces.length + 1), 'numbered from 1')
  const theirsAgain = await readSse(await post(a, 'content', { ...auth(OTHER_TOKEN), 'last-event-id': '2' }))
  t.equal(contentText(theirsAgain.events), otherPieces.slice(2).join(''), 'its repeat on A with Last-Event-ID 2: the rest of its own')
  t.equal(up.requests.length, 2, 'that repeat is kept too: no third call')
})
