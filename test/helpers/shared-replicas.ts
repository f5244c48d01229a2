import type { Test } from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { RelayConfigInput } from '../../src/config/schema.js'
import { spawnCli, type RunningCli } from './cli.js'
import type { RunningRedis } from './redis.js'
import { startRelay, waitFor, type RunningRelay } from './relay.js'
import { parseEvents, type ParsedEvent } from './streams.js'
import { chatChunk, SSE_HEADERS, sleep, type ScriptedUpstream } from './upstream.js'
import { roleChunk } from './clients.js'

/**
 * Replicas of one deployment as SPEC §9.1 has them: whole relays (config `redis: { url, prefix }`,
 * what REDIS_URL sets) on their own ports, sharing one real Redis under one prefix, each with
 * its own connection, its own lease and its own pub/sub subscriber.
 */

/** The prefix the replicas of these tests share. */
export const SHARED_PREFIX = 'replicas-test:'
/** The client token of the tests' key `web`, and of a second key `other`. */
export const WEB_TOKEN = 'sk-web'
export const OTHER_TOKEN = 'sk-other'
export const KEYS = [{ name: 'web', key: WEB_TOKEN }, { name: 'other', key: OTHER_TOKEN }]
export const MODEL = 'gpt-test'

/** Whether the relay's own Redis connection is up (both of its connections ready). */
export function redisUp (relay: RunningRelay): boolean {
  return relay.app.relay.redis?.status === 'up'
}

/**
 * `count` relays with the same config and one Redis (`redis.url`, `prefix`); resolves once every
 * one of them sees Redis (bounded), so a test never races the background connect.
 */
export async function startSharedReplicas (t: Test, redis: RunningRedis, config: RelayConfigInput, options: { count?: number, prefix?: string } = {}): Promise<RunningRelay[]> {
  const replicas: RunningRelay[] = []
  for (let i = 0; i < (options.count ?? 2); i++) {
    replicas.push(await startRelay(t, { ...config, redis: { url: redis.url, prefix: options.prefix ?? SHARED_PREFIX } }))
  }
  await waitFor('every replica to reach Redis', () => replicas.every(redisUp))
  return replicas
}

/** Two replicas in front of `up` with keys `web` and `other`, plus `extra` config. */
export async function startPair (t: Test, redis: RunningRedis, up: ScriptedUpstream, extra: RelayConfigInput = {}): Promise<[RunningRelay, RunningRelay]> {
  const [a, b] = await startSharedReplicas(t, redis, { keys: KEYS, upstreams: [{ name: 'up', baseUrl: up.baseUrl }], ...extra })
  return [a as RunningRelay, b as RunningRelay]
}

export const auth = (token = WEB_TOKEN): Record<string, string> => ({ authorization: `Bearer ${token}` })
export const chatRequest = (content = 'hi'): Record<string, unknown> => ({ model: MODEL, messages: [{ role: 'user', content }] })

/** The tokens `t1 ` … `tN `: an answer whose text shows at once whether one was lost or doubled. */
export function tokens (n: number, stem = 't'): string[] {
  return Array.from({ length: n }, (_, i) => `${stem}${i + 1} `)
}

export interface Hold {
  /** Lets the held answer go on. */
  release (): void
}

/**
 * Scripts `up` to answer every streamed request as OpenAI does (the role chunk, one chunk per
 * token, the finish chunk, `[DONE]`, `gapMs` apart), pausing after the first `holdAfter` tokens
 * until the test calls `release()` (default: no pause). Stops writing when the relay hangs up.
 */
export function scriptAnswer (up: ScriptedUpstream, pieces: string[], options: { holdAfter?: number, gapMs?: number } = {}): Hold {
  let release!: () => void
  const released = new Promise<void>((resolve) => { release = resolve })
  up.handler = async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    res.write(`data: ${roleChunk()}\n\n`)
    for (const [i, piece] of pieces.entries()) {
      if (i === options.holdAfter) await released
      if (res.destroyed) return
      res.write(`data: ${chatChunk(piece)}\n\n`)
      if (options.gapMs) await sleep(options.gapMs)
    }
    if (!res.destroyed) res.end(`data: ${chatChunk(null, { finish: 'stop' })}\n\ndata: [DONE]\n\n`)
  }
  return { release }
}

/** The frames `scriptAnswer` sends, as the `openai` format shows them (ids 1..N, the role chunk first, `[DONE]` last). */
export function openaiFrames (pieces: string[]): string[] {
  return [roleChunk(), ...pieces.map((p) => chatChunk(p)), chatChunk(null, { finish: 'stop' }), '[DONE]']
}

