import { ToolCallAssembler } from '../formats/tool-calls.js'
import { responsesErrorEvent } from './error-event.js'
import { newId, responseShell, responsesUsage, statusOf, type ChatUsage } from './response-object.js'

/**
 * A chat-completions stream, told as the Responses API's typed events
 * (SPEC §5.1), so `client.responses.stream()` works against an upstream that
 * only has chat (Xinference). Fed one parsed chat chunk at a time; each call
 * returns the SSE text of the events that chunk completes, to be written at
 * once (nothing is held back).
 *
 * The output items open in the order the model produces them: its reasoning
 * (`reasoning` item), its answer (`message` item), then one `function_call`
 * item per tool call. An item is closed (`…done` events) when the next one
 * opens or the stream ends. Every event carries a `sequence_number` that goes
 * up by one, from 0.
 */

type Json = Record<string, unknown>

interface ToolCallDelta {
  index?: number
  id?: string
  function?: { name?: string, arguments?: string }
}

/** The parts of a chat chunk read here. */
export interface ChatChunk {
  choices?: Array<{
    delta?: { content?: unknown, reasoning_content?: unknown, reasoning?: unknown, tool_calls?: ToolCallDelta[] }
    finish_reason?: unknown
  }>
  usage?: ChatUsage | null
}

type OpenItem =
  | { kind: 'reasoning', index: number, id: string, text: string }
  | { kind: 'message', index: number, id: string, text: string }
  | { kind: 'function_call', index: number, id: string, callId: string, name: string, args: string }

export class ChatStreamEvents {
  readonly #response: Json
  readonly #output: Json[] = []
  #sequence = 0
  #open: OpenItem | undefined
  /** Decides which tool-call deltas start a new call (the content events' rule, formats/tool-calls.ts). */
  readonly #calls = new ToolCallAssembler()
  #finishReason: string | null = null
  #usage: ChatUsage | null = null

  /** `request` is the client's Responses request (its fields are echoed in the Response object). */
  constructor (request: Json, id = newId('resp'), createdAt = Math.floor(Date.now() / 1000)) {
    this.#response = responseShell(id, createdAt, request)
  }

  /** The number the next event gets: an error event after a failure takes it. */
  get nextSequence (): number {
    return this.#sequence
  }

