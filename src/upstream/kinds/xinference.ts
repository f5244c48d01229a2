import type { ModelEntry } from '../types.js'
import { parseErrorBody } from './openai.js'
import type { UpstreamKind } from './types.js'

/**
 * Xinference's OpenAI-compatible API (PROTOCOLS §3): FastAPI `{"detail": …}`
 * errors, a `/v1/models` list with its own extra fields, mid-stream errors as
 * `data: {"error": "<string>"}`, and no `[DONE]` at the end of a completions stream.
 */
export const xinferenceKind: UpstreamKind = {
  name: 'xinference',
  supportsIncludeUsage: false,
  parseError: parseErrorBody,
  parseStreamError (payload) {
    if (!('error' in payload)) return undefined
    const error = payload.error
    if (typeof error === 'string') return { message: error, type: null, code: rateLimitCode(error), param: null }
    return parseErrorBody(500, 'application/json', JSON.stringify(payload))
  },
  parseModels (json) {
    const data = (json as { data?: unknown } | null)?.data
    if (!Array.isArray(data)) return []
    return data.flatMap((m): ModelEntry[] => {
      const id = (m as { id?: unknown })?.id
      if (typeof id !== 'string' || !id) return []
      const created = (m as { created?: unknown }).created
      return [{ id, owned_by: 'xinference', created: typeof created === 'number' ? created : 0 }]
    })
  },
  endsWithoutDone: (endpoint) => endpoint === 'completions',
}

/** Xinference reports rate limits inside the stream as "429: Rate limit reached…". */
function rateLimitCode (message: string): string | null {
  return message.startsWith('429') ? 'rate_limited' : null
}
