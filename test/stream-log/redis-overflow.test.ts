import t from 'tap'
import { redisSkip, startRedis } from '../helpers/redis.js'
import { redisReplica } from '../helpers/redis-store.js'

// SPEC §6: a stream's buffer is bounded (streams.maxBufferBytes); overflow ends it with an error
// event. The producer counts a chunk's data and text and ends the stream before the bound; the
// Redis store holds the same bound itself, counted the same way, so Redis never holds more.
const skip = redisSkip()

t.test('a chunk past maxBufferBytes is not stored: the stream ends with stream_buffer_full instead', { skip }, async (t) => {
  const redis = await startRedis(t)
  const { store } = await redisReplica(t, redis.url, { maxBufferBytes: 100 })
  await store.create('s1', { ttlMs: 60_000, format: 'content' })
  // 30 + 10 bytes a chunk (data + text, UTF-8): two fit (80), the third would make 120.
  const chunk = { type: 'chunk', data: `{"c":"${'é'.repeat(11)}"}`, text: 'é'.repeat(5) } as const
  t.equal(Buffer.byteLength(chunk.data) + Buffer.byteLength(chunk.text), 40)
  await store.append('s1', chunk, { openai: 1, content: 1 })
  await store.append('s1', chunk, { openai: 2, content: 2 })
  await t.rejects(store.append('s1', chunk, { openai: 3, content: 3 }), { relayCode: 'stream_buffer_full', message: 'The stream\'s buffer of 100 bytes is full' })
  const events = await store.eventsAfter('s1', 0)
  t.strictSame(events?.map((e) => e.event.type), ['chunk', 'chunk', 'error'])
  t.strictSame(events?.[2], {
    seq: 3,
    event: { type: 'error', error: { message: 'The stream\'s buffer of 100 bytes is full', type: 'api_error', param: null, code: 'stream_buffer_full' } },
    ids: { openai: 3, content: 3 },
  })
  t.equal((await store.info('s1'))?.finished, true)
  await t.rejects(store.append('s1', chunk, { openai: 3, content: 3 }), /finished/)
})

t.test('final events do not count: the producer\'s own overflow error always lands', { skip }, async (t) => {
  const redis = await startRedis(t)
  const { store } = await redisReplica(t, redis.url, { maxBufferBytes: 100 })
  await store.create('s1', { ttlMs: 60_000, format: 'openai' })
  await store.append('s1', { type: 'chunk', data: 'x'.repeat(100), text: '' }, { openai: 1 })
  const error = { type: 'error', error: { message: 'm'.repeat(500), type: 'api_error', param: null, code: 'stream_buffer_full' } } as const
  t.equal(await store.append('s1', error, { openai: 2 }), 2)
})
