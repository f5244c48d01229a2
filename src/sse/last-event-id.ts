import type { FastifyRequest } from 'fastify'
import { InvalidRequestError } from '../errors.js'

const LAST_EVENT_ID = /^\d{1,15}$/

export function hasLastEventId (request: FastifyRequest): boolean {
  return request.headers['last-event-id'] !== undefined || (request.query as Record<string, unknown>).lastEventId !== undefined
}

/** `Last-Event-ID` header (what EventSource sends on reconnect) or `?lastEventId=`; 0 when neither. */
export function lastEventId (request: FastifyRequest): number {
  const raw = request.headers['last-event-id'] ?? (request.query as Record<string, unknown>).lastEventId
  if (raw === undefined || raw === '') return 0
  if (typeof raw !== 'string' || !LAST_EVENT_ID.test(raw.trim())) {
    throw InvalidRequestError({ param: 'lastEventId' }, `Last-Event-ID must be an event number (got ${JSON.stringify(raw)})`)
  }
  return Number(raw.trim())
}
