import type { StreamEvent } from '../formats/types.js'

/**
 * Where the EventSource flow keeps its streams (SPEC §6): each stream is an
 * append-only list of format-neutral events at positions 1, 2, 3, …, plus a
 * little state. Each event also carries its `id:` in every event format
 * (stream-log/numbering.ts): a reader sees 1, 2, 3, … in its own format, and a
 * Last-Event-ID maps back to a position with `positionAfter`.
 *
 * One producer appends; any number of readers replay and follow. Every method
 * is async so that a shared implementation (Redis, SPEC §9) fits behind the
 * same interface as the in-memory one; `subscribe` is only a wake-up signal
 * ("something was appended"), readers then fetch with `eventsAfter`, which is
 * what a pub/sub channel can carry cheaply.
 */
export interface StreamStore {
  /** Registers a new, empty stream; it expires `ttlMs` after creation, or after it finished if that is later. */
  create (id: string, options: CreateOptions): Promise<StreamInfo>
  /**
   * Appends the next event and wakes the subscribers; resolves with its number.
   * A `stop` or `error` event is final: appending it marks the stream finished
   * (in one step, so no reader can see the end without the final event).
   * Rejects for an unknown stream or one already finished.
   */
  append (id: string, event: StreamEvent, ids: FormatIds): Promise<number>
  /** The events at positions above `after`, in order; undefined when the stream is unknown or expired. */
  eventsAfter (id: string, after: number): Promise<StoredEvent[] | undefined>
  /**
   * The position a reader of `format` resumes after when it last saw `lastEventId`:
   * how many stored events that format numbers at most `lastEventId` (they come
   * first). Undefined when the stream is unknown or expired.
   */
  positionAfter (id: string, format: string, lastEventId: number): Promise<number | undefined>
  /** The stream's state; undefined when unknown or expired. */
  info (id: string): Promise<StreamInfo | undefined>
  /** Calls `onAppend` after each append (and once when the stream is removed); returns the unsubscribe function. */
  subscribe (id: string, onAppend: () => void): () => void
  /** A reader attached / went away: the producer aborts a generation nobody reads (streams.detachTimeoutMs). */
  attach (id: string): Promise<void>
  detach (id: string): Promise<void>
  /** The final event reached a reader: from now on a GET without Last-Event-ID answers 204. */
  markDelivered (id: string): Promise<void>
  /** Removes a stream at once (expiry does the same on its own). */
  delete (id: string): Promise<void>
  /** Drops every stream and timer; the store is not used afterwards. */
  close (): Promise<void>
  /**
   * Shared stores only (SPEC §9.1: DELETE on any replica). Asks the replica producing `id` to
   * stop it, as `Producer.cancel` would there; it hears it through `onCancel`. Resolves true
   * when an unfinished stream's producer was told.
   */
  requestCancel? (id: string): Promise<boolean>
  /**
   * Shared stores only. Calls `onStop` once when this replica must stop producing `id` (a
   * stream it created): `'cancelled'` by a `requestCancel` on any replica, or `'lost'` when it
   * can no longer produce it (its lease lapsed or an event could not be stored; the readers are
   * ended with an error event by the store). Returns the function that stops listening.
   */
  onCancel? (id: string, onStop: (reason: CancelReason) => void): () => void
}

/** Why a producer must stop (StreamStore.onCancel). */
export type CancelReason = 'cancelled' | 'lost'

export interface CreateOptions {
  ttlMs: number
  /** The frame format a reader gets when it names none (the POST's format). */
  format: string
  /** What the request that started it was (Idempotency-Key, SPEC §6): a repeat with another body is refused. */
  fingerprint?: string | undefined
}

/** A new stream's info, as both stores begin it. */
export function newStreamInfo (id: string, options: CreateOptions, now: number): StreamInfo {
  return {
    id,
    format: options.format,
    createdAt: now,
    expiresAt: now + options.ttlMs,
    lastSeq: 0,
    lastIds: {},
    finished: false,
    delivered: false,
    readers: 0,
    readersChangedAt: now,
    ...(options.fingerprint !== undefined && { fingerprint: options.fingerprint }),
  }
}

/** `create` found the id taken: for an idempotent request, the generation a repeat attaches to. */
export class StreamExistsError extends Error {
  constructor (id: string) {
    super(`stream ${id} exists`)
    this.name = 'StreamExistsError'
  }
}

/**
 * An event's `id:` in each event format: how many events up to and including
 * it the format shows. It shows in a format when the count went up there.
 */
export type FormatIds = Readonly<Record<string, number>>

export interface StoredEvent {
  /** 1, 2, 3, …: the event's position in the stream. */
  seq: number
  event: StreamEvent
  ids: FormatIds
}

export interface StreamInfo {
  id: string
  format: string
  /** Epoch ms. */
  createdAt: number
  /** Epoch ms after which the stream is gone; moved to `finishedAt + ttlMs` when that is later. */
  expiresAt: number
  /** Position of the last event appended; 0 before the first. */
  lastSeq: number
  /** The last event's ids per format (the final event's once finished); empty before the first. */
  lastIds: FormatIds
  /** The final event (`stop` or `error`) was appended. */
  finished: boolean
  /** The final event was written to a reader. */
  delivered: boolean
  /** Readers attached right now. */
  readers: number
  /** CreateOptions.fingerprint, when one was given. */
  fingerprint?: string | undefined
  /** Epoch ms of the last attach or detach (creation time before any). */
  readersChangedAt: number
}

/** Whether an event ends its stream. */
export function isFinal (event: StreamEvent): boolean {
  return event.type === 'stop' || event.type === 'error'
}
