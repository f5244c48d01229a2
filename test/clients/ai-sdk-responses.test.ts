import t from 'tap'
import { streamText } from 'ai'
import { createOpenAI } from '@ai-sdk/openai'
import { startClientRig, WEB_TOKEN } from '../helpers/clients.js'
import { writeNativeStream } from '../helpers/responses-upstream.js'
import { textOnlyEvents } from '../helpers/responses-relay.js'
import { pyJson, xChatChunk, xFrame, xStream } from '../helpers/xinference.js'

// The AI SDK's default OpenAI provider, `createOpenAI({ baseURL, apiKey })(model)`, speaks the
// Responses API: `streamText` through the relay against an OpenAI-kind upstream (its own
// /responses) and a Xinference-kind one (the relay's facade over chat), exact text both ways.

function responsesModel (baseURL: string, model: string) {
  return createOpenAI({ baseURL, apiKey: WEB_TOKEN })(model)
}

t.test('native: streamText gives the answer deltas exactly, the reasoning apart, and the usage', async (t) => {
  const { up, baseURL } = await startClientRig(t)
  up.handler = (_req, res) => writeNativeStream(res, textOnlyEvents(), 5)
  const result = streamText({ model: responsesModel(baseURL, 'gpt-5-mini'), prompt: 'hi', maxRetries: 0 })
  const deltas: string[] = []
  for await (const delta of result.textStream) deltas.push(delta)
  t.same(deltas, ['Hello', ' from ', 'Zürich'])
  t.equal(await result.text, 'Hello from Zürich')
  t.equal((await result.finalStep).reasoningText, 'Greeting back.')
  const usage = await result.usage
  t.equal(usage.inputTokens, 12)
  t.equal(usage.outputTokens, 9)
  t.equal(up.requests[0]?.url, '/v1/responses', 'the SDK asked the Responses API')
})

t.test('through chat (Xinference): streamText gives the same exact text', async (t) => {
  const { up, baseURL } = await startClientRig(t, {}, { kind: 'xinference' })
  up.handler = (_req, res) => xStream(res, [
    ...[
      xChatChunk({ role: 'assistant', content: null, reasoning_content: 'Brief.' }),
      xChatChunk({ content: 'Hello' }),
      xChatChunk({ content: ' from ' }),
      xChatChunk({ content: 'Zürich' }),
      xChatChunk({}, { finish: 'stop', usage: { prompt_tokens: 6, completion_tokens: 3, total_tokens: 9 } }),
    ].map((chunk) => xFrame(pyJson(chunk))),
    xFrame('[DONE]'),
  ])
  const result = streamText({ model: responsesModel(baseURL, 'qwen3'), prompt: 'hi', maxRetries: 0 })
  const deltas: string[] = []
  for await (const delta of result.textStream) deltas.push(delta)
  t.same(deltas, ['Hello', ' from ', 'Zürich'])
  t.equal(await result.finishReason, 'stop')
  const usage = await result.usage
  t.equal(usage.inputTokens, 6)
  t.equal(usage.outputTokens, 3)
  t.equal(up.requests[0]?.url, '/v1/chat/completions')
})
