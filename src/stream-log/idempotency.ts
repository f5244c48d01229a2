import { createHash, createHmac } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ClientIdentity } from '../auth/keyring.js'
import { IdempotencyKeyReusedError, InvalidRequestError } from '../errors.js'
import type { Endpoint } from '../upstream/endpoint.js'
import type { Generations, StartOptions } from './generations.js'
import { StreamExistsError, type StreamInfo } from './store.js'

/** 1–255 visible ASCII characters (SPEC §6). */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/

/** The request's `Idempotency-Key`, checked; undefined without one. */
export function idempotencyOf (request: FastifyRequest): string | undefined {
  const raw = request.headers['idempotency-key']
  if (raw === undefined) return undefined
  if (typeof raw !== 'string' || !IDEMPOTENCY_KEY.test(raw)) {
    throw InvalidRequestError({ param: 'Idempotency-Key' }, 'Idempotency-Key must be 1 to 255 visible ASCII characters')
  }
  return raw
}

/** What a request asked for, to tell a repeat from another request under the same key (the format aside: a repeat may ask for another). */
export function fingerprintOf (endpoint: Endpoint, body: unknown): string {
  return createHash('sha256').update(endpoint).update('\n').update(JSON.stringify(body) ?? '').digest('base64url')
}

/**
 * The stream id of a client's idempotent request: keyed by the client key's
 * digest, so the same Idempotency-Key under another key is another stream,
 * and the id (a reader's capability, SPEC §6) cannot be derived from the
 * key's name. 43 characters of an HMAC-SHA-256.
 */
export function idempotentId (identity: ClientIdentity, key: string): string {
  return createHmac('sha256', identity.scope).update(key).digest('base64url')
}

export interface Found {
  info: StreamInfo
  /** True when this request started the generation; false for a repeat that attaches to it. */
  fresh: boolean
}

/**
 * The generation of an idempotent request (SPEC §6): the one already kept
 * under its id (a repeat: the upstream is not called again), or a new one.
 * Two first requests at once: one claims the id, the other attaches. The same
 * key with another body is `422 idempotency_key_reused`.
 */
export async function startOrFind (generations: Generations, request: FastifyRequest, reply: FastifyReply, o: StartOptions & { id: string, fingerprint: string | undefined }): Promise<Found | undefined> {
  generations.assertAvailable()
  const existing = await generations.store.info(o.id)
  if (existing !== undefined) {
    same(existing, o.fingerprint)
    // A repeat calls no upstream, but it is a request of its key: the rate counts it.
    await generations.checkRate(request, reply, o.plan)
    return { info: existing, fresh: false }
  }
  try {
    const info = await generations.start(request, reply, o)
    return info === undefined ? undefined : { info, fresh: true }
  } catch (err) {
    if (!(err instanceof StreamExistsError)) throw err
    const raced = await generations.store.info(o.id)
    if (raced === undefined) throw err
    return { info: same(raced, o.fingerprint), fresh: false }
  }
}

function same (info: StreamInfo, fingerprint: string | undefined): StreamInfo {
  if (info.fingerprint !== fingerprint) {
    throw IdempotencyKeyReusedError({ param: 'Idempotency-Key' }, 'This Idempotency-Key was used for a different request; use a new key for a new request')
  }
  return info
}
