import { InvalidRequestError } from '../errors.js'

/**
 * The Responses API's request, translated into a chat-completions request for
 * an upstream that has no `/v1/responses` (Xinference; any upstream entry with
 * `"responses": "chat"`, SPEC §5.1). Only what chat can say is translated; a
 * feature chat cannot express (a stored conversation, hosted tools, background
 * runs) is a clear 400 rather than a silent difference in behaviour.
 */

type Json = Record<string, unknown>

export interface ChatMessage {
  role: string
  content?: unknown
  tool_calls?: Array<{ id: string, type: 'function', function: { name: string, arguments: string } }>
  tool_call_id?: string
}

/** Fields of a Responses request that chat has under the same name and meaning. */
const SAME_NAME = ['model', 'stream', 'temperature', 'top_p', 'user', 'parallel_tool_calls', 'metadata', 'seed', 'stop'] as const

/** Fields that need the upstream to keep state or run tools chat cannot: refused, named. */
const UNSUPPORTED: Record<string, string> = {
  previous_response_id: 'a stored conversation (previous_response_id)',
  conversation: 'a stored conversation',
  background: 'background responses',
  prompt: 'stored prompts',
}

export function responsesToChat (body: Json): Json {
  for (const [field, what] of Object.entries(UNSUPPORTED)) {
    if (body[field] !== undefined && body[field] !== null && body[field] !== false) {
      throw InvalidRequestError({ param: field }, `This model's upstream serves the Responses API through chat completions, which cannot do ${what}`)
    }
  }
  const chat: Json = {}
  for (const field of SAME_NAME) if (body[field] !== undefined) chat[field] = body[field]
  chat.messages = messagesOf(body)
  if (typeof body.max_output_tokens === 'number') chat.max_tokens = body.max_output_tokens
  if (body.tools !== undefined) chat.tools = toolsOf(body.tools)
  if (body.tool_choice !== undefined) chat.tool_choice = toolChoiceOf(body.tool_choice)
  const format = (body.text as Json | undefined)?.format as Json | undefined
  if (format !== undefined) chat.response_format = responseFormatOf(format)
  const effort = (body.reasoning as Json | undefined)?.effort
  if (typeof effort === 'string') chat.reasoning_effort = effort
  return chat
}

function messagesOf (body: Json): ChatMessage[] {
  const messages: ChatMessage[] = []
  if (typeof body.instructions === 'string' && body.instructions !== '') messages.push({ role: 'system', content: body.instructions })
  const input = body.input
  if (typeof input === 'string') {
    messages.push({ role: 'user', content: input })
  } else if (Array.isArray(input)) {
    input.forEach((item, i) => addItem(messages, item, `input[${i}]`))
  } else {
    throw InvalidRequestError({ param: 'input' }, '"input" must be a string or an array of input items')
  }
  if (messages.length === 0) throw InvalidRequestError({ param: 'input' }, '"input" must not be empty')
  return messages
}

/** One input item: a message, a function call the model made earlier, or its output. */
function addItem (messages: ChatMessage[], item: unknown, param: string): void {
  if (!item || typeof item !== 'object' || Array.isArray(item)) throw InvalidRequestError({ param }, `"${param}" must be an object`)
  const it = item as Json
  const type = it.type ?? 'message'
  switch (type) {
    case 'message': {
      if (typeof it.role !== 'string') throw InvalidRequestError({ param: `${param}.role` }, `"${param}.role" must be a string`)
      messages.push({ role: it.role === 'developer' ? 'system' : it.role, content: contentOf(it.content, `${param}.content`) })
      return
    }
    case 'function_call': {
      const call = { id: String(it.call_id ?? it.id ?? ''), type: 'function' as const, function: { name: String(it.name ?? ''), arguments: String(it.arguments ?? '') } }
      // Several calls of one turn are one assistant message with several tool_calls.
      const last = messages[messages.length - 1]
      if (last?.role === 'assistant' && last.tool_calls && (last.content === null || last.content === undefined)) last.tool_calls.push(call)
      else messages.push({ role: 'assistant', content: null, tool_calls: [call] })
      return
    }
    case 'function_call_output': {
      const output = typeof it.output === 'string' ? it.output : JSON.stringify(it.output)
      messages.push({ role: 'tool', tool_call_id: String(it.call_id ?? ''), content: output })
      return
    }
    case 'reasoning':
      // The model's earlier reasoning: chat has no way to send it back.
      return
    default:
      throw InvalidRequestError({ param: `${param}.type` }, `Input items of type "${String(type)}" cannot be sent through chat completions`)
  }
}

/** A message's content: a string, or parts (input_text/output_text → text, input_image → image_url). */
function contentOf (content: unknown, param: string): unknown {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) throw InvalidRequestError({ param }, `"${param}" must be a string or an array of content parts`)
  const parts = content.map((part, i) => {
    const p = (part ?? {}) as Json
    switch (p.type) {
      case 'input_text':
      case 'output_text':
      case 'text':
        return { type: 'text', text: String(p.text ?? '') }
      case 'input_image': {
        const url = p.image_url ?? (p.file_id !== undefined ? undefined : p.url)
        if (typeof url !== 'string') throw InvalidRequestError({ param: `${param}[${i}]` }, 'Only input_image parts with an image_url can be sent through chat completions')
        return { type: 'image_url', image_url: { url, ...(p.detail !== undefined ? { detail: p.detail } : {}) } }
      }
      default:
        throw InvalidRequestError({ param: `${param}[${i}].type` }, `Content parts of type "${String(p.type)}" cannot be sent through chat completions`)
    }
  })
  // All text: one string, which every chat server accepts (some reject part arrays).
  return parts.every((p) => p.type === 'text') ? parts.map((p) => (p as { text: string }).text).join('') : parts
}

function toolsOf (tools: unknown): unknown[] {
  if (!Array.isArray(tools)) throw InvalidRequestError({ param: 'tools' }, '"tools" must be an array')
  return tools.map((tool, i) => {
    const t = (tool ?? {}) as Json
    if (t.type !== 'function') throw InvalidRequestError({ param: `tools[${i}].type` }, `Tools of type "${String(t.type)}" need the upstream's own Responses API; only function tools go through chat completions`)
    const fn: Json = { name: t.name }
    if (t.description !== undefined) fn.description = t.description
    if (t.parameters !== undefined) fn.parameters = t.parameters
    if (t.strict !== undefined && t.strict !== null) fn.strict = t.strict
    return { type: 'function', function: fn }
  })
}

function toolChoiceOf (choice: unknown): unknown {
  if (typeof choice === 'string') return choice
  const c = (choice ?? {}) as Json
  if (c.type === 'function' && typeof c.name === 'string') return { type: 'function', function: { name: c.name } }
  throw InvalidRequestError({ param: 'tool_choice' }, '"tool_choice" must be auto, none, required or a function')
}

function responseFormatOf (format: Json): unknown {
  if (format.type === 'json_schema') {
    const schema: Json = { name: format.name ?? 'response', schema: format.schema }
    if (format.strict !== undefined) schema.strict = format.strict
    if (format.description !== undefined) schema.description = format.description
    return { type: 'json_schema', json_schema: schema }
  }
  return { type: format.type }
}
