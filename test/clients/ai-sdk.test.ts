import t from 'tap'
import { streamText, tool, jsonSchema } from 'ai'
import { createOpenAICompatible } from '@ai-sdk/openai-compatible'
import { createOpenAI } from '@ai-sdk/openai'
import { z } from 'zod'
import { startClientRig, scriptFrames, reasoningFrames, scriptEndless, answerFrames, toolCallFrames, cancelMidStream, checkCancelled, WEB_TOKEN, MODEL } from '../helpers/clients.js'

// The Vercel AI SDK (v7) `streamText` through the relay, with `@ai-sdk/openai-compatible` (what
// vLLM, DeepSeek, Ollama and LM Studio users configure) and `@ai-sdk/openai`'s chat model:
// given only the relay's base URL and a relay token.

const PIECES = ['The ', 'relay ', 'streams ', 'every ', 'token ', '✓']

function compatible (baseURL: string) {
  return createOpenAICompatible({ baseURL, apiKey: WEB_TOKEN, includeUsage: true, name: 'relay' })
}

t.test('openai-compatible: exact text deltas, and the usage numbers the upstream counted', async (t) => {
  const { up, baseURL } = await startClientRig(t)
  scriptFrames(up, answerFrames(PIECES), { usage: [21, 6], gapMs: 5 })
  const result = streamText({ model: compatible(baseURL)(MODEL), prompt: 'hi', maxRetries: 0 })
  const deltas: string[] = []
  for await (const delta of result.textStream) deltas.push(delta)
  t.same(deltas, PIECES, 'one text delta per upstream delta')
  t.equal(await result.text, PIECES.join(''))
  t.equal(await result.finishReason, 'stop')
  const usage = await result.usage
  t.equal(usage.inputTokens, 21, 'inputTokens')
  t.equal(usage.outputTokens, 6, 'outputTokens')
  t.equal(usage.totalTokens, 27, 'totalTokens')
  t.equal(up.requests[0]?.json.stream_options?.include_usage, true, 'the client\'s own include_usage went upstream')
  t.equal(up.requests[0]?.headers.authorization?.includes(WEB_TOKEN), false, 'the relay token stayed at the relay')
})

t.test('openai-compatible: reasoning_content deltas are reasoning parts and reasoningText, apart from the answer', async (t) => {
  const { up, baseURL } = await startClientRig(t)
  const thinking = ['The user ', 'greets; ', 'answer ', 'briefly.']
  const answer = ['Hello', ' there!']
  // DeepSeek / vLLM: reasoning first (content null), then the answer.
  scriptFrames(up, reasoningFrames(thinking, answer), { usage: [9, 12], gapMs: 5 })
  const result = streamText({ model: compatible(baseURL)(MODEL), prompt: 'hi', maxRetries: 0 })
  const parts: Array<[string, string]> = []
  for await (const part of result.fullStream) {
    if (part.type === 'reasoning-delta' || part.type === 'text-delta') parts.push([part.type, part.text])
  }
  t.same(parts, [
    ...thinking.map((r) => ['reasoning-delta', r]),
    ...answer.map((c) => ['text-delta', c]),
  ], 'reasoning deltas, then text deltas, each exactly as sent')
  const step = await result.finalStep
  t.equal(step.reasoningText, thinking.join(''), 'reasoningText')
  t.equal(step.text, answer.join(''), 'the text is the answer alone')
  t.same(step.reasoning.map((r) => r.type === 'reasoning' ? r.text : ''), [thinking.join('')], 'one reasoning part')
})

t.test('openai-compatible: a tool call split across chunks arrives as one typed toolCall', async (t) => {
  const { up, baseURL } = await startClientRig(t)
  const args = '{"city":"Paris","days":3}'
  scriptFrames(up, toolCallFrames([{ id: 'call_forecast_1', name: 'get_forecast', pieces: [args.slice(0, 4), args.slice(4, 15), args.slice(15)] }]), { usage: [30, 8], gapMs: 5 })
  const result = streamText({
    model: compatible(baseURL)(MODEL),
    prompt: 'Weather in Paris for 3 days?',
    maxRetries: 0,
    tools: {
      get_forecast: tool({ description: 'The forecast for a city', inputSchema: z.object({ city: z.string(), days: z.number().int() }) }),
      get_time: tool({ description: 'The time in a zone', inputSchema: jsonSchema<{ tz: string }>({ type: 'object', properties: { tz: { type: 'string' } }, required: ['tz'] }) }),
    },
  })
  const calls = await result.toolCalls
  t.same(calls.map((c) => ({ id: c.toolCallId, name: c.toolName, input: c.input })), [
    { id: 'call_forecast_1', name: 'get_forecast', input: { city: 'Paris', days: 3 } },
  ], 'the call, its arguments parsed against the schema')
  t.equal(await result.finishReason, 'tool-calls')
  t.equal(await result.text, '')
  const sent = up.requests[0]?.json
  t.same(sent?.tools?.map((tl: any) => tl.function.name).sort(), ['get_forecast', 'get_time'], 'both tools went upstream')
})

t.test('openai-compatible: abortSignal cancels the upstream generation within 1 s', async (t) => {
  const rig = await startClientRig(t)
  const reply = scriptEndless(rig.up)
  const controller = new AbortController()
  const result = streamText({ model: compatible(rig.baseURL)(MODEL), prompt: 'count', maxRetries: 0, abortSignal: controller.signal })
  const read = await cancelMidStream(rig.up, result.fullStream, (part) => part.type === 'text-delta' ? part.text : '', () => controller.abort())
  await checkCancelled(t, rig, reply, read)
  const types = read.items.map((part) => part.type)
  t.equal(read.thrown, undefined, 'fullStream ended without throwing')
  t.equal(types.at(-1), 'abort', 'the last part says the stream was aborted')
  t.notOk(types.includes('finish'), 'and never that it finished')
})

t.test('@ai-sdk/openai chat model: exact text and usage through the relay', async (t) => {
  const { up, baseURL } = await startClientRig(t)
  scriptFrames(up, answerFrames(PIECES), { usage: [4, 6], gapMs: 5 })
  const openai = createOpenAI({ baseURL, apiKey: WEB_TOKEN })
  const result = streamText({ model: openai.chat(MODEL), prompt: 'hi', maxRetries: 0 })
  const deltas: string[] = []
  for await (const delta of result.textStream) deltas.push(delta)
  t.same(deltas, PIECES)
  const usage = await result.usage
  t.same([usage.inputTokens, usage.outputTokens, usage.totalTokens], [4, 6, 10])
  t.equal(await result.finishReason, 'stop')
})
