/**
 * `event: error` as OpenAI sends it mid-stream (SPEC §5.1): what
 * `client.responses.stream()` throws as an APIError. The one renderer for
 * both Responses paths, the native stream (formats/responses-openai.ts) and
 * the chat facade (chat-stream-events.ts), so a client sees the same bytes
 * whichever upstream served it. The members in the order SPEC §5.1 and
 * OpenAI's reference give them; `sequence` is one past the last event sent.
 */
export function responsesErrorEvent (message: string, sequence: number, code = 'upstream_error'): string {
  return `event: error\ndata: ${JSON.stringify({ type: 'error', code, message, param: null, sequence_number: sequence })}\n\n`
}
