import type { ModelEntry, ParsedUpstreamError, UpstreamKind } from './types.js'

/** OpenAI itself and the servers that copy its wire format: vLLM, Ollama, LM Studio, llama.cpp. */
export const openaiKind: UpstreamKind = {
  name: 'openai',
  responses: 'native',
  supportsIncludeUsage: true,
  parseError: parseErrorBody,
  parseStreamError (payload) {
    return 'error' in payload ? errorFromField(payload.error) : undefined
  },
  parseModels (json) {
    const data = (json as { data?: unknown } | null)?.data
    if (!Array.isArray(data)) return []
    return data.flatMap((m): ModelEntry[] => {
      const id = (m as { id?: unknown })?.id
      if (typeof id !== 'string' || !id) return []
      const ownedBy = (m as { owned_by?: unknown }).owned_by
      const created = (m as { created?: unknown }).created
      return [{ id, owned_by: typeof ownedBy === 'string' ? ownedBy : 'upstream', created: typeof created === 'number' ? created : 0 }]
    })
  },
  endsWithoutDone: () => false,
}

/**
 * Understands the error bodies seen in the wild: OpenAI's envelope, vLLM's
 * older flat `{"object":"error","message"}`, FastAPI's `{"detail": …}` and
 * plain text. The message is kept; nothing else of the body is.
 */
export function parseErrorBody (statusCode: number, contentType: string | undefined, text: string): ParsedUpstreamError {
  const fallback = { message: `Upstream answered HTTP ${statusCode}`, type: null, code: null, param: null }
  if (contentType?.includes('json')) {
    let json: unknown
    try { json = JSON.parse(text) } catch { return { ...fallback, message: `${fallback.message} with malformed JSON` } }
    if (json && typeof json === 'object') {
      const body = json as Record<string, unknown>
      if ('error' in body) return errorFromField(body.error) ?? fallback
      if ('detail' in body) return { ...fallback, message: detailMessage(body.detail) }
      if (typeof body.message === 'string') return { ...fallback, message: body.message, type: str(body.type), code: codeString(body.code) }
    }
    return fallback
  }
  const trimmed = text.trim().slice(0, 500)
  return trimmed ? { ...fallback, message: trimmed } : fallback
}

function errorFromField (error: unknown): ParsedUpstreamError | undefined {
  if (typeof error === 'string') return { message: error, type: null, code: null, param: null }
  if (!error || typeof error !== 'object') return undefined
  const e = error as Record<string, unknown>
  return {
    message: typeof e.message === 'string' && e.message ? e.message : 'Upstream reported an error',
    type: str(e.type),
    code: codeString(e.code),
    param: str(e.param),
  }
}

/** FastAPI puts a string in `detail`, or a list of validation problems `[{loc, msg, type}]`. */
function detailMessage (detail: unknown): string {
  if (typeof detail === 'string') return detail
  if (Array.isArray(detail)) {
    return detail.map((d) => {
      const item = d as { loc?: unknown, msg?: unknown }
      const loc = Array.isArray(item.loc) ? item.loc.join('.') : ''
      return loc ? `${loc}: ${String(item.msg)}` : String(item.msg ?? JSON.stringify(d))
    }).join('; ')
  }
  return JSON.stringify(detail)
}

function str (v: unknown): string | null {
  return typeof v === 'string' && v ? v : null
}

/** vLLM ≥ 0.10.1 puts the HTTP status number in `code`; the envelope wants a string. */
function codeString (v: unknown): string | null {
  if (typeof v === 'string' && v) return v
  if (typeof v === 'number') return String(v)
  return null
}
