/**
 * The chat stream the Responses facade tests translate (SPEC §5.1), and the
 * events it must become: one script for the unit tests (ChatStreamEvents
 * fed chunk objects) and the relay tests (a Xinference upstream's frames),
 * so the two check the same translation.
 *
 * What a reasoning model with tools sends (DeepSeek, vLLM, Qwen on
 * Xinference): its reasoning, then its answer (with a non-ASCII character),
 * then two tool calls: the first OpenAI's way (name and empty arguments, then
 * the arguments in pieces under the same index), the second Ollama's way
 * (index 0 again, told apart only by its new id).
 */

/** The `delta` of each chunk, in order; the last one carries `FACADE_FINISH`. */
export const FACADE_DELTAS: Array<Record<string, unknown>> = [
  { role: 'assistant', content: null, reasoning_content: 'Thinking ' },
  { content: null, reasoning_content: 'briefly.' },
  { content: 'Hello' },
  { content: ' from Zürich' },
  { tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } }] },
  { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] },
  { tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] },
  { tool_calls: [{ index: 0, id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{}' } }] },
  {},
]

export const FACADE_FINISH = 'tool_calls'

/** The usage: Xinference sends it in the finish chunk, OpenAI's include_usage in a chunk of its own. */
export const FACADE_USAGE = { prompt_tokens: 20, completion_tokens: 11, total_tokens: 31 }

/** Every `.delta` event's text, reasoning, answer and arguments, in order. */
export const FACADE_DELTA_TEXTS = ['Thinking ', 'briefly.', 'Hello', ' from Zürich', '{"city":', '"Paris"}', '{}']

/** The calls, as [call_id, name, arguments]. */
export const FACADE_CALLS = [['call_a', 'get_weather', '{"city":"Paris"}'], ['call_b', 'get_time', '{}']]

/** The Responses events the stream becomes, by name: each item closed when the next one opens. */
export const FACADE_EVENTS = [
  'response.created', 'response.in_progress',
  'response.output_item.added', 'response.content_part.added', 'response.reasoning_text.delta', 'response.reasoning_text.delta',
  'response.reasoning_text.done', 'response.content_part.done', 'response.output_item.done',
  'response.output_item.added', 'response.content_part.added', 'response.output_text.delta', 'response.output_text.delta',
  'response.output_text.done', 'response.content_part.done', 'response.output_item.done',
  'response.output_item.added', 'response.function_call_arguments.delta', 'response.function_call_arguments.delta',
  'response.function_call_arguments.done', 'response.output_item.done',
  'response.output_item.added', 'response.function_call_arguments.delta', 'response.function_call_arguments.done', 'response.output_item.done',
  'response.completed',
]
