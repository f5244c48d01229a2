import t from 'tap'
import { readAll, sseBlocks, startRelay } from '../helpers/relay.js'
import { postResponses } from '../helpers/responses-relay.js'

// With no upstream configured, the built-in demo model answers the Responses API too, through
// the chat facade (the demo only simulates chat): the SDKs' Responses calls work out of the box.

t.test('the demo model over POST /v1/responses: the facade\'s events, ending with response.completed', async (t) => {
  const relay = await startRelay(t)
  const res = await postResponses(relay, { model: 'demo', input: 'hi', stream: true })
  t.equal(res.status, 200)
  const events = sseBlocks((await readAll(res)).text).map((block) => JSON.parse(block.split('\n')[1]!.slice('data: '.length)))
  t.equal(events[0].type, 'response.created')
  t.equal(events.at(-1).type, 'response.completed')
  const text = events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta).join('')
  t.match(text, /^Hello! I am the llm-relay demo model/)
  t.match(text, /You said: "hi"$/)
  t.equal(events.at(-1).response.output[0].content[0].text, text)
})
