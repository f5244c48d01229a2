import t from 'tap'
import { startUpstream, chatChunk, streamFrames, SSE_HEADERS } from '../helpers/upstream.js'
import { startRelay, readAll } from '../helpers/relay.js'
import { samplesOf, scrapeUntil, valueOf } from '../helpers/prometheus.js'

// SPEC §8 / issue 4: where the upstream sends no usage, the log says null and no token is counted:
// a missing count is unknown, never zero and never an estimate.

t.test('no usage from the upstream: null in the log line, nothing added to the token counters', async (t) => {
  const up = await startUpstream(t, async (_req, res, received) => {
    const model = received.json.model
    if (model === 'ignores-usage') {
      // An OpenAI-compatible server that ignores stream_options (older Ollama, some proxies).
      await streamFrames(res, [chatChunk('Hi'), chatChunk(null, { finish: 'stop' })])
    } else if (model === 'breaks') {
      // The usage frame would come last; the stream breaks before it.
      res.writeHead(200, SSE_HEADERS)
      res.write(`data: ${chatChunk('Hi')}\n\n`)
      setTimeout(() => res.socket?.destroy(), 20)
    } else {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ id: 'c', object: 'chat.completion', created: 1, model, choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }] }))
    }
  })
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const post = (model: string, stream: boolean) => fetch(`${relay.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hi' }] }),
  })

  t.match((await readAll(await post('ignores-usage', true))).text, /data: \[DONE\]\n\n$/)
  t.match((await readAll(await post('breaks', true))).text, /"code":"upstream_error"/)
  t.equal(((await (await post('json-no-usage', false)).json()) as { model: string }).model, 'json-no-usage')
  t.same(up.requests.map((r) => r.json.stream_options?.include_usage ?? null), [true, true, null], 'usage was asked for on both streams')

  const samples = await scrapeUntil(relay.url, (s) => samplesOf(s, 'llm_relay_requests_total').reduce((n, x) => n + x.value, 0) === 3)
  const lines = relay.summaries().filter((l) => l.url === '/v1/chat/completions')
  t.same(lines.map((l) => [l.model, l.outcome, l.promptTokens, l.completionTokens]), [
    ['ignores-usage', 'completed', null, null],
    ['breaks', 'upstream_error', null, null],
    ['json-no-usage', 'completed', null, null],
  ])
  t.same(samplesOf(samples, 'llm_relay_prompt_tokens_total'), [], 'no prompt-token series at all')
  t.same(samplesOf(samples, 'llm_relay_completion_tokens_total'), [], 'no completion-token series at all')
  // The requests themselves are counted.
  t.equal(valueOf(samples, 'llm_relay_requests_total', { key: 'anonymous', model: 'ignores-usage', upstream: 'up', status: '200', outcome: 'completed' }), 1)
  t.equal(valueOf(samples, 'llm_relay_requests_total', { key: 'anonymous', model: 'breaks', upstream: 'up', status: '200', outcome: 'upstream_error' }), 1)
})
