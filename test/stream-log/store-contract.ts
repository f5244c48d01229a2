import type { Test } from 'tap'
import type { StreamEvent } from '../../src/formats/types.js'
import { StreamExistsError, type FormatIds, type StreamStore } from '../../src/stream-log/store.js'
import { waitFor } from '../helpers/relay.js'
import { sleep } from '../helpers/upstream.js'

/** Makes a fresh, empty store for one subtest; the factory closes it at the subtest's teardown. */
export type StoreFactory = (t: Test) => Promise<StreamStore>

const chunk = (data: string, text = ''): StreamEvent => ({ type: 'chunk', data, text })
const STOP: StreamEvent = { type: 'stop', finishReason: 'stop', usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 } }
const ERROR: StreamEvent = { type: 'error', error: { message: 'boom', type: 'api_error', param: null, code: 'upstream_error' } }
/** A role-only first chunk (an `openai` frame, no `content` event), then two with text, as numbering.ts counts them. */
const IDS: FormatIds[] = [{ openai: 1, content: 0 }, { openai: 2, content: 1 }, { openai: 3, content: 2 }]
const FINAL_IDS: FormatIds = { openai: 4, content: 3 }

/**
 * What every StreamStore does (src/stream-log/store.ts), run against each implementation: the
 * memory store is the reference behaviour, the Redis store must not differ from it.
 */
