import { ChatStreamEvents, type ChatChunk } from './chat-stream-events.js'

type Json = Record<string, unknown>

interface ChatCompletion {
  choices?: Array<{ message?: Record<string, unknown>, finish_reason?: unknown }>
  usage?: ChatChunk['usage']
}

/**
 * A non-streamed chat completion as a Response object (SPEC §5.1, the facade
 * without `stream`). The answer is told to the stream translator as one chunk
 * whose delta is the whole message, so both paths build the same output items.
 */
export function chatToResponse (completion: ChatCompletion, request: Json): Json {
  const events = new ChatStreamEvents(request)
  const choice = completion.choices?.[0]
  const message = choice?.message ?? {}
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls as Array<Record<string, unknown>> : []
  events.chunk({
    choices: [{
      delta: {
        content: message.content,
        reasoning_content: message.reasoning_content,
        reasoning: message.reasoning,
        tool_calls: calls.map((call, index) => ({ index, id: call.id as string, function: call.function as { name?: string, arguments?: string } })),
      },
      finish_reason: choice?.finish_reason,
    }],
    usage: completion.usage ?? null,
  })
  events.finish()
  return events.result()
}
