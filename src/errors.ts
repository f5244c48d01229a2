import createError from '@fastify/error'

/**
 * Every error the relay answers with (SPEC §10). Each carries the HTTP status,
 * the OpenAI envelope's `type` and `code`, and optionally `param`. The error
 * handler (routes/error-handler.ts) renders them; after streaming began the
 * formats render them as an error frame instead.
 */
export interface RelayErrorFields {
  statusCode: number
  /** OpenAI envelope `type`, e.g. `invalid_request_error`. */
  type: string
  /** OpenAI envelope `code`, e.g. `invalid_api_key`. */
  relayCode: string
  param: string | null
  /** Seconds, for 429/503. */
  retryAfter?: number
}

export type RelayError = Error & RelayErrorFields

type Factory = ReturnType<typeof createError>

function define (code: string, message: string, statusCode: number, type: string, relayCode: string) {
  const Base: Factory = createError(code, message, statusCode)
  return function make (params: { param?: string | null, cause?: unknown, retryAfter?: number } = {}, ...args: unknown[]): RelayError {
    const err = new Base(...args) as unknown as RelayError
    err.type = type
    err.relayCode = relayCode
    err.param = params.param ?? null
    if (params.retryAfter !== undefined) err.retryAfter = params.retryAfter
    if (params.cause !== undefined) (err as Error).cause = params.cause
    return err
  }
}

export const InvalidRequestError = define('RELAY_ERR_INVALID_REQUEST', '%s', 400, 'invalid_request_error', 'invalid_request')
export const InvalidApiKeyError = define('RELAY_ERR_INVALID_API_KEY', '%s', 401, 'authentication_error', 'invalid_api_key')
export const ModelNotAllowedError = define('RELAY_ERR_MODEL_NOT_ALLOWED', 'The model "%s" is not allowed for this API key', 403, 'permission_error', 'model_not_allowed')
export const NotFoundError = define('RELAY_ERR_NOT_FOUND', '%s', 404, 'invalid_request_error', 'not_found')
export const ModelNotFoundError = define('RELAY_ERR_MODEL_NOT_FOUND', 'The model "%s" does not exist or is not served by this relay', 404, 'invalid_request_error', 'model_not_found')
export const RequestTooLargeError = define('RELAY_ERR_REQUEST_TOO_LARGE', 'Request body is larger than the limit of %s bytes', 413, 'invalid_request_error', 'request_too_large')
export const UnsupportedMediaTypeError = define('RELAY_ERR_UNSUPPORTED_MEDIA_TYPE', '%s', 415, 'invalid_request_error', 'unsupported_media_type')
export const IdempotencyKeyReusedError = define('RELAY_ERR_IDEMPOTENCY_KEY_REUSED', '%s', 422, 'invalid_request_error', 'idempotency_key_reused')
export const RateLimitedError = define('RELAY_ERR_RATE_LIMITED', '%s', 429, 'rate_limit_error', 'rate_limited')
export const UpstreamError = define('RELAY_ERR_UPSTREAM', '%s', 502, 'api_error', 'upstream_error')
export const UnavailableError = define('RELAY_ERR_UNAVAILABLE', '%s', 503, 'api_error', 'unavailable')
// Raised by Node's HTTP parser before any route runs (routes/client-error.ts).
export const HeadersTooLargeError = define('RELAY_ERR_HEADERS_TOO_LARGE', 'Request headers are larger than the server accepts', 431, 'invalid_request_error', 'request_too_large')
export const RequestTimeoutError = define('RELAY_ERR_REQUEST_TIMEOUT', 'The request did not arrive in time', 408, 'timeout_error', 'request_timeout')
export const UpstreamTimeoutError = define('RELAY_ERR_UPSTREAM_TIMEOUT', '%s', 504, 'timeout_error', 'upstream_timeout')
// The EventSource flow's own endings (SPEC §6); they only ever travel as a stream's error event.
export const StreamCancelledError = define('RELAY_ERR_STREAM_CANCELLED', '%s', 499, 'api_error', 'stream_cancelled')
export const StreamDetachedError = define('RELAY_ERR_STREAM_DETACHED', '%s', 408, 'timeout_error', 'stream_detached')
export const StreamBufferFullError = define('RELAY_ERR_STREAM_BUFFER_FULL', '%s', 507, 'api_error', 'stream_buffer_full')
// A bug, not the client's or an upstream's doing: the error handler logs the original.
export const InternalError = define('RELAY_ERR_INTERNAL', 'Internal error in the relay', 500, 'api_error', 'internal_error')

/**
 * An upstream's own 4xx answer, passed on with its status and message
 * (SPEC §10). `type` and `code` are the upstream's when it sent an OpenAI
 * envelope, else derived from the status.
 */
