import t from 'tap'
import { readAll, startRelayOver } from '../helpers/relay.js'
import { NATIVE_EVENTS, nativeStreamText, responsesFrame, writeNativeStream } from '../helpers/responses-upstream.js'
import { postResponses, responsesBody } from '../helpers/responses-relay.js'

// SPEC §5.1: a streamed POST /v1/responses to an OpenAI-kind upstream goes to its /responses and
// the typed events come back byte for byte, ending after response.completed (no [DONE]); usage
// from response.completed reaches the log line. With a model alias only the Response objects'
// `model` is rewritten.

t.test('native: the upstream\'s typed events byte for byte, usage in the log line', async (t) => {
  const { up, relay } = await startRelayOver(t, (_req, res) => writeNativeStream(res), {}, { apiKey: 'sk-up-secret' })
  const body = responsesBody('gpt-5-mini', { reasoning: { summary: 'auto' }, tools: [{ type: 'web_search' }] })
  const res = await postResponses(relay, body)
  t.equal(res.status, 200)
  t.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8')
  const { text } = await readAll(res)
  t.equal(text, nativeStreamText(), 'every event exactly as sent, nothing after response.completed')
  t.equal(up.requests[0]?.url, '/v1/responses')
  t.strictSame(up.requests[0]?.json, body, 'the upstream got the client\'s request untouched (hosted tools and all)')
  t.equal(up.requests[0]?.headers.authorization, 'Bearer sk-up-secret')
  const [line] = await relay.waitForSummaries()
  t.match(line, { url: '/v1/responses', outcome: 'completed', status: 200, stream: true, format: 'openai', finishReason: 'tool_calls', promptTokens: 12, completionTokens: 9, frames: NATIVE_EVENTS.length })
})

t.test('native with a model alias: the upstream gets its own model, the client sees the alias in the Response objects only', async (t) => {
  const { up, relay } = await startRelayOver(t, (_req, res) => writeNativeStream(res), { aliases: { fast: 'gpt-5-mini' } })
  const res = await postResponses(relay, responsesBody('fast'))
  const { text } = await readAll(res)
  t.equal(up.requests[0]?.json.model, 'gpt-5-mini')
  const expected = NATIVE_EVENTS.map(([name, fields], i) => {
    const response = fields.response as Record<string, unknown> | undefined
    return responsesFrame(name, response === undefined ? fields : { ...fields, response: { ...response, model: 'fast' } }, i)
  }).join('')
  t.equal(text, expected, 'the snapshots carry "fast"; every other event byte for byte')
})
