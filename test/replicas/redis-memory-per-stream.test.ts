import t from 'tap'
import { redisSkip, startRedis } from '../helpers/redis.js'
import { startUpstream, chatChunk, SSE_HEADERS } from '../helpers/upstream.js'
import { createStream } from '../helpers/streams.js'
import { roleChunk } from '../helpers/clients.js'
import { SHARED_PREFIX, auth, chatRequest, startPair } from '../helpers/shared-replicas.js'

// How big Redis must be (README, "Running several replicas"): INFO memory's used_memory with
// STREAMS open streams of a typical answer (TOKENS chunks of OpenAI's shape), less the idle
// baseline, per stream; and MEMORY USAGE of one stream's two keys. The figure is printed (a
// comment) and bounded, so a change that makes a stream much bigger in Redis fails here.

const skip = redisSkip()
const STREAMS = 100
const TOKENS = 250
/** What the layout costs today is ~1.4x the raw chunk JSON (measured: 83.8 KB for 60.8 KB); a regression to 2x fails. */
const MAX_OVERHEAD = 2

async function usedMemory (client: import('ioredis').Redis): Promise<number> {
  const info = await client.info('memory')
  return Number(/^used_memory:(\d+)/m.exec(info)![1])
}

t.test(`Redis memory per open stream: ${STREAMS} streams of ${TOKENS} chunks`, { skip, timeout: 120_000 }, async (t) => {
  const redis = await startRedis(t)
  const up = await startUpstream(t)
  const pieces = Array.from({ length: TOKENS }, (_, i) => i % 10 === 0 ? ' the' : ` word${i}`)
  const frames = [roleChunk(), ...pieces.map((p) => chatChunk(p, { id: 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT' }))]
  const rawBytes = frames.reduce((n, f) => n + Buffer.byteLength(f), 0)
  let release!: () => void
  const released = new Promise<void>((resolve) => { release = resolve })
  up.handler = async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    res.write(frames.map((f) => `data: ${f}\n\n`).join(''))
    await released
    res.end(`data: ${chatChunk(null, { finish: 'stop' })}\n\ndata: [DONE]\n\n`)
  }
  const [a] = await startPair(t, redis, up, { streams: { detachTimeoutMs: 120_000 } })
  await redis.client.call('MEMORY', 'PURGE')
  const baseline = await usedMemory(redis.client)

  const ids: string[] = []
  for (let i = 0; i < STREAMS; i++) ids.push((await createStream(a!.url, chatRequest(), auth())).json.id)
  // Every stream holds its TOKENS + 1 events (bounded wait).
  const stored = async () => Promise.all(ids.map(async (id) => Number(await redis.client.hget(`${SHARED_PREFIX}stream:{${id}}`, 'seq'))))
  for (let i = 0; i < 600 && (await stored()).some((n) => n < frames.length); i++) await new Promise((resolve) => setTimeout(resolve, 50))
  t.same(new Set(await stored()), new Set([frames.length]), `every stream holds its ${frames.length} events`)

  const open = await usedMemory(redis.client)
  const perStream = (open - baseline) / STREAMS
  const keys = [`${SHARED_PREFIX}stream:{${ids[0]}}`, `${SHARED_PREFIX}stream:{${ids[0]}}:events`]
  const usage = await Promise.all(keys.map(async (k) => Number(await redis.client.call('MEMORY', 'USAGE', k, 'SAMPLES', '0'))))
  const keysOfOne = usage.reduce((n, u) => n + u, 0)
  t.comment(`used_memory: ${baseline} B idle, ${open} B with ${STREAMS} open streams: ${Math.round(perStream)} B per stream (${(perStream / 1024).toFixed(1)} KiB)`)
  t.comment(`MEMORY USAGE of one stream: info hash ${usage[0]} B + events ${usage[1]} B = ${keysOfOne} B; its ${frames.length} chunks' JSON: ${rawBytes} B (x${(keysOfOne / rawBytes).toFixed(2)})`)
  t.ok(perStream < rawBytes * MAX_OVERHEAD, `per stream (${Math.round(perStream)} B) under ${MAX_OVERHEAD}x its chunks' JSON (${rawBytes} B)`)
  t.ok(keysOfOne < rawBytes * MAX_OVERHEAD, 'and so are one stream\'s keys')

  release()
  for (let i = 0; i < 600 && (await stored()).some((n) => n < frames.length + 1); i++) await new Promise((resolve) => setTimeout(resolve, 50))
  t.comment(`finished (kept for streams.ttlMs): ${Math.round(((await usedMemory(redis.client)) - baseline) / STREAMS)} B per stream`)
})
