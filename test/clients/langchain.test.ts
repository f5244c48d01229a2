import t from 'tap'
import { createRequire } from 'node:module'
import { startClientRig, scriptFrames, answerFrames, completionJson, WEB_TOKEN, UPSTREAM_KEY, MODEL } from '../helpers/clients.js'

// LangChain's ChatOpenAI (@langchain/openai) pointed at the relay: `configuration.baseURL` and
// the relay token, nothing else. `.stream()` over the relay's SSE, `.invoke()` non-streamed.
//
// Loaded through require (its CommonJS build): tap's TypeScript loader (the ts-node fork) resolves
// the ESM build's `import "openai/lib/responses/ResponseInputItems.js"` against openai's
// `exports` patterns to `….js.mjs`, which does not exist; Node itself resolves it correctly.
const { ChatOpenAI } = createRequire(import.meta.url)('@langchain/openai') as typeof import('@langchain/openai')
type ChatModel = InstanceType<typeof ChatOpenAI>

const PIECES = ['Lang', 'Chain ', 'über ', 'the ', 'relay', '.']

function chat (baseURL: string): ChatModel {
  return new ChatOpenAI({ model: MODEL, apiKey: WEB_TOKEN, configuration: { baseURL }, maxRetries: 0, timeout: 10_000 })
}

t.test('.stream(): the concatenated chunks are exactly the upstream text; usage metadata from the usage chunk', async (t) => {
  const { up, baseURL } = await startClientRig(t)
  scriptFrames(up, answerFrames(PIECES), { usage: [7, 6], gapMs: 5 })
  const pieces: string[] = []
  let usage: { input_tokens: number, output_tokens: number, total_tokens: number } | undefined
  for await (const chunk of await chat(baseURL).stream('Say hello')) {
    if (typeof chunk.content === 'string' && chunk.content !== '') pieces.push(chunk.content)
    if (chunk.usage_metadata) usage = chunk.usage_metadata
  }
  t.same(pieces, PIECES, 'one chunk per upstream delta, in order')
  t.equal(pieces.join(''), PIECES.join(''))
  t.match(usage, { input_tokens: 7, output_tokens: 6, total_tokens: 13 }, 'usage_metadata')
  const sent = up.requests[0]!
  t.equal(sent.json.stream, true)
  t.same(sent.json.messages, [{ role: 'user', content: 'Say hello' }])
  t.equal(sent.headers.authorization, `Bearer ${UPSTREAM_KEY}`)
})

t.test('.invoke(): the non-streamed answer through the relay', async (t) => {
  const { up, relay, baseURL } = await startClientRig(t)
  const answer = 'Non-streamed: 你好, 世界 👋'
  up.handler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(completionJson(answer, [5, 9]))
  }
  const message = await chat(baseURL).invoke('Greet the world')
  t.equal(message.content, answer)
  t.match(message.usage_metadata, { input_tokens: 5, output_tokens: 9, total_tokens: 14 })
  t.equal(message.response_metadata.finish_reason, 'stop')
  t.notOk(up.requests[0]?.json.stream, 'the upstream was asked for a plain answer')
  t.equal(relay.summaries()[0]?.status, 200)
})
