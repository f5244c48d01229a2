import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { HeadersTooLargeError, InvalidRequestError, RequestTimeoutError, errorEnvelope, type RelayError } from '../errors.js'

/**
 * Answers a request that Node's HTTP parser could not read (garbage bytes, a
 * broken chunked body, a body cut short, headers over the limit) with the
 * OpenAI envelope like every other error (SPEC §10), instead of Fastify's own
 * `{"error","message","statusCode"}`. Fastify's default handler also logs the
 * whole error at trace level, and Node hangs the raw request bytes on it
 * (`rawPacket`), Authorization header included: only the code is logged here.
 */
export function relayClientErrorHandler (this: FastifyInstance, err: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const relayError = toRelayError(err.code)
  this.log.debug({ code: err.code, status: relayError.statusCode }, 'unreadable HTTP request')
  if (socket.writable) {
    const body = JSON.stringify(errorEnvelope(relayError))
    socket.write(`HTTP/1.1 ${relayError.statusCode} ${STATUS_CODES[relayError.statusCode]}\r\n` +
      `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  }
  // The parser's state is unknown after an error: the connection cannot carry another request.
  socket.destroy()
}

function toRelayError (code: string | undefined): RelayError {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return HeadersTooLargeError()
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return RequestTimeoutError()
    default:
      return InvalidRequestError({}, 'Malformed HTTP request')
  }
}