  /** The finish reason and usage seen so far, for the request's log line. */
  get finishReason (): string | null { return this.#finishReason }
  get usage (): ChatUsage | null { return this.#usage }

  /** `response.created` and `response.in_progress`: written before the first chunk. */
  start (): string {
    const snapshot = { ...this.#response, output: [] }
    return this.#event('response.created', { response: snapshot }) + this.#event('response.in_progress', { response: snapshot })
  }

  chunk (chunk: ChatChunk): string {
    if (chunk.usage && typeof chunk.usage === 'object') this.#usage = chunk.usage
    const choice = chunk.choices?.[0]
    if (!choice) return ''
    let out = ''
    const delta = choice.delta
    if (delta) {
      const reasoning = typeof delta.reasoning_content === 'string' ? delta.reasoning_content : typeof delta.reasoning === 'string' ? delta.reasoning : ''
      if (reasoning !== '') out += this.#reasoning(reasoning)
      if (typeof delta.content === 'string' && delta.content !== '') out += this.#text(delta.content)
      if (Array.isArray(delta.tool_calls)) {
        // A server's junk element (null, a string) is no call: skipped, as the content events skip it.
        for (const call of delta.tool_calls) if (call !== null && typeof call === 'object') out += this.#toolCall(call)
      }
    }
    if (typeof choice.finish_reason === 'string') this.#finishReason = choice.finish_reason
    return out
  }

  /** The chat stream ended properly: close the open item, then `response.completed` (or `.incomplete`). */
  finish (): string {
    const out = this.#close()
    const response = this.result()
    return out + this.#event(response.status === 'completed' ? 'response.completed' : 'response.incomplete', { response })
  }

  /** The Response object as it stands (complete once `finish()` ran): also the non-streamed facade's answer. */
  result (): Json {
    const { status, incomplete_details: details } = statusOf(this.#finishReason)
    return { ...this.#response, status, incomplete_details: details, output: this.#output, usage: responsesUsage(this.#usage) }
  }

  /** The one event after a failure (SPEC §5.1); never followed by `response.completed`. */
  fail (message: string, code = 'upstream_error'): string {
    // The native stream's renderer, so both paths write the same bytes (not #event, whose member order differs).
    return responsesErrorEvent(message, this.#sequence++, code)
  }

  #event (type: string, fields: Json): string {
    const data = JSON.stringify({ type, sequence_number: this.#sequence++, ...fields })
    return `event: ${type}\ndata: ${data}\n\n`
  }

  #reasoning (delta: string): string {
    let out = ''
    if (this.#open?.kind !== 'reasoning') {
      out += this.#close()
      const item = { kind: 'reasoning' as const, index: this.#output.length, id: newId('rs'), text: '' }
      this.#open = item
      out += this.#event('response.output_item.added', { output_index: item.index, item: { id: item.id, type: 'reasoning', summary: [], status: 'in_progress' } })
      out += this.#event('response.content_part.added', { item_id: item.id, output_index: item.index, content_index: 0, part: { type: 'reasoning_text', text: '' } })
    }
    const open = this.#open as Extract<OpenItem, { kind: 'reasoning' }>
    open.text += delta
    return out + this.#event('response.reasoning_text.delta', { item_id: open.id, output_index: open.index, content_index: 0, delta })
  }

  #text (delta: string): string {
    let out = ''
    if (this.#open?.kind !== 'message') {
      out += this.#close()
      const item = { kind: 'message' as const, index: this.#output.length, id: newId('msg'), text: '' }
      this.#open = item
      out += this.#event('response.output_item.added', { output_index: item.index, item: { id: item.id, type: 'message', role: 'assistant', status: 'in_progress', content: [] } })
      out += this.#event('response.content_part.added', { item_id: item.id, output_index: item.index, content_index: 0, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } })
    }
    const open = this.#open as Extract<OpenItem, { kind: 'message' }>
    open.text += delta
    return out + this.#event('response.output_text.delta', { item_id: open.id, output_index: open.index, content_index: 0, delta, logprobs: [] })
  }

  /**
   * A tool-call delta. Whether it starts a new call is the assembler's answer
   * (a new index, or a new id: Ollama gives every call index 0 and tells them
   * apart only by id), so this facade and the content events split calls alike.
   * A call the model broke off for text or reasoning goes on in a new item:
   * an item, once closed, is not reopened.
   */
  #toolCall (delta: ToolCallDelta): string {
    let out = ''
    const starts = this.#calls.take(delta)
    const isNew = starts || this.#open?.kind !== 'function_call'
    if (isNew) {
      out += this.#close()
      const item = { kind: 'function_call' as const, index: this.#output.length, id: newId('fc'), callId: delta.id ?? newId('fc').replace('fc_', 'call_'), name: delta.function?.name ?? '', args: '' }
      this.#open = item
      out += this.#event('response.output_item.added', { output_index: item.index, item: this.#functionCall(item, 'in_progress') })
    }
    const call = this.#open as Extract<OpenItem, { kind: 'function_call' }>
    // Some servers send the name in pieces, or only after the first delta.
    if (!isNew && typeof delta.function?.name === 'string') call.name += delta.function.name
    const args = delta.function?.arguments
    if (typeof args === 'string' && args !== '') {
      call.args += args
      out += this.#event('response.function_call_arguments.delta', { item_id: call.id, output_index: call.index, delta: args })
    }
    return out
  }

  #functionCall (call: Extract<OpenItem, { kind: 'function_call' }>, status: string): Json {
    return { id: call.id, type: 'function_call', status, arguments: call.args, call_id: call.callId, name: call.name }
  }

  /** Ends the open item with its `…done` events and records it in the response's output. */
  #close (): string {
    const open = this.#open
    if (!open) return ''
    this.#open = undefined
    const at = { item_id: open.id, output_index: open.index }
    let out = ''
    let item: Json
    switch (open.kind) {
      case 'reasoning': {
        const part = { type: 'reasoning_text', text: open.text }
        out += this.#event('response.reasoning_text.done', { ...at, content_index: 0, text: open.text })
        out += this.#event('response.content_part.done', { ...at, content_index: 0, part })
        item = { id: open.id, type: 'reasoning', summary: [], content: [part], status: 'completed' }
        break
      }
      case 'message': {
        const part = { type: 'output_text', text: open.text, annotations: [], logprobs: [] }
        out += this.#event('response.output_text.done', { ...at, content_index: 0, text: open.text, logprobs: [] })
        out += this.#event('response.content_part.done', { ...at, content_index: 0, part })
        item = { id: open.id, type: 'message', role: 'assistant', status: 'completed', content: [part] }
        break
      }
      case 'function_call':
        out += this.#event('response.function_call_arguments.done', { ...at, name: open.name, arguments: open.args })
        item = this.#functionCall(open, 'completed')
        break
    }
    this.#output.push(item)
    return out + this.#event('response.output_item.done', { output_index: open.index, item })
  }
}
