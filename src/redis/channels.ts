import type { Redis } from 'ioredis'

/**
 * Called with each message published on the channel, and with `undefined` each time the
 * subscription is (re)confirmed by Redis: whatever was published before that (while subscribing,
 * or while the connection was down) did not reach this listener, so it should look again.
 */
export type ChannelListener = (message: string | undefined) => void

/** Pub/sub on one subscribed connection, fanned out to any number of local listeners. */
export interface ChannelHub {
  /** Starts listening on `channel`; returns the function that stops. */
  listen (channel: string, listener: ChannelListener): () => void
  /** Channels with at least one listener (what this process is subscribed to). */
  readonly size: number
  /** Forgets every listener; the connection is closed by its owner. */
  clear (): void
}

/**
 * One SUBSCRIBE per channel however many listeners it has here, so 3,000 readers cost one
 * connection and a few thousand channels, not 3,000 connections. Subscriptions are kept here
 * (ioredis's autoResubscribe is off) and sent again on every `ready`, followed by the `undefined`
 * call that makes the listeners catch up on what the outage hid.
 */
export function createChannelHub (subscriber: Redis): ChannelHub {
  const listeners = new Map<string, Set<ChannelListener>>()
  /** Channels Redis confirmed on the current connection. */
  const live = new Set<string>()

  subscriber.on('message', (channel: string, message: string) => {
    const set = listeners.get(channel)
    if (set) for (const listener of [...set]) listener(message)
  })
  subscriber.on('close', () => { live.clear() })
  subscriber.on('ready', () => { subscribe([...listeners.keys()]) })

  function subscribe (channels: string[]): void {
    // Not ready: the next 'ready' subscribes to everything listened to by then.
    if (channels.length === 0 || subscriber.status !== 'ready') return
    subscriber.subscribe(...channels).then(() => {
      for (const channel of channels) {
        const set = listeners.get(channel)
        if (!set) continue
        live.add(channel)
        for (const listener of [...set]) listener(undefined)
      }
    }, () => {
      // Lost on the way; the reconnect's 'ready' sends it again.
    })
  }

  return {
    listen (channel, listener) {
      let set = listeners.get(channel)
      if (!set) {
        set = new Set()
        listeners.set(channel, set)
        subscribe([channel])
      } else if (live.has(channel)) {
        // Already confirmed: this listener gets its catch-up call as the first one did.
        queueMicrotask(() => { if (set?.has(listener)) listener(undefined) })
      }
      set.add(listener)
      const own = set
      return () => {
        own.delete(listener)
        if (own.size > 0 || listeners.get(channel) !== own) return
        listeners.delete(channel)
        live.delete(channel)
        if (subscriber.status === 'ready') subscriber.unsubscribe(channel).catch(() => {})
      }
    },
    get size () { return listeners.size },
    clear () {
      listeners.clear()
      live.clear()
    },
  }
}
