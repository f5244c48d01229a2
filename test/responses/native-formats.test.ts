import t from 'tap'
import { readAll, startRelayOver } from '../helpers/relay.js'
import { writeNativeStream } from '../helpers/responses-upstream.js'
import { postResponses, responsesBody } from '../helpers/responses-relay.js'

// SPEC §5.1: ?format=content and ?format=text over a native Responses stream:
// response.output_text.delta → content, reasoning summary deltas → `reasoning`, a finished
// function call → `tool_call`, the end → `stop` with the finish reason and usage.

t.test('content over native: reasoning, answer deltas, the finished call, stop; one id sequence', async (t) => {
  const { relay } = await startRelayOver(t, (_req, res) => writeNativeStream(res))
  const res = await postResponses(relay, responsesBody('gpt-5-mini'), { format: 'content' })
  t.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8')
  const { text } = await readAll(res)
  t.equal(text, [
    'id: 1\nevent: reasoning\ndata: {"content":"Greeting "}\n\n',
    'id: 2\nevent: reasoning\ndata: {"content":"back."}\n\n',
    'id: 3\ndata: {"content":"Hello"}\n\n',
    'id: 4\ndata: {"content":" from "}\n\n',
    'id: 5\ndata: {"content":"Zürich"}\n\n',
    'id: 6\nevent: tool_call\ndata: {"index":0,"id":"call_Paris1","name":"get_weather","arguments":"{\\"city\\":\\"Paris\\"}"}\n\n',
    'id: 7\nevent: stop\ndata: {"finish_reason":"tool_calls","usage":{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21}}\n\n',
  ].join(''))
  const [line] = await relay.waitForSummaries()
  t.match(line, { format: 'content', outcome: 'completed', promptTokens: 12, completionTokens: 9 })
})

t.test('text over native: the answer text alone', async (t) => {
  const { relay } = await startRelayOver(t, (_req, res) => writeNativeStream(res))
  const res = await postResponses(relay, responsesBody('gpt-5-mini'), { format: 'text' })
  t.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8')
  t.equal((await readAll(res)).text, 'Hello from Zürich')
})
