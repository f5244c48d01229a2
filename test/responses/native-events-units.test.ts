import t from 'tap'
import { ResponsesEvents, type ResponsesEvent } from '../../src/formats/responses-events.js'
import type { StreamEvent, StreamSummary } from '../../src/formats/types.js'
import { NATIVE_EVENTS, responsesFrame } from '../helpers/responses-upstream.js'

t.test('a native Responses stream as format-neutral events: text, reasoning, the finished call, the summary', async (t) => {
  const split = new ResponsesEvents()
  const summary: StreamSummary = { finishReason: null, usage: null }
  const events: StreamEvent[] = []
  NATIVE_EVENTS.forEach(([name, fields], i) => {
    const data = responsesFrame(name, fields, i).split('\n')[1]!.slice('data: '.length)
    const parsed = JSON.parse(data) as ResponsesEvent
    split.record(parsed, summary)
    events.push(...split.of(parsed, data))
  })
  t.equal(events.filter((e) => e.type === 'chunk').length, NATIVE_EVENTS.length, 'every upstream event is kept for the openai form')
  t.equal(events.map((e) => e.type === 'chunk' ? e.text : '').join(''), 'Hello from Zürich', 'the answer text from output_text deltas only')
  t.same(events.filter((e) => e.type === 'reasoning').map((e) => (e as { text: string }).text), ['Greeting ', 'back.'])
  t.same(events.filter((e) => e.type === 'tool_call').map((e) => (e as { call: unknown }).call), [{ index: 0, id: 'call_Paris1', name: 'get_weather', arguments: '{"city":"Paris"}' }])
  t.same(summary, { finishReason: 'tool_calls', usage: { prompt_tokens: 12, completion_tokens: 9, total_tokens: 21 } })
})

t.test('an incomplete response finishes with length', async (t) => {
  const split = new ResponsesEvents()
  const summary: StreamSummary = { finishReason: null, usage: null }
  split.record({ type: 'response.incomplete', response: { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } } }, summary)
  t.same(summary, { finishReason: 'length', usage: null })
})
