import { timingSafeEqual } from 'node:crypto'
import type { KeyConfig } from '../config/resolve.js'
import { tokenDigest } from './bearer.js'

/** The identity a request runs under: a configured key, or anonymous on loopback. */
export interface ClientIdentity {
  /** Key name for logs and metrics; never the token. */
  name: string
  models: string[]
  requestsPerMinute: number | undefined
  maxConcurrentStreams: number | undefined
  format: KeyConfig['format']
  /**
   * The key's token digest (hex): what the relay derives a client's own ids from (an
   * Idempotency-Key's stream), so another key, or anyone who only knows the key's name, cannot.
   */
  scope: string
}

export const ANONYMOUS: ClientIdentity = Object.freeze({
  name: 'anonymous',
  models: ['*'],
  requestsPerMinute: undefined,
  maxConcurrentStreams: undefined,
  format: undefined,
  scope: 'anonymous',
})

export interface Keyring {
  /** True when at least one key is configured (auth is then required). */
  readonly required: boolean
  /** The identity for a presented token, or undefined if no key matches. */
  find (token: string): ClientIdentity | undefined
}

/**
 * Tokens are compared as SHA-256 digests with `timingSafeEqual`, and every
 * key is compared (no early exit), so the time taken says nothing about how
 * much of a token matched, nor which key it was close to.
 */
export function createKeyring (keys: KeyConfig[]): Keyring {
  const entries = keys.map((k) => ({
    digest: Buffer.from(k.sha256, 'hex'),
    identity: Object.freeze({ name: k.name, models: k.models, requestsPerMinute: k.requestsPerMinute, maxConcurrentStreams: k.maxConcurrentStreams, format: k.format, scope: k.sha256.toLowerCase() }),
  }))
  return {
    required: entries.length > 0,
    find (token) {
      const digest = tokenDigest(token)
      let found: ClientIdentity | undefined
      for (const entry of entries) {
        if (timingSafeEqual(digest, entry.digest) && found === undefined) found = entry.identity
      }
      return found
    },
  }
}

/** Whether `model` is on an allow-list (`*` allows every model). */
export function modelAllowed (allowed: string[], model: string): boolean {
  return allowed.includes('*') || allowed.includes(model)
}