export function upstreamClientError (statusCode: number, message: string, type: string | null, code: string | null, param: string | null): RelayError {
  const err = new Error(message) as RelayError
  err.name = 'UpstreamClientError'
  err.statusCode = statusCode
  err.type = type ?? typeForStatus(statusCode)
  err.relayCode = code ?? codeForStatus(statusCode)
  err.param = param
  return err
}

function typeForStatus (status: number): string {
  if (status === 401) return 'authentication_error'
  if (status === 403) return 'permission_error'
  if (status === 429) return 'rate_limit_error'
  return 'invalid_request_error'
}

function codeForStatus (status: number): string {
  switch (status) {
    case 401: return 'invalid_api_key'
    case 403: return 'permission_denied'
    case 404: return 'not_found'
    case 413: return 'request_too_large'
    case 429: return 'rate_limited'
    default: return 'invalid_request'
  }
}

/**
 * Some upstreams echo the key they were sent in an error message ("Incorrect
 * API key provided: sk-…"); the relay passes messages on, so it cuts the key
 * out first: no answer or log line may hold it (SPEC §10).
 */
export function withoutSecret (text: string, secret: string | undefined): string {
  return secret && text.includes(secret) ? text.split(secret).join('[redacted]') : text
}

export function isRelayError (err: unknown): err is RelayError {
  return err instanceof Error && typeof (err as RelayError).relayCode === 'string' && typeof (err as RelayError).statusCode === 'number'
}

/** The OpenAI error envelope: `{"error":{"message","type","param","code"}}`. */
export function errorEnvelope (err: RelayError): { error: { message: string, type: string, param: string | null, code: string } } {
  return { error: { message: err.message, type: err.type, param: err.param, code: err.relayCode } }
}

/** What an undici or socket failure code says about the upstream. */
export type FailureKind = 'connect_timeout' | 'first_byte_timeout' | 'idle_timeout' | 'unreachable' | 'reset' | 'invalid_response'

/**
 * The failure codes of undici and the socket layer the relay knows, by what
 * they mean: the one table behind both the relay error a failure becomes
 * (mapUpstreamFailure) and whether failover may try another upstream
 * (upstream/failover.ts: not reached or reset before any byte → retry).
 */
const FAILURE_CODES: Readonly<Record<string, FailureKind>> = {
  UND_ERR_CONNECT_TIMEOUT: 'connect_timeout',
  UND_ERR_HEADERS_TIMEOUT: 'first_byte_timeout',
  UND_ERR_BODY_TIMEOUT: 'idle_timeout',
  ECONNREFUSED: 'unreachable',
  ENOTFOUND: 'unreachable',
  EAI_AGAIN: 'unreachable',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  ECONNRESET: 'reset',
  EPIPE: 'reset',
  UND_ERR_SOCKET: 'reset',
  UND_ERR_CLOSED: 'reset',
  HPE_INVALID_CONSTANT: 'invalid_response',
  HPE_INVALID_HEADER_TOKEN: 'invalid_response',
  HPE_INVALID_CHUNK_SIZE: 'invalid_response',
  UND_ERR_RESPONSE: 'invalid_response',
}

/** The kind of a failure code (e.g. `ECONNREFUSED` → `unreachable`), or undefined for one not in the table. */
export function failureKind (code: string | undefined): FailureKind | undefined {
  return code !== undefined && Object.hasOwn(FAILURE_CODES, code) ? FAILURE_CODES[code] : undefined
}

/**
 * The one place where undici's and the socket layer's failures become relay
 * errors; the original stays as `cause` for the log. The upstream's idle
 * timeout (`UND_ERR_BODY_TIMEOUT`) can only fire once it has answered.
 */
export function mapUpstreamFailure (err: unknown, upstream: string): RelayError {
  if (isRelayError(err)) return err
  const code = (err as { code?: string } | undefined)?.code
  // undici's HTTPParserError leaves `code` undefined for many llhttp failures (e.g. no "HTTP/" at all).
  const kind = (err as Error | undefined)?.name === 'HTTPParserError' ? 'invalid_response' : failureKind(code)
  switch (kind) {
    case 'connect_timeout':
      return UpstreamTimeoutError({ cause: err }, `Timed out connecting to upstream "${upstream}"`)
    case 'first_byte_timeout':
      return UpstreamTimeoutError({ cause: err }, `Upstream "${upstream}" sent no response before the first-byte timeout`)
    case 'idle_timeout':
      return UpstreamTimeoutError({ cause: err }, `Upstream "${upstream}" sent nothing for longer than the idle timeout`)
    case 'unreachable':
      return UpstreamError({ cause: err }, `Upstream "${upstream}" is unreachable (${code})`)
    case 'reset':
      return UpstreamError({ cause: err }, `Connection to upstream "${upstream}" was reset`)
    case 'invalid_response':
      return UpstreamError({ cause: err }, `Upstream "${upstream}" answered with an invalid HTTP response`)
    default:
      return UpstreamError({ cause: err }, `Upstream "${upstream}" failed: ${(err as Error | undefined)?.message ?? String(err)}`)
  }
}
