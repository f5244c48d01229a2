import type { FastifyRequest } from 'fastify'
import { InvalidApiKeyError } from '../errors.js'
import { ANONYMOUS, type ClientIdentity, type Keyring } from './keyring.js'

const BEARER = /^Bearer\s+(.+)$/i

/**
 * Resolves the caller from `Authorization: Bearer <token>` (SPEC §4). With no
 * keys configured every caller is anonymous (the start-up check has made sure
 * that only happens on loopback or with RELAY_ALLOW_ANONYMOUS).
 */
export function authenticate (request: FastifyRequest, keyring: Keyring): ClientIdentity {
  if (!keyring.required) return ANONYMOUS
  const header = request.headers.authorization
  if (header === undefined || header === '') {
    throw InvalidApiKeyError({}, 'Missing API key: send "Authorization: Bearer <token>"')
  }
  const match = BEARER.exec(header)
  const identity = match ? keyring.find((match[1] as string).trim()) : undefined
  if (!identity) throw InvalidApiKeyError({}, 'Invalid API key')
  return identity
}
