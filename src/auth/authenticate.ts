import type { FastifyRequest } from 'fastify'
import { InvalidApiKeyError } from '../errors.js'
import { bearerToken } from './bearer.js'
import { ANONYMOUS, type ClientIdentity, type Keyring } from './keyring.js'

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
  const token = bearerToken(header)
  const identity = token === undefined ? undefined : keyring.find(token)
  if (!identity) throw InvalidApiKeyError({}, 'Invalid API key')
  return identity
}
