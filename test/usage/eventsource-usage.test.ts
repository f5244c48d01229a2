import t from 'tap'
import { startUpstream, chatChunk, usageChunk, streamFrames, SSE_HEADERS } from '../helpers/upstream.js'
import { startRelay, chatBody, readAll } from '../helpers/relay.js'
import { scrapeUntil, valueOf } from '../helpers/prometheus.js'

// The EventSource flow (SPEC §6): the generation outlives its HTTP requests, so its tokens and its
// failure are counted when it ends, once, however many readers it had.

t.test('an EventSource generation\'s usage is counted once; a broken one counts as an upstream error', async (t) => {
  const up = await startUpstream(t, async (_req, res, received) => {
    if (received.json.model === 'breaks') {
      res.writeHead(200, SSE_HEADERS)
      res.write(`data: ${chatChunk('Hi')}\n\n`)
      setTimeout(() => res.socket?.destroy(), 20)
      return
    }
    await streamFrames(res, received.json.stream_options?.include_usage === true
      ? [chatChunk('Hi'), chatChunk(null, { finish: 'stop' }), usageChunk(11, 7)]
      : [chatChunk('Hi'), chatChunk(null, { finish: 'stop' })])
  })
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }], keys: [{ name: 'web', key: 'sk-web' }] })
  const start = async (model: string) => {
    const res = await fetch(`${relay.url}/v1/streams`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-web' }, body: chatBody(model) })
    t.equal(res.status, 201)
    return ((await res.json()) as { url: string }).url
  }

  const url = await start('gpt-test')
  t.equal(up.requests[0]?.json.stream_options?.include_usage, true, 'the relay asked for usage')
  // Two readers: the whole stream, then a replay of it.
  const first = (await readAll(await fetch(`${relay.url}${url}?format=content`))).text
  t.match(first, /event: stop\ndata: \{"finish_reason":"stop","usage":\{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18\}\}/)
  const replay = await fetch(`${relay.url}${url}?format=content&lastEventId=0`)
  t.equal((await readAll(replay)).text, first)

  const broken = await start('breaks')
  t.match((await readAll(await fetch(`${relay.url}${broken}?format=content`))).text, /event: error\n/)

  const s = await scrapeUntil(relay.url, (x) => valueOf(x, 'llm_relay_upstream_errors_total', { upstream: 'up', reason: 'upstream_error' }) === 1)
  t.equal(valueOf(s, 'llm_relay_prompt_tokens_total', { key: 'web', model: 'gpt-test' }), 11, 'once, not per reader')
  t.equal(valueOf(s, 'llm_relay_completion_tokens_total', { key: 'web', model: 'gpt-test' }), 7)
  t.equal(valueOf(s, 'llm_relay_prompt_tokens_total', { key: 'web', model: 'breaks' }), undefined)
  t.equal(valueOf(s, 'llm_relay_upstream_errors_total', { upstream: 'up', reason: 'upstream_error' }), 1)
  t.equal(valueOf(s, 'llm_relay_active_streams'), 0)
  const finished = relay.logs.filter((l) => l.msg === 'stream finished').map((l) => [l.model, l.outcome, l.promptTokens, l.completionTokens])
  t.same(finished, [['gpt-test', 'completed', 11, 7], ['breaks', 'upstream_error', null, null]])
})