export interface SseRead {
  /** The events, comments left out. */
  events: ParsedEvent[]
  /** Whether the response ended by itself (false: the reader hung up after `upTo` events). */
  ended: boolean
}

/**
 * Reads an event-stream response until it ends or, with `upTo`, until that many events came,
 * then hangs up (what a cut connection is to the relay). Bounded by `timeoutMs`.
 */
export async function readSse (res: Response, options: { upTo?: number, timeoutMs?: number } = {}): Promise<SseRead> {
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let text = ''
  const timeoutMs = options.timeoutMs ?? 10_000
  let timedOut = false
  const limit = setTimeout(() => { timedOut = true; void reader.cancel() }, timeoutMs)
  try {
    for (;;) {
      const { done, value } = await reader.read()
      // A hang is a failure, never an end.
      if (timedOut) throw new Error(`the stream neither ended nor sent ${options.upTo ?? 'its end'} events within ${timeoutMs} ms; so far: ${JSON.stringify(text.slice(-300))}`)
      if (done) {
        if (!text.endsWith('\n\n') && text !== '') throw new Error(`the stream ended inside an event: ${JSON.stringify(text.slice(-200))}`)
        return { events: parseEvents(text), ended: true }
      }
      text += decoder.decode(value, { stream: true })
      const whole = text.slice(0, text.lastIndexOf('\n\n') + 2)
      const events = parseEvents(whole)
      if (options.upTo !== undefined && events.length >= options.upTo) {
        await reader.cancel()
        return { events: events.slice(0, options.upTo), ended: false }
      }
    }
  } finally {
    clearTimeout(limit)
  }
}

/** GET a stream on a replica and read it (see readSse); a status other than 200 comes back with no events. */
export async function readStream (relay: RunningRelay, url: string, options: { headers?: Record<string, string>, upTo?: number } = {}): Promise<SseRead & { status: number }> {
  const res = await openStream(relay, url, options.headers)
  if (res.status !== 200) {
    await res.text()
    return { status: res.status, events: [], ended: true }
  }
  return { status: res.status, ...await readSse(res, options) }
}

/** GET a stream on a replica: resolves at its headers, i.e. once the reader is attached there. */
export function openStream (relay: RunningRelay, url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${relay.url}${url}`, { headers, signal: AbortSignal.timeout(20_000) })
}

/** The `content` events' text (message events only). */
export function contentText (events: ParsedEvent[]): string {
  return events.filter((e) => e.event === undefined).map((e) => JSON.parse(e.data).content as string).join('')
}

/** The ids of the events, as numbers. */
export function idsOf (events: ParsedEvent[]): number[] {
  return events.map((e) => Number(e.id))
}

/** 1..n. */
export function range (from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i)
}

export interface CliReplica {
  cli: RunningCli
  /** e.g. http://127.0.0.1:41234 */
  url: string
  port: number
}

/**
 * The real `llm-relay` process as a replica: REDIS_URL in its environment, the rest in a config
 * file in `dir` (PORT 0: the port is read from its "Server listening" line). Killed at teardown.
 */
export async function spawnReplica (t: Test, dir: string, name: string, redisUrl: string, config: RelayConfigInput, env: Record<string, string> = {}): Promise<CliReplica> {
  const configPath = join(dir, `${name}.json`)
  // The URL comes from the environment, as an operator's file would take it (SPEC §3: `${NAME}`).
  // eslint-disable-next-line no-template-curly-in-string -- the config's `${NAME}` reference is what this writes
  writeFileSync(configPath, JSON.stringify({ ...config, redis: { url: '${REDIS_URL}', prefix: SHARED_PREFIX } }))
  const cli = spawnCli(t, { PORT: '0', HOST: '127.0.0.1', REDIS_URL: redisUrl, ...env }, { cwd: dir, args: ['--config', configPath], timeoutMs: 60_000 })
  const listening = await cli.waitForLog(/^Server listening at /)
  const url = /http:\/\/127\.0\.0\.1:\d+/.exec(listening.msg as string)![0]
  // Listening comes before the background connect to Redis: wait until /readyz says it reaches it.
  for (let i = 0; ; i++) {
    const ready = await fetch(`${url}/readyz`)
    await ready.text()
    if (ready.status === 200) break
    if (i >= 200) throw new Error(`${name} never became ready (Redis)`)
    await sleep(25)
  }
  return { cli, url, port: Number(new URL(url).port) }
}
