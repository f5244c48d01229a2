import type { ServerResponse } from 'node:http'
import { sleep } from './upstream.js'

/**
 * What a Xinference server puts on the wire, as its source says
 * (xorbitsai/inference, xinference/api/restful_api.py and core/model.py;
 * sse-starlette's sse.py and event.py), for tests that script a scripted
 * upstream to behave like one:
 *
 * - Streams are sse-starlette `EventSourceResponse`s: every item is encoded by
 *   `ServerSentEvent.encode()` with `DEFAULT_SEPARATOR = "\r\n"`, so a frame is
 *   `data: {…}\r\n\r\n`; headers `Cache-Control: no-cache`, `Connection:
 *   keep-alive`, `X-Accel-Buffering: no`, media type text/event-stream.
 * - Keep-alive: `_ping()` sends `ServerSentEvent(comment=f"ping - {datetime.utcnow()}")`,
 *   i.e. `: ping - 2024-05-01 12:00:00.123456\r\n\r\n`, every
 *   XINFERENCE_SSE_PING_ATTEMPTS_SECONDS (600 by default).
 * - Each chunk is `dict(data=json.dumps(v, ensure_ascii=False))` (ModelActor
 *   `_to_async_gen`): Python's separators `", "` and `": "`, non-ASCII raw.
 * - `create_chat_completion`'s `stream_results()` yields the chunks, then
 *   `yield "[DONE]"`; on an exception it yields
 *   `dict(data=json.dumps({"error": str(ex)}))` and returns: no `[DONE]`.
 * - `create_completion`'s `stream_results()` yields the chunks and nothing
 *   else: a completions stream ends with no `[DONE]`, the connection just closes.
 * - Errors before streaming are FastAPI `HTTPException`s: `{"detail": "…"}`
 *   (400 bad input, 404 unknown model uid from `require_model`, 501, 503 "Model is
 *   loading, please retry later" with `Retry-After: 30`); an uncaught exception is
 *   a text/plain 500 "Internal Server Error: …" from its exception handler.
 * - `list_models()` answers `{"object": "list", "data": [{"id": uid, "object": "model",
 *   "created": 0, "owned_by": "xinference", **model_info}]}`.
 */
export const XINFERENCE_SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
}

/** `json.dumps(v, ensure_ascii=False)`: Python's default separators, non-ASCII kept. */
export function pyJson (value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pyJson).join(', ')}]`
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${pyJson(v)}`).join(', ')}}`
  }
  return JSON.stringify(value ?? null)
}

/** One sse-starlette data frame, CRLF line ends. */
export function xFrame (data: string): string {
  return `data: ${data}\r\n\r\n`
}

/** sse-starlette's keep-alive comment. */
export function xPing (): string {
  return ': ping - 2026-11-21 05:00:00.123456\r\n\r\n'
}

/** A chat chunk as Xinference builds it (id "chat" + completion id, no system_fingerprint). */
export function xChatChunk (delta: Record<string, unknown>, extra: { finish?: string, usage?: Record<string, number>, model?: string } = {}): Record<string, unknown> {
  const chunk: Record<string, unknown> = {
    id: 'chatcmpl-7f1c',
    model: extra.model ?? 'qwen2.5-instruct',
    created: 1_732_160_000,
    object: 'chat.completion.chunk',
    choices: [{ index: 0, delta, finish_reason: extra.finish ?? null }],
  }
  if (extra.usage) chunk.usage = extra.usage
  return chunk
}

/** A legacy completions chunk. */
export function xCompletionChunk (text: string, extra: { finish?: string, model?: string } = {}): Record<string, unknown> {
  return {
    id: 'cmpl-7f1c',
    object: 'text_completion',
    created: 1_732_160_000,
    model: extra.model ?? 'qwen2.5-instruct',
    choices: [{ text, index: 0, logprobs: null, finish_reason: extra.finish ?? null }],
  }
}

/** Writes the pieces (frames, pings) `gapMs` apart, then ends the response. */
export async function xStream (res: ServerResponse, pieces: string[], gapMs = 5): Promise<void> {
  res.writeHead(200, XINFERENCE_SSE_HEADERS)
  for (const piece of pieces) {
    if (res.destroyed) return
    res.write(piece)
    await sleep(gapMs)
  }
  res.end()
}

/** A FastAPI HTTPException answer. */
export function xDetail (res: ServerResponse, status: number, detail: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(JSON.stringify({ detail }))
}
