import { randomUUID } from 'node:crypto'
import { StreamBufferFullError, UpstreamError, errorEnvelope } from '../errors.js'
import type { FrameFormat, StreamEvent } from '../formats/types.js'
import type { RedisConnection } from '../redis/connection.js'
import { runScript, type RedisScript } from '../redis/script.js'
import { EVENT_FORMATS } from './numbering.js'
import { StreamExistsError, newStreamInfo, isFinal, type CancelReason, type FormatIds, type StoredEvent, type StreamInfo, type StreamStore } from './store.js'
import { startLease, watchOrphans } from './redis-lease.js'
import { ProducedTails } from './produced-tail.js'
import * as S from './redis-scripts.js'

export interface RedisStreamStoreOptions {
  connection: RedisConnection
  /** `streams.maxBufferBytes`: a stream's chunk bytes, counted as the producer counts them. */
  maxBufferBytes: number
  /** `streams.leaseMs`: a dead producing replica's readers get their error event within this. */
  leaseMs: number
  /**
   * `timeouts.totalMs`: the longest a generation runs. A stream that never finishes (its
   * producer crashed and nobody read it) still goes: its keys expire this plus its ttl after
   * its creation.
   */
  maxGenerationMs: number
}

/** The StreamStore of several replicas, with the members only a shared store has. */
export type RedisStreamStore = StreamStore & Required<Pick<StreamStore, 'requestCancel' | 'onCancel'>> & {
  /** This replica's name in Redis (its lease, the owner of the streams it creates). */
  readonly instance: string
}

/** What this replica knows of a stream it produces. */
interface Produced {
  /** The stream's `ttlMs`: its keys live that long after its end. */
  ttlMs: number
  stoppers: Set<(reason: CancelReason) => void>
  /** Why it must stop, once known: told to every stopper, later ones too. */
  stop: CancelReason | undefined
  /** An event may be missing (an append failed): only the final event may follow, numbered by Redis. */
  broken: boolean
}

const FINAL_RETRY_FIRST_MS = 250
const FINAL_RETRY_MAX_MS = 5000

/**
 * StreamStore in Redis (SPEC §9.1), layout in redis-scripts.ts: any replica reads, resumes and
 * follows any stream, while one replica produces it. Wake-ups travel over the connection's one
 * subscribed connection, so readers cost no connection of their own.
 *
 * Failures: every operation rejects fast while Redis is down (an UnavailableError). A chunk
 * that could not be stored would leave a gap, so the stream is "broken": no chunk is accepted
 * after it, the producer is told to stop (`onCancel`, `'lost'`), and its final event is retried
 * until it lands, numbered after what was stored; readers never see a hole, only an early end.
 */
