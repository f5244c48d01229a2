import { parseErrorBody } from './openai.js'
import type { ModelEntry, ParsedUpstreamError, UpstreamKind } from './types.js'

/**
 * Xinference's OpenAI-compatible API (SPEC §1), as its source
 * (xorbitsai/inference, xinference/api/restful_api.py) has it:
 * - errors before streaming are FastAPI `{"detail": …}` bodies (an uncaught
 *   exception: text/plain "Internal Server Error: …"); an unknown model uid is
 *   a 404 from `require_model` (400 in 1.x);
 * - mid-stream errors are `data: {"error": "<str(ex)>"}` on HTTP 200, and a
 *   rate limit inside a stream reads "429: Rate limit reached…";
 * - a chat stream ends with `data: [DONE]`, a completions stream does not;
 * - frames come from sse-starlette with CRLF line ends and `: ping - …` comments;
 * - `/v1/models` is OpenAI's list with Xinference's own fields added
 *   (`model_type`, `model_ability`, `context_length`, …).
 */
export const xinferenceKind: UpstreamKind = {
  name: 'xinference',
  responses: 'chat',
  supportsIncludeUsage: false,
  parseError (statusCode, contentType, text) {
    const parsed = parseErrorBody(statusCode, contentType, text)
    // Xinference says "Model not found in the model list, uid: …": the relay's own code for it.
    if (statusCode === 404 || (statusCode === 400 && /model not found/i.test(parsed.message))) {
      return { ...parsed, code: parsed.code ?? 'model_not_found', param: parsed.param ?? 'model' }
    }
    return parsed
  },
  parseStreamError (payload) {
    if (!('error' in payload)) return undefined
    const error = payload.error
    if (typeof error === 'string') return stringError(error)
    return parseErrorBody(500, 'application/json', JSON.stringify(payload))
  },
  parseModels (json) {
    return entries(json).flatMap((m): ModelEntry[] => {
      const id = (m as { id?: unknown })?.id
      if (typeof id !== 'string' || !id) return []
      const created = (m as { created?: unknown }).created
      return [{ id, owned_by: 'xinference', created: typeof created === 'number' ? created : 0 }]
    })
  },
  endsWithoutDone: (endpoint) => endpoint === 'completions',
  // sse-starlette ends every line with CRLF (its DEFAULT_SEPARATOR): give clients OpenAI's own LF framing.
  reframe: true,
}

/** `str(ex)` of the exception that broke the stream; an HTTPException reads "<status>: <detail>". */
function stringError (message: string): ParsedUpstreamError {
  if (message.startsWith('429')) return { message, type: 'rate_limit_error', code: 'rate_limited', param: null }
  return { message, type: null, code: null, param: null }
}

/** `list_models()` answers `{"object": "list", "data": [{id, object, created, owned_by, **model_info}]}`. */
function entries (json: unknown): unknown[] {
  const data = (json as { data?: unknown } | null)?.data
  return Array.isArray(data) ? data : []
}
