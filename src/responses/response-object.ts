import { randomBytes } from 'node:crypto'

/**
 * The Response object of OpenAI's Responses API as the chat facade builds it
 * (SPEC §5.1): the same fields the SDK types declare, filled from the request
 * and from what the chat stream or answer said. One module for the streamed
 * and the non-streamed facade, so both describe a response the same way.
 */

type Json = Record<string, unknown>

/** An id in OpenAI's style (`resp_…`, `msg_…`, `fc_…`, `rs_…`): a prefix and 24 random bytes in hex. */
export function newId (prefix: 'resp' | 'msg' | 'fc' | 'rs'): string {
  return `${prefix}_${randomBytes(24).toString('hex')}`
}

export interface ChatUsage {
  prompt_tokens?: number
  completion_tokens?: number
  total_tokens?: number
  prompt_tokens_details?: { cached_tokens?: number } | null
  completion_tokens_details?: { reasoning_tokens?: number } | null
}

/** Chat's token counts in the Responses API's names; null when the upstream said nothing. */
export function responsesUsage (usage: ChatUsage | null | undefined): Json | null {
  if (!usage || typeof usage !== 'object') return null
  const input = usage.prompt_tokens ?? 0
  const output = usage.completion_tokens ?? 0
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: usage.prompt_tokens_details?.cached_tokens ?? 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: usage.completion_tokens_details?.reasoning_tokens ?? 0 },
    total_tokens: usage.total_tokens ?? input + output,
  }
}

/** What a finished chat choice's finish_reason makes of the response's status. */
export function statusOf (finishReason: string | null): { status: 'completed' | 'incomplete', incomplete_details: Json | null } {
  if (finishReason === 'length') return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } }
  if (finishReason === 'content_filter') return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } }
  return { status: 'completed', incomplete_details: null }
}

/** The Response object's fields that echo the request (the client's own names, not chat's). */
export function responseShell (id: string, createdAt: number, request: Json): Json {
  return {
    id,
    object: 'response',
    created_at: createdAt,
    status: 'in_progress',
    background: false,
    error: null,
    incomplete_details: null,
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    metadata: request.metadata ?? {},
    model: request.model,
    output: [],
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: null,
    reasoning: { effort: (request.reasoning as Json | undefined)?.effort ?? null, summary: null },
    store: false,
    temperature: request.temperature ?? null,
    text: request.text ?? { format: { type: 'text' } },
    tool_choice: request.tool_choice ?? 'auto',
    tools: request.tools ?? [],
    top_p: request.top_p ?? null,
    truncation: 'disabled',
    usage: null,
  }
}