export function createRedisStreamStore (o: RedisStreamStoreOptions): RedisStreamStore {
  const { connection, maxBufferBytes, leaseMs, maxGenerationMs } = o
  const { prefix } = connection
  const instance = randomUUID()
  const produced = new Map<string, Produced>()
  const retries = new Set<NodeJS.Timeout>()
  // Readers on this replica of the streams it produces read their last events here (produced-tail.ts).
  const tails = new ProducedTails()
  const leaseTtl = Math.ceil(leaseMs / 2)
  let closed = false

  const overflow = encodeFinal(errorEvent(StreamBufferFullError({}, `The stream's buffer of ${maxBufferBytes} bytes is full`)))
  const orphaned = encodeFinal(errorEvent(UpstreamError({}, 'The relay instance producing this stream was lost; the generation ended')))

  const lease = startLease(connection, instance, leaseMs, () => {
    // Other replicas may end these streams now: what this one holds is no longer the whole story.
    tails.clear()
    for (const id of produced.keys()) stop(id, 'lost')
  })
  const orphans = watchOrphans(connection, leaseMs, (id, owner) => {
    const k = S.streamKeys(prefix, id)
    return run('finishOrphan', S.APPEND, [k.info, k.events, S.instanceKey(prefix, owner)],
      appendArgs('r', orphaned.json, '', '', orphaned.shows, 0, k.wake, owner)) as Promise<number>
  })
  const stopCancelled = connection.channels.listen(S.cancelChannel(prefix, instance), (id) => {
    if (id === undefined) void recheckCancels()
    else stop(id, 'cancelled')
  })

  function run (name: string, script: RedisScript, keys: string[], args: Array<string | number>): Promise<unknown> {
    return connection.run(name, (c) => runScript(c, script, keys, args))
  }

  /** Tells a stream's producer to stop, once. */
  function stop (id: string, reason: CancelReason): void {
    const p = produced.get(id)
    if (!p || p.stop !== undefined) return
    p.stop = reason
    for (const stopper of [...p.stoppers]) stopper(reason)
  }

  /** After the cancel channel was (re)subscribed: a cancel sent while it was not is in the hash. */
  async function recheckCancels (): Promise<void> {
    const ids = [...produced.keys()]
    if (ids.length === 0) return
    const flags = await connection.run('cancelFlags', (c) => {
      const p = c.pipeline()
      for (const id of ids) p.hget(S.streamKeys(prefix, id).info, 'cancel')
      return p.exec()
    }).catch(() => null)
    ids.forEach((id, i) => { if (flags?.[i]?.[1] === '1') stop(id, 'cancelled') })
  }

  function appendArgs (mode: string, a: string, b: string, ids: string, shows: string, bytes: number, wake: string, owner = ''): Array<string | number> {
    return [Date.now(), mode, a, b, ids, shows, bytes, maxBufferBytes, overflow.json, overflow.shows, wake, owner]
  }

  /** A final event numbered by Redis after whatever was stored (mode `r`). */
  function renumbered (event: StreamEvent, wake: string): Array<string | number> {
    const { json, shows } = encodeFinal(event)
    return appendArgs('r', json, '', '', shows, 0, wake)
  }

  async function append (id: string, event: StreamEvent, ids: FormatIds): Promise<number> {
    const p = produced.get(id)
    const final = isFinal(event)
    if (p?.broken && !final) throw new Error(`stream ${id} lost an event: only its final event may follow`)
    const k = S.streamKeys(prefix, id)
    const args = event.type === 'chunk'
      ? appendArgs('c', event.data, event.text, JSON.stringify(ids), '', Buffer.byteLength(event.data) + Buffer.byteLength(event.text), k.wake)
      : p?.broken
        ? renumbered(event, k.wake)
        : appendArgs('f', JSON.stringify(event), '', JSON.stringify(ids), '', 0, k.wake)
    let result: number
    try {
      const answer = run('append', S.APPEND, [k.info, k.events], args)
      tails.appending(id, answer)
      result = await answer as number
    } catch (err) {
      tails.drop(id)
      if (p) {
        p.broken = true
        stop(id, 'lost')
        if (final) retryFinal(id, event, FINAL_RETRY_FIRST_MS)
      }
      throw err
    }
    if (result <= 0 || p === undefined) tails.drop(id)
    const seq = settle(id, result, final)
    if (p !== undefined) tails.add(id, { seq, event, ids }, final && { ttlMs: p.ttlMs })
    return seq
  }

  /** What an APPEND result means for the caller and for what this replica tracks. */
  function settle (id: string, result: number, final: boolean): number {
    if (result > 0) {
      if (final) produced.delete(id)
      return result
    }
    if (result === S.APPEND_FINISHED) stop(id, 'lost')
    produced.delete(id)
    if (result === S.APPEND_UNKNOWN) throw new Error(`unknown stream ${id}`)
    if (result === S.APPEND_FINISHED) throw new Error(`stream ${id} has finished`)
    throw StreamBufferFullError({}, `The stream's buffer of ${maxBufferBytes} bytes is full`)
  }

  /** A final event that did not land is tried again until it does, the stream is gone, or the store closes. */
  function retryFinal (id: string, event: StreamEvent, delay: number): void {
    if (closed) return
    const timer = setTimeout(() => {
      retries.delete(timer)
      const k = S.streamKeys(prefix, id)
      run('append', S.APPEND, [k.info, k.events], renumbered(event, k.wake))
        .then(() => produced.delete(id), () => retryFinal(id, event, Math.min(delay * 2, FINAL_RETRY_MAX_MS)))
    }, delay)
    timer.unref()
    retries.add(timer)
  }

  return {
    instance,

    async create (id, options) {
      const now = Date.now()
      const k = S.streamKeys(prefix, id)
      const info = newStreamInfo(id, options, now)
      const created = await run('create', S.CREATE, [k.info, k.events, S.instanceKey(prefix, instance)],
        [now, info.expiresAt, options.ttlMs, options.format, instance, now + maxGenerationMs + options.ttlMs, leaseTtl, options.fingerprint ?? ''])
      if (created === 0) throw new StreamExistsError(id)
      // The lease had lapsed: what this replica produced before may have been ended elsewhere.
      if (created === 2) for (const other of produced.keys()) stop(other, 'lost')
      produced.set(id, { ttlMs: options.ttlMs, stoppers: new Set(), stop: undefined, broken: false })
      return info
    },

    append,

    async eventsAfter (id, after) {
      const local = await tails.read(id, after)
      if (local !== undefined) return local
      const k = S.streamKeys(prefix, id)
      const entries = await run('eventsAfter', S.EVENTS_AFTER, [k.info, k.events], [`0-${Math.max(0, after) + 1}`]) as Array<[string, string[]]> | null
      return entries === null ? undefined : entries.map(decodeEntry)
    },

    async positionAfter (id, format, lastEventId) {
      const k = S.streamKeys(prefix, id)
      const position = await run('positionAfter', S.POSITION_AFTER, [k.info, k.events], [format, lastEventId]) as number
      return position < 0 ? undefined : position
    },

    async info (id) {
      const hash = await connection.run('info', (c) => c.hgetall(S.streamKeys(prefix, id).info))
      return decodeInfo(id, hash)
    },

    subscribe (id, onAppend) {
      const stopListening = connection.channels.listen(S.streamKeys(prefix, id).wake, (message) => {
        tails.announce(id, message)
        onAppend()
      })
      const stopWatching = orphans.watch(id)
      return () => {
        stopListening()
        stopWatching()
      }
    },

    async attach (id) {
      await run('attach', S.ADJUST_READERS, [S.streamKeys(prefix, id).info], [1, Date.now()])
    },

    async detach (id) {
      await run('detach', S.ADJUST_READERS, [S.streamKeys(prefix, id).info], [-1, Date.now()])
    },

    async markDelivered (id) {
      await run('markDelivered', S.MARK_DELIVERED, [S.streamKeys(prefix, id).info], [])
    },

    async delete (id) {
      const k = S.streamKeys(prefix, id)
      tails.drop(id)
      await run('delete', S.DELETE, [k.info, k.events], [k.wake])
      produced.delete(id)
    },

    async requestCancel (id) {
      const signalled = await run('requestCancel', S.REQUEST_CANCEL, [S.streamKeys(prefix, id).info], [S.cancelChannel(prefix, ''), id])
      return signalled === 1
    },

    onCancel (id, onStop) {
      const p = produced.get(id)
      if (!p) return () => {}
      const reason = p.stop
      if (reason !== undefined) queueMicrotask(() => onStop(reason))
      else p.stoppers.add(onStop)
      return () => { p.stoppers.delete(onStop) }
    },

    /** Stops this replica's timers and subscriptions; the streams stay (other replicas read them). */
    async close () {
      if (closed) return
      closed = true
      for (const timer of retries) clearTimeout(timer)
      retries.clear()
      stopCancelled()
      orphans.stop()
      produced.clear()
      tails.clear()
      await lease.stop()
    },
  }
}

