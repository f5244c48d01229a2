import t from 'tap'
import { startUpstream, chatChunk, usageChunk, streamFrames, SSE_HEADERS } from '../helpers/upstream.js'
import { startRelay, readAll, chatBody } from '../helpers/relay.js'
import { LATENCY_BUCKETS } from '../../src/observability/metrics.js'
import { parsePrometheus, samplesOf, scrapeUntil, valueOf } from '../helpers/prometheus.js'

t.test('/metrics shows exactly the requests, outcomes, tokens, latencies and upstream errors the test made', async (t) => {
  const up = await startUpstream(t, async (_req, res, received) => {
    const { model, stream } = received.json
    if (model === 'gpt-fail' && !stream) { res.writeHead(500, { 'content-type': 'text/plain' }); res.end('boom'); return }
    if (model === 'gpt-fail') {
      res.writeHead(200, SSE_HEADERS)
      res.write(`data: ${chatChunk('Hi')}\n\n`)
      setTimeout(() => res.socket?.destroy(), 20)
      return
    }
    if (stream) { await streamFrames(res, [chatChunk('Hi'), chatChunk(null, { finish: 'stop' }), usageChunk(11, 7)]); return }
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ id: 'c', object: 'chat.completion', created: 1, model, choices: [], usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 } }))
  })
  const relay = await startRelay(t, {
    upstreams: [{ name: 'up', baseUrl: up.baseUrl, models: ['gpt-test', 'gpt-fail'] }],
    keys: [{ name: 'team', key: 'sk-team', requestsPerMinute: 4 }, { name: 'ops', key: 'sk-ops' }],
  })
  const chat = (model: string, stream: boolean, token = 'sk-team') => fetch(`${relay.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: chatBody(model, { stream }),
  })

  t.match((await readAll(await chat('gpt-test', true))).text, /data: \[DONE\]\n\n$/) // streamed, completes
  t.equal((await chat('gpt-test', false)).status, 200) // non-streamed
  t.equal((await chat('gpt-fail', false)).status, 502) // upstream 500 before the first byte
  t.match((await readAll(await chat('gpt-fail', true))).text, /"code":"upstream_error"/) // broken mid-stream
  t.equal((await chat('gpt-test', false)).status, 429) // team's 5th request this minute
  t.equal((await fetch(`${relay.url}/v1/models`, { headers: { authorization: 'Bearer sk-ops' } })).status, 200)
  t.equal((await fetch(`${relay.url}/v1/models`)).status, 401)
  t.equal((await fetch(`${relay.url}/healthz`)).status, 200) // not an API request: not counted

  const res = await fetch(`${relay.url}/metrics`)
  t.equal(res.status, 200)
  t.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
  const text = await res.text()
  t.match(text, /^# HELP llm_relay_requests_total .+\n# TYPE llm_relay_requests_total counter$/m)
  t.match(text, /^# TYPE llm_relay_time_to_first_token_seconds histogram$/m)

  const s = await scrapeUntil(relay.url, (x) => samplesOf(x, 'llm_relay_requests_total').reduce((n, v) => n + v.value, 0) === 7)
  const requests = samplesOf(s, 'llm_relay_requests_total').map((x) => `${x.labels.key}|${x.labels.model}|${x.labels.upstream}|${x.labels.status}|${x.labels.outcome}=${x.value}`).sort()
  t.strictSame(requests, [
    'ops|||200|completed=1',
    'team|gpt-fail|up|200|upstream_error=1',
    'team|gpt-fail|up|502|upstream_error=1',
    'team|gpt-test|up|200|completed=2',
    'team|gpt-test|up|429|rejected=1',
    '|||401|rejected=1',
  ])
  t.equal(valueOf(s, 'llm_relay_active_streams'), 0)

  t.equal(valueOf(s, 'llm_relay_prompt_tokens_total', { key: 'team', model: 'gpt-test' }), 11 + 5)
  t.equal(valueOf(s, 'llm_relay_completion_tokens_total', { key: 'team', model: 'gpt-test' }), 7 + 3)
  t.equal(samplesOf(s, 'llm_relay_prompt_tokens_total').length, 1, 'tokens only where usage was reported')

  t.equal(valueOf(s, 'llm_relay_upstream_errors_total', { upstream: 'up', reason: 'upstream_error' }), 2)
  t.equal(samplesOf(s, 'llm_relay_upstream_errors_total').length, 1)
  t.same(samplesOf(s, 'llm_relay_upstream_retries_total'), [], 'one upstream: nothing to retry on')

  // Time to first token: the two streams that reached their first byte.
  t.equal(valueOf(s, 'llm_relay_time_to_first_token_seconds_count', { model: 'gpt-test', upstream: 'up' }), 1)
  t.equal(valueOf(s, 'llm_relay_time_to_first_token_seconds_count', { model: 'gpt-fail', upstream: 'up' }), 1)
  t.equal(samplesOf(s, 'llm_relay_time_to_first_token_seconds_count').length, 2)
  // Duration: every API request, under the model and upstream it was routed to (none before routing).
  t.equal(valueOf(s, 'llm_relay_request_duration_seconds_count', { model: 'gpt-test', upstream: 'up' }), 3)
  t.equal(valueOf(s, 'llm_relay_request_duration_seconds_count', { model: 'gpt-fail', upstream: 'up' }), 2)
  t.equal(valueOf(s, 'llm_relay_request_duration_seconds_count', { model: '', upstream: '' }), 2)
  const buckets = samplesOf(s, 'llm_relay_request_duration_seconds_bucket', { model: 'gpt-test', upstream: 'up' })
  t.strictSame(buckets.map((b) => b.labels.le), [...LATENCY_BUCKETS.map(String), '+Inf'], 'LLM-sized buckets, 50 ms to 2 min')
  t.equal(buckets.at(-1)?.value, 3)
  t.ok(buckets.every((b, i) => i === 0 || b.value >= (buckets[i - 1] as { value: number }).value), 'cumulative')

  // Process metrics come prefixed, so they cannot clash with a host application's own.
  t.ok(valueOf(s, 'llm_relay_process_cpu_user_seconds_total') !== undefined)
  t.notOk(parsePrometheus(text).some((x) => !x.name.startsWith('llm_relay_')), 'every metric carries the prefix')
})
