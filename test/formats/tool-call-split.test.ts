import t from 'tap'
import { ToolCallAssembler, type ToolCall } from '../../src/formats/tool-calls.js'
import { ChatStreamEvents } from '../../src/responses/chat-stream-events.js'

// The one rule for where a tool call ends (formats/tool-calls.ts): a fragment starts a new call
// when its index differs from the open call's, or it brings an id other than the open call's
// (Ollama numbers every call 0 and tells them apart by id). The content events and the Responses
// facade both take it from ToolCallAssembler, so they must split every stream the same way.

type Fragment = Record<string, unknown>

const SCRIPTS: Array<{ name: string, fragments: Fragment[], starts: boolean[], calls: Array<[string | null, string, string]> }> = [
  {
    name: 'OpenAI: a new index starts a call, later pieces carry only the index',
    fragments: [
      { index: 0, id: 'call_a', function: { name: 'get_weather', arguments: '' } },
      { index: 0, function: { arguments: '{"city":' } },
      { index: 0, function: { arguments: '"Paris"}' } },
      { index: 1, id: 'call_b', function: { name: 'get_time', arguments: '{}' } },
    ],
    starts: [true, false, false, true],
    calls: [['call_a', 'get_weather', '{"city":"Paris"}'], ['call_b', 'get_time', '{}']],
  },
  {
    name: 'Ollama: index 0 for every call, a new id starts a call',
    fragments: [
      { index: 0, id: 'call_a', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      { index: 0, id: 'call_b', function: { name: 'get_time', arguments: '{"tz":"CET"}' } },
    ],
    starts: [true, true],
    calls: [['call_a', 'get_weather', '{"city":"Paris"}'], ['call_b', 'get_time', '{"tz":"CET"}']],
  },
  {
    name: 'the same id repeated on later pieces is the same call',
    fragments: [
      { index: 0, id: 'call_a', function: { name: 'lookup', arguments: '{"q":' } },
      { index: 0, id: 'call_a', function: { arguments: '1}' } },
    ],
    starts: [true, false],
    calls: [['call_a', 'lookup', '{"q":1}']],
  },
]

/** The calls as the content events get them: id, name, arguments. */
function assembled (fragments: Fragment[]): { starts: boolean[], calls: Array<[string | null, string, string]> } {
  const calls = new ToolCallAssembler()
  const done: ToolCall[] = []
  const starts = fragments.map((fragment) => calls.take(fragment, done))
  calls.finish(done)
  return { starts, calls: done.map((call) => [call.id, call.name, call.arguments]) }
}

/** The `function_call` items of the facade's Response, one fragment per chunk. */
function facadeCalls (fragments: Fragment[]): Array<[string | null, string, string]> {
  const events = new ChatStreamEvents({ model: 'm' })
  for (const fragment of fragments) events.chunk({ choices: [{ delta: { tool_calls: [fragment] } }] })
  events.finish()
  const output = events.result().output as Array<Record<string, string>>
  return output.filter((item) => item.type === 'function_call').map((item) => [item.call_id!, item.name!, item.arguments!])
}

for (const script of SCRIPTS) {
  t.test(script.name, async (t) => {
    const got = assembled(script.fragments)
    t.strictSame(got.starts, script.starts, 'which fragments start a call')
    t.strictSame(got.calls, script.calls, 'the content events\' calls')
    t.strictSame(facadeCalls(script.fragments), script.calls, 'the facade\'s function_call items: the same split')
  })
}

t.test('what is not a fragment starts nothing and ends nothing', async (t) => {
  const calls = new ToolCallAssembler()
  t.equal(calls.take({ index: 0, id: 'call_a', function: { name: 'f', arguments: '{}' } }), true)
  t.equal(calls.take(null), false)
  t.equal(calls.take('junk'), false)
  const done: ToolCall[] = []
  calls.finish(done)
  t.strictSame(done, [{ index: 0, id: 'call_a', name: 'f', arguments: '{}' }])
})
