import type { ServerResponse } from 'node:http'

/**
 * What OpenAI's own `POST /v1/responses` with `"stream": true` sends, written
 * out by hand from the API reference (typed `event:` lines, `sequence_number`
 * from 0, no `[DONE]`): a reasoning summary, an answer in three deltas, one
 * function call, then `response.completed` with usage. Tests of the native
 * passthrough compare the relay's output with these bytes.
 */
export const RESPONSE_ID = 'resp_68af4030592c81938ec0a5fbab4a3e9f'

const response = (status: string, output: unknown[], usage: unknown = null) => ({
  id: RESPONSE_ID,
  object: 'response',
  created_at: 1756315696,
  status,
  background: false,
  error: null,
  incomplete_details: null,
  instructions: null,
  max_output_tokens: null,
  model: 'gpt-5-mini-2025-08-07',
  output,
  parallel_tool_calls: true,
  previous_response_id: null,
  reasoning: { effort: 'minimal', summary: 'auto' },
  store: true,
  temperature: 1,
  text: { format: { type: 'text' } },
  tool_choice: 'auto',
  tools: [],
  top_p: 1,
  truncation: 'disabled',
  usage,
  metadata: {},
})

const reasoningItem = { id: 'rs_01', type: 'reasoning', summary: [{ type: 'summary_text', text: 'Greeting back.' }] }
const message = (text: string, status: string) => ({ id: 'msg_01', type: 'message', status, role: 'assistant', content: status === 'completed' ? [{ type: 'output_text', annotations: [], logprobs: [], text }] : [] })
const call = (args: string, status: string) => ({ id: 'fc_01', type: 'function_call', status, arguments: args, call_id: 'call_Paris1', name: 'get_weather' })

const USAGE = { input_tokens: 12, input_tokens_details: { cached_tokens: 0 }, output_tokens: 9, output_tokens_details: { reasoning_tokens: 4 }, total_tokens: 21 }

/** The events, in order, as [event name, data object]; sequence numbers are added by `responsesStream`. */
export const NATIVE_EVENTS: Array<[string, Record<string, unknown>]> = [
  ['response.created', { response: response('in_progress', []) }],
  ['response.in_progress', { response: response('in_progress', []) }],
  ['response.output_item.added', { output_index: 0, item: { id: 'rs_01', type: 'reasoning', summary: [] } }],
  ['response.reasoning_summary_part.added', { item_id: 'rs_01', output_index: 0, summary_index: 0, part: { type: 'summary_text', text: '' } }],
  ['response.reasoning_summary_text.delta', { item_id: 'rs_01', output_index: 0, summary_index: 0, delta: 'Greeting ' }],
  ['response.reasoning_summary_text.delta', { item_id: 'rs_01', output_index: 0, summary_index: 0, delta: 'back.' }],
  ['response.reasoning_summary_text.done', { item_id: 'rs_01', output_index: 0, summary_index: 0, text: 'Greeting back.' }],
  ['response.reasoning_summary_part.done', { item_id: 'rs_01', output_index: 0, summary_index: 0, part: { type: 'summary_text', text: 'Greeting back.' } }],
  ['response.output_item.done', { output_index: 0, item: reasoningItem }],
  ['response.output_item.added', { output_index: 1, item: message('', 'in_progress') }],
  ['response.content_part.added', { item_id: 'msg_01', output_index: 1, content_index: 0, part: { type: 'output_text', annotations: [], logprobs: [], text: '' } }],
  ['response.output_text.delta', { item_id: 'msg_01', output_index: 1, content_index: 0, delta: 'Hello', logprobs: [] }],
  ['response.output_text.delta', { item_id: 'msg_01', output_index: 1, content_index: 0, delta: ' from ', logprobs: [] }],
  ['response.output_text.delta', { item_id: 'msg_01', output_index: 1, content_index: 0, delta: 'Zürich', logprobs: [] }],
  ['response.output_text.done', { item_id: 'msg_01', output_index: 1, content_index: 0, text: 'Hello from Zürich', logprobs: [] }],
  ['response.content_part.done', { item_id: 'msg_01', output_index: 1, content_index: 0, part: { type: 'output_text', annotations: [], logprobs: [], text: 'Hello from Zürich' } }],
  ['response.output_item.done', { output_index: 1, item: message('Hello from Zürich', 'completed') }],
  ['response.output_item.added', { output_index: 2, item: call('', 'in_progress') }],
  ['response.function_call_arguments.delta', { item_id: 'fc_01', output_index: 2, delta: '{"city":' }],
  ['response.function_call_arguments.delta', { item_id: 'fc_01', output_index: 2, delta: '"Paris"}' }],
  ['response.function_call_arguments.done', { item_id: 'fc_01', output_index: 2, arguments: '{"city":"Paris"}' }],
  ['response.output_item.done', { output_index: 2, item: call('{"city":"Paris"}', 'completed') }],
  ['response.completed', { response: response('completed', [reasoningItem, message('Hello from Zürich', 'completed'), call('{"city":"Paris"}', 'completed')], USAGE) }],
]

/** One SSE event as OpenAI writes it. */
export function responsesFrame (name: string, fields: Record<string, unknown>, sequence: number): string {
  return `event: ${name}\ndata: ${JSON.stringify({ type: name, ...fields, sequence_number: sequence })}\n\n`
}

/** The whole native stream as one string (what the relay must pass on byte for byte). */
export function nativeStreamText (events = NATIVE_EVENTS): string {
  return events.map(([name, fields], i) => responsesFrame(name, fields, i)).join('')
}

/** Writes the native stream frame by frame (each its own write), then ends; stops early when the client left. */
export async function writeNativeStream (res: ServerResponse, events = NATIVE_EVENTS, gapMs = 0): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' })
  for (let i = 0; i < events.length; i++) {
    if (res.destroyed) return
    const [name, fields] = events[i]!
    res.write(responsesFrame(name, fields, i))
    if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs))
  }
  res.end()
}
