import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import {
  InternalError, InvalidRequestError, NotFoundError, RequestTooLargeError, UnsupportedMediaTypeError,
  errorEnvelope, isRelayError, type RelayError,
} from '../errors.js'

/**
 * The one place every error becomes the OpenAI envelope (SPEC §10). Fastify's
 * own body-parsing errors are translated to the relay's codes here, so a
 * client always sees the same shape.
 */
export function createErrorHandler (bodyLimitBytes: number) {
  return function relayErrorHandler (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
    const state = request.relayState
    if (state?.clientGone || reply.raw.headersSent) return
    const err = toRelayError(error, bodyLimitBytes, request)
    if (state) {
      // A 503 is the relay refusing work (draining, global limit), not an upstream failure.
      state.outcome ??= err.statusCode === 504 ? 'timeout' : err.statusCode >= 500 && err.relayCode !== 'unavailable' ? 'upstream_error' : 'rejected'
      state.error = err.message
    }
    if (err.statusCode === 500) request.log.error({ err: error }, 'unexpected error')
    if (err.retryAfter !== undefined) reply.header('retry-after', String(err.retryAfter))
    reply.code(err.statusCode).type('application/json; charset=utf-8').send(errorEnvelope(err))
  }
}

function toRelayError (error: FastifyError, bodyLimitBytes: number, request: FastifyRequest): RelayError {
  if (isRelayError(error)) return error
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return RequestTooLargeError({}, bodyLimitBytes)
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return UnsupportedMediaTypeError({}, mediaTypeMessage(request.headers['content-type']))
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return InvalidRequestError({}, 'Request body is empty: send a JSON object')
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return InvalidRequestError({}, `Malformed JSON in request body: ${error.message}`)
  }
  if (error instanceof SyntaxError || error.statusCode === 400) return InvalidRequestError({}, `Malformed request: ${error.message}`)
  if (error.statusCode === 404) return NotFoundError({}, error.message)
  if (error.statusCode === 413) return RequestTooLargeError({}, bodyLimitBytes)
  if (error.statusCode === 415) return UnsupportedMediaTypeError({}, error.message)
  return InternalError()
}

// Fastify's own error does not say which type it refused, so the message is built from the request.
function mediaTypeMessage (contentType: string | undefined): string {
  if (contentType === undefined || contentType === '') return 'Missing Content-Type: send application/json'
  return `Unsupported Content-Type ${JSON.stringify(contentType.slice(0, 100))}: send application/json`
}
