import t from 'tap'
import { readAll, startRelay } from '../helpers/relay.js'
import { nativeStreamText, writeNativeStream } from '../helpers/responses-upstream.js'
import { postResponses, responsesBody } from '../helpers/responses-relay.js'
import { startUpstream } from '../helpers/upstream.js'
import { xChatChunk, xFrame, xStream, pyJson } from '../helpers/xinference.js'

// SPEC §9 for the Responses API: a 5xx before the first byte moves on to the model's next
// upstream, and the client cannot tell: the next upstream's stream, whole. That upstream may
// serve the API the other way (through chat): the request is translated for it.

function overloaded (_req: unknown, res: import('node:http').ServerResponse): void {
  res.writeHead(503, { 'content-type': 'application/json' })
  res.end(JSON.stringify({ error: { message: 'overloaded', type: 'server_error', param: null, code: null } }))
}

t.test('native: a 503 from the first upstream, the second upstream\'s stream whole', async (t) => {
  const first = await startUpstream(t, overloaded)
  const second = await startUpstream(t, (_req, res) => writeNativeStream(res))
  const relay = await startRelay(t, { upstreams: [{ name: 'a', baseUrl: first.baseUrl }, { name: 'b', baseUrl: second.baseUrl }] })
  const res = await postResponses(relay, responsesBody('gpt-5-mini'))
  t.equal((await readAll(res)).text, nativeStreamText())
  t.equal(first.requests.length, 1)
  t.equal(second.requests[0]?.url, '/v1/responses')
  const [line] = await relay.waitForSummaries()
  t.match(line, { upstream: 'b', retries: 1, retried: [{ upstream: 'a', reason: 'HTTP 503' }], outcome: 'completed' })
})

t.test('native first, then an upstream served through chat: the request translated for it', async (t) => {
  const first = await startUpstream(t, overloaded)
  const second = await startUpstream(t, (_req, res) => xStream(res, [
    xFrame(pyJson(xChatChunk({ role: 'assistant', content: 'Hi' }))),
    xFrame(pyJson(xChatChunk({}, { finish: 'stop' }))),
    xFrame('[DONE]'),
  ]))
  const relay = await startRelay(t, { upstreams: [{ name: 'a', baseUrl: first.baseUrl }, { name: 'x', kind: 'xinference', baseUrl: second.baseUrl }] })
  const res = await postResponses(relay, responsesBody('gpt-5-mini', { instructions: 'Be brief' }))
  const { text } = await readAll(res)
  t.equal(second.requests[0]?.url, '/v1/chat/completions')
  t.strictSame(second.requests[0]?.json, {
    model: 'gpt-5-mini',
    stream: true,
    messages: [{ role: 'system', content: 'Be brief' }, { role: 'user', content: 'Say hello, then look up the weather in Paris' }],
  })
  t.match(text, /^event: response\.created\n/)
  t.match(text, /event: response\.output_text\.delta\ndata: \{[^\n]*"delta":"Hi"/)
  t.match(text, /event: response\.completed\ndata: [^\n]*\n\n$/)
})