function errorEvent (err: Parameters<typeof errorEnvelope>[0]): StreamEvent {
  return { type: 'error', error: errorEnvelope(err).error }
}

/** A final event's JSON and, per event format, whether it shows there (1) or not (0): its ids are the last ones plus these. */
function encodeFinal (event: StreamEvent): { json: string, shows: string } {
  const shows: Record<string, number> = {}
  for (const f of EVENT_FORMATS) {
    const render = f.renderEvent as NonNullable<FrameFormat['renderEvent']>
    shows[f.name] = render(event, 0) === undefined ? 0 : 1
  }
  return { json: JSON.stringify(event), shows: JSON.stringify(shows) }
}

function decodeEntry ([entryId, fields]: [string, string[]]): StoredEvent {
  const f: Record<string, string> = {}
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i] as string] = fields[i + 1] as string
  const event: StreamEvent = f.e !== undefined ? JSON.parse(f.e) as StreamEvent : { type: 'chunk', data: f.d ?? '', text: f.t ?? '' }
  return { seq: Number(entryId.slice(entryId.indexOf('-') + 1)), event, ids: JSON.parse(f.i ?? '{}') as FormatIds }
}

function decodeInfo (id: string, h: Record<string, string>): StreamInfo | undefined {
  if (h.fmt === undefined) return undefined
  return {
    id,
    format: h.fmt,
    createdAt: Number(h.created),
    expiresAt: Number(h.expires),
    lastSeq: Number(h.seq),
    lastIds: JSON.parse(h.ids ?? '{}') as FormatIds,
    finished: h.fin === '1',
    delivered: h.dlv === '1',
    readers: Number(h.rd),
    readersChangedAt: Number(h.rdAt),
    ...(h.fp !== undefined && { fingerprint: h.fp }),
  }
}
