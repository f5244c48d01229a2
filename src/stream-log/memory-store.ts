import { StreamExistsError, newStreamInfo, isFinal, type CreateOptions, type FormatIds, type StoredEvent, type StreamInfo, type StreamStore } from './store.js'
import type { StreamEvent } from '../formats/types.js'

interface Entry {
  info: StreamInfo
  ttlMs: number
  /** events[i] has seq i + 1, so "after n" is a plain slice. */
  events: StoredEvent[]
  listeners: Set<() => void>
  timer: NodeJS.Timeout | undefined
}

/**
 * The StreamStore of one process: a Map of streams, each an array of events.
 * Expiry is one unref'd timer per stream, armed at creation and moved when
 * the stream finishes; a stream still generating never expires (the total
 * timeout bounds it). Good for one replica; several need the shared store.
 */
export function createMemoryStore (): StreamStore {
  const streams = new Map<string, Entry>()

  function live (id: string): Entry | undefined {
    const entry = streams.get(id)
    if (entry && entry.info.finished && Date.now() >= entry.info.expiresAt) {
      remove(id, entry)
      return undefined
    }
    return entry
  }

  function remove (id: string, entry: Entry): void {
    clearTimeout(entry.timer)
    streams.delete(id)
    for (const listener of entry.listeners) listener()
    entry.listeners.clear()
  }

  function arm (id: string, entry: Entry): void {
    clearTimeout(entry.timer)
    entry.timer = setTimeout(() => {
      // Still generating: the timer comes back when the stream finishes.
      if (entry.info.finished && streams.get(id) === entry) remove(id, entry)
    }, Math.max(0, entry.info.expiresAt - Date.now()))
    entry.timer.unref()
  }

  return {
    async create (id, options: CreateOptions) {
      if (streams.has(id)) throw new StreamExistsError(id)
      const now = Date.now()
      const info = newStreamInfo(id, options, now)
      const entry: Entry = { info, ttlMs: options.ttlMs, events: [], listeners: new Set(), timer: undefined }
      streams.set(id, entry)
      arm(id, entry)
      return { ...info }
    },

    async append (id, event: StreamEvent, ids: FormatIds) {
      const entry = streams.get(id)
      if (!entry) throw new Error(`unknown stream ${id}`)
      if (entry.info.finished) throw new Error(`stream ${id} has finished`)
      const seq = entry.events.length + 1
      entry.events.push({ seq, event, ids })
      entry.info.lastSeq = seq
      entry.info.lastIds = ids
      if (isFinal(event)) {
        entry.info.finished = true
        entry.info.expiresAt = Math.max(entry.info.expiresAt, Date.now() + entry.ttlMs)
        arm(id, entry)
      }
      for (const listener of entry.listeners) listener()
      return seq
    },

    async eventsAfter (id, after) {
      const entry = live(id)
      return entry?.events.slice(Math.max(0, after))
    },

    async positionAfter (id, format, lastEventId) {
      const entry = live(id)
      if (!entry) return undefined
      // Binary search for the first event the format numbers above lastEventId: the counts never decrease.
      const { events } = entry
      let low = 0
      let high = events.length
      while (low < high) {
        const mid = (low + high) >>> 1
        if (((events[mid] as StoredEvent).ids[format] ?? 0) <= lastEventId) low = mid + 1
        else high = mid
      }
      return low
    },

    async info (id) {
      const entry = live(id)
      return entry ? { ...entry.info } : undefined
    },

    subscribe (id, onAppend) {
      const entry = streams.get(id)
      if (!entry) {
        queueMicrotask(onAppend)
        return () => {}
      }
      entry.listeners.add(onAppend)
      return () => { entry.listeners.delete(onAppend) }
    },

    async attach (id) {
      const entry = streams.get(id)
      if (!entry) return
      entry.info.readers++
      entry.info.readersChangedAt = Date.now()
    },

    async detach (id) {
      const entry = streams.get(id)
      if (!entry) return
      entry.info.readers = Math.max(0, entry.info.readers - 1)
      entry.info.readersChangedAt = Date.now()
    },

    async markDelivered (id) {
      const entry = streams.get(id)
      if (entry) entry.info.delivered = true
    },

    async delete (id) {
      const entry = streams.get(id)
      if (entry) remove(id, entry)
    },

    async close () {
      for (const [id, entry] of streams) remove(id, entry)
    },
  }
}
