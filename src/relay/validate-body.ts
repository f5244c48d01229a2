import { InvalidRequestError } from '../errors.js'
import type { Endpoint } from '../upstream/endpoint.js'

/** A request body that passed the checks of SPEC §10; every other field passes through untouched. */
export interface ApiBody {
  model: string
  stream?: boolean
  stream_options?: { include_usage?: boolean, [k: string]: unknown } | null
  [field: string]: unknown
}

/**
 * The few checks the relay makes itself, so a bad request gets a clear 400
 * at once instead of a trip upstream. Anything else (temperature ranges,
 * message shapes in detail) is the upstream's to judge.
 */
export function validateBody (body: unknown, endpoint: Endpoint): ApiBody {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw InvalidRequestError({}, 'Request body must be a JSON object')
  }
  const b = body as Record<string, unknown>
  if (b.model === undefined) throw InvalidRequestError({ param: 'model' }, 'You must provide a model parameter')
  if (typeof b.model !== 'string' || b.model.trim() === '') throw InvalidRequestError({ param: 'model' }, '"model" must be a non-empty string')
  if (b.stream !== undefined && b.stream !== null && typeof b.stream !== 'boolean') throw InvalidRequestError({ param: 'stream' }, '"stream" must be a boolean')
  if (b.stream_options !== undefined && b.stream_options !== null && (typeof b.stream_options !== 'object' || Array.isArray(b.stream_options))) {
    throw InvalidRequestError({ param: 'stream_options' }, '"stream_options" must be an object')
  }

  if (endpoint === 'chat') {
    if (b.messages === undefined) throw InvalidRequestError({ param: 'messages' }, 'You must provide a messages parameter')
    if (!Array.isArray(b.messages) || b.messages.length === 0) throw InvalidRequestError({ param: 'messages' }, '"messages" must be a non-empty array')
    b.messages.forEach((m, i) => {
      if (!m || typeof m !== 'object' || Array.isArray(m) || typeof (m as { role?: unknown }).role !== 'string') {
        throw InvalidRequestError({ param: `messages[${i}]` }, `"messages[${i}]" must be an object with a string "role"`)
      }
    })
  } else if (endpoint === 'completions') {
    if (b.prompt === undefined) throw InvalidRequestError({ param: 'prompt' }, 'You must provide a prompt parameter')
    if (typeof b.prompt !== 'string' && !Array.isArray(b.prompt)) throw InvalidRequestError({ param: 'prompt' }, '"prompt" must be a string or an array')
  } else if (endpoint === 'responses') {
    // `input` may be left out (a stored prompt, a conversation); the upstream judges what else is missing.
    if (b.input !== undefined && typeof b.input !== 'string' && !Array.isArray(b.input)) throw InvalidRequestError({ param: 'input' }, '"input" must be a string or an array of input items')
  } else {
    if (b.input === undefined) throw InvalidRequestError({ param: 'input' }, 'You must provide an input parameter')
    if (typeof b.input !== 'string' && !Array.isArray(b.input)) throw InvalidRequestError({ param: 'input' }, '"input" must be a string or an array')
  }
  return b as ApiBody
}