export function storeContract (t: Test, factory: StoreFactory): void {
  /** A stream with the three chunks of IDS appended. */
  async function withChunks (t: Test, store: StreamStore, id: string, ttlMs = 60_000): Promise<StreamEvent[]> {
    await store.create(id, { ttlMs, format: 'content' })
    const events = [chunk('{"role":"assistant"}'), chunk('{"c":"Hé"}', 'Hé'), chunk('{"c":"\\"q\\"\\n"}', '"q"\n')]
    for (const [i, e] of events.entries()) t.equal(await store.append(id, e, IDS[i] as FormatIds), i + 1, `append ${i + 1} is number ${i + 1}`)
    return events
  }

  t.test('create answers the new stream\'s info; info says the same; a second create of the id rejects', async (t) => {
    const store = await factory(t)
    const before = Date.now()
    const created = await store.create('s1', { ttlMs: 60_000, format: 'openai' })
    const after = Date.now()
    t.ok(created.createdAt >= before && created.createdAt <= after, 'createdAt is now')
    t.strictSame(created, {
      id: 's1',
      format: 'openai',
      createdAt: created.createdAt,
      expiresAt: created.createdAt + 60_000,
      lastSeq: 0,
      lastIds: {},
      finished: false,
      delivered: false,
      readers: 0,
      readersChangedAt: created.createdAt,
    })
    t.strictSame(await store.info('s1'), created)
    t.strictSame(await store.eventsAfter('s1', 0), [], 'no events yet')
    t.equal(await store.positionAfter('s1', 'content', 5), 0)
    await t.rejects(store.create('s1', { ttlMs: 1000, format: 'content' }), StreamExistsError)
  })

  t.test('a fingerprint given at create is kept (an Idempotency-Key\'s request), and a taken id is a StreamExistsError', async (t) => {
    const store = await factory(t)
    const created = await store.create('fp1', { ttlMs: 1000, format: 'content', fingerprint: 'sha-of-the-body' })
    t.equal(created.fingerprint, 'sha-of-the-body')
    t.equal((await store.info('fp1'))?.fingerprint, 'sha-of-the-body', 'info reads it back')
    await t.rejects(store.create('fp1', { ttlMs: 1000, format: 'content', fingerprint: 'other' }), StreamExistsError)
    t.equal((await store.info('fp1'))?.fingerprint, 'sha-of-the-body', 'the first one stays')
  })

  t.test('an unknown id: info, eventsAfter, positionAfter are undefined; append rejects; the rest are no-ops that create nothing', async (t) => {
    const store = await factory(t)
    t.equal(await store.info('nope'), undefined)
    t.equal(await store.eventsAfter('nope', 0), undefined)
    t.equal(await store.positionAfter('nope', 'content', 0), undefined)
    await t.rejects(store.append('nope', chunk('{}'), { openai: 1 }), /unknown stream/)
    await store.attach('nope')
    await store.detach('nope')
    await store.markDelivered('nope')
    await store.delete('nope')
    t.equal(await store.info('nope'), undefined, 'still unknown after attach, detach, markDelivered, delete')
    t.equal(await store.eventsAfter('nope', 0), undefined)
  })

  t.test('appends are numbered 1, 2, 3; eventsAfter(n) gives exactly those above n, in order, as appended', async (t) => {
    const store = await factory(t)
    const events = await withChunks(t, store, 's1')
    const all = events.map((event, i) => ({ seq: i + 1, event, ids: IDS[i] }))
    t.strictSame(await store.eventsAfter('s1', 0), all)
    t.strictSame(await store.eventsAfter('s1', -5), all, 'a negative position reads from the start')
    t.strictSame(await store.eventsAfter('s1', 1), all.slice(1))
    t.strictSame(await store.eventsAfter('s1', 3), [])
    t.strictSame(await store.eventsAfter('s1', 99), [])
    const info = await store.info('s1')
    t.equal(info?.lastSeq, 3)
    t.strictSame(info?.lastIds, IDS[2])
    t.equal(info?.finished, false)
  })

  t.test('positionAfter maps a format\'s Last-Event-ID back to a position', async (t) => {
    const store = await factory(t)
    await withChunks(t, store, 's1')
    // content numbers 0, 1, 2: the role chunk does not show there, so "saw content 1" is after position 2.
    const cases: Array<[string, number, number]> = [
      ['content', 0, 1], ['content', 1, 2], ['content', 2, 3], ['content', 9, 3],
      ['openai', 0, 0], ['openai', 1, 1], ['openai', 2, 2], ['openai', 3, 3], ['openai', 4, 3],
      ['nosuch', 0, 3],
    ]
    for (const [format, last, want] of cases) t.equal(await store.positionAfter('s1', format, last), want, `${format} after ${last}`)
  })

  for (const [name, final] of [['a stop', STOP], ['an error', ERROR]] as const) {
    t.test(`${name} event is final: finished, its ids are the last, expiry moves to ttl after it, later appends reject`, async (t) => {
      const store = await factory(t)
      await withChunks(t, store, 's1', 1000)
      await sleep(20)
      const before = Date.now()
      t.equal(await store.append('s1', final, FINAL_IDS), 4)
      const info = await store.info('s1')
      t.equal(info?.finished, true)
      t.equal(info?.lastSeq, 4)
      t.strictSame(info?.lastIds, FINAL_IDS)
      t.ok((info?.expiresAt ?? 0) >= before + 1000, 'expires ttl after the end, not after the creation')
      t.strictSame((await store.eventsAfter('s1', 3))?.map((e) => e.event), [final], 'stored as given')
      await t.rejects(store.append('s1', chunk('{}'), { openai: 5 }), /finished/)
      await t.rejects(store.append('s1', STOP, { openai: 5 }), /finished/)
      t.equal((await store.info('s1'))?.lastSeq, 4, 'nothing more stored')
    })
  }

  t.test('subscribe: a wake-up after each append and on delete; unsubscribed, none', async (t) => {
    const store = await factory(t)
    await store.create('s1', { ttlMs: 60_000, format: 'content' })
    let calls = 0
    const unsubscribe = store.subscribe('s1', () => { calls++ })
    // What a reader does: subscribe, then read; an append from then on must wake it.
    await store.eventsAfter('s1', 0)
    const seen = calls
    await store.append('s1', chunk('{}'), { openai: 1 })
    await waitFor('the wake-up of an append', () => calls > seen, 5000)
    let other = 0
    const unsubscribeOther = store.subscribe('s1', () => { other++ })
    await store.eventsAfter('s1', 0)
    const otherSeen = other
    unsubscribe()
    await sleep(50)
    const stopped = calls
    await store.append('s1', chunk('{}'), { openai: 2 })
    await waitFor('the other subscriber\'s wake-up', () => other > otherSeen, 5000)
    await sleep(100)
    t.equal(calls, stopped, 'no wake-up after unsubscribing')
    const beforeDelete = other
    await store.delete('s1')
    await waitFor('the wake-up of a delete', () => other > beforeDelete, 5000)
    unsubscribeOther()
  })

  t.test('subscribe to an unknown stream: a wake-up comes, and the reader finds nothing', async (t) => {
    const store = await factory(t)
    let calls = 0
    const unsubscribe = store.subscribe('nope', () => { calls++ })
    await waitFor('a wake-up', () => calls > 0, 5000)
    t.equal(await store.eventsAfter('nope', 0), undefined)
    unsubscribe()
  })

  t.test('attach and detach count readers and move readersChangedAt; detach never goes below 0', async (t) => {
    const store = await factory(t)
    const created = await store.create('s1', { ttlMs: 60_000, format: 'content' })
    await sleep(5)
    await store.attach('s1')
    await store.attach('s1')
    let info = await store.info('s1')
    t.equal(info?.readers, 2)
    t.ok((info?.readersChangedAt ?? 0) > created.readersChangedAt, 'moved by attach')
    const attachedAt = info?.readersChangedAt ?? 0
    await sleep(5)
    await store.detach('s1')
    info = await store.info('s1')
    t.equal(info?.readers, 1)
    t.ok((info?.readersChangedAt ?? 0) > attachedAt, 'moved by detach')
    await store.detach('s1')
    await store.detach('s1')
    t.equal((await store.info('s1'))?.readers, 0)
  })

  t.test('markDelivered sets delivered', async (t) => {
    const store = await factory(t)
    await store.create('s1', { ttlMs: 60_000, format: 'content' })
    await store.append('s1', STOP, { openai: 1 })
    t.equal((await store.info('s1'))?.delivered, false)
    await store.markDelivered('s1')
    t.equal((await store.info('s1'))?.delivered, true)
  })

  t.test('delete removes a stream at once, its id can be created again', async (t) => {
    const store = await factory(t)
    await withChunks(t, store, 's1')
    await store.delete('s1')
    t.equal(await store.info('s1'), undefined)
    t.equal(await store.eventsAfter('s1', 0), undefined)
    t.equal(await store.positionAfter('s1', 'openai', 0), undefined)
    await t.rejects(store.append('s1', chunk('{}'), { openai: 4 }), /unknown stream/)
    await store.create('s1', { ttlMs: 60_000, format: 'openai' })
    t.strictSame(await store.eventsAfter('s1', 0), [], 'a new, empty stream')
  })

  t.test('expiry: a finished stream goes ttlMs after its end; one still generating stays past its ttl', async (t) => {
    const store = await factory(t)
    const ttlMs = 300
    await store.create('done', { ttlMs, format: 'content' })
    await store.create('running', { ttlMs, format: 'content' })
    await store.append('running', chunk('{}'), { openai: 1 })
    await sleep(150)
    // Taken before the end is stored: the store starts the ttl while the call runs (Redis inside
    // the script), so "not before ttl after its end" is measured from no later than that.
    const finishedAt = Date.now()
    await store.append('done', STOP, { openai: 1 })
    await sleep(200)
    t.ok(await store.info('done'), 'still there ttl after its creation: its end counts')
    let gone = false
    for (let i = 0; i < 100 && !gone; i++) {
      gone = (await store.info('done')) === undefined
      if (!gone) await sleep(20)
    }
    t.ok(gone, 'gone after ttl')
    t.ok(Date.now() - finishedAt >= ttlMs, 'not before ttl after its end')
    t.equal(await store.eventsAfter('done', 0), undefined)
    t.equal(await store.positionAfter('done', 'content', 0), undefined)
    t.ok(await store.info('running'), 'a stream still generating does not expire')
    t.equal((await store.eventsAfter('running', 0))?.length, 1)
  })
}
